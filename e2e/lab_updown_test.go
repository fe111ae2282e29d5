package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/frontdoor-dev/frontdoor/internal/labtest"
)

// labFootprint is what the lab holds on the machine: its network namespaces, its bridge ports,
// and the processes living in its namespaces.
func labFootprint(t *testing.T) (netns []string, links int, procs int) {
	out, _ := exec.Command("ip", "netns", "list").Output()
	for _, l := range strings.Split(string(out), "\n") {
		if f := strings.Fields(l); len(f) > 0 && strings.HasPrefix(f[0], "fdlab-h") {
			netns = append(netns, f[0])
			pids, _ := exec.Command("ip", "netns", "pids", f[0]).Output()
			procs += len(strings.Fields(string(pids)))
		}
	}
	sort.Strings(netns)
	out, _ = exec.Command("ip", "-o", "link", "show", "master", "fdlab0").Output()
	links = strings.Count(string(out), "\n")
	return netns, links, procs
}

// TestLabUpTwiceLeaksNothing: up again with the same hosts stops the old ones first; the lab's
// namespaces, bridge ports and process count come out the same (restarting every host fresh).
func TestLabUpTwiceLeaksNothing(t *testing.T) {
	l := labtest.Open(t)
	env := os.Environ()
	for _, h := range l.Hosts {
		env = append(env, fmt.Sprintf("LAB_INIT_OF_%d=%s", h.Index, h.Init),
			fmt.Sprintf("LAB_PRODUCTS_OF_%d=%s", h.Index, strings.Join(h.Products, " ")), fmt.Sprintf("LAB_FLAVOR_OF_%d=%s", h.Index, h.Flavor))
	}
	up := func() {
		cmd := exec.Command(filepath.Join(l.Dir, "up"), fmt.Sprint(len(l.Hosts)))
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("up: %v\n%s", err, out)
		}
	}
	up()
	ns1, links1, procs1 := labFootprint(t)
	up()
	ns2, links2, procs2 := labFootprint(t)
	if strings.Join(ns1, ",") != strings.Join(ns2, ",") || links1 != links2 || len(ns1) != len(l.Hosts) || links1 != len(l.Hosts) {
		t.Errorf("namespaces/ports after up: %v/%d, after a second up: %v/%d", ns1, links1, ns2, links2)
	}
	// Process counts vary by a few (JSP compiler threads are threads, not processes; cron-like
	// timers may fire), but a leaked host would add its whole tree (9-10 processes).
	if procs2 > procs1+3 || procs2 < procs1-3 {
		t.Errorf("processes in lab namespaces: %d after up, %d after a second up", procs1, procs2)
	}
	t.Logf("after two ups: %d namespaces, %d bridge ports, %d -> %d processes", len(ns2), links2, procs1, procs2)
}
