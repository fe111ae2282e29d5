package e2e

import (
	"strings"
	"testing"

	"github.com/frontdoor-dev/frontdoor/internal/labtest"
)

// TestDiskFullUnderConf: Jira's conf directory is on a full filesystem (a tmpfs holding its
// files, filled up), so writing the new server.xml fails with "no space left on device" after
// Jira was stopped for it. The run must roll back cleanly: nothing was changed, so nothing has to
// be restored (an undo must not try to write the same full disk and report ROLLBACK INCOMPLETE),
// Jira is started again, and the host is left free for the next apply once the space is back
// (issue 12's disk-full finding, for real).
func TestDiskFullUnderConf(t *testing.T) {
	l := labtest.Open(t)
	h := l.HostWithInit(t, "systemd")
	l.Reset(t, h)
	defer l.Reset(t, h)
	const conf = "/opt/atlassian/jira/conf"
	l.Exec(t, h, `set -e; cp -a `+conf+` /root/conf.orig; mount -t tmpfs -o size=1m,mode=755 tmpfs `+conf+`; cp -a /root/conf.orig/. `+conf+`/
dd if=/dev/zero of=`+conf+`/.lab-fill bs=1k 2>/dev/null || true`)
	if free := strings.TrimSpace(l.Exec(t, h, `df --output=avail -k `+conf+` | tail -n1`)); free != "0" {
		t.Fatalf("the filesystem under conf/ is not full: %s KiB free", free)
	}
	before := snapshot(t, l, h)
	r := frontdoor(t, nil, "apply", "--yes", "-i", l.Inventory, "--limit", h.Name, playbook(t, "jira-subdomain.yaml"))
	if r.code != 1 || !strings.Contains(r.stdout, "FAILED, rolled back") || !strings.Contains(r.stdout+r.stderr, "no space left on device") ||
		!strings.Contains(r.stdout, "free on the filesystem of "+conf) || !strings.Contains(r.stdout, "free space on that filesystem of the host, then apply again") {
		t.Fatalf("apply on a full disk:\n%s", r)
	}
	for _, bad := range []string{"ROLLBACK INCOMPLETE", "by hand", "frontdoor rollback "} {
		if strings.Contains(r.stdout+r.stderr, bad) {
			t.Errorf("the clean rollback is reported with %q:\n%s", bad, r)
		}
	}
	if after := snapshot(t, l, h); after != before {
		t.Errorf("not as before:\n%s\n->\n%s", before, after)
	}
	checkAnswersAsBefore(t, h)
	l.Exec(t, h, `rm -f `+conf+`/.lab-fill`)
	r = frontdoor(t, nil, "apply", "--yes", "-i", l.Inventory, "--limit", h.Name, playbook(t, "jira-subdomain.yaml"))
	if r.code != 0 || !strings.Contains(r.stdout, "verified http://jira."+h.Name+".lab.test through the proxy") {
		t.Fatalf("apply once the space is back:\n%s", r)
	}
}
