package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/frontdoor-dev/frontdoor/internal/labtest"
	"github.com/frontdoor-dev/frontdoor/memhost"
	"github.com/frontdoor-dev/frontdoor/playbooks"
	"github.com/frontdoor-dev/frontdoor/session"
	"github.com/frontdoor-dev/frontdoor/target"
)

// TestMemhostIsFaithful keeps the in-memory host honest: a fresh lab host (real Debian 12,
// OpenSSH, Apache 2.4, Jira's Tomcat) and a fresh memhost of the same name give the same facts
// that matter and exactly the same plan (every step, action, summary and diff) for the same
// playbook. The unit tests of session, fleet and cmd stand on memhost; this is what lets them.
func TestMemhostIsFaithful(t *testing.T) {
	l := labtest.Open(t)
	h := l.HostWithInit(t, "systemd")
	l.Reset(t, h)
	inv, err := playbooks.LoadInventory(l.Inventory)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	fl := memhost.NewFleet(h.Name)
	defer fl.Close()
	for _, name := range []string{"jira-subdomain.yaml", "jira-context-path.yaml"} {
		pb, err := playbooks.LoadPlaybook(playbook(t, name))
		if err != nil {
			t.Fatal(err)
		}
		real := session.Prepare(ctx, pb, inv.Hosts[h.Name], session.Options{Dial: labDial(inv)})
		mem := session.Prepare(ctx, pb, inv.Hosts[h.Name], session.Options{
			Dial: func(context.Context, *playbooks.Host) (target.Conn, error) { return fl.Conn(h.Name) }})
		real.Close()
		if real.Err != nil || mem.Err != nil {
			t.Fatalf("%s: real: %v; memhost: %v", name, real.Err, mem.Err)
		}
		rf, mf := real.Facts, mem.Facts
		for _, c := range []struct{ what, real, mem string }{
			{"platform", rf.Describe(), mf.Describe()},
			{"family", string(rf.Family), string(mf.Family)},
			{"init", rf.Init, mf.Init},
			{"apache layout", rf.Apache.Layout, mf.Apache.Layout},
			{"apache running", fmt.Sprint(rf.Apache.Running), fmt.Sprint(mf.Apache.Running)},
			{"modules", fmt.Sprint(keys(rf.Apache.Modules)), fmt.Sprint(keys(mf.Apache.Modules))},
			{"sites", fmt.Sprint(keys(rf.Apache.Sites)), fmt.Sprint(keys(mf.Apache.Sites))},
			{"listen", fmt.Sprint(rf.Apache.Listen), fmt.Sprint(mf.Apache.Listen)},
			{"services", fmt.Sprint(rf.Services), fmt.Sprint(mf.Services)},
			{"listening 80/8080", fmt.Sprint(rf.Listening[80], rf.Listening[8080]), fmt.Sprint(mf.Listening[80], mf.Listening[8080])},
			{"notes", fmt.Sprint(real.Notes), fmt.Sprint(mem.Notes)},
		} {
			if c.real != c.mem && !(c.what == "platform" && strings.HasPrefix(c.real, "Debian GNU/Linux 12")) {
				t.Errorf("%s: %s differs:\nreal:    %s\nmemhost: %s", name, c.what, c.real, c.mem)
			}
		}
		if len(real.Plan.Steps) != len(mem.Plan.Steps) {
			t.Fatalf("%s: %d steps on the real host, %d on memhost", name, len(real.Plan.Steps), len(mem.Plan.Steps))
		}
		for i, s := range real.Plan.Steps {
			rc, mc := real.Plan.Changes[i], mem.Plan.Changes[i]
			if s.Name() != mem.Plan.Steps[i].Name() || rc != mc {
				t.Errorf("%s: step %d differs:\nreal:    %s %s %s\n%s\nmemhost: %s %s %s\n%s", name, i, s.Name(), rc.Action.Symbol(), rc.Summary, rc.Diff,
					mem.Plan.Steps[i].Name(), mc.Action.Symbol(), mc.Summary, mc.Diff)
			}
		}
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
