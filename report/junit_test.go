package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/frontdoor-dev/frontdoor/fleet"
	"github.com/frontdoor-dev/frontdoor/internal/junitschema"
)

// checkJUnit validates a JUnit file (internal/junitschema) and returns its tree.
func checkJUnit(t *testing.T, b []byte) *junitschema.Node {
	t.Helper()
	root, err := junitschema.Check(b)
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// cases returns "suite/case=outcome" for every testcase: pass, failure, skipped.
func cases(root *junitschema.Node) map[string]*junitschema.Node {
	out := map[string]*junitschema.Node{}
	for _, s := range root.Children {
		for _, c := range s.Children {
			if c.Name == "testcase" {
				out[s.Attrs["name"]+"/"+c.Attrs["name"]] = c
			}
		}
	}
	return out
}

func outcome(c *junitschema.Node) string {
	for _, x := range c.Children {
		switch x.Name {
		case "failure":
			return "failure: " + x.Attrs["message"]
		case "skipped":
			return "skipped: " + x.Text
		}
	}
	return "pass"
}

// The recorded apply as JUnit: valid against junit-4.xsd; a suite per host; the failed host's
// result carries its whole error (the hostile text as text), its steps skipped as rolled back;
// the host not started is one skipped case; the verified hosts pass, with their chains.
func TestJUnitApply(t *testing.T) {
	led, run, _ := recorded(t)
	evs, err := led.Events(run)
	if err != nil {
		t.Fatal(err)
	}
	j := NewJUnit("apply")
	for _, e := range evs {
		j.Record(e)
	}
	var b bytes.Buffer
	if err := j.Write(&b); err != nil {
		t.Fatal(err)
	}
	root := checkJUnit(t, b.Bytes())
	if root.Attrs["name"] != "frontdoor apply "+run || len(root.Children) != 4 {
		t.Fatalf("testsuites %v with %d suites", root.Attrs, len(root.Children))
	}
	got := cases(root)
	want := map[string]string{
		"web1/jira: server.xml":                       "pass",
		"web1/verify jira at http://jira.example.com": "pass",
		"web1/apply":                                  "pass",
		"web2/jira: server.xml":                       "pass",
		"web2/apache: module proxy":                   "pass",
		"web2/verify jira at http://jira.example.com": "pass",
		"web2/apply":                                  "pass",
		"web3/jira: server.xml":                       "skipped: rolled back: the host failed",
		"web3/apache: module proxy":                   "skipped: rolled back: the host failed",
		"web3/apply":                                  "failure: " + hostile,
		"web4/apply":                                  "skipped: not started: the rollout stopped at --max-fail",
	}
	for k, w := range want {
		if c := got[k]; c == nil || outcome(c) != w {
			t.Errorf("%s: %v, want %s", k, c, w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d testcases, want %d", len(got), len(want))
	}
	f := got["web3/apply"].Children[0]
	if f.Text != hostile || f.Attrs["type"] != "failed, rolled back" {
		t.Errorf("web3's failure: %q %v", f.Text, f.Attrs)
	}
	if c := got["web2/jira: server.xml"]; c.Attrs["time"] != "0.500" || !strings.Contains(c.Children[0].Text, `+  <Connector port="8080" proxyName="jira.example.com"/>`) {
		t.Errorf("web2's server.xml step: time %s, output %q", c.Attrs["time"], c.Children[0].Text)
	}
	if out := got["web1/verify jira at http://jira.example.com"].Children[0].Text; !strings.Contains(out, "Dashboard.jspa -> 200") {
		t.Errorf("verification output %q", out)
	}
}

// The checker refuses what junit-4.xsd refuses (it is no check otherwise).
func TestJUnitCheckerRefuses(t *testing.T) {
	for _, bad := range []string{
		`<testsuites><testsuite tests="1"><testcase name="a"/></testsuite></testsuites>`,                                        // testsuite without name
		`<testsuites><testsuite name="s" tests="1"><testcase/></testsuite></testsuites>`,                                        // testcase without name
		`<testsuites><testsuite name="s" tests="1"><testcase name="a"><failure/><skipped/></testcase></testsuite></testsuites>`, // skipped after failure
		`<testsuites><testsuite name="s" tests="1"><testcase name="a" result="x"/></testsuite></testsuites>`,                    // unknown attribute
		`<testsuites><testcase name="a"/></testsuites>`,                                                                         // testcase outside a testsuite
		`<testsuites><testsuite name="s" tests="1"><testcase name="a"><skipped/><skipped/></testcase></testsuite></testsuites>`,
		`<testsuites><testsuite name="s" tests="1">text<testcase name="a"/></testsuite></testsuites>`,
	} {
		if _, err := junitschema.Check([]byte(bad)); err == nil {
			t.Errorf("accepted: %s", bad)
		}
	}
	ok := `<testsuites><testsuite name="s" tests="1"><properties><property name="a" value="b"/></properties><testcase name="a"><skipped/><failure message="m">x</failure><system-out>o</system-out></testcase><system-out/></testsuite></testsuites>`
	if _, err := junitschema.Check([]byte(ok)); err != nil {
		t.Errorf("refused a valid file: %v", err)
	}
}

// A plan as JUnit: each host's steps pass with their diffs, the result says what is pending; a
// host that could not be planned fails with its error.
func TestJUnitPlan(t *testing.T) {
	j := NewJUnit("plan")
	j.Record(fleet.Event{Type: fleet.HostPlan, Host: "a", Changes: []fleet.Change{{Step: "s1", Action: "update", Summary: "edit x", Diff: "-1\n+2\n"}, {Step: "s2", Action: "noop", Summary: "ok"}}, Warnings: []string{"locked"}})
	j.Record(fleet.Event{Type: fleet.HostDone, Host: "b", Status: fleet.StatusFailed, Error: "b: dial tcp: connection refused"})
	var b bytes.Buffer
	if err := j.Write(&b); err != nil {
		t.Fatal(err)
	}
	got := cases(checkJUnit(t, b.Bytes()))
	for k, w := range map[string]string{"a/s1": "pass", "a/s2": "pass", "a/plan": "pass", "b/plan": "failure: b: dial tcp: connection refused"} {
		if c := got[k]; c == nil || outcome(c) != w {
			t.Errorf("%s: want %s", k, w)
		}
	}
	if out := got["a/plan"].Children[0].Text; out != "1 change(s) pending\nWARNING: locked" {
		t.Errorf("a's plan result: %q", out)
	}
}
