// Package preflight owns the checks made on each host before any change, from its facts and from
// the controller: does each public name resolve (and to this host), is each public port free or
// Apache's, does each app answer on its port, is there room for backups and journals, is the
// host's clock close to the controller's, is Apache recent enough for what the playbook uses,
// SELinux's state, and what an ACME CA's validation will need. Each result is OK, WARNING or
// ERROR with what to do; an ERROR refuses the host before anything is changed on it.
package preflight

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/frontdoor-dev/frontdoor/distro"
	"github.com/frontdoor-dev/frontdoor/internal/dnsq"
	"github.com/frontdoor-dev/frontdoor/playbooks"
	"github.com/frontdoor-dev/frontdoor/steps/apache"
)

// Level is how serious a result is.
type Level string

const (
	OK      Level = "OK"
	Warning Level = "WARNING"
	Error   Level = "ERROR"
)

// Result is one check's outcome.
type Result struct {
	Check   string `json:"check"` // "dns jira.example.com", "port 80", "disk /var/lib", ...
	Level   Level  `json:"level"`
	Message string `json:"message"`
}

func (r Result) String() string { return fmt.Sprintf("%-7s %s: %s", r.Level, r.Check, r.Message) }

// Input is what the checks look at for one host.
type Input struct {
	Playbook *playbooks.Playbook
	Facts    *distro.Facts
	Host     string // inventory name
	Address  string // where the controller reaches it
	// Resolver is the DNS server (host:port) to ask for the public names; "" for the controller's.
	Resolver string
	// Sent and Received bound when the host read its clock (the gather's round trip).
	Sent, Received time.Time
}

// Thresholds.
const (
	MinFree      = 100 << 20 // bytes free where backups, journals and configuration go
	SkewWarning  = 60 * time.Second
	SkewError    = 5 * time.Minute // TLS, ACME and the journals' times break past minutes
	lookupBudget = 3 * time.Second
)

// Run makes every check for one host.
func Run(ctx context.Context, in Input) []Result {
	var out []Result
	vhosts := in.Playbook.VHosts(in.Host)
	out = append(out, dnsChecks(ctx, in, vhosts)...)
	out = append(out, portChecks(in.Facts, vhosts)...)
	out = append(out, appChecks(in)...)
	out = append(out, diskChecks(in.Facts)...)
	out = append(out, clockCheck(in)...)
	out = append(out, versionChecks(in, vhosts)...)
	if len(vhosts) > 0 { // a cluster's node alone: its Apache is not used
		out = append(out, selinuxCheck(in.Facts)...)
	}
	out = append(out, firewallChecks(in, vhosts)...)
	for _, n := range in.Playbook.ACMEChecks(ctx, in.Facts, in.Host, in.Address, in.Resolver) {
		out = append(out, Result{"acme", Warning, strings.TrimPrefix(n, "acme: ")})
	}
	return out
}

// Errors are a host's ERROR results, as the error that refuses it.
type Errors []Result

func (e Errors) Error() string {
	var b strings.Builder
	b.WriteString("refused before any change by the preflight checks:")
	for _, r := range e {
		b.WriteString("\n  " + string(r.Level) + " " + r.Check + ": " + r.Message)
	}
	return b.String()
}

// Failed returns the ERROR results (and, when strict, the WARNING ones too) as an error, or nil.
func Failed(rs []Result, strict bool) error {
	var bad Errors
	for _, r := range rs {
		if r.Level == Error || (strict && r.Level == Warning) {
			bad = append(bad, r)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return bad
}

func dnsChecks(ctx context.Context, in Input, vhosts []apache.VHost) []Result {
	var out []Result
	seen := map[string]bool{}
	via := "the controller's DNS"
	if in.Resolver != "" {
		via = "the DNS server " + in.Resolver
	}
	lctx, cancel := context.WithTimeout(ctx, lookupBudget)
	mine := dnsq.HostAddresses(lctx, in.Resolver, in.Address)
	cancel()
	for _, v := range vhosts {
		if seen[v.ServerName] {
			continue
		}
		seen[v.ServerName] = true
		check := "dns " + v.ServerName
		lctx, cancel := context.WithTimeout(ctx, lookupBudget)
		found, err := dnsq.Resolve(lctx, in.Resolver, v.ServerName)
		cancel()
		switch {
		case err != nil:
			why := err.Error()
			var dnsErr *net.DNSError
			if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
				why = "no such name"
			}
			out = append(out, Result{check, Warning, fmt.Sprintf("does not resolve by %s (%s): users cannot reach %s until its DNS record points to this host (%s) or its load balancer; add the record (or set dns_resolver to the DNS your users see)",
				via, why, v.ServerName, in.Address)})
		case !slices.ContainsFunc(found, func(a string) bool { return slices.Contains(mine, a) }):
			out = append(out, Result{check, Warning, fmt.Sprintf("resolves to %s by %s, not to this host (%s): users reach %s; if that is a load balancer in front of this host this is expected, else fix the record",
				strings.Join(found, ", "), via, in.Address, strings.Join(found, ", "))})
		default:
			out = append(out, Result{check, OK, "resolves to " + strings.Join(found, ", ") + " (this host)"})
		}
	}
	return out
}

// apacheNames are the program names Apache runs as.
var apacheNames = []string{"apache2", "httpd", "httpd.exe"}

func portChecks(f *distro.Facts, vhosts []apache.VHost) []Result {
	if f.PortHolders == nil {
		return nil // no ss on the host (or Windows): not known
	}
	ports := map[int]bool{}
	for _, v := range vhosts {
		ports[v.Port] = true
		if v.TLS != nil && v.TLS.Redirect {
			ports[80] = true
		}
	}
	var out []Result
	for _, p := range slices.Sorted(maps.Keys(ports)) {
		holders, listening := f.PortHolders[p]
		check := fmt.Sprintf("port %d", p)
		others := slices.DeleteFunc(slices.Clone(holders), func(h string) bool { return slices.Contains(apacheNames, h) })
		switch {
		case !listening:
			out = append(out, Result{check, OK, "free: Apache will listen on it"})
		case len(others) > 0:
			out = append(out, Result{check, Error, fmt.Sprintf("taken by %s, not Apache: Apache could not start on it; stop that program or move it to another port (or publish the apps on another port), then run frontdoor again",
				strings.Join(others, ", "))})
		case len(holders) == 0:
			out = append(out, Result{check, Warning, "something listens on it, but ss did not say what: if it is not Apache, Apache will not start"})
		default:
			out = append(out, Result{check, OK, "Apache's (" + strings.Join(holders, ", ") + ")"})
		}
	}
	return out
}

func appChecks(in Input) []Result {
	var out []Result
	for _, a := range in.Playbook.AppsOn(in.Host) {
		check := fmt.Sprintf("app %s", a.Name)
		if in.Facts.Listening[a.Port] {
			out = append(out, Result{check, OK, fmt.Sprintf("answers on port %d", a.Port)})
			continue
		}
		out = append(out, Result{check, Warning, fmt.Sprintf("nothing listens on port %d: %s is stopped or on another port (set port: in the playbook); frontdoor starts it after the change, and verification fails if it does not answer there", a.Port, a.Name)})
	}
	return out
}

func diskChecks(f *distro.Facts) []Result {
	var out []Result
	state := distro.StateDir // where backups and journals go; /var/lib before the first run
	if _, ok := f.DiskFree[state]; !ok {
		state = "/var/lib"
	}
	for _, d := range []string{state, "/etc"} {
		free, ok := f.DiskFree[d]
		if !ok {
			continue
		}
		check := "disk " + d
		if free < MinFree {
			out = append(out, Result{check, Error, fmt.Sprintf("only %d MiB free where %s is: backups, journals and the new configuration need room (at least %d MiB); free some space, then run frontdoor again",
				free>>20, d, MinFree>>20)})
		} else {
			out = append(out, Result{check, OK, fmt.Sprintf("%d MiB free", free>>20)})
		}
	}
	return out
}

func clockCheck(in Input) []Result {
	if in.Facts.Clock == 0 || in.Sent.IsZero() {
		return nil
	}
	host := time.Unix(in.Facts.Clock, 0)
	// The host read its clock, to the second, between Sent and Received.
	from, to := in.Sent.Truncate(time.Second), in.Received.Truncate(time.Second).Add(time.Second)
	var skew time.Duration
	switch {
	case host.Before(from):
		skew = host.Sub(from)
	case host.After(to):
		skew = host.Sub(to)
	}
	what := "behind"
	if skew > 0 {
		what = "ahead of"
	}
	abs := skew.Abs().Round(time.Second)
	switch {
	case abs >= SkewError:
		return []Result{{"clock", Error, fmt.Sprintf("the host's clock is %s %s this controller's: certificates look expired or not yet valid, ACME fails, and the journals' times mislead; set the time (timedatectl set-ntp true, or chrony/ntp), then run frontdoor again", abs, what)}}
	case abs >= SkewWarning:
		return []Result{{"clock", Warning, fmt.Sprintf("the host's clock is %s %s this controller's: turn on time synchronisation (timedatectl set-ntp true)", abs, what)}}
	}
	return []Result{{"clock", OK, "within a second of this controller's"}}
}

// firewallChecks: is each public port open in an active ufw or firewalld? Closed, clients (and
// the verification) cannot reach Apache: a WARNING saying how to open it, unless open_firewall
// will; a port an admin's rule denies is an ERROR (frontdoor does not override it).
func firewallChecks(in Input, vhosts []apache.VHost) []Result {
	fw := in.Facts.Firewall
	if !fw.Active {
		return nil
	}
	var out []Result
	for _, port := range playbooks.PublicPorts(vhosts) {
		check := fmt.Sprintf("firewall %d/tcp", port)
		blocked, rule := fw.Blocks(port)
		switch {
		case rule != "":
			out = append(out, Result{check, Error, fmt.Sprintf("%s's rule %q denies it: remove that rule (ufw status numbered, then ufw delete N), then run frontdoor again", fw.Kind, rule)})
		case !blocked:
			out = append(out, Result{check, OK, "open in " + fw.Kind})
		case in.Playbook.Apache.OpenFirewall:
			out = append(out, Result{check, OK, fmt.Sprintf("closed by %s: open_firewall opens it (%s)", fw.Kind, fw.OpenCommand(port))})
		default:
			out = append(out, Result{check, Warning, fmt.Sprintf("closed by %s (active): clients will not reach Apache, and verification through the proxy will fail; set apache: {open_firewall: true}, or run: %s",
				fw.Kind, fw.OpenCommand(port))})
		}
	}
	return out
}

// versionChecks are Apache's version against what the vhosts use (the compile refuses them too,
// but here they are said together, before any change, with the others).
func versionChecks(in Input, vhosts []apache.VHost) []Result {
	f := in.Facts
	if f.Apache.Version == "" {
		return nil
	}
	var out []Result
	need := func(feature string, major, minor, patch int, used bool) {
		if !used {
			return
		}
		check := "apache " + feature
		if !apache.VersionAtLeast(f.Apache.Version, major, minor, patch) {
			out = append(out, Result{check, Error, fmt.Sprintf("%s needs Apache %d.%d.%d or later; this host has %s: upgrade Apache (the distribution's package), then run frontdoor again",
				feature, major, minor, patch, f.Apache.Version)})
		} else {
			out = append(out, Result{check, OK, fmt.Sprintf("Apache %s (%s needs %d.%d.%d)", f.Apache.Version, feature, major, minor, patch)})
		}
	}
	var sync, tls, md, balance bool
	for _, v := range vhosts {
		sync = sync || v.Synchrony()
		balance = balance || v.Balancing()
		tls = tls || v.TLS != nil
	}
	for _, a := range in.Playbook.Proxied(in.Host) {
		md = md || (a.TLS != nil && a.TLS.ACME != nil && a.PublicFor(in.Host).Scheme == "https")
	}
	need("Synchrony over WebSocket", 2, 4, 10, sync)
	need("https", 2, 4, 8, tls)
	need("mod_md (acme)", 2, 4, 30, md)
	need("mod_proxy_hcheck (cluster)", 2, 4, 21, balance)
	return out
}

func selinuxCheck(f *distro.Facts) []Result {
	switch {
	case f.SELinux.Mode == "":
		return nil
	case !f.SELinux.Active():
		return []Result{{"selinux", OK, "SELinux is " + strings.ToLower(f.SELinux.Mode)}}
	case f.SELinux.NetworkConnect:
		return []Result{{"selinux", OK, "SELinux " + strings.ToLower(f.SELinux.Mode) + ", httpd_can_network_connect on"}}
	}
	return []Result{{"selinux", OK, "SELinux " + strings.ToLower(f.SELinux.Mode) + ": frontdoor turns httpd_can_network_connect on (setsebool -P)"}}
}
