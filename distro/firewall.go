package distro

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Firewall is the host's own packet filter as its files say: ufw (Debian, Ubuntu) or firewalld
// (the Red Hat family). Read from the files rather than ufw status or firewall-cmd, which are
// Python programs that would add a quarter second to every gather.
type Firewall struct {
	Kind   string // "ufw", "firewalld", or "" (neither installed)
	Active bool   // ufw: ENABLED=yes in ufw.conf; firewalld: its service is active
	// DefaultAllow: incoming traffic no rule matches is accepted (ufw's DEFAULT_INPUT_POLICY).
	DefaultAllow bool
	// Rules are ufw's rule tuples in order (user.rules: "allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in").
	Rules []string
	// Zone is firewalld's default zone; Services and Ports what it opens ("http", "8443/tcp").
	Zone     string
	Services []string
	Ports    []string
}

// firewalld's stock services, by the ports frontdoor opens.
var firewalldServices = map[int]string{80: "http", 443: "https"}

// Blocks says whether the active firewall drops incoming TCP connections to port, and when a
// rule of the admin's does (rather than the default policy), which one: frontdoor does not
// override such a rule, and undoing its own allow could then delete the admin's.
func (fw Firewall) Blocks(port int) (blocked bool, rule string) {
	if !fw.Active {
		return false, ""
	}
	switch fw.Kind {
	case "ufw":
		// ufw matches its rules in order; the first that covers the port for every client
		// decides. A rule for some sources only (fail2ban's deny of one address, an allow from a
		// private network) says nothing about the public.
		anywhere := func(a string) bool { return a == "0.0.0.0/0" || a == "::/0" }
		for _, r := range fw.Rules {
			f := strings.Fields(r) // action proto dport dst sport src [dapp sapp] direction
			if len(f) < 7 || f[len(f)-1] != "in" || (f[1] != "tcp" && f[1] != "any") || !portIn(f[2], port) || !anywhere(f[3]) || !anywhere(f[5]) {
				continue
			}
			if f[0] == "allow" || f[0] == "limit" {
				return false, ""
			}
			return true, r
		}
		return !fw.DefaultAllow, ""
	case "firewalld":
		if s, ok := firewalldServices[port]; ok && slices.Contains(fw.Services, s) {
			return false, ""
		}
		return !slices.Contains(fw.Ports, fmt.Sprintf("%d/tcp", port)), ""
	}
	return false, ""
}

// portIn says whether ufw's port field ("80", "80,443", "8000:8010", "any") covers port.
func portIn(field string, port int) bool {
	if field == "any" {
		return true
	}
	for _, p := range strings.Split(field, ",") {
		lo, hi, isRange := strings.Cut(p, ":")
		a, err := strconv.Atoi(lo)
		if err != nil {
			continue
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil {
				continue
			}
		}
		if a <= port && port <= b {
			return true
		}
	}
	return false
}

// OpenCommand opens port (permanent and at once), and CloseCommand undoes exactly that.
func (fw Firewall) OpenCommand(port int) string {
	if fw.Kind == "firewalld" {
		return firewalldCommand("add", port)
	}
	return fmt.Sprintf("ufw allow %d/tcp", port)
}

func (fw Firewall) CloseCommand(port int) string {
	if fw.Kind == "firewalld" {
		return firewalldCommand("remove", port)
	}
	return fmt.Sprintf("ufw delete allow %d/tcp", port)
}

func firewalldCommand(verb string, port int) string {
	what := fmt.Sprintf("--%s-port=%d/tcp", verb, port)
	if s, ok := firewalldServices[port]; ok {
		what = fmt.Sprintf("--%s-service=%s", verb, s)
	}
	return fmt.Sprintf("firewall-cmd -q --permanent %[1]s && firewall-cmd -q %[1]s", what)
}

// firewallScript reports the firewall's state from its files (see Firewall).
const firewallScript = `echo '@@ firewall'
if [ -f /etc/ufw/ufw.conf ]; then echo "ufw $(sed -n 's/^ENABLED=//p' /etc/ufw/ufw.conf | tr -d '"') $(sed -n 's/^DEFAULT_INPUT_POLICY=//p' /etc/default/ufw 2>/dev/null | tr -d '"')"
  sed -n 's/^### tuple ### //p' /etc/ufw/user.rules 2>/dev/null | sed 's/^/rule /'
elif [ -f /etc/firewalld/firewalld.conf ]; then z=$(sed -n 's/^DefaultZone=//p' /etc/firewalld/firewalld.conf); z=${z:-public}
  a=inactive; if [ -d /run/systemd/system ]; then a=$(systemctl is-active firewalld 2>/dev/null); elif pgrep -x firewalld >/dev/null 2>&1; then a=active; fi
  echo "firewalld $a $z"; f=/etc/firewalld/zones/$z.xml; [ -f "$f" ] || f=/usr/lib/firewalld/zones/$z.xml
  sed -n 's/.*<service name="\([^"]*\)".*/service \1/p; s/.*<port [^>]*port="\([^"]*\)"[^>]*protocol="\([^"]*\)".*/port \1\/\2/p; s/.*<port [^>]*protocol="\([^"]*\)"[^>]*port="\([^"]*\)".*/port \2\/\1/p' "$f" 2>/dev/null
fi
`

func (f *Facts) parseFirewall(body []string) {
	for _, l := range body {
		kind, rest, _ := strings.Cut(l, " ")
		switch kind {
		case "ufw":
			enabled, policy, _ := strings.Cut(rest, " ")
			f.Firewall = Firewall{Kind: "ufw", Active: enabled == "yes", DefaultAllow: policy == "ACCEPT"}
		case "firewalld":
			state, zone, _ := strings.Cut(rest, " ")
			f.Firewall = Firewall{Kind: "firewalld", Active: state == "active", Zone: zone}
		case "rule":
			f.Firewall.Rules = append(f.Firewall.Rules, rest)
		case "service":
			f.Firewall.Services = append(f.Firewall.Services, rest)
		case "port":
			f.Firewall.Ports = append(f.Firewall.Ports, rest)
		}
	}
}
