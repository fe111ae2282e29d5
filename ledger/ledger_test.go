package ledger

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/frontdoor-dev/frontdoor/fleet"
	"github.com/frontdoor-dev/frontdoor/internal/pgtest"
)

// The tests marked "both backends" run on SQLite and on a real PostgreSQL, one server for the
// whole test binary (skipped without PostgreSQL unless FRONTDOOR_REQUIRE_POSTGRES=1).
func TestMain(m *testing.M) {
	// The tests mostly wait (for a stale heartbeat, for the server), not compute: run them all
	// at once rather than GOMAXPROCS at a time, unless -test.parallel says otherwise.
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		flag.Set("test.parallel", "16")
	}
	os.Exit(pgtest.Main(m))
}

var backends = []struct {
	name string
	new  func(t *testing.T) string // a new, empty ledger's location
}{
	{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "ledger.db") }},
	{"postgres", func(t *testing.T) string { return pgtest.DB(t) }},
}

// eachBackend runs test on every backend, in parallel (with the other tests that use it too);
// newLedger gives a new ledger's location.
func eachBackend(t *testing.T, test func(t *testing.T, newLedger func() string)) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			test(t, func() string { return b.new(t) })
		})
	}
}

func open(t *testing.T, location string) *Ledger {
	t.Helper()
	l, err := Open(location)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// A run's events fill runs, hosts and changes; a run without run.done stays "running"; a host
// never reached stays "pending"; ids are found by an unambiguous prefix. Both backends.
func TestHostsAndFind(t *testing.T) { eachBackend(t, testHostsAndFind) }

func testHostsAndFind(t *testing.T, newLedger func() string) {
	l := open(t, newLedger())
	t0 := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	run := fleet.NewRunID(t0)
	em := fleet.NewEmitter(run, l.Record)
	em.Emit(fleet.Event{Type: fleet.RunStart, Time: t0, Command: "apply", Controller: "root@ctl", Batches: [][]string{{"a", "b"}, {"c"}}})
	em.Emit(fleet.Event{Type: fleet.HostPlan, Host: "a", Batch: 1, Address: "x", Platform: "y", Changes: []fleet.Change{{Step: "s", Action: "update", Summary: "edit /x", Diff: "-1\n+2\n"}, {Step: "t", Action: "noop", Summary: "ok"}}})
	em.Emit(fleet.Event{Type: fleet.HostDone, Host: "a", Batch: 1, Status: fleet.StatusChanged, Changed: 1, DurationMS: 1500})
	em.Emit(fleet.Event{Type: fleet.HostDone, Host: "b", Batch: 1, Status: fleet.StatusFailed, RolledBack: true, Error: "boom"})
	em.Emit(fleet.Event{Type: fleet.HostRollback, Host: "a", Batch: 1, Status: fleet.StatusRolledBack, DurationMS: 500})
	em.Emit(fleet.Event{Type: fleet.RunDone, Status: fleet.RunStopped, Counts: &fleet.Counts{Hosts: 3, Changed: 1, Failed: 1, RolledBack: 2, Skipped: 1}})
	unfinished := fleet.NewRunID(t0.Add(time.Hour))
	fleet.NewEmitter(unfinished, l.Record).Emit(fleet.Event{Type: fleet.RunStart, Time: t0.Add(time.Hour), Command: "apply", Controller: "root@ctl", Batches: [][]string{{"a"}}})

	runs, err := l.Runs(0)
	if err != nil || len(runs) != 2 || runs[0].ID != unfinished || runs[0].Status != "running" || runs[1].Status != fleet.RunStopped || runs[1].Counts.RolledBack != 2 ||
		runs[1].Shards != 0 || !runs[1].Ended.After(runs[1].Started) {
		t.Fatalf("runs: %+v %v", runs, err)
	}
	hosts, err := l.Hosts(run)
	if err != nil || len(hosts) != 3 {
		t.Fatalf("hosts: %+v %v", hosts, err)
	}
	a, b, c := hosts[0], hosts[1], hosts[2]
	if a.Name != "a" || a.Status != fleet.StatusRolledBack || !a.RolledBack || a.Changed != 1 || a.Duration != 2*time.Second || len(a.Changes) != 2 || a.Changes[0].Diff != "-1\n+2\n" {
		t.Errorf("a: %+v", a)
	}
	if b.Status != fleet.StatusFailed || !b.RolledBack || b.Error != "boom" {
		t.Errorf("b: %+v", b)
	}
	if c.Name != "c" || c.Batch != 2 || c.Status != "pending" {
		t.Errorf("c (never reached): %+v", c)
	}
	if r, err := l.Find(run[:18]); err != nil || r.ID != run {
		t.Errorf("find by prefix: %v %v", r, err)
	}
	if _, err := l.Find("2026"); err == nil || !strings.Contains(err.Error(), "matches 2 runs") {
		t.Errorf("ambiguous prefix: %v", err)
	}
	if evs, err := l.Events(run); err != nil || len(evs) != 6 || evs[5].Type != fleet.RunDone {
		t.Errorf("events: %d %v", len(evs), err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

// The ledger (diffs of configuration files) is readable by its owner only, however its
// directory is set up; an explicit path in a missing directory is refused, not created.
func TestLedgerIsPrivate(t *testing.T) {
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	p := filepath.Join(dir, "ledger.db")
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.db.Exec(`INSERT INTO runs(id, command, started, status) VALUES('r', 'apply', 'x', 'running')`); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{p, p + "-wal", p + "-shm"} {
		st, err := os.Stat(f)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v", f, st, err)
		}
	}
	l.Close()
	missing := filepath.Join(dir, "nope", "deeper", "x.db")
	if _, err := Open(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing dir: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "nope")); err == nil {
		t.Error("directories created for an explicit ledger path")
	}
}

// A ledger written by the first version (runs without the columns added since) is opened, keeps
// its runs (read as "not recorded"), and records starts and ends from then on; one whose shards
// are the first version's (no options, no run_stops) takes JoinShard's options and StopRun.
// Both backends.
func TestOlderLedgerUpgraded(t *testing.T) { eachBackend(t, testOlderLedgerUpgraded) }

func testOlderLedgerUpgraded(t *testing.T, newLedger func() string) {
	p := newLedger()
	old := `CREATE TABLE runs(id TEXT PRIMARY KEY, command TEXT, playbook TEXT, inventory TEXT, controller TEXT,
  undoes TEXT, started TEXT, ended TEXT, status TEXT, hosts INT, ok INT, changed INT, failed INT, rolled_back INT, skipped INT);
INSERT INTO runs(id, command, started, status) VALUES('20261127T090000Z-aaaaaa', 'apply', '2026-11-27T09:00:00Z', 'ok');`
	l, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	// Make it the old shape: drop the tables and create the first version's.
	oldShards := `DROP TABLE shards; DROP TABLE run_stops;
CREATE TABLE shards(run TEXT, shard INT, n INT, started TEXT, ended TEXT, status TEXT,
  hosts INT, ok INT, changed INT, failed INT, rolled_back INT, skipped INT,
  playbook_sha256 TEXT, flags TEXT, exit_code INT, message TEXT, retry_file TEXT, joined_ms BIGINT, heartbeat_ms BIGINT,
  PRIMARY KEY(run, shard));`
	if _, err := l.db.Exec(`DROP TABLE runs; ` + old + oldShards); err != nil {
		t.Fatal(err)
	}
	l.Close()
	if l, err = Open(p); err != nil {
		t.Fatal(err)
	}
	runs, err := l.Runs(0)
	if err != nil || len(runs) != 1 || runs[0].ExitCode != nil || runs[0].PlaybookSHA256 != "" || runs[0].Flags != nil {
		t.Fatalf("old run read as %+v %v", runs, err)
	}
	t0 := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	run := fleet.NewRunID(t0)
	fleet.NewEmitter(run, l.Record).Emit(fleet.Event{Type: fleet.RunStart, Time: t0, Command: "apply", Controller: "root@ctl", Batches: [][]string{{"a"}}})
	l.RecordStart(run, Start{PlaybookSHA256: "abc", Flags: []string{"--serial 2", "--yes"}})
	l.RecordEnd(run, End{ExitCode: 3, Message: "rollout stopped", RetryFile: "/x/retry"})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if l, err = Open(p); err != nil { // opening an upgraded ledger again adds nothing
		t.Fatal(err)
	}
	defer l.Close()
	r, err := l.Find(run)
	if err != nil || r.PlaybookSHA256 != "abc" || strings.Join(r.Flags, "|") != "--serial 2|--yes" || r.ExitCode == nil || *r.ExitCode != 3 ||
		r.Message != "rollout stopped" || r.RetryFile != "/x/retry" {
		t.Fatalf("recorded start and end read back as %+v %v", r, err)
	}
	sharded := fleet.NewRunID(t0.Add(time.Hour))
	if err := l.JoinShard(sharded, 0, 2, "o"); err != nil {
		t.Fatal(err)
	}
	if err := l.JoinShard(sharded, 1, 2, "p"); err == nil || !strings.Contains(err.Error(), "options differ") {
		t.Errorf("other options: %v", err)
	}
	if err := l.StopRun(sharded, 0, "interrupted"); err != nil {
		t.Fatal(err)
	}
}

// TestRecordQueues: Record returns before the event is stored, and everything recorded is there
// for the next read and after Close, in order, however many events came while one transaction
// was written; an event that cannot be stored loses no other.
func TestRecordQueues(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(filepath.Join(dir, "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	run := fleet.NewRunID(t0)
	em := fleet.NewEmitter(run, l.Record)
	var hosts []string
	for i := 0; i < 500; i++ {
		hosts = append(hosts, fmt.Sprintf("h%03d", i))
	}
	em.Emit(fleet.Event{Type: fleet.RunStart, Time: t0, Command: "apply", Batches: [][]string{hosts}})
	for _, h := range hosts {
		em.Emit(fleet.Event{Type: fleet.HostDone, Time: t0, Host: h, Batch: 1, Status: fleet.StatusOK})
	}
	// A second event with seq 2 of this run: the key (run, shard, seq) refuses it, alone.
	l.Record(fleet.Event{V: 1, Seq: 2, Run: run, Type: fleet.HostDone, Host: "dup", Time: t0, Status: fleet.StatusOK})
	em.Emit(fleet.Event{Type: fleet.RunDone, Time: t0, Status: fleet.RunOK, Counts: &fleet.Counts{Hosts: 500, OK: 500}})
	got, err := l.Hosts(run)
	if err != nil || len(got) != 500 {
		t.Fatalf("hosts read after Record: %d %v", len(got), err)
	}
	if err := l.Close(); err == nil || !strings.Contains(err.Error(), "ledger.db") {
		t.Errorf("Close: %v; want the refused event's error, naming the ledger", err)
	}
	l, err = Open(filepath.Join(dir, "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	evs, err := l.Events(run)
	if err != nil || len(evs) != 502 {
		t.Fatalf("events: %d %v; want 502", len(evs), err)
	}
	for i, e := range evs {
		if e.Seq != i+1 {
			t.Fatalf("event %d has seq %d", i, e.Seq)
		}
	}
	r, err := l.Find(run)
	if err != nil || r.Status != fleet.RunOK || r.Counts.OK != 500 {
		t.Errorf("run: %+v %v", r, err)
	}
}
