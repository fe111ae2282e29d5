package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/frontdoor-dev/frontdoor/certs/certtest"
	"github.com/frontdoor-dev/frontdoor/fleet"
	"github.com/frontdoor-dev/frontdoor/internal/labtest"
)

// The lab's Data Center cluster (docs/cluster.md): jira2, jira3 and jira4 run the Jira STAND-IN
// as three nodes and jira1's Apache balances them. The nodes share no cluster state (no shared
// database or home, each keeps its own Base URL): they stand in for Data Center nodes only as far
// as the balancer sees them, which is what frontdoor configures and drives.
const clusterName = "jira.cluster.lab.test"

func clusterHosts(t *testing.T, l *labtest.Lab) (balancer labtest.Host, nodes []labtest.Host) {
	hs := l.Need(t, 4)
	return hs[0], hs[1:4]
}

// clientLoop asks the balancer for Jira's pages as users would, from several clients at once
// (each with its cookie jar, so sticky ones stay on their node, and some without cookies), until
// stop is called; it returns the requests made and the failed ones (anything but 2xx/3xx, or no
// answer).
type clientLoop struct {
	requests, failed atomic.Int64
	mu               sync.Mutex
	failures         []string
	cancel           context.CancelFunc
	wg               sync.WaitGroup
}

func startClients(balancer labtest.Host, clients int) *clientLoop {
	ctx, cancel := context.WithCancel(context.Background())
	cl := &clientLoop{cancel: cancel}
	for i := 0; i < clients; i++ {
		cl.wg.Add(1)
		go func() {
			defer cl.wg.Done()
			c := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			if i%2 == 0 { // a browser session: keeps its ROUTEID
				c.Jar, _ = cookiejar.New(nil)
			}
			for ctx.Err() == nil {
				for _, path := range []string{"/", "/secure/Dashboard.jspa", "/status"} {
					req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+balancer.Address+path, nil)
					req.Host = clusterName
					resp, err := c.Do(req)
					if ctx.Err() != nil {
						return
					}
					cl.requests.Add(1)
					if err == nil {
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					}
					if err != nil || resp.StatusCode >= 400 {
						cl.failed.Add(1)
						cl.mu.Lock()
						msg := fmt.Sprint(err)
						if err == nil {
							msg = resp.Status
						}
						cl.failures = append(cl.failures, time.Now().Format("15:04:05.000")+" GET "+path+": "+msg)
						cl.mu.Unlock()
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
		}()
	}
	return cl
}

func (cl *clientLoop) stop() { cl.cancel(); cl.wg.Wait() }

// oneDownAtATime checks, from the run's events, that no node's app was stopped while another
// node was out of the balancer, and returns the nodes in the order they were restarted.
func oneDownAtATime(t *testing.T, evs []fleet.Event) []string {
	t.Helper()
	out := ""
	var order []string
	for _, e := range evs {
		if e.Type != fleet.HostProgress {
			continue
		}
		host, step := e.Host, e.Step
		switch {
		case strings.HasPrefix(step, "drain "):
			if out != "" && out != host {
				t.Errorf("%s drained while %s is still out of the balancer", host, out)
			}
			if out != host {
				order = append(order, host)
			}
			out = host
		case strings.HasPrefix(step, "stop jira") && out != host:
			t.Errorf("%s's Jira stopped without being drained first (out: %q)", host, out)
		case strings.HasPrefix(step, "put ") && strings.Contains(step, " back in balancer"):
			if out == host {
				out = ""
			}
		}
	}
	if out != "" {
		t.Errorf("%s was never put back in the balancer", out)
	}
	return order
}

// TestClusterBehindBalancer: a fresh 3-node cluster behind jira1's Apache is applied and
// verified through the balancer (every node pinned by its route, the sticky cookie set and
// honoured, every member healthy in balancer-manager); re-applying changes nothing. Then every
// node's server.xml drifts, and the re-apply restarts the three nodes one at a time, each
// drained and stopped in the balancer first, while clients go on through the balancer: 0 failed
// requests. Then a node that does not come back stops the rollout: it is rolled back and put back
// in the balancer, the nodes after it are not touched, the others keep serving.
func TestClusterBehindBalancer(t *testing.T) {
	l := labtest.Open(t)
	bal, nodes := clusterHosts(t, l)
	all := append([]labtest.Host{bal}, nodes...)
	l.Reset(t, all...)
	limit := strings.Join([]string{bal.Name, nodes[0].Name, nodes[1].Name, nodes[2].Name}, ",")
	pb := "../playbooks/examples/clusters/jira-cluster.yaml"
	env := adminEnv(t, l)

	// Fresh: applied and verified through the balancer.
	r := frontdoor(t, env, "apply", "--yes", "--set-base-url", "-i", l.Inventory, "--limit", limit, pb)
	if r.code != 0 {
		t.Fatalf("fresh apply of the cluster:\n%s", r)
	}
	for _, want := range []string{"balancer-manager: jira2", "Set-Cookie ROUTEID=.", "(honoured)", "[node jira3]", "[node jira4]"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the balancer's verification does not show %q:\n%s", want, r.stdout)
		}
	}
	vhost := l.Exec(t, bal, "cat /etc/apache2/sites-available/frontdoor-"+clusterName+".conf")
	for _, want := range []string{"<Proxy balancer://jira>", "BalancerMember http://" + nodes[0].Address + ":8080 route=jira2",
		"ProxySet lbmethod=byrequests stickysession=ROUTEID", "hcuri=/status", "SetHandler balancer-manager", "Require expr \"%{CONN_REMOTE_ADDR} -ipmatch '127.0.0.0/8'"} {
		if !strings.Contains(vhost, want) {
			t.Errorf("the balancer's VirtualHost lacks %q:\n%s", want, vhost)
		}
	}
	for _, n := range nodes {
		if x := l.Exec(t, n, "grep -c 'proxyName=\""+clusterName+"\"' /opt/atlassian/jira/conf/server.xml"); strings.TrimSpace(x) != "1" {
			t.Errorf("%s's server.xml has no proxyName %s", n.Name, clusterName)
		}
		if x, _ := l.TryExec(n, "ls /etc/apache2/sites-available/ | grep frontdoor || true"); strings.TrimSpace(x) != "" {
			t.Errorf("a node got a VirtualHost: %s", x)
		}
	}
	// balancer-manager is not exposed: from the controller, it is refused.
	req, _ := http.NewRequest("GET", "http://"+bal.Address+"/balancer-manager", nil)
	req.Host = clusterName
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 403 {
		t.Errorf("balancer-manager from outside the balancer host: %v %v, want 403", err, resp)
	} else {
		resp.Body.Close()
	}

	// Converged: nothing changes, nothing restarts.
	r = frontdoor(t, env, "apply", "--yes", "-i", l.Inventory, "--limit", limit, pb)
	if r.code != 0 || !strings.Contains(r.stdout, "0 changed") {
		t.Fatalf("re-apply of a converged cluster:\n%s", r)
	}

	// Every node must restart: their server.xml drifted (the running apps still have the right one).
	pids := map[string]string{}
	for _, n := range nodes {
		drift(t, l, n)
		pids[n.Name] = jiraPID(t, l, n)
	}
	clients := startClients(bal, 6)
	time.Sleep(time.Second)
	r = frontdoor(t, env, "apply", "--yes", "--output", "json", "-i", l.Inventory, "--limit", limit, pb)
	time.Sleep(time.Second)
	clients.stop()
	t.Logf("client loop through the balancer during the rolling restart: %d requests, %d failed", clients.requests.Load(), clients.failed.Load())
	if r.code != 0 {
		t.Fatalf("rolling apply:\n%s", r)
	}
	if clients.failed.Load() != 0 || clients.requests.Load() < 100 {
		t.Errorf("rolling restart: %d of %d requests failed, want 0 of at least 100:\n%s", clients.failed.Load(), clients.requests.Load(), strings.Join(clients.failures, "\n"))
	}
	order := oneDownAtATime(t, events(t, r.stdout))
	if len(order) != 3 {
		t.Errorf("nodes drained: %v, want the three", order)
	}
	for _, n := range nodes {
		if jiraPID(t, l, n) == pids[n.Name] {
			t.Errorf("%s's Jira was not restarted", n.Name)
		}
	}

	// A node that does not come back: the first one restarted (--forks 1: in inventory order).
	failing := nodes[0]
	for _, n := range nodes {
		drift(t, l, n)
	}
	// It refuses to start with the cluster's proxyName (as a bad JVM option would).
	refuseClusterStart(t, l, failing)
	before := snapshot(t, l, failing)
	balBefore := snapshot(t, l, bal)
	others := map[string]string{}
	for _, n := range nodes[1:] {
		others[n.Name] = l.FileState(t, n, "/opt/atlassian/jira/conf/server.xml")
	}
	clients = startClients(bal, 4)
	r = frontdoor(t, env, "apply", "--yes", "--forks", "1", "--output", "json", "-i", l.Inventory, "--limit", limit, pb)
	clients.stop()
	t.Logf("client loop during the failed node: %d requests, %d failed", clients.requests.Load(), clients.failed.Load())
	if r.code != 1 {
		t.Fatalf("apply with a node that does not come back: want exit 1:\n%s", r)
	}
	evs := events(t, r.stdout)
	oneDownAtATime(t, evs)
	status := map[string]string{}
	for _, e := range evs {
		if e.Type == fleet.HostDone {
			status[e.Host] = e.Status
		}
	}
	if status[failing.Name] != "failed" || status[bal.Name] != "skipped" || status[nodes[1].Name] != "skipped" || status[nodes[2].Name] != "skipped" {
		t.Errorf("statuses %v: want %s failed, the other nodes and the balancer skipped", status, failing.Name)
	}
	if after := snapshot(t, l, failing); after != before {
		t.Errorf("%s not restored:\nbefore:\n%s\nafter:\n%s", failing.Name, before, after)
	}
	if after := snapshot(t, l, bal); after != balBefore {
		t.Errorf("the balancer changed:\nbefore:\n%s\nafter:\n%s", balBefore, after)
	}
	for _, n := range nodes[1:] {
		if got := l.FileState(t, n, "/opt/atlassian/jira/conf/server.xml"); got != others[n.Name] {
			t.Errorf("%s was changed after %s failed", n.Name, failing.Name)
		}
	}
	if clients.failed.Load() != 0 {
		t.Errorf("the other nodes did not keep serving: %d of %d requests failed:\n%s", clients.failed.Load(), clients.requests.Load(), strings.Join(clients.failures, "\n"))
	}
	// Back in the balancer: balancer-manager (asked on the balancer host itself) shows it in service.
	bm := l.Exec(t, bal, "curl -s -e http://"+clusterName+"/ -H 'Host: "+clusterName+"' 'http://127.0.0.1/balancer-manager?b=jira&xml=1'")
	if !strings.Contains(bm, "<httpd:route>"+failing.Name+"</httpd:route>") {
		t.Fatalf("balancer-manager's XML has no member %s:\n%s", failing.Name, bm)
	}
	for _, w := range strings.Split(bm, "<httpd:worker>")[1:] {
		if strings.Contains(w, "<httpd:route>"+failing.Name+"<") && (strings.Contains(w, "Drn") || strings.Contains(w, "Stop")) {
			t.Errorf("%s is still out of the balancer after its rollback:\n%s", failing.Name, w)
		}
	}
}

// drift edits a node's server.xml behind frontdoor's back (the running app keeps the right
// configuration): the next apply must rewrite it and restart the node.
func drift(t *testing.T, l *labtest.Lab, n labtest.Host) {
	l.Exec(t, n, `sed -i 's/proxyName="`+clusterName+`"/proxyName="drifted.example"/' /opt/atlassian/jira/conf/server.xml`)
}

// refuseClusterStart makes a sysv node's Jira refuse to start with the cluster's proxyName (its
// setenv.sh exits, as a bad JVM option would): a node that does not come back.
func refuseClusterStart(t *testing.T, l *labtest.Lab, h labtest.Host) {
	if h.Init != "sysv" {
		t.Fatalf("%s should be a sysv host (scripts/test starts the lab so)", h.Name)
	}
	l.Exec(t, h, `printf '%s\n' 'if [ "$1" = start ] && grep -q "proxyName=\"`+clusterName+`\"" "$CATALINA_BASE/conf/server.xml"; then echo "lab: refusing to start" >&2; exit 1; fi' >> /opt/atlassian/jira/bin/setenv.sh`)
}

// managerCurl runs curl on the balancer host against its balancer-manager (as an admin would,
// with the Referer the manager wants): frontdoor's own client is not trusted to check itself.
func managerCurl(t *testing.T, l *labtest.Lab, bal labtest.Host, args string) string {
	return l.Exec(t, bal, "curl -s -e http://"+clusterName+"/ -H 'Host: "+clusterName+"' "+args)
}

// setMember sets a node's drain and stop flags in the balancer through balancer-manager.
func setMember(t *testing.T, l *labtest.Lab, bal, node labtest.Host, stop int) {
	xml := managerCurl(t, l, bal, "'http://127.0.0.1/balancer-manager?b=jira&xml=1'")
	nonce := strings.SplitN(strings.SplitN(xml, "<httpd:nonce>", 2)[1], "<", 2)[0]
	managerCurl(t, l, bal, fmt.Sprintf("-d 'b=jira&w=http://%s:8080&nonce=%s&w_status_N=%d&w_status_S=%d' http://127.0.0.1/balancer-manager", node.Address, nonce, stop, stop))
}

// TestClusterGuards: frontdoor never takes out the last node that serves (the others stopped in
// the balancer by an admin: the node's change is refused before anything changes), and a
// balancer whose verification fails (a node down, so hcheck does not see every node up) is rolled
// back byte for byte, modules included.
func TestClusterGuards(t *testing.T) {
	l := labtest.Open(t)
	bal, nodes := clusterHosts(t, l)
	l.Reset(t, append([]labtest.Host{bal}, nodes...)...)
	limit := strings.Join([]string{bal.Name, nodes[0].Name, nodes[1].Name, nodes[2].Name}, ",")
	pb := "../playbooks/examples/clusters/jira-cluster.yaml"
	if r := frontdoor(t, adminEnv(t, l), "apply", "--yes", "--set-base-url", "-i", l.Inventory, "--limit", limit, pb); r.code != 0 {
		t.Fatalf("fresh apply of the cluster:\n%s", r)
	}

	// The last node that serves.
	for _, n := range nodes[1:] {
		setMember(t, l, bal, n, 1)
	}
	only := nodes[0]
	drift(t, l, only)
	before, pid := snapshot(t, l, only), jiraPID(t, l, only)
	r := frontdoor(t, nil, "apply", "--yes", "-i", l.Inventory, "--limit", limit, pb)
	if r.code != 1 || !strings.Contains(r.stdout, "is the only node of jira that balancer "+bal.Name+" sends requests to") {
		t.Fatalf("draining the last serving node: want it refused (exit 1):\n%s", r)
	}
	if snapshot(t, l, only) != before || jiraPID(t, l, only) != pid {
		t.Errorf("%s changed or restarted although it was refused", only.Name)
	}
	xml := managerCurl(t, l, bal, "'http://127.0.0.1/balancer-manager?b=jira&xml=1'")
	if strings.Count(xml, "<httpd:status>Init Ok </httpd:status>") != 1 {
		t.Errorf("the balancer's members after the refusal (want %s alone in service):\n%s", only.Name, xml)
	}
	for _, n := range nodes[1:] {
		setMember(t, l, bal, n, 0)
	}
	if r := frontdoor(t, nil, "apply", "--yes", "-i", l.Inventory, "--limit", limit, pb); r.code != 0 {
		t.Fatalf("apply once the other nodes are back:\n%s", r)
	}

	// A balancer change whose verification fails: rolled back byte for byte.
	down := nodes[2]
	l.Exec(t, down, "/etc/init.d/jira stop >/dev/null 2>&1 || systemctl stop jira")
	changed := writeFile(t, "cluster.yaml", "apps:\n  - product: jira\n    url: http://"+clusterName+"\n    nodes: ["+nodes[0].Name+", "+nodes[1].Name+", "+nodes[2].Name+"]\n    balancer: ["+bal.Name+"]\n    lbmethod: bybusyness\n")
	balBefore := snapshot(t, l, bal)
	r = frontdoor(t, nil, "apply", "--yes", "--verify-wait", "12s", "-i", l.Inventory, "--limit", bal.Name, changed)
	if r.code != 1 || !strings.Contains(r.stdout, "FAILED, rolled back") || !strings.Contains(r.stdout, "not serving in the balancer: "+down.Name) {
		t.Fatalf("a balancer change with a node down: want it rolled back (exit 1):\n%s", r)
	}
	if after := snapshot(t, l, bal); after != balBefore {
		t.Errorf("the balancer was not restored byte for byte:\nbefore:\n%s\nafter:\n%s", balBefore, after)
	}
	l.Exec(t, down, "/etc/init.d/jira start >/dev/null 2>&1 || systemctl start jira")

	// balancer-manager stays the balancer host's alone when Apache trusts X-Forwarded-For from
	// the lab's network (mod_remoteip with an internal proxy, as behind a front load balancer):
	// "Require local" would then let anyone claiming 127.0.0.1 in; the connection's own address
	// does not.
	subnet := bal.Address[:strings.LastIndex(bal.Address, ".")] + ".0/24"
	trusting := writeFile(t, "trusting.yaml", "apps:\n  - product: jira\n    url: http://"+clusterName+"\n    nodes: ["+nodes[0].Name+", "+nodes[1].Name+", "+nodes[2].Name+"]\n    balancer: ["+bal.Name+"]\napache:\n  remote_ip: true\n  directives: [\"RemoteIPInternalProxy "+subnet+"\"]\n")
	if r := frontdoor(t, nil, "apply", "--yes", "-i", l.Inventory, "--limit", limit, trusting); r.code != 0 {
		t.Fatalf("apply with mod_remoteip trusting the lab's network:\n%s", r)
	}
	for _, xff := range []string{"", "127.0.0.1", "::1", bal.Address} {
		req, _ := http.NewRequest("GET", "http://"+bal.Address+"/balancer-manager?b=jira&xml=1", nil)
		req.Host = clusterName
		req.Header.Set("Referer", "http://"+clusterName+"/")
		if xff != "" {
			req.Header.Set("X-Forwarded-For", xff)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 403 {
			t.Errorf("balancer-manager from the controller with X-Forwarded-For %q: %d, want 403", xff, resp.StatusCode)
		}
	}
}

// TestClusterTwoBalancers: the cluster behind two balancers, one of them the Red Hat-layout host
// (EMULATED: the lab's Rocky layout, built from Debian's packages): each gets the VirtualHost its
// family's way (conf.d, LoadModule lines, setsebool where SELinux would stop it), each verifies
// every node; a node's restart drains it in both.
func TestClusterTwoBalancers(t *testing.T) {
	l := labtest.Open(t)
	bal, nodes := clusterHosts(t, l)
	rh := l.HostWithFlavor(t, "rocky")
	l.Reset(t, append([]labtest.Host{bal, rh}, nodes...)...)
	limit := strings.Join([]string{bal.Name, rh.Name, nodes[0].Name, nodes[1].Name, nodes[2].Name}, ",")
	pb := writeFile(t, "cluster.yaml", "apps:\n  - product: jira\n    url: http://"+clusterName+"\n    nodes: ["+nodes[0].Name+", "+nodes[1].Name+", "+nodes[2].Name+"]\n    balancer: ["+bal.Name+", "+rh.Name+"]\n")
	r := frontdoor(t, nil, "apply", "--yes", "-i", l.Inventory, "--limit", limit, pb)
	if r.code != 0 {
		t.Fatalf("fresh apply behind two balancers:\n%s", r)
	}
	if x := l.Exec(t, rh, "cat /etc/httpd/conf.d/frontdoor-"+clusterName+".conf"); !strings.Contains(x, "<Proxy balancer://jira>") {
		t.Errorf("the Red Hat-layout balancer's VirtualHost:\n%s", x)
	}
	for _, h := range []labtest.Host{bal, rh} {
		if !strings.Contains(r.stdout, h.Name+": verified http://"+clusterName+" through the proxy (balancer-manager: "+nodes[0].Name) {
			t.Errorf("%s did not verify the cluster through its balancer:\n%s", h.Name, r.stdout)
		}
	}
	n := nodes[1]
	drift(t, l, n)
	r = frontdoor(t, nil, "apply", "--yes", "--output", "json", "-i", l.Inventory, "--limit", limit, pb)
	if r.code != 0 {
		t.Fatalf("rolling apply behind two balancers:\n%s", r)
	}
	steps := map[string]bool{}
	for _, e := range events(t, r.stdout) {
		if e.Type == fleet.HostProgress && e.Host == n.Name {
			steps[e.Step] = true
		}
	}
	for _, b := range []labtest.Host{bal, rh} {
		for _, want := range []string{"drain " + n.Name + " in balancer " + b.Name, "stop " + n.Name + " in balancer " + b.Name, "put " + n.Name + " back in balancer " + b.Name} {
			if !steps[want] {
				t.Errorf("no %q among %s's steps: %v", want, n.Name, steps)
			}
		}
	}
	if r := frontdoor(t, nil, "plan", "-i", l.Inventory, "--limit", limit, pb); r.code != 0 {
		t.Errorf("plan after the rolling apply: want exit 0 (nothing pending):\n%s", r)
	}
	// The node alone (--limit): its balancers, outside the limit, are still reached to drain it.
	drift(t, l, n)
	r = frontdoor(t, nil, "apply", "--yes", "-v", "-i", l.Inventory, "--limit", n.Name, pb)
	for _, b := range []labtest.Host{bal, rh} {
		if r.code != 0 || !strings.Contains(r.stdout, n.Name+": stop "+n.Name+" in balancer "+b.Name) || !strings.Contains(r.stdout, n.Name+": put "+n.Name+" back in balancer "+b.Name) {
			t.Errorf("a node alone (--limit %s): want it taken out of %s and put back:\n%s", n.Name, b.Name, r)
		}
	}
}

// TestClusterBatchRollback: with --serial, a node failing after others changed in its batch rolls
// the batch back, and those nodes restart the rolling way too (one at a time, taken out of the
// balancer first): the clients through the balancer see no failure, and every node ends as before.
func TestClusterBatchRollback(t *testing.T) {
	l := labtest.Open(t)
	bal, nodes := clusterHosts(t, l)
	l.Reset(t, append([]labtest.Host{bal}, nodes...)...)
	limit := strings.Join([]string{bal.Name, nodes[0].Name, nodes[1].Name, nodes[2].Name}, ",")
	pb := "../playbooks/examples/clusters/jira-cluster.yaml"
	if r := frontdoor(t, nil, "apply", "--yes", "-i", l.Inventory, "--limit", limit, pb); r.code != 0 {
		t.Fatalf("fresh apply of the cluster:\n%s", r)
	}
	failing := nodes[2]
	before := map[string]string{}
	for _, n := range nodes {
		drift(t, l, n)
		before[n.Name] = snapshot(t, l, n)
	}
	refuseClusterStart(t, l, failing)
	before[failing.Name] = snapshot(t, l, failing)
	clients := startClients(bal, 6)
	r := frontdoor(t, nil, "apply", "--yes", "--serial", "100%", "--forks", "1", "--output", "json", "-i", l.Inventory, "--limit", limit, pb)
	clients.stop()
	t.Logf("client loop during the batch's rollback: %d requests, %d failed", clients.requests.Load(), clients.failed.Load())
	if r.code != 3 {
		t.Fatalf("a failed node in a rolling batch: want exit 3 (stopped):\n%s", r)
	}
	evs := events(t, r.stdout)
	oneDownAtATime(t, evs)
	rolledBack, undoing, drainedForUndo := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, e := range evs {
		switch {
		case e.Type == fleet.HostRollback && e.Status == fleet.StatusRolledBack:
			rolledBack[e.Host] = true
		case e.Type == fleet.HostProgress && e.Step == "roll back (the batch failed)":
			undoing[e.Host] = true
		case e.Type == fleet.HostProgress && undoing[e.Host] && e.Step == "stop "+e.Host+" in balancer "+bal.Name:
			drainedForUndo[e.Host] = true
		}
	}
	for _, n := range nodes[:2] {
		if !rolledBack[n.Name] || !drainedForUndo[n.Name] {
			t.Errorf("%s: rolled back with its batch %v, taken out of the balancer for it first %v", n.Name, rolledBack[n.Name], drainedForUndo[n.Name])
		}
	}
	for _, n := range nodes {
		if after := snapshot(t, l, n); after != before[n.Name] {
			t.Errorf("%s not restored:\nbefore:\n%s\nafter:\n%s", n.Name, before[n.Name], after)
		}
	}
	if clients.failed.Load() != 0 || clients.requests.Load() < 100 {
		t.Errorf("%d of %d requests failed during the batch's rollback, want 0 of at least 100:\n%s", clients.failed.Load(), clients.requests.Load(), strings.Join(clients.failures, "\n"))
	}
}

// TestClusterHTTPSContextPath: the cluster at a context path of an https name, with a certificate
// from a test CA: the balancer serves it (http redirected to https), every node is verified
// through it over TLS, balancer-manager is driven over TLS through SSH for a node's rolling
// restart, and re-applying changes nothing.
func TestClusterHTTPSContextPath(t *testing.T) {
	l := labtest.Open(t)
	bal, nodes := clusterHosts(t, l)
	l.Reset(t, append([]labtest.Host{bal}, nodes...)...)
	limit := strings.Join([]string{bal.Name, nodes[0].Name, nodes[1].Name, nodes[2].Name}, ",")
	dir := t.TempDir()
	ca := certtest.NewCA(t)
	cert, key, chain, root := ca.WriteFiles(t, dir, []string{clusterName})
	pb := filepath.Join(dir, "cluster.yaml")
	os.WriteFile(pb, []byte(fmt.Sprintf(`apps:
  - product: jira
    url: https://%s/jira
    tls: {certificate: %s, key: %s, chain: %s, ca_file: %s}
    nodes: [%s, %s, %s]
    balancer: [%s]
`, clusterName, filepath.Base(cert), filepath.Base(key), filepath.Base(chain), root, nodes[0].Name, nodes[1].Name, nodes[2].Name, bal.Name)), 0o644)
	r := frontdoor(t, adminEnv(t, l), "apply", "--yes", "--set-base-url", "-i", l.Inventory, "--limit", limit, pb)
	if r.code != 0 {
		t.Fatalf("fresh https cluster at a context path:\n%s", r)
	}
	for _, want := range []string{"verified https://" + clusterName + "/jira through the proxy", "[node " + nodes[2].Name + "] https://" + clusterName + "/jira/ -> 302"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("apply output lacks %q:\n%s", want, r.stdout)
		}
	}
	if got := curlHTTPS(t, bal, root, clusterName, "/jira/"); got != "302 https://"+clusterName+"/jira/secure/Dashboard.jspa" {
		t.Errorf("curl https /jira/ through the balancer: %q", got)
	}
	vhost := l.Exec(t, bal, "cat /etc/apache2/sites-available/frontdoor-"+clusterName+"-443.conf")
	for _, want := range []string{"hcuri=/jira/status", "ProxyPass /jira balancer://jira/jira", "<Location /jira>\n        Header add Set-Cookie \"ROUTEID=.%{BALANCER_WORKER_ROUTE}e; path=/jira; HttpOnly; Secure\""} {
		if !strings.Contains(vhost, want) {
			t.Errorf("the balancer's VirtualHost lacks %q:\n%s", want, vhost)
		}
	}
	n := nodes[0]
	drift(t, l, n)
	r = frontdoor(t, nil, "apply", "--yes", "-i", l.Inventory, "--limit", limit, pb)
	if r.code != 0 || !strings.Contains(r.stdout, n.Name+": verified") {
		t.Fatalf("rolling restart over https:\n%s", r)
	}
	if r := frontdoor(t, nil, "plan", "-i", l.Inventory, "--limit", limit, pb); r.code != 0 {
		t.Errorf("plan after the rolling apply: want exit 0:\n%s", r)
	}
}

// TestClusterRollbackRun: frontdoor rollback RUN of a run that restarted every node rolls the
// nodes back the rolling way too (the run's playbook, recorded in the ledger and unchanged, says
// which hosts are a cluster's nodes): one at a time, out of the balancer first; 0 failed requests;
// every node's files as before the run.
func TestClusterRollbackRun(t *testing.T) {
	l := labtest.Open(t)
	bal, nodes := clusterHosts(t, l)
	l.Reset(t, append([]labtest.Host{bal}, nodes...)...)
	limit := strings.Join([]string{bal.Name, nodes[0].Name, nodes[1].Name, nodes[2].Name}, ",")
	pb := "../playbooks/examples/clusters/jira-cluster.yaml"
	led := filepath.Join(t.TempDir(), "ledger.db")
	if r := frontdoor(t, nil, "apply", "--yes", "--ledger", led, "-i", l.Inventory, "--limit", limit, pb); r.code != 0 {
		t.Fatalf("fresh apply of the cluster:\n%s", r)
	}
	before := map[string]string{}
	for _, n := range nodes {
		drift(t, l, n)
		before[n.Name] = snapshot(t, l, n)
	}
	r := frontdoor(t, nil, "apply", "--yes", "--ledger", led, "-i", l.Inventory, "--limit", limit, pb)
	if r.code != 0 {
		t.Fatalf("the run to undo:\n%s", r)
	}
	run := runIDRe.FindStringSubmatch(r.stdout)
	if run == nil {
		t.Fatalf("no run id in:\n%s", r.stdout)
	}
	clients := startClients(bal, 6)
	rb := frontdoor(t, nil, "rollback", "--output", "json", "--ledger", led, "-i", l.Inventory, "--limit", limit, run[1])
	clients.stop()
	t.Logf("client loop during rollback RUN: %d requests, %d failed", clients.requests.Load(), clients.failed.Load())
	if rb.code != 0 {
		t.Fatalf("rollback %s:\n%s", run[1], rb)
	}
	if order := oneDownAtATime(t, events(t, rb.stdout)); len(order) != 3 {
		t.Errorf("nodes taken out for the rollback: %v, want the three", order)
	}
	for _, n := range nodes {
		if after := snapshot(t, l, n); after != before[n.Name] {
			t.Errorf("%s not restored:\nbefore:\n%s\nafter:\n%s", n.Name, before[n.Name], after)
		}
	}
	if clients.failed.Load() != 0 || clients.requests.Load() < 100 {
		t.Errorf("%d of %d requests failed during rollback RUN, want 0 of at least 100:\n%s", clients.failed.Load(), clients.requests.Load(), strings.Join(clients.failures, "\n"))
	}
}
