package distro

import (
	"fmt"
	"regexp"
	"strings"
)

// The undo of apache.install (steps/apache.InstallStep): removing exactly the packages the
// install added. A journal keeps it, and a rollback may replay it from a journal read back from
// the host, possibly long after the run: by then other packages may depend on Apache (PHP's
// module), and apt-get purge or dnf remove would take them too. So the command first asks the
// package manager what the removal would take, and refuses when it is more than the install
// added.

// packageRe is a package name as the undo accepts it: Debian's (Policy 5.6.1, apt's :arch) or
// RPM's, ending in a letter or digit (apt reads a trailing + or - as an action, not a name).
var packageRe = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9+._-]*[A-Za-z0-9])?(:[a-z0-9-]+)?$`)

// PackageName says whether p may appear in an install's undo.
func PackageName(p string) bool { return packageRe.MatchString(p) }

// AptStateDir is where a2enmod and a2ensite keep what the admin enabled: dpkg finds it not empty
// when it purges, and leaves it behind (emptied).
const AptStateDir = "/var/lib/apache2"

// PurgeCommand purges the packages an apt install added, with their configuration files, and
// a2enmod's state folder when the install made it; refused (exit 1, nothing removed) when the
// purge would take any other package.
func PurgeCommand(pkgs []string, stateMade bool) string {
	list := strings.Join(pkgs, " ")
	cmd := fmt.Sprintf("export LC_ALL=C DEBIAN_FRONTEND=noninteractive; extra=$(apt-get -s purge %s | awk '/^(Purg|Remv) / { print $2 }' | grep -vxF%s); "+
		"if [ -n \"$extra\" ]; then echo \"removing Apache now would also remove:\" $extra \"(installed since; they need it): remove them first, then roll back again\" >&2; exit 1; fi; "+
		"apt-get -q -y -o DPkg::Lock::Timeout=300 purge %s", list, grepList(pkgs), list)
	if stateMade {
		cmd += " && { [ ! -d " + AptStateDir + " ] || rmdir --ignore-fail-on-non-empty " + AptStateDir + "; }"
	}
	return cmd
}

// DnfRemoveCommand removes the packages a dnf install added (without dnf's removal of other
// unused packages); refused when the removal would take any other package. Their scriptlets
// stop and disable httpd.
func DnfRemoveCommand(pkgs []string) string {
	list := strings.Join(pkgs, " ")
	return fmt.Sprintf("export LC_ALL=C; extra=$(dnf remove --assumeno --noautoremove %s 2>/dev/null | awk '/^Removing/ { s = 1; next } /^[^ ]/ || /^$/ { s = 0 } s && NF > 1 { print $1 }' | grep -vxF%s); "+
		"if [ -n \"$extra\" ]; then echo \"removing Apache now would also remove:\" $extra \"(installed since; they need it): remove them first, then roll back again\" >&2; exit 1; fi; "+
		"dnf remove -y -q --noautoremove %s", list, grepList(pkgs), list)
}

func grepList(pkgs []string) string {
	var b strings.Builder
	for _, p := range pkgs {
		b.WriteString(" -e " + p)
	}
	return b.String()
}

var (
	purgeTailRe = regexp.MustCompile(`apt-get -q -y -o DPkg::Lock::Timeout=300 purge ([^;&|]+?)( && \{ .*\})?$`)
	dnfTailRe   = regexp.MustCompile(`; dnf remove -y -q --noautoremove ([^;&|]+)$`)
)

// replayableUninstall says whether cmd is exactly PurgeCommand or DnfRemoveCommand of valid
// package names: rebuilt from the names it ends with, it must be the same string.
func replayableUninstall(cmd string) bool {
	names := func(list string) []string {
		f := strings.Fields(list)
		for _, p := range f {
			if !PackageName(p) {
				return nil
			}
		}
		return f
	}
	if m := purgeTailRe.FindStringSubmatch(cmd); m != nil {
		if p := names(m[1]); p != nil {
			return cmd == PurgeCommand(p, false) || cmd == PurgeCommand(p, true)
		}
	}
	if m := dnfTailRe.FindStringSubmatch(cmd); m != nil {
		if p := names(m[1]); p != nil {
			return cmd == DnfRemoveCommand(p)
		}
	}
	return false
}
