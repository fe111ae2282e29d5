package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/frontdoor-dev/frontdoor/report"
)

func reportCommand() *cli.Command {
	return &cli.Command{
		Name:      "report",
		Usage:     "write one run of the ledger as a self-contained HTML page (hosts, timeline, diffs, verification, errors)",
		ArgsUsage: "RUN",
		Description: "Writes run RUN (or an unambiguous beginning of its id) as one HTML file with its style and script inline and\n" +
			"nothing to load: it opens from a mail or a ticket. The file holds configuration diffs (secrets masked) and is\n" +
			"created readable by its owner only. Exit status: 0 written; 1 no such run or the file could not be written.",
		Flags: []cli.Flag{ledgerFlag(),
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to `FILE` (default: frontdoor-report-RUN.html; - for stdout)"}},
		Action: func(c *cli.Context) error {
			led, err := ledgerForRun(c)
			if err != nil {
				return err
			}
			defer led.Close()
			p, err := report.Build(led, c.Args().First(), reportOptions())
			if err != nil {
				return asExit(err)
			}
			out := c.String("output")
			if out == "-" {
				return p.Write(c.App.Writer)
			}
			if out == "" {
				out = "frontdoor-report-" + p.Run.ID + ".html"
			}
			f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
			if err != nil {
				return &exitErr{exitError, fmt.Errorf("report: %w", err)}
			}
			if err := p.Write(f); err != nil {
				f.Close()
				return &exitErr{exitError, fmt.Errorf("report %s: %w", out, err)}
			}
			if err := f.Close(); err != nil {
				return &exitErr{exitError, fmt.Errorf("report %s: %w", out, err)}
			}
			abs, _ := filepath.Abs(out)
			fmt.Fprintf(c.App.ErrWriter, "report of run %s (%s): %s\n", p.Run.ID, p.Status, abs)
			return nil
		},
	}
}

// reportOptions are the pages' options: the CLI's words about what to do.
func reportOptions() report.Options {
	return report.Options{Advise: hostRecovery, RunAdvice: runAdvice, Generator: "frontdoor " + version}
}
