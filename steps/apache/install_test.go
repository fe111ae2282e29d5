package apache

import (
	"context"
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
	s := ParseSimulation(simulatedFresh)
	if !s.Known || len(s.Changed) != 0 || strings.Join(s.New, " ") != "libapr1 libaprutil1 apache2-bin apache2-data apache2-utils apache2" {
		t.Errorf("fresh: %+v", s)
	}
	// An install that upgrades a package already there (apt's "[old]" before the new version)
	// or removes one is refused: a purge could not undo it.
	upgrade := simulatedFresh + "Inst libssl3 [3.0.11-1~deb12u2] (3.0.15-1~deb12u1 Debian:12.8/stable [amd64])\nRemv apache2-mpm-itk [2.4.7-04-1]\n"
	s = ParseSimulation(upgrade)
	if strings.Join(s.Changed, ", ") != "libssl3 3.0.11-1~deb12u2 -> 3.0.15-1~deb12u1, apache2-mpm-itk removed" {
		t.Errorf("upgrade: %+v", s)
	}
	_, err := (&InstallStep{Simulated: upgrade}).Check(context.Background(), nil)
	if err == nil || !strings.Contains(err.Error(), "would also change packages already on the host (libssl3 3.0.11-1~deb12u2 -> 3.0.15-1~deb12u1, apache2-mpm-itk removed)") {
		t.Errorf("check of an upgrading install: %v", err)
	}
	// Lists that do not know apache2 (none fetched yet): the plan still shows the install.
	s = ParseSimulation("E: Unable to locate package apache2\n")
	if s.Known || len(s.New) != 0 {
		t.Errorf("unknown: %+v", s)
	}
	ch, err := (&InstallStep{Simulated: "E: Unable to locate package apache2\n"}).Check(context.Background(), nil)
	if err != nil || ch.Action != steps.Run || strings.Contains(ch.Summary, "new package") {
		t.Errorf("check with lists that do not know apache2: %+v %v", ch, err)
	}
}

// The install's undo is replayable from a journal read back from the host; other shapes are not.
func TestPurgeCommandReplayable(t *testing.T) {
	pkgs := ParseSimulation(simulatedFresh).New
	for _, made := range []bool{false, true} {
		if c := PurgeCommand(pkgs, made); !distro.Replayable(c) {
			t.Errorf("not replayable: %s", c)
		}
	}
	for _, c := range []string{
		PurgeCommand([]string{"apache2;reboot"}, false),
		PurgeCommand([]string{"apache2"}, false) + " && rm -rf /",
		PurgeCommand([]string{"apache2"}, false) + " && rmdir --ignore-fail-on-non-empty /etc",
		strings.Replace(PurgeCommand(pkgs, false), " purge ", " install ", 1),
		PurgeCommand([]string{"$(id)"}, false),
	} {
		if distro.Replayable(c) {
			t.Errorf("replayable: %s", c)
		}
	}
}
