package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	xssh "golang.org/x/crypto/ssh"

	"github.com/frontdoor-dev/frontdoor/playbooks"
)

// silentHost accepts TCP connections and never says a word (a hung sshd, a black-holing
// firewall that completes handshakes): only the connect timeout ends a dial to it.
func silentHost(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		var held []net.Conn
		for {
			c, err := ln.Accept()
			if err != nil {
				for _, c := range held {
					c.Close()
				}
				return
			}
			held = append(held, c)
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

func testKeyFile(t *testing.T) string {
	t.Helper()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	block, err := xssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "id")
	if err := os.WriteFile(p, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// What dial.go takes from ssh_config and the command line: ConnectTimeout (unless --timeout),
// ServerAliveInterval, User, Port, IdentityFile, IdentitiesOnly; with no key the default
// identities and the agent.
func TestSSHConfigOptions(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	dir := t.TempDir()
	sc := filepath.Join(dir, "ssh_config")
	writeTestFile(t, sc, "Host only\n  IdentitiesOnly yes\n  IdentityFile /keys/only\nHost *\n  ConnectTimeout 3\n  ServerAliveInterval 7\n  User sc-user\n  Port 2022\n")
	t.Setenv("FRONTDOOR_SSH_CONFIG", sc)
	invPath := filepath.Join(dir, "hosts.ini")
	writeTestFile(t, invPath, "plain\nkeyed ansible_ssh_private_key_file=/keys/k ansible_port=22\nonly\n")
	inv, err := playbooks.LoadInventory(invPath)
	if err != nil {
		t.Fatal(err)
	}
	show := func(h string, f dialFlags) string {
		cfg, err := sshConfig(inv, inv.Hosts[h], f)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("user=%s port=%d keys=%v defaults=%v agent=%v timeout=%s keepalive=%s", cfg.User, cfg.Port, cfg.KeyFiles, cfg.DefaultIdentities, cfg.UseAgent, cfg.ConnectTimeout, cfg.KeepAlive)
	}
	def := dialFlags{timeout: 15 * time.Second}
	for _, c := range []struct {
		host string
		f    dialFlags
		want string
	}{
		{"plain", def, "user=sc-user port=2022 keys=[] defaults=true agent=true timeout=3s keepalive=7s"},
		{"keyed", def, "user=sc-user port=22 keys=[/keys/k] defaults=false agent=false timeout=3s keepalive=7s"},
		{"keyed", dialFlags{timeout: 15 * time.Second, useAgent: true}, "user=sc-user port=22 keys=[/keys/k] defaults=false agent=true timeout=3s keepalive=7s"},
		{"only", def, "user=sc-user port=2022 keys=[/keys/only] defaults=false agent=false timeout=3s keepalive=7s"},
		{"plain", dialFlags{timeout: 2 * time.Second, timeoutSet: true}, "user=sc-user port=2022 keys=[] defaults=true agent=true timeout=2s keepalive=7s"},
	} {
		if got := show(c.host, c.f); got != c.want {
			t.Errorf("%s %+v:\n got %s\nwant %s", c.host, c.f, got, c.want)
		}
	}
	if h := inv.Hosts["only"]; !h.IdentitiesOnly {
		t.Errorf("only: IdentitiesOnly not read")
	}
}

// ssh_config's ConnectTimeout, and --timeout over it, bound a dial to a host that accepts TCP
// and never answers (was 15 s whatever the configuration).
func TestConnectTimeoutHonoured(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	t.Setenv("SSH_AUTH_SOCK", "")
	port := silentHost(t)
	dir := t.TempDir()
	sc := filepath.Join(dir, "ssh_config")
	writeTestFile(t, sc, "Host silent\n  HostName 127.0.0.1\n  ConnectTimeout 1\n")
	t.Setenv("FRONTDOOR_SSH_CONFIG", sc)
	inv := filepath.Join(dir, "inventory.yaml")
	writeTestFile(t, inv, fmt.Sprintf("known_hosts: known_hosts\nhosts:\n  silent: {port: %d, key: %s}\n", port, testKeyFile(t)))
	loaded, err := playbooks.LoadInventory(inv)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = newDial(loaded, dialFlags{timeout: 15 * time.Second, acceptNew: true})(context.Background(), loaded.Hosts["silent"])
	if took := time.Since(start); err == nil || !strings.Contains(err.Error(), "ssh handshake") || took < 900*time.Millisecond || took > 4*time.Second {
		t.Fatalf("ConnectTimeout 1: after %s: %v", took, err)
	}
	// --timeout through the command line wins over ssh_config's 1 s.
	start = time.Now()
	out, err := run(t, "facts", "-i", inv, "--accept-new-host-keys", "--timeout", "2500ms")
	if took := time.Since(start); err == nil || !strings.Contains(out+err.Error(), "ssh handshake") || took < 2400*time.Millisecond || took > 6*time.Second {
		t.Fatalf("--timeout 2500ms: after %s: %v\n%s", took, err, out)
	}
	if _, err := run(t, "facts", "-i", inv, "--timeout", "0s"); err == nil || !strings.Contains(err.Error(), "positive duration") {
		t.Fatalf("--timeout 0s: %v", err)
	}
}
