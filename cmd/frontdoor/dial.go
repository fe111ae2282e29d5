package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/frontdoor-dev/frontdoor/local"
	"github.com/frontdoor-dev/frontdoor/playbooks"
	"github.com/frontdoor-dev/frontdoor/session"
	"github.com/frontdoor-dev/frontdoor/ssh"
	"github.com/frontdoor-dev/frontdoor/target"
)

// dialFlags are the command line's say in how hosts are reached.
type dialFlags struct {
	knownHosts string // overrides the inventory's known_hosts
	acceptNew  bool
	useAgent   bool
	// timeout bounds connecting and the SSH handshake; timeoutSet says --timeout was given, so
	// it wins over ssh_config's ConnectTimeout (as ssh -o does over the file).
	timeout    time.Duration
	timeoutSet bool
	// passphrase asks for an encrypted key's passphrase; nil without a terminal.
	passphrase func(keyFile string) ([]byte, error)
}

// newHTTPDial, when set, is how verification reaches hosts' Apache (tests: in-memory hosts);
// nil is plain TCP to each host's address.
var newHTTPDial func(host string) func(ctx context.Context, network, addr string) (net.Conn, error)

// newDial is where frontdoor chooses and wires its transports: the machine itself for
// "connection: local", SSH for every other host. Tests replace it to reach in-memory hosts.
var newDial = func(inv *playbooks.Inventory, f dialFlags) session.Dial {
	return func(ctx context.Context, h *playbooks.Host) (target.Conn, error) {
		if h.Connection == "local" {
			l, err := local.New(h.Name)
			if err != nil {
				return nil, err
			}
			return l, nil
		}
		cfg, err := sshConfig(inv, h, f)
		if err != nil {
			return nil, err
		}
		return ssh.Dial(ctx, cfg)
	}
}

// sshConfig is how one host is reached over SSH, as OpenSSH would: the inventory's key (or
// ssh_config's IdentityFile), else the default identities; the agent when asked for or when no
// key is given (not with IdentitiesOnly, which keeps ssh to the configured files); ssh_config's
// ConnectTimeout unless --timeout is given; ServerAliveInterval for the keepalive.
func sshConfig(inv *playbooks.Inventory, h *playbooks.Host, f dialFlags) (ssh.Config, error) {
	pw, err := h.BecomePassword()
	if err != nil {
		return ssh.Config{}, err
	}
	kh := f.knownHosts
	if kh == "" {
		kh = inv.KnownHosts
	}
	cfg := ssh.Config{Name: h.Name, Address: h.Address, Port: h.Port, User: h.User, KnownHosts: kh,
		AcceptNew: f.acceptNew, UseAgent: f.useAgent || h.Key == "" && !h.IdentitiesOnly, DefaultIdentities: h.Key == "",
		BecomePassword: pw, Passphrase: f.passphrase, ConnectTimeout: f.timeout, KeepAlive: h.ServerAliveInterval}
	if !f.timeoutSet && h.ConnectTimeout > 0 {
		cfg.ConnectTimeout = h.ConnectTimeout
	}
	if h.Key != "" {
		cfg.KeyFiles = []string{h.Key}
	}
	if cfg.Jump, err = ssh.ParseProxyJump(h.ProxyJump, h.User); err != nil {
		return ssh.Config{}, fmt.Errorf("%s: %w", h.Name, err)
	}
	return cfg, nil
}

// terminalPassphrase asks for key passphrases on the terminal (echo off), once per key file for
// the whole run, one question at a time however many hosts connect at once; nil when stdin is
// not a terminal (the ssh package then says what to do instead).
func terminalPassphrase() func(string) ([]byte, error) {
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return nil
	}
	var mu sync.Mutex
	known := map[string][]byte{}
	return func(keyFile string) ([]byte, error) {
		mu.Lock()
		defer mu.Unlock()
		if p, ok := known[keyFile]; ok {
			return p, nil
		}
		fmt.Fprintf(os.Stderr, "Enter passphrase for key '%s': ", keyFile)
		p, err := term.ReadPassword(fd)
		fmt.Fprintln(os.Stderr)
		if err != nil {
			return nil, err
		}
		known[keyFile] = p
		return p, nil
	}
}
