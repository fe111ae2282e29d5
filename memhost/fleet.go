package memhost

import (
	"context"
	"fmt"
	"net"
	"net/http/httptest"
	"sync"

	"github.com/frontdoor-dev/frontdoor/target"
)

// Fleet is a set of emulated hosts by name, each with its Apache served on loopback for
// verification.
type Fleet struct {
	mu      sync.Mutex
	Hosts   map[string]*Host
	servers map[string]*httptest.Server
	// Down names hosts that cannot be reached (connection refused).
	Down map[string]bool
}

// NewFleet makes a fresh host (New) for each name.
func NewFleet(names ...string) *Fleet {
	f := &Fleet{Hosts: map[string]*Host{}, servers: map[string]*httptest.Server{}, Down: map[string]bool{}}
	for _, n := range names {
		f.Hosts[n] = New(n)
	}
	return f
}

// Conn connects to a host, as a transport's Dial would.
func (f *Fleet) Conn(name string) (target.Conn, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	h, ok := f.Hosts[name]
	if !ok || f.Down[name] {
		return nil, fmt.Errorf("%s: dial tcp: connect: connection refused", name)
	}
	return h.Conn(), nil
}

// HTTPDial is how verification reaches host name's Apache: every address dials its server.
func (f *Fleet) HTTPDial(name string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.servers[name]
	if !ok {
		h := f.Hosts[name]
		if h == nil {
			h = New(name)
		}
		s = httptest.NewServer(h)
		f.servers[name] = s
		h.mu.Lock()
		h.proxyAddr = s.Listener.Addr().String()
		h.mu.Unlock()
	}
	addr := s.Listener.Addr().String()
	return func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
}

// Close stops the hosts' HTTP servers.
func (f *Fleet) Close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.servers {
		s.Close()
	}
}
