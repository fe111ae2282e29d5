package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"hash/fnv"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/frontdoor-dev/frontdoor/fleet"
	"github.com/frontdoor-dev/frontdoor/ledger"
	"github.com/frontdoor-dev/frontdoor/playbooks"
)

// shardFlags split one run across several controllers (docs/scale.md).
func shardFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "shard", EnvVars: []string{"FRONTDOOR_SHARD"}, Usage: "work on shard `I/N` of the hosts (0 <= I < N), one of N controllers sharing one run through one ledger (--ledger postgres://...); a host's shard depends on its name alone"},
		&cli.StringFlag{Name: "run-id", EnvVars: []string{"FRONTDOOR_RUN_ID"}, Usage: "the run's `ID`, the same for every shard (e.g. 20261202T200000Z-0a1b2c: a UTC time and 6 hex digits); default: a new one"},
		&cli.DurationFlag{Name: "shard-stale", Value: 15 * time.Second, Usage: "a shard whose heartbeat in the ledger is older than this is gone: its unfinished hosts count as failed and the run stops before its next batch (at least 1s)"},
		&cli.DurationFlag{Name: "shard-wait", Value: 5 * time.Minute, Usage: "how long a shard waits for all the others to join the run before it changes anything"},
	}
}

// shard is this controller's part of a run; N == 0: the run is not split.
type shard struct{ I, N int }

func (s shard) String() string { return fmt.Sprintf("%d/%d", s.I, s.N) }

func parseShard(v string) (shard, error) {
	if v == "" {
		return shard{}, nil
	}
	a, b, ok := strings.Cut(v, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return shard{}, fmt.Errorf("%q: give I/N with 0 <= I < N, e.g. --shard 0/4 (a Kubernetes Indexed Job: --shard $JOB_COMPLETION_INDEX/4)", v)
	}
	return shard{i, n}, nil
}

// shardOf is the shard of a host name: FNV-1a of the name, modulo n. It depends on the name
// alone, so every controller agrees without talking, and adding hosts to the inventory never
// moves the others.
func shardOf(name string, n int) int {
	h := fnv.New64a()
	h.Write([]byte(name))
	return int(h.Sum64() % uint64(n))
}

// ofShard keeps the hosts of shard s, in their order.
func ofShard(hosts []*playbooks.Host, s shard) []*playbooks.Host {
	if s.N == 0 {
		return hosts
	}
	var out []*playbooks.Host
	for _, h := range hosts {
		if shardOf(h.Name, s.N) == s.I {
			out = append(out, h)
		}
	}
	return out
}

// runID is the run's id: --run-id, which a split run needs (every shard must give the same),
// else a new one.
func runID(c *cli.Context, s shard, now time.Time) (string, error) {
	id := c.String("run-id")
	if id == "" {
		if s.N > 1 {
			return "", usageErrorf("--shard %s needs --run-id, the same for every shard (e.g. --run-id %s)", s, fleet.NewRunID(now))
		}
		return fleet.NewRunID(now), nil
	}
	if !fleet.ValidRunID(id) {
		return "", usageErrorf("--run-id %q: a run id is a UTC time and 6 hex digits, e.g. %s", id, fleet.NewRunID(now))
	}
	return id, nil
}

// coordinate joins the run's shards in the ledger and waits until all have joined (nothing is
// changed before: a shard started with another --ledger or --run-id is caught here), keeps this
// shard's heartbeat until stop is called, and returns the rollout's Coordinate: at each batch's
// end, this shard's count goes in and every shard's is waited for; the run stops when their
// failures together go over maxFail, a shard is gone, or a shard stopped the run (interrupted,
// or its ledger failed).
func (o *output) coordinate(ctx context.Context, c shardRun) (coord func(context.Context, int, int, int) (bool, string), stop func(), err error) {
	run, s, led := c.run, c.shard, o.led
	if err := led.JoinShard(run, s.I, s.N, c.options); err != nil {
		return nil, nil, err
	}
	done := make(chan struct{})
	beat := time.NewTicker(c.stale / 5)
	go func() {
		defer beat.Stop()
		failures := 0
		for {
			select {
			case <-done:
				return
			case <-beat.C:
				if err := led.Heartbeat(run, s.I); err != nil {
					if failures++; failures == 3 {
						c.say(fmt.Sprintf("WARNING: shard %s cannot write its heartbeat to the ledger %s (%v): after %s without one the other shards take it for gone and stop", s, led.Where(), err, c.stale))
					}
				} else {
					failures = 0
				}
			}
		}
	}()
	err = led.WaitJoined(ctx, run, s.N, c.wait, func(missing []int) {
		c.say(fmt.Sprintf("shard %s: waiting for shard(s) %s of run %s to join (every shard needs the same --ledger and --run-id; at most %s)", s, ints(missing), run, c.wait))
	})
	if err != nil {
		close(done)
		return nil, nil, err
	}
	// retry gives a ledger that fails for a moment (a database restarting) the time a shard is
	// given before it is taken for gone.
	retry := func(f func() error) (err error) {
		for end := time.Now().Add(c.stale / 2); ; {
			if err = f(); err == nil || time.Now().After(end) || ctx.Err() != nil {
				return err
			}
			time.Sleep(time.Second)
		}
	}
	coord = func(ctx context.Context, batch, hosts, failed int) (bool, string) {
		if c.stopping() {
			// The others must not go on with a batch this shard will not run.
			led.StopRun(run, s.I, fmt.Sprintf("shard %s was interrupted", s))
		}
		if err := retry(func() error { return led.BatchDone(run, s.I, batch, hosts, failed) }); err != nil {
			led.StopRun(run, s.I, fmt.Sprintf("shard %s could not record its batch %d", s, batch))
			return true, fmt.Sprintf("the rollout stopped: shard %s could not record its batch %d in the ledger %s: %v", s, batch, led.Where(), err)
		}
		var tot ledger.BatchTotal
		if err := retry(func() (err error) { tot, err = led.WaitBatch(ctx, run, s.N, batch, c.stale); return err }); err != nil {
			led.StopRun(run, s.I, fmt.Sprintf("shard %s could not read batch %d", s, batch))
			return true, fmt.Sprintf("the rollout stopped: shard %s could not learn the other shards' batch %d from the ledger %s: %v", s, batch, led.Where(), err)
		}
		switch {
		case len(tot.Stopped) > 0:
			return true, fmt.Sprintf("the rollout stopped at batch %d: %s", batch, strings.Join(tot.Stopped, "; "))
		case len(tot.Dead) > 0:
			return true, fmt.Sprintf("the rollout stopped: shard(s) %s of run %s stopped answering during batch %d (no heartbeat for %s); "+
				"the hosts they were changing keep their journals: once those controllers are surely gone, undo the run with: frontdoor rollback %s -i INVENTORY --force "+
				"(--force: their locks, held from another machine, cannot be judged stale from here)", ints(tot.Dead), run, batch, c.stale, run)
		case c.maxFail != nil && c.maxFail.Exceeded(tot.Failed, tot.Hosts):
			return true, fmt.Sprintf("the rollout stopped: batch %d's failures over all %d shards (%d of %d host(s)) went over --max-fail", batch, s.N, tot.Failed, tot.Hosts)
		}
		return false, ""
	}
	return coord, func() { close(done) }, nil
}

// shardRun is what coordinate needs of the command line.
type shardRun struct {
	run      string
	shard    shard
	maxFail  *fleet.Size
	stale    time.Duration // no heartbeat for this long: a shard is gone
	wait     time.Duration // how long to wait for every shard to join
	options  string        // what must be the same on every shard (optionsDigest)
	stopping func() bool
	say      func(string) // a line for the user (stderr)
}

func ints(v []int) string {
	var s []string
	for _, i := range v {
		s = append(s, strconv.Itoa(i))
	}
	return strings.Join(s, ",")
}

// optionsDigest is what every shard of a run must agree on: the playbook and inventories as they
// read on this machine, the hosts selected, the batches and the threshold. Shards that differ
// would each judge the same totals by their own rules, or leave hosts between them.
func optionsDigest(c *cli.Context, s shard) string {
	h := sha256.New()
	for _, f := range append(inventories(c), c.Args().First()) {
		b, err := os.ReadFile(f)
		if err != nil {
			b = []byte("unreadable: " + err.Error())
		}
		fmt.Fprintf(h, "%d:%x\n", len(b), sha256.Sum256(b))
	}
	for _, name := range []string{"limit", "serial", "max-fail", "no-batch-rollback", "shard-stale"} {
		fmt.Fprintf(h, "%s=%v\n", name, c.Value(name))
	}
	fmt.Fprintf(h, "n=%d\n", s.N)
	return fmt.Sprintf("%x", h.Sum(nil))[:16]
}
