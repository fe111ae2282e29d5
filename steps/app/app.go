package app

import (
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/frontdoor-dev/frontdoor/distro"
	"github.com/frontdoor-dev/frontdoor/steps"
	"github.com/frontdoor-dev/frontdoor/steps/props"
	"github.com/frontdoor-dev/frontdoor/steps/xmledit"
	"github.com/frontdoor-dev/frontdoor/target"
)

// App is one installed application and where it is published.
type App struct {
	Product
	Name        string // service name and trigger, e.g. "jira"
	Install     string
	Home        string
	Port        int    // its HTTP port on the host
	ContextPath string // "" or "/jira"
	Scheme      string // public scheme
	ProxyName   string // public host name
	ProxyPort   int    // public port
	// ReplacePlaceholders lets frontdoor overwrite ${...} values in server.xml.
	ReplacePlaceholders bool
	// ServiceName is the init or Windows service that runs it (default Name).
	ServiceName string
	// Windows: installed on a Windows host (paths are SFTP paths, /C:/...).
	Windows bool
	// StartTimeout is how long, in seconds, the app may take to answer after a start (0: 180).
	StartTimeout int
}

func (a App) startTimeout() int {
	if a.StartTimeout > 0 {
		return a.StartTimeout
	}
	return 180
}

// winScripts are the application's own start and stop scripts on Windows (bin\start-jira.bat).
func (a App) winScripts() (start, stop string) {
	bat := func(s string) string { return path.Join(a.Install, strings.TrimSuffix(s, ".sh")+".bat") }
	return bat(a.Product.Start), bat(a.Product.Stop)
}

// winService is the Windows service that runs the app: the configured one if it exists, else the
// only service whose name or display name has the product's name in it; "" when there is none.
func (a App) winService(f *distro.Facts) string {
	if f.Services[a.serviceName()] == "windows" {
		return a.serviceName()
	}
	if c := f.WinServices[a.Product.Name]; len(c) == 1 {
		return c[0]
	}
	return ""
}

func (a App) serviceName() string {
	if a.ServiceName != "" {
		return a.ServiceName
	}
	return a.Name
}

// ConfigFile is the file that carries the app's proxy settings.
func (a App) ConfigFile() string { return a.Product.ConfigPath(a.Install, a.Home) }

// Files lists what the steps read, for the gather.
func (a App) Files() []string {
	switch a.Config {
	case CrowdTomcat:
		return []string{a.ConfigFile(), a.crowdContextFile("/crowd"), a.crowdContextFile(a.ContextPath)}
	case BitbucketProperties:
		// Which Bitbucket this is decides the file: 4.x is Tomcat (server.xml), 5.0+ Spring Boot.
		return append([]string{a.ConfigFile(), a.bitbucket4SharedXML(), a.bitbucket4InstallXML()}, a.bitbucketPoms()...)
	}
	if a.Windows { // without a Windows service, its scripts
		start, stop := a.winScripts()
		return []string{a.ConfigFile(), start, stop}
	}
	return []string{a.ConfigFile()}
}

func (a App) bitbucket4SharedXML() string  { return path.Join(a.Home, "shared/server.xml") }
func (a App) bitbucket4InstallXML() string { return path.Join(a.Install, "conf/server.xml") }

// bitbucketPoms are where the webapp's Maven metadata says its version: the webapp lives in
// atlassian-bitbucket/ up to 4.x (Tomcat) and in app/ from 5.0 (Spring Boot).
func (a App) bitbucketPoms() []string {
	const pom = "META-INF/maven/com.atlassian.bitbucket.server/bitbucket-webapp/pom.properties"
	return []string{path.Join(a.Install, "app", pom), path.Join(a.Install, "atlassian-bitbucket", pom)}
}

// bitbucketConfig decides, from the install, which file carries Bitbucket's proxy settings:
// 5.0 and later, <home>/shared/bitbucket.properties; 4.x, <home>/shared/server.xml when it exists
// (4.x moves it there on upgrade), else the install's conf/server.xml. The version comes from the
// webapp's pom.properties; without one, an install with conf/server.xml is taken for 4.x (5.0+
// installs have no conf/). It says what it based the decision on.
func (a App) bitbucketConfig(f *distro.Facts) (file string, kind ConfigKind, why string, err error) {
	version := ""
	for _, p := range a.bitbucketPoms() {
		if pf := f.File(p); pf.Exists {
			for _, line := range strings.Split(string(pf.Data), "\n") {
				if v, ok := strings.CutPrefix(strings.TrimSpace(line), "version="); ok {
					version = v
				}
			}
		}
	}
	shared, inst := f.File(a.bitbucket4SharedXML()), f.File(a.bitbucket4InstallXML())
	four := false
	switch {
	case version != "":
		major, _ := strconv.Atoi(strings.SplitN(version, ".", 2)[0])
		four, why = major < 5, "Bitbucket "+version
	case inst.Exists:
		four, why = true, "Bitbucket 4.x (the install has conf/server.xml)"
	default:
		why = "Bitbucket 5.0+ (the install has no conf/server.xml)"
	}
	switch {
	case !four:
		return a.ConfigFile(), BitbucketProperties, why, nil
	case shared.Exists:
		return shared.Path, ServerXML, why, nil
	case inst.Exists:
		return inst.Path, ServerXML, why, nil
	}
	return "", 0, why, fmt.Errorf("%s: neither %s nor %s exists: where is its server.xml?", why, shared.Path, inst.Path)
}

// crowdContextFile is the Tomcat context file that publishes Crowd at ctx: ROOT.xml for "/",
// crowd.xml for /crowd, a#b.xml for /a/b (Tomcat's naming).
func (a App) crowdContextFile(ctx string) string {
	name := strings.ReplaceAll(strings.TrimPrefix(ctx, "/"), "/", "#")
	if name == "" {
		name = "ROOT"
	}
	return path.Join(a.Install, "apache-tomcat/conf/Catalina/localhost", name+".xml")
}

// crowdContextSteps move Crowd's context file to the name that gives the wanted context path: the
// new file gets the old one's bytes, mode and owner, and the old one is deleted.
func (a App) crowdContextSteps(f *distro.Facts) []steps.Step {
	from, to := f.File(a.crowdContextFile("/crowd")), f.File(a.crowdContextFile(a.ContextPath))
	if from.Path == to.Path {
		return nil
	}
	src := from
	create := &steps.FileStep{Label: a.Name + ": context file " + path.Base(to.Path), Current: to, Notify: []string{a.Name},
		NewMode: from.Mode, NewUID: from.UID, NewGID: from.GID, Reason: path.Base(to.Path) + " already publishes " + a.Name}
	create.Edit = func(cur []byte) ([]byte, error) {
		switch {
		case cur != nil && src.Exists:
			return nil, fmt.Errorf("both %s and %s exist: Tomcat would publish Crowd twice; remove the one you do not want", path.Base(src.Path), path.Base(to.Path))
		case cur != nil:
			return cur, nil // already moved
		case !src.Exists:
			return nil, fmt.Errorf("no Crowd context file: neither %s nor %s exists", src.Path, to.Path)
		}
		return src.Data, nil
	}
	remove := &steps.FileStep{Label: a.Name + ": context file " + path.Base(from.Path), Current: from, Notify: []string{a.Name},
		Edit: func([]byte) ([]byte, error) { return nil, nil }}
	return []steps.Step{create, remove}
}

// Steps returns the step that configures the app for the proxy; it triggers the app's stop/start.
// An install that cannot be configured (no server.xml to be found, no way to run the service) is
// an error, before any change.
func (a App) Steps(f *distro.Facts) ([]steps.Step, error) {
	file, label := a.ConfigFile(), ""
	if a.Config == BitbucketProperties {
		cfg, kind, why, err := a.bitbucketConfig(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", a.Name, err)
		}
		file = cfg
		if kind == ServerXML {
			a.Config = ServerXML // the rest is Tomcat's, as for Jira
		}
		label = " [" + why + "]"
	}
	if start, _ := a.winScripts(); a.Windows && a.winService(f) == "" && !f.File(start).Exists {
		return nil, fmt.Errorf("no Windows service runs %s (none named %q, and %v match %q) and there is no %s: set windows_service: to its service name (Get-Service lists them)",
			a.Name, a.serviceName(), f.WinServices[a.Product.Name], a.Product.Name, distro.WinPath(start))
	}
	step := &steps.FileStep{
		Label:   a.Name + ": " + path.Base(file) + label,
		Current: f.File(file),
		Notify:  []string{a.Name},
		Reason: fmt.Sprintf("%s already has context path %q, proxy %s://%s:%d",
			path.Base(file), a.ContextPath, a.Scheme, a.ProxyName, a.ProxyPort),
	}
	edit := a.editor()
	step.Edit = func(cur []byte) ([]byte, error) {
		if cur == nil {
			keys := "install: and home:"
			if a.Windows {
				keys = "windows_install: and windows_home:"
			}
			return nil, fmt.Errorf("not found: is %s installed there? (set %s in the playbook)", a.Product.Name, keys)
		}
		return edit(cur)
	}
	if a.Config == CrowdTomcat {
		return append([]steps.Step{step}, a.crowdContextSteps(f)...), nil
	}
	return []steps.Step{step}, nil
}

// Editor is the pure edit of the app's configuration file, by the kind of file: what a step
// applies on a host and what frontdoor config edit applies to a local file.
func (a App) Editor() func([]byte) ([]byte, error) { return a.editor() }

// editor is the pure edit of the app's configuration file, by the kind of file.
func (a App) editor() func([]byte) ([]byte, error) {
	connector := &xmledit.Connector{Port: a.Port, Scheme: a.Scheme, ProxyName: a.ProxyName, ProxyPort: a.ProxyPort}
	switch a.Config {
	case BitbucketProperties:
		pairs := []props.Pair{
			{Key: "server.context-path", Value: a.ContextPath},
			{Key: "server.proxy-name", Value: a.ProxyName},
			{Key: "server.proxy-port", Value: strconv.Itoa(a.ProxyPort)},
			{Key: "server.scheme", Value: a.Scheme},
			{Key: "server.secure", Value: strconv.FormatBool(a.Scheme == "https")},
		}
		return func(cur []byte) ([]byte, error) { return props.Set(cur, pairs) }
	case FecruConfig:
		e := xmledit.FecruEdit{Context: a.ContextPath, Port: a.Port, ProxyHost: a.ProxyName, ProxyPort: a.ProxyPort,
			ProxyScheme: a.Scheme, ReplacePlaceholders: a.ReplacePlaceholders}
		return func(cur []byte) ([]byte, error) { out, _, err := xmledit.EditFecruConfig(cur, e); return out, err }
	}
	e := xmledit.TomcatEdit{Connector: connector, ReplacePlaceholders: a.ReplacePlaceholders}
	if a.Config != CrowdTomcat { // Crowd's context path is its context file's name, not in server.xml
		ctx := a.ContextPath
		e.ContextPath = &ctx
	}
	return func(cur []byte) ([]byte, error) { out, _, err := xmledit.EditServerXML(cur, e); return out, err }
}

// Service stops and starts the app through its init service when the host has one (systemd unit
// or init.d script, as the Atlassian installer sets up), else through the install's stop and
// start scripts as the guide says. It was running when something listened on its port.
func (a App) Service(f *distro.Facts) *steps.Service {
	start, stop := f.ServiceCommand(a.serviceName(), "start"), f.ServiceCommand(a.serviceName(), "stop")
	if a.Windows {
		if svc := a.winService(f); svc != "" {
			start, stop = f.ServiceCommand(svc, "start"), f.ServiceCommand(svc, "stop")
			if start == "" { // found by product name, not asked for by the gather
				start = distro.WinCommand("service", distro.WinParams{Name: svc, Action: "start"})
				stop = distro.WinCommand("service", distro.WinParams{Name: svc, Action: "stop"})
			}
		} else {
			s, t := a.winScripts()
			start = distro.WinCommand("script", distro.WinParams{Path: distro.WinPath(s)})
			stop = distro.WinCommand("script", distro.WinParams{Path: distro.WinPath(t)})
		}
	} else if start == "" {
		start = target.Quote(path.Join(a.Install, a.Product.Start))
		stop = target.Quote(path.Join(a.Install, a.Product.Stop))
	}
	return &steps.Service{
		Name: a.Name, Kind: steps.App, WasRunning: f.Listening[a.Port],
		Start: start, Stop: stop,
		Ready: f.ReadyCommand(a.Port, a.Name, a.startTimeout()),
	}
}

// Notes are what the guide's Part C asks the admin to look at, found in the files frontdoor reads:
// HTTP compression on the Tomcat Connector of Jira or Confluence (the guide recommends disabling
// it behind a proxy), with what to do.
func (a App) Notes(f *distro.Facts) []string {
	if a.Config != ServerXML || (a.Product.Name != "jira" && a.Product.Name != "confluence") {
		return nil
	}
	file := f.File(a.ConfigFile())
	if !file.Exists {
		return nil
	}
	d, err := xmledit.Parse(file.Data)
	if err != nil {
		return nil
	}
	c, err := d.HTTPConnector(a.Port)
	if err != nil {
		return nil
	}
	if v, ok := c.Attr("compression"); ok && v.Value() != "off" && v.Value() != "" {
		return []string{fmt.Sprintf("%s: %s line %d: the Connector has compression=%q; the guide recommends disabling HTTP compression in %s behind a proxy: set compression=\"off\"",
			a.Name, a.ConfigFile(), d.Line(c.Start), v.Value(), a.Product.Name)}
	}
	return nil
}
