// Package dnsq asks one DNS server for a name's addresses, and nothing else: not the controller's
// /etc/hosts, search domains or other servers (Go's resolver consults /etc/hosts even with a
// custom Dial), so a check "does the public name resolve in this DNS" means what it says.
package dnsq

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"golang.org/x/net/dns/dnsmessage"
)

// Lookup asks server (host:port, over UDP) for name's A and AAAA records. A name the server says
// does not exist is a *net.DNSError with IsNotFound, as Go's resolver reports it.
func Lookup(ctx context.Context, server, name string) ([]string, error) {
	var out []string
	for _, t := range []dnsmessage.Type{dnsmessage.TypeA, dnsmessage.TypeAAAA} {
		addrs, err := query(ctx, server, name, t)
		var de *net.DNSError
		switch {
		case err == nil:
			out = append(out, addrs...)
		case errors.As(err, &de) && de.IsNotFound:
		default:
			return nil, err
		}
	}
	if len(out) == 0 {
		return nil, &net.DNSError{Err: "no such host", Name: name, Server: server, IsNotFound: true}
	}
	return out, nil
}

func query(ctx context.Context, server, name string, t dnsmessage.Type) ([]string, error) {
	fqdn, err := dnsmessage.NewName(strings.TrimSuffix(name, ".") + ".")
	if err != nil {
		return nil, &net.DNSError{Err: err.Error(), Name: name, Server: server}
	}
	var idb [2]byte
	rand.Read(idb[:])
	id := binary.BigEndian.Uint16(idb[:])
	msg := dnsmessage.Message{Header: dnsmessage.Header{ID: id, RecursionDesired: true},
		Questions: []dnsmessage.Question{{Name: fqdn, Type: t, Class: dnsmessage.ClassINET}}}
	q, err := msg.Pack()
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "udp", server)
	if err != nil {
		return nil, &net.DNSError{Err: err.Error(), Name: name, Server: server}
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	if _, err := conn.Write(q); err != nil {
		return nil, &net.DNSError{Err: err.Error(), Name: name, Server: server}
	}
	buf := make([]byte, 1500)
	for {
		n, err := conn.Read(buf)
		if err != nil {
			return nil, &net.DNSError{Err: err.Error(), Name: name, Server: server, IsTimeout: isTimeout(err)}
		}
		var p dnsmessage.Parser
		h, err := p.Start(buf[:n])
		if err != nil || h.ID != id || !h.Response {
			continue // not the answer to this query
		}
		switch h.RCode {
		case dnsmessage.RCodeSuccess:
		case dnsmessage.RCodeNameError:
			return nil, &net.DNSError{Err: "no such host", Name: name, Server: server, IsNotFound: true}
		default:
			return nil, &net.DNSError{Err: "server answered " + h.RCode.String(), Name: name, Server: server}
		}
		if err := p.SkipAllQuestions(); err != nil {
			return nil, err
		}
		var out []string
		for {
			rh, err := p.AnswerHeader()
			if err != nil {
				break
			}
			switch rh.Type {
			case dnsmessage.TypeA:
				r, err := p.AResource()
				if err != nil {
					return nil, err
				}
				out = append(out, netip.AddrFrom4(r.A).String())
			case dnsmessage.TypeAAAA:
				r, err := p.AAAAResource()
				if err != nil {
					return nil, err
				}
				out = append(out, netip.AddrFrom16(r.AAAA).String())
			default:
				if err := p.SkipAnswer(); err != nil {
					return nil, err
				}
			}
		}
		return out, nil
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// Resolve is Lookup through server, or the controller's own resolver when server is "".
func Resolve(ctx context.Context, server, name string) ([]string, error) {
	if server == "" {
		return net.DefaultResolver.LookupHost(ctx, name)
	}
	if _, _, err := net.SplitHostPort(server); err != nil {
		return nil, fmt.Errorf("DNS server %q: %w", server, err)
	}
	return Lookup(ctx, server, name)
}

// HostAddresses are a host's addresses as the inventory gives it: addr itself when it is an IP,
// else addr and what it resolves to through server (the controller's resolver for "").
func HostAddresses(ctx context.Context, server, addr string) []string {
	if net.ParseIP(addr) != nil {
		return []string{addr}
	}
	ips, _ := Resolve(ctx, server, addr)
	return append(ips, addr)
}
