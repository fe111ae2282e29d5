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
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			pb, err := playbooks.LoadPlaybook(f)
			if err != nil {
				t.Fatal(err)
			}
			var products []string
			for _, a := range pb.Apps {
				products = append(products, a.Product)
			}
			h := l.HostWithProducts(t, products...)
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
}
