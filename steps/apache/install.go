package apache

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/frontdoor-dev/frontdoor/distro"
	"github.com/frontdoor-dev/frontdoor/steps"
	"github.com/frontdoor-dev/frontdoor/target"
)

// apt waits this long for another apt or dpkg (unattended-upgrades) to let go of its lock.
const aptLockWait = 300

// aptEnv is how every apt command runs: no question asked, messages in English (they are parsed).
const aptEnv = "export DEBIAN_FRONTEND=noninteractive LC_ALL=C; "

// dnfOpts: no weak dependencies (apt's --no-install-recommends), messages in English.
const dnfOpts = "--setopt=install_weak_deps=False"

// InstallStep installs Apache from the host's own repositories on a host that has none
// (apache: {install: true}): on Debian and Ubuntu apt-get update then apt-get install apache2
// without recommends; on the Red Hat family dnf install httpd (with mod_ssl, mod_md when the
// playbook uses https, ACME) without weak dependencies, then systemctl enable --now httpd, as
// RHEL's package does not start it. Its undo, run last by a rollback
// (Journal.RecordFinalCommand), removes exactly the packages the install added, so a host rolled
// back has no Apache at all again: no package, no configuration, no service. An install that
// would upgrade, downgrade or remove any package is refused before anything changes: a removal
// could not undo that.
type InstallStep struct {
	Family distro.Family
	// Packages are those asked for (their dependencies come with them).
	Packages []string
	// Simulated is the simulation's output at plan time ("" when it could not run).
	Simulated string
}

// NewInstall is the install for a host of family f; https and acme add Red Hat's separate
// mod_ssl and mod_md (Debian's apache2 has both).
func NewInstall(f distro.Family, https, acme bool) *InstallStep {
	if f != distro.RedHat {
		return &InstallStep{Family: f, Packages: []string{"apache2"}}
	}
	pkgs := []string{"httpd"}
	if https {
		pkgs = append(pkgs, "mod_ssl")
	}
	if acme {
		pkgs = append(pkgs, "mod_md")
	}
	return &InstallStep{Family: f, Packages: pkgs}
}

func (s *InstallStep) Name() string       { return "install package " + strings.Join(s.Packages, " ") }
func (s *InstallStep) Triggers() []string { return nil }

// Simulate is the read-only command whose output says what the install would do, from the
// host's package metadata as it is (plan refreshes nothing with apt; dnf refreshes its cache as
// any dnf command does).
func (s *InstallStep) Simulate() string {
	if s.Family == distro.RedHat {
		// --assumeno answers the transaction's question with no: dnf prints it and exits 1.
		return "LC_ALL=C dnf install --assumeno " + dnfOpts + " " + strings.Join(s.Packages, " ") + " 2>&1"
	}
	return aptEnv + "apt-get -s install --no-install-recommends " + strings.Join(s.Packages, " ") + " 2>&1"
}

// SimulatedInstall is what the package manager says the install would do.
type SimulatedInstall struct {
	New     []string // packages that would be installed
	Changed []string // packages that would be upgraded, downgraded or removed ("libssl3 3.0.11 -> 3.0.13")
	Known   bool     // the repositories have every package asked for, and none is installed yet
}

var (
	instRe = regexp.MustCompile(`(?m)^Inst (\S+) (\[(\S+)\] )?\((\S+)`)
	remvRe = regexp.MustCompile(`(?m)^Remv (\S+)`)
)

// ParseSimulation reads the simulation's output (Simulate).
func (s *InstallStep) ParseSimulation(out string) SimulatedInstall {
	var r SimulatedInstall
	if s.Family == distro.RedHat {
		r = parseDnf(out)
	} else {
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
	}
	r.Known = true
	for _, p := range s.Packages {
		r.Known = r.Known && slices.Contains(r.New, p)
	}
	return r
}

// parseDnf reads dnf's transaction table: the packages under "Installing:" (and its
// dependencies) are new; "Upgrading:", "Downgrading:", "Removing..." and "Reinstalling:" change
// packages already there.
func parseDnf(out string) SimulatedInstall {
	var r SimulatedInstall
	section, wrapped := "", ""
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimRight(line, "\r")
		switch {
		case line == "":
			section = ""
		case !strings.HasPrefix(line, " ") && strings.HasSuffix(line, ":"):
			section = strings.TrimSuffix(line, ":")
		case strings.HasPrefix(line, " ") && section != "":
			f := strings.Fields(line)
			// A name too long for its column is alone on its line, the rest on the next.
			if len(f) == 1 {
				wrapped = f[0]
				continue
			}
			if wrapped != "" {
				f, wrapped = append([]string{wrapped}, f...), ""
			}
			if len(f) < 3 {
				continue
			}
			// "replacing old.x86_64 1.0-1" under a package: dnf would remove old for good.
			if f[0] == "replacing" {
				r.Changed = append(r.Changed, fmt.Sprintf("%s %s (replaced)", f[1], f[2]))
				continue
			}
			switch {
			case strings.HasPrefix(section, "Installing"):
				r.New = append(r.New, f[0])
			case strings.HasPrefix(section, "Upgrading"), strings.HasPrefix(section, "Downgrading"),
				strings.HasPrefix(section, "Removing"), strings.HasPrefix(section, "Reinstalling"):
				r.Changed = append(r.Changed, fmt.Sprintf("%s %s (%s)", f[0], f[2], strings.ToLower(section)))
			}
		}
	}
	return r
}

func (s *InstallStep) Check(ctx context.Context, h target.Host) (steps.Change, error) {
	sim := s.ParseSimulation(s.Simulated)
	if len(sim.Changed) > 0 {
		return steps.Change{}, s.changesOthers(sim)
	}
	var sum, diff string
	if s.Family == distro.RedHat {
		sum = "from the host's repositories, without weak dependencies; then systemctl enable --now httpd"
		diff = "$ dnf install -y " + dnfOpts + " " + strings.Join(s.Packages, " ") + "\n$ systemctl enable --now httpd\n"
	} else {
		sum = "from the host's repositories, after apt-get update, without recommends"
		diff = "$ apt-get update\n$ apt-get install -y --no-install-recommends " + strings.Join(s.Packages, " ") + "\n"
	}
	if sim.Known {
		sum += fmt.Sprintf(": %d new package(s): %s", len(sim.New), strings.Join(sim.New, " "))
	}
	return steps.Change{Action: steps.Run, Summary: sum, Diff: diff}, nil
}

func (s *InstallStep) changesOthers(sim SimulatedInstall) error {
	upgrade := "apt-get upgrade"
	if s.Family == distro.RedHat {
		upgrade = "dnf upgrade"
	}
	return fmt.Errorf("installing %s would also change packages already on the host (%s): a rollback could not put them back; upgrade the host first (%s), or install Apache yourself, then run frontdoor again; nothing was changed",
		strings.Join(s.Packages, " "), strings.Join(sim.Changed, ", "), upgrade)
}

// Apply refreshes the package lists (apt), simulates again (the repositories may have moved),
// journals the removal of exactly the new packages, and installs.
func (s *InstallStep) Apply(ctx context.Context, h target.Host, j *steps.Journal) error {
	if s.Family != distro.RedHat {
		update := aptEnv + fmt.Sprintf("apt-get -q -o DPkg::Lock::Timeout=%d update 2>&1", aptLockWait)
		if _, err := h.Run(ctx, update, nil); err != nil {
			return fmt.Errorf("refresh the package lists (apt-get update): %w", err)
		}
	}
	out, err := h.Run(ctx, s.Simulate(), nil)
	sim := s.ParseSimulation(string(out))
	if !sim.Known {
		return fmt.Errorf("the host's repositories do not offer %s (or it is already partly installed): add the distribution's repository, then run frontdoor again; nothing was changed (simulation: %v)\n%s",
			strings.Join(s.Packages, " "), err, tail(string(out), 10))
	}
	if len(sim.Changed) > 0 {
		return s.changesOthers(sim)
	}
	for _, p := range sim.New {
		if !distro.PackageName(p) {
			return fmt.Errorf("the package manager named a package %q that is not a package name; nothing was installed", p)
		}
	}
	var undo, install string
	if s.Family == distro.RedHat {
		undo = distro.DnfRemoveCommand(sim.New)
		install = "LC_ALL=C dnf install -y -q " + dnfOpts + " " + strings.Join(s.Packages, " ") + " 2>&1 && systemctl enable --now httpd 2>&1"
	} else {
		// a2enmod's state folder, left behind (emptied) by the purge, is removed by the undo
		// when the install made it.
		had, err := h.Run(ctx, "if [ -e "+distro.AptStateDir+" ]; then echo yes; else echo no; fi", nil)
		if err != nil || (strings.TrimSpace(string(had)) != "yes" && strings.TrimSpace(string(had)) != "no") {
			return fmt.Errorf("look for %s: %v; nothing was installed", distro.AptStateDir, err)
		}
		undo = distro.PurgeCommand(sim.New, strings.TrimSpace(string(had)) == "no")
		install = aptEnv + fmt.Sprintf("apt-get -q -y -o DPkg::Lock::Timeout=%d install --no-install-recommends %s 2>&1", aptLockWait, strings.Join(s.Packages, " "))
	}
	if err := j.RecordFinalCommand(ctx, s.Name(), undo); err != nil {
		return err
	}
	if out, err := h.Run(ctx, install, nil); err != nil {
		return fmt.Errorf("install %s: %w\n%s", strings.Join(s.Packages, " "), err, tail(string(out), 10))
	}
	return nil
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
