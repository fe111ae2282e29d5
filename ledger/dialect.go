package ledger

import (
	"context"
	"database/sql"
	"net/url"
	"strconv"
	"strings"
)

// dialect is what differs between SQLite and PostgreSQL. Queries are written once, with ?
// placeholders, GREATEST(a, b) for the larger of two values and NOW_MS() for the database's
// clock in milliseconds since the epoch; q rewrites them for the backend.
type dialect struct{ pg bool }

// nowMS is the database's clock: every shard's heartbeat is stamped and judged by it, so the
// controllers' own clocks need not agree.
const (
	sqliteNowMS = `CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)`
	pgNowMS     = `CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)`
)

func (d dialect) q(s string) string {
	if !d.pg {
		s = strings.ReplaceAll(s, "GREATEST(", "MAX(") // SQLite's MAX with two arguments is scalar
		return strings.ReplaceAll(s, "NOW_MS()", sqliteNowMS)
	}
	s = strings.ReplaceAll(s, "NOW_MS()", pgNowMS)
	var b strings.Builder
	n, quoted := 0, false
	for _, r := range s {
		switch {
		case r == '\'':
			quoted = !quoted
		case r == '?' && !quoted:
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// schema is the DDL for this backend. PostgreSQL compares text by the database's locale unless
// told otherwise; "C" sorts host names and timestamps byte by byte, as SQLite does.
func (d dialect) schema(s string) string {
	if d.pg {
		return strings.ReplaceAll(s, " TEXT", ` TEXT COLLATE "C"`)
	}
	return s
}

// columnsQuery lists a table's columns (its one argument: the table's name).
func (d dialect) columnsQuery() string {
	if d.pg {
		return `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1`
	}
	return `SELECT name FROM pragma_table_info(?)`
}

// Advisory lock keys (PostgreSQL): the schema's, and one per run (with the run id's hash).
const (
	lockSchema = 0x66647363 // "fdsc"
	lockRun    = 0x66647275 // "fdru"
)

// lockSchema serialises schema creation and migration between processes opening one PostgreSQL
// ledger at once: CREATE TABLE IF NOT EXISTS is not safe against a concurrent one there. On
// SQLite the transaction is BEGIN IMMEDIATE, which already excludes other writers.
func (d dialect) lockSchema(tx *sql.Tx) error {
	if !d.pg {
		return nil
	}
	_, err := tx.Exec(`SELECT pg_advisory_xact_lock($1, 0)`, int32(lockSchema))
	return err
}

// lockRun serialises the transactions that aggregate a sharded run's rows (run.done, RecordEnd,
// JoinShard): under READ COMMITTED two shards ending together would each miss the other's row.
func (d dialect) lockRun(tx *sql.Tx, run string) error {
	if !d.pg {
		return nil
	}
	_, err := tx.Exec(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, int32(lockRun), run)
	return err
}

// runner runs queries written with ? on a database or transaction, in its dialect.
type runner struct {
	d dialect
	x interface {
		ExecContext(context.Context, string, ...any) (sql.Result, error)
		QueryContext(context.Context, string, ...any) (*sql.Rows, error)
		QueryRowContext(context.Context, string, ...any) *sql.Row
	}
}

func (r runner) exec(q string, args ...any) (sql.Result, error) {
	return r.x.ExecContext(context.Background(), r.d.q(q), args...)
}

func (r runner) query(q string, args ...any) (*sql.Rows, error) {
	return r.x.QueryContext(context.Background(), r.d.q(q), args...)
}

func (r runner) row(q string, args ...any) *sql.Row {
	return r.x.QueryRowContext(context.Background(), r.d.q(q), args...)
}

// isPostgres says whether Open's argument is a PostgreSQL URL rather than a file path.
func isPostgres(s string) bool {
	l := strings.ToLower(s)
	return strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://")
}

// Redact returns a ledger location fit for messages: a URL's password (in its user part or
// a password= parameter) replaced by xxxxx. A file path is returned as it is.
func Redact(s string) string {
	i := strings.Index(s, "://")
	if i < 0 {
		return s
	}
	if u, err := url.Parse(s); err == nil {
		q := u.Query()
		if q.Has("password") {
			q.Set("password", "xxxxx")
			u.RawQuery = q.Encode()
		}
		return u.Redacted()
	}
	// Unparsable (a password with an unescaped character in it): keep only the user name, and
	// drop the query, which could hold the password too.
	rest := s[i+3:]
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		user, _, _ := strings.Cut(rest[:at], ":")
		rest = user + ":xxxxx@" + rest[at+1:]
	}
	rest, _, _ = strings.Cut(rest, "?")
	return s[:i+3] + rest
}

// passwords are the forms a URL's password can take in a message: as written, and unescaped.
func passwords(s string) []string {
	var out []string
	add := func(p string) {
		if p != "" && p != "xxxxx" {
			out = append(out, p)
			if u, err := url.PathUnescape(p); err == nil && u != p {
				out = append(out, u)
			}
			if e := url.QueryEscape(p); e != p {
				out = append(out, e)
			}
		}
	}
	i := strings.Index(s, "://")
	if i < 0 {
		return nil
	}
	if u, err := url.Parse(s); err == nil {
		if p, ok := u.User.Password(); ok {
			add(p)
			add(url.UserPassword("", p).String()[1:]) // as the URL escapes it
		}
		add(u.Query().Get("password"))
		return out
	}
	rest := s[i+3:]
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		if _, p, ok := strings.Cut(rest[:at], ":"); ok {
			add(p)
		}
	}
	return out
}

// scrubbed is an error whose message had the ledger's password taken out; errors.Is and As
// still see the original.
type scrubbed struct {
	msg string
	err error
}

func (e *scrubbed) Error() string { return e.msg }
func (e *scrubbed) Unwrap() error { return e.err }

// scrub takes the passwords of location out of err's message: the driver's errors are not
// supposed to quote the URL, but a message is not the place to find out that one did.
func scrub(err error, location string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	changed := false
	for _, p := range passwords(location) {
		if strings.Contains(msg, p) {
			msg, changed = strings.ReplaceAll(msg, p, "xxxxx"), true
		}
	}
	if !changed {
		return err
	}
	return &scrubbed{msg, err}
}
