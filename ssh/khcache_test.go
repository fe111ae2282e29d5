package ssh

import (
	"crypto/ed25519"
	"crypto/rand"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	xssh "golang.org/x/crypto/ssh"
)

// TestKnownHostsCacheSeesReplacedKey: a host key replaced in known_hosts by one of the same
// type (the same size) with the modification time put back (cp -p, rsync -a) is what the next
// dial checks against; the old key is refused.
func TestKnownHostsCacheSeesReplacedKey(t *testing.T) {
	key := func() xssh.PublicKey {
		pub, _, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		k, _ := xssh.NewPublicKey(pub)
		return k
	}
	old, repl := key(), key()
	p := filepath.Join(t.TempDir(), "known_hosts")
	line := func(k xssh.PublicKey) []byte {
		return append([]byte("web1.example.com "), xssh.MarshalAuthorizedKey(k)...)
	}
	if err := os.WriteFile(p, line(old), 0o600); err != nil {
		t.Fatal(err)
	}
	mtime := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	os.Chtimes(p, mtime, mtime)
	addr := &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 22}
	check := func(k xssh.PublicKey) error {
		db, _, err := loadKnownHosts(p)
		if err != nil {
			t.Fatal(err)
		}
		return db.HostKeyCallback()("web1.example.com:22", addr, k)
	}
	if err := check(old); err != nil {
		t.Fatalf("the recorded key: %v", err)
	}
	// A rename over the file, as an editor or a config tool does, then the same one in place.
	tmp := p + ".new"
	if err := os.WriteFile(tmp, line(repl), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(tmp, mtime, mtime)
	if err := os.Rename(tmp, p); err != nil {
		t.Fatal(err)
	}
	if err := check(old); err == nil {
		t.Fatal("the replaced key is still accepted (renamed over)")
	}
	if err := check(repl); err != nil {
		t.Fatalf("the new key: %v", err)
	}
	time.Sleep(10 * time.Millisecond) // a change time of its own for the write in place
	if err := os.WriteFile(p, line(old), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(p, mtime, mtime)
	if err := check(repl); err == nil {
		t.Fatal("the replaced key is still accepted (written in place, same size and modification time)")
	}
}
