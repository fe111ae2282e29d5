package e2e

import (
	"bufio"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frontdoor-dev/frontdoor/fleet"
	"github.com/frontdoor-dev/frontdoor/internal/labtest"
	"github.com/frontdoor-dev/frontdoor/playbooks"
	"github.com/frontdoor-dev/frontdoor/session"
	"github.com/frontdoor-dev/frontdoor/target"
)

func adminEnv(t *testing.T, l *labtest.Lab) []string {
	return []string{"FRONTDOOR_ADMIN_USER=admin", "FRONTDOOR_ADMIN_PASSWORD=" + l.AdminPassword(t)}
}

// jiraPID is Tomcat's PID as the host's catalina.pid says, read without frontdoor.
func jiraPID(t *testing.T, l *labtest.Lab, h labtest.Host) string {
	return strings.TrimSpace(l.Exec(t, h, "cat /opt/atlassian/jira/work/catalina.pid"))
}

// curlLocation asks the host's Apache with curl (not frontdoor's HTTP code) for the Location of /.
func curlLocation(t *testing.T, h labtest.Host, hostHeader string) string {
	out, err := exec.Command("curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", "-H", "Host: "+hostHeader, "http://"+h.Address+"/").CombinedOutput()
	if err != nil {
		t.Fatalf("curl: %v %s", err, out)
	}
	return string(out)
}

// TestFreshApplyThenConverged is the main path on each init: plan shows changes (exit 2),
// apply verifies through the proxy, curl confirms the redirect, a second apply changes nothing and
// restarts nothing, and plan then exits 0.
func TestFreshApplyThenConverged(t *testing.T) {
	l := labtest.Open(t)
	for _, init := range []string{"systemd", "sysv"} {
		t.Run(init, func(t *testing.T) {
			h := l.HostWithInit(t, init)
			l.Reset(t, h)
			pb := playbook(t, "jira-subdomain.yaml")
			public := "jira." + h.Name + ".lab.test"

			r := frontdoor(t, nil, "plan", "-i", l.Inventory, "--limit", h.Name, pb)
			if r.code != 2 || !strings.Contains(r.stdout, `+                   scheme="http" proxyName="`+public+`" proxyPort="80"/>`) {
				t.Fatalf("plan on a fresh host: want exit 2 and the Connector diff\n%s", r)
			}
			if got := curlLocation(t, h, public); !strings.HasPrefix(got, "200 ") {
				t.Fatalf("before apply the public name should reach Apache's default site, got %q", got)
			}

			r = frontdoor(t, adminEnv(t, l), "apply", "--yes", "--set-base-url", "-i", l.Inventory, "--limit", h.Name, pb)
			if r.code != 0 || !strings.Contains(r.stdout, h.Name+": verified http://"+public) || !strings.Contains(r.stdout, "Base URL set to http://"+public) {
				t.Fatalf("apply on a fresh host:\n%s", r)
			}
			if got := curlLocation(t, h, public); got != "302 http://"+public+"/secure/Dashboard.jspa" {
				t.Errorf("curl through Apache: %q, want a redirect under http://%s/", got, public)
			}
			pid := jiraPID(t, l, h)

			r = frontdoor(t, adminEnv(t, l), "apply", "--yes", "--set-base-url", "-i", l.Inventory, "--limit", h.Name, pb)
			if r.code != 0 || !strings.Contains(r.stdout, "no changes (nothing restarted)") || !strings.Contains(r.stdout, "Base URL is http://"+public) {
				t.Fatalf("second apply:\n%s", r)
			}
			if got := jiraPID(t, l, h); got != pid {
				t.Errorf("Jira was restarted by a converged apply: PID %s -> %s", pid, got)
			}
			r = frontdoor(t, nil, "plan", "-i", l.Inventory, "--limit", h.Name, pb)
			if r.code != 0 || !strings.Contains(r.stdout, "no changes") {
				t.Errorf("plan after apply:\n%s", r)
			}
			r = frontdoor(t, nil, "verify", "-i", l.Inventory, "--limit", h.Name, pb)
			if r.code != 0 {
				t.Errorf("verify after apply:\n%s", r)
			}
		})
	}
}

// rollOne applies pb to one host the way frontdoor apply does (lock, journal, verify, release),
// without printing anything.
func rollOne(ctx context.Context, inv *playbooks.Inventory, pb *playbooks.Playbook, name string, wrap func(target.Conn) target.Conn) *fleet.HostResult {
	now := time.Now()
	owner := fleet.Me(fleet.NewRunID(now), now)
	ro := &fleet.Rollout{Playbook: pb, Hosts: []*playbooks.Host{inv.Hosts[name]}, Opts: session.Options{Dial: labDial(inv), Wrap: wrap},
		Forks: 1, Emit: fleet.NewEmitter(owner.Run), Owner: owner}
	return ro.Run(ctx).Hosts[0]
}

// TestConvergedRoundTrips: on a converged host a whole apply costs at most 3 round trips after
// connecting (the budget); frontdoor needs 2: the gather, which also takes the host's
// lock, and the lock's release. Counted twice: by a wrapper around the Host interface, and by the
// transport's own counter of SSH commands and SFTP operations.
func TestConvergedRoundTrips(t *testing.T) {
	l := labtest.Open(t)
	h := l.Need(t, 3)[2]
	l.Reset(t, h)
	inv, err := playbooks.LoadInventory(l.Inventory)
	if err != nil {
		t.Fatal(err)
	}
	pb, err := playbooks.LoadPlaybook(playbook(t, "jira-context-path.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var wrapped *target.Counted
	wrap := func(c target.Conn) target.Conn { wrapped = &target.Counted{Conn: c}; return wrapped }
	ctx := context.Background()

	if r := rollOne(ctx, inv, pb, h.Name, wrap); r.Err != nil || r.Changed == 0 {
		t.Fatalf("first apply: changed=%d err=%v", r.Changed, r.Err)
	}
	start := time.Now()
	r := rollOne(ctx, inv, pb, h.Name, wrap)
	elapsed := time.Since(start)
	if r.Err != nil || r.Status != fleet.StatusOK {
		t.Fatalf("converged apply: %s err=%v", r.Status, r.Err)
	}
	trips := r.Run.Conn.RoundTrips()
	if n := wrapped.Ops(); n > 3 || trips > 3 {
		t.Errorf("converged apply took %d host operations, %d transport round trips; the budget is 3", n, trips)
	}
	if lock := l.Exec(t, h, "readlink /var/lib/frontdoor/lock || true"); strings.TrimSpace(lock) != "" {
		t.Errorf("lock left behind: %s", lock)
	}
	t.Logf("converged apply on %s: %d host operation(s), %d SSH/SFTP round trip(s), %s wall (connect, gather and lock, plan, verify through the proxy, unlock)",
		h.Name, wrapped.Ops(), trips, elapsed.Round(time.Millisecond))
}

// TestRollbackWhenConfigtestFails: a playbook whose VirtualHost does not pass apachectl configtest.
// httpd is never restarted with it, and the host ends exactly as it was.
func TestRollbackWhenConfigtestFails(t *testing.T) {
	l := labtest.Open(t)
	h := l.Need(t, 1)[0]
	l.Reset(t, h)
	pb := writeFile(t, "bad.yaml", "apps:\n  - product: jira\n    url: http://jira."+h.Name+".lab.test/jira\napache:\n  remote_ip: true\n  directives:\n    - NoSuchDirective on\n")
	before := snapshot(t, l, h)
	apachePID := strings.TrimSpace(l.Exec(t, h, "cat /run/apache2/apache2.pid"))

	r := frontdoor(t, adminEnv(t, l), "apply", "--yes", "-i", l.Inventory, "--limit", h.Name, pb)
	if r.code != 1 || !strings.Contains(r.stdout, "FAILED, rolled back") || !strings.Contains(r.stdout, "Invalid command 'NoSuchDirective'") {
		t.Fatalf("apply with a broken directive:\n%s", r)
	}
	if after := snapshot(t, l, h); after != before {
		t.Errorf("host not restored:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if got := strings.TrimSpace(l.Exec(t, h, "cat /run/apache2/apache2.pid")); got != apachePID {
		t.Errorf("httpd was restarted (%s -> %s) although its new configuration never passed configtest", apachePID, got)
	}
	checkAnswersAsBefore(t, h)
}

// TestRollbackWhenAppDoesNotComeBack: the app fails to start with its new configuration (made so
// on the host: its setenv.sh refuses a proxied server.xml, as a bad JVM option would). The host is
// rolled back: files byte-exact with mode and owner, modules and sites as before, Jira answers.
func TestRollbackWhenAppDoesNotComeBack(t *testing.T) {
	l := labtest.Open(t)
	h := l.HostWithInit(t, "sysv")
	l.Reset(t, h)
	refuseProxiedJira(t, l, h)
	before := snapshot(t, l, h)

	r := frontdoor(t, adminEnv(t, l), "apply", "--yes", "-i", l.Inventory, "--limit", h.Name, playbook(t, "jira-subdomain.yaml"))
	if r.code != 1 || !strings.Contains(r.stdout, "FAILED, rolled back") {
		t.Fatalf("apply with an app that does not come back:\n%s", r)
	}
	if after := snapshot(t, l, h); after != before {
		t.Errorf("host not restored:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	checkAnswersAsBefore(t, h)
}

// refuseProxiedJira makes Jira on a sysv host refuse to start once its server.xml is proxied (its
// setenv.sh exits, as a bad JVM option would): the failure the rollback tests inject.
func refuseProxiedJira(t *testing.T, l *labtest.Lab, h labtest.Host) {
	t.Helper()
	if h.Init != "sysv" {
		t.Fatalf("%s should boot with init.d scripts (scripts/test starts it so): its Jira is started through setenv.sh", h.Name)
	}
	l.Exec(t, h, `printf '%s\n' 'if [ "$1" = start ] && grep -q "proxyName=\"jira\." "$CATALINA_BASE/conf/server.xml"; then echo "lab: refusing to start with a proxied server.xml" >&2; exit 1; fi' >> /opt/atlassian/jira/bin/setenv.sh`)
}

// snapshot is what rollback must restore, read inside the host without frontdoor: every file
// frontdoor may touch (hash, mode, owner) and the enabled modules and sites.
func snapshot(t *testing.T, l *labtest.Lab, h labtest.Host) string {
	var b strings.Builder
	b.WriteString("/opt/atlassian/jira/conf/server.xml " + l.FileState(t, h, "/opt/atlassian/jira/conf/server.xml") + "\n")
	b.WriteString(l.Exec(t, h, `cd /etc/apache2/sites-available && for f in *; do echo "$f $(sha256sum < "$f" | cut -c1-16) $(stat -c '%a %U:%G' "$f")"; done`))
	b.WriteString(l.Exec(t, h, "ls -l /etc/apache2/mods-enabled /etc/apache2/sites-enabled | awk '{print $1, $3, $4, $9, $10, $11}'"))
	return b.String()
}

// checkAnswersAsBefore: Jira answers directly as an unproxied Jira does, and Apache serves its
// default site.
func checkAnswersAsBefore(t *testing.T, h labtest.Host) {
	cl := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := cl.Get("http://" + h.Address + ":8080/")
	if err != nil {
		t.Fatalf("Jira after rollback: %v", err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); loc != "http://"+h.Address+":8080/secure/Dashboard.jspa" {
		t.Errorf("Jira after rollback redirects to %q", loc)
	}
	resp, err = cl.Get("http://" + h.Address + "/")
	if err != nil {
		t.Fatalf("Apache after rollback: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("Apache after rollback: %d", resp.StatusCode)
	}
}

// TestSudoUsers: login as a user with NOPASSWD sudo and as one whose sudo needs a password; the
// password never appears in any process's argv on the host (watched during the whole run) nor
// in frontdoor's output.
func TestSudoUsers(t *testing.T) {
	l := labtest.Open(t)
	h := l.Need(t, 2)[1]
	pw := strings.TrimSpace(string(must(exec.Command("cat", l.Run+"/ops-become-password").Output())))
	if pw == "" {
		t.Fatal("no ops password in the lab")
	}
	adminPw := l.AdminPassword(t)
	t.Run("ops with password", func(t *testing.T) {
		l.Reset(t, h)
		inv := l.WriteInventory(t, "ops", "become_password_file: "+l.Run+"/ops-become-password", h)
		stop := make(chan struct{})
		var leaks []string
		var mu sync.Mutex
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { // every process's full argv on the host, sampled all along the run
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				out, _ := l.TryExec(h, "cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' '")
				// Neither the sudo password nor the application admin's (--set-base-url).
				if strings.Contains(out, pw) || strings.Contains(out, adminPw) {
					mu.Lock()
					leaks = append(leaks, out)
					mu.Unlock()
				}
				time.Sleep(20 * time.Millisecond)
			}
		}()
		r := frontdoor(t, adminEnv(t, l), "apply", "--yes", "--set-base-url", "-i", inv, playbook(t, "jira-subdomain.yaml"))
		close(stop)
		wg.Wait()
		if r.code != 0 || !strings.Contains(r.stdout, "verified") {
			t.Fatalf("apply as ops:\n%s", r)
		}
		if strings.Contains(r.stdout+r.stderr, pw) {
			t.Error("the sudo password appears in frontdoor's output")
		}
		if len(leaks) > 0 {
			t.Errorf("a password appeared in a process's argv on the host: %s", leaks[0])
		}
		// Files written through sudo SFTP keep root ownership and modes.
		if st := l.FileState(t, h, "/etc/apache2/sites-available/frontdoor-jira."+h.Name+".lab.test.conf"); !strings.HasSuffix(st, " 644 root:root") {
			t.Errorf("vhost written as ops: %s", st)
		}
		// A wrong password is a clear error, and nothing changes.
		bad := writeFile(t, "pw", "wrong-password\n")
		inv = l.WriteInventory(t, "ops", "become_password_file: "+bad, h)
		r = frontdoor(t, nil, "plan", "-i", inv, playbook(t, "jira-context-path.yaml"))
		if r.code != 1 || !strings.Contains(r.stdout, "incorrect password") {
			t.Errorf("plan with a wrong sudo password:\n%s", r)
		}
	})
	t.Run("admin NOPASSWD", func(t *testing.T) {
		l.Reset(t, h)
		inv := l.WriteInventory(t, "admin", "", h)
		r := frontdoor(t, adminEnv(t, l), "apply", "--yes", "-i", inv, playbook(t, "jira-context-path.yaml"))
		if r.code != 0 || !strings.Contains(r.stdout, "verified http://tools."+h.Name+".lab.test/jira") {
			t.Fatalf("apply as admin:\n%s", r)
		}
		if st := l.FileState(t, h, "/opt/atlassian/jira/conf/server.xml"); !strings.HasSuffix(st, " 644 root:root") {
			t.Errorf("server.xml written as admin: %s", st)
		}
		// Without a password the ops user's sudo fails with a message that says what to do.
		inv = l.WriteInventory(t, "ops", "", h)
		r = frontdoor(t, nil, "plan", "-i", inv, playbook(t, "jira-context-path.yaml"))
		if r.code != 1 || !strings.Contains(r.stdout, "become_password_file") {
			t.Errorf("plan as ops without a password:\n%s", r)
		}
	})
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// BenchmarkConvergedApply: the whole apply of a converged host as frontdoor apply makes it
// (connect, gather and lock, plan, verify through the proxy, unlock), with its round trips per
// operation. Results: docs/performance.md.
func BenchmarkConvergedApply(b *testing.B) {
	l := labtest.Open(b)
	h := l.Need(b, 3)[2]
	l.Reset(b, h)
	inv, err := playbooks.LoadInventory(l.Inventory)
	if err != nil {
		b.Fatal(err)
	}
	pb, err := playbooks.LoadPlaybook("../playbooks/examples/jira-context-path.yaml")
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if r := rollOne(ctx, inv, pb, h.Name, nil); r.Err != nil {
		b.Fatal(r.Err)
	}
	var trips int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := rollOne(ctx, inv, pb, h.Name, nil)
		trips += r.Run.Conn.RoundTrips()
		if r.Err != nil || r.Changed != 0 {
			b.Fatalf("changed=%d err=%v", r.Changed, r.Err)
		}
	}
	b.ReportMetric(float64(trips)/float64(b.N), "roundtrips/op")
}

// TestAdminCredentialsNeverInClear: --set-base-url sends Jira's admin credentials only through
// the SSH connection (forwarded to the host's own Apache): a capture of the lab bridge during
// the run holds neither the password nor any Authorization header, though the Base URL was set.
func TestAdminCredentialsNeverInClear(t *testing.T) {
	l := labtest.Open(t)
	h := l.Need(t, 1)[0]
	l.Reset(t, h)
	if _, err := exec.LookPath("tcpdump"); err != nil {
		t.Fatal("tcpdump is not installed (scripts/setup installs it)")
	}
	// A pcap file written packet by packet (-U), read back as text afterwards: text written to a
	// pipe or file is block-buffered and can be lost when tcpdump is stopped.
	pcap := filepath.Join(t.TempDir(), "bridge.pcap")
	dump := exec.Command("tcpdump", "-i", "fdlab0", "-U", "-n", "-s", "0", "-w", pcap, "tcp port 80 or tcp port 8080")
	stderr, err := dump.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := dump.Start(); err != nil {
		t.Fatal(err)
	}
	// Capture only once tcpdump says it listens (a loaded machine can take seconds).
	listening := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "listening on") {
				listening <- true
			}
		}
	}()
	select {
	case <-listening:
	case <-time.After(30 * time.Second):
		t.Fatal("tcpdump did not start listening on fdlab0")
	}
	r := frontdoor(t, adminEnv(t, l), "apply", "--yes", "--set-base-url", "-i", l.Inventory, "--limit", h.Name, playbook(t, "jira-subdomain.yaml"))
	time.Sleep(time.Second)
	dump.Process.Signal(os.Interrupt)
	dump.Wait()
	if r.code != 0 || !strings.Contains(r.stdout, "Base URL set to") {
		t.Fatalf("apply --set-base-url:\n%s", r)
	}
	text, err := exec.Command("tcpdump", "-n", "-A", "-r", pcap).Output()
	if err != nil {
		t.Fatalf("tcpdump -r: %v", err)
	}
	capture := filepath.Join(t.TempDir(), "bridge.txt")
	os.WriteFile(capture, text, 0o644)
	data, _ := os.ReadFile(capture)
	pw := l.AdminPassword(t)
	if !strings.Contains(string(data), "GET / HTTP/1.1") {
		t.Fatalf("the capture saw no verification traffic: is it the right bridge?\n%.2000s", data)
	}
	if strings.Contains(string(data), pw) || strings.Contains(strings.ToLower(string(data)), "authorization:") {
		t.Errorf("admin credentials crossed the lab bridge in clear")
	}
}

// TestRollbackWhenNewListenTakesAnAppsPort: the new VirtualHost's port is free when httpd restarts
// (the apps are stopped first) but is Tomcat's shutdown port (8005), so Jira cannot start again.
// The host is rolled back: httpd is waited for where it listened before (port 80, not the new
// vhost's 8005, which the restored configuration no longer has) and Jira starts again. Found on
// the lab: the rollback used to wait for httpd on the new port and ended "ROLLBACK INCOMPLETE".
// Since the preflight checks, a host whose ss names the port's holder is refused before any
// change; the rollback path is exercised on the same host with ss hidden (STUBBED: a failing
// /usr/local/sbin/ss, as on a minimal host without iproute2), where the holder cannot be seen.
func TestRollbackWhenNewListenTakesAnAppsPort(t *testing.T) {
	l := labtest.Open(t)
	h := l.Need(t, 1)[0]
	l.Reset(t, h)
	defer l.Reset(t, h)
	for i := 0; !strings.Contains(l.Exec(t, h, "cat /proc/net/tcp /proc/net/tcp6 | awk '$4 == \"0A\" { print $2 }'"), ":1F45"); i++ { // 8005, listening
		if i == 120 {
			t.Fatal("Tomcat's shutdown port 8005 is not listening on the lab host")
		}
		time.Sleep(500 * time.Millisecond)
	}
	pb := writeFile(t, "busy.yaml", "apps:\n  - product: jira\n    url: http://jira."+h.Name+".lab.test:8005\n    start_timeout: 30\n")
	before := snapshot(t, l, h)
	pre := frontdoor(t, nil, "apply", "--yes", "-i", l.Inventory, "--limit", h.Name, pb)
	if pre.code != 1 || !strings.Contains(pre.stdout, "ERROR port 8005: taken by java, not Apache") || !strings.Contains(pre.stdout, "refused before any change") {
		t.Fatalf("preflight should refuse a port Tomcat holds:\n%s", pre)
	}
	if after := snapshot(t, l, h); after != before {
		t.Fatalf("refused by preflight, yet changed:\n%s\n->\n%s", before, after)
	}
	l.Exec(t, h, "printf '#!/bin/sh\\n# STUBBED by TestRollbackWhenNewListenTakesAnAppsPort: no ss on this host\\nexit 127\\n' >/usr/local/sbin/ss; chmod 755 /usr/local/sbin/ss")
	defer l.Exec(t, h, "rm -f /usr/local/sbin/ss")
	r := frontdoor(t, nil, "apply", "--yes", "-i", l.Inventory, "--limit", h.Name, pb)
	if r.code != 1 || !strings.Contains(r.stdout, "FAILED, rolled back") || !strings.Contains(r.stdout, "jira does not answer on port 8080") || strings.Contains(r.stdout, "ROLLBACK INCOMPLETE") {
		t.Fatalf("apply whose new Listen takes Jira's shutdown port:\n%s", r)
	}
	if after := snapshot(t, l, h); after != before {
		t.Errorf("host not restored:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	checkAnswersAsBefore(t, h)
}
