package fleet

import (
	"errors"
	"fmt"
	"strings"
)

// The refusals below say what happened; what to run about it (commands and flags) is the CLI's
// to say (cmd/frontdoor explains them).

// LockedError is a host whose lock another run holds.
type LockedError struct {
	Host   string
	Holder Owner
	// Stale: the holder is known to be gone; Why says how that was judged.
	Stale bool
	Why   string
}

func (e *LockedError) Error() string {
	msg := fmt.Sprintf("%s is locked by %s; %s", e.Host, e.Holder.Describe(), e.Why)
	if e.Stale {
		return msg + ". The lock is stale"
	}
	return msg + ": nothing was changed; wait for that run to end"
}

// LockError judges the holder of host's lock and returns the refusal.
func LockError(host string, o Owner) *LockedError {
	stale, why := o.Stale()
	return &LockedError{Host: host, Holder: o, Stale: stale, Why: why}
}

// DriftError is a rollback refused because files changed after the run wrote them.
type DriftError struct {
	Host, Run string
	Drift     []string
}

func (e *DriftError) Error() string {
	return fmt.Sprintf("%s: refusing to roll back run %s: %s. Someone or something changed these files after the run", e.Host, e.Run, strings.Join(e.Drift, "; "))
}

// PlanChangedError is a host whose plan, made again under its lock, is not the one confirmed.
type PlanChangedError struct{ Host string }

func (e *PlanChangedError) Error() string {
	return e.Host + " changed since the plan you confirmed; nothing was applied"
}

// ErrStoppedAtMaxFail is why a host of a later batch was not started.
var ErrStoppedAtMaxFail = errors.New("not started: the rollout stopped: a batch's failures went over its threshold")

// explain renders err for an event: through the Emitter's Explain when the CLI set one.
func (em *Emitter) explain(err error) string {
	if err == nil {
		return ""
	}
	if em.Explain != nil {
		return em.Explain(err)
	}
	return err.Error()
}
