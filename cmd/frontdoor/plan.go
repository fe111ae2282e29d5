package main

import (
	"github.com/urfave/cli/v2"

	"github.com/frontdoor-dev/frontdoor/fleet"
)

func planCommand() *cli.Command {
	return &cli.Command{
		Name:      "plan",
		Usage:     "show per host what apply would change, with diffs; changes nothing",
		ArgsUsage: "PLAYBOOK",
		Description: "Exit status: 0 when nothing would change, 2 when changes are pending, 1 on error.\n" +
			"Costs one remote command per host (the gather) after connecting.",
		Flags: connFlags(),
		Action: func(c *cli.Context) error {
			l, err := load(c, true)
			if err != nil {
				return &exitErr{exitError, err}
			}
			runs := l.prepareAll(c.Context, c.Int("forks"))
			failed, pending := 0, 0
			for _, r := range runs {
				r.Close()
				if r.Err != nil {
					failed++
					l.printf("== %s: ERROR: %s\n", r.Host.Name, explain(r.Err))
					continue
				}
				renderPlan(l.out, fleet.PlanEvent(r, 0, explain), c.Bool("verbose"))
				pending += r.Plan.Pending()
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
