package apache

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/frontdoor-dev/frontdoor/distro"
	"github.com/frontdoor-dev/frontdoor/steps"
)

// Output of apt-get -s install --no-install-recommends apache2 on the lab's Debian 12 host
// without Apache (testdata/lab, LAB_NO_APACHE_OF_<i>), trimmed to its Inst and Conf lines.
const simulatedFresh = `NOTE: This is only a simulation!
Reading package lists...
The following NEW packages will be installed:
  apache2 apache2-bin apache2-data apache2-utils libapr1 libaprutil1
Inst libapr1 (1.7.2-3+deb12u1 frontdoor lab mirror (TEST-ONLY):10.77.0.1 [amd64])
Inst libaprutil1 (1.6.3-1+deb12u1 frontdoor lab mirror (TEST-ONLY):10.77.0.1 [amd64])
Inst apache2-bin (2.4.71-1~deb12u1 frontdoor lab mirror (TEST-ONLY):10.77.0.1 [amd64])
Inst apache2-data (2.4.71-1~deb12u1 frontdoor lab mirror (TEST-ONLY):10.77.0.1 [all])
Inst apache2-utils (2.4.71-1~deb12u1 frontdoor lab mirror (TEST-ONLY):10.77.0.1 [amd64])
Inst apache2 (2.4.71-1~deb12u1 frontdoor lab mirror (TEST-ONLY):10.77.0.1 [amd64])
Conf libapr1 (1.7.2-3+deb12u1 frontdoor lab mirror (TEST-ONLY):10.77.0.1 [amd64])
`

func TestParseSimulation(t *testing.T) {
	apt := NewInstall(distro.Debian, true, true)
	s := apt.ParseSimulation(simulatedFresh)
	if !s.Known || len(s.Changed) != 0 || strings.Join(s.New, " ") != "libapr1 libaprutil1 apache2-bin apache2-data apache2-utils apache2" {
		t.Errorf("fresh: %+v", s)
	}
	// An install that upgrades a package already there (apt's "[old]" before the new version)
	// or removes one is refused: a purge could not undo it.
	upgrade := simulatedFresh + "Inst libssl3 [3.0.11-1~deb12u2] (3.0.15-1~deb12u1 Debian:12.8/stable [amd64])\nRemv apache2-mpm-itk [2.4.7-04-1]\n"
	s = apt.ParseSimulation(upgrade)
	if strings.Join(s.Changed, ", ") != "libssl3 3.0.11-1~deb12u2 -> 3.0.15-1~deb12u1, apache2-mpm-itk removed" {
		t.Errorf("upgrade: %+v", s)
	}
	_, err := (&InstallStep{Packages: []string{"apache2"}, Simulated: upgrade}).Check(context.Background(), nil)
	if err == nil || !strings.Contains(err.Error(), "would also change packages already on the host (libssl3 3.0.11-1~deb12u2 -> 3.0.15-1~deb12u1, apache2-mpm-itk removed)") {
		t.Errorf("check of an upgrading install: %v", err)
	}
	// Lists that do not know apache2 (none fetched yet): the plan still shows the install.
	s = apt.ParseSimulation("E: Unable to locate package apache2\n")
	if s.Known || len(s.New) != 0 {
		t.Errorf("unknown: %+v", s)
	}
	ch, err := (&InstallStep{Packages: []string{"apache2"}, Simulated: "E: Unable to locate package apache2\n"}).Check(context.Background(), nil)
	if err != nil || ch.Action != steps.Run || strings.Contains(ch.Summary, "new package") {
		t.Errorf("check with lists that do not know apache2: %+v %v", ch, err)
	}
}

// dnf install --assumeno's transaction table, as RHEL 9's dnf prints it (the layout of dnf's
// output.py: sections ending in ":", one package per line, a long name wrapped onto its own line).
const dnfAssumeNo = `Last metadata expiration check: 0:01:02 ago on Wed 02 Dec 2026 03:00:00 PM UTC.
Dependencies resolved.
================================================================================
 Package                 Arch      Version                  Repository    Size
================================================================================
Installing:
 httpd                   x86_64    2.4.62-1.el9             appstream     45 k
 mod_ssl                 x86_64    1:2.4.62-1.el9           appstream    107 k
Installing dependencies:
 apr                     x86_64    1.7.0-12.el9_3           appstream    122 k
 apr-util                x86_64    1.6.1-23.el9             appstream     94 k
 httpd-core              x86_64    2.4.62-1.el9             appstream    1.4 M
 httpd-filesystem        noarch    2.4.62-1.el9             appstream     11 k
 rocky-logos-httpd-with-a-name-longer-than-its-column
                         noarch    90.15-2.el9              appstream     24 k

Transaction Summary
================================================================================
Install  7 Packages

Total download size: 1.8 M
Installed size: 5.1 M
Operation aborted.
`

func TestParseDnf(t *testing.T) {
	s := NewInstall(distro.RedHat, true, false)
	if s.Name() != "install package httpd mod_ssl" || !strings.Contains(s.Simulate(), "dnf install --assumeno --setopt=install_weak_deps=False httpd mod_ssl") {
		t.Errorf("%s: %s", s.Name(), s.Simulate())
	}
	sim := s.ParseSimulation(dnfAssumeNo)
	if !sim.Known || len(sim.Changed) != 0 || strings.Join(sim.New, " ") != "httpd mod_ssl apr apr-util httpd-core httpd-filesystem rocky-logos-httpd-with-a-name-longer-than-its-column" {
		t.Errorf("fresh: %+v", sim)
	}
	up := strings.Replace(dnfAssumeNo, "\nTransaction Summary", "Upgrading:\n openssl                 x86_64    1:3.0.7-27.el9           baseos       1.2 M\n\nTransaction Summary", 1)
	sim = s.ParseSimulation(up)
	if strings.Join(sim.Changed, ", ") != "openssl 1:3.0.7-27.el9 (upgrading)" {
		t.Errorf("upgrade: %+v", sim)
	}
	if _, err := (&InstallStep{Family: distro.RedHat, Packages: s.Packages, Simulated: up}).Check(context.Background(), nil); err == nil || !strings.Contains(err.Error(), "upgrade the host first (dnf upgrade)") {
		t.Errorf("check: %v", err)
	}
	// Without mod_ssl in the repositories, the install is not known to be possible.
	if sim := s.ParseSimulation(strings.Replace(dnfAssumeNo, " mod_ssl ", " mod_ssx ", 1)); sim.Known {
		t.Errorf("mod_ssl missing, still known: %+v", sim)
	}
	// dnf's "replacing" line under a package: the old one would be gone for good.
	repl := strings.Replace(dnfAssumeNo, " apr-util ", "     replacing  apr-util-old.x86_64 1.6.1-20.el9\n apr-util ", 1)
	if sim := s.ParseSimulation(repl); strings.Join(sim.Changed, ", ") != "apr-util-old.x86_64 1.6.1-20.el9 (replaced)" || slices.Contains(sim.New, "replacing") {
		t.Errorf("replacing: %+v", sim)
	}
}
