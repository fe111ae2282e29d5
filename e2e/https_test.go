package e2e

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/frontdoor-dev/frontdoor/certs"
	"github.com/frontdoor-dev/frontdoor/certs/certtest"
	"github.com/frontdoor-dev/frontdoor/internal/labtest"
)

// sslState lists frontdoor's certificate and key files on a host (name, mode, owner, digest).
func sslState(t *testing.T, l *labtest.Lab, h labtest.Host) string {
	return l.Exec(t, h, `for f in /etc/ssl/certs/frontdoor-* /etc/ssl/private/frontdoor-*; do [ -e "$f" ] && echo "$f $(stat -c '%a %U:%G' "$f") $(sha256sum < "$f" | cut -c1-16)"; done; true`)
}

// curlHTTPS asks the host's Apache over https for name and path, trusting only root (the test
// CA), and returns status and redirect.
func curlHTTPS(t *testing.T, h labtest.Host, root, name, path string) string {
	out, err := execCommand("curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", "--cacert", root,
		"--resolve", name+":443:"+h.Address, "https://"+name+path)
	if err != nil {
		t.Fatalf("curl https://%s%s: %v %s", name, path, err, out)
	}
	return out
}

var runIDRe = regexp.MustCompile(`(?m)^run (\S+): apply`)

// rollbackRun rolls back on h the run whose apply printed stdout (its ledger led); it must end 0.
func rollbackRun(t *testing.T, l *labtest.Lab, h labtest.Host, led, stdout string) {
	t.Helper()
	rollbackRunWith(t, l.Inventory, h, led, stdout)
}

// rollbackRunWith is rollbackRun with another inventory (the Windows host's Administrator).
func rollbackRunWith(t *testing.T, inv string, h labtest.Host, led, stdout string) {
	t.Helper()
	m := runIDRe.FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("no run id in:\n%s", stdout)
	}
	if rb := frontdoor(t, nil, "rollback", "--ledger", led, "-i", inv, "--limit", h.Name, m[1]); rb.code != 0 {
		t.Fatalf("rollback %s:\n%s", m[1], rb)
	}
}

// TestHTTPSOwnCertificate: Jira, Confluence (Synchrony over wss) and Bitbucket at context paths
// of one https name, with a certificate from a test CA (certtest: a root and an intermediate made
// for the test, trusted through tls.ca_file only). Applied and verified with certificate checks
// (the served certificate is the uploaded one), curl --cacert through Apache shows the apps'
// redirects under https and http:// answering 301 to https; the key is root's, 0600, and never
// printed; a second apply changes nothing; frontdoor rollback RUN leaves every file byte-exact and
// no certificate or key behind.
func TestHTTPSOwnCertificate(t *testing.T) {
	l := labtest.Open(t)
	h := l.HostWithProducts(t, "jira", "confluence", "bitbucket")
	l.Reset(t, h)
	defer l.Reset(t, h)
	name := "atlassian." + h.Name + ".lab.test"
	dir := t.TempDir()
	ca := certtest.NewCA(t)
	cert, key, chain, root := ca.WriteFiles(t, dir, []string{name})
	pb := filepath.Join(dir, "https.yaml")
	os.WriteFile(pb, []byte(fmt.Sprintf(`apps:
  - product: jira
    url: https://atlassian.{{host}}.lab.test/jira
    tls: {certificate: %s, key: %s, chain: %s, ca_file: %s}
  - product: confluence
    url: https://atlassian.{{host}}.lab.test/confluence
  - product: bitbucket
    url: https://atlassian.{{host}}.lab.test/bitbucket
`, filepath.Base(cert), filepath.Base(key), filepath.Base(chain), root)), 0o644)
	before := productsSnapshot(t, l, h) + sslState(t, l, h)
	keyPEM, _ := os.ReadFile(key)
	keyBody := strings.Split(string(keyPEM), "\n")[1]

	led := filepath.Join(t.TempDir(), "ledger.db")
	r := frontdoor(t, adminEnv(t, l), "apply", "--yes", "-v", "--set-base-url", "--ledger", led, "-i", l.Inventory, "--limit", h.Name, pb)
	if r.code != 0 {
		t.Fatalf("apply:\n%s", r)
	}
	base := "https://" + name
	for _, want := range []string{
		"verified " + base + "/jira through the proxy",
		"verified " + base + "/confluence through the proxy",
		"verified " + base + "/bitbucket through the proxy",
		"wss " + name + "/synchrony/v1/bayeux-sync1/websocket -> HTTP/1.1 101",
		"certificate " + name + ", issuer ",
		"http://" + name + "/jira/ -> 301 " + base + "/jira/",
		"Base URL set to " + base + "/jira",
		"+(not shown) private key, public key sha256:",
		"SSLCertificateKeyFile /etc/ssl/private/frontdoor-" + name + "-443.key",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("apply output lacks %q\n%s", want, r)
		}
	}
	if strings.Contains(r.stdout+r.stderr, keyBody) {
		t.Fatal("the private key was printed")
	}
	for _, c := range []struct{ path, want string }{
		{"/jira/", "302 " + base + "/jira/secure/Dashboard.jspa"},
		{"/confluence/", "302 " + base + "/confluence/secure/Dashboard.jspa"},
		{"/bitbucket/", "302 " + base + "/bitbucket/secure/Dashboard.jspa"},
	} {
		if got := curlHTTPS(t, h, root, name, c.path); got != c.want {
			t.Errorf("curl https %s: %q, want %q", c.path, got, c.want)
		}
	}
	if got := curlPath(t, h, name, "/jira/"); got != "301 "+base+"/jira/" {
		t.Errorf("plain http: %q, want a 301 to https", got)
	}
	if fr := frontdoor(t, nil, "facts", "-i", l.Inventory, "--limit", h.Name, pb); fr.code != 0 ||
		!regexp.MustCompile(`served certificate https://`+regexp.QuoteMeta(name)+`: subject CN=`+regexp.QuoteMeta(name)+`, issuer CN=certtest intermediate \S+, expires \S+, sha256:[0-9a-f]{16}: verified\n`).MatchString(fr.stdout) {
		t.Errorf("facts does not show the served certificate:\n%s", fr)
	}
	if got := strings.TrimSpace(l.Exec(t, h, "stat -c '%a %U:%G' /etc/ssl/private/frontdoor-"+name+"-443.key")); got != "600 root:root" {
		t.Errorf("key file: %s", got)
	}
	if again := frontdoor(t, nil, "apply", "--yes", "-i", l.Inventory, "--limit", h.Name, pb); again.code != 0 || !strings.Contains(again.stdout, "no changes (nothing restarted)") {
		t.Errorf("second apply:\n%s", again)
	}

	// A key someone made world-readable is put back to 0600 root's (a reload is enough).
	keyFile := "/etc/ssl/private/frontdoor-" + name + "-443.key"
	l.Exec(t, h, "chmod 644 "+keyFile)
	fixed := frontdoor(t, nil, "apply", "--yes", "--ledger", led, "-i", l.Inventory, "--limit", h.Name, pb)
	if fixed.code != 0 || !strings.Contains(fixed.stdout, "set "+keyFile+" to mode 0600, owner 0:0 (it is 0644, 0:0)") ||
		strings.TrimSpace(l.Exec(t, h, "stat -c %a "+keyFile)) != "600" {
		t.Fatalf("a loosened key:\n%s", fixed)
	}

	// Renewal: a new certificate and key in the same files; the next apply replaces both and only
	// reloads httpd gracefully (no restart: WebSockets and clones in flight are not cut; no app is
	// touched), and the proxy serves the new certificate.
	applied := sslState(t, l, h)
	ca.WriteFiles(t, dir, []string{name})
	renew := frontdoor(t, nil, "apply", "--yes", "-v", "--ledger", led, "-i", l.Inventory, "--limit", h.Name, pb)
	if renew.code != 0 || !strings.Contains(renew.stdout, "2 change(s) pending; would reload: httpd\n") ||
		!strings.Contains(renew.stdout, h.Name+": reload httpd\n") || strings.Contains(renew.stdout, h.Name+": restart httpd\n") || strings.Contains(renew.stdout+renew.stderr, keyBody) {
		t.Fatalf("renewal:\n%s", renew)
	}
	if sslState(t, l, h) == applied {
		t.Error("the renewal did not replace the files")
	}
	if served, want := servedFingerprint(t, h, name), fingerprintOf(t, cert); served != want {
		t.Errorf("the proxy serves %s, not the renewed certificate %s", served, want)
	}

	// Rolling back the first run (later ones first).
	rollbackRun(t, l, h, led, renew.stdout)
	rollbackRun(t, l, h, led, fixed.stdout)
	rollbackRun(t, l, h, led, r.stdout)
	if after := productsSnapshot(t, l, h) + sslState(t, l, h); after != before {
		t.Errorf("not restored byte for byte:\n%s\n->\n%s", before, after)
	}
}

// TestHTTPSRefusesBadCertificate: a key of another certificate, a certificate for another name,
// an expired one and one whose chain does not reach a trusted root are refused when the plan is
// made, each with what is wrong, and the host is not changed.
func TestHTTPSRefusesBadCertificate(t *testing.T) {
	l := labtest.Open(t)
	h := l.HostWithInit(t, "systemd")
	l.Reset(t, h)
	defer l.Reset(t, h)
	name := "jira." + h.Name + ".lab.test"
	dir := t.TempDir()
	ca := certtest.NewCA(t)
	_, _, _, root := ca.WriteFiles(t, dir, []string{name})
	now := time.Now()
	good, _ := ca.Issue(t, []string{name}, now.Add(-time.Hour), now.Add(90*24*time.Hour))
	_, otherKey := ca.Issue(t, []string{name}, now.Add(-time.Hour), now.Add(90*24*time.Hour))
	other, otherNameKey := ca.Issue(t, []string{"intranet.example.com"}, now.Add(-time.Hour), now.Add(90*24*time.Hour))
	expired, expiredKey := ca.Issue(t, []string{name}, now.Add(-100*24*time.Hour), now.Add(-24*time.Hour))
	selfSigned, selfKey := certtest.SelfSigned(t, []string{name}, now.Add(-time.Hour), now.Add(90*24*time.Hour))
	write := func(n string, b []byte) string {
		p := filepath.Join(dir, n)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	chain := write("chain.pem", ca.IntermediatePEM)
	before := snapshot(t, l, h) + sslState(t, l, h)
	for _, c := range []struct {
		name, cert, key, want string
	}{
		{"key of another certificate", write("good.pem", good), write("other.key", otherKey), "does not match"},
		{"another name", write("other.pem", other), write("other-name.key", otherNameKey), "intranet.example.com"},
		{"expired", write("expired.pem", expired), write("expired.key", expiredKey), "expired"},
		{"untrusted", write("self.pem", selfSigned), write("self.key", selfKey), "ca_file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			pb := write("pb.yaml", []byte(fmt.Sprintf("apps:\n  - product: jira\n    url: https://jira.{{host}}.lab.test\n    tls: {certificate: %s, key: %s, chain: %s, ca_file: %s}\n", c.cert, c.key, chain, root)))
			r := frontdoor(t, nil, "apply", "--yes", "-i", l.Inventory, "--limit", h.Name, pb)
			if r.code != 1 || !strings.Contains(r.stdout+r.stderr, c.want) {
				t.Fatalf("want exit 1 and %q:\n%s", c.want, r)
			}
			if after := snapshot(t, l, h) + sslState(t, l, h); after != before {
				t.Errorf("the host changed:\n%s\n->\n%s", before, after)
			}
		})
	}
}

// servedFingerprint is the certificate the host's Apache serves for name on 443 (SNI), unverified.
func servedFingerprint(t *testing.T, h labtest.Host, name string) string {
	c, err := tls.Dial("tcp", h.Address+":443", &tls.Config{ServerName: name, InsecureSkipVerify: true})
	if err != nil {
		t.Fatalf("tls to %s: %v", h.Name, err)
	}
	defer c.Close()
	sum := sha256.Sum256(c.ConnectionState().PeerCertificates[0].Raw)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func fingerprintOf(t *testing.T, certFile string) string {
	b, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	fp, err := certs.Fingerprint(b)
	if err != nil {
		t.Fatal(err)
	}
	return fp
}

// TestHTTPToHTTPS: a name first published over http by frontdoor moves to https. The https apply
// disables and deletes frontdoor's plain-http site for the name (left enabled, it would keep
// proxying in clear next to the redirect), and plain http then redirects; rolling that run back
// restores the http site, enabled, byte for byte, and Jira answers over http as before. On a host
// booted with init.d scripts.
func TestHTTPToHTTPS(t *testing.T) {
	l := labtest.Open(t)
	h := l.HostWithInit(t, "sysv")
	l.Reset(t, h)
	defer l.Reset(t, h)
	name := "jira." + h.Name + ".lab.test"
	led := filepath.Join(t.TempDir(), "ledger.db")
	if r := frontdoor(t, nil, "apply", "--yes", "--ledger", led, "-i", l.Inventory, "--limit", h.Name, playbook(t, "jira-subdomain.yaml")); r.code != 0 {
		t.Fatalf("http apply:\n%s", r)
	}
	httpState := snapshot(t, l, h) + sslState(t, l, h)
	dir := t.TempDir()
	cert, key, chain, root := certtest.NewCA(t).WriteFiles(t, dir, []string{name})
	pb := filepath.Join(dir, "https.yaml")
	os.WriteFile(pb, []byte(fmt.Sprintf("apps:\n  - product: jira\n    url: https://jira.{{host}}.lab.test\n    tls: {certificate: %s, key: %s, chain: %s, ca_file: %s}\n", cert, key, chain, root)), 0o644)
	r := frontdoor(t, nil, "apply", "--yes", "-v", "--ledger", led, "-i", l.Inventory, "--limit", h.Name, pb)
	if r.code != 0 || !strings.Contains(r.stdout, "disable site frontdoor-"+name+" (plain http for "+name+", now https)") ||
		!strings.Contains(r.stdout, "delete /etc/apache2/sites-available/frontdoor-"+name+".conf") || !strings.Contains(r.stdout, "verified https://"+name+" through the proxy") {
		t.Fatalf("https apply over the http one:\n%s", r)
	}
	if got := curlPath(t, h, name, "/"); got != "301 https://"+name+"/" {
		t.Errorf("plain http after the move: %q", got)
	}
	rollbackRun(t, l, h, led, r.stdout)
	if after := snapshot(t, l, h) + sslState(t, l, h); after != httpState {
		t.Errorf("the http publication is not back:\n%s\n->\n%s", httpState, after)
	}
	if got := curlPath(t, h, name, "/"); got != "302 http://"+name+"/secure/Dashboard.jspa" {
		t.Errorf("plain http after the rollback: %q", got)
	}
}

// labCAPlaybook writes a playbook for Jira at https://jira.HOST.lab.test with the certificate the
// lab's TEST-ONLY CA made for each host at up ($LAB_ROOT/run/tls: {{host}}.pem, {{host}}.key, the
// intermediate as chain), more (lines of the app) added; it returns the playbook and the root.
func labCAPlaybook(t *testing.T, l *labtest.Lab, url, more string) (pb, root string) {
	tls := filepath.Join(l.Run, "tls")
	root = filepath.Join(tls, "root.pem")
	pb = filepath.Join(t.TempDir(), "https.yaml")
	os.WriteFile(pb, []byte(fmt.Sprintf("apps:\n  - product: jira\n    url: %s\n%s    tls:\n      certificate: %s/{{host}}.pem\n      key: %s/{{host}}.key\n      chain: %s/intermediate.pem\n      ca_file: %s\n      hsts: 600\n",
		url, more, tls, tls, tls, root)), 0o644)
	return pb, root
}

// pkiState lists a Red Hat family host's certificate folders (name, mode, owner, digest).
func pkiState(t *testing.T, l *labtest.Lab, h labtest.Host) string {
	return l.Exec(t, h, `for f in /etc/pki/tls/certs/* /etc/pki/tls/private/*; do [ -e "$f" ] && echo "$f $(stat -c '%a %U:%G' "$f") $(sha256sum < "$f" | cut -c1-16)"; done; true`)
}

// TestHTTPSRedHatFamily, with the lab's TEST-ONLY CA (made at up), on the CentOS-layout lab host (Apache run as httpd on /etc/httpd; dnf and
// SELinux EMULATED: see testdata/lab/flavors/rocky). httpd without the mod_ssl package is refused at
// plan, saying to install it, with nothing changed; after "dnf install mod_ssl" (its ssl.conf
// listens on 443 with a _default_ VirtualHost on RHEL's localhost.crt), the certificate and key go
// to /etc/pki/tls (the key 0600 root's), ssl.conf is left as it is (no second Listen 443),
// Jira is verified over https with certificate checks and http:// answers 301; a re-apply changes
// nothing, and the rollback restores every file byte-exact.
func TestHTTPSRedHatFamily(t *testing.T) {
	l := labtest.Open(t)
	h := l.HostWithFlavor(t, "rocky")
	l.Reset(t, h)
	defer l.Reset(t, h)
	name := "jira." + h.Name + ".lab.test"
	pb, root := labCAPlaybook(t, l, "https://jira.{{host}}.lab.test", "")
	state := func() string { return redhatSnapshot(t, l, h) + pkiState(t, l, h) }

	fresh := state()
	p := frontdoor(t, nil, "plan", "-i", l.Inventory, "--limit", h.Name, pb)
	if p.code != 1 || !strings.Contains(p.stdout+p.stderr, "https here needs the mod_ssl package") || !strings.Contains(p.stdout+p.stderr, "dnf install mod_ssl") {
		t.Fatalf("plan without mod_ssl:\n%s", p)
	}
	if got := state(); got != fresh {
		t.Fatalf("a refused plan changed the host:\n%s\n->\n%s", fresh, got)
	}

	l.Exec(t, h, "dnf install -y mod_ssl >/dev/null")
	before := state()
	sslConf := l.Exec(t, h, "sha256sum /etc/httpd/conf.d/ssl.conf")
	led := filepath.Join(t.TempDir(), "ledger.db")
	r := frontdoor(t, nil, "apply", "--yes", "-v", "--ledger", led, "-i", l.Inventory, "--limit", h.Name, pb)
	if r.code != 0 {
		t.Fatalf("apply:\n%s", r)
	}
	for _, want := range []string{
		"verified https://" + name + " through the proxy", "certificate *." + h.Name + ".lab.test, issuer frontdoor lab TEST-ONLY intermediate",
		"http://" + name + "/ -> 301 https://" + name + "/",
		"SSLCertificateKeyFile /etc/pki/tls/private/frontdoor-" + name + "-443.key",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("apply output lacks %q\n%s", want, r)
		}
	}
	if got := curlHTTPS(t, h, root, name, "/"); got != "302 https://"+name+"/secure/Dashboard.jspa" {
		t.Errorf("curl https: %q", got)
	}
	if got := curlPath(t, h, name, "/"); got != "301 https://"+name+"/" {
		t.Errorf("plain http: %q, want a 301 to https", got)
	}
	got := l.Exec(t, h, "stat -c '%a %U:%G' /etc/pki/tls/private/frontdoor-"+name+"-443.key; sha256sum /etc/httpd/conf.d/ssl.conf; grep -c '^Listen' /etc/httpd/conf.d/frontdoor-"+name+"-443.conf || true")
	if want := "600 root:root\n" + sslConf + "0\n"; got != want {
		t.Errorf("key mode, ssl.conf, Listen lines in the vhost:\n%s\nwant:\n%s", got, want)
	}
	if again := frontdoor(t, nil, "apply", "--yes", "-i", l.Inventory, "--limit", h.Name, pb); again.code != 0 || !strings.Contains(again.stdout, "no changes (nothing restarted)") {
		t.Errorf("second apply:\n%s", again)
	}
	rollbackRun(t, l, h, led, r.stdout)
	if after := state(); after != before {
		t.Errorf("not restored byte for byte:\n%s\n->\n%s", before, after)
	}
}

// TestHTTPSWindowsHost, with the lab's TEST-ONLY CA (made at up), on the EMULATED Windows host (internal/winemu; Apache Lounge's httpd.conf
// run by a real Apache 2.4): mod_ssl, its session cache and mod_headers uncommented in httpd.conf,
// "Listen 443" in frontdoor's vhost file (httpd-ssl.conf stays out), the certificate in conf and
// the key in conf\frontdoor-private (a folder for SYSTEM and Administrators only: 0700 on this
// emulated host); verified over https with certificate checks; a re-apply changes nothing; the
// rollback restores httpd.conf byte-exact and removes the files and the folder.
func TestHTTPSWindowsHost(t *testing.T) {
	l := labtest.Open(t)
	h := l.HostWithFlavor(t, "windows")
	l.Reset(t, h)
	defer l.Reset(t, h)
	inv := l.WriteInventory(t, "Administrator", "", h)
	name := "jira." + h.Name + ".lab.test"
	pb, root := labCAPlaybook(t, l, "https://jira.{{host}}.lab.test", "    windows_service: JIRA050414092732\n")
	state := func() string {
		return windowsSnapshot(t, l, h) + l.Exec(t, h, `ls -la /C:/Apache24/conf | grep -c frontdoor; true`)
	}
	before := state()
	led := filepath.Join(t.TempDir(), "ledger.db")
	r := frontdoor(t, nil, "apply", "--yes", "-v", "--ledger", led, "-i", inv, pb)
	if r.code != 0 {
		t.Fatalf("apply:\n%s", r)
	}
	for _, want := range []string{"verified https://" + name + " through the proxy", "certificate *." + h.Name + ".lab.test, issuer frontdoor lab TEST-ONLY intermediate",
		"http://" + name + "/ -> 301 https://" + name + "/", "SSLCertificateKeyFile conf/frontdoor-private/frontdoor-" + name + "-443.key"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("apply output lacks %q\n%s", want, r)
		}
	}
	if got := curlHTTPS(t, h, root, name, "/"); got != "302 https://"+name+"/secure/Dashboard.jspa" {
		t.Errorf("curl https: %q", got)
	}
	got := l.Exec(t, h, `stat -c %a /C:/Apache24/conf/frontdoor-private; grep -cE '^LoadModule (ssl|socache_shmcb|headers)_module' /C:/Apache24/conf/httpd.conf; grep -c '^Include conf/extra/httpd-ssl.conf' /C:/Apache24/conf/httpd.conf; true`)
	if got != "700\n3\n0\n" {
		t.Errorf("private folder's mode, modules loaded, httpd-ssl.conf included:\n%s", got)
	}
	if again := frontdoor(t, nil, "apply", "--yes", "-i", inv, pb); again.code != 0 || !strings.Contains(again.stdout, "no changes (nothing restarted)") {
		t.Errorf("second apply:\n%s", again)
	}
	rollbackRunWith(t, inv, h, led, r.stdout)
	if after := state(); after != before {
		t.Errorf("not restored:\n%s\n->\n%s", before, after)
	}
}

// TestHTTPSOtherPort: Jira at https://jira.HOST.lab.test:8443 on a Debian host booted through
// init.d scripts, with the lab's TEST-ONLY CA: the VirtualHost file listens on 8443 itself
// ("Listen 8443 https": nothing else does), http on 80 redirects to the :8443 URL, Jira's links
// keep the port, and it is verified over https with certificate checks; a re-apply changes
// nothing, and the rollback restores every file.
func TestHTTPSOtherPort(t *testing.T) {
	l := labtest.Open(t)
	h := l.HostWithInit(t, "sysv")
	l.Reset(t, h)
	defer l.Reset(t, h)
	name := "jira." + h.Name + ".lab.test"
	base := "https://" + name + ":8443"
	pb, root := labCAPlaybook(t, l, "https://jira.{{host}}.lab.test:8443", "")
	state := func() string { return snapshot(t, l, h) + sslState(t, l, h) }
	before := state()
	led := filepath.Join(t.TempDir(), "ledger.db")
	r := frontdoor(t, nil, "apply", "--yes", "-v", "--ledger", led, "-i", l.Inventory, "--limit", h.Name, pb)
	if r.code != 0 {
		t.Fatalf("apply:\n%s", r)
	}
	for _, want := range []string{"verified " + base + " through the proxy", "+Listen 8443 https", "+<VirtualHost *:8443>",
		"http://" + name + "/ -> 301 " + base + "/"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("apply output lacks %q\n%s", want, r)
		}
	}
	out, err := execCommand("curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", "--cacert", root,
		"--resolve", name+":8443:"+h.Address, base+"/")
	if err != nil || out != "302 "+base+"/secure/Dashboard.jspa" {
		t.Errorf("curl %s/: %q %v", base, out, err)
	}
	if again := frontdoor(t, nil, "apply", "--yes", "-i", l.Inventory, "--limit", h.Name, pb); again.code != 0 || !strings.Contains(again.stdout, "no changes (nothing restarted)") {
		t.Errorf("second apply:\n%s", again)
	}
	rollbackRun(t, l, h, led, r.stdout)
	if after := state(); after != before {
		t.Errorf("not restored:\n%s\n->\n%s", before, after)
	}
}
