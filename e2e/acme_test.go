package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/frontdoor-dev/frontdoor/certs/certtest"
	"github.com/frontdoor-dev/frontdoor/internal/labtest"
)

// bridge is the lab machine's address on the lab bridge: the hosts reach it.
const bridge = "10.77.0.1"

// pebble runs Let's Encrypt's ACME test server (Pebble, TEST-ONLY: its CA is made afresh at each
// start) on the lab bridge, with pebble-challtestsrv as its DNS answering every name with addr
// (the lab host under test), so its http-01 validation reaches that host's Apache on port 80. It
// returns the directory URL, the file of roots for Pebble's own https (for mod_md) and the file of
// the root that issues the certificates (for verification).
func pebble(t *testing.T, addr string) (directory, serverRoots, issuingRoot string) {
	t.Helper()
	for _, b := range []string{"pebble", "pebble-challtestsrv"} {
		if _, err := exec.LookPath(b); err != nil {
			t.Fatalf("%s is needed: scripts/setup installs it", b)
		}
	}
	dir := t.TempDir()
	ca := certtest.NewCA(t)
	cert, key := ca.Issue(t, []string{"acme.lab.test"}, time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour), certtest.IPs(net.ParseIP(bridge)))
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	serverRoots = write("pebble-server-roots.pem", ca.RootPEM)
	cfg := map[string]any{"pebble": map[string]any{
		"listenAddress": bridge + ":14000", "managementListenAddress": bridge + ":15000",
		"certificate": write("pebble.pem", append(cert, ca.IntermediatePEM...)), "privateKey": write("pebble.key", key),
		"httpPort": 80, "tlsPort": 443, "ocspResponderURL": "", "externalAccountBindingRequired": false,
		"retryAfter": map[string]int{"authz": 1, "order": 1},
		"profiles":   map[string]any{"default": map[string]any{"description": "lab", "validityPeriod": 7776000}},
	}}
	b, _ := json.Marshal(cfg)
	start := func(name string, env []string, args ...string) {
		cmd := exec.Command(name, args...)
		cmd.Env = append(os.Environ(), env...)
		log, _ := os.Create(filepath.Join(dir, name+".log"))
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			cmd.Process.Kill()
			cmd.Wait()
			if t.Failed() {
				out, _ := os.ReadFile(log.Name())
				t.Logf("%s's log:\n%s", name, out)
			}
		})
	}
	start("pebble-challtestsrv", nil, "-defaultIPv4", addr, "-defaultIPv6", "", "-dnsserver", bridge+":8053",
		"-management", bridge+":8055", "-http01", "", "-https01", "", "-tlsalpn01", "", "-doh", "")
	start("pebble", []string{"PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0"}, "-config", write("pebble.json", b), "-dnsserver", bridge+":8053")

	// Ready when its directory answers over https; then fetch the root it issues under.
	cl := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}}}
	directory = "https://" + bridge + ":14000/dir"
	get := func(u string) ([]byte, error) {
		resp, err := cl.Get(u)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			return nil, fmt.Errorf("%s: %d", u, resp.StatusCode)
		}
		return io.ReadAll(resp.Body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		if _, err := get(directory); err == nil {
			break
		} else if ctx.Err() != nil {
			t.Fatalf("pebble does not answer: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	root, err := get("https://" + bridge + ":15000/roots/0")
	if err != nil {
		t.Fatal(err)
	}
	if p := x509.NewCertPool(); !p.AppendCertsFromPEM(root) {
		t.Fatalf("pebble's root is not PEM: %s", root)
	}
	return directory, serverRoots, write("pebble-issuing-root.pem", root)
}

// TestHTTPSWithACME: tls: {acme: ...} against a real ACME server (Pebble, TEST-ONLY, on the lab
// bridge): Apache's mod_md on the lab host registers an account, answers Pebble's http-01
// challenge on port 80, obtains the certificate, and frontdoor reloads httpd to activate it; the
// proxy then serves a certificate that chains to Pebble's root (not mod_md's temporary one), and
// Jira is verified through it. A second apply changes nothing; the rollback leaves every file as
// it was, mod_md's store (account, keys, certificates) removed. On a Debian host, and on the
// CentOS-layout host after (EMULATED) "dnf install mod_ssl mod_md", with the store in
// /var/lib/httpd/md; and on a Debian host with the tls-alpn-01 challenge (a TLS handshake on 443,
// no plain http at all). The checks before any change ask Pebble's DNS (tls.acme.resolver): the
// name resolves to the host and the challenge's port answers, so they have nothing to say.
func TestHTTPSWithACME(t *testing.T) {
	l := labtest.Open(t)
	for _, c := range []struct {
		name, store, prepare string
		acme, tls            string // more of tls.acme, more of tls
		h                    labtest.Host
		state                func(labtest.Host) string
	}{
		{"debian", "/var/lib/apache2/md", "", "", "", l.HostWithInit(t, "systemd"),
			func(h labtest.Host) string { return snapshot(t, l, h) + sslState(t, l, h) }},
		{"redhat", "/var/lib/httpd/md", "dnf install -y mod_ssl mod_md >/dev/null", "", "", l.HostWithFlavor(t, "rocky"),
			func(h labtest.Host) string { return redhatSnapshot(t, l, h) + pkiState(t, l, h) }},
		{"tls-alpn-01", "/var/lib/apache2/md", "", ", challenge: tls-alpn-01", "      redirect_http: false\n", l.HostWithInit(t, "systemd"),
			func(h labtest.Host) string { return snapshot(t, l, h) + sslState(t, l, h) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := c.h
			l.Reset(t, h)
			defer l.Reset(t, h)
			if c.prepare != "" {
				l.Exec(t, h, c.prepare)
			}
			directory, serverRoots, issuingRoot := pebble(t, h.Address)
			dir := t.TempDir()
			pb := filepath.Join(dir, "acme.yaml")
			os.WriteFile(pb, []byte(fmt.Sprintf(`apps:
  - product: jira
    url: https://jira.{{host}}.lab.test
    tls:
      acme: {email: admin@example.com, directory: "%s", ca_file: %s, agree_tos: true, resolver: "%s:8053"%s}
      ca_file: %s
%s`, directory, serverRoots, bridge, c.acme, issuingRoot, c.tls)), 0o644)
			state := func() string { return c.state(h) + l.Exec(t, h, "ls -d "+c.store+" 2>/dev/null; true") }
			before := state()
			led := filepath.Join(t.TempDir(), "ledger.db")
			r := frontdoor(t, nil, "apply", "--yes", "-v", "--ledger", led, "-i", l.Inventory, "--limit", h.Name, pb)
			name := "jira." + h.Name + ".lab.test"
			if r.code != 0 || !strings.Contains(r.stdout, "verified https://"+name+" through the proxy") || !strings.Contains(r.stdout, "issuer Pebble Intermediate CA") ||
				!strings.Contains(r.stdout, "MDStoreDir "+c.store) {
				t.Fatalf("apply with acme:\n%s", r)
			}
			if !strings.Contains(r.stdout, "certificate "+name+", issuer Pebble Intermediate CA") { // Pebble leaves the subject empty
				t.Errorf("the served certificate is not named by its DNS name:\n%s", r)
			}
			if strings.Contains(r.stdout, "preflight WARNING acme") {
				t.Errorf("the checks before any change found a problem Pebble did not:\n%s", r)
			}
			if got := l.Exec(t, h, "ls "+c.store+"/domains/"+name+"/"); !strings.Contains(got, "pubcert.pem") {
				t.Errorf("mod_md's store has no certificate for %s: %s", name, got)
			}
			if strings.Contains(c.acme, "tls-alpn-01") { // mod_md records the challenges it was told to use
				if got := l.Exec(t, h, "grep -c tls-alpn-01 "+c.store+"/domains/"+name+"/md.json; grep -c http-01 "+c.store+"/domains/"+name+"/md.json; true"); got != "1\n0\n" {
					t.Errorf("mod_md's md.json does not say tls-alpn-01 only: %q", got)
				}
			}
			if again := frontdoor(t, nil, "apply", "--yes", "-i", l.Inventory, "--limit", h.Name, pb); again.code != 0 || !strings.Contains(again.stdout, "no changes (nothing restarted)") {
				t.Errorf("second apply:\n%s", again)
			}
			rollbackRun(t, l, h, led, r.stdout)
			if after := state(); after != before {
				t.Errorf("not restored:\n%s\n->\n%s", before, after)
			}
		})
	}
}
