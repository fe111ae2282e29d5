package playbooks

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
)

// fdInventory is frontdoor's inventory format.
type fdInventory struct {
	KnownHosts string              `yaml:"known_hosts"`
	SSHConfig  string              `yaml:"ssh_config"`
	Vars       map[string]any      `yaml:"vars"`
	Hosts      map[string]*fdHost  `yaml:"hosts"`
	Groups     map[string]*fdGroup `yaml:"groups"`
}

type fdHost struct {
	Address            string         `yaml:"address"`
	Port               int            `yaml:"port"`
	User               string         `yaml:"user"`
	Key                string         `yaml:"key"`
	Connection         string         `yaml:"connection"`
	ProxyJump          string         `yaml:"proxy_jump"`
	BecomePasswordFile string         `yaml:"become_password_file"`
	Vars               map[string]any `yaml:"vars"`
}

type fdGroup struct {
	Hosts    []string       `yaml:"hosts"`
	Children []string       `yaml:"children"`
	Vars     map[string]any `yaml:"vars"`
}

func loadFrontdoorYAML(path string, data []byte) (*invSource, error) {
	var raw fdInventory
	src, err := decode(path, data, &raw)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	pos := func(p string) origin {
		// errorf with an empty message gives "file:line:col: "; keep the position only.
		return origin{strings.TrimSuffix(src.errorf(p, "").Error(), ": "), dir}
	}
	varsAt := func(base string, v map[string]any) map[string]origin {
		at := map[string]origin{}
		for k := range v {
			at[k] = pos(base + "." + k)
		}
		return at
	}
	var defs []*hostDef
	var names []string
	for n := range raw.Hosts {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		h := raw.Hosts[n]
		if h == nil {
			h = &fdHost{}
		}
		base := "$.hosts." + n
		d := &hostDef{name: n, vars: map[string]any{}, at: map[string]origin{}}
		for k, v := range h.Vars {
			d.vars[k], d.at[k] = v, pos(base+".vars."+k)
		}
		for _, f := range []struct {
			key string
			val any
			set bool
		}{{"address", h.Address, h.Address != ""}, {"port", h.Port, h.Port != 0}, {"user", h.User, h.User != ""}, {"key", h.Key, h.Key != ""},
			{"connection", h.Connection, h.Connection != ""}, {"proxy_jump", h.ProxyJump, h.ProxyJump != ""},
			{"become_password_file", h.BecomePasswordFile, h.BecomePasswordFile != ""}} {
			if f.set {
				d.vars[f.key], d.at[f.key] = f.val, pos(base+"."+f.key)
			}
		}
		defs = append(defs, d)
	}
	groups := map[string]*groupDef{}
	for g, gd := range raw.Groups {
		if gd == nil {
			gd = &fdGroup{}
		}
		if g == "all" {
			return nil, src.errorf("$.groups.all", "\"all\" is every host already: put its variables under the top-level vars:")
		}
		groups[g] = &groupDef{hosts: gd.Hosts, children: gd.Children, vars: gd.Vars, at: varsAt("$.groups."+g+".vars", gd.Vars)}
	}
	for g, gd := range groups {
		for i, h := range gd.hosts {
			if _, ok := raw.Hosts[h]; !ok {
				return nil, src.errorf(fmt.Sprintf("$.groups.%s.hosts[%d]", g, i), "group %s lists host %q, which is not under hosts:", g, h)
			}
		}
		for i, c := range gd.children {
			if _, ok := groups[c]; !ok {
				return nil, src.errorf(fmt.Sprintf("$.groups.%s.children[%d]", g, i), "group %s names child group %q, which is not under groups:", g, c)
			}
		}
	}
	return &invSource{path: path, format: "frontdoor", defs: defs, groups: groups, allVars: raw.Vars, allAt: varsAt("$.vars", raw.Vars), keys: frontdoorKeys,
		knownHosts: rel(dir, raw.KnownHosts), sshConfig: rel(dir, raw.SSHConfig)}, nil
}
