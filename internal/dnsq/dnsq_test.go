package dnsq

import (
	"context"
	"net"
	"slices"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// serve answers A queries for "app.example.test." with 192.0.2.7 and NXDOMAIN otherwise, on a
// loopback UDP port, and returns its address.
func serve(t *testing.T) string {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			var m dnsmessage.Message
			if m.Unpack(buf[:n]) != nil || len(m.Questions) != 1 {
				continue
			}
			q := m.Questions[0]
			m.Header.Response = true
			if q.Name.String() != "app.example.test." {
				m.Header.RCode = dnsmessage.RCodeNameError
			} else if q.Type == dnsmessage.TypeA {
				m.Answers = []dnsmessage.Resource{{Header: dnsmessage.ResourceHeader{Name: q.Name, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET, TTL: 60},
					Body: &dnsmessage.AResource{A: [4]byte{192, 0, 2, 7}}}}
			}
			out, _ := m.Pack()
			pc.WriteTo(out, from)
		}
	}()
	return pc.LocalAddr().String()
}

// Only the server is asked: its answer, its NXDOMAIN (even for localhost, which the machine's
// /etc/hosts knows), a server that does not answer (a timeout, not "not found").
func TestLookup(t *testing.T) {
	srv := serve(t)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if got, err := Lookup(ctx, srv, "app.example.test"); err != nil || !slices.Equal(got, []string{"192.0.2.7"}) {
		t.Errorf("app.example.test: %v %v", got, err)
	}
	for _, name := range []string{"localhost", "other.example.test"} {
		_, err := Lookup(ctx, srv, name)
		if de, ok := err.(*net.DNSError); !ok || !de.IsNotFound {
			t.Errorf("%s: %v, want not found from the server", name, err)
		}
	}
	pc, _ := net.ListenPacket("udp", "127.0.0.1:0") // nothing answers there
	defer pc.Close()
	short, cancel2 := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel2()
	if _, err := Lookup(short, pc.LocalAddr().String(), "app.example.test"); err == nil {
		t.Error("a silent server gave an answer")
	} else if de, ok := err.(*net.DNSError); !ok || de.IsNotFound || !de.IsTimeout {
		t.Errorf("a silent server: %v, want a timeout", err)
	}
}
