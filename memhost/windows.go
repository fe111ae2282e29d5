package memhost

import (
	"encoding/base64"
	"fmt"
	"path"
	"strings"

	"github.com/frontdoor-dev/frontdoor/target"
)

// The emulated Windows host's answers, as the lab's internal/winemu gives them (which follows
// the captured outputs of Windows Server 2022 with OpenSSH and cmd.exe as its default shell).

const winCaption = "Microsoft Windows Server 2022 Standard 10.0.20348"

// execWindows answers a command on the Windows host: frontdoor's PowerShell verbs; anything else
// gets cmd.exe's answer to a command it does not know.
func (h *Host) execWindows(cmd string) ([]byte, error) {
	fail := func(msg string) ([]byte, error) {
		return nil, &target.CommandError{Host: h.name, Err: fmt.Errorf("Process exited with status 1"), Stderr: msg}
	}
	if !strings.HasPrefix(cmd, winPrefix) {
		if strings.TrimSpace(cmd) == "cmd /c ver" {
			return []byte("\r\nMicrosoft Windows [Version 10.0.20348.2113]\r\n"), nil
		}
		first := strings.Fields(cmd + " x")[0]
		return fail("'" + first + "' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n")
	}
	verb, p := winVerb(cmd)
	switch verb {
	case "gather":
		return []byte(h.gatherWindows(p)), nil
	case "service":
		s, ok := h.Services[p.Name]
		if !ok {
			return fail(fmt.Sprintf("Start-Service : Cannot find any service with service name '%s'.\r\n", p.Name))
		}
		if p.Action == "stop" {
			s.Running = false
			return nil, nil
		}
		if p.Name == h.httpd() && h.configtest() != "" {
			s.Running = false
			return fail("Start-Service : Failed to start service 'Apache2.4 (Apache2.4)'.\r\n")
		}
		s.Running = !s.NoStart
		return nil, nil
	case "configtest":
		if msg := h.configtest(); msg != "" {
			return fail(msg + "\r\n")
		}
		return []byte("Syntax OK\r\n"), nil
	case "ready":
		if h.portRunning(p.Port) {
			return nil, nil
		}
		return fail(fmt.Sprintf("nothing answers on port %d after %d s\r\n", p.Port, p.Seconds))
	case "mkdir":
		return nil, nil
	case "unlock":
		if h.Lock != "" && h.Lock == p.Owner {
			h.Lock = ""
		} else if p.Action == "strict" {
			return fail("the lock changed\r\n")
		}
		return nil, nil
	}
	return fail("frontdoor verb " + verb + " is not known to this emulated host\r\n")
}

// winConfigtest is httpd.exe -t's first complaint about the Windows host's httpd.conf: an
// included file that does not exist (with the line of its Include), "" when none.
func (h *Host) winIncludes() (files []string, missing string) {
	root := path.Dir(path.Dir(winApacheConf)) // /C:/Apache24
	for _, inc := range h.activeDirectives(winApacheConf, "Include") {
		p := root + "/" + strings.Trim(inc, `"`)
		if _, ok := h.Files[p]; !ok && missing == "" {
			missing = "httpd.exe: Syntax error in C:/Apache24/conf/httpd.conf: Could not open configuration file " +
				strings.TrimPrefix(p, "/") + ": No such file or directory"
		}
		files = append(files, p)
	}
	return files, missing
}

// gatherWindows prints what the gather verb prints (CRLF, as PowerShell writes).
func (h *Host) gatherWindows(p winParams) string {
	var b strings.Builder
	w := func(s string) { b.WriteString(s + "\r\n") }
	w("@@frontdoor-gather v1")
	w("@@ kv")
	w("family=windows")
	w("windows=" + winCaption)
	w("init=windows")
	w("uid=0")
	_, hasConf := h.Files[winApacheConf]
	if hasConf {
		w("apache_layout=windows")
		w("apache_conf=" + winApacheConf)
	}
	w(fmt.Sprintf("apache_running=%d", map[bool]int{true: 1}[h.Services[h.httpd()].Running]))
	if hasConf {
		w("bin=httpd")
		w("apache_version=Server version: Apache/2.4.62 (Win64)")
	}
	for _, f := range p.Files {
		w("@@ file " + f)
		file, ok := h.Files[f]
		if !ok {
			w("missing")
			continue
		}
		w(fmt.Sprintf("stat 644 0 0 %d", len(file.Data))) // the verb's fixed line: ACLs, not modes
		w(base64.StdEncoding.EncodeToString(file.Data))
	}
	w("@@ listen")
	for _, n := range sortedKeys(h.Services) {
		if s := h.Services[n]; s.Running && s.Port > 0 {
			w(fmt.Sprintf("%04X", s.Port))
		}
	}
	w("@@ services")
	for _, s := range p.Services {
		if _, ok := h.Services[s]; ok {
			w(s + "=windows")
		} else {
			w(s + "=none")
		}
	}
	w("@@ winservices")
	for _, n := range p.Detect {
		for _, svc := range sortedKeys(h.Services) {
			if strings.Contains(strings.ToLower(svc), strings.ToLower(n)) {
				w(n + "=" + svc)
			}
		}
	}
	w("@@ statedir")
	w("@@ lock")
	if p.Lock != "" && h.Lock == "" {
		h.Lock = p.Lock
		w("acquired")
	}
	if h.Lock != "" {
		w(h.Lock)
	}
	w("@@ runs")
	for _, r := range h.runs(winStateDir) {
		if r[1] != "" { // the verb prints a run only with its journal's state
			w(r[0] + " " + r[1])
		}
	}
	w("@@ end")
	return b.String()
}
