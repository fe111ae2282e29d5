package main

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/frontdoor-dev/frontdoor/internal/junitschema"
	"github.com/frontdoor-dev/frontdoor/ledger"
	"github.com/frontdoor-dev/frontdoor/report"
)

// report and the ledger on emulated hosts (memhost): a rolling apply stopped at --max-fail with
// one host converged, one changed, one failed with hostile error output, one not started; then
// the changed host rolled back. The ledger records the options, the playbook's sha256, the exit
// status and the last words; the page shows them, each host's status, the CLI's advice with the
// command written out, the hostile text escaped; the rollback and the run link each other.
func TestMemCLIReport(t *testing.T) {
	fl, dir := memCLI(t, "j1", "j2", "j3", "j4")
	inv, pb := dir+"/inventory.yaml", dir+"/pb.yaml"
	if _, err := run(t, "apply", "-i", inv, "--yes", "--limit", "j1", pb); err != nil {
		t.Fatal(err)
	}
	fl.Hosts["j3"].Fail("run", "a2ensite -q", 1, "ERROR: <script>alert(1)</script> no site")
	out, err := run(t, "apply", "-i", inv, "--yes", "--serial", "3", "--no-batch-rollback", pb)
	if exitCode(err) != exitStopped {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	id := runIDRe.FindStringSubmatch(out)[1]
	if out, err := run(t, "rollback", id, "-i", inv, "--limit", "j2"); err != nil {
		t.Fatalf("rollback: %v\n%s", err, out)
	}
	file := filepath.Join(dir, "r.html")
	out, err = run(t, "report", id[:20], "-o", file)
	if err != nil || !strings.Contains(out, "report of run "+id+" (stopped): "+file) {
		t.Fatalf("report: %v\n%s", err, out)
	}
	st, err := os.Stat(file)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("the report holds diffs and must be private: %v %v", st, err)
	}
	b, _ := os.ReadFile(file)
	page := string(b)
	if d := os.Getenv("FRONTDOOR_TEST_ARTIFACTS"); d != "" { // to look at it
		os.WriteFile(filepath.Join(d, "memhost-report.html"), b, 0o600)
	}
	retry := filepath.Join(dir, "state", "frontdoor", "retry", id+".retry")
	for _, want := range []string{
		`data-host="j1" data-status="ok"`, `data-host="j2" data-status="changed"`, `data-host="j3" data-status="failed"`, `data-host="j4" data-status="not started"`,
		"--serial 3", "--no-batch-rollback", "exit status 3", "&lt;script&gt;alert(1)&lt;/script&gt;",
		"retry those hosts with --limit @" + retry, // the CLI's sentence, as apply said it
		"frontdoor apply -i " + inv + " --limit @" + retry + " " + pb,
		`href="frontdoor-report-`, "undone by",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the report does not say %q", want)
		}
	}
	if strings.Contains(page, "<script>alert") {
		t.Error("host output reached the page as markup")
	}
	sum := sha256File(t, pb)
	if !strings.Contains(page, sum) {
		t.Errorf("the playbook's sha256 %s is not in the report", sum)
	}
	if out, err := run(t, "report", "20990101"); exitCode(err) != exitError || !strings.Contains(err.Error(), "no run") {
		t.Errorf("an unknown run: %v\n%s", err, out)
	}
}

// serve refuses an address other machines reach unless told, before opening anything.
func TestServeRefusesRemote(t *testing.T) {
	_, err := run(t, "serve", "--listen", "0.0.0.0:0", "--ledger", filepath.Join(t.TempDir(), "l.db"))
	if exitCode(err) != exitError || !strings.Contains(err.Error(), "not a loopback address") || !strings.Contains(err.Error(), "--allow-remote") {
		t.Fatalf("serve on 0.0.0.0: %v", err)
	}
}

func sha256File(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", sha256.Sum256(b))
}

// --output junit FILE on apply and plan (written after the arguments too): the text output as
// usual, and a JUnit file valid against junit-4.xsd with a testcase per host and step, the failed
// host's failure carrying its error.
func TestMemCLIJUnit(t *testing.T) {
	fl, dir := memCLI(t, "j1", "j2")
	inv, pb := dir+"/inventory.yaml", dir+"/pb.yaml"
	planXML := filepath.Join(dir, "plan.xml")
	out, err := run(t, "plan", "-i", inv, pb, "--output", "junit", planXML)
	if exitCode(err) != exitPending || !strings.Contains(out, "== j1") {
		t.Fatalf("plan: %v\n%s", err, out)
	}
	root := checkJUnitFile(t, planXML)
	if len(root.Children) != 2 || len(root.Children[0].Children) != 6 {
		t.Errorf("plan: %d suites, %d cases in the first", len(root.Children), len(root.Children[0].Children))
	}
	fl.Hosts["j2"].Fail("run", "a2ensite -q", 1, "ERROR: Site <x> does not exist!")
	applyXML := filepath.Join(dir, "apply.xml")
	out, err = run(t, "apply", "-i", inv, "--yes", "-o", "junit", applyXML, pb)
	if exitCode(err) != exitError || !strings.Contains(out, "j2: FAILED, rolled back") {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	root = checkJUnitFile(t, applyXML)
	var failure string
	for _, s := range root.Children {
		for _, c := range s.Children {
			for _, x := range c.Children {
				if x.Name == "failure" {
					failure = s.Attrs["name"] + "/" + c.Attrs["name"] + ": " + x.Text
				}
			}
		}
	}
	if !strings.HasPrefix(failure, "j2/apply: apply apache: site") || !strings.Contains(failure, "ERROR: Site <x> does not exist!") {
		t.Errorf("the failure: %q", failure)
	}
	// j1: its 5 steps, jira verified, its result; j2: its 5 steps (skipped: rolled back), its result.
	if root.Attrs["tests"] != "13" || root.Attrs["failures"] != "1" {
		t.Errorf("counts: %v", root.Attrs)
	}
	if _, err := run(t, "apply", "-i", inv, "--yes", pb, "--output", "junit"); err == nil || !strings.Contains(err.Error(), "--output junit needs the FILE") {
		t.Errorf("--output junit without a file: %v", err)
	}
}

func checkJUnitFile(t *testing.T, path string) *junitschema.Node {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	root, err := junitschema.Check(b)
	if err != nil {
		t.Fatalf("%s: %v\n%s", path, err, b)
	}
	return root
}

// What the report advises per host, in the words frontdoor's own output used, with the command
// written out (paths quoted for a shell when they must be).
func TestHostRecovery(t *testing.T) {
	run := "20261127T091500Z-3f9a2c"
	base := ledger.Run{ID: run, Command: "apply", Status: "stopped", Inventory: "/srv/hosts.ini", Playbook: "/srv/my jira.yaml", RetryFile: "/var/retry/" + run + ".retry"}
	for _, tc := range []struct {
		name string
		r    func(ledger.Run) ledger.Run
		h    ledger.Host
		want report.Recovery
	}{
		{"retry", func(r ledger.Run) ledger.Run { return r }, ledger.Host{Name: "j1", Status: "failed", RolledBack: true},
			report.Recovery{Text: "retry those hosts with --limit @/var/retry/" + run + ".retry", Command: "frontdoor apply -i /srv/hosts.ini --limit @/var/retry/" + run + ".retry '/srv/my jira.yaml'"}},
		{"half-changed", func(r ledger.Run) ledger.Run { return r }, ledger.Host{Name: "j1", Status: "failed", Changed: 3},
			report.Recovery{Text: halfChangedAdvice(run, []string{"j1"}), Command: "frontdoor rollback " + run + " -i /srv/hosts.ini --limit j1"}},
		{"unfinished", func(r ledger.Run) ledger.Run { r.Status = "running"; return r }, ledger.Host{Name: "j1", Status: "pending"},
			report.Recovery{Text: unfinishedRunAdvice(run), Command: "frontdoor rollback " + run + " -i /srv/hosts.ini --limit j1"}},
		{"rollback run", func(r ledger.Run) ledger.Run { r.Command, r.Undoes = "rollback", "20261127T090000Z-aaaaaa"; return r }, ledger.Host{Name: "j1", Status: "failed"},
			report.Recovery{Command: "frontdoor rollback 20261127T090000Z-aaaaaa -i /srv/hosts.ini --limit j1"}},
		{"no retry file recorded", func(r ledger.Run) ledger.Run { r.RetryFile = ""; return r }, ledger.Host{Name: "j'1", Status: "skipped"},
			report.Recovery{Command: `frontdoor apply -i /srv/hosts.ini --limit 'j'\''1' '/srv/my jira.yaml'`}},
	} {
		r := tc.r(base)
		if got := hostRecovery(&r, &tc.h); got != tc.want {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.name, got, tc.want)
		}
	}
}
