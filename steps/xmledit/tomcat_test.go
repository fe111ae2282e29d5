package xmledit

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func jiraEdit() TomcatEdit {
	p := "/jira"
	return TomcatEdit{ContextPath: &p, Connector: &Connector{Port: 8080, Scheme: "http", ProxyName: "jira.example.com", ProxyPort: 80}}
}

// The Context edited is the one in the Service of the app's Connector, as Tomcat maps them
// (issue 12): another Service's Context belongs to another application.
func TestContextOfTheConnectorsService(t *testing.T) {
	two := `<Server port="8005" shutdown="SHUTDOWN">
  <Service name="A">
    <Connector port="9090" protocol="HTTP/1.1"/>
    <Engine name="A" defaultHost="localhost"><Host name="localhost" appBase="webapps">
      <Context path="" docBase="/opt/other"/>
    </Host></Engine>
  </Service>
  <Service name="B">
    <Connector port="8080" protocol="HTTP/1.1"/>
    <Engine name="B" defaultHost="localhost"><Host name="localhost" appBase="webapps">%s</Host></Engine>
  </Service>
</Server>
`
	_, _, err := EditServerXML([]byte(fmt.Sprintf(two, "")), jiraEdit())
	if err == nil || !strings.Contains(err.Error(), "no <Context>") {
		t.Errorf("the app's Service has no Context: %v", err)
	}
	out, _, err := EditServerXML([]byte(fmt.Sprintf(two, `<Context path="" docBase="/opt/atlassian/jira/atlassian-jira"/>`)), jiraEdit())
	if err != nil || !strings.Contains(string(out), `<Context path="" docBase="/opt/other"/>`) || !strings.Contains(string(out), `<Context path="/jira" docBase="/opt/atlassian/jira`) {
		t.Errorf("one Context per Service: %v\n%s", err, out)
	}
}

// What Tomcat's parser refuses is refused here, and what it reads is read (issue 12).
func TestParsesAsTomcatDoes(t *testing.T) {
	base := `<Server port="8005"><Service name="Catalina"><Connector port="8080" protocol="HTTP/1.1"%s/>` +
		`<Engine name="Catalina" defaultHost="localhost"><Host name="localhost"><Context path="" docBase="x%s"/></Host></Engine></Service></Server>`
	if _, _, err := EditServerXML([]byte(fmt.Sprintf(base, ` proxyName="a" proxyName="b"`, "")), jiraEdit()); err == nil || !strings.Contains(err.Error(), "attribute proxyName appears twice") {
		t.Errorf("duplicate attribute: %v", err)
	}
	latin1 := append([]byte(`<?xml version="1.0" encoding="ISO-8859-1"?>`+"\n"), []byte(fmt.Sprintf(base, "", "\xe9t\xe9"))...)
	out, _, err := EditServerXML(latin1, jiraEdit())
	if err != nil || !bytes.Contains(out, []byte("x\xe9t\xe9")) || !bytes.Contains(out, []byte(`proxyName="jira.example.com"`)) {
		t.Errorf("ISO-8859-1: %v\n%q", err, out)
	}
	utf16 := []byte{0xFF, 0xFE, '<', 0, 'S', 0}
	if _, _, err := EditServerXML(utf16, jiraEdit()); err == nil || !strings.Contains(err.Error(), "UTF-16 is not supported") {
		t.Errorf("UTF-16: %v", err)
	}
	doctype := "<!DOCTYPE Server [\n  <!-- it's Jira's -->\n  <!ENTITY x \"y\">\n]>\n" + fmt.Sprintf(base, "", "")
	if out, _, err := EditServerXML([]byte(doctype), jiraEdit()); err != nil || !strings.Contains(string(out), `proxyName="jira.example.com"`) {
		t.Errorf("apostrophe in a DOCTYPE comment: %v\n%s", err, out)
	}
}

// BenchmarkManyConnectors: a 5 MB server.xml of Connectors edits in linear time (line numbers
// are looked up, not counted from the start each time).
func BenchmarkManyConnectors(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`<Server port="8005"><Service name="Catalina">` + "\n")
	for i := 0; sb.Len() < 5<<20; i++ {
		fmt.Fprintf(&sb, "  <Connector port=\"%d\" protocol=\"HTTP/1.1\" connectionTimeout=\"20000\"/>\n", 10000+i%50000)
	}
	sb.WriteString(`  <Connector port="8080" protocol="HTTP/1.1"/>` + "\n" + `<Engine name="Catalina" defaultHost="localhost"><Host name="localhost"><Context path="" docBase="x"/></Host></Engine></Service></Server>` + "\n")
	src := []byte(sb.String())
	b.SetBytes(int64(len(src)))
	for i := 0; i < b.N; i++ {
		if _, _, err := EditServerXML(src, jiraEdit()); err != nil {
			b.Fatal(err)
		}
	}
}

// strictCases are files encoding/xml reads but the XML spec, the JDK's parser and so Tomcat
// refuse (found by TestMutantsAgainstJavasParser), with what frontdoor's error says. They are
// also odd files of the differential test, so the JDK confirms each refusal (but for the last two
// DOCTYPE cases, which the JDK reads and frontdoor refuses on purpose: ErrUnsupportedDTD).
var strictCases = map[string]struct{ src, err string }{
	"no-space-between-attributes.xml": {`<Server><Service><Connector port="8080"proxyName="a"/></Service></Server>`, "no space after attribute port"},
	"invalid-utf8-in-comment.xml":     {"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- caf\xe9 -->\n<Server/>", "line 2: byte 0xE9 is not UTF-8"},
	"bad-xml-declaration.xml":         {`<?xml version="1.0" enc-->oding="utf-8"?><Server/>`, "XML declaration"},
	"late-xml-declaration.xml":        {"<!-- a -->\n<?xml version=\"1.0\"?><Server/>", "allowed only at the very start"},
	"text-in-prolog.xml":              {"<!-- a --> b\n<Server/>", "text outside the root element"},
	"double-dash-in-comment.xml":      {"<!-- a -- b -->\n<Server/>", `"--"`},
	"directive-in-content.xml":        {"<Server><!junk></Server>", `"<!junk></Ser" is not allowed here`},
	"doctype-in-content.xml":          {"<Server><!DOCTYPE Server></Server>", "is not allowed here"},
	"doctype-junk-in-subset.xml":      {"<!DOCTYPE Server [\n<!-- c --> junk\n]>\n<Server/>", "is not a markup declaration"},
	"doctype-bad-name.xml":            {"<!DOCTYPE ${p}Server>\n<Server/>", "must name the root element"},
	"doctype-junk-after-name.xml":     {"<!DOCTYPE Ser ver>\n<Server/>", "must end with '>'"},
	"xml-pi-in-doctype.xml":           {"<!DOCTYPE Server [<?xml version=\"1.0\"?>]>\n<Server/>", "allowed only at the very start"},
	"doctype-in-comment.xml":          {"<!-- <!DOCTYPE Server [<!ENTITY x \"y\">]> -->\n<Server a=\"&x;\"/>", "invalid character entity &x;"},
	"pi-target-no-space.xml":          {`<Server><?xm<Connector port="8080"?></Server>`, "target must be a name followed by a space"},
	"lt-in-attribute.xml":             {`<Server><Service><Connector port="8080" docBase="a<b"/></Service></Server>`, "unescaped < inside quoted string"},
	"attlist-default.xml":             {"<!DOCTYPE Server [<!ATTLIST Connector proxyName CDATA \"x\">]>\n<Server/>", "unsupported DOCTYPE: the DOCTYPE declares <!ATTLIST"},
	"parameter-entity.xml":            {"<!DOCTYPE Server [<!ENTITY % p \"\">%p;]>\n<Server/>", "unsupported DOCTYPE"},
	"entity-with-lt-in-attribute.xml": {"<!DOCTYPE Server [<!ENTITY x \"<y\">]>\n<Server a=\"&x;\"/>", "uses &x;, whose text contains '<'"},
}

func TestStrictWhereTomcatIs(t *testing.T) {
	for name, c := range strictCases {
		_, err := Parse([]byte(c.src))
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s: %v, want an error with %q", name, err, c.err)
		}
	}
}

// A processing instruction in the DOCTYPE may hold '>' and ']' (encoding/xml misread it; found by
// the JDK oracle, which reads the file).
func TestDoctypeWithProcessingInstruction(t *testing.T) {
	src := "<!DOCTYPE Server [\n<?pi -->x]?>\n<!ENTITY y 'z'>\n]>\n<Server a=\"&y;\"/>"
	if _, err := Parse([]byte(src)); err != nil {
		t.Fatal(err)
	}
}
