package playbooks_test

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/frontdoor-dev/frontdoor/certs/certtest"
	"github.com/frontdoor-dev/frontdoor/distro"
	"github.com/frontdoor-dev/frontdoor/memhost"
	"github.com/frontdoor-dev/frontdoor/playbooks"
	"github.com/frontdoor-dev/frontdoor/session"
	"github.com/frontdoor-dev/frontdoor/steps"
	"github.com/frontdoor-dev/frontdoor/target"
)

// planOnMemhost loads the playbook and plans it for host h1 on an EMULATED Debian host (memhost:
// Debian 12's apache2 as installed): the facts, the steps and services, and the plan as text
// (each step's name, summary and diff).
func planOnMemhost(t *testing.T, pbFile string) (*playbooks.Playbook, *distro.Facts, []steps.Step, []*steps.Service, string) {
	t.Helper()
	pb, err := playbooks.LoadPlaybook(pbFile)
	if err != nil {
		t.Fatal(err)
	}
	fl := memhost.NewFleet("h1")
	t.Cleanup(fl.Close)
	conn, err := fl.Conn("h1")
	if err != nil {
		t.Fatal(err)
	}
	f, err := session.Gather(t.Context(), conn, pb.Request("h1"), pb.WinTarget("h1"))
	if err != nil {
		t.Fatal(err)
	}
	ss, services, err := pb.Compile(f, "h1")
	if err != nil {
		t.Fatal(err)
	}
	var plan strings.Builder
	for _, s := range ss {
		ch, err := s.Check(t.Context(), conn)
		if err != nil {
			t.Fatal(err)
		}
		plan.WriteString(s.Name() + ": " + ch.Summary + "\n" + ch.Diff)
	}
	return pb, f, ss, services, plan.String()
}

// A Debian host gets the certificate (with its chain) and key uploaded, mod_ssl, an https
// VirtualHost and a port-80 redirect; the key is described, never shown; bad material or
// another layout refuses the host.
func TestTLSCompile(t *testing.T) {
	dir := t.TempDir()
	ca := certtest.NewCA(t)
	name := "jira.h1.example.com"
	cert, key, chain, root := ca.WriteFiles(t, dir, []string{name})
	pbFile := filepath.Join(dir, "pb.yaml")
	yaml := "apps:\n  - product: jira\n    url: https://jira.{{host}}.example.com\n    tls: {certificate: " + filepath.Base(cert) + ", key: " + filepath.Base(key) + ", chain: " + filepath.Base(chain) + ", ca_file: " + root + ", hsts: 300}\n"
	os.WriteFile(pbFile, []byte(yaml), 0o644)
	pb, f, ss, _, out := planOnMemhost(t, pbFile)
	keyPEM, _ := os.ReadFile(key)
	for _, want := range []string{
		"apache: certificate " + name + ": create /etc/ssl/certs/frontdoor-" + name + "-443.pem",
		"apache: key " + name + ": create /etc/ssl/private/frontdoor-" + name + "-443.key",
		"+(not shown) private key, public key sha256:",
		"+certificate subject CN=" + name + ", issuer CN=",
		"apache: module ssl: enable module ssl", "apache: module socache_shmcb", "apache: module headers",
		"+<VirtualHost *:443>", "+    SSLEngine on",
		"+    SSLCertificateFile /etc/ssl/certs/frontdoor-" + name + "-443.pem",
		"+    SSLCertificateKeyFile /etc/ssl/private/frontdoor-" + name + "-443.key",
		`+    Header always set Strict-Transport-Security "max-age=300"`,
		"+<VirtualHost *:80>", "+    Redirect permanent / https://" + name + "/",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, strings.Split(string(keyPEM), "\n")[1]) {
		t.Fatal("the key is shown in the plan")
	}
	if strings.Contains(out, "+Listen") {
		t.Errorf("ports.conf listens on 80 and 443 already (443 with mod_ssl):\n%s", out)
	}
	// The uploaded certificate file is the leaf then the intermediate.
	for _, s := range ss {
		if fs, ok := s.(*steps.FileStep); ok && strings.HasSuffix(fs.Current.Path, ".pem") {
			b, _ := fs.Edit(nil)
			if strings.Count(string(b), "BEGIN CERTIFICATE") != 2 || strings.Contains(string(b), "PRIVATE") {
				t.Errorf("certificate file:\n%s", b)
			}
		}
	}
	// Another host's name is not on the certificate: refused before any change.
	if _, _, err := pb.Compile(f, "h2"); err == nil || !strings.Contains(err.Error(), "jira.h2.example.com") {
		t.Errorf("certificate for another name: %v", err)
	}
	// A certificate that expires within 30 days is said at plan, not refused.
	soon, soonKey := ca.Issue(t, []string{name}, time.Now().Add(-time.Hour), time.Now().Add(10*24*time.Hour))
	os.WriteFile(cert, soon, 0o644)
	os.WriteFile(key, soonKey, 0o600)
	if _, _, err := pb.Compile(f, "h1"); err != nil {
		t.Fatalf("a certificate expiring soon: %v", err)
	}
	if notes := strings.Join(pb.Notes(f, "h1"), "\n"); !strings.Contains(notes, "jira ("+name+"): certificate "+cert+" expires in ") {
		t.Errorf("notes: %s", notes)
	}
	old := *f
	old.Apache.Version = "2.4.7"
	if _, _, err := pb.Compile(&old, "h1"); err == nil || !strings.Contains(err.Error(), "https needs Apache 2.4.8 or later") {
		t.Errorf("Apache 2.4.7: %v", err)
	}
	// The Red Hat family: httpd without the mod_ssl package is refused, saying what to install;
	// with it, the files go to /etc/pki/tls and an earlier http apply's conf.d file is retired.
	rh := *f
	rh.Family, rh.Apache.Layout = distro.RedHat, "redhat"
	rh.Apache.Modules = map[string]bool{"proxy": true, "proxy_http": true}
	if _, _, err := pb.Compile(&rh, "h1"); err == nil || !strings.Contains(err.Error(), "needs the mod_ssl package") || !strings.Contains(err.Error(), "dnf install mod_ssl") {
		t.Errorf("redhat without mod_ssl: %v", err)
	}
	rh.Apache.Modules = map[string]bool{"proxy": true, "proxy_http": true, "ssl": true, "socache_shmcb": true}
	rh.Files = maps.Clone(f.Files)
	plain := "/etc/httpd/conf.d/frontdoor-" + name + ".conf"
	rh.Files[plain] = target.File{Path: plain, Exists: true, Data: []byte("<VirtualHost *:80>\n</VirtualHost>\n")}
	ss, _, err := pb.Compile(&rh, "h1")
	if err != nil {
		t.Fatalf("redhat with mod_ssl: %v", err)
	}
	var names []string
	for _, s := range ss {
		if fs, ok := s.(*steps.FileStep); ok {
			b, _ := fs.Edit(fs.Current.Data)
			names = append(names, fmt.Sprintf("%s (%d bytes)", fs.Current.Path, len(b)))
		}
	}
	for _, want := range []string{"/etc/pki/tls/certs/frontdoor-" + name + "-443.pem", "/etc/pki/tls/private/frontdoor-" + name + "-443.key",
		plain + " (0 bytes)", "/etc/httpd/conf.d/frontdoor-" + name + "-443.conf"} {
		if !strings.Contains(strings.Join(names, "\n"), want) {
			t.Errorf("redhat: no step for %s: %v", want, names)
		}
	}
}

// With acme: mod_md and its store, the ACME server's roots uploaded, an MDomain with the CA, the
// contact and the agreement, and an https VirtualHost that names no certificate file; httpd is
// waited for until mod_md has the certificate.
func TestACMECompile(t *testing.T) {
	dir := t.TempDir()
	ca := certtest.NewCA(t)
	_, _, _, root := ca.WriteFiles(t, dir, []string{"acme.example.com"})
	pbFile := filepath.Join(dir, "pb.yaml")
	os.WriteFile(pbFile, []byte("apps:\n  - product: jira\n    url: https://jira.{{host}}.example.com\n    tls:\n      acme: {email: admin@example.com, directory: \"https://acme.example.com/dir\", ca_file: "+root+", agree_tos: true}\n"), 0o644)
	_, _, _, services, out := planOnMemhost(t, pbFile)
	name := "jira.h1.example.com"
	for _, want := range []string{
		"apache: ACME server's roots: create /etc/ssl/certs/frontdoor-" + name + "-443-acme-ca.pem",
		"apache: mod_md store /var/lib/apache2/md: create mod_md's store /var/lib/apache2/md", "$ mkdir -p -m 0755 /var/lib/apache2/md",
		"apache: module md: enable module md", "apache: module ssl: enable module ssl",
		"+MDStoreDir /var/lib/apache2/md", "+MDCACertificateFile /etc/ssl/certs/frontdoor-" + name + "-443-acme-ca.pem",
		"+<MDomain " + name + ">", "+    MDCertificateAuthority https://acme.example.com/dir", "+    MDContactEmail admin@example.com",
		"+    MDCertificateAgreement accepted", "+<VirtualHost *:443>", "+    SSLEngine on",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "SSLCertificateFile") {
		t.Errorf("an acme VirtualHost names a certificate file:\n%s", out)
	}
	if !strings.Contains(services[0].Settle, "/var/lib/apache2/md") || !strings.Contains(services[0].Settle, "graceful") {
		t.Errorf("httpd's restart does not wait for mod_md: %s", services[0].Settle)
	}
}

// tls-alpn-01 is validated on port 443: an app published on another port is refused with what
// to write instead.
func TestACMETLSALPNNeeds443(t *testing.T) {
	dir := t.TempDir()
	pbFile := filepath.Join(dir, "pb.yaml")
	os.WriteFile(pbFile, []byte("apps:\n  - product: jira\n    url: https://jira.{{host}}.example.com\n    tls:\n      acme: {email: admin@example.com, agree_tos: true, challenge: tls-alpn-01}\n"), 0o644)
	_, f, _, _, out := planOnMemhost(t, pbFile)
	if !strings.Contains(out, "+    MDCAChallenges tls-alpn-01") {
		t.Errorf("plan:\n%s", out)
	}
	other := filepath.Join(dir, "other.yaml")
	os.WriteFile(other, []byte("apps:\n  - product: jira\n    url: https://jira.{{host}}.example.com:8443\n    tls:\n      acme: {email: admin@example.com, agree_tos: true, challenge: tls-alpn-01}\n"), 0o644)
	pb, err := playbooks.LoadPlaybook(other)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := pb.Compile(f, "h1"); err == nil || !strings.Contains(err.Error(), "challenge tls-alpn-01 validates on port 443, and jira.h1.example.com is on port 8443: write challenge: http-01") {
		t.Errorf("tls-alpn-01 on 8443: %v", err)
	}
}
