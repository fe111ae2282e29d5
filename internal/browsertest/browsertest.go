// Package browsertest drives a real headless Chromium (Debian's chromium package, installed by
// scripts/setup) from Go tests with chromedp, and records what a page did while it was open:
// console messages, uncaught exceptions, the browser's own log (a Content-Security-Policy
// refusal lands there) and every network request. Tests assert on those records, so a page that
// fetched anything or logged an error fails them.
//
// Without Chromium the tests that need it skip, except in CI (CI=true) or under scripts/test
// (FRONTDOOR_LAB_REQUIRED=1), where they fail.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Browser is one headless Chromium with one tab.
type Browser struct {
	Ctx context.Context
	mu  sync.Mutex
	// Console holds console.* calls and browser log entries of level warning or error;
	// Exceptions uncaught JavaScript exceptions; Requests the URL of every request made.
	Console, Exceptions, Requests []string
}

func required() bool { return os.Getenv("CI") == "true" || os.Getenv("FRONTDOOR_LAB_REQUIRED") == "1" }

// Path is the Chromium binary, or "" when there is none.
func Path() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Open starts Chromium for the test (stopped at its end), or skips (fails in CI) without one.
func Open(t testing.TB) *Browser {
	t.Helper()
	path := Path()
	if path == "" {
		msg := "no Chromium to run the browser tests: install Debian's chromium package (scripts/setup does)"
		if required() {
			t.Fatal(msg + " — with CI=true or FRONTDOOR_LAB_REQUIRED=1 this is a failure, not a skip")
		}
		t.Skip(msg)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.WindowSize(1280, 1000),
		chromedp.NoSandbox) // the tests run as root, where Chromium's sandbox refuses to start
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	b := &Browser{}
	// The listener is on from the tab's first command, so it sees the page's first request and
	// whatever its first script logs. chromedp enables the Network, Log and Runtime domains.
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithListener(b.record))
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser, with no timeout of its own
		t.Fatalf("start %s: %v", path, err)
	}
	b.Ctx = ctx
	return b
}

// record runs in the tab's message loop: it must return fast and send no command.
func (b *Browser) record(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch e := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		var args []string
		for _, a := range e.Args {
			args = append(args, string(a.Value)+a.Description)
		}
		b.Console = append(b.Console, fmt.Sprintf("console.%s: %s", e.Type, strings.Join(args, " ")))
	case *runtime.EventExceptionThrown:
		d := e.ExceptionDetails
		text := d.Text
		if d.Exception != nil {
			text += " " + d.Exception.Description
		}
		b.Exceptions = append(b.Exceptions, fmt.Sprintf("%s:%d: %s", d.URL, d.LineNumber+1, text))
	case *log.EventEntryAdded:
		if e.Entry.Level == log.EntryLevelError || e.Entry.Level == log.EntryLevelWarning {
			b.Console = append(b.Console, fmt.Sprintf("%s %s: %s %s", e.Entry.Source, e.Entry.Level, e.Entry.Text, e.Entry.URL))
		}
	case *network.EventRequestWillBeSent:
		b.Requests = append(b.Requests, e.Request.URL)
	}
}

// Do carries out actions in the tab within a minute, failing the test on error.
func (b *Browser) Do(t testing.TB, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("browser: %v", err)
	}
}

// Get runs one action that returns a value, failing the test on error.
func Get[T any](t testing.TB, b *Browser, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, time.Minute)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	return v
}

// Eval evaluates a JavaScript expression in the page and decodes its value.
func Eval[T any](t testing.TB, b *Browser, expr string) T {
	t.Helper()
	return Get(t, b, chromedp.Evaluate[T](expr))
}

// Records returns copies of what the page did so far.
func (b *Browser) Records() (console, exceptions, requests []string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.Console...), append([]string(nil), b.Exceptions...), append([]string(nil), b.Requests...)
}

// ArtifactDir is where tests keep what a person should be able to look at afterwards (a
// screenshot): $FRONTDOOR_TEST_ARTIFACTS when set, else the test's temporary directory (removed
// when the test ends).
func ArtifactDir(t testing.TB) string {
	if d := os.Getenv("FRONTDOOR_TEST_ARTIFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatalf("FRONTDOOR_TEST_ARTIFACTS: %v", err)
		}
		return d
	}
	return t.TempDir()
}

// FileURL is the file:// URL of a local file.
func FileURL(t testing.TB, path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	return "file://" + abs
}
