package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/frontdoor-dev/frontdoor/fleet"
	"github.com/frontdoor-dev/frontdoor/ledger"
	"github.com/frontdoor-dev/frontdoor/session"
	"github.com/frontdoor-dev/frontdoor/steps"
)

func rollbackCommand() *cli.Command {
	return &cli.Command{
		Name:      "rollback",
		Usage:     "undo a past run on its hosts, from the journals it left there",
		ArgsUsage: "RUN",
		Description: "Undoes run RUN (finished, failed, or interrupted, even with its controller killed) on every selected host\n" +
			"that has its journal (/var/lib/frontdoor/runs/RUN): original files restored byte for byte (content, mode,\n" +
			"owner), modules and sites put back, services returned to their state, then every file re-read and compared.\n" +
			"A host whose files changed since the run wrote them is refused (drift) unless --force. The stale lock of the\n" +
			"run being undone is taken over. RUN must be in the ledger (a mistyped id would otherwise visit every host to\n" +
			"find nothing); a run made from another controller needs --run-from-elsewhere.\n" +
			"Exit status: 0 every host restored or untouched by RUN; 1 otherwise; 4 RUN not in the ledger.",
		Flags: append(append(connFlags(), outputFlags()...),
			&cli.BoolFlag{Name: "force", Usage: "restore over drift, and take over RUN's lock even if its controller may be alive"},
			&cli.BoolFlag{Name: "run-from-elsewhere", Usage: "RUN was made from another controller (its ledger is not this one): look for its journals on the hosts anyway"},
			&cli.StringFlag{Name: "playbook", Usage: "the playbook RUN applied (default: the one the ledger recorded, if unchanged): its Data Center clusters' nodes are rolled back one at a time, out of their balancers first"}),
		Action: func(c *cli.Context) error {
			if c.Args().Len() != 1 || !fleet.ValidRunID(c.Args().First()) {
				return usageErrorf("give the run id to undo, e.g. frontdoor rollback 20261127T091500Z-3f9a2c -i inventory.yaml (frontdoor history lists runs)")
			}
			target := c.Args().First()
			if _, err := textOutput(c); err != nil {
				return err
			}
			var run *ledger.Run
			if !c.Bool("run-from-elsewhere") {
				var err error
				if run, err = inLedger(c, target); err != nil {
					return asExit(err)
				}
			}
			l, err := loadHosts(c)
			if err != nil {
				return asExit(err)
			}
			rolling, err := rollbackClusters(c, l, run)
			if err != nil {
				return asExit(err)
			}
			now := time.Now()
			owner := fleet.Me(fleet.NewRunID(now), now)
			out, err := openOutput(c, l, owner.Run)
			if err != nil {
				return asExit(err)
			}
			var names []string
			for _, h := range l.hosts {
				names = append(names, h.Name)
			}
			out.em.Emit(fleet.Event{Type: fleet.RunStart, Command: "rollback", Undoes: target, Inventory: inventoryLabel(c), Controller: owner.Controller, Batches: [][]string{names}})
			out.started(c, owner.Run, "")
			if rolling != nil {
				defer rolling.Close()
				for _, w := range rolling.warnings {
					out.printf("%s\n", w)
				}
			}
			u := &fleet.Undo{Hosts: l.hosts, Opts: l.opts, Forks: c.Int("forks"), Target: target, Force: c.Bool("force"), Emit: out.em, Owner: owner}
			if rolling != nil && rolling.Rolling != nil {
				u.Rolling, u.Hosts = rolling.Rolling, rolling.Order(l.hosts)
			}
			res := u.Run(c.Context)
			out.em.Emit(fleet.Event{Type: fleet.RunDone, Status: res.Status, Counts: &res.Counts})
			var end error
			if res.Status != fleet.RunOK {
				end = &exitErr{exitError, fmt.Errorf("%d of %d host(s) not rolled back", res.Counts.Failed, res.Counts.Hosts)}
			}
			out.ended(owner.Run, end, "")
			if err := out.close(); err != nil {
				return asExit(err)
			}
			return end
		},
	}
}

// inLedger refuses a run id the ledger does not know, before any host is contacted: a typo in
// a well-formed id would otherwise find no journal anywhere and "succeed".
func inLedger(c *cli.Context, run string) (*ledger.Run, error) {
	path, err := ledgerPath(c)
	if err != nil {
		return nil, err
	}
	led, err := openLedgerAt(path)
	if err != nil {
		return nil, err
	}
	defer led.Close()
	runs, err := led.Runs(0)
	if err != nil {
		return nil, err
	}
	for _, r := range runs {
		if r.ID == run {
			return &r, nil
		}
	}
	return nil, usageErrorf("no run %s in the ledger %s; frontdoor history lists the runs (for a run made from another controller, add --run-from-elsewhere to look for its journals on the hosts)", run, ledger.Redact(path))
}

func unlockCommand() *cli.Command {
	return &cli.Command{
		Name:  "unlock",
		Usage: "break the lock of a run whose controller is gone",
		Description: "Removes a host's frontdoor lock when its controller is known to be gone (a process of this machine that no\n" +
			"longer exists). --force breaks any lock: use it only when you know the run holding it is dead. Breaking a\n" +
			"lock does not undo the run: see frontdoor rollback.",
		Flags: append(connFlags(), &cli.BoolFlag{Name: "force", Usage: "break a lock whose controller cannot be checked from here"}),
		Action: func(c *cli.Context) error {
			l, err := loadHosts(c)
			if err != nil {
				return asExit(err)
			}
			failed := 0
			for _, h := range l.hosts {
				conn, err := session.Connect(c.Context, h, l.opts)
				if err == nil {
					var msg string
					msg, err = fleet.Unlock(c.Context, conn, c.Bool("force"))
					conn.Close()
					if err == nil {
						l.printf("%s: %s\n", h.Name, msg)
						continue
					}
				}
				failed++
				msg := explain(err)
				var le *fleet.LockedError
				if errors.As(err, &le) {
					msg = fmt.Sprintf("%s is locked by %s; %s: not breaking it (--force breaks a lock whose controller you know is gone)", le.Host, le.Holder.Describe(), le.Why)
				}
				l.printf("%s: FAILED: %s\n", h.Name, msg)
			}
			if failed > 0 {
				return &exitErr{exitError, fmt.Errorf("%d host(s) not unlocked", failed)}
			}
			return nil
		},
	}
}

func ledgerFlag() cli.Flag {
	return &cli.StringFlag{Name: "ledger", EnvVars: []string{"FRONTDOOR_LEDGER"}, TakesFile: true, Usage: "the run ledger, an SQLite `FILE`, or a PostgreSQL URL postgres://USER@HOST/DB shared by several controllers (default: $XDG_STATE_HOME/frontdoor/ledger.db, else ~/.local/state/frontdoor/ledger.db)"}
}

func openLedger(c *cli.Context) (*ledger.Ledger, error) {
	p, err := ledgerPath(c)
	if err != nil {
		return nil, err
	}
	return openLedgerAt(p)
}

// ledgerForRun opens the ledger for a command whose one argument is a run id (show, report).
func ledgerForRun(c *cli.Context) (*ledger.Ledger, error) {
	if c.Args().Len() != 1 {
		return nil, usageErrorf("give a run id (or its unambiguous beginning); frontdoor history lists them")
	}
	led, err := openLedger(c)
	if err != nil {
		return nil, asExit(err)
	}
	return led, nil
}

// openLedgerAt opens the ledger, saying what to do when its directory is missing.
func openLedgerAt(p string) (*ledger.Ledger, error) {
	if w := ledgerTLSWarning(p); w != "" {
		fmt.Fprintln(os.Stderr, "frontdoor: WARNING: "+w)
	}
	l, err := ledger.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: create the directory, or give --ledger a file in an existing one", err)
	}
	return l, err
}

func historyCommand() *cli.Command {
	return &cli.Command{
		Name:  "history",
		Usage: "list the runs in the ledger, newest first",
		Flags: []cli.Flag{ledgerFlag(), &cli.IntFlag{Name: "last", Aliases: []string{"n"}, Value: 20, Usage: "show the last `N` runs (0: all)"}, jsonOutputFlag()},
		Action: func(c *cli.Context) error {
			text, err := textOutput(c)
			if err != nil {
				return err
			}
			led, err := openLedger(c)
			if err != nil {
				return asExit(err)
			}
			defer led.Close()
			runs, err := led.Runs(c.Int("last"))
			if err != nil {
				return asExit(err)
			}
			w := c.App.Writer
			if !text {
				doc := historyDoc{V: 1, Command: "history", Runs: []runDoc{}}
				for _, r := range runs {
					doc.Runs = append(doc.Runs, runOf(r))
				}
				return asExitOrNil(writeJSON(w, doc))
			}
			if len(runs) == 0 {
				fmt.Fprintln(w, "no runs recorded yet")
				return nil
			}
			fmt.Fprintf(w, "%-24s %-19s %-8s %-11s %5s %3s %3s %3s %3s %3s  %s\n", "RUN", "STARTED", "COMMAND", "STATUS", "HOSTS", "OK", "CHG", "FAIL", "RB", "NS", "WHAT")
			for _, r := range runs {
				what := filepath.Base(r.Playbook)
				if r.Command == "rollback" {
					what = "undo " + r.Undoes
				}
				fmt.Fprintf(w, "%-24s %-19s %-8s %-11s %5d %3d %3d %3d %3d %3d  %s\n", r.ID, r.Started.Local().Format("2006-01-02 15:04:05"),
					r.Command, runStatus(r), r.Counts.Hosts, r.Counts.OK, r.Counts.Changed, r.Counts.Failed, r.Counts.RolledBack, r.Counts.Skipped, what)
			}
			return nil
		},
	}
}

// asExitOrNil is asExit, nil for nil.
func asExitOrNil(err error) error {
	if err == nil {
		return nil
	}
	return asExit(err)
}

// runStatus is a run's status; "unfinished" is a run the ledger saw start and not end.
func runStatus(r ledger.Run) string {
	if r.Status == "running" {
		return "unfinished"
	}
	return r.Status
}

func showCommand() *cli.Command {
	return &cli.Command{
		Name:      "show",
		Usage:     "show one run from the ledger: hosts, outcomes, timings, changes (with --diff), events (with -v)",
		ArgsUsage: "RUN",
		Flags: []cli.Flag{ledgerFlag(), &cli.BoolFlag{Name: "diff", Usage: "show each change's diff"},
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "also list every event"}, jsonOutputFlag()},
		Action: func(c *cli.Context) error {
			text, err := textOutput(c)
			if err != nil {
				return err
			}
			led, err := ledgerForRun(c)
			if err != nil {
				return err
			}
			defer led.Close()
			r, err := led.Find(c.Args().First())
			if err != nil {
				return asExit(err)
			}
			hosts, err := led.Hosts(r.ID)
			if err != nil {
				return asExit(err)
			}
			w := c.App.Writer
			if !text {
				doc := showDoc{V: 1, Command: "show", Run: runOf(*r), Hosts: []showHost{}}
				for _, h := range hosts {
					doc.Hosts = append(doc.Hosts, showHostOf(h, c.Bool("diff")))
				}
				if c.Bool("verbose") {
					if doc.Events, err = led.Events(r.ID); err != nil {
						return asExit(err)
					}
				}
				return asExitOrNil(writeJSON(w, doc))
			}
			fmt.Fprintf(w, "run:        %s\ncommand:    %s\n", r.ID, r.Command)
			if r.Undoes != "" {
				fmt.Fprintf(w, "undoes:     %s\n", r.Undoes)
			}
			if r.Playbook != "" {
				fmt.Fprintf(w, "playbook:   %s\n", r.Playbook)
			}
			fmt.Fprintf(w, "inventory:  %s\ncontroller: %s\nstarted:    %s\n", r.Inventory, r.Controller, r.Started.Local().Format(time.RFC3339))
			if !r.Ended.IsZero() {
				fmt.Fprintf(w, "ended:      %s (%s)\n", r.Ended.Local().Format(time.RFC3339), r.Ended.Sub(r.Started).Round(time.Millisecond))
			}
			fmt.Fprintf(w, "status:     %s\n", runStatus(*r))
			if r.Shards > 0 {
				shards, err := led.Shards(r.ID)
				if err != nil {
					return asExit(err)
				}
				fmt.Fprintf(w, "shards:     %d of %d recorded\n", len(shards), r.Shards)
				for _, s := range shards {
					state := s.Status
					if s.Status == "running" {
						state = "no end recorded; last heard of " + s.Heartbeat.Local().Format(time.RFC3339)
					}
					fmt.Fprintf(w, "            %d/%d: %s, %s\n", s.Index, s.Of, state, countsLine(&s.Counts))
				}
			}
			if r.Status == "running" {
				fmt.Fprintf(w, "            %s\n", unfinishedRunAdvice(r.ID))
			} else {
				fmt.Fprintf(w, "hosts:      %s\n", countsLine(&r.Counts))
			}
			printHosts(w, hosts, c.Bool("diff"))
			if c.Bool("verbose") {
				evs, err := led.Events(r.ID)
				if err != nil {
					return asExit(err)
				}
				fmt.Fprintln(w, "\nevents:")
				for _, e := range evs {
					line := e.Type
					for _, s := range []string{e.Host, e.Step, e.Status, e.Error} {
						if s != "" {
							line += " " + s
						}
					}
					fmt.Fprintf(w, "  %4d %s %s\n", e.Seq, e.Time.Local().Format("15:04:05.000"), line)
				}
			}
			return nil
		},
	}
}

// printHosts writes each host of a run: outcome, error, and its changes (with diffs when asked).
func printHosts(w io.Writer, hosts []ledger.Host, diff bool) {
	for _, h := range hosts {
		rb := ""
		if h.RolledBack {
			rb = ", rolled back"
		}
		fmt.Fprintf(w, "\n%s (batch %d): %s%s, %d change(s), %s\n", h.Name, h.Batch, h.Status, rb, h.Changed, h.Duration.Round(time.Millisecond))
		if h.Error != "" {
			fmt.Fprintf(w, "  error: %s\n", h.Error)
		}
		for _, ch := range h.Changes {
			if ch.Action == "noop" {
				continue
			}
			fmt.Fprintf(w, "  %s %s: %s\n", steps.ActionSymbol(ch.Action), ch.Step, ch.Summary)
			if diff && ch.Diff != "" {
				for _, line := range strings.SplitAfter(strings.TrimRight(ch.Diff, "\n"), "\n") {
					fmt.Fprintf(w, "      %s", line)
				}
				fmt.Fprintln(w)
			}
		}
	}
}

// ledgerTLSWarning says when a PostgreSQL ledger on another machine is reached without checking
// its certificate: pgx's default (sslmode=prefer) falls back to plain text, and require does not
// check who answers, yet the ledger holds configuration diffs and the verdicts that decide
// whether a rollout goes on.
func ledgerTLSWarning(loc string) string {
	low := strings.ToLower(loc)
	if !strings.HasPrefix(low, "postgres://") && !strings.HasPrefix(low, "postgresql://") {
		return ""
	}
	rest := loc[strings.Index(loc, "://")+3:]
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		rest = rest[at+1:]
	}
	hostport, query, _ := strings.Cut(rest, "?")
	hostport, _, _ = strings.Cut(hostport, "/")
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	if ip := net.ParseIP(strings.Trim(host, "[]")); host == "" || host == "localhost" || ip != nil && ip.IsLoopback() || strings.HasPrefix(host, "%2F") {
		return "" // this machine (or a unix socket)
	}
	mode := ""
	for _, kv := range strings.FieldsFunc(query, func(r rune) bool { return r == '&' || r == ';' }) {
		if k, v, _ := strings.Cut(kv, "="); strings.EqualFold(k, "sslmode") {
			mode = strings.ToLower(v)
		}
	}
	if mode == "verify-full" || mode == "verify-ca" {
		return ""
	}
	if mode == "" {
		mode = "prefer (the default)"
	}
	return fmt.Sprintf("the ledger %s is reached with sslmode=%s, which does not check the server's certificate: add sslmode=verify-full (and sslrootcert=FILE for a private CA) to the URL", ledger.Redact(loc), mode)
}
