package main

import (
	"errors"
	"fmt"

	"github.com/frontdoor-dev/frontdoor/fleet"
	"github.com/frontdoor-dev/frontdoor/session"
)

// explain renders an error with what to run about it: the packages below say what happened,
// and only the CLI names its own commands and flags.
func explain(err error) string {
	if err == nil {
		return ""
	}
	var (
		le *fleet.LockedError
		ue *session.UnfinishedError
		de *fleet.DriftError
		pe *fleet.PlanChangedError
	)
	switch {
	case errors.As(err, &le) && le.Stale:
		return fmt.Sprintf("%s: undo that run with: frontdoor rollback %s -i INVENTORY --limit %s (or break the lock with: frontdoor unlock -i INVENTORY --limit %s)",
			err, le.Holder.Run, le.Host, le.Host)
	case errors.As(err, &ue) && ue.Dir == "":
		return fmt.Sprintf("%s: undo it with frontdoor rollback %s before applying", err, ue.Run)
	case errors.As(err, &ue):
		return fmt.Sprintf("%s: undo it first with: frontdoor rollback %s -i INVENTORY --limit %s", err, ue.Run, ue.Host)
	case errors.As(err, &de):
		return fmt.Sprintf("%s; look at them, then roll back with --force to restore the originals over those changes", err)
	case errors.As(err, &pe):
		return fmt.Sprintf("%s: run again to see the new plan", err)
	}
	return err.Error()
}
