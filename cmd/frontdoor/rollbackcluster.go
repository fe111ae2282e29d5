package main

import (
	"crypto/sha256"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/frontdoor-dev/frontdoor/ledger"
	"github.com/frontdoor-dev/frontdoor/playbooks"
	"github.com/frontdoor-dev/frontdoor/session"
)

// clusterUndo is what a rollback knows of the undone run's Data Center clusters.
type clusterUndo struct {
	*session.Rolling
	warnings []string
}

// rollbackClusters reads the clusters of the run being undone from its playbook (--playbook, else
// the one the ledger recorded, if it is unchanged), so that their nodes are rolled back the rolling
// way: one at a time, out of their balancers first, balancers last. nil: no playbook to read.
func rollbackClusters(c *cli.Context, l *loaded, run *ledger.Run) (*clusterUndo, error) {
	cu := &clusterUndo{}
	path := c.String("playbook")
	if path == "" {
		if run == nil || run.Playbook == "" {
			return nil, nil
		}
		b, err := os.ReadFile(run.Playbook)
		if err != nil || (run.PlaybookSHA256 != "" && fmt.Sprintf("%x", sha256.Sum256(b)) != run.PlaybookSHA256) {
			cu.warnings = append(cu.warnings, fmt.Sprintf("WARNING: the run's playbook %s is gone or has changed since: if it had Data Center clusters, their nodes are rolled back without being taken out of their balancers first; give --playbook FILE (the playbook as the run used it) to roll them back one at a time", run.Playbook))
			return cu, nil
		}
		path = run.Playbook
	}
	pb, err := playbooks.LoadPlaybook(path)
	if err != nil {
		return nil, usage(err)
	}
	if err := pb.Bind(l.inv); err != nil {
		return nil, usage(err)
	}
	if len(pb.Clusters()) == 0 {
		return cu, nil
	}
	var names []string
	for _, h := range l.hosts {
		names = append(names, h.Name)
	}
	cu.Rolling = session.NewRolling(pb, l.inv.Hosts, names, l.opts)
	return cu, nil
}
