package main

import (
	"context"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/frontdoor-dev/frontdoor/fleet"
	"github.com/frontdoor-dev/frontdoor/playbooks"
)

// shardFlags split one run across several controllers (docs/scale.md).
func shardFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "shard", EnvVars: []string{"FRONTDOOR_SHARD"}, Usage: "work on shard `I/N` of the hosts (0 <= I < N), one of N controllers sharing one run through one ledger (--ledger postgres://...); a host's shard depends on its name alone"},
		&cli.StringFlag{Name: "run-id", EnvVars: []string{"FRONTDOOR_RUN_ID"}, Usage: "the run's `ID`, the same for every shard (e.g. 20261202T200000Z-0a1b2c: a UTC time and 6 hex digits); default: a new one"},
		&cli.DurationFlag{Name: "shard-stale", Value: 15 * time.Second, Usage: "a shard whose heartbeat in the ledger is older than this is gone: its unfinished hosts count as failed and the run stops before its next batch"},
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

// coordinate joins the run's shards in the ledger, keeps this shard's heartbeat until stop is
// called, and returns the rollout's Coordinate: at each batch's end, this shard's count goes in
// and every shard's is waited for; the run stops when their failures together go over maxFail
// or a shard is gone.
func (o *output) coordinate(ctx context.Context, run string, s shard, maxFail *fleet.Size, stale time.Duration) (coord func(context.Context, int, int, int) (bool, string), stop func(), err error) {
	if err := o.led.JoinShard(run, s.I, s.N); err != nil {
		return nil, nil, err
	}
	done := make(chan struct{})
	beat := time.NewTicker(stale / 5)
	go func() {
		defer beat.Stop()
		for {
			select {
			case <-done:
				return
			case <-beat.C:
				o.led.Heartbeat(run, s.I)
			}
		}
	}()
	coord = func(ctx context.Context, batch, hosts, failed int) (bool, string) {
		if err := o.led.BatchDone(run, s.I, batch, hosts, failed); err != nil {
			return true, fmt.Sprintf("shard %s could not record its batch %d in the ledger: %v", s, batch, err)
		}
		tot, err := o.led.WaitBatch(ctx, run, s.N, batch, stale)
		if err != nil {
			return true, fmt.Sprintf("shard %s could not learn the other shards' batch %d from the ledger: %v", s, batch, err)
		}
		if len(tot.Dead) > 0 {
			return true, fmt.Sprintf("the rollout stopped: shard(s) %v of run %s stopped answering during batch %d (no heartbeat for %s)", tot.Dead, run, batch, stale)
		}
		if maxFail != nil && maxFail.Exceeded(tot.Failed, tot.Hosts) {
			return true, fmt.Sprintf("the rollout stopped: batch %d's failures over all %d shards (%d of %d host(s)) went over --max-fail", batch, s.N, tot.Failed, tot.Hosts)
		}
		return false, ""
	}
	return coord, func() { close(done) }, nil
}
