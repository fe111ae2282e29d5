package target

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestBoundedAndTail(t *testing.T) {
	over := make(chan bool, 2)
	b := &Bounded{Max: 10, OnOver: func() { over <- true }}
	if n, err := b.Write([]byte("0123456789")); n != 10 || err != nil || b.Err("out") != nil {
		t.Fatalf("%d %v", n, err)
	}
	if _, err := b.Write([]byte("x")); !errors.Is(err, ErrTooMuch) || !errors.Is(b.Err("out"), ErrTooMuch) || b.String() != "0123456789" {
		t.Fatalf("past the limit: %v %q", err, b.String())
	}
	b.Write([]byte("y"))
	select {
	case <-over:
	case <-time.After(5 * time.Second):
		t.Fatal("OnOver not called")
	}
	select {
	case <-over:
		t.Fatal("OnOver called twice")
	case <-time.After(50 * time.Millisecond):
	}
	tail := &Tail{N: 4}
	for _, s := range []string{"abc", "defgh", "ij"} {
		tail.Write([]byte(s))
	}
	if tail.String() != "ghij" {
		t.Errorf("tail %q", tail.String())
	}
}

func TestCommandErrorAndDialect(t *testing.T) {
	e := &CommandError{Host: "h1", Err: errors.New("exit 1"), Stderr: "sudo: a password is required\n" + strings.Repeat("x", 3000)}
	if !strings.Contains(e.Error(), "...") || len(e.Error()) > 2200 {
		t.Errorf("long stderr not cut: %d", len(e.Error()))
	}
	if !(&CommandError{Stderr: "'export' is not recognized as an internal or external command"}).NotPOSIX() {
		t.Error("cmd.exe's answer not recognized")
	}
	if POSIX.String() != "posix" || Windows.String() != "windows" || Windows.KeepsOwnership() || !POSIX.KeepsOwnership() {
		t.Error("dialect")
	}
	if Quote("it's") != `'it'\''s'` || TempName("/d", "f", "r") != "/d/.frontdoor-f.r" {
		t.Error("quote or temp name")
	}
}
