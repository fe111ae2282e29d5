package playbooks

import (
	"bufio"
	"bytes"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
)

// loadAnsibleINI reads an Ansible INI inventory as Ansible does: host lines with key=value
// variables, [group], [group:vars], [group:children], host ranges (web[01:10], db-[a:c]), and
// comments starting with # or ;.
// iniReader is the state of reading an Ansible INI inventory, line by line.
type iniReader struct {
	groups        map[string]*groupDef
	hosts         map[string]*hostDef
	order         []string
	allVars       map[string]any
	allAt         map[string]origin
	section, kind string
	dir           string // the file's directory: relative paths in its values start there
}

func (r *iniReader) group(name string) *groupDef {
	g := r.groups[name]
	if g == nil {
		g = &groupDef{vars: map[string]any{}, at: map[string]origin{}}
		r.groups[name] = g
	}
	return g
}

func loadAnsibleINI(path string, data []byte) (*invSource, error) {
	r := &iniReader{groups: map[string]*groupDef{}, hosts: map[string]*hostDef{}, allVars: map[string]any{}, allAt: map[string]origin{}, dir: filepath.Dir(path),
		section: "ungrouped", kind: "hosts"}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		at := fmt.Sprintf("%s:%d", path, n)
		line := strings.TrimSpace(sc.Text())
		var err error
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[':
			err = r.header(at, line)
		case r.kind == "vars":
			err = r.varLine(at, line)
		case r.kind == "children":
			r.group(r.section).children = append(r.group(r.section).children, strings.Fields(line)[0])
		default:
			err = r.hostLine(at, line)
		}
		if err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for g, gd := range r.groups {
		for _, c := range gd.children {
			if _, ok := r.groups[c]; !ok {
				return nil, fmt.Errorf("%s: [%s:children] names %q, which is not a group of the file", path, g, c)
			}
		}
	}
	var defs []*hostDef
	for _, n := range r.order {
		defs = append(defs, r.hosts[n])
	}
	return &invSource{path: path, format: "ansible-ini", defs: defs, groups: r.groups, allVars: r.allVars, allAt: r.allAt, keys: ansibleKeys}, nil
}

// header reads [group], [group:vars] or [group:children].
func (r *iniReader) header(at, line string) error {
	end := strings.IndexByte(line, ']')
	if end < 0 {
		return fmt.Errorf("%s: section header %q has no closing ]", at, line)
	}
	r.section, r.kind, _ = strings.Cut(line[1:end], ":")
	if r.kind == "" {
		r.kind = "hosts"
	}
	switch r.kind {
	case "hosts", "vars", "children":
	default:
		return fmt.Errorf("%s: [%s]: a section is [group], [group:vars] or [group:children]", at, line[1:end])
	}
	if r.section != "all" || r.kind != "vars" {
		r.group(r.section)
	}
	return nil
}

// varLine reads key=value in a [group:vars] section.
func (r *iniReader) varLine(at, line string) error {
	k, v, ok := strings.Cut(line, "=")
	if !ok {
		return fmt.Errorf("%s: in [%s:vars] write key=value, not %q", at, r.section, line)
	}
	k, val := strings.TrimSpace(k), iniValue(strings.TrimSpace(v))
	if r.section == "all" {
		r.allVars[k], r.allAt[k] = val, origin{at, r.dir}
	} else {
		r.group(r.section).vars[k], r.group(r.section).at[k] = val, origin{at, r.dir}
	}
	return nil
}

// hostLine reads a host (or a range of hosts) with its key=value variables.
func (r *iniReader) hostLine(at, line string) error {
	fields, err := splitINI(line)
	if err != nil {
		return fmt.Errorf("%s: %v", at, err)
	}
	names, err := expandRange(fields[0])
	if err != nil {
		return fmt.Errorf("%s: %v", at, err)
	}
	vars := map[string]any{}
	for _, f := range fields[1:] {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return fmt.Errorf("%s: host %s: %q is not key=value", at, fields[0], f)
		}
		vars[k] = iniValue(v)
	}
	for _, name := range names {
		// host:port, as Ansible allows, is the port.
		if h, p, ok := strings.Cut(name, ":"); ok && !strings.Contains(p, ":") {
			if _, err := strconv.Atoi(p); err == nil {
				name = h
				if _, set := vars["ansible_port"]; !set {
					vars["ansible_port"] = p
				}
			}
		}
		d := r.hosts[name]
		if d == nil {
			d = &hostDef{name: name, vars: map[string]any{}, at: map[string]origin{}}
			r.hosts[name] = d
			r.order = append(r.order, name)
		}
		for k, v := range vars {
			d.vars[k], d.at[k] = v, origin{at, r.dir}
		}
		r.group(r.section).hosts = append(r.group(r.section).hosts, name)
	}
	return nil
}

// splitINI splits a host line on blanks, keeping quoted values whole.
func splitINI(line string) ([]string, error) {
	var out []string
	var cur strings.Builder
	var quote rune
	for _, r := range line {
		switch {
		case quote != 0:
			cur.WriteRune(r)
			if r == quote {
				quote = 0
			}
		case r == '"' || r == '\'':
			quote = r
			cur.WriteRune(r)
		case r == '#' && cur.Len() == 0:
			return out, nil // a trailing comment
		case r == ' ' || r == '\t':
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated quote in %q", line)
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out, nil
}

// iniValue unquotes a value; numbers and booleans stay strings (settings parse them).
func iniValue(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		return v[1 : len(v)-1]
	}
	return v
}

// expandRange expands Ansible's host ranges: web[01:03] -> web01 web02 web03 (leading zeros
// kept), db-[a:c] -> db-a db-b db-c, [1:10:2] steps.
func expandRange(name string) ([]string, error) {
	i := strings.IndexByte(name, '[')
	if i < 0 {
		return []string{name}, nil
	}
	j := strings.IndexByte(name[i:], ']')
	if j < 0 {
		return nil, fmt.Errorf("host range %q has no closing ]", name)
	}
	j += i
	parts := strings.Split(name[i+1:j], ":")
	if len(parts) < 2 || len(parts) > 3 {
		return nil, fmt.Errorf("host range %q: write [start:end] or [start:end:step]", name)
	}
	step := 1
	if len(parts) == 3 {
		s, err := strconv.Atoi(parts[2])
		if err != nil || s < 1 {
			return nil, fmt.Errorf("host range %q: the step must be a positive number", name)
		}
		step = s
	}
	var items []string
	a, errA := strconv.Atoi(parts[0])
	b, errB := strconv.Atoi(parts[1])
	switch {
	case errA == nil && errB == nil:
		if b < a {
			return nil, fmt.Errorf("host range %q ends before it starts", name)
		}
		width := 0
		if len(parts[0]) > 1 && parts[0][0] == '0' {
			width = len(parts[0])
		}
		for k := a; k <= b; k += step {
			items = append(items, fmt.Sprintf("%0*d", width, k))
		}
	case len(parts[0]) == 1 && len(parts[1]) == 1 && parts[0][0] <= parts[1][0]:
		for c := parts[0][0]; c <= parts[1][0]; c += byte(step) {
			items = append(items, string(c))
			if int(c)+step > 255 {
				break
			}
		}
	default:
		return nil, fmt.Errorf("host range %q: write numbers ([01:10]) or letters ([a:f])", name)
	}
	var out []string
	for _, it := range items {
		rest, err := expandRange(name[j+1:])
		if err != nil {
			return nil, err
		}
		for _, r := range rest {
			out = append(out, name[:i]+it+r)
		}
	}
	return out, nil
}

// ansibleGroup is a group of an Ansible YAML inventory; hosts map to their variables (or null).
type ansibleGroup struct {
	Hosts    map[string]map[string]any `yaml:"hosts"`
	Vars     map[string]any            `yaml:"vars"`
	Children map[string]*ansibleGroup  `yaml:"children"`
}

// loadAnsibleYAML reads an Ansible YAML inventory: all: (or top-level groups) with hosts:, vars:
// and children:, nested to any depth; a group may appear in several places and is merged.
func loadAnsibleYAML(path string, data []byte) (*invSource, error) {
	var top map[string]*ansibleGroup
	if err := yaml.UnmarshalWithOptions(data, &top, yaml.Strict()); err != nil {
		return nil, posError(path, err)
	}
	groups := map[string]*groupDef{}
	hosts := map[string]*hostDef{}
	var order []string
	allVars, allAt := map[string]any{}, map[string]origin{}
	dir := filepath.Dir(path)
	var add func(name, where string, g *ansibleGroup)
	add = func(name, where string, g *ansibleGroup) {
		if g == nil {
			g = &ansibleGroup{}
		}
		var gd *groupDef
		if name != "all" {
			gd = groups[name]
			if gd == nil {
				gd = &groupDef{vars: map[string]any{}, at: map[string]origin{}}
				groups[name] = gd
			}
		}
		for k, v := range g.Vars {
			at := origin{fmt.Sprintf("%s: %s.vars.%s", path, where, k), dir}
			if gd == nil {
				allVars[k], allAt[k] = v, at
			} else {
				gd.vars[k], gd.at[k] = v, at
			}
		}
		var hn []string
		for h := range g.Hosts {
			hn = append(hn, h)
		}
		sort.Strings(hn)
		for _, h := range hn {
			d := hosts[h]
			if d == nil {
				d = &hostDef{name: h, vars: map[string]any{}, at: map[string]origin{}}
				hosts[h] = d
				order = append(order, h)
			}
			for k, v := range g.Hosts[h] {
				d.vars[k], d.at[k] = v, origin{fmt.Sprintf("%s: %s.hosts.%s.%s", path, where, h, k), dir}
			}
			if gd != nil {
				gd.hosts = append(gd.hosts, h)
			}
		}
		var cn []string
		for c := range g.Children {
			cn = append(cn, c)
		}
		sort.Strings(cn)
		for _, c := range cn {
			if gd != nil {
				gd.children = append(gd.children, c)
			}
			add(c, where+".children."+c, g.Children[c])
		}
	}
	var tn []string
	for n := range top {
		tn = append(tn, n)
	}
	sort.Strings(tn)
	for _, n := range tn {
		add(n, n, top[n])
	}
	var defs []*hostDef
	for _, n := range order {
		defs = append(defs, hosts[n])
	}
	return &invSource{path: path, format: "ansible-yaml", defs: defs, groups: groups, allVars: allVars, allAt: allAt, keys: ansibleKeys}, nil
}
