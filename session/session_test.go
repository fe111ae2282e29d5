package session

import (
	"errors"
	"strings"
	"testing"

	"github.com/frontdoor-dev/frontdoor/distro"
	"github.com/frontdoor-dev/frontdoor/playbooks"
	"github.com/frontdoor-dev/frontdoor/steps"
)

// A failed verification on a host with SELinux on explains the guide's AH00957 symptom; with
// SELinux disabled or absent the error is left as it is.
func TestExplainSELinux(t *testing.T) {
	base := errors.New("jira: http://jira.example.com/ -> 503")
	r := &HostRun{Host: &playbooks.Host{Name: "rocky1"}, Facts: &distro.Facts{SELinux: distro.SELinux{Mode: "Enforcing"}}}
	err := r.explainSELinux(base)
	if !errors.Is(err, base) || !strings.Contains(err.Error(), "(13)Permission denied: AH00957") || !strings.Contains(err.Error(), "setsebool -P httpd_can_network_connect 1") {
		t.Errorf("enforcing: %v", err)
	}
	for _, mode := range []string{"Disabled", ""} {
		r.Facts.SELinux.Mode = mode
		if err := r.explainSELinux(base); err != base {
			t.Errorf("SELinux %q: %v", mode, err)
		}
	}
}

// The plan confirmed must be the plan applied: the fingerprint changes with any pending change's
// diff or summary, and ignores steps with nothing to do.
func TestFingerprint(t *testing.T) {
	mk := func(diff string, noop string) *steps.Plan {
		return &steps.Plan{
			Steps:   []steps.Step{&steps.CommandStep{Label: "a"}, &steps.CommandStep{Label: "b"}},
			Changes: []steps.Change{{Action: steps.Update, Summary: "edit /x", Diff: diff}, {Action: steps.NoOp, Summary: noop}},
		}
	}
	a := Fingerprint(mk("-1\n+2\n", "right"))
	if a != Fingerprint(mk("-1\n+2\n", "already right")) {
		t.Error("a no-op's reason changed the fingerprint")
	}
	if a == Fingerprint(mk("-1\n+3\n", "right")) {
		t.Error("a different diff kept the fingerprint")
	}
	if Fingerprint(nil) != "" {
		t.Error("nil plan")
	}
}
