// Command frontdoor puts Atlassian server applications behind an Apache httpd reverse proxy over
// SSH, on one host or a fleet: it plans with diffs, applies only what must change, verifies the
// Base URL through the proxy, and rolls a failed host back byte for byte.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

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
	// The first Ctrl-C (or SIGTERM) cancels the run: no new host or step starts, and hosts in the
	// middle of an apply are rolled back (rollback ignores the cancellation). A second one kills
	// frontdoor at once, as the default handler does.
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		fmt.Fprintln(os.Stderr, "frontdoor: interrupted: stopping; hosts being changed are rolled back (Ctrl-C again to quit at once)")
		cancel()
		signal.Reset(os.Interrupt, syscall.SIGTERM)
	}()
	err := newApp().RunContext(ctx, os.Args)
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
