package report

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/frontdoor-dev/frontdoor/fleet"
	"github.com/frontdoor-dev/frontdoor/ledger"
)

var t0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

// hostile is what a host could put in its error output.
const hostile = `lab: <script>alert("x")</script> & <img src=x onerror=alert(1)> refusing to start`

// recorded writes into a new ledger a stopped apply of four hosts in two batches (web1 ok,
// web2 changed, web3 failed and rolled back with a hostile error, web4 not started), with the
// events its rollout emits, and a later rollback of it.
func recorded(t *testing.T) (*ledger.Ledger, string, string) {
	t.Helper()
	led, err := ledger.Open(filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { led.Close() })
	run := fleet.NewRunID(t0)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	em := fleet.NewEmitter(run, led.Record)
	em.Emit(fleet.Event{Type: fleet.RunStart, Time: at(0), Command: "apply", Playbook: "/srv/jira.yaml", Inventory: "/srv/hosts.ini",
		Controller: "ops@ctl", Batches: [][]string{{"web1", "web2", "web3"}, {"web4"}}})
	led.RecordStart(run, ledger.Start{PlaybookSHA256: strings.Repeat("ab", 32), Flags: []string{"--serial 3", "--yes"}})
	em.Emit(fleet.Event{Type: fleet.BatchStart, Time: at(0), Batch: 1, Hosts: []string{"web1", "web2", "web3"}})
	for _, h := range []string{"web1", "web2", "web3"} {
		em.Emit(fleet.Event{Type: fleet.HostProgress, Time: at(0.1), Host: h, Batch: 1, Step: "connect"})
		em.Emit(fleet.Event{Type: fleet.HostProgress, Time: at(0.3), Host: h, Batch: 1, Step: "gather facts"})
	}
	diff := "--- a/opt/jira/conf/server.xml\n+++ b/opt/jira/conf/server.xml\n@@ -1,3 +1,3 @@\n <Server>\n-  <Connector port=\"8080\"/>\n+  <Connector port=\"8080\" proxyName=\"jira.example.com\"/>\n   <Resource password=\"hunter2\"/>\n"
	em.Emit(fleet.Event{Type: fleet.HostPlan, Time: at(0.5), Host: "web1", Batch: 1, Address: "10.0.0.1", Platform: "Debian 12", Changes: []fleet.Change{{Step: "jira: server.xml", Action: "noop", Summary: "already right"}}})
	for _, h := range []string{"web2", "web3"} {
		em.Emit(fleet.Event{Type: fleet.HostPlan, Time: at(0.5), Host: h, Batch: 1, Address: "10.0.0.2", Platform: "Debian 12", Restarts: []string{"httpd", "jira"},
			Changes: []fleet.Change{{Step: "jira: server.xml", Action: "update", Summary: "edit /opt/jira/conf/server.xml", Diff: diff}, {Step: "apache: module proxy", Action: "run", Summary: "enable module proxy"}}})
		em.Emit(fleet.Event{Type: fleet.HostProgress, Time: at(0.6), Host: h, Batch: 1, Step: "stop jira"})
		em.Emit(fleet.Event{Type: fleet.HostProgress, Time: at(1), Host: h, Batch: 1, Step: "apply jira: server.xml"})
		em.Emit(fleet.Event{Type: fleet.HostProgress, Time: at(1.5), Host: h, Batch: 1, Step: "restart httpd"})
		em.Emit(fleet.Event{Type: fleet.HostProgress, Time: at(2), Host: h, Batch: 1, Step: "wait for jira"})
	}
	em.Emit(fleet.Event{Type: fleet.HostProgress, Time: at(0.6), Host: "web1", Batch: 1, Step: "verify"})
	verified := []fleet.Verified{{App: "jira", BaseURL: "http://jira.example.com", Chain: []string{"http://jira.example.com/ -> 302", "http://jira.example.com/secure/Dashboard.jspa -> 200"}, AppBaseURL: "http://jira.example.com"}}
	em.Emit(fleet.Event{Type: fleet.HostDone, Time: at(1), Host: "web1", Batch: 1, Status: fleet.StatusOK, Verified: verified, DurationMS: 1000})
	em.Emit(fleet.Event{Type: fleet.HostProgress, Time: at(4), Host: "web2", Batch: 1, Step: "verify"})
	em.Emit(fleet.Event{Type: fleet.HostDone, Time: at(5), Host: "web2", Batch: 1, Status: fleet.StatusChanged, Changed: 2, Verified: verified, DurationMS: 5000})
	em.Emit(fleet.Event{Type: fleet.HostProgress, Time: at(6), Host: "web3", Batch: 1, Step: "rolling back"})
	em.Emit(fleet.Event{Type: fleet.HostDone, Time: at(8), Host: "web3", Batch: 1, Status: fleet.StatusFailed, RolledBack: true, Changed: 2, Error: hostile, DurationMS: 8000})
	em.Emit(fleet.Event{Type: fleet.BatchDone, Time: at(8), Batch: 1, Status: fleet.RunStopped, Counts: &fleet.Counts{Hosts: 3, OK: 1, Changed: 1, Failed: 1, RolledBack: 1}})
	em.Emit(fleet.Event{Type: fleet.HostDone, Time: at(8), Host: "web4", Batch: 2, Status: fleet.StatusSkipped, Error: "not started: the rollout stopped at --max-fail"})
	em.Emit(fleet.Event{Type: fleet.RunDone, Time: at(8), Status: fleet.RunStopped, Counts: &fleet.Counts{Hosts: 4, OK: 1, Changed: 1, Failed: 1, RolledBack: 1, Skipped: 1}})
	led.RecordEnd(run, ledger.End{ExitCode: 3, Message: "rollout stopped: a batch went over --max-fail (1 of 4 host(s) failed); retry those hosts with --limit @/tmp/x.retry", RetryFile: "/tmp/x.retry"})

	undo := fleet.NewRunID(t0.Add(time.Hour))
	ue := fleet.NewEmitter(undo, led.Record)
	ue.Emit(fleet.Event{Type: fleet.RunStart, Time: t0.Add(time.Hour), Command: "rollback", Undoes: run, Inventory: "/srv/hosts.ini", Controller: "ops@ctl", Batches: [][]string{{"web2"}}})
	ue.Emit(fleet.Event{Type: fleet.HostRollback, Time: t0.Add(time.Hour + time.Second), Host: "web2", Status: fleet.StatusRolledBack, DurationMS: 900})
	ue.Emit(fleet.Event{Type: fleet.RunDone, Time: t0.Add(time.Hour + time.Second), Status: fleet.RunOK, Counts: &fleet.Counts{Hosts: 1, RolledBack: 1}})
	led.RecordEnd(undo, ledger.End{ExitCode: 0})
	return led, run, undo
}

func testOpts() Options {
	return Options{Now: t0.Add(2 * time.Hour), Generator: "frontdoor test",
		Advise: func(r *ledger.Run, h *ledger.Host) Recovery {
			return Recovery{Text: "advice for " + h.Name, Command: "frontdoor apply --limit " + h.Name}
		}}
}

func render(t *testing.T, p *Page) string {
	t.Helper()
	var b bytes.Buffer
	if err := p.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// voids are the HTML elements without an end tag.
var voids = map[string]bool{"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true, "img": true, "input": true,
	"link": true, "meta": true, "source": true, "track": true, "wbr": true}

// checkClosed reads the page token by token: every element opened is closed, in order (the
// parser would repair a missing end tag silently, so the tree alone cannot tell).
func checkClosed(t *testing.T, page string) {
	t.Helper()
	z := html.NewTokenizer(strings.NewReader(page))
	var stack []string
	line := 1
	for {
		tt := z.Next()
		raw := string(z.Raw())
		switch tt {
		case html.ErrorToken:
			if z.Err() != io.EOF {
				t.Fatalf("line %d: %v", line, z.Err())
			}
			if len(stack) > 0 {
				t.Fatalf("elements never closed: %v", stack)
			}
			return
		case html.StartTagToken:
			name, _ := z.TagName()
			if !voids[string(name)] {
				stack = append(stack, string(name))
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			if len(stack) == 0 || stack[len(stack)-1] != string(name) {
				t.Fatalf("line %d: </%s> closes %v", line, name, stack)
			}
			stack = stack[:len(stack)-1]
		}
		line += strings.Count(raw, "\n")
	}
}

func find(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if match(n) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func text(n *html.Node) string {
	var b strings.Builder
	for _, c := range find(n, func(c *html.Node) bool { return c.Type == html.TextNode }) {
		b.WriteString(c.Data)
	}
	return b.String()
}

func byClass(root *html.Node, class string) []*html.Node {
	return find(root, func(n *html.Node) bool {
		return n.Type == html.ElementNode && strings.Contains(" "+attr(n, "class")+" ", " "+class+" ")
	})
}

// The page of a recorded run is well-formed HTML with every element closed; a host's hostile
// error is text, not markup (the only script is the page's own, and no element has an event
// handler); every host is there with its status, failed first; the diff is there line by line with
// the secret masked; the rollback that undid the run is linked; the run's header has what the
// ledger recorded.
func TestRunPage(t *testing.T) {
	led, run, undo := recorded(t)
	p, err := Build(led, run[:20], testOpts())
	if err != nil {
		t.Fatal(err)
	}
	page := render(t, p)
	checkClosed(t, page)
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	scripts := find(doc, func(n *html.Node) bool { return n.DataAtom == atom.Script })
	if len(scripts) != 1 || text(scripts[0]) != js {
		t.Fatalf("want only the page's own script, got %d script elements", len(scripts))
	}
	if imgs := find(doc, func(n *html.Node) bool { return n.DataAtom == atom.Img }); len(imgs) != 0 {
		t.Errorf("the hostile error made an <img> element")
	}
	for _, n := range find(doc, func(n *html.Node) bool { return n.Type == html.ElementNode }) {
		for _, a := range n.Attr {
			if strings.HasPrefix(a.Key, "on") {
				t.Errorf("<%s %s=%q>: an event handler in the page", n.Data, a.Key, a.Val)
			}
		}
	}
	errs := byClass(doc, "host-error")
	if len(errs) != 2 || text(errs[0]) != hostile {
		t.Fatalf("the failed host's error is not shown as its text: %d errors, first %q", len(errs), text(errs[0]))
	}
	if !strings.Contains(page, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
		t.Error("the hostile error is not escaped in the source")
	}

	// Hosts: all there, failed first, then not started, changed, ok.
	rows := find(doc, func(n *html.Node) bool { return n.DataAtom == atom.Tr && attr(n, "class") == "host" })
	var got []string
	for _, r := range rows {
		got = append(got, attr(r, "data-host")+"="+attr(r, "data-status"))
	}
	if want := "web3=failed web4=not started web2=changed web1=ok"; strings.Join(got, " ") != want {
		t.Errorf("host rows: %q, want %q", strings.Join(got, " "), want)
	}
	if rb := byClass(rows[0], "st-rolled-back"); len(rb) != 1 {
		t.Error("web3 is not marked rolled back")
	}
	// Recovery advice, as the CLI gave it.
	if rec := byClass(doc, "recovery-command"); len(rec) != 2 || text(rec[0]) != "frontdoor apply --limit web3" {
		t.Errorf("recovery commands: %d", len(rec))
	}
	// The diff, line by line, coloured, the secret masked.
	adds := byClass(doc, "d-add")
	dels := byClass(doc, "d-del")
	if len(adds) != 2 || len(dels) != 2 || text(adds[0]) != `+  <Connector port="8080" proxyName="jira.example.com"/>` {
		t.Errorf("diff lines: %d added, %d removed", len(adds), len(dels))
	}
	if strings.Contains(page, "hunter2") || !strings.Contains(page, `password=&#34;********&#34;`) {
		t.Error("the password in the diff's context line is not masked")
	}
	// Verification evidence.
	if v := byClass(doc, "chain"); len(v) != 2 || !strings.Contains(text(v[0]), "Dashboard.jspa -> 200") {
		t.Errorf("verification chains: %d", len(v))
	}
	// The timeline: a row per host, bars for the phases of the hosts that ran.
	tl := byClass(doc, "tl-row")
	if len(tl) != 4 {
		t.Fatalf("timeline rows: %d", len(tl))
	}
	for _, r := range tl {
		bars := byClass(r, "ph")
		switch attr(r, "data-host") {
		case "web4":
			if len(bars) != 0 {
				t.Errorf("web4 was not started and has %d bars", len(bars))
			}
		case "web2":
			var phases []string
			for _, b := range bars {
				phases = append(phases, strings.TrimPrefix(strings.Fields(attr(b, "class"))[1], "ph-"))
			}
			if strings.Join(phases, " ") != "connect gather stop apply restart wait verify" {
				t.Errorf("web2's phases: %v", phases)
			}
		}
	}
	// Header: what the ledger recorded.
	for _, want := range []string{"--serial 3", strings.Repeat("ab", 32), "jira.yaml", "/srv/hosts.ini", "exit status 3", "retry those hosts with --limit @/tmp/x.retry", "ctl", "ops"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page does not say %q", want)
		}
	}
	links := byClass(doc, "runlink")
	if len(links) != 1 || attr(links[0], "href") != "frontdoor-report-"+undo+".html" {
		t.Errorf("link to the rollback: %d", len(links))
	}
	// And the rollback's page links back.
	up, err := Build(led, undo, testOpts())
	if err != nil {
		t.Fatal(err)
	}
	upage := render(t, up)
	checkClosed(t, upage)
	if !strings.Contains(upage, `href="frontdoor-report-`+run+`.html"`) {
		t.Error("the rollback's page does not link the run it undid")
	}
}

// The page's Content-Security-Policy allows exactly its own inline style and script (by hash)
// and no fetch of any kind.
func TestCSP(t *testing.T) {
	led, run, _ := recorded(t)
	p, err := Build(led, run, testOpts())
	if err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(strings.NewReader(render(t, p)))
	if err != nil {
		t.Fatal(err)
	}
	metas := find(doc, func(n *html.Node) bool {
		return n.DataAtom == atom.Meta && attr(n, "http-equiv") == "Content-Security-Policy"
	})
	if len(metas) != 1 {
		t.Fatal("no CSP meta element")
	}
	csp := attr(metas[0], "content")
	style := find(doc, func(n *html.Node) bool { return n.DataAtom == atom.Style })
	script := find(doc, func(n *html.Node) bool { return n.DataAtom == atom.Script })
	for _, want := range []string{"default-src 'none'", "style-src '" + hash(text(style[0])) + "'", "script-src '" + hash(text(script[0])) + "'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") || strings.Contains(csp, "http") {
		t.Errorf("CSP allows more than the page: %q", csp)
	}
}

// serve answers GET and HEAD only, to loopback names only; lists the runs with their filters;
// serves each run's page with links inside the server.
func TestServer(t *testing.T) {
	led, run, undo := recorded(t)
	s := &Server{Ledger: led, Opts: testOpts()}
	ts := httptest.NewServer(s)
	defer ts.Close()
	u, _ := url.Parse(ts.URL)
	s.AllowedHosts = LoopbackHosts(ts.Listener.Addr())
	get := func(path string) (int, string) {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.Header.Get("Content-Security-Policy") != CSP {
			t.Errorf("%s: no CSP header", path)
		}
		return resp.StatusCode, string(b)
	}
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		req, _ := http.NewRequest(m, ts.URL+"/run/"+run, strings.NewReader("x"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("%s: %d", m, resp.StatusCode)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/", nil)
	req.Host = "attacker.example:" + u.Port()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("a foreign Host header: %d", resp.StatusCode)
	}

	code, body := get("/")
	if code != 200 || !strings.Contains(body, `href="/run/`+run+`"`) || !strings.Contains(body, `href="/run/`+undo+`"`) {
		t.Fatalf("index: %d\n%s", code, body)
	}
	checkClosed(t, body)
	for q, want := range map[string][]string{
		"status=stopped":                {run},
		"status=ok":                     {undo},
		"host=web4":                     {run},
		"host=web2":                     {run, undo},
		"host=nosuch":                   {},
		"playbook=jira":                 {run},
		"from=2026-11-28":               {},
		"from=2026-11-27&to=2026-11-27": {run, undo},
	} {
		_, body := get("/?" + q)
		n := strings.Count(body, `<tr data-run=`)
		if n != len(want) {
			t.Errorf("?%s: %d runs, want %v", q, n, want)
		}
		for _, id := range want {
			if !strings.Contains(body, `data-run="`+id+`"`) {
				t.Errorf("?%s: %s missing", q, id)
			}
		}
	}
	code, body = get("/run/" + run)
	if code != 200 || !strings.Contains(body, `href="/run/`+undo+`"`) || !strings.Contains(body, `href="/"`) {
		t.Errorf("run page: %d", code)
	}
	checkClosed(t, body)
	if code, _ := get("/run/20261127T090000Z-ffffff"); code != 404 {
		t.Errorf("unknown run: %d", code)
	}
	if code, _ := get("/run/../../etc/passwd"); code != 404 {
		t.Errorf("a path that is no run id: %d", code)
	}
	if code, _ := get("/ledger.db"); code != 404 {
		t.Errorf("anything else: %d", code)
	}
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{"127.0.0.1:8765": true, "[::1]:1": true, "localhost:80": true, "0.0.0.0:8765": false, ":8765": false, "10.0.0.1:80": false, "x": false} {
		if IsLoopback(addr) != want {
			t.Errorf("IsLoopback(%q) = %v", addr, !want)
		}
	}
	_ = fmt.Sprint
}

// A run the ledger saw start and never end (its controller killed): the page says so with the
// CLI's advice, its hosts are unfinished, and the phase in progress is drawn up to the last event.
func TestUnfinishedRunPage(t *testing.T) {
	led, err := ledger.Open(filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer led.Close()
	run := fleet.NewRunID(t0)
	em := fleet.NewEmitter(run, led.Record)
	em.Emit(fleet.Event{Type: fleet.RunStart, Time: t0, Command: "apply", Controller: "ops@ctl", Batches: [][]string{{"a", "b"}}})
	em.Emit(fleet.Event{Type: fleet.HostProgress, Time: t0.Add(time.Second), Host: "a", Batch: 1, Step: "apply jira: server.xml"})
	em.Emit(fleet.Event{Type: fleet.HostProgress, Time: t0.Add(3 * time.Second), Host: "b", Batch: 1, Step: "connect"})
	opts := testOpts()
	opts.RunAdvice = func(r *ledger.Run) string { return "run advice for " + r.ID }
	p, err := Build(led, run, opts)
	if err != nil {
		t.Fatal(err)
	}
	page := render(t, p)
	checkClosed(t, page)
	if p.Status != StatusUnfinished || !strings.Contains(page, "run advice for "+run) || !strings.Contains(page, "no end recorded") || !strings.Contains(page, "exit status not recorded") {
		t.Errorf("unfinished run: status %q", p.Status)
	}
	for _, h := range p.Hosts {
		if h.Status != StatusUnfinished || h.Recovery.Command != "frontdoor apply --limit "+h.Name {
			t.Errorf("%s: %q %+v", h.Name, h.Status, h.Recovery)
		}
	}
	a := p.Hosts[0]
	if len(a.Phases) != 1 || a.Phases[0].Name != "apply" || a.Phases[0].Took != "2.0s" {
		t.Errorf("a's phases: %+v", a.Phases)
	}
}
