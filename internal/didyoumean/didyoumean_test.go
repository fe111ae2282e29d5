package didyoumean

import "testing"

func TestClosest(t *testing.T) {
	cmds := []string{"plan", "apply", "rollback", "history", "show", "report", "serve", "unlock", "facts", "verify", "config", "version"}
	keys := []string{"product", "name", "install", "home", "port", "synchrony", "synchrony_port", "url"}
	for _, c := range []struct {
		word string
		in   []string
		want string
	}{
		{"plann", cmds, "plan"},
		{"aply", cmds, "apply"},
		{"rolback", cmds, "rollback"},
		{"hsitory", cmds, "history"},
		{"prodcut", keys, "product"},
		{"synchrnoy", keys, "synchrony"},
		{"prot", keys, "port"},
		{"xyz", cmds, ""},      // nothing near
		{"deploy", cmds, ""},   // a different word, not a typo
		{"pt", keys, ""},       // two edits from "port": too far for so short a word
		{"plan", cmds, "plan"}, // exact
	} {
		if got := Closest(c.word, c.in); got != c.want {
			t.Errorf("Closest(%q) = %q, want %q", c.word, got, c.want)
		}
	}
}

// Equally close candidates must give the same answer whatever their order: callers collect them
// from maps, and a suggestion that changes between runs is both confusing and untestable.
func TestClosestTieIsStable(t *testing.T) {
	for _, in := range [][]string{{"node1", "node2", "node3"}, {"node3", "node1", "node2"}, {"node2", "node3", "node1"}} {
		if got := Closest("node9", in); got != "node1" {
			t.Errorf("Closest(node9, %v) = %q, want node1", in, got)
		}
	}
}
