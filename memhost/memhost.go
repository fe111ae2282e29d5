// Package memhost owns the in-memory host: an EMULATED host with Apache 2.4 and Atlassian apps,
// kept as state in memory (files, enabled modules and sites, services, SELinux's boolean, the
// frontdoor lock), that answers frontdoor's remote operations the way the real commands answer
// them on the lab's hosts, in three kinds: Debian 12 (New; Install adds Confluence with Synchrony
// and Bitbucket), the lab's Red Hat layout (NewRedHat: /etc/httpd, LoadModule lines, conf.d,
// setsebool) and the lab's emulated Windows host (NewWindows: cmd.exe's refusal, frontdoor's
// PowerShell verbs over Apache Lounge's layout). A command it does not know fails, so a test
// cannot pass on a command nobody emulated. Faults can be injected at every operation, requests
// to its Apache included (Fail, Arm), and its HTTP handler plays the host's Apache for
// verification through the proxy. It is a transport beside ssh and local, for unit tests of the
// session, fleet and cmd without the lab; e2e.TestMemhostIsFaithful holds it to the lab's hosts.
package memhost

import (
	"context"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf16"

	"github.com/frontdoor-dev/frontdoor/target"
)

// Debian12 is /etc/os-release of Debian 12 (the lab's hosts run it).
const Debian12 = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
`

// JiraServerXML is Jira 9.15.0's conf/server.xml as shipped (testdata/jira-9.15.0-server.xml,
// copied from the fixtures: tomcat-server-xml/shipped).
//
//go:embed testdata/jira-9.15.0-server.xml
var JiraServerXML string

// The other apps' configuration files as the lab's hosts have them (testdata/SOURCES.md).
var (
	//go:embed testdata/confluence-8.4.3-server.xml
	confluenceServerXML string
	//go:embed testdata/bitbucket-datacenter-williwhitehead-no-server-keys.properties
	bitbucketProperties string
)

// The lab's CentOS-layout host (LAB_FLAVOR=rocky): Rocky 9's os-release, CentOS's httpd.conf and
// module files (testdata/rocky, copied from testdata/lab/flavors/rocky).
var (
	//go:embed testdata/rocky/os-release
	rocky9 string
	//go:embed testdata/rocky/httpd.conf
	rockyHTTPDConf string
	//go:embed testdata/rocky/00-base.conf
	rockyBase string
	//go:embed testdata/rocky/00-mpm.conf
	rockyMPM string
	//go:embed testdata/rocky/00-proxy.conf
	rockyProxy string
)

// The lab's emulated Windows host (LAB_FLAVOR=windows, internal/winemu): Apache Lounge 2.4.56's
// httpd.conf as shipped (fixture apache-distro), in CRLF as on Windows.
//
//go:embed testdata/windows-apachelounge-2.4.56-original-httpd.conf
var apacheLoungeConf string

// Debian 12's apache2 package as freshly installed (testdata/SOURCES.md).
var (
	//go:embed testdata/debian12-ports.conf
	debianPorts string
	//go:embed testdata/debian12-000-default.conf
	debianDefaultSite string
	debianModules     = strings.Fields("access_compat alias auth_basic authn_core authn_file authz_core authz_host authz_user autoindex deflate dir env filter mime mpm_event negotiation reqtimeout setenvif status")
)

// Service is a daemon of the host: its port (0: none) and whether it runs.
type Service struct {
	Port int
	// Also is a second port it listens on while it runs (Confluence's Synchrony; 0: none).
	Also    int
	Running bool
	// NoStart makes every start fail (an app that does not come back).
	NoStart bool
}

// Fault makes operations fail: Op is "run", "read", "write" or "remove"; Match a substring of
// the command or path; Times how many matching operations fail (0: all of them).
type Fault struct {
	Op, Match string
	Times     int
	Stderr    string
	// Skip lets that many matching operations pass before the fault applies.
	Skip int
	hits int
}

// Host is one emulated host. Its fields are its state; lock mu when changing them while it serves.
type Host struct {
	mu      sync.Mutex
	name    string
	OS      string
	Files   map[string]target.File
	Modules map[string]bool // mods-enabled
	Sites   map[string]bool // sites-enabled
	// RedHat makes it the lab's CentOS-layout host (NewRedHat): /etc/httpd, modules loaded by
	// LoadModule lines, conf.d, the httpd unit, and SELinux (Enforcing) with its boolean
	// httpd_can_network_connect in NetworkConnect.
	RedHat         bool
	NetworkConnect bool
	// Windows makes it the lab's emulated Windows host (NewWindows): cmd.exe refuses the POSIX
	// gather, and frontdoor's PowerShell verbs are answered (gather, service, configtest, ready,
	// mkdir, unlock) over Apache Lounge's layout under /C:.
	Windows  bool
	Services map[string]*Service
	Lock     string // the lock symlink's target, "" when unlocked
	// StateDir is what stat says of /var/lib/frontdoor ("uid mode type", or "symlink"); "" is
	// root's 0700 directory, or none yet.
	StateDir string
	Faults   []*Fault
	// Log is every operation, in order: "run CMD", "read PATH", "write PATH", "remove PATH",
	// "http METHOD HOST/PATH" (a request to its Apache).
	Log     []string
	trips   atomic.Int64
	dialect target.Dialect
	// proxyAddr is where its Fleet serves this host's Apache (Forward's destination).
	proxyAddr string
	// The fault matrix's knobs (Arm, Heal): the armed operation's number and kind, the count of
	// operations since arming, and whether the connection is "lost".
	armAt   int
	armKind string
	count   int
	lost    bool
	// lostAfter: the operation under way runs, and its answer is lost.
	lostAfter bool
	// timedOut: the operation under way runs, and its answer never comes: it ends on its
	// deadline, and the connection goes on.
	timedOut bool
	// Interrupt, if set, is called at the armed operation of kind "interrupt" (a Ctrl-C of the
	// controller while that operation runs), which itself runs normally.
	Interrupt func()
}

// done ends an operation: its answer is lost when the connection was cut while it ran.
func (h *Host) done(err error) error {
	if h.lostAfter {
		h.lostAfter, h.lost = false, true
		return fmt.Errorf("%s: connection lost", h.name)
	}
	if h.timedOut {
		h.timedOut = false
		return fmt.Errorf("%s: no answer before the operation's deadline: %w", h.name, context.DeadlineExceeded)
	}
	return err
}

// New is a fresh Debian 12 host named name with Apache running its default site and Jira
// installed and running on 8080 with server.xml (nil: Jira 9.15's as shipped, from testdata).
func New(name string) *Host {
	h := &Host{name: name, OS: Debian12, Files: map[string]target.File{},
		Modules:  map[string]bool{},
		Sites:    map[string]bool{"000-default": true},
		Services: map[string]*Service{"apache2": {Port: 80, Running: true}, "jira": {Port: 8080, Running: true}}}
	h.Put("/etc/apache2/apache2.conf", "# Debian's apache2.conf\nIncludeOptional sites-enabled/*.conf\n", 0o644)
	for _, m := range debianModules {
		h.Modules[m] = true
	}
	h.Put("/etc/apache2/ports.conf", debianPorts, 0o644)
	h.Put("/etc/apache2/sites-available/000-default.conf", debianDefaultSite, 0o644)
	h.Put("/opt/atlassian/jira/conf/server.xml", JiraServerXML, 0o644)
	return h
}

// NewRedHat is a fresh host of the lab's CentOS layout (LAB_FLAVOR=rocky): Rocky 9, httpd running
// with CentOS's httpd.conf (Listen 80, no VirtualHost), proxy modules all commented out in
// 00-proxy.conf, SELinux Enforcing with httpd_can_network_connect off, and Jira as New has it.
func NewRedHat(name string) *Host {
	h := &Host{name: name, OS: rocky9, RedHat: true, Files: map[string]target.File{},
		Modules: map[string]bool{}, Sites: map[string]bool{},
		Services: map[string]*Service{"httpd": {Port: 80, Running: true}, "jira": {Port: 8080, Running: true}}}
	h.Put("/etc/httpd/conf/httpd.conf", rockyHTTPDConf, 0o644)
	h.Put("/etc/httpd/conf.modules.d/00-base.conf", rockyBase, 0o644)
	h.Put("/etc/httpd/conf.modules.d/00-mpm.conf", rockyMPM, 0o644)
	h.Put("/etc/httpd/conf.modules.d/00-proxy.conf", rockyProxy, 0o644)
	h.Put("/opt/atlassian/jira/conf/server.xml", JiraServerXML, 0o644)
	return h
}

// Windows paths of the emulated Windows host (SFTP form).
const (
	winApacheConf = "/C:/Apache24/conf/httpd.conf"
	winJiraXML    = "/C:/Program Files/Atlassian/JIRA/conf/server.xml"
	winStateDir   = "/C:/ProgramData/frontdoor"
)

// NewWindows is a fresh host as the lab's emulated Windows host has it (it is NOT a Windows host,
// nor is the lab's): Windows Server 2022 answering as cmd.exe and PowerShell would, Apache
// Lounge's httpd.conf (CRLF) with its service Apache2.4 running, Jira's server.xml (CRLF) at the
// Windows installer's path with its service "jira" running. Files have mode 0666 and owner 0, as
// Windows OpenSSH's SFTP reports them.
func NewWindows(name string) *Host {
	h := &Host{name: name, Windows: true, Files: map[string]target.File{}, Modules: map[string]bool{}, Sites: map[string]bool{},
		Services: map[string]*Service{"Apache2.4": {Port: 80, Running: true}, "jira": {Port: 8080, Running: true}}}
	crlf := func(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }
	h.Put(winApacheConf, crlf(apacheLoungeConf), 0o666)
	h.Put(winJiraXML, crlf(JiraServerXML), 0o666)
	return h
}

// Install adds an installed, running app as the lab's hosts have it: "confluence" (server.xml of
// Confluence 8.4.3 as shipped, port 8090, Synchrony beside it on 8091) or "bitbucket" (a real
// shared/bitbucket.properties with no server.* keys, port 7990).
func (h *Host) Install(product string) {
	switch product {
	case "confluence":
		h.Put("/opt/atlassian/confluence/conf/server.xml", confluenceServerXML, 0o644)
		h.Services["confluence"] = &Service{Port: 8090, Also: 8091, Running: true}
	case "bitbucket":
		h.Put("/var/atlassian/application-data/bitbucket/shared/bitbucket.properties", bitbucketProperties, 0o640)
		h.Services["bitbucket"] = &Service{Port: 7990, Running: true}
	default:
		panic("memhost: cannot install " + product)
	}
}

// httpd is the name of Apache's unit.
func (h *Host) httpd() string {
	if h.Windows {
		return "Apache2.4"
	}
	if h.RedHat {
		return "httpd"
	}
	return "apache2"
}

// loaded says whether an Apache module is loaded: enabled in mods-enabled (Debian), or by an
// uncommented LoadModule line in httpd.conf or conf.modules.d (Red Hat).
func (h *Host) loaded(mod string) bool {
	if h.Windows {
		for _, m := range h.activeDirectives(winApacheConf, "LoadModule") {
			if strings.TrimSuffix(m, "_module") == mod {
				return true
			}
		}
		return false
	}
	if !h.RedHat {
		return h.Modules[mod]
	}
	for _, p := range h.redhatModuleFiles(true) {
		for _, m := range loadModuleRe.FindAllStringSubmatch(string(h.Files[p].Data), -1) {
			if m[1] == mod {
				return true
			}
		}
	}
	return false
}

var loadModuleRe = regexp.MustCompile(`(?mi)^[ \t]*LoadModule[ \t]+([a-z0-9_]+)_module[ \t]`)

// activeDirectives are the first arguments of a directive's active lines in a file, skipping
// <IfModule> sections whose module is not loaded (as Apache does), e.g. Apache Lounge's
// "Include conf/extra/proxy-html.conf" inside <IfModule proxy_html_module>.
func (h *Host) activeDirectives(path, directive string) []string {
	var out []string
	skip := 0 // depth inside a skipped <IfModule>
	for _, line := range strings.Split(string(h.Files[path].Data), "\n") {
		fs := strings.Fields(line)
		switch {
		case len(fs) == 0 || strings.HasPrefix(fs[0], "#"):
		case strings.EqualFold(fs[0], "<IfModule") && len(fs) > 1:
			mod := strings.TrimSuffix(strings.TrimSuffix(fs[1], ">"), "_module")
			if skip > 0 || (directive != "LoadModule" && !h.loaded(mod)) {
				skip++
			}
		case strings.EqualFold(fs[0], "</IfModule>"):
			if skip > 0 {
				skip--
			}
		case skip == 0 && strings.EqualFold(fs[0], directive) && len(fs) > 1:
			out = append(out, fs[1])
		}
	}
	return out
}

// redhatModuleFiles are conf.modules.d's *.conf files in ls order, after httpd.conf if asked.
func (h *Host) redhatModuleFiles(withConf bool) []string {
	var out []string
	if withConf {
		out = append(out, "/etc/httpd/conf/httpd.conf")
	}
	for _, p := range sortedKeys(h.Files) {
		if strings.HasPrefix(p, "/etc/httpd/conf.modules.d/") && strings.HasSuffix(p, ".conf") && !strings.Contains(p[len("/etc/httpd/conf.modules.d/"):], "/") {
			out = append(out, p)
		}
	}
	return out
}

// Put creates or replaces a file (owned by root).
func (h *Host) Put(path, data string, mode uint32) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.Files[path] = target.File{Path: path, Exists: true, Data: []byte(data), Mode: fs.FileMode(mode) & fs.ModePerm}
}

// File returns a file's state.
func (h *Host) File(path string) target.File {
	h.mu.Lock()
	defer h.mu.Unlock()
	f, ok := h.Files[path]
	if !ok {
		return target.File{Path: path}
	}
	return f
}

// SetRunning starts or stops a service from outside (as if by hand), while the host serves.
func (h *Host) SetRunning(name string, running bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.Services[name].Running = running
}

// Arm makes the n-th operation from now fail: kind "fail" fails that one operation (a command
// exits 1, a file operation fails as on a full disk); "lost" fails it and every later one, as a
// cut connection does, until Heal; "lost-after" lets it run and loses its answer and every later
// operation (the link cut while it ran); "timeout" lets it run and never answers it (it ends on
// its deadline; later operations work); "interrupt" calls Interrupt while it runs.
func (h *Host) Arm(n int, kind string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.armAt, h.armKind, h.count, h.lost = n, kind, 0, false
}

// Heal brings a "lost" connection back and disarms.
func (h *Host) Heal() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.armAt, h.lost = 0, false
}

// Count is the number of operations since Arm.
func (h *Host) Count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.count
}

// Fail adds a fault; see Fault (op "http" is a request to the host's Apache).
func (h *Host) Fail(op, match string, times int, stderr string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.Faults = append(h.Faults, &Fault{Op: op, Match: match, Times: times, Stderr: stderr})
}

// Snapshot is the host's state as comparable text: every file (path, mode, owner, sha256), the
// modules, the sites, the services. Equal snapshots mean byte-exact equal hosts.
func (h *Host) Snapshot() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var b strings.Builder
	for _, p := range sortedKeys(h.Files) {
		if strings.HasPrefix(p, stateDir+"/") || strings.HasPrefix(p, winStateDir+"/") {
			continue // frontdoor's own journals and backups
		}
		f := h.Files[p]
		fmt.Fprintf(&b, "file %s %o %d:%d %x\n", p, f.Mode, f.UID, f.GID, f.Data)
	}
	fmt.Fprintf(&b, "modules %v\nsites %v\n", sortedKeys(h.Modules), sortedKeys(h.Sites))
	if h.RedHat {
		fmt.Fprintf(&b, "httpd_can_network_connect %v\n", h.NetworkConnect)
	}
	for _, n := range sortedKeys(h.Services) {
		fmt.Fprintf(&b, "service %s running=%v\n", n, h.Services[n].Running)
	}
	return b.String()
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// SetForward says where the host's Apache is served, for Forward (Fleet.HTTPDial sets it itself).
func (h *Host) SetForward(addr string) {
	h.mu.Lock()
	h.proxyAddr = addr
	h.mu.Unlock()
}

// Conn returns a connection to the host (target.Conn); closing it leaves the host as it is.
func (h *Host) Conn() target.Conn { return &conn{h: h} }

type conn struct {
	h      *Host
	closed atomic.Bool
}

func (c *conn) Name() string                { return c.h.name }
func (c *conn) RoundTrips() int64           { return c.h.trips.Load() }
func (c *conn) SetSFTPServer(string)        {}
func (c *conn) SetDialect(d target.Dialect) { c.h.mu.Lock(); c.h.dialect = d; c.h.mu.Unlock() }
func (c *conn) Close() error                { c.closed.Store(true); return nil }

// Forward reaches the host's Apache (served by its Fleet), whatever the port asked for.
func (c *conn) Forward(ctx context.Context, _ string) (net.Conn, error) {
	c.h.mu.Lock()
	addr := c.h.proxyAddr
	c.h.mu.Unlock()
	if addr == "" {
		return nil, fmt.Errorf("%s: nothing to forward to (no Fleet serves this host's Apache)", c.h.name)
	}
	return (&net.Dialer{}).DialContext(ctx, "tcp", addr)
}

// errClosed is any operation on a closed connection (a test using one after Close is wrong).
func (c *conn) errClosed() error {
	if c.closed.Load() {
		return fmt.Errorf("%s: use of a closed connection", c.h.name)
	}
	return nil
}

func (c *conn) Remove(_ context.Context, p string) error {
	if err := c.errClosed(); err != nil {
		return err
	}
	return c.h.remove(p)
}
func (c *conn) ReadFile(_ context.Context, p string) (target.File, error) {
	if err := c.errClosed(); err != nil {
		return target.File{}, err
	}
	return c.h.read(p)
}
func (c *conn) WriteFile(_ context.Context, f target.File) error {
	if err := c.errClosed(); err != nil {
		return err
	}
	return c.h.write(f)
}
func (c *conn) Run(ctx context.Context, cmd string, stdin []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: command timed out or was cancelled: %w", c.h.name, err)
	}
	if err := c.errClosed(); err != nil {
		return nil, err
	}
	return c.h.run(cmd)
}

// fault returns the injected failure of an operation, if any; call with mu held.
func (h *Host) fault(op, arg string) *Fault {
	for _, f := range h.Faults {
		if f.Op != op || !strings.Contains(arg, f.Match) {
			continue
		}
		if f.Skip > 0 {
			f.Skip--
			continue
		}
		if f.Times == 0 || f.hits < f.Times {
			f.hits++
			return f
		}
	}
	return nil
}

func (h *Host) record(op, arg string) error {
	if op != "http" { // a request to its Apache is not a round trip of the connection
		h.trips.Add(1)
	}
	if verb, p := winVerb(arg); op == "run" && verb != "" {
		// A Windows command is base64: its verb and parameters say what it is.
		js, _ := json.Marshal(p)
		arg = "powershell " + verb + " " + string(js)
	}
	h.Log = append(h.Log, op+" "+arg)
	h.count++
	if h.armAt == h.count {
		switch h.armKind {
		case "lost":
			h.lost = true
		case "lost-after":
			h.lostAfter = true // it runs; its answer is lost (done)
		case "timeout":
			h.timedOut = true // it runs; no answer comes (done)
		case "interrupt":
			if h.Interrupt != nil {
				h.Interrupt()
			}
		case "fail":
			if op == "run" {
				return &target.CommandError{Host: h.name, Err: fmt.Errorf("Process exited with status 1"), Stderr: "injected failure"}
			}
			return fmt.Errorf("%s: %s %s: injected failure (No space left on device)", h.name, op, arg)
		}
	}
	if h.lost {
		return fmt.Errorf("%s: %s %s: connection lost", h.name, op, arg)
	}
	if f := h.fault(op, arg); f != nil {
		if op == "run" {
			return &target.CommandError{Host: h.name, Err: fmt.Errorf("Process exited with status 1"), Stderr: f.Stderr}
		}
		return fmt.Errorf("%s: %s %s: %s", h.name, op, arg, f.Stderr)
	}
	return nil
}

func (h *Host) read(p string) (target.File, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.record("read", p); err != nil {
		return target.File{}, err
	}
	f, ok := h.Files[p]
	if !ok {
		return target.File{Path: p}, h.done(nil)
	}
	f.Data = append([]byte(nil), f.Data...)
	return f, h.done(nil)
}

func (h *Host) write(f target.File) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.record("write", f.Path); err != nil {
		return err
	}
	f.Exists, f.Data = true, append([]byte(nil), f.Data...)
	if h.dialect == target.Windows {
		f.Mode, f.UID, f.GID = 0o666, 0, 0 // ACLs, not modes and owners
	}
	f.Mode &= 0o777
	h.Files[f.Path] = f
	return h.done(nil)
}

func (h *Host) remove(p string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.record("remove", p); err != nil {
		return err
	}
	delete(h.Files, p)
	return h.done(nil)
}

const (
	stateDir = "/var/lib/frontdoor"
	lockPath = stateDir + "/lock"
)

var (
	quoted     = `'((?:[^']|'\\'')*)'`
	fileRe     = regexp.MustCompile(`echo '@@ file '` + quoted)
	serviceRe  = regexp.MustCompile(`then echo ` + quoted + `=systemd`)
	lockRe     = regexp.MustCompile(`ln -s ` + quoted + ` ` + lockPath)
	unlockRe   = regexp.MustCompile(`^\[ "\$\(readlink ` + lockPath + `\)" = ` + quoted + ` \] && rm -f ` + lockPath + `( \|\| true)?$`)
	a2Re       = regexp.MustCompile(`^(a2enmod|a2dismod|a2ensite|a2dissite) -q (?:-f )?'([A-Za-z0-9_.-]+)'$`)
	systemctl  = regexp.MustCompile(`^systemctl (start|stop|restart) '?([A-Za-z0-9_.-]+?)'?$`)
	readyRe    = regexp.MustCompile(`^end=\$\(\(\$\(date \+%s\) \+ \d+\)\); while .*http://127\.0\.0\.1:(\d+)/.*echo '(.*) does not answer on port`)
	mkdirRe    = regexp.MustCompile(`^umask 077 && mkdir -p ` + quoted + `$`)
	runStateRe = regexp.MustCompile(`"state": *"([a-z-]*)"`)
)

// winPrefix starts every command frontdoor sends a Windows host; its first line names the verb
// ("# frontdoor:mkdir {...}"). Of those, only mkdir is emulated (for journals in Windows paths).
const winPrefix = "powershell -NoProfile -NonInteractive -EncodedCommand "

func winVerb(cmd string) (string, winParams) {
	var p winParams
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(cmd, winPrefix))
	if err != nil || len(raw)%2 != 0 {
		return "", p
	}
	u := make([]uint16, len(raw)/2)
	for i := range u {
		u[i] = uint16(raw[2*i]) | uint16(raw[2*i+1])<<8
	}
	line, _, _ := strings.Cut(string(utf16.Decode(u)), "\n")
	verb, js, _ := strings.Cut(strings.TrimPrefix(line, "# frontdoor:"), " ")
	if json.Unmarshal([]byte(js), &p) != nil {
		return "", p
	}
	return verb, p
}

// winParams are the parameters of frontdoor's PowerShell verbs (distro.WinParams, read here by
// their JSON names so memhost depends on target alone).
type winParams struct {
	Files         []string `json:"files,omitempty"`
	Services      []string `json:"services,omitempty"`
	ApacheRoot    string   `json:"apache_root,omitempty"`
	ApacheService string   `json:"apache_service,omitempty"`
	Lock          string   `json:"lock,omitempty"`
	Owner         string   `json:"owner,omitempty"`
	Name          string   `json:"name,omitempty"`
	Action        string   `json:"action,omitempty"`
	Path          string   `json:"path,omitempty"`
	Port          int      `json:"port,omitempty"`
	Seconds       int      `json:"seconds,omitempty"`
	Detect        []string `json:"detect,omitempty"`
}

func unquote(s string) string { return strings.ReplaceAll(s, `'\''`, "'") }

// modDeps are the modules a2enmod enables along with one, as Debian's .load files declare.
var modDeps = map[string][]string{"proxy_http": {"proxy"}, "proxy_wstunnel": {"proxy"}}

func (h *Host) run(cmd string) ([]byte, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.record("run", cmd); err != nil {
		return nil, err
	}
	out, err := h.exec(cmd)
	if derr := h.done(nil); derr != nil {
		return nil, derr
	}
	return out, err
}

func (h *Host) exec(cmd string) ([]byte, error) {
	fail := func(format string, a ...any) ([]byte, error) {
		return nil, &target.CommandError{Host: h.name, Err: fmt.Errorf("Process exited with status 1"), Stderr: fmt.Sprintf(format, a...)}
	}
	if h.Windows {
		return h.execWindows(cmd)
	}
	switch {
	case strings.Contains(cmd, "@@frontdoor-gather v1"):
		return []byte(h.gather(cmd)), nil
	case strings.HasPrefix(cmd, map[bool]string{false: "apache2ctl", true: "apachectl"}[h.RedHat]+" configtest"):
		if msg := h.configtest(); msg != "" {
			return fail("%s\nAction 'configtest' failed.\nThe Apache error log may have more information.", msg)
		}
		if msg := h.shadowed(cmd); msg != "" {
			return fail("%s", msg)
		}
		return []byte("Syntax OK\n"), nil
	case unlockRe.MatchString(cmd):
		m := unlockRe.FindStringSubmatch(cmd)
		if h.Lock == unquote(m[1]) {
			h.Lock = ""
		} else if m[2] == "" {
			return fail("")
		}
		return nil, nil
	case mkdirRe.MatchString(cmd):
		return nil, nil
	case h.RedHat && (cmd == "setsebool -P httpd_can_network_connect 1" || cmd == "setsebool -P httpd_can_network_connect 0"):
		h.NetworkConnect = strings.HasSuffix(cmd, "1")
		return nil, nil
	case strings.HasPrefix(cmd, winPrefix):
		if verb, _ := winVerb(cmd); verb == "mkdir" {
			return nil, nil
		}
	}
	if m := a2Re.FindStringSubmatch(cmd); m != nil && !h.RedHat {
		return h.a2(m[1], m[2])
	}
	if m := systemctl.FindStringSubmatch(cmd); m != nil {
		return h.service(m[2], m[1])
	}
	if m := readyRe.FindStringSubmatch(strings.ReplaceAll(cmd, "\n", " ")); m != nil {
		port, _ := strconv.Atoi(m[1])
		if h.portRunning(port) {
			return nil, nil
		}
		return fail("%s does not answer on port %d", m[2], port)
	}
	return fail("memhost: %q is not a command this emulated host knows", cmd)
}

func (h *Host) a2(tool, name string) ([]byte, error) {
	fail := func(msg string) ([]byte, error) {
		return nil, &target.CommandError{Host: h.name, Err: fmt.Errorf("Process exited with status 1"), Stderr: msg}
	}
	switch tool {
	case "a2enmod":
		if !knownModules[name] {
			return fail("ERROR: Module " + name + " does not exist!")
		}
		for _, d := range modDeps[name] {
			h.Modules[d] = true
		}
		h.Modules[name] = true
	case "a2dismod":
		delete(h.Modules, name)
	case "a2ensite":
		if _, ok := h.Files["/etc/apache2/sites-available/"+name+".conf"]; !ok {
			return fail("ERROR: Site " + name + " does not exist!")
		}
		h.Sites[name] = true
	case "a2dissite":
		delete(h.Sites, name)
	}
	return nil, nil
}

var knownModules = map[string]bool{"proxy": true, "proxy_http": true, "proxy_wstunnel": true, "rewrite": true, "remoteip": true, "headers": true, "ssl": true}

func (h *Host) service(name, action string) ([]byte, error) {
	s, ok := h.Services[name]
	if !ok {
		return nil, &target.CommandError{Host: h.name, Err: fmt.Errorf("Process exited with status 5"), Stderr: "Failed to " + action + " " + name + ".service: Unit " + name + ".service not found."}
	}
	if action == "stop" {
		s.Running = false
		return nil, nil
	}
	if name == h.httpd() {
		if msg := h.configtest(); msg != "" {
			s.Running = false
			return nil, &target.CommandError{Host: h.name, Err: fmt.Errorf("Process exited with status 1"), Stderr: "Job for apache2.service failed because the control process exited with error code."}
		}
	}
	s.Running = !s.NoStart
	return nil, nil
}

// configtest answers as apache2ctl configtest would: every enabled site's file must exist and
// ProxyPass needs mod_proxy (Apache's own message when it is missing).
func (h *Host) configtest() string {
	if h.Windows {
		if _, missing := h.winIncludes(); missing != "" {
			return missing
		}
	}
	for _, p := range h.enabledSiteFiles() {
		f, ok := h.Files[p]
		if !ok {
			return "apache2: Syntax error: Could not open configuration file " + strings.Replace(p, "sites-available", "sites-enabled", 1) + ": No such file or directory"
		}
		for i, line := range strings.Split(string(f.Data), "\n") {
			fs := strings.Fields(line)
			if len(fs) == 0 {
				continue
			}
			if (fs[0] == "ProxyPass" || fs[0] == "ProxyPassReverse") && !h.loaded("proxy") {
				return fmt.Sprintf("AH00526: Syntax error on line %d of %s:\nInvalid command '%s', perhaps misspelled or defined by a module not included in the server configuration", i+1, p, fs[0])
			}
			for cmd, mod := range map[string]string{"RemoteIPHeader": "remoteip", "RewriteEngine": "rewrite"} {
				if fs[0] == cmd && !h.loaded(mod) {
					return fmt.Sprintf("AH00526: Syntax error on line %d of %s:\nInvalid command '%s', perhaps misspelled or defined by a module not included in the server configuration", i+1, p, cmd)
				}
			}
		}
	}
	return ""
}

var (
	shadowFileRe = regexp.MustCompile(`\*'/([^']+):'\*`)
	shadowNameRe = regexp.MustCompile(`echo 'ServerName (\S+) on port (\d+)`)
)

// shadowed answers the check that follows configtest in httpd's Validate (apache2ctl -S): the
// VirtualHost file named must be the first enabled site, in Apache's (alphabetical) order, that
// declares the ServerName; "" when it is.
func (h *Host) shadowed(cmd string) string {
	files, names := shadowFileRe.FindAllStringSubmatch(cmd, -1), shadowNameRe.FindAllStringSubmatch(cmd, -1)
	for i := range files {
		if i >= len(names) {
			break
		}
		first := ""
		for _, p := range h.enabledSiteFiles() {
			if m := serverNameRe.FindStringSubmatch(string(h.Files[p].Data)); m != nil && m[1] == names[i][1] {
				first = p
				break
			}
		}
		if !strings.HasSuffix(first, "/"+files[i][1]) {
			return fmt.Sprintf("ServerName %s on port %s is served first by another VirtualHost: %s", names[i][1], names[i][2], first)
		}
	}
	return ""
}

// gather answers distro.Script with the host's state, section by section as the script prints.
func (h *Host) gather(cmd string) string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	w("@@frontdoor-gather v1\n@@ os-release\n%s", h.OS)
	w("@@ kv\nuid=0\nkernel=Linux 6.1.0-28-amd64\ninit=systemd\nsftp=/usr/lib/openssh/sftp-server\n")
	listenFiles := append([]string{"/etc/apache2/ports.conf"}, h.enabledSiteFiles()...)
	if h.RedHat {
		listenFiles = append([]string{"/etc/httpd/conf/httpd.conf"}, h.enabledSiteFiles()...)
		w("apache_layout=redhat\napache_running=%d\n", map[bool]int{true: 1}[h.Services["httpd"].Running])
		w("bin=apachectl\nbin=httpd\nbin=systemctl\nbin=service\n")
		w("apache_version=Server version: Apache/2.4.62 (Debian)\n") // the lab's httpd is Debian's binary
		w("selinux=Enforcing\nsebool=httpd_can_network_connect --> %s\n", map[bool]string{false: "off", true: "on"}[h.NetworkConnect])
	} else {
		w("apache_layout=debian\napache_running=%d\n", map[bool]int{true: 1}[h.Services["apache2"].Running])
		w("bin=apache2ctl\nbin=a2enmod\nbin=a2ensite\nbin=systemctl\nbin=service\n")
		w("apache_version=Server version: Apache/2.4.71 (Debian)\n")
	}
	w("@@ list mods-enabled\n")
	for _, m := range sortedKeys(h.Modules) {
		w("%s.load\n", m)
	}
	w("@@ list sites-enabled\n")
	for _, s := range sortedKeys(h.Sites) {
		w("%s.conf\n", s)
	}
	w("@@ apache-listen\n")
	for _, p := range listenFiles {
		for _, line := range strings.Split(string(h.Files[p].Data), "\n") {
			if fs := strings.Fields(line); len(fs) >= 2 && strings.EqualFold(fs[0], "listen") {
				w("%s %s\n", strings.Replace(p, "sites-available", "sites-enabled", 1), fs[1])
			}
		}
	}
	w("@@ list conf-modules\n")
	if h.RedHat {
		for _, p := range h.redhatModuleFiles(false) {
			w("%s\n", p)
		}
		for _, p := range h.redhatModuleFiles(true) {
			f := h.Files[p]
			w("@@ file %s\nstat %o %d %d %d\n%s\n", p, f.Mode, f.UID, f.GID, len(f.Data), base64.StdEncoding.EncodeToString(f.Data))
		}
	}
	for _, m := range fileRe.FindAllStringSubmatch(cmd, -1) {
		p := unquote(m[1])
		w("@@ file %s\n", p)
		f, ok := h.Files[p]
		if !ok {
			w("missing\n")
			continue
		}
		w("stat %o %d %d %d\n%s\n", f.Mode, f.UID, f.GID, len(f.Data), base64.StdEncoding.EncodeToString(f.Data))
	}
	if strings.Contains(cmd, "echo '@@ listen'") {
		w("@@ listen\n")
		for _, n := range sortedKeys(h.Services) {
			if s := h.Services[n]; s.Running && s.Port > 0 {
				w("%04X\n", s.Port)
				if s.Also > 0 {
					w("%04X\n", s.Also)
				}
			}
		}
	}
	if m := serviceRe.FindAllStringSubmatch(cmd, -1); m != nil {
		w("@@ services\n")
		for _, s := range m {
			name := unquote(s[1])
			if _, ok := h.Services[name]; ok {
				w("%s=systemd\n", name)
			} else {
				w("%s=none\n", name)
			}
		}
	}
	w("@@ statedir\n")
	if h.StateDir != "" {
		w("%s %s\n", stateDir, h.StateDir)
	}
	w("@@ lock\n")
	if m := lockRe.FindStringSubmatch(cmd); m != nil && h.Lock == "" && (h.StateDir == "" || h.StateDir == "0 700 directory") {
		h.Lock = unquote(m[1])
		w("acquired\n")
	}
	if h.Lock != "" {
		w("%s\n", h.Lock)
	}
	w("@@ runs\n")
	for _, r := range h.runs(stateDir) {
		w("%s %s\n", r[0], r[1])
	}
	w("@@ end\n")
	return b.String()
}

// runs are the runs journaled under a state directory, as (id, state) in order; state is ""
// when the journal holds none.
func (h *Host) runs(dir string) [][2]string {
	var out [][2]string
	for _, p := range sortedKeys(h.Files) {
		if rest, ok := strings.CutPrefix(p, dir+"/runs/"); ok && strings.HasSuffix(rest, "/journal.json") && strings.Count(rest, "/") == 1 {
			state := ""
			if m := runStateRe.FindSubmatch(h.Files[p].Data); m != nil {
				state = string(m[1])
			}
			out = append(out, [2]string{strings.TrimSuffix(rest, "/journal.json"), state})
		}
	}
	return out
}

func (h *Host) enabledSiteFiles() []string {
	var out []string
	if h.Windows {
		// conf/extra files that httpd.conf includes.
		files, _ := h.winIncludes()
		return files
	}
	if h.RedHat {
		// conf.d/*.conf, read by httpd.conf's IncludeOptional in ls order.
		for _, p := range sortedKeys(h.Files) {
			if rest, ok := strings.CutPrefix(p, "/etc/httpd/conf.d/"); ok && strings.HasSuffix(rest, ".conf") && !strings.Contains(rest, "/") {
				out = append(out, p)
			}
		}
		return out
	}
	for _, s := range sortedKeys(h.Sites) {
		out = append(out, "/etc/apache2/sites-available/"+s+".conf")
	}
	return out
}

var (
	serverNameRe = regexp.MustCompile(`(?m)^\s*ServerName\s+(\S+)`)
	proxyPassRe  = regexp.MustCompile(`(?m)^\s*ProxyPass\s+(\S+)\s+http://[^:/]+:(\d+)`)
)

// ServeHTTP plays the host's Apache for verification: a request reaches an app when httpd runs,
// an enabled site names the request's host as its ServerName and proxies the path to the port of
// a running service (with mod_proxy_http enabled). The app answers its root with 200 and Jira's
// serverInfo with the base URL it is reached at; anything else is Apache's 404 or 503.
func (h *Host) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	// A request is an operation too: a fault fails it with 502 (as Apache does when the backend
	// fails), and a lost connection (the host unreachable) resets it.
	if err := h.record("http", r.Method+" "+r.Host+r.URL.RequestURI()); err != nil || h.lostAfter || h.timedOut {
		if h.lost || h.lostAfter || h.timedOut {
			h.lostAfter, h.lost = false, h.lost || h.lostAfter
			h.timedOut = false
			if c, _, herr := http.NewResponseController(w).Hijack(); herr == nil {
				if tc, ok := c.(*net.TCPConn); ok {
					tc.SetLinger(0) // a reset, as a cut link's next packet gets
				}
				c.Close()
			}
			return
		}
		http.Error(w, "Bad Gateway", http.StatusBadGateway)
		return
	}
	if !h.Services[h.httpd()].Running {
		http.Error(w, "httpd is not running", http.StatusBadGateway)
		return
	}
	host := r.Host
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	for _, p := range h.enabledSiteFiles() {
		data := string(h.Files[p].Data)
		m := serverNameRe.FindStringSubmatch(data)
		if m == nil || m[1] != host {
			continue
		}
		for _, pp := range proxyPassRe.FindAllStringSubmatch(data, -1) {
			prefix := strings.TrimSuffix(pp[1], "/")
			if !strings.HasPrefix(r.URL.Path, prefix+"/") && r.URL.Path != prefix {
				continue
			}
			port, _ := strconv.Atoi(pp[2])
			// SELinux (Enforcing) denies httpd's connection to the app without the boolean.
			if !h.loaded("proxy_http") || !h.portRunning(port) || (h.RedHat && !h.NetworkConnect) {
				http.Error(w, "Service Unavailable", http.StatusServiceUnavailable)
				return
			}
			if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
				h.upgrade(w, data, port)
				return
			}
			base := "http://" + r.Host + prefix
			if strings.HasSuffix(r.URL.Path, "/rest/api/2/serverInfo") {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprintf(w, `{"baseUrl":%q,"version":"9.15.2"}`, base)
				return
			}
			fmt.Fprintln(w, "<html>app at "+base+"</html>")
			return
		}
	}
	http.NotFound(w, r)
}

var wsRuleRe = regexp.MustCompile(`(?m)^\s*RewriteRule\s+\S+\s+ws://[^:/]+:(\d+)`)

// upgrade answers a WebSocket upgrade as Apache does: switched (101) when the vhost rewrites it to
// ws:// on the proxied port with mod_rewrite and mod_proxy_wstunnel loaded; else the request goes
// to the app over plain HTTP, which does not switch (Synchrony answers such a GET with 400).
func (h *Host) upgrade(w http.ResponseWriter, vhost string, port int) {
	for _, m := range wsRuleRe.FindAllStringSubmatch(vhost, -1) {
		if p, _ := strconv.Atoi(m[1]); p == port && h.loaded("rewrite") && h.loaded("proxy_wstunnel") {
			if c, buf, err := http.NewResponseController(w).Hijack(); err == nil {
				buf.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
				buf.Flush()
				c.Close()
			}
			return
		}
	}
	http.Error(w, "Can \"Upgrade\" only to \"WebSocket\".", http.StatusBadRequest)
}

func (h *Host) portRunning(port int) bool {
	for _, s := range h.Services {
		if s.Running && (s.Port == port || s.Also == port) {
			return true
		}
	}
	return false
}
