package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/urfave/cli/v2"

	"github.com/frontdoor-dev/frontdoor/distro"
	"github.com/frontdoor-dev/frontdoor/fleet"
	"github.com/frontdoor-dev/frontdoor/playbooks"
	"github.com/frontdoor-dev/frontdoor/session"
	"github.com/frontdoor-dev/frontdoor/steps/verify"
)

func factsCommand() *cli.Command {
	return &cli.Command{
		Name:      "facts",
		Usage:     "print what frontdoor detects on each host (one remote command per host)",
		ArgsUsage: "[PLAYBOOK]",
		Flags:     append(connFlags(), jsonOutputFlag()),
		Action: func(c *cli.Context) error {
			text, err := textOutput(c)
			if err != nil {
				return err
			}
			l, err := load(c, false)
			if err != nil {
				return asExit(err)
			}
			if !text {
				l.out = c.App.ErrWriter // progress (-v) off stdout, which holds the one JSON document
			}
			// In inventory order, whichever host answers first.
			doc := factsDoc{V: 1, Command: "facts", Hosts: make([]factsHost, len(l.hosts))}
			var failed atomic.Int32
			fleet.Each(len(l.hosts), c.Int("forks"), func(i int) {
				h := l.hosts[i]
				doc.Hosts[i] = factsHost{Host: h.Name, Address: h.Address}
				fail := func(err error) {
					failed.Add(1)
					doc.Hosts[i].Error = explain(err)
					if text {
						l.printf("%s: ERROR: %s\n", h.Name, explain(err))
					}
				}
				conn, err := session.Connect(c.Context, h, l.opts)
				if err != nil {
					fail(err)
					return
				}
				defer conn.Close()
				var req distro.Request
				win := playbooks.DefaultWinTarget()
				if l.pb != nil {
					req, win = l.pb.Request(h.Name), l.pb.WinTarget(h.Name)
				}
				f, err := session.Gather(c.Context, conn, req, win)
				if err != nil {
					fail(err)
					return
				}
				doc.Hosts[i] = factsOf(h, f)
				doc.Hosts[i].Served = servedCerts(c.Context, l.pb, h, l.opts)
				if text {
					s := describe(h, f)
					for _, line := range doc.Hosts[i].Served {
						s += "  served certificate " + line + "\n"
					}
					l.printf("%s", s)
				}
			})
			if !text {
				if err := writeJSON(c.App.Writer, doc); err != nil {
					return asExit(err)
				}
			}
			if failed.Load() > 0 {
				return &exitErr{exitError, nil}
			}
			return nil
		},
	}
}

func describe(h *playbooks.Host, f *distro.Facts) string {
	s := fmt.Sprintf("%s (%s):\n  platform: %s\n  family: %s\n", h.Name, h.Address, f.Describe(), f.Family)
	if f.Family == distro.Windows {
		return s
	}
	s += fmt.Sprintf("  os: id=%s version=%s\n  kernel: %s\n  init: %s\n  login uid: %d\n  sftp-server: %s\n", f.OS.ID, f.OS.VersionID, f.Kernel, f.Init, f.UID, f.SFTPServer)
	var mods []string
	for _, m := range []string{"proxy", "proxy_http", "proxy_wstunnel", "rewrite", "remoteip"} {
		if f.Apache.Modules[m] {
			mods = append(mods, m)
		}
	}
	s += fmt.Sprintf("  apache: layout=%s running=%v version=%s proxy modules enabled=%v\n", f.Apache.Layout, f.Apache.Running, f.Apache.Version, mods)
	for _, p := range slices.Sorted(maps.Keys(f.Files)) {
		file := f.Files[p]
		s += fmt.Sprintf("  file %s: exists=%v mode=%v owner=%d:%d bytes=%d\n", p, file.Exists, file.Mode, file.UID, file.GID, len(file.Data))
	}
	for _, port := range slices.Sorted(maps.Keys(f.Listening)) {
		s += fmt.Sprintf("  listening: port %d\n", port)
	}
	if err := f.Supported(); err != nil {
		s += "  supported: no: " + err.Error() + "\n"
	} else {
		s += "  supported: yes\n"
	}
	return s
}

// servedCerts asks the host's Apache, over TLS with each https public name of the playbook as SNI,
// which certificate it serves, and whether that verifies for the name (system roots plus the
// app's tls.ca_file).
func servedCerts(ctx context.Context, pb *playbooks.Playbook, h *playbooks.Host, opts session.Options) []string {
	if pb == nil {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for _, a := range pb.Proxied(h.Name) {
		p := a.PublicFor(h.Name)
		origin := strings.TrimSuffix(p.BaseURL, p.ContextPath)
		if p.Scheme != "https" || seen[origin] {
			continue
		}
		seen[origin] = true
		t := verify.Target{App: a.Name, BaseURL: origin, Address: h.Address}
		if opts.HTTPDial != nil {
			t.Dial = opts.HTTPDial(h.Name)
		}
		roots, err := a.Roots()
		var line string
		if err == nil {
			t.RootCAs = roots
			line, err = verify.Served(ctx, t)
		}
		if err != nil {
			line = "none read: " + err.Error()
		}
		out = append(out, origin+": "+line)
	}
	return out
}
