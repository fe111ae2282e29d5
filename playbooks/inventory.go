package playbooks

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
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
	// DirectHosts and Children are each group as declared: its own hosts and its child groups
	// ("all": the groups no other group holds), as ansible-inventory --list prints them.
	DirectHosts, Children map[string][]string
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
	// From ssh_config (OpenSSH's ConnectTimeout, ServerAliveInterval, IdentitiesOnly): zero and
	// false when it does not say.
	ConnectTimeout, ServerAliveInterval time.Duration
	IdentitiesOnly                      bool
	// Become says commands go through sudo: the user is not root. frontdoor always works as root,
	// so an inventory's ansible_become: false does not stop it (see docs/inventory.md).
	Become bool
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
	at   map[string]origin // variable -> where it was set, for errors ("inv.ini:12")
}

// origin is where a variable was set: the position for errors, and the directory its relative
// paths (key files, password files) start from.
type origin struct{ pos, dir string }

func (o origin) String() string { return o.pos }

// groupDef is a group as a format declares it.
type groupDef struct {
	hosts    []string
	children []string
	vars     map[string]any
	at       map[string]origin
}

// settings names the keys of a format that map to a host's connection settings.
type settings struct {
	address, port, user, key, connection, becomeFile, becomePass, proxyJump []string
	become, becomeUser, becomeMethod                                        []string
}

var frontdoorKeys = settings{address: []string{"address"}, port: []string{"port"}, user: []string{"user"}, key: []string{"key"},
	connection: []string{"connection"}, becomeFile: []string{"become_password_file"}, proxyJump: []string{"proxy_jump"}}

// ansibleKeys are the behavioural inventory parameters of Ansible that frontdoor honours.
var ansibleKeys = settings{address: []string{"ansible_host", "ansible_ssh_host"}, port: []string{"ansible_port", "ansible_ssh_port"},
	user: []string{"ansible_user", "ansible_ssh_user"}, key: []string{"ansible_ssh_private_key_file", "ansible_private_key_file"},
	connection: []string{"ansible_connection"}, becomePass: []string{"ansible_become_password", "ansible_become_pass", "ansible_sudo_pass"},
	become: []string{"ansible_become", "ansible_sudo"}, becomeUser: []string{"ansible_become_user", "ansible_sudo_user"}, becomeMethod: []string{"ansible_become_method"}}

// LoadInventory reads one inventory: see LoadInventories.
func LoadInventory(path string) (*Inventory, error) { return LoadInventories(path) }

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
	// Ansible's sort_groups: depth, then ansible_group_priority (default 1), then name.
	prio := func(g string) int {
		if v, ok := groups[g].vars["ansible_group_priority"]; ok {
			if n, err := strconv.Atoi(fmt.Sprint(v)); err == nil {
				return n
			}
		}
		return 1
	}
	sort.SliceStable(names, func(i, j int) bool {
		a, b := names[i], names[j]
		if depth[a] != depth[b] {
			return depth[a] < depth[b]
		}
		return prio(a) < prio(b)
	})
	return names, members, nil
}

func build(src *invSource, varsDirs []string) (*Inventory, error) {
	name, groups := src.path, src.groups
	inv := &Inventory{Format: src.format, Hosts: map[string]*Host{}, Groups: map[string][]string{}, KnownHosts: src.knownHosts, SSHConfig: src.sshConfig}
	if groups["ungrouped"] == nil {
		groups["ungrouped"] = &groupDef{vars: map[string]any{}, at: map[string]origin{}}
	}
	names, members, err := groupTree(name, groups)
	if err != nil {
		return nil, err
	}
	ungrouped(src.defs, members)
	sc, err := loadSSHConfig(inv.SSHConfig)
	if err != nil {
		return nil, err
	}
	vf := &varsFiles{cache: map[string]*varsFile{}}
	for _, d := range src.defs {
		vars, at := map[string]any{}, map[string]origin{}
		merge := func(v map[string]any, a map[string]origin) {
			for k, x := range v {
				vars[k], at[k] = x, a[k]
			}
		}
		var hostGroups []string
		for _, g := range names {
			if members[g][d.name] {
				hostGroups = append(hostGroups, g)
			}
		}
		// Ansible's order (VariableManager.get_vars with the default VARIABLE_PRECEDENCE): the
		// inventory's all, its groups, then group_vars/all, group_vars/<group> (each inventory
		// source's directory in turn), the inventory's host, host_vars/<host>.
		merge(src.allVars, src.allAt)
		for _, g := range hostGroups {
			merge(groups[g].vars, groups[g].at)
		}
		for _, vd := range varsDirs {
			f, err := vf.load(vd, "group_vars", "all")
			if err != nil {
				return nil, err
			}
			merge(f.vars, f.at)
		}
		for _, vd := range varsDirs {
			for _, g := range hostGroups {
				f, err := vf.load(vd, "group_vars", g)
				if err != nil {
					return nil, err
				}
				merge(f.vars, f.at)
			}
		}
		merge(d.vars, d.at)
		for _, vd := range varsDirs {
			f, err := vf.load(vd, "host_vars", d.name)
			if err != nil {
				return nil, err
			}
			merge(f.vars, f.at)
		}
		h, err := resolve(d.name, vars, at, src.keys, sc)
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
	inv.DirectHosts, inv.Children = map[string][]string{}, map[string][]string{}
	isChild := map[string]bool{}
	for _, g := range names {
		direct := groups[g].hosts
		if g == "ungrouped" {
			direct = nil
			for h := range members[g] {
				direct = append(direct, h)
			}
		}
		if d := sortedUnique(direct); len(d) > 0 {
			inv.DirectHosts[g] = d
		}
		if c := sortedUnique(groups[g].children); len(c) > 0 {
			inv.Children[g] = c
			for _, x := range c {
				isChild[x] = true
			}
		}
	}
	for _, g := range names {
		if !isChild[g] && g != "all" {
			inv.Children["all"] = append(inv.Children["all"], g)
		}
	}
	sort.Strings(inv.Children["all"])
	return inv, nil
}

func sortedUnique(l []string) []string {
	out := appendNew(nil, l...)
	sort.Strings(out)
	return out
}

// ungrouped makes the group "ungrouped" hold exactly the hosts in no other group, as Ansible's
// reconcile_inventory does (a host listed before any INI section and in a group later is not
// ungrouped; a YAML host directly under all: is).
func ungrouped(defs []*hostDef, members map[string]map[string]bool) {
	u := map[string]bool{}
	for _, d := range defs {
		in := false
		for g, m := range members {
			if g != "ungrouped" && g != "all" && m[d.name] {
				in = true
				break
			}
		}
		if !in {
			u[d.name] = true
		}
	}
	members["ungrouped"] = u
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
		h.ConnectTimeout, h.ServerAliveInterval, h.IdentitiesOnly = s.connectTimeout, s.serverAlive, s.identitiesOnly
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

func resolve(name string, vars map[string]any, at map[string]origin, keys settings, sc *sshConfigFile) (*Host, error) {
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
	if v, k, ok := get(keys.key); ok {
		h.Key, keySet = rel(at[k].dir, v), true
	}
	if v, k, ok := get(keys.connection); ok {
		if h.Connection = connectionOf(v); h.Connection == "" {
			return nil, bad(k, "connection %q: write ssh or local", v)
		}
	}
	if v, k, ok := get(keys.becomeFile); ok {
		h.BecomePasswordFile = rel(at[k].dir, v)
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
	if v, k, ok := get(keys.become); ok {
		if _, err := ansibleBool(v); err != nil {
			return nil, bad(k, "%s %q: write true or false", k, v)
		}
	}
	if v, k, ok := get(keys.becomeUser); ok && v != "root" {
		return nil, bad(k, "%s=%s: frontdoor works as root (through sudo when the login user is not root) and cannot become another user: remove it for this host or set it to root", k, v)
	}
	if v, k, ok := get(keys.becomeMethod); ok && v != "sudo" {
		return nil, bad(k, "%s=%s: frontdoor becomes root with sudo only: remove it for this host or set it to sudo", k, v)
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
	h.Become = h.Connection == "ssh" && h.User != "root"
	return h, nil
}

// ansibleBool reads a boolean as Ansible's boolean() filter does (yes/no, on/off, 1/0, ...).
func ansibleBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "y", "yes", "on", "1", "true", "t", "1.0":
		return true, nil
	case "n", "no", "off", "0", "false", "f", "0.0":
		return false, nil
	}
	return false, fmt.Errorf("not a boolean")
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

// BecomePasswordSource says where the sudo password comes from without reading it: "file",
// "inventory", "environment", or "" when sudo runs without one (sudo -n).
func (h *Host) BecomePasswordSource() string {
	switch {
	case h.BecomePasswordFile != "":
		return "file"
	case h.becomePass != nil:
		return "inventory"
	}
	if _, ok := os.LookupEnv("FRONTDOOR_BECOME_PASSWORD"); ok {
		return "environment"
	}
	return ""
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
