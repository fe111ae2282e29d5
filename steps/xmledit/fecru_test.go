package xmledit

import (
	"os"
	"strings"
	"testing"
)

// The shipped layout of config.xml (the fixture with its ${...} attributes removed, as the
// tarball has it) and the fixture itself, which carries placeholders.
func TestFecruConfig(t *testing.T) {
	fixture, err := os.ReadFile("../../testdata/fixtures/fecru-config-xml/fecru-4.x-alvistack-sysprops-config.xml")
	if err != nil {
		t.Fatal(err)
	}
	e := FecruEdit{Context: "/fisheye", Port: 8060, ProxyHost: "fisheye.example.com", ProxyPort: 80, ProxyScheme: "http"}
	if _, _, err := EditFecruConfig(fixture, e); err == nil || !strings.Contains(err.Error(), "placeholder resolved at start-up") {
		t.Errorf("placeholders: %v", err)
	}
	shipped := strings.NewReplacer(` context="${catalina.context.path}"`, "",
		` proxy-host="${catalina.connector.proxyHost}" proxy-port="${catalina.connector.proxyPort}" proxy-scheme="${catalina.connector.scheme}"`, "").Replace(string(fixture))
	out, spans, err := EditFecruConfig([]byte(shipped), e)
	if err != nil {
		t.Fatal(err)
	}
	checkOnlySpansChanged(t, []byte(shipped), out, spans, "web-server", "http")
	for _, want := range []string{
		`<config control-bind="127.0.0.1:8059" version="1.0">`, // the other bind= is untouched
		`<web-server context="/fisheye">`,
		`<http bind=":8060" proxy-host="fisheye.example.com" proxy-port="80" proxy-scheme="http"/>`,
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
	if again, s2, err := EditFecruConfig(out, e); err != nil || string(again) != string(out) || len(s2) != 0 {
		t.Errorf("second edit: %v %v", s2, err)
	}
	// Told to, it replaces the placeholders.
	e.ReplacePlaceholders = true
	if out, _, err := EditFecruConfig(fixture, e); err != nil || !strings.Contains(string(out), `proxy-host="fisheye.example.com"`) {
		t.Errorf("with ReplacePlaceholders: %v", err)
	}
	if _, _, err := EditFecruConfig([]byte(shipped), FecruEdit{Port: 9999}); err == nil || !strings.Contains(err.Error(), `found bind=":8060"`) {
		t.Errorf("wrong port: %v", err)
	}
}
