package ledger

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/frontdoor-dev/frontdoor/fleet"
	"github.com/frontdoor-dev/frontdoor/internal/pgtest"
)

// shardEmitter is shard i of n of run, recording into its own connection to the ledger, as a
// shard's controller would (Record queues, a writer stores).
func shardEmitter(t *testing.T, location, run string, i, n int) (*Ledger, *fleet.Emitter) {
	return newShardEmitter(t, location, run, i, n, false)
}

// shardEmitterInOrder is shardEmitter storing each event before Emit returns: for the tests
// that interleave several ledgers' events and expect that order in the ledger (which shard's
// run.start made the run's row; what one shard sees of the others' at a given point).
func shardEmitterInOrder(t *testing.T, location, run string, i, n int) (*Ledger, *fleet.Emitter) {
	return newShardEmitter(t, location, run, i, n, true)
}

func newShardEmitter(t *testing.T, location, run string, i, n int, inOrder bool) (*Ledger, *fleet.Emitter) {
	l := open(t, location)
	t.Cleanup(func() { l.Close() })
	sink := l.Record
	if inOrder {
		sink = func(e fleet.Event) { l.Record(e); l.sync() }
	}
	em := fleet.NewEmitter(run, sink)
	em.SetShard(fmt.Sprintf("%d/%d", i, n))
	return l, em
}

// Three shards of one run, each with its own connection: the run's row is one, started at the
// earliest start, "running" until the last shard ends, then the worst status, the summed counts
// and the worst shard's exit status and message; the hosts and events are every shard's, the
// events merged by time with each shard's seq order kept. Both backends.
func TestShardedRun(t *testing.T) {
	eachBackend(t, func(t *testing.T, newLedger func() string) {
		loc := newLedger()
		t0 := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
		at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
		run := fleet.NewRunID(t0)
		var ls [3]*Ledger
		var em [3]*fleet.Emitter
		for i := range ls {
			ls[i], em[i] = shardEmitterInOrder(t, loc, run, i, 3)
		}
		start := func(i int, s float64, batches ...[]string) {
			em[i].Emit(fleet.Event{Type: fleet.RunStart, Time: at(s), Command: "apply", Playbook: "/p.yaml", Controller: fmt.Sprintf("root@ctl%d", i), Batches: batches})
		}
		done := func(i int, s float64, host string, batch int, status string) {
			em[i].Emit(fleet.Event{Type: fleet.HostDone, Time: at(s), Host: host, Batch: batch, Status: status, RolledBack: status == fleet.StatusFailed})
		}
		start(1, 0, []string{"a1"})
		start(0, 1, []string{"a0", "b0"})
		start(2, 2, []string{"a2"}, []string{"b2"})
		ls[1].RecordStart(run, Start{PlaybookSHA256: "sum", Flags: []string{"--shard 1/3"}})
		if r, err := ls[0].Find(run); err != nil || strings.Join(r.Flags, " ") != "--shard 1/3" {
			t.Errorf("flags before shard 0 recorded its own: %+v %v", r, err)
		}
		ls[0].RecordStart(run, Start{PlaybookSHA256: "sum", Flags: []string{"--shard 0/3"}})
		ls[2].RecordStart(run, Start{PlaybookSHA256: "sum", Flags: []string{"--shard 2/3"}})
		done(2, 3, "a2", 1, fleet.StatusOK)
		done(1, 4, "a1", 1, fleet.StatusFailed)
		done(0, 5, "a0", 1, fleet.StatusChanged)
		done(0, 6, "b0", 1, fleet.StatusOK)
		em[0].Emit(fleet.Event{Type: fleet.RunDone, Time: at(7), Status: fleet.RunOK, Counts: &fleet.Counts{Hosts: 2, OK: 1, Changed: 1}})
		ls[0].RecordEnd(run, End{ExitCode: 0})
		em[1].Emit(fleet.Event{Type: fleet.RunDone, Time: at(8), Status: fleet.RunFailed, Counts: &fleet.Counts{Hosts: 1, Failed: 1, RolledBack: 1}})
		ls[1].RecordEnd(run, End{ExitCode: 1, Message: "1 host failed", RetryFile: "/r1"})

		r, err := ls[2].Find(run)
		if err != nil || r.Status != "running" || !r.Ended.IsZero() || r.Shards != 3 || r.Counts.Hosts != 3 || r.Counts.Failed != 1 ||
			r.ExitCode == nil || *r.ExitCode != 1 || r.Message != "1 host failed" || !r.Started.Equal(t0) {
			t.Fatalf("two shards of three ended: %+v %v", r, err)
		}

		done(2, 8.5, "b2", 2, fleet.StatusSkipped)
		em[2].Emit(fleet.Event{Type: fleet.RunDone, Time: at(9), Status: fleet.RunStopped, Counts: &fleet.Counts{Hosts: 2, OK: 1, Skipped: 1}})
		ls[2].RecordEnd(run, End{ExitCode: 3, Message: "rollout stopped", RetryFile: "/r2"})
		for _, l := range ls {
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
		}

		l := open(t, loc)
		defer l.Close()
		runs, err := l.Runs(0)
		if err != nil || len(runs) != 1 {
			t.Fatalf("runs: %+v %v", runs, err)
		}
		r = &runs[0]
		want := fleet.Counts{Hosts: 5, OK: 2, Changed: 1, Failed: 1, RolledBack: 1, Skipped: 1}
		if r.Status != fleet.RunStopped || r.Counts != want || !r.Started.Equal(t0) || !r.Ended.Equal(at(9)) || r.Shards != 3 ||
			*r.ExitCode != 3 || r.Message != "rollout stopped" || r.RetryFile != "/r2" || r.PlaybookSHA256 != "sum" ||
			strings.Join(r.Flags, " ") != "--shard 0/3" || r.Controller != "root@ctl1" {
			t.Errorf("the whole run: %+v", r)
		}
		hosts, err := l.Hosts(run)
		var names []string
		for _, h := range hosts {
			names = append(names, fmt.Sprintf("%s:%d:%s", h.Name, h.Batch, h.Status))
		}
		if err != nil || strings.Join(names, " ") != "a0:1:changed a1:1:failed a2:1:ok b0:1:ok b2:2:skipped" {
			t.Errorf("hosts: %v %v", names, err)
		}
		evs, err := l.Events(run)
		var order []string
		for _, e := range evs {
			order = append(order, fmt.Sprintf("%s#%d", e.Shard, e.Seq))
		}
		if err != nil || strings.Join(order, " ") != "1/3#1 0/3#1 2/3#1 2/3#2 1/3#2 0/3#2 0/3#3 0/3#4 1/3#3 2/3#3 2/3#4" {
			t.Errorf("events (shard#seq) in time order: %v %v", order, err)
		}
		shards, err := l.Shards(run)
		if err != nil || len(shards) != 3 {
			t.Fatalf("shards: %+v %v", shards, err)
		}
		if s := shards[1]; s.Index != 1 || s.Of != 3 || s.Status != fleet.RunFailed || s.Counts.Failed != 1 || *s.ExitCode != 1 ||
			s.RetryFile != "/r1" || strings.Join(s.Flags, " ") != "--shard 1/3" || !s.Ended.Equal(at(8)) || s.Heartbeat.IsZero() {
			t.Errorf("shard 1: %+v", s)
		}
	})
}

// WaitBatch counts every shard of a batch: one that reported it, one that ended with fewer
// batches (none of its hosts in this one), one dead mid-batch (its unfinished host failed), and
// one reporting late, which it waits for. Its verdict stands when the dead shard reports after
// all; it gives up with ctx, naming the shards it waits for. Both backends.
func TestWaitBatch(t *testing.T) {
	eachBackend(t, func(t *testing.T, newLedger func() string) {
		loc := newLedger()
		run := fleet.NewRunID(time.Now())
		const n, stale = 4, 400 * time.Millisecond
		var ls [n]*Ledger
		var em [n]*fleet.Emitter
		for i := range ls {
			ls[i], em[i] = shardEmitterInOrder(t, loc, run, i, n)
			defer ls[i].Close()
			if err := ls[i].JoinShard(run, i, n, "opts"); err != nil {
				t.Fatal(err)
			}
		}
		emit := func(i int, typ, host string, batch int, status string) {
			em[i].Emit(fleet.Event{Type: typ, Host: host, Batch: batch, Status: status})
		}
		// 0: reports batch 2 (2 hosts, 1 failed).
		em[0].Emit(fleet.Event{Type: fleet.RunStart, Command: "apply", Batches: [][]string{{"a0"}, {"b0", "c0"}}})
		// 1: has one batch, and ends.
		em[1].Emit(fleet.Event{Type: fleet.RunStart, Command: "apply", Batches: [][]string{{"a1"}}})
		emit(1, fleet.HostDone, "a1", 1, fleet.StatusOK)
		em[1].Emit(fleet.Event{Type: fleet.RunDone, Status: fleet.RunOK, Counts: &fleet.Counts{Hosts: 1, OK: 1}})
		// 2: dies in batch 2, b2 done, c2 not.
		em[2].Emit(fleet.Event{Type: fleet.RunStart, Command: "apply", Batches: [][]string{{"a2"}, {"b2", "c2"}}})
		emit(2, fleet.HostDone, "a2", 1, fleet.StatusOK)
		emit(2, fleet.HostDone, "b2", 2, fleet.StatusChanged)
		emit(2, fleet.HostPlan, "c2", 2, "")
		// 3: alive (heartbeats), reports batch 2 (1 host, failed) after 2 stale periods.
		em[3].Emit(fleet.Event{Type: fleet.RunStart, Command: "apply", Batches: [][]string{{"a3"}, {"b3"}}})
		if err := ls[0].BatchDone(run, 0, 2, 2, 1); err != nil {
			t.Fatal(err)
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			late := time.After(2 * stale)
			for {
				select {
				case <-stop:
					return
				case <-late:
					if err := ls[3].BatchDone(run, 3, 2, 1, 1); err != nil {
						t.Error(err)
					}
				case <-time.After(stale / 4):
					if err := ls[3].Heartbeat(run, 3); err != nil {
						t.Error(err)
					}
				}
			}
		})
		defer func() { close(stop); wg.Wait() }()

		began := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		got, err := ls[0].WaitBatch(ctx, run, n, 2, stale)
		want := BatchTotal{Hosts: 2 + 0 + 2 + 1, Failed: 1 + 0 + 1 + 1, Dead: []int{2}}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("batch 2: %+v %v, want %+v", got, err, want)
		}
		if took := time.Since(began); took < stale {
			t.Errorf("returned after %s, before shard 3 reported", took)
		}
		// The dead shard was only slow: what it reports now changes nothing.
		if err := ls[2].BatchDone(run, 2, 2, 2, 0); err != nil {
			t.Fatal(err)
		}
		if got, err := ls[3].WaitBatch(ctx, run, n, 2, stale); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("batch 2 again, from shard 3: %+v %v", got, err)
		}
		// Batch 3: shard 3 heartbeats and does not report it.
		short, cancel2 := context.WithTimeout(context.Background(), 3*pollEvery)
		defer cancel2()
		_, err = ls[0].WaitBatch(short, run, n, 3, time.Minute)
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "still waiting for shard(s) 0,2,3") {
			t.Errorf("batch 3 nobody reported: %v", err)
		}
	})
}

// A shard that never joined at all is dead once stale has passed since the others joined;
// joining with another n, a shard out of range, or heartbeating without joining are refused.
// Both backends.
func TestShardMisuse(t *testing.T) {
	eachBackend(t, func(t *testing.T, newLedger func() string) {
		l := open(t, newLedger())
		defer l.Close()
		run := fleet.NewRunID(time.Now())
		if err := l.JoinShard(run, 0, 2, "opts"); err != nil {
			t.Fatal(err)
		}
		if err := l.BatchDone(run, 0, 1, 3, 0); err != nil {
			t.Fatal(err)
		}
		got, err := l.WaitBatch(context.Background(), run, 2, 1, 300*time.Millisecond)
		if err != nil || !reflect.DeepEqual(got, BatchTotal{Hosts: 3, Dead: []int{1}}) {
			t.Errorf("shard 1 never came: %+v %v", got, err)
		}
		other := fleet.NewRunID(time.Now().Add(time.Hour))
		if err := l.JoinShard(other, 0, 2, "opts"); err != nil {
			t.Fatal(err)
		}
		if err := l.JoinShard(other, 1, 3, "opts"); err == nil || !strings.Contains(err.Error(), "split in 2 shards, not 3") {
			t.Errorf("another n: %v", err)
		}
		if err := l.JoinShard(run, 2, 2, "opts"); err == nil || !strings.Contains(err.Error(), "0 <= i < n") {
			t.Errorf("shard out of range: %v", err)
		}
		if err := l.Heartbeat(run, 1); err == nil || !strings.Contains(err.Error(), "call JoinShard first") {
			t.Errorf("heartbeat without joining: %v", err)
		}
		l.Record(fleet.Event{Type: fleet.RunStart, Run: run, Seq: 1, Shard: "3/2"})
		if err := l.Close(); err == nil || !strings.Contains(err.Error(), `shard "3/2"`) {
			t.Errorf("an event's bad shard: %v", err)
		}
	})
}

// Processes opening one new ledger at once all find it ready: the schema is created once. Both
// backends.
func TestConcurrentOpen(t *testing.T) {
	eachBackend(t, func(t *testing.T, newLedger func() string) {
		loc := newLedger()
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				l, err := Open(loc)
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := l.Runs(0); err != nil {
					t.Error(err)
				}
				if err := l.Close(); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	})
}

// The shard processes of TestShardProcesses: this test binary again, told by the environment.
const shardEnv = "FRONTDOOR_LEDGER_TEST_SHARD" // i/n; and _RUN, _LEDGER, _DIE=1

type shardReport struct {
	Batch int
	Total BatchTotal
}

// Three controller processes run one sharded run of two batches against one ledger: each waits
// for the others at the end of each batch and gets the same totals; the third dies in its second
// batch (it stops heartbeating, never ends), is reported dead and its unfinished host counted
// failed. The ledger then has the whole run: every shard's hosts and events, "running" (a shard
// never ended). Both backends.
func TestShardProcesses(t *testing.T) {
	eachBackend(t, func(t *testing.T, newLedger func() string) {
		loc := newLedger()
		run := fleet.NewRunID(time.Now())
		l := open(t, loc) // the tables exist before the shards start; they would race for them otherwise (tested above)
		defer l.Close()
		var wg sync.WaitGroup
		out := make([][]byte, 3)
		for i := range 3 {
			wg.Go(func() {
				cmd := exec.Command(os.Args[0], "-test.run=^TestShardProcess$", "-test.count=1")
				cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d/3", shardEnv, i), shardEnv+"_RUN="+run, shardEnv+"_LEDGER="+loc)
				if i == 2 {
					cmd.Env = append(cmd.Env, shardEnv+"_DIE=1")
				}
				var err error
				if out[i], err = cmd.CombinedOutput(); err != nil {
					t.Errorf("shard %d: %v\n%s", i, err, out[i])
				}
			})
		}
		wg.Wait()
		want := map[int]BatchTotal{1: {Hosts: 6, Failed: 1}, 2: {Hosts: 3, Failed: 1, Dead: []int{2}}}
		for i, o := range out {
			var got []int
			for _, line := range strings.Split(string(o), "\n") {
				if rest, ok := strings.CutPrefix(line, "SHARD-REPORT "); ok {
					var r shardReport
					if err := json.Unmarshal([]byte(rest), &r); err != nil {
						t.Fatal(err)
					}
					if !reflect.DeepEqual(r.Total, want[r.Batch]) {
						t.Errorf("shard %d, batch %d: %+v, want %+v", i, r.Batch, r.Total, want[r.Batch])
					}
					got = append(got, r.Batch)
				}
			}
			if wantBatches := map[bool]int{true: 1, false: 2}[i == 2]; len(got) != wantBatches {
				t.Errorf("shard %d reported batches %v\n%s", i, got, o)
			}
		}
		r, err := l.Find(run)
		if err != nil || r.Status != "running" || r.Shards != 3 || r.Counts.Hosts != 6 || r.Counts.Failed != 1 || *r.ExitCode != 1 {
			t.Errorf("run: %+v %v", r, err)
		}
		hosts, err := l.Hosts(run)
		var names []string
		for _, h := range hosts {
			names = append(names, h.Name+":"+h.Status)
		}
		if err != nil || strings.Join(names, " ") != "h0a:ok h0b:changed h1a:ok h1b:failed h2a:ok h2b:ok h0c:ok h1c:ok h2c:pending" {
			t.Errorf("hosts: %v %v", names, err)
		}
		evs, err := l.Events(run)
		seq := map[string]int{}
		for _, e := range evs {
			if e.Seq != seq[e.Shard]+1 {
				t.Errorf("shard %s: seq %d after %d", e.Shard, e.Seq, seq[e.Shard])
			}
			seq[e.Shard] = e.Seq
		}
		if err != nil || len(seq) != 3 || seq["0/3"] != 12 || seq["2/3"] != 9 {
			t.Errorf("events: %d, last seq by shard %v, %v", len(evs), seq, err)
		}
	})
}

// TestShardProcess is one shard of TestShardProcesses (and nothing otherwise): hosts hIx for x in
// a, b (batch 1) and c (batch 2); shard 1's h1b fails; "die" ends the process in batch 2.
func TestShardProcess(t *testing.T) {
	shard := os.Getenv(shardEnv)
	if shard == "" {
		t.Skip("a shard of TestShardProcesses")
	}
	run, loc, die := os.Getenv(shardEnv+"_RUN"), os.Getenv(shardEnv+"_LEDGER"), os.Getenv(shardEnv+"_DIE") == "1"
	i, n, _ := parseShard(shard)
	const stale = time.Second
	l := open(t, loc)
	if err := l.JoinShard(run, i, n, "same options"); err != nil {
		t.Fatal(err)
	}
	go func() {
		for range time.Tick(stale / 10) {
			if err := l.Heartbeat(run, i); err != nil {
				fmt.Println("heartbeat:", err)
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := l.WaitJoined(ctx, run, n, 10*time.Second, nil); err != nil {
		t.Fatal(err)
	}
	em := fleet.NewEmitter(run, l.Record)
	em.SetShard(shard)
	h := func(x string) string { return fmt.Sprintf("h%d%s", i, x) }
	em.Emit(fleet.Event{Type: fleet.RunStart, Command: "apply", Batches: [][]string{{h("a"), h("b")}, {h("c")}}})
	l.RecordStart(run, Start{Flags: []string{"--shard " + shard}})
	var c fleet.Counts
	batch := func(b int, hosts ...string) {
		em.Emit(fleet.Event{Type: fleet.BatchStart, Batch: b, Hosts: hosts})
		failed := 0
		for _, host := range hosts {
			em.Emit(fleet.Event{Type: fleet.HostPlan, Host: host, Batch: b})
			if die && b == 2 {
				l.sync()   // what it emitted is stored,
				os.Exit(0) // and it is killed mid-batch: no host.done, no heartbeat, no run.done
			}
			status := fleet.StatusOK
			switch host {
			case "h1b":
				status = fleet.StatusFailed
				failed++
				c.Failed++
			case "h0b":
				status = fleet.StatusChanged
				c.Changed++
			default:
				c.OK++
			}
			c.Hosts++
			em.Emit(fleet.Event{Type: fleet.HostDone, Host: host, Batch: b, Status: status})
		}
		if err := l.BatchDone(run, i, b, len(hosts), failed); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		total, err := l.WaitBatch(ctx, run, n, b, stale)
		if err != nil {
			t.Fatal(err)
		}
		em.Emit(fleet.Event{Type: fleet.BatchDone, Batch: b})
		raw, _ := json.Marshal(shardReport{b, total})
		fmt.Printf("SHARD-REPORT %s\n", raw)
	}
	batch(1, h("a"), h("b"))
	batch(2, h("c"))
	status, code := fleet.RunOK, 0
	if c.Failed > 0 {
		status, code = fleet.RunFailed, 1
	}
	em.Emit(fleet.Event{Type: fleet.RunDone, Status: status, Counts: &c})
	l.RecordEnd(run, End{ExitCode: code})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

// A ledger of the version before shards (events keyed by run and seq) is rebuilt with events
// keyed by shard too, keeping its events; its hosts gain their shard column.
func TestEventsKeyedByShardUpgrade(t *testing.T) {
	p := filepath.Join(t.TempDir(), "ledger.db")
	db, err := sql.Open("sqlite", "file:"+p)
	if err != nil {
		t.Fatal(err)
	}
	// The tables as the previous version created them (git show HEAD~:ledger/ledger.go).
	old := `
CREATE TABLE IF NOT EXISTS runs(id TEXT PRIMARY KEY, command TEXT, playbook TEXT, inventory TEXT, controller TEXT,
  undoes TEXT, started TEXT, ended TEXT, status TEXT, hosts INT, ok INT, changed INT, failed INT, rolled_back INT, skipped INT,
  playbook_sha256 TEXT, flags TEXT, exit_code INT, message TEXT, retry_file TEXT);
CREATE TABLE IF NOT EXISTS hosts(run TEXT, host TEXT, batch INT, status TEXT, changed INT, rolled_back INT, error TEXT,
  started TEXT, ended TEXT, duration_ms INT, PRIMARY KEY(run, host));
CREATE TABLE IF NOT EXISTS changes(run TEXT, host TEXT, idx INT, step TEXT, action TEXT, summary TEXT, diff TEXT,
  PRIMARY KEY(run, host, idx));
CREATE TABLE IF NOT EXISTS events(run TEXT, seq INT, time TEXT, type TEXT, host TEXT, batch INT, json TEXT, PRIMARY KEY(run, seq));
INSERT INTO runs(id, command, started, ended, status, hosts, ok) VALUES('20261127T090000Z-aaaaaa', 'apply', '2026-11-27T09:00:00Z', '2026-11-27T09:00:02.5Z', 'ok', 1, 1);
INSERT INTO hosts(run, host, batch, status) VALUES('20261127T090000Z-aaaaaa', 'a', 1, 'ok');
INSERT INTO events VALUES('20261127T090000Z-aaaaaa', 1, '2026-11-27T09:00:00Z', 'run.start', '', 0, '{"v":1,"seq":1,"time":"2026-11-27T09:00:00Z","run":"20261127T090000Z-aaaaaa","type":"run.start","batches":[["a"]]}');
INSERT INTO events VALUES('20261127T090000Z-aaaaaa', 2, '2026-11-27T09:00:01Z', 'host.done', 'a', 1, '{"v":1,"seq":2,"time":"2026-11-27T09:00:01Z","run":"20261127T090000Z-aaaaaa","type":"host.done","host":"a","batch":1,"status":"ok"}');
INSERT INTO events VALUES('20261127T090000Z-aaaaaa', 3, '2026-11-27T09:00:02.5Z', 'run.done', '', 0, '{"v":1,"seq":3,"time":"2026-11-27T09:00:02.5Z","run":"20261127T090000Z-aaaaaa","type":"run.done","status":"ok"}');
`
	if _, err := db.Exec(old); err != nil {
		t.Fatal(err)
	}
	db.Close()
	l := open(t, p)
	evs, err := l.Events("20261127T090000Z-aaaaaa")
	if err != nil || len(evs) != 3 || evs[2].Type != fleet.RunDone || evs[1].Host != "a" {
		t.Fatalf("the old run's events: %+v %v", evs, err)
	}
	// Two shards' seq 1 of one run fit now.
	run := fleet.NewRunID(time.Now())
	for i := range 2 {
		sl, em := shardEmitter(t, p, run, i, 2)
		em.Emit(fleet.Event{Type: fleet.RunStart, Command: "apply", Batches: [][]string{{fmt.Sprint("h", i)}}})
		if err := sl.Close(); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	l = open(t, p) // and again: nothing left to do
	defer l.Close()
	if evs, err := l.Events(run); err != nil || len(evs) != 2 {
		t.Errorf("sharded events in the upgraded ledger: %+v %v", evs, err)
	}
	var key, shard string
	if err := l.db.QueryRow(`SELECT sql FROM sqlite_master WHERE name = 'events'`).Scan(&key); err != nil || !strings.Contains(key, "PRIMARY KEY(run, shard, seq)") {
		t.Errorf("events: %s %v", key, err)
	}
	if err := l.db.QueryRow(`SELECT shard FROM hosts WHERE host = 'h1'`).Scan(&shard); err != nil || shard != "1/2" {
		t.Errorf("hosts.shard: %q %v", shard, err)
	}
	if r, err := l.Find("20261127T090000Z-aaaaaa"); err != nil || r.Status != fleet.RunOK || r.Ended.Sub(r.Started) != 2500*time.Millisecond {
		t.Errorf("the old run: %+v %v", r, err)
	}
}

// RecordStart and RecordEnd of a shard whose events are only queued (Record, as the controller
// records them) land in its row of shards and in the run's row: they wait for the writer to
// store the run.start that says which shard the run is recorded as. Both backends.
func TestRecordStartAfterQueuedEvents(t *testing.T) {
	eachBackend(t, func(t *testing.T, newLedger func() string) {
		loc := newLedger()
		var hosts []string
		for k := range 50 {
			hosts = append(hosts, fmt.Sprintf("h%02d", k))
		}
		for k := range 5 { // the race it had was lost more often than not: a few runs make sure
			run := fleet.NewRunID(time.Now().Add(time.Duration(k) * time.Hour))
			l, em := shardEmitter(t, loc, run, 1, 2)
			em.Emit(fleet.Event{Type: fleet.RunStart, Command: "apply", Batches: [][]string{hosts}})
			l.RecordStart(run, Start{PlaybookSHA256: "sum", Flags: []string{"--shard 1/2"}})
			em.Emit(fleet.Event{Type: fleet.RunDone, Status: fleet.RunFailed, Counts: &fleet.Counts{Hosts: 50, Failed: 1}})
			l.RecordEnd(run, End{ExitCode: 1, Message: "1 host failed"})
			shards, err := l.Shards(run)
			if err != nil || len(shards) != 1 {
				t.Fatalf("shards: %+v %v", shards, err)
			}
			if s := shards[0]; s.Index != 1 || s.PlaybookSHA256 != "sum" || strings.Join(s.Flags, " ") != "--shard 1/2" || s.ExitCode == nil || *s.ExitCode != 1 {
				t.Errorf("run %d, the shard's row: %+v", k, s)
			}
			r, err := l.Find(run)
			if err != nil || r.PlaybookSHA256 != "sum" || strings.Join(r.Flags, " ") != "--shard 1/2" || r.ExitCode == nil || *r.ExitCode != 1 || r.Shards != 2 {
				t.Errorf("run %d, the run's row: %+v %v", k, r, err)
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// Heartbeat does not wait for the events queued (under a steady flow the writer is never idle):
// with the writer held back, it returns. The writer stores at most maxPerTx events a
// transaction, and each transaction marks the shard alive. Both backends.
func TestHeartbeatAndWriterTransactions(t *testing.T) {
	eachBackend(t, func(t *testing.T, newLedger func() string) {
		l := open(t, newLedger())
		defer l.Close()
		run := fleet.NewRunID(time.Now())
		if err := l.JoinShard(run, 0, 1, "opts"); err != nil {
			t.Fatal(err)
		}
		var sizes []int
		l.onTx = func(n int) { sizes = append(sizes, n) } // the writer calls it holding l.mu
		em := fleet.NewEmitter(run, l.Record)
		em.SetShard("0/1")
		var hosts []string
		for k := range 600 {
			hosts = append(hosts, fmt.Sprintf("h%03d", k))
		}
		l.mu.Lock() // the writer cannot store anything
		em.Emit(fleet.Event{Type: fleet.RunStart, Command: "apply", Batches: [][]string{hosts}})
		for _, h := range hosts {
			em.Emit(fleet.Event{Type: fleet.HostDone, Host: h, Batch: 1, Status: fleet.StatusOK})
		}
		beat := make(chan error, 1)
		go func() { beat <- l.Heartbeat(run, 0) }()
		select {
		case err := <-beat:
			if err != nil {
				t.Error(err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Heartbeat waited for the queued events")
		}
		if _, err := l.db.Exec(l.d.q(`UPDATE shards SET heartbeat_ms=0 WHERE run=?`), run); err != nil {
			t.Fatal(err)
		}
		l.mu.Unlock()
		l.sync()
		total := 0
		for _, n := range sizes {
			total += n
			if n > maxPerTx {
				t.Errorf("a transaction of %d events", n)
			}
		}
		if total != 601 || len(sizes) < 3 {
			t.Errorf("transactions of %v events", sizes)
		}
		var ms int64
		if err := l.db.QueryRow(l.d.q(`SELECT heartbeat_ms FROM shards WHERE run=?`), run).Scan(&ms); err != nil || ms == 0 {
			t.Errorf("the events' transactions did not mark the shard alive: %d %v", ms, err)
		}
	})
}

// On PostgreSQL a shard's transaction that touches the run's row takes the run's lock first: a
// shard whose run.start (an earlier start: the row is updated) and run.done are stored in one
// transaction, while another holds the run's lock and then updates the row (as RecordEnd and
// run.done do), must not deadlock with it.
func TestRunRowLockOrder(t *testing.T) {
	t.Parallel()
	loc := pgtest.DB(t)
	t0 := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	run := fleet.NewRunID(t0)
	l1, em1 := shardEmitter(t, loc, run, 1, 2)
	em1.Emit(fleet.Event{Type: fleet.RunStart, Time: t0.Add(10 * time.Second), Command: "apply", Batches: [][]string{{"b"}}})
	l1.sync()

	raw, err := sql.Open("pgx", loc)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	other, err := raw.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Rollback()
	if _, err := other.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, int32(lockRun), run); err != nil {
		t.Fatal(err)
	}

	l0 := open(t, loc)
	defer l0.Close()
	stored := make(chan error, 1)
	go func() {
		l0.mu.Lock()
		defer l0.mu.Unlock()
		stored <- l0.recordAll([]fleet.Event{
			{V: 1, Seq: 1, Run: run, Shard: "0/2", Type: fleet.RunStart, Time: t0, Command: "apply", Batches: [][]string{{"a"}}},
			{V: 1, Seq: 2, Run: run, Shard: "0/2", Type: fleet.RunDone, Time: t0.Add(time.Second), Status: fleet.RunOK, Counts: &fleet.Counts{Hosts: 1, OK: 1}},
		})
	}()
	time.Sleep(500 * time.Millisecond) // shard 0's transaction waits for the run's lock
	if _, err := other.ExecContext(ctx, `UPDATE runs SET status='running' WHERE id=$1`, run); err != nil {
		t.Errorf("the other transaction's update: %v", err)
	}
	if err := other.Commit(); err != nil {
		t.Errorf("the other transaction: %v", err)
	}
	if err := <-stored; err != nil {
		t.Errorf("shard 0's events: %v", err)
	}
	if r, err := l0.Find(run); err != nil || !r.Started.Equal(t0) {
		t.Errorf("run: %+v %v", r, err)
	}
}

// JoinShard refuses a run id and shard used before (joined, or started and ended), a run past
// its start (a batch's verdict is there), a run id of an unsharded run, and options that differ
// from a shard's that joined before, saying what to do; RunExists sees runs and joined shards.
// Both backends.
func TestJoinShardRefusals(t *testing.T) {
	eachBackend(t, func(t *testing.T, newLedger func() string) {
		loc := newLedger()
		l := open(t, loc)
		defer l.Close()
		t0 := time.Now()
		run, single, late := fleet.NewRunID(t0), fleet.NewRunID(t0.Add(time.Hour)), fleet.NewRunID(t0.Add(2*time.Hour))
		refused := func(what string, err error, want ...string) {
			t.Helper()
			if err == nil {
				t.Errorf("%s: joined", what)
				return
			}
			for _, w := range want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%s: %v; want %q", what, err, w)
				}
			}
		}
		exists := func(id string, want bool) {
			t.Helper()
			if got, err := l.RunExists(id); err != nil || got != want {
				t.Errorf("RunExists(%s) = %v %v, want %v", id, got, err, want)
			}
		}
		exists(run, false)
		fleet.NewEmitter(single, l.Record).Emit(fleet.Event{Type: fleet.RunStart, Command: "apply", Batches: [][]string{{"a"}}})
		exists(single, true)
		refused("an unsharded run's id", l.JoinShard(single, 0, 2, "o"), "run "+single+" is in the ledger as a run of one controller", "new --run-id")

		if err := l.JoinShard(run, 0, 3, "o"); err != nil {
			t.Fatal(err)
		}
		exists(run, true)
		refused("joining again", l.JoinShard(run, 0, 3, "o"), "shard 0/3 of run "+run+" already joined at 20",
			"a run id and shard are used once; start a new run with a new --run-id")
		refused("other options", l.JoinShard(run, 1, 3, "p"), "shard 1/3 of run "+run+": its options differ from shard 0's (p here, o there)",
			"every shard must be started with the same playbook, inventory, --serial, --max-fail, --limit")
		if err := l.JoinShard(run, 1, 3, "o"); err != nil {
			t.Fatal(err)
		}
		// Shard 2 ran (without JoinShard: its events alone) and ended: not again.
		l2, em2 := shardEmitter(t, loc, run, 2, 3)
		em2.Emit(fleet.Event{Type: fleet.RunStart, Command: "apply", Batches: [][]string{{"c"}}})
		em2.Emit(fleet.Event{Type: fleet.RunDone, Status: fleet.RunOK, Counts: &fleet.Counts{}})
		l2.Close()
		refused("a shard that ended", l.JoinShard(run, 2, 3, "o"), "shard 2/3 of run "+run+" already joined at", "and ended at", "new --run-id")

		// A batch's verdict is there: the shard comes too late.
		if err := l.JoinShard(late, 0, 2, "o"); err != nil {
			t.Fatal(err)
		}
		if err := l.BatchDone(late, 0, 1, 1, 0); err != nil {
			t.Fatal(err)
		}
		if got, err := l.WaitBatch(context.Background(), late, 2, 1, 100*time.Millisecond); err != nil || !reflect.DeepEqual(got.Dead, []int{1}) {
			t.Fatalf("batch 1 without shard 1: %+v %v", got, err)
		}
		refused("a late shard", l.JoinShard(late, 1, 2, "o"), "run "+late+" is already past its start", "shard 1/2 is too late to join")
	})
}

// WaitJoined waits until every shard has joined (one joining during the wait), telling waiting
// which are missing; it gives up after its timeout naming those that never came, and at once
// when ctx ends or a shard stops the run. Both backends.
func TestWaitJoined(t *testing.T) {
	eachBackend(t, func(t *testing.T, newLedger func() string) {
		loc := newLedger()
		var ls [3]*Ledger
		for i := range ls {
			ls[i] = open(t, loc)
			defer ls[i].Close()
		}
		ctx := context.Background()
		t0 := time.Now()
		run, alone, stopped := fleet.NewRunID(t0), fleet.NewRunID(t0.Add(time.Hour)), fleet.NewRunID(t0.Add(2*time.Hour))
		for _, i := range []int{0, 2} {
			if err := ls[i].JoinShard(run, i, 3, "o"); err != nil {
				t.Fatal(err)
			}
		}
		var told [][]int
		began := time.Now()
		err := ls[0].WaitJoined(ctx, run, 3, 700*time.Millisecond, func(missing []int) { told = append(told, missing) })
		took := time.Since(began)
		if err == nil || !strings.Contains(err.Error(), "shard(s) 1 of run "+run+" did not join within 700ms") ||
			!strings.Contains(err.Error(), "check that every shard has the same --ledger and --run-id; nothing was changed by this shard") {
			t.Errorf("shard 1 never joined: %v", err)
		}
		if took < 700*time.Millisecond || took > 3*time.Second || !reflect.DeepEqual(told, [][]int{{1}}) {
			t.Errorf("gave up after %s, told %v", took, told)
		}

		go func() {
			time.Sleep(300 * time.Millisecond)
			if err := ls[1].JoinShard(run, 1, 3, "o"); err != nil {
				t.Error(err)
			}
		}()
		began = time.Now()
		if err := ls[2].WaitJoined(ctx, run, 3, 20*time.Second, nil); err != nil || time.Since(began) > 3*time.Second {
			t.Errorf("shard 1 joined during the wait: %v after %s", err, time.Since(began))
		}

		if err := ls[0].JoinShard(alone, 0, 2, "o"); err != nil {
			t.Fatal(err)
		}
		short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		began = time.Now()
		if err := ls[0].WaitJoined(short, alone, 2, time.Minute, nil); !errors.Is(err, context.DeadlineExceeded) ||
			!strings.Contains(err.Error(), "nothing was changed by this shard") || time.Since(began) > 2*time.Second {
			t.Errorf("ctx ended: %v after %s", err, time.Since(began))
		}

		if err := ls[0].JoinShard(stopped, 0, 2, "o"); err != nil {
			t.Fatal(err)
		}
		go func() {
			time.Sleep(300 * time.Millisecond)
			if err := ls[0].StopRun(stopped, 0, "shard 0/2 was interrupted"); err != nil {
				t.Error(err)
			}
		}()
		began = time.Now()
		if err := ls[1].WaitJoined(ctx, stopped, 2, time.Minute, nil); err == nil || !strings.Contains(err.Error(), "stopped before it started: shard 0/2 was interrupted") ||
			time.Since(began) > 3*time.Second {
			t.Errorf("a shard stopped the run: %v after %s", err, time.Since(began))
		}
	})
}

// A shard that stops the run (StopRun) ends the other shards' WaitBatch at once, its reason in
// Stopped, without waiting for the shards that have not reported; a batch's verdict carries
// the stops recorded since; Shards shows each shard's reason (its first). Both backends.
func TestStopRun(t *testing.T) {
	eachBackend(t, func(t *testing.T, newLedger func() string) {
		loc := newLedger()
		run := fleet.NewRunID(time.Now())
		const n = 3
		var ls [n]*Ledger
		for i := range ls {
			ls[i] = open(t, loc)
			defer ls[i].Close()
			if err := ls[i].JoinShard(run, i, n, "o"); err != nil {
				t.Fatal(err)
			}
		}
		if err := ls[0].BatchDone(run, 0, 1, 2, 0); err != nil {
			t.Fatal(err)
		}
		go func() {
			time.Sleep(300 * time.Millisecond)
			for _, why := range []string{"shard 1/3 was interrupted", "shard 1/3 could not record its batch 1"} {
				if err := ls[1].StopRun(run, 1, why); err != nil {
					t.Error(err)
				}
			}
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		began := time.Now()
		got, err := ls[0].WaitBatch(ctx, run, n, 1, time.Minute)
		if err != nil || !reflect.DeepEqual(got, BatchTotal{Stopped: []string{"shard 1/3 was interrupted"}}) || time.Since(began) > 3*time.Second {
			t.Errorf("stopped by shard 1: %+v %v after %s", got, err, time.Since(began))
		}

		// Batch 2 reaches its verdict; a stop recorded afterwards comes with it.
		later := fleet.NewRunID(time.Now().Add(time.Hour))
		for i := range 2 {
			if err := ls[i].JoinShard(later, i, 2, "o"); err != nil {
				t.Fatal(err)
			}
			if err := ls[i].BatchDone(later, i, 1, 1, i); err != nil {
				t.Fatal(err)
			}
		}
		if got, err := ls[0].WaitBatch(ctx, later, 2, 1, time.Minute); err != nil || !reflect.DeepEqual(got, BatchTotal{Hosts: 2, Failed: 1}) {
			t.Errorf("batch 1 of the later run: %+v %v", got, err)
		}
		if err := ls[0].StopRun(later, 0, "shard 0/2 was interrupted"); err != nil {
			t.Fatal(err)
		}
		if got, err := ls[1].WaitBatch(ctx, later, 2, 1, time.Minute); err != nil ||
			!reflect.DeepEqual(got, BatchTotal{Hosts: 2, Failed: 1, Stopped: []string{"shard 0/2 was interrupted"}}) {
			t.Errorf("batch 1 of the later run, after the stop: %+v %v", got, err)
		}
		shards, err := ls[2].Shards(run)
		if err != nil || len(shards) != 3 || shards[1].Stopped != "shard 1/3 was interrupted" || shards[0].Stopped != "" {
			t.Errorf("shards: %+v %v", shards, err)
		}
	})
}

// WaitBatch's queries end with its ctx: one blocked by another transaction (holding the batch's
// verdict, uncommitted; SQLite: the write lock) returns when ctx ends. Both backends.
func TestWaitBatchQueriesEndWithCtx(t *testing.T) {
	eachBackend(t, func(t *testing.T, newLedger func() string) {
		loc := newLedger()
		l := open(t, loc)
		defer l.Close()
		run := fleet.NewRunID(time.Now())
		if err := l.JoinShard(run, 0, 1, "o"); err != nil {
			t.Fatal(err)
		}
		if err := l.BatchDone(run, 0, 1, 1, 0); err != nil {
			t.Fatal(err)
		}
		driver, dsn := "pgx", loc
		if !l.d.pg {
			driver, dsn = "sqlite", "file:"+loc+"?_txlock=immediate"
		}
		raw, err := sql.Open(driver, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		other, err := raw.Begin()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := other.Exec(l.d.q(`INSERT INTO batch_totals(run, batch, hosts, failed, dead) VALUES(?, 1, 9, 9, '')`), run); err != nil {
			t.Fatal(err)
		}
		release := time.AfterFunc(8*time.Second, func() { other.Rollback() })
		defer func() {
			if release.Stop() {
				other.Rollback()
			}
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		began := time.Now()
		got, err := l.WaitBatch(ctx, run, 1, 1, time.Minute)
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(began) > 3*time.Second {
			t.Errorf("WaitBatch: %+v %v after %s", got, err, time.Since(began))
		}
	})
}
