package playbooks

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// invSource is one inventory file as read, before the sources are merged and resolved.
type invSource struct {
	path, format          string
	defs                  []*hostDef // in the order the file declares them
	groups                map[string]*groupDef
	allVars               map[string]any
	allAt                 map[string]origin
	keys                  settings
	knownHosts, sshConfig string // frontdoor YAML only, already relative to the file
}

// LoadInventories reads one or more inventories (each -i), merged as Ansible merges its sources:
// hosts and groups are the union, a variable set in several sources takes the last one's value.
// A directory is read as Ansible reads it: every file in it and its subdirectories, sorted,
// except hidden ones, group_vars/, host_vars/ and the extensions Ansible ignores (.ini, .cfg,
// .retry, .md, .txt, ...). Next to each source (in the directory itself, or the file's
// directory) group_vars/ and host_vars/ are read for Ansible inventories.
func LoadInventories(paths ...string) (*Inventory, error) {
	if len(paths) == 0 {
		return nil, fmt.Errorf("no inventory: give -i FILE (or a directory), once or more")
	}
	var srcs []*invSource
	var varsDirs []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("inventory: %w", err)
		}
		var got []*invSource
		if fi.IsDir() {
			if got, err = loadInventoryDir(p); err != nil {
				return nil, err
			}
			if len(got) == 0 {
				return nil, fmt.Errorf("%s: no inventory file in this directory (hidden files, group_vars/, host_vars/ and *.ini, *.cfg, *.retry, *.md, *.txt are skipped, as Ansible does)", p)
			}
		} else {
			s, err := loadInventoryFile(p)
			if err != nil {
				return nil, err
			}
			got = []*invSource{s}
		}
		srcs = append(srcs, got...)
		if got[0].keys.address[0] == "ansible_host" {
			d := p
			if !fi.IsDir() {
				d = filepath.Dir(p)
			}
			if !containsString(varsDirs, d) {
				varsDirs = append(varsDirs, d)
			}
		}
	}
	src, err := mergeSources(srcs)
	if err != nil {
		return nil, err
	}
	inv, err := build(src, varsDirs)
	if err != nil {
		return nil, err
	}
	if len(inv.Hosts) == 0 {
		return nil, fmt.Errorf("%s: no hosts: write hosts: with at least one entry, e.g.\n  hosts:\n    jira1:\n      address: 192.0.2.10", strings.Join(paths, ", "))
	}
	return inv, nil
}

func containsString(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func loadInventoryFile(path string) (*invSource, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	switch detectFormat(path, data) {
	case "ansible-ini":
		return loadAnsibleINI(path, data)
	case "ansible-yaml":
		return loadAnsibleYAML(path, data)
	default:
		return loadFrontdoorYAML(path, data)
	}
}

// ignoredInDir are the names Ansible's inventory manager skips in an inventory directory
// (IGNORED_ALWAYS and the default INVENTORY_IGNORE_EXTS).
var ignoredInDir = regexp.MustCompile(`^\.|^host_vars$|^group_vars$|^vars_plugins$|(\.pyc|\.pyo|\.swp|\.bak|~|\.rpm|\.md|\.txt|\.rst|\.orig|\.ini|\.cfg|\.retry)$`)

func loadInventoryDir(dir string) ([]*invSource, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("inventory: %w", err)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	var out []*invSource
	for _, e := range entries {
		if ignoredInDir.MatchString(e.Name()) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		fi, err := os.Stat(p) // follows symlinks, as Ansible does
		if err != nil {
			return nil, fmt.Errorf("inventory: %w", err)
		}
		if fi.IsDir() {
			sub, err := loadInventoryDir(p)
			if err != nil {
				return nil, err
			}
			out = append(out, sub...)
			continue
		}
		s, err := loadInventoryFile(p)
		if err != nil {
			return nil, fmt.Errorf("%w (in inventory directory %s: move files that are not inventories out of it)", err, dir)
		}
		out = append(out, s)
	}
	return out, nil
}

// mergeSources merges inventories as Ansible adds sources to one inventory: hosts and groups by
// name, group members and children added, variables per key with the later source winning.
// frontdoor's YAML and Ansible's formats name settings differently (user: vs ansible_user), so
// they are not mixed.
func mergeSources(srcs []*invSource) (*invSource, error) {
	if len(srcs) == 1 {
		return srcs[0], nil
	}
	out := &invSource{path: srcs[0].path, format: srcs[0].format, groups: map[string]*groupDef{}, allVars: map[string]any{}, allAt: map[string]origin{}, keys: srcs[0].keys}
	hosts := map[string]*hostDef{}
	var paths []string
	for _, s := range srcs {
		paths = append(paths, s.path)
		if (s.format == "frontdoor") != (out.format == "frontdoor") {
			return nil, fmt.Errorf("%s is a frontdoor YAML inventory and %s an Ansible one: they name settings differently (user: and ansible_user:), so they cannot be combined; give them separately or convert one", frontdoorOf(srcs), ansibleOf(srcs))
		}
		if s.format != out.format {
			out.format = "ansible" // INI and YAML together
		}
		for _, kv := range []struct{ name, v string }{{"known_hosts", s.knownHosts}, {"ssh_config", s.sshConfig}} {
			cur := &out.knownHosts
			if kv.name == "ssh_config" {
				cur = &out.sshConfig
			}
			if kv.v != "" && *cur != "" && *cur != kv.v {
				return nil, fmt.Errorf("%s: %s: %s differs from another inventory's %s: give one (or --known-hosts)", s.path, kv.name, kv.v, *cur)
			}
			if kv.v != "" {
				*cur = kv.v
			}
		}
		for k, v := range s.allVars {
			out.allVars[k], out.allAt[k] = v, s.allAt[k]
		}
		for _, d := range s.defs {
			h := hosts[d.name]
			if h == nil {
				h = &hostDef{name: d.name, vars: map[string]any{}, at: map[string]origin{}}
				hosts[d.name] = h
				out.defs = append(out.defs, h)
			}
			for k, v := range d.vars {
				h.vars[k], h.at[k] = v, d.at[k]
			}
		}
		for name, g := range s.groups {
			m := out.groups[name]
			if m == nil {
				m = &groupDef{vars: map[string]any{}, at: map[string]origin{}}
				out.groups[name] = m
			}
			m.hosts = appendNew(m.hosts, g.hosts...)
			m.children = appendNew(m.children, g.children...)
			for k, v := range g.vars {
				m.vars[k], m.at[k] = v, g.at[k]
			}
		}
	}
	out.path = strings.Join(paths, ", ")
	return out, nil
}

func frontdoorOf(srcs []*invSource) string {
	for _, s := range srcs {
		if s.format == "frontdoor" {
			return s.path
		}
	}
	return ""
}

func ansibleOf(srcs []*invSource) string {
	for _, s := range srcs {
		if s.format != "frontdoor" {
			return s.path
		}
	}
	return ""
}

func appendNew(l []string, add ...string) []string {
	for _, a := range add {
		if !containsString(l, a) {
			l = append(l, a)
		}
	}
	return l
}

// varsFile is the variables of group_vars/<group> or host_vars/<host>, all its files merged.
type varsFile struct {
	vars map[string]any
	at   map[string]origin
}

type varsFiles struct{ cache map[string]*varsFile }

// varsExts are the names Ansible's host_group_vars plugin tries, in order; the first that exists
// is used (a directory is read whole).
var varsExts = []string{"", ".yml", ".yaml", ".json"}

// load reads <dir>/<sub>/<name>, as Ansible's host_group_vars plugin finds it: the first of
// name, name.yml, name.yaml, name.json that exists; a directory contributes every file in it
// and its subdirectories, sorted, except hidden files, backups (~) and extensions other than
// .yml, .yaml, .json or none. Later files win.
func (v *varsFiles) load(dir, sub, name string) (*varsFile, error) {
	key := filepath.Join(dir, sub, name)
	if f, ok := v.cache[key]; ok {
		return f, nil
	}
	f := &varsFile{vars: map[string]any{}, at: map[string]origin{}}
	v.cache[key] = f
	if strings.HasPrefix(name, "/") {
		return f, nil
	}
	var files []string
	for _, ext := range varsExts {
		p := key + ext
		fi, err := os.Stat(p)
		if err != nil {
			continue
		}
		if fi.IsDir() {
			var err error
			if files, err = varsDirFiles(p); err != nil {
				return nil, err
			}
		} else {
			files = []string{p}
		}
		break
	}
	for _, p := range files {
		if err := f.read(p, dir); err != nil {
			return nil, err
		}
	}
	return f, nil
}

func varsDirFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	var out []string
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, ".") || strings.HasSuffix(n, "~") {
			continue
		}
		p := filepath.Join(dir, n)
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		ext := filepath.Ext(n)
		switch {
		case fi.IsDir() && ext == "":
			sub, err := varsDirFiles(p)
			if err != nil {
				return nil, err
			}
			out = append(out, sub...)
		case !fi.IsDir() && containsString(varsExts, ext):
			out = append(out, p)
		}
	}
	return out, nil
}

// read merges one variables file (YAML or JSON; a mapping at the top; empty is fine). Relative
// paths in it start at base, the inventory's directory (where group_vars/ is), not group_vars/.
func (f *varsFile) read(p, base string) error {
	data, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	if bytes.HasPrefix(bytes.TrimSpace(data), []byte("$ANSIBLE_VAULT")) {
		return fmt.Errorf("%s is encrypted with ansible-vault, which frontdoor cannot decrypt: keep secrets out of it (the sudo password: FRONTDOOR_BECOME_PASSWORD or become_password_file) and leave the rest in clear", p)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	var m map[string]any
	src, err := decode(p, data, &m)
	if err != nil {
		return fmt.Errorf("%w (a group_vars/host_vars file holds a mapping, e.g. ansible_user: deploy)", err)
	}
	for k, v := range m {
		f.vars[k] = v
		f.at[k] = origin{strings.TrimSuffix(src.errorf("$."+k, "").Error(), ": "), base}
	}
	return nil
}
