package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/frontdoor-dev/frontdoor/fleet"
	"github.com/frontdoor-dev/frontdoor/session"
	"github.com/frontdoor-dev/frontdoor/ssh"
	"github.com/frontdoor-dev/frontdoor/steps"
	"github.com/frontdoor-dev/frontdoor/steps/xmledit"
	"github.com/frontdoor-dev/frontdoor/target"
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
		uh *ssh.UnknownHostError
		hk *ssh.HostKeyError
		ph *xmledit.PlaceholderError
		rb *steps.RollbackError
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
	case errors.As(err, &rb) && rb.Run != "":
		return fmt.Sprintf("%s\nThe host keeps the run's journal: once it is reachable (or fixed), finish the undo with: frontdoor rollback %s -i INVENTORY --limit %s",
			err, rb.Run, rb.Host)
	case strings.Contains(err.Error(), "administratively prohibited"):
		return fmt.Sprintf("%s: the host's sshd refuses TCP forwarding (AllowTcpForwarding no), through which --set-base-url sends the admin's credentials: allow it for this user (Match User ... AllowTcpForwarding local), or set the Base URL in the application", err)
	case errors.Is(err, fleet.ErrStoppedAtMaxFail):
		return "not started: the rollout stopped at --max-fail"
	case errors.As(err, &uh) && uh.Key == "":
		return fmt.Sprintf("%s: give --known-hosts FILE, or --accept-new-host-keys to record the keys of new hosts", err)
	case errors.As(err, &uh):
		return fmt.Sprintf("%s, or pass --accept-new-host-keys to record it", err)
	case errors.As(err, &hk):
		return fmt.Sprintf("%s (and connect again with --accept-new-host-keys)", err)
	case errors.As(err, &ph):
		return fmt.Sprintf("%s, or set replace_placeholders: true in the playbook to overwrite it", err)
	case errors.Is(err, target.ErrNoSpace):
		return fmt.Sprintf("%s: free space on that filesystem of the host, then apply again", err)
	}
	return err.Error()
}
