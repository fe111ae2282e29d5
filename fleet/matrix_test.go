package fleet

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/frontdoor-dev/frontdoor/memhost"
	"github.com/frontdoor-dev/frontdoor/playbooks"
	"github.com/frontdoor-dev/frontdoor/target"
)

// TestFaultMatrix injects a failure at every remote operation of a fresh apply (Jira behind
// Apache at its own name, with mod_remoteip: modules, site, VirtualHost, server.xml, httpd and
// Jira restarts, journal, lock), in five kinds: the operation fails ("fail": a command exits 1,
// a write fails as on a full disk), the connection is lost from that operation on ("lost", which
// is also what a host sees of a controller killed by SIGKILL), the operation runs and the
// connection is lost with its answer ("lost-after"), the operation runs and its answer never
// comes before its deadline ("timeout", a hang), or the controller gets a Ctrl-C while it runs
// ("interrupt"). For every (operation, kind) the host must end either applied and verified, or
// exactly as it was (files byte-exact with mode and owner, modules, sites, SELinux, services), at
// once or, for a lost connection, through frontdoor rollback RUN once it is back. Nothing may end
// half-changed.
// docs/reliability.md has the counts (go test -run TestFaultMatrix -v ./fleet).
func TestFaultMatrix(t *testing.T) {
	summaries := make([]string, len(matrixColumns))
	t.Cleanup(func() { // after the parallel columns
		if out := os.Getenv("FRONTDOOR_MATRIX_OUT"); out != "" {
			os.WriteFile(out, []byte(strings.Join(summaries, "\n\n")+"\n"), 0o644)
		}
	})
	t.Run("columns", func(t *testing.T) {
		for i, col := range matrixColumns {
			t.Run(col.name, func(t *testing.T) {
				t.Parallel()
				summaries[i] = col.name + ": " + faultMatrix(t, col)
			})
		}
	})
}

// matrixColumn is one kind of host the matrix runs on, with its playbook and its pinned counts.
type matrixColumn struct {
	name, playbook string
	host           func(name string) *memhost.Host
	want           map[string]int
}

var matrixColumns = []matrixColumn{
	{
		name:     "Debian, Jira at its own name",
		playbook: "apps:\n  - product: jira\n    url: http://{{host}}.example.com\napache:\n  remote_ip: true\n",
		host:     memhost.New,
		want:     pinned(3, 1, 1, 24, 1, 5, 4, 19, 1, 6, 3, 19, 3, 1, 1, 24, 5, 0, 1, 23),
	},
	{
		name: "Debian, Jira + Confluence (Synchrony) + Bitbucket at context paths",
		playbook: "apps:\n  - product: jira\n    url: http://atlassian.{{host}}.example.com/jira\n" +
			"  - product: confluence\n    url: http://atlassian.{{host}}.example.com/confluence\n" +
			"  - product: bitbucket\n    url: http://atlassian.{{host}}.example.com/bitbucket\n",
		host: func(name string) *memhost.Host {
			h := memhost.New(name)
			h.Install("confluence")
			h.Install("bitbucket")
			return h
		},
		want: pinned(6, 1, 1, 42, 1, 8, 4, 37, 1, 9, 3, 37, 6, 1, 1, 42, 8, 0, 1, 41),
	},
	{
		name:     "Red Hat layout (SELinux), Jira at its own name",
		playbook: "apps:\n  - product: jira\n    url: http://{{host}}.example.com\napache:\n  remote_ip: true\n",
		host:     memhost.NewRedHat,
		want:     pinned(3, 1, 1, 25, 1, 5, 4, 20, 1, 6, 3, 20, 3, 1, 1, 25, 5, 0, 1, 24),
	},
	{
		name:     "Windows dialect (emulated host), Jira at its own name",
		playbook: "apps:\n  - product: jira\n    url: http://{{host}}.example.com\n    windows_service: JIRA050414092732\napache:\n  remote_ip: true\n",
		host:     memhost.NewWindows,
		want:     pinned(3, 1, 2, 20, 1, 5, 5, 15, 1, 6, 4, 15, 3, 1, 2, 20, 5, 0, 2, 19),
	},
}

// matrixKinds are the kinds of fault; lostKinds those that cut the connection.
var (
	matrixKinds = []string{"fail", "lost", "lost-after", "timeout", "interrupt"}
	lostKinds   = map[string]bool{"lost": true, "lost-after": true}
)

// pinned are a column's counts of each outcome, per kind (matrixKinds' order): applied and
// verified, applied with its end not recorded, failed before any change, and rolled back (by
// frontdoor rollback RUN once reachable for a lost connection, else by the run).
func pinned(n ...int) map[string]int {
	out := map[string]int{}
	for i, kind := range matrixKinds {
		rolled := "rolled back by the run"
		if lostKinds[kind] {
			rolled = "rolled back by frontdoor rollback RUN once reachable"
		}
		for j, outcome := range []string{"applied and verified", "applied, the end not recorded (failed); rollback RUN restores it", "failed before any change", rolled} {
			if c := append(n, make([]int, 4*len(matrixKinds))...)[4*i+j]; c > 0 {
				out[kind+": "+outcome] = c
			}
		}
	}
	return out
}

// faultMatrix runs one column and returns its summary.
func faultMatrix(t *testing.T, col matrixColumn) string {
	newRun := func() *memRun {
		m := newMemRun(t, "a1")
		m.fl.Hosts["a1"] = col.host("a1")
		m.pb = mustPlaybook(t, col.playbook)
		m.verifyWait = 200 * time.Millisecond // a lost host fails verification for good: no minute of retries
		return m
	}
	clean := newRun()
	fresh := clean.fl.Hosts["a1"].Snapshot()
	clean.fl.Hosts["a1"].Arm(0, "")
	ro, _ := clean.rollout(nil, nil)
	if res := ro.Run(context.Background()); res.Status != RunOK {
		t.Fatalf("clean run: %v", res.Hosts[0].Err)
	}
	applied := clean.fl.Hosts["a1"].Snapshot()
	ops := clean.fl.Hosts["a1"].Count()
	outcomes := map[string]int{}
	kinds := matrixKinds
	for _, kind := range kinds {
		for n := 1; n <= ops; n++ {
			m := newRun()
			h := m.fl.Hosts["a1"]
			h.Arm(n, kind)
			now := time.Now()
			ro, owner := m.rollout(nil, nil)
			ro.Owner = Me(NewRunID(now), now)
			ro.Owner.PID, owner = deadPID(t), ro.Owner // the controller is gone by the time anyone looks
			ro.Emit = m.emitter(owner.Run)
			var interrupted atomic.Bool
			h.Interrupt = func() { interrupted.Store(true) }
			ro.Stopping = interrupted.Load // as the first Ctrl-C does in cmd/frontdoor
			res := ro.Run(context.Background())
			// undo is frontdoor rollback RUN once the host is reachable again.
			undo := func() *HostResult {
				h.Heal()
				u := &Undo{Hosts: m.hosts, Opts: m.opts(), Forks: 1, Target: owner.Run, Emit: m.emitter("undo"), Owner: Me(NewRunID(now), now)}
				return u.Run(context.Background()).Hosts[0]
			}
			op := fmt.Sprintf("%s at operation %d (%s)", kind, n, h.Log[n-1])
			outcome := ""
			switch snap := h.Snapshot(); {
			case snap == applied && res.Hosts[0].Status == StatusChanged:
				outcome = "applied and verified"
			case snap == applied:
				// Applied but cut off before the run could record its end: the journal still
				// says applied and the lock is held, so the host refuses a new apply until
				// frontdoor rollback RUN, which must then bring it back whole.
				outcome = "applied, the end not recorded (" + res.Hosts[0].Status + ")"
				if ur := undo(); h.Snapshot() != fresh {
					t.Errorf("%s: %s, and frontdoor rollback RUN did not restore it (%s: %v)", op, outcome, ur.Status, ur.Err)
				}
				outcome += "; rollback RUN restores it"
			case snap == fresh && res.Hosts[0].RolledBack:
				outcome = "rolled back by the run"
			case snap == fresh:
				outcome = "failed before any change"
			default:
				if ur := undo(); h.Snapshot() != fresh {
					t.Errorf("%s: HALF-CHANGED, and frontdoor rollback did not restore it (%s: %v):\n%s", op, ur.Status, ur.Err, h.Snapshot())
					outcome = "HALF-CHANGED"
				} else {
					outcome = "rolled back by frontdoor rollback RUN once reachable"
					if j := h.File(RunDir(owner.Run, map[bool]target.Dialect{false: target.POSIX, true: target.Windows}[h.Windows]) + "/journal.json"); !strings.Contains(string(j.Data), `"state": "rolled-back"`) || h.Lock != "" {
						t.Errorf("%s: after rollback RUN the journal or the lock is not done: lock %q, %s", op, h.Lock, j.Data)
					}
				}
			}
			if lostKinds[kind] && n < ops && (outcome == "applied and verified" || outcome == "rolled back by the run") {
				t.Errorf("%s: %s though the connection was lost", op, outcome)
			}
			// A run that ended on its own (not cut off) leaves no lock behind.
			if !lostKinds[kind] && n < ops && h.Lock != "" {
				t.Errorf("%s: %s, but the lock is left: %s", op, outcome, h.Lock)
			}
			outcomes[kind+": "+outcome]++
			if outcome == "HALF-CHANGED" {
				outcomes["HALF-CHANGED"]++
			}
			t.Logf("%-60.60s -> %s", op, outcome)
		}
	}
	// The counts are pinned: a change that moves them must say why, here and in
	// docs/reliability.md (which shows them).
	if fmt.Sprint(outcomes) != fmt.Sprint(col.want) {
		// As the column's pinned(...) would be written, if the move is explained.
		var args []string
		for _, kind := range matrixKinds {
			for _, prefix := range []string{"applied and verified", "applied, the end", "failed before", "rolled back by"} {
				c := 0
				for k, v := range outcomes {
					if strings.HasPrefix(k, kind+": "+prefix) {
						c += v
					}
				}
				args = append(args, fmt.Sprint(c))
			}
		}
		t.Errorf("outcomes moved:\n got  %v\n want %v\n got  pinned(%s)", outcomes, col.want, strings.Join(args, ", "))
	}
	// A table: a row per kind, a column per outcome.
	heads := []string{"applied and verified", "applied, the end not recorded", "failed before any change", "rolled back", "HALF-CHANGED"}
	var b strings.Builder
	fmt.Fprintf(&b, "%d operations x %d kinds = %d runs, %d half-changed\n%-10s", ops, len(kinds), len(kinds)*ops, outcomes["HALF-CHANGED"], "kind")
	for _, hd := range heads {
		fmt.Fprintf(&b, " | %s", hd)
	}
	for _, kind := range kinds {
		fmt.Fprintf(&b, "\n%-10s", kind)
		for _, hd := range heads {
			c := 0
			for k, v := range outcomes {
				if o, ok := strings.CutPrefix(k, kind+": "); ok && strings.HasPrefix(o, strings.TrimSuffix(hd, "ed")) {
					c += v
				}
			}
			fmt.Fprintf(&b, " | %*d", len(hd), c)
		}
	}
	summary := b.String()
	t.Log(summary)
	return summary
}

func mustPlaybook(t *testing.T, yaml string) *playbooks.Playbook {
	t.Helper()
	pb, err := playbooks.ParsePlaybook("pb.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return pb
}
