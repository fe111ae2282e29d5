package main

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/frontdoor-dev/frontdoor/fleet"
	"github.com/frontdoor-dev/frontdoor/ledger"
	"github.com/frontdoor-dev/frontdoor/report"
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
		return fmt.Sprintf("%s: undo it with frontdoor rollback %s -i INVENTORY --limit %s before applying", err, ue.Run, ue.Host)
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

// retryAdvice says how to run again the hosts that did not end verified.
func retryAdvice(retry string) string {
	return "retry those hosts with --limit @" + retry
}

// halfChangedAdvice names the hosts a failed undo left half-changed and how to finish it.
func halfChangedAdvice(run string, hosts []string) string {
	return fmt.Sprintf("%s left half-changed: first finish the undo with: frontdoor rollback %s -i INVENTORY --limit %s",
		strings.Join(hosts, ", "), run, strings.Join(hosts, ","))
}

// unfinishedRunAdvice is what to do about a run the ledger saw start and never end.
func unfinishedRunAdvice(run string) string {
	return fmt.Sprintf("the ledger has no end for this run: its controller was killed or is still running; if it is gone, undo it with: frontdoor rollback %s -i INVENTORY", run)
}

// runAdvice is what the report says about a recorded run as a whole.
func runAdvice(r *ledger.Run) string {
	if r.Status == "running" {
		return unfinishedRunAdvice(r.ID)
	}
	return ""
}

// hostRecovery is what to do about a host of a recorded run that did not end verified: the
// sentence the run's own output said, and the command written out with the inventory, playbook
// and retry file the ledger recorded.
func hostRecovery(r *ledger.Run, h *ledger.Host) report.Recovery {
	inv := shellWord(r.Inventory)
	switch {
	case r.Status == "running":
		return report.Recovery{Text: unfinishedRunAdvice(r.ID), Command: fmt.Sprintf("frontdoor rollback %s -i %s --limit %s", r.ID, inv, shellWord(h.Name))}
	case r.Command == "rollback":
		return report.Recovery{Command: fmt.Sprintf("frontdoor rollback %s -i %s --limit %s", r.Undoes, inv, shellWord(h.Name))}
	case h.Status == fleet.StatusRollbackFail || (h.Status == fleet.StatusFailed && !h.RolledBack && h.Changed > 0):
		return report.Recovery{Text: halfChangedAdvice(r.ID, []string{h.Name}), Command: fmt.Sprintf("frontdoor rollback %s -i %s --limit %s", r.ID, inv, shellWord(h.Name))}
	case r.RetryFile != "":
		return report.Recovery{Text: retryAdvice(r.RetryFile), Command: fmt.Sprintf("frontdoor apply -i %s --limit %s %s", inv, shellWord("@"+r.RetryFile), shellWord(r.Playbook))}
	}
	return report.Recovery{Command: fmt.Sprintf("frontdoor apply -i %s --limit %s %s", inv, shellWord(h.Name), shellWord(r.Playbook))}
}

var plainWord = regexp.MustCompile(`^[A-Za-z0-9_./@%+=:,-]+$`)

// shellWord is s as one word of a POSIX shell command line, quoted only when it must be.
func shellWord(s string) string {
	if plainWord.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
