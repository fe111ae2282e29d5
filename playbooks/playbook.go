package playbooks

import (
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/frontdoor-dev/frontdoor/steps/app"
	"github.com/frontdoor-dev/frontdoor/target"
)

// Playbook is what to put behind Apache on every host of the inventory.
type Playbook struct {
	Apps   []App        `yaml:"apps"`
	Apache ApacheConfig `yaml:"apache"`
	// ReplacePlaceholders allows overwriting ${...} values in server.xml (see xmledit).
	ReplacePlaceholders bool `yaml:"replace_placeholders"`

	src *source
}

// App is one Atlassian application on the hosts.
type App struct {
	Product string `yaml:"product"` // jira, confluence, bitbucket
	Name    string `yaml:"name"`    // service name; default: the product
	Install string `yaml:"install"` // default /opt/atlassian/<product>
	Home    string `yaml:"home"`    // default /var/atlassian/application-data/<product>
	Port    int    `yaml:"port"`    // its HTTP port; default the product's (Jira 8080, Confluence 8090, Bitbucket 7990)
	// Synchrony (Confluence 6.0+): proxy /synchrony with WebSocket to SynchronyPort. Default on
	// for Confluence; write synchrony: false for Confluence 5.
	Synchrony     *bool `yaml:"synchrony"`
	SynchronyPort int   `yaml:"synchrony_port"` // default 8091
	// StartTimeout: seconds the app may take to answer after a start (default 180; Jira or
	// Confluence with many apps can need more).
	StartTimeout int `yaml:"start_timeout"`
	// TrailingSlash: ProxyPass /ctx http://host:port/ctx/ (the guide's fix for DNS failures).
	TrailingSlash bool `yaml:"trailing_slash"`
	// URL is the public base URL: scheme://proxyName[:port][/context]. "{{host}}" is replaced by
	// the inventory name of each host.
	URL    string    `yaml:"url"`
	public publicURL // URL parsed once, at load
	// TLS is the certificate of an https url (apps on one public name share it).
	TLS *TLS `yaml:"tls"`
	// On Windows hosts: the install and home (native paths; default the Windows installer's) and
	// the Windows service's name (default: name).
	WindowsInstall string `yaml:"windows_install"`
	WindowsHome    string `yaml:"windows_home"`
	WindowsService string `yaml:"windows_service"`
	// Nodes makes the app a Data Center cluster: inventory hosts or groups, each "name" or
	// "name:port" when a node's port differs. Balancer names the host(s) whose Apache balances
	// them (docs/cluster.md). Without nodes the app is on every host, behind that host's Apache.
	Nodes    []string `yaml:"nodes"`
	Balancer []string `yaml:"balancer"`
	// LBMethod is mod_proxy_balancer's lbmethod: byrequests (default), bytraffic or bybusyness.
	LBMethod string `yaml:"lbmethod"`
	// DrainTimeout: seconds a drained node may keep active requests before its restart (default 60).
	DrainTimeout int      `yaml:"drain_timeout"`
	cluster      *Cluster // the nodes and balancers resolved against the inventory (Bind)
}

// ApacheConfig is the proxy's side. Each public host name gets its own VirtualHost file,
// frontdoor-<name>.conf; apps sharing a name share it (context paths on one domain).
type ApacheConfig struct {
	RemoteIP bool `yaml:"remote_ip"` // mod_remoteip + RemoteIPHeader X-Forwarded-For
	// Directives are extra lines for the VirtualHost (e.g. RequestHeader, Timeout); apachectl
	// configtest checks them before any restart.
	Directives []string `yaml:"directives"`
	// Install, on a Debian or Ubuntu host without Apache, installs it from the host's own
	// repositories first (steps/apache.InstallStep); a rollback removes it again. Off, such a
	// host is refused with how to install it.
	Install bool `yaml:"install"`
	// OpenFirewall opens the public ports in an active ufw or firewalld that closes them (a
	// rollback closes them again); off, plan warns.
	OpenFirewall bool `yaml:"open_firewall"`
	// On Windows hosts: Apache's ServerRoot (default C:\Apache24, Apache Lounge's) and its
	// Windows service (default Apache2.4).
	WindowsRoot    string `yaml:"windows_root"`
	WindowsService string `yaml:"windows_service"`
}

// Apache Lounge's defaults: where Apache lives on Windows hosts and its service's name.
const (
	DefaultWindowsRoot    = `C:\Apache24`
	DefaultWindowsService = "Apache2.4"
)

var (
	// A Windows path reaches PowerShell as data and an app's .bat through Start-Process; still,
	// none of cmd.exe's metacharacters, quotes, %VARIABLE% or line breaks.
	winAbsR = regexp.MustCompile(`^[A-Za-z]:[\\/][^'"%&|<>^\r\n\x00]*$`)
	// A Windows service name as Get-Service -Name takes it literally: no wildcard, no quote.
	winServiceR = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 ._@()-]{0,79}$`)
	nameRe      = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,40}$`)
	contextR    = regexp.MustCompile(`^(/[A-Za-z0-9._~-]+)+$`)
	hostnameR   = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$`)
)

// LoadPlaybook reads and validates a playbook, filling defaults.
func LoadPlaybook(path string) (*Playbook, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParsePlaybook(path, data)
}

// ParsePlaybook validates a playbook's bytes; name is used in errors.
// checkApp fills an app's defaults from its product and checks it; at is its YAML path, names
// the app names seen so far.
func (pb *Playbook) checkApp(a *App, at string, names map[string]bool) error {
	src := pb.src
	def, ok := app.Products[a.Product]
	if !ok {
		return src.errorf(at+".product", "product %q is not supported yet: write product: %s", a.Product, strings.Join(productNames(), ", or "))
	}
	if a.Name == "" {
		a.Name = a.Product
	}
	if !nameRe.MatchString(a.Name) {
		return src.errorf(at+".name", "name %q: use lower-case letters, digits, - and _ (it names the service)", a.Name)
	}
	if names[a.Name] {
		return src.errorf(at+".name", "two apps are called %q: give one a different name:", a.Name)
	}
	names[a.Name] = true
	if a.Install == "" {
		a.Install = def.Install
	}
	if a.Home == "" {
		a.Home = def.Home
	}
	for _, d := range []struct{ key, val string }{{"install", a.Install}, {"home", a.Home}} {
		if !strings.HasPrefix(d.val, "/") || strings.ContainsAny(d.val, "'\n\x00") {
			return src.errorf(at+"."+d.key, "%s %q must be an absolute path, like %s", d.key, d.val, def.Install)
		}
	}
	if a.WindowsInstall == "" {
		a.WindowsInstall = def.WinInstall
	}
	if a.WindowsHome == "" {
		a.WindowsHome = def.WinHome
	}
	if a.WindowsService == "" {
		a.WindowsService = a.Name
	}
	if !winServiceR.MatchString(a.WindowsService) {
		return src.errorf(at+".windows_service", "windows_service %q: a service name of letters, digits, spaces and . _ @ ( ) - (no wildcards: Get-Service would match several)", a.WindowsService)
	}
	for _, d := range []struct{ key, val string }{{"windows_install", a.WindowsInstall}, {"windows_home", a.WindowsHome}} {
		if !winAbsR.MatchString(d.val) {
			return src.errorf(at+"."+d.key, "%s %q must be an absolute Windows path, like %s", d.key, d.val, def.WinInstall)
		}
	}
	if a.Port == 0 {
		a.Port = def.Port
	}
	if a.Synchrony == nil {
		on := def.SynchronyPort != 0
		a.Synchrony = &on
	}
	if *a.Synchrony && def.SynchronyPort == 0 {
		return src.errorf(at+".synchrony", "synchrony is Confluence's; remove it from this %s app", a.Product)
	}
	if a.SynchronyPort == 0 {
		a.SynchronyPort = def.SynchronyPort
	}
	if a.StartTimeout != 0 && (a.StartTimeout < 10 || a.StartTimeout > target.MaxWait) {
		return src.errorf(at+".start_timeout", "start_timeout %d: give seconds between 10 and %d (default 180)", a.StartTimeout, target.MaxWait)
	}
	if a.Port < 1 || a.Port > 65535 {
		return src.errorf(at+".port", "port %d is out of range 1..65535", a.Port)
	}
	if a.URL == "" {
		return src.errorf(at, "url is missing: write url: http://%s.example.com (the address users type)", a.Product)
	}
	var err error
	if a.public, err = parsePublic(a.URL); err != nil {
		return src.errorf(at+".url", "url %q: %v", a.URL, err)
	}
	if err := pb.checkCluster(a, at); err != nil {
		return err
	}
	return pb.checkTLS(a, at)
}

func ParsePlaybook(name string, data []byte) (*Playbook, error) {
	var pb Playbook
	src, err := decode(name, data, &pb)
	if err != nil {
		return nil, err
	}
	pb.src = src
	if len(pb.Apps) == 0 {
		return nil, src.errorf("$", "no apps: write apps: with at least one entry, e.g.\n  apps:\n    - product: jira\n      url: http://jira.example.com")
	}
	names := map[string]bool{}
	for i := range pb.Apps {
		if err := pb.checkApp(&pb.Apps[i], fmt.Sprintf("$.apps[%d]", i), names); err != nil {
			return nil, err
		}
	}
	if pb.Apache.WindowsRoot == "" {
		pb.Apache.WindowsRoot = DefaultWindowsRoot
	}
	if pb.Apache.WindowsService == "" {
		pb.Apache.WindowsService = DefaultWindowsService
	}
	if !winServiceR.MatchString(pb.Apache.WindowsService) {
		return nil, src.errorf("$.apache.windows_service", "windows_service %q: a service name of letters, digits, spaces and . _ @ ( ) - (no wildcards)", pb.Apache.WindowsService)
	}
	if !winAbsR.MatchString(pb.Apache.WindowsRoot) {
		return nil, src.errorf("$.apache.windows_root", "windows_root %q must be an absolute Windows path, like C:\\Apache24", pb.Apache.WindowsRoot)
	}
	if err := pb.crossCheck(); err != nil {
		return nil, err
	}
	if err := pb.crossCheckTLS(); err != nil {
		return nil, err
	}
	for i, d := range pb.Apache.Directives {
		if strings.ContainsAny(d, "\n\r") || strings.TrimSpace(d) == "" {
			return nil, src.errorf(fmt.Sprintf("$.apache.directives[%d]", i), "each directive is one non-empty line; write a list item per line")
		}
		if strings.HasPrefix(strings.TrimSpace(d), "<") {
			return nil, src.errorf(fmt.Sprintf("$.apache.directives[%d]", i), "sections (<Location> ...) are not allowed here; write single-line directives")
		}
	}
	return &pb, nil
}

func productNames() []string {
	var out []string
	for n := range app.Products {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// crossCheck looks at the apps together, before any host is touched: two apps never listen on one
// port, and never claim one path of one VirtualHost (Synchrony's /synchrony included).
func (pb *Playbook) crossCheck() error {
	ports := map[int]string{}
	paths := map[string]string{}
	for i, a := range pb.Apps {
		at := fmt.Sprintf("$.apps[%d]", i)
		for _, p := range []int{a.Port, a.ProxiedSynchronyPort()} {
			if p == 0 {
				continue
			}
			if other, ok := ports[p]; ok {
				return pb.src.errorf(at, "%s and %s both use port %d on the host: give one of them its own port:", other, a.Name, p)
			}
			ports[p] = a.Name
		}
		pub := a.PublicFor("host")
		claims := []string{pub.ContextPath}
		if a.ProxiedSynchronyPort() != 0 {
			claims = append(claims, "/synchrony")
		}
		for _, c := range claims {
			key := fmt.Sprintf("%s:%d%s", pub.Host, pub.Port, c)
			if other, ok := paths[key]; ok {
				shown := c
				if shown == "" {
					shown = "/"
				}
				return pb.src.errorf(at+".url", "%s and %s both claim the path %s of %s: give one of them another context path or host name",
					other, a.Name, shown, strings.ReplaceAll(a.URL, "{{host}}", "<host>"))
			}
			paths[key] = a.Name
		}
	}
	return nil
}

// ProxiedSynchronyPort is the port of Synchrony when it is proxied, else 0.
func (a App) ProxiedSynchronyPort() int {
	if a.Synchrony != nil && *a.Synchrony {
		return a.SynchronyPort
	}
	return 0
}
