package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/frontdoor-dev/frontdoor/internal/browsertest"
	"github.com/frontdoor-dev/frontdoor/internal/junitschema"
	"github.com/frontdoor-dev/frontdoor/internal/labtest"
)

// pageHost is a row of the report's host table as the browser shows it.
type pageHost struct {
	Host, Status, Text string
	Visible            bool
}

const readHosts = `Array.from(document.querySelectorAll('#hosts tbody tr')).map(r => ({
	Host: r.dataset.host, Status: r.dataset.status, Text: r.innerText, Visible: r.offsetParent !== null}))`

// TestReportInBrowser: the report of a real rolling apply on the lab, opened in headless
// Chromium. Four hosts, --serial 3 --no-batch-rollback: the first already converged by an
// earlier run (ok), the second's Jira refuses a proxied server.xml (failed, rolled back), the
// third changed and verified, and the fourth's batch never started (the batch went over
// --max-fail 0). The changed host is then undone by frontdoor rollback. In the browser: every
// host with its status, failed first; the failed host's error and the command to recover; a diff
// with its lines; the verification chain; the rollback linked; filtering by status and by name,
// sorting by name; no console error, no exception, no request but the page itself. A screenshot
// is kept ($FRONTDOOR_TEST_ARTIFACTS, else the test's temporary directory).
func TestReportInBrowser(t *testing.T) {
	l := labtest.Open(t)
	hosts := l.Need(t, 4)
	b := browsertest.Open(t) // before touching the lab: without Chromium this skips
	ok, bad, changed, later := hosts[0], hosts[1], hosts[2], hosts[3]
	l.Reset(t, hosts...)
	refuseProxiedJira(t, l, bad)
	led := filepath.Join(t.TempDir(), "ledger.db")
	pb := playbook(t, "jira-subdomain.yaml")
	if r := frontdoor(t, nil, "apply", "--yes", "--ledger", led, "-i", l.Inventory, "--limit", ok.Name, pb); r.code != 0 {
		t.Fatalf("converge %s first:\n%s", ok.Name, r)
	}
	limit := strings.Join([]string{ok.Name, bad.Name, changed.Name, later.Name}, ",")
	junit := filepath.Join(t.TempDir(), "apply.xml")
	r := frontdoor(t, nil, "apply", "--yes", "--ledger", led, "--serial", "3", "--no-batch-rollback", "-i", l.Inventory, "--limit", limit, pb, "--output", "junit", junit)
	if r.code != 3 {
		t.Fatalf("want exit 3 (stopped at --max-fail):\n%s", r)
	}
	checkJUnit(t, junit, bad.Name, later.Name)
	m := regexp.MustCompile(`run (\d{8}T\d{6}Z-[0-9a-f]{6}): apply`).FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("no run id:\n%s", r)
	}
	run := m[1]
	undo := frontdoor(t, nil, "rollback", run, "--ledger", led, "-i", l.Inventory, "--limit", changed.Name)
	if undo.code != 0 {
		t.Fatalf("rollback of %s:\n%s", changed.Name, undo)
	}
	undoID := regexp.MustCompile(`run (\d{8}T\d{6}Z-[0-9a-f]{6}): roll back`).FindStringSubmatch(undo.stdout)
	if undoID == nil {
		t.Fatalf("no rollback run id:\n%s", undo)
	}
	file := filepath.Join(t.TempDir(), "report.html")
	if rep := frontdoor(t, nil, "report", "--ledger", led, "-o", file, run); rep.code != 0 {
		t.Fatalf("report:\n%s", rep)
	}

	url := browsertest.FileURL(t, file)
	b.Do(t, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("#hosts")))
	in := func(host, sel string) string {
		return browsertest.Eval[string](t, b, `(e => e ? e.innerText : '')(document.querySelector('section[data-host="`+host+`"] `+sel+`'))`)
	}
	rows := browsertest.Eval[[]pageHost](t, b, readHosts)
	want := map[string]string{ok.Name: "ok", bad.Name: "failed", changed.Name: "changed", later.Name: "not started"}
	var order []string
	for _, h := range rows {
		if want[h.Host] != h.Status || !h.Visible || !strings.Contains(h.Text, h.Status) {
			t.Errorf("host row %+v, want status %q shown", h, want[h.Host])
		}
		order = append(order, h.Host)
	}
	if len(rows) != 4 || order[0] != bad.Name {
		t.Fatalf("host rows %v: want 4, the failed host first", order)
	}
	if !strings.Contains(rows[0].Text, "rolled back") {
		t.Errorf("the failed host is not shown rolled back: %q", rows[0].Text)
	}
	if status := browsertest.Get(t, b, chromedp.Text(chromedp.CSS("#run-status"))); status != "stopped" {
		t.Errorf("run status %q", status)
	}
	if e := in(bad.Name, ".host-error"); !strings.Contains(e, "refusing to start with a proxied server.xml") {
		t.Errorf("the failed host's error: %q", e)
	}
	retry := regexp.MustCompile(`retry those hosts with --limit @(\S+)`).FindStringSubmatch(r.stderr)
	if retry == nil {
		t.Fatalf("apply said no retry file:\n%s", r)
	}
	recovery := in(bad.Name, ".recovery")
	if !strings.Contains(recovery, "retry those hosts with --limit @"+retry[1]) || !strings.Contains(recovery, "frontdoor apply -i "+l.Inventory+" --limit @"+retry[1]+" ") {
		t.Errorf("the failed host's recovery:\n%s", recovery)
	}
	diff := in(changed.Name, "pre.diff")
	adds := browsertest.Eval[int](t, b, `document.querySelectorAll('section[data-host="`+changed.Name+`"] pre.diff .d-add').length`)
	dels := browsertest.Eval[int](t, b, `document.querySelectorAll('section[data-host="`+changed.Name+`"] pre.diff .d-del').length`)
	if adds == 0 || dels == 0 || !strings.Contains(diff, `proxyName="jira.`+changed.Name+`.lab.test"`) || !strings.Contains(diff, "+++ b/opt/atlassian/jira/conf/server.xml") {
		t.Errorf("the changed host's diff (%d lines added, %d removed):\n%s", adds, dels, diff)
	}
	if chain := in(changed.Name, ".chain"); !strings.Contains(chain, "http://jira."+changed.Name+".lab.test/") || !strings.Contains(chain, "200") {
		t.Errorf("verification chain: %q", chain)
	}
	if chain := in(ok.Name, ".chain"); !strings.Contains(chain, "200") {
		t.Errorf("the converged host's verification chain: %q", chain)
	}
	if links := browsertest.Eval[string](t, b, `Array.from(document.querySelectorAll('a.runlink')).map(a => a.innerText).join(' ')`); !strings.Contains(links, undoID[1]) {
		t.Errorf("the rollback %s is not linked: %q", undoID[1], links)
	}
	if n := browsertest.Eval[int](t, b, `document.querySelectorAll('g.tl-row[data-host="`+changed.Name+`"] rect.ph-verify').length`); n == 0 {
		t.Error("the timeline has no verify phase for the changed host")
	}

	// The page as a person first sees it (full length, and the first screen), and the page itself.
	dir := browsertest.ArtifactDir(t)
	for name, a := range map[string]chromedp.Action[[]byte]{"report-lab.png": chromedp.FullScreenshot(100), "report-lab-top.png": chromedp.CaptureScreenshot()} {
		if err := os.WriteFile(filepath.Join(dir, name), browsertest.Get(t, b, a), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if page, err := os.ReadFile(file); err == nil {
		os.WriteFile(filepath.Join(dir, "report-lab.html"), page, 0o600)
	}
	t.Logf("screenshots and the page: %s", dir)

	// Filtering: by status, then by name; sorting by name.
	b.Do(t, chromedp.SetValue(chromedp.CSS("#status-filter"), "failed"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('status-filter').dispatchEvent(new Event('change'))`))
	if v := visible(browsertest.Eval[[]pageHost](t, b, readHosts)); strings.Join(v, ",") != bad.Name {
		t.Errorf("status filter failed: %v shown", v)
	}
	if n := browsertest.Eval[int](t, b, `Array.from(document.querySelectorAll('section.host-detail')).filter(s => s.offsetParent !== null).length`); n != 1 {
		t.Errorf("status filter: %d host sections shown, want 1", n)
	}
	b.Do(t, chromedp.SetValue(chromedp.CSS("#status-filter"), ""),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('status-filter').dispatchEvent(new Event('change'))`),
		chromedp.SendKeys(chromedp.CSS("#host-filter"), later.Name))
	if v := visible(browsertest.Eval[[]pageHost](t, b, readHosts)); strings.Join(v, ",") != later.Name {
		t.Errorf("name filter %q: %v shown", later.Name, v)
	}
	b.Do(t, chromedp.Evaluate[chromedp.Void](`(f => { f.value = ''; f.dispatchEvent(new Event('input')) })(document.getElementById('host-filter'))`),
		chromedp.Click(chromedp.CSS(`th[data-key="host"] button`)))
	if names := visible(browsertest.Eval[[]pageHost](t, b, readHosts)); !sort.StringsAreSorted(names) || len(names) != 4 {
		t.Errorf("sorted by name: %v", names)
	}

	console, exceptions, requests := b.Records()
	if len(console) > 0 || len(exceptions) > 0 {
		t.Errorf("the page logged errors:\n%s\n%s", strings.Join(console, "\n"), strings.Join(exceptions, "\n"))
	}
	if len(requests) != 1 || requests[0] != url {
		t.Errorf("the page made requests besides itself: %v", requests)
	}
}

// checkJUnit: the run's JUnit file is valid against junit-4.xsd; the failed host's result fails
// with its error, the host not started is skipped, and nothing else fails.
func checkJUnit(t *testing.T, path, failed, notStarted string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	root, err := junitschema.Check(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var failures, skippedHosts []string
	for _, s := range root.Children {
		for _, c := range s.Children {
			for _, x := range c.Children {
				switch {
				case x.Name == "failure":
					failures = append(failures, s.Attrs["name"]+"/"+c.Attrs["name"]+": "+x.Text)
				case x.Name == "skipped" && c.Attrs["name"] == "apply":
					skippedHosts = append(skippedHosts, s.Attrs["name"])
				}
			}
		}
	}
	if len(failures) != 1 || !strings.HasPrefix(failures[0], failed+"/apply: ") || !strings.Contains(failures[0], "refusing to start with a proxied server.xml") {
		t.Errorf("JUnit failures: %q", failures)
	}
	if strings.Join(skippedHosts, ",") != notStarted || len(root.Children) != 4 {
		t.Errorf("JUnit: %d suites, hosts skipped %v", len(root.Children), skippedHosts)
	}
}

func visible(rows []pageHost) []string {
	var out []string
	for _, r := range rows {
		if r.Visible {
			out = append(out, r.Host)
		}
	}
	return out
}
