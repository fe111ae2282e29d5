package app

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/frontdoor-dev/frontdoor/distro"
	"github.com/frontdoor-dev/frontdoor/steps"
	"github.com/frontdoor-dev/frontdoor/target"
)

// Crowd at the root: the Connector gets the proxy attributes and the context file moves from
// crowd.xml to ROOT.xml with its bytes, mode and owner (the guide's "Removing the 'crowd' Context").
func TestCrowdSteps(t *testing.T) {
	sx, err := os.ReadFile("../../testdata/fixtures/tomcat-server-xml/shipped/crowd-5.1.2-server.xml")
	if err != nil {
		t.Fatal(err)
	}
	ctxFile := []byte("<Context docBase=\"../../crowd-webapp\" useHttpOnly=\"true\"/>\n")
	a := App{Product: Products["crowd"], Name: "crowd", Install: "/opt/atlassian/crowd", Port: 8095,
		ContextPath: "", Scheme: "http", ProxyName: "crowd.example.com", ProxyPort: 80}
	dir := "/opt/atlassian/crowd/apache-tomcat/conf/Catalina/localhost/"
	f := &distro.Facts{Files: map[string]target.File{
		a.ConfigFile():    {Path: a.ConfigFile(), Exists: true, Data: sx, Mode: 0o644},
		dir + "crowd.xml": {Path: dir + "crowd.xml", Exists: true, Data: ctxFile, Mode: 0o640, UID: 7, GID: 8},
		dir + "ROOT.xml":  {Path: dir + "ROOT.xml"},
	}}
	ss := mustSteps(t, a, f)
	if len(ss) != 3 {
		t.Fatalf("%d steps", len(ss))
	}
	var got []string
	for _, s := range ss {
		ch, err := s.Check(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ch.Action.Symbol()+" "+ch.Summary)
	}
	want := []string{"~ edit /opt/atlassian/crowd/apache-tomcat/conf/server.xml", "+ create " + dir + "ROOT.xml", "- delete " + dir + "crowd.xml"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("changes:\n%v\nwant\n%v", got, want)
	}
	create := ss[1].(*steps.FileStep)
	if create.NewMode != 0o640 || create.NewUID != 7 || create.NewGID != 8 {
		t.Errorf("ROOT.xml would not keep crowd.xml's mode and owner: %+v", create)
	}
	// Both files present: refused, Tomcat would publish Crowd twice.
	f.Files[dir+"ROOT.xml"] = target.File{Path: dir + "ROOT.xml", Exists: true, Data: ctxFile}
	if _, err := mustSteps(t, a, f)[1].Check(context.Background(), nil); err == nil || !strings.Contains(err.Error(), "both crowd.xml and ROOT.xml exist") {
		t.Errorf("both files: %v", err)
	}
	// At /crowd nothing moves.
	a.ContextPath = "/crowd"
	if n := len(mustSteps(t, a, f)); n != 1 {
		t.Errorf("at /crowd: %d steps, want 1", n)
	}
}

// bitbucketFacts is a host whose Bitbucket files are as given (missing ones absent).
func bitbucketFacts(a App, files map[string]string) *distro.Facts {
	f := &distro.Facts{Files: map[string]target.File{}}
	for _, p := range a.Files() {
		f.Files[p] = target.File{Path: p}
	}
	for p, data := range files {
		f.Files[p] = target.File{Path: p, Exists: true, Data: []byte(data), Mode: 0o644}
	}
	return f
}

// Bitbucket's version decides its file: 4.x edits server.xml (home/shared first, else the
// install's conf), 5.0+ bitbucket.properties; the version comes from the webapp's pom.properties,
// else from the install's layout. Golden: the Bitbucket 4 server.xml (rendered from the chef
// template in the fixtures) gets the proxy attributes on its HTTP Connector only, never on the
// SSL one, and the context path on its self-closing Context.
func TestBitbucketVersions(t *testing.T) {
	sx, err := os.ReadFile("../../testdata/fixtures/rendered/bitbucket4-chef-stash-server.xml")
	if err != nil {
		t.Fatal(err)
	}
	a := App{Product: Products["bitbucket"], Name: "bitbucket", Install: "/opt/atlassian/bitbucket", Home: "/var/atlassian/application-data/bitbucket",
		Port: 7990, ContextPath: "/bitbucket", Scheme: "https", ProxyName: "example.com", ProxyPort: 443}
	shared, inst := a.bitbucket4SharedXML(), a.bitbucket4InstallXML()
	app5, app4 := a.bitbucketPoms()[0], a.bitbucketPoms()[1]
	props := a.ConfigFile()
	for _, c := range []struct {
		name  string
		files map[string]string
		want  string // the file edited, and the evidence
	}{
		{"4.x pom, shared server.xml", map[string]string{app4: "version=4.14.3\n", shared: string(sx), inst: string(sx)}, shared + " Bitbucket 4.14.3"},
		{"4.x pom, install server.xml", map[string]string{app4: "version=4.14.3\n", inst: string(sx)}, inst + " Bitbucket 4.14.3"},
		{"5.x pom, leftover shared server.xml", map[string]string{app5: "version=5.16.0\n", shared: string(sx), props: "server.port=7990\n"}, props + " Bitbucket 5.16.0"},
		{"no pom, conf/server.xml", map[string]string{inst: string(sx)}, inst + " Bitbucket 4.x (the install has conf/server.xml)"},
		{"no pom, properties", map[string]string{props: "server.port=7990\n"}, props + " Bitbucket 5.0+ (the install has no conf/server.xml)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := bitbucketFacts(a, c.files)
			file, _, why, err := a.bitbucketConfig(f)
			if err != nil || file+" "+why != c.want {
				t.Fatalf("%s %s %v, want %s", file, why, err, c.want)
			}
			ss := mustSteps(t, a, f)
			ch, err := ss[0].Check(context.Background(), nil)
			if err != nil || ch.Action != steps.Update || !strings.Contains(ch.Summary, file) {
				t.Fatalf("%+v %v", ch, err)
			}
		})
	}
	f := bitbucketFacts(a, map[string]string{app4: "version=4.14.3\n", inst: string(sx)})
	fs := mustSteps(t, a, f)[0].(*steps.FileStep)
	out, err := fs.Edit(sx)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(string(sx), `                   redirectPort="8443"
                   />`, `                   redirectPort="8443"
                   scheme="https" proxyName="example.com" proxyPort="443" secure="true"
                   />`, 1) // new attributes: one new line, the tag's own indentation

	want = strings.Replace(want, `                         path=""`, `                         path="/bitbucket"`, 1)
	if string(out) != want {
		t.Errorf("Bitbucket 4 server.xml:\n%s", steps.Diff("server.xml", []byte(want), out))
	}
	if _, _, _, err := a.bitbucketConfig(bitbucketFacts(a, map[string]string{app4: "version=4.0.0\n"})); err == nil || !strings.Contains(err.Error(), "where is its server.xml") {
		t.Errorf("4.x without server.xml: %v", err)
	}
}

// On Windows the app is run by its Windows service: the one configured, else the only service
// named after the product (Jira's installer names it e.g. JIRA050414092732), else the install's
// own bin\start-jira.bat and stop-jira.bat; with none of them the plan says what to set.
func TestWindowsAppService(t *testing.T) {
	a := App{Product: Products["jira"], Name: "jira", ServiceName: "jira", Windows: true, Install: "/C:/Program Files/Atlassian/JIRA",
		Port: 8080, Scheme: "http", ProxyName: "jira.example.com", ProxyPort: 80}
	start, stop := a.winScripts()
	if start != "/C:/Program Files/Atlassian/JIRA/bin/start-jira.bat" || stop != "/C:/Program Files/Atlassian/JIRA/bin/stop-jira.bat" {
		t.Fatalf("scripts: %s %s", start, stop)
	}
	sx, err := os.ReadFile("../../testdata/fixtures/tomcat-server-xml/shipped/jira-9.15.0-server.xml")
	if err != nil {
		t.Fatal(err)
	}
	facts := func(services map[string]string, detected []string, bat bool) *distro.Facts {
		f := &distro.Facts{Family: distro.Windows, Services: services, WinServices: map[string][]string{"jira": detected}, Listening: map[int]bool{}, Files: map[string]target.File{}}
		for _, p := range a.Files() {
			f.Files[p] = target.File{Path: p}
		}
		f.Files[a.ConfigFile()] = target.File{Path: a.ConfigFile(), Exists: true, Data: sx}
		if bat {
			f.Files[start] = target.File{Path: start, Exists: true}
		}
		return f
	}
	for _, c := range []struct {
		name     string
		f        *distro.Facts
		verb, as string
	}{
		{"configured", facts(map[string]string{"jira": "windows"}, []string{"jira", "JIRA050414092732"}, false), "service", "jira"},
		{"detected", facts(map[string]string{"jira": "none"}, []string{"JIRA050414092732"}, false), "service", "JIRA050414092732"},
		{"scripts", facts(map[string]string{"jira": "none"}, []string{"JIRA1", "JIRA2"}, true), "script", `C:\Program Files\Atlassian\JIRA\bin\start-jira.bat`},
	} {
		s := a.Service(c.f)
		verb, p, err := distro.DecodeWinCommand(s.Start)
		if err != nil || verb != c.verb || (p.Name != c.as && p.Path != c.as) {
			t.Errorf("%s: %s %+v %v", c.name, verb, p, err)
		}
		ss, err := a.Steps(c.f)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if ch, err := ss[0].Check(context.Background(), nil); err != nil || ch.Action != steps.Update {
			t.Errorf("%s: %+v %v", c.name, ch, err)
		}
	}
	_, err = a.Steps(facts(map[string]string{"jira": "none"}, nil, false))
	if err == nil || !strings.Contains(err.Error(), "set windows_service:") {
		t.Errorf("no service, no scripts: %v", err)
	}
}

func mustSteps(t *testing.T, a App, f *distro.Facts) []steps.Step {
	t.Helper()
	ss, err := a.Steps(f)
	if err != nil {
		t.Fatal(err)
	}
	return ss
}
