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
	"regexp"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/frontdoor-dev/frontdoor/internal/didyoumean"
)

// Exit codes (docs/cli.md).
const (
	exitOK      = 0
	exitError   = 1
	exitPending = 2 // plan: changes are pending
	exitStopped = 3 // apply: a batch went over --max-fail and the rollout stopped
	// exitUsage: the command line or an input file (inventory, playbook) is wrong; nothing was
	// contacted.
	exitUsage = 4
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

// usage marks err as the user's to correct on the command line or in an input file (exit 4).
func usage(err error) error { return &exitErr{exitUsage, err} }

// asExit is err with its exit status: its own when it carries one, else 1.
func asExit(err error) error {
	var ee *exitErr
	if errors.As(err, &ee) {
		return err
	}
	return &exitErr{exitError, err}
}

// version is what `frontdoor version` prints: read from the build, not written in the source.
var version = versionOf(debug.ReadBuildInfo())

func printVersion(c *cli.Context) { fmt.Fprintln(c.App.Writer, "frontdoor", version) }

// versionOf is the module's version (a tag, or Go's pseudo-version from the commit) with the
// commit, its date and whether the tree had uncommitted changes, as go build stamped them
// (-buildvcs, on by default in a git checkout).
func versionOf(bi *debug.BuildInfo, ok bool) string {
	if !ok {
		return "devel (no build information)"
	}
	v := bi.Main.Version
	if v == "" || v == "(devel)" {
		v = "devel"
	}
	vcs := map[string]string{}
	for _, s := range bi.Settings {
		vcs[s.Key] = s.Value
	}
	var about []string
	if r := vcs["vcs.revision"]; r != "" {
		about = append(about, "commit "+r)
	}
	if t := vcs["vcs.time"]; t != "" {
		about = append(about, t)
	}
	if vcs["vcs.modified"] == "true" {
		about = append(about, "with uncommitted changes")
	}
	if len(about) == 0 {
		about = append(about, "no commit recorded: built outside a git checkout or with -buildvcs=false")
	}
	return fmt.Sprintf("%s (%s, %s)", v, strings.Join(about, ", "), bi.GoVersion)
}

func newApp() *cli.App {
	// -v is --verbose on every command that has it (as in ssh and ansible), never the version.
	cli.VersionFlag = &cli.BoolFlag{Name: "version", Usage: "print the version"}
	cli.VersionPrinter = printVersion
	app := &cli.App{
		Name:  "frontdoor",
		Usage: "put Atlassian applications behind Apache httpd, over SSH, verified and reversible",
		Description: "frontdoor automates Atlassian's guide \"Proxying Atlassian server applications with Apache HTTP Server\".\n" +
			"It plans (diffs), applies only what must change, verifies the Base URL through the proxy, and rolls a failed host back.\n" +
			"Options may come before or after a command's arguments. Exit status: 0 ok; 1 a host failed; 2 plan: changes pending;\n" +
			"3 apply: stopped at --max-fail; 4 usage or input error (nothing contacted); 130 interrupted.",
		Version:         version,
		HideHelpCommand: true,
		// frontdoor --generate-bash-completion: what the scripts of frontdoor completion ask.
		EnableBashCompletion: true,
		Flags:                []cli.Flag{noColorFlag()},
		Before:               colorBefore,
		Commands: []*cli.Command{
			planCommand(), applyCommand(), rollbackCommand(), historyCommand(), showCommand(), reportCommand(), serveCommand(), unlockCommand(), factsCommand(), verifyCommand(), configCommand(), inventoryCommand(), completionCommand(), manCommand(),
			{Name: "version", Usage: "print the version: module version, commit and its date, from the build", Action: func(c *cli.Context) error {
				printVersion(c)
				return nil
			}},
		},
		// Reached only with an argument that is no command (without one, the help).
		Action: func(c *cli.Context) error {
			if !c.Args().Present() {
				return cli.ShowAppHelp(c)
			}
			return unknownCommand(c.Args().First(), "", c.App.Commands)
		},
	}
	app.OnUsageError = onUsageError
	for _, cmd := range app.Commands {
		setUsageErrors(cmd, "")
	}
	return app
}

// setUsageErrors makes a bad flag of cmd and of its subcommands a usage error, and an unknown
// subcommand (config edt) one too, instead of urfave/cli's help page and exit 3.
func setUsageErrors(cmd *cli.Command, parent string) {
	cmd.OnUsageError = onUsageError
	cmd.HideHelpCommand = true // no "help" subcommand offered where none is meant
	if len(cmd.Subcommands) > 0 && cmd.Action == nil {
		name := parent + cmd.Name
		subs := cmd.Subcommands
		cmd.Action = func(c *cli.Context) error {
			if !c.Args().Present() {
				return cli.ShowSubcommandHelp(c)
			}
			return unknownCommand(c.Args().First(), name+" ", subs)
		}
	}
	for _, sub := range cmd.Subcommands {
		setUsageErrors(sub, parent+cmd.Name+" ")
	}
}

func unknownCommand(name, parent string, cmds []*cli.Command) error {
	var names []string
	for _, c := range cmds {
		names = append(names, c.Names()...)
	}
	msg := fmt.Sprintf("unknown command %s%s", parent, name)
	if s := didyoumean.Closest(name, names); s != "" {
		msg += "; did you mean " + parent + s + "?"
	} else {
		msg += fmt.Sprintf("; frontdoor %s--help lists the commands", parent)
	}
	return &exitErr{exitUsage, errors.New(msg)}
}

var undefinedFlag = regexp.MustCompile(`^flag provided but not defined: -+(.+)$`)

// onUsageError turns a flag urfave/cli could not parse into a usage error that names the
// command and, for an unknown flag, the one probably meant.
func onUsageError(c *cli.Context, err error, _ bool) error {
	// The command's full name (config edit), from its context's lineage.
	var path []string
	for _, l := range c.Lineage() {
		if l.Command != nil && l.Command.Name != "" && l.Command.Name != c.App.Name {
			path = append([]string{l.Command.Name}, path...)
		}
	}
	name, prefix := "frontdoor", ""
	if len(path) > 0 {
		name, prefix = "frontdoor "+strings.Join(path, " "), strings.Join(path, " ")+": "
	}
	var flags []cli.Flag
	if c.Command != nil {
		flags = c.Command.Flags
	}
	if len(flags) == 0 && name == "frontdoor" {
		flags = c.App.Flags
	}
	msg := fmt.Sprintf("%s%v", prefix, err)
	if m := undefinedFlag.FindStringSubmatch(err.Error()); m != nil {
		var names []string
		for _, f := range flags {
			names = append(names, f.Names()...)
		}
		if s := didyoumean.Closest(m[1], names); s != "" {
			msg += "; did you mean " + dashed(s) + "?"
		}
	}
	return &exitErr{exitUsage, fmt.Errorf("%s (%s --help lists the options)", msg, name)}
}

func dashed(flag string) string {
	if len(flag) == 1 {
		return "-" + flag
	}
	return "--" + flag
}

// runCLI runs the app as main does: options anywhere, and every refusal of the command line
// (urfave/cli's own included) a usage error.
func runCLI(ctx context.Context, app *cli.App, args []string) error {
	err := app.RunContext(ctx, interspersed(app, args))
	var ee *exitErr
	if err != nil && !errors.As(err, &ee) && strings.HasPrefix(err.Error(), "Required flag") {
		// urfave/cli's missing required flag (-i), after it printed the command's help.
		return &exitErr{exitUsage, err}
	}
	return err
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
	endProfiles := startProfiles()
	err := runCLI(ctx, app, os.Args)
	endProfiles()
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
