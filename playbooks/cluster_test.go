package playbooks

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/frontdoor-dev/frontdoor/distro"
	"github.com/frontdoor-dev/frontdoor/target"
)

func clusterInventory(t *testing.T) *Inventory {
	t.Helper()
	p := filepath.Join(t.TempDir(), "inv.yaml")
	os.WriteFile(p, []byte(`hosts:
  lb1: {address: 10.0.0.1}
  node1: {address: 10.0.0.11}
  node2: {address: 10.0.0.12}
  node3: {address: 10.0.0.13}
  me: {connection: local}
groups:
  jira_nodes: {hosts: [node1, node2]}
`), 0o600)
	inv, err := LoadInventory(p)
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func TestClusterPlaybookErrors(t *testing.T) {
	inv := clusterInventory(t)
	cases := []struct{ name, yaml, want string }{
		{"no balancer", "apps:\n  - product: jira\n    url: http://j.example.com\n    nodes: [node1]\n", "pb.yaml:4:12: a cluster needs its balancer"},
		{"balancer alone", "apps:\n  - product: jira\n    url: http://j.example.com\n    balancer: [lb1]\n", "pb.yaml:4:15: balancer is for a cluster"},
		{"host var", "apps:\n  - product: jira\n    url: http://j.{{host}}.example.com\n    nodes: [node1]\n    balancer: [lb1]\n", "one public name"},
		{"lbmethod", "apps:\n  - product: jira\n    url: http://j.example.com\n    nodes: [node1]\n    balancer: [lb1]\n    lbmethod: random\n", "pb.yaml:6:15: lbmethod \"random\": write one of byrequests, bytraffic, bybusyness"},
		{"node port", "apps:\n  - product: jira\n    url: http://j.example.com\n    nodes: [node1:99999]\n    balancer: [lb1]\n", "port out of range"},
		{"unknown node", "apps:\n  - product: jira\n    url: http://j.example.com\n    nodes: [node9]\n    balancer: [lb1]\n", "pb.yaml:4:13: \"node9\" is no host or group of the inventory: did you mean node1?"},
		{"balancer is a node", "apps:\n  - product: jira\n    url: http://j.example.com\n    nodes: [jira_nodes]\n    balancer: [node2]\n", "node2 is both a node and the balancer of jira"},
		{"mixed", "apps:\n  - product: jira\n    url: http://j.example.com\n    nodes: [node1]\n    balancer: [lb1]\n  - product: confluence\n    url: http://c.example.com\n", "jira are Data Center clusters and confluence is not"},
		{"cross roles", "apps:\n  - product: jira\n    url: http://j.example.com\n    nodes: [node1]\n    balancer: [lb1]\n  - product: confluence\n    url: http://c.example.com\n    nodes: [lb1]\n    balancer: [node2]\n", "lb1 is a node of confluence and the balancer of jira"},
		{"one port", "apps:\n  - product: jira\n    url: http://j.example.com\n    nodes: [node1:8090]\n    balancer: [lb1]\n  - product: confluence\n    url: http://c.example.com\n    nodes: [node1]\n    balancer: [lb1]\n", "jira and confluence both use port 8090 on node1"},
		{"local node", "apps:\n  - product: jira\n    url: http://j.example.com\n    nodes: [me]\n    balancer: [lb1]\n", "node me has connection: local"},
		{"node twice", "apps:\n  - product: jira\n    url: http://j.example.com\n    nodes: [jira_nodes, node1]\n    balancer: [lb1]\n", "node1 is a node of jira twice"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pb, err := ParsePlaybook("pb.yaml", []byte(c.yaml))
			if err == nil {
				err = pb.Bind(inv)
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v\nwant it to contain %q", err, c.want)
			}
		})
	}
}

// TestClusterRoles: nodes get the app's configuration and no VirtualHost (and need no Apache);
// the balancer gets the VirtualHost with a member per node (a group's hosts, a node's own port)
// and no app; a host of neither gets nothing of the cluster.
func TestClusterRoles(t *testing.T) {
	inv := clusterInventory(t)
	pb, err := ParsePlaybook("pb.yaml", []byte("apps:\n  - product: jira\n    url: http://jira.example.com\n    nodes: [jira_nodes, node3:8081]\n    balancer: [lb1]\n    lbmethod: bybusyness\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := pb.Compile(&distro.Facts{Family: distro.Debian}, "node1"); err == nil || !strings.Contains(err.Error(), "not resolved") {
		t.Fatalf("compile before Bind: %v", err)
	}
	if err := pb.Bind(inv); err != nil {
		t.Fatal(err)
	}
	c := pb.Clusters()[0]
	if len(c.Nodes) != 3 || c.Nodes[2].Port != 8081 || c.Nodes[0].URL() != "http://10.0.0.11:8080" || c.Nodes[0].Route != "node1" {
		t.Fatalf("nodes: %+v", c.Nodes)
	}
	if a := pb.AppsOn("node3"); len(a) != 1 || a[0].Port != 8081 {
		t.Errorf("node3's apps: %+v", a)
	}
	if len(pb.VHosts("node3")) != 0 || len(pb.AppsOn("lb1")) != 0 || len(pb.VHosts("lb1")) != 1 {
		t.Errorf("roles: node3 vhosts %d, lb1 apps %d, lb1 vhosts %d", len(pb.VHosts("node3")), len(pb.AppsOn("lb1")), len(pb.VHosts("lb1")))
	}
	v := pb.VHosts("lb1")[0].Render()
	for _, want := range []string{
		"<Proxy balancer://jira>",
		"BalancerMember http://10.0.0.11:8080 route=node1 hcmethod=GET hcuri=/status hcexpr=frontdoor_up",
		"BalancerMember http://10.0.0.13:8081 route=node3 ",
		"ProxySet lbmethod=bybusyness stickysession=ROUTEID",
		"ProxyHCExpr frontdoor_up {%{REQUEST_STATUS} == 200 && hc('body') =~ /RUNNING/}",
		"ProxyPass /balancer-manager !\n",
		"    <Location /balancer-manager>\n        SetHandler balancer-manager\n        Require expr \"%{CONN_REMOTE_ADDR} -ipmatch '127.0.0.0/8' || %{CONN_REMOTE_ADDR} == '::1'\"\n    </Location>\n</VirtualHost>\n",
		"ProxyPass / balancer://jira/\n    ProxyPassReverse / balancer://jira/\n",
		`Header add Set-Cookie "ROUTEID=.%{BALANCER_WORKER_ROUTE}e; path=/; HttpOnly" env=BALANCER_ROUTE_CHANGED`,
	} {
		if !strings.Contains(v, want) {
			t.Errorf("the balancer's VirtualHost lacks %q:\n%s", want, v)
		}
	}
	// The manager's exclusion comes before the catch-all ProxyPass (first match wins).
	if strings.Index(v, "ProxyPass /balancer-manager !") > strings.Index(v, "ProxyPass / balancer://") {
		t.Errorf("ProxyPass / shadows balancer-manager:\n%s", v)
	}
	f := &distro.Facts{Family: distro.Debian, Files: map[string]target.File{}}
	for _, path := range pb.Request("node1").Files {
		f.Files[path] = target.File{Path: path}
	}
	ss, services, err := pb.Compile(f, "node1")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range ss {
		if strings.HasPrefix(s.Name(), "apache") {
			t.Errorf("a node got an Apache step: %s", s.Name())
		}
	}
	if len(services) != 1 || services[0].Name != "jira" {
		t.Errorf("a node's services: %v", services)
	}
}
