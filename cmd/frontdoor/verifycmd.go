package main

import (
	"fmt"
	"sync/atomic"

	"github.com/urfave/cli/v2"

	"github.com/frontdoor-dev/frontdoor/fleet"
	"github.com/frontdoor-dev/frontdoor/session"
)

func verifyCommand() *cli.Command {
	return &cli.Command{
		Name:      "verify",
		Usage:     "check each app through the proxy: redirects stay on the public URL and the Base URL matches",
		ArgsUsage: "PLAYBOOK",
		Description: "Talks HTTP to each host's Apache with the public Host header; needs no SSH and no DNS\n" +
			"(with --set-base-url it connects over SSH: the admin's credentials only travel through it).\n" +
			"Exit status: 0 when every app verifies and its Base URL matches, 1 otherwise.",
		Flags: append(connFlags(), baseURLFlags()...),
		Action: func(c *cli.Context) error {
			l, err := load(c, true)
			if err != nil {
				return asExit(err)
			}
			if l.opts.SetBaseURL, err = credentials(c); err != nil {
				return asExit(err)
			}
			l.opts.VerifyWait = c.Duration("verify-wait")
			var failed atomic.Int32
			fleet.Each(len(l.hosts), c.Int("forks"), func(i int) {
				r := session.NewVerifyRun(l.pb, l.hosts[i], l.opts)
				if l.opts.SetBaseURL != nil {
					// The admin's credentials go only through the host's SSH connection.
					conn, err := session.Connect(c.Context, l.hosts[i], l.opts)
					if err != nil {
						l.printf("%s: FAILED: %s\n", r.Host.Name, explain(err))
						failed.Add(1)
						return
					}
					defer conn.Close()
					r.Conn = conn
				}
				if err := r.Verify(c.Context); err != nil {
					l.printf("%s: FAILED: %s\n", r.Host.Name, explain(err))
					failed.Add(1)
					return
				}
				printVerified(l.printf, r.Host.Name, fleet.VerifiedOf(l.pb, r))
				for _, v := range r.Verified {
					if v.BaseURLNote != "" && !v.BaseURLManual {
						failed.Add(1)
					}
				}
			})
			if n := failed.Load(); n > 0 {
				return &exitErr{exitError, fmt.Errorf("%d problem(s)", n)}
			}
			return nil
		},
	}
}
