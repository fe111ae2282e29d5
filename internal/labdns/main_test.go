package main

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"
)

// Go's own resolver, pointed at labdns on loopback: a host's names and every name under them
// resolve to its address (case-insensitive), other names are not found.
func TestResolverAgainstLabDNS(t *testing.T) {
	zone := map[string]netip.Addr{"jira1.lab.test": netip.MustParseAddr("10.77.0.11"), "jira10.lab.test": netip.MustParseAddr("10.77.0.20")}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if out, err := answer(zone, buf[:n]); err == nil {
				pc.WriteTo(out, from)
			}
		}
	}()
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "udp", pc.LocalAddr().String())
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for name, want := range map[string]string{"jira1.lab.test": "10.77.0.11", "jira.jira1.lab.test": "10.77.0.11", "A.B.JIRA10.lab.test": "10.77.0.20"} {
		if got, err := r.LookupHost(ctx, name); err != nil || !slices.Equal(got, []string{want}) {
			t.Errorf("%s: %v %v, want %s", name, got, err, want)
		}
	}
	for _, name := range []string{"jira2.lab.test", "xjira1.lab.test", "lab.test", "jira.example.com"} {
		var dnsErr *net.DNSError
		if got, err := r.LookupHost(ctx, name); err == nil || !errors.As(err, &dnsErr) || !dnsErr.IsNotFound {
			t.Errorf("%s: %v %v, want not found", name, got, err)
		}
	}
}
