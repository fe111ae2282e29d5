// Package ledger owns the controller's record of runs, fed by a run's events: runs, hosts, the
// changes each host's plan held (with diffs), outcomes, timings and every event as emitted.
// history and show read it. It is an embedded SQLite file (pure Go, modernc.org/sqlite), or a
// PostgreSQL database (a postgres:// URL) that the controllers of a sharded run share: each
// shard records its own events under the run's id, and the database is where the shards meet
// to apply --max-fail to a batch as a whole (JoinShard, Heartbeat, BatchDone, WaitBatch).
package ledger

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/frontdoor-dev/frontdoor/fleet"
)

// schema is written for both backends (dialect.schema adapts it). events are keyed by shard too:
// every shard of a run counts its seq from 1. shards holds each shard's join (with the digest of
// its options), end, heartbeat and RecordStart/RecordEnd; shard_batches what each shard reported
// of a batch (BatchDone); batch_totals the one verdict on a batch that every shard's WaitBatch
// returns; run_stops why a shard stopped the whole run (StopRun).
const schema = `
CREATE TABLE IF NOT EXISTS runs(id TEXT PRIMARY KEY, command TEXT, playbook TEXT, inventory TEXT, controller TEXT,
  undoes TEXT, started TEXT, ended TEXT, status TEXT, hosts INT, ok INT, changed INT, failed INT, rolled_back INT, skipped INT);
CREATE TABLE IF NOT EXISTS hosts(run TEXT, host TEXT, batch INT, status TEXT, changed INT, rolled_back INT, error TEXT,
  started TEXT, ended TEXT, duration_ms BIGINT, PRIMARY KEY(run, host));
CREATE TABLE IF NOT EXISTS changes(run TEXT, host TEXT, idx INT, step TEXT, action TEXT, summary TEXT, diff TEXT,
  PRIMARY KEY(run, host, idx));
CREATE TABLE IF NOT EXISTS events(run TEXT, shard TEXT NOT NULL DEFAULT '', seq INT, time TEXT, type TEXT, host TEXT, batch INT, json TEXT,
  PRIMARY KEY(run, shard, seq));
CREATE TABLE IF NOT EXISTS shards(run TEXT, shard INT, n INT, started TEXT, ended TEXT, status TEXT,
  hosts INT, ok INT, changed INT, failed INT, rolled_back INT, skipped INT,
  playbook_sha256 TEXT, flags TEXT, exit_code INT, message TEXT, retry_file TEXT, joined_ms BIGINT, heartbeat_ms BIGINT, options TEXT,
  PRIMARY KEY(run, shard));
CREATE TABLE IF NOT EXISTS shard_batches(run TEXT, shard INT, batch INT, hosts INT, failed INT, PRIMARY KEY(run, shard, batch));
CREATE TABLE IF NOT EXISTS batch_totals(run TEXT, batch INT, hosts INT, failed INT, dead TEXT, PRIMARY KEY(run, batch));
CREATE TABLE IF NOT EXISTS run_stops(run TEXT, shard INT, why TEXT, at_ms BIGINT, PRIMARY KEY(run, shard));
`

// addedColumns are the columns added after a table's first version, added to an older ledger
// when it is opened (ALTER TABLE ADD COLUMN keeps its rows; they read NULL: "not recorded").
var addedColumns = []struct{ table, name, decl string }{
	{"runs", "playbook_sha256", "TEXT"}, // the playbook's bytes as the run read them
	{"runs", "flags", "TEXT"},           // JSON list of the options given, as written (--serial 2)
	{"runs", "exit_code", "INT"},        // the controller's exit status
	{"runs", "message", "TEXT"},         // what the controller said last (frontdoor: ...), with the commands to run
	{"runs", "retry_file", "TEXT"},      // where the hosts to retry were written
	{"hosts", "shard", "TEXT"},          // the shard ("i/n") whose host it is; NULL or '' unsharded
	{"shards", "options", "TEXT"},       // the digest of the options every shard must share (JoinShard)
}

// DefaultPath is the ledger under the user's state directory ($XDG_STATE_HOME, else
// ~/.local/state). Root without a $HOME (cron, a bare sudo) keeps it in /var/lib/frontdoor.
func DefaultPath() (string, error) {
	dir := os.Getenv("XDG_STATE_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			if os.Geteuid() == 0 {
				return "/var/lib/frontdoor/ledger.db", nil
			}
			return "", fmt.Errorf("no place for the run ledger: set $HOME or $XDG_STATE_HOME, or pass --ledger FILE")
		}
		dir = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(dir, "frontdoor", "ledger.db"), nil
}

// DefaultDir creates the directory of the default ledger path (0700), which Open does not.
func DefaultDir(path string) error {
	return os.MkdirAll(filepath.Dir(path), 0o700)
}

// Ledger is an open ledger database.
type Ledger struct {
	db       *sql.DB
	d        dialect
	location string // as given to Open: only for taking its password out of errors
	path     string // for messages: a URL's password redacted
	mu       sync.Mutex
	err      error             // the first write error, reported at Close
	shardOf  map[string]string // run id: the shard ("i/n") this process recorded its events as
	// q is what Record queued and the writer has not stored yet.
	q struct {
		sync.Mutex
		events  []fleet.Event
		writing bool
		idle    chan struct{} // closed when the writer ends
	}
	onTx func(events int) // tests: called with the events of each writer transaction
}

// Open opens (creating) the ledger at location: a file path for SQLite, or a postgres:// (or
// postgresql://) URL for PostgreSQL. Errors and Where name it with its password redacted.
//
// A SQLite ledger's directory must exist. The ledger holds diffs of configuration files: the
// file is created 0600 (SQLite gives its -wal and -shm files the database's mode) and an existing
// one readable by others is made 0600. A PostgreSQL ledger's access is the database's.
func Open(location string) (*Ledger, error) {
	if isPostgres(location) {
		return openPostgres(location)
	}
	if isKeywordDSN(location) {
		// Not quoted: it may hold a password.
		return nil, fmt.Errorf("the ledger given looks like a libpq keyword/value string (host=... dbname=...), which is not taken: " +
			"give the ledger as a file path or a postgres://USER@HOST/DB URL (postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=verify-full)")
	}
	path := location
	if st, err := os.Stat(filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("ledger %s: %w", path, err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("ledger %s: %s is not a directory", path, filepath.Dir(path))
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("ledger %s: %w", path, err)
	}
	st, err := f.Stat()
	if err == nil && st.Mode().Perm()&0o077 != 0 {
		err = f.Chmod(0o600)
	}
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("ledger %s: %w", path, err)
	}
	// BEGIN IMMEDIATE: a transaction takes the write lock as it starts, waiting (busy_timeout) for
	// another process's, rather than failing when it upgrades a read to a write.
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("ledger %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	l := &Ledger{db: db, location: path, path: path, shardOf: map[string]string{}}
	if err := l.migrate(); err != nil {
		db.Close()
		return nil, err
	}
	return l, nil
}

func openPostgres(u string) (*Ledger, error) {
	l := &Ledger{d: dialect{pg: true}, location: u, path: Redact(u), shardOf: map[string]string{}}
	if err := checkURL(u); err != nil {
		return nil, l.errorf("%w", err)
	}
	n := scheme(u)
	u = strings.ToLower(u[:n]) + u[n:] // pgx takes postgres:// in lower case only
	db, err := sql.Open("pgx", u)
	if err != nil {
		return nil, l.errorf("%w: check the URL (postgres://USER:PASSWORD@HOST:PORT/DATABASE)", err)
	}
	db.SetMaxOpenConns(4)
	l.db = db
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, l.errorf("%w: check the URL's host, port, user, password and database, and that the server takes connections from here", err)
	}
	if err := l.migrate(); err != nil {
		db.Close()
		return nil, err
	}
	return l, nil
}

// Where is the ledger's location for messages: its path, or its URL with the password redacted.
func (l *Ledger) Where() string { return l.path }

// errorf makes an error naming the ledger (redacted), with its password taken out of the rest.
func (l *Ledger) errorf(format string, a ...any) error {
	return scrub(fmt.Errorf("ledger %s: "+format, append([]any{l.path}, a...)...), l.location)
}

// wrap names the ledger in a read's error.
func (l *Ledger) wrap(err error) error {
	if err == nil {
		return nil
	}
	return l.errorf("%w", err)
}

func (l *Ledger) r() runner { return runner{d: l.d, x: l.db} }

// rc is r with a context: a query ends when ctx does.
func (l *Ledger) rc(ctx context.Context) runner { return runner{d: l.d, x: l.db, ctx: ctx} }

// migrate creates the tables and brings an older ledger up to this version, in one transaction
// that excludes other processes doing the same.
func (l *Ledger) migrate() error {
	tx, err := l.db.Begin()
	if err != nil {
		return l.errorf("%w", err)
	}
	defer tx.Rollback()
	if err := l.d.lockSchema(tx); err != nil {
		return l.errorf("%w", err)
	}
	if _, err := tx.Exec(l.d.schema(schema)); err != nil {
		return l.errorf("create the tables: %w", err)
	}
	if err := l.keyEventsByShard(tx); err != nil {
		return l.errorf("key the events by shard: %w", err)
	}
	if err := l.addColumns(tx); err != nil {
		return l.errorf("add the columns of this version: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return l.errorf("%w", err)
	}
	return nil
}

func (l *Ledger) columns(tx *sql.Tx, table string) (map[string]bool, error) {
	rows, err := tx.Query(l.d.columnsQuery(), table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	have := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		have[n] = true
	}
	return have, rows.Err()
}

// keyEventsByShard rebuilds the events of a ledger from before shards (PRIMARY KEY(run, seq)) as
// keyed by (run, shard, seq), keeping every row: a key cannot be changed in place in SQLite.
func (l *Ledger) keyEventsByShard(tx *sql.Tx) error {
	have, err := l.columns(tx, "events")
	if err != nil || have["shard"] {
		return err
	}
	for _, q := range []string{
		l.d.schema(`CREATE TABLE events_new(run TEXT, shard TEXT NOT NULL DEFAULT '', seq INT, time TEXT, type TEXT, host TEXT, batch INT, json TEXT,
  PRIMARY KEY(run, shard, seq))`),
		`INSERT INTO events_new(run, shard, seq, time, type, host, batch, json) SELECT run, '', seq, time, type, host, batch, json FROM events`,
		`DROP TABLE events`,
		`ALTER TABLE events_new RENAME TO events`,
	} {
		if _, err := tx.Exec(q); err != nil {
			return err
		}
	}
	return nil
}

// addColumns brings a ledger written by an earlier version up to this one's columns.
func (l *Ledger) addColumns(tx *sql.Tx) error {
	have := map[string]map[string]bool{}
	for _, c := range addedColumns {
		if have[c.table] == nil {
			cols, err := l.columns(tx, c.table)
			if err != nil {
				return err
			}
			have[c.table] = cols
		}
		if !have[c.table][c.name] {
			if _, err := tx.Exec(`ALTER TABLE ` + c.table + ` ADD COLUMN ` + c.name + ` ` + l.d.schema(" "+c.decl)); err != nil {
				return err
			}
		}
	}
	return nil
}

// Start is what a run's controller knows about it besides its events: recorded once the run has
// started (after its run.start event).
type Start struct {
	PlaybookSHA256 string
	Flags          []string
	// Shard is the controller's shard of the run ("i/n"); empty, the shard this Ledger recorded
	// the run's events as (none for an unsharded run).
	Shard string
}

// RecordStart adds what the events do not carry to a started run. A shard's is kept in its row
// of shards; the run's row takes shard 0's (until shard 0 has recorded it, the lowest shard's
// that has): the shards' options differ only in --shard.
func (l *Ledger) RecordStart(run string, s Start) {
	flags, _ := json.Marshal(s.Flags)
	l.sync() // the run's run.start stored: its row, and the shard it was recorded as
	shard := l.shardFor(run, s.Shard)
	if shard == "" {
		l.exec(`UPDATE runs SET playbook_sha256=?, flags=? WHERE id=?`, s.PlaybookSHA256, string(flags), run)
		return
	}
	l.shardUpsert(run, shard, `INSERT INTO shards(run, shard, n, playbook_sha256, flags, joined_ms) VALUES(?,?,?,?,?,NOW_MS())
		ON CONFLICT(run, shard) DO UPDATE SET playbook_sha256=excluded.playbook_sha256, flags=excluded.flags`,
		s.PlaybookSHA256, string(flags))
}

// shardUpsert writes shard's row of run with q (whose first three arguments are run, i, n; args
// follow), under the run's lock, and aggregates the run again.
func (l *Ledger) shardUpsert(run, shard, q string, args ...any) {
	l.write(func(tx *sql.Tx) error {
		i, n, err := parseShard(shard)
		if err == nil {
			err = l.d.lockRun(context.Background(), tx, run)
		}
		t := runner{d: l.d, x: tx}
		if err == nil {
			_, err = t.exec(q, append([]any{run, i, n}, args...)...)
		}
		if err == nil {
			err = l.aggregate(t, run)
		}
		return err
	})
}

// End is how the controller ended a run: its exit status and last words.
type End struct {
	ExitCode  int
	Message   string
	RetryFile string
	// Shard is as in Start.
	Shard string
}

// RecordEnd records how the controller ended a run (after its run.done event). A shard's is kept
// in its row of shards; the run's row takes the end of the shard with the highest exit status
// (130 interrupted, 4, 3 stopped, 1, 0; the lowest shard among equals): that shard's message and
// retry file say what went wrong, and a run is only as good as its worst shard. Each shard's own
// retry file names its own hosts: Shards lists them all.
func (l *Ledger) RecordEnd(run string, e End) {
	l.sync() // as in RecordStart
	shard := l.shardFor(run, e.Shard)
	if shard == "" {
		l.exec(`UPDATE runs SET exit_code=?, message=?, retry_file=? WHERE id=?`, e.ExitCode, e.Message, e.RetryFile, run)
		return
	}
	l.shardUpsert(run, shard, `INSERT INTO shards(run, shard, n, exit_code, message, retry_file, joined_ms) VALUES(?,?,?,?,?,?,NOW_MS())
		ON CONFLICT(run, shard) DO UPDATE SET exit_code=excluded.exit_code, message=excluded.message, retry_file=excluded.retry_file`,
		e.ExitCode, e.Message, e.RetryFile)
}

// shardFor is the shard a RecordStart or RecordEnd is about.
func (l *Ledger) shardFor(run, given string) string {
	if given != "" {
		return given
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.shardOf[run]
}

// exec runs a write, keeping its error for Close as Record does.
func (l *Ledger) exec(q string, args ...any) {
	l.sync()
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, err := l.r().exec(q, args...); err != nil && l.err == nil {
		l.err = err
	}
}

// write runs fn in a transaction, keeping its error for Close as Record does.
func (l *Ledger) write(fn func(*sql.Tx) error) {
	l.sync()
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.inTx(fn); err != nil && l.err == nil {
		l.err = err
	}
}

func (l *Ledger) inTx(fn func(*sql.Tx) error) error {
	tx, err := l.db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// Close closes the database and returns the first error any write met.
func (l *Ledger) Close() error {
	l.sync()
	err := l.db.Close()
	if l.err != nil {
		return l.errorf("%w", l.err)
	}
	return l.wrap(err)
}

// ts is a time as stored: fixed width (nanoseconds always written), so that text order is time
// order. Times stored by earlier versions (RFC 3339, trailing zeros dropped) read the same.
func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000000Z07:00") }

// parseShard reads an event's shard: "i/n" with 0 <= i < n; "" (unsharded) is -1, 0.
func parseShard(s string) (i, n int, err error) {
	if s == "" {
		return -1, 0, nil
	}
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return 0, 0, fmt.Errorf("shard %q: want i/n, 0 <= i < n (e.g. 2/4)", s)
	}
	return i, n, nil
}

// Record is a sink for fleet.Emitter. It queues the event and returns: a writer stores what is
// queued, in order, one transaction for all that came while the last one was written (at most
// maxPerTx). The emitter calls its sinks one event at a time for every host, so a commit per
// event made every host wait for the disk (at 1,000 hosts, 15% of the controller's CPU and the
// emitter's lock held through each fsync). A controller killed mid-run loses only the events of the transaction in
// flight: the ledger still says how far it got.
func (l *Ledger) Record(e fleet.Event) {
	l.q.Lock()
	defer l.q.Unlock()
	l.q.events = append(l.q.events, e)
	if !l.q.writing {
		l.q.writing = true
		l.q.idle = make(chan struct{})
		go l.writer()
	}
}

// maxPerTx caps the events of one writer transaction: under a steady flow the queue never
// empties, and a transaction (with the locks it holds, the shard's row among them) stays short.
const maxPerTx = 256

// writer stores the queue until it is empty, then ends.
func (l *Ledger) writer() {
	for {
		l.q.Lock()
		batch := l.q.events
		if len(batch) > maxPerTx {
			batch, l.q.events = batch[:maxPerTx:maxPerTx], batch[maxPerTx:]
		} else {
			l.q.events = nil
		}
		if len(batch) == 0 {
			l.q.writing = false
			close(l.q.idle)
			l.q.Unlock()
			return
		}
		l.q.Unlock()
		l.mu.Lock()
		if l.onTx != nil {
			l.onTx(len(batch))
		}
		if err := l.recordAll(batch); err != nil {
			// One bad event must not lose the others: each again, alone.
			for _, e := range batch {
				if err := l.recordAll([]fleet.Event{e}); err != nil && l.err == nil {
					l.err = err
				}
			}
		}
		l.mu.Unlock()
	}
}

// sync waits until every event recorded so far is stored: what reads or updates the ledger
// after Record (a run's row, the shards' batches, history) sees them.
func (l *Ledger) sync() {
	for {
		l.q.Lock()
		writing, idle := l.q.writing, l.q.idle
		l.q.Unlock()
		if !writing {
			return
		}
		<-idle
	}
}

// recordAll stores events in one transaction. Its last statements mark the shards whose events
// they are alive (an event is a sign of life as good as a heartbeat): once per transaction, and
// last, so that the shard's row is held for the commit only.
func (l *Ledger) recordAll(events []fleet.Event) error {
	tx, err := l.db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	type shardOf struct {
		run string
		i   int
	}
	var alive []shardOf
	seen := map[shardOf]bool{}
	for _, e := range events {
		if err := l.record(tx, e); err != nil {
			return err
		}
		if i, _, err := parseShard(e.Shard); err == nil && e.Shard != "" && !seen[shardOf{e.Run, i}] {
			seen[shardOf{e.Run, i}] = true
			alive = append(alive, shardOf{e.Run, i})
		}
	}
	t := runner{d: l.d, x: tx}
	for _, s := range alive {
		if _, err := t.exec(`UPDATE shards SET heartbeat_ms=NOW_MS() WHERE run=? AND shard=?`, s.run, s.i); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func (l *Ledger) record(tx *sql.Tx, e fleet.Event) error {
	i, n, err := parseShard(e.Shard)
	if err != nil {
		return err
	}
	sharded := e.Shard != ""
	if sharded {
		l.shardOf[e.Run] = e.Shard
	}
	t := runner{d: l.d, x: tx}
	raw, _ := json.Marshal(e)
	if _, err := t.exec(`INSERT INTO events(run, shard, seq, time, type, host, batch, json) VALUES(?,?,?,?,?,?,?,?)`,
		e.Run, e.Shard, e.Seq, ts(e.Time), e.Type, e.Host, e.Batch, string(raw)); err != nil {
		return err
	}
	switch e.Type {
	case fleet.RunStart:
		if sharded {
			err = l.d.lockRun(context.Background(), tx, e.Run) // before the runs row: see lockRun
		}
		if err != nil {
			break
		}
		// Every shard starts the run; the first creates its row (the earliest start is kept).
		_, err = t.exec(`INSERT INTO runs(id, command, playbook, inventory, controller, undoes, started, status) VALUES(?,?,?,?,?,?,?,?)
			ON CONFLICT(id) DO NOTHING`,
			e.Run, e.Command, e.Playbook, e.Inventory, e.Controller, e.Undoes, ts(e.Time), "running")
		if err == nil && sharded {
			_, err = t.exec(`UPDATE runs SET started=? WHERE id=? AND started > ?`, ts(e.Time), e.Run, ts(e.Time))
		}
		if err == nil && sharded {
			_, err = t.exec(`INSERT INTO shards(run, shard, n, started, joined_ms, heartbeat_ms) VALUES(?,?,?,?,NOW_MS(),NOW_MS())
				ON CONFLICT(run, shard) DO UPDATE SET n=excluded.n, started=excluded.started, heartbeat_ms=excluded.heartbeat_ms`,
				e.Run, i, n, ts(e.Time))
		}
		for b, hosts := range e.Batches {
			for _, h := range hosts {
				if err == nil {
					_, err = t.exec(`INSERT INTO hosts(run, host, batch, status, shard) VALUES(?,?,?,?,?)`, e.Run, h, b+1, "pending", e.Shard)
				}
			}
		}
	case fleet.HostPlan:
		_, err = t.exec(`UPDATE hosts SET started=? WHERE run=? AND host=? AND started IS NULL`, ts(e.Time), e.Run, e.Host)
		if err == nil {
			_, err = t.exec(`DELETE FROM changes WHERE run=? AND host=?`, e.Run, e.Host)
		}
		for i, c := range e.Changes {
			if err == nil {
				_, err = t.exec(`INSERT INTO changes(run, host, idx, step, action, summary, diff) VALUES(?,?,?,?,?,?,?)`,
					e.Run, e.Host, i, c.Step, c.Action, c.Summary, c.Diff)
			}
		}
	case fleet.HostDone, fleet.HostRollback:
		rolled := 0
		if e.RolledBack || e.Status == fleet.StatusRolledBack {
			rolled = 1
		}
		status := e.Status
		if e.Type == fleet.HostRollback && e.Status == fleet.StatusRolledBack {
			status = fleet.StatusRolledBack
		}
		_, err = t.exec(`INSERT INTO hosts(run, host, batch, status, changed, rolled_back, error, ended, duration_ms, shard) VALUES(?,?,?,?,?,?,?,?,?,?)
			ON CONFLICT(run, host) DO UPDATE SET status=excluded.status, batch=CASE WHEN excluded.batch > 0 THEN excluded.batch ELSE hosts.batch END,
			changed=GREATEST(COALESCE(hosts.changed, 0), excluded.changed), rolled_back=GREATEST(COALESCE(hosts.rolled_back, 0), excluded.rolled_back),
			error=CASE WHEN excluded.error != '' THEN excluded.error ELSE hosts.error END, ended=excluded.ended,
			duration_ms=COALESCE(hosts.duration_ms, 0) + excluded.duration_ms`,
			e.Run, e.Host, e.Batch, status, e.Changed, rolled, e.Error, ts(e.Time), e.DurationMS, e.Shard)
	case fleet.RunDone:
		c := e.Counts
		if c == nil {
			c = &fleet.Counts{}
		}
		if !sharded {
			_, err = t.exec(`UPDATE runs SET ended=?, status=?, hosts=?, ok=?, changed=?, failed=?, rolled_back=?, skipped=? WHERE id=?`,
				ts(e.Time), e.Status, c.Hosts, c.OK, c.Changed, c.Failed, c.RolledBack, c.Skipped, e.Run)
			break
		}
		if err == nil {
			err = l.d.lockRun(context.Background(), tx, e.Run)
		}
		if err == nil {
			// An upsert: the shard's end counts even if its run.start could not be recorded.
			_, err = t.exec(`INSERT INTO shards(run, shard, n, ended, status, hosts, ok, changed, failed, rolled_back, skipped, joined_ms)
				VALUES(?,?,?,?,?,?,?,?,?,?,?,NOW_MS())
				ON CONFLICT(run, shard) DO UPDATE SET ended=excluded.ended, status=excluded.status, hosts=excluded.hosts, ok=excluded.ok,
				changed=excluded.changed, failed=excluded.failed, rolled_back=excluded.rolled_back, skipped=excluded.skipped`,
				e.Run, i, n, ts(e.Time), e.Status, c.Hosts, c.OK, c.Changed, c.Failed, c.RolledBack, c.Skipped)
		}
		if err == nil {
			err = l.aggregate(t, e.Run)
		}
	}
	return err
}

// statusRank orders run statuses from best to worst: a sharded run's status is its worst shard's.
func statusRank(s string) int {
	switch s {
	case fleet.RunOK:
		return 0
	case fleet.RunFailed:
		return 2
	case fleet.RunStopped:
		return 3
	case fleet.RunInterrupted:
		return 4
	}
	return 1 // a status this version does not know: not ok, not worse than a known failure
}

// aggregate makes a sharded run's row the sum of its shards' (the caller holds the run's lock):
// counts summed over the shards that ended; status the worst of theirs, and ended the last
// end, once every shard has ended ("running" until then: the run is not over while a shard is
// still at work, or was killed before it could say); exit status, message and retry file the
// worst shard's; playbook digest and flags shard 0's (else the lowest recorded).
func (l *Ledger) aggregate(t runner, run string) error {
	rows, err := t.query(`SELECT shard, COALESCE(n, 0), ended, COALESCE(status, ''), COALESCE(hosts, 0), COALESCE(ok, 0), COALESCE(changed, 0),
		COALESCE(failed, 0), COALESCE(rolled_back, 0), COALESCE(skipped, 0), playbook_sha256, flags, exit_code, message, retry_file
		FROM shards WHERE run=? ORDER BY shard`, run)
	if err != nil {
		return err
	}
	var (
		n, ended               int
		c                      fleet.Counts
		status                 = fleet.RunOK
		last                   time.Time
		sum, flags, msg, retry sql.NullString
		exit                   sql.NullInt64
		haveStart              bool
	)
	for rows.Next() {
		var i, sn int
		var end, m, r, f, sh sql.NullString
		var st string
		var sc fleet.Counts
		var code sql.NullInt64
		if err := rows.Scan(&i, &sn, &end, &st, &sc.Hosts, &sc.OK, &sc.Changed, &sc.Failed, &sc.RolledBack, &sc.Skipped, &sh, &f, &code, &m, &r); err != nil {
			rows.Close()
			return err
		}
		n = max(n, sn)
		if end.Valid {
			ended++
			c.Hosts, c.OK, c.Changed, c.Failed, c.RolledBack, c.Skipped = c.Hosts+sc.Hosts, c.OK+sc.OK, c.Changed+sc.Changed,
				c.Failed+sc.Failed, c.RolledBack+sc.RolledBack, c.Skipped+sc.Skipped
			if statusRank(st) > statusRank(status) {
				status = st
			}
			if e := parseTS(end); e.After(last) {
				last = e
			}
		}
		if code.Valid && (!exit.Valid || code.Int64 > exit.Int64) {
			exit, msg, retry = code, m, r
		}
		if (sh.Valid || f.Valid) && !haveStart {
			sum, flags, haveStart = sh, f, true
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	var endedAt sql.NullString
	if n > 0 && ended >= n {
		endedAt = sql.NullString{String: ts(last), Valid: true}
	} else {
		status = "running"
	}
	_, err = t.exec(`UPDATE runs SET status=?, ended=?, hosts=?, ok=?, changed=?, failed=?, rolled_back=?, skipped=? WHERE id=?`,
		status, endedAt, c.Hosts, c.OK, c.Changed, c.Failed, c.RolledBack, c.Skipped, run)
	if err == nil && exit.Valid {
		_, err = t.exec(`UPDATE runs SET exit_code=?, message=?, retry_file=? WHERE id=?`, exit, msg, retry, run)
	}
	if err == nil && haveStart {
		_, err = t.exec(`UPDATE runs SET playbook_sha256=?, flags=? WHERE id=?`, sum, flags, run)
	}
	return err
}

// Run is one row of history.
type Run struct {
	ID, Command, Playbook, Inventory, Controller, Undoes, Status string
	Started, Ended                                               time.Time
	Counts                                                       fleet.Counts
	// Recorded by RecordStart and RecordEnd; empty (ExitCode nil) for runs of earlier versions
	// and for runs whose controller was killed before it could say.
	PlaybookSHA256, Message, RetryFile string
	Flags                              []string
	ExitCode                           *int
	// Shards is how many controllers the run was split across (0: not split); Shards lists them.
	Shards int
}

// Host is one host of a run, as show lists it.
type Host struct {
	Name, Status, Error string
	Batch, Changed      int
	RolledBack          bool
	Duration            time.Duration
	Changes             []fleet.Change
}

func parseTS(s sql.NullString) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s.String)
	return t
}

// Runs returns the newest runs first (at most limit; 0: all).
func (l *Ledger) Runs(limit int) ([]Run, error) {
	l.sync()
	q := `SELECT id, command, playbook, inventory, controller, undoes, started, ended, status,
		COALESCE(hosts,0), COALESCE(ok,0), COALESCE(changed,0), COALESCE(failed,0), COALESCE(rolled_back,0), COALESCE(skipped,0),
		playbook_sha256, flags, exit_code, message, retry_file, COALESCE((SELECT MAX(n) FROM shards WHERE shards.run = runs.id), 0)
		FROM runs ORDER BY started DESC, id DESC`
	if limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", limit)
	}
	rows, err := l.r().query(q)
	if err != nil {
		return nil, l.wrap(err)
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		var r Run
		var started, ended sql.NullString
		var pb, inv, ctl, undoes, sum, flags, msg, retry sql.NullString
		var exit sql.NullInt64
		if err := rows.Scan(&r.ID, &r.Command, &pb, &inv, &ctl, &undoes, &started, &ended, &r.Status,
			&r.Counts.Hosts, &r.Counts.OK, &r.Counts.Changed, &r.Counts.Failed, &r.Counts.RolledBack, &r.Counts.Skipped,
			&sum, &flags, &exit, &msg, &retry, &r.Shards); err != nil {
			return nil, l.wrap(err)
		}
		r.Playbook, r.Inventory, r.Controller, r.Undoes = pb.String, inv.String, ctl.String, undoes.String
		r.PlaybookSHA256, r.Message, r.RetryFile = sum.String, msg.String, retry.String
		if flags.Valid {
			json.Unmarshal([]byte(flags.String), &r.Flags)
		}
		if exit.Valid {
			code := int(exit.Int64)
			r.ExitCode = &code
		}
		r.Started, r.Ended = parseTS(started), parseTS(ended)
		out = append(out, r)
	}
	return out, l.wrap(rows.Err())
}

// Find returns the run whose id is id or starts with it (unambiguously).
func (l *Ledger) Find(id string) (*Run, error) {
	runs, err := l.Runs(0)
	if err != nil {
		return nil, err
	}
	var found []Run
	for _, r := range runs {
		if r.ID == id {
			return &r, nil
		}
		if strings.HasPrefix(r.ID, id) {
			found = append(found, r)
		}
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("no run %q in the ledger %s (frontdoor history lists them)", id, l.path)
	case 1:
		return &found[0], nil
	}
	return nil, fmt.Errorf("%q matches %d runs; give more of the id", id, len(found))
}

// Hosts returns a run's hosts with their planned changes, in batch then name order.
func (l *Ledger) Hosts(run string) ([]Host, error) {
	l.sync()
	rows, err := l.r().query(`SELECT host, COALESCE(batch,0), status, COALESCE(changed,0), COALESCE(rolled_back,0), COALESCE(error,''), COALESCE(duration_ms,0)
		FROM hosts WHERE run=? ORDER BY batch, host`, run)
	if err != nil {
		return nil, l.wrap(err)
	}
	var out []Host
	for rows.Next() {
		var h Host
		var rolled int
		var ms int64
		if err := rows.Scan(&h.Name, &h.Batch, &h.Status, &h.Changed, &rolled, &h.Error, &ms); err != nil {
			rows.Close()
			return nil, l.wrap(err)
		}
		h.RolledBack, h.Duration = rolled == 1, time.Duration(ms)*time.Millisecond
		out = append(out, h)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, l.wrap(err)
	}
	for i := range out {
		cr, err := l.r().query(`SELECT step, action, summary, COALESCE(diff,'') FROM changes WHERE run=? AND host=? ORDER BY idx`, run, out[i].Name)
		if err != nil {
			return nil, l.wrap(err)
		}
		for cr.Next() {
			var c fleet.Change
			if err := cr.Scan(&c.Step, &c.Action, &c.Summary, &c.Diff); err != nil {
				cr.Close()
				return nil, l.wrap(err)
			}
			out[i].Changes = append(out[i].Changes, c)
		}
		cr.Close()
	}
	return out, nil
}

// Events returns a run's events as emitted: each shard's in its seq order, the shards' merged by
// time (then shard, then seq). An unsharded run's are in seq order, as its one Emitter sent them,
// whatever times they were given.
func (l *Ledger) Events(run string) ([]fleet.Event, error) {
	l.sync()
	rows, err := l.r().query(`SELECT json FROM events WHERE run=? ORDER BY shard, seq`, run)
	if err != nil {
		return nil, l.wrap(err)
	}
	defer rows.Close()
	streams := map[string][]fleet.Event{}
	var shards []string
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			return nil, l.wrap(err)
		}
		var e fleet.Event
		if err := json.Unmarshal([]byte(raw), &e); err != nil {
			return nil, l.wrap(err)
		}
		if _, ok := streams[e.Shard]; !ok {
			shards = append(shards, e.Shard)
		}
		streams[e.Shard] = append(streams[e.Shard], e)
	}
	if err := rows.Err(); err != nil {
		return nil, l.wrap(err)
	}
	index := func(s string) int { i, _, _ := parseShard(s); return i }
	sort.Slice(shards, func(a, b int) bool { return index(shards[a]) < index(shards[b]) })
	var out []fleet.Event
	for {
		best := -1
		for k, s := range shards {
			if len(streams[s]) == 0 {
				continue
			}
			// shards is in index order: a later shard wins only with an earlier time.
			if best < 0 || streams[s][0].Time.Before(streams[shards[best]][0].Time) {
				best = k
			}
		}
		if best < 0 {
			return out, nil
		}
		s := shards[best]
		out = append(out, streams[s][0])
		streams[s] = streams[s][1:]
	}
}

// HostNames returns the names of each run's hosts, by run id.
func (l *Ledger) HostNames() (map[string][]string, error) {
	l.sync()
	rows, err := l.r().query(`SELECT run, host FROM hosts ORDER BY run, batch, host`)
	if err != nil {
		return nil, l.wrap(err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var run, host string
		if err := rows.Scan(&run, &host); err != nil {
			return nil, l.wrap(err)
		}
		out[run] = append(out[run], host)
	}
	return out, l.wrap(rows.Err())
}
