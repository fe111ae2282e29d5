package app

import (
	"fmt"
	"path"

	"github.com/frontdoor-dev/frontdoor/distro"
	"github.com/frontdoor-dev/frontdoor/steps"
	"github.com/frontdoor-dev/frontdoor/steps/xmledit"
)

// Tomcat describes one Tomcat-based application install (Jira in this version).
type Tomcat struct {
	Name        string // service name and trigger, e.g. "jira"
	Product     string // "jira"
	Install     string // /opt/atlassian/jira
	Port        int    // the HTTP Connector's port
	ContextPath string // "" or "/jira"
	Scheme      string // public scheme
	ProxyName   string // public host name
	ProxyPort   int    // public port
	// ReplacePlaceholders lets frontdoor overwrite ${...} values in server.xml.
	ReplacePlaceholders bool
}

// ServerXML is the path of the install's server.xml.
func (t Tomcat) ServerXML() string { return path.Join(t.Install, "conf", "server.xml") }

// PIDFile is where Atlassian's setenv.sh has catalina.sh keep Tomcat's PID.
func (t Tomcat) PIDFile() string { return path.Join(t.Install, "work", "catalina.pid") }

// Files lists what the steps read, for the gather.
func (t Tomcat) Files() []string { return []string{t.ServerXML()} }

// Steps returns the server.xml step; it triggers the app's stop/start.
func (t Tomcat) Steps(f *distro.Facts) []steps.Step {
	ctx := t.ContextPath
	edit := xmledit.TomcatEdit{
		ContextPath:         &ctx,
		Connector:           &xmledit.Connector{Port: t.Port, Scheme: t.Scheme, ProxyName: t.ProxyName, ProxyPort: t.ProxyPort},
		ReplacePlaceholders: t.ReplacePlaceholders,
	}
	return []steps.Step{&steps.FileStep{
		Label:   t.Name + ": server.xml",
		Current: f.File(t.ServerXML()),
		Edit: func(cur []byte) ([]byte, error) {
			if cur == nil {
				return nil, fmt.Errorf("not found: is %s installed at %s? (set install: in the playbook)", t.Product, t.Install)
			}
			out, _, err := xmledit.EditServerXML(cur, edit)
			return out, err
		},
		Notify: []string{t.Name},
		Reason: fmt.Sprintf("server.xml already has path=%q and proxyName=%q proxyPort=\"%d\" scheme=%q", ctx, t.ProxyName, t.ProxyPort, t.Scheme),
	}}
}

// Service stops and starts the app through its init service when the host has one (systemd unit
// or init.d script, as the Atlassian installer sets up), else through bin/stop-<product>.sh and
// bin/start-<product>.sh as the guide says; Ready waits until Tomcat answers HTTP on its port.
func (t Tomcat) Service(f *distro.Facts) *steps.Service {
	start, stop := f.ServiceCommand(t.Name, "start"), f.ServiceCommand(t.Name, "stop")
	if start == "" {
		bin := path.Join(t.Install, "bin")
		start = distro.Quote(path.Join(bin, "start-"+t.Product+".sh"))
		stop = distro.Quote(path.Join(bin, "stop-"+t.Product+".sh"))
	}
	return &steps.Service{
		Name: t.Name, Kind: steps.App, WasRunning: f.PIDs[t.PIDFile()] != 0,
		Start: start, Stop: stop,
		Ready: steps.HTTPReady(t.Port, t.Name, 180),
	}
}
