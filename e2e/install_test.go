package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/frontdoor-dev/frontdoor/internal/labtest"
)

// noApacheState is what "no Apache at all" means on a host, as the tests compare it: every path
// (and each file's hash) under the places an Apache install writes, the packages dpkg knows of
// Apache's set, its service, and anything listening on :80. Read without frontdoor.
func noApacheState(t *testing.T, l *labtest.Lab, h labtest.Host) string {
	return l.Exec(t, h, `for d in /etc /usr/sbin /usr/lib/apache2 /usr/share/apache2 /var/lib/apache2 /var/www /var/log/apache2 /lib/systemd/system; do
  [ -e "$d" ] && find "$d" -xdev | sort | while read -r f; do if [ -f "$f" ] && [ ! -L "$f" ]; then echo "$f $(sha256sum <"$f" | cut -c1-16) $(stat -c '%a %U' "$f")"; else echo "$f $(stat -c '%F %a' "$f")"; fi; done
done
dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' apache2 apache2-bin apache2-data apache2-utils libapr1 libaprutil1 2>&1
echo "service: $(systemctl is-enabled apache2 2>&1) $(systemctl is-active apache2 2>&1)"
echo "port 80: $(ss -Hltn 'sport = :80' | wc -l) listener(s)"`) +
		"/opt/atlassian/jira/conf/server.xml " + l.FileState(t, h, "/opt/atlassian/jira/conf/server.xml") + "\n"
}

// TestInstallApache (issue 14): a Debian host with no Apache, whose only apt repository is the
// lab's signed mirror (LAB_NO_APACHE_OF_<i>). Without apache.install it is refused with how to
// install; with it, plan shows the install and the packages it brings, apply installs apache2 for
// real (apt-get from the mirror), proxies Jira and verifies; a second apply changes nothing. A
// failure after the install (a directive configtest rejects) rolls the host back to no Apache at
// all: the packages purged, every file as it was, no service, nothing on :80.
func TestInstallApache(t *testing.T) {
	l := labtest.Open(t)
	var h labtest.Host
	for _, c := range l.Hosts {
		if c.Flavor == "debian" && c.Init == "systemd" && strings.Join(c.Products, ",") == "jira" {
			h = c
			break
		}
	}
	if h.Name == "" {
		t.Skip("the lab has no Debian systemd host with Jira alone")
	}
	l.ResetWithoutApache(t, h)
	defer l.Reset(t, h)
	public := "jira." + h.Name + ".lab.test"
	before := noApacheState(t, l, h)
	if !strings.Contains(before, "port 80: 0 listener(s)") || strings.Contains(before, "/etc/apache2\n") {
		t.Fatalf("the host was not started without Apache:\n%s", before)
	}

	plain := writeFile(t, "plain.yaml", "apps:\n  - product: jira\n    url: http://"+public+"\n")
	r := frontdoor(t, nil, "plan", "-i", l.Inventory, "--limit", h.Name, plain)
	if r.code != 1 || !strings.Contains(r.stdout+r.stderr, "Apache httpd is not installed (no /etc/apache2): install it first (apt-get install apache2), or let frontdoor install it (apache: {install: true} in the playbook)") {
		t.Fatalf("plan without apache.install:\n%s", r)
	}

	pb := writeFile(t, "install.yaml", "apps:\n  - product: jira\n    url: http://"+public+"\napache:\n  install: true\n")
	r = frontdoor(t, nil, "plan", "-i", l.Inventory, "--limit", h.Name, pb)
	if r.code != 2 || !strings.Contains(r.stdout, "! install package apache2: from the host's repositories, after apt-get update, without recommends: 10 new package(s): ") {
		t.Fatalf("plan with apache.install:\n%s", r)
	}
	r = frontdoor(t, nil, "plan", "--preflight-only", "-i", l.Inventory, "--limit", h.Name, pb)
	if r.code != 0 || !strings.Contains(r.stdout, "preflight OK      apache: not installed: apache.install installs apache2") ||
		!strings.Contains(r.stdout, "preflight OK      port 80: free") {
		t.Fatalf("plan --preflight-only with apache.install:\n%s", r)
	}
	if after := noApacheState(t, l, h); after != before {
		t.Fatalf("plan changed the host:\n%s", diffLines(before, after))
	}

	r = frontdoor(t, nil, "apply", "--yes", "-i", l.Inventory, "--limit", h.Name, pb)
	if r.code != 0 || !strings.Contains(r.stdout, h.Name+": verified http://"+public) {
		t.Fatalf("apply with the install:\n%s", r)
	}
	if got := l.Exec(t, h, "dpkg-query -W -f='${db:Status-Abbrev}' apache2; systemctl is-enabled apache2"); got != "ii enabled\n" {
		t.Errorf("apache2 after the install: %q", got)
	}
	if got := curlLocation(t, h, public); got != "302 http://"+public+"/secure/Dashboard.jspa" {
		t.Errorf("curl through the installed Apache: %q", got)
	}
	// The packages came from the lab's mirror (its log names the .deb files the host fetched).
	if log, err := os.ReadFile(filepath.Join(labtest.Root(), "run", "labmirror.log")); err != nil || !strings.Contains(string(log), h.Address+":") || !strings.Contains(string(log), "/apache2_2.4") {
		t.Errorf("the lab mirror's log does not show %s fetching apache2 (%v):\n%s", h.Address, err, log)
	}
	r = frontdoor(t, nil, "apply", "--yes", "-i", l.Inventory, "--limit", h.Name, pb)
	if r.code != 0 || !strings.Contains(r.stdout, "no changes (nothing restarted)") {
		t.Fatalf("second apply:\n%s", r)
	}

	// A failure after the install: configtest refuses a directive, and the rollback purges Apache.
	l.ResetWithoutApache(t, h)
	if again := noApacheState(t, l, h); again != before {
		t.Fatalf("a second reset without Apache differs from the first:\n%s", diffLines(before, again))
	}
	bad := writeFile(t, "bad.yaml", "apps:\n  - product: jira\n    url: http://"+public+"\napache:\n  install: true\n  directives:\n    - NoSuchDirective on\n")
	r = frontdoor(t, nil, "apply", "--yes", "-i", l.Inventory, "--limit", h.Name, bad)
	if r.code != 1 || !strings.Contains(r.stdout+r.stderr, "NoSuchDirective") || !strings.Contains(r.stdout+r.stderr, "rolled back") {
		t.Fatalf("apply with a bad directive after the install:\n%s", r)
	}
	if after := noApacheState(t, l, h); after != before {
		t.Errorf("after the rollback the host is not as it was:\n%s", diffLines(before, after))
	}
}

// diffLines lists the lines only in a ("-") or only in b ("+").
func diffLines(a, b string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	ina, inb := in(a), in(b)
	var out []string
	for _, l := range strings.Split(a, "\n") {
		if !inb[l] {
			out = append(out, "- "+l)
		}
	}
	for _, l := range strings.Split(b, "\n") {
		if !ina[l] {
			out = append(out, "+ "+l)
		}
	}
	return strings.Join(out, "\n")
}
