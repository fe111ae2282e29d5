package main

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/frontdoor-dev/frontdoor/fleet"
	"github.com/frontdoor-dev/frontdoor/session"
	"github.com/frontdoor-dev/frontdoor/ssh"
	"github.com/frontdoor-dev/frontdoor/steps/xmledit"
	"github.com/frontdoor-dev/frontdoor/target"
)

var cliWords = regexp.MustCompile(`frontdoor (rollback|unlock|apply|plan|show)|--[a-z]|replace_placeholders`)

// Every typed refusal reaches the user with the command or flag that resolves it, however deep
// it was wrapped; the packages that raise them name no command or flag themselves.
func TestExplain(t *testing.T) {
	stale := &fleet.LockedError{Host: "h1", Holder: fleet.Owner{Run: "R1"}, Stale: true, Why: "its controller is gone"}
	for _, c := range []struct {
		err       error
		want, not string
	}{
		{stale, "The lock is stale: undo that run with: frontdoor rollback R1 -i INVENTORY --limit h1 (or break the lock with: frontdoor unlock -i INVENTORY --limit h1)", ""},
		{&fleet.LockedError{Host: "h1", Holder: fleet.Owner{Run: "R1"}, Why: "still running"}, "wait for that run to end", "frontdoor"},
		{&session.UnfinishedError{Host: "h1", Run: "R2", State: "applying"}, "run R2 did not finish here (applying): undo it with frontdoor rollback R2 -i INVENTORY --limit h1 before applying", ""},
		{&session.UnfinishedError{Host: "h1", Run: "R2", State: "applying", Dir: "/d"}, "(its journal in /d says applying): undo it first with: frontdoor rollback R2 -i INVENTORY --limit h1", ""},
		{fmt.Errorf("h1: %w", &fleet.DriftError{Host: "h1", Run: "R3", Drift: []string{"/x was changed since the run wrote it"}}), "roll back with --force to restore the originals", ""},
		{&fleet.PlanChangedError{Host: "h1"}, "changed since the plan you confirmed; nothing was applied: run again to see the new plan", ""},
		{fleet.ErrStoppedAtMaxFail, "not started: the rollout stopped at --max-fail", ""},
		{&ssh.UnknownHostError{Host: "h1", KnownHosts: "/kh"}, "known_hosts file /kh does not exist: give --known-hosts FILE, or --accept-new-host-keys", ""},
		{&ssh.UnknownHostError{Host: "h1", KnownHosts: "/kh", Key: "ssh-ed25519 SHA256:x"}, "verify it and add it, or pass --accept-new-host-keys to record it", ""},
		{&ssh.HostKeyError{Host: "h1", Entry: "h1.example.com", KnownHosts: "/kh"}, "ssh-keygen -R h1.example.com -f /kh (and connect again with --accept-new-host-keys)", ""},
		{fmt.Errorf("h1: write /x: %w", fmt.Errorf("%w: %w (0 KiB free)", target.ErrNoSpace, errors.New(`sftp: "Failure"`))), "no space left on device: sftp: \"Failure\" (0 KiB free): free space on that filesystem of the host, then apply again", ""},
		{fmt.Errorf("h1: check x: %w", &xmledit.PlaceholderError{Line: 3, Element: "Context", Attr: "path", Value: "${p}", Requested: "/j"}), "Set the system property instead, or set replace_placeholders: true in the playbook", ""},
	} {
		got := explain(c.err)
		if !strings.Contains(got, c.want) || (c.not != "" && strings.Contains(got, c.not)) {
			t.Errorf("%T: %s\nwant %q", c.err, got, c.want)
		}
		if cliWords.MatchString(c.err.Error()) {
			t.Errorf("%T names a command or flag itself: %s", c.err, c.err)
		}
	}
	if explain(nil) != "" {
		t.Error("nil")
	}
}
