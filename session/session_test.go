package session

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/frontdoor-dev/frontdoor/distro"
	"github.com/frontdoor-dev/frontdoor/memhost"
	"github.com/frontdoor-dev/frontdoor/playbooks"
	"github.com/frontdoor-dev/frontdoor/steps"
	"github.com/frontdoor-dev/frontdoor/target"
)

// A failed verification on a host with SELinux on explains the guide's AH00957 symptom; with
// SELinux disabled or absent the error is left as it is.
func TestExplainSELinux(t *testing.T) {
	base := errors.New("jira: http://jira.example.com/ -> 503")
	r := &HostRun{Host: &playbooks.Host{Name: "rocky1"}, Facts: &distro.Facts{SELinux: distro.SELinux{Mode: "Enforcing"}}}
	err := r.explainSELinux(base)
	if !errors.Is(err, base) || !strings.Contains(err.Error(), "(13)Permission denied: AH00957") || !strings.Contains(err.Error(), "setsebool -P httpd_can_network_connect 1") {
		t.Errorf("enforcing: %v", err)
	}
	for _, mode := range []string{"Disabled", ""} {
		r.Facts.SELinux.Mode = mode
		if err := r.explainSELinux(base); err != base {
			t.Errorf("SELinux %q: %v", mode, err)
		}
	}
}

// The plan confirmed must be the plan applied: the fingerprint changes with any pending change's
// diff or summary, and ignores steps with nothing to do.
func TestFingerprint(t *testing.T) {
	mk := func(diff string, noop string) *steps.Plan {
		return &steps.Plan{
			Steps:   []steps.Step{&steps.CommandStep{Label: "a"}, &steps.CommandStep{Label: "b"}},
			Changes: []steps.Change{{Action: steps.Update, Summary: "edit /x", Diff: diff}, {Action: steps.NoOp, Summary: noop}},
		}
	}
	a := Fingerprint(mk("-1\n+2\n", "right"))
	if a != Fingerprint(mk("-1\n+2\n", "already right")) {
		t.Error("a no-op's reason changed the fingerprint")
	}
	if a == Fingerprint(mk("-1\n+3\n", "right")) {
		t.Error("a different diff kept the fingerprint")
	}
	if Fingerprint(nil) != "" {
		t.Error("nil plan")
	}
}

// One host's session on an in-memory host (memhost, an EMULATED Debian host): plan, apply,
// verify through its Apache, re-plan converged, release; a failed apply rolls the host back.
func memSession(t *testing.T) (*memhost.Fleet, *playbooks.Playbook, *playbooks.Host, Options) {
	t.Helper()
	fl := memhost.NewFleet("s1")
	t.Cleanup(fl.Close)
	pb, err := playbooks.ParsePlaybook("pb.yaml", []byte("apps:\n  - product: jira\n    url: http://example.com/jira\napache:\n  remote_ip: true\n"))
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{
		Dial:     func(_ context.Context, h *playbooks.Host) (target.Conn, error) { return fl.Conn(h.Name) },
		HTTPDial: fl.HTTPDial,
		Lock:     "run=20261202T000000Z-aaaaaa controller=t@x pid=1 started=2026-12-02T00:00:00Z",
	}
	return fl, pb, &playbooks.Host{Name: "s1", Address: "192.0.2.1"}, opts
}

func TestMemSessionApply(t *testing.T) {
	fl, pb, h, opts := memSession(t)
	host := fl.Hosts["s1"]
	var said []string
	opts.Progress = func(_, msg string) { said = append(said, msg) }
	ctx := context.Background()
	r := Prepare(ctx, pb, h, opts)
	if r.Err != nil || !r.Locked() || r.Plan.Pending() == 0 {
		t.Fatalf("prepare: %v locked=%v", r.Err, r.Locked())
	}
	r.Apply(ctx)
	if r.Err != nil || r.Outcome.Changed != r.Plan.Pending() || len(r.Verified) != 1 {
		t.Fatalf("apply: %v %+v", r.Err, r.Outcome)
	}
	if !host.Modules["remoteip"] || !strings.Contains(strings.Join(r.Verified[0].Chain, " "), "http://example.com/jira/ -> 200") {
		t.Errorf("remoteip %v, chain %v", host.Modules["remoteip"], r.Verified[0].Chain)
	}
	if err := r.Release(ctx); err != nil || host.Lock != "" || r.Locked() {
		t.Fatalf("release: %v lock %q", err, host.Lock)
	}
	if !slices.Contains(said, "re-check") || !slices.Contains(said, "verify") {
		t.Errorf("progress: %v", said)
	}
	r.Replan(ctx, opts)
	if r.Err != nil || r.Plan.Pending() != 0 {
		t.Fatalf("replan: %v pending %d", r.Err, r.Plan.Pending())
	}
	r.Release(ctx)
	r.Close()
	// verify alone needs no connection
	v := NewVerifyRun(pb, h, opts)
	if err := v.Verify(ctx); err != nil || v.Verified[0].AppBaseURL != "http://example.com/jira" {
		t.Fatalf("verify: %v %+v", err, v.Verified)
	}
	// With httpd stopped, verification retries (502 is transient) until its wait is over...
	v = NewVerifyRun(pb, h, Options{HTTPDial: fl.HTTPDial, VerifyWait: 1500 * time.Millisecond})
	host.SetRunning("apache2", false)
	start := time.Now()
	if err := v.Verify(ctx); err == nil || time.Since(start) < time.Second {
		t.Fatalf("verified with httpd stopped, or gave up at once: %v after %s", err, time.Since(start))
	}
	// ...and passes when httpd comes back within it.
	v = NewVerifyRun(pb, h, Options{HTTPDial: fl.HTTPDial, VerifyWait: 10 * time.Second})
	go func() {
		time.Sleep(1500 * time.Millisecond)
		host.SetRunning("apache2", true)
	}()
	if err := v.Verify(ctx); err != nil {
		t.Fatalf("httpd back within the wait: %v", err)
	}
}

// configtest failing (mod_remoteip missing after its step "succeeded") stops the apply before
// any restart, and the host is rolled back byte for byte.
func TestMemSessionRollback(t *testing.T) {
	fl, pb, h, opts := memSession(t)
	host := fl.Hosts["s1"]
	before := host.Snapshot()
	host.Fail("run", "apache2ctl configtest", 1, "AH00526: Syntax error on line 12")
	ctx := context.Background()
	r := Prepare(ctx, pb, h, opts)
	r.Apply(ctx)
	if r.Err == nil || !r.Outcome.RolledBack || !strings.Contains(r.Err.Error(), "AH00526") {
		t.Fatalf("apply: %v %+v", r.Err, r.Outcome)
	}
	for _, l := range host.Log {
		if strings.HasPrefix(l, "run systemctl restart apache2") {
			t.Fatal("httpd was restarted with a configuration that failed configtest")
		}
	}
	if host.Snapshot() != before {
		t.Errorf("not rolled back:\nbefore:\n%s\nafter:\n%s", before, host.Snapshot())
	}
	r.Release(ctx)
	// A host that cannot be reached, and one whose platform is refused, fail before any change.
	fl.Down["s1"] = true
	if r := Prepare(ctx, pb, h, opts); r.Err == nil || !strings.Contains(r.Err.Error(), "connection refused") {
		t.Errorf("down: %v", r.Err)
	}
	fl.Down["s1"] = false
	host.OS = "ID=slackware\nVERSION_ID=15.0\n"
	if r := Prepare(ctx, pb, h, opts); r.Err == nil || host.Snapshot() != before || !strings.Contains(r.Err.Error(), "nothing was changed") {
		t.Errorf("unsupported platform: %v", r.Err)
	}
	if _, err := Connect(ctx, h, Options{}); err == nil {
		t.Error("no Dial: connected anyway")
	}
}

// A host whose shell answers like cmd.exe is Windows: the POSIX gather's "is not recognized"
// switches the connection's dialect, and without a Windows target cmd's ver names the version.
func TestGatherDetectsWindows(t *testing.T) {
	c := &cmdExe{}
	f, err := Gather(context.Background(), c, distro.Request{}, nil)
	if err != nil || f.Family != distro.Windows || f.Windows != "Microsoft Windows 10.0.20348.2340" || c.dialect != target.Windows {
		t.Fatalf("%+v %v dialect %v", f, err, c.dialect)
	}
}

// cmdExe answers as Windows OpenSSH's default shell does (captured: fixtures/platform).
type cmdExe struct {
	target.Conn
	dialect target.Dialect
}

func (c *cmdExe) Name() string                { return "w1" }
func (c *cmdExe) SetDialect(d target.Dialect) { c.dialect = d }
func (c *cmdExe) Run(_ context.Context, cmd string, _ []byte) ([]byte, error) {
	if cmd == "cmd /c ver" {
		return []byte("\r\nMicrosoft Windows [Version 10.0.20348.2340]\r\n"), nil
	}
	return nil, &target.CommandError{Host: "w1", Err: errors.New("Process exited with status 1"),
		Stderr: "'export' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n"}
}
