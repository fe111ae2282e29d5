package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/frontdoor-dev/frontdoor/fleet"
	"github.com/frontdoor-dev/frontdoor/preflight"
	"github.com/frontdoor-dev/frontdoor/report"
)

func planCommand() *cli.Command {
	return &cli.Command{
		Name:      "plan",
		Usage:     "show per host what apply would change, with diffs; changes nothing",
		ArgsUsage: "PLAYBOOK",
		Description: "Exit status: 0 when nothing would change, 2 when changes are pending, 1 on error.\n" +
			"Costs one remote command per host (the gather) after connecting.\n" +
			"-out FILE saves the plan; frontdoor apply FILE applies exactly it, refusing hosts that changed since.",
		Flags: append(connFlags(), junitFlag(), jsonOutputFlag(), strictPreflightFlag(),
			&cli.BoolFlag{Name: "preflight-only", Usage: "only the checks before any change (each OK, WARNING or ERROR with what to do); exit 1 if a host has an ERROR"},
			&cli.StringFlag{Name: "out", TakesFile: true, Usage: "save the plan to `FILE` (0600) for frontdoor apply FILE"}),
		Action: func(c *cli.Context) error {
			text, err := textOutput(c)
			if err != nil {
				return err
			}
			l, err := load(c, true)
			if err != nil {
				return asExit(err)
			}
			if !text {
				l.out = c.App.ErrWriter // progress (-v) off stdout, which holds the one JSON document
			}
			only := c.Bool("preflight-only")
			if only && c.String("out") != "" {
				return usageErrorf("--preflight-only makes no plan to save: leave out --out")
			}
			l.opts.PreflightOnly = only
			runs := l.planAll(c.Context, c.Int("forks"))
			failed, pending := 0, 0
			junit := report.NewJUnit("plan")
			doc := planDoc{V: 1, Command: "plan", Playbook: absPath(c.Args().First()), Limit: c.String("limit"), Hosts: []planHost{}}
			for _, i := range inventories(c) {
				doc.Inventories = append(doc.Inventories, absPath(i))
			}
			for _, r := range runs {
				doc.Hosts = append(doc.Hosts, hostPlan(r))
				if r.Err != nil {
					failed++
					if text {
						// With --preflight-only every result is listed, ERRORs too; otherwise the
						// warnings, then the error (which lists the preflight ERRORs).
						var b strings.Builder
						if r.Facts != nil && r.Preflight != nil {
							fmt.Fprintf(&b, "== %s (%s): %s\n", r.Host.Name, r.Host.Address, r.Facts.Describe())
						}
						renderPreflight(&b, r.Preflight, only, !only)
						var pe preflight.Errors
						if !only || !errors.As(r.Err, &pe) {
							fmt.Fprintf(&b, "== %s: ERROR: %s\n", r.Host.Name, explain(r.Err))
						}
						l.printf("%s", b.String())
					}
					junit.Record(fleet.Event{Type: fleet.HostDone, Time: time.Now(), Host: r.Host.Name, Status: fleet.StatusFailed, Error: explain(r.Err)})
					continue
				}
				if only {
					if text {
						var b strings.Builder
						renderPreflight(&b, r.Preflight, true, false)
						l.printf("== %s (%s): %s\n%s", r.Host.Name, r.Host.Address, r.Facts.Describe(), b.String())
					}
					continue
				}
				e := fleet.PlanEvent(r, 0, explain)
				if text {
					renderPlan(l.out, e, c.Bool("verbose"))
				}
				e.Time = time.Now()
				junit.Record(e)
				pending += r.Plan.Pending()
			}
			doc.Pending, doc.Failed = pending, failed
			if !text {
				if err := writeJSON(c.App.Writer, doc); err != nil {
					return asExit(err)
				}
			}
			if f := c.String("junit"); f != "" {
				if err := writeJUnit(f, junit); err != nil {
					return asExit(err)
				}
			}
			if f := c.String("out"); f != "" {
				if failed > 0 {
					return &exitErr{exitError, fmt.Errorf("not saving the plan to %s: %d host(s) could not be planned; fix them or leave them out with --limit, then plan again", f, failed)}
				}
				if err := writeSavedPlan(c, f, runs); err != nil {
					return asExit(err)
				}
				if text {
					l.printf("plan saved to %s; apply exactly it with: frontdoor apply %s\n", f, f)
				}
			}
			switch {
			case failed > 0:
				return &exitErr{exitError, nil}
			case pending > 0:
				return &exitErr{exitPending, nil}
			}
			return nil
		},
	}
}

// planDoc is plan --output json: one JSON document (docs/events.md, "plan --output json").
type planDoc struct {
	V           int        `json:"v"`
	Command     string     `json:"command"`
	Playbook    string     `json:"playbook"`
	Inventories []string   `json:"inventories"`
	Limit       string     `json:"limit,omitempty"`
	Pending     int        `json:"pending"`
	Failed      int        `json:"failed"`
	Hosts       []planHost `json:"hosts"`
}

// jsonOutputFlag is --output text|json of the commands that print one document.
func jsonOutputFlag() cli.Flag {
	return &cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "text", Usage: "text, or json: one JSON document (docs/events.md)"}
}
