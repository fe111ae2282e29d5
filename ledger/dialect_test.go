package ledger

import (
	"errors"
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/frontdoor-dev/frontdoor/fleet"
	"github.com/frontdoor-dev/frontdoor/internal/pgtest"
)

func TestRedact(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"/var/lib/frontdoor/ledger.db", "/var/lib/frontdoor/ledger.db"},
		{"postgres://fd:s3cret@db.example:5432/ledger?sslmode=require", "postgres://fd:xxxxx@db.example:5432/ledger?sslmode=require"},
		{"postgresql://fd@db/ledger", "postgresql://fd@db/ledger"},
		{"postgres://fd:p%40ss%2Fword@db/ledger", "postgres://fd:xxxxx@db/ledger"},
		{"postgres://fd@db/ledger?password=s3cret&sslmode=disable", "postgres://fd@db/ledger?password=xxxxx&sslmode=disable"},
		{"postgres://fd:pa%zz@word@db/ledger?password=s3cret", "postgres://fd:xxxxx@db/ledger"}, // not a URL Go parses
	} {
		if got := Redact(c.in); got != c.want {
			t.Errorf("Redact(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := scrub(errors.New(`cannot parse "postgres://fd:p@ss/word@db/x": p@ss/word`), "postgres://fd:p%40ss%2Fword@db/x").Error(); strings.Contains(got, "p@ss/word") {
		t.Errorf("scrubbed: %s", got)
	}
	if got := (dialect{pg: true}).q(`SELECT a FROM t WHERE b=? AND c IN ('?', 'x') AND d=GREATEST(?, 1)`); got != `SELECT a FROM t WHERE b=$1 AND c IN ('?', 'x') AND d=GREATEST($2, 1)` {
		t.Errorf("rebound: %s", got)
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
