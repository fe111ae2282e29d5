package playbooks

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// requireTool finds an Ansible command; without it the comparison skips, except in CI or when
// FRONTDOOR_LAB_REQUIRED=1, where a missing oracle is a failure (as internal/javaref does for javac).
func requireTool(t *testing.T, name string) string {
	t.Helper()
	bin, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" || os.Getenv("FRONTDOOR_LAB_REQUIRED") == "1" {
			t.Fatalf("%s is missing: scripts/setup installs ansible-core", name)
		}
		t.Skipf("%s is not installed (apt-get install ansible-core)", name)
	}
	return bin
}

// corpusCase is testdata/ansible/corpus/NAME/case.txt: the -i arguments (relative to the case's
// directory, where both Ansible and frontdoor run) and --limit patterns.
type corpusCase struct {
	inventories, limits []string
}

func readCase(t *testing.T, path string) corpusCase {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var c corpusCase
	for _, l := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(l, ": "); ok {
			switch k {
			case "inventory":
				c.inventories = strings.Fields(v)
			case "limit":
				c.limits = append(c.limits, v)
			}
		}
	}
	if len(c.inventories) == 0 {
		t.Fatalf("%s: no inventory: line", path)
	}
	return c
}

// Every inventory of the corpus (INI, YAML, directories, several -i, group_vars/ and host_vars/
// files and directories, precedence between them) resolves as Ansible resolves it: the hosts,
// each group's members, each host's address, port, user, key, connection, sudo password and
// other variables as `ansible-inventory --list` prints them, and each --limit selects the hosts
// `ansible all --list-hosts --limit` lists.
func TestCorpusMatchesAnsible(t *testing.T) {
	invBin := requireTool(t, "ansible-inventory")
	adhoc := requireTool(t, "ansible")
	t.Setenv("HOME", t.TempDir())
	t.Setenv("FRONTDOOR_SSH_CONFIG", "")
	empty := filepath.Join(t.TempDir(), "ansible.cfg")
	os.WriteFile(empty, nil, 0o600)
	t.Setenv("ANSIBLE_CONFIG", empty) // no ansible.cfg of the machine changes the oracle
	cases, err := filepath.Glob("testdata/ansible/corpus/*/case.txt")
	if err != nil || len(cases) < 5 {
		t.Fatalf("corpus: %v %v", cases, err)
	}
	for _, cf := range cases {
		c := readCase(t, cf)
		dir, _ := filepath.Abs(filepath.Dir(cf))
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Chdir(dir)
			var args []string
			for _, i := range c.inventories {
				args = append(args, "-i", i)
			}
			out, err := exec.Command(invBin, append(args, "--list")...).Output()
			if err != nil {
				t.Fatalf("ansible-inventory: %v", err)
			}
			dec := json.NewDecoder(bytes.NewReader(out))
			dec.UseNumber()
			var list map[string]json.RawMessage
			if err := dec.Decode(&list); err != nil {
				t.Fatal(err)
			}
			var meta struct {
				HostVars map[string]map[string]any `json:"hostvars"`
			}
			d := json.NewDecoder(bytes.NewReader(list["_meta"]))
			d.UseNumber()
			d.Decode(&meta)
			type group struct{ Hosts, Children []string }
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
			inv, err := LoadInventories(c.inventories...)
			if err != nil {
				t.Fatal(err)
			}
			var ansibleHosts []string
			for h := range meta.HostVars {
				ansibleHosts = append(ansibleHosts, h)
			}
			sort.Strings(ansibleHosts)
			if got := strings.Join(inv.Names(), ","); got != strings.Join(ansibleHosts, ",") {
				t.Fatalf("hosts: frontdoor %s, ansible %s", got, strings.Join(ansibleHosts, ","))
			}
			for g := range groups {
				if g == "all" {
					continue
				}
				exp := flat(g)
				sort.Strings(exp)
				exp = slices.Compact(exp)
				if got := inv.Groups[g]; strings.Join(got, ",") != strings.Join(exp, ",") {
					t.Errorf("group %s: frontdoor %v, ansible %v", g, got, exp)
				}
			}
			for name, hv := range meta.HostVars {
				compareHost(t, inv.Hosts[name], hv)
			}
			compareLimits(t, adhoc, args, inv, c.limits)
		})
	}
}

func compareHost(t *testing.T, h *Host, hv map[string]any) {
	t.Helper()
	want := func(k, def string) string {
		if v, ok := hv[k]; ok {
			return fmt.Sprint(v)
		}
		return def
	}
	conn := "ssh"
	if want("ansible_connection", "") == "local" {
		conn = "local"
	}
	got := fmt.Sprintf("connection=%s", h.Connection)
	exp := fmt.Sprintf("connection=%s", conn)
	if conn == "ssh" {
		// frontdoor's default user is root where Ansible's is the controller's user.
		got += fmt.Sprintf(" address=%s port=%d user=%s become=%v", h.Address, h.Port, h.User, h.Become)
		u := want("ansible_user", "root")
		exp += fmt.Sprintf(" address=%s port=%s user=%s become=%v", want("ansible_host", h.Name), want("ansible_port", "22"), u, u != "root")
	}
	if k := want("ansible_ssh_private_key_file", ""); k != "" {
		// Relative to the inventory's directory in frontdoor, where Ansible leaves it relative
		// to the working directory (docs/inventory.md): the same path under that directory.
		exp += " key=" + k
		if strings.HasSuffix(h.Key, string(filepath.Separator)+k) {
			got += " key=" + k
		} else {
			got += " key=" + h.Key
		}
	} else if h.Key != "" {
		got += " key=" + h.Key
	}
	exp += " become_password=" + want("ansible_become_password", "")
	got += " become_password=" + string(h.becomePass)
	if got != exp {
		t.Errorf("%s: frontdoor %s\n%*s ansible   %s", h.Name, got, len(h.Name), "", exp)
	}
	vars := map[string]string{}
	for k, v := range hv {
		if !strings.HasPrefix(k, "ansible_") {
			vars[k] = fmt.Sprint(v)
		}
	}
	fvars := map[string]string{}
	for k, v := range h.Vars {
		fvars[k] = fmt.Sprint(v)
	}
	if fmt.Sprint(fvars) != fmt.Sprint(vars) {
		t.Errorf("%s: vars: frontdoor %v, ansible %v", h.Name, fvars, vars)
	}
}

// limitsPy evaluates --limit patterns with Ansible's own InventoryManager, as `ansible PATTERN
// --list-hosts --limit L` does (cli.CLI.get_host_list: subset, then list_hosts), in one Python
// start for all of a case's patterns. An error (a missing @file, a bad regex) is null.
const limitsPy = `
import json, sys
from ansible.errors import AnsibleError
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
inv = InventoryManager(loader=DataLoader(), sources=json.loads(sys.argv[1]))
out = []
for l in json.loads(sys.argv[2]):
    try:
        inv.subset(l)
        out.append(sorted(h.name for h in inv.list_hosts("all")))
    except AnsibleError:
        out.append(None)
print(json.dumps(out))
`

// compareLimits compares frontdoor's Select with Ansible's for each pattern: all of them through
// Ansible's InventoryManager, and the first also through the ansible command itself, so the
// helper is known to answer as the command does.
func compareLimits(t *testing.T, adhoc string, args []string, inv *Inventory, limits []string) {
	t.Helper()
	if len(limits) == 0 {
		return
	}
	script, err := os.ReadFile(adhoc)
	if err != nil {
		t.Fatal(err)
	}
	python := strings.TrimSpace(strings.TrimPrefix(strings.SplitN(string(script), "\n", 2)[0], "#!"))
	var sources []string
	for i := 1; i < len(args); i += 2 {
		sources = append(sources, args[i])
	}
	js, _ := json.Marshal(sources)
	jl, _ := json.Marshal(limits)
	out, err := exec.Command(python, "-c", limitsPy, string(js), string(jl)).Output()
	if err != nil {
		t.Fatalf("Ansible's InventoryManager (%s): %v", python, err)
	}
	var got [][]string
	if err := json.Unmarshal(out, &got); err != nil || len(got) != len(limits) {
		t.Fatalf("Ansible's InventoryManager: %s %v", out, err)
	}
	cli, err := exec.Command(adhoc, append(append([]string{"all"}, args...), "--list-hosts", "--limit", limits[0])...).Output()
	if err != nil {
		t.Fatalf("ansible --list-hosts --limit %s: %v", limits[0], err)
	}
	var hs []string
	for _, line := range strings.Split(string(cli), "\n") {
		if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "hosts (") {
			hs = append(hs, l)
		}
	}
	sort.Strings(hs)
	if strings.Join(hs, ",") != strings.Join(got[0], ",") {
		t.Fatalf("ansible --list-hosts --limit %s: %v, InventoryManager: %v", limits[0], hs, got[0])
	}
	for i, l := range limits {
		hs, err := inv.Select(l)
		fd := names(hs)
		if err != nil {
			fd = ""
		}
		if want := strings.Join(got[i], ","); fd != want {
			t.Errorf("--limit %q: frontdoor %q (%v), ansible %q", l, fd, err, want)
		}
	}
}
