package apache

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/frontdoor-dev/frontdoor/distro"
	"github.com/frontdoor-dev/frontdoor/steps"
	"github.com/frontdoor-dev/frontdoor/target"
)

// windowsFacts is a Windows host with Apache Lounge's shipped httpd.conf in CRLF, as on Windows.
func windowsFacts(t *testing.T) (*distro.Facts, Windows, string) {
	b, err := os.ReadFile("../../testdata/fixtures/apache-distro/windows-apachelounge-2.4.56-original-httpd.conf")
	if err != nil {
		t.Fatal(err)
	}
	crlf := strings.ReplaceAll(string(b), "\n", "\r\n")
	w := Windows{Root: `C:\Apache24`, Service: "Apache2.4"}
	f := &distro.Facts{Family: distro.Windows, Files: map[string]target.File{}, Apache: distro.Apache{Layout: "windows", Version: "2.4.56",
		Modules: map[string]bool{}, Listen: map[int][]string{}, ModuleFiles: []string{w.conf()}}}
	f.Files[w.conf()] = target.File{Path: w.conf(), Exists: true, Data: []byte(crlf)}
	for _, lm := range distro.LoadModules([]byte(crlf)) {
		if !lm.Commented {
			f.Apache.Modules[lm.Module] = true
		}
	}
	return f, w, crlf
}

// httpd.conf: the needed LoadModule lines lose their "#", one comment and one Include line are
// appended, every line keeps its CRLF, and nothing else moves; the vhost file is CRLF too.
func TestWindowsSteps(t *testing.T) {
	f, w, orig := windowsFacts(t)
	vh := []VHost{{ServerName: "wiki.example.com", Port: 80, RemoteIP: true, Backends: []Backend{{Name: "confluence", Port: 8090, SynchronyPort: 8091}}}}
	f.Files[w.VHostPath(vh[0])] = target.File{Path: w.VHostPath(vh[0])}
	ss, svc := For(f, ForHost(f, vh), w)
	conf := ss[0].(*steps.FileStep)
	got, err := conf.Edit([]byte(orig))
	if err != nil {
		t.Fatal(err)
	}
	want := orig
	for _, m := range []string{"proxy", "proxy_http", "proxy_wstunnel", "rewrite", "remoteip"} {
		want = strings.Replace(want, "#LoadModule "+m+"_module", "LoadModule "+m+"_module", 1)
	}
	want += "# frontdoor: reverse proxy for Atlassian applications\r\nInclude conf/extra/frontdoor-wiki.example.com.conf\r\n"
	if string(got) != want {
		t.Errorf("httpd.conf:\n%s", steps.Diff("httpd.conf", []byte(want), got))
	}
	d := steps.Diff("/C:/Apache24/conf/httpd.conf", []byte(orig), got)
	if strings.Count(d, "\n-#LoadModule") != 5 || strings.Count(d, "\n+") != 8 || !strings.Contains(d, "@@ -535,3 +535,5 @@") { // 7 added lines and the +++ header
		t.Errorf("diff should remove 5 lines and add 7, with right line numbers:\n%s", d)
	}
	vhost := ss[1].(*steps.FileStep)
	v, _ := vhost.Edit(nil)
	if !strings.Contains(string(v), "ProxyPass /synchrony http://127.0.0.1:8091/synchrony\r\n") || strings.Count(string(v), "\n") != strings.Count(string(v), "\r\n") {
		t.Errorf("vhost not CRLF:\n%q", v)
	}
	if vhost.Current.Path != "/C:/Apache24/conf/extra/frontdoor-wiki.example.com.conf" {
		t.Errorf("vhost path %s", vhost.Current.Path)
	}
	if verb, p, err := distro.DecodeWinCommand(svc.Restart); err != nil || verb != "service" || p.Name != "Apache2.4" || p.Action != "restart" {
		t.Errorf("restart: %s %+v %v", verb, p, err)
	}
	if verb, p, _ := distro.DecodeWinCommand(svc.Validate); verb != "configtest" || p.ApacheRoot != `C:\Apache24` {
		t.Errorf("validate: %s %+v", verb, p)
	}
	// Applied, nothing is left to do.
	f.Files[w.conf()] = target.File{Path: w.conf(), Exists: true, Data: got}
	f.Files[w.VHostPath(vh[0])] = target.File{Path: w.VHostPath(vh[0]), Exists: true, Data: v}
	f.Apache.Modules = map[string]bool{}
	for _, lm := range distro.LoadModules(got) {
		if !lm.Commented {
			f.Apache.Modules[lm.Module] = true
		}
	}
	ss, _ = For(f, ForHost(f, vh), w)
	for _, s := range ss {
		if ch, _ := s.Check(context.Background(), nil); ch.Action != steps.NoOp {
			t.Errorf("after apply: %s: %s", s.Name(), ch.Summary)
		}
	}
}

// https on Apache Lounge: mod_ssl, its session cache and mod_headers uncommented (Apache Lounge
// ships them), "Listen 443" in the vhost file (the shipped httpd.conf listens on 80 only, and
// httpd-ssl.conf stays out: it names conf/server.crt, which no install has), the files named
// relative to ServerRoot, the key in a folder for SYSTEM and Administrators only whose undo
// removes it only when empty; an earlier http apply's vhost and Include line retired.
func TestWindowsHTTPS(t *testing.T) {
	f, w, orig := windowsFacts(t)
	plain := VHost{ServerName: "jira.example.com", Port: 80}
	old := orig + "# frontdoor: reverse proxy for Atlassian applications\r\nInclude conf/extra/frontdoor-jira.example.com.conf\r\n"
	f.Files[w.conf()] = target.File{Path: w.conf(), Exists: true, Data: []byte(old)}
	f.Apache.Listen[80] = []string{w.conf()} // the shipped "Listen 80", as the gather reads it
	vh := []VHost{{ServerName: "jira.example.com", Port: 443, Backends: []Backend{{Name: "jira", Port: 8080}},
		TLS: &TLS{Redirect: true, HSTS: 60}}}
	p := CertPaths("windows", w, vh[0].Site())
	vh[0].TLS.CertFile, vh[0].TLS.KeyFile = p.ConfCert, p.ConfKey
	for _, path := range w.Files(vh) {
		if _, ok := f.Files[path]; !ok {
			f.Files[path] = target.File{Path: path}
		}
	}
	f.Files[w.VHostPath(plain)] = target.File{Path: w.VHostPath(plain), Exists: true, Data: []byte("<VirtualHost *:80>\r\n</VirtualHost>\r\n")}
	if p.Cert != "/C:/Apache24/conf/frontdoor-jira.example.com-443.pem" || p.Key != "/C:/Apache24/conf/frontdoor-private/frontdoor-jira.example.com-443.key" ||
		p.ConfKey != "conf/frontdoor-private/frontdoor-jira.example.com-443.key" {
		t.Errorf("paths %+v", p)
	}
	ss, _ := For(f, ForHost(f, vh), w)
	got, err := ss[0].(*steps.FileStep).Edit([]byte(old))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"ssl", "socache_shmcb", "headers"} {
		if !strings.Contains(string(got), "\r\nLoadModule "+m+"_module") {
			t.Errorf("httpd.conf does not load %s", m)
		}
	}
	if strings.Contains(string(got), "Include conf/extra/frontdoor-jira.example.com.conf\r\n") || !strings.Contains(string(got), "Include conf/extra/frontdoor-jira.example.com-443.conf\r\n") ||
		strings.Contains(string(got), "\r\nInclude conf/extra/httpd-ssl.conf") {
		t.Errorf("httpd.conf includes:\n%s", steps.Diff("httpd.conf", []byte(old), got))
	}
	var deleted, vhost bool
	for _, s := range ss[1:] {
		fs, ok := s.(*steps.FileStep)
		if !ok {
			continue
		}
		b, _ := fs.Edit(fs.Current.Data)
		switch fs.Current.Path {
		case w.VHostPath(plain):
			deleted = b == nil
		case w.VHostPath(vh[0]):
			vhost = true
			for _, want := range []string{"Listen 443\r\n", "<VirtualHost *:443>\r\n", "SSLCertificateFile conf/frontdoor-jira.example.com-443.pem\r\n",
				"SSLCertificateKeyFile conf/frontdoor-private/frontdoor-jira.example.com-443.key\r\n", "Redirect permanent / https://jira.example.com/\r\n"} {
				if !strings.Contains(string(b), want) {
					t.Errorf("vhost lacks %q:\n%s", want, b)
				}
			}
			if strings.Contains(string(b), "Listen 80") {
				t.Errorf("httpd.conf listens on 80 already:\n%s", b)
			}
		}
	}
	if !deleted || !vhost {
		t.Errorf("plain vhost deleted %v, https vhost written %v", deleted, vhost)
	}
	cs := CertSteps(f, vh[0], w, []byte("cert"), []byte("key"), nil, nil)
	dir := cs[0].(*steps.CommandStep)
	if verb, pr, _ := distro.DecodeWinCommand(dir.Command); verb != "mkdir" || pr.Path != `C:\Apache24\conf\frontdoor-private` || dir.Done {
		t.Errorf("private folder: %s %+v done %v", verb, pr, dir.Done)
	}
	if verb, _, _ := distro.DecodeWinCommand(dir.Undo); verb != "rmdir" || !distro.Replayable(dir.Undo) {
		t.Errorf("private folder's undo %s, replayable %v", verb, distro.Replayable(dir.Undo))
	}
	for _, other := range []string{`C:\Apache24\conf`, `C:\Apache24\..\..\Users\Public\conf\frontdoor-private`, `C:\x:ads\conf\frontdoor-private`, `C:\*\conf\frontdoor-private`} {
		if distro.Replayable(distro.WinCommand("rmdir", distro.WinParams{Path: other})) {
			t.Errorf("the replay would remove %s", other)
		}
	}
	if key := cs[2].(*steps.FileStep); key.Current.Path != p.Key || key.Owned {
		t.Errorf("key step %s owned %v (Windows has no modes to keep)", key.Current.Path, key.Owned)
	}
	acme := *f
	if err := TLSSupported(&acme, true); err == nil || !strings.Contains(err.Error(), "acme on Windows hosts is not done") {
		t.Errorf("acme on Windows: %v", err)
	}
	// Apache Lounge's own httpd-ssl.conf, included: its Listen 443 would be doubled.
	if err := TLSSupported(f, false); err != nil {
		t.Errorf("stock httpd.conf: %v", err)
	}
	withSSL := *f
	withSSL.Files = map[string]target.File{w.conf(): {Path: w.conf(), Exists: true, Data: []byte(strings.Replace(orig, "#Include conf/extra/httpd-ssl.conf", "Include conf/extra/httpd-ssl.conf", 1))}}
	if err := TLSSupported(&withSSL, false); err == nil || !strings.Contains(err.Error(), "comment that Include out") {
		t.Errorf("httpd-ssl.conf included: %v", err)
	}
}
