package ssh

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/frontdoor-dev/frontdoor/target"
)

func boundsClient(t *testing.T, srv *testServer, keyPath string) *Client {
	t.Helper()
	cfg := Config{Name: "h1", Address: "127.0.0.1", Port: srv.port(), User: "root", KeyFiles: []string{keyPath},
		KnownHosts: filepath.Join(t.TempDir(), "known_hosts"), AcceptNew: true, CommandTimeout: 2 * time.Second, FileTimeout: 2 * time.Second, MaxOutput: 1 << 20}
	c, err := Dial(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// A host that floods a command's output, or serves a file larger than any configuration, is
// stopped at the limit with a clear error, not read into memory (issue 11 row 12).
func TestOutputAndFilesBounded(t *testing.T) {
	keyPath, pub := clientKey(t)
	srv := startServer(t, newHostKey(t), pub)
	c := boundsClient(t, srv, keyPath)
	start := time.Now()
	_, err := c.Run(context.Background(), "flood", nil)
	if !errors.Is(err, target.ErrTooMuch) || time.Since(start) > 2*time.Second {
		t.Fatalf("flood: %v after %s", err, time.Since(start))
	}
	big := filepath.Join(t.TempDir(), "big")
	os.WriteFile(big, make([]byte, 2<<20), 0o600)
	if _, err := c.ReadFile(context.Background(), big); !errors.Is(err, target.ErrTooMuch) {
		t.Fatalf("big file: %v", err)
	}
	// An ordinary file still round-trips through the atomic write, with its mode.
	p := filepath.Join(t.TempDir(), "server.xml")
	if err := c.WriteFile(context.Background(), target.File{Path: p, Exists: true, Data: []byte("<Server/>\n"), Mode: 0o640, UID: os.Getuid(), GID: os.Getgid()}); err != nil {
		t.Fatal(err)
	}
	if f, err := c.ReadFile(context.Background(), p); err != nil || string(f.Data) != "<Server/>\n" || f.Mode != 0o640 {
		t.Fatalf("%+v %v", f, err)
	}
}

// An SFTP server that never answers fails the operation at the deadline instead of hanging the
// worker (SFTP calls take no context).
func TestSFTPDeadline(t *testing.T) {
	keyPath, pub := clientKey(t)
	srv := startServer(t, newHostKey(t), pub)
	srv.hangSFTP = true
	c := boundsClient(t, srv, keyPath)
	start := time.Now()
	_, err := c.ReadFile(context.Background(), "/etc/hostname")
	if err == nil || !strings.Contains(err.Error(), "timed out") || time.Since(start) > 5*time.Second {
		t.Fatalf("%v after %s", err, time.Since(start))
	}
}
