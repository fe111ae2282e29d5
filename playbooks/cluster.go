package playbooks

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/frontdoor-dev/frontdoor/internal/didyoumean"
	"github.com/frontdoor-dev/frontdoor/steps/apache"
)

// Cluster is a Data Center app's nodes and the hosts whose Apache balances them, resolved
// against the inventory.
type Cluster struct {
	App          string // the app's name, also the balancer's: balancer://App
	Nodes        []Node
	Balancers    []string // inventory names
	LBMethod     string
	DrainTimeout time.Duration
}

// Node is one node of a cluster.
type Node struct {
	Host    string // inventory name
	Address string // how the balancer reaches it (the inventory address)
	Port    int
	Route   string // its route= in the balancer, from its name
}

// URL is the node as a BalancerMember: http://address:port.
func (n Node) URL() string {
	addr := n.Address
	if strings.Contains(addr, ":") {
		addr = "[" + addr + "]"
	}
	return fmt.Sprintf("http://%s:%d", addr, n.Port)
}

// Node returns the node on host, if host is one.
func (c *Cluster) Node(host string) (Node, bool) {
	for _, n := range c.Nodes {
		if n.Host == host {
			return n, true
		}
	}
	return Node{}, false
}

// Balances says whether host runs a balancer of the cluster.
func (c *Cluster) Balances(host string) bool { return slices.Contains(c.Balancers, host) }

var (
	lbMethods = []string{"byrequests", "bytraffic", "bybusyness"}
	nodeRe    = regexp.MustCompile(`^([A-Za-z0-9_.-]+)(?::([0-9]+))?$`)
	routeBad  = regexp.MustCompile(`[^A-Za-z0-9_-]`)
)

// checkCluster checks nodes, balancer, lbmethod and drain_timeout as written (the names are
// resolved against the inventory by Bind).
func (pb *Playbook) checkCluster(a *App, at string) error {
	src := pb.src
	if len(a.Nodes) == 0 {
		for key, set := range map[string]bool{"balancer": len(a.Balancer) > 0, "lbmethod": a.LBMethod != "", "drain_timeout": a.DrainTimeout != 0} {
			if set {
				return src.errorf(at+"."+key, "%s is for a cluster: add nodes: (the hosts the app runs on), or remove %s", key, key)
			}
		}
		return nil
	}
	if len(a.Balancer) == 0 {
		return src.errorf(at+".nodes", "a cluster needs its balancer: add balancer: [HOST] (the inventory host whose Apache balances the nodes)")
	}
	if strings.Contains(a.URL, hostVar) {
		return src.errorf(at+".url", "a cluster has one public name: write it without {{host}}, e.g. url: http://%s.example.com", a.Product)
	}
	for i, n := range a.Nodes {
		m := nodeRe.FindStringSubmatch(n)
		if m == nil {
			return src.errorf(fmt.Sprintf("%s.nodes[%d]", at, i), "node %q: write an inventory host or group, or HOST:PORT when its port differs, e.g. jira2:8081", n)
		}
		if m[2] != "" {
			if p, err := strconv.Atoi(m[2]); err != nil || p < 1 || p > 65535 {
				return src.errorf(fmt.Sprintf("%s.nodes[%d]", at, i), "node %q: port out of range 1..65535", n)
			}
		}
	}
	for i, b := range a.Balancer {
		if !nodeRe.MatchString(b) || strings.Contains(b, ":") {
			return src.errorf(fmt.Sprintf("%s.balancer[%d]", at, i), "balancer %q: write an inventory host or group", b)
		}
	}
	if a.LBMethod == "" {
		a.LBMethod = "byrequests"
	}
	if !slices.Contains(lbMethods, a.LBMethod) {
		return src.errorf(at+".lbmethod", "lbmethod %q: write one of %s", a.LBMethod, strings.Join(lbMethods, ", "))
	}
	if a.DrainTimeout == 0 {
		a.DrainTimeout = 60
	}
	if a.DrainTimeout < 1 || a.DrainTimeout > 3600 {
		return src.errorf(at+".drain_timeout", "drain_timeout %d: give seconds between 1 and 3600 (default 60)", a.DrainTimeout)
	}
	return nil
}

// Bind resolves every cluster's nodes and balancers against the inventory (hosts or groups). It
// must be called before a cluster app is compiled.
func (pb *Playbook) Bind(inv *Inventory) error {
	for i := range pb.Apps {
		a := &pb.Apps[i]
		if len(a.Nodes) == 0 {
			continue
		}
		at := fmt.Sprintf("$.apps[%d]", i)
		c := &Cluster{App: a.Name, LBMethod: a.LBMethod, DrainTimeout: time.Duration(a.DrainTimeout) * time.Second}
		routes := map[string]string{}
		for j, entry := range a.Nodes {
			m := nodeRe.FindStringSubmatch(entry)
			port := a.Port
			if m[2] != "" {
				port, _ = strconv.Atoi(m[2])
			}
			hosts, err := pb.resolve(inv, m[1], fmt.Sprintf("%s.nodes[%d]", at, j))
			if err != nil {
				return err
			}
			for _, h := range hosts {
				if _, dup := c.Node(h); dup {
					return pb.src.errorf(fmt.Sprintf("%s.nodes[%d]", at, j), "%s is a node of %s twice: name each node once", h, a.Name)
				}
				host := inv.Hosts[h]
				if host.Connection == "local" {
					return pb.src.errorf(fmt.Sprintf("%s.nodes[%d]", at, j), "node %s has connection: local: the balancer reaches its nodes at their inventory address, so a node must be reached over SSH (give it an address)", h)
				}
				addr := host.Address
				if addr == "" {
					addr = h
				}
				route := routeBad.ReplaceAllString(h, "-")
				if len(route) > 63 {
					// mod_proxy_balancer refuses a route of 64 characters or more.
					return pb.src.errorf(fmt.Sprintf("%s.nodes[%d]", at, j), "node %s: its name is its route in the balancer, and Apache takes at most 63 characters: give the host a shorter inventory name", h)
				}
				if other, ok := routes[route]; ok {
					return pb.src.errorf(fmt.Sprintf("%s.nodes[%d]", at, j), "nodes %s and %s would share the route %s: rename one in the inventory", other, h, route)
				}
				routes[route] = h
				c.Nodes = append(c.Nodes, Node{Host: h, Address: addr, Port: port, Route: route})
			}
		}
		for j, b := range a.Balancer {
			hosts, err := pb.resolve(inv, b, fmt.Sprintf("%s.balancer[%d]", at, j))
			if err != nil {
				return err
			}
			for _, h := range hosts {
				if _, node := c.Node(h); node {
					return pb.src.errorf(fmt.Sprintf("%s.balancer[%d]", at, j), "%s is both a node and the balancer of %s: put the balancer on a host of its own (nodes are restarted one at a time; the balancer must stay up)", h, a.Name)
				}
				if !slices.Contains(c.Balancers, h) {
					c.Balancers = append(c.Balancers, h)
				}
			}
		}
		a.cluster = c
	}
	return pb.checkClusterHosts()
}

// checkClusterHosts refuses what a rollout could not order or would put where it does not
// belong: a playbook mixing clusters with apps for every host (those would land on the nodes and
// balancers too), a host that is a node of one cluster and the balancer of another (its nodes'
// restarts and its own would wait for each other), and two apps on one port of a node.
func (pb *Playbook) checkClusterHosts() error {
	var plain, clustered []string
	for _, a := range pb.Apps {
		if a.cluster == nil {
			plain = append(plain, a.Name)
		} else {
			clustered = append(clustered, a.Name)
		}
	}
	if len(clustered) == 0 {
		return nil
	}
	if len(plain) > 0 {
		return pb.src.errorf("$.apps", "%s are Data Center clusters and %s is not: an app without nodes: goes on every host, the clusters' nodes and balancers included; put the clusters in a playbook of their own", strings.Join(clustered, ", "), strings.Join(plain, ", "))
	}
	ports := map[string]string{} // host:port -> app
	for _, c := range pb.Clusters() {
		for _, n := range c.Nodes {
			for _, other := range pb.Clusters() {
				if other.Balances(n.Host) {
					return pb.src.errorf("$.apps", "%s is a node of %s and the balancer of %s: give the balancers hosts of their own (a balancer is applied after its nodes, and a node before its balancer)", n.Host, c.App, other.App)
				}
			}
			key := fmt.Sprintf("%s:%d", n.Host, n.Port)
			if app, ok := ports[key]; ok {
				return pb.src.errorf("$.apps", "%s and %s both use port %d on %s: give one of them another port (nodes: [%s:PORT])", app, c.App, n.Port, n.Host, n.Host)
			}
			ports[key] = c.App
		}
	}
	return nil
}

// resolve is an inventory host, or the hosts of a group.
func (pb *Playbook) resolve(inv *Inventory, name, at string) ([]string, error) {
	if _, ok := inv.Hosts[name]; ok {
		return []string{name}, nil
	}
	if hs, ok := inv.Groups[name]; ok && len(hs) > 0 {
		return slices.Sorted(slices.Values(hs)), nil
	}
	var known []string
	for h := range inv.Hosts {
		known = append(known, h)
	}
	for g := range inv.Groups {
		known = append(known, g)
	}
	msg := fmt.Sprintf("%q is no host or group of the inventory", name)
	if s := didyoumean.Closest(name, known); s != "" {
		msg += fmt.Sprintf(": did you mean %s?", s)
	}
	return nil, pb.src.errorf(at, "%s", msg)
}

// Cluster is the app's cluster, nil for an app on every host.
func (a App) Cluster() *Cluster { return a.cluster }

// Clusters are the playbook's clusters, in playbook order.
func (pb *Playbook) Clusters() []*Cluster {
	var out []*Cluster
	for _, a := range pb.Apps {
		if a.cluster != nil {
			out = append(out, a.cluster)
		}
	}
	return out
}

// unbound refuses a cluster app that Bind has not resolved.
func (pb *Playbook) unbound() error {
	for _, a := range pb.Apps {
		if len(a.Nodes) > 0 && a.cluster == nil {
			return fmt.Errorf("app %s is a cluster, but its nodes were not resolved against an inventory", a.Name)
		}
	}
	return nil
}

// AppsOn are the apps whose configuration is on host: every app that is not a cluster, and a
// cluster's app on its nodes (with the node's port).
func (pb *Playbook) AppsOn(host string) []App {
	var out []App
	for _, a := range pb.Apps {
		if c := a.cluster; c != nil {
			n, ok := c.Node(host)
			if !ok {
				continue
			}
			a.Port = n.Port
		}
		out = append(out, a)
	}
	return out
}

// Proxied are the apps this host's Apache puts behind its public names: every app that is not a
// cluster, and a cluster's app on its balancers.
func (pb *Playbook) Proxied(host string) []App {
	var out []App
	for _, a := range pb.Apps {
		if c := a.cluster; c != nil && !c.Balances(host) {
			continue
		}
		out = append(out, a)
	}
	return out
}

// balancerOf is the cluster as the balancer's VirtualHost writes it.
func balancerOf(c *Cluster) *apache.Balancer {
	b := &apache.Balancer{Name: c.App, LBMethod: c.LBMethod}
	for _, n := range c.Nodes {
		b.Members = append(b.Members, apache.Member{URL: n.URL(), Route: n.Route})
	}
	return b
}

// ClusterRoles are the clusters host is a node of, and those it balances, for the rollout's
// ordering.
func (pb *Playbook) ClusterRoles(host string) (nodeOf, balancerOf []*Cluster) {
	for _, c := range pb.Clusters() {
		if _, ok := c.Node(host); ok {
			nodeOf = append(nodeOf, c)
		}
		if c.Balances(host) {
			balancerOf = append(balancerOf, c)
		}
	}
	return nodeOf, balancerOf
}
