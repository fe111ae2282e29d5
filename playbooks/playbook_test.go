package playbooks

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/frontdoor-dev/frontdoor/distro"
	"github.com/frontdoor-dev/frontdoor/target"
)

// Validation errors name file:line:column and say what to write instead.
func TestPlaybookErrors(t *testing.T) {
	cases := []struct{ name, yaml, want string }{
		{"unknown key", "apps:\n  - product: jira\n    url: http://j.example.com\n    proxyname: x\n", `pb.yaml:4:5: unknown field "proxyname"`},
		{"bad product", "apps:\n  - product: jura\n    url: http://j.example.com\n", `pb.yaml:2:14: product "jura" is not supported yet: write product: bamboo, or bitbucket, or confluence, or crowd, or crucible, or fisheye, or jira`},
		{"no url", "apps:\n  - product: jira\n", "pb.yaml:2:12: url is missing: write url: http://jira.example.com"},
		{"bad scheme", "apps:\n  - product: jira\n    url: ftp://j.example.com\n", `pb.yaml:3:10: url "ftp://j.example.com": scheme must be http or https`},
		{"not a bare name", "apps:\n  - product: jira\n    url: http://j_x!.example.com/jira\n", "must be a bare host name"},
		{"port", "apps:\n  - product: jira\n    port: 70000\n    url: http://j.example.com\n", "pb.yaml:3:11: port 70000 is out of range 1..65535"},
		{"relative install", "apps:\n  - product: jira\n    install: opt/jira\n    url: http://j.example.com\n", "must be an absolute path"},
		{"no apps", "apache:\n  remote_ip: true\n", "no apps: write apps:"},
		{"wrong type", "apps: jira\n", "pb.yaml:1:7:"},
		{"directive section", "apps:\n  - product: jira\n    url: http://j.example.com\napache:\n  directives:\n    - <Location />\n", "pb.yaml:6:7: sections"},
		{"bad context", "apps:\n  - product: jira\n    url: http://j.example.com/a b\n", "context path"},
		{"same path twice", "apps:\n  - product: jira\n    url: http://x.example.com/a\n  - product: bitbucket\n    url: http://x.example.com/a\n", "pb.yaml:5:10: jira and bitbucket both claim the path /a of http://x.example.com/a"},
		{"same port twice", "apps:\n  - product: jira\n    url: http://a.example.com\n  - product: bitbucket\n    port: 8080\n    url: http://b.example.com\n", "jira and bitbucket both use port 8080"},
		{"synchrony path taken", "apps:\n  - product: confluence\n    url: http://x.example.com/wiki\n  - product: jira\n    url: http://x.example.com/synchrony\n", "both claim the path /synchrony"},
		{"synchrony on jira", "apps:\n  - product: jira\n    synchrony: true\n    url: http://x.example.com\n", "pb.yaml:3:16: synchrony is Confluence's"},
		// Issue 15: what the decoder said in Go's words, or let through, said in the user's.
		{"port as text", "apps:\n  - product: jira\n    url: http://j.example.com\n    port: \"eighty\"\n", `pb.yaml:4:11: port: "eighty" is text, not a number: write a whole number from 1 to 65535, e.g. port: 8080`},
		{"port not whole", "apps:\n  - product: jira\n    url: http://j.example.com\n    port: 8080.5\n", "pb.yaml:4:11: port: 8080.5 is not a whole number: write a whole number from 1 to 65535, e.g. port: 8080"},
		{"port 0", "apps:\n  - product: jira\n    url: http://j.example.com\n    port: 0\n", "pb.yaml:4:11: port 0 is out of range 1..65535: write a whole number from 1 to 65535, e.g. port: 8080"},
		{"port too big", "apps:\n  - product: jira\n    url: http://j.example.com\n    port: 65536\n", "pb.yaml:4:11: port 65536 is out of range 1..65535"},
		{"synchrony port 0", "apps:\n  - product: confluence\n    url: http://c.example.com\n    synchrony_port: 0\n", "pb.yaml:4:21: synchrony_port 0 is out of range 1..65535: write a whole number from 1 to 65535, e.g. synchrony_port: 8091"},
		{"yes", "apps:\n  - product: confluence\n    url: http://c.example.com\n    synchrony: yes\n", `pb.yaml:4:16: synchrony: yes means true in YAML 1.1 only; frontdoor reads YAML 1.2, where it is the text "yes": write synchrony: true`},
		{"No", "apps:\n  - product: confluence\n    url: http://c.example.com\n    synchrony: No\n", "write synchrony: false"},
		{"bool as other text", "apps:\n  - product: jira\n    url: http://j.example.com\n    trailing_slash: maybe\n", `pb.yaml:4:21: trailing_slash: "maybe" is not true or false: write true or false, e.g. trailing_slash: true`},
		{"did you mean", "apps:\n  - prodcut: jira\n    url: http://j.example.com\n", `pb.yaml:2:5: unknown field "prodcut"; did you mean product?`},
		{"did you mean, top level", "app:\n  - product: jira\n", `pb.yaml:1:1: unknown field "app"; did you mean apps?`},
		{"unknown, no guess", "apps:\n  - product: jira\n    url: http://j.example.com\n    colour: blue\n", `unknown field "colour"; the keys here are balancer, drain_timeout, home, install, lbmethod, name, nodes, port,`},
		{"list where text", "apps:\n  - product: [jira]\n    url: http://j.example.com\n", "pb.yaml:2:14: product: a list where text was expected: write a product name, e.g. product: jira"},
		{"apps not a list", "apps:\n  product: jira\n", "pb.yaml:2:3: apps: a mapping is not a list: write a list of apps"},
		{"start_timeout text", "apps:\n  - product: jira\n    url: http://j.example.com\n    start_timeout: 10m\n", `start_timeout: "10m" is text, not a number: write a whole number of seconds from 10 to 3600, e.g. start_timeout: 600`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParsePlaybook("pb.yaml", []byte(c.yaml))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v\nwant it to contain %q", err, c.want)
			}
		})
	}
}

func TestPlaybookDefaultsAndPublic(t *testing.T) {
	pb, err := ParsePlaybook("pb.yaml", []byte("apps:\n  - product: jira\n    url: http://tools.{{host}}.example.com/jira/\n"))
	if err != nil {
		t.Fatal(err)
	}
	a := pb.Apps[0]
	if a.Name != "jira" || a.Install != "/opt/atlassian/jira" || a.Home != "/var/atlassian/application-data/jira" || a.Port != 8080 || *a.Synchrony {
		t.Errorf("defaults: %+v %+v", a, pb.Apache)
	}
	p := a.PublicFor("web1")
	if p.BaseURL != "http://tools.web1.example.com/jira" || p.Host != "tools.web1.example.com" || p.Port != 80 || p.ContextPath != "/jira" {
		t.Errorf("public: %+v", p)
	}
}

// Every example playbook loads.
func TestExamplesLoad(t *testing.T) {
	files, _ := filepath.Glob("examples/*.yaml")
	if len(files) < 2 {
		t.Fatalf("examples: %v", files)
	}
	for _, f := range files {
		if _, err := LoadPlaybook(f); err != nil {
			t.Error(err)
		}
	}
}

func TestInventory(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "inv.yaml")
	os.WriteFile(p, []byte("known_hosts: kh\nhosts:\n  web1:\n    address: 192.0.2.10\n    key: id\n  web2:\n    connection: local\n  db:\n"), 0o600)
	inv, err := LoadInventory(p)
	if err != nil {
		t.Fatal(err)
	}
	if inv.KnownHosts != filepath.Join(dir, "kh") || inv.Hosts["web1"].Key != filepath.Join(dir, "id") || inv.Hosts["web1"].User != "root" || inv.Hosts["web1"].Port != 22 {
		t.Errorf("relative paths and defaults: %+v %+v", inv, inv.Hosts["web1"])
	}
	if inv.Hosts["db"].Address != "db" {
		t.Errorf("address defaults to the name: %+v", inv.Hosts["db"])
	}
	hs, err := inv.Select("web*")
	if err != nil || len(hs) != 2 {
		t.Errorf("select web*: %v %v", hs, err)
	}
	if _, err := inv.Select("nosuch"); err == nil || !strings.Contains(err.Error(), "matches no host") {
		t.Errorf("select nosuch: %v", err)
	}
	os.WriteFile(p, []byte("hosts:\n  web1:\n    address: 192.0.2.10\n    connection: telnet\n"), 0o600)
	if _, err := LoadInventory(p); err == nil || !strings.Contains(err.Error(), "inv.yaml:4:17: connection \"telnet\": write ssh or local") {
		t.Errorf("bad connection: %v", err)
	}
}

// Several apps: one VirtualHost per public name; Confluence brings Synchrony on 8091.
func TestSeveralAppsDefaults(t *testing.T) {
	pb, err := ParsePlaybook("pb.yaml", []byte("apps:\n  - product: jira\n    url: http://x.example.com/jira\n  - product: confluence\n    url: http://x.example.com/wiki\n  - product: bitbucket\n    url: http://git.example.com\n"))
	if err != nil {
		t.Fatal(err)
	}
	c := pb.Apps[1]
	if c.Port != 8090 || !*c.Synchrony || c.SynchronyPort != 8091 || pb.Apps[2].Port != 7990 {
		t.Errorf("defaults: %+v %+v", c, pb.Apps[2])
	}
	vh := pb.vhosts("h1")
	if len(vh) != 2 || vh[0].ServerName != "x.example.com" || len(vh[0].Backends) != 2 || vh[1].ServerName != "git.example.com" || !vh[0].Synchrony() || vh[1].Synchrony() {
		t.Errorf("vhosts: %+v", vh)
	}
	off, err := ParsePlaybook("pb.yaml", []byte("apps:\n  - product: confluence\n    synchrony: false\n    url: http://x.example.com\n"))
	if err != nil || off.Apps[0].ProxiedSynchronyPort() != 0 {
		t.Errorf("synchrony: false: %v", err)
	}
}

// The guide's Part C: compression found in the files frontdoor reads is reported with what to do.
func TestCompressionNotes(t *testing.T) {
	pb, err := ParsePlaybook("pb.yaml", []byte("apps:\n  - product: jira\n    url: http://j.example.com\n"))
	if err != nil {
		t.Fatal(err)
	}
	sx := "<Server><Service>\n<Connector port=\"8080\" compression=\"on\"/>\n<Engine><Host><Context path=\"\"/></Host></Engine></Service></Server>"
	f := &distro.Facts{Files: map[string]target.File{"/opt/atlassian/jira/conf/server.xml": {Path: "/opt/atlassian/jira/conf/server.xml", Exists: true, Data: []byte(sx)}},
		Apache: distro.Apache{Modules: map[string]bool{"deflate": true}}}
	notes := pb.Notes(f, "h")
	if len(notes) != 2 || !strings.Contains(notes[0], `server.xml line 2: the Connector has compression="on"`) || !strings.Contains(notes[1], "mod_deflate") {
		t.Errorf("notes: %q", notes)
	}
	f.Apache.Modules["deflate"] = false
	f.Files["/opt/atlassian/jira/conf/server.xml"] = target.File{Path: "/opt/atlassian/jira/conf/server.xml", Exists: true, Data: []byte(strings.Replace(sx, `compression="on"`, "", 1))}
	if notes := pb.Notes(f, "h"); len(notes) != 0 {
		t.Errorf("no compression, notes: %q", notes)
	}
}

func TestParseURL(t *testing.T) {
	for _, c := range []struct {
		in, scheme, host, ctx string
		port                  int
	}{
		{"http://jira.example.com", "http", "jira.example.com", "", 80},
		{"http://jira.example.com/", "http", "jira.example.com", "", 80},
		{"https://example.com/jira/", "https", "example.com", "/jira", 443},
		{"http://example.com:9800/a/b", "http", "example.com", "/a/b", 9800},
	} {
		s, h, p, ctx, err := parseURL(c.in)
		if err != nil || s != c.scheme || h != c.host || p != c.port || ctx != c.ctx {
			t.Errorf("%s: %s %s %d %q %v", c.in, s, h, p, ctx, err)
		}
	}
	for _, bad := range []string{"jira.example.com", "http://u:p@x.com", "http://x.com?q=1", "http://x.com:0", "http://x.com//a"} {
		if _, _, _, _, err := parseURL(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// An inventory host name that would not make a valid public host name is refused before any
// host is touched: it reaches Apache's configuration and a2ensite's argument.
func TestCheckHost(t *testing.T) {
	pb, err := ParsePlaybook("pb.yaml", []byte("apps:\n  - product: jira\n    url: http://{{host}}.example.com\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"j$(id>pwned)", "a b", "-x", "a'b", "x;reboot"} {
		if err := pb.CheckHost(bad); err == nil || !strings.Contains(err.Error(), "must be a bare host name") {
			t.Errorf("%q: %v", bad, err)
		}
	}
	if err := pb.CheckHost("jira-prod-1"); err != nil {
		t.Error(err)
	}
	ctx, err := ParsePlaybook("pb.yaml", []byte("apps:\n  - product: jira\n    url: http://example.com/{{host}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := ctx.CheckHost("a$b"); err == nil || !strings.Contains(err.Error(), "context path") {
		t.Errorf("context path: %v", err)
	}
	if p := ctx.Apps[0].PublicFor("j1"); p.BaseURL != "http://example.com/j1" || p.ContextPath != "/j1" {
		t.Errorf("%+v", p)
	}
}

// Windows values that would escape into PowerShell or cmd.exe, or match every service, are
// refused with the key's position (issue 11 row 5).
func TestWindowsValuesRefused(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"    windows_service: '*'\n", "no wildcards"},
		{"    windows_service: \"Apache2.4\u2019; Start-Process calc; \u2019\"\n", "no wildcards"},
		{"    windows_install: 'C:\\Atlassian\\\" & calc & \"'\n", "absolute Windows path"},
		{"    windows_install: 'C:\\%ComSpec%'\n", "absolute Windows path"},
	} {
		_, err := ParsePlaybook("pb.yaml", []byte("apps:\n  - product: jira\n    url: http://jira.example.com\n"+c.yaml))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v", c.yaml, err)
		}
	}
	if _, err := ParsePlaybook("pb.yaml", []byte("apps:\n  - product: jira\n    url: http://jira.example.com\napache:\n  windows_service: 'Apache*'\n")); err == nil {
		t.Error("apache.windows_service with a wildcard accepted")
	}
}

// start_timeout reaches the app's readiness wait; out of range is refused with its position.
func TestStartTimeout(t *testing.T) {
	pb, err := ParsePlaybook("pb.yaml", []byte("apps:\n  - product: jira\n    url: http://jira.example.com\n    start_timeout: 900\n"))
	if err != nil {
		t.Fatal(err)
	}
	f := &distro.Facts{Family: distro.Debian, Services: map[string]string{"jira": "systemd"}, Listening: map[int]bool{}}
	if s := pb.instance(pb.Apps[0], "h", false).Service(f); !strings.Contains(s.Ready, "after 900 s") {
		t.Errorf("ready: %s", s.Ready)
	}
	if _, err := ParsePlaybook("pb.yaml", []byte("apps:\n  - product: jira\n    url: http://jira.example.com\n    start_timeout: 5\n")); err == nil || !strings.Contains(err.Error(), "pb.yaml:4") {
		t.Errorf("5 s accepted: %v", err)
	}
}
