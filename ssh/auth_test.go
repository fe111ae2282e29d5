package ssh

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	xssh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// writeKey writes priv to path with mode, encrypted when pass is not empty.
func writeKey(t *testing.T, path string, priv any, pass string, mode os.FileMode) xssh.PublicKey {
	t.Helper()
	var block *pem.Block
	var err error
	if pass != "" {
		block, err = xssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte(pass))
	} else {
		block, err = xssh.MarshalPrivateKey(priv, "")
	}
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Dir(path), 0o700)
	if err := os.WriteFile(path, pem.EncodeToMemory(block), mode); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, mode) // whatever the umask
	s, err := xssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s.PublicKey()
}

func newEd25519(t *testing.T) ed25519.PrivateKey {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return priv
}

// authEnv gives the test a HOME of its own (no default identities unless written) and no agent.
func authEnv(t *testing.T) (home string, kh string) {
	t.Helper()
	home = t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("SSH_AUTH_SOCK", "")
	return home, filepath.Join(t.TempDir(), "known_hosts")
}

// With no key configured, OpenSSH's default identities are offered in its order: a server that
// takes only ~/.ssh/id_ecdsa is reached though ~/.ssh/id_ed25519 comes first and is refused.
func TestDefaultIdentities(t *testing.T) {
	home, kh := authEnv(t)
	writeKey(t, filepath.Join(home, ".ssh", "id_ed25519"), newEd25519(t), "", 0o600)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pub := writeKey(t, filepath.Join(home, ".ssh", "id_ecdsa"), ec, "", 0o600)
	srv := startServer(t, newHostKey(t), pub)
	cfg := Config{Name: "h1", Address: "127.0.0.1", Port: srv.port(), KnownHosts: kh, AcceptNew: true, DefaultIdentities: true}
	if err := dialTest(t, cfg); err != nil {
		t.Fatalf("default identities: %v", err)
	}
	cfg.DefaultIdentities = false
	if err := dialTest(t, cfg); err == nil || !strings.Contains(err.Error(), "no key") {
		t.Fatalf("without default identities: %v", err)
	}
}

// startAgent serves an in-process ssh-agent holding keys on a unix socket, as SSH_AUTH_SOCK.
func startAgent(t *testing.T, keys ...any) string {
	t.Helper()
	kr := agent.NewKeyring()
	for _, k := range keys {
		if err := kr.Add(agent.AddedKey{PrivateKey: k}); err != nil {
			t.Fatal(err)
		}
	}
	dir, err := os.MkdirTemp("", "agent") // short: a socket path has at most 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { agent.ServeAgent(kr, c); c.Close() }()
		}
	}()
	t.Setenv("SSH_AUTH_SOCK", sock)
	return sock
}

// The agent's keys are offered when SSH_AUTH_SOCK is set (and the agent is asked for); a dead
// socket with no key file to fall back on names the socket.
func TestAgentKeys(t *testing.T) {
	_, kh := authEnv(t)
	priv := newEd25519(t)
	s, _ := xssh.NewSignerFromKey(priv)
	srv := startServer(t, newHostKey(t), s.PublicKey())
	startAgent(t, priv)
	cfg := Config{Name: "h1", Address: "127.0.0.1", Port: srv.port(), KnownHosts: kh, AcceptNew: true, DefaultIdentities: true, UseAgent: true}
	if err := dialTest(t, cfg); err != nil {
		t.Fatalf("agent: %v", err)
	}
	noAgent := cfg
	noAgent.UseAgent = false
	if err := dialTest(t, noAgent); err == nil || !strings.Contains(err.Error(), "no key") {
		t.Fatalf("agent not asked for: %v", err)
	}
	t.Setenv("SSH_AUTH_SOCK", filepath.Join(t.TempDir(), "gone"))
	if err := dialTest(t, cfg); err == nil || !strings.Contains(err.Error(), "ssh-agent at $SSH_AUTH_SOCK") {
		t.Fatalf("dead agent: %v", err)
	}
}

// A private key that group or others can read is refused, as OpenSSH refuses it, whether given
// or found among the default identities; the error names the file and the fix.
func TestUnprotectedKeyRefused(t *testing.T) {
	home, kh := authEnv(t)
	priv := newEd25519(t)
	s, _ := xssh.NewSignerFromKey(priv)
	srv := startServer(t, newHostKey(t), s.PublicKey())
	given := filepath.Join(t.TempDir(), "key")
	def := filepath.Join(home, ".ssh", "id_ed25519")
	for _, c := range []struct {
		path string
		mode os.FileMode
		cfg  Config
	}{
		{given, 0o644, Config{KeyFiles: []string{given}}},
		{given, 0o640, Config{KeyFiles: []string{given}}},
		{given, 0o604, Config{KeyFiles: []string{given}}},
		{def, 0o644, Config{DefaultIdentities: true}},
	} {
		writeKey(t, c.path, priv, "", c.mode)
		cfg := c.cfg
		cfg.Name, cfg.Address, cfg.Port, cfg.KnownHosts, cfg.AcceptNew = "h1", "127.0.0.1", srv.port(), kh, true
		err := dialTest(t, cfg)
		var pe *PermissionsError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), "UNPROTECTED PRIVATE KEY FILE") || !strings.Contains(err.Error(), "chmod 600 "+c.path) || pe.Mode.Perm() != c.mode {
			t.Errorf("%s %04o: %v", c.path, c.mode, err)
		}
		os.Chmod(c.path, 0o600)
		if err := dialTest(t, cfg); err != nil {
			t.Errorf("%s 0600: %v", c.path, err)
		}
		os.Remove(c.path)
	}
}

// An encrypted key: its passphrase is asked for (the right one logs in, a wrong one is named);
// with no one to ask, the agent is used if it runs, else the error says what to do.
func TestEncryptedKey(t *testing.T) {
	_, kh := authEnv(t)
	priv := newEd25519(t)
	key := filepath.Join(t.TempDir(), "key")
	pub := writeKey(t, key, priv, "open sesame", 0o600)
	srv := startServer(t, newHostKey(t), pub)
	asked := 0
	cfg := Config{Name: "h1", Address: "127.0.0.1", Port: srv.port(), KnownHosts: kh, AcceptNew: true, KeyFiles: []string{key},
		Passphrase: func(f string) ([]byte, error) {
			asked++
			if f != key {
				t.Errorf("asked for %s", f)
			}
			return []byte("open sesame"), nil
		}}
	if err := dialTest(t, cfg); err != nil || asked != 1 {
		t.Fatalf("right passphrase: %v (asked %d)", err, asked)
	}
	wrong := cfg
	wrong.Passphrase = func(string) ([]byte, error) { return []byte("nope"), nil }
	if err := dialTest(t, wrong); err == nil || !strings.Contains(err.Error(), "key file "+key+": wrong passphrase") {
		t.Fatalf("wrong passphrase: %v", err)
	}
	noTTY := cfg
	noTTY.Passphrase = nil
	if err := dialTest(t, noTTY); err == nil || !strings.Contains(err.Error(), "passphrase-protected") || !strings.Contains(err.Error(), "ssh-add "+key) {
		t.Fatalf("no terminal: %v", err)
	}
	startAgent(t, priv)
	noTTY.UseAgent = true
	if err := dialTest(t, noTTY); err != nil {
		t.Fatalf("no terminal, key in the agent: %v", err)
	}
}

// A host that accepts TCP and never answers fails after ConnectTimeout, not later.
func TestConnectTimeoutSilentHost(t *testing.T) {
	_, kh := authEnv(t)
	key, _ := clientKey(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, never a byte written
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	start := time.Now()
	_, err = Dial(context.Background(), Config{Name: "silent", Address: "127.0.0.1", Port: port, KeyFiles: []string{key}, KnownHosts: kh, AcceptNew: true, ConnectTimeout: 700 * time.Millisecond})
	took := time.Since(start)
	if err == nil || !strings.Contains(err.Error(), "silent: ssh handshake") || took < 600*time.Millisecond || took > 3*time.Second {
		t.Fatalf("after %s: %v", took, err)
	}
}
