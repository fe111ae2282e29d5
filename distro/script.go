package distro

import (
	"fmt"
	"strings"

	"github.com/frontdoor-dev/frontdoor/target"
)

const header = "@@frontdoor-gather v1"

// Request lists what the checks will read, so one command brings it all back.
type Request struct {
	Files    []string // files to return with content, mode and owner (missing ones are reported)
	Ports    []int    // TCP ports reported as listening or not (is the app running?)
	Services []string // service names: reported as managed by systemd, an init.d script, or neither
	// Lock, when set, is the owner line of a run that takes the host's lock in the same command
	// (so the facts are read under it). Either way the lock's holder and the runs kept on the
	// host are reported.
	Lock string
}

// StateDir is where frontdoor keeps its lock and run journals on a host.
const StateDir = "/var/lib/frontdoor"

// LockPath is the host's lock: a symlink whose target is the holder's owner line. Creating a
// symlink is atomic and fails when one exists, so two runs cannot both take it.
const LockPath = StateDir + "/lock"

// Script is the single POSIX-shell command that gathers Facts; run it as root. It prints sections
// that ParseGather reads; file contents travel in base64 so any bytes survive.
func Script(r Request) string {
	var b strings.Builder
	b.WriteString(`export LC_ALL=C PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
echo '` + header + `'
echo '@@ os-release'; cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null
echo '@@ kv'
echo "uid=$(id -u)"; echo "kernel=$(uname -sr)"
if [ -d /run/systemd/system ]; then echo init=systemd; else echo init=sysv; fi
for s in /usr/lib/openssh/sftp-server /usr/libexec/openssh/sftp-server /usr/lib/ssh/sftp-server /usr/libexec/sftp-server; do
  [ -x "$s" ] && { echo "sftp=$s"; break; }
done
layout=; if [ -f /etc/apache2/apache2.conf ]; then layout=debian; elif [ -f /etc/httpd/conf/httpd.conf ]; then layout=redhat; fi; echo "apache_layout=$layout"
run=0; for p in /proc/[0-9]*; do read -r c <"$p/comm" 2>/dev/null || continue; case $c in apache2|httpd) run=1; break;; esac; done; echo "apache_running=$run"
for c in apache2ctl apachectl httpd a2enmod a2ensite systemctl service; do command -v $c >/dev/null 2>&1 && echo "bin=$c"; done
if [ "$layout" != redhat ] && command -v apache2ctl >/dev/null 2>&1; then echo "apache_version=$(apache2ctl -v 2>/dev/null | head -n1)"; elif command -v httpd >/dev/null 2>&1; then echo "apache_version=$(httpd -v 2>/dev/null | head -n1)"; fi
command -v getenforce >/dev/null 2>&1 && echo "selinux=$(getenforce 2>/dev/null)"
command -v getsebool >/dev/null 2>&1 && echo "sebool=$(getsebool httpd_can_network_connect 2>/dev/null)"
echo "clock=$(date +%s)"
# Free space (KiB) where backups and journals go, and where Apache's configuration is written.
echo '@@ disk'; for d in /var/lib/frontdoor /var/lib /etc; do [ -d "$d" ] && df -Pk "$d" 2>/dev/null | awk -v d="$d" 'NR == 2 { print d, $4 }'; done
# Which programs listen on which TCP ports (ss prints users only as root; absent ss: nothing).
echo '@@ holders'; if command -v ss >/dev/null 2>&1 && h=$(ss -Hltnp 2>/dev/null); then echo known; printf '%s\n' "$h" | awk 'NF { print $4, $6 }'; fi
` + firewallScript + `echo '@@ list mods-enabled'; ls -1 /etc/apache2/mods-enabled 2>/dev/null
echo '@@ list sites-enabled'; ls -1 /etc/apache2/sites-enabled 2>/dev/null
echo '@@ apache-listen'; for f in /etc/apache2/ports.conf /etc/apache2/conf-enabled/*.conf /etc/apache2/sites-enabled/* /etc/httpd/conf/httpd.conf /etc/httpd/conf.d/*.conf; do [ -f "$f" ] && awk -v f="$f" 'tolower($1) == "listen" { print f " " $2 }' "$f"; done 2>/dev/null
# RedHat layout: the files that load modules, whole, so module steps can uncomment their lines.
echo '@@ list conf-modules'; [ "$layout" = redhat ] && ls -1 /etc/httpd/conf.modules.d/*.conf 2>/dev/null
if [ "$layout" = redhat ]; then for f in /etc/httpd/conf/httpd.conf /etc/httpd/conf.modules.d/*.conf; do [ -f "$f" ] || continue
  echo "@@ file $f"; echo "stat $(stat -c '%a %u %g %s' "$f")"; base64 <"$f"; done; fi
`)
	for _, f := range r.Files {
		q := target.Quote(f)
		fmt.Fprintf(&b, "echo '@@ file '%s\nif [ -f %s ]; then echo \"stat $(stat -c '%%a %%u %%g %%s' %s)\"; base64 <%s; else echo missing; fi\n", q, q, q, q)
	}
	if len(r.Ports) > 0 {
		// Listening sockets from /proc/net/tcp{,6} (state 0A): works without ss or netstat.
		b.WriteString("echo '@@ listen'\ncat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk '$4 == \"0A\" { split($2, a, \":\"); print a[2] }' | sort -u\n")
	}
	if len(r.Services) > 0 {
		b.WriteString("echo '@@ services'\n")
	}
	for _, sv := range r.Services {
		q := target.Quote(sv)
		fmt.Fprintf(&b, "if [ -d /run/systemd/system ] && systemctl cat %s >/dev/null 2>&1; then echo %s=systemd; elif [ -x %s ]; then echo %s=sysv; else echo %s=none; fi\n",
			target.Quote(sv+".service"), q, target.Quote("/etc/init.d/"+sv), q, q)
	}
	b.WriteString(lockScript(r.Lock))
	b.WriteString("echo '@@ end'\n")
	return b.String()
}

// lockScript takes the lock when owner is set, then reports its holder and the runs on the host.
func lockScript(owner string) string {
	var b strings.Builder
	// The state directory holds journals and backups (passwords included) and decides what a
	// rollback replays: it must be a root-owned 0700 directory, not a symlink. The lock is only
	// taken in a safe one; what was found is reported for the session to refuse.
	fmt.Fprintf(&b, `echo '@@ statedir'; for d in %[1]s %[1]s/runs; do if [ -L "$d" ]; then echo "$d symlink"; elif [ -e "$d" ]; then echo "$d $(stat -c '%%u %%a %%F' "$d")"; fi; done
safe=1; for d in %[1]s %[1]s/runs; do if [ -L "$d" ] || { [ -e "$d" ] && [ "$(stat -c '%%u %%a' "$d")" != "0 700" ]; }; then safe=0; fi; done
`, StateDir)
	b.WriteString("echo '@@ lock'\n")
	if owner != "" {
		fmt.Fprintf(&b, "[ $safe = 1 ] && (umask 077; mkdir -p %s/runs) && ln -s %s %s 2>/dev/null && echo acquired\n", StateDir, target.Quote(owner), LockPath)
	}
	fmt.Fprintf(&b, "readlink %s 2>/dev/null\n", LockPath)
	// Each run kept on the host, with the state its journal records (the first "state" key).
	fmt.Fprintf(&b, `echo '@@ runs'; for d in %s/runs/*/; do [ -f "$d/journal.json" ] || continue
  s=$(grep -o '"state": *"[a-z-]*"' "$d/journal.json" | head -n1 | tr -d '" ' | cut -d: -f2); echo "$(basename "$d") $s"; done 2>/dev/null
`, StateDir)
	return b.String()
}

// UnlockCommand removes the host's lock if it still holds owner: quietly when it does not
// (releasing a lock someone broke and retook), or failing when strict (taking over a stale one).
func UnlockCommand(family Family, owner string, strict bool) string {
	if family == Windows {
		action := ""
		if strict {
			action = "strict"
		}
		return WinCommand("unlock", WinParams{Owner: owner, StateDir: WinStateDir, Action: action})
	}
	cmd := fmt.Sprintf(`[ "$(readlink %[1]s)" = %[2]s ] && rm -f %[1]s`, LockPath, target.Quote(owner))
	if !strict {
		cmd += " || true"
	}
	return cmd
}
