package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/frontdoor-dev/frontdoor/fleet"
	"github.com/frontdoor-dev/frontdoor/internal/pgtest"
	"github.com/frontdoor-dev/frontdoor/internal/simfleet"
)

// The sharded runs go against an EMULATED fleet (internal/simfleet: in-memory hosts behind real
// SSH and HTTP listeners on 127.79.x.y) and a real PostgreSQL started here (internal/pgtest);
// the controllers are real frontdoor processes, one per shard.

const shardPlaybook = `apps:
  - product: jira
    url: http://jira.{{host}}.sim.test
`

type shardLab struct {
	fleet *simfleet.Fleet
	inv   string
	pb    string
	url   string // the ledger, with its password
	home  string
}

func newShardLab(t *testing.T, n int, first string, latency time.Duration) *shardLab {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the emulated hosts listen on port 22 and 80 of loopback addresses: run as root")
	}
	pg := pgtest.New(t)
	url, err := pg.CreateDB()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	dns := netip.MustParseAddr(first).Prev().String() + ":53" // just below the first host
	f, err := simfleet.Start(dir, n, simfleet.Options{First: netip.MustParseAddr(first), Latency: latency, DNS: dns})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	labdns := filepath.Join(dir, "labdns")
	if out, err := exec.Command("go", "build", "-o", labdns, "../internal/labdns").CombinedOutput(); err != nil {
		t.Fatalf("build labdns: %v\n%s", err, out)
	}
	d := exec.Command(labdns, "-listen", dns, "-zone", filepath.Join(dir, "zone"))
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Process.Kill(); d.Wait() })
	return &shardLab{fleet: f, inv: filepath.Join(dir, "inventory.yaml"), pb: writeFile(t, "jira.yaml", shardPlaybook), url: url, home: t.TempDir()}
}

func (l *shardLab) env() []string {
	return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + l.home, "FRONTDOOR_LEDGER=" + l.url, "NO_COLOR=1"}
}

// shardOf is cmd/frontdoor's assignment, written again: the test checks that the shards took
// exactly these hosts.
func shardOf(name string, n int) int {
	h := fnv.New64a()
	h.Write([]byte(name))
	return int(h.Sum64() % uint64(n))
}

type shardProc struct {
	cmd    *exec.Cmd
	stdout bytes.Buffer
	stderr bytes.Buffer
	events chan fleet.Event
	done   chan struct{}
	code   int
}

// start runs one shard with --output json; its events also come on events as they are printed.
func (l *shardLab) start(t *testing.T, args ...string) *shardProc {
	t.Helper()
	p := &shardProc{events: make(chan fleet.Event, 10000), done: make(chan struct{})}
	p.cmd = exec.Command(bin, append(append([]string{"apply", "--yes", "--output", "json", "-i", l.inv}, args...), l.pb)...)
	p.cmd.Env = l.env()
	p.cmd.Stderr = &p.stderr
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			p.stdout.Write(append(sc.Bytes(), '\n'))
			var e fleet.Event
			if json.Unmarshal(sc.Bytes(), &e) == nil {
				select {
				case p.events <- e:
				default:
				}
			}
		}
		p.cmd.Wait()
		p.code = p.cmd.ProcessState.ExitCode()
		close(p.done)
	}()
	return p
}

func (p *shardProc) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(3 * time.Minute):
		p.cmd.Process.Kill()
		t.Fatalf("shard did not end in 3 minutes:\n%s\n%s", p.stdout.String(), p.stderr.String())
	}
	return p.code
}

func runID() string { return fleet.NewRunID(time.Now()) }

// TestShardedRunPostgres: three controllers split one run through a PostgreSQL ledger: each
// takes its hosts (by name), all three record under one run id, history and show see the whole
// run, a re-run changes nothing, and one rollback RUN undoes every shard's hosts byte for byte.
func TestShardedRunPostgres(t *testing.T) {
	l := newShardLab(t, 24, "127.79.0.10", 0)
	before := map[string]string{}
	for _, h := range l.fleet.Hosts {
		before[h.Name] = h.Mem.Snapshot()
	}
	id := runID()
	var procs []*shardProc
	for i := 0; i < 3; i++ {
		procs = append(procs, l.start(t, "--serial", "50%", "--shard", fmt.Sprintf("%d/3", i), "--run-id", id))
	}
	seen := map[string]int{}
	for i, p := range procs {
		if code := p.wait(t); code != 0 {
			t.Fatalf("shard %d/3: exit %d\n%s\n%s", i, code, p.stdout.String(), p.stderr.String())
		}
		for _, line := range strings.Split(strings.TrimSpace(p.stdout.String()), "\n") {
			var e fleet.Event
			if err := json.Unmarshal([]byte(line), &e); err != nil {
				t.Fatalf("shard %d: %v: %s", i, err, line)
			}
			if e.Run != id || e.Shard != fmt.Sprintf("%d/3", i) {
				t.Errorf("shard %d/3 emitted run %q shard %q", i, e.Run, e.Shard)
			}
			if e.Type == fleet.HostDone {
				seen[e.Host]++
				if e.Status != fleet.StatusChanged {
					t.Errorf("%s: %s %s", e.Host, e.Status, e.Error)
				}
				if want := shardOf(e.Host, 3); want != i {
					t.Errorf("%s was applied by shard %d, its shard is %d", e.Host, i, want)
				}
			}
		}
		if strings.Contains(p.stdout.String()+p.stderr.String(), pgPassword(l.url)) {
			t.Errorf("shard %d printed the ledger's password", i)
		}
	}
	if len(seen) != 24 {
		t.Fatalf("%d hosts applied, want all 24 exactly once: %v", len(seen), seen)
	}
	for h, n := range seen {
		if n != 1 {
			t.Errorf("%s applied %d times", h, n)
		}
	}
	hist := frontdoor(t, l.env(), "history")
	if hist.code != 0 || !strings.Contains(hist.stdout, id) {
		t.Fatalf("history does not list run %s:\n%s", id, hist)
	}
	show := frontdoor(t, l.env(), "show", id)
	if show.code != 0 || !strings.Contains(show.stdout, "shards:     3 of 3 recorded") {
		t.Fatalf("show %s:\n%s", id, show)
	}
	for _, h := range l.fleet.Hosts {
		if !strings.Contains(show.stdout, h.Name+" ") && !strings.Contains(show.stdout, h.Name+"\n") {
			t.Errorf("show %s does not list %s:\n%s", id, h.Name, show.stdout)
			break
		}
	}
	if strings.Contains(hist.stdout+show.stdout, pgPassword(l.url)) {
		t.Error("history or show printed the ledger's password")
	}
	again := runID()
	procs = procs[:0]
	for i := 0; i < 3; i++ {
		procs = append(procs, l.start(t, "--shard", fmt.Sprintf("%d/3", i), "--run-id", again))
	}
	for i, p := range procs {
		if code := p.wait(t); code != 0 || strings.Contains(p.stdout.String(), `"status":"changed"`) {
			t.Fatalf("shard %d/3 of a converged re-run: exit %d\n%s\n%s", i, code, p.stdout.String(), p.stderr.String())
		}
	}
	rb := frontdoor(t, l.env(), "rollback", id, "-i", l.inv)
	if rb.code != 0 {
		t.Fatalf("rollback %s:\n%s", id, rb)
	}
	for _, h := range l.fleet.Hosts {
		if got := h.Mem.Snapshot(); got != before[h.Name] {
			t.Errorf("%s is not as it was before the sharded run", h.Name)
		}
	}
}

func pgPassword(url string) string {
	at := strings.LastIndex(url, "@")
	colon := strings.LastIndex(url[:at], ":")
	return url[colon+1 : at]
}

// TestShardsStopTogether: --max-fail counts every shard's failures before any starts a new
// batch. A host of shard 0 fails in batch 1; shards 1 and 2 had none, and still stop there (their
// batch rolled back, later batches not started). Then a shard killed mid-run: the others notice
// its heartbeat stop and stop too.
func TestShardsStopTogether(t *testing.T) {
	l := newShardLab(t, 18, "127.79.1.10", 0)
	before := map[string]string{}
	for _, h := range l.fleet.Hosts {
		before[h.Name] = h.Mem.Snapshot()
	}
	// The first host of shard 0's first batch fails its configtest (the inventory lists hosts
	// by name).
	var victim string
	hosts := append([]*simfleet.Host(nil), l.fleet.Hosts...)
	sort.Slice(hosts, func(i, j int) bool { return hosts[i].Name < hosts[j].Name })
	for _, h := range hosts {
		if shardOf(h.Name, 3) == 0 {
			victim = h.Name
			h.Mem.Fail("run", "configtest", 1, "AH00526: Syntax error on line 3 of /etc/apache2/sites-enabled/jira.conf")
			break
		}
	}
	id := runID()
	var procs []*shardProc
	for i := 0; i < 3; i++ {
		procs = append(procs, l.start(t, "--serial", "2", "--shard", fmt.Sprintf("%d/3", i), "--run-id", id))
	}
	for i, p := range procs {
		code := p.wait(t)
		if code != 3 {
			t.Errorf("shard %d/3: exit %d, want 3 (stopped at --max-fail)\n%s\n%s", i, code, p.stdout.String(), p.stderr.String())
		}
		var started, skipped int
		for _, line := range strings.Split(strings.TrimSpace(p.stdout.String()), "\n") {
			var e fleet.Event
			json.Unmarshal([]byte(line), &e)
			if e.Type == fleet.BatchStart {
				started++
			}
			if e.Type == fleet.HostDone && e.Status == fleet.StatusSkipped {
				skipped++
				if i != 0 && !strings.Contains(e.Error, "over all 3 shards") {
					t.Errorf("shard %d: %s skipped for %q; want the shards' failures named", i, e.Host, e.Error)
				}
			}
		}
		if started != 1 || skipped == 0 {
			t.Errorf("shard %d/3 started %d batch(es) and skipped %d host(s); want batch 1 only, the rest skipped\n%s", i, started, skipped, p.stdout.String())
		}
	}
	for _, h := range l.fleet.Hosts {
		if got := h.Mem.Snapshot(); got != before[h.Name] {
			t.Errorf("%s keeps a change after the run stopped (victim %s)", h.Name, victim)
		}
	}

	// A shard killed at the end of its first batch.
	for _, h := range l.fleet.Hosts {
		h.Mem.Heal()
	}
	id = runID()
	procs = procs[:0]
	for i := 0; i < 3; i++ {
		procs = append(procs, l.start(t, "--serial", "2", "--shard", fmt.Sprintf("%d/3", i), "--run-id", id, "--shard-stale", "2s"))
	}
	for e := range procs[1].events {
		if e.Type == fleet.BatchDone && e.Batch == 1 {
			procs[1].cmd.Process.Signal(syscall.SIGKILL)
			break
		}
	}
	var wg sync.WaitGroup
	for _, i := range []int{0, 2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := procs[i]
			if code := p.wait(t); code != 3 {
				t.Errorf("shard %d/3 after shard 1 died: exit %d, want 3\n%s\n%s", i, code, p.stdout.String(), p.stderr.String())
			} else if !strings.Contains(p.stdout.String(), "stopped answering") {
				t.Errorf("shard %d/3 does not say shard 1 stopped answering:\n%s", i, p.stdout.String())
			}
		}()
	}
	wg.Wait()
	procs[1].wait(t)
	show := frontdoor(t, l.env(), "show", id)
	if show.code != 0 || !strings.Contains(show.stdout, "skipped") || !strings.Contains(show.stdout, "1/3: no end recorded") {
		t.Errorf("show %s after a shard died:\n%s", id, show)
	}
}

// TestShardsRefuse: nothing is changed on any host when a shard never joins (one started with
// another --run-id), and a run id is used once: a shard of a finished run, or an unsharded run
// given an id the ledger has, is refused.
func TestShardsRefuse(t *testing.T) {
	l := newShardLab(t, 6, "127.79.2.10", 0)
	before := map[string]string{}
	for _, h := range l.fleet.Hosts {
		before[h.Name] = h.Mem.Snapshot()
	}
	id := runID()
	a := l.start(t, "--shard", "0/2", "--run-id", id, "--shard-wait", "3s")
	b := l.start(t, "--shard", "1/2", "--run-id", runID(), "--shard-wait", "3s")
	for _, p := range []*shardProc{a, b} {
		if code := p.wait(t); code != 1 || !strings.Contains(p.stderr.String(), "every shard has the same --ledger and --run-id") {
			t.Errorf("a shard alone: exit %d, want 1 and what to check\n%s\n%s", code, p.stdout.String(), p.stderr.String())
		}
	}
	for _, h := range l.fleet.Hosts {
		if h.Mem.Snapshot() != before[h.Name] {
			t.Errorf("%s was changed though its run's shards never all joined", h.Name)
		}
	}
	again := frontdoor(t, l.env(), "apply", "--yes", "-i", l.inv, "--shard", "0/2", "--run-id", id, l.pb)
	if again.code == 0 || !strings.Contains(again.stderr, "used once") {
		t.Errorf("shard 0/2 of run %s again:\n%s", id, again)
	}
	first := runID()
	if r := frontdoor(t, l.env(), "apply", "--yes", "-i", l.inv, "--run-id", first, l.pb); r.code != 0 {
		t.Fatalf("an unsharded run with --run-id:\n%s", r)
	}
	if r := frontdoor(t, l.env(), "apply", "--yes", "-i", l.inv, "--run-id", first, l.pb); r.code == 0 || !strings.Contains(r.stderr, "used once") {
		t.Errorf("the same --run-id again:\n%s", r)
	}
}
