package e2e

import (
	"strings"
	"testing"

	"github.com/frontdoor-dev/frontdoor/internal/labtest"
)

// TestPreflight: the checks before any change, on lab hosts against the lab's DNS (labdns, named
// by the inventory's dns_resolver). A healthy host passes each (plan --preflight-only lists them,
// exit 0); each problem of issue 14 is caught at plan, with exit 1, a message that says what to
// do, and nothing changed on the host: port 80 taken by another program, the disk where journals
// go nearly full (a 1 MiB tmpfs mounted there), the clock 10 minutes off and Apache too old for
// Synchrony (both STUBBED: a date and an apache2ctl -v wrapper in /usr/local, as the lab cannot
// move one namespace's clock or downgrade Apache); a name that does not resolve is a warning,
// a refusal with --strict-preflight.
func TestPreflight(t *testing.T) {
	l := labtest.Open(t)
	h := l.HostWithInit(t, "sysv") // its own mount namespace with every capability: tmpfs can be mounted
	l.Reset(t, h)
	defer l.Reset(t, h)
	name := "jira." + h.Name + ".lab.test"
	pb := playbook(t, "jira-subdomain.yaml")

	ok := frontdoor(t, nil, "plan", "--preflight-only", "-i", l.Inventory, "--limit", h.Name, pb)
	if ok.code != 0 {
		t.Fatalf("preflight on a healthy host:\n%s", ok)
	}
	for _, want := range []string{
		"preflight OK      dns " + name + ": resolves to " + h.Address + " (this host)",
		"preflight OK      port 80: Apache's (apache2)",
		"preflight OK      app jira: answers on port 8080",
		"preflight OK      disk /var/lib", "preflight OK      disk /etc: ", // /var/lib/frontdoor once it exists
		"preflight OK      clock: within a second of this controller's",
	} {
		if !strings.Contains(ok.stdout, want) {
			t.Errorf("--preflight-only lacks %q:\n%s", want, ok)
		}
	}
	if strings.Contains(ok.stdout, "~ jira: server.xml") {
		t.Errorf("--preflight-only printed a plan:\n%s", ok)
	}

	before := snapshot(t, l, h)
	for _, c := range []struct {
		name, setup, undo, playbook string
		want                        []string
	}{
		{"port 80 taken", "service apache2 stop >/dev/null 2>&1; setsid python3 -m http.server 80 >/dev/null 2>&1 & echo $! >/tmp/http-server.pid; sleep 1",
			"kill $(cat /tmp/http-server.pid); rm -f /tmp/http-server.pid; sleep 0.5; service apache2 start >/dev/null 2>&1", pb,
			[]string{"ERROR port 80: taken by python3, not Apache: Apache could not start on it; stop that program"}},
		{"disk nearly full", "[ -d /var/lib/frontdoor ] || { mkdir -m 0700 /var/lib/frontdoor && touch /tmp/made-state-dir; }; mount -t tmpfs -o size=1m,mode=0700 tmpfs /var/lib/frontdoor",
			"umount /var/lib/frontdoor; [ -f /tmp/made-state-dir ] && rmdir /var/lib/frontdoor; rm -f /tmp/made-state-dir; true", pb,
			[]string{"ERROR disk /var/lib/frontdoor: only ", " MiB free where /var/lib/frontdoor is:", "free some space, then run frontdoor again"}},
		{"clock 10 min off", "printf '#!/bin/sh\\n# STUBBED by TestPreflight: the clock 10 minutes ahead\\nexec /bin/date -d @$(($(/bin/date +%%s) + 600)) \"$@\"\\n' >/usr/local/bin/date; chmod 755 /usr/local/bin/date",
			"rm -f /usr/local/bin/date", pb,
			[]string{"ERROR clock: the host's clock is ", "m", " ahead of this controller's", "timedatectl set-ntp true"}}, // 9m59s or 10m0s: the round trip is allowed for
		{"Apache too old for Synchrony", "printf '#!/bin/sh\\n# STUBBED by TestPreflight: an Apache older than 2.4.10\\n[ \"$1\" = -v ] && { echo \"Server version: Apache/2.4.7 (Debian)\"; exit 0; }\\nexec /usr/sbin/apache2ctl \"$@\"\\n' >/usr/local/sbin/apache2ctl; chmod 755 /usr/local/sbin/apache2ctl",
			"rm -f /usr/local/sbin/apache2ctl", writeFile(t, "sync.yaml", "apps:\n  - product: confluence\n    url: http://wiki.{{host}}.lab.test\n    port: 8080\n"),
			[]string{"ERROR apache Synchrony over WebSocket: Synchrony over WebSocket needs Apache 2.4.10 or later; this host has 2.4.7: upgrade Apache"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			l.Exec(t, h, c.setup)
			defer l.Exec(t, h, c.undo)
			r := frontdoor(t, nil, "apply", "--yes", "-i", l.Inventory, "--limit", h.Name, c.playbook)
			if r.code != 1 || !strings.Contains(r.stdout+r.stderr, "refused before any change by the preflight checks:") {
				t.Fatalf("apply:\n%s", r)
			}
			for _, want := range c.want {
				if !strings.Contains(r.stdout+r.stderr, want) {
					t.Errorf("lacks %q:\n%s", want, r)
				}
			}
			p := frontdoor(t, nil, "plan", "--preflight-only", "-i", l.Inventory, "--limit", h.Name, c.playbook)
			if p.code != 1 || !strings.Contains(p.stdout, "== "+h.Name+" ("+h.Address+")") || !strings.Contains(p.stdout, "preflight "+strings.Replace(c.want[0], "ERROR ", "ERROR   ", 1)) {
				t.Errorf("plan --preflight-only:\n%s", p)
			}
		})
		if after := snapshot(t, l, h); after != before {
			t.Errorf("%s: the host changed:\n%s\n->\n%s", c.name, before, after)
		}
	}

	// A public name the DNS does not know: a warning at plan; --strict-preflight refuses.
	nowhere := writeFile(t, "nowhere.yaml", "apps:\n  - product: jira\n    url: http://jira.nowhere.invalid\n")
	p := frontdoor(t, nil, "plan", "-i", l.Inventory, "--limit", h.Name, nowhere)
	want := "preflight WARNING dns jira.nowhere.invalid: does not resolve by the DNS server 10.77.0.1:53 (no such name)"
	if p.code != 2 || !strings.Contains(p.stdout, want) {
		t.Errorf("plan with a name that does not resolve (exit 2, pending, with the warning):\n%s", p)
	}
	if s := frontdoor(t, nil, "apply", "--yes", "--strict-preflight", "-i", l.Inventory, "--limit", h.Name, nowhere); s.code != 1 || !strings.Contains(s.stdout+s.stderr, "WARNING dns jira.nowhere.invalid: does not resolve") {
		t.Errorf("--strict-preflight:\n%s", s)
	}
	if after := snapshot(t, l, h); after != before {
		t.Errorf("the host changed:\n%s\n->\n%s", before, after)
	}
}
