package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/frontdoor-dev/frontdoor/fleet"
)

// The live view shows each batch's tallies and each running host's step, and text printed
// meanwhile; feeding it events from many hosts at once must not block.
func TestProgressView(t *testing.T) {
	var buf bytes.Buffer
	v := newProgressView(&buf, true)
	em := fleet.NewEmitter(fleet.NewRunID(time.Now()), v.event)
	em.Emit(fleet.Event{Type: fleet.BatchStart, Batch: 1, Hosts: []string{"jira1", "jira2"}})
	done := make(chan bool)
	for _, h := range []string{"jira1", "jira2"} {
		go func() {
			for i := 0; i < 50; i++ {
				em.Emit(fleet.Event{Type: fleet.HostProgress, Host: h, Batch: 1, Step: "apply apache: module proxy_http"})
			}
			done <- true
		}()
	}
	<-done
	<-done
	time.Sleep(400 * time.Millisecond) // a few refreshes
	v.p.Write([]byte("jira1: ok, 6 change(s) applied\n"))
	em.Emit(fleet.Event{Type: fleet.HostDone, Host: "jira1", Batch: 1, Status: fleet.StatusChanged})
	em.Emit(fleet.Event{Type: fleet.HostDone, Host: "jira2", Batch: 1, Status: fleet.StatusFailed, RolledBack: true})
	em.Emit(fleet.Event{Type: fleet.BatchDone, Batch: 1, Status: fleet.RunOK, Counts: &fleet.Counts{Hosts: 2}})
	v.stop()
	out := buf.String()
	// Without a terminal the lines are cut at the default width, so only their starts are checked.
	for _, want := range []string{"batch 1", "0/2 hosts", "2/2 hosts", "1 changed", "jira1  apply apache: module", "jira2  apply apache: module", "jira1: ok, 6 change(s) applied"} {
		if !strings.Contains(out, want) {
			t.Errorf("progress view lacks %q:\n%s", want, out)
		}
	}
}
