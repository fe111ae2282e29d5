package main

import (
	"context"
	"fmt"
	"net"

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
		pw, err := h.BecomePassword()
		if err != nil {
			return nil, err
		}
		kh := f.knownHosts
		if kh == "" {
			kh = inv.KnownHosts
		}
		cfg := ssh.Config{Name: h.Name, Address: h.Address, Port: h.Port, User: h.User, KnownHosts: kh,
			AcceptNew: f.acceptNew, UseAgent: f.useAgent || h.Key == "", BecomePassword: pw}
		if h.Key != "" {
			cfg.KeyFiles = []string{h.Key}
		}
		if cfg.Jump, err = ssh.ParseProxyJump(h.ProxyJump, h.User); err != nil {
			return nil, fmt.Errorf("%s: %w", h.Name, err)
		}
		return ssh.Dial(ctx, cfg)
	}
}
