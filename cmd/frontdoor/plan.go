package main

import (
	"time"

	"github.com/urfave/cli/v2"

	"github.com/frontdoor-dev/frontdoor/fleet"
	"github.com/frontdoor-dev/frontdoor/report"
)

func planCommand() *cli.Command {
	return &cli.Command{
		Name:      "plan",
		Usage:     "show per host what apply would change, with diffs; changes nothing",
		ArgsUsage: "PLAYBOOK",
		Description: "Exit status: 0 when nothing would change, 2 when changes are pending, 1 on error.\n" +
			"Costs one remote command per host (the gather) after connecting.",
		Flags: append(connFlags(), junitFlag()),
		Action: func(c *cli.Context) error {
			l, err := load(c, true)
			if err != nil {
				return asExit(err)
			}
			runs := l.prepareAll(c.Context, c.Int("forks"))
			failed, pending := 0, 0
			junit := report.NewJUnit("plan")
			for _, r := range runs {
				r.Close()
				if r.Err != nil {
					failed++
					l.printf("== %s: ERROR: %s\n", r.Host.Name, explain(r.Err))
					junit.Record(fleet.Event{Type: fleet.HostDone, Time: time.Now(), Host: r.Host.Name, Status: fleet.StatusFailed, Error: explain(r.Err)})
					continue
				}
				e := fleet.PlanEvent(r, 0, explain)
				renderPlan(l.out, e, c.Bool("verbose"))
				e.Time = time.Now()
				junit.Record(e)
				pending += r.Plan.Pending()
			}
			if f := c.String("junit"); f != "" {
				if err := writeJUnit(f, junit); err != nil {
					return asExit(err)
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
