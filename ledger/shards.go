package ledger

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/frontdoor-dev/frontdoor/fleet"
)

// A sharded run is one run id whose hosts are split across n controllers ("shards"), each with
// its own ledger connection. The ledger is where they meet: each records its events, its end,
// a heartbeat, and what each of its batches came to; WaitBatch makes one verdict on a batch out
// of every shard's part, so that --max-fail applies to the batch as a whole and every shard
// takes the same decision.

// JoinShard registers this process as shard i of n of run, with options, the digest of what
// every shard of the run must share (the caller computes it: the playbook, the inventory,
// --serial, --max-fail...). It starts nothing by itself: the caller then calls Heartbeat every
// second or so until the run ends, and WaitJoined before it changes anything.
//
// It refuses, saying what to do: a shard out of range; a run split in another n; a run id in
// the ledger as an unsharded run; a shard of the run that joined before (a run id and shard are
// used once: a shard started again, or a run id used again); a run past its start (a batch's
// verdict is there: the others went on without this shard); options that differ from a shard's
// that joined before.
func (l *Ledger) JoinShard(run string, i, n int, options string) error {
	if n < 1 || i < 0 || i >= n {
		return fmt.Errorf("shard %d/%d: want i/n with 0 <= i < n (e.g. --shard 0/4)", i, n)
	}
	l.sync()
	err := l.inTx(func(tx *sql.Tx) error {
		if err := l.d.lockRun(context.Background(), tx, run); err != nil {
			return err
		}
		t := runner{d: l.d, x: tx}
		var unsharded int
		if err := t.row(`SELECT CASE WHEN EXISTS(SELECT 1 FROM runs WHERE id=?) AND NOT EXISTS(SELECT 1 FROM shards WHERE run=?) THEN 1 ELSE 0 END`,
			run, run).Scan(&unsharded); err != nil {
			return err
		}
		if unsharded == 1 {
			return refusal(fmt.Sprintf("run %s is in the ledger as a run of one controller, not split in shards: a run id is used once; "+
				"start the shards with a new --run-id", run))
		}
		var joined int64
		var ended sql.NullString
		err := t.row(`SELECT COALESCE(joined_ms, heartbeat_ms, 0), ended FROM shards WHERE run=? AND shard=?`, run, i).Scan(&joined, &ended)
		if err == nil {
			when := "before"
			if joined > 0 {
				when = "at " + time.UnixMilli(joined).UTC().Format(time.RFC3339)
			}
			if ended.Valid {
				when += " and ended at " + parseTS(ended).Format(time.RFC3339)
			}
			return refusal(fmt.Sprintf("shard %d/%d of run %s already joined %s: a run id and shard are used once; "+
				"start a new run with a new --run-id (every shard with the same one)", i, n, run, when))
		}
		if err != sql.ErrNoRows {
			return err
		}
		var other int
		err = t.row(`SELECT n FROM shards WHERE run=? AND n != ?`, run, n).Scan(&other)
		if err == nil {
			return refusal(fmt.Sprintf("run %s is split in %d shards, not %d: give every shard of a run the same --shard i/%d", run, other, n, other))
		}
		if err != sql.ErrNoRows {
			return err
		}
		var verdicts int
		if err := t.row(`SELECT COUNT(*) FROM batch_totals WHERE run=?`, run).Scan(&verdicts); err != nil {
			return err
		}
		if verdicts > 0 {
			return refusal(fmt.Sprintf("run %s is already past its start (its other shards have ended a batch without this one): "+
				"shard %d/%d is too late to join; start a new run with a new --run-id", run, i, n))
		}
		var j int
		var theirs string
		err = t.row(`SELECT shard, options FROM shards WHERE run=? AND options IS NOT NULL AND options != ? ORDER BY shard LIMIT 1`, run, options).Scan(&j, &theirs)
		if err == nil {
			return refusal(fmt.Sprintf("shard %d/%d of run %s: its options differ from shard %d's (%s here, %s there): every shard must be started "+
				"with the same playbook, inventory, --serial, --max-fail, --limit and other options, with the same files on every controller", i, n, run, j, options, theirs))
		}
		if err != sql.ErrNoRows {
			return err
		}
		_, err = t.exec(`INSERT INTO shards(run, shard, n, joined_ms, heartbeat_ms, options) VALUES(?,?,?,NOW_MS(),NOW_MS(),?)`, run, i, n, options)
		return err
	})
	var r refused
	if errors.As(err, &r) {
		return l.errorf("%s", string(r))
	}
	if err != nil {
		return l.errorf("join run %s as shard %d/%d: %w", run, i, n, err)
	}
	return nil
}

// refused is why JoinShard refuses, said whole.
type refused string

func (r refused) Error() string { return string(r) }

func refusal(msg string) error { return refused(msg) }

// How often WaitJoined looks, and calls its waiting.
const (
	joinPollEvery = 200 * time.Millisecond
	joinSayEvery  = 5 * time.Second
)

// WaitJoined blocks until all n shards of run have joined (JoinShard; a shard that recorded its
// run.start counts too): the start barrier, before which no shard changes anything. While some
// are missing it calls waiting with them (at once, then at most every 5 s) if waiting is not
// nil. It fails after timeout, naming the shards that never joined; when ctx ends; and when a
// shard stopped the run (StopRun) meanwhile.
func (l *Ledger) WaitJoined(ctx context.Context, run string, n int, timeout time.Duration, waiting func(missing []int)) error {
	if n < 1 {
		return fmt.Errorf("wait for the %d shards of run %s: want n >= 1", n, run)
	}
	began := time.Now()
	var said time.Time
	var missing []int
	for {
		var stops []string
		var err error
		missing, stops, err = l.joined(ctx, run, n, missing)
		switch {
		case err != nil && ctx.Err() != nil:
			return l.errorf("run %s: %s: %w; nothing was changed by this shard", run, stillWaiting(missing, "to join"), ctx.Err())
		case err != nil:
			return l.errorf("run %s: which shards have joined: %w", run, err)
		case len(stops) > 0:
			return l.errorf("run %s was stopped before it started: %s; nothing was changed by this shard", run, strings.Join(stops, "; "))
		case len(missing) == 0:
			return nil
		}
		left := timeout - time.Since(began)
		if left <= 0 {
			return l.errorf("shard(s) %s of run %s did not join within %s: check that every shard has the same --ledger and --run-id; "+
				"nothing was changed by this shard", joinInts(missing), run, timeout)
		}
		if waiting != nil && (said.IsZero() || time.Since(said) >= joinSayEvery) {
			waiting(missing)
			said = time.Now()
		}
		select {
		case <-ctx.Done():
			return l.errorf("run %s: %s: %w; nothing was changed by this shard", run, stillWaiting(missing, "to join"), ctx.Err())
		case <-time.After(min(joinPollEvery, left)):
		}
	}
}

// joined returns the shards of run (0 to n-1) that have not joined, and the run's stops. On an
// error, missing is as it was.
func (l *Ledger) joined(ctx context.Context, run string, n int, was []int) (missing []int, stops []string, err error) {
	r := l.rc(ctx)
	rows, err := r.query(`SELECT shard FROM shards WHERE run=?`, run)
	if err != nil {
		return was, nil, err
	}
	in := map[int]bool{}
	for rows.Next() {
		var i int
		if err := rows.Scan(&i); err != nil {
			rows.Close()
			return was, nil, err
		}
		in[i] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return was, nil, err
	}
	for i := 0; i < n; i++ {
		if !in[i] {
			missing = append(missing, i)
		}
	}
	stops, err = l.stops(r, run)
	if err != nil {
		return was, nil, err
	}
	return missing, stops, nil
}

// Heartbeat marks shard i of run alive now, by the database's clock (the caller calls it every
// second or so; every transaction of the shard's events counts as one too). It does not wait for
// the events queued: under a steady flow of events the queue is never empty.
func (l *Ledger) Heartbeat(run string, i int) error {
	res, err := l.r().exec(`UPDATE shards SET heartbeat_ms=NOW_MS() WHERE run=? AND shard=?`, run, i)
	if err != nil {
		return l.errorf("heartbeat of shard %d of run %s: %w", i, run, err)
	}
	if k, err := res.RowsAffected(); err == nil && k == 0 {
		return l.errorf("shard %d of run %s has not joined the run: call JoinShard first", i, run)
	}
	return nil
}

// BatchDone records that shard i ended its batch b (1-based) with these hosts and failures (its
// hosts in the batch, and how many of them failed). Call it before WaitBatch for that batch.
func (l *Ledger) BatchDone(run string, i, b int, hosts, failed int) error {
	l.sync()
	if b < 1 || i < 0 {
		return fmt.Errorf("batch %d of shard %d: batches count from 1, shards from 0", b, i)
	}
	err := l.inTx(func(tx *sql.Tx) error {
		t := runner{d: l.d, x: tx}
		if _, err := t.exec(`INSERT INTO shard_batches(run, shard, batch, hosts, failed) VALUES(?,?,?,?,?)
			ON CONFLICT(run, shard, batch) DO UPDATE SET hosts=excluded.hosts, failed=excluded.failed`, run, i, b, hosts, failed); err != nil {
			return err
		}
		_, err := t.exec(`UPDATE shards SET heartbeat_ms=NOW_MS() WHERE run=? AND shard=?`, run, i)
		return err
	})
	if err != nil {
		return l.errorf("record the end of batch %d of shard %d of run %s: %w", b, i, run, err)
	}
	return nil
}

// StopRun records that shard i stops the whole run, and why (it was interrupted, its ledger
// calls failed...): every shard's WaitBatch returns at once with the reason in Stopped, and
// WaitJoined fails. A shard's first reason is kept. It does not wait for the events queued.
func (l *Ledger) StopRun(run string, i int, why string) error {
	if _, err := l.r().exec(`INSERT INTO run_stops(run, shard, why, at_ms) VALUES(?,?,?,NOW_MS()) ON CONFLICT(run, shard) DO NOTHING`,
		run, i, why); err != nil {
		return l.errorf("record that shard %d stops run %s (%s): %w", i, run, why, err)
	}
	return nil
}

// stops are the reasons the shards of run gave for stopping it, first first.
func (l *Ledger) stops(r runner, run string) ([]string, error) {
	rows, err := r.query(`SELECT why FROM run_stops WHERE run=? ORDER BY at_ms, shard`, run)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var why string
		if err := rows.Scan(&why); err != nil {
			return nil, err
		}
		out = append(out, why)
	}
	return out, rows.Err()
}

// RunExists says whether run is in the ledger: recorded, or joined by a shard. A run id is used
// once: the caller refuses --run-id of a run that exists (a sharded run's shards are refused by
// JoinShard).
func (l *Ledger) RunExists(id string) (bool, error) {
	l.sync()
	var k int
	if err := l.r().row(`SELECT CASE WHEN EXISTS(SELECT 1 FROM runs WHERE id=?) OR EXISTS(SELECT 1 FROM shards WHERE run=?) THEN 1 ELSE 0 END`,
		id, id).Scan(&k); err != nil {
		return false, l.errorf("look for run %s: %w", id, err)
	}
	return k == 1, nil
}

// BatchTotal is a batch of a sharded run over all its shards: its hosts, how many failed, and
// the shards counted as dead (in index order); Stopped, the reasons any shard gave for stopping
// the run (StopRun): then the totals may be partial, and every shard stops.
type BatchTotal struct {
	Hosts, Failed int
	Dead          []int
	Stopped       []string
}

// pollEvery is how often WaitBatch looks at the other shards.
const pollEvery = 100 * time.Millisecond

// WaitBatch blocks until every shard of run (n of them) has recorded BatchDone for batch b, or
// is dead (no heartbeat for longer than stale and no run.done), or a shard has stopped the run
// (StopRun), or ctx ends (its queries too). It returns the totals over all shards for batch b:
// hosts and failed, and the shards it counted as dead. A dead shard's hosts of batch b that have
// no host.done count as failed (it died mid-batch).
//
// A shard that recorded run.done counts as done for every batch it has not reported, with its
// hosts of that batch as the ledger has them (none: a shard with fewer batches; a shard that was
// interrupted mid-batch counts the hosts it had started). A shard never seen at all is dead once
// stale has passed since the first shard of the run joined (or since the wait began).
//
// The first WaitBatch to see every shard accounted for writes its totals as the batch's verdict,
// and every WaitBatch of that batch returns the verdict: all shards decide alike, even about a
// shard that was slow rather than dead and reports the batch late (a shard finding itself in
// Dead should stop). A stop is returned (in Stopped) as soon as it is recorded, with the verdict
// if there is one, without waiting for the other shards.
func (l *Ledger) WaitBatch(ctx context.Context, run string, n, b int, stale time.Duration) (BatchTotal, error) {
	if n < 1 || b < 1 || stale <= 0 {
		return BatchTotal{}, fmt.Errorf("wait for batch %d of run %s over %d shards, stale after %s: want n >= 1, batch >= 1, stale > 0", b, run, n, stale)
	}
	start := int64(-1)
	var waiting []int
	for {
		total, still, err := l.batchState(ctx, run, n, b, stale, &start)
		switch {
		case err != nil && ctx.Err() != nil:
			return BatchTotal{}, l.errorf("batch %d of run %s: %s: %w", b, run, stillWaiting(waiting, "to end it"), ctx.Err())
		case err != nil:
			return BatchTotal{}, l.errorf("batch %d of run %s: %w", b, run, err)
		case still == nil:
			return total, nil
		}
		waiting = still
		select {
		case <-ctx.Done():
			return BatchTotal{}, l.errorf("batch %d of run %s: %s: %w", b, run, stillWaiting(waiting, "to end it"), ctx.Err())
		case <-time.After(pollEvery):
		}
	}
}

// batchState is the verdict on batch b if there is one or can be one now, or the run's stops;
// else the shards it waits for.
func (l *Ledger) batchState(ctx context.Context, run string, n, b int, stale time.Duration, start *int64) (BatchTotal, []int, error) {
	r := l.rc(ctx)
	stops, err := l.stops(r, run)
	if err != nil {
		return BatchTotal{}, nil, err
	}
	if t, ok, err := l.verdict(r, run, b); err != nil || ok || stops != nil {
		t.Stopped = stops
		return t, nil, err
	}
	var now int64
	if err := r.row(`SELECT NOW_MS()`).Scan(&now); err != nil {
		return BatchTotal{}, nil, err
	}
	if *start < 0 {
		*start = now
	}
	type shardRow struct {
		joined, beat int64
		ended        bool
	}
	seen := map[int]shardRow{}
	ref := *start
	rows, err := r.query(`SELECT shard, COALESCE(joined_ms, 0), COALESCE(heartbeat_ms, joined_ms, 0), CASE WHEN ended IS NULL THEN 0 ELSE 1 END
		FROM shards WHERE run=?`, run)
	if err != nil {
		return BatchTotal{}, nil, err
	}
	for rows.Next() {
		var i, ended int
		var s shardRow
		if err := rows.Scan(&i, &s.joined, &s.beat, &ended); err != nil {
			rows.Close()
			return BatchTotal{}, nil, err
		}
		s.ended = ended == 1
		seen[i] = s
		if s.joined > 0 && s.joined < ref {
			ref = s.joined
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return BatchTotal{}, nil, err
	}
	reported := map[int][2]int{}
	rows, err = r.query(`SELECT shard, COALESCE(hosts, 0), COALESCE(failed, 0) FROM shard_batches WHERE run=? AND batch=?`, run, b)
	if err != nil {
		return BatchTotal{}, nil, err
	}
	for rows.Next() {
		var i, h, f int
		if err := rows.Scan(&i, &h, &f); err != nil {
			rows.Close()
			return BatchTotal{}, nil, err
		}
		reported[i] = [2]int{h, f}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return BatchTotal{}, nil, err
	}
	var total BatchTotal
	var waiting, fromHosts []int
	for i := 0; i < n; i++ {
		s, ok := seen[i]
		switch rep, did := reported[i]; {
		case did:
			total.Hosts, total.Failed = total.Hosts+rep[0], total.Failed+rep[1]
		case ok && s.ended:
			fromHosts = append(fromHosts, i)
		case ok && now-s.beat > stale.Milliseconds(), !ok && now-ref > stale.Milliseconds():
			total.Dead = append(total.Dead, i)
			fromHosts = append(fromHosts, i)
		default:
			waiting = append(waiting, i)
		}
	}
	if waiting != nil {
		return BatchTotal{}, waiting, nil
	}
	for _, i := range fromHosts {
		var h, f int
		// Unfinished hosts (no host.done) count as failed: their shard is gone mid-batch.
		if err := r.row(`SELECT COUNT(*), COALESCE(SUM(CASE WHEN ended IS NULL OR status IN ('failed', 'rollback-failed') THEN 1 ELSE 0 END), 0)
			FROM hosts WHERE run=? AND shard=? AND batch=?`, run, fmt.Sprintf("%d/%d", i, n), b).Scan(&h, &f); err != nil {
			return BatchTotal{}, nil, err
		}
		total.Hosts, total.Failed = total.Hosts+h, total.Failed+f
	}
	if _, err := r.exec(`INSERT INTO batch_totals(run, batch, hosts, failed, dead) VALUES(?,?,?,?,?) ON CONFLICT(run, batch) DO NOTHING`,
		run, b, total.Hosts, total.Failed, joinInts(total.Dead)); err != nil {
		return BatchTotal{}, nil, err
	}
	t, _, err := l.verdict(r, run, b)
	return t, nil, err
}

// verdict reads the totals of batch b written by the first WaitBatch that could.
func (l *Ledger) verdict(r runner, run string, b int) (BatchTotal, bool, error) {
	var t BatchTotal
	var dead string
	err := r.row(`SELECT hosts, failed, COALESCE(dead, '') FROM batch_totals WHERE run=? AND batch=?`, run, b).Scan(&t.Hosts, &t.Failed, &dead)
	if err == sql.ErrNoRows {
		return t, false, nil
	}
	if err != nil {
		return t, false, err
	}
	for _, s := range strings.Split(dead, ",") {
		if i, err := strconv.Atoi(s); err == nil {
			t.Dead = append(t.Dead, i)
		}
	}
	return t, true, nil
}

// stillWaiting says which shards a wait that ended was waiting for ("" not known yet).
func stillWaiting(shards []int, what string) string {
	if len(shards) == 0 {
		return "still waiting for the other shards " + what
	}
	return fmt.Sprintf("still waiting for shard(s) %s %s", joinInts(shards), what)
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for k, i := range v {
		s[k] = strconv.Itoa(i)
	}
	return strings.Join(s, ",")
}

// Shard is one controller's part of a sharded run.
type Shard struct {
	Index, Of      int
	Status         string // its run.done's; "running" before it
	Started, Ended time.Time
	Counts         fleet.Counts
	// Recorded by RecordStart and RecordEnd, as in Run.
	PlaybookSHA256, Message, RetryFile string
	Flags                              []string
	ExitCode                           *int
	Heartbeat                          time.Time // its last sign of life, by the database's clock
	Stopped                            string    // why it stopped the run (StopRun); empty: it did not
}

// Shards returns the shards of run in index order (none for an unsharded run).
func (l *Ledger) Shards(run string) ([]Shard, error) {
	l.sync()
	rows, err := l.r().query(`SELECT shard, COALESCE(n, 0), COALESCE(status, 'running'), started, ended,
		COALESCE(hosts,0), COALESCE(ok,0), COALESCE(changed,0), COALESCE(failed,0), COALESCE(rolled_back,0), COALESCE(skipped,0),
		playbook_sha256, flags, exit_code, message, retry_file, COALESCE(heartbeat_ms, joined_ms, 0)
		FROM shards WHERE run=? ORDER BY shard`, run)
	if err != nil {
		return nil, l.wrap(err)
	}
	defer rows.Close()
	var out []Shard
	for rows.Next() {
		var s Shard
		var started, ended, sum, flags, msg, retry sql.NullString
		var exit sql.NullInt64
		var beat int64
		if err := rows.Scan(&s.Index, &s.Of, &s.Status, &started, &ended,
			&s.Counts.Hosts, &s.Counts.OK, &s.Counts.Changed, &s.Counts.Failed, &s.Counts.RolledBack, &s.Counts.Skipped,
			&sum, &flags, &exit, &msg, &retry, &beat); err != nil {
			return nil, l.wrap(err)
		}
		s.Started, s.Ended = parseTS(started), parseTS(ended)
		s.PlaybookSHA256, s.Message, s.RetryFile = sum.String, msg.String, retry.String
		if flags.Valid {
			json.Unmarshal([]byte(flags.String), &s.Flags)
		}
		if exit.Valid {
			code := int(exit.Int64)
			s.ExitCode = &code
		}
		if beat > 0 {
			s.Heartbeat = time.UnixMilli(beat).UTC()
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, l.wrap(err)
	}
	rows.Close()
	stops, err := l.r().query(`SELECT shard, why FROM run_stops WHERE run=?`, run)
	if err != nil {
		return nil, l.wrap(err)
	}
	defer stops.Close()
	for stops.Next() {
		var i int
		var why string
		if err := stops.Scan(&i, &why); err != nil {
			return nil, l.wrap(err)
		}
		for k := range out {
			if out[k].Index == i {
				out[k].Stopped = why
			}
		}
	}
	return out, l.wrap(stops.Err())
}
