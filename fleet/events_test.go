package fleet

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"
)

// Every kind of event a run emits follows the schema; lines that break it are caught.
func TestEventSchema(t *testing.T) {
	var buf bytes.Buffer
	run := NewRunID(time.Now())
	em := NewEmitter(run, JSONLines(&buf))
	c := &Counts{Hosts: 2, Changed: 1, Failed: 1, RolledBack: 1}
	for _, e := range []Event{
		{Type: RunStart, Command: "apply", Playbook: "/p.yaml", Inventory: "/i.yaml", Controller: "root@ctl", Batches: [][]string{{"a"}, {"b"}}},
		{Type: BatchStart, Batch: 1, Hosts: []string{"a"}},
		{Type: HostPlan, Host: "a", Batch: 1, Address: "192.0.2.1", Platform: "Debian GNU/Linux 12", Changes: []Change{{Step: "s", Action: "update", Summary: "edit", Diff: "-a\n+b\n"}, {Step: "t", Action: "noop", Summary: "right"}}, Restarts: []string{"httpd"}},
		{Type: HostProgress, Host: "a", Batch: 1, Step: "stop jira"},
		{Type: HostDone, Host: "a", Batch: 1, Status: StatusChanged, Changed: 3, DurationMS: 1200, Verified: []Verified{{App: "jira", BaseURL: "http://j", Chain: []string{"http://j/ -> 302"}, AppBaseURL: "http://j"}}},
		{Type: HostDone, Host: "b", Batch: 2, Status: StatusFailed, RolledBack: true, Error: "boom"},
		{Type: HostRollback, Host: "a", Batch: 1, Status: StatusRolledBack},
		{Type: BatchDone, Batch: 2, Status: RunStopped, Counts: c},
		{Type: RunDone, Status: RunStopped, Counts: c},
		{Type: RunStart, Command: "rollback", Undoes: run, Controller: "root@ctl", Batches: [][]string{{"a", "b"}}},
		{Type: HostRollback, Host: "b", Status: StatusNothing},
	} {
		em.Emit(e)
	}
	for i, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if err := ValidateEvent([]byte(line)); err != nil {
			t.Errorf("event %d: %v\n%s", i+1, err, line)
		}
	}
	ts := time.Now().UTC().Format(time.RFC3339Nano)
	for _, bad := range []string{
		`{"v":1,"seq":1,"time":"` + ts + `","run":"` + run + `","type":"host.done","host":"a"}`,                      // no status
		`{"v":1,"seq":1,"time":"` + ts + `","run":"` + run + `","type":"host.done","host":"a","status":"stopped"}`,   // not a host status
		`{"v":1,"seq":1,"time":"` + ts + `","run":"` + run + `","type":"run.done","status":"ok","counts":{}}`,        // counts incomplete
		`{"v":2,"seq":1,"time":"` + ts + `","run":"` + run + `","type":"batch.start","batch":1,"hosts":[]}`,          // other version
		`{"v":1,"seq":1,"time":"` + ts + `","run":"` + run + `","type":"host.progress","host":"a","step":"x","x":1}`, // unknown field
		`{"v":1,"seq":1,"time":"yesterday","run":"` + run + `","type":"host.progress","host":"a","step":"x"}`,        // bad time
	} {
		if err := ValidateEvent([]byte(bad)); err == nil {
			t.Errorf("accepted: %s", bad)
		}
	}
}

// docs/events.md documents every field of the schema.
func TestEventsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/events.md")
	if err != nil {
		t.Fatal(err)
	}
	var s map[string]any
	if err := json.Unmarshal(EventSchema, &s); err != nil {
		t.Fatal(err)
	}
	// The field names: keys of "properties", at the top and inside arrays and objects.
	var walk func(props map[string]any)
	n := 0
	walk = func(props map[string]any) {
		for name, v := range props {
			n++
			if !strings.Contains(string(doc), "`"+name+"`") {
				t.Errorf("docs/events.md does not document %q", name)
			}
			sub, _ := v.(map[string]any)
			if items, ok := sub["items"].(map[string]any); ok {
				sub = items
			}
			if p, ok := sub["properties"].(map[string]any); ok {
				walk(p)
			}
		}
	}
	walk(s["properties"].(map[string]any))
	if n < 40 {
		t.Fatalf("only %d fields found in the schema", n)
	}
}
