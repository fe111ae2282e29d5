package fleet

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/frontdoor-dev/frontdoor/distro"
	"github.com/frontdoor-dev/frontdoor/playbooks"
	"github.com/frontdoor-dev/frontdoor/session"
	"github.com/frontdoor-dev/frontdoor/steps"
	"github.com/frontdoor-dev/frontdoor/target"
)

// Undo undoes a past run on hosts from the journals the run left on them: it works for a run that
// finished, failed, or whose controller was killed. Each host is locked (a stale lock of the run
// being undone is taken over), checked for drift (files changed since the run wrote them: refused
// unless Force), restored in reverse, its services returned to their state, and the result
// re-read and compared with the originals.
type Undo struct {
	Hosts  []*playbooks.Host
	Opts   session.Options
	Forks  int
	Target string // the run to undo
	Force  bool   // restore over drift
	Emit   *Emitter
	Owner  Owner // this rollback's own run
	// Rolling, when the run's playbook has Data Center clusters, rolls their nodes back one at a
	// time, out of their balancers first, and their balancers after them (Hosts in its Order).
	Rolling *session.Rolling
}

// Run undoes Target on every host and reports each.
func (u *Undo) Run(ctx context.Context) *Result {
	res := &Result{Status: RunOK}
	for _, h := range u.Hosts {
		res.Hosts = append(res.Hosts, &HostResult{Host: h.Name})
	}
	Each(len(u.Hosts), u.Forks, func(i int) {
		hr := res.Hosts[i]
		start := time.Now()
		// A balancer after its nodes (an undo goes on whatever its nodes' ends were); after a
		// Ctrl-C no host starts.
		if err := cmp.Or(u.Rolling.WaitNodes(ctx, hr.Host, nil), ctx.Err()); err != nil {
			hr.Status, hr.Err = StatusFailed, err
			u.Emit.Emit(Event{Type: HostRollback, Host: hr.Host, Status: StatusFailed, Error: err.Error()})
			u.Rolling.Done(hr.Host, nil)
			return
		}
		status, err := u.host(ctx, u.Hosts[i])
		u.Rolling.Done(hr.Host, nil)
		hr.Status, hr.Err = status, err
		hr.RolledBack = status == StatusRolledBack
		e := Event{Type: HostRollback, Host: hr.Host, Status: status, DurationMS: time.Since(start).Milliseconds()}
		if errors.Is(err, errAlready) {
			e.Step, err = "already rolled back", nil
			hr.Err = nil
		}
		e.Error = u.Emit.explain(err)
		u.Emit.Emit(e)
	})
	for _, hr := range res.Hosts {
		res.Counts.Hosts++
		switch hr.Status {
		case StatusRolledBack:
			res.Counts.RolledBack++
		case StatusNothing:
			res.Counts.OK++
		default:
			res.Counts.Failed++
		}
	}
	if res.Counts.Failed > 0 {
		res.Status = RunFailed
	}
	return res
}

func (u *Undo) host(ctx context.Context, h *playbooks.Host) (string, error) {
	c, err := session.Connect(ctx, h, u.Opts)
	if err != nil {
		return StatusFailed, err
	}
	defer c.Close()
	say := func(msg string) { u.Emit.Emit(Event{Type: HostProgress, Host: h.Name, Step: msg}) }
	me := u.Owner.String()
	// Take the lock; a stale lock left by the run being undone is taken over in the same command.
	win := playbooks.DefaultWinTarget()
	f, err := session.Gather(ctx, c, distro.Request{Lock: me}, win)
	if err != nil {
		return StatusFailed, err
	}
	if p := f.StateDirProblems; len(p) > 0 {
		return StatusFailed, &session.UnsafeStateError{Host: h.Name, Problems: p}
	}
	if !f.LockAcquired {
		holder := ParseOwner(f.LockHolder)
		stale, _ := holder.Stale()
		if holder.Run != u.Target || !(stale || u.Force) {
			return StatusFailed, LockError(h.Name, holder)
		}
		say("take over the stale lock of run " + u.Target)
		win.Known = f.Dialect() == target.Windows
		if _, err := c.Run(ctx, distro.UnlockCommand(f.Family, f.LockHolder, true), nil); err != nil {
			return StatusFailed, fmt.Errorf("%s: the lock changed while taking it over: %w", h.Name, err)
		}
		if f, err = session.Gather(ctx, c, distro.Request{Lock: me}, win); err != nil {
			return StatusFailed, err
		}
		if !f.LockAcquired {
			return StatusFailed, LockError(h.Name, ParseOwner(f.LockHolder))
		}
	}
	c.SetSFTPServer(f.SFTPServer)
	d := f.Dialect()
	defer c.Run(context.WithoutCancel(ctx), distro.UnlockCommand(f.Family, me, false), nil)

	switch f.Runs[u.Target] {
	case "":
		return StatusNothing, nil
	case StateRolledBack:
		return StatusNothing, errAlready
	}
	hj, j, err := LoadJournal(ctx, c, u.Target, d)
	if err != nil {
		return StatusFailed, err
	}
	if hj == nil {
		return StatusNothing, nil
	}
	say("check for drift")
	drift, err := j.Drift(ctx, c)
	if err != nil {
		return StatusFailed, err
	}
	if len(drift) > 0 && !u.Force {
		return StatusFailed, &DriftError{Host: h.Name, Run: u.Target, Drift: drift}
	}
	say("restore")
	ctx = context.WithoutCancel(ctx)
	err = u.Rolling.Undo(ctx, h.Name, say, func(ctx context.Context) error {
		if err := j.Rollback(ctx, c); err != nil {
			return err
		}
		say("check the restored files")
		return j.CheckRestored(ctx, c)
	})
	state, status := StateRolledBack, StatusRolledBack
	if err != nil {
		state, status = StateRollbackFailed, StatusRollbackFail
	}
	if serr := SetState(ctx, c, hj, state, d); serr != nil && err == nil {
		return StatusRollbackFail, serr
	}
	if err != nil {
		return status, &steps.RollbackError{Host: h.Name, Run: u.Target, Rollback: err}
	}
	return status, nil
}

// errAlready marks a host where the run was already undone: not a failure.
var errAlready = errors.New("already rolled back")

// Unlock breaks a host's lock: only a stale one, unless force.
func Unlock(ctx context.Context, c target.Conn, force bool) (string, error) {
	f, err := session.Gather(ctx, c, distro.Request{}, playbooks.DefaultWinTarget())
	if err != nil {
		return "", err
	}
	if f.LockHolder == "" {
		return "not locked", nil
	}
	o := ParseOwner(f.LockHolder)
	if stale, why := o.Stale(); !stale && !force {
		return "", &LockedError{Host: c.Name(), Holder: o, Why: why}
	}
	if _, err := c.Run(ctx, distro.UnlockCommand(f.Family, f.LockHolder, true), nil); err != nil {
		return "", fmt.Errorf("%s: the lock changed while breaking it: %w", c.Name(), err)
	}
	return "broke the lock of " + o.Describe(), nil
}
