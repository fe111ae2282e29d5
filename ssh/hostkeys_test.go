package ssh

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func dialTest(t *testing.T, cfg Config) error {
	t.Helper()
	c, err := Dial(context.Background(), cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	out, err := c.Run(context.Background(), "true", nil)
	if err != nil || string(out) != "ok\n" {
		t.Fatalf("run: %q %v", out, err)
	}
	return nil
}

// --accept-new-host-keys pins the name that was dialled: dialled by name, the key is recorded
// under that name, a changed key is refused on the next run (with or without the flag), and the
// address it resolved to is never recorded, so a strict run by address does not trust it either.
func TestAcceptNewPinsTheDialledName(t *testing.T) {
	keyPath, pub := clientKey(t)
	srv := startServer(t, newHostKey(t), pub)
	kh := filepath.Join(t.TempDir(), "known_hosts")
	byName := Config{Name: "h1", Address: "localhost", Port: srv.port(), User: "root", KeyFiles: []string{keyPath}, KnownHosts: kh, AcceptNew: true}
	if err := dialTest(t, byName); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(kh)
	entry := fmt.Sprintf("[localhost]:%d ", srv.port())
	if !strings.HasPrefix(string(data), entry) || strings.Count(string(data), "\n") != 1 {
		t.Fatalf("known_hosts: %q, want one line for %s", data, entry)
	}
	strict := byName
	strict.AcceptNew = false
	if err := dialTest(t, strict); err != nil {
		t.Fatalf("strict by name after recording: %v", err)
	}
	srv.setHostKey(newHostKey(t), pub) // the attacker's key
	for _, cfg := range []Config{byName, strict} {
		var hk *HostKeyError
		err := dialTest(t, cfg)
		if !errors.As(err, &hk) || !strings.Contains(err.Error(), fmt.Sprintf("ssh-keygen -R '[localhost]:%d' -f %s", srv.port(), kh)) {
			t.Fatalf("changed key (accept-new %v): %v", cfg.AcceptNew, err)
		}
	}
	byIP := strict
	byIP.Address = "127.0.0.1"
	var uh *UnknownHostError
	if err := dialTest(t, byIP); !errors.As(err, &uh) {
		t.Fatalf("strict by address: %v", err)
	}
	if after, _ := os.ReadFile(kh); string(after) != string(data) {
		t.Errorf("known_hosts changed by refused connections:\n%s", after)
	}
}

// Through a ProxyJump hop, each host is recorded under its own dialled name (not the
// placeholder address of a forwarded connection), and a target whose key changes is refused.
func TestAcceptNewThroughJump(t *testing.T) {
	keyPath, pub := clientKey(t)
	jump := startServer(t, newHostKey(t), pub)
	tgt := startServer(t, newHostKey(t), pub)
	kh := filepath.Join(t.TempDir(), "known_hosts")
	cfg := Config{Name: "t1", Address: "127.0.0.1", Port: tgt.port(), User: "root", KeyFiles: []string{keyPath}, KnownHosts: kh, AcceptNew: true,
		Jump: []Hop{{Address: "localhost", Port: jump.port(), User: "root"}}}
	if err := dialTest(t, cfg); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(kh)
	for _, want := range []string{fmt.Sprintf("[localhost]:%d ", jump.port()), fmt.Sprintf("[127.0.0.1]:%d ", tgt.port())} {
		if !strings.Contains(string(data), want) {
			t.Errorf("known_hosts lacks %q:\n%s", want, data)
		}
	}
	if strings.Contains(string(data), "0.0.0.0") {
		t.Errorf("placeholder address recorded:\n%s", data)
	}
	tgt.setHostKey(newHostKey(t), pub)
	var hk *HostKeyError
	if err := dialTest(t, cfg); !errors.As(err, &hk) {
		t.Fatalf("changed target key through the jump: %v", err)
	}
	jump.setHostKey(newHostKey(t), pub)
	if err := dialTest(t, cfg); !errors.As(err, &hk) || !strings.Contains(err.Error(), "jump host") {
		t.Fatalf("changed jump key: %v", err)
	}
}

// A known_hosts file that hashes its names gets hashed entries, which strict checking then finds.
func TestAcceptNewKeepsHashedFilesHashed(t *testing.T) {
	keyPath, pub := clientKey(t)
	srv := startServer(t, newHostKey(t), pub)
	kh := filepath.Join(t.TempDir(), "known_hosts")
	other := "|1|F1E1KeoE/eEWhi10WpGv4OdiO6Y=|3988QV0VE8wmZL7suNrYQLITLCg= ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n"
	if err := os.WriteFile(kh, []byte(other), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Name: "h1", Address: "localhost", Port: srv.port(), User: "root", KeyFiles: []string{keyPath}, KnownHosts: kh, AcceptNew: true}
	if err := dialTest(t, cfg); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(kh)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[1], "|1|") || strings.Contains(string(data), "localhost") {
		t.Fatalf("known_hosts:\n%s", data)
	}
	cfg.AcceptNew = false
	if err := dialTest(t, cfg); err != nil {
		t.Fatalf("strict with the hashed entry: %v", err)
	}
}
