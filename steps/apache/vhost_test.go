package apache

import (
	"context"
	"os/exec"
	"strings"
	"testing"

	"github.com/frontdoor-dev/frontdoor/distro"
	"github.com/frontdoor-dev/frontdoor/steps"
	"github.com/frontdoor-dev/frontdoor/target"
)

// The VirtualHost follows the guide's Part B, context-path backends before "/".
func TestRender(t *testing.T) {
	got := VHost{ServerName: "atlassian.example.com", Port: 80, RemoteIP: true, Backends: []Backend{
		{Name: "jira", ContextPath: "", Port: 8080},
		{Name: "bitbucket", ContextPath: "/bitbucket", Port: 7990},
	}}.Render()
	for _, want := range []string{
		"<VirtualHost *:80>\n    ServerName atlassian.example.com\n",
		"    ProxyRequests Off\n    ProxyVia Off\n",
		"    <Proxy *>\n        Require all granted\n    </Proxy>\n",
		"    ProxyPass /bitbucket http://127.0.0.1:7990/bitbucket\n    ProxyPassReverse /bitbucket http://127.0.0.1:7990/bitbucket\n",
		"    ProxyPass / http://127.0.0.1:8080/\n    ProxyPassReverse / http://127.0.0.1:8080/\n",
		"    RemoteIPHeader X-Forwarded-For\n</VirtualHost>\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	if strings.Index(got, "ProxyPass /bitbucket") > strings.Index(got, "ProxyPass / ") {
		t.Error("the / backend must come after context paths")
	}
}

// The shadow check, run by a real shell on apache2ctl -S output in both of its formats: it passes
// when frontdoor's file answers the name first, fails with the explanation otherwise, and a dot
// in the name matches only a dot.
func TestShadowCheckInAShell(t *testing.T) {
	for _, c := range []struct {
		dump string
		ok   bool
	}{
		{"*:80                   jira.example.com (/etc/apache2/sites-enabled/frontdoor-jira.conf:1)", true},
		{"         port 80 namevhost jira.example.com (/etc/apache2/sites-enabled/frontdoor-jira.conf:1)", true},
		{"         port 80 namevhost jira.example.com (/etc/apache2/sites-enabled/000-default.conf:1)", false},
		{"*:80                   jiraXexampleXcom (/etc/apache2/sites-enabled/frontdoor-jira.conf:1)", false},
	} {
		dump := "printf '%s\\n' " + target.Quote(c.dump)
		out, err := exec.Command("/bin/sh", "-c", shadowCheck(dump, "jira.example.com", 80, "frontdoor-jira.conf", "disable that site")).CombinedOutput()
		if (err == nil) != c.ok || (!c.ok && !strings.Contains(string(out), "ServerName jira.example.com on port 80 is served first by another VirtualHost:")) {
			t.Errorf("%q: ok=%v, err %v, %s", c.dump, c.ok, err, out)
		}
	}
}

// Confluence with Synchrony: the guide's directives in its exact order, before the app's ProxyPass.
func TestRenderSynchrony(t *testing.T) {
	got := VHost{ServerName: "wiki.example.com", Port: 80, Backends: []Backend{{Name: "confluence", Port: 8090, SynchronyPort: 8091}}}.Render()
	order := []string{
		"ProxyPass /synchrony http://127.0.0.1:8091/synchrony",
		"<Location /synchrony>",
		"Require all granted",
		"RewriteEngine on",
		"RewriteCond %{HTTP:UPGRADE} ^WebSocket$ [NC]",
		"RewriteCond %{HTTP:CONNECTION} Upgrade$ [NC]",
		"RewriteRule .* ws://127.0.0.1:8091%{REQUEST_URI} [P]",
		"</Location>",
		"ProxyPass / http://127.0.0.1:8090/",
		"ProxyPassReverse / http://127.0.0.1:8090/",
		"<Location />",
		"Require all granted",
		"</Location>",
	}
	at := 0
	for _, want := range order {
		i := strings.Index(got[at:], want)
		if i < 0 {
			t.Fatalf("%q missing or out of order in:\n%s", want, got)
		}
		at += i + len(want)
	}
	if m := Modules([]VHost{{Backends: []Backend{{SynchronyPort: 8091}}}}); strings.Join(m, ",") != "proxy,proxy_http,proxy_wstunnel,rewrite" {
		t.Errorf("modules: %v", m)
	}
}

// Another port gets a Listen line unless an enabled configuration (not frontdoor's own file)
// listens on it already; a trailing slash goes on the backend URLs only.
func TestListenAndTrailingSlash(t *testing.T) {
	f := &distro.Facts{Apache: distro.Apache{Modules: map[string]bool{}, Sites: map[string]bool{}, Listen: map[int][]string{
		80:   {"/etc/apache2/ports.conf"},
		9800: {"/etc/apache2/sites-enabled/" + SitePrefix + "jira.example.com-9800.conf"},
	}}, Files: map[string]target.File{}}
	vhosts := []VHost{
		{ServerName: "a.example.com", Port: 80, Backends: []Backend{{Name: "jira", ContextPath: "/jira", Port: 8080, TrailingSlash: true}}},
		{ServerName: "jira.example.com", Port: 9800, Backends: []Backend{{Name: "bitbucket", Port: 7990}}},
		{ServerName: "b.example.com", Port: 9800, Backends: []Backend{{Name: "confluence", Port: 8090}}},
	}
	for _, v := range vhosts {
		f.Files[SitePath(v)] = target.File{Path: SitePath(v)}
	}
	vhosts = ForHost(f, vhosts)
	if vhosts[0].Listen || !vhosts[1].Listen || vhosts[2].Listen {
		t.Errorf("Listen: %v %v %v, want false true false", vhosts[0].Listen, vhosts[1].Listen, vhosts[2].Listen)
	}
	out := vhosts[0].Render()
	if !strings.Contains(out, "ProxyPass /jira http://127.0.0.1:8080/jira/\n    ProxyPassReverse /jira http://127.0.0.1:8080/jira/\n") {
		t.Errorf("trailing slash:\n%s", out)
	}
	if !strings.Contains(vhosts[1].Render(), "Listen 9800\n<VirtualHost *:9800>\n") || strings.Contains(vhosts[2].Render(), "Listen") {
		t.Errorf("Listen line:\n%s", vhosts[1].Render())
	}
}

// Apache 2.2 gets the guide's Order/Allow syntax; Synchrony is refused below 2.4.10.
func TestApache22AndSynchronyVersion(t *testing.T) {
	f22 := &distro.Facts{Apache: distro.Apache{Version: "2.2.15"}}
	v := ForHost(f22, []VHost{{ServerName: "j.example.com", Port: 80, Backends: []Backend{{Name: "jira", Port: 8080}}}})[0]
	if out := v.Render(); !strings.Contains(out, "<Proxy *>\n        Order Deny,Allow\n        Allow from all\n    </Proxy>") || strings.Contains(out, "Require") {
		t.Errorf("2.2 syntax:\n%s", out)
	}
	for _, c := range []struct {
		version string
		ok      bool
	}{{"2.4.10", true}, {"2.4.62", true}, {"2.4.9", false}, {"2.2.15", false}, {"", true}} {
		f := &distro.Facts{Apache: distro.Apache{Version: c.version, Modules: map[string]bool{}, Sites: map[string]bool{}}, Files: map[string]target.File{}}
		vh := []VHost{{ServerName: "w.example.com", Port: 80, Backends: []Backend{{Name: "confluence", Port: 8090, SynchronyPort: 8091}}}}
		f.Files[SitePath(vh[0])] = target.File{Path: SitePath(vh[0])}
		var err error
		for _, s := range DebianSteps(f, vh) {
			if fs, ok := s.(*steps.FileStep); ok {
				_, err = fs.Check(context.Background(), nil)
			}
		}
		if (err == nil) != c.ok {
			t.Errorf("Apache %q with Synchrony: err=%v, want ok=%v", c.version, err, c.ok)
		}
	}
}

// After a rollback httpd is waited for where it listened before, not on the new vhost's port,
// which the restored configuration no longer has (found on the lab: a new vhost on 8005).
func TestRestoreReadyUsesTheOldPort(t *testing.T) {
	f := &distro.Facts{Init: "systemd", Apache: distro.Apache{Listen: map[int][]string{80: {"/etc/apache2/ports.conf"}}}}
	s := DebianService(f, []VHost{{ServerName: "jira.example.com", Port: 8005}})
	if !strings.Contains(s.Ready, "127.0.0.1:8005/") || !strings.Contains(s.RestoreReady, "127.0.0.1:80/") {
		t.Errorf("ready %q\nrestore %q", s.Ready, s.RestoreReady)
	}
	f.Apache.Listen = map[int][]string{8443: {"x"}, 8081: {"y"}}
	if s := DebianService(f, nil); !strings.Contains(s.RestoreReady, "127.0.0.1:8081/") {
		t.Errorf("lowest old port: %q", s.RestoreReady)
	}
}

// With tls-alpn-01, mod_md is told to use it and the VirtualHost offers the acme-tls/1 protocol
// (mod_md answers the CA's handshake there); with http-01 (the default) neither is written.
func TestRenderACMEChallenge(t *testing.T) {
	v := VHost{ServerName: "jira.example.com", Port: 443, Backends: []Backend{{Name: "jira", Port: 8080}},
		TLS: &TLS{ACME: &ACME{Directory: "https://acme.example.com/dir", Email: "a@example.com", Store: "/var/lib/httpd/md", TLSALPN: true}}}
	out := v.Render()
	for _, want := range []string{"MDStoreDir /var/lib/httpd/md\n", "    MDCAChallenges tls-alpn-01\n</MDomain>\n", "    SSLEngine on\n    Protocols http/1.1 acme-tls/1\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("lacks %q:\n%s", want, out)
		}
	}
	v.TLS.ACME.TLSALPN = false
	if out := v.Render(); strings.Contains(out, "MDCAChallenges") || strings.Contains(out, "Protocols") {
		t.Errorf("http-01 writes a challenge or protocols:\n%s", out)
	}
}
