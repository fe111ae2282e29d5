package e2e

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skeema/knownhosts"
	xssh "golang.org/x/crypto/ssh"

	"github.com/frontdoor-dev/frontdoor/internal/labtest"
)

// TestLabSelfTest checks every lab host the way the issue asks, without frontdoor's own code:
// SSH with strict host-key checking against the generated known_hosts, os-release, Tomcat
// directly, apachectl configtest, and the serverInfo stand-in.
func TestLabSelfTest(t *testing.T) {
	l := labtest.Open(t)
	l.Reset(t, l.Hosts...) // fresh hosts, whatever earlier runs left
	kh, err := knownhosts.NewDB(l.KnownHosts)
	if err != nil {
		t.Fatal(err)
	}
	pem, err := os.ReadFile(l.Key)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := xssh.ParsePrivateKey(pem)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range l.Hosts {
		t.Run(h.Name, func(t *testing.T) {
			addr := net.JoinHostPort(h.Address, "22")
			c, err := xssh.Dial("tcp", addr, &xssh.ClientConfig{
				User: "root", Auth: []xssh.AuthMethod{xssh.PublicKeys(signer)},
				HostKeyCallback: kh.HostKeyCallback(), HostKeyAlgorithms: kh.HostKeyAlgorithms(addr), Timeout: 10 * time.Second,
			})
			if err != nil {
				t.Fatalf("ssh with strict host-key checking: %v", err)
			}
			defer c.Close()
			run := func(cmd string) string {
				s, err := c.NewSession()
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				out, err := s.CombinedOutput(cmd)
				if err != nil {
					t.Fatalf("%s: %v\n%s", cmd, err, out)
				}
				return string(out)
			}
			if h.Flavor == "windows" {
				// The emulated Windows host answers as cmd.exe (internal/winemu).
				if out := run("cmd /c ver"); !strings.Contains(out, "Microsoft Windows [Version 10.0.20348") {
					t.Errorf("ver: %q", out)
				}
			} else if h.Flavor == "rocky" {
				// The CentOS-layout host: Rocky's os-release, httpd on /etc/httpd (no Debian
				// layout left to find), SELinux emulated as enforcing with the boolean off.
				if osr := run("cat /etc/os-release"); !strings.Contains(osr, `ID="rocky"`) {
					t.Errorf("os-release is not Rocky's:\n%s", osr)
				}
				if out := run("apachectl configtest 2>&1; ls /etc/apache2 2>&1; httpd -S 2>&1 | grep -c 'ServerRoot: \"/etc/httpd\"'"); !strings.Contains(out, "Syntax OK") ||
					!strings.Contains(out, "No such file") || !strings.HasSuffix(strings.TrimSpace(out), "1") {
					t.Errorf("httpd on the CentOS layout: %s", out)
				}
				if out := run("getenforce; getsebool httpd_can_network_connect"); out != "Enforcing\nhttpd_can_network_connect --> off\n" {
					t.Errorf("emulated SELinux: %q", out)
				}
			} else {
				if osr := run("cat /etc/os-release"); !strings.Contains(osr, `VERSION_ID="12"`) || !strings.Contains(osr, "ID=debian") {
					t.Errorf("os-release is not Debian 12:\n%s", osr)
				}
				if out := run("apachectl configtest 2>&1"); !strings.Contains(out, "Syntax OK") {
					t.Errorf("configtest: %s", out)
				}
			}
			if h.Flavor != "windows" { // no POSIX commands over the emulated Windows host's SSH
				if out := run("hostname"); strings.TrimSpace(out) != h.Name {
					t.Errorf("hostname %q, want %s", out, h.Name)
				}
				wantInit := map[string]string{"systemd": "systemd", "sysv": "lab-init.sh"}[h.Init]
				if out := run("cat /proc/1/comm"); strings.TrimSpace(out) != wantInit {
					t.Errorf("PID 1 is %q, want %s", out, wantInit)
				}
			}
			for _, p := range h.Products {
				port, ok := labtest.ProductPorts[p]
				if !ok {
					t.Fatalf("no port known for product %s", p)
				}
				resp, err := http.Get("http://" + h.Address + ":" + port + labtest.StatusPath(p))
				if err != nil {
					t.Fatalf("%s's Tomcat directly: %v", p, err)
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Errorf("%s's Tomcat /status: %d", p, resp.StatusCode)
				}
			}
			resp, err := http.Get("http://" + h.Address + ":8080/rest/api/2/serverInfo")
			if err != nil {
				t.Fatal(err)
			}
			var info struct{ BaseURL, Version string }
			json.NewDecoder(resp.Body).Decode(&info)
			resp.Body.Close()
			if info.BaseURL == "" || info.Version == "" {
				t.Errorf("serverInfo stand-in: %+v", info)
			}
			// The stand-in redirects / to an absolute URL built from what Tomcat reports (checked
			// against the Connector's settings by the rollout tests).
			cl := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, err = cl.Get("http://" + h.Address + ":8080/")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, "http://") || !strings.HasSuffix(loc, "/secure/Dashboard.jspa") {
				t.Errorf("redirect of /: %q", loc)
			}
		})
	}
}

// TestLabRefusesWithoutRoot: up as an unprivileged user says what is missing and changes nothing.
func TestLabRefusesWithoutRoot(t *testing.T) {
	l := labtest.Open(t)
	before, _ := exec.Command("ip", "netns", "list").Output()
	cmd := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", filepath.Join(l.Dir, "up"), "1")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "must run as root") {
		t.Fatalf("up as nobody: err=%v\n%s", err, out)
	}
	after, _ := exec.Command("ip", "netns", "list").Output()
	if !bytes.Equal(before, after) {
		t.Errorf("network namespaces changed:\n%s\n->\n%s", before, after)
	}
	// Root in a user namespace cannot create network namespaces: the check says so, before any change.
	out, err = exec.Command("unshare", "-r", filepath.Join(l.Dir, "up"), "1").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "cannot create a network namespace") {
		t.Errorf("up without netns rights: err=%v\n%s", err, out)
	}
	if after, _ := exec.Command("ip", "netns", "list").Output(); !bytes.Equal(before, after) {
		t.Errorf("network namespaces changed:\n%s\n->\n%s", before, after)
	}
	out, err = exec.Command(filepath.Join(l.Dir, "up"), "zero").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "usage: up N") {
		t.Errorf("up zero: err=%v\n%s", err, out)
	}
}
