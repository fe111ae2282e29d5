package fleet

import (
	"encoding/json"
	"github.com/frontdoor-dev/frontdoor/preflight"
	"io"
	"sync"
	"time"
)

// SchemaVersion is the "v" of every event; docs/events.md describes version 1.
const SchemaVersion = 1

// Event types, in the order a run emits them.
const (
	RunStart     = "run.start"
	BatchStart   = "batch.start"
	HostPlan     = "host.plan"
	HostProgress = "host.progress"
	HostDone     = "host.done"
	HostRollback = "host.rollback" // a verified host undone because its batch failed, or by frontdoor rollback
	BatchDone    = "batch.done"
	RunDone      = "run.done"
)

// Host statuses in host.done and host.rollback.
const (
	StatusOK           = "ok"          // verified, nothing changed
	StatusChanged      = "changed"     // changed and verified
	StatusFailed       = "failed"      // failed; rolled_back says whether it was put back
	StatusSkipped      = "skipped"     // not started: a later batch of a stopped rollout, or interrupted
	StatusRolledBack   = "rolled-back" // host.rollback: undone, byte-exact
	StatusRollbackFail = "rollback-failed"
	StatusNothing      = "nothing-to-undo" // host.rollback: the run changed nothing there
)

// Run statuses in run.done.
const (
	RunOK          = "ok"          // every host verified
	RunFailed      = "failed"      // some hosts failed, below the threshold
	RunStopped     = "stopped"     // a batch went over --max-fail: later batches not started
	RunInterrupted = "interrupted" // Ctrl-C
)

// Event is one line of --output json. Fields are omitted when empty; see docs/events.md.
type Event struct {
	V     int       `json:"v"`
	Seq   int       `json:"seq"`
	Time  time.Time `json:"time"`
	Run   string    `json:"run"`
	Type  string    `json:"type"`
	Host  string    `json:"host,omitempty"`
	Batch int       `json:"batch,omitempty"`
	// Shard is "i/n" when the run is split across n controllers (--shard i/n) and this event is
	// shard i's; every shard emits under the same run id, each with its own seq.
	Shard string `json:"shard,omitempty"`

	// run.start
	Command    string     `json:"command,omitempty"`
	Playbook   string     `json:"playbook,omitempty"`
	Inventory  string     `json:"inventory,omitempty"`
	Controller string     `json:"controller,omitempty"`
	Undoes     string     `json:"undoes,omitempty"` // rollback: the run being undone
	Batches    [][]string `json:"batches,omitempty"`
	// batch.start
	Hosts []string `json:"hosts,omitempty"`
	// host.plan
	Address  string   `json:"address,omitempty"`
	Platform string   `json:"platform,omitempty"`
	Changes  []Change `json:"changes,omitempty"`
	Restarts []string `json:"restarts,omitempty"`
	Reloads  []string `json:"reloads,omitempty"` // reloaded without a restart (a renewed certificate)
	Notes    []string `json:"notes,omitempty"`
	// Preflight are the checks before any change (host.plan): OK, WARNING or ERROR each.
	Preflight []preflight.Result `json:"preflight,omitempty"`
	Warnings  []string           `json:"warnings,omitempty"` // what would stop an apply there (a lock, an unfinished run)
	// host.progress
	Step string `json:"step,omitempty"`
	// host.done, host.rollback, batch.done, run.done
	Status     string     `json:"status,omitempty"`
	Changed    int        `json:"changed,omitempty"`
	RolledBack bool       `json:"rolled_back,omitempty"`
	Error      string     `json:"error,omitempty"`
	Verified   []Verified `json:"verified,omitempty"`
	DurationMS int64      `json:"duration_ms,omitempty"`
	Counts     *Counts    `json:"counts,omitempty"`
}

// Change is one step of a host's plan.
type Change struct {
	Step    string `json:"step"`
	Action  string `json:"action"` // noop, create, update, delete, run
	Summary string `json:"summary"`
	Diff    string `json:"diff,omitempty"`
}

// Verified is one application proved through the proxy.
type Verified struct {
	App     string   `json:"app"`
	BaseURL string   `json:"base_url"`
	Chain   []string `json:"chain"`
	// AppBaseURL is the Base URL the application reports (Jira); Set says frontdoor set it.
	AppBaseURL string `json:"app_base_url,omitempty"`
	Set        bool   `json:"base_url_set,omitempty"`
	// Manual says the Base URL cannot be read remotely: Note says where to check it.
	Manual bool   `json:"manual_check,omitempty"`
	Note   string `json:"note,omitempty"`
	// Node: a Data Center cluster's node, checked on itself (BaseURL is then the app's own
	// address on the node, reached through its SSH connection), not through a proxy.
	Node string `json:"node,omitempty"`
}

// Counts tally hosts by outcome, for a batch or the whole run.
type Counts struct {
	Hosts      int `json:"hosts"`
	OK         int `json:"ok"`
	Changed    int `json:"changed"`
	Failed     int `json:"failed"`
	RolledBack int `json:"rolled_back"`
	Skipped    int `json:"skipped"`
}

// Emitter stamps events (schema version, sequence, time, run) and hands them to every sink in
// order; it is safe for concurrent hosts.
type Emitter struct {
	run   string
	shard string
	mu    sync.Mutex
	seq   int
	sinks []func(Event)
	// Explain, if set, renders errors in events with what to do about them (the CLI's words).
	Explain func(error) string
}

// NewEmitter emits the events of run to sinks.
func NewEmitter(run string, sinks ...func(Event)) *Emitter {
	return &Emitter{run: run, sinks: sinks}
}

// SetShard stamps every later event with shard ("i/n").
func (em *Emitter) SetShard(shard string) {
	em.mu.Lock()
	em.shard = shard
	em.mu.Unlock()
}

// Emit sends e to every sink.
func (em *Emitter) Emit(e Event) {
	em.mu.Lock()
	defer em.mu.Unlock()
	em.seq++
	e.V, e.Seq, e.Run, e.Shard = SchemaVersion, em.seq, em.run, em.shard
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	for _, s := range em.sinks {
		s(e)
	}
}

// JSONLines is a sink that writes one JSON object per line.
func JSONLines(w io.Writer) func(Event) {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return func(e Event) { enc.Encode(e) }
}
