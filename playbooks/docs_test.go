package playbooks

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// docBlock is a fenced ```yaml or ```ini block of a document.
var docBlock = regexp.MustCompile("(?s)```(yaml|ini)\n(.*?)```")

// The inventories in docs/inventory.md and the README's load as they are printed, so a reader
// who copies one gets a working inventory.
func TestDocsInventoriesLoad(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("FRONTDOOR_SSH_CONFIG", "")
	os.MkdirAll(filepath.Join(home, ".ssh"), 0o700)
	os.WriteFile(filepath.Join(home, ".ssh", "config"), nil, 0o600) // the example names ~/.ssh/config
	n := 0
	for _, doc := range []string{"../docs/inventory.md", "../README.md"} {
		data, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range docBlock.FindAllStringSubmatch(string(data), -1) {
			lang, body := m[1], m[2]
			if doc == "../README.md" && !strings.HasPrefix(body, "# inventory") {
				continue // the README's other blocks are playbooks
			}
			name := "inventory." + lang
			if first, _, _ := strings.Cut(body, "\n"); strings.HasPrefix(first, "# ") && !strings.Contains(strings.Fields(first)[1], "/") {
				name = strings.Fields(first)[1] // "# hosts.ini"
			}
			p := filepath.Join(t.TempDir(), name)
			if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			inv, err := LoadInventory(p)
			if err != nil {
				t.Errorf("%s: the %s example (%s) does not load: %v\n%s", doc, lang, name, err, body)
				continue
			}
			if len(inv.Hosts) == 0 {
				t.Errorf("%s: %s: no hosts", doc, name)
			}
			n++
		}
	}
	if n < 4 {
		t.Fatalf("%d inventory examples found in the docs, want at least 4", n)
	}
}
