package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/frontdoor-dev/frontdoor/fleet"
	"github.com/frontdoor-dev/frontdoor/internal/labtest"
	"github.com/frontdoor-dev/frontdoor/ledger"
)

// events parses --output json and checks every line against the documented schema.
func events(t *testing.T, stdout string) []fleet.Event {
	t.Helper()
	var out []fleet.Event
	for i, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		if line == "" {
			continue
		}
		if err := fleet.ValidateEvent([]byte(line)); err != nil {
			t.Fatalf("event %d does not follow docs/events.schema.json: %v\n%s", i+1, err, line)
		}
		var e fleet.Event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("event %d: %v\n%s", i+1, err, line)
		}
		out = append(out, e)
	}
	return out
}

// startFrontdoor starts frontdoor in the background and returns a scanner over its stdout, so a
// test can act at a given event.
func startFrontdoor(t *testing.T, args ...string) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, bufio.NewScanner(stdout)
}

// find returns the events of a type (and host, when given).
func find(evs []fleet.Event, typ, host string) []fleet.Event {
	var out []fleet.Event
	for _, e := range evs {
		if e.Type == typ && (host == "" || e.Host == host) {
			out = append(out, e)
		}
	}
	return out
}

// untouched says a host has no trace of frontdoor at all: no lock, no run journal.
func untouched(t *testing.T, l *labtest.Lab, h labtest.Host) bool {
	return strings.TrimSpace(l.Exec(t, h, "ls -A /var/lib/frontdoor 2>/dev/null || true")) == ""
}

func snapshots(t *testing.T, l *labtest.Lab, hosts []labtest.Host) map[string]string {
	m := map[string]string{}
	for _, h := range hosts {
		m[h.Name] = snapshot(t, l, h)
	}
	return m
}

// TestRollingMaxFail: 8 hosts, --serial 2 --max-fail 25%, and the 4th host made to fail (its
// Jira refuses to start proxied). Batch 1 is applied and verified; in batch 2 the failing host is
// rolled back by itself and its batch partner, which had changed and verified, is rolled back
// because the batch went over the threshold; batches 3 and 4 are never touched. The exit status,
// the JSON events and the ledger all say exactly that.
func TestRollingMaxFail(t *testing.T) {
	l := labtest.Open(t)
	hosts := l.Need(t, 8)
	l.Reset(t, hosts...)
	bad := hosts[3]
	refuseProxiedJira(t, l, bad)
	before := snapshots(t, l, hosts)
	led := filepath.Join(t.TempDir(), "ledger.db")

	r := frontdoor(t, nil, "apply", "--yes", "--output", "json", "--ledger", led, "--serial", "2", "--max-fail", "25%",
		"-i", l.Inventory, "--limit", "~jira[1-8]$", playbook(t, "jira-subdomain.yaml")) // jira[1-8] would be an Ansible subscript
	if r.code != 3 {
		t.Fatalf("want exit 3 (stopped at --max-fail):\n%s", r)
	}
	evs := events(t, r.stdout)
	run := evs[0].Run
	if evs[0].Type != fleet.RunStart || len(evs[0].Batches) != 4 {
		t.Fatalf("first event: %+v", evs[0])
	}
	// Each host's end, from the events.
	status := map[string]fleet.Event{}
	for _, e := range find(evs, fleet.HostDone, "") {
		status[e.Host] = e
	}
	for _, h := range hosts[:2] {
		if e := status[h.Name]; e.Status != fleet.StatusChanged || e.Batch != 1 || len(e.Verified) != 1 {
			t.Errorf("%s: %+v, want changed and verified in batch 1", h.Name, e)
		}
		if got := snapshot(t, l, h); got == before[h.Name] {
			t.Errorf("%s was not changed", h.Name)
		}
	}
	if e := status[hosts[2].Name]; e.Status != fleet.StatusChanged {
		t.Errorf("%s: %+v, want changed (then rolled back with its batch)", hosts[2].Name, e)
	}
	if rb := find(evs, fleet.HostRollback, hosts[2].Name); len(rb) != 1 || rb[0].Status != fleet.StatusRolledBack || rb[0].Batch != 2 {
		t.Errorf("%s: batch rollback events %+v", hosts[2].Name, rb)
	}
	if e := status[bad.Name]; e.Status != fleet.StatusFailed || !e.RolledBack || !strings.Contains(e.Error, "refusing to start with a proxied server.xml") {
		t.Errorf("%s: %+v, want failed and rolled back", bad.Name, e)
	}
	for _, h := range hosts[2:4] {
		if got := snapshot(t, l, h); got != before[h.Name] {
			t.Errorf("%s not restored byte-exact:\n%s\n->\n%s", h.Name, before[h.Name], got)
		}
		checkAnswersAsBefore(t, h)
	}
	// The journals on the hosts say so too, so later runs are not refused as "did not finish".
	for _, h := range hosts[2:4] {
		if st := l.Exec(t, h, "grep -o '\"state\": \"[a-z-]*\"' /var/lib/frontdoor/runs/"+run+"/journal.json"); strings.TrimSpace(st) != `"state": "rolled-back"` {
			t.Errorf("%s: journal %s", h.Name, st)
		}
	}
	for _, h := range hosts[4:] {
		if e := status[h.Name]; e.Status != fleet.StatusSkipped {
			t.Errorf("%s: %+v, want not started", h.Name, e)
		}
		if got := snapshot(t, l, h); got != before[h.Name] || !untouched(t, l, h) {
			t.Errorf("%s of a later batch was touched", h.Name)
		}
	}
	if bd := find(evs, fleet.BatchDone, ""); len(bd) != 2 || bd[1].Status != fleet.RunStopped || bd[1].Counts.Failed != 1 || bd[1].Counts.RolledBack != 2 {
		t.Errorf("batch.done events: %+v", bd)
	}
	last := evs[len(evs)-1]
	if last.Type != fleet.RunDone || last.Status != fleet.RunStopped || last.Counts.Changed != 3 || last.Counts.Failed != 1 || last.Counts.Skipped != 4 || last.Counts.RolledBack != 2 {
		t.Errorf("run.done: %+v %+v", last, last.Counts)
	}

	// The ledger tells the same.
	lg, err := ledger.Open(led)
	if err != nil {
		t.Fatal(err)
	}
	defer lg.Close()
	runs, err := lg.Runs(0)
	if err != nil || len(runs) != 1 || runs[0].ID != run || runs[0].Status != fleet.RunStopped {
		t.Fatalf("ledger runs: %+v %v", runs, err)
	}
	lh, err := lg.Hosts(run)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{hosts[0].Name: "changed false", hosts[1].Name: "changed false", hosts[2].Name: "rolled-back true", bad.Name: "failed true"}
	for _, h := range hosts[4:] {
		want[h.Name] = "skipped false"
	}
	for _, h := range lh {
		if got := fmt.Sprintf("%s %v", h.Status, h.RolledBack); got != want[h.Name] {
			t.Errorf("ledger host %s: %s, want %s", h.Name, got, want[h.Name])
		}
		if (h.Name == hosts[0].Name || h.Name == bad.Name) && len(h.Changes) == 0 {
			t.Errorf("ledger host %s has no planned changes", h.Name)
		}
	}
	if len(lh) != 8 {
		t.Errorf("ledger has %d hosts", len(lh))
	}
	// history and show display it; the retry file names the hosts to retry.
	hist := frontdoor(t, nil, "history", "--ledger", led)
	if hist.code != 0 || !strings.Contains(hist.stdout, run) || !strings.Contains(hist.stdout, "stopped") {
		t.Errorf("history:\n%s", hist)
	}
	show := frontdoor(t, nil, "show", "--ledger", led, "--diff", run[:20])
	if show.code != 0 || !strings.Contains(show.stdout, bad.Name+" (batch 2): failed, rolled back") || !strings.Contains(show.stdout, "+    ProxyPass") && !strings.Contains(show.stdout, "proxyName") {
		t.Errorf("show:\n%s", show)
	}
	retry := filepath.Join(filepath.Dir(led), "retry", run+".retry")
	if b, err := os.ReadFile(retry); err != nil || strings.Fields(string(b))[0] != hosts[2].Name || len(strings.Fields(string(b))) != 6 {
		t.Errorf("retry file %s: %q %v", retry, b, err)
	}
}

// TestKilledControllerRollback: the controller is killed with SIGKILL while the second batch is
// being changed. The ledger shows the run unfinished; a new apply refuses the host whose lock is
// stale; frontdoor rollback RUN then restores every touched host from the journals on the hosts.
func TestKilledControllerRollback(t *testing.T) {
	l := labtest.Open(t)
	hosts := l.Need(t, 8)[4:8]
	l.Reset(t, hosts...)
	before := snapshots(t, l, hosts)
	led := filepath.Join(t.TempDir(), "ledger.db")
	limit := hosts[0].Name + "," + hosts[1].Name + "," + hosts[2].Name + "," + hosts[3].Name

	cmd, sc := startFrontdoor(t, "apply", "--yes", "--output", "json", "--ledger", led, "--serial", "1", "-i", l.Inventory, "--limit", limit, playbook(t, "jira-subdomain.yaml"))
	var run string
	killed := false
	for sc.Scan() {
		var e fleet.Event
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			continue
		}
		run = e.Run
		// Second host, between its changes: server.xml written, modules being enabled.
		if e.Type == fleet.HostProgress && e.Host == hosts[1].Name && strings.HasPrefix(e.Step, "apply apache: module proxy_http") {
			cmd.Process.Signal(syscall.SIGKILL)
			killed = true
			break
		}
	}
	cmd.Wait()
	if !killed {
		t.Fatal("the run ended before it could be killed")
	}
	if !untouched(t, l, hosts[2]) || snapshot(t, l, hosts[2]) != before[hosts[2].Name] {
		t.Fatalf("%s was touched before its batch", hosts[2].Name)
	}
	if snapshot(t, l, hosts[1]) == before[hosts[1].Name] {
		t.Fatalf("%s was not half-changed when killed", hosts[1].Name)
	}
	hist := frontdoor(t, nil, "history", "--ledger", led)
	if !strings.Contains(hist.stdout, run) || !strings.Contains(hist.stdout, "unfinished") {
		t.Errorf("history after SIGKILL:\n%s", hist)
	}
	// A new run refuses the half-changed host: its lock is stale, and says what to do.
	again := frontdoor(t, nil, "apply", "--yes", "--ledger", led, "-i", l.Inventory, "--limit", hosts[1].Name, playbook(t, "jira-subdomain.yaml"))
	if again.code != 1 || !strings.Contains(again.stdout, "is locked by run "+run) || !strings.Contains(again.stdout, "stale") || !strings.Contains(again.stdout, "frontdoor rollback "+run) {
		t.Errorf("apply on a host with a stale lock:\n%s", again)
	}

	// plan sees it too, before anyone tries to apply.
	if p := frontdoor(t, nil, "plan", "-i", l.Inventory, "--limit", hosts[1].Name, playbook(t, "jira-subdomain.yaml")); !strings.Contains(p.stdout, "WARNING: locked by another run (run="+run) ||
		!strings.Contains(p.stdout, "WARNING: run "+run+" did not finish here (applying): undo it with frontdoor rollback "+run) {
		t.Errorf("plan on the half-changed host:\n%s", p)
	}
	rb := frontdoor(t, nil, "rollback", "--output", "json", "--ledger", led, "-i", l.Inventory, "--limit", limit, run)
	if rb.code != 0 {
		t.Fatalf("rollback:\n%s", rb)
	}
	evs := events(t, rb.stdout)
	got := map[string]string{}
	for _, e := range find(evs, fleet.HostRollback, "") {
		got[e.Host] = e.Status
	}
	want := map[string]string{hosts[0].Name: fleet.StatusRolledBack, hosts[1].Name: fleet.StatusRolledBack, hosts[2].Name: fleet.StatusNothing, hosts[3].Name: fleet.StatusNothing}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("rollback per host: %v, want %v", got, want)
	}
	for _, h := range hosts {
		if s := snapshot(t, l, h); s != before[h.Name] {
			t.Errorf("%s not restored:\n%s\n->\n%s", h.Name, before[h.Name], s)
		}
		checkAnswersAsBefore(t, h)
		if lock := l.Exec(t, h, "readlink /var/lib/frontdoor/lock || true"); strings.TrimSpace(lock) != "" {
			t.Errorf("%s still locked: %s", h.Name, lock)
		}
	}
	// Undoing it again finds nothing to do; the ledger records the rollback as a run of its own.
	if again := frontdoor(t, nil, "rollback", "--ledger", led, "-i", l.Inventory, "--limit", limit, run); again.code != 0 || strings.Contains(again.stdout, "rolled back, byte-exact") ||
		strings.Count(again.stdout, "nothing to roll back: already rolled back") != 2 {
		t.Errorf("second rollback:\n%s", again)
	}
	if hist := frontdoor(t, nil, "history", "--ledger", led); !strings.Contains(hist.stdout, "undo "+run) {
		t.Errorf("history does not show the rollback:\n%s", hist)
	}
}

// TestRollbackRefusesDrift: a finished run is undone by frontdoor rollback, but not over a file
// someone edited since: that needs --force.
func TestRollbackRefusesDrift(t *testing.T) {
	l := labtest.Open(t)
	h := l.Need(t, 5)[4]
	l.Reset(t, h)
	before := snapshot(t, l, h)
	led := filepath.Join(t.TempDir(), "ledger.db")
	r := frontdoor(t, nil, "apply", "--yes", "--output", "json", "--ledger", led, "-i", l.Inventory, "--limit", h.Name, playbook(t, "jira-subdomain.yaml"))
	if r.code != 0 {
		t.Fatalf("apply:\n%s", r)
	}
	run := events(t, r.stdout)[0].Run
	vhost := "/etc/apache2/sites-available/frontdoor-jira." + h.Name + ".lab.test.conf"
	l.Exec(t, h, "echo '# edited by hand' >> "+vhost)
	rb := frontdoor(t, nil, "rollback", "--ledger", led, "-i", l.Inventory, "--limit", h.Name, run)
	if rb.code != 1 || !strings.Contains(rb.stdout, vhost+" was changed since the run wrote it") || !strings.Contains(rb.stdout, "--force") {
		t.Fatalf("rollback over drift:\n%s", rb)
	}
	if s := l.FileState(t, h, "/opt/atlassian/jira/conf/server.xml"); strings.Contains(before, s) {
		t.Fatal("a refused rollback changed server.xml")
	}
	rb = frontdoor(t, nil, "rollback", "--force", "--ledger", led, "-i", l.Inventory, "--limit", h.Name, run)
	if rb.code != 0 {
		t.Fatalf("rollback --force:\n%s", rb)
	}
	if s := snapshot(t, l, h); s != before {
		t.Errorf("not restored:\n%s\n->\n%s", before, s)
	}
	checkAnswersAsBefore(t, h)
}

// TestConcurrentAppliesOnOneHost: while one apply changes a host, a second one on the same host
// refuses, naming the run that holds the lock, and changes nothing; the first ends verified.
func TestConcurrentAppliesOnOneHost(t *testing.T) {
	l := labtest.Open(t)
	h := l.Need(t, 6)[5]
	l.Reset(t, h)
	led := filepath.Join(t.TempDir(), "ledger.db")
	cmd, sc := startFrontdoor(t, "apply", "--yes", "--output", "json", "--ledger", led, "-i", l.Inventory, "--limit", h.Name, playbook(t, "jira-subdomain.yaml"))
	var first []string
	var second result
	for sc.Scan() {
		first = append(first, sc.Text())
		var e fleet.Event
		json.Unmarshal(sc.Bytes(), &e)
		if e.Type == fleet.HostProgress && e.Step == "stop jira" && second.stdout == "" {
			second = frontdoor(t, nil, "apply", "--yes", "--output", "json", "--ledger", led, "-i", l.Inventory, "--limit", h.Name, playbook(t, "jira-subdomain.yaml"))
			// A live lock is not broken by unlock without --force.
			if u := frontdoor(t, nil, "unlock", "-i", l.Inventory, "--limit", h.Name); u.code != 1 || !strings.Contains(u.stdout, "still running") {
				t.Errorf("unlock of a live lock:\n%s", u)
			}
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("first apply: %v\n%s", err, strings.Join(first, "\n"))
	}
	run1 := events(t, strings.Join(first, "\n"))[0].Run
	evs := events(t, second.stdout)
	done := find(evs, fleet.HostDone, h.Name)
	if second.code != 1 || len(done) != 1 || done[0].Status != fleet.StatusFailed || !strings.Contains(done[0].Error, "is locked by run "+run1) ||
		!strings.Contains(done[0].Error, "nothing was changed") {
		t.Fatalf("second apply:\n%s", second)
	}
	if n := len(find(evs, fleet.HostProgress, h.Name)); n > 2 { // connect and gather only
		t.Errorf("the second apply went past the lock: %d progress events", n)
	}
	if dirs := strings.Fields(l.Exec(t, h, "ls /var/lib/frontdoor/runs")); len(dirs) != 1 || dirs[0] != run1 {
		t.Errorf("runs kept on the host: %v, want only %s", dirs, run1)
	}
	if r := frontdoor(t, nil, "plan", "-i", l.Inventory, "--limit", h.Name, playbook(t, "jira-subdomain.yaml")); r.code != 0 {
		t.Errorf("host not converged after the first apply:\n%s", r)
	}
}

// TestAnsibleINIInventory: an Ansible INI inventory of the kind projects keep (groups, children,
// group vars, a non-root user with sudo, ansible_* settings frontdoor has no use for) drives an
// apply unchanged.
func TestAnsibleINIInventory(t *testing.T) {
	l := labtest.Open(t)
	hosts := l.Need(t, 8)[6:8]
	l.Reset(t, hosts...)
	inv := writeFile(t, "hosts", fmt.Sprintf(`# Atlassian servers
[jira]
%s ansible_host=%s
%s ansible_host=%s

[atlassian:children]
jira

[atlassian:vars]
ansible_user=admin
ansible_become=true
ansible_become_method=sudo
ansible_ssh_private_key_file=%s
ansible_python_interpreter=/usr/bin/python3
`, hosts[0].Name, hosts[0].Address, hosts[1].Name, hosts[1].Address, l.Key))
	r := frontdoor(t, nil, "apply", "--yes", "--known-hosts", l.KnownHosts, "-i", inv, "--limit", "atlassian", playbook(t, "jira-subdomain.yaml"))
	if r.code != 0 {
		t.Fatalf("apply with an Ansible INI inventory:\n%s", r)
	}
	for _, h := range hosts {
		if !strings.Contains(r.stdout, h.Name+": ok, 6 change(s) applied") || !strings.Contains(r.stdout, h.Name+": verified http://jira."+h.Name+".lab.test") {
			t.Errorf("%s not applied and verified:\n%s", h.Name, r)
		}
	}
	if !strings.Contains(r.stdout, "RECAP") {
		t.Errorf("no recap:\n%s", r)
	}
}

// TestNoBatchRollbackAndRetry: with --no-batch-rollback the changed hosts of a failed batch keep
// their change for inspection (the failed host is still rolled back by itself); the retry file
// then drives a second run over exactly the hosts that did not end verified.
func TestNoBatchRollbackAndRetry(t *testing.T) {
	l := labtest.Open(t)
	hosts := l.Need(t, 8)[4:8]
	l.Reset(t, hosts...)
	bad := hosts[1]
	refuseProxiedJira(t, l, bad)
	before := snapshots(t, l, hosts)
	led := filepath.Join(t.TempDir(), "ledger.db")
	limit := hosts[0].Name + "," + hosts[1].Name + "," + hosts[2].Name + "," + hosts[3].Name
	r := frontdoor(t, nil, "apply", "--yes", "--ledger", led, "--serial", "2", "--no-batch-rollback", "-i", l.Inventory, "--limit", limit, playbook(t, "jira-subdomain.yaml"))
	if r.code != 3 || !strings.Contains(r.stdout, "STOPPED") {
		t.Fatalf("want the rollout stopped at batch 1:\n%s", r)
	}
	if snapshot(t, l, hosts[0]) == before[hosts[0].Name] {
		t.Errorf("%s was rolled back despite --no-batch-rollback", hosts[0].Name)
	}
	if snapshot(t, l, bad) != before[bad.Name] {
		t.Errorf("%s (failed) was not rolled back", bad.Name)
	}
	for _, h := range hosts[2:] {
		if !untouched(t, l, h) {
			t.Errorf("%s of batch 2 was touched", h.Name)
		}
	}
	m := regexp.MustCompile(`retry those hosts with --limit @(\S+)`).FindStringSubmatch(r.stderr)
	if m == nil {
		t.Fatalf("no retry file named:\n%s", r)
	}
	if b, _ := os.ReadFile(m[1]); strings.Join(strings.Fields(string(b)), ",") != bad.Name+","+hosts[2].Name+","+hosts[3].Name {
		t.Errorf("retry file: %q", b)
	}
	l.Reset(t, bad) // the cause of the failure fixed
	again := frontdoor(t, nil, "apply", "--yes", "--ledger", led, "-i", l.Inventory, "--limit", "@"+m[1], playbook(t, "jira-subdomain.yaml"))
	if again.code != 0 || strings.Contains(again.stdout, hosts[0].Name+":") {
		t.Fatalf("retry:\n%s", again)
	}
	for _, h := range []labtest.Host{bad, hosts[2], hosts[3]} {
		if !strings.Contains(again.stdout, h.Name+": ok, 6 change(s) applied") {
			t.Errorf("%s not applied by the retry:\n%s", h.Name, again)
		}
	}
}

// TestConnectionLostMidApply: the host's link goes down (ip link set down on its veth), its
// sshd is killed, or the host loses power and boots again on its disk, in the middle of an apply. frontdoor notices (the link: through keepalives, in
// 15 to 30 s, not minutes), reports the host half-changed with the command that finishes the
// undo, and that very command, once the host is reachable again, restores it byte for byte
// (issue 12's link-cut finding, for real).
func TestConnectionLostMidApply(t *testing.T) {
	l := labtest.Open(t)
	h := l.Need(t, 5)[4] // systemd: sshd is started again by systemctl
	veth := fmt.Sprintf("fdlab-v%d", h.Index)
	defer exec.Command("ip", "link", "set", veth, "up").Run()
	for _, c := range []struct{ name, cut, back string }{
		{"link down", "ip link set " + veth + " down", "ip link set " + veth + " up"},
		{"sshd killed", "lab:pkill -x sshd", "lab:systemctl start ssh"},
		// A power cut and a boot on the same disk (testdata/lab/reboot): the journal and the lock
		// survive on the host; the apps and Apache start from whatever the cut left.
		{"host restarted, disk kept", "reboot", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			l.Reset(t, h)
			defer l.Reset(t, h)
			before := snapshot(t, l, h)
			do := func(cmd string) {
				if inHost, ok := strings.CutPrefix(cmd, "lab:"); ok {
					l.Exec(t, h, inHost)
				} else if cmd == "reboot" {
					l.Script(t, "reboot", fmt.Sprint(h.Index))
				} else if cmd == "" {
				} else if out, err := exec.Command("sh", "-c", cmd).CombinedOutput(); err != nil {
					t.Fatalf("%s: %v %s", cmd, err, out)
				}
			}
			// One ledger for the apply and the advised rollback, as on one controller: rollback
			// refuses a run its ledger does not know.
			led := filepath.Join(t.TempDir(), "ledger.db")
			cmd, sc := startFrontdoor(t, "apply", "--yes", "-i", l.Inventory, "--limit", h.Name, "--output", "json", "--ledger", led, playbook(t, "jira-subdomain.yaml"))
			var run, lastErr string
			cut := time.Time{}
			for sc.Scan() {
				var e fleet.Event
				if json.Unmarshal(sc.Bytes(), &e) != nil {
					continue
				}
				run = e.Run
				if cut.IsZero() && e.Type == fleet.HostProgress && strings.HasPrefix(e.Step, "apply apache: module proxy_http") {
					do(c.cut)
					cut = time.Now()
				}
				if e.Type == fleet.HostDone {
					lastErr = e.Error
				}
			}
			cmd.Wait()
			if cut.IsZero() {
				t.Fatal("the apply ended before the connection could be cut")
			}
			noticed := time.Since(cut)
			advice := "frontdoor rollback " + run + " -i INVENTORY --limit " + h.Name
			if cmd.ProcessState.ExitCode() != 1 || !strings.Contains(lastErr, advice) || strings.Contains(lastErr, "fix by hand") {
				t.Fatalf("exit %d, host error: %s", cmd.ProcessState.ExitCode(), lastErr)
			}
			if noticed > 75*time.Second {
				t.Errorf("the lost connection was noticed after %s", noticed)
			}
			do(c.back)
			time.Sleep(time.Second)
			rb := frontdoor(t, nil, "rollback", run, "-i", l.Inventory, "--limit", h.Name, "--ledger", led)
			if rb.code != 0 {
				t.Fatalf("the advised rollback:\n%s", rb)
			}
			if after := snapshot(t, l, h); after != before {
				t.Errorf("not restored byte for byte:\n%s\n->\n%s", before, after)
			}
			checkAnswersAsBefore(t, h)
			t.Logf("%s: noticed after %s", c.name, noticed.Round(time.Second))
		})
	}
}
