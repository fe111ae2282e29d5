package ledger

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/frontdoor-dev/frontdoor/fleet"
	"github.com/frontdoor-dev/frontdoor/internal/pgtest"
)

// Redact hides every password a location can hold, however url.Parse would read it: in the
// user info (everything up to the last @, after the first :), in password parameters (any case,
// pairs split at & and ;, a bad % escape kept), in a query before the last @, in a libpq
// keyword/value string; passwords finds each (as written, unescaped and escaped) for scrub.
func TestRedact(t *testing.T) {
	for _, c := range []struct {
		in, want string
		secrets  []string // in no message: neither Redact's nor one scrubbed of in's passwords
	}{
		{"/var/lib/frontdoor/ledger.db", "/var/lib/frontdoor/ledger.db", nil},
		{"ledger.db", "ledger.db", nil},
		{"postgres://fd:s3cret@db.example:5432/ledger?sslmode=require", "postgres://fd:xxxxx@db.example:5432/ledger?sslmode=require", []string{"s3cret"}},
		{"postgresql://fd@db/ledger", "postgresql://fd@db/ledger", nil},
		{"POSTGRES://fd:s3cret@db/ledger", "POSTGRES://fd:xxxxx@db/ledger", []string{"s3cret"}},
		{"postgres://db/ledger", "postgres://db/ledger", nil},
		{"postgres://fd:@db/ledger", "postgres://fd:xxxxx@db/ledger", nil},
		{"postgres://fd:p%40ss%2Fword@db/ledger", "postgres://fd:xxxxx@db/ledger", []string{"p%40ss%2Fword", "p@ss/word"}},
		{"postgres://fd@db/ledger?password=s3cret&sslmode=disable", "postgres://fd@db/ledger?password=xxxxx&sslmode=disable", []string{"s3cret"}},
		{"postgres://fd:pa%zz@word@db/ledger?password=s3cret", "postgres://fd:xxxxx@db/ledger?password=xxxxx", []string{"pa%zz@word", "s3cret"}},
		// url.Parse reads host "fd", port 1234 (or fails on the port): the user info is up to the last @.
		{"postgres://fd:1234#Zq9x@db/fd", "postgres://fd:xxxxx@db/fd", []string{"1234#Zq9x"}},
		{"postgres://fd:1234/Zq9x@db/fd", "postgres://fd:xxxxx@db/fd", []string{"1234/Zq9x"}},
		{"postgres://fd:1234?Zq9x@db:5432/fd?sslmode=require", "postgres://fd:xxxxx@db:5432/fd?sslmode=require", []string{"1234?Zq9x"}},
		{"postgres://fd:p@ss:w@rd@db/fd", "postgres://fd:xxxxx@db/fd", []string{"p@ss:w@rd"}},
		// u.Query() drops a pair with a ; or a bad escape.
		{"postgres://fd@db/fd?password=ab;cd", "postgres://fd@db/fd?password=xxxxx", []string{"ab;cd", "ab"}},
		{"postgres://fd@db/fd?sslmode=disable;password=s3cret", "postgres://fd@db/fd?sslmode=disable;password=xxxxx", []string{"s3cret"}},
		{"postgres://fd@db/fd?password=a%zzb&sslmode=disable", "postgres://fd@db/fd?password=xxxxx&sslmode=disable", []string{"a%zzb"}},
		{"postgres://fd@db/fd?PassWord=s3cret&password=other", "postgres://fd@db/fd?PassWord=xxxxx&password=xxxxx", []string{"s3cret", "other"}},
		{"postgres://fd@db/fd?pass%77ord=s3cret", "postgres://fd@db/fd?pass%77ord=xxxxx", []string{"s3cret"}},
		{"postgres://db/fd?password=s3%2Bcret", "postgres://db/fd?password=xxxxx", []string{"s3%2Bcret", "s3+cret"}},
		{"postgres://db/fd?application_name=password&sslmode=require", "postgres://db/fd?application_name=password&sslmode=require", nil},
		// A query before the last @, as pgx reads it.
		{"postgres://db/fd?password=p@ss", "postgres://db/fd?password=xxxxx", []string{"p@ss"}},
		{"postgres://db/fd?password=s3cret&sslrootcert=/ca@x.pem", "postgres://db/fd?password=xxxxx&sslrootcert=/ca@x.pem", []string{"s3cret"}},
		// libpq keyword/value (Open refuses it; a message quoting the flag must not show it).
		{"host=db user=fd password=s3cret dbname=fd", "host=db user=fd password=xxxxx dbname=fd", []string{"s3cret"}},
		{"host=db PASSWORD = 'se cret' dbname=fd", "host=db PASSWORD = xxxxx dbname=fd", []string{"se cret"}},
	} {
		got := Redact(c.in)
		if got != c.want {
			t.Errorf("Redact(%q) = %q, want %q", c.in, got, c.want)
		}
		found := passwords(c.in)
		for _, p := range c.secrets {
			if strings.Contains(got, p) {
				t.Errorf("Redact(%q) shows %q", c.in, p)
			}
			msg := scrub(fmt.Errorf("dial %s: %s failed (%s)", c.in, p, url.QueryEscape(p)), c.in).Error()
			if strings.Contains(msg, p) || strings.Contains(msg, url.QueryEscape(p)) {
				t.Errorf("passwords(%q) = %q: %q is in %q", c.in, found, p, msg)
			}
		}
		if c.secrets == nil && found != nil {
			t.Errorf("passwords(%q) = %q, want none", c.in, found)
		}
	}
	if got := scrub(errors.New(`cannot parse "postgres://fd:p@ss/word@db/x": p@ss/word`), "postgres://fd:p%40ss%2Fword@db/x").Error(); strings.Contains(got, "p@ss/word") {
		t.Errorf("scrubbed: %s", got)
	}
	if got := (dialect{pg: true}).q(`SELECT a FROM t WHERE b=? AND c IN ('?', 'x') AND d=GREATEST(?, 1)`); got != `SELECT a FROM t WHERE b=$1 AND c IN ('?', 'x') AND d=GREATEST($2, 1)` {
		t.Errorf("rebound: %s", got)
	}
}

// Open refuses a libpq keyword/value string (it would make a SQLite file of that name) and a URL
// whose user info pgx would read otherwise than as written (up to the first @, not the last),
// without a server and without showing the password; a URL whose password holds # or ? is
// taken as written, and its connection's error does not show it either.
func TestOpenRefusesUnreadableLocations(t *testing.T) {
	free, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := free.Addr().String() // nobody listening there
	free.Close()
	for _, c := range []struct {
		in, want string
		secrets  []string
	}{
		{"host=db user=fd password=s3cret dbname=fd", "give the ledger as a file path or a postgres://USER@HOST/DB URL", []string{"s3cret"}},
		{"password=s3cret", "give the ledger as a file path or a postgres://USER@HOST/DB URL", []string{"s3cret"}},
		{"dbname=fd", "give the ledger as a file path or a postgres://USER@HOST/DB URL", nil},
		{"postgres://fd:12/Zq9x@HOST/fd", "percent-encode", []string{"12/Zq9x", "Zq9x"}},
		{"postgres://fd:p@ss@HOST/fd", "percent-encode", []string{"p@ss", "ss@"}},
		{"postgres://fd:pw@HOST/fd?sslrootcert=/a@b", "write an @ in a parameter as %40", []string{"pw"}},
		{"postgres://fd:pa%zz@HOST/fd", "write a % in them as %25", []string{"pa%zz"}},
		{"postgres://fd:1234#Zq9x@HOST/fd", "connection refused", []string{"1234#Zq9x", "1234", "Zq9x"}},
		{"postgres://fd:12?Zq9x@HOST/fd", "connection refused", []string{"12?Zq9x", "Zq9x"}},
		{"postgres://fd@HOST/fd?password=ab;cd", "connection refused", []string{"ab;cd", "ab"}},
	} {
		in := strings.ReplaceAll(c.in, "HOST", closed)
		l, err := Open(in)
		if err == nil {
			l.Close()
			t.Errorf("Open(%q) opened it", in)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("Open(%q): %v; want %q", in, err, c.want)
		}
		for _, p := range c.secrets {
			if strings.Contains(err.Error(), p) {
				t.Errorf("Open(%q) shows %q: %v", in, p, err)
			}
		}
	}
	if _, err := os.Stat("dbname=fd"); err == nil {
		t.Error("a SQLite file made of a keyword/value string")
	}
}

// A PostgreSQL ledger is named with its password redacted, in Where and in every error: a
// wrong password, a server that is not there, a run not found.
func TestPostgresPasswordNeverShown(t *testing.T) {
	t.Parallel()
	good := pgtest.DB(t)
	u, _ := url.Parse(good)
	password, _ := u.User.Password()
	u.User = url.UserPassword(u.User.Username(), "Wr0ng/p@ss:"+password)
	wrong := u.String()
	secrets := []string{password, url.QueryEscape(password), "Wr0ng", url.UserPassword("", password).String()[1:]}
	shown := func(what, msg string) {
		t.Helper()
		for _, s := range secrets {
			if strings.Contains(msg, s) {
				t.Errorf("%s shows the password %q: %s", what, s, msg)
			}
		}
		if !strings.Contains(msg, "xxxxx") {
			t.Errorf("%s does not name the ledger (redacted): %s", what, msg)
		}
	}
	_, err := Open(wrong)
	if err == nil || !strings.Contains(err.Error(), "password authentication failed") || !strings.Contains(err.Error(), "check the URL") {
		t.Fatalf("wrong password: %v", err)
	}
	shown("wrong password", err.Error())

	// Nobody listening there.
	free, _ := net.Listen("tcp", "127.0.0.1:0")
	port := free.Addr().(*net.TCPAddr).Port
	free.Close()
	u, _ = url.Parse(good)
	u.Host = "127.0.0.1:" + strconv.Itoa(port)
	_, err = Open(u.String())
	if err == nil {
		t.Fatal("opened a ledger on a closed port")
	}
	shown("no server", err.Error())

	l := open(t, good)
	shown("Where", l.Where())
	_, err = l.Find("20261127T090000Z-nope")
	shown("run not found", err.Error())
	l.Record(fleetEventWithBadShard())
	shown("write error at Close", l.Close().Error())
}

func fleetEventWithBadShard() fleet.Event {
	return fleet.Event{Type: fleet.RunStart, Run: "20261127T090000Z-aaaaaa", Seq: 1, Shard: "9/2"}
}
