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
	"sync/atomic"
	"syscall"

	"github.com/urfave/cli/v2"
)

// Exit codes (docs/cli.md).
const (
	exitOK      = 0
	exitError   = 1
	exitPending = 2 // plan: changes are pending
	exitStopped = 3 // apply: a batch went over --max-fail and the rollout stopped
	// exitInterrupted: Ctrl-C (128 + SIGINT, as shells report it).
	exitInterrupted = 130
)

var (
	stopped    atomic.Bool
	currentRun atomic.Pointer[string]
)

// stopping says the first Ctrl-C came: runs start no new host or step.
func stopping() bool { return stopped.Load() }

// setCurrentRun names the run in progress, for the message of a second Ctrl-C.
func setCurrentRun(id string) { currentRun.Store(&id) }

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
			planCommand(), applyCommand(), rollbackCommand(), historyCommand(), showCommand(), reportCommand(), serveCommand(), unlockCommand(), factsCommand(), verifyCommand(), configCommand(), inventoryCommand(),
			{Name: "version", Usage: "print the version", Action: func(c *cli.Context) error {
				fmt.Fprintln(c.App.Writer, "frontdoor", version)
				return nil
			}},
		},
	}
}

// newMainApp is the app as main runs it: everything it prints goes through a safeWriter.
func newMainApp() *cli.App {
	app := newApp()
	app.Writer, app.ErrWriter = safeWriter{os.Stdout}, safeWriter{os.Stderr}
	return app
}

func main() {
	// The first Ctrl-C (or SIGTERM) stops a run gently: no new host or step starts, the command in
	// flight finishes, and hosts in the middle of an apply are rolled back. Commands that change
	// nothing are simply cancelled. A second one exits at once; hosts being changed keep their
	// journals, so frontdoor rollback RUN can undo them.
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		stopped.Store(true)
		if id := currentRun.Load(); id != nil {
			fmt.Fprintf(os.Stderr, "frontdoor: interrupted: stopping run %s; hosts being changed are rolled back (Ctrl-C again to quit at once)\n", *id)
		} else {
			fmt.Fprintln(os.Stderr, "frontdoor: interrupted")
			cancel()
		}
		<-sigs
		if id := currentRun.Load(); id != nil {
			fmt.Fprintf(os.Stderr, "frontdoor: quit at once: hosts that were being changed keep their journals; undo them with: frontdoor rollback %s -i INVENTORY\n", *id)
		}
		os.Exit(exitInterrupted)
	}()
	app := newMainApp()
	stderr := safeWriter{os.Stderr}
	err := app.RunContext(ctx, interspersed(app, os.Args))
	var ee *exitErr
	switch {
	case err == nil:
		os.Exit(exitOK)
	case errors.As(err, &ee):
		if ee.err != nil {
			fmt.Fprintln(stderr, "frontdoor:", explain(ee.err))
		}
		os.Exit(ee.code)
	default:
		fmt.Fprintln(stderr, "frontdoor:", explain(err))
		os.Exit(exitError)
	}
}
