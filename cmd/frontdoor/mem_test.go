package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/frontdoor-dev/frontdoor/fleet"
	"github.com/frontdoor-dev/frontdoor/memhost"
	"github.com/frontdoor-dev/frontdoor/playbooks"
	"github.com/frontdoor-dev/frontdoor/session"
	"github.com/frontdoor-dev/frontdoor/target"
)

// The CLI end to end on in-memory hosts (memhost: EMULATED Debian hosts): the same commands a
// user runs, wired to the emulated fleet instead of SSH. The lab's e2e tests run the binary on
// real hosts.
func memCLI(t *testing.T, names ...string) (*memhost.Fleet, string) {
	t.Helper()
	fl := memhost.NewFleet(names...)
	t.Cleanup(fl.Close)
	oldDial, oldHTTP := newDial, newHTTPDial
	newDial = func(*playbooks.Inventory, dialFlags) session.Dial {
		return func(_ context.Context, h *playbooks.Host) (target.Conn, error) { return fl.Conn(h.Name) }
	}
	newHTTPDial = fl.HTTPDial
	t.Cleanup(func() { newDial, newHTTPDial = oldDial, oldHTTP })
	dir := t.TempDir()
	t.Setenv("XDG_STATE_HOME", filepath.Join(dir, "state"))
	inv := "hosts:\n"
	for i, n := range names {
		inv += fmt.Sprintf("  %s: {address: 192.0.2.%d}\n", n, i+1)
	}
	writeTestFile(t, dir+"/inventory.yaml", inv)
	writeTestFile(t, dir+"/pb.yaml", "apps:\n  - product: jira\n    url: http://{{host}}.example.com\n")
	return fl, dir
}

func exitCode(err error) int {
	var ee *exitErr
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ee):
		return ee.code
	}
	return exitError
}

var runIDRe = regexp.MustCompile(`run (\d{8}T\d{6}Z-[0-9a-f]{6})`)

// plan -> apply -> plan -> history -> show -> rollback -> plan, as an admin would.
func TestMemCLIApplyRollback(t *testing.T) {
	fl, dir := memCLI(t, "j1", "j2", "j3")
	inv, pb := dir+"/inventory.yaml", dir+"/pb.yaml"
	before := map[string]string{}
	for n, h := range fl.Hosts {
		before[n] = h.Snapshot()
	}
	out, err := run(t, "plan", pb, "-i", inv)
	if exitCode(err) != exitPending || !strings.Contains(out, `proxyName="j1.example.com"`) || !strings.Contains(out, "would restart: httpd, jira") {
		t.Fatalf("plan: %v\n%s", err, out)
	}
	out, err = run(t, "facts", "-i", inv)
	if err != nil || strings.Count(out, "supported: yes") != 3 {
		t.Fatalf("facts: %v\n%s", err, out)
	}
	out, err = run(t, "apply", "-i", inv, "--yes", "--serial", "1", pb)
	if err != nil || strings.Count(out, "5 change(s) applied") != 3 {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	m := runIDRe.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no run id in:\n%s", out)
	}
	runID := m[1]
	if out, err := run(t, "plan", "-i", inv, pb); err != nil || strings.Count(out, "no changes") != 3 {
		t.Fatalf("plan after apply: %v\n%s", err, out)
	}
	if out, err := run(t, "verify", "-i", inv, pb); err != nil {
		t.Fatalf("verify: %v\n%s", err, out)
	}
	out, err = run(t, "history")
	if err != nil || !strings.Contains(out, runID) {
		t.Fatalf("history: %v\n%s", err, out)
	}
	out, err = run(t, "show", runID, "--diff", "-v")
	if err != nil || !strings.Contains(out, "j2 (batch 2): changed") || !strings.Contains(out, `proxyName="j2.example.com"`) || !strings.Contains(out, "host.done") {
		t.Fatalf("show: %v\n%s", err, out)
	}
	// Options after the run id, as frontdoor's own advice writes them.
	out, err = run(t, "rollback", runID, "-i", inv, "--output", "json")
	if err != nil {
		t.Fatalf("rollback: %v\n%s", err, out)
	}
	rolled := 0
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var e fleet.Event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("not a JSON event: %q", line)
		}
		if e.Type == fleet.HostRollback && e.Status == fleet.StatusRolledBack {
			rolled++
		}
	}
	if rolled != 3 {
		t.Errorf("rolled back %d of 3:\n%s", rolled, out)
	}
	for n, h := range fl.Hosts {
		if h.Snapshot() != before[n] {
			t.Errorf("%s is not back where it was", n)
		}
	}
}

// A failing host in a rolling apply: exit 3 at --max-fail, the retry file names it, the stale
// lock of a killed run is explained with the commands to run, and unlock refuses a live lock.
func TestMemCLIFailures(t *testing.T) {
	fl, dir := memCLI(t, "j1", "j2")
	inv, pb := dir+"/inventory.yaml", dir+"/pb.yaml"
	fl.Hosts["j1"].Fail("run", "a2ensite -q", 1, "ERROR: Site frontdoor-j1.example.com does not exist!")
	out, err := run(t, "apply", "-i", inv, "--yes", "--serial", "1", pb)
	if exitCode(err) != exitStopped || !strings.Contains(out, "j1: FAILED, rolled back to where it was") || !strings.Contains(err.Error(), "retry those hosts with --limit @") {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	// Another run's live lock on j2 (this very process): refused, and unlock refuses to break it.
	fl.Hosts["j2"].Lock = fleet.Me("20261201T000000Z-dddddd", time.Now()).String()
	out, err = run(t, "apply", "-i", inv, "--yes", "--limit", "j2", pb)
	if exitCode(err) != exitError || !strings.Contains(out, "wait for that run to end") {
		t.Fatalf("locked: %v\n%s", err, out)
	}
	out, err = run(t, "unlock", "-i", inv, "--limit", "j2")
	if exitCode(err) != exitError || !strings.Contains(out, "not breaking it (--force breaks") {
		t.Fatalf("unlock: %v\n%s", err, out)
	}
	if out, err = run(t, "unlock", "-i", inv, "--limit", "j2", "--force"); err != nil || fl.Hosts["j2"].Lock != "" {
		t.Fatalf("unlock --force: %v\n%s", err, out)
	}
	// An unfinished run on j2: plan warns, apply refuses, both naming the command to undo it.
	old := "20261201T000000Z-eeeeee"
	fl.Hosts["j2"].Put(fleet.RunDir(old, target.POSIX)+"/journal.json", `{"state": "applying"}`, 0o600)
	out, _ = run(t, "plan", "-i", inv, "--limit", "j2", pb)
	if !strings.Contains(out, "WARNING: run "+old+" did not finish here (applying): undo it with frontdoor rollback "+old+" -i INVENTORY --limit j2 before applying") {
		t.Fatalf("plan warning:\n%s", out)
	}
	out, _ = run(t, "apply", "-i", inv, "--yes", "--limit", "j2", pb)
	if !strings.Contains(out, "undo it first with: frontdoor rollback "+old+" -i INVENTORY --limit j2") {
		t.Fatalf("apply refusal:\n%s", out)
	}
	// Unreachable hosts fail plan and facts, by name.
	fl.Down["j1"] = true
	if out, err = run(t, "facts", "-i", inv); exitCode(err) != exitError || !strings.Contains(out, "j1: ERROR: j1: dial tcp: connect: connection refused") {
		t.Fatalf("facts: %v\n%s", err, out)
	}
	// Several hosts failing at once are counted from concurrent goroutines (go test -race).
	fl.Down["j2"] = true
	if out, err = run(t, "facts", "-i", inv); exitCode(err) != exitError || !strings.Contains(out, "j2: ERROR:") || !strings.Contains(out, "j1: ERROR:") {
		t.Fatalf("facts, two down: %v\n%s", err, out)
	}
}

// Refusals that name what to do, before any host is changed.
func TestMemCLIRefusals(t *testing.T) {
	fl, dir := memCLI(t, "j1")
	inv, pb := dir+"/inventory.yaml", dir+"/pb.yaml"
	before := fl.Hosts["j1"].Snapshot()
	for _, tc := range []struct {
		args []string
		want string
		code int
	}{
		{[]string{"apply", "-i", inv, pb}, "stdin is not a terminal to confirm on; pass --yes", exitError},
		{[]string{"apply", "-i", inv, "--yes", "--output", "xml", pb}, `--output "xml": write text, json, or junit FILE`, exitUsage},
		{[]string{"rollback", "-i", inv, "--output", "xml", "20261127T091500Z-3f9a2c"}, `--output "xml": write text or json`, exitUsage},
		{[]string{"apply", "-i", inv, "--yes", "--serial", "0", pb}, "serial", exitUsage},
		{[]string{"apply", "-i", inv, "--yes", "--max-fail", "x", pb}, "--max-fail", exitUsage},
		{[]string{"rollback", "-i", inv, "not-a-run"}, "give the run id to undo", exitUsage},
		{[]string{"show", "20990101T000000Z-000000"}, "20990101T000000Z-000000", exitError},
		{[]string{"show"}, "give a run id", exitUsage},
		{[]string{"plan", "-i", inv, "--forks", "0", pb}, "--forks 0: give how many hosts to work on at once, 1 or more", exitUsage},
		{[]string{"plan", "-i", inv, "--forks", "-1", pb}, "--forks -1: give how many hosts to work on at once, 1 or more", exitUsage},
		{[]string{"apply", pb, "-i", inv, "--yes", "--forks=-1"}, "--forks -1:", exitUsage},
		{[]string{"facts", "-i", inv, "--forks", "0"}, "--forks 0:", exitUsage},
		{[]string{"rollback", "20261127T091500Z-3f9a2c", "-i", inv, "--forks", "0", "--run-from-elsewhere"}, "--forks 0:", exitUsage},
		{[]string{"plan", "-i", inv, "--forks", "many", pb}, `invalid value "many" for flag -forks`, exitUsage},
	} {
		out, err := run(t, tc.args...)
		if exitCode(err) != tc.code || !strings.Contains(fmt.Sprint(err)+out, tc.want) {
			t.Errorf("%v: exit %d, want %d: %v\n%s", tc.args, exitCode(err), tc.code, err, out)
		}
	}
	if out, err := run(t, "history"); err != nil || !strings.Contains(out, "no runs recorded yet") {
		t.Errorf("history: %v %s", err, out)
	}
	if fl.Hosts["j1"].Snapshot() != before || len(fl.Hosts["j1"].Log) != 0 {
		t.Errorf("a refused command reached the host: %v", fl.Hosts["j1"].Log)
	}
}

// An inventory host name that {{host}} would put into Apache's configuration and a command is
// refused at load, naming the host, before any host is contacted.
func TestMemCLIHostileHostName(t *testing.T) {
	fl, dir := memCLI(t, "j1")
	inv := dir + "/hostile.ini"
	writeTestFile(t, inv, "[jira]\nj1 ansible_host=192.0.2.1\nj$(id>pwned) ansible_host=192.0.2.2\n")
	out, err := run(t, "apply", "-i", inv, "--yes", dir+"/pb.yaml")
	if exitCode(err) != exitUsage || !strings.Contains(fmt.Sprint(err), `inventory host j$(id>pwned): app jira, url http://{{host}}.example.com: proxyName "j$(id>pwned).example.com" must be a bare host name`) {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(fl.Hosts["j1"].Log) != 0 {
		t.Errorf("a host was contacted: %v", fl.Hosts["j1"].Log)
	}
}

// A credentials file that does not parse is refused without quoting it: it holds a password.
func TestCredentialsFileNotQuoted(t *testing.T) {
	_, dir := memCLI(t, "j1")
	cred := dir + "/cred.yaml"
	writeTestFile(t, cred, "user: admin\npassword: hunter2-secret\n  oops: [\n")
	out, err := run(t, "verify", "-i", dir+"/inventory.yaml", "--set-base-url", "--credentials-file", cred, dir+"/pb.yaml")
	if err == nil || strings.Contains(fmt.Sprint(err)+out, "hunter2") || !strings.Contains(err.Error(), "content is not shown") {
		t.Fatalf("%v\n%s", err, out)
	}
}

// Text a host controls reaches the terminal without its control sequences: an os-release name
// that would retitle the window, a command's stderr that would clear the screen.
func TestMemCLIHostTextSanitized(t *testing.T) {
	fl, dir := memCLI(t, "j1")
	h := fl.Hosts["j1"]
	h.OS = strings.Replace(memhost.Debian12, `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"`, "PRETTY_NAME=\"Debian\x1b]0;pwned\x07 12\"", 1)
	h.Fail("run", "a2ensite -q", 1, "boom\x1b[2J\x1b[H\r    all good")
	app := newApp()
	var out bytes.Buffer
	app.Writer, app.ErrWriter = safeWriter{&out}, safeWriter{&out}
	app.Run([]string{"frontdoor", "apply", "-i", dir + "/inventory.yaml", "--yes", dir + "/pb.yaml"})
	if strings.ContainsAny(out.String(), "\x1b\x07") || strings.Contains(out.String(), "\r ") {
		t.Fatalf("control characters reached the output:\n%q", out.String())
	}
	if !strings.Contains(out.String(), "Debian?]0;pwned? 12") || !strings.Contains(out.String(), "boom?[2J?[H?    all good") {
		t.Fatalf("text lost:\n%s", out.String())
	}
}

// A host whose rollback cannot complete (its Jira will not start even with its old
// configuration) is reported half-changed with the command that finishes the undo, not "fix by
// hand"; once the cause is gone, that very command restores it (issue 12's link-cut finding).
func TestMemCLIUnfinishedRollbackAdvice(t *testing.T) {
	fl, dir := memCLI(t, "j1")
	inv, pb := dir+"/inventory.yaml", dir+"/pb.yaml"
	h := fl.Hosts["j1"]
	before := h.Snapshot()
	h.Services["jira"].NoStart = true
	out, err := run(t, "apply", "-i", inv, "--yes", pb)
	m := runIDRe.FindStringSubmatch(out)
	if m == nil || exitCode(err) != exitError {
		t.Fatalf("%v\n%s", err, out)
	}
	advice := "frontdoor rollback " + m[1] + " -i INVENTORY --limit j1"
	if !strings.Contains(out, "finish the undo with: "+advice) || !strings.Contains(err.Error(), "first finish the undo with: "+advice) || strings.Contains(out+err.Error(), "fix by hand") {
		t.Fatalf("advice:\n%s\n%v", out, err)
	}
	h.Services["jira"].NoStart = false
	if out, err := run(t, "rollback", m[1], "-i", inv, "--limit", "j1"); err != nil {
		t.Fatalf("the advised rollback: %v\n%s", err, out)
	}
	if h.Snapshot() != before {
		t.Errorf("not restored:\n%s", h.Snapshot())
	}
}

// The live view draws host names and step text itself: they are sanitized too; and main's app
// prints through safeWriters.
func TestSanitize(t *testing.T) {
	app := newMainApp()
	if _, ok := app.Writer.(safeWriter); !ok {
		t.Error("main's stdout is not sanitized")
	}
	if _, ok := app.ErrWriter.(safeWriter); !ok {
		t.Error("main's stderr is not sanitized")
	}
	if got := sanitize("apply Bitbucket \x1b]0;x\x07 9\r\n"); got != "apply Bitbucket ?]0;x? 9\r\n" {
		t.Errorf("%q", got)
	}
}

// frontdoor config edit: the same editor as apply, on a file at hand; idempotent; refusals
// name the line; the exact bytes on stdout, even through main's sanitizing writer.
func TestConfigEdit(t *testing.T) {
	dir := t.TempDir()
	sx := dir + "/server.xml"
	writeTestFile(t, sx, memhost.JiraServerXML)
	app := newMainApp()
	var out, errOut bytes.Buffer
	app.Writer, app.ErrWriter = safeWriter{&out}, &errOut
	if err := app.Run(interspersed(app, []string{"frontdoor", "config", "edit", sx, "--product", "jira", "--url", "http://example.com/jira"})); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `proxyName="example.com"`) || !strings.Contains(out.String(), `path="/jira"`) || !strings.Contains(errOut.String(), "edited") {
		t.Fatalf("stdout:\n%.300s\nstderr: %s", out.String(), errOut.String())
	}
	edited := dir + "/edited.xml"
	if _, err := run(t, "config", "edit", "--product", "jira", "--url", "http://example.com/jira", "-o", edited, sx); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(edited); string(b) != out.String() {
		t.Error("-o and stdout differ")
	}
	msg, err := run(t, "config", "edit", "--product", "jira", "--url", "http://example.com/jira", edited)
	if err != nil || !strings.Contains(msg, "already right, unchanged") {
		t.Errorf("second edit: %v %s", err, msg)
	}
	// Bitbucket 5+: bitbucket.properties, with its CRLF and form feed kept.
	bp := dir + "/bitbucket.properties"
	writeTestFile(t, bp, "jdbc.user=bb\r\nplugin.x=a\fb\r\n")
	msg, err = run(t, "config", "edit", "--product", "bitbucket", "--url", "http://example.com/bitbucket", bp)
	if err != nil || !strings.Contains(msg, "plugin.x=a\fb\r\n") || !strings.Contains(msg, "server.proxy-port=80\r\n") {
		t.Errorf("bitbucket.properties: %v %q", err, msg)
	}
	// A placeholder is refused with its line; a bad URL with the flag's value.
	writeTestFile(t, sx, strings.Replace(memhost.JiraServerXML, `<Context path=""`, `<Context path="${ctx}"`, 1))
	if _, err := run(t, "config", "edit", "--product", "jira", "--url", "http://example.com/jira", sx); err == nil || !strings.Contains(err.Error(), "is a placeholder") || !strings.Contains(err.Error(), "line ") {
		t.Errorf("placeholder: %v", err)
	}
	if _, err := run(t, "config", "edit", "--product", "jira", "--url", "ftp://x", sx); err == nil || !strings.Contains(err.Error(), "ftp") {
		t.Errorf("bad url: %v", err)
	}
}

// A well-formed but mistyped run id is refused before any host is contacted and before the
// ledger records anything (it used to visit every host, find no journal, and say OK); a run made
// from another controller is undone with --run-from-elsewhere, from the journals on its hosts.
func TestMemCLIRollbackUnknownRun(t *testing.T) {
	fl, dir := memCLI(t, "j1", "j2")
	inv, pb := dir+"/inventory.yaml", dir+"/pb.yaml"
	before := fl.Hosts["j1"].Snapshot()
	out, err := run(t, "apply", "-i", inv, "--yes", pb)
	m := runIDRe.FindStringSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	typo := m[1][:len(m[1])-1] + map[bool]string{true: "1", false: "0"}[m[1][len(m[1])-1] == '0']
	hist, _ := run(t, "history")
	logs := map[string]int{}
	for n, h := range fl.Hosts {
		logs[n] = len(h.Log)
	}
	ledgerFile := filepath.Join(dir, "state", "frontdoor", "ledger.db")
	out, err = run(t, "rollback", typo, "-i", inv)
	want := "no run " + typo + " in the ledger " + ledgerFile + "; frontdoor history lists the runs"
	if exitCode(err) != exitUsage || !strings.Contains(fmt.Sprint(err), want) || !strings.Contains(fmt.Sprint(err), "--run-from-elsewhere") {
		t.Fatalf("mistyped run: exit %d %v\n%s", exitCode(err), err, out)
	}
	for n, h := range fl.Hosts {
		if len(h.Log) != logs[n] {
			t.Errorf("%s was contacted: %v", n, h.Log[logs[n]:])
		}
	}
	if again, _ := run(t, "history"); again != hist {
		t.Errorf("the refused rollback was recorded:\n%s\n--- before:\n%s", again, hist)
	}
	// Another controller's ledger does not know the run: refused, then undone with the flag.
	other := filepath.Join(dir, "other.db")
	if _, err := run(t, "rollback", m[1], "-i", inv, "--ledger", other); exitCode(err) != exitUsage || !strings.Contains(err.Error(), "in the ledger "+other) {
		t.Fatalf("other ledger: %v", err)
	}
	out, err = run(t, "rollback", m[1], "-i", inv, "--ledger", other, "--run-from-elsewhere")
	if err != nil || strings.Count(out, "rolled back, byte-exact") != 2 {
		t.Fatalf("--run-from-elsewhere: %v\n%s", err, out)
	}
	if fl.Hosts["j1"].Snapshot() != before {
		t.Error("j1 not restored")
	}
	// A typo with the flag finds nothing on the hosts, as before: that is what the flag accepts.
	if out, err = run(t, "rollback", typo, "-i", inv, "--run-from-elsewhere"); err != nil || !strings.Contains(out, "nothing to roll back") {
		t.Errorf("typo with --run-from-elsewhere: %v\n%s", err, out)
	}
}

// A playbook or inventory value of the wrong kind is refused in the user's words, with
// file:line:column, what to write and an example, as a usage error; no host is contacted.
func TestMemCLIInputInUsersWords(t *testing.T) {
	fl, dir := memCLI(t, "j1")
	inv, pb := dir+"/inventory.yaml", dir+"/bad.yaml"
	for _, c := range []struct{ file, yaml, want string }{
		{pb, "apps:\n  - product: jira\n    url: http://j.example.com\n    port: \"eighty\"\n", `bad.yaml:4:11: port: "eighty" is text, not a number: write a whole number from 1 to 65535, e.g. port: 8080`},
		{pb, "apps:\n  - product: confluence\n    url: http://c.example.com\n    synchrony: yes\n", "bad.yaml:4:16: synchrony: yes means true in YAML 1.1 only; frontdoor reads YAML 1.2, where it is the text \"yes\": write synchrony: true"},
		{pb, "apps:\n  - product: jira\n    url: http://j.example.com\n    port: 8080.5\n", "bad.yaml:4:11: port: 8080.5 is not a whole number"},
		{pb, "apps:\n  - product: jira\n    url: http://j.example.com\n    port: 0\n", "bad.yaml:4:11: port 0 is out of range 1..65535"},
		{pb, "apps:\n  - prodcut: jira\n", `bad.yaml:2:5: unknown field "prodcut"; did you mean product?`},
		// frontdoor's inventory is read by the same code.
		{dir + "/inv2.yaml", "hosts:\n  j1:\n    address: 192.0.2.1\n    port: 70000\n", "inv2.yaml:4:11: port 70000 is out of range 1..65535: write a whole number from 1 to 65535, e.g. port: 8080"},
		{dir + "/inv2.yaml", "hosts:\n  j1:\n    adress: 192.0.2.1\n", `inv2.yaml:3:5: unknown field "adress"; did you mean address?`},
	} {
		writeTestFile(t, c.file, c.yaml)
		i, p := inv, pb
		if c.file != pb {
			i, p = c.file, dir+"/pb.yaml"
		}
		out, err := run(t, "plan", p, "-i", i)
		if exitCode(err) != exitUsage || !strings.Contains(fmt.Sprint(err), c.want) || strings.Contains(fmt.Sprint(err), "Go struct") {
			t.Errorf("%q: exit %d: %v\n%s", c.yaml, exitCode(err), err, out)
		}
	}
	if len(fl.Hosts["j1"].Log) != 0 {
		t.Errorf("a host was contacted: %v", fl.Hosts["j1"].Log)
	}
}
