// Command roundtrips applies a playbook to one lab host as `frontdoor apply` does (fleet.Rollout,
// one fork) and prints how many remote operations it made, counted twice as
// e2e.TestConvergedRoundTrips counts them: a wrapper around the host connection (commands, file
// reads, writes, removals) and the SSH transport's own counter (SSH commands and SFTP operations
// after connecting). scripts/bench runs it on a converged host.
//
//	go run ./internal/roundtrips -i /var/lib/frontdoor-lab/run/inventory.yaml -host jira1 playbooks/examples/jira-subdomain.yaml
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/frontdoor-dev/frontdoor/fleet"
	"github.com/frontdoor-dev/frontdoor/playbooks"
	"github.com/frontdoor-dev/frontdoor/session"
	"github.com/frontdoor-dev/frontdoor/ssh"
	"github.com/frontdoor-dev/frontdoor/target"
)

func main() {
	invPath := flag.String("i", "/var/lib/frontdoor-lab/run/inventory.yaml", "inventory")
	host := flag.String("host", "jira1", "inventory host")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: roundtrips [-i INVENTORY] [-host NAME] PLAYBOOK")
		os.Exit(2)
	}
	inv, err := playbooks.LoadInventory(*invPath)
	if err != nil {
		fail(err)
	}
	pb, err := playbooks.LoadPlaybook(flag.Arg(0))
	if err != nil {
		fail(err)
	}
	h := inv.Hosts[*host]
	if h == nil {
		fail(fmt.Errorf("no host %q in %s", *host, *invPath))
	}
	dial := func(ctx context.Context, h *playbooks.Host) (target.Conn, error) {
		cfg := ssh.Config{Name: h.Name, Address: h.Address, Port: h.Port, User: h.User, KnownHosts: inv.KnownHosts}
		if h.Key != "" {
			cfg.KeyFiles = []string{h.Key}
		}
		return ssh.Dial(ctx, cfg)
	}
	var wrapped *target.Counted
	wrap := func(c target.Conn) target.Conn { wrapped = &target.Counted{Conn: c}; return wrapped }
	now := time.Now()
	owner := fleet.Me(fleet.NewRunID(now), now)
	ro := &fleet.Rollout{Playbook: pb, Hosts: []*playbooks.Host{h}, Opts: session.Options{Dial: dial, Wrap: wrap},
		Forks: 1, Emit: fleet.NewEmitter(owner.Run), Owner: owner}
	start := time.Now()
	r := ro.Run(context.Background()).Hosts[0]
	elapsed := time.Since(start)
	if r.Err != nil {
		fail(fmt.Errorf("%s: %s: %v", *host, r.Status, r.Err))
	}
	fmt.Printf("host=%s status=%s changed=%d host_operations=%d transport_round_trips=%d wall=%s\n",
		*host, r.Status, r.Changed, wrapped.Ops(), r.Run.Conn.RoundTrips(), elapsed.Round(time.Millisecond))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "roundtrips:", err)
	os.Exit(1)
}
