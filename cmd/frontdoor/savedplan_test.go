package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
)

// plan -out then apply FILE applies exactly the saved plan: without -i, without asking; the
// file is 0600 and holds the fingerprints and diffs.
func TestSavedPlanApplies(t *testing.T) {
	fl, dir := memCLI(t, "j1", "j2")
	inv, pb, file := dir+"/inventory.yaml", dir+"/pb.yaml", dir+"/plan.fdplan"
	out, err := run(t, "plan", pb, "-i", inv, "-out", file)
	if exitCode(err) != exitPending || !strings.Contains(out, "plan saved to "+file) {
		t.Fatalf("plan -out: %v\n%s", err, out)
	}
	st, err := os.Stat(file)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("plan file: %v %v", err, st)
	}
	// Written again over a file someone made readable to others: 0600 again.
	if err := os.Chmod(file, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "plan", pb, "-i", inv, "-out", file); exitCode(err) != exitPending {
		t.Fatal(err)
	}
	if st, _ := os.Stat(file); st.Mode().Perm() != 0o600 {
		t.Errorf("rewritten plan file is %v", st.Mode().Perm())
	}
	var p savedPlan
	b, _ := os.ReadFile(file)
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	if p.Format != 1 || p.Playbook != pb || len(p.Inventories) != 1 || p.Inventories[0] != inv || len(p.Hosts) != 2 ||
		p.Hosts[0].Address != "192.0.2.1" || p.Hosts[0].Fingerprint == "" || p.Hosts[0].Pending != 5 || !strings.Contains(string(b), `proxyName=\"j1.example.com\"`) {
		t.Fatalf("saved plan:\n%s", b)
	}
	// A file named otherwise is recognised by its content.
	other := dir + "/saved.json"
	if err := os.WriteFile(other, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = run(t, "apply", other)
	if err != nil || strings.Count(out, "5 change(s) applied") != 2 || !strings.Contains(out, "applying the plan saved in "+other) {
		t.Fatalf("apply PLANFILE: %v\n%s", err, out)
	}
	for _, n := range []string{"j1", "j2"} {
		if !strings.Contains(string(fl.Hosts[n].File("/opt/atlassian/jira/conf/server.xml").Data), `proxyName="`+n+`.example.com"`) {
			t.Errorf("%s not applied", n)
		}
	}
	// Applied: the hosts no longer match the plan (it would now change nothing).
	out, err = run(t, "apply", file)
	if exitCode(err) != exitError || strings.Count(out, "the plan saved in "+file+" no longer matches") != 2 {
		t.Fatalf("second apply: %v\n%s", err, out)
	}
}

// A host changed since the plan was saved is refused and left untouched; the others are applied.
func TestSavedPlanStaleHost(t *testing.T) {
	fl, dir := memCLI(t, "j1", "j2")
	inv, pb, file := dir+"/inventory.yaml", dir+"/pb.yaml", dir+"/plan.fdplan"
	if out, err := run(t, "plan", "-i", inv, pb, "-out", file); exitCode(err) != exitPending {
		t.Fatalf("plan -out: %v\n%s", err, out)
	}
	sx := "/opt/atlassian/jira/conf/server.xml"
	f := fl.Hosts["j2"].File(sx)
	fl.Hosts["j2"].Put(sx, strings.Replace(string(f.Data), "<Server ", "<!-- edited by hand -->\n<Server ", 1), uint32(f.Mode))
	before := fl.Hosts["j2"].Snapshot()
	out, err := run(t, "apply", file, "--output", "json")
	if exitCode(err) != exitError {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	var j1ok, j2refused bool
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var e struct{ Type, Host, Status, Error string }
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("not JSON: %q", line)
		}
		if e.Type == "host.done" && e.Host == "j1" && e.Status == "changed" {
			j1ok = true
		}
		if e.Type == "host.done" && e.Host == "j2" && e.Status == "failed" && strings.Contains(e.Error, "the plan saved in "+file+" no longer matches j2: run frontdoor plan again") {
			j2refused = true
		}
	}
	if !j1ok || !j2refused {
		t.Fatalf("j1 applied %v, j2 refused %v:\n%s", j1ok, j2refused, out)
	}
	if fl.Hosts["j2"].Snapshot() != before {
		t.Error("j2 was changed")
	}
	if fl.Hosts["j2"].Lock != "" {
		t.Error("j2's lock was left")
	}
}

// A changed playbook, a tampered file, a -i or --limit that differs from the saved ones: refused
// before any host is contacted.
func TestSavedPlanRefusals(t *testing.T) {
	fl, dir := memCLI(t, "j1")
	inv, pb, file := dir+"/inventory.yaml", dir+"/pb.yaml", dir+"/plan.fdplan"
	if out, err := run(t, "plan", "-i", inv, pb, "-out", file); exitCode(err) != exitPending {
		t.Fatalf("plan -out: %v\n%s", err, out)
	}
	good, _ := os.ReadFile(file)
	before, logs := fl.Hosts["j1"].Snapshot(), len(fl.Hosts["j1"].Log)
	write := func(name, s string) string {
		writeTestFile(t, dir+"/"+name, s)
		return dir + "/" + name
	}
	// Tampered: a diff edited (checksum no longer matches), then the checksum recomputed too
	// (the fingerprint no longer matches), then the fingerprint recomputed too (the checksum
	// again): each refused.
	var p savedPlan
	json.Unmarshal(good, &p)
	p.Hosts[0].Changes[0].Diff += "+evil\n"
	edited, _ := json.Marshal(p)
	p.Checksum = p.checksum()
	rechecked, _ := json.Marshal(p)
	p.Hosts[0].Fingerprint = fingerprintOf(p.Hosts[0].Changes)
	refingered, _ := json.Marshal(p)
	p.Checksum = p.checksum()
	consistent, _ := json.Marshal(p) // self-consistent forgery: refused by the hosts' new plan

	var out string
	var err error
	other := write("other.yaml", "hosts:\n  j1: {address: 192.0.2.1}\n")
	for _, c := range []struct {
		args []string
		want string
		code int
	}{
		{[]string{"apply", write("t1.fdplan", string(edited))}, "was changed after it was saved", exitUsage},
		{[]string{"apply", write("t2.fdplan", string(rechecked))}, "was changed after it was saved", exitUsage},
		{[]string{"apply", write("t3.fdplan", string(refingered))}, "was changed after it was saved", exitUsage},
		{[]string{"apply", write("t4.fdplan", strings.Replace(string(good), `"frontdoor_plan": 1,`, `"frontdoor_plan": 1, "apply_also": "evil.yaml",`, 1))}, "not a saved plan this frontdoor can read", exitUsage},
		{[]string{"apply", write("t5.fdplan", "apps: []\n")}, "is not a saved plan (not JSON with a frontdoor_plan key)", exitUsage},
		{[]string{"apply", file, "-i", other}, "-i " + other + " does not match the inventory saved in " + file, exitUsage},
		{[]string{"apply", file, "--limit", "j2"}, `--limit "j2" does not match the plan saved in ` + file, exitUsage},
		{[]string{"apply", "--yes", pb}, `Required flag "inventory" not set`, exitUsage},
	} {
		out, err = run(t, c.args...)
		if exitCode(err) != c.code || !strings.Contains(fmt.Sprint(err)+out, c.want) {
			t.Errorf("%v: exit %d: %v\n%s", c.args, exitCode(err), err, out)
		}
	}
	if len(fl.Hosts["j1"].Log) != logs {
		t.Errorf("a refused apply contacted the host: %v", fl.Hosts["j1"].Log[logs:])
	}
	// The advice names the command that plans again into the same file, and it parses.
	_, err = run(t, "apply", dir+"/t1.fdplan")
	replan := "frontdoor plan -i " + inv + " " + pb + " -out " + dir + "/t1.fdplan"
	if !strings.HasSuffix(fmt.Sprint(err), replan) {
		t.Errorf("advice: %v", err)
	}
	if got, err := parseCLI(strings.Fields(replan)[1:]); err != nil || got.cmd != "plan" || len(got.args) != 1 {
		t.Errorf("%s: %+v %v", replan, got, err)
	}
	// The forgery consistent with itself passes the file checks, but the host's plan is not it.
	out, err = run(t, "apply", write("t6.fdplan", string(consistent)))
	if exitCode(err) != exitError || !strings.Contains(out, "no longer matches j1") {
		t.Errorf("forged plan: %v\n%s", err, out)
	}
	// The playbook changed since: refused, nothing contacted.
	logs = len(fl.Hosts["j1"].Log)
	writeTestFile(t, pb, "apps:\n  - product: jira\n    url: http://{{host}}.example.org\n")
	out, err = run(t, "apply", file, "-i", inv)
	if exitCode(err) != exitUsage || !strings.Contains(fmt.Sprint(err), "the playbook "+pb+" changed since the plan was saved in "+file) {
		t.Errorf("changed playbook: %v\n%s", err, out)
	}
	if len(fl.Hosts["j1"].Log) != logs || fl.Hosts["j1"].Snapshot() != before {
		t.Error("the host was contacted or changed")
	}
}
