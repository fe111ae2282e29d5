package target

import (
	"errors"
	"fmt"
	"sync"
)

// MaxOutput is how much a command's standard output, or a file read from a host, may hold: a
// broken or hostile host must not exhaust the controller's memory. The largest thing frontdoor
// reads is the gather (every file the checks read, in base64), far below it.
const MaxOutput = 64 << 20

// MaxWait is the longest readiness wait a playbook may ask for (start_timeout), in seconds; a
// transport's command deadline must be above it.
const MaxWait = 3600

// ErrTooMuch is output or a file over its limit.
var ErrTooMuch = errors.New("over the size limit")

// ErrNoSpace is a write that failed because the host's filesystem is full.
var ErrNoSpace = errors.New("no space left on device")

// Bounded collects at most Max bytes; a write past that fails, and OnOver (if set) is called
// once, so the transport can end the command instead of waiting for it.
type Bounded struct {
	Max    int
	OnOver func()
	mu     sync.Mutex
	buf    []byte
	over   bool
}

func (b *Bounded) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.over || len(b.buf)+len(p) > b.Max {
		if !b.over && b.OnOver != nil {
			go b.OnOver()
		}
		b.over = true
		return 0, ErrTooMuch
	}
	b.buf = append(b.buf, p...)
	return len(p), nil
}

// Bytes is what was collected.
func (b *Bounded) Bytes() []byte { b.mu.Lock(); defer b.mu.Unlock(); return b.buf }

// Err says whether the limit was passed, and which.
func (b *Bounded) Err(what string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.over {
		return fmt.Errorf("%s: %w (%d MiB): the command was stopped", what, ErrTooMuch, b.Max>>20)
	}
	return nil
}

// Tail keeps the last N bytes written (a command's stderr: its end says what went wrong).
type Tail struct {
	N   int
	mu  sync.Mutex
	buf []byte
}

func (t *Tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > 2*t.N {
		t.buf = append([]byte(nil), t.buf[len(t.buf)-t.N:]...)
	}
	return len(p), nil
}

func (t *Tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.buf) > t.N {
		return string(t.buf[len(t.buf)-t.N:])
	}
	return string(t.buf)
}

func (b *Bounded) String() string { return string(b.Bytes()) }
