package fleet

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/frontdoor-dev/frontdoor/playbooks"
	"github.com/frontdoor-dev/frontdoor/session"
	"github.com/frontdoor-dev/frontdoor/steps"
)

// Rollout applies a playbook to hosts in batches. Each host takes its lock in the gather, keeps
// its journal on the host while it changes, and is rolled back on its own failure. A batch ends
// when all its hosts have ended; if its failures go over MaxFail the rollout stops there, the
// batch's changed hosts are rolled back (unless NoBatchRollback) and later batches are not
// started.
type Rollout struct {
	Playbook *playbooks.Playbook
	Hosts    []*playbooks.Host
	Opts     session.Options
	Forks    int
	Serial   []Size
	// MaxFail is the failure threshold of a batch; nil means none when there is one batch (hosts
	// are independent), and 0 when Serial is set (any failure stops a rolling rollout).
	MaxFail         *Size
	NoBatchRollback bool
	// Prepared are hosts already planned (and shown, and confirmed) by name; each is planned
	// again under its lock and must come out the same. Hosts not in it are planned in their batch.
	Prepared map[string]*session.HostRun
	// Stopping says an interrupt came: no host or step starts after it.
	Stopping func() bool
	Emit     *Emitter
	Owner    Owner
	// Coordinate, when the run is split across controllers (--shard), is called once each batch's
	// hosts have ended, before the batch is rolled back or released: it records this shard's
	// batch and waits for every other shard's, and says whether the whole run must stop there
	// (the failures of all shards over the threshold, or a shard gone) and why.
	Coordinate func(ctx context.Context, batch, hosts, failed int) (stop bool, why string)
	// Inventory is every host of the inventory, by name: a cluster's balancer may be outside
	// --limit and is still drained through (nil: Hosts).
	Inventory map[string]*playbooks.Host
	stopWhy   string
}

// HostResult is where one host ended.
type HostResult struct {
	Host       string
	Batch      int
	Status     string
	Changed    int
	RolledBack bool
	Err        error
	Run        *session.HostRun
	store      *Store // the journal kept on the host, when the apply changed something
	finished   bool   // lock released, connection closed
}

// Result is the end of a rollout.
type Result struct {
	Status string
	Counts Counts
	Hosts  []*HostResult // in inventory order
}

// Unfinished names the hosts whose rollback did not complete: their journal still says what to
// undo, and a new run is refused there until it is.
func (r *Result) Unfinished() []string {
	var out []string
	for _, h := range r.Hosts {
		var rbe *steps.RollbackError
		if errors.As(h.Err, &rbe) || h.Status == StatusRollbackFail {
			out = append(out, h.Host)
		}
	}
	return out
}

// Failed names the hosts that did not end verified (for a retry file).
func (r *Result) Failed() []string {
	var out []string
	for _, h := range r.Hosts {
		if h.Status == StatusFailed || h.Status == StatusSkipped || h.RolledBack {
			out = append(out, h.Host)
		}
	}
	return out
}

func (ro *Rollout) stopping() bool { return ro.Stopping != nil && ro.Stopping() }

// Run carries the rollout out and reports every host.
func (ro *Rollout) Run(ctx context.Context) *Result {
	sizes := Batches(len(ro.Hosts), ro.Serial)
	maxFail := ro.MaxFail
	if maxFail == nil && len(ro.Serial) > 0 {
		maxFail = &Size{N: 0}
	}
	hosts := ro.Hosts
	if len(ro.Playbook.Clusters()) > 0 {
		inv := ro.Inventory
		if inv == nil {
			inv = map[string]*playbooks.Host{}
			for _, h := range ro.Hosts {
				inv[h.Name] = h
			}
		}
		var names []string
		for _, h := range ro.Hosts {
			names = append(names, h.Name)
		}
		rolling := session.NewRolling(ro.Playbook, inv, names, ro.Opts)
		defer rolling.Close()
		ro.Opts.Rolling = rolling
		hosts = rolling.Order(ro.Hosts)
	}
	batches := Split(hosts, sizes)
	names := BatchNames(batches)
	res := &Result{Status: RunOK}
	byName := map[string]*HostResult{}
	for _, h := range ro.Hosts {
		hr := &HostResult{Host: h.Name, Status: StatusSkipped}
		byName[h.Name] = hr
		res.Hosts = append(res.Hosts, hr)
	}
	stopped := false
	for b, hosts := range batches {
		batch := b + 1
		if stopped || ro.stopping() {
			for _, h := range hosts {
				hr := byName[h.Name]
				hr.Batch = batch
				ro.closePrepared(h.Name)
				ro.Opts.Rolling.Done(h.Name, nil)
				ro.Emit.Emit(Event{Type: HostDone, Host: h.Name, Batch: batch, Status: StatusSkipped, Error: ro.skipReason(stopped)})
			}
			continue
		}
		ro.Emit.Emit(Event{Type: BatchStart, Batch: batch, Hosts: names[b]})
		exceeded, bc := ro.batch(ctx, batch, hosts, byName, maxFail)
		stopped = exceeded
		ro.Emit.Emit(Event{Type: BatchDone, Batch: batch, Counts: &bc, Status: map[bool]string{true: RunStopped, false: RunOK}[exceeded]})
	}
	for _, hr := range res.Hosts {
		count(&res.Counts, hr)
	}
	switch {
	case ro.stopping():
		res.Status = RunInterrupted
	case stopped:
		res.Status = RunStopped
	case res.Counts.Failed > 0:
		res.Status = RunFailed
	}
	return res
}

// batch runs one batch's hosts (at most Forks at once) and ends it: rolled back as a whole when
// its failures exceed maxFail (unless NoBatchRollback), locks released, connections closed.
func (ro *Rollout) batch(ctx context.Context, batch int, hosts []*playbooks.Host, byName map[string]*HostResult, maxFail *Size) (bool, Counts) {
	var mu sync.Mutex
	failed, exceeded := 0, false
	Each(len(hosts), ro.Forks, func(i int) {
		h := hosts[i]
		hr := byName[h.Name]
		hr.Batch = batch
		mu.Lock()
		// Only a host that waited for a fork slot is held back by the threshold: the first Forks
		// hosts of a batch start together, whichever of them fails first (otherwise which hosts
		// run would depend on how goroutines happen to be scheduled).
		skip := exceeded && i >= max(ro.Forks, 1)
		mu.Unlock()
		if skip || ro.stopping() {
			ro.closePrepared(h.Name)
			ro.Opts.Rolling.Done(h.Name, nil)
			ro.Emit.Emit(Event{Type: HostDone, Host: h.Name, Batch: batch, Status: StatusSkipped, Error: ro.skipReason(skip)})
			return
		}
		ro.host(ctx, h, hr)
		ro.Opts.Rolling.Done(h.Name, hr.Err)
		if hr.Status == StatusOK {
			// Nothing changed there, so a failed batch has nothing to undo on it: its lock and
			// connection go now rather than at the batch's end, so a converged batch of a
			// thousand hosts does not hold a thousand connections (descriptors and memory).
			ro.finish(ctx, batch, hr)
		}
		if hr.Status == StatusFailed {
			mu.Lock()
			failed++
			// Split across shards, a percentage is of the whole run's batch, which only the
			// shards together know: this shard's own share may be over it while the batch is not.
			// An absolute count over it here is over it for the run too.
			if maxFail != nil && maxFail.Exceeded(failed, len(hosts)) && (ro.Coordinate == nil || !maxFail.Percent) {
				exceeded = true
			}
			mu.Unlock()
		}
	})
	if ro.Coordinate != nil {
		// The shards' common verdict alone stops the run, so that they all stop or go on together.
		stop, why := ro.Coordinate(ctx, batch, len(hosts), failed)
		exceeded = stop
		if stop && ro.stopWhy == "" {
			ro.stopWhy = why
		}
	}
	var bc Counts
	if exceeded {
		if !ro.NoBatchRollback {
			ro.rollbackBatch(ctx, hosts, byName)
		}
	}
	for _, h := range hosts {
		hr := byName[h.Name]
		ro.finish(ctx, batch, hr)
		count(&bc, hr)
	}
	return exceeded, bc
}

// finish releases a host's lock and closes its connection, once.
func (ro *Rollout) finish(ctx context.Context, batch int, hr *HostResult) {
	if hr.Run == nil || hr.finished {
		return
	}
	hr.finished = true
	if err := hr.Run.Release(context.WithoutCancel(ctx)); err != nil {
		ro.Emit.Emit(Event{Type: HostProgress, Host: hr.Host, Batch: batch, Step: "release the lock", Error: err.Error()})
	}
	hr.Run.Close()
}

func (ro *Rollout) skipReason(stopped bool) string {
	if ro.stopping() {
		return "not started: interrupted"
	}
	if stopped && ro.stopWhy != "" {
		return "not started: " + ro.stopWhy
	}
	if stopped {
		return ro.Emit.explain(ErrStoppedAtMaxFail)
	}
	return ""
}

func (ro *Rollout) closePrepared(name string) {
	if r := ro.Prepared[name]; r != nil {
		r.Close()
	}
}

func count(c *Counts, hr *HostResult) {
	c.Hosts++
	switch hr.Status {
	case StatusOK:
		c.OK++
	case StatusChanged:
		c.Changed++
	case StatusFailed:
		c.Failed++
	case StatusSkipped:
		c.Skipped++
	}
	if hr.RolledBack {
		c.RolledBack++
	}
}

// host plans (under the lock), applies and verifies one host, keeping its journal on the host.
func (ro *Rollout) host(ctx context.Context, h *playbooks.Host, hr *HostResult) {
	start := time.Now()
	opts := ro.Opts
	opts.Lock = ro.Owner.String()
	opts.Stopping = ro.Stopping
	opts.Progress = func(host, msg string) {
		ro.Emit.Emit(Event{Type: HostProgress, Host: host, Batch: hr.Batch, Step: msg})
	}
	r := ro.Prepared[h.Name]
	if r == nil {
		r = session.Prepare(ctx, ro.Playbook, h, opts)
	} else if r.Err == nil {
		confirmed := session.Fingerprint(r.Plan)
		r.Replan(ctx, opts)
		if r.Err == nil && session.Fingerprint(r.Plan) != confirmed {
			r.Err = &PlanChangedError{Host: h.Name}
		}
	}
	hr.Run = r
	if r.Err == nil {
		r.Err = ro.checkLock(r)
	}
	if r.Plan != nil {
		ro.Emit.Emit(PlanEvent(r, hr.Batch, ro.Emit.explain))
	}
	if r.Err == nil && ro.Opts.Rolling != nil {
		// A balancer after its nodes; nothing of a cluster after one of its nodes failed.
		if err := ro.Opts.Rolling.WaitNodes(ctx, h.Name, ro.Stopping); err != nil {
			var cse *session.ClusterStoppedError
			if errors.As(err, &cse) || errors.Is(err, steps.ErrStopped) {
				why := err.Error()
				if errors.Is(err, steps.ErrStopped) {
					why = "not started: interrupted"
				}
				hr.Status, hr.Err = StatusSkipped, nil
				ro.Emit.Emit(Event{Type: HostDone, Host: h.Name, Batch: hr.Batch, Status: StatusSkipped, Error: why})
				return
			}
			r.Err = err
		}
	}
	if r.Err == nil {
		store := NewStore(r.Conn, ro.Owner.Run, ro.Owner, r.Facts.Dialect())
		r.Store, hr.store = store, store
		r.Apply(ctx)
		if r.Installed {
			// The plan confirmed was the install alone; the rest, planned from the installed
			// files, is recorded (ledger, report, output) as the whole apply's plan.
			ro.Emit.Emit(PlanEvent(r, hr.Batch, ro.Emit.explain))
		}
		var rbe *steps.RollbackError
		if errors.As(r.Err, &rbe) {
			rbe.Run = ro.Owner.Run
		}
		state := StateApplied
		switch {
		case r.Outcome.RolledBack:
			state = StateRolledBack
		case r.Err != nil:
			state = StateRollbackFailed
		}
		if err := store.Finish(context.WithoutCancel(ctx), state); err != nil && r.Err == nil {
			r.Err = fmt.Errorf("record the run's end in %s: %w", RunDir(ro.Owner.Run, store.d), err)
		}
	}
	hr.Changed, hr.RolledBack, hr.Err = r.Outcome.Changed, r.Outcome.RolledBack, r.Err
	var cse *session.ClusterStoppedError
	if errors.As(r.Err, &cse) && r.Outcome.Changed == 0 {
		// Its cluster stopped while it waited for its turn: not started, nothing changed.
		hr.Status, hr.Err = StatusSkipped, nil
		ro.Emit.Emit(Event{Type: HostDone, Host: h.Name, Batch: hr.Batch, Status: StatusSkipped, Error: r.Err.Error()})
		return
	}
	switch {
	case r.Err != nil:
		hr.Status = StatusFailed
	case r.Outcome.Changed > 0:
		hr.Status = StatusChanged
	default:
		hr.Status = StatusOK
	}
	e := Event{Type: HostDone, Host: h.Name, Batch: hr.Batch, Status: hr.Status, Changed: hr.Changed, RolledBack: hr.RolledBack,
		DurationMS: time.Since(start).Milliseconds()}
	e.Error = ro.Emit.explain(r.Err)
	e.Verified = VerifiedOf(ro.Playbook, r)
	ro.Emit.Emit(e)
}

// VerifiedOf describes what a host run proved through the proxy, app by app.
func VerifiedOf(pb *playbooks.Playbook, r *session.HostRun) []Verified {
	var out []Verified
	for _, v := range r.Verified {
		base := v.URL
		if base == "" {
			for _, a := range pb.Apps {
				if a.Name == v.App {
					base = a.PublicFor(r.Host.Name).BaseURL
				}
			}
		}
		out = append(out, Verified{App: v.App, BaseURL: base, Chain: v.Chain, Node: v.Node,
			AppBaseURL: v.AppBaseURL, Set: v.BaseURLSet, Manual: v.BaseURLManual, Note: v.BaseURLNote})
	}
	return out
}

// checkLock refuses a host whose lock another run holds, or that still has an unfinished run.
func (ro *Rollout) checkLock(r *session.HostRun) error {
	if p := r.Facts.StateDirProblems; len(p) > 0 {
		return &session.UnsafeStateError{Host: r.Host.Name, Problems: p}
	}
	if !r.Locked() {
		return LockError(r.Host.Name, ParseOwner(r.Facts.LockHolder))
	}
	if st, ok := r.Facts.Runs[ro.Owner.Run]; ok {
		// This process has written nothing there yet: the id was given again (--run-id), and
		// a new journal would overwrite the one a rollback of that run needs.
		return fmt.Errorf("%s: run %s already has a journal on this host (%s, %s): a run id is used once; apply again with a new --run-id, or none", r.Host.Name, ro.Owner.Run, st, RunDir(ro.Owner.Run, r.Facts.Dialect()))
	}
	var open []string
	for id, st := range r.Facts.Runs {
		if st == StateApplying || st == StateRollbackFailed {
			open = append(open, id)
		}
	}
	sort.Strings(open)
	if len(open) > 0 {
		return &session.UnfinishedError{Host: r.Host.Name, Run: open[0], State: r.Facts.Runs[open[0]], Dir: RunDir(open[0], r.Facts.Dialect())}
	}
	return nil
}

// rollbackBatch undoes the hosts of a stopped batch that changed and verified: they ran fine,
// but the batch as a whole did not. Balancers go after every node of the batch: a balancer's
// rollback reloads its Apache, which would put back in service a node drained there for its own
// rollback.
func (ro *Rollout) rollbackBatch(ctx context.Context, hosts []*playbooks.Host, byName map[string]*HostResult) {
	ctx = context.WithoutCancel(ctx)
	var nodes, balancers []*HostResult
	for _, h := range hosts {
		if ro.Opts.Rolling.IsBalancer(h.Name) {
			balancers = append(balancers, byName[h.Name])
		} else {
			nodes = append(nodes, byName[h.Name])
		}
	}
	for _, pass := range [][]*HostResult{nodes, balancers} {
		Each(len(pass), ro.Forks, func(i int) { ro.rollbackHost(ctx, pass[i]) })
	}
}

// rollbackHost undoes one host of a stopped batch, if it changed.
func (ro *Rollout) rollbackHost(ctx context.Context, hr *HostResult) {
	r := hr.Run
	if hr.Status != StatusChanged || r == nil || r.Outcome.Journal == nil {
		return
	}
	ro.Emit.Emit(Event{Type: HostProgress, Host: hr.Host, Batch: hr.Batch, Step: "roll back (the batch failed)"})
	j := r.Outcome.Journal
	say := func(msg string) { ro.Emit.Emit(Event{Type: HostProgress, Host: hr.Host, Batch: hr.Batch, Step: msg}) }
	// A cluster's node restarts as in a rolling apply: one at a time, out of its balancers.
	err := ro.Opts.Rolling.Undo(ctx, hr.Host, say, func(ctx context.Context) error {
		if err := j.Rollback(ctx, r.Conn); err != nil {
			return err
		}
		return j.CheckRestored(ctx, r.Conn)
	})
	state, status := StateRolledBack, StatusRolledBack
	if err != nil {
		state, status = StateRollbackFailed, StatusRollbackFail
	}
	if hr.store != nil {
		if ferr := hr.store.Finish(ctx, state); ferr != nil && err == nil {
			err = ferr
		}
	}
	hr.RolledBack = err == nil
	e := Event{Type: HostRollback, Host: hr.Host, Batch: hr.Batch, Status: status}
	if err != nil {
		// Half-changed: counted as failed, named for the undo, kept out of a plain retry.
		hr.Status, hr.Err = StatusFailed, &steps.RollbackError{Host: hr.Host, Run: ro.Owner.Run, Rollback: err}
		e.Error = ro.Emit.explain(hr.Err)
	}
	ro.Emit.Emit(e)
}

// PlanEvent describes a host's plan as a host.plan event.
// explain renders the warnings (nil: as they are).
func PlanEvent(r *session.HostRun, batch int, explain func(error) string) Event {
	e := Event{Type: HostPlan, Host: r.Host.Name, Batch: batch, Address: r.Host.Address, Platform: r.Facts.Describe(), Notes: r.Notes, Preflight: r.Preflight}
	for _, w := range r.Warnings {
		if explain != nil {
			e.Warnings = append(e.Warnings, explain(w))
		} else {
			e.Warnings = append(e.Warnings, w.Error())
		}
	}
	for i, s := range r.Plan.Steps {
		c := r.Plan.Changes[i]
		e.Changes = append(e.Changes, Change{Step: s.Name(), Action: c.Action.Name(), Summary: c.Summary, Diff: c.Diff})
	}
	for _, s := range r.Plan.Triggered() {
		if r.Plan.Reloads(s) && s.WasRunning {
			e.Reloads = append(e.Reloads, s.Name)
		} else {
			e.Restarts = append(e.Restarts, s.Name)
		}
	}
	return e
}

// Split cuts hosts into consecutive batches of the given sizes (as Batches gives them).
func Split(hosts []*playbooks.Host, sizes []int) [][]*playbooks.Host {
	var out [][]*playbooks.Host
	i := 0
	for _, n := range sizes {
		out = append(out, hosts[i:i+n])
		i += n
	}
	return out
}

// BatchNames are the names of each batch's hosts.
func BatchNames(batches [][]*playbooks.Host) [][]string {
	var out [][]string
	for _, b := range batches {
		var ns []string
		for _, h := range b {
			ns = append(ns, h.Name)
		}
		out = append(out, ns)
	}
	return out
}

// Each runs f for 0..n-1, at most forks at once.
func Each(n, forks int, f func(i int)) {
	if forks < 1 {
		forks = 1
	}
	sem := make(chan struct{}, forks)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			f(i)
		}()
	}
	wg.Wait()
}
