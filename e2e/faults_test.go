package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/frontdoor-dev/frontdoor/fleet"
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

// TestHttpdPassesConfigtestButCannotStart: the new VirtualHost listens on 9800, free when the
// plan is made and when configtest passes, but another program takes the port while the apply
// runs (a listener started in the host as the vhost is written), so httpd fails to bind when it
// restarts. The host must be rolled back byte-exact, with Apache serving as before on 80.
func TestHttpdPassesConfigtestButCannotStart(t *testing.T) {
	l := labtest.Open(t)
	h := l.HostWithInit(t, "systemd")
	l.Reset(t, h)
	defer l.Reset(t, h)
	state := func() string {
		return snapshot(t, l, h) + "ports.conf " + l.FileState(t, h, "/etc/apache2/ports.conf") + "\n"
	}
	before := state()
	cmd, sc := startFrontdoor(t, "apply", "--yes", "-i", l.Inventory, "--limit", h.Name, "--output", "json", playbook(t, "jira-other-port.yaml"))
	taken, lastErr := false, ""
	for sc.Scan() {
		var e fleet.Event
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			continue
		}
		if !taken && e.Type == fleet.HostProgress && strings.HasPrefix(e.Step, "apply apache: VirtualHost") {
			l.Exec(t, h, `setsid python3 -c 'import socket,time; s=socket.socket(); s.bind(("0.0.0.0", 9800)); s.listen(); time.sleep(600)' </dev/null >/dev/null 2>&1 &
# 9800 is 2648 in /proc/net/tcp
for i in $(seq 50); do grep -q ':2648 00000000:0000 0A' /proc/net/tcp && exit 0; sleep 0.1; done; exit 1`)
			taken = true
		}
		if e.Type == fleet.HostDone {
			lastErr = e.Error
		}
	}
	cmd.Wait()
	if !taken {
		t.Fatal("the apply ended before the port could be taken")
	}
	// The reason is Apache's own, read from its log: not only "Job for apache2.service failed".
	if cmd.ProcessState.ExitCode() != 1 || !strings.Contains(lastErr, "restart") || !strings.Contains(lastErr, "Address already in use") {
		t.Fatalf("exit %d, host error: %s", cmd.ProcessState.ExitCode(), lastErr)
	}
	if strings.Contains(lastErr, "INCOMPLETE") || strings.Contains(lastErr, "frontdoor rollback") {
		t.Errorf("the rollback did not finish: %s", lastErr)
	}
	if after := state(); after != before {
		t.Errorf("not restored byte for byte:\n%s\n->\n%s", before, after)
	}
	checkAnswersAsBefore(t, h)
	t.Logf("host error: %s", lastErr)
}
