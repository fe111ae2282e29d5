package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/frontdoor-dev/frontdoor/memhost"
)

// pty opens a pseudo-terminal: what frontdoor writes to tty arrives, as on a real terminal, on
// the returned reader.
func pty(t *testing.T) (tty *os.File, read func() string) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	done := make(chan bool)
	go func() { io.Copy(&buf, m); done <- true }() // drained as written: a full pty would block
	t.Cleanup(func() { m.Close() })
	return s, func() string {
		s.Close()
		select {
		case <-done:
		case <-time.After(2 * time.Second): // the master reads EIO once the last slave closes
		}
		return strings.ReplaceAll(buf.String(), "\r\n", "\n")
	}
}

var sgr = regexp.MustCompile(`\x1b\[[0-9;]*m`)

// Diffs and statuses are coloured on a terminal, with colours only: the host's own escape
// sequences are still stripped; nothing is coloured with --no-color, NO_COLOR or through a pipe.
func TestColor(t *testing.T) {
	fl, dir := memCLI(t, "j1")
	fl.Hosts["j1"].OS = strings.Replace(memhost.Debian12, `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"`, "PRETTY_NAME=\"Debian\x1b]0;pwned\x07 12\"", 1)
	t.Setenv("TERM", "xterm")
	t.Setenv("NO_COLOR", "")
	plan := func(env string, extra ...string) string {
		t.Helper()
		if env != "" {
			t.Setenv("NO_COLOR", env)
			defer t.Setenv("NO_COLOR", "")
		}
		tty, read := pty(t)
		app := newApp()
		app.Writer, app.ErrWriter = safeWriter{tty}, safeWriter{tty}
		err := runCLI(context.Background(), app, append([]string{"frontdoor", "plan", dir + "/pb.yaml", "-i", dir + "/inventory.yaml"}, extra...))
		if exitCode(err) != exitPending {
			t.Fatalf("plan: %v", err)
		}
		return read()
	}
	out := plan("")
	for _, want := range []string{
		sgrBold + "== j1 (192.0.2.1): Debian?]0;pwned? 12",
		sgrYellow + "  ~ jira: server.xml: edit /opt/atlassian/jira/conf/server.xml" + sgrReset + "\n",
		sgrBold + "      --- a/opt/atlassian/jira/conf/server.xml" + sgrReset,
		sgrCyan + "      @@ ",
		sgrRed + "      -",
		sgrGreen + "      +                   scheme=\"http\" proxyName=\"j1.example.com\" proxyPort=\"80\"/>" + sgrReset + "\n",
		sgrGreen + "  + apache: VirtualHost j1.example.com",
		sgrYellow + "  MANUAL CHECK:",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("on a terminal, no %q in:\n%s", want, out)
		}
	}
	if rest := sgr.ReplaceAllString(out, ""); strings.ContainsAny(rest, "\x1b\x07") {
		t.Errorf("an escape sequence other than a colour reached the terminal:\n%q", rest)
	}
	if out := plan("", "--no-color"); strings.Contains(out, "\x1b") || !strings.Contains(out, "== j1") {
		t.Errorf("--no-color after the arguments:\n%q", out)
	}
	if out := plan("1"); strings.Contains(out, "\x1b") || !strings.Contains(out, "== j1") {
		t.Errorf("NO_COLOR=1:\n%q", out)
	}
	if out, err := run(t, "plan", dir+"/pb.yaml", "-i", dir+"/inventory.yaml"); exitCode(err) != exitPending || sgr.MatchString(out) {
		t.Errorf("not a terminal: %v\n%q", err, out)
	}
}

// Host statuses of apply and rollback, coloured by what they say.
func TestColorWriterStatuses(t *testing.T) {
	var b bytes.Buffer
	w := safeWriter{&colorWriter{w: &b}}
	for _, line := range []string{
		"j1: ok, 5 change(s) applied in 1.2s\n",
		"j1: verified http://j1.example.com through the proxy (http://j1.example.com/ -> 200)\n",
		"j2: FAILED, rolled back to where it was: boom\n",
		"j3: rolled back, byte-exact\n",
		"run 20261127T091500Z-3f9a2c: OK: 1 host(s)\n",
		"run 20261127T091500Z-3f9a2c: FAILED: 1 host(s)\n",
		"j1: WARNING: the Base URL differs\n",
		"  jira: plain text\n",
		"half a line: ", "FAILED\n", // the colour is decided at the start of a line
	} {
		fmt.Fprint(w, line)
	}
	want := sgrGreen + "j1: ok, 5 change(s) applied in 1.2s" + sgrReset + "\n" +
		sgrGreen + "j1: verified http://j1.example.com through the proxy (http://j1.example.com/ -> 200)" + sgrReset + "\n" +
		sgrRed + "j2: FAILED, rolled back to where it was: boom" + sgrReset + "\n" +
		sgrYellow + "j3: rolled back, byte-exact" + sgrReset + "\n" +
		sgrGreen + "run 20261127T091500Z-3f9a2c: OK: 1 host(s)" + sgrReset + "\n" +
		sgrRed + "run 20261127T091500Z-3f9a2c: FAILED: 1 host(s)" + sgrReset + "\n" +
		sgrYellow + "j1: WARNING: the Base URL differs" + sgrReset + "\n" +
		"  jira: plain text\n" +
		"half a line: FAILED\n"
	if b.String() != want {
		t.Errorf("got\n%q\nwant\n%q", b.String(), want)
	}
}
