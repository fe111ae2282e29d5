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
	"github.com/frontdoor-dev/frontdoor/internal/dnsq"
)

// ACMEChecks are what an ACME CA's validation of each acme: name on host will need, looked at
// from the controller before any change: that the name resolves (by the playbook's resolver, else
// the host's dns_resolver, else the controller's DNS), to the host's address addr (the CA validates the addresses it finds),
// and that the challenge's port answers there (80 for http-01, 443 for tls-alpn-01): a refused
// connection is fine when Apache does not listen there yet and will after this apply (f: the
// host's facts, nil when not known). A resolver is asked alone (internal/dnsq), not with the
// controller's /etc/hosts. Each problem is one line that says what to do. They are notes, not refusals:
// the CA may see another DNS view or network than the controller, or a load balancer may stand
// in front of the host.
func (pb *Playbook) ACMEChecks(ctx context.Context, f *distro.Facts, host, addr, resolver string) []string {
	var out []string
	seen := map[string]bool{}
	vhosts := pb.vhosts(host)
	// willListen: Apache does not listen on port yet, and this apply makes it. A refusal on a
	// port Apache already listens on is something else (a firewall's REJECT), so it is said.
	willListen := func(port int) bool {
		if f != nil && f.PortHolders != nil { // what listens now (ss), not what the config lists:
			// Debian's ports.conf lists 443 inside <IfModule ssl_module>, unused until mod_ssl is on
			for _, h := range f.PortHolders[port] {
				if h == "apache2" || h == "httpd" {
					return false
				}
			}
		} else if f != nil && len(f.Apache.Listen[port]) > 0 {
			return false
		}
		for _, v := range vhosts {
			if v.Port == port || (port == 80 && v.TLS != nil && v.TLS.Redirect) {
				return true
			}
		}
		return false
	}
	for _, a := range pb.Proxied(host) {
		p := a.PublicFor(host)
		if a.TLS == nil || a.TLS.ACME == nil || p.Scheme != "https" || seen[p.Host] {
			continue
		}
		seen[p.Host] = true
		out = append(out, checkACMEName(ctx, a.TLS.ACME, p.Host, addr, resolver, willListen)...)
	}
	return out
}

// acmeCheckTimeout bounds each lookup and each connection attempt.
const acmeCheckTimeout = 3 * time.Second

func checkACMEName(ctx context.Context, acme *ACME, name, addr, resolver string, willListen func(int) bool) []string {
	if acme.Resolver != "" {
		resolver = acme.Resolver
	}
	via := "this controller's DNS"
	if resolver != "" {
		via = "the DNS server " + resolver
	}
	lctx, cancel := context.WithTimeout(ctx, acmeCheckTimeout)
	defer cancel()
	found, err := dnsq.Resolve(lctx, resolver, name)
	if err != nil {
		var dnsErr *net.DNSError
		why := err.Error()
		if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
			why = "no such name"
		}
		return []string{fmt.Sprintf("acme: %s does not resolve by %s (%s): the ACME CA must find this host by that name to validate it; add the DNS record (or give tls.acme.resolver, the DNS the CA uses)", name, via, why)}
	}
	var notes []string
	mine := dnsq.HostAddresses(lctx, resolver, addr)
	at := found[0] // the host's own address when the name has it: the CA may try any
	if i := slices.IndexFunc(found, func(a string) bool { return slices.Contains(mine, a) }); i >= 0 {
		at = found[i]
	} else {
		notes = append(notes, fmt.Sprintf("acme: %s resolves to %s by %s, not to this host (%s): the CA validates at %s; if that is a load balancer in front of this host, it must pass the challenge (%s) through to it",
			name, strings.Join(found, ", "), via, addr, strings.Join(found, ", "), challengeWhat(acme.Challenge)))
	}
	port := 80
	if acme.Challenge == TLSALPN01 {
		port = 443
	}
	target := net.JoinHostPort(at, strconv.Itoa(port))
	conn, err := (&net.Dialer{Timeout: acmeCheckTimeout}).DialContext(ctx, "tcp", target)
	if err != nil && errors.Is(err, syscall.ECONNREFUSED) && willListen(port) {
		// Reached, and nothing listens yet: this apply makes Apache listen there.
	} else if err != nil {
		other := map[int]string{80: "or choose challenge: " + TLSALPN01 + " (port 443)", 443: "or choose challenge: " + HTTP01 + " (port 80)"}[port]
		notes = append(notes, fmt.Sprintf("acme: port %d of %s (%s) does not answer from this controller (%v): the CA's %s validation connects there; open it in the firewall, %s",
			port, name, at, cause(err), acme.Challenge, other))
	} else {
		conn.Close()
	}
	return notes
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
