package distro

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/frontdoor-dev/frontdoor/target"
)

// ParseOSRelease parses os-release(5) text: KEY=value lines, values optionally quoted.
func ParseOSRelease(text string) OSRelease {
	kv := map[string]string{}
	for _, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		line = strings.TrimSpace(line)
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
			v = strings.NewReplacer(`\"`, `"`, `\\`, `\`, "\\$", "$", "\\`", "`").Replace(v)
		}
		kv[k] = v
	}
	return OSRelease{ID: kv["ID"], VersionID: kv["VERSION_ID"], Name: kv["NAME"], PrettyName: kv["PRETTY_NAME"], IDLike: strings.Fields(kv["ID_LIKE"])}
}

var verRe = regexp.MustCompile(`Microsoft Windows \[Version ([0-9.]+)\]`)

// ParseVer parses the output of cmd.exe's ver: "Microsoft Windows [Version 10.0.20348.2340]".
func ParseVer(text string) (string, bool) {
	m := verRe.FindStringSubmatch(text)
	if m == nil {
		return "", false
	}
	return "Microsoft Windows " + m[1], true
}

// ParseSysteminfo returns the "OS Name" and "OS Version" of systeminfo's output.
func ParseSysteminfo(text string) (name, version string) {
	for _, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "OS Name":
			name = strings.TrimSpace(v)
		case "OS Version":
			version = strings.TrimSpace(v)
		}
	}
	return name, version
}

var apacheVersionRe = regexp.MustCompile(`Apache/([0-9][0-9.]*)`)

// ParseGather turns the output of Script into Facts. It is pure, so captured outputs test it.
func ParseGather(out string) (*Facts, error) {
	f := &Facts{Files: map[string]target.File{}, Listening: map[int]bool{}, Services: map[string]string{},
		Apache: Apache{Modules: map[string]bool{}, Sites: map[string]bool{}, Listen: map[int][]string{}}}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	if !sc.Scan() || sc.Text() != header {
		return nil, fmt.Errorf("gather output does not start with %q: not a POSIX shell, or the script failed", header)
	}
	var section, arg string
	var body []string
	complete := false
	flush := func() error {
		if err := f.section(section, arg, body); err != nil {
			return fmt.Errorf("gather section %q %s: %w", section, arg, err)
		}
		body = body[:0]
		return nil
	}
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "@@ ") {
			if err := flush(); err != nil {
				return nil, err
			}
			section, arg, _ = strings.Cut(line[3:], " ")
			if section == "end" {
				complete = true
				break
			}
			continue
		}
		body = append(body, line)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if !complete {
		return nil, fmt.Errorf("gather output is truncated (no end marker)")
	}
	if f.Family != Windows {
		f.Family = ClassifyOS(f.OS)
	}
	if f.Apache.Layout == "windows" && len(f.Apache.ModuleFiles) == 1 {
		// One httpd.conf: its LoadModule lines are the modules, its Listen lines the ports.
		conf := f.Files[f.Apache.ModuleFiles[0]]
		for _, lm := range LoadModules(conf.Data) {
			if !lm.Commented {
				f.Apache.Modules[lm.Module] = true
			}
		}
		for _, line := range strings.Split(string(conf.Data), "\n") {
			fs := strings.Fields(line)
			if len(fs) >= 2 && strings.EqualFold(fs[0], "Listen") {
				addr := fs[1]
				if i := strings.LastIndexByte(addr, ':'); i >= 0 {
					addr = addr[i+1:]
				}
				if port, err := strconv.Atoi(addr); err == nil {
					f.Apache.Listen[port] = append(f.Apache.Listen[port], conf.Path)
				}
			}
		}
	}
	if f.Apache.Layout == "redhat" {
		// httpd.conf loads conf.modules.d/*.conf near its top; both are read for LoadModule lines.
		f.Apache.ModuleFiles = append([]string{"/etc/httpd/conf/httpd.conf"}, f.Apache.ModuleFiles...)
		for _, p := range f.Apache.ModuleFiles {
			for _, lm := range LoadModules(f.Files[p].Data) {
				if !lm.Commented {
					f.Apache.Modules[lm.Module] = true
				}
			}
		}
	}
	return f, nil
}

// LoadModuleLine is one LoadModule directive of a file, active or commented out.
type LoadModuleLine struct {
	Module     string // as Debian names it: "proxy_http" for proxy_http_module
	Commented  bool
	Start, End int // byte offsets of the line, without its line ending
	Hash       int // offset of the "#" that comments it out (Commented only)
}

var loadModuleRe = regexp.MustCompile(`^[ \t]*(#[ \t]*)?LoadModule[ \t]+([A-Za-z0-9_]+)_module[ \t]+\S+`)

// LoadModules finds the LoadModule lines of an Apache configuration file, in order.
func LoadModules(data []byte) []LoadModuleLine {
	var out []LoadModuleLine
	for start := 0; start < len(data); {
		end := bytes.IndexByte(data[start:], '\n')
		next := len(data)
		if end < 0 {
			end = len(data)
		} else {
			end += start
			next = end + 1
		}
		line := bytes.TrimSuffix(data[start:end], []byte("\r"))
		if m := loadModuleRe.FindSubmatchIndex(line); m != nil {
			lm := LoadModuleLine{Module: string(line[m[4]:m[5]]), Start: start, End: start + len(line)}
			if m[2] >= 0 {
				lm.Commented, lm.Hash = true, start+m[2]
			}
			out = append(out, lm)
		}
		start = next
	}
	return out
}

// holderRe finds the program names in ss's users:(("name",pid=N,fd=N),...).
var holderRe = regexp.MustCompile(`\("([^"]+)",pid=`)

func (f *Facts) section(name, arg string, body []string) error {
	switch name {
	case "":
		return nil
	case "os-release":
		f.OS = ParseOSRelease(strings.Join(body, "\n"))
	case "statedir":
		for _, l := range body {
			dir, st, _ := strings.Cut(l, " ")
			if st != "0 700 directory" {
				f.StateDirProblems = append(f.StateDirProblems, fmt.Sprintf("%s is %s", dir, describeStat(st)))
			}
		}
	case "lock":
		for _, l := range body {
			if l == "acquired" {
				f.LockAcquired = true
			} else if l != "" {
				f.LockHolder = l
			}
		}
	case "winservices":
		f.WinServices = map[string][]string{}
		for _, l := range body {
			if product, svc, ok := strings.Cut(l, "="); ok && svc != "" {
				f.WinServices[product] = append(f.WinServices[product], svc)
			}
		}
	case "runs":
		f.Runs = map[string]string{}
		for _, l := range body {
			if id, state, ok := strings.Cut(l, " "); ok && id != "" {
				f.Runs[id] = state
			}
		}
	case "kv":
		f.parseKV(body)
	case "list":
		f.parseList(arg, body)
	case "file":
		return f.parseFile(arg, body)
	case "apache-listen":
		for _, l := range body {
			file, addr, ok := strings.Cut(l, " ")
			if !ok {
				continue
			}
			// "80", "0.0.0.0:80", "[::]:80": the port is after the last colon.
			if i := strings.LastIndexByte(addr, ':'); i >= 0 {
				addr = addr[i+1:]
			}
			if port, err := strconv.Atoi(addr); err == nil {
				f.Apache.Listen[port] = append(f.Apache.Listen[port], file)
			}
		}
	case "services":
		for _, l := range body {
			if k, v, ok := strings.Cut(l, "="); ok {
				f.Services[k] = v
			}
		}
	case "disk":
		f.DiskFree = map[string]int64{}
		for _, l := range body {
			if d, kb, ok := strings.Cut(l, " "); ok {
				if n, err := strconv.ParseInt(kb, 10, 64); err == nil {
					f.DiskFree[d] = n * 1024
				}
			}
		}
	case "holders":
		for _, l := range body {
			if l == "known" { // ss ran: an absent port is one nothing listens on
				f.PortHolders = map[int][]string{}
				continue
			}
			if f.PortHolders == nil {
				break
			}
			// "0.0.0.0:80 users:(("apache2",pid=9,fd=4),("apache2",pid=10,fd=4))", "[::]:22 ...".
			addr, users, _ := strings.Cut(l, " ")
			port, err := strconv.Atoi(addr[strings.LastIndexByte(addr, ':')+1:])
			if err != nil {
				continue
			}
			for _, m := range holderRe.FindAllStringSubmatch(users, -1) {
				if !slices.Contains(f.PortHolders[port], m[1]) {
					f.PortHolders[port] = append(f.PortHolders[port], m[1])
				}
			}
			if _, ok := f.PortHolders[port]; !ok {
				f.PortHolders[port] = nil // listening, by a program ss did not name
			}
		}
	case "firewall":
		f.parseFirewall(body)
	case "listen":
		for _, l := range body {
			if port, err := strconv.ParseUint(strings.TrimSpace(l), 16, 16); err == nil {
				f.Listening[int(port)] = true
			}
		}
	default:
		return fmt.Errorf("unknown section")
	}
	return nil
}

// parseKV reads the key=value lines of the gather (uid, kernel, init, Apache, SELinux, ...).
func (f *Facts) parseKV(body []string) {
	for _, l := range body {
		k, v, _ := strings.Cut(l, "=")
		switch k {
		case "uid":
			f.UID, _ = strconv.Atoi(v)
		case "kernel":
			f.Kernel = v
		case "init":
			f.Init = v
		case "sftp":
			f.SFTPServer = v
		case "apache_layout":
			f.Apache.Layout = v
		case "apache_running":
			f.Apache.Running = v == "1"
		case "apache_version":
			if m := apacheVersionRe.FindStringSubmatch(v); m != nil {
				f.Apache.Version = m[1]
			}
		case "bin":
			f.Apache.Binaries = append(f.Apache.Binaries, v)
		case "family":
			if v == "windows" {
				f.Family = Windows
			}
		case "windows":
			f.Windows = v
		case "apache_conf":
			f.Apache.ModuleFiles = []string{v}
		case "selinux":
			f.SELinux.Mode = strings.TrimSpace(v)
		case "clock":
			f.Clock, _ = strconv.ParseInt(v, 10, 64)
		case "sebool":
			// "httpd_can_network_connect --> on"; "getsebool:  SELinux is disabled" otherwise.
			if _, val, ok := strings.Cut(v, "-->"); ok {
				f.SELinux.NetworkConnect = strings.TrimSpace(val) == "on"
				f.SELinux.NetworkConnectKnown = true
			}
		}
	}
}

// parseList reads a directory listing: enabled modules and sites (Debian), the files that load
// modules (Red Hat).
func (f *Facts) parseList(arg string, body []string) {
	set := map[string]bool{}
	for _, l := range body {
		switch {
		case arg == "mods-enabled" && strings.HasSuffix(l, ".load"):
			set[strings.TrimSuffix(l, ".load")] = true
		case arg == "sites-enabled" && strings.HasSuffix(l, ".conf"):
			set[strings.TrimSuffix(l, ".conf")] = true
		case arg == "conf-modules" && l != "":
			f.Apache.ModuleFiles = append(f.Apache.ModuleFiles, l)
		}
	}
	switch arg {
	case "mods-enabled":
		f.Apache.Modules = set
	case "sites-enabled":
		f.Apache.Sites = set
	}
}

func (f *Facts) parseFile(path string, body []string) error {
	if len(body) == 0 {
		return fmt.Errorf("empty")
	}
	if body[0] == "missing" {
		f.Files[path] = target.File{Path: path}
		return nil
	}
	var mode, uid, gid, size int64
	if _, err := fmt.Sscanf(body[0], "stat %o %d %d %d", &mode, &uid, &gid, &size); err != nil {
		return fmt.Errorf("bad stat line %q", body[0])
	}
	data, err := base64.StdEncoding.DecodeString(strings.Join(body[1:], ""))
	if err != nil {
		return fmt.Errorf("bad base64: %w", err)
	}
	if int64(len(data)) != size {
		return fmt.Errorf("read %d bytes, stat said %d (file changed while gathering?)", len(data), size)
	}
	f.Files[path] = target.File{Path: path, Exists: true, Data: data, Mode: fs.FileMode(mode) & fs.ModePerm, UID: int(uid), GID: int(gid)}
	return nil
}

// describeStat says what is wrong with a state directory found as "uid mode type" (or "symlink").
func describeStat(st string) string {
	if st == "symlink" {
		return "a symlink"
	}
	if who, ok := strings.CutPrefix(st, "acl "); ok {
		return "open to " + who + " (want only SYSTEM and Administrators, not inherited)"
	}
	f := strings.SplitN(st, " ", 3)
	if len(f) < 3 {
		return st
	}
	return fmt.Sprintf("a %s owned by uid %s with mode %s (want a directory owned by root, mode 700)", f[2], f[0], f[1])
}
