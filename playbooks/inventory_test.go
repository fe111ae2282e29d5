package playbooks

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

func writeInv(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func names(hs []*Host) string {
	var out []string
	for _, h := range hs {
		out = append(out, h.Name)
	}
	return strings.Join(out, ",")
}

// An Ansible INI inventory as typical projects write it (testdata/ansible/hosts.ini): ranges,
// host:port, group vars, children, all:vars, quoted values, comments.
func TestAnsibleINI(t *testing.T) {
	t.Setenv("FRONTDOOR_SSH_CONFIG", "")
	t.Setenv("HOME", t.TempDir())
	inv, err := LoadInventory("testdata/ansible/hosts.ini")
	if err != nil {
		t.Fatal(err)
	}
	if inv.Format != "ansible-ini" {
		t.Fatalf("format %s", inv.Format)
	}
	if got := strings.Join(inv.Names(), ","); got != "bamboo.example.com,confluence01,jira01,jira02,jira03,proxy-a,proxy-b" {
		t.Fatalf("hosts %s", got)
	}
	j1 := inv.Hosts["jira01"]
	// host var > child group var (jira_eu) > parent group var (atlassian) > all:vars
	if j1.Address != "10.0.1.11" || j1.User != "deploy" || j1.Port != 2222 || j1.Key != filepath.Join("testdata", "ansible", "keys", "eu") {
		t.Errorf("jira01: %+v", j1)
	}
	if j3 := inv.Hosts["jira03"]; j3.User != "ubuntu" || j3.Port != 22 || j3.Address != "jira03" {
		t.Errorf("jira03: %+v", j3)
	}
	if b := inv.Hosts["bamboo.example.com"]; b.Port != 2200 || b.User != "ops" || string(b.becomePass) != "s3cret word" {
		t.Errorf("bamboo: %+v", b)
	}
	if c := inv.Hosts["confluence01"]; c.Connection != "local" || c.Vars["datacenter"] != "eu-west" {
		t.Errorf("confluence01: %+v", c)
	}
	for _, c := range []struct{ limit, want string }{
		{"jira", "jira01,jira02,jira03"},
		{"atlassian:!jira_us", "bamboo.example.com,confluence01,jira01,jira02"},
		{"atlassian:&jira_eu", "jira01,jira02"},
		{"proxy-*,jira03", "jira03,proxy-a,proxy-b"},
		{"all", "bamboo.example.com,confluence01,jira01,jira02,jira03,proxy-a,proxy-b"},
	} {
		hs, err := inv.Select(c.limit)
		if err != nil || names(hs) != c.want {
			t.Errorf("--limit %s: %s %v, want %s", c.limit, names(hs), err, c.want)
		}
	}
	retry := writeInv(t, "x.retry", "jira02\n\nproxy-b\n")
	if hs, err := inv.Select("@" + retry); err != nil || names(hs) != "jira02,proxy-b" {
		t.Errorf("--limit @file: %s %v", names(hs), err)
	}
}

func TestAnsibleYAML(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	inv, err := LoadInventory("testdata/ansible/hosts.yml")
	if err != nil {
		t.Fatal(err)
	}
	if inv.Format != "ansible-yaml" {
		t.Fatalf("format %s", inv.Format)
	}
	j := inv.Hosts["jira01"]
	if j.Address != "10.0.1.11" || j.User != "deploy" || j.Port != 22 {
		t.Errorf("jira01: %+v", j)
	}
	if c := inv.Hosts["confluence01"]; c.User != "admin" || c.Port != 2201 {
		t.Errorf("confluence01: %+v", c)
	}
	if hs, err := inv.Select("prod"); err != nil || names(hs) != "confluence01,jira01" {
		t.Errorf("group prod: %s %v", names(hs), err)
	}
}

// frontdoor's YAML: groups, children, vars by precedence, ssh_config for what is unset.
func TestFrontdoorGroupsAndSSHConfig(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "ssh_config"), []byte("Host jira-eu-*\n  User eu-admin\n  Port 2022\n  ProxyJump bastion.example.com\nHost alias1\n  HostName 192.0.2.77\n  IdentityFile /keys/alias\n"), 0o600)
	p := filepath.Join(dir, "inv.yaml")
	os.WriteFile(p, []byte(`ssh_config: ssh_config
vars:
  user: admin
groups:
  atlassian:
    children: [eu]
    vars: {key: keys/all, env: prod}
  eu:
    hosts: [jira-eu-1, alias1]
    vars: {env: eu-prod}
hosts:
  jira-eu-1:
  alias1:
    user: root
  plain:
    address: 192.0.2.9
`), 0o600)
	inv, err := LoadInventory(p)
	if err != nil {
		t.Fatal(err)
	}
	e := inv.Hosts["jira-eu-1"]
	// admin from vars would win over ssh_config's User, since the inventory set it.
	if e.User != "admin" || e.Port != 2022 || e.ProxyJump != "bastion.example.com" || e.Key != filepath.Join(dir, "keys/all") || e.Vars["env"] != "eu-prod" {
		t.Errorf("jira-eu-1: %+v", e)
	}
	a := inv.Hosts["alias1"]
	if a.Address != "192.0.2.77" || a.User != "root" || a.Key != filepath.Join(dir, "keys/all") {
		t.Errorf("alias1: %+v", a)
	}
	if pl := inv.Hosts["plain"]; pl.User != "admin" || pl.Key != "" || pl.Port != 22 {
		t.Errorf("plain: %+v", pl)
	}
	if hs, _ := inv.Select("atlassian"); names(hs) != "alias1,jira-eu-1" {
		t.Errorf("children: %s", names(hs))
	}
}

func TestInventoryErrors(t *testing.T) {
	for _, c := range []struct{ name, content, want string }{
		{"a.ini", "[web]\nh1 ansible_port=http\n", "a.ini:2: port \"http\""},
		{"b.ini", "[web\nh1\n", "b.ini:1: section header"},
		{"c.ini", "[web:children]\nnope\n", "names \"nope\""},
		{"d.ini", "h[3:1]\n", "d.ini:1: host range \"h[3:1]\" ends before it starts"},
		{"e.ini", "h1 ansible_ssh_pass=x\n", "keys only"},
		{"f.yaml", "hosts:\n  h1:\ngroups:\n  g:\n    hosts: [h2]\n", "f.yaml:5:13: group g lists host \"h2\""},
		{"g.yaml", "hosts:\n  h1:\ngroups:\n  a: {children: [b]}\n  b: {children: [a]}\n", "children loop"},
		{"h.yaml", "vars:\n  port: 99999\nhosts:\n  h1:\n", "h.yaml:2:9: port \"99999\""},
	} {
		_, err := LoadInventory(writeInv(t, c.name, c.content))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

func TestExpandRange(t *testing.T) {
	for in, want := range map[string]string{
		"web[01:03].x": "web01.x,web02.x,web03.x",
		"db-[a:c]":     "db-a,db-b,db-c",
		"n[1:7:3]":     "n1,n4,n7",
		"r[1:2]-[a:b]": "r1-a,r1-b,r2-a,r2-b",
	} {
		got, err := expandRange(in)
		if err != nil || strings.Join(got, ",") != want {
			t.Errorf("%s: %v %v", in, got, err)
		}
	}
}

// The testdata inventories resolve as Ansible itself resolves them (ansible-inventory --list):
// the same hosts, groups (children included), addresses, ports and users.
func TestInventoriesMatchAnsible(t *testing.T) {
	bin, err := exec.LookPath("ansible-inventory")
	if err != nil {
		if os.Getenv("CI") == "true" || os.Getenv("FRONTDOOR_LAB_REQUIRED") == "1" {
			t.Fatal("ansible-inventory is missing: scripts/setup installs ansible-core")
		}
		t.Skip("ansible-inventory is not installed (apt-get install ansible-core)")
	}
	t.Setenv("HOME", t.TempDir())
	for _, f := range []string{"testdata/ansible/hosts.ini", "testdata/ansible/hosts.yml"} {
		out, err := exec.Command(bin, "-i", f, "--list").Output()
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var list map[string]json.RawMessage
		if err := json.Unmarshal(out, &list); err != nil {
			t.Fatal(err)
		}
		var meta struct {
			HostVars map[string]map[string]any `json:"hostvars"`
		}
		json.Unmarshal(list["_meta"], &meta)
		type group struct {
			Hosts    []string `json:"hosts"`
			Children []string `json:"children"`
		}
		groups := map[string]group{}
		for name, raw := range list {
			if name != "_meta" {
				var g group
				json.Unmarshal(raw, &g)
				groups[name] = g
			}
		}
		var flat func(string) []string
		flat = func(g string) []string {
			out := append([]string(nil), groups[g].Hosts...)
			for _, c := range groups[g].Children {
				out = append(out, flat(c)...)
			}
			return out
		}
		inv, err := LoadInventory(f)
		if err != nil {
			t.Fatal(err)
		}
		if len(meta.HostVars) != len(inv.Hosts) {
			t.Errorf("%s: ansible sees %d hosts, frontdoor %d", f, len(meta.HostVars), len(inv.Hosts))
		}
		for name, hv := range meta.HostVars {
			h := inv.Hosts[name]
			if h == nil {
				t.Errorf("%s: frontdoor lacks host %s", f, name)
				continue
			}
			want := func(k, def string) string {
				if v, ok := hv[k]; ok {
					return fmt.Sprint(v)
				}
				return def
			}
			if h.Connection == "ssh" {
				got := fmt.Sprintf("%s %d %s", h.Address, h.Port, h.User)
				exp := fmt.Sprintf("%s %s %s", want("ansible_host", name), want("ansible_port", "22"), want("ansible_user", "root"))
				if got != exp {
					t.Errorf("%s: %s: frontdoor %q, ansible %q", f, name, got, exp)
				}
			}
			if k := want("ansible_ssh_private_key_file", ""); k != "" && filepath.Base(h.Key) != filepath.Base(k) {
				t.Errorf("%s: %s: key %s, ansible %s", f, name, h.Key, k)
			}
		}
		for g := range groups {
			if g == "all" || g == "ungrouped" && len(flat(g)) == 0 {
				continue
			}
			exp := flat(g)
			sort.Strings(exp)
			exp = slices.Compact(exp)
			if got := inv.Groups[g]; strings.Join(got, ",") != strings.Join(exp, ",") {
				t.Errorf("%s: group %s: frontdoor %v, ansible %v", f, g, got, exp)
			}
		}
	}
}

// A YAML alias tree under a connection setting is refused at once, not stringified: five levels
// of ten aliases are 2.2 MB of text, nine would be ~22 GB (issue 11 row 10).
func TestInventoryAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("groups:\n  g:\n    hosts: [h1]\n    vars:\n      x0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	for i := 1; i <= 5; i++ {
		fmt.Fprintf(&b, "      x%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	b.WriteString("      user: *a5\nhosts:\n  h1:\n    address: 192.0.2.1\n")
	p := filepath.Join(t.TempDir(), "inv.yaml")
	os.WriteFile(p, []byte(b.String()), 0o600)
	start := time.Now()
	_, err := LoadInventory(p)
	if err == nil || !strings.Contains(err.Error(), "user must be a single value, not a list or mapping (host h1)") || time.Since(start) > 5*time.Second {
		t.Fatalf("%.200v after %s", err, time.Since(start))
	}
}

// --limit terms frontdoor cannot honour as Ansible would are refused by name, not guessed.
func TestLimitErrors(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	inv, err := LoadInventory("testdata/ansible/hosts.ini")
	if err != nil {
		t.Fatal(err)
	}
	for limit, want := range map[string]string{
		"jira[0]":       `"jira[0]": Ansible reads [N] and [N:M]`,
		"jira[1:2]":     "positions in a group",
		"~jira(":        `"~jira(": not a valid pattern`,
		"@/nonexistent": "@/nonexistent: limit file",
		"@testdata":     "must be a file, not a directory",
		"nomatch":       `"nomatch" matches no host of the inventory (hosts: bamboo.example.com,`,
		"jira,!jira*":   "matches no host",
		"&":             "an empty name after & or !",
	} {
		if _, err := inv.Select(limit); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("--limit %s: %v, want %q", limit, err, want)
		}
	}
}
