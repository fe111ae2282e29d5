package report

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/frontdoor-dev/frontdoor/internal/browsertest"
)

type row struct {
	Host, Status string
	Visible      bool
}

const readRows = `Array.from(document.querySelectorAll('#hosts tbody tr')).map(r => ({Host: r.dataset.host, Status: r.dataset.status, Visible: r.offsetParent !== null}))`

func shownHosts(rows []row) []string {
	var out []string
	for _, r := range rows {
		if r.Visible {
			out = append(out, r.Host)
		}
	}
	return out
}

// The page of the recorded run in headless Chromium (no lab needed; e2e.TestReportInBrowser
// does the same on a real run): the hostile error is shown as text and ran nothing; filtering by
// status and by name hides the other hosts' rows, timeline rows and sections; sorting by name and
// by duration; no console message, no exception, no request but the page itself.
func TestPageInBrowser(t *testing.T) {
	b := browsertest.Open(t)
	led, run, _ := recorded(t)
	p, err := Build(led, run, testOpts())
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(file, []byte(render(t, p)), 0o600); err != nil {
		t.Fatal(err)
	}
	url := browsertest.FileURL(t, file)
	b.Do(t, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("#hosts")))
	rows := browsertest.Eval[[]row](t, b, readRows)
	if got := shownHosts(rows); strings.Join(got, ",") != "web3,web4,web2,web1" {
		t.Fatalf("rows shown: %v", got)
	}
	if got := browsertest.Eval[string](t, b, `document.querySelector('section[data-host="web3"] .host-error').textContent`); got != hostile {
		t.Errorf("the hostile error shows as %q", got)
	}
	if n := browsertest.Eval[int](t, b, `document.querySelectorAll('img, script').length`); n != 1 {
		t.Errorf("%d img/script elements: the hostile error became markup", n)
	}
	if n := browsertest.Eval[int](t, b, `document.querySelectorAll('section[data-host="web2"] pre.diff .d-add').length`); n != 1 {
		t.Errorf("web2's diff shows %d added lines", n)
	}

	filter := func(status string) {
		b.Do(t, chromedp.SetValue(chromedp.CSS("#status-filter"), status),
			chromedp.Evaluate[chromedp.Void](`document.getElementById('status-filter').dispatchEvent(new Event('change'))`))
	}
	countShown := func(sel string) int {
		return browsertest.Eval[int](t, b, `Array.from(document.querySelectorAll('`+sel+`')).filter(e => getComputedStyle(e).display !== 'none').length`)
	}
	filter("failed")
	if got := shownHosts(browsertest.Eval[[]row](t, b, readRows)); strings.Join(got, ",") != "web3" {
		t.Errorf("status failed: %v shown", got)
	}
	if s, tl := countShown("section.host-detail"), countShown("g.tl-row"); s != 1 || tl != 1 {
		t.Errorf("status failed: %d sections, %d timeline rows shown", s, tl)
	}
	if got := browsertest.Get(t, b, chromedp.Text(chromedp.CSS("#shown"))); got != "1 of 4 hosts shown" {
		t.Errorf("count: %q", got)
	}
	filter("")
	b.Do(t, chromedp.SendKeys(chromedp.CSS("#host-filter"), "WEB4"))
	if got := shownHosts(browsertest.Eval[[]row](t, b, readRows)); strings.Join(got, ",") != "web4" {
		t.Errorf("name filter: %v shown", got)
	}
	b.Do(t, chromedp.Evaluate[chromedp.Void](`(f => { f.value = ''; f.dispatchEvent(new Event('input')) })(document.getElementById('host-filter'))`),
		chromedp.Click(chromedp.CSS(`th[data-key="host"] button`)))
	names := shownHosts(browsertest.Eval[[]row](t, b, readRows))
	if len(names) != 4 || !sort.StringsAreSorted(names) {
		t.Errorf("sorted by name: %v", names)
	}
	b.Do(t, chromedp.Click(chromedp.CSS(`th[data-key="ms"] button`)), chromedp.Click(chromedp.CSS(`th[data-key="ms"] button`)))
	if got := shownHosts(browsertest.Eval[[]row](t, b, readRows)); strings.Join(got, ",") != "web3,web2,web1,web4" {
		t.Errorf("sorted by duration, longest first: %v", got)
	}
	png := browsertest.Get(t, b, chromedp.FullScreenshot(100)) // 100: PNG
	if err := os.WriteFile(filepath.Join(browsertest.ArtifactDir(t), "report-unit.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
	console, exceptions, requests := b.Records()
	if len(console) > 0 || len(exceptions) > 0 {
		t.Errorf("the page logged:\n%s\n%s", strings.Join(console, "\n"), strings.Join(exceptions, "\n"))
	}
	if len(requests) != 1 || requests[0] != url {
		t.Errorf("requests besides the page itself: %v", requests)
	}
}
