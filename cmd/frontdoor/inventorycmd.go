package main

import (
	"encoding/json"
	"fmt"
	"regexp"

	"github.com/urfave/cli/v2"

	"github.com/frontdoor-dev/frontdoor/playbooks"
)

// inventoryCommand prints the inventory as frontdoor resolved it, in the shape of
// ansible-inventory --list / --host, so a user can check what each host will get before any
// connection. Secrets are never printed.
func inventoryCommand() *cli.Command {
	return &cli.Command{
		Name:      "inventory",
		Usage:     "print the resolved hosts and settings as JSON (like ansible-inventory --list / --host)",
		UsageText: "frontdoor inventory -i INVENTORY [-i INVENTORY...] [--limit PATTERN] --list\n   frontdoor inventory -i INVENTORY --host HOST",
		Flags: []cli.Flag{
			&cli.GenericFlag{Name: "inventory", Aliases: []string{"i"}, Value: &inventoryList{}, Required: true,
				Usage: "inventory `FILE` or directory; repeat -i to merge several"},
			&cli.StringFlag{Name: "limit", Aliases: []string{"l"}, Usage: "only hosts matching `PATTERN` (with --list)"},
			&cli.BoolFlag{Name: "list", Usage: "every host with its settings, and the groups"},
			&cli.StringFlag{Name: "host", Usage: "one `HOST`'s settings"},
		},
		Action: func(c *cli.Context) error {
			if c.Bool("list") == (c.String("host") != "") {
				return fmt.Errorf("give --list or --host HOST, e.g. frontdoor inventory -i hosts.ini --list")
			}
			inv, err := playbooks.LoadInventories(inventories(c)...)
			if err != nil {
				return err
			}
			var out any
			if h := c.String("host"); h != "" {
				host, ok := inv.Hosts[h]
				if !ok {
					return fmt.Errorf("--host %s: no such host in the inventory (frontdoor inventory -i INVENTORY --list lists them)", h)
				}
				out = hostJSON(host)
			} else {
				hosts, err := inv.Select(c.String("limit"))
				if err != nil {
					return fmt.Errorf("--limit %w", err)
				}
				out = listJSON(inv, hosts)
			}
			b, err := json.MarshalIndent(out, "", "    ")
			if err != nil {
				return err
			}
			fmt.Fprintln(c.App.Writer, string(b))
			return nil
		},
	}
}

// hostSettings is one host as frontdoor will reach it.
type hostSettings struct {
	Address            string         `json:"address,omitempty"`
	Port               int            `json:"port,omitempty"`
	User               string         `json:"user,omitempty"`
	Key                string         `json:"key,omitempty"`
	Connection         string         `json:"connection"`
	ProxyJump          string         `json:"proxy_jump,omitempty"`
	Become             bool           `json:"become"`
	BecomeUser         string         `json:"become_user,omitempty"`
	BecomePassword     string         `json:"become_password,omitempty"`
	BecomePasswordFile string         `json:"become_password_file,omitempty"`
	Groups             []string       `json:"groups"`
	Vars               map[string]any `json:"vars"`
}

// secretVar names variables whose values are not printed (as diffs mask them).
var secretVar = regexp.MustCompile(`(?i)password|passwd|pwd|secret|token|credential|_pass$`)

func hostJSON(h *playbooks.Host) hostSettings {
	s := hostSettings{Connection: h.Connection, Become: h.Become, Groups: append([]string{}, h.Groups...), Vars: map[string]any{}}
	if h.Connection != "local" {
		s.Address, s.Port, s.User, s.Key, s.ProxyJump = h.Address, h.Port, h.User, h.Key, h.ProxyJump
	}
	if h.Become {
		s.BecomeUser = "root"
		// The password itself is never printed: only that there is one, and from where.
		switch h.BecomePasswordSource() {
		case "file":
			s.BecomePassword, s.BecomePasswordFile = "(set)", h.BecomePasswordFile
		case "inventory":
			s.BecomePassword = "(set)"
		case "environment":
			s.BecomePassword = "(set: FRONTDOOR_BECOME_PASSWORD)"
		}
	}
	for k, v := range h.Vars {
		if secretVar.MatchString(k) {
			v = "(set)"
		}
		s.Vars[k] = v
	}
	return s
}

// listJSON is ansible-inventory --list's shape: _meta.hostvars, then each group with its own
// hosts and child groups ("all" with the top-level groups).
func listJSON(inv *playbooks.Inventory, hosts []*playbooks.Host) map[string]any {
	chosen := map[string]bool{}
	hv := map[string]hostSettings{}
	for _, h := range hosts {
		chosen[h.Name] = true
		hv[h.Name] = hostJSON(h)
	}
	out := map[string]any{"_meta": map[string]any{"hostvars": hv}}
	type group struct {
		Hosts    []string `json:"hosts,omitempty"`
		Children []string `json:"children,omitempty"`
	}
	for g, members := range inv.Groups {
		n := 0
		for _, m := range members {
			if chosen[m] {
				n++
			}
		}
		if n == 0 && g != "all" {
			continue
		}
		var gr group
		for _, h := range inv.DirectHosts[g] {
			if chosen[h] {
				gr.Hosts = append(gr.Hosts, h)
			}
		}
		for _, c := range inv.Children[g] {
			for _, m := range inv.Groups[c] {
				if chosen[m] {
					gr.Children = append(gr.Children, c)
					break
				}
			}
		}
		out[g] = gr
	}
	return out
}
