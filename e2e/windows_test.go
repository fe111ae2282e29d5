package e2e

import (
	"strings"
	"testing"

	"github.com/frontdoor-dev/frontdoor/internal/labtest"
)

// windowsSnapshot is what rollback must restore on the emulated Windows host, read inside it:
// the bytes of server.xml and httpd.conf (CRLF included), and frontdoor's files in conf\extra.
func windowsSnapshot(t *testing.T, l *labtest.Lab, h labtest.Host) string {
	return l.Exec(t, h, `sha256sum /opt/atlassian/jira/conf/server.xml /C:/Apache24/conf/httpd.conf | cut -c1-16; ls /C:/Apache24/conf/extra`)
}

// TestWindowsHost, on the EMULATED Windows host (internal/winemu: SSH/SFTP and cmd/PowerShell
// answers emulated; Apache Lounge's httpd.conf with CRLF, run by a real Apache 2.4; Jira's real
// Tomcat at C:\Program Files\Atlassian\JIRA). Logged in as Administrator (no sudo, detected from
// cmd.exe's answer), a fresh apply uncomments the proxy modules in httpd.conf, adds one Include
// line and the vhost in conf\extra, edits server.xml keeping its CRLF, restarts the services and
// verifies through the proxy; a re-apply changes nothing; frontdoor rollback RUN restores it
// byte-exact; an apply whose httpd -t fails is rolled back byte-exact.
func TestWindowsHost(t *testing.T) {
	l := labtest.Open(t)
	h := l.HostWithFlavor(t, "windows")
	l.Reset(t, h)
	inv := l.WriteInventory(t, "Administrator", "", h)
	before := windowsSnapshot(t, l, h)
	if crlf := l.Exec(t, h, `grep -c $(printf '\r')$ /opt/atlassian/jira/conf/server.xml; wc -l < /opt/atlassian/jira/conf/server.xml`); strings.Fields(crlf)[0] != strings.Fields(crlf)[1] {
		t.Fatalf("server.xml is not CRLF on the Windows host: %s", crlf)
	}
	led := t.TempDir() + "/ledger.db"
	// Jira's Windows installer names its service like JIRA050414092732: frontdoor finds the one
	// service named after the product when the configured name does not exist.
	pb := writeFile(t, "jira.yaml", "apps:\n  - product: jira\n    url: http://jira.{{host}}.lab.test\n    windows_service: JIRA050414092732\napache:\n  remote_ip: true\n")
	r := frontdoor(t, nil, "apply", "--yes", "--ledger", led, "--output", "json", "-i", inv, pb)
	if r.code != 0 {
		t.Fatalf("apply on the Windows host:\n%s", r)
	}
	evs := events(t, r.stdout)
	run := evs[0].Run
	plan := find(evs, "host.plan", h.Name)
	if len(plan) != 1 || !strings.HasPrefix(plan[0].Platform, "Microsoft Windows Server 2022") || len(find(evs, "host.done", h.Name)[0].Verified) != 1 {
		t.Fatalf("plan/verify events: %+v", evs)
	}
	var paths []string
	for _, c := range plan[0].Changes {
		paths = append(paths, c.Summary)
	}
	for _, want := range []string{"edit /C:/Program Files/Atlassian/JIRA/conf/server.xml", "edit /C:/Apache24/conf/httpd.conf", "create /C:/Apache24/conf/extra/frontdoor-jira." + h.Name + ".lab.test.conf"} {
		if !strings.Contains(strings.Join(paths, "\n"), want) {
			t.Errorf("plan lacks %q: %v", want, paths)
		}
	}
	got := l.Exec(t, h, `grep -c $(printf '\r')$ /opt/atlassian/jira/conf/server.xml; wc -l < /opt/atlassian/jira/conf/server.xml; grep -c 'proxyName="jira.`+h.Name+`.lab.test"' /opt/atlassian/jira/conf/server.xml; `+
		`grep -cE '^LoadModule (proxy|proxy_http|remoteip)_module' /C:/Apache24/conf/httpd.conf; tail -n1 /C:/Apache24/conf/httpd.conf | od -An -c | tr -s ' ' | tail -c 12`)
	if f := strings.Fields(got); len(f) < 4 || f[0] != f[1] || f[2] != "1" || f[3] != "3" || !strings.Contains(got, `\r \n`) {
		t.Errorf("after apply (CRLF lines, total lines, proxyName, modules, httpd.conf's end):\n%s", got)
	}
	if loc := curlLocation(t, h, "jira."+h.Name+".lab.test"); loc != "302 http://jira."+h.Name+".lab.test/secure/Dashboard.jspa" {
		t.Errorf("through the proxy: %s", loc)
	}
	again := frontdoor(t, nil, "apply", "--yes", "--ledger", led, "-i", inv, pb)
	if again.code != 0 || !strings.Contains(again.stdout, h.Name+": ok, no changes (nothing restarted)") {
		t.Errorf("re-apply:\n%s", again)
	}
	rb := frontdoor(t, nil, "rollback", "--ledger", led, "-i", inv, run)
	if rb.code != 0 || !strings.Contains(rb.stdout, h.Name+": rolled back, byte-exact") {
		t.Fatalf("rollback RUN:\n%s", rb)
	}
	if s := windowsSnapshot(t, l, h); s != before {
		t.Errorf("rollback RUN: not restored:\n%s\n->\n%s", before, s)
	}

	bad := writeFile(t, "bad.yaml", "apps:\n  - product: jira\n    url: http://jira."+h.Name+".lab.test\napache:\n  directives:\n    - NoSuchDirective on\n")
	r = frontdoor(t, nil, "apply", "--yes", "-i", inv, bad)
	if r.code != 1 || !strings.Contains(r.stdout, "FAILED, rolled back") || !strings.Contains(r.stdout, "NoSuchDirective") {
		t.Fatalf("apply with a broken directive:\n%s", r)
	}
	if s := windowsSnapshot(t, l, h); s != before {
		t.Errorf("failed apply: not restored:\n%s\n->\n%s", before, s)
	}
	checkAnswersAsBefore(t, h)
}
