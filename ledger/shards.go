package ledger

import (
	"context"
	"database/sql"
	"encoding/json"
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

// JoinShard registers this process as shard i of n of run (idempotent) and starts nothing by
// itself: the caller then calls Heartbeat every second or so until the run ends. Every shard of
// a run must give the same n.
func (l *Ledger) JoinShard(run string, i, n int) error {
	l.sync()
	if n < 1 || i < 0 || i >= n {
		return fmt.Errorf("shard %d/%d: want i/n with 0 <= i < n (e.g. --shard 0/4)", i, n)
	}
	var other int
	err := l.inTx(func(tx *sql.Tx) error {
		if err := l.d.lockRun(tx, run); err != nil {
			return err
		}
		t := runner{l.d, tx}
		err := t.row(`SELECT n FROM shards WHERE run=? AND n != ?`, run, n).Scan(&other)
		if err == nil {
			return errOtherN
		}
		if err != sql.ErrNoRows {
			return err
		}
		_, err = t.exec(`INSERT INTO shards(run, shard, n, joined_ms, heartbeat_ms) VALUES(?,?,?,NOW_MS(),NOW_MS())
			ON CONFLICT(run, shard) DO UPDATE SET n=excluded.n, heartbeat_ms=excluded.heartbeat_ms`, run, i, n)
		return err
	})
	if err == errOtherN {
		return l.errorf("run %s is split in %d shards, not %d: give every shard of a run the same --shard i/%d", run, other, n, other)
	}
	if err != nil {
		return l.errorf("join run %s as shard %d/%d: %w", run, i, n, err)
	}
	return nil
}

var errOtherN = fmt.Errorf("another n")

// Heartbeat marks shard i of run alive now, by the database's clock (the caller calls it every
// second or so; every event the shard records counts as one too).
func (l *Ledger) Heartbeat(run string, i int) error {
	l.sync()
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
		t := runner{l.d, tx}
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

// BatchTotal is a batch of a sharded run over all its shards: its hosts, how many failed, and
// the shards counted as dead (in index order).
type BatchTotal struct {
	Hosts, Failed int
	Dead          []int
}

// pollEvery is how often WaitBatch looks at the other shards.
const pollEvery = 100 * time.Millisecond

// WaitBatch blocks until every shard of run (n of them) has recorded BatchDone for batch b, or
// is dead (no heartbeat for longer than stale and no run.done), or ctx ends. It returns the
// totals over all shards for batch b: hosts and failed, and the shards it counted as dead. A
// dead shard's hosts of batch b that have no host.done count as failed (it died mid-batch).
//
// A shard that recorded run.done counts as done for every batch it has not reported, with its
// hosts of that batch as the ledger has them (none: a shard with fewer batches; a shard that was
// interrupted mid-batch counts the hosts it had started). A shard never seen at all is dead once
// stale has passed since the first shard of the run joined (or since the wait began).
//
// The first WaitBatch to see every shard accounted for writes its totals as the batch's verdict,
// and every WaitBatch of that batch returns the verdict: all shards decide alike, even about a
// shard that was slow rather than dead and reports the batch late (a shard finding itself in
// Dead should stop).
func (l *Ledger) WaitBatch(ctx context.Context, run string, n, b int, stale time.Duration) (BatchTotal, error) {
	l.sync()
	if n < 1 || b < 1 || stale <= 0 {
		return BatchTotal{}, fmt.Errorf("wait for batch %d of run %s over %d shards, stale after %s: want n >= 1, batch >= 1, stale > 0", b, run, n, stale)
	}
	start := int64(-1)
	for {
		total, waiting, err := l.batchState(run, n, b, stale, &start)
		if err != nil {
			return BatchTotal{}, l.errorf("batch %d of run %s: %w", b, run, err)
		}
		if waiting == nil {
			return total, nil
		}
		select {
		case <-ctx.Done():
			return BatchTotal{}, l.errorf("batch %d of run %s: still waiting for shard(s) %s to end it: %w", b, run, joinInts(waiting), ctx.Err())
		case <-time.After(pollEvery):
		}
	}
}

// batchState is the verdict on batch b if there is one or can be one now; else the shards it
// waits for.
func (l *Ledger) batchState(run string, n, b int, stale time.Duration, start *int64) (BatchTotal, []int, error) {
	r := l.r()
	if t, ok, err := l.verdict(run, b); err != nil || ok {
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
	t, _, err := l.verdict(run, b)
	return t, nil, err
}

// verdict reads the totals of batch b written by the first WaitBatch that could.
func (l *Ledger) verdict(run string, b int) (BatchTotal, bool, error) {
	var t BatchTotal
	var dead string
	err := l.r().row(`SELECT hosts, failed, COALESCE(dead, '') FROM batch_totals WHERE run=? AND batch=?`, run, b).Scan(&t.Hosts, &t.Failed, &dead)
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
	return out, l.wrap(rows.Err())
}
