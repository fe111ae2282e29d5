package apache

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/frontdoor-dev/frontdoor/distro"
	"github.com/frontdoor-dev/frontdoor/steps"
)

// Windows is where Apache lives on a Windows host (Apache Lounge's layout): its ServerRoot and
// its Windows service.
type Windows struct {
	Root    string // native, e.g. C:\Apache24
	Service string // e.g. Apache2.4
}

// conf is httpd.conf's SFTP path.
func (w Windows) conf() string { return distro.SFTPPath(w.Root) + "/conf/httpd.conf" }

// WindowsVHostPath is where a VirtualHost lives on a Windows host: conf/extra, included by one
// line of httpd.conf.
func (w Windows) VHostPath(v VHost) string {
	return distro.SFTPPath(w.Root) + "/conf/extra/" + v.Site() + ".conf"
}

// include is the httpd.conf line that loads a vhost file (relative to ServerRoot).
func include(v VHost) string { return "Include conf/extra/" + v.Site() + ".conf" }

// Files are what the Windows steps read.
func (w Windows) Files(vhosts []VHost) []string {
	out := []string{w.conf()}
	for _, v := range vhosts {
		out = append(out, w.VHostPath(v))
		if v.TLS != nil { // an earlier http apply's vhost, and uploaded certificate files
			p := CertPaths("windows", w, v.Site())
			out = append(out, w.VHostPath(PlainSite(v)), p.Cert, p.Key)
		}
	}
	return out
}

// WindowsSteps returns the steps on a Windows host: one edit of httpd.conf that uncomments the
// needed LoadModule lines (Apache Lounge ships them commented), adds those it lacks, and adds one
// Include line per frontdoor vhost; then each vhost's file in conf/extra. Files keep CRLF.
func WindowsSteps(f *distro.Facts, vhosts []VHost, w Windows) []steps.Step {
	conf := f.File(w.conf())
	var uncomment, add []string
	for _, m := range Modules(vhosts) {
		switch {
		case f.Apache.Modules[m]:
		case commentedIn(f, m) != "":
			uncomment = append(uncomment, m)
		default:
			add = append(add, m)
		}
	}
	var includes, drop []string
	for _, v := range vhosts {
		if !hasLine(conf.Data, include(v)) {
			includes = append(includes, include(v))
		}
	}
	for _, old := range retired(vhosts) {
		if hasLine(conf.Data, include(old)) {
			drop = append(drop, include(old))
		}
	}
	what := strings.Join(append(append(append(append([]string(nil), uncomment...), add...), includes...), drop...), ", ")
	out := []steps.Step{&steps.FileStep{
		Label:   "apache: httpd.conf",
		Current: conf,
		Notify:  []string{Service},
		Reason:  "httpd.conf already loads the modules and includes frontdoor's vhosts",
		Edit: func(cur []byte) ([]byte, error) {
			if cur == nil {
				return nil, fmt.Errorf("no httpd.conf under %s (set apache.windows_root)", w.Root)
			}
			if what == "" {
				return cur, nil
			}
			out := dropLines(uncommentModules(cur, uncomment), drop)
			var lines []string
			for _, m := range add {
				lines = append(lines, fmt.Sprintf("LoadModule %s_module modules/mod_%s.so", m, m))
			}
			lines = append(lines, includes...)
			return appendLines(out, "# frontdoor: reverse proxy for Atlassian applications", lines), nil
		},
	}}
	out = append(out, retirePlainSites(f, vhosts, w.VHostPath)...)
	for _, v := range vhosts {
		st := vhostStep(f, v, w.VHostPath(v)).(*steps.FileStep)
		lf := st.Edit
		st.Edit = func(cur []byte) ([]byte, error) {
			b, err := lf(cur)
			return bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n")), err // Windows text files: CRLF
		}
		out = append(out, st)
	}
	return out
}

// hasLine says whether data has line as an active (uncommented) line, blanks aside.
func hasLine(data []byte, line string) bool {
	for _, l := range strings.Split(string(data), "\n") {
		if strings.EqualFold(strings.Join(strings.Fields(l), " "), line) {
			return true
		}
	}
	return false
}

// dropLines removes each active line equal (blanks aside) to one of lines, with its line ending.
func dropLines(data []byte, lines []string) []byte {
	if len(lines) == 0 {
		return data
	}
	var out []byte
	for _, l := range bytes.SplitAfter(data, []byte("\n")) {
		if slices.ContainsFunc(lines, func(d string) bool { return hasLine(l, d) }) {
			continue
		}
		out = append(out, l...)
	}
	return out
}

// appendLines adds a comment and lines at the end of data, with data's own line ending (CRLF
// when its first line has one).
func appendLines(data []byte, comment string, lines []string) []byte {
	eol := "\n"
	if i := bytes.IndexByte(data, '\n'); i > 0 && data[i-1] == '\r' {
		eol = "\r\n"
	}
	out := append([]byte(nil), data...)
	if len(out) > 0 && out[len(out)-1] != '\n' {
		out = append(out, eol...)
	}
	out = append(out, (comment + eol)...)
	for _, l := range lines {
		out = append(out, (l + eol)...)
	}
	return out
}

// WindowsService is Apache's Windows service: httpd.exe -t before any restart, then
// Restart-Service, and a wait for HTTP on the vhosts' port.
func WindowsService(f *distro.Facts, vhosts []VHost, w Windows) *steps.Service {
	port := 80
	for _, v := range vhosts {
		port = v.Port
	}
	svc := func(action string) string {
		return distro.WinCommand("service", distro.WinParams{Name: w.Service, Action: action})
	}
	test := distro.WinCommand("configtest", distro.WinParams{ApacheRoot: w.Root})
	return &steps.Service{
		Name: Service, Kind: steps.Proxy, WasRunning: f.Apache.Running,
		Validate: test, Configtest: test,
		Start: svc("start"), Stop: svc("stop"), Restart: svc("restart"),
		Ready:        f.ReadyCommand(port, "httpd", 60),
		RestoreReady: f.ReadyCommand(listenedPort(f), "httpd", 60),
	}
}
