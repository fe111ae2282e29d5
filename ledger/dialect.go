package ledger

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"regexp"
	"sort"
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

// lockRun serialises the transactions of a sharded run that touch its runs row or aggregate
// its shards (run.start, run.done, RecordStart, RecordEnd, JoinShard): under READ COMMITTED two
// shards ending together would each miss the other's row. A transaction takes it before it
// touches the runs row, so that no two wait for each other in opposite orders.
func (d dialect) lockRun(ctx context.Context, tx *sql.Tx, run string) error {
	if !d.pg {
		return nil
	}
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, int32(lockRun), run)
	return err
}

// runner runs queries written with ? on a database or transaction, in its dialect, with its
// context (none: context.Background()).
type runner struct {
	d dialect
	x interface {
		ExecContext(context.Context, string, ...any) (sql.Result, error)
		QueryContext(context.Context, string, ...any) (*sql.Rows, error)
		QueryRowContext(context.Context, string, ...any) *sql.Row
	}
	ctx context.Context
}

func (r runner) c() context.Context {
	if r.ctx == nil {
		return context.Background()
	}
	return r.ctx
}

func (r runner) exec(q string, args ...any) (sql.Result, error) {
	return r.x.ExecContext(r.c(), r.d.q(q), args...)
}

func (r runner) query(q string, args ...any) (*sql.Rows, error) {
	return r.x.QueryContext(r.c(), r.d.q(q), args...)
}

func (r runner) row(q string, args ...any) *sql.Row {
	return r.x.QueryRowContext(r.c(), r.d.q(q), args...)
}

// isPostgres says whether Open's argument is a PostgreSQL URL rather than a file path.
func isPostgres(s string) bool {
	l := strings.ToLower(s)
	return strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://")
}

// isKeywordDSN says whether a location that is not a URL is a libpq keyword/value string
// (host=db user=fd password=...): Open refuses it rather than create a SQLite file of that name.
func isKeywordDSN(s string) bool {
	if isPostgres(s) {
		return false
	}
	l := strings.ToLower(s)
	return strings.Contains(s, "=") && strings.ContainsAny(s, " \t") ||
		strings.Contains(l, "host=") || strings.Contains(l, "password=") || strings.Contains(l, "dbname=")
}

// location is a ledger URL split by hand, as Redact and passwords read it (url.Parse misreads a
// password holding / # ? or a bad % escape, and drops a query pair it cannot read). The user
// info is everything between :// and the last @; the query is what follows the first ? after
// that @ (after :// without an @). Open refuses a URL that pgx would read otherwise (checkURL).
type location struct {
	user, password string // as written
	hasUser        bool   // an @ is there
	hasPass        bool   // a : in the user info
	pass           int    // where the password starts in the URL
	query          int    // where the query starts (after its ?), -1 without one
}

// scheme is the length of a URL's scheme and ://, 0 if s does not start with one.
func scheme(s string) int {
	i := strings.Index(s, "://")
	if i < 1 {
		return 0
	}
	for k, r := range s[:i] {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || k > 0 && ('0' <= r && r <= '9' || r == '+' || r == '-' || r == '.')) {
			return 0
		}
	}
	return i + 3
}

func splitURL(s string) (location, bool) {
	n := scheme(s)
	if n == 0 {
		return location{}, false
	}
	u := location{query: -1}
	host := n
	if at := strings.LastIndex(s[n:], "@"); at >= 0 {
		u.hasUser = true
		u.user, u.password, u.hasPass = strings.Cut(s[n:n+at], ":")
		u.pass = n + len(u.user) + 1
		host = n + at + 1
	}
	if q := strings.IndexByte(s[host:], '?'); q >= 0 {
		u.query = host + q + 1
	}
	return u, true
}

// queryPasswords are the spans (in q) of the values of a query's password (and sslpassword)
// parameters: the pairs split at & and ;, the key compared without case. Each value is taken
// as far as the next & (long: what Redact hides; pgx reads a ; as part of the value, so none of
// it shows), and as far as the next & or ; (short).
func queryPasswords(q string) (long, short [][2]int) {
	for k := 0; k <= len(q); {
		end := k + strings.IndexAny(q[k:], "&;")
		if end < k {
			end = len(q)
		}
		key, _, ok := strings.Cut(q[k:end], "=")
		if ok && isPasswordKey(key) {
			start := k + len(key) + 1
			amp := start + strings.IndexByte(q[start:], '&')
			if amp < start {
				amp = len(q)
			}
			long, short = append(long, [2]int{start, amp}), append(short, [2]int{start, end})
			end = amp
		}
		k = end + 1
	}
	return long, short
}

func isPasswordKey(k string) bool {
	k = strings.TrimSpace(k)
	if u, err := url.QueryUnescape(k); err == nil {
		k = u
	}
	return strings.EqualFold(k, "password") || strings.EqualFold(k, "sslpassword") // that of the client's key
}

// keywordPassword finds the password values of a libpq keyword/value string.
var keywordPassword = regexp.MustCompile(`(?i)(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'?|[^\s]*)`)

// secrets finds a location's passwords: the spans of s that Redact hides, and shorter forms of
// them a driver could read.
//
// A URL's are the user info's password (after its first :) and the query's password values.
// A query that begins before the last @ (postgres://db/x?password=p@ss, whose @ pgx reads as a
// part of the password) is read from its first ? as well. A keyword/value string's are its
// password= values.
func secrets(s string) (hide [][2]int, short []string) {
	u, ok := splitURL(s)
	if !ok {
		for _, m := range keywordPassword.FindAllStringSubmatchIndex(s, -1) {
			hide = append(hide, [2]int{m[4], m[5]})
			short = append(short, strings.Trim(s[m[4]:m[5]], "'"))
		}
		return hide, short
	}
	if u.hasPass {
		hide = append(hide, [2]int{u.pass, u.pass + len(u.password)})
	}
	query := func(from int) {
		long, sh := queryPasswords(s[from:])
		for k := range long {
			hide = append(hide, [2]int{from + long[k][0], from + long[k][1]})
			short = append(short, s[from+sh[k][0]:from+sh[k][1]])
		}
	}
	if u.query >= 0 {
		query(u.query)
	}
	n := scheme(s)
	if q := strings.IndexByte(s[n:], '?'); q >= 0 && n+q+1 != u.query {
		query(n + q + 1)
	}
	return hide, short
}

// Redact returns a ledger location fit for messages: a URL's password (in its user part or a
// password= or sslpassword= parameter) replaced by xxxxx, the rest as written. A file path is
// returned as it is; a libpq keyword/value string (which Open refuses) with its password=
// values replaced.
func Redact(s string) string {
	hide, _ := secrets(s)
	sort.Slice(hide, func(a, b int) bool { return hide[a][0] < hide[b][0] })
	var b strings.Builder
	k := 0 // s is written (or hidden) up to k
	for _, h := range hide {
		if h[0] < k { // overlaps the last one hidden
			k = max(k, h[1])
			continue
		}
		b.WriteString(s[k:h[0]] + "xxxxx")
		k = h[1]
	}
	b.WriteString(s[k:])
	return b.String()
}

// passwords are the forms a location's passwords can take in a message: as written (as Redact
// hides them, and shorter as a driver could read them), unescaped, and escaped as a URL would
// write them; the longest first.
func passwords(s string) []string {
	hide, short := secrets(s)
	raw := short
	for _, h := range hide {
		raw = append(raw, s[h[0]:h[1]])
	}
	seen := map[string]bool{}
	var out []string
	add := func(p string) {
		if p != "" && p != "xxxxx" && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, p := range raw {
		add(p)
		if d, err := url.PathUnescape(p); err == nil {
			add(d)
		}
		if d, err := url.QueryUnescape(p); err == nil {
			add(d)
		}
		add(url.QueryEscape(p))
		add(url.UserPassword("", p).String()[1:]) // as a URL's user info escapes it
	}
	sort.SliceStable(out, func(a, b int) bool { return len(out[a]) > len(out[b]) })
	return out
}

// checkURL refuses a URL whose user info pgx reads otherwise than Redact and passwords do, or
// with a bad %-escape in it. pgx reads it as libpq does, up to the first @ unless a / comes
// before: a password holding @ or / would go, in part, where the host or the database should,
// and from there into messages, where passwords could not find it whole.
func checkURL(s string) error {
	mine, _ := splitURL(s)
	rest := s[scheme(s):]
	at := strings.IndexAny(rest, "@/")
	pgx := at >= 0 && rest[at] == '@'
	if pgx != mine.hasUser || pgx && at != strings.LastIndex(rest, "@") {
		return fmt.Errorf("the URL's user info (up to its last @) does not read as written: " +
			"percent-encode what the password holds of @ / ? # %% : (as %%40 %%2F %%3F %%23 %%25 %%3A), and write an @ in a parameter as %%40")
	}
	_, err1 := url.PathUnescape(mine.user)
	_, err2 := url.PathUnescape(mine.password)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("the URL's user or password has a %% not followed by two hex digits: write a %% in them as %%25")
	}
	return nil
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
