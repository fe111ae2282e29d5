package apache

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/frontdoor-dev/frontdoor/distro"
	"github.com/frontdoor-dev/frontdoor/steps"
	"github.com/frontdoor-dev/frontdoor/target"
)

func fixtureFile(t *testing.T, path, name string) target.File {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "fixtures", "apache-distro", name))
	if err != nil {
		t.Fatal(err)
	}
	return target.File{Path: path, Exists: true, Data: b, Mode: 0o644}
}

// redhatFacts is a CentOS host whose files are the real CentOS ones from the fixtures.
func redhatFacts(t *testing.T, proxyConf string, se distro.SELinux) *distro.Facts {
	f := &distro.Facts{Family: distro.RedHat, Init: "systemd", SELinux: se, Files: map[string]target.File{},
		Apache: distro.Apache{Layout: "redhat", Version: "2.4.57", Modules: map[string]bool{}, Listen: map[int][]string{80: {"/etc/httpd/conf/httpd.conf"}},
			ModuleFiles: []string{"/etc/httpd/conf/httpd.conf", "/etc/httpd/conf.modules.d/00-proxy.conf"}}}
	f.Files["/etc/httpd/conf/httpd.conf"] = fixtureFile(t, "/etc/httpd/conf/httpd.conf", "centos7-cbcurrier3-httpd.conf")
	f.Files["/etc/httpd/conf.modules.d/00-proxy.conf"] = fixtureFile(t, "/etc/httpd/conf.modules.d/00-proxy.conf", proxyConf)
	for _, p := range f.Apache.ModuleFiles {
		for _, lm := range distro.LoadModules(f.Files[p].Data) {
			if !lm.Commented {
				f.Apache.Modules[lm.Module] = true
			}
		}
	}
	f.Files[ModulesFile] = target.File{Path: ModulesFile}
	return f
}

func plan(t *testing.T, f *distro.Facts, vhosts []VHost) map[string]steps.Change {
	for _, v := range vhosts {
		if _, ok := f.Files[RedHatVHostPath(v)]; !ok {
			f.Files[RedHatVHostPath(v)] = target.File{Path: RedHatVHostPath(v)}
		}
	}
	ss, _ := For(f, ForHost(f, vhosts), Windows{})
	out := map[string]steps.Change{}
	for _, s := range ss {
		ch, err := s.Check(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		out[s.Name()] = ch
		if fs, ok := s.(*steps.FileStep); ok && ch.Action != steps.NoOp {
			want, _ := fs.Edit(fs.Current.Data)
			out[s.Name()+" =>"] = steps.Change{Diff: string(want)}
		}
	}
	return out
}

// On CentOS 7 with every proxy module commented out (a real 00-proxy.conf), the needed ones are
// uncommented in place — nothing else in the file changes — and remoteip, which no file
// mentions, goes to 99-frontdoor.conf. The vhost goes to conf.d; SELinux enforcing with the
// boolean off gets setsebool -P.
func TestRedHatModulesUncommentedInPlace(t *testing.T) {
	f := redhatFacts(t, "centos7-cbcurrier3-all-commented-00-proxy.conf", distro.SELinux{Mode: "Enforcing", NetworkConnectKnown: true})
	orig := string(f.Files["/etc/httpd/conf.modules.d/00-proxy.conf"].Data)
	vh := []VHost{{ServerName: "wiki.example.com", Port: 80, RemoteIP: true, Backends: []Backend{{Name: "confluence", Port: 8090, SynchronyPort: 8091}}}}
	p := plan(t, f, vh)
	step := "apache: modules proxy, proxy_http, proxy_wstunnel in 00-proxy.conf"
	got := p[step+" =>"].Diff
	if got == "" {
		t.Fatalf("no uncomment step: %v", keys(p))
	}
	want := strings.Replace(strings.Replace(strings.Replace(orig, "#LoadModule proxy_module", "LoadModule proxy_module", 1),
		"#LoadModule proxy_http_module", "LoadModule proxy_http_module", 1), "#LoadModule proxy_wstunnel_module", "LoadModule proxy_wstunnel_module", 1)
	if got != want {
		t.Errorf("00-proxy.conf: only the three '#' should go:\n%s", steps.Diff("00-proxy.conf", []byte(want), []byte(got)))
	}
	// rewrite is in no file of this host (00-base.conf is not part of it), nor remoteip.
	if add := p["apache: modules rewrite, remoteip in 99-frontdoor.conf =>"].Diff; !strings.Contains(add, "LoadModule rewrite_module modules/mod_rewrite.so\nLoadModule remoteip_module modules/mod_remoteip.so\n") {
		t.Errorf("99-frontdoor.conf: %q (steps: %v)", add, keys(p))
	}
	if ch := p["selinux: httpd_can_network_connect"]; ch.Action != steps.Run || !strings.Contains(ch.Diff, "setsebool -P httpd_can_network_connect 1") {
		t.Errorf("selinux: %+v", ch)
	}
	if ch := p["apache: VirtualHost wiki.example.com"]; ch.Action != steps.Create || !strings.Contains(ch.Summary, "/etc/httpd/conf.d/frontdoor-wiki.example.com.conf") {
		t.Errorf("vhost: %+v", ch)
	}
	// Applied, the result loads every module: planning again finds them loaded.
	f.Files["/etc/httpd/conf.modules.d/00-proxy.conf"] = target.File{Path: "/etc/httpd/conf.modules.d/00-proxy.conf", Exists: true, Data: []byte(got)}
	f2 := redhatFacts(t, "centos7-cbcurrier3-all-commented-00-proxy.conf", distro.SELinux{Mode: "Enforcing", NetworkConnect: true, NetworkConnectKnown: true})
	f2.Files["/etc/httpd/conf.modules.d/00-proxy.conf"] = f.Files["/etc/httpd/conf.modules.d/00-proxy.conf"]
	for _, lm := range distro.LoadModules([]byte(got)) {
		if !lm.Commented {
			f2.Apache.Modules[lm.Module] = true
		}
	}
	f2.Apache.Modules["rewrite"], f2.Apache.Modules["remoteip"] = true, true
	for name, ch := range plan(t, f2, vh) {
		if !strings.HasPrefix(name, "apache: VirtualHost") && ch.Action != steps.NoOp {
			t.Errorf("second plan: %s still %s", name, ch.Summary)
		}
	}
}

// Modules already loaded (the stock all-enabled 00-proxy.conf) need nothing; SELinux disabled
// or the boolean already on need nothing either.
func TestRedHatNothingToDo(t *testing.T) {
	for _, se := range []distro.SELinux{{Mode: "Disabled"}, {Mode: "Enforcing", NetworkConnect: true, NetworkConnectKnown: true}, {}} {
		f := redhatFacts(t, "centos7-stock-all-enabled-00-proxy.conf", se)
		p := plan(t, f, []VHost{{ServerName: "jira.example.com", Port: 80, Backends: []Backend{{Name: "jira", Port: 8080}}}})
		for name, ch := range p {
			if name != "apache: VirtualHost jira.example.com" && !strings.HasSuffix(name, "=>") && ch.Action != steps.NoOp {
				t.Errorf("SELinux %+v: %s: %s", se, name, ch.Summary)
			}
		}
	}
}

// httpd is controlled the RedHat way.
func TestRedHatService(t *testing.T) {
	f := redhatFacts(t, "centos7-stock-all-enabled-00-proxy.conf", distro.SELinux{})
	vh := []VHost{{ServerName: "jira.example.com", Port: 80}}
	f.Files[RedHatVHostPath(vh[0])] = target.File{Path: RedHatVHostPath(vh[0])}
	_, s := For(f, vh, Windows{})
	if !strings.HasPrefix(s.Validate, "apachectl configtest") || !strings.Contains(s.Validate, "httpd -S") || s.Restart != "systemctl restart httpd" {
		t.Errorf("%+v", s)
	}
	f.Init = "sysv"
	if _, s := For(f, nil, Windows{}); s.Restart != "service httpd restart" {
		t.Errorf("sysv: %s", s.Restart)
	}
}

func keys(m map[string]steps.Change) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// The undo of mod_md's store, on either layout, is a command a rollback replays from the host's
// journal; a store it did not create is not a change.
func TestMDStoreUndoReplayable(t *testing.T) {
	for _, layout := range []string{"debian", "redhat"} {
		f := &distro.Facts{Apache: distro.Apache{Layout: layout}, Files: map[string]target.File{MDStoreFile(layout): {Path: MDStoreFile(layout)}}}
		s := MDStoreStep(f).(*steps.CommandStep)
		if s.Done || !distro.Replayable(s.Undo) || !strings.Contains(s.Command, MDStore(layout)) {
			t.Errorf("%s: done %v, command %q, undo %q (replayable %v)", layout, s.Done, s.Command, s.Undo, distro.Replayable(s.Undo))
		}
		f.Files[MDStoreFile(layout)] = target.File{Path: MDStoreFile(layout), Exists: true}
		if s := MDStoreStep(f).(*steps.CommandStep); !s.Done {
			t.Errorf("%s: an existing store is created again", layout)
		}
	}
	if distro.Replayable("rm -rf /var/lib/httpd") || distro.Replayable("rm -rf /var/lib/apache2/md/../..") {
		t.Error("the replay accepts another rm -rf")
	}
}
