package playbooks

import (
	"fmt"
	"slices"

	"github.com/frontdoor-dev/frontdoor/distro"
	"github.com/frontdoor-dev/frontdoor/steps"
	"github.com/frontdoor-dev/frontdoor/steps/apache"
	"github.com/frontdoor-dev/frontdoor/steps/app"
)

// instance is app a as the app package models it, on one host (with the Windows install, home
// and service, as SFTP paths, on a Windows host).
func (pb *Playbook) instance(a App, host string, windows bool) app.App {
	p := a.PublicFor(host)
	out := app.App{
		Product: app.Products[a.Product], Name: a.Name, Install: a.Install, Home: a.Home, Port: a.Port,
		ContextPath: p.ContextPath, Scheme: p.Scheme, ProxyName: p.Host, ProxyPort: p.Port,
		ReplacePlaceholders: pb.ReplacePlaceholders, ServiceName: a.Name, StartTimeout: a.StartTimeout,
	}
	if windows {
		out.Install, out.Home, out.ServiceName, out.Windows = distro.SFTPPath(a.WindowsInstall), distro.SFTPPath(a.WindowsHome), a.WindowsService, true
	}
	return out
}

// FileEditor is the edit of app i's configuration file for an inventory host, as apply makes
// it, for a file at hand (frontdoor config edit). Bitbucket's file is bitbucket.properties
// unless properties is false (its 4.x server.xml).
func (pb *Playbook) FileEditor(i int, host string, properties bool) (func([]byte) ([]byte, error), error) {
	if err := pb.CheckHost(host); err != nil {
		return nil, err
	}
	inst := pb.instance(pb.Apps[i], host, false)
	if inst.Config == app.BitbucketProperties && !properties {
		inst.Config = app.ServerXML
	}
	return inst.Editor(), nil
}

// windows is where Apache is on this playbook's Windows hosts.
func (pb *Playbook) windows() apache.Windows {
	return apache.Windows{Root: pb.Apache.WindowsRoot, Service: pb.Apache.WindowsService}
}

// WinTarget is what the gather of a Windows host must bring back for this playbook.
func (pb *Playbook) WinTarget(host string) *WinTarget {
	r := pb.appsRequest(host, true)
	r.Files = append(r.Files, pb.windows().Files(pb.vhosts(host))...)
	var detect []string
	for _, a := range pb.AppsOn(host) {
		detect = append(detect, a.Product)
	}
	return &WinTarget{Request: r, ApacheRoot: pb.Apache.WindowsRoot, ApacheService: pb.Apache.WindowsService, Detect: detect}
}

// VHosts are the VirtualHosts the playbook asks for on host, before the host's facts complete
// them (the checks before any change read their names, ports and features).
func (pb *Playbook) VHosts(host string) []apache.VHost { return pb.vhosts(host) }

// vhosts groups the apps by public host name and port: one VirtualHost each, in playbook order.
func (pb *Playbook) vhosts(host string) []apache.VHost {
	var out []apache.VHost
	index := map[string]int{}
	for _, a := range pb.Proxied(host) {
		p := a.PublicFor(host)
		key := fmt.Sprintf("%s:%d", p.Host, p.Port)
		i, ok := index[key]
		if !ok {
			i = len(out)
			index[key] = i
			out = append(out, apache.VHost{ServerName: p.Host, Port: p.Port, RemoteIP: pb.Apache.RemoteIP, Directives: pb.Apache.Directives})
			if t := a.TLS; t != nil && p.Scheme == "https" {
				// The files' paths on the host are filled in by tlsFor, once the layout is known.
				out[i].TLS = &apache.TLS{Redirect: t.Redirect(), HSTS: t.HSTS,
					CertFile: hostPath(t.CertificatePath, host), KeyFile: hostPath(t.KeyPath, host), ChainFile: hostPath(t.ChainPath, host)}
			}
		}
		be := apache.Backend{Name: a.Name, ContextPath: p.ContextPath, Port: a.Port, SynchronyPort: a.ProxiedSynchronyPort(), TrailingSlash: a.TrailingSlash}
		if c := a.cluster; c != nil {
			// Synchrony of a Data Center cluster runs apart from the nodes (not proxied here).
			be.Balancer, be.Port, be.SynchronyPort = balancerOf(c), 0, 0
		}
		out[i].Backends = append(out[i].Backends, be)
	}
	return out
}

// appsRequest is what the apps' steps read: their files, ports and services, on a POSIX or a
// Windows host.
func (pb *Playbook) appsRequest(host string, windows bool) distro.Request {
	var r distro.Request
	for _, a := range pb.AppsOn(host) {
		inst := pb.instance(a, host, windows)
		r.Files = append(r.Files, inst.Files()...)
		r.Ports = append(r.Ports, a.Port)
		r.Services = append(r.Services, inst.ServiceName)
	}
	return r
}

// Request is what the gather must bring back for this playbook.
func (pb *Playbook) Request(host string) distro.Request {
	r := pb.appsRequest(host, false)
	// Both families' paths: the family is only known once the gather has run.
	for _, v := range pb.vhosts(host) {
		r.Files = append(r.Files, apache.SitePath(v), apache.RedHatVHostPath(v))
		if t := v.TLS; t != nil {
			old := apache.PlainSite(v) // an earlier http apply's vhost
			r.Files = append(r.Files, apache.SitePath(old), apache.RedHatVHostPath(old))
			if t.CertFile != "" { // the admin's files on the host, checked before any change
				r.Files = append(r.Files, t.CertFile, t.KeyFile)
				if t.ChainFile != "" {
					r.Files = append(r.Files, t.ChainFile)
				}
				continue
			}
			for _, layout := range []string{"debian", "redhat"} {
				p := apache.CertPaths(layout, apache.Windows{}, v.Site())
				// With acme: its server's roots and mod_md's store.
				r.Files = append(r.Files, p.Cert, p.Key, apache.ACMECAPath(layout, v.Site()), apache.MDStoreFile(layout))
			}
		}
	}
	r.Files = append(r.Files, apache.ModulesFile)
	return r
}

// Compile turns the playbook and one host's facts into the host's ordered steps and services:
// the apps' configuration first (the guide's Part A), then Apache (Part B).
func (pb *Playbook) Compile(f *distro.Facts, host string) ([]steps.Step, []*steps.Service, error) {
	if err := pb.unbound(); err != nil {
		return nil, nil, err
	}
	var ss []steps.Step
	var services []*steps.Service
	win := f.Family == distro.Windows
	for _, a := range pb.AppsOn(host) {
		inst := pb.instance(a, host, win)
		as, err := inst.Steps(f)
		if err != nil {
			return nil, nil, err
		}
		ss = append(ss, as...)
		services = append(services, inst.Service(f))
	}
	if len(pb.vhosts(host)) == 0 {
		// Only a cluster's nodes here: their balancer is another host's Apache.
		return ss, services, nil
	}
	vhosts, certSteps, err := pb.tlsFor(f, host, apache.ForHost(f, pb.vhosts(host)))
	if err != nil {
		return nil, nil, err
	}
	ss = append(ss, certSteps...)
	aps, httpd := apache.For(f, vhosts, pb.windows())
	ss = append(ss, aps...)
	fw, err := pb.firewallSteps(f, vhosts)
	if err != nil {
		return nil, nil, err
	}
	ss = append(ss, fw...)
	services = append([]*steps.Service{httpd}, services...)
	return ss, services, nil
}

// PublicPorts are the ports clients reach Apache on for these vhosts: each one's, and 80 for an
// https name that redirects from http.
func PublicPorts(vhosts []apache.VHost) []int {
	var ports []int
	for _, v := range vhosts {
		ports = append(ports, v.Port)
		if v.TLS != nil && v.TLS.Redirect {
			ports = append(ports, 80)
		}
	}
	slices.Sort(ports)
	return slices.Compact(ports)
}

// firewallSteps open the public ports an active ufw or firewalld closes, when the playbook says
// open_firewall (else preflight warns). A port an admin's rule denies is refused: frontdoor does
// not override it.
func (pb *Playbook) firewallSteps(f *distro.Facts, vhosts []apache.VHost) ([]steps.Step, error) {
	fw := f.Firewall
	if !pb.Apache.OpenFirewall || !fw.Active {
		return nil, nil
	}
	var out []steps.Step
	for _, port := range PublicPorts(vhosts) {
		blocked, rule := fw.Blocks(port)
		if rule != "" {
			return nil, fmt.Errorf("ufw's rule %q denies port %d, which Apache must answer on: frontdoor does not override an admin's rule; remove it (ufw status numbered, then ufw delete N) or change the playbook's port", rule, port)
		}
		reason := "already open"
		if blocked {
			reason = fw.Kind + " is active and closes it: open it (open_firewall)"
		}
		out = append(out, &steps.CommandStep{Label: fmt.Sprintf("firewall: port %d/tcp (%s)", port, fw.Kind), Done: !blocked,
			Reason: reason, Command: fw.OpenCommand(port), Undo: fw.CloseCommand(port)})
	}
	return out, nil
}

// Notes are the manual checks the guide's Part C asks for, from one host's facts: compression in
// the apps' Connectors, and compression on the proxy (mod_deflate) together with the apps' own.
func (pb *Playbook) Notes(f *distro.Facts, host string) []string {
	var notes []string
	compressing := false
	for _, a := range pb.AppsOn(host) {
		inst := pb.instance(a, host, f.Family == distro.Windows)
		notes = append(notes, inst.Notes(f)...)
	}
	for _, a := range pb.Proxied(host) { // the Apache that compresses is this host's
		compressing = compressing || a.Product == "jira" || a.Product == "confluence"
	}
	notes = append(notes, pb.tlsNotes(f, host)...)
	if compressing && f.Apache.Modules["deflate"] {
		notes = append(notes, "Apache compresses responses (mod_deflate is enabled): the guide recommends disabling HTTP compression in Jira "+
			"(Administration > System > General configuration > Use gzip compression: OFF) and Confluence "+
			"(General Configuration > Compress HTTP responses: off), so responses are not compressed twice")
	}
	return notes
}

// WinTarget is what a Windows host's gather asks for (its paths differ from the POSIX request's).
type WinTarget struct {
	Request                   distro.Request
	ApacheRoot, ApacheService string
	Detect                    []string // products whose Windows services are looked for
	// Known: the host is already known to be Windows, so the POSIX attempt is skipped.
	Known bool
}

// DefaultWinTarget is the Windows gather of commands without a playbook (facts, rollback,
// unlock): Apache where Apache Lounge puts it, no files.
func DefaultWinTarget() *WinTarget {
	return &WinTarget{ApacheRoot: DefaultWindowsRoot, ApacheService: DefaultWindowsService}
}
