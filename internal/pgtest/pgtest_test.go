package pgtest

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A server of the test's own takes its user with the password only (over TCP), hands out
// empty databases, and is gone (its PID and its directory) once stopped.
func TestServer(t *testing.T) {
	s := New(t)
	u, err := s.CreateDB()
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("pgx", u)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM pg_tables WHERE schemaname = 'public'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("new database: %d tables, %v", n, err)
	}
	wrong, _ := url.Parse(u)
	wrong.User = url.UserPassword(s.User, "not-"+s.Password)
	bad, _ := sql.Open("pgx", wrong.String())
	defer bad.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := bad.PingContext(ctx); err == nil || !strings.Contains(err.Error(), "password authentication failed") {
		t.Errorf("a wrong password: %v", err)
	}
	db.Close()
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(s.PID, 0); err == nil {
		t.Errorf("postgres (pid %d) still running after Stop", s.PID)
	}
	if _, err := os.Stat(s.dir); !os.IsNotExist(err) {
		t.Errorf("%s left behind: %v", s.dir, err)
	}
	s.cmd = nil // stopped already: the cleanup's Stop has nothing left to do
}
