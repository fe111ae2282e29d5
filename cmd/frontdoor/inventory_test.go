package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

const corpus = "../../playbooks/testdata/ansible/corpus/"

// frontdoor inventory --list / --host: the resolved settings as JSON, in ansible-inventory's
// shape, several -i merged, --limit applied, and no secret printed.
func TestInventoryCommand(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	t.Setenv("FRONTDOOR_SSH_CONFIG", "")
	dir := t.TempDir()
	extra := filepath.Join(dir, "extra.ini")
	writeTestFile(t, extra, "[prod]\np3 db_password=hunter2 api_token=abc ansible_become_pass=pw-from-ini\n")
	out, err := run(t, "inventory", "-i", corpus+"multi/hosts.ini", "-i", corpus+"multi/more.yml", "-i", extra, "--list")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, secret := range []string{"eu-sudo", "hunter2", "abc", "pw-from-ini"} {
		if strings.Contains(out, secret) {
			t.Errorf("--list prints the secret %q:\n%s", secret, out)
		}
	}
	var list struct {
		Meta struct {
			HostVars map[string]hostSettings `json:"hostvars"`
		} `json:"_meta"`
		All  struct{ Children []string }        `json:"all"`
		Prod struct{ Hosts, Children []string } `json:"prod"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	a2 := list.Meta.HostVars["a2"]
	if got := fmt.Sprintf("%s %d %s %s %s %v %s", a2.Address, a2.Port, a2.User, filepath.Base(a2.Key), a2.Connection, a2.Become, a2.BecomePassword); got != "a2 2022 hv-a2 prod ssh true (set)" {
		t.Errorf("a2: %s", got)
	}
	p3 := list.Meta.HostVars["p3"]
	if p3.Vars["db_password"] != "(set)" || p3.Vars["api_token"] != "(set)" || p3.Vars["role"] != "prod-yaml" || p3.BecomePassword != "(set)" {
		t.Errorf("p3: %+v", p3)
	}
	if d1 := list.Meta.HostVars["d1"]; d1.Connection != "local" || d1.Become || d1.Address != "" {
		t.Errorf("d1: %+v", d1)
	}
	if len(list.Meta.HostVars) != 5 || strings.Join(list.Prod.Hosts, ",") != "p3" || strings.Join(list.Prod.Children, ",") != "eu" {
		t.Errorf("hosts %d, prod %+v", len(list.Meta.HostVars), list.Prod)
	}

	out, err = run(t, "inventory", "-i", corpus+"multi/hosts.ini", "-i", corpus+"multi/more.yml", "--limit", "!prod", "--list")
	if err != nil || strings.Contains(out, `"a1"`) || !strings.Contains(out, `"l1"`) || !strings.Contains(out, `"d1"`) {
		t.Errorf("--limit '!prod': %v\n%s", err, out)
	}
	out, err = run(t, "inventory", "--host", "a1", "-i", corpus+"multi/hosts.ini", "-i", corpus+"multi/more.yml")
	var a1 hostSettings
	if err != nil || json.Unmarshal([]byte(out), &a1) != nil || a1.User != "gv-eu" || a1.Vars["tier"] != "app" {
		t.Errorf("--host a1: %v\n%s", err, out)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-i", corpus + "multi/hosts.ini"}, "give --list or --host HOST"},
		{[]string{"-i", corpus + "multi/hosts.ini", "--list", "--host", "a1"}, "give --list or --host HOST"},
		{[]string{"-i", corpus + "multi/hosts.ini", "--host", "nope"}, "--host nope: no such host"},
	} {
		out, err := run(t, append([]string{"inventory"}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q\n%s", c.args, err, c.want, out)
		}
	}
}

// Several -i on a host command: every inventory's hosts are worked on, none replaces another.
func TestMemCLISeveralInventories(t *testing.T) {
	_, dir := memCLI(t, "j1", "j2")
	writeTestFile(t, dir+"/one.yaml", "hosts:\n  j1: {address: 192.0.2.1}\n")
	writeTestFile(t, dir+"/two.yaml", "hosts:\n  j2: {address: 192.0.2.2}\n")
	out, err := run(t, "facts", "-i", dir+"/one.yaml", "-i", dir+"/two.yaml")
	if err != nil || strings.Count(out, "supported: yes") != 2 || !strings.Contains(out, "j1") || !strings.Contains(out, "j2") {
		t.Fatalf("facts with two -i: %v\n%s", err, out)
	}
}
