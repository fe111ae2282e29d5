package e2e

import (
	"context"

	"github.com/frontdoor-dev/frontdoor/playbooks"
	"github.com/frontdoor-dev/frontdoor/session"
	"github.com/frontdoor-dev/frontdoor/ssh"
	"github.com/frontdoor-dev/frontdoor/target"
)

// labDial reaches the lab's hosts the way frontdoor's own wiring does for key-based root logins
// (tests that go through Go rather than the binary need a transport handed to them too).
func labDial(inv *playbooks.Inventory) session.Dial {
	return func(ctx context.Context, h *playbooks.Host) (target.Conn, error) {
		cfg := ssh.Config{Name: h.Name, Address: h.Address, Port: h.Port, User: h.User, KnownHosts: inv.KnownHosts}
		if h.Key != "" {
			cfg.KeyFiles = []string{h.Key}
		}
		return ssh.Dial(ctx, cfg)
	}
}
