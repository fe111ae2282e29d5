// Package simfleet owns the EMULATED fleet for scale measurements: many in-memory hosts
// (memhost, checked against real lab hosts by e2e.TestMemhostIsFaithful) each served by a real
// SSH server (golang.org/x/crypto/ssh, with its own ed25519 host key and SFTP) and a real HTTP
// listener on its own loopback address, all in one process. frontdoor reaches them exactly as it
// reaches real hosts: its SSH transport, known_hosts, SFTP writes, verification over HTTP. What
// is emulated is the far end: no sshd, no shell, no Apache or Tomcat. It is for measuring the
// controller (CPU, memory, descriptors, ledger) past what the lab's real hosts can number on one
// machine, never for proving behaviour on a host.
package simfleet

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	xssh "golang.org/x/crypto/ssh"

	"github.com/frontdoor-dev/frontdoor/memhost"
)

// Options shape an emulated fleet.
type Options struct {
	// First is the first host's address; the others follow it (default 127.77.0.1). Linux routes
	// all of 127.0.0.0/8 to the loopback interface, so each host has an address of its own.
	First netip.Addr
	// Latency is added before every answer (a command, an SFTP request, a new connection's
	// handshake): a remote host's network and sshd cost, which loopback does not have.
	Latency time.Duration
	// Prefix names the hosts Prefix1..PrefixN (default "sim").
	Prefix string
	// DNS, if set, is the inventory's dns_resolver for every host (ADDR:PORT of a server that
	// answers for Dir/zone, such as internal/labdns).
	DNS string
	// Real are real hosts (the lab's) listed in the same inventory, after the emulated ones.
	Real []RealHost
}

// RealHost is a real host to list with the emulated ones: its name, address, login key and
// known_hosts lines.
type RealHost struct {
	Name, Addr, Key string
	KnownHosts      []string
}

// Host is one emulated host.
type Host struct {
	Name string
	Addr netip.Addr
	Mem  *memhost.Host
	key  xssh.Signer
}

// Fleet is a started emulated fleet; Dir holds its inventory, known_hosts, client key and DNS zone.
type Fleet struct {
	Dir   string
	Hosts []*Host
	opt   Options
	lns   []net.Listener
	srvs  []*http.Server
	wg    sync.WaitGroup
	ctx   context.Context
	stop  context.CancelFunc
	authz xssh.PublicKey
}

// Start makes n fresh Debian hosts (memhost.New: Apache running with its default site, Jira on
// 8080 with its shipped server.xml) and serves each on ADDR:22 (SSH) and ADDR:80 (Apache). It
// writes Dir/inventory.yaml (root, the client key, known_hosts, dns_resolver left to the caller),
// Dir/known_hosts, Dir/id_ed25519 and Dir/zone ("NAME ADDRESS" lines, internal/labdns's format).
func Start(dir string, n int, opt Options) (*Fleet, error) {
	if !opt.First.IsValid() {
		opt.First = netip.MustParseAddr("127.77.0.1")
	}
	if opt.Prefix == "" {
		opt.Prefix = "sim"
	}
	ctx, stop := context.WithCancel(context.Background())
	f := &Fleet{Dir: dir, opt: opt, ctx: ctx, stop: stop}
	_, cpriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	block, err := xssh.MarshalPrivateKey(cpriv, "")
	if err != nil {
		return nil, err
	}
	keyPath := filepath.Join(dir, "id_ed25519")
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(block), 0o600); err != nil {
		return nil, err
	}
	csigner, _ := xssh.NewSignerFromKey(cpriv)
	f.authz = csigner.PublicKey()
	var inv, kh, zone strings.Builder
	inv.WriteString("# EMULATED fleet (internal/simfleet): in-memory hosts behind real SSH and HTTP listeners\nhosts:\n")
	addr := opt.First
	for i := 1; i <= n; i++ {
		h := &Host{Name: fmt.Sprintf("%s%d", opt.Prefix, i), Addr: addr, Mem: memhost.New(fmt.Sprintf("%s%d", opt.Prefix, i))}
		_, hpriv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			f.Close()
			return nil, err
		}
		h.key, _ = xssh.NewSignerFromKey(hpriv)
		if err := f.serve(h); err != nil {
			f.Close()
			return nil, err
		}
		f.Hosts = append(f.Hosts, h)
		fmt.Fprintf(&inv, "  %s:\n    address: %s\n    port: 22\n    user: root\n    key: %s\n", h.Name, h.Addr, keyPath)
		if opt.DNS != "" {
			fmt.Fprintf(&inv, "    vars: {dns_resolver: %q}\n", opt.DNS)
		}
		fmt.Fprintf(&kh, "%s %s", h.Addr, xssh.MarshalAuthorizedKey(h.key.PublicKey()))
		fmt.Fprintf(&zone, "%s.sim.test %s\n", h.Name, h.Addr)
		addr = addr.Next()
	}
	for _, r := range opt.Real {
		fmt.Fprintf(&inv, "  %s:\n    address: %s\n    port: 22\n    user: root\n    key: %s\n", r.Name, r.Addr, r.Key)
		if opt.DNS != "" {
			fmt.Fprintf(&inv, "    vars: {dns_resolver: %q}\n", opt.DNS)
		}
		for _, l := range r.KnownHosts {
			kh.WriteString(l + "\n")
		}
		fmt.Fprintf(&zone, "%s.sim.test %s\n", r.Name, r.Addr)
	}
	fmt.Fprintf(&inv, "known_hosts: %s\n", filepath.Join(dir, "known_hosts"))
	for name, data := range map[string]string{"inventory.yaml": inv.String(), "known_hosts": kh.String(), "zone": zone.String()} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			f.Close()
			return nil, err
		}
	}
	return f, nil
}

// serve starts h's SSH and HTTP listeners.
func (f *Fleet) serve(h *Host) error {
	sl, err := net.Listen("tcp", netip.AddrPortFrom(h.Addr, 22).String())
	if err != nil {
		return fmt.Errorf("simfleet: %s: %w (run as root, or pick another First address)", h.Name, err)
	}
	f.lns = append(f.lns, sl)
	hl, err := net.Listen("tcp", netip.AddrPortFrom(h.Addr, 80).String())
	if err != nil {
		return fmt.Errorf("simfleet: %s: %w", h.Name, err)
	}
	f.lns = append(f.lns, hl)
	h.Mem.SetForward(hl.Addr().String())
	srv := &http.Server{Handler: h.Mem, ReadHeaderTimeout: 10 * time.Second}
	f.srvs = append(f.srvs, srv)
	go srv.Serve(hl)
	cfg := &xssh.ServerConfig{PublicKeyCallback: func(_ xssh.ConnMetadata, k xssh.PublicKey) (*xssh.Permissions, error) {
		if string(k.Marshal()) == string(f.authz.Marshal()) {
			return nil, nil
		}
		return nil, errors.New("unknown key")
	}}
	cfg.AddHostKey(h.key)
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for {
			c, err := sl.Accept()
			if err != nil {
				return
			}
			go f.serveConn(h, c, cfg)
		}
	}()
	return nil
}

// Close stops every listener (connections in flight end with them).
func (f *Fleet) Close() {
	f.stop()
	for _, l := range f.lns {
		l.Close()
	}
	for _, s := range f.srvs {
		s.Close()
	}
	f.wg.Wait()
}
