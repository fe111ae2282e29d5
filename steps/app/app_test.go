package app

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/frontdoor-dev/frontdoor/distro"
	"github.com/frontdoor-dev/frontdoor/steps"
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
	f := &distro.Facts{Files: map[string]steps.File{
		a.ConfigFile():    {Path: a.ConfigFile(), Exists: true, Data: sx, Mode: 0o644},
		dir + "crowd.xml": {Path: dir + "crowd.xml", Exists: true, Data: ctxFile, Mode: 0o640, UID: 7, GID: 8},
		dir + "ROOT.xml":  {Path: dir + "ROOT.xml"},
	}}
	ss := a.Steps(f)
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
	f.Files[dir+"ROOT.xml"] = steps.File{Path: dir + "ROOT.xml", Exists: true, Data: ctxFile}
	if _, err := a.Steps(f)[1].Check(context.Background(), nil); err == nil || !strings.Contains(err.Error(), "both crowd.xml and ROOT.xml exist") {
		t.Errorf("both files: %v", err)
	}
	// At /crowd nothing moves.
	a.ContextPath = "/crowd"
	if n := len(a.Steps(f)); n != 1 {
		t.Errorf("at /crowd: %d steps, want 1", n)
	}
}
