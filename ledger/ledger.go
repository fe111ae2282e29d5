// Package ledger owns the controller's record of runs: an embedded SQLite database (pure Go,
// modernc.org/sqlite) fed by a run's events, with runs, hosts, the changes each host's plan held
// (with diffs), outcomes, timings and every event as emitted. history and show read it.
package ledger

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite"

	"github.com/frontdoor-dev/frontdoor/fleet"
)

const schema = `
CREATE TABLE IF NOT EXISTS runs(id TEXT PRIMARY KEY, command TEXT, playbook TEXT, inventory TEXT, controller TEXT,
  undoes TEXT, started TEXT, ended TEXT, status TEXT, hosts INT, ok INT, changed INT, failed INT, rolled_back INT, skipped INT);
CREATE TABLE IF NOT EXISTS hosts(run TEXT, host TEXT, batch INT, status TEXT, changed INT, rolled_back INT, error TEXT,
  started TEXT, ended TEXT, duration_ms INT, PRIMARY KEY(run, host));
CREATE TABLE IF NOT EXISTS changes(run TEXT, host TEXT, idx INT, step TEXT, action TEXT, summary TEXT, diff TEXT,
  PRIMARY KEY(run, host, idx));
CREATE TABLE IF NOT EXISTS events(run TEXT, seq INT, time TEXT, type TEXT, host TEXT, batch INT, json TEXT, PRIMARY KEY(run, seq));
`

// runColumns are the columns of runs added after its first version, added to an older ledger when
// it is opened (SQLite's ALTER TABLE ADD COLUMN keeps its rows; they read NULL: "not recorded").
var runColumns = []struct{ name, decl string }{
	{"playbook_sha256", "TEXT"}, // the playbook's bytes as the run read them
	{"flags", "TEXT"},           // JSON list of the options given, as written (--serial 2)
	{"exit_code", "INT"},        // the controller's exit status
	{"message", "TEXT"},         // what the controller said last (frontdoor: ...), with the commands to run
	{"retry_file", "TEXT"},      // where the hosts to retry were written
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
	db   *sql.DB
	path string
	mu   sync.Mutex
	err  error // the first write error, reported at Close
}

// Open opens (creating) the ledger at path, in a directory that must exist. The ledger holds
// diffs of configuration files: it is created 0600 (SQLite gives its -wal and -shm files the
// database's mode) and an existing one readable by others is made 0600.
func Open(path string) (*Ledger, error) {
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
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)")
	if err != nil {
		return nil, fmt.Errorf("ledger %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("ledger %s: %w", path, err)
	}
	if err := addColumns(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("ledger %s: add the columns of this version: %w", path, err)
	}
	return &Ledger{db: db, path: path}, nil
}

// addColumns brings a ledger written by an earlier version up to this one's columns.
func addColumns(db *sql.DB) error {
	rows, err := db.Query(`SELECT name FROM pragma_table_info('runs')`)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return err
		}
		have[n] = true
	}
	rows.Close()
	for _, c := range runColumns {
		if !have[c.name] {
			if _, err := db.Exec(`ALTER TABLE runs ADD COLUMN ` + c.name + ` ` + c.decl); err != nil && !strings.Contains(err.Error(), "duplicate column") {
				return err // a concurrent Open may have added it first: that is fine
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
}

// RecordStart adds what the events do not carry to a started run.
func (l *Ledger) RecordStart(run string, s Start) {
	flags, _ := json.Marshal(s.Flags)
	l.exec(`UPDATE runs SET playbook_sha256=?, flags=? WHERE id=?`, s.PlaybookSHA256, string(flags), run)
}

// End is how the controller ended a run: its exit status and last words.
type End struct {
	ExitCode  int
	Message   string
	RetryFile string
}

// RecordEnd records how the controller ended a run (after its run.done event).
func (l *Ledger) RecordEnd(run string, e End) {
	l.exec(`UPDATE runs SET exit_code=?, message=?, retry_file=? WHERE id=?`, e.ExitCode, e.Message, e.RetryFile, run)
}

// exec runs a write, keeping its error for Close as Record does.
func (l *Ledger) exec(q string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, err := l.db.Exec(q, args...); err != nil && l.err == nil {
		l.err = err
	}
}

// Close closes the database and returns the first error any write met.
func (l *Ledger) Close() error {
	err := l.db.Close()
	if l.err != nil {
		return fmt.Errorf("ledger %s: %w", l.path, l.err)
	}
	return err
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// Record is a sink for fleet.Emitter: each event is stored as it comes, so a controller killed
// mid-run leaves a ledger that says how far it got.
func (l *Ledger) Record(e fleet.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.record(e); err != nil && l.err == nil {
		l.err = err
	}
}

func (l *Ledger) record(e fleet.Event) error {
	tx, err := l.db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	raw, _ := json.Marshal(e)
	if _, err := tx.Exec(`INSERT INTO events(run, seq, time, type, host, batch, json) VALUES(?,?,?,?,?,?,?)`,
		e.Run, e.Seq, ts(e.Time), e.Type, e.Host, e.Batch, string(raw)); err != nil {
		return err
	}
	switch e.Type {
	case fleet.RunStart:
		_, err = tx.Exec(`INSERT INTO runs(id, command, playbook, inventory, controller, undoes, started, status) VALUES(?,?,?,?,?,?,?,?)`,
			e.Run, e.Command, e.Playbook, e.Inventory, e.Controller, e.Undoes, ts(e.Time), "running")
		for b, hosts := range e.Batches {
			for _, h := range hosts {
				if err == nil {
					_, err = tx.Exec(`INSERT INTO hosts(run, host, batch, status) VALUES(?,?,?,?)`, e.Run, h, b+1, "pending")
				}
			}
		}
	case fleet.HostPlan:
		_, err = tx.Exec(`UPDATE hosts SET started=? WHERE run=? AND host=? AND started IS NULL`, ts(e.Time), e.Run, e.Host)
		if err == nil {
			_, err = tx.Exec(`DELETE FROM changes WHERE run=? AND host=?`, e.Run, e.Host)
		}
		for i, c := range e.Changes {
			if err == nil {
				_, err = tx.Exec(`INSERT INTO changes(run, host, idx, step, action, summary, diff) VALUES(?,?,?,?,?,?,?)`,
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
		_, err = tx.Exec(`INSERT INTO hosts(run, host, batch, status, changed, rolled_back, error, ended, duration_ms) VALUES(?,?,?,?,?,?,?,?,?)
			ON CONFLICT(run, host) DO UPDATE SET status=excluded.status, batch=CASE WHEN excluded.batch > 0 THEN excluded.batch ELSE hosts.batch END,
			changed=MAX(COALESCE(hosts.changed, 0), excluded.changed), rolled_back=MAX(COALESCE(hosts.rolled_back, 0), excluded.rolled_back),
			error=CASE WHEN excluded.error != '' THEN excluded.error ELSE hosts.error END, ended=excluded.ended,
			duration_ms=COALESCE(hosts.duration_ms, 0) + excluded.duration_ms`,
			e.Run, e.Host, e.Batch, status, e.Changed, rolled, e.Error, ts(e.Time), e.DurationMS)
	case fleet.RunDone:
		c := e.Counts
		if c == nil {
			c = &fleet.Counts{}
		}
		_, err = tx.Exec(`UPDATE runs SET ended=?, status=?, hosts=?, ok=?, changed=?, failed=?, rolled_back=?, skipped=? WHERE id=?`,
			ts(e.Time), e.Status, c.Hosts, c.OK, c.Changed, c.Failed, c.RolledBack, c.Skipped, e.Run)
	}
	if err != nil {
		return err
	}
	return tx.Commit()
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
	q := `SELECT id, command, playbook, inventory, controller, undoes, started, ended, status,
		COALESCE(hosts,0), COALESCE(ok,0), COALESCE(changed,0), COALESCE(failed,0), COALESCE(rolled_back,0), COALESCE(skipped,0),
		playbook_sha256, flags, exit_code, message, retry_file FROM runs ORDER BY started DESC, id DESC`
	if limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", limit)
	}
	rows, err := l.db.Query(q)
	if err != nil {
		return nil, err
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
			&sum, &flags, &exit, &msg, &retry); err != nil {
			return nil, err
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
	return out, rows.Err()
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
	rows, err := l.db.Query(`SELECT host, COALESCE(batch,0), status, COALESCE(changed,0), COALESCE(rolled_back,0), COALESCE(error,''), COALESCE(duration_ms,0)
		FROM hosts WHERE run=? ORDER BY batch, host`, run)
	if err != nil {
		return nil, err
	}
	var out []Host
	for rows.Next() {
		var h Host
		var rolled int
		var ms int64
		if err := rows.Scan(&h.Name, &h.Batch, &h.Status, &h.Changed, &rolled, &h.Error, &ms); err != nil {
			rows.Close()
			return nil, err
		}
		h.RolledBack, h.Duration = rolled == 1, time.Duration(ms)*time.Millisecond
		out = append(out, h)
	}
	rows.Close()
	for i := range out {
		cr, err := l.db.Query(`SELECT step, action, summary, COALESCE(diff,'') FROM changes WHERE run=? AND host=? ORDER BY idx`, run, out[i].Name)
		if err != nil {
			return nil, err
		}
		for cr.Next() {
			var c fleet.Change
			if err := cr.Scan(&c.Step, &c.Action, &c.Summary, &c.Diff); err != nil {
				cr.Close()
				return nil, err
			}
			out[i].Changes = append(out[i].Changes, c)
		}
		cr.Close()
	}
	return out, nil
}

// Events returns a run's events in order, as emitted.
func (l *Ledger) Events(run string) ([]fleet.Event, error) {
	rows, err := l.db.Query(`SELECT json FROM events WHERE run=? ORDER BY seq`, run)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []fleet.Event
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			return nil, err
		}
		var e fleet.Event
		if err := json.Unmarshal([]byte(raw), &e); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// HostNames returns the names of each run's hosts, by run id.
func (l *Ledger) HostNames() (map[string][]string, error) {
	rows, err := l.db.Query(`SELECT run, host FROM hosts ORDER BY run, batch, host`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var run, host string
		if err := rows.Scan(&run, &host); err != nil {
			return nil, err
		}
		out[run] = append(out[run], host)
	}
	return out, rows.Err()
}
