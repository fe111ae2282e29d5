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
)

// shardEmitter is shard i of n of run, recording into its own connection to the ledger, as a
// shard's controller would.
func shardEmitter(t *testing.T, location, run string, i, n int) (*Ledger, *fleet.Emitter) {
	l := open(t, location)
	t.Cleanup(func() { l.Close() })
	// Stored at once: these tests interleave several ledgers' events and expect that order.
	em := fleet.NewEmitter(run, func(e fleet.Event) { l.Record(e); l.sync() })
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
			ls[i], em[i] = shardEmitter(t, loc, run, i, 3)
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
			ls[i], em[i] = shardEmitter(t, loc, run, i, n)
			defer ls[i].Close()
			if err := ls[i].JoinShard(run, i, n); err != nil {
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
		if err := l.JoinShard(run, 0, 2); err != nil {
			t.Fatal(err)
		}
		if err := l.JoinShard(run, 0, 2); err != nil {
			t.Errorf("joining again: %v", err)
		}
		if err := l.BatchDone(run, 0, 1, 3, 0); err != nil {
			t.Fatal(err)
		}
		got, err := l.WaitBatch(context.Background(), run, 2, 1, 300*time.Millisecond)
		if err != nil || !reflect.DeepEqual(got, BatchTotal{Hosts: 3, Dead: []int{1}}) {
			t.Errorf("shard 1 never came: %+v %v", got, err)
		}
		if err := l.JoinShard(run, 1, 3); err == nil || !strings.Contains(err.Error(), "split in 2 shards, not 3") {
			t.Errorf("another n: %v", err)
		}
		if err := l.JoinShard(run, 2, 2); err == nil || !strings.Contains(err.Error(), "0 <= i < n") {
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
	if err := l.JoinShard(run, i, n); err != nil {
		t.Fatal(err)
	}
	go func() {
		for range time.Tick(stale / 10) {
			if err := l.Heartbeat(run, i); err != nil {
				fmt.Println("heartbeat:", err)
			}
		}
	}()
	// Stored at once: "killed" below means after what it emitted was stored.
	em := fleet.NewEmitter(run, func(e fleet.Event) { l.Record(e); l.sync() })
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
				os.Exit(0) // killed mid-batch: no host.done, no heartbeat, no run.done
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
		_, em := shardEmitter(t, p, run, i, 2)
		em.Emit(fleet.Event{Type: fleet.RunStart, Command: "apply", Batches: [][]string{{fmt.Sprint("h", i)}}})
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
