package e2e

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/frontdoor-dev/frontdoor/internal/labtest"
	"github.com/frontdoor-dev/frontdoor/playbooks"
)

// TestEveryExamplePlaybook applies each playbook in playbooks/examples (one per topology of the
// guide) to a fresh lab host that has its products: every app verifies through the proxy, and a
// second apply changes nothing. A new example is picked up by this test without editing it.
func TestEveryExamplePlaybook(t *testing.T) {
	l := labtest.Open(t)
	files, err := filepath.Glob(filepath.Join("..", "playbooks", "examples", "*.yaml"))
	if err != nil || len(files) < 5 {
		t.Fatalf("examples: %v %v", files, err)
	}
	// The playbooks of one host run one after another (each resets it); the hosts run at once:
	// the Jira ones, the Confluence and Bitbucket ones and the Bamboo, Fisheye and Crowd ones
	// each need their own host, and one after another they took 200 s of CI.
	type group struct {
		host  labtest.Host
		files []string
		pbs   []*playbooks.Playbook
	}
	var groups []*group
	byHost := map[int]*group{}
	for _, f := range files {
		pb, err := playbooks.LoadPlaybook(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var products []string
		for _, a := range pb.Apps {
			products = append(products, a.Product)
		}
		h := l.HostWithProducts(t, products...)
		g := byHost[h.Index]
		if g == nil {
			g = &group{host: h}
			byHost[h.Index] = g
			groups = append(groups, g)
		}
		g.files, g.pbs = append(g.files, f), append(g.pbs, pb)
	}
	for _, g := range groups {
		t.Run(g.host.Name, func(t *testing.T) {
			t.Parallel()
			h := g.host
			for i, f := range g.files {
				pb := g.pbs[i]
				t.Run(filepath.Base(f), func(t *testing.T) {
					l.Reset(t, h)
					r := frontdoor(t, adminEnv(t, l), "apply", "--yes", "--set-base-url", "-i", l.Inventory, "--limit", h.Name, f)
					if r.code != 0 {
						t.Fatalf("apply:\n%s", r)
					}
					for _, a := range pb.Apps {
						if want := h.Name + ": verified " + a.PublicFor(h.Name).BaseURL + " through the proxy"; !strings.Contains(r.stdout, want) {
							t.Errorf("no %q in\n%s", want, r)
						}
					}
					r = frontdoor(t, nil, "apply", "--yes", "-i", l.Inventory, "--limit", h.Name, f)
					if r.code != 0 || !strings.Contains(r.stdout, "no changes (nothing restarted)") {
						t.Errorf("second apply:\n%s", r)
					}
				})
			}
		})
	}
}
