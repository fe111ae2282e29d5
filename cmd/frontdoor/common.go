package main

import (
	"context"
	"fmt"
	"github.com/frontdoor-dev/frontdoor/preflight"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/urfave/cli/v2"

	"github.com/frontdoor-dev/frontdoor/fleet"
	"github.com/frontdoor-dev/frontdoor/playbooks"
	"github.com/frontdoor-dev/frontdoor/session"
	"github.com/frontdoor-dev/frontdoor/steps"
	"github.com/frontdoor-dev/frontdoor/steps/verify"
)

func connFlags() []cli.Flag {
	return []cli.Flag{
		&cli.GenericFlag{Name: "inventory", Aliases: []string{"i"}, Value: &inventoryList{}, Required: true,
			Usage: "inventory `FILE` or directory (frontdoor YAML, Ansible INI or YAML); repeat -i to merge several, as Ansible does"},
		&cli.StringFlag{Name: "known-hosts", TakesFile: true, Usage: "known_hosts `FILE` (default: the inventory's known_hosts, else ~/.ssh/known_hosts)"},
		&cli.BoolFlag{Name: "accept-new-host-keys", Usage: "record the keys of hosts not yet in known_hosts (a changed key is always refused)"},
		&cli.BoolFlag{Name: "agent", Usage: "also use the keys of ssh-agent ($SSH_AUTH_SOCK)"},
		&cli.DurationFlag{Name: "timeout", Value: 15 * time.Second, Usage: "connecting and the SSH handshake give up after `DURATION` (default: ssh_config's ConnectTimeout, else 15s)"},
		&cli.StringFlag{Name: "limit", Aliases: []string{"l"}, Usage: "only hosts matching `PATTERN` (names or globs, comma-separated)"},
		&cli.IntFlag{Name: "forks", Value: 50, Usage: "hosts worked on at once"},
		&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "also list steps with nothing to do, and progress"},
	}
}

// inventoryList is -i given once or more: every value kept (a StringSliceFlag would also split
// one value at its commas, and a StringFlag keeps only the last -i).
type inventoryList struct{ paths []string }

func (l *inventoryList) Set(v string) error {
	// urfave/cli copies a flag set under one name (-i) to its other names (--inventory) with
	// Set(String()); both names share this value, so that copy is already here.
	if len(l.paths) > 0 && v == l.String() {
		return nil
	}
	l.paths = append(l.paths, v)
	return nil
}
func (l *inventoryList) String() string {
	if l == nil {
		return ""
	}
	return strings.Join(l.paths, ", ")
}

// Get makes it a flag.Getter, as urfave/cli's Context.Value wants.
func (l *inventoryList) Get() any { return l.String() }

// inventories are the -i values in order.
func inventories(c *cli.Context) []string {
	if l, ok := c.Generic("inventory").(*inventoryList); ok && l != nil {
		return l.paths
	}
	return nil
}

// inventoryLabel names the inventories for the ledger: absolute paths, comma-separated.
func inventoryLabel(c *cli.Context) string {
	var out []string
	for _, p := range inventories(c) {
		a, err := filepath.Abs(p)
		if err != nil {
			a = p
		}
		out = append(out, a)
	}
	return strings.Join(out, ", ")
}

// loaded is what every host command starts from.
type loaded struct {
	inv   *playbooks.Inventory
	pb    *playbooks.Playbook
	hosts []*playbooks.Host
	opts  session.Options
	out   io.Writer
	mu    sync.Mutex
}

func load(c *cli.Context, needPlaybook bool) (*loaded, error) {
	l, err := loadHosts(c)
	if err != nil {
		return nil, err
	}
	if needPlaybook || c.Args().Len() > 0 {
		if c.Args().Len() != 1 {
			return nil, usageErrorf("give exactly one PLAYBOOK file after the options, e.g. frontdoor %s -i inventory.yaml playbooks/jira-subdomain.yaml", c.Command.Name)
		}
		if err := l.loadPlaybook(c.Args().First()); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// loadPlaybook reads the playbook and checks every selected host's name against it.
func (l *loaded) loadPlaybook(path string) error {
	var err error
	if l.pb, err = playbooks.LoadPlaybook(path); err != nil {
		return usage(err)
	}
	if err := l.pb.Bind(l.inv); err != nil {
		return usage(err)
	}
	for _, h := range l.hosts {
		if err := l.pb.CheckHost(h.Name); err != nil {
			return usageErrorf("inventory host %w: rename the host (its name goes into the public URL), or write its name into url: without {{host}}", err)
		}
	}
	return nil
}

// loadHosts reads the inventory and selects the hosts; commands without a playbook start here.
// Its errors are usage errors: nothing was contacted.
func loadHosts(c *cli.Context) (*loaded, error) {
	if len(inventories(c)) == 0 {
		// -i is not Required for apply (a saved plan names its inventory), so said here.
		return nil, usageErrorf(`Required flag "inventory" not set: give -i INVENTORY, e.g. frontdoor %s -i inventory.yaml`, c.Command.Name)
	}
	return loadHostsFrom(c, inventories(c), c.String("limit"))
}

// loadHostsFrom is loadHosts with the inventories and --limit given (a saved plan's).
func loadHostsFrom(c *cli.Context, invs []string, limit string) (*loaded, error) {
	if f := c.Int("forks"); f < 1 {
		return nil, usageErrorf("--forks %d: give how many hosts to work on at once, 1 or more (default 50), e.g. --forks 10", f)
	}
	inv, err := playbooks.LoadInventories(invs...)
	if err != nil {
		return nil, usage(err)
	}
	l := &loaded{inv: inv, out: c.App.Writer}
	if l.hosts, err = inv.Select(limit); err != nil {
		return nil, usageErrorf("--limit %w", err)
	}
	if c.IsSet("timeout") && c.Duration("timeout") <= 0 {
		return nil, usageErrorf("--timeout %s: give a positive duration, e.g. --timeout 5s", c.Duration("timeout"))
	}
	df := dialFlags{knownHosts: c.String("known-hosts"), acceptNew: c.Bool("accept-new-host-keys"), useAgent: c.Bool("agent"),
		timeout: c.Duration("timeout"), timeoutSet: c.IsSet("timeout"), passphrase: terminalPassphrase()}
	l.opts = session.Options{Dial: newDial(inv, df), HTTPDial: newHTTPDial, StrictPreflight: c.Bool("strict-preflight")}
	if c.Bool("verbose") {
		l.opts.Progress = func(host, msg string) { l.printf("%s: %s\n", host, msg) }
	}
	return l, nil
}

func usageErrorf(format string, a ...any) error { return usage(fmt.Errorf(format, a...)) }

func (l *loaded) printf(format string, a ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.out, format, a...)
}

// prepareAll connects, gathers and plans every selected host, at most forks at once.
func (l *loaded) prepareAll(ctx context.Context, forks int) []*session.HostRun {
	return l.prepare(ctx, forks, false)
}

// planAll is prepareAll for a plan that keeps no connection: each is closed as soon as its host
// is planned, so planning 1,000 hosts never holds 1,000 connections.
func (l *loaded) planAll(ctx context.Context, forks int) []*session.HostRun {
	return l.prepare(ctx, forks, true)
}

func (l *loaded) prepare(ctx context.Context, forks int, closeEach bool) []*session.HostRun {
	runs := make([]*session.HostRun, len(l.hosts))
	fleet.Each(len(l.hosts), forks, func(i int) {
		runs[i] = session.Prepare(ctx, l.pb, l.hosts[i], l.opts)
		if closeEach {
			runs[i].Close()
		}
	})
	return runs
}

// renderPreflight writes the checks before any change: WARNING and ERROR ones (ERROR ones not
// when the host's error lists them), and with all the OK ones too.
func renderPreflight(w io.Writer, rs []preflight.Result, all, skipErrors bool) {
	for _, r := range rs {
		if (all || r.Level != preflight.OK) && !(skipErrors && r.Level == preflight.Error) {
			fmt.Fprintf(w, "  preflight %s\n", r)
		}
	}
}

// strictPreflightFlag is --strict-preflight of plan and apply.
func strictPreflightFlag() cli.Flag {
	return &cli.BoolFlag{Name: "strict-preflight", Usage: "a preflight WARNING (a public name that does not resolve, a clock a minute off, ...) refuses the host as an ERROR does"}
}

// renderPlan writes one host's plan (a host.plan event): a line per change with its diff
// indented; no-ops with -v.
func renderPlan(w io.Writer, e fleet.Event, verbose bool) {
	fmt.Fprintf(w, "== %s (%s): %s\n", e.Host, e.Address, e.Platform)
	renderPreflight(w, e.Preflight, verbose, false)
	pending := 0
	for _, ch := range e.Changes {
		if ch.Action == "noop" {
			if verbose {
				fmt.Fprintf(w, "  = %s: %s\n", ch.Step, ch.Summary)
			}
			continue
		}
		pending++
		fmt.Fprintf(w, "  %s %s: %s\n", steps.ActionSymbol(ch.Action), ch.Step, ch.Summary)
		if ch.Diff != "" && ch.Action != "run" {
			for _, line := range strings.SplitAfter(strings.TrimRight(ch.Diff, "\n"), "\n") {
				fmt.Fprintf(w, "      %s", line)
			}
			fmt.Fprintln(w)
		}
	}
	for _, warn := range e.Warnings {
		fmt.Fprintf(w, "  WARNING: %s\n", warn)
	}
	for _, n := range e.Notes {
		fmt.Fprintf(w, "  MANUAL CHECK: %s\n", n)
	}
	if pending == 0 {
		fmt.Fprintf(w, "  no changes: %d steps already right\n", len(e.Changes))
	} else {
		var what []string
		if len(e.Restarts) > 0 {
			what = append(what, "would restart: "+strings.Join(e.Restarts, ", "))
		}
		if len(e.Reloads) > 0 {
			what = append(what, "would reload: "+strings.Join(e.Reloads, ", "))
		}
		if len(what) == 0 {
			what = append(what, "nothing to restart")
		}
		fmt.Fprintf(w, "  %d change(s) pending; %s\n", pending, strings.Join(what, "; "))
	}
}

// credentials reads the app admin's credentials for --set-base-url: from --credentials-file
// (YAML: user, password) or FRONTDOOR_ADMIN_USER / FRONTDOOR_ADMIN_PASSWORD; never from argv.
func credentials(c *cli.Context) (*verify.Credentials, error) {
	if !c.Bool("set-base-url") {
		return nil, nil
	}
	var cred verify.Credentials
	if f := c.String("credentials-file"); f != "" {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, usage(err)
		}
		var v struct {
			User     string `yaml:"user"`
			Password string `yaml:"password"`
		}
		if err := yaml.UnmarshalWithOptions(data, &v, yaml.Strict()); err != nil {
			// The parser's message quotes the file's lines, password included: not shown.
			return nil, usageErrorf("%s: not read: write two keys, user: and password: (the file's content is not shown: it holds a password)", f)
		}
		cred = verify.Credentials{User: v.User, Password: v.Password}
	} else {
		cred = verify.Credentials{User: os.Getenv("FRONTDOOR_ADMIN_USER"), Password: os.Getenv("FRONTDOOR_ADMIN_PASSWORD")}
	}
	if cred.User == "" || cred.Password == "" {
		return nil, usageErrorf("--set-base-url needs the application admin's credentials: --credentials-file FILE (user:, password:) or FRONTDOOR_ADMIN_USER and FRONTDOOR_ADMIN_PASSWORD")
	}
	return &cred, nil
}

func baseURLFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "set-base-url", Usage: "set the application's Base URL through its REST API when it differs"},
		&cli.StringFlag{Name: "credentials-file", TakesFile: true, Usage: "YAML `FILE` with the app admin's user: and password: (else FRONTDOOR_ADMIN_USER/FRONTDOOR_ADMIN_PASSWORD)"},
		&cli.DurationFlag{Name: "verify-wait", Value: 60 * time.Second, Usage: "how long verification retries while Apache or the app still starts (connection refused, 502/503/504)"},
	}
}
