// Package memhost owns the in-memory host: an EMULATED Debian 12 host with Apache 2.4 and
// Atlassian apps, kept as state in memory (files, enabled modules and sites, services, the
// frontdoor lock), that answers frontdoor's remote operations the way the real commands answer
// them on the lab's real hosts: the gather script (in the format distro.ParseGather reads),
// a2enmod/a2dismod/a2ensite/a2dissite, apache2ctl configtest, systemctl, the readiness wait, the
// lock's unlock, mkdir. A command it does not know fails, so a test cannot pass on a command
// nobody emulated. Faults can be injected at every operation (Fail), and its HTTP handler plays
// the host's Apache for verification through the proxy. It is a transport beside ssh and local,
// for unit tests of the session, fleet and cmd without the lab; it is not a Windows host.
package memhost

import (
	"context"
	_ "embed"
	"encoding/base64"
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
	Port    int
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
	mu       sync.Mutex
	name     string
	OS       string
	Files    map[string]target.File
	Modules  map[string]bool // mods-enabled
	Sites    map[string]bool // sites-enabled
	Services map[string]*Service
	Lock     string // the lock symlink's target, "" when unlocked
	// StateDir is what stat says of /var/lib/frontdoor ("uid mode type", or "symlink"); "" is
	// root's 0700 directory, or none yet.
	StateDir string
	Faults   []*Fault
	// Log is every operation, in order: "run CMD", "read PATH", "write PATH", "remove PATH".
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
}

// done ends an operation: its answer is lost when the connection was cut while it ran.
func (h *Host) done(err error) error {
	if h.lostAfter {
		h.lostAfter, h.lost = false, true
		return fmt.Errorf("%s: connection lost", h.name)
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
// operation (the link cut while it ran).
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

// Fail adds a fault; see Fault.
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
		if strings.HasPrefix(p, stateDir+"/") {
			continue // frontdoor's own journals and backups
		}
		f := h.Files[p]
		fmt.Fprintf(&b, "file %s %o %d:%d %x\n", p, f.Mode, f.UID, f.GID, f.Data)
	}
	fmt.Fprintf(&b, "modules %v\nsites %v\n", sortedKeys(h.Modules), sortedKeys(h.Sites))
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
	h.trips.Add(1)
	h.Log = append(h.Log, op+" "+arg)
	h.count++
	if h.armAt == h.count {
		switch h.armKind {
		case "lost":
			h.lost = true
		case "lost-after":
			h.lostAfter = true // it runs; its answer is lost (done)
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

func winVerb(cmd string) string {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(cmd, winPrefix))
	if err != nil || len(raw)%2 != 0 {
		return ""
	}
	u := make([]uint16, len(raw)/2)
	for i := range u {
		u[i] = uint16(raw[2*i]) | uint16(raw[2*i+1])<<8
	}
	line, _, _ := strings.Cut(string(utf16.Decode(u)), "\n")
	verb, _, _ := strings.Cut(strings.TrimPrefix(line, "# frontdoor:"), " ")
	return verb
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
	switch {
	case strings.Contains(cmd, "@@frontdoor-gather v1"):
		return []byte(h.gather(cmd)), nil
	case strings.HasPrefix(cmd, "apache2ctl configtest"):
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
	case strings.HasPrefix(cmd, winPrefix):
		if verb := winVerb(cmd); verb == "mkdir" {
			return nil, nil
		}
	}
	if m := a2Re.FindStringSubmatch(cmd); m != nil {
		return h.a2(m[1], m[2])
	}
	if m := systemctl.FindStringSubmatch(cmd); m != nil {
		return h.service(m[2], m[1])
	}
	if m := readyRe.FindStringSubmatch(strings.ReplaceAll(cmd, "\n", " ")); m != nil {
		port, _ := strconv.Atoi(m[1])
		for _, s := range h.Services {
			if s.Running && s.Port == port {
				return nil, nil
			}
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
	if name == "apache2" {
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
	for _, site := range sortedKeys(h.Sites) {
		p := "/etc/apache2/sites-available/" + site + ".conf"
		f, ok := h.Files[p]
		if !ok {
			return "apache2: Syntax error: Could not open configuration file /etc/apache2/sites-enabled/" + site + ".conf: No such file or directory"
		}
		for i, line := range strings.Split(string(f.Data), "\n") {
			fs := strings.Fields(line)
			if len(fs) == 0 {
				continue
			}
			if (fs[0] == "ProxyPass" || fs[0] == "ProxyPassReverse") && !h.Modules["proxy"] {
				return fmt.Sprintf("AH00526: Syntax error on line %d of %s:\nInvalid command '%s', perhaps misspelled or defined by a module not included in the server configuration", i+1, p, fs[0])
			}
			if fs[0] == "RemoteIPHeader" && !h.Modules["remoteip"] {
				return fmt.Sprintf("AH00526: Syntax error on line %d of %s:\nInvalid command 'RemoteIPHeader', perhaps misspelled or defined by a module not included in the server configuration", i+1, p)
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
	w("@@ kv\nuid=0\nkernel=Linux 6.1.0-28-amd64\ninit=systemd\nsftp=/usr/lib/openssh/sftp-server\napache_layout=debian\n")
	w("apache_running=%d\n", map[bool]int{true: 1}[h.Services["apache2"].Running])
	w("bin=apache2ctl\nbin=a2enmod\nbin=a2ensite\nbin=systemctl\nbin=service\n")
	w("apache_version=Server version: Apache/2.4.71 (Debian)\n")
	w("@@ list mods-enabled\n")
	for _, m := range sortedKeys(h.Modules) {
		w("%s.load\n", m)
	}
	w("@@ list sites-enabled\n")
	for _, s := range sortedKeys(h.Sites) {
		w("%s.conf\n", s)
	}
	w("@@ apache-listen\n")
	for _, p := range append([]string{"/etc/apache2/ports.conf"}, h.enabledSiteFiles()...) {
		for _, line := range strings.Split(string(h.Files[p].Data), "\n") {
			if fs := strings.Fields(line); len(fs) >= 2 && strings.EqualFold(fs[0], "listen") {
				w("%s %s\n", strings.Replace(p, "sites-available", "sites-enabled", 1), fs[1])
			}
		}
	}
	w("@@ list conf-modules\n")
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
	for _, p := range sortedKeys(h.Files) {
		if rest, ok := strings.CutPrefix(p, stateDir+"/runs/"); ok && strings.HasSuffix(rest, "/journal.json") && strings.Count(rest, "/") == 1 {
			state := ""
			if m := runStateRe.FindSubmatch(h.Files[p].Data); m != nil {
				state = string(m[1])
			}
			w("%s %s\n", strings.TrimSuffix(rest, "/journal.json"), state)
		}
	}
	w("@@ end\n")
	return b.String()
}

func (h *Host) enabledSiteFiles() []string {
	var out []string
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
	if !h.Services["apache2"].Running {
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
			if !h.Modules["proxy_http"] || !h.portRunning(port) {
				http.Error(w, "Service Unavailable", http.StatusServiceUnavailable)
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

func (h *Host) portRunning(port int) bool {
	for _, s := range h.Services {
		if s.Running && s.Port == port {
			return true
		}
	}
	return false
}
