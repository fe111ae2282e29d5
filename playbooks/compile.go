package playbooks

import (
	"github.com/frontdoor-dev/frontdoor/distro"
	"github.com/frontdoor-dev/frontdoor/steps"
	"github.com/frontdoor-dev/frontdoor/steps/apache"
	"github.com/frontdoor-dev/frontdoor/steps/app"
)

// tomcat is app a as the app package models it, on one host.
func (pb *Playbook) tomcat(a App, host string) app.Tomcat {
	p := a.PublicFor(host)
	return app.Tomcat{
		Name: a.Name, Product: a.Product, Install: a.Install, Port: a.Port,
		ContextPath: p.ContextPath, Scheme: p.Scheme, ProxyName: p.Host, ProxyPort: p.Port,
		ReplacePlaceholders: pb.ReplacePlaceholders,
	}
}

// Request is what the gather must bring back for this playbook, on any family.
func (pb *Playbook) Request(host string) distro.Request {
	var r distro.Request
	for _, a := range pb.Apps {
		t := pb.tomcat(a, host)
		r.Files = append(r.Files, t.Files()...)
		r.PIDFiles = append(r.PIDFiles, t.PIDFile())
		r.Services = append(r.Services, a.Name)
	}
	r.Files = append(r.Files, apache.Files(pb.Apache.Site)...)
	return r
}

// Compile turns the playbook and one host's facts into the host's ordered steps and services:
// apps' configuration first (the guide's Part A), then Apache (Part B).
func (pb *Playbook) Compile(f *distro.Facts, host string) ([]steps.Step, []*steps.Service) {
	var ss []steps.Step
	var services []*steps.Service
	vh := apache.VHost{RemoteIP: pb.Apache.RemoteIP, Directives: pb.Apache.Directives}
	for _, a := range pb.Apps {
		t := pb.tomcat(a, host)
		ss = append(ss, t.Steps(f)...)
		services = append(services, t.Service(f))
		p := a.PublicFor(host)
		vh.ServerName, vh.Port = p.Host, p.Port
		vh.Backends = append(vh.Backends, apache.Backend{Name: a.Name, ContextPath: p.ContextPath, Port: a.Port})
	}
	ss = append(ss, apache.DebianSteps(f, pb.Apache.Site, vh)...)
	services = append([]*steps.Service{apache.DebianService(f, pb.Apache.Site, vh)}, services...)
	return ss, services
}
