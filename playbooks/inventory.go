package playbooks

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Inventory lists the hosts (frontdoor's YAML format).
type Inventory struct {
	KnownHosts string           `yaml:"known_hosts"`
	Hosts      map[string]*Host `yaml:"hosts"`

	src *source
}

// Host is one inventory entry.
type Host struct {
	Name       string         `yaml:"-"`
	Address    string         `yaml:"address"`
	Port       int            `yaml:"port"`
	User       string         `yaml:"user"`
	Key        string         `yaml:"key"`
	Connection string         `yaml:"connection"` // ssh (default) or local
	Vars       map[string]any `yaml:"vars"`
	// BecomePasswordFile holds the sudo password of a non-root user (first line). The environment
	// variable FRONTDOOR_BECOME_PASSWORD is the alternative; never the command line.
	BecomePasswordFile string `yaml:"become_password_file"`
}

// LoadInventory reads and validates an inventory.
func LoadInventory(path string) (*Inventory, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var inv Inventory
	src, err := decode(path, data, &inv)
	if err != nil {
		return nil, err
	}
	inv.src = src
	if len(inv.Hosts) == 0 {
		return nil, src.errorf("$", "no hosts: write hosts: with at least one entry, e.g.\n  hosts:\n    jira1:\n      address: 192.0.2.10")
	}
	dir := filepath.Dir(path)
	rel := func(p string) string {
		if p == "" || filepath.IsAbs(p) || strings.HasPrefix(p, "~") {
			return p
		}
		return filepath.Join(dir, p)
	}
	inv.KnownHosts = rel(inv.KnownHosts)
	for name, h := range inv.Hosts {
		at := "$.hosts." + name
		if h == nil {
			h = &Host{}
			inv.Hosts[name] = h
		}
		h.Name = name
		switch h.Connection {
		case "", "ssh":
			h.Connection = "ssh"
			if h.Address == "" {
				h.Address = name
			}
			if strings.ContainsAny(h.Address, " /") {
				return nil, src.errorf(at+".address", "address %q: write a host name or IP address", h.Address)
			}
			if net.ParseIP(h.Address) == nil && !hostnameR.MatchString(h.Address) {
				return nil, src.errorf(at+".address", "address %q is neither an IP address nor a host name", h.Address)
			}
		case "local":
		default:
			return nil, src.errorf(at+".connection", "connection %q: write ssh or local", h.Connection)
		}
		if h.Port == 0 {
			h.Port = 22
		}
		if h.Port < 1 || h.Port > 65535 {
			return nil, src.errorf(at+".port", "port %d is out of range 1..65535", h.Port)
		}
		if h.User == "" {
			h.User = "root"
		}
		h.Key = rel(h.Key)
		h.BecomePasswordFile = rel(h.BecomePasswordFile)
	}
	return &inv, nil
}

// Names returns the host names in order.
func (inv *Inventory) Names() []string {
	var out []string
	for n := range inv.Hosts {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Select returns the hosts whose names match pattern ("" or "all": every host; else a
// comma-separated list of names or shell globs).
func (inv *Inventory) Select(pattern string) ([]*Host, error) {
	var out []*Host
	for _, n := range inv.Names() {
		if pattern == "" || pattern == "all" {
			out = append(out, inv.Hosts[n])
			continue
		}
		for _, p := range strings.Split(pattern, ",") {
			if ok, _ := filepath.Match(strings.TrimSpace(p), n); ok {
				out = append(out, inv.Hosts[n])
				break
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--limit %q matches no host of the inventory (hosts: %s)", pattern, strings.Join(inv.Names(), ", "))
	}
	return out, nil
}

// becomePassword reads the sudo password, from the file or the environment; nil when none.
func (h *Host) becomePassword() ([]byte, error) {
	if h.BecomePasswordFile != "" {
		b, err := os.ReadFile(h.BecomePasswordFile)
		if err != nil {
			return nil, fmt.Errorf("%s: become_password_file: %w", h.Name, err)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		return []byte(strings.TrimRight(line, "\r")), nil
	}
	if v, ok := os.LookupEnv("FRONTDOOR_BECOME_PASSWORD"); ok {
		return []byte(v), nil
	}
	return nil, nil
}
