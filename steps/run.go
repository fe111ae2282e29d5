package steps

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/frontdoor-dev/frontdoor/target"
)

// Plan is what would change on one host: every step with its Change, and the services the
// changing steps trigger.
type Plan struct {
	Host     string
	Steps    []Step
	Changes  []Change
	Services []*Service
}

// MakePlan runs every Check. It changes nothing.
func MakePlan(ctx context.Context, h target.Host, steps []Step, services []*Service) (*Plan, error) {
	p := &Plan{Host: h.Name(), Steps: steps, Services: services}
	for _, s := range steps {
		ch, err := s.Check(ctx, h)
		if err != nil {
			return nil, fmt.Errorf("%s: check %s: %w", h.Name(), s.Name(), err)
		}
		p.Changes = append(p.Changes, ch)
	}
	return p, nil
}

// Pending counts the steps that would change something.
func (p *Plan) Pending() int {
	n := 0
	for _, c := range p.Changes {
		if c.Action != NoOp {
			n++
		}
	}
	return n
}

// Triggered returns the services that pending steps trigger, in the plan's service order.
func (p *Plan) Triggered() []*Service {
	want := map[string]bool{}
	for i, s := range p.Steps {
		if p.Changes[i].Action != NoOp {
			for _, t := range s.Triggers() {
				want[t] = true
			}
		}
	}
	var out []*Service
	for _, s := range p.Services {
		if want[s.Name] || want[s.Name+ReloadTrigger] {
			out = append(out, s)
		}
	}
	return out
}

// Reloads says that the pending steps ask only for a reload of s (and s can reload): no other
// change needs it restarted.
func (p *Plan) Reloads(s *Service) bool {
	if s.Reload == "" {
		return false
	}
	reload := false
	for i, st := range p.Steps {
		if p.Changes[i].Action == NoOp {
			continue
		}
		for _, t := range st.Triggers() {
			if t == s.Name {
				return false
			}
			reload = reload || t == s.Name+ReloadTrigger
		}
	}
	return reload
}

// Hooks are the parts of a run that need more than the plan.
type Hooks struct {
	// Recheck gathers the facts again and plans again; after apply it must find nothing to do.
	Recheck func(ctx context.Context) (*Plan, error)
	// Verify proves the result (the Base URL through the proxy).
	Verify func(ctx context.Context) error
	// Progress, if set, is told each phase as it starts ("stop jira", "apply: ...").
	Progress func(msg string)
	// Store, if set, keeps the journal on the host as it grows (see JournalStore).
	Store JournalStore
	// Dialect is the host's (on Windows a rollback is checked on the files' bytes alone).
	Dialect target.Dialect
	// Stopping, if set, is asked before each step and phase: once it says yes, no further change
	// starts and the host is rolled back. The command in flight is left to finish.
	Stopping func() bool
	// Journal, if set, is the journal to go on with (an apply that installed Apache first): a
	// failure rolls back its records too. Store and Dialect are then the journal's own.
	Journal *Journal
}

// RollbackError is a failure whose rollback did not complete: the host is half-changed, and its
// journal (kept on the host) says what is left to undo. Run, when known, names the run to undo.
type RollbackError struct {
	Host, Run string
	Cause     error // what failed (nil: the rollback was asked for, e.g. by a failed batch)
	Rollback  error // what the rollback could not do
}

func (e *RollbackError) Error() string {
	if e.Cause == nil {
		return fmt.Sprintf("ROLLBACK INCOMPLETE on %s: %v", e.Host, e.Rollback)
	}
	return fmt.Sprintf("%v\nROLLBACK INCOMPLETE on %s: %v", e.Cause, e.Host, e.Rollback)
}

func (e *RollbackError) Unwrap() error { return e.Cause }

// ErrStopped is the failure of an apply that was asked to stop.
var ErrStopped = errors.New("stopped by an interrupt before it finished")

// Outcome is what Apply did to a host.
type Outcome struct {
	Changed    int
	RolledBack bool
	Journal    *Journal
}

// Apply applies the plan: stops the triggered apps, applies the pending steps, validates and
// restarts the triggered proxy, starts the apps and waits for them, re-checks that nothing is left
// to do, and verifies. Any failure after the first change rolls the host back. A plan with nothing
// pending touches nothing (no restart) and only verifies.
func Apply(ctx context.Context, h target.Host, p *Plan, hooks Hooks) (Outcome, error) {
	say := func(format string, a ...any) {
		if hooks.Progress != nil {
			hooks.Progress(fmt.Sprintf(format, a...))
		}
	}
	out := Outcome{Journal: hooks.Journal}
	if out.Journal == nil {
		out.Journal = &Journal{Store: hooks.Store, Dialect: hooks.Dialect}
	}
	var err error
	if p.Pending() == 0 {
		if hooks.Verify != nil {
			err = hooks.Verify(ctx)
		}
	} else {
		err = apply(ctx, h, p, hooks, out.Journal, say, &out.Changed)
	}
	if err == nil || out.Journal.Empty() {
		return out, err
	}
	say("rolling back")
	// Roll back even if the run was cancelled: a half-changed host is worse than a late stop.
	rbErr := out.Journal.Rollback(context.WithoutCancel(ctx), h)
	if rbErr != nil {
		return out, &RollbackError{Host: h.Name(), Cause: err, Rollback: rbErr}
	}
	out.RolledBack = true
	return out, fmt.Errorf("%w (rolled back)", err)
}

// applyRun is one apply in progress: the host, the plan, the journal and the phases' helpers.
type applyRun struct {
	h       target.Host
	p       *Plan
	hooks   Hooks
	j       *Journal
	say     func(string, ...any)
	changed *int
}

func (a *applyRun) stop() error {
	if a.hooks.Stopping != nil && a.hooks.Stopping() {
		return ErrStopped
	}
	return nil
}

func apply(ctx context.Context, h target.Host, p *Plan, hooks Hooks, j *Journal, say func(string, ...any), changed *int) error {
	a := &applyRun{h: h, p: p, hooks: hooks, j: j, say: say, changed: changed}
	triggered := p.Triggered()
	for _, phase := range []func(context.Context, []*Service) error{a.stopApps, a.applySteps, a.restartProxies, a.startApps, a.recheckAndVerify} {
		if err := phase(ctx, triggered); err != nil {
			return err
		}
	}
	return nil
}

// stopApps stops the apps whose configuration changes (the guide's Part A step 1).
func (a *applyRun) stopApps(ctx context.Context, triggered []*Service) error {
	for _, s := range triggered {
		if err := a.stop(); err != nil {
			return err
		}
		if s.Kind == App && s.WasRunning {
			a.say("stop %s", s.Name)
			// Journaled before the stop: a stop whose answer is lost (the link cut while it ran)
			// may still have stopped the app, and only the journal on the host says to start it
			// again. A stop that failed is undone by making sure the app runs (Service.restore).
			if err := a.j.TouchService(ctx, s); err != nil {
				return err
			}
			if err := s.run(ctx, a.h, "stop", s.Stop); err != nil {
				return err
			}
		}
	}
	return nil
}

// applySteps applies every pending step, each journaling its undo first.
func (a *applyRun) applySteps(ctx context.Context, _ []*Service) error {
	for i, s := range a.p.Steps {
		if a.p.Changes[i].Action == NoOp {
			continue
		}
		if err := a.stop(); err != nil {
			return err
		}
		a.say("apply %s", s.Name())
		if err := s.Apply(ctx, a.h, a.j); err != nil {
			return fmt.Errorf("apply %s: %w", s.Name(), err)
		}
		*a.changed++
	}
	return nil
}

// restartProxies validates the proxy's new configuration, then restarts (or starts) it.
func (a *applyRun) restartProxies(ctx context.Context, triggered []*Service) error {
	for _, s := range triggered {
		if s.Kind != Proxy {
			continue
		}
		if err := a.stop(); err != nil {
			return err
		}
		a.say("check the configuration of %s", s.Name)
		if err := s.run(ctx, a.h, "check the new configuration of", s.Validate); err != nil {
			return err
		}
		if err := a.j.TouchService(ctx, s); err != nil {
			return err
		}
		switch {
		case s.WasRunning && a.p.Reloads(s):
			a.say("reload %s", s.Name)
			if err := s.run(ctx, a.h, "reload", s.Reload); err != nil {
				return err
			}
		case s.WasRunning:
			a.say("restart %s", s.Name)
			if err := s.restart(ctx, a.h); err != nil {
				return err
			}
		default:
			a.say("restart %s", s.Name)
			if err := s.run(ctx, a.h, "start", s.Start); err != nil {
				return err
			}
		}
		if s.Settle != "" {
			if err := a.stop(); err != nil {
				return err
			}
			a.say("wait for %s to settle", s.Name)
			if err := s.run(ctx, a.h, "wait for", s.Settle); err != nil {
				return err
			}
		}
	}
	return nil
}

// startApps starts the changed apps and waits until they answer.
func (a *applyRun) startApps(ctx context.Context, triggered []*Service) error {
	for _, s := range triggered {
		if s.Kind != App {
			continue
		}
		if err := a.stop(); err != nil {
			return err
		}
		if err := a.j.TouchService(ctx, s); err != nil {
			return err
		}
		a.say("start %s", s.Name)
		if err := s.run(ctx, a.h, "start", s.Start); err != nil {
			return err
		}
		if err := a.stop(); err != nil {
			return err
		}
		a.say("wait for %s", s.Name)
		if err := s.run(ctx, a.h, "wait for", s.Ready); err != nil {
			return err
		}
	}
	return nil
}

// recheckAndVerify plans again (nothing may be left to do) and proves the result.
func (a *applyRun) recheckAndVerify(ctx context.Context, _ []*Service) error {
	if err := a.stop(); err != nil {
		return err
	}
	if a.hooks.Recheck != nil {
		a.say("re-check")
		p2, err := a.hooks.Recheck(ctx)
		if err != nil {
			return fmt.Errorf("re-check after apply: %w", err)
		}
		if n := p2.Pending(); n > 0 {
			var names []string
			for i, c := range p2.Changes {
				if c.Action != NoOp {
					names = append(names, p2.Steps[i].Name()+" ("+c.Summary+")")
				}
			}
			return errors.New("inconsistent result after apply: still pending: " + strings.Join(names, "; "))
		}
	}
	if a.hooks.Verify != nil {
		a.say("verify")
		if err := a.hooks.Verify(ctx); err != nil {
			return err
		}
	}
	return nil
}
