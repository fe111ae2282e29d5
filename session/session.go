// Package session owns one host's run: connect (through the Dial function it is handed; it never
// picks a transport) -> gather -> compile -> plan -> apply -> verify -> release. playbooks says
// what the user wrote; fleet runs many sessions in batches.
package session

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/frontdoor-dev/frontdoor/distro"
	"github.com/frontdoor-dev/frontdoor/playbooks"
	"github.com/frontdoor-dev/frontdoor/preflight"
	"github.com/frontdoor-dev/frontdoor/steps"
	"github.com/frontdoor-dev/frontdoor/steps/apache"
	"github.com/frontdoor-dev/frontdoor/steps/app"
	"github.com/frontdoor-dev/frontdoor/steps/verify"
	"github.com/frontdoor-dev/frontdoor/target"
)

// Dial connects to an inventory host. cmd chooses the transport (SSH, local, or in tests an
// in-memory host) and hands the function down.
type Dial func(ctx context.Context, h *playbooks.Host) (target.Conn, error)

// Options are the command-line choices that shape a rollout.
type Options struct {
	// Dial connects to a host; it must be set for every command that reaches hosts over a
	// transport.
	Dial Dial
	// SetBaseURL, when set, are the admin credentials used to set a differing Base URL.
	SetBaseURL *verify.Credentials
	Progress   func(host, msg string)
	// Wrap, if set, wraps each connection (tests count round trips with it).
	Wrap func(target.Conn) target.Conn
	// Lock, when set, is the owner line with which the gather takes each host's lock.
	Lock string
	// HTTPDial, if set, is how verification reaches a host's Apache (tests: an in-memory host);
	// by default plain TCP to the host's address.
	HTTPDial func(host string) func(ctx context.Context, network, addr string) (net.Conn, error)
	// VerifyWait is how long verification retries a transient failure (nothing listening yet,
	// 502/503/504 while the app starts) before it fails; 0 is 60 s.
	VerifyWait time.Duration
	// Stopping, if set, stops an apply between steps (see steps.Hooks).
	Stopping func() bool
	// StrictPreflight makes a preflight WARNING refuse the host as an ERROR does.
	StrictPreflight bool
	// PreflightOnly stops after the checks before any change: no plan is made.
	PreflightOnly bool
	// Rolling, set by a rollout of a playbook with clusters, drains a node in its balancers
	// around its app's restart (one node of a cluster at a time).
	Rolling *Rolling
}

// HostRun is one host's rollout: connection, facts, plan, and what apply and verify found.
type HostRun struct {
	Host     *playbooks.Host
	Conn     target.Conn
	Facts    *distro.Facts
	Plan     *steps.Plan
	Outcome  steps.Outcome
	Verified []verify.Result
	// Notes are manual checks found in the facts (the guide's Part C: HTTP compression).
	Notes []string
	// Preflight are the checks made before any change (an ERROR among them refuses the host).
	Preflight []preflight.Result
	// Warnings are what would stop an apply on this host, seen at plan time: another run's lock,
	// a run that did not finish here (*UnfinishedError).
	Warnings []error
	Err      error
	// Store, if set before Apply, keeps the journal on the host.
	Store steps.JournalStore
	// Install is the pending install of Apache on a host without it (apache.install): Plan is
	// then that step alone, and the apply plans the rest from the installed files.
	Install *apache.InstallStep
	// Installed: the apply installed Apache and planned the rest; Plan is then the whole apply
	// (the install, then what was planned from the installed files).
	Installed bool

	pb      *playbooks.Playbook
	opts    Options
	rolling *rollingNode // a cluster node taken out of its balancers for this apply
	// lockUnsure: a gather that was to take the lock failed, so whether it did is unknown (a
	// gather that ran but whose answer timed out holds it).
	lockUnsure bool
}

// Connect opens the host's connection through opts.Dial.
func Connect(ctx context.Context, h *playbooks.Host, opts Options) (target.Conn, error) {
	if opts.Dial == nil {
		return nil, fmt.Errorf("%s: no transport to reach it", h.Name)
	}
	c, err := opts.Dial(ctx, h)
	if err != nil {
		return nil, err
	}
	if opts.Wrap != nil {
		c = opts.Wrap(c)
	}
	return c, nil
}

// Gather runs the one gather command and parses it. A host whose shell is not POSIX is Windows:
// its error says so ("... is not recognized as ..."), and then the Windows gather (one PowerShell
// command, win's request) runs instead; without win, cmd's ver describes the host.
func Gather(ctx context.Context, c target.Conn, req distro.Request, win *playbooks.WinTarget) (*distro.Facts, error) {
	if win != nil && win.Known {
		return gatherWindows(ctx, c, req, win)
	}
	out, err := c.Run(ctx, distro.Script(req), nil)
	if err != nil {
		var ce *target.CommandError
		if errors.As(err, &ce) && ce.NotPOSIX() {
			c.SetDialect(target.Windows)
			if win != nil {
				return gatherWindows(ctx, c, req, win)
			}
			ver, verr := c.Run(ctx, "cmd /c ver", nil)
			if name, ok := distro.ParseVer(string(ver)); verr == nil && ok {
				return &distro.Facts{Family: distro.Windows, Windows: name}, nil
			}
			return &distro.Facts{Family: distro.Windows, Windows: "Windows (version unknown)"}, nil
		}
		return nil, fmt.Errorf("gather facts: %w", err)
	}
	f, err := distro.ParseGather(string(out))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.Name(), err)
	}
	return f, nil
}

func gatherWindows(ctx context.Context, c target.Conn, req distro.Request, win *playbooks.WinTarget) (*distro.Facts, error) {
	r := win.Request
	r.Lock = req.Lock
	out, err := c.Run(ctx, distro.WinGather(r, win.ApacheRoot, win.ApacheService, win.Detect), nil)
	if err != nil {
		return nil, fmt.Errorf("gather facts (Windows): %w", err)
	}
	f, err := distro.ParseGather(string(out))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.Name(), err)
	}
	f.Family = distro.Windows
	return f, nil
}

// Prepare connects, gathers, refuses unsupported platforms before any change, and plans.
func Prepare(ctx context.Context, pb *playbooks.Playbook, h *playbooks.Host, opts Options) *HostRun {
	r := &HostRun{Host: h, pb: pb, opts: opts}
	if r.Err = pb.CheckHost(h.Name); r.Err != nil {
		return r
	}
	r.say("connect")
	c, err := Connect(ctx, h, opts)
	if err != nil {
		r.Err = err
		return r
	}
	r.Conn = c
	r.gatherAndPlan(ctx)
	return r
}

func (r *HostRun) gatherAndPlan(ctx context.Context) {
	r.say("gather facts")
	req := r.pb.Request(r.Host.Name)
	req.Lock = r.opts.Lock
	win := r.pb.WinTarget(r.Host.Name)
	win.Known = r.Facts != nil && r.Facts.Dialect() == target.Windows
	var err error
	sent := time.Now()
	if r.Facts, err = Gather(ctx, r.Conn, req, win); err != nil {
		r.Err = err
		r.lockUnsure = req.Lock != ""
		return
	}
	received := time.Now()
	r.lockUnsure = false
	h, c := r.Host, r.Conn
	r.Install = nil
	supported := r.Facts.Supported
	if len(r.pb.VHosts(h.Name)) == 0 {
		supported = r.Facts.KnownPlatform // a cluster's node alone: its Apache is not used
	}
	if err := supported(); err != nil {
		if !r.pb.Apache.Install || r.Facts.Apache.Layout != "" {
			r.Err = fmt.Errorf("%s: %w", h.Name, err)
			return
		}
		if err := r.Facts.Installable(); err != nil {
			r.Err = fmt.Errorf("%s: %w", h.Name, err)
			return
		}
		https, acme := false, false
		for _, a := range r.pb.Apps {
			if a.PublicFor(h.Name).Scheme == "https" {
				https, acme = true, acme || (a.TLS != nil && a.TLS.ACME != nil)
			}
		}
		r.Install = apache.NewInstall(r.Facts.Family, https, acme)
	}
	c.SetSFTPServer(r.Facts.SFTPServer)
	r.Notes = r.pb.Notes(r.Facts, h.Name)
	r.Warnings = nil
	if r.Facts.LockHolder != "" && !r.Facts.LockAcquired {
		r.Warnings = append(r.Warnings, fmt.Errorf("locked by another run (%s): an apply now would be refused", r.Facts.LockHolder))
	}
	if p := r.Facts.StateDirProblems; len(p) > 0 {
		r.Warnings = append(r.Warnings, &UnsafeStateError{Host: h.Name, Problems: p})
	}
	for _, id := range slices.Sorted(maps.Keys(r.Facts.Runs)) {
		if st := r.Facts.Runs[id]; st == "applying" || st == "rollback-failed" {
			r.Warnings = append(r.Warnings, &UnfinishedError{Host: h.Name, Run: id, State: st})
		}
	}
	if req.Lock != "" && !r.Facts.LockAcquired {
		// Another run holds the host: the apply stops at the lock; no check goes past it.
		r.Plan, r.Err = r.plan(ctx, r.Facts)
		return
	}
	r.say("preflight")
	r.Preflight = preflight.Run(ctx, preflight.Input{Playbook: r.pb, Facts: r.Facts, Host: h.Name, Address: r.address(),
		Resolver: DNSResolver(h), Sent: sent, Received: received})
	if r.Install != nil {
		r.Preflight = append([]preflight.Result{{Check: "apache", Level: preflight.OK,
			Message: "not installed: apache.install installs " + strings.Join(r.Install.Packages, " ") + " from the host's repositories first"}}, r.Preflight...)
	}
	if err := preflight.Failed(r.Preflight, r.opts.StrictPreflight); err != nil {
		r.Err = fmt.Errorf("%s: %w", h.Name, err)
		return
	}
	if r.opts.PreflightOnly {
		return
	}
	r.Plan, r.Err = r.plan(ctx, r.Facts)
}

// Replan gathers and plans again, taking the lock when the options name one; the plan shown for
// confirmation is then compared with this one (Fingerprint).
func (r *HostRun) Replan(ctx context.Context, opts Options) {
	r.opts = opts
	r.Err = nil
	r.gatherAndPlan(ctx)
}

// Locked says whether this run's gather took the host's lock.
func (r *HostRun) Locked() bool { return r.Facts != nil && r.Facts.LockAcquired }

// Release gives the host's lock back, if this run holds it (the lock is compared first, so a
// lock broken and retaken by someone else is left alone).
func (r *HostRun) Release(ctx context.Context) error {
	if r.lockUnsure && r.Conn != nil {
		// Ours or not, unknown: the unlock removes the lock only if it names this run; a host
		// that refuses the POSIX command is a Windows one.
		_, err := r.Conn.Run(ctx, distro.UnlockCommand(distro.Debian, r.opts.Lock, false), nil)
		var ce *target.CommandError
		if errors.As(err, &ce) && ce.NotPOSIX() {
			_, err = r.Conn.Run(ctx, distro.UnlockCommand(distro.Windows, r.opts.Lock, false), nil)
		}
		if err == nil {
			r.lockUnsure = false
		}
		return err
	}
	if !r.Locked() || r.Conn == nil {
		return nil
	}
	_, err := r.Conn.Run(ctx, distro.UnlockCommand(r.Facts.Family, r.opts.Lock, false), nil)
	if err == nil {
		r.Facts.LockAcquired = false
	}
	return err
}

// Fingerprint identifies a plan's pending changes (what, where, and the exact diff), so a plan
// applied later can be checked to be the one that was confirmed.
func Fingerprint(p *steps.Plan) string {
	if p == nil {
		return ""
	}
	var b strings.Builder
	for i, c := range p.Changes {
		if c.Action != steps.NoOp {
			fmt.Fprintf(&b, "%s\x00%s\x00%s\x00%s\x00", p.Steps[i].Name(), c.Action.Symbol(), c.Summary, c.Diff)
		}
	}
	return steps.Hash([]byte(b.String()))
}

func (r *HostRun) plan(ctx context.Context, f *distro.Facts) (*steps.Plan, error) {
	if r.Install != nil {
		// The rest is planned from what the install puts there (Apply); the simulation says
		// which packages it brings, from the host's lists as they are.
		out, _ := r.Conn.Run(ctx, r.Install.Simulate(), nil)
		r.Install.Simulated = string(out)
		return steps.MakePlan(ctx, r.Conn, []steps.Step{r.Install}, nil)
	}
	ss, services, err := r.pb.Compile(f, r.Host.Name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", r.Host.Name, err)
	}
	return steps.MakePlan(ctx, r.Conn, ss, services)
}

func (r *HostRun) say(msg string) {
	if r.opts.Progress != nil {
		r.opts.Progress(r.Host.Name, msg)
	}
}

// DNSResolver is the DNS server (host:port) the host's variable dns_resolver names for the checks
// of its public names, or "" for the controller's own.
func DNSResolver(h *playbooks.Host) string {
	s, _ := h.Vars["dns_resolver"].(string)
	return s
}

// address is where the host's Apache is reached from the controller.
func (r *HostRun) address() string {
	if r.Host.Connection == "local" {
		return "127.0.0.1"
	}
	return r.Host.Address
}

// Verify checks every app through the proxy: redirects for all, Synchrony's WebSocket upgrade for
// Confluence, the Base URL where the product has a REST API for it (else the result says which
// admin page to open).
func (r *HostRun) Verify(ctx context.Context) error {
	r.Verified = nil
	if err := r.pb.CheckHost(r.Host.Name); err != nil {
		return err
	}
	type check struct {
		a    playbooks.App
		node bool
	}
	var checks []check
	for _, a := range r.pb.AppsOn(r.Host.Name) {
		if a.Cluster() != nil {
			checks = append(checks, check{a, true})
		}
	}
	for _, a := range r.pb.Proxied(r.Host.Name) {
		checks = append(checks, check{a, false})
	}
	for _, ch := range checks {
		// A transient failure (Apache or the app still starting under load) is retried from the
		// app's own first attempt (the apps verified before it do not use up its window);
		// anything else fails at once.
		var res verify.Result
		err := retryTransient(ctx, r.opts, func() (err error) {
			if ch.node {
				res, err = r.verifyNode(ctx, ch.a)
				return err
			}
			res, err = r.verifyApp(ctx, ch.a)
			res.App = ch.a.Name
			return err
		})
		r.Verified = append(r.Verified, res)
		if err != nil {
			if ch.node {
				return err
			}
			return r.explainFirewall(r.explainSELinux(err))
		}
	}
	if r.rolling != nil {
		// Answering directly: back in the balancers, and proved there.
		return r.rolling.in(ctx, r.opts, r.say)
	}
	return nil
}

// verifyApp checks one app through the proxy once.
func (r *HostRun) verifyApp(ctx context.Context, a playbooks.App) (verify.Result, error) {
	p := a.PublicFor(r.Host.Name)
	t := verify.Target{App: a.Name, BaseURL: p.BaseURL, Address: r.address()}
	if r.opts.HTTPDial != nil {
		t.Dial = r.opts.HTTPDial(r.Host.Name)
	}
	if c := r.Conn; c != nil {
		// The credentialed request goes to the host's own Apache through SSH.
		t.Secure = func(ctx context.Context, _, addr string) (net.Conn, error) {
			_, port, _ := net.SplitHostPort(addr)
			return c.Forward(ctx, net.JoinHostPort("127.0.0.1", port))
		}
	}
	var res verify.Result
	var err error
	if p.Scheme == "https" {
		if t.RootCAs, err = a.Roots(); err != nil {
			return res, err
		}
		t.Fingerprint = a.ServedFingerprint(r.Host.Name, r.Facts)
	}
	if a.Cluster() != nil {
		return r.verifyCluster(ctx, a, t)
	}
	res, err = r.proxyAndBaseURL(ctx, a, t)
	if err == nil && a.ProxiedSynchronyPort() != 0 {
		var line string
		line, err = verify.WebSocket(ctx, t, "/synchrony/v1/bayeux-sync1/websocket")
		res.Chain = append(res.Chain, line)
	}
	if err == nil && p.Scheme == "https" && a.TLS.Redirect() {
		var line string
		line, err = verify.HTTPRedirect(ctx, t)
		res.Chain = append(res.Chain, line)
	}
	return res, err
}

// proxyAndBaseURL checks app a through t's proxy, and its Base URL where the product has a REST
// API for it (else the result says which admin page to open).
func (r *HostRun) proxyAndBaseURL(ctx context.Context, a playbooks.App, t verify.Target) (verify.Result, error) {
	prod := app.Products[a.Product]
	if prod.BaseURLAPI == "jira" {
		return verify.Jira(ctx, t, r.opts.SetBaseURL)
	}
	res, err := verify.Proxy(ctx, t)
	res.BaseURLNote = fmt.Sprintf("%s has no REST API for its Base URL: check it is %s in %s", a.Name, a.PublicFor(r.Host.Name).BaseURL, prod.AdminPage)
	res.BaseURLManual = true
	return res, err
}

// Apply applies the plan (when it has changes), re-checks, verifies, and rolls back on failure.
func (r *HostRun) Apply(ctx context.Context) {
	if r.Err != nil {
		return
	}
	if r.Install != nil {
		r.applyInstall(ctx)
		return
	}
	if apps := restarts(r.pb, r.Host.Name, r.Plan); len(apps) > 0 && r.opts.Rolling != nil {
		rn, err := r.opts.Rolling.out(ctx, r.Host.Name, apps, r.say, r.opts.Stopping)
		if err != nil {
			r.Err = err
			return
		}
		r.rolling = rn
		defer func() { r.rolling = nil; rn.release() }()
	}
	r.Outcome, r.Err = steps.Apply(ctx, r.Conn, r.Plan, r.hooks(nil))
	if r.Err != nil && r.rolling != nil {
		// Rolled back (or not): in service again either way; the health check keeps a node
		// that does not answer out.
		if err := r.rolling.back(context.WithoutCancel(ctx), r.say); err != nil {
			r.Err = fmt.Errorf("%w\n%v", r.Err, err)
		}
	}
}

// hooks are the apply's: re-check by gathering and planning again, verify through the proxy.
func (r *HostRun) hooks(j *steps.Journal) steps.Hooks {
	req := r.pb.Request(r.Host.Name)
	win := r.pb.WinTarget(r.Host.Name)
	win.Known = r.Facts.Dialect() == target.Windows
	return steps.Hooks{
		Dialect: r.Facts.Dialect(),
		Recheck: func(ctx context.Context) (*steps.Plan, error) {
			f, err := Gather(ctx, r.Conn, req, win)
			if err != nil {
				return nil, err
			}
			return r.plan(ctx, f)
		},
		Verify:   r.Verify,
		Progress: r.say,
		Store:    r.Store,
		Stopping: r.opts.Stopping,
		Journal:  j,
	}
}

// applyInstall installs Apache, gathers the facts again, plans the rest from the installed files
// (each change is said as progress before it is made) and applies it with the same journal: a
// failure anywhere rolls the host back to no Apache at all.
func (r *HostRun) applyInstall(ctx context.Context) {
	j := &steps.Journal{Store: r.Store, Dialect: r.Facts.Dialect()}
	fail := func(err error) {
		r.Outcome = steps.Outcome{Journal: j, Changed: r.Outcome.Changed}
		if j.Empty() {
			r.Err = err
			return
		}
		r.say("rolling back")
		if rbErr := j.Rollback(context.WithoutCancel(ctx), r.Conn); rbErr != nil {
			r.Err = &steps.RollbackError{Host: r.Host.Name, Cause: err, Rollback: rbErr}
			return
		}
		r.Outcome.RolledBack = true
		r.Err = fmt.Errorf("%w (rolled back)", err)
	}
	if r.opts.Stopping != nil && r.opts.Stopping() {
		fail(steps.ErrStopped)
		return
	}
	r.say("apply " + r.Install.Name())
	if err := r.Install.Apply(ctx, r.Conn, j); err != nil {
		fail(fmt.Errorf("apply %s: %w", r.Install.Name(), err))
		return
	}
	r.Outcome.Changed = 1
	r.say("gather facts (Apache installed)")
	f, err := Gather(ctx, r.Conn, r.pb.Request(r.Host.Name), r.pb.WinTarget(r.Host.Name))
	if err == nil {
		err = f.Supported()
	}
	var rest *steps.Plan
	installed := r.Install
	if err == nil {
		// From here the host has Apache: a re-check plans as on any such host. The lock is still
		// this run's (the gather that took it was the first), and is released as such.
		f.LockAcquired, f.LockHolder = r.Facts.LockAcquired, r.Facts.LockHolder
		r.Install, r.Facts = nil, f
		rest, err = r.plan(ctx, f)
	}
	if err != nil {
		r.Install = nil
		fail(fmt.Errorf("plan after installing %s: %w", strings.Join(installed.Packages, " "), err))
		return
	}
	for i, c := range rest.Changes {
		if c.Action != steps.NoOp {
			r.say(fmt.Sprintf("planned after the install: %s %s: %s", c.Action.Symbol(), rest.Steps[i].Name(), c.Summary))
		}
	}
	out, err := steps.Apply(ctx, r.Conn, rest, r.hooks(j))
	out.Changed++
	r.Outcome, r.Err = out, err
	// The plan reported from here on is the whole apply: the install, then the rest.
	r.Plan = &steps.Plan{Host: r.Plan.Host, Steps: append([]steps.Step{installed}, rest.Steps...),
		Changes: append(slices.Clip(r.Plan.Changes[:1]), rest.Changes...), Services: rest.Services}
	r.Installed = true
}

// Close ends the connection.
func (r *HostRun) Close() {
	if r.Conn != nil {
		r.Conn.Close()
	}
}

// NewVerifyRun is a HostRun for verification alone (no connection).
func NewVerifyRun(pb *playbooks.Playbook, h *playbooks.Host, opts Options) *HostRun {
	return &HostRun{Host: h, pb: pb, opts: opts}
}

// explainFirewall adds, to a failed verification, that the host's firewall closes a public port.
// With open_firewall the apply opened it: the facts, read before, no longer say how it is.
func (r *HostRun) explainFirewall(err error) error {
	if r.Facts == nil || !r.Facts.Firewall.Active || r.pb.Apache.OpenFirewall {
		return err
	}
	for _, port := range playbooks.PublicPorts(r.pb.VHosts(r.Host.Name)) {
		if blocked, _ := r.Facts.Firewall.Blocks(port); blocked {
			return fmt.Errorf("%w\n%s on %s closes port %d/tcp: set apache: {open_firewall: true}, or run: %s",
				err, r.Facts.Firewall.Kind, r.Host.Name, port, r.Facts.Firewall.OpenCommand(port))
		}
	}
	return err
}

// explainSELinux adds the guide's SELinux diagnosis to a failed verification on a host where
// SELinux is on: the proxy's 503 then usually comes from "(13)Permission denied: AH00957".
func (r *HostRun) explainSELinux(err error) error {
	if r.Facts == nil || !r.Facts.SELinux.Active() {
		return err
	}
	return fmt.Errorf("%w\nSELinux is %s on %s: if /var/log/httpd/error_log shows \"(13)Permission denied: AH00957: HTTP: attempt to connect to 127.0.0.1:PORT failed\", "+
		"SELinux stops httpd from connecting to the application: getsebool httpd_can_network_connect must say on (setsebool -P httpd_can_network_connect 1)",
		err, strings.ToLower(r.Facts.SELinux.Mode), r.Host.Name)
}
