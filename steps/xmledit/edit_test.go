package xmledit

import (
	"bytes"
	"encoding/xml"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aymanbagabas/go-udiff"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func ptr(s string) *string { return &s }

// serverXMLFixtures are every server.xml among the shared fixtures (copied into testdata).
func serverXMLFixtures(t testing.TB) []string {
	var files []string
	for _, g := range []string{"tomcat-server-xml/*/*.xml", "templates/*server.xml*"} {
		m, err := filepath.Glob(filepath.Join("..", "..", "testdata", "fixtures", g))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 20 {
		t.Fatalf("found only %d server.xml fixtures; testdata/fixtures missing?", len(files))
	}
	return files
}

// firstHTTPPort finds the port of the first active non-AJP, non-SSL Connector (0 if none), so each
// fixture is edited on the Connector its product really serves on.
func firstHTTPPort(src []byte) int {
	d, err := Parse(src)
	if err != nil {
		return 8080
	}
	for _, el := range d.Elements {
		if el.Name != "Connector" {
			continue
		}
		p, _ := el.Attr("port")
		var port int
		fmt.Sscanf(p.Value(), "%d", &port)
		if port == 0 {
			continue
		}
		if _, err := d.HTTPConnector(port); err == nil {
			return port
		}
	}
	return 8080
}

// TestGoldenFixtures edits every real server.xml and compares the diff (or the error) with a
// golden file; run with -update to rewrite them after a deliberate change.
func TestGoldenFixtures(t *testing.T) {
	for _, f := range serverXMLFixtures(t) {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			e := TomcatEdit{ContextPath: ptr("/app"), Connector: &Connector{Port: firstHTTPPort(src), Scheme: "https", ProxyName: "app.example.com", ProxyPort: 443}}
			out, spans, err := EditServerXML(src, e)
			var got string
			if err != nil {
				got = "error: " + err.Error() + "\n"
			} else {
				got = udiff.Unified("a/"+name, "b/"+name, string(src), string(out))
				checkOnlySpansChanged(t, src, out, spans)
				again, spans2, err := EditServerXML(out, e)
				if err != nil || !bytes.Equal(again, out) || len(spans2) != 0 {
					t.Fatalf("second edit is not a no-op: err=%v spans=%v", err, spans2)
				}
			}
			golden := filepath.Join("testdata", "golden", name+".diff")
			if *update {
				os.MkdirAll(filepath.Dir(golden), 0o755)
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run TestGoldenFixtures -update)", err)
			}
			if got != string(want) {
				t.Errorf("diff differs from %s:\n got:\n%s\nwant:\n%s", golden, got, want)
			}
		})
	}
}

// checkOnlySpansChanged asserts that out is src with exactly the spans spliced in, that every span
// is an attribute value or an insertion at the end of a tag's attributes, and that the parsed
// documents differ only in the attributes of the named elements (default Context and Connector).
func checkOnlySpansChanged(t *testing.T, src, out []byte, spans []Span, elements ...string) {
	t.Helper()
	if !bytes.Equal(Splice(src, spans), out) {
		t.Fatal("output is not the input with its spans spliced in")
	}
	d, err := Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range spans {
		ok := false
		for _, el := range d.Elements {
			if s.Start == s.End && s.Start == el.AttrsEnd {
				ok = true
			}
			for _, a := range el.Attrs {
				if s.Start == a.ValueStart && s.End == a.ValueEnd {
					ok = true
				}
			}
		}
		if !ok {
			t.Fatalf("span %+v is neither an attribute value nor an attribute insertion", s)
		}
	}
	a, b := tokens(t, src), tokens(t, out)
	if len(a) != len(b) {
		t.Fatalf("token count changed: %d -> %d", len(a), len(b))
	}
	for i := range a {
		if reflect.DeepEqual(a[i], b[i]) {
			continue
		}
		if len(elements) == 0 {
			elements = []string{"Context", "Connector"}
		}
		se, ok := a[i].(xml.StartElement)
		if !ok || !slices.Contains(elements, se.Name.Local) {
			t.Fatalf("token %d changed outside %v: %#v -> %#v", i, elements, a[i], b[i])
		}
	}
}

func tokens(t *testing.T, src []byte) []xml.Token {
	dec := xml.NewDecoder(bytes.NewReader(src))
	dec.Entity = xml.HTMLEntity
	dec.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	var out []xml.Token
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("output does not parse: %v", err)
		}
		out = append(out, xml.CopyToken(tok))
	}
}

func TestJiraShippedFile(t *testing.T) {
	src, err := os.ReadFile("../../testdata/fixtures/tomcat-server-xml/shipped/jira-9.15.0-server.xml")
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := EditServerXML(src, TomcatEdit{ContextPath: ptr("/jira"), Connector: &Connector{Port: 8080, Scheme: "http", ProxyName: "jira.example.com", ProxyPort: 80}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`<Context path="/jira" docBase="${catalina.home}/atlassian-jira"`,
		"acceptCount=\"100\" disableUploadTimeout=\"true\" bindOnInit=\"false\"\n                   scheme=\"http\" proxyName=\"jira.example.com\" proxyPort=\"80\"/>",
		`relaxedQueryChars="[]|{}^&#x5c;&#x60;&quot;&lt;&gt;"`,  // references kept as written
		`proxyName="<subdomain>.<domain>.com" proxyPort="80"/>`, // commented Connector untouched
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Count(string(out), `proxyName="jira.example.com"`) != 1 {
		t.Error("proxyName set more or less than once")
	}
}

func TestPreservesCRLFBOMQuotesAndDoctype(t *testing.T) {
	src := "\ufeff<?xml version='1.0'?>\r\n<!DOCTYPE Server [ <!ENTITY x \"y\"> ]>\r\n<Server>\r\n <!-- <Connector port='8080'/> -->\r\n <Service>\r\n  <Connector port='8080'\r\n     protocol='HTTP/1.1'\r\n     secure='true'/>\r\n  <Engine><Host><Context path='' docBase='x'/></Host></Engine>\r\n </Service>\r\n</Server>"
	out, _, err := EditServerXML([]byte(src), TomcatEdit{ContextPath: ptr("/a"), Connector: &Connector{Port: 8080, Scheme: "http", ProxyName: "h.example", ProxyPort: 80}})
	if err != nil {
		t.Fatal(err)
	}
	want := "\ufeff<?xml version='1.0'?>\r\n<!DOCTYPE Server [ <!ENTITY x \"y\"> ]>\r\n<Server>\r\n <!-- <Connector port='8080'/> -->\r\n <Service>\r\n  <Connector port='8080'\r\n     protocol='HTTP/1.1'\r\n     secure='false'\r\n     scheme=\"http\" proxyName=\"h.example\" proxyPort=\"80\"/>\r\n  <Engine><Host><Context path='/a' docBase='x'/></Host></Engine>\r\n </Service>\r\n</Server>"
	if string(out) != want {
		t.Errorf("got:\n%q\nwant:\n%q", out, want)
	}
}

func TestErrors(t *testing.T) {
	jira, _ := os.ReadFile("../../testdata/fixtures/tomcat-server-xml/shipped/jira-9.15.0-server.xml")
	packaged, _ := os.ReadFile("../../testdata/fixtures/tomcat-server-xml/packaged/jira-9.15.0-alvistack-sysprops-server.xml")
	cases := []struct {
		name string
		src  string
		e    TomcatEdit
		want string
	}{
		{"wrong port", string(jira), TomcatEdit{Connector: &Connector{Port: 8090, Scheme: "http", ProxyName: "x", ProxyPort: 80}}, `no active plain HTTP <Connector port="8090">`},
		{"malformed", "<Server><Service></Server>", TomcatEdit{ContextPath: ptr("/x")}, "not well-formed XML"},
		{"no context", "<Server><Service><Engine><Host/></Engine></Service></Server>", TomcatEdit{ContextPath: ptr("/x")}, "no <Context> element"},
		{"placeholder", string(packaged), TomcatEdit{ContextPath: ptr("/jira")}, "placeholder resolved at start-up"},
		{"ajp only", `<Server><Service><Connector port="8009" protocol="AJP/1.3"/></Service></Server>`, TomcatEdit{Connector: &Connector{Port: 8009, Scheme: "http", ProxyName: "x", ProxyPort: 80}}, "no active plain HTTP"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := EditServerXML([]byte(c.src), c.e)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got error %v, want one containing %q", err, c.want)
			}
		})
	}
	// Told to, it replaces the placeholder.
	if _, _, err := EditServerXML(packaged, TomcatEdit{ContextPath: ptr("/jira"), ReplacePlaceholders: true}); err != nil {
		t.Fatalf("with ReplacePlaceholders: %v", err)
	}
}

func TestSynchronyContextUntouched(t *testing.T) {
	src, _ := os.ReadFile("../../testdata/fixtures/tomcat-server-xml/shipped/confluence-8.4.3-server.xml")
	out, _, err := EditServerXML(src, TomcatEdit{ContextPath: ptr("/wiki")})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `path="${confluence.context.path}/synchrony-proxy"`) || !strings.Contains(string(out), `<Context path="/wiki"`) {
		t.Errorf("unexpected output:\n%s", udiff.Unified("a", "b", string(src), string(out)))
	}
}

// FuzzEdit: on any input that parses, an edit succeeds or errors cleanly; when it succeeds the
// output parses, only spans changed, and editing again changes nothing.
func FuzzEdit(f *testing.F) {
	for _, file := range serverXMLFixtures(f) {
		b, _ := os.ReadFile(file)
		f.Add(b, "/jira", "jira.example.com", uint16(8080))
	}
	f.Add([]byte(`<S><Service><Connector port='1' a="&amp;"/><Engine><Host><Context path=""/></Host></Engine></Service></S>`), "/x&y\"", "h<", uint16(1))
	f.Fuzz(func(t *testing.T, src []byte, path, host string, port uint16) {
		e := TomcatEdit{ContextPath: &path, Connector: &Connector{Port: int(port), Scheme: "http", ProxyName: host, ProxyPort: 80}}
		out, spans, err := EditServerXML(src, e)
		if err != nil {
			return
		}
		checkOnlySpansChanged(t, src, out, spans)
		again, spans2, err := EditServerXML(out, e)
		if err != nil || !bytes.Equal(again, out) || len(spans2) != 0 {
			t.Fatalf("edit twice != edit once: err=%v spans=%v", err, spans2)
		}
	})
}

// BenchmarkEditJira: one edit of Jira's shipped server.xml (parse, well-formedness check, splice,
// re-parse of the output).
func BenchmarkEditJira(b *testing.B) {
	src, err := os.ReadFile("../../testdata/fixtures/tomcat-server-xml/shipped/jira-9.15.0-server.xml")
	if err != nil {
		b.Fatal(err)
	}
	e := TomcatEdit{ContextPath: ptr("/jira"), Connector: &Connector{Port: 8080, Scheme: "http", ProxyName: "jira.example.com", ProxyPort: 80}}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, _, err := EditServerXML(src, e); err != nil {
			b.Fatal(err)
		}
	}
}
