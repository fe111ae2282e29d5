package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/frontdoor-dev/frontdoor/internal/labtest"
)

// redhatSnapshot is what rollback must restore on the CentOS-layout host, read inside it: every
// file of conf.modules.d and conf.d (hash, mode, owner), server.xml, and the SELinux boolean.
func redhatSnapshot(t *testing.T, l *labtest.Lab, h labtest.Host) string {
	return l.Exec(t, h, `cd /etc/httpd && for f in conf.modules.d/* conf.d/*; do [ -e "$f" ] && echo "$f $(sha256sum < "$f" | cut -c1-16) $(stat -c '%a %U:%G' "$f")"; done; `+
		`echo "server.xml $(sha256sum < /opt/atlassian/jira/conf/server.xml | cut -c1-16)"; getsebool httpd_can_network_connect`)
}

// TestRedHatFamilyHost, on the CentOS-layout lab host (Rocky 9's os-release, /etc/httpd built
// from the real CentOS files, Debian's Apache binary run as httpd, SELinux tools emulated with
// their state in a file: see testdata/lab/flavors/rocky). A fresh apply uncomments exactly the
// proxy modules' lines of the real 00-proxy.conf, adds remoteip in 99-frontdoor.conf, turns
// httpd_can_network_connect on, writes the vhost in conf.d and verifies through the proxy; a
// re-apply changes nothing; an apply whose configtest fails is rolled back byte-exact, the
// SELinux boolean included.
func TestRedHatFamilyHost(t *testing.T) {
	l := labtest.Open(t)
	h := l.HostWithFlavor(t, "rocky")
	l.Reset(t, h)
	before := redhatSnapshot(t, l, h)
	if !strings.Contains(before, "httpd_can_network_connect --> off") {
		t.Fatalf("fresh host: %s", before)
	}
	r := frontdoor(t, nil, "apply", "--yes", "-i", l.Inventory, "--limit", h.Name, playbook(t, "jira-subdomain.yaml"))
	if r.code != 0 || !strings.Contains(r.stdout, "Rocky Linux 9") || !strings.Contains(r.stdout, h.Name+": verified http://jira."+h.Name+".lab.test through the proxy") {
		t.Fatalf("apply on the Rocky host:\n%s", r)
	}
	fixture, err := os.ReadFile(filepath.Join("..", "testdata", "fixtures", "apache-distro", "centos7-cbcurrier3-all-commented-00-proxy.conf"))
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(strings.Replace(string(fixture), "#LoadModule proxy_module", "LoadModule proxy_module", 1), "#LoadModule proxy_http_module", "LoadModule proxy_http_module", 1)
	if got := l.Exec(t, h, "cat /etc/httpd/conf.modules.d/00-proxy.conf"); got != want {
		t.Errorf("00-proxy.conf: only two '#' should have gone; got:\n%s", got)
	}
	if got := l.Exec(t, h, "cat /etc/httpd/conf.modules.d/99-frontdoor.conf"); !strings.HasSuffix(got, "\nLoadModule remoteip_module modules/mod_remoteip.so\n") {
		t.Errorf("99-frontdoor.conf: %q", got)
	}
	if got := l.Exec(t, h, "getsebool httpd_can_network_connect; httpd -M 2>/dev/null | grep -cE 'proxy_module|proxy_http_module|remoteip_module'"); got != "httpd_can_network_connect --> on\n3\n" {
		t.Errorf("after apply: %q", got)
	}
	if loc := curlLocation(t, h, "jira."+h.Name+".lab.test"); loc != "302 http://jira."+h.Name+".lab.test/secure/Dashboard.jspa" {
		t.Errorf("through the proxy: %s", loc)
	}
	again := frontdoor(t, nil, "apply", "--yes", "-i", l.Inventory, "--limit", h.Name, playbook(t, "jira-subdomain.yaml"))
	if again.code != 0 || !strings.Contains(again.stdout, h.Name+": ok, no changes (nothing restarted)") {
		t.Errorf("re-apply:\n%s", again)
	}
	if p := frontdoor(t, nil, "plan", "-i", l.Inventory, "--limit", h.Name, playbook(t, "jira-subdomain.yaml")); p.code != 0 {
		t.Errorf("plan after apply:\n%s", p)
	}

	l.Reset(t, h)
	bad := writeFile(t, "bad.yaml", "apps:\n  - product: jira\n    url: http://jira."+h.Name+".lab.test\napache:\n  remote_ip: true\n  directives:\n    - NoSuchDirective on\n")
	r = frontdoor(t, nil, "apply", "--yes", "-i", l.Inventory, "--limit", h.Name, bad)
	if r.code != 1 || !strings.Contains(r.stdout, "FAILED, rolled back") || !strings.Contains(r.stdout, "Invalid command 'NoSuchDirective'") {
		t.Fatalf("apply with a broken directive:\n%s", r)
	}
	if after := redhatSnapshot(t, l, h); after != before {
		t.Errorf("not restored byte-exact:\n%s\n->\n%s", before, after)
	}
	checkAnswersAsBefore(t, h)
}
