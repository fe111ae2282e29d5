package main

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/frontdoor-dev/frontdoor/playbooks"
)

func TestParseShard(t *testing.T) {
	for in, want := range map[string]shard{"": {}, "0/1": {0, 1}, "3/4": {3, 4}} {
		if got, err := parseShard(in); err != nil || got != want {
			t.Errorf("%q: %v %v, want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"4/4", "-1/4", "1", "1/0", "a/b", "1/4/5", " 1/4"} {
		if _, err := parseShard(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestShardsSplitTheFleet: every host is in exactly one shard, the shards are near even, and a
// host's shard does not move when others join the inventory.
func TestShardsSplitTheFleet(t *testing.T) {
	var hosts []*playbooks.Host
	for i := 1; i <= 1000; i++ {
		hosts = append(hosts, &playbooks.Host{Name: fmt.Sprintf("jira%d.example.com", i)})
	}
	seen := map[string]int{}
	for i := 0; i < 4; i++ {
		part := ofShard(hosts, shard{i, 4})
		if len(part) < 200 || len(part) > 300 {
			t.Errorf("shard %d/4 has %d of 1000 hosts", i, len(part))
		}
		for _, h := range part {
			seen[h.Name]++
		}
	}
	if len(seen) != 1000 {
		t.Errorf("%d hosts in the shards, want 1000", len(seen))
	}
	for h, n := range seen {
		if n != 1 {
			t.Errorf("%s in %d shards", h, n)
		}
	}
	before := shardOf("jira7.example.com", 4)
	more := append(hosts, &playbooks.Host{Name: "new.example.com"})
	for _, h := range ofShard(more, shard{before, 4}) {
		if h.Name == "jira7.example.com" {
			return
		}
	}
	t.Errorf("jira7 left shard %d when a host was added", before)
}

func TestLedgerTLSWarning(t *testing.T) {
	for loc, warn := range map[string]bool{
		"/var/lib/frontdoor/ledger.db":                                     false,
		"postgres://fd@127.0.0.1:5432/fd?sslmode=disable":                  false,
		"postgres://fd@localhost/fd":                                       false,
		"postgres://fd:pw@[::1]:5432/fd":                                   false,
		"postgres://fd@ledger-db/fd":                                       true,
		"postgres://fd:s3cret@ledger-db:5432/fd?sslmode=require":           true,
		"postgresql://fd@ledger-db/fd?sslmode=verify-full":                 false,
		"postgres://fd@10.0.0.5/fd?connect_timeout=5&sslmode=verify-ca":    false,
		"postgres://fd:1234#Zq9x@ledger-db/fd?application_name=x;sslmode=": true,
	} {
		w := ledgerTLSWarning(loc)
		if (w != "") != warn {
			t.Errorf("%s: warning %q, want one: %v", loc, w, warn)
		}
		if strings.Contains(w, "s3cret") || strings.Contains(w, "Zq9x") {
			t.Errorf("%s: the warning shows the password: %s", loc, w)
		}
	}
}

// TestShardsRefuseClusters: a playbook with a Data Center cluster is applied by one controller:
// shards could restart two of its nodes at once.
func TestShardsRefuseClusters(t *testing.T) {
	dir := t.TempDir()
	inv := dir + "/inv.yaml"
	writeTestFile(t, inv, "hosts:\n  jira1: {address: 192.0.2.1}\n  jira2: {address: 192.0.2.2}\n  jira3: {address: 192.0.2.3}\n  jira4: {address: 192.0.2.4}\n")
	_, err := run(t, "apply", "--yes", "--shard", "0/2", "--run-id", "20261203T000000Z-abcdef", "-i", inv, "../../playbooks/examples/clusters/jira-cluster.yaml")
	var ee *exitErr
	if !errors.As(err, &ee) || ee.code != exitUsage || !strings.Contains(err.Error(), "this playbook has Data Center clusters") {
		t.Errorf("--shard with a cluster: %v", err)
	}
}
