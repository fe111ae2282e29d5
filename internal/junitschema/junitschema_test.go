package junitschema

import (
	"os"
	"testing"
)

// libxml2's validator and the Go checker agree on valid and invalid files, so the checker is
// held to a real XML Schema validator on the same declarations.
func TestXmllintAgrees(t *testing.T) {
	if _, err := Xmllint([]byte("<testsuites/>")); err != nil {
		t.Fatalf("the schema itself: %v", err)
	}
	if ok, _ := Xmllint(nil); !ok {
		if os.Getenv("CI") == "true" || os.Getenv("FRONTDOOR_LAB_REQUIRED") == "1" {
			t.Fatal("xmllint is not installed (scripts/setup installs libxml2-utils)")
		}
		t.Skip("xmllint is not installed")
	}
	for _, c := range []struct {
		xml   string
		valid bool
	}{
		{`<testsuites><testsuite name="s" tests="1"><properties><property name="a" value="b"/></properties><testcase name="a" classname="h" time="0.1"><skipped>why</skipped><failure message="m" type="t">x</failure><system-out>o</system-out></testcase><system-out/></testsuite></testsuites>`, true},
		{`<testsuites><testsuite tests="1"><testcase name="a"/></testsuite></testsuites>`, false},
		{`<testsuites><testsuite name="s" tests="1"><testcase/></testsuite></testsuites>`, false},
		{`<testsuites><testsuite name="s" tests="1"><testcase name="a"><failure/><skipped/></testcase></testsuite></testsuites>`, false},
		{`<testsuites><testsuite name="s" tests="1"><testcase name="a" result="x"/></testsuite></testsuites>`, false},
		{`<testsuites><testcase name="a"/></testsuites>`, false},
		{`<testsuites><testsuite name="s" tests="1"><testcase name="a"><skipped/><skipped/></testcase></testsuite></testsuites>`, false},
		{`<testsuites><testsuite name="s" tests="1"><properties/><testcase name="a"/></testsuite></testsuites>`, false},
	} {
		_, lintErr := Xmllint([]byte(c.xml))
		root, perr := Parse([]byte(c.xml))
		var goErrs []string
		if perr == nil {
			goErrs = Validate(root, "")
		}
		if (lintErr == nil) != c.valid || (len(goErrs) == 0 && perr == nil) != c.valid {
			t.Errorf("%s: xmllint %v, Go checker %v %v, want valid=%v", c.xml, lintErr, perr, goErrs, c.valid)
		}
	}
}
