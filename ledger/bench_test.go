package ledger

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/frontdoor-dev/frontdoor/fleet"
	"github.com/frontdoor-dev/frontdoor/internal/pgtest"
)

// BenchmarkRecordConvergedRun stores what a converged apply of 1,000 hosts emits (as frontdoor
// does: run.start, per host four progress steps, its plan of eight unchanged steps and its end,
// run.done) into a new ledger and closes it: the ledger's write time for such a run, and (SQLite)
// its size. docs/scale.md has the figures:
//
//	go test -run XXX -bench RecordConvergedRun -benchtime 5x ./ledger
func BenchmarkRecordConvergedRun(b *testing.B) {
	const hosts = 1000
	var names []string
	for i := 0; i < hosts; i++ {
		names = append(names, fmt.Sprintf("jira%d.example.com", i))
	}
	var plan []fleet.Change
	for i := 0; i < 8; i++ {
		plan = append(plan, fleet.Change{Step: fmt.Sprintf("step %d", i), Action: "noop", Summary: "as wanted"})
	}
	for _, be := range []struct {
		name string
		new  func(b *testing.B) string
	}{
		{"sqlite", func(b *testing.B) string { return filepath.Join(b.TempDir(), "ledger.db") }},
		{"postgres", func(b *testing.B) string { return pgtest.DB(b) }},
	} {
		b.Run(be.name, func(b *testing.B) {
			var size int64
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				loc := be.new(b)
				l, err := Open(loc)
				if err != nil {
					b.Fatal(err)
				}
				run := fleet.NewRunID(time.Now())
				em := fleet.NewEmitter(run, l.Record)
				b.StartTimer()
				em.Emit(fleet.Event{Type: fleet.RunStart, Command: "apply", Controller: "root@ctl", Batches: [][]string{names}})
				em.Emit(fleet.Event{Type: fleet.BatchStart, Batch: 1, Hosts: names})
				for _, h := range names {
					for _, step := range []string{"connect", "gather facts", "preflight", "verify"} {
						em.Emit(fleet.Event{Type: fleet.HostProgress, Host: h, Batch: 1, Step: step})
					}
					em.Emit(fleet.Event{Type: fleet.HostPlan, Host: h, Batch: 1, Address: "10.0.0.1", Platform: "Debian GNU/Linux 12", Changes: plan})
					em.Emit(fleet.Event{Type: fleet.HostDone, Host: h, Batch: 1, Status: fleet.StatusOK, DurationMS: 150,
						Verified: []fleet.Verified{{App: "jira", BaseURL: "http://jira." + h, Chain: []string{"http://jira." + h + "/ -> 200"}}}})
				}
				em.Emit(fleet.Event{Type: fleet.BatchDone, Batch: 1, Status: fleet.RunOK, Counts: &fleet.Counts{Hosts: hosts, OK: hosts}})
				em.Emit(fleet.Event{Type: fleet.RunDone, Status: fleet.RunOK, Counts: &fleet.Counts{Hosts: hosts, OK: hosts}})
				if err := l.Close(); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if st, err := os.Stat(loc); err == nil {
					size = st.Size()
				}
			}
			b.ReportMetric(float64(hosts*7+4), "events/op")
			if size > 0 {
				b.ReportMetric(float64(size)/1024, "KB")
			}
		})
	}
}
