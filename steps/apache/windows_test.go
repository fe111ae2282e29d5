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
