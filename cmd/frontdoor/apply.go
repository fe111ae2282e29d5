package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/urfave/cli/v2"

	"github.com/frontdoor-dev/frontdoor/playbooks"
)

func applyCommand() *cli.Command {
	return &cli.Command{
		Name:      "apply",
		Usage:     "plan, confirm, apply, verify through the proxy; roll a failed host back",
		ArgsUsage: "PLAYBOOK",
		Description: "Shows the plan, asks for confirmation on a terminal (--yes skips it; without a terminal --yes is required),\n" +
			"applies it host by host in parallel, re-checks that nothing is left to change, and verifies each app's\n" +
			"Base URL through the proxy. A host that fails after its first change is rolled back. Exit status: 0 when\n" +
			"every host ends verified, 1 otherwise.",
		Flags: append(append(connFlags(), baseURLFlags()...),
			&cli.BoolFlag{Name: "yes", Aliases: []string{"y"}, Usage: "apply without asking"}),
		Action: func(c *cli.Context) error {
			l, err := load(c, true)
			if err != nil {
				return &exitErr{exitError, err}
			}
			if l.opts.SetBaseURL, err = credentials(c); err != nil {
				return &exitErr{exitError, err}
			}
			runs := l.prepareAll(c.Context, c.Int("forks"))
			defer func() {
				for _, r := range runs {
					r.Close()
				}
			}()
			pending := 0
			for _, r := range runs {
				if r.Err != nil {
					l.printf("== %s: ERROR: %v\n", r.Host.Name, r.Err)
					continue
				}
				renderPlan(l.out, r, c.Bool("verbose"))
				pending += r.Plan.Pending()
			}
			if pending > 0 && !c.Bool("yes") {
				if !isatty.IsTerminal(os.Stdin.Fd()) {
					return &exitErr{exitError, fmt.Errorf("not applying: stdin is not a terminal to confirm on; pass --yes")}
				}
				fmt.Fprintf(l.out, "Apply %d change(s)? Type yes: ", pending)
				line, _ := bufio.NewReader(os.Stdin).ReadString('\n')
				if strings.TrimSpace(line) != "yes" {
					return &exitErr{exitError, fmt.Errorf("not applied")}
				}
			}
			each(len(runs), c.Int("forks"), func(i int) { runs[i].Apply(c.Context) })
			failed := 0
			for _, r := range runs {
				if !report(l, r) {
					failed++
				}
			}
			if failed > 0 {
				return &exitErr{exitError, fmt.Errorf("%d of %d host(s) failed", failed, len(runs))}
			}
			return nil
		},
	}
}

// report prints one host's outcome and says whether it ended verified.
func report(l *loaded, r *playbooks.HostRun) bool {
	name := r.Host.Name
	switch {
	case r.Err != nil && r.Outcome.RolledBack:
		l.printf("%s: FAILED, rolled back to where it was: %v\n", name, r.Err)
	case r.Err != nil:
		l.printf("%s: FAILED: %v\n", name, r.Err)
	case r.Outcome.Changed == 0:
		l.printf("%s: ok, no changes (nothing restarted) in %s\n", name, r.Duration.Round(time.Millisecond))
	default:
		l.printf("%s: ok, %d change(s) applied in %s\n", name, r.Outcome.Changed, r.Duration.Round(time.Millisecond))
	}
	if r.Err != nil {
		return false
	}
	printVerified(l, r)
	return true
}

func printVerified(l *loaded, r *playbooks.HostRun) {
	for i, v := range r.Verified {
		base := l.pb.Apps[i].PublicFor(r.Host.Name).BaseURL
		l.printf("%s: verified %s through the proxy (%s)\n", r.Host.Name, base, strings.Join(v.Chain, ", "))
		switch {
		case v.BaseURLSet:
			l.printf("%s: Base URL set to %s\n", r.Host.Name, v.AppBaseURL)
		case v.BaseURLManual:
			l.printf("%s: MANUAL CHECK: %s\n", r.Host.Name, v.BaseURLNote)
		case v.BaseURLNote != "":
			l.printf("%s: WARNING: %s\n", r.Host.Name, v.BaseURLNote)
		default:
			l.printf("%s: Base URL is %s\n", r.Host.Name, v.AppBaseURL)
		}
	}
}
