package playbooks_test

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/frontdoor-dev/frontdoor/distro"
	"github.com/frontdoor-dev/frontdoor/playbooks"
)

// acmePlaybook loads a playbook whose one app gets its certificate over ACME for url.
func acmePlaybook(t *testing.T, url, extra string, tlsExtra ...string) *playbooks.Playbook {
	t.Helper()
	pbFile := filepath.Join(t.TempDir(), "pb.yaml")
	os.WriteFile(pbFile, []byte("apps:\n  - product: jira\n    url: "+url+"\n    tls:\n      acme: {email: admin@example.com, agree_tos: true"+extra+"}\n"+strings.Join(tlsExtra, "")), 0o644)
	pb, err := playbooks.LoadPlaybook(pbFile)
	if err != nil {
		t.Fatal(err)
	}
	return pb
}

// The checks before any change, from this machine: a name that does not resolve, one that
// resolves to another address than the host's, a challenge port that does not answer (checked
// against a dial of our own), a DNS server that does not answer; and the playbook's errors for
// a bad challenge or resolver.
func TestACMEChecks(t *testing.T) {
	ctx := t.Context()
	// .invalid never resolves (RFC 6761).
	notes := acmePlaybook(t, "https://jira.frontdoor-test.invalid", "").ACMEChecks(ctx, nil, "h1", "10.77.0.11", "")
	if len(notes) != 1 || !strings.Contains(notes[0], "acme: jira.frontdoor-test.invalid does not resolve by this controller's DNS") || !strings.Contains(notes[0], "add the DNS record") {
		t.Errorf("a name that does not resolve: %q", notes)
	}
	// localhost resolves (from /etc/hosts) to loopback, not to the host at 10.9.9.9.
	notes = acmePlaybook(t, "https://localhost", "").ACMEChecks(ctx, nil, "h1", "10.9.9.9", "")
	if len(notes) == 0 || !strings.Contains(notes[0], "acme: localhost resolves to ") || !strings.Contains(notes[0], "not to this host (10.9.9.9)") ||
		!strings.Contains(notes[0], "/.well-known/acme-challenge/ on port 80") {
		t.Errorf("a name of another address: %q", notes)
	}
	// The challenge's port: a note when it does not answer here (checked against a dial of our
	// own), unless it only refuses because Apache does not listen there yet and this apply will
	// make it (the port-80 redirect, the https port itself).
	for _, c := range []struct {
		url, extra, tls, port string
		willListen            bool
	}{
		{"https://localhost", "", "", "80", true},
		{"https://localhost", "", "      redirect_http: false\n", "80", false},
		{"https://localhost", ", challenge: tls-alpn-01", "", "443", true},
		{"https://localhost:8443", ", challenge: tls-alpn-01", "", "443", false},
	} {
		notes = acmePlaybook(t, c.url, c.extra, c.tls).ACMEChecks(ctx, nil, "h1", "127.0.0.1", "")
		conn, err := net.DialTimeout("tcp", "127.0.0.1:"+c.port, 3*time.Second)
		switch {
		case err == nil:
			conn.Close()
			if len(notes) != 0 {
				t.Errorf("%+v: the port answers here, yet: %q", c, notes)
			}
		case c.willListen:
			if len(notes) != 0 {
				t.Errorf("%+v: the apply makes Apache listen there (%v), yet: %q", c, err, notes)
			}
		case len(notes) != 1 || !strings.Contains(notes[0], "acme: port "+c.port+" of localhost (127.0.0.1) does not answer from this controller (connect: connection refused)"):
			t.Errorf("%+v: the port does not answer here (%v), yet: %q", c, err, notes)
		}
	}
	// A DNS server where none answers: said, with the server, even for a name this machine's
	// /etc/hosts knows (the resolver is asked alone).
	notes = acmePlaybook(t, "https://localhost", ", resolver: \"127.0.0.1:9\"").ACMEChecks(ctx, nil, "h1", "127.0.0.1", "")
	if len(notes) != 1 || !strings.Contains(notes[0], "does not resolve by the DNS server 127.0.0.1:9") {
		t.Errorf("a resolver that does not answer: %q", notes)
	}
	// Port 80 refused although Apache already listens there (ss says so): a firewall's REJECT,
	// said. Port 443 only listed by the configuration (Debian's ports.conf, inside <IfModule
	// ssl_module>) while nothing listens: this apply will make it, so a refusal is fine.
	if conn, err := net.DialTimeout("tcp", "127.0.0.1:80", 3*time.Second); err == nil {
		conn.Close()
	} else {
		f := &distro.Facts{Apache: distro.Apache{Listen: map[int][]string{80: {"/etc/apache2/ports.conf"}}}, PortHolders: map[int][]string{80: {"apache2"}}}
		notes = acmePlaybook(t, "https://localhost", "").ACMEChecks(ctx, f, "h1", "127.0.0.1", "")
		if len(notes) != 1 || !strings.Contains(notes[0], "port 80 of localhost (127.0.0.1) does not answer") {
			t.Errorf("a refusal where Apache listens: %q", notes)
		}
	}
	if conn, err := net.DialTimeout("tcp", "127.0.0.1:443", 3*time.Second); err == nil {
		conn.Close()
	} else {
		f := &distro.Facts{Apache: distro.Apache{Listen: map[int][]string{80: {"ports.conf"}, 443: {"ports.conf"}}}, PortHolders: map[int][]string{80: {"apache2"}}}
		if notes := acmePlaybook(t, "https://localhost", ", challenge: tls-alpn-01").ACMEChecks(ctx, f, "h1", "127.0.0.1", ""); len(notes) != 0 {
			t.Errorf("443 listed in the configuration but not listened on: %q", notes)
		}
	}
	// Playbook errors name the file, line and column.
	for extra, want := range map[string]string{
		", challenge: dns-01":       `pb.yaml:5:68: challenge "dns-01": write http-01`,
		", resolver: \"10.0.0.53\"": `pb.yaml:5:67: resolver "10.0.0.53": give the DNS server as host:port`,
	} {
		pbFile := filepath.Join(t.TempDir(), "pb.yaml")
		os.WriteFile(pbFile, []byte("apps:\n  - product: jira\n    url: https://jira.example.com\n    tls:\n      acme: {email: admin@example.com, agree_tos: true"+extra+"}\n"), 0o644)
		if _, err := playbooks.LoadPlaybook(pbFile); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", extra, err)
		}
	}
	// One note per name per host.
	if notes := acmePlaybook(t, "https://jira.frontdoor-test.invalid", "").ACMEChecks(ctx, nil, "h2", "10.9.9.9", ""); len(notes) != 1 {
		t.Errorf("one note per name per host: %q", notes)
	}
}
