// Command scalebench measures the frontdoor controller against an EMULATED fleet
// (internal/simfleet) of 100, 300 and 1,000 hosts on this machine: a fresh apply with
// --serial 10%, a converged plan and converged applies. For each it runs the frontdoor binary as
// a child process and reports wall time, controller CPU (user+system, per host), peak RSS, the
// most file descriptors it held, the ledger's size and the run's exit status. The emulated hosts
// run in this process and share the machine's cores with the controller; their CPU is reported
// apart. Run from the repository root, as root (the hosts listen on port 22 and 80 of
// 127.77.x.y): go run ./internal/simfleet/scalebench -frontdoor /tmp/frontdoor
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/frontdoor-dev/frontdoor/fleet"
	"github.com/frontdoor-dev/frontdoor/internal/pgtest"
	"github.com/frontdoor-dev/frontdoor/internal/simfleet"
)

const playbook = `# scalebench: Jira at its own subdomain, as playbooks/examples/jira-subdomain.yaml
apps:
  - product: jira
    url: http://jira.{{host}}.sim.test
apache:
  remote_ip: true
`

// Result is one measured run.
type Result struct {
	Hosts      int     `json:"hosts"`
	Run        string  `json:"run"`
	Exit       int     `json:"exit"`
	WallS      float64 `json:"wall_s"`
	CPUS       float64 `json:"cpu_s"`
	CPUPerHost float64 `json:"cpu_ms_per_host"`
	RSSMB      float64 `json:"peak_rss_mb"`
	FDs        int     `json:"max_fds"`
	LedgerKB   int64   `json:"ledger_kb"`
	FleetCPUS  float64 `json:"emulated_hosts_cpu_s"`
}

func main() {
	fd := flag.String("frontdoor", "", "the frontdoor binary to measure (go build -o /tmp/frontdoor ./cmd/frontdoor)")
	sizes := flag.String("hosts", "100,300,1000", "fleet sizes")
	runs := flag.Int("runs", 3, "converged applies per size (the median is reported)")
	latency := flag.Duration("latency", 0, "added before every answer of an emulated host (a remote network)")
	forks := flag.Int("forks", 50, "frontdoor --forks")
	out := flag.String("json", "", "also write the results as JSON lines to this file")
	shards := flag.Int("shards", 0, "also measure a converged apply split in this many shards (--shard i/N), sharing a PostgreSQL ledger (internal/pgtest starts one), and one controller on that ledger")
	lab := flag.String("lab", "", "also put the running lab's Debian Jira hosts in every fleet: `LAB_ROOT` (e.g. /var/lib/frontdoor-lab; testdata/lab/up first)")
	svg := flag.String("svg", "", "also draw the results (wall time and CPU per host against hosts) as an SVG `FILE`")
	replot := flag.String("plot", "", "only draw -svg from the results of an earlier run (its -json `FILE`)")
	serve := flag.String("serve", "", "only start a fleet of the first -hosts size in this `DIR` (inventory.yaml there) and serve it until interrupted")
	flag.Parse()
	if *replot != "" {
		data, err := os.ReadFile(*replot)
		if err != nil {
			log.Fatal(err)
		}
		var rs []Result
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			var r Result
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				log.Fatalf("%s: %v", *replot, err)
			}
			rs = append(rs, r)
		}
		if err := os.WriteFile(*svg, []byte(plot(rs)), 0o644); err != nil {
			log.Fatal(err)
		}
		return
	}
	if *serve != "" {
		n, _ := strconv.Atoi(strings.Split(*sizes, ",")[0])
		serveOnly(*serve, n, *latency)
		return
	}
	if *fd == "" {
		log.Fatal("give -frontdoor BINARY")
	}
	tmp, err := os.MkdirTemp("", "scalebench")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	labdns := filepath.Join(tmp, "labdns")
	if b, err := exec.Command("go", "build", "-o", labdns, "./internal/labdns").CombinedOutput(); err != nil {
		log.Fatalf("build internal/labdns (run from the repository root): %v\n%s", err, b)
	}
	var real []simfleet.RealHost
	if *lab != "" {
		if real, err = labHosts(*lab); err != nil {
			log.Fatal(err)
		}
		log.Printf("with %d real lab host(s)", len(real))
	}
	var all []Result
	fmt.Printf("| hosts | run | exit | wall | controller CPU | CPU per host | peak RSS | max fds | ledger | emulated hosts' CPU |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			log.Fatalf("-hosts: %v", err)
		}
		for _, r := range size(*fd, labdns, tmp, n, *runs, *latency, *forks, *shards, real) {
			all = append(all, r)
			fmt.Printf("| %d | %s | %d | %.2f s | %.2f s | %.2f ms | %.0f MB | %d | %d KB | %.2f s |\n",
				r.Hosts, r.Run, r.Exit, r.WallS, r.CPUS, r.CPUPerHost, r.RSSMB, r.FDs, r.LedgerKB, r.FleetCPUS)
		}
	}
	if *svg != "" {
		if err := os.WriteFile(*svg, []byte(plot(all)), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	if *out != "" {
		var b bytes.Buffer
		for _, r := range all {
			j, _ := json.Marshal(r)
			b.Write(append(j, '\n'))
		}
		if err := os.WriteFile(*out, b.Bytes(), 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

// size measures one fleet size: a fresh apply in rolling batches of 10%, a converged plan, and
// converged applies (median).
func size(fd, labdns, tmp string, n, runs int, latency time.Duration, forks, shards int, real []simfleet.RealHost) []Result {
	dir := filepath.Join(tmp, strconv.Itoa(n))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		log.Fatal(err)
	}
	dnsAddr := "127.78.0.1:53"
	f, err := simfleet.Start(dir, n-len(real), simfleet.Options{Latency: latency, DNS: dnsAddr, Real: real})
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	dns := exec.Command(labdns, "-listen", dnsAddr, "-zone", filepath.Join(dir, "zone"))
	if err := dns.Start(); err != nil {
		log.Fatal(err)
	}
	defer func() { dns.Process.Kill(); dns.Wait() }()
	waitUDP(dnsAddr)
	pb := filepath.Join(dir, "jira.yaml")
	os.WriteFile(pb, []byte(playbook), 0o644)
	inv := filepath.Join(dir, "inventory.yaml")
	led := filepath.Join(dir, "ledger.db")
	common := []string{"-i", inv, "--forks", strconv.Itoa(forks)}
	var out []Result
	measure := func(name string, args ...string) Result {
		return run(fd, n, name, led, append(args, common...), pb)
	}
	resetLab(real)
	out = append(out, measure("fresh apply --serial 10%", "apply", "--yes", "--ledger", led, "--serial", "10%"))
	out = append(out, measure("converged plan", "plan"))
	var conv []Result
	for i := 0; i < runs; i++ {
		conv = append(conv, measure("converged apply", "apply", "--yes", "--ledger", led))
	}
	sort.Slice(conv, func(i, j int) bool { return conv[i].WallS < conv[j].WallS })
	med := conv[len(conv)/2]
	med.Run = fmt.Sprintf("converged apply (median of %d)", len(conv))
	out = append(out, med)
	if shards > 0 {
		pg, err := pgtest.Start()
		if err != nil {
			log.Fatalf("-shards needs PostgreSQL (scripts/setup installs it): %v", err)
		}
		defer pg.Stop()
		url, err := pg.CreateDB()
		if err != nil {
			log.Fatal(err)
		}
		r := run(fd, n, "converged apply, PostgreSQL ledger", "", append([]string{"apply", "--yes", "--ledger", url}, common...), pb)
		out = append(out, r)
		out = append(out, sharded(fd, n, shards, url, common, pb))
	}
	return out
}

// sharded runs a converged apply as shards processes at once, one run id, and sums them: wall
// from the first start to the last end, CPU of all, the largest peak RSS and descriptor count.
func sharded(fd string, n, shards int, url string, common []string, pb string) Result {
	id := fleet.NewRunID(time.Now())
	rs := make([]Result, shards)
	t0 := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < shards; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rs[i] = run(fd, n, fmt.Sprintf("shard %d/%d", i, shards), "", append([]string{"apply", "--yes", "--ledger", url,
				"--shard", fmt.Sprintf("%d/%d", i, shards), "--run-id", id}, common...), pb)
		}()
	}
	wg.Wait()
	tot := Result{Hosts: n, Run: fmt.Sprintf("converged apply, %d shards, PostgreSQL ledger", shards), WallS: time.Since(t0).Seconds()}
	for _, r := range rs {
		tot.CPUS += r.CPUS
		tot.RSSMB = max(tot.RSSMB, r.RSSMB)
		tot.FDs = max(tot.FDs, r.FDs)
		tot.Exit = max(tot.Exit, r.Exit)
	}
	tot.CPUPerHost = tot.CPUS * 1000 / float64(n)
	return tot
}

// labHosts are the lab's running Debian hosts with Jira (hosts.tsv: name, address, init,
// products, flavor), fresh: each is reset first.
func labHosts(root string) ([]simfleet.RealHost, error) {
	tsv, err := os.ReadFile(filepath.Join(root, "run", "hosts.tsv"))
	if err != nil {
		return nil, fmt.Errorf("-lab: %w (is the lab up? testdata/lab/up N)", err)
	}
	kh, err := os.ReadFile(filepath.Join(root, "run", "known_hosts"))
	if err != nil {
		return nil, err
	}
	var out []simfleet.RealHost
	for _, line := range strings.Split(strings.TrimSpace(string(tsv)), "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 5 || f[3] != "jira" || f[4] != "debian" {
			continue
		}
		r := simfleet.RealHost{Name: f[0], Addr: f[1], Key: filepath.Join(root, "keys", "lab_ed25519")}
		for _, k := range strings.Split(string(kh), "\n") {
			if strings.HasPrefix(k, f[1]+",") {
				r.KnownHosts = append(r.KnownHosts, k)
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// resetLab returns the lab hosts to fresh (testdata/lab/reset), before a fresh apply.
func resetLab(real []simfleet.RealHost) {
	var ids []string
	for _, r := range real {
		ids = append(ids, strings.TrimPrefix(r.Name, "jira"))
	}
	if len(ids) == 0 {
		return
	}
	if out, err := exec.Command("testdata/lab/reset", ids...).CombinedOutput(); err != nil {
		log.Fatalf("testdata/lab/reset %v: %v\n%s", ids, err, out)
	}
}

// serveOnly starts a fleet and its DNS in dir and waits for SIGINT or SIGTERM: for profiling
// frontdoor by hand against it.
func serveOnly(dir string, n int, latency time.Duration) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		log.Fatal(err)
	}
	dnsAddr := "127.78.0.1:53"
	f, err := simfleet.Start(dir, n, simfleet.Options{Latency: latency, DNS: dnsAddr})
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	os.WriteFile(filepath.Join(dir, "jira.yaml"), []byte(playbook), 0o644)
	labdns := filepath.Join(dir, "labdns")
	if b, err := exec.Command("go", "build", "-o", labdns, "./internal/labdns").CombinedOutput(); err != nil {
		log.Fatalf("build internal/labdns (run from the repository root): %v\n%s", err, b)
	}
	dns := exec.Command(labdns, "-listen", dnsAddr, "-zone", filepath.Join(dir, "zone"))
	if err := dns.Start(); err != nil {
		log.Fatal(err)
	}
	defer func() { dns.Process.Kill(); dns.Wait() }()
	log.Printf("%d EMULATED hosts: frontdoor apply -i %s/inventory.yaml %s/jira.yaml", n, dir, dir)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
}

func waitUDP(addr string) {
	for i := 0; i < 50; i++ {
		c, err := net.Dial("udp", addr)
		if err == nil {
			c.Close()
			time.Sleep(50 * time.Millisecond)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// run starts frontdoor, samples its descriptors while it runs, and reads its rusage at the end.
func run(fd string, n int, name, ledger string, args []string, pb string) Result {
	var self0 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &self0)
	cmd := exec.Command(fd, append(args, pb)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	var maxFDs atomic.Int64
	done := make(chan struct{})
	go func() {
		dir := fmt.Sprintf("/proc/%d/fd", cmd.Process.Pid)
		for {
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
			if ents, err := os.ReadDir(dir); err == nil && int64(len(ents)) > maxFDs.Load() {
				maxFDs.Store(int64(len(ents)))
			}
		}
	}()
	err := cmd.Wait()
	wall := time.Since(t0)
	close(done)
	exit := 0
	if err != nil {
		exit = cmd.ProcessState.ExitCode()
	}
	// plan exits 2 when changes are pending; anything else than 0 or 2 is a failed measurement.
	if exit != 0 && exit != 2 {
		tail := stderr.String()
		if len(tail) > 3000 {
			tail = tail[len(tail)-3000:]
		}
		var failed []string
		for _, line := range strings.Split(stdout.String(), "\n") {
			if strings.Contains(line, "FAILED") || strings.Contains(line, ": ERROR") {
				failed = append(failed, line)
			}
		}
		log.Printf("%d hosts, %s: exit %d:\n%s\n%s", n, name, exit, strings.Join(failed, "\n"), tail)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	cpu := tv(ru.Utime) + tv(ru.Stime)
	var self1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &self1)
	var ledgerSize int64
	for _, suffix := range []string{"", "-wal"} {
		if ledger == "" {
			break
		}
		if st, err := os.Stat(ledger + suffix); err == nil {
			ledgerSize += st.Size()
		}
	}
	return Result{Hosts: n, Run: name, Exit: exit, WallS: wall.Seconds(), CPUS: cpu, CPUPerHost: cpu * 1000 / float64(n),
		RSSMB: float64(ru.Maxrss) / 1024, FDs: int(maxFDs.Load()), LedgerKB: ledgerSize / 1024,
		FleetCPUS: tv(self1.Utime) + tv(self1.Stime) - tv(self0.Utime) - tv(self0.Stime)}
}

func tv(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
