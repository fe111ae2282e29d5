package playbooks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/frontdoor-dev/frontdoor/distro"
)

// ACMEChecks are what an ACME CA's validation of each acme: name on host will need, looked at
// from the controller before any change: that the name resolves (by the playbook's resolver, else
// the controller's DNS), to the host's address addr (the CA validates the addresses it finds),
// and that the challenge's port answers there (80 for http-01, 443 for tls-alpn-01): a refused
// connection is fine when Apache will listen there after this apply (f: the host's facts, nil
// when not known). Each problem is one line that says what to do. They are notes, not refusals:
// the CA may see another DNS view or network than the controller, or a load balancer may stand
// in front of the host.
func (pb *Playbook) ACMEChecks(ctx context.Context, f *distro.Facts, host, addr string) []string {
	var out []string
	seen := map[string]bool{}
	vhosts := pb.vhosts(host)
	willListen := func(port int) bool {
		if f != nil && len(f.Apache.Listen[port]) > 0 {
			return true
		}
		for _, v := range vhosts {
			if v.Port == port || (port == 80 && v.TLS != nil && v.TLS.Redirect) {
				return true
			}
		}
		return false
	}
	for _, a := range pb.Apps {
		p := a.PublicFor(host)
		if a.TLS == nil || a.TLS.ACME == nil || p.Scheme != "https" || seen[p.Host] {
			continue
		}
		seen[p.Host] = true
		out = append(out, checkACMEName(ctx, a.TLS.ACME, p.Host, addr, willListen)...)
	}
	return out
}

// acmeCheckTimeout bounds each lookup and each connection attempt.
const acmeCheckTimeout = 3 * time.Second

func checkACMEName(ctx context.Context, acme *ACME, name, addr string, willListen func(int) bool) []string {
	r := net.DefaultResolver
	via := "this controller's DNS"
	if acme.Resolver != "" {
		via = "the DNS server " + acme.Resolver
		r = &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, acme.Resolver)
		}}
	}
	lctx, cancel := context.WithTimeout(ctx, acmeCheckTimeout)
	defer cancel()
	found, err := r.LookupHost(lctx, name)
	if err != nil {
		var dnsErr *net.DNSError
		why := err.Error()
		if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
			why = "no such name"
		}
		return []string{fmt.Sprintf("acme: %s does not resolve by %s (%s): the ACME CA must find this host by that name to validate it; add the DNS record (or give tls.acme.resolver, the DNS the CA uses)", name, via, why)}
	}
	var notes []string
	mine := hostAddresses(lctx, addr)
	if !slices.ContainsFunc(found, func(a string) bool { return slices.Contains(mine, a) }) {
		notes = append(notes, fmt.Sprintf("acme: %s resolves to %s by %s, not to this host (%s): the CA validates at %s; if that is a load balancer in front of this host, it must pass the challenge (%s) through to it",
			name, strings.Join(found, ", "), via, addr, strings.Join(found, ", "), challengeWhat(acme.Challenge)))
	}
	port := 80
	if acme.Challenge == TLSALPN01 {
		port = 443
	}
	target := net.JoinHostPort(found[0], strconv.Itoa(port))
	conn, err := (&net.Dialer{Timeout: acmeCheckTimeout}).DialContext(ctx, "tcp", target)
	if err != nil && errors.Is(err, syscall.ECONNREFUSED) && willListen(port) {
		// Reached, and nothing listens yet: this apply makes Apache listen there.
	} else if err != nil {
		other := map[int]string{80: "or choose challenge: " + TLSALPN01 + " (port 443)", 443: "or choose challenge: " + HTTP01 + " (port 80)"}[port]
		notes = append(notes, fmt.Sprintf("acme: port %d of %s (%s) does not answer from this controller (%v): the CA's %s validation connects there; open it in the firewall, %s",
			port, name, found[0], cause(err), acme.Challenge, other))
	} else {
		conn.Close()
	}
	return notes
}

// hostAddresses are addr's addresses: addr itself when it is an IP, else what it resolves to.
func hostAddresses(ctx context.Context, addr string) []string {
	if net.ParseIP(addr) != nil {
		return []string{addr}
	}
	ips, _ := net.DefaultResolver.LookupHost(ctx, addr)
	return append(ips, addr)
}

func challengeWhat(c string) string {
	if c == TLSALPN01 {
		return "a TLS handshake on port 443 with ALPN acme-tls/1"
	}
	return "http://NAME/.well-known/acme-challenge/ on port 80"
}

// cause is a network error's innermost words ("connect: connection refused", "i/o timeout").
func cause(err error) string {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err.Error()
	}
	return err.Error()
}
