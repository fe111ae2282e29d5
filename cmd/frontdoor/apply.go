package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/urfave/cli/v2"

	"github.com/frontdoor-dev/frontdoor/fleet"
	"github.com/frontdoor-dev/frontdoor/ledger"
	"github.com/frontdoor-dev/frontdoor/session"
)

func applyCommand() *cli.Command {
	return &cli.Command{
		Name:      "apply",
		Usage:     "plan, confirm, apply in batches, verify through the proxy; roll failed hosts back",
		ArgsUsage: "PLAYBOOK | PLANFILE",
		Description: "Shows the plan, asks for confirmation on a terminal (--yes skips it; without a terminal --yes is required),\n" +
			"then applies it batch by batch (--serial), hosts of a batch in parallel (--forks). Each host is locked for the\n" +
			"run, planned again under the lock, changed with its journal kept on the host (/var/lib/frontdoor/runs/RUN),\n" +
			"re-checked, and verified through the proxy. A failed host is rolled back. When a batch's failures go over\n" +
			"--max-fail, the rollout stops: the batch's changed hosts are rolled back too and later batches are not started.\n" +
			"Every run is recorded in the ledger (frontdoor history, frontdoor show RUN) and can be undone later with\n" +
			"frontdoor rollback RUN -i INVENTORY. Exit status: 0 every host verified; 1 a host failed or an error; 3 the rollout stopped\n" +
			"at --max-fail; 130 interrupted.\n" +
			"A PLANFILE written by plan -out is applied as saved, without asking (it was the plan reviewed): its\n" +
			"playbook, inventory and hosts; a host whose plan is no longer the saved one is refused and left untouched.",
		Flags: append(append(append(append(optionalInventory(connFlags()), baseURLFlags()...), outputFlags()...),
			&cli.BoolFlag{Name: "yes", Aliases: []string{"y"}, Usage: "apply without asking"},
			&cli.StringFlag{Name: "serial", Usage: "rolling batches: a size (2), a percentage (25%) or a list whose last size repeats (1,10%,100%)"},
			&cli.StringFlag{Name: "max-fail", Usage: "stop the rollout when a batch's failed hosts exceed `N` or N% of the batch (default: 0 with --serial, else no limit)"},
			&cli.BoolFlag{Name: "no-batch-rollback", Usage: "when a batch goes over --max-fail, keep its changed hosts as they are, for inspection"},
			junitFlag(), strictPreflightFlag(),
			&cli.StringFlag{Name: "retry-file", TakesFile: true, Usage: "write the hosts that did not end verified to `FILE` (default: next to the ledger, named after the run)"},
		), shardFlags()...),
		Action: applyAction,
	}
}

func applyAction(c *cli.Context) error {
	var saved *savedPlan
	if c.Args().Len() == 1 {
		var err error
		if saved, err = readSavedPlan(c.Args().First()); err != nil {
			return asExit(err)
		}
	}
	var l *loaded
	var err error
	if saved != nil {
		l, err = loadSaved(c, saved)
	} else {
		l, err = load(c, true)
	}
	if err != nil {
		return asExit(err)
	}
	playbook, invLabel := absPath(c.Args().First()), inventoryLabel(c)
	if saved != nil {
		playbook, invLabel = saved.Playbook, strings.Join(saved.Inventories, ", ")
	}
	if l.opts.SetBaseURL, err = credentials(c); err != nil {
		return asExit(err)
	}
	l.opts.VerifyWait = c.Duration("verify-wait")
	serial, err := fleet.ParseSerial(c.String("serial"))
	if err != nil {
		return usageErrorf("--serial %w", err)
	}
	var maxFail *fleet.Size
	if s := c.String("max-fail"); s != "" {
		m, err := fleet.ParseSize(s)
		if err != nil {
			return usageErrorf("--max-fail %w", err)
		}
		maxFail = &m
	}
	sh, err := parseShard(c.String("shard"))
	if err != nil {
		return usageErrorf("--shard %w", err)
	}
	if sh.N > 0 && saved != nil {
		return usageErrorf("--shard splits a playbook's run; a saved plan is applied as saved, by one controller")
	}
	if sh.N > 0 && len(l.pb.Clusters()) > 0 {
		// Shards would split a cluster: two of its nodes could restart at once, and a balancer
		// would not wait for nodes in another shard.
		return usageErrorf("--shard: this playbook has Data Center clusters, whose nodes restart one at a time: apply it from one controller (without --shard)")
	}
	l.hosts = ofShard(l.hosts, sh)
	now := time.Now()
	id, err := runID(c, sh, now)
	if err != nil {
		return err
	}
	owner := fleet.Me(id, now)
	out, err := openOutput(c, l, owner.Run)
	if err != nil {
		return asExit(err)
	}
	if c.IsSet("run-id") && sh.N == 0 {
		if seen, err := out.led.RunExists(owner.Run); err != nil || seen {
			out.close()
			if err == nil {
				err = usageErrorf("--run-id %s: the ledger %s has that run already: a run id is used once; give a new one, or none", owner.Run, out.led.Where())
			}
			return asExit(err)
		}
	}
	setCurrentRun(owner.Run)
	ro := &fleet.Rollout{Playbook: l.pb, Hosts: l.hosts, Inventory: l.inv.Hosts, Opts: l.opts, Forks: c.Int("forks"),
		Serial: serial, MaxFail: maxFail, NoBatchRollback: c.Bool("no-batch-rollback"), Stopping: stopping, Emit: out.em, Owner: owner}
	if sh.N > 0 {
		out.em.SetShard(sh.String())
		threshold := maxFail
		if threshold == nil && len(serial) > 0 {
			threshold = &fleet.Size{N: 0}
		}
		stale := c.Duration("shard-stale")
		if stale < time.Second {
			out.close()
			return usageErrorf("--shard-stale %s: give at least 1s (the heartbeat is written every fifth of it)", stale)
		}
		coord, stop, err := out.coordinate(c.Context, shardRun{run: owner.Run, shard: sh, maxFail: threshold, stale: stale,
			wait: c.Duration("shard-wait"), options: optionsDigest(c, sh), stopping: stopping,
			say: func(msg string) { fmt.Fprintln(c.App.ErrWriter, "frontdoor: "+msg) }})
		if err != nil {
			out.close()
			return asExit(fmt.Errorf("--shard %s: join run %s: %w", sh, owner.Run, err))
		}
		defer stop()
		ro.Coordinate = coord
	}
	switch {
	case saved != nil:
		// The saved plan is what was reviewed: no question (as terraform apply PLANFILE).
		ro.Prepared = checkSaved(c, l, saved)
		if out.text {
			out.printf("applying the plan saved in %s (%s)\n", saved.file, saved.Created.Local().Format(time.RFC3339))
		}
	case !c.Bool("yes"):
		if ro.Prepared, err = confirm(c, l, out); err != nil {
			out.close()
			return asExit(err)
		}
	}
	batches := fleet.BatchNames(fleet.Split(l.hosts, fleet.Batches(len(l.hosts), serial)))
	out.em.Emit(fleet.Event{Type: fleet.RunStart, Command: "apply", Playbook: playbook, Inventory: invLabel,
		Controller: owner.Controller, Batches: batches})
	out.started(c, owner.Run, playbook)
	res := ro.Run(c.Context)
	out.em.Emit(fleet.Event{Type: fleet.RunDone, Status: res.Status, Counts: &res.Counts})
	out.recap(res)
	retry := ""
	if failed := res.Failed(); len(failed) > 0 {
		retry, err = writeRetry(c, owner.Run, failed)
		if err != nil {
			out.printf("could not write the retry file: %v\n", err)
		}
	}
	end := exitFor(res, retry, owner.Run)
	out.ended(owner.Run, end, retry)
	if err := out.close(); err != nil {
		fmt.Fprintln(os.Stderr, "frontdoor: WARNING:", err)
	}
	return end
}

// optionalInventory is connFlags with -i not required: apply PLANFILE takes the saved
// inventory (loadHosts still requires -i otherwise).
func optionalInventory(flags []cli.Flag) []cli.Flag {
	for _, f := range flags {
		if g, ok := f.(*cli.GenericFlag); ok && g.Name == "inventory" {
			g.Required = false
		}
	}
	return flags
}

// exitFor turns a run's result into the documented exit status.
func exitFor(res *fleet.Result, retry, run string) error {
	hint := ""
	if retry != "" {
		hint = "; " + retryAdvice(retry)
	}
	if half := res.Unfinished(); len(half) > 0 {
		// A retry is refused while the run is unfinished on a host: say what comes first.
		hint = "; " + halfChangedAdvice(run, half) + hint
	}
	switch res.Status {
	case fleet.RunOK:
		return nil
	case fleet.RunInterrupted:
		return &exitErr{exitInterrupted, fmt.Errorf("interrupted: hosts not finished were rolled back, later ones not started%s", hint)}
	case fleet.RunStopped:
		return &exitErr{exitStopped, fmt.Errorf("rollout stopped: a batch went over --max-fail (%d of %d host(s) failed)%s", res.Counts.Failed, res.Counts.Hosts, hint)}
	}
	return &exitErr{exitError, fmt.Errorf("%d of %d host(s) failed%s", res.Counts.Failed, res.Counts.Hosts, hint)}
}

// confirm plans every host (read-only, no lock), shows the plans and asks; the hosts are planned
// again under their lock in their batch and must come out the same.
func confirm(c *cli.Context, l *loaded, out *output) (map[string]*session.HostRun, error) {
	if !isatty.IsTerminal(os.Stdin.Fd()) {
		return nil, fmt.Errorf("not applying: stdin is not a terminal to confirm on; pass --yes")
	}
	runs := l.prepareAll(c.Context, c.Int("forks"))
	closeAll := func() {
		for _, r := range runs {
			r.Close()
		}
	}
	pending := 0
	for _, r := range runs {
		if r.Err != nil {
			l.printf("== %s: ERROR: %s\n", r.Host.Name, explain(r.Err))
			continue
		}
		renderPlan(l.out, fleet.PlanEvent(r, 0, explain), c.Bool("verbose"))
		out.shown[r.Host.Name] = true
		pending += r.Plan.Pending()
	}
	if pending > 0 {
		fmt.Fprintf(l.out, "Apply %d change(s)? Type yes: ", pending)
		line, _ := bufio.NewReader(os.Stdin).ReadString('\n')
		if strings.TrimSpace(line) != "yes" {
			closeAll()
			return nil, fmt.Errorf("not applied")
		}
	}
	m := map[string]*session.HostRun{}
	for _, r := range runs {
		m[r.Host.Name] = r
	}
	return m, nil
}

// writeRetry writes the names of hosts that did not end verified, one per line.
func writeRetry(c *cli.Context, run string, hosts []string) (string, error) {
	path := c.String("retry-file")
	if path == "" {
		lp, err := ledgerPath(c)
		if err == nil && strings.Contains(lp, "://") {
			// A ledger in a database (postgres://): the retry file stays on this machine.
			lp, err = ledger.DefaultPath()
		}
		if err != nil {
			return "", err
		}
		name := run
		if sh, _ := parseShard(c.String("shard")); sh.N > 0 {
			name += fmt.Sprintf(".shard-%d", sh.I) // shards may share a machine
		}
		path = filepath.Join(filepath.Dir(lp), "retry", name+".retry")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	return path, os.WriteFile(path, []byte(strings.Join(hosts, "\n")+"\n"), 0o600)
}
