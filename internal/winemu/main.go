// Command winemu is an EMULATED Windows host for frontdoor's lab: an SSH and SFTP server that
// answers the commands frontdoor sends to a Windows host (OpenSSH Server with cmd.exe as its
// default shell) the way Windows does, over a file tree laid out like a Windows install: the
// directory "/C:" of the lab host it runs in is drive C: (Apache Lounge in C:\Apache24, Jira in
// C:\Program Files\Atlassian\JIRA), so SFTP paths are Windows OpenSSH's /C:/... unchanged.
//
// What is real behind it: the files (CRLF, from the fixtures), Apache httpd 2.4 itself (Debian's
// binary, run on C:\Apache24\conf\httpd.conf with its Windows paths translated: see
// translateConf), and the applications (the lab's Tomcat). What is emulated: the shell (cmd.exe's
// answers to anything that is not a frontdoor PowerShell command, ver's output), PowerShell (each
// frontdoor command is recognised by its marker line and carried out here in Go, with the output
// the script prints on Windows), and the Windows services (Apache2.4 is this process's child;
// other service names are passed to systemctl).
//
// It serves the lab only; it is built by testdata/lab when a host has LAB_FLAVOR_OF_<i>=windows.
package main

import (
	"encoding/base64"
	"encoding/binary"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/frontdoor-dev/frontdoor/distro"
)

// winVer is `cmd /c ver` on Windows Server 2022 (the form of the fixture
// platform/windows/train_mock_cmd_ver_win2012r2.txt, with 2022's build).
const winVer = "\r\nMicrosoft Windows [Version 10.0.20348.2113]\r\n"

// caption is what Win32_OperatingSystem says of the same system.
const caption = "Microsoft Windows Server 2022 Standard 10.0.20348"

type emu struct {
	root    string // the directory that is drive C: ("/C:")
	run     string // runtime files (translated httpd.conf, pid file)
	mu      sync.Mutex
	apacheR string // C:\Apache24 as last asked for
}

func main() {
	listen := flag.String("listen", ":22", "address to serve SSH on")
	hostKeys := flag.String("host-keys", "/etc/ssh/ssh_host_ed25519_key,/etc/ssh/ssh_host_ecdsa_key,/etc/ssh/ssh_host_rsa_key", "host key files")
	authorized := flag.String("authorized-keys", "/root/.ssh/authorized_keys", "keys allowed to log in (as any user: all are administrators)")
	root := flag.String("drive-c", "/C:", "directory that is drive C:")
	run := flag.String("run", "/run/winemu", "runtime directory")
	apacheRoot := flag.String("apache", `C:\Apache24`, "Apache to start at boot, as the Apache2.4 service does")
	flag.Parse()
	e := &emu{root: *root, run: *run, apacheR: *apacheRoot}
	if err := os.MkdirAll(e.run, 0o755); err != nil {
		log.Fatal(err)
	}
	cfg, err := serverConfig(strings.Split(*hostKeys, ","), *authorized)
	if err != nil {
		log.Fatal(err)
	}
	if out, err := e.service("Apache2.4", "start"); err != nil {
		log.Printf("boot: start Apache2.4: %v %s", err, out)
	}
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("winemu: EMULATED Windows host on %s, drive C: is %s", *listen, e.root)
	for {
		nc, err := l.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go e.serve(nc, cfg)
	}
}

func serverConfig(hostKeys []string, authorizedFile string) (*ssh.ServerConfig, error) {
	data, err := os.ReadFile(authorizedFile)
	if err != nil {
		return nil, err
	}
	allowed := map[string]bool{}
	for len(data) > 0 {
		k, _, _, rest, err := ssh.ParseAuthorizedKey(data)
		if err != nil {
			break
		}
		allowed[string(k.Marshal())] = true
		data = rest
	}
	cfg := &ssh.ServerConfig{
		ServerVersion: "SSH-2.0-OpenSSH_for_Windows_9.5",
		PublicKeyCallback: func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if allowed[string(key.Marshal())] {
				return nil, nil
			}
			return nil, fmt.Errorf("unknown key")
		},
	}
	for _, f := range hostKeys {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		s, err := ssh.ParsePrivateKey(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		cfg.AddHostKey(s)
	}
	return cfg, nil
}

func (e *emu) serve(nc net.Conn, cfg *ssh.ServerConfig) {
	_, chans, reqs, err := ssh.NewServerConn(nc, cfg)
	if err != nil {
		nc.Close()
		return
	}
	go ssh.DiscardRequests(reqs)
	for nch := range chans {
		if nch.ChannelType() != "session" {
			nch.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		ch, reqs, err := nch.Accept()
		if err != nil {
			continue
		}
		go e.session(ch, reqs)
	}
}

func (e *emu) session(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	for req := range reqs {
		switch req.Type {
		case "exec":
			var p struct{ Command string }
			ssh.Unmarshal(req.Payload, &p)
			req.Reply(true, nil)
			stdout, stderr, code := e.exec(p.Command)
			ch.Write(stdout)
			ch.Stderr().Write(stderr)
			ch.SendRequest("exit-status", false, binary.BigEndian.AppendUint32(nil, uint32(code)))
			return
		case "subsystem":
			var p struct{ Name string }
			ssh.Unmarshal(req.Payload, &p)
			if p.Name != "sftp" {
				req.Reply(false, nil)
				continue
			}
			req.Reply(true, nil)
			srv, err := sftp.NewServer(ch)
			if err == nil {
				srv.Serve()
			}
			return
		default: // env, pty-req: the client does without
			req.Reply(false, nil)
		}
	}
}

// exec answers one command line as cmd.exe (the default shell) would run it.
func (e *emu) exec(cmd string) (stdout, stderr []byte, code int) {
	if verb, p, err := distro.DecodeWinCommand(cmd); err == nil {
		out, errOut, code := e.powershell(verb, p)
		return []byte(out), []byte(errOut), code
	}
	if strings.TrimSpace(cmd) == "cmd /c ver" || strings.TrimSpace(cmd) == "ver" {
		return []byte(winVer), nil, 0
	}
	first := strings.Fields(cmd + " x")[0]
	return nil, []byte("'" + first + "' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n"), 1
}

// native maps a Windows path (C:\x or /C:/x) to this host's file.
func (e *emu) native(p string) string {
	s := distro.SFTPPath(p) // /C:/x
	return filepath.Join(e.root, strings.TrimPrefix(s, "/C:"))
}

// powershell carries out one frontdoor PowerShell command and prints what the script prints.
func (e *emu) powershell(verb string, p distro.WinParams) (string, string, int) {
	switch verb {
	case "gather":
		return e.gather(p), "", 0
	case "service":
		out, err := e.service(p.Name, p.Action)
		if err != nil {
			return "", out, 1
		}
		return "", "", 0
	case "configtest":
		out, err := e.configtest(p.ApacheRoot)
		if err != nil {
			return out, out, 1
		}
		return out, "", 0
	case "ready":
		deadline := time.Now().Add(time.Duration(p.Seconds) * time.Second)
		cl := &http.Client{Timeout: 3 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		for time.Now().Before(deadline) {
			if resp, err := cl.Get(fmt.Sprintf("http://127.0.0.1:%d/", p.Port)); err == nil {
				resp.Body.Close()
				return "", "", 0
			}
			time.Sleep(500 * time.Millisecond)
		}
		return "", fmt.Sprintf("nothing answers on port %d after %d s\r\n", p.Port, p.Seconds), 1
	case "script":
		// cmd /c "C:\...\bin\start-jira.bat": emulated by the install's own .sh beside it.
		sh := strings.TrimSuffix(e.native(p.Path), ".bat") + ".sh"
		if _, err := os.Stat(sh); err != nil {
			return "", "'" + p.Path + "' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n", 1
		}
		out, err := exec.Command("/bin/sh", sh).CombinedOutput()
		if err != nil {
			return string(out), string(out), 1
		}
		return string(out), "", 0
	case "mkdir":
		// Protect's ACL (SYSTEM and Administrators only) as this host has it: a folder 0700.
		if err := os.MkdirAll(e.native(p.Path), 0o700); err != nil {
			return "", err.Error(), 1
		}
		if err := os.Chmod(e.native(p.Path), 0o700); err != nil {
			return "", err.Error(), 1
		}
		return "", "", 0
	case "rmdir":
		d := e.native(p.Path)
		if ents, err := os.ReadDir(d); err == nil && len(ents) == 0 {
			if err := os.Remove(d); err != nil {
				return "", err.Error(), 1
			}
		}
		return "", "", 0
	case "unlock":
		lock := e.native(p.StateDir + `\lock`)
		if b, err := os.ReadFile(lock); err == nil && string(b) == p.Owner {
			os.Remove(lock)
			return "", "", 0
		}
		if p.Action == "strict" {
			return "", "the lock changed\r\n", 1
		}
		return "", "", 0
	}
	return "", "frontdoor verb " + verb + " is not known to this emulated host\r\n", 1
}

// gather prints what the gather script prints on Windows.
func (e *emu) gather(p distro.WinParams) string {
	var b strings.Builder
	w := func(s string) { b.WriteString(s + "\r\n") }
	w("@@frontdoor-gather v1")
	w("@@ kv")
	w("family=windows")
	w("windows=" + caption)
	w("init=windows")
	w("uid=0")
	conf := e.native(p.ApacheRoot + `\conf\httpd.conf`)
	if _, err := os.Stat(conf); err == nil {
		w("apache_layout=windows")
		w("apache_conf=" + distro.SFTPPath(p.ApacheRoot) + "/conf/httpd.conf")
	}
	if e.apacheRunning() {
		w("apache_running=1")
	} else {
		w("apache_running=0")
	}
	if _, err := os.Stat(conf); err == nil {
		w("bin=httpd")
		w("apache_version=" + apacheVersion())
	}
	for _, f := range p.Files {
		w("@@ file " + f)
		data, err := os.ReadFile(e.native(f))
		if err != nil {
			w("missing")
			continue
		}
		w(fmt.Sprintf("stat 644 0 0 %d", len(data)))
		w(base64.StdEncoding.EncodeToString(data))
	}
	w("@@ listen")
	for _, port := range listening() {
		w(fmt.Sprintf("%04X", port))
	}
	w("@@ services")
	for _, s := range p.Services {
		if e.serviceExists(s) {
			w(s + "=windows")
		} else {
			w(s + "=none")
		}
	}
	w("@@ winservices")
	for _, n := range p.Detect {
		for _, svc := range e.services() {
			if strings.Contains(strings.ToLower(svc), strings.ToLower(n)) {
				w(n + "=" + svc)
			}
		}
	}
	w("@@ lock")
	state := e.native(p.StateDir)
	lock := filepath.Join(state, "lock")
	if p.Lock != "" {
		os.MkdirAll(filepath.Join(state, "runs"), 0o755)
		if f, err := os.OpenFile(lock, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644); err == nil { // [IO.File]::Open CreateNew
			f.WriteString(p.Lock)
			f.Close()
			w("acquired")
		}
	}
	if data, err := os.ReadFile(lock); err == nil {
		w(string(data))
	}
	w("@@ runs")
	dirs, _ := os.ReadDir(filepath.Join(state, "runs"))
	for _, d := range dirs {
		data, err := os.ReadFile(filepath.Join(state, "runs", d.Name(), "journal.json"))
		if m := stateRe.FindSubmatch(data); err == nil && m != nil {
			w(d.Name() + " " + string(m[1]))
		}
	}
	w("@@ end")
	return b.String()
}

var stateRe = regexp.MustCompile(`"state":\s*"([a-z-]+)"`)

// listening reads the host's listening TCP ports (Get-NetTCPConnection -State Listen).
func listening() []int {
	seen := map[int]bool{}
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		data, _ := os.ReadFile(f)
		for _, line := range strings.Split(string(data), "\n")[1:] {
			fs := strings.Fields(line)
			if len(fs) > 3 && fs[3] == "0A" {
				if _, port, ok := strings.Cut(fs[1], ":"); ok {
					if n, err := strconv.ParseInt(port, 16, 32); err == nil {
						seen[int(n)] = true
					}
				}
			}
		}
	}
	var out []int
	for p := range seen {
		out = append(out, p)
	}
	sort.Ints(out)
	return out
}

// apacheVersion is httpd.exe -v's first line: Debian's binary says "(Debian)", Apache Lounge's
// build says "(Win64)".
func apacheVersion() string {
	out, _ := exec.Command("/usr/sbin/apache2", "-v").Output()
	line, _, _ := strings.Cut(string(out), "\n")
	return strings.Replace(strings.TrimSpace(line), "(Debian)", "(Win64)", 1)
}

// services are the names Get-Service lists: Apache2.4 and the host's systemd services.
func (e *emu) services() []string {
	out := []string{"Apache2.4"}
	list, _ := exec.Command("systemctl", "list-units", "--type=service", "--all", "--plain", "--no-legend").Output()
	for _, l := range strings.Split(string(list), "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			out = append(out, strings.TrimSuffix(f[0], ".service"))
		}
	}
	return out
}

func (e *emu) serviceExists(name string) bool {
	if name == "Apache2.4" {
		return true
	}
	return exec.Command("systemctl", "cat", name+".service").Run() == nil
}

func (e *emu) pidFile() string { return filepath.Join(e.run, "httpd.pid") }

func (e *emu) apacheRunning() bool {
	b, err := os.ReadFile(e.pidFile())
	if err != nil {
		return false
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	_, err = os.Stat(fmt.Sprintf("/proc/%d", pid))
	return pid > 0 && err == nil
}

// service is Start-Service, Stop-Service and Restart-Service, with PowerShell's error text.
func (e *emu) service(name, action string) (string, error) {
	if name != "Apache2.4" {
		if !e.serviceExists(name) {
			return fmt.Sprintf("Start-Service : Cannot find any service with service name '%s'.\r\n", name), fmt.Errorf("no service")
		}
		out, err := exec.Command("systemctl", action, name).CombinedOutput()
		return string(out), err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if action == "stop" || action == "restart" {
		if e.apacheRunning() {
			exec.Command("/usr/sbin/apache2", "-d", e.native(e.apacheR), "-f", e.translated(), "-k", "stop").Run()
			for i := 0; i < 100 && e.apacheRunning(); i++ {
				time.Sleep(100 * time.Millisecond)
			}
		}
	}
	if action == "start" || action == "restart" {
		if _, err := e.translate(e.apacheR); err != nil {
			return err.Error(), err
		}
		out, err := exec.Command("/usr/sbin/apache2", "-d", e.native(e.apacheR), "-f", e.translated(), "-k", "start").CombinedOutput()
		if err != nil {
			return fmt.Sprintf("Start-Service : Failed to start service 'Apache2.4 (Apache2.4)'.\r\n%s", out), err
		}
	}
	return "", nil
}

func (e *emu) translated() string { return filepath.Join(e.run, "httpd.conf") }

// configtest is httpd.exe -t on the current httpd.conf.
func (e *emu) configtest(root string) (string, error) {
	if _, err := e.translate(root); err != nil {
		return err.Error(), err
	}
	out, err := exec.Command("/usr/sbin/apache2", "-d", e.native(root), "-f", e.translated(), "-t").CombinedOutput()
	return strings.ReplaceAll(strings.TrimRight(string(out), "\n"), "\n", "\r\n") + "\r\n", err
}

// translate writes httpd.conf as Debian's Apache binary can load it. The emulation, in full:
// ${SRVROOT} and c:/ paths point into the drive directory; Windows-only modules (mod_isapi) and
// the modules compiled into Debian's binary are not loaded from files; Debian's binary needs an
// MPM module and a user to run as (Windows uses the built-in winnt MPM and the service's
// account); the pid file is the emulator's. Every other byte, frontdoor's edits included, is
// what Apache reads.
func (e *emu) translate(root string) (string, error) {
	e.apacheR = root
	data, err := os.ReadFile(e.native(root + `\conf\httpd.conf`))
	if err != nil {
		return "", err
	}
	drive := regexp.MustCompile(`(?i)\b([a-z]):/`)
	lines := strings.Split(string(data), "\n")
	for i, l := range lines {
		l = drive.ReplaceAllStringFunc(l, func(m string) string { return e.native(m) + "/" })
		if m := loadRe.FindStringSubmatch(l); m != nil {
			if _, err := os.Stat("/usr/lib/apache2/modules/mod_" + m[1] + ".so"); err != nil || builtin[m[1]] {
				l = "# (winemu: not a loadable module on this Apache build) " + l
			}
		}
		lines[i] = l
	}
	out := strings.Join(lines, "\n") + "\n# winemu: what Debian's build needs that Windows' has built in\n" +
		"LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so\nUser daemon\nGroup daemon\n" +
		"PidFile " + e.pidFile() + "\nMutex file:" + e.run + " default\n"
	return out, os.WriteFile(e.translated(), []byte(out), 0o644)
}

var (
	loadRe  = regexp.MustCompile(`^\s*LoadModule\s+([a-z0-9_]+)_module\s`)
	builtin = map[string]bool{"log_config": true, "logio": true, "version": true, "unixd": true, "so": true, "watchdog": true}
)
