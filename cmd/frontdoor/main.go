// Command frontdoor puts Atlassian server applications behind an Apache httpd reverse proxy over
// SSH, on one host or a fleet: it plans with diffs, applies only what must change, verifies the
// Base URL through the proxy, and rolls a failed host back byte for byte.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"
)

// Exit codes (docs/cli.md).
const (
	exitOK      = 0
	exitError   = 1
	exitPending = 2 // plan: changes are pending
)

// exitErr carries an exit code out of an action; only main exits.
type exitErr struct {
	code int
	err  error
}

func (e *exitErr) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}

var version = "0.1.0-dev"

func newApp() *cli.App {
	return &cli.App{
		Name:  "frontdoor",
		Usage: "put Atlassian applications behind Apache httpd, over SSH, verified and reversible",
		Description: "frontdoor automates Atlassian's guide \"Proxying Atlassian server applications with Apache HTTP Server\".\n" +
			"It plans (diffs), applies only what must change, verifies the Base URL through the proxy, and rolls a failed host back.",
		Version:         version,
		HideHelpCommand: true,
		Commands: []*cli.Command{
			planCommand(), applyCommand(), factsCommand(), verifyCommand(),
			{Name: "version", Usage: "print the version", Action: func(c *cli.Context) error {
				fmt.Fprintln(c.App.Writer, "frontdoor", version)
				return nil
			}},
		},
	}
}

func main() {
	err := newApp().Run(os.Args)
	var ee *exitErr
	switch {
	case err == nil:
		os.Exit(exitOK)
	case errors.As(err, &ee):
		if ee.err != nil {
			fmt.Fprintln(os.Stderr, "frontdoor:", ee.err)
		}
		os.Exit(ee.code)
	default:
		fmt.Fprintln(os.Stderr, "frontdoor:", err)
		os.Exit(exitError)
	}
}
