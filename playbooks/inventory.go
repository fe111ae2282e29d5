package playbooks

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Inventory lists the hosts and their groups, read from frontdoor's YAML or from an Ansible INI or
// YAML inventory (see docs/inventory.md for the formats and the precedence of variables).
type Inventory struct {
	KnownHosts string
	SSHConfig  string // the ssh_config file honoured for HostName, Port, User, IdentityFile, ProxyJump
	Format     string // "frontdoor", "ansible-ini" or "ansible-yaml"
	Hosts      map[string]*Host
	// Groups maps each group to its hosts, children's hosts included ("all" holds every host).
	Groups map[string][]string
}

// Host is one inventory entry, with every setting resolved.
type Host struct {
	Name       string
	Address    string
	Port       int
	User       string
	Key        string
	Connection string // ssh (default) or local
	ProxyJump  string // [user@]host[:port], comma-separated hops, as OpenSSH's ProxyJump
	Vars       map[string]any
	Groups     []string
	// BecomePasswordFile holds the sudo password of a non-root user (first line). The environment
	// variable FRONTDOOR_BECOME_PASSWORD is the alternative; never the command line.
	BecomePasswordFile string
	// becomePass is an Ansible inventory's ansible_become_password; never printed.
	becomePass []byte
}

// hostDef is a host as a format declares it: its own variables, highest in precedence.
type hostDef struct {
	name string
	vars map[string]any
	at   map[string]string // variable -> where it was set, for errors ("inv.ini:12")
}

// groupDef is a group as a format declares it.
type groupDef struct {
	hosts    []string
	children []string
	vars     map[string]any
	at       map[string]string
}

// settings names the keys of a format that map to a host's connection settings.
type settings struct {
	address, port, user, key, connection, becomeFile, becomePass, proxyJump []string
}

var frontdoorKeys = settings{address: []string{"address"}, port: []string{"port"}, user: []string{"user"}, key: []string{"key"},
	connection: []string{"connection"}, becomeFile: []string{"become_password_file"}, proxyJump: []string{"proxy_jump"}}

// ansibleKeys are the behavioural inventory parameters of Ansible that frontdoor honours.
var ansibleKeys = settings{address: []string{"ansible_host", "ansible_ssh_host"}, port: []string{"ansible_port", "ansible_ssh_port"},
	user: []string{"ansible_user", "ansible_ssh_user"}, key: []string{"ansible_ssh_private_key_file", "ansible_private_key_file"},
	connection: []string{"ansible_connection"}, becomePass: []string{"ansible_become_password", "ansible_become_pass", "ansible_sudo_pass"}}

// LoadInventory reads an inventory: frontdoor's YAML, or Ansible's INI or YAML, by content.
func LoadInventory(path string) (*Inventory, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var inv *Inventory
	switch detectFormat(path, data) {
	case "ansible-ini":
		inv, err = loadAnsibleINI(path, data)
	case "ansible-yaml":
		inv, err = loadAnsibleYAML(path, data)
	default:
		inv, err = loadFrontdoorYAML(path, data)
	}
	if err != nil {
		return nil, err
	}
	if len(inv.Hosts) == 0 {
		return nil, fmt.Errorf("%s: no hosts: write hosts: with at least one entry, e.g.\n  hosts:\n    jira1:\n      address: 192.0.2.10", path)
	}
	return inv, nil
}

// detectFormat tells the formats apart: Ansible YAML has a top-level "all:" (or only groups with
// hosts/children); frontdoor YAML has "hosts:"; anything else with [sections] or bare host lines
// is INI.
func detectFormat(path string, data []byte) string {
	ext := strings.ToLower(filepath.Ext(path))
	if ext == ".ini" || ext == ".cfg" {
		return "ansible-ini"
	}
	for _, line := range strings.Split(string(data), "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "#") || strings.HasPrefix(t, ";") || t == "---" {
			continue
		}
		switch {
		case strings.HasPrefix(t, "["):
			return "ansible-ini"
		case line[0] != ' ' && line[0] != '\t' && strings.HasPrefix(t, "all:"):
			return "ansible-yaml"
		case line[0] != ' ' && line[0] != '\t' && strings.Contains(t, ":") && !strings.Contains(t, "="):
			if ext == ".yaml" || ext == ".yml" || strings.HasSuffix(strings.SplitN(t, "#", 2)[0], ":") || strings.Contains(t, ": ") {
				if isFrontdoorKey(strings.TrimSpace(strings.SplitN(t, ":", 2)[0])) {
					return "frontdoor"
				}
				return "ansible-yaml"
			}
		}
		return "ansible-ini"
	}
	return "frontdoor"
}

func isFrontdoorKey(k string) bool {
	switch k {
	case "hosts", "groups", "vars", "known_hosts", "ssh_config":
		return true
	}
	return false
}

// build resolves every host: variables merged by precedence (all, then groups from the least to
// the most nested, by name among equals, then the host's own), settings taken from them with keys,
// ssh_config consulted for what is still unset, then defaults.
// groupTree walks the groups' children: each group's members (its hosts and its descendants'),
// and the group names ordered from the outermost in, so variables of nested groups win. A
// children loop or an undefined child is an error.
func groupTree(name string, groups map[string]*groupDef) ([]string, map[string]map[string]bool, error) {
	depth := map[string]int{}
	members := map[string]map[string]bool{}
	var walk func(g string, d int, seen map[string]bool) error
	walk = func(g string, d int, seen map[string]bool) error {
		if seen[g] {
			return fmt.Errorf("%s: group %s is its own descendant (children loop)", name, g)
		}
		if d > depth[g] {
			depth[g] = d
		}
		gd := groups[g]
		if gd == nil {
			return fmt.Errorf("%s: group %q is named as a child but not defined", name, g)
		}
		if members[g] == nil {
			members[g] = map[string]bool{}
		}
		for _, h := range gd.hosts {
			members[g][h] = true
		}
		seen[g] = true
		defer delete(seen, g)
		for _, c := range gd.children {
			if err := walk(c, d+1, seen); err != nil {
				return err
			}
			for h := range members[c] {
				members[g][h] = true
			}
		}
		return nil
	}
	childOf := map[string]bool{}
	for _, g := range groups {
		for _, c := range g.children {
			childOf[c] = true
		}
	}
	var names []string
	for g := range groups {
		names = append(names, g)
	}
	sort.Strings(names)
	for _, g := range names {
		if !childOf[g] {
			if err := walk(g, 1, map[string]bool{}); err != nil {
				return nil, nil, err
			}
		}
	}
	for _, g := range names {
		if _, ok := depth[g]; !ok { // only reachable through a loop
			if err := walk(g, 1, map[string]bool{}); err != nil {
				return nil, nil, err
			}
		}
	}
	sort.SliceStable(names, func(i, j int) bool { return depth[names[i]] < depth[names[j]] })
	return names, members, nil
}

func build(name, format string, defs []*hostDef, groups map[string]*groupDef, allVars map[string]any, allAt map[string]string, keys settings, dir, knownHosts, sshConfig string) (*Inventory, error) {
	inv := &Inventory{Format: format, Hosts: map[string]*Host{}, Groups: map[string][]string{}, KnownHosts: rel(dir, knownHosts), SSHConfig: rel(dir, sshConfig)}
	names, members, err := groupTree(name, groups)
	if err != nil {
		return nil, err
	}
	sc, err := loadSSHConfig(inv.SSHConfig)
	if err != nil {
		return nil, err
	}
	for _, d := range defs {
		vars, at := map[string]any{}, map[string]string{}
		merge := func(v map[string]any, a map[string]string) {
			for k, x := range v {
				vars[k], at[k] = x, a[k]
			}
		}
		merge(allVars, allAt)
		var hostGroups []string
		for _, g := range names {
			if members[g][d.name] {
				merge(groups[g].vars, groups[g].at)
				hostGroups = append(hostGroups, g)
			}
		}
		merge(d.vars, d.at)
		h, err := resolve(d.name, vars, at, keys, dir, sc)
		if err != nil {
			return nil, err
		}
		h.Groups = hostGroups
		inv.Hosts[d.name] = h
		inv.Groups["all"] = append(inv.Groups["all"], d.name)
	}
	for _, g := range names {
		for h := range members[g] {
			if _, ok := inv.Hosts[h]; !ok {
				return nil, fmt.Errorf("%s: group %s lists host %q, which is not defined", name, g, h)
			}
			inv.Groups[g] = append(inv.Groups[g], h)
		}
		sort.Strings(inv.Groups[g])
	}
	sort.Strings(inv.Groups["all"])
	return inv, nil
}

func rel(dir, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	if strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[2:])
		}
		return p
	}
	return filepath.Join(dir, p)
}

// resolve turns a host's merged variables into its settings.
// explicit says which connection settings the inventory gave, so ssh_config fills only the rest.
type explicit struct{ port, user, key, addr bool }

// sshTarget completes an SSH host from ~/.ssh/config (HostName, Port, User, IdentityFile,
// ProxyJump; the inventory's own settings win) and checks its address.
func (h *Host) sshTarget(sc *sshConfigFile, set explicit) error {
	alias := h.Address
	if alias == "" {
		alias = h.Name
	}
	if sc != nil {
		s := sc.lookup(alias)
		if s.hostName != "" && !set.addr {
			h.Address = s.hostName
		}
		if s.port != 0 && !set.port {
			h.Port = s.port
		}
		if s.user != "" && !set.user {
			h.User = s.user
		}
		if s.identity != "" && !set.key {
			h.Key = s.identity
		}
		if h.ProxyJump == "" && s.proxyJump != "" && s.proxyJump != "none" {
			h.ProxyJump = s.proxyJump
		}
	}
	if h.Address == "" {
		h.Address = alias
	}
	if net.ParseIP(h.Address) == nil && !hostnameR.MatchString(h.Address) {
		return fmt.Errorf("host %s: address %q is neither an IP address nor a host name", h.Name, h.Address)
	}
	return nil
}

// connectionOf maps Ansible's connection plugins to frontdoor's transports ("" when none fits).
func connectionOf(v string) string {
	switch v {
	case "ssh", "paramiko", "smart":
		return "ssh"
	case "local":
		return "local"
	}
	return ""
}

func resolve(name string, vars map[string]any, at map[string]string, keys settings, dir string, sc *sshConfigFile) (*Host, error) {
	h := &Host{Name: name, Vars: map[string]any{}}
	known := map[string]bool{}
	var notScalar error
	get := func(ks []string) (string, string, bool) {
		for _, k := range ks {
			known[k] = true
		}
		for _, k := range ks {
			if v, ok := vars[k]; ok && v != nil {
				switch v.(type) {
				case map[string]any, []any:
					// Never stringified: a YAML alias tree would grow exponentially.
					if notScalar == nil {
						notScalar = fmt.Errorf("%s: %s must be a single value, not a list or mapping (host %s)", at[k], k, name)
					}
					return "", k, false
				}
				return fmt.Sprint(v), k, true
			}
		}
		return "", "", false
	}
	bad := func(k, format string, a ...any) error {
		return fmt.Errorf("%s: %s (host %s)", at[k], fmt.Sprintf(format, a...), name)
	}
	var portSet, userSet, keySet, addrSet bool
	if v, k, ok := get(keys.address); ok {
		h.Address, addrSet = v, true
		if strings.ContainsAny(v, " /") || (net.ParseIP(v) == nil && !hostnameR.MatchString(v)) {
			return nil, bad(k, "address %q is neither an IP address nor a host name", v)
		}
	}
	if v, k, ok := get(keys.port); ok {
		p, err := strconv.Atoi(v)
		if err != nil || p < 1 || p > 65535 {
			return nil, bad(k, "port %q: write a number in 1..65535", v)
		}
		h.Port, portSet = p, true
	}
	if v, _, ok := get(keys.user); ok {
		h.User, userSet = v, true
	}
	if v, _, ok := get(keys.key); ok {
		h.Key, keySet = rel(dir, v), true
	}
	if v, k, ok := get(keys.connection); ok {
		if h.Connection = connectionOf(v); h.Connection == "" {
			return nil, bad(k, "connection %q: write ssh or local", v)
		}
	}
	if v, _, ok := get(keys.becomeFile); ok {
		h.BecomePasswordFile = rel(dir, v)
	}
	if v, k, ok := get(keys.becomePass); ok {
		if strings.Contains(v, "$ANSIBLE_VAULT") {
			return nil, bad(k, "%s is vault-encrypted, which frontdoor cannot decrypt: give the sudo password in FRONTDOOR_BECOME_PASSWORD or a become_password_file", k)
		}
		h.becomePass = []byte(v)
	}
	if v, _, ok := get(keys.proxyJump); ok {
		h.ProxyJump = v
	}
	for _, k := range []string{"ansible_password", "ansible_ssh_pass", "ansible_ssh_password"} {
		if _, ok := vars[k]; ok && keys.address[0] == "ansible_host" {
			return nil, bad(k, "%s: frontdoor logs in with keys only (a file or ssh-agent), not SSH passwords: give ansible_ssh_private_key_file or use --agent", k)
		}
	}
	for k, v := range vars {
		if !known[k] && !strings.HasPrefix(k, "ansible_") {
			h.Vars[k] = v
		}
	}
	if notScalar != nil {
		return nil, notScalar
	}
	if h.Connection == "" {
		h.Connection = "ssh"
	}
	if h.Connection == "ssh" {
		if err := h.sshTarget(sc, explicit{port: portSet, user: userSet, key: keySet, addr: addrSet}); err != nil {
			return nil, err
		}
	}
	if h.Port == 0 {
		h.Port = 22
	}
	if h.User == "" {
		h.User = "root"
	}
	return h, nil
}

// Names returns the host names in order.
func (inv *Inventory) Names() []string {
	var out []string
	for n := range inv.Hosts {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Select returns the hosts a pattern names, in name order. The pattern is "" or "all" (every
// host), or a list separated by commas or colons of host names, group names and shell globs
// over either; "!x" removes, "&x" intersects (as Ansible's --limit); "@FILE" reads the names
// from a retry file, one per line.
func (inv *Inventory) Select(pattern string) ([]*Host, error) {
	if strings.HasPrefix(pattern, "@") {
		data, err := os.ReadFile(pattern[1:])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", pattern, err)
		}
		var names []string
		for _, l := range strings.Split(string(data), "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
				if _, ok := inv.Hosts[l]; !ok {
					return nil, fmt.Errorf("%s: host %q is not in the inventory", pattern, l)
				}
				names = append(names, l)
			}
		}
		if len(names) == 0 {
			return nil, fmt.Errorf("%s: the file names no host", pattern)
		}
		pattern = strings.Join(names, ",")
	}
	if pattern == "" {
		pattern = "all"
	}
	chosen := map[string]bool{}
	var and []map[string]bool
	var not []map[string]bool
	for _, p := range strings.FieldsFunc(pattern, func(r rune) bool { return r == ',' || r == ':' }) {
		p = strings.TrimSpace(p)
		switch {
		case strings.HasPrefix(p, "!"):
			not = append(not, inv.match(p[1:]))
		case strings.HasPrefix(p, "&"):
			and = append(and, inv.match(p[1:]))
		default:
			for n := range inv.match(p) {
				chosen[n] = true
			}
		}
	}
	var out []*Host
	for _, n := range inv.Names() {
		ok := chosen[n]
		for _, m := range and {
			ok = ok && m[n]
		}
		for _, m := range not {
			ok = ok && !m[n]
		}
		if ok {
			out = append(out, inv.Hosts[n])
		}
	}
	if len(out) == 0 {
		var groups []string
		for g := range inv.Groups {
			groups = append(groups, g)
		}
		sort.Strings(groups)
		return nil, fmt.Errorf("%q matches no host of the inventory (hosts: %s; groups: %s)", pattern, strings.Join(inv.Names(), ", "), strings.Join(groups, ", "))
	}
	return out, nil
}

// match is the hosts one pattern term names: a group or host by name or glob.
func (inv *Inventory) match(term string) map[string]bool {
	out := map[string]bool{}
	for g, hs := range inv.Groups {
		if ok, _ := filepath.Match(term, g); ok {
			for _, h := range hs {
				out[h] = true
			}
		}
	}
	for n := range inv.Hosts {
		if ok, _ := filepath.Match(term, n); ok {
			out[n] = true
		}
	}
	return out
}

// BecomePassword reads the sudo password, from the file, the inventory or the environment; nil
// when none.
func (h *Host) BecomePassword() ([]byte, error) {
	if h.BecomePasswordFile != "" {
		b, err := os.ReadFile(h.BecomePasswordFile)
		if err != nil {
			return nil, fmt.Errorf("%s: become_password_file: %w", h.Name, err)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		return []byte(strings.TrimRight(line, "\r")), nil
	}
	if h.becomePass != nil {
		return h.becomePass, nil
	}
	if v, ok := os.LookupEnv("FRONTDOOR_BECOME_PASSWORD"); ok {
		return []byte(v), nil
	}
	return nil, nil
}
