package session

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/frontdoor-dev/frontdoor/playbooks"
	"github.com/frontdoor-dev/frontdoor/steps"
	"github.com/frontdoor-dev/frontdoor/steps/apache"
	"github.com/frontdoor-dev/frontdoor/steps/lb"
	"github.com/frontdoor-dev/frontdoor/steps/verify"
	"github.com/frontdoor-dev/frontdoor/target"
)

// Rolling coordinates a rollout's Data Center clusters (docs/cluster.md): a node whose app must
// restart takes its cluster's one token (one node of a cluster down at a time), is drained and
// then stopped in every balancer before its app stops, and after it answers again directly it is
// put back and proved through each balancer, pinned to it by the route cookie. A node that fails
// is rolled back by its journal and put back in the balancers, and its cluster stops: no other
// node of it starts, and its balancers are not applied. Balancers are applied after their nodes.
type Rolling struct {
	pb    *playbooks.Playbook
	hosts map[string]*playbooks.Host // the whole inventory: balancers may be outside --limit
	opts  Options

	mu       sync.Mutex
	clusters map[string]*clusterState // by app name

	connMu sync.Mutex
	conns  map[string]target.Conn // balancer hosts, dialed once
}

type clusterState struct {
	c       *playbooks.Cluster
	token   chan struct{}
	stopped error
	pending map[string]bool // nodes of this run not finished
	done    chan struct{}   // closed when pending is empty
}

// NewRolling prepares the clusters of pb for a rollout over hosts (run: the names in it).
func NewRolling(pb *playbooks.Playbook, inventory map[string]*playbooks.Host, run []string, opts Options) *Rolling {
	r := &Rolling{pb: pb, hosts: inventory, opts: opts, clusters: map[string]*clusterState{}, conns: map[string]target.Conn{}}
	for _, c := range pb.Clusters() {
		cs := &clusterState{c: c, token: make(chan struct{}, 1), pending: map[string]bool{}, done: make(chan struct{})}
		for _, n := range c.Nodes {
			if slices.Contains(run, n.Host) {
				cs.pending[n.Host] = true
			}
		}
		if len(cs.pending) == 0 {
			close(cs.done)
		}
		r.clusters[c.App] = cs
	}
	return r
}

// Order puts a cluster's balancers after all its nodes (stable otherwise), so that a balancer's
// verification sees its nodes as the rollout leaves them.
func (r *Rolling) Order(hosts []*playbooks.Host) []*playbooks.Host {
	out := slices.Clone(hosts)
	rank := func(h *playbooks.Host) int {
		if r.IsBalancer(h.Name) {
			return 1
		}
		return 0
	}
	slices.SortStableFunc(out, func(a, b *playbooks.Host) int { return rank(a) - rank(b) })
	return out
}

// IsBalancer says whether host balances a cluster of the playbook (false without clusters).
func (r *Rolling) IsBalancer(host string) bool {
	if r == nil {
		return false
	}
	_, b := r.pb.ClusterRoles(host)
	return len(b) > 0
}

// ClusterStoppedError: a node or balancer not started because a node of its cluster failed.
type ClusterStoppedError struct {
	App string
	Why error
}

func (e *ClusterStoppedError) Error() string {
	return fmt.Sprintf("not started: cluster %s stopped (%v)", e.App, e.Why)
}

// Stopped is why host must not start: a cluster it is a node or balancer of has stopped.
func (r *Rolling) Stopped(host string) error {
	if r == nil {
		return nil
	}
	nodeOf, balOf := r.pb.ClusterRoles(host)
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range append(nodeOf, balOf...) {
		if cs := r.clusters[c.App]; cs.stopped != nil {
			return &ClusterStoppedError{App: c.App, Why: cs.stopped}
		}
	}
	return nil
}

// WaitNodes waits until every node of the clusters host balances has ended in this run, or the
// run is stopping (steps.ErrStopped).
func (r *Rolling) WaitNodes(ctx context.Context, host string, stopping func() bool) error {
	if r == nil {
		return nil
	}
	_, balOf := r.pb.ClusterRoles(host)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for _, c := range balOf {
	wait:
		for {
			select {
			case <-r.clusters[c.App].done:
				break wait
			case <-ctx.Done():
				return ctx.Err()
			case <-tick.C:
				if stopping != nil && stopping() {
					return steps.ErrStopped
				}
			}
		}
	}
	return r.Stopped(host)
}

// Done records that host ended in this run; a failed node stops its clusters.
func (r *Rolling) Done(host string, err error) {
	if r == nil {
		return
	}
	nodeOf, _ := r.pb.ClusterRoles(host)
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range nodeOf {
		cs := r.clusters[c.App]
		var cse *ClusterStoppedError
		if err != nil && cs.stopped == nil && !errors.As(err, &cse) {
			cs.stopped = fmt.Errorf("node %s failed", host)
		}
		if cs.pending[host] {
			delete(cs.pending, host)
			if len(cs.pending) == 0 {
				close(cs.done)
			}
		}
	}
}

// Close ends the connections to the balancers.
func (r *Rolling) Close() {
	if r == nil {
		return
	}
	r.connMu.Lock()
	defer r.connMu.Unlock()
	for _, c := range r.conns {
		c.Close()
	}
	r.conns = map[string]target.Conn{}
}

// conn is the connection to a balancer host, dialed once (no host lock taken there:
// balancer-manager's state is Apache's memory, not its configuration).
func (r *Rolling) conn(ctx context.Context, host string) (target.Conn, error) {
	// Its own lock: a slow dial must not hold up Done and Stopped for every other host.
	r.connMu.Lock()
	defer r.connMu.Unlock()
	if c := r.conns[host]; c != nil {
		return c, nil
	}
	h := r.hosts[host]
	if h == nil {
		return nil, fmt.Errorf("balancer %s is not in the inventory", host)
	}
	c, err := Connect(ctx, h, r.opts)
	if err != nil {
		return nil, fmt.Errorf("reach the balancer %s: %w", host, err)
	}
	r.conns[host] = c
	return c, nil
}

// manager is balancer-manager of app a on balancer host b, through conn.
func manager(a playbooks.App, b string, conn target.Conn) (lb.Manager, error) {
	p := a.PublicFor(b)
	m := lb.Manager{Dial: conn.Forward, Port: p.Port, Host: p.Host, Path: apache.ManagerPath}
	if p.Scheme == "https" {
		roots, err := a.Roots()
		if err != nil {
			return m, err
		}
		m.TLS = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	}
	return m, nil
}

// drained is one node taken out of one balancer.
type drained struct {
	app      playbooks.App
	node     playbooks.Node
	balancer string
	m        lb.Manager
	worker   string
}

// rollingNode is a node of a run between its drain and its end.
type rollingNode struct {
	r        *Rolling
	tokens   []*clusterState
	drained  []drained
	stopping func() bool
}

// restarts are the cluster apps of host whose app the plan stops and starts again.
func restarts(pb *playbooks.Playbook, host string, p *steps.Plan) []playbooks.App {
	var out []playbooks.App
	trig := p.Triggered()
	for _, a := range pb.AppsOn(host) {
		if a.Cluster() == nil {
			continue
		}
		for _, s := range trig {
			if s.Kind == steps.App && s.Name == a.Name && s.WasRunning {
				out = append(out, a)
			}
		}
	}
	return out
}

// out takes host's nodes out of their balancers before the apply (nothing has changed yet): the
// cluster's token, then in each balancer drain, wait for its requests to end (drain_timeout),
// and stop. It refuses to take out the last node that serves.
func (r *Rolling) out(ctx context.Context, host string, apps []playbooks.App, say func(string), stopping func() bool) (*rollingNode, error) {
	rn := &rollingNode{r: r, stopping: stopping}
	fail := func(err error) (*rollingNode, error) {
		if berr := rn.back(context.WithoutCancel(ctx), say); berr != nil {
			err = fmt.Errorf("%w\n%v", err, berr)
		}
		rn.release()
		return nil, err
	}
	for _, a := range apps {
		cs := r.clusters[a.Name]
		select {
		case cs.token <- struct{}{}:
		case <-ctx.Done():
			return fail(ctx.Err())
		}
		rn.tokens = append(rn.tokens, cs)
		if err := r.Stopped(host); err != nil {
			return fail(err)
		}
		if stopping != nil && stopping() {
			// Interrupted while it waited for its turn: nothing changed on it.
			return fail(steps.ErrStopped)
		}
		node, _ := cs.c.Node(host)
		for _, b := range cs.c.Balancers {
			if err := rn.drain(ctx, a, node, b, say); err != nil {
				return fail(err)
			}
		}
	}
	return rn, nil
}

// Undo runs undo, a node's rollback (which restarts its app), the rolling way: with its
// cluster's token, taken out of its balancers first and put back after. An undo must happen: where
// the node cannot be drained (it is the last that serves, or a balancer does not answer) it goes
// on without, and says so.
func (r *Rolling) Undo(ctx context.Context, host string, say func(string), undo func(context.Context) error) error {
	if r == nil {
		return undo(ctx)
	}
	nodeOf, _ := r.pb.ClusterRoles(host)
	rn := &rollingNode{r: r}
	defer rn.release()
	for _, c := range nodeOf {
		cs := r.clusters[c.App]
		select {
		case cs.token <- struct{}{}:
		case <-ctx.Done():
			return errors.Join(ctx.Err(), rn.back(context.WithoutCancel(ctx), say))
		}
		rn.tokens = append(rn.tokens, cs)
		var a playbooks.App
		for _, x := range r.pb.AppsOn(host) {
			if x.Name == c.App {
				a = x
			}
		}
		node, _ := c.Node(host)
		for _, b := range c.Balancers {
			if err := rn.drain(ctx, a, node, b, say); err != nil {
				say(fmt.Sprintf("not drained in balancer %s (%v): rolled back without", b, err))
			}
		}
	}
	err := undo(ctx)
	if berr := rn.back(context.WithoutCancel(ctx), say); berr != nil {
		err = errors.Join(err, berr)
	}
	return err
}

// balances says whether an enabled Apache configuration on the balancer host defines
// balancer://name (Debian's sites-enabled, the Red Hat family's conf.d).
func balances(ctx context.Context, conn target.Conn, name string) (bool, error) {
	pat := target.Quote("<Proxy balancer://" + name + ">")
	out, err := conn.Run(ctx, "if grep -qsF -- "+pat+" /etc/apache2/sites-enabled/* /etc/httpd/conf.d/*.conf; then echo balanced; else echo none; fi", nil)
	if err != nil {
		return false, fmt.Errorf("look for balancer://%s in its configuration: %w", name, err)
	}
	return strings.TrimSpace(string(out)) == "balanced", nil
}

// LastNodeError refuses to drain the only node of a cluster that serves.
type LastNodeError struct{ App, Node, Balancer string }

func (e *LastNodeError) Error() string {
	return fmt.Sprintf("%s: %s is the only node of %s that balancer %s sends requests to: taking it out would stop %s for everyone; nothing was changed. Bring another node back first (balancer-manager on %s shows which are out)",
		e.Node, e.Node, e.App, e.Balancer, e.App, e.Balancer)
}

func (rn *rollingNode) drain(ctx context.Context, a playbooks.App, node playbooks.Node, b string, say func(string)) error {
	conn, err := rn.r.conn(ctx, b)
	if err != nil {
		return err
	}
	m, err := manager(a, b, conn)
	if err != nil {
		return err
	}
	balanced, err := balances(ctx, conn, a.Name)
	if err != nil {
		return fmt.Errorf("balancer %s: %w", b, err)
	}
	if !balanced {
		// Not applied there yet (a fresh cluster: its nodes go first): no request goes to the
		// node through it.
		say(fmt.Sprintf("balancer %s does not balance %s yet (no enabled configuration has balancer://%s): nothing to drain there", b, a.Name, a.Name))
		return nil
	}
	ws, _, err := m.Workers(ctx, a.Name)
	if err != nil {
		// Configured there, so it may be serving the node: no restart without draining it.
		return fmt.Errorf("%s: cannot take %s out of balancer %s before its restart (nothing was changed): %w", node.Host, node.Host, b, err)
	}
	i := slices.IndexFunc(ws, func(w lb.Worker) bool { return w.Route == node.Route })
	if i < 0 {
		say(fmt.Sprintf("balancer %s has no member %s yet: nothing to drain there", b, node.Route))
		return nil
	}
	if !slices.ContainsFunc(ws, func(w lb.Worker) bool { return w.Route != node.Route && w.Serving() }) {
		return &LastNodeError{App: a.Name, Node: node.Host, Balancer: b}
	}
	w := ws[i].Name
	say(fmt.Sprintf("drain %s in balancer %s", node.Route, b))
	// Recorded first: a change whose answer is lost may still have been made, and must be undone.
	rn.drained = append(rn.drained, drained{app: a, node: node, balancer: b, m: m, worker: w})
	if _, err := m.Set(ctx, a.Name, w, lb.State{Drain: true}); err != nil {
		return err
	}
	deadline := time.Now().Add(a.Cluster().DrainTimeout)
	for {
		ws, _, err := m.Workers(ctx, a.Name)
		if err != nil {
			return err
		}
		busy := 0
		for _, x := range ws {
			if x.Name == w {
				busy = x.Busy
			}
		}
		if busy == 0 {
			break
		}
		if time.Now().After(deadline) {
			say(fmt.Sprintf("%s still has %d request(s) in flight after drain_timeout: stopping it anyway", node.Route, busy))
			break
		}
		if rn.stopping != nil && rn.stopping() {
			return steps.ErrStopped
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	// Stopped, not only drained: a drained member still takes its sticky clients' requests.
	say(fmt.Sprintf("stop %s in balancer %s", node.Route, b))
	_, err = m.Set(ctx, a.Name, w, lb.State{Drain: true, Stop: true})
	return err
}

// in puts the node back in every balancer it was taken out of and proves it there: pinned to it
// by the route cookie, /status is RUNNING and every redirect stays under the public base URL.
func (rn *rollingNode) in(ctx context.Context, opts Options, say func(string)) error {
	for _, d := range rn.drained {
		say(fmt.Sprintf("put %s back in balancer %s", d.node.Route, d.balancer))
		if _, err := d.m.Set(ctx, d.app.Name, d.worker, lb.State{}); err != nil {
			return err
		}
		t, err := balancerTarget(d.app, d.balancer, rn.r.hosts[d.balancer], opts)
		t.Route, t.RouteCookie = d.node.Route, apache.StickyCookie
		if err == nil {
			err = retryTransient(ctx, opts, func() error {
				_, err := verify.Status(ctx, t)
				if err == nil {
					_, err = verify.Proxy(ctx, t)
				}
				return err
			})
		}
		if err != nil {
			err = fmt.Errorf("%s through balancer %s: %w", d.node.Host, d.balancer, err)
			// Out again before its rollback restarts it (back puts it in once rolled back).
			for _, o := range rn.drained {
				if _, serr := o.m.Set(context.WithoutCancel(ctx), o.app.Name, o.worker, lb.State{Drain: true, Stop: true}); serr != nil {
					err = fmt.Errorf("%w\ntake %s out of balancer %s again: %v", err, o.node.Route, o.balancer, serr)
				}
			}
			return err
		}
	}
	return nil
}

// back puts the node back in the balancers after a failure (its journal has restored it), marked
// as failing its health check: the check, which skips a stopped member, lets it serve again only
// once its /status says RUNNING.
func (rn *rollingNode) back(ctx context.Context, say func(string)) error {
	var errs []error
	for _, d := range rn.drained {
		say(fmt.Sprintf("put %s back in balancer %s", d.node.Route, d.balancer))
		if _, err := d.m.Set(ctx, d.app.Name, d.worker, lb.State{HCFail: true}); err != nil {
			errs = append(errs, fmt.Errorf("put %s back in balancer %s: %w", d.node.Route, d.balancer, err))
		}
	}
	return errors.Join(errs...)
}

func (rn *rollingNode) release() {
	for _, cs := range rn.tokens {
		<-cs.token
	}
	rn.tokens = nil
}

// balancerTarget is app a through balancer host b's Apache, as the controller reaches it.
func balancerTarget(a playbooks.App, b string, h *playbooks.Host, opts Options) (verify.Target, error) {
	p := a.PublicFor(b)
	t := verify.Target{App: a.Name, BaseURL: p.BaseURL, Address: h.Address}
	if h.Connection == "local" {
		t.Address = "127.0.0.1"
	}
	if opts.HTTPDial != nil {
		t.Dial = opts.HTTPDial(b)
	}
	var err error
	if p.Scheme == "https" {
		t.RootCAs, err = a.Roots()
	}
	return t, err
}

// retryTransient retries f while it fails transiently, for opts.VerifyWait (60 s by default),
// and at least once: a first attempt that was slow to fail (a loaded controller, a slow host)
// must not use up the whole window by itself.
func retryTransient(ctx context.Context, opts Options, f func() error) error {
	wait := opts.VerifyWait
	if wait == 0 {
		wait = 60 * time.Second
	}
	deadline := time.Now().Add(wait)
	err := f()
	for tries := 1; err != nil && verify.Transient(err) && (tries == 1 || time.Now().Before(deadline)) && ctx.Err() == nil; tries++ {
		select {
		case <-ctx.Done():
		case <-time.After(min(time.Second, wait/10)):
		}
		err = f()
	}
	return err
}

// verifyNode checks a cluster app on one of its nodes directly, through the node's own SSH
// connection to its port: /status RUNNING.
func (r *HostRun) verifyNode(ctx context.Context, a playbooks.App) (verify.Result, error) {
	p := a.PublicFor(r.Host.Name)
	base := fmt.Sprintf("http://127.0.0.1:%d%s", a.Port, p.ContextPath)
	t := verify.Target{App: a.Name, BaseURL: base, Address: "127.0.0.1"}
	if c := r.Conn; c != nil {
		t.Dial = func(ctx context.Context, _, addr string) (net.Conn, error) { return c.Forward(ctx, addr) }
	} else {
		t.Address = r.address() // frontdoor verify: no SSH, the node's port over the network
	}
	line, err := verify.Status(ctx, t)
	res := verify.Result{App: a.Name, URL: base, Node: r.Host.Name}
	if line != "" {
		res.Chain = append(res.Chain, line)
	}
	return res, err
}

// verifyCluster checks a cluster app through this balancer: every member healthy in
// balancer-manager (mod_proxy_hcheck up, none drained or stopped), the sticky cookie set and
// honoured, and each node, pinned by its route, through the proxy with its Base URL.
func (r *HostRun) verifyCluster(ctx context.Context, a playbooks.App, t verify.Target) (verify.Result, error) {
	c := a.Cluster()
	p := a.PublicFor(r.Host.Name)
	res := verify.Result{App: a.Name, URL: p.BaseURL}
	var ws []lb.Worker
	if r.Conn == nil {
		res.Chain = append(res.Chain, "balancer-manager: not read (it answers on the balancer host only, through SSH; frontdoor verify has no SSH connection)")
	} else {
		m, err := manager(a, r.Host.Name, r.Conn)
		if err != nil {
			return res, err
		}
		if ws, _, err = m.Workers(ctx, a.Name); err != nil {
			return res, err
		}
	}
	var routes, down []string
	for _, n := range c.Nodes {
		routes = append(routes, n.Route)
		if r.Conn == nil {
			continue
		}
		i := slices.IndexFunc(ws, func(w lb.Worker) bool { return w.Route == n.Route })
		switch {
		case i < 0:
			return res, fmt.Errorf("%s: balancer://%s on %s has no member for node %s", a.Name, a.Name, r.Host.Name, n.Host)
		case !ws[i].Serving():
			down = append(down, fmt.Sprintf("%s (%s)", n.Route, ws[i].Status))
			if ws[i].TakenOut() {
				// Taken out by hand, or by a rolling restart that was cut off: Apache keeps that
				// state in memory only.
				down[len(down)-1] += fmt.Sprintf(": taken out of the balancer; if it should serve, put it back in balancer-manager on %s (or reload Apache there, which resets every member)", r.Host.Name)
			}
		default:
			res.Chain = append(res.Chain, fmt.Sprintf("balancer-manager: %s %s %s", n.Route, ws[i].Name, ws[i].Status))
		}
	}
	if len(down) > 0 {
		// A 503 for Transient: a node just started waits for its next health check.
		return res, &verify.StatusError{App: a.Name + " (not serving in the balancer: " + strings.Join(down, ", ") + ")", URL: "balancer://" + a.Name, Address: r.Host.Name, Code: 503}
	}
	t.RouteCookie = apache.StickyCookie
	lines, err := verify.Sticky(ctx, t, routes)
	res.Chain = append(res.Chain, lines...)
	if err != nil {
		return res, err
	}
	for _, n := range c.Nodes {
		tn := t
		tn.Route = n.Route
		nr, err := r.proxyAndBaseURL(ctx, a, tn)
		res.BaseURLManual = nr.BaseURLManual
		for _, l := range nr.Chain {
			res.Chain = append(res.Chain, "[node "+n.Route+"] "+l)
		}
		if err != nil {
			return res, fmt.Errorf("node %s: %w", n.Host, err)
		}
		res.AppBaseURL, res.BaseURLSet = nr.AppBaseURL, res.BaseURLSet || nr.BaseURLSet
		if nr.BaseURLNote != "" {
			res.BaseURLNote = "node " + n.Host + ": " + nr.BaseURLNote
		}
	}
	return res, nil
}
