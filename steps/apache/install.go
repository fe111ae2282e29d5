package apache

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/frontdoor-dev/frontdoor/steps"
	"github.com/frontdoor-dev/frontdoor/target"
)

// Package is the Debian/Ubuntu package apache.install puts on a host without Apache.
const Package = "apache2"

// apt waits this long for another apt or dpkg (unattended-upgrades) to let go of its lock.
const aptLockWait = 300

// aptEnv is how every apt command runs: no question asked, messages in English (they are parsed).
const aptEnv = "export DEBIAN_FRONTEND=noninteractive LC_ALL=C; "

// Simulate is the read-only command whose output says what installing Apache would do: apt's
// "Inst" lines, from the host's package lists as they are (plan refreshes nothing).
const Simulate = aptEnv + "apt-get -s install --no-install-recommends " + Package + " 2>&1"

// InstallStep installs Apache from the host's own repositories on a Debian or Ubuntu host that
// has none (apache: {install: true}): apt-get update, then apt-get install apache2 without its
// recommends. Its undo, run last by a rollback (Journal.RecordFinalCommand), purges exactly the
// packages the install added, so a host rolled back has no Apache at all again: no package, no
// file under /etc/apache2, no service. An install that would upgrade or remove any package is
// refused before anything changes: a purge could not undo that.
type InstallStep struct {
	// Simulated is Simulate's output at plan time ("" when it could not run).
	Simulated string
}

func (s *InstallStep) Name() string       { return "install package " + Package }
func (s *InstallStep) Triggers() []string { return nil }

// SimulatedInstall is what apt says installing Apache would do.
type SimulatedInstall struct {
	New     []string // packages that would be installed
	Changed []string // packages that would be upgraded, downgraded or removed ("libssl3 3.0.11 -> 3.0.13")
	Known   bool     // the host's package lists know apache2
}

var (
	instRe = regexp.MustCompile(`(?m)^Inst (\S+) (\[(\S+)\] )?\((\S+)`)
	remvRe = regexp.MustCompile(`(?m)^Remv (\S+)`)
	// A Debian package name (Policy 5.6.1), with apt's :arch qualifier.
	debPkgRe = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+(:[a-z0-9-]+)?$`)
)

// ParseSimulation reads apt-get -s install's output.
func ParseSimulation(out string) SimulatedInstall {
	var r SimulatedInstall
	for _, m := range instRe.FindAllStringSubmatch(out, -1) {
		if m[3] != "" {
			r.Changed = append(r.Changed, fmt.Sprintf("%s %s -> %s", m[1], m[3], m[4]))
			continue
		}
		r.New = append(r.New, m[1])
	}
	for _, m := range remvRe.FindAllStringSubmatch(out, -1) {
		r.Changed = append(r.Changed, m[1]+" removed")
	}
	r.Known = slices.Contains(r.New, Package)
	return r
}

func (s *InstallStep) Check(ctx context.Context, h target.Host) (steps.Change, error) {
	sim := ParseSimulation(s.Simulated)
	if len(sim.Changed) > 0 {
		return steps.Change{}, changesOthers(sim)
	}
	sum := "from the host's repositories, after apt-get update, without recommends"
	if sim.Known {
		sum += fmt.Sprintf(": %d new package(s): %s", len(sim.New), strings.Join(sim.New, " "))
	}
	diff := "$ apt-get update\n$ apt-get install -y --no-install-recommends " + Package + "\n"
	return steps.Change{Action: steps.Run, Summary: sum, Diff: diff}, nil
}

func changesOthers(sim SimulatedInstall) error {
	return fmt.Errorf("installing %s would also change packages already on the host (%s): a rollback could not put them back; upgrade the host first (apt-get upgrade), or install Apache yourself, then run frontdoor again; nothing was changed",
		Package, strings.Join(sim.Changed, ", "))
}

// Apply refreshes the package lists, simulates again (the lists may have moved), journals the
// purge of exactly the new packages, and installs.
func (s *InstallStep) Apply(ctx context.Context, h target.Host, j *steps.Journal) error {
	update := aptEnv + fmt.Sprintf("apt-get -q -o DPkg::Lock::Timeout=%d update 2>&1", aptLockWait)
	if _, err := h.Run(ctx, update, nil); err != nil {
		return fmt.Errorf("refresh the package lists (apt-get update): %w", err)
	}
	out, err := h.Run(ctx, Simulate, nil)
	sim := ParseSimulation(string(out))
	if err != nil || !sim.Known {
		return fmt.Errorf("the host's repositories have no %s package (apt-get -s install %s: %v): add a Debian or Ubuntu repository to /etc/apt/sources.list, then run frontdoor again\n%s",
			Package, Package, err, strings.TrimSpace(string(out)))
	}
	if len(sim.Changed) > 0 {
		return changesOthers(sim)
	}
	for _, p := range sim.New {
		if !debPkgRe.MatchString(p) {
			return fmt.Errorf("apt named a package %q that is not a Debian package name; nothing was installed", p)
		}
	}
	// a2enmod keeps its state under /var/lib/apache2, which dpkg finds not empty when it purges
	// and leaves behind (emptied): the undo removes it when the install made it.
	had, _ := h.Run(ctx, "if [ -e "+stateDir+" ]; then echo yes; fi", nil)
	if err := j.RecordFinalCommand(ctx, s.Name(), PurgeCommand(sim.New, strings.TrimSpace(string(had)) != "yes")); err != nil {
		return err
	}
	install := aptEnv + fmt.Sprintf("apt-get -q -y -o DPkg::Lock::Timeout=%d install --no-install-recommends %s 2>&1", aptLockWait, Package)
	if out, err := h.Run(ctx, install, nil); err != nil {
		return fmt.Errorf("apt-get install %s: %w\n%s", Package, err, tail(string(out), 10))
	}
	return nil
}

// stateDir is where a2enmod and a2ensite keep what the admin enabled.
const stateDir = "/var/lib/apache2"

// PurgeCommand removes the packages an install added, with their configuration files, and
// a2enmod's state folder when the install made it.
func PurgeCommand(pkgs []string, stateMade bool) string {
	cmd := fmt.Sprintf("DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=%d purge %s", aptLockWait, strings.Join(pkgs, " "))
	if stateMade {
		cmd += " && rmdir --ignore-fail-on-non-empty " + stateDir
	}
	return cmd
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
