package distro

import (
	"regexp"
	"strconv"
	"strings"
)

// The commands frontdoor writes into a run's journal on a host, to be replayed by a rollback:
// undoing a module, a site or an SELinux boolean, and controlling and waiting for services. A
// journal is read back from the host, so a command of any other shape is refused rather than run
// as root (a journal edited on the host must not become a way to run commands).
var replayable = []*regexp.Regexp{
	regexp.MustCompile(`^a2dismod -q -f ('[A-Za-z0-9_]+'|[A-Za-z0-9_]+)$`),
	regexp.MustCompile(`^a2dissite -q ('[A-Za-z0-9_.-]+'|[A-Za-z0-9_.-]+)$`),
	// Re-enabling frontdoor's own plain-http site that an https apply disabled.
	regexp.MustCompile(`^a2ensite -q ('frontdoor-[A-Za-z0-9_.-]+'|frontdoor-[A-Za-z0-9_.-]+)$`),
	regexp.MustCompile(`^setsebool -P httpd_can_network_connect [01]$`),
	regexp.MustCompile(`^systemctl (start|stop|restart) ('[A-Za-z0-9@_.-]+'|[A-Za-z0-9@_.-]+)$`),
	regexp.MustCompile(`^service ('[A-Za-z0-9@_.-]+'|[A-Za-z0-9@_.-]+) (start|stop|restart)$`),
	regexp.MustCompile(`^(apache2ctl|apachectl) configtest 2>&1$`),
	// mod_md's store, created by frontdoor for an https app with acme: (steps/apache.MDStore):
	// those paths only.
	regexp.MustCompile(`^rm -rf /var/lib/(apache2|httpd)/md$`),
	// An install's own start or stop script, when the app has no init service (any install
	// path the playbook accepts: no quote, no control character).
	regexp.MustCompile(`^'(/[^'\x00-\x1f/]+)+/(bin/)?(start|stop)[A-Za-z0-9_-]*\.sh'$`),
}

var (
	winPathR       = regexp.MustCompile(`^[A-Za-z]:\\[^'"%&|<>^\x00-\x1f]*$`)
	winPrivateDirR = regexp.MustCompile(`^[A-Za-z]:\\[^'"%&|<>^:*?\x00-\x1f]*\\conf\\frontdoor-private$`)
	winScriptR     = regexp.MustCompile(`^[A-Za-z]:\\[^'"%&|<>^\x00-\x1f]*\\(bin\\)?(start|stop)[A-Za-z0-9_-]*\.bat$`)
)

// closePortRe finds the port a firewall undo closes (see Firewall.CloseCommand).
var closePortRe = regexp.MustCompile(`^(?:ufw delete allow |firewall-cmd -q --permanent --remove-port=)([0-9]{1,5})/tcp|^firewall-cmd -q --permanent --remove-service=(https?) `)

// closedPort is the port a firewall undo names, 0 for none.
func closedPort(cmd string) int {
	m := closePortRe.FindStringSubmatch(cmd)
	switch {
	case m == nil:
		return 0
	case m[2] == "http":
		return 80
	case m[2] == "https":
		return 443
	}
	port, _ := strconv.Atoi(m[1])
	return port
}

var readyRe = regexp.MustCompile(`http://127\.0\.0\.1:(\d+)/[\s\S]*echo '([A-Za-z0-9_-]+) does not answer on port \d+ after (\d+) s'`)

// Replayable says whether cmd is one frontdoor writes into a journal (see replayable), for the
// host's dialect: POSIX shapes, or a Windows command that is exactly frontdoor's own template.
func Replayable(cmd string) bool {
	for _, re := range replayable {
		if re.MatchString(cmd) {
			return !strings.Contains(cmd, "/../") && !strings.Contains(cmd, "/./")
		}
	}
	// The undo of apache.install, and of open_firewall: rebuilt from what they name, they must
	// be frontdoor's own command exactly.
	if replayableUninstall(cmd) {
		return true
	}
	if port := closedPort(cmd); port > 0 && port != 22 {
		// Never port 22: a journal edited on the host must not become a way to close SSH.
		return cmd == (Firewall{Kind: "ufw"}).CloseCommand(port) || cmd == (Firewall{Kind: "firewalld"}).CloseCommand(port)
	}
	if m := readyRe.FindStringSubmatch(cmd); m != nil {
		port, _ := strconv.Atoi(m[1])
		secs, _ := strconv.Atoi(m[3])
		return cmd == HTTPReady(port, m[2], secs)
	}
	if verb, p, err := DecodeWinCommand(cmd); err == nil {
		switch verb {
		case "script":
			return winScriptR.MatchString(p.Path) && cmd == WinCommand(verb, p)
		case "configtest":
			return winPathR.MatchString(p.ApacheRoot) && cmd == WinCommand(verb, p)
		case "service", "ready":
			return cmd == WinCommand(verb, p)
		case "rmdir": // the keys' folder under Apache's conf (steps/apache.PrivateDir), if empty
			return winPrivateDirR.MatchString(p.Path) && !strings.Contains(p.Path, `\.`) && cmd == WinCommand(verb, p)
		}
	}
	return false
}
