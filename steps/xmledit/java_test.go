package xmledit

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/frontdoor-dev/frontdoor/internal/javaref"
)

// These tests check frontdoor's editor against the reference: the JDK's own XML parser reading
// server.xml as Tomcat does (testdata/java/TomcatView.java). For every fixture, the hand-made odd
// files and the fuzz seed: frontdoor accepts exactly what the JDK accepts, and after an edit the
// JDK sees the Connector and Context frontdoor meant to change changed as asked, and everything
// else it sees unchanged.

// javaView runs TomcatView on files and returns, per file, "error" or its lines.

// oddFiles are the cases the issue found, written out: two Services, duplicate attributes,
// ISO-8859-1, a DOCTYPE comment with an apostrophe, the fuzz seed.
func oddFiles(t *testing.T, dir string) []string {
	base := `<Server port="8005"><Service name="Catalina"><Connector port="8080" protocol="HTTP/1.1"%s/>` +
		`<Engine name="Catalina" defaultHost="localhost"><Host name="localhost"><Context path="" docBase="x%s"/></Host></Engine></Service></Server>`
	cases := map[string]string{
		"two-services.xml": `<Server port="8005"><Service name="A"><Connector port="9090" protocol="HTTP/1.1"/><Engine name="A" defaultHost="h"><Host name="h"><Context path="" docBase="/opt/other"/></Host></Engine></Service>` +
			`<Service name="B"><Connector port="8080" protocol="HTTP/1.1"/><Engine name="B" defaultHost="h"><Host name="h"><Context path="" docBase="/opt/jira"/></Host></Engine></Service></Server>`,
		"duplicate-attribute.xml": fmt.Sprintf(base, ` proxyName="a" proxyName="b"`, ""),
		"latin1.xml":              `<?xml version="1.0" encoding="ISO-8859-1"?>` + "\n" + fmt.Sprintf(base, "", "\xe9t\xe9"),
		"doctype-comment.xml":     "<!DOCTYPE Server [\n  <!-- it's Jira's -->\n  <!ENTITY x \"y\">\n]>\n" + fmt.Sprintf(base, "", "&x;"),
		"entities.xml":            fmt.Sprintf(base, ` proxyName="a&amp;b"`, "&#233;"),
		"undeclared-entity.xml":   fmt.Sprintf(base, "", "&nbsp;"),
		"fuzz-seed.xml":           `<S><Service><Connector port='8080' a="&amp;"/><Engine><Host><Context path=""/></Host></Engine></Service></S>`,
	}
	// What the mutants found encoding/xml accepting and the JDK refusing (strictCases), and
	// what both accept.
	for name, c := range strictCases {
		cases[name] = c.src
	}
	cases["standalone-and-pi.xml"] = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n<?app data?>" + fmt.Sprintf(base, "", "")
	cases["doctype-pi-with-gt.xml"] = "<!DOCTYPE Server [\n<?pi -->x]?>\n]>\n" + fmt.Sprintf(base, "", "")
	cases["doctype-subset-kinds.xml"] = "<!DOCTYPE Server [\n<?pi x?>\n<!-- c -->\n<!ENTITY y 'z'>\n]>\n" + fmt.Sprintf(base, "", "&y;")
	var files []string
	for _, name := range slices.Sorted(maps.Keys(cases)) { // in order: the mutants derive from them
		content := cases[name]
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	return files
}

func TestAgainstJavasParser(t *testing.T) {
	dir := t.TempDir()
	files := append(serverXMLFixtures(t), oddFiles(t, dir)...)
	parsed, compared := againstJava(t, dir, files)
	if compared < 10 {
		t.Fatalf("only %d files edited and compared", compared)
	}
	t.Logf("%d files parsed by both, %d edits checked against the JDK", parsed, compared)
}

// TestMutantsAgainstJavasParser: the same comparison on 600 files derived from the fixtures and
// the odd files by random edits with XML's own tokens (javaref.Mutants; FRONTDOOR_JAVA_MUTANTS
// and FRONTDOOR_JAVA_SEED for a longer or another run), so the editor meets what nobody wrote by
// hand, with the JDK as the oracle, in one JVM.
func TestMutantsAgainstJavasParser(t *testing.T) {
	dir := t.TempDir()
	var seeds [][]byte
	for _, f := range append(serverXMLFixtures(t), oddFiles(t, dir)...) {
		b, _ := os.ReadFile(f)
		seeds = append(seeds, b)
	}
	dict := []string{`"`, `'`, "<", ">", "/>", "&", "&amp;", "&x;", "&#233;", "&#xE9;", "&nbsp;", "<!--", "-->", "<![CDATA[", "]]>",
		"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>", "\xe9", "\xc3\xa9", " ", "\n", "\r\n", "=", ` port="8080"`, ` proxyName="a"`,
		` scheme="https"`, ` path="/x"`, `<Context path="/y"/>`, `<Connector port="8080" protocol="HTTP/1.1"/>`, `<Connector port="8443" SSLEnabled="true"/>`,
		"<Service>", "</Service>", "<Engine>", "</Engine>", "<Host>", "</Host>", "<!DOCTYPE Server [<!ENTITY x \"y\">]>", "${p}", "\t"}
	var files []string
	for i, m := range javaref.Mutants(seeds, dict, 600, 1) {
		p := filepath.Join(dir, fmt.Sprintf("mutant-%04d.xml", i))
		if err := os.WriteFile(p, m, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	parsed, compared := againstJava(t, dir, files)
	if compared < 50 {
		t.Fatalf("only %d of %d mutants edited and compared", compared, parsed)
	}
	t.Logf("%d mutants parsed by both, %d edits checked against the JDK", parsed, compared)
}

// againstJava parses and edits files with frontdoor's editor and has the JDK read each file and
// each edit: the same accept/reject, and after an edit the Connector and Context changed as
// asked and everything else the same. It returns how many files and edits were compared.
func againstJava(t *testing.T, dir string, files []string) (int, int) {
	t.Helper()
	type edited struct{ out, port string }
	outs := map[string]edited{}
	var all []string
	for _, f := range files {
		all = append(all, f)
		src, _ := os.ReadFile(f)
		port := firstHTTPPort(src)
		e := TomcatEdit{ContextPath: ptr("/app"), Connector: &Connector{Port: port, Scheme: "https", ProxyName: "app.example.com", ProxyPort: 443}}
		if out, _, err := EditServerXML(src, e); err == nil {
			p := filepath.Join(dir, "edited-"+filepath.Base(f))
			os.WriteFile(p, out, 0o644)
			outs[f] = edited{p, strconv.Itoa(port)}
			all = append(all, p)
		}
	}
	views := javaref.Run(t, filepath.Join("testdata", "java", "TomcatView.java"), all)
	compared := 0
	for _, f := range files {
		src, _ := os.ReadFile(f)
		_, perr := Parse(src)
		jv := views[f]
		javaOK := len(jv) > 0 && jv[0] == "ok"
		if errors.Is(perr, ErrUnsupportedDTD) && javaOK {
			continue // refused on purpose: declarations that change what Tomcat reads
		}
		if (perr == nil) != javaOK {
			t.Errorf("%s: frontdoor parse error %v, the JDK says %v", filepath.Base(f), perr, jv)
			continue
		}
		ed, ok := outs[f]
		if !ok {
			continue
		}
		compared++
		before, after := jv[1:], views[ed.out]
		if len(after) == 0 || after[0] != "ok" || len(after)-1 != len(before) {
			t.Errorf("%s: the JDK reads the edited file as %v", filepath.Base(f), after)
			continue
		}
		after = after[1:]
		service := ""
		for i, b := range before {
			a := after[i]
			if strings.HasPrefix(b, "connector ") && strings.Contains(b, " port="+ed.port+" ") && service == "" && !strings.Contains(b, "SSLEnabled=true") && !strings.Contains(strings.ToUpper(b), "AJP") {
				service = field(b, "service")
				for k, want := range map[string]string{"scheme": "https", "proxyName": "app.example.com", "proxyPort": "443", "secure": "true", "port": ed.port, "service": service} {
					if got := field(a, k); got != want {
						t.Errorf("%s: the JDK sees the Connector's %s=%q, want %q", filepath.Base(f), k, got, want)
					}
				}
				continue
			}
			if strings.HasPrefix(b, "context ") && field(b, "service") == service && !strings.Contains(b, "synchrony-proxy") && field(a, "path") == "/app" {
				if field(a, "docBase") != field(b, "docBase") {
					t.Errorf("%s: the Context's docBase changed: %s -> %s", filepath.Base(f), b, a)
				}
				continue
			}
			if a != b {
				t.Errorf("%s: the JDK sees an element frontdoor should not have touched change:\n %s\n %s", filepath.Base(f), b, a)
			}
		}
		if !strings.Contains(strings.Join(after, "\n"), "path=/app ") {
			t.Errorf("%s: the JDK sees no Context at /app after the edit:\n%s", filepath.Base(f), strings.Join(after, "\n"))
		}
	}
	return len(files), compared
}

// field returns key's value on a TomcatView line.
func field(line, key string) string {
	for _, f := range strings.Fields(line) {
		if v, ok := strings.CutPrefix(f, key+"="); ok {
			return v
		}
	}
	return ""
}
