package distro

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"
)

func fixture(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "fixtures", "platform", rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Captured os-release files of every family (../testdata/fixtures/platform/SOURCES.md).
func TestOSReleaseFamilies(t *testing.T) {
	cases := []struct {
		file, id, version string
		family            Family
	}{
		{"debian10_os-release.txt", "debian", "10", Debian},
		{"debian11_os-release.txt", "debian", "11", Debian},
		{"debian12_os-release.txt", "debian", "12", Debian},
		{"debian13_os-release.txt", "debian", "13", Debian},
		{"ubuntu2004_os-release.txt", "ubuntu", "20.04", Debian},
		{"ubuntu2204_os-release.txt", "ubuntu", "22.04", Debian},
		{"ubuntu2404_os-release.txt", "ubuntu", "24.04", Debian},
		{"centos7_os-release.txt", "centos", "7", RedHat},
		{"centosstream9_os-release.txt", "centos", "9", RedHat},
		{"rocky9_os-release.txt", "rocky", "9.", RedHat},
		{"rocky8_os-release.txt", "rocky", "8.", RedHat},
		{"almalinux9_os-release.txt", "almalinux", "9.", RedHat},
		{"rhel9_os-release.txt", "rhel", "9.", RedHat},
		{"rhel7_os-release.txt", "rhel", "7.", RedHat},
		{"fedora42_os-release.txt", "fedora", "42", RedHat},
		{"amazonlinux2023_os-release.txt", "amzn", "2023", RedHat},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			o := ParseOSRelease(fixture(t, "linux/"+c.file))
			if o.ID != c.id || !strings.HasPrefix(o.VersionID, c.version) || o.PrettyName == "" {
				t.Errorf("got id=%q version=%q pretty=%q", o.ID, o.VersionID, o.PrettyName)
			}
			if f := ClassifyOS(o); f != c.family {
				t.Errorf("family %s, want %s", f, c.family)
			}
		})
	}
}

func TestWindowsOutputs(t *testing.T) {
	if v, ok := ParseVer(fixture(t, "windows/train_mock_cmd_ver_win2012r2.txt")); !ok || v != "Microsoft Windows 6.3.9600" {
		t.Errorf("ver: %q %v", v, ok)
	}
	name, ver := ParseSysteminfo(fixture(t, "windows/systeminfo_winsrv2022_standard_wesng.txt"))
	if name != "Microsoft Windows Server 2022 Standard" || !strings.HasPrefix(ver, "10.0.20348") {
		t.Errorf("systeminfo 2022: %q %q", name, ver)
	}
	name, _ = ParseSysteminfo(fixture(t, "windows/systeminfo_winsrv2019_datacenter_wesng.txt"))
	if !strings.Contains(name, "2019") {
		t.Errorf("systeminfo 2019: %q", name)
	}
	if _, ok := ParseVer("sh: 1: ver: not found"); ok {
		t.Error("ParseVer accepted a POSIX shell's error")
	}
}

// Gather outputs captured on lab hosts (Debian 12; systemd and sysv init).
func TestParseGatherLab(t *testing.T) {
	for _, c := range []struct{ file, init string }{
		{"gather-debian12-systemd-lab.txt", "systemd"},
		{"gather-debian12-sysv-lab.txt", "sysv"},
	} {
		t.Run(c.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", c.file))
			if err != nil {
				t.Fatal(err)
			}
			f, err := ParseGather(string(b))
			if err != nil {
				t.Fatal(err)
			}
			if f.Family != Debian || f.OS.VersionID != "12" || f.Init != c.init || f.UID != 0 {
				t.Errorf("facts: %+v", f)
			}
			if f.Apache.Layout != "debian" || !f.Apache.Running || f.Apache.Version != "2.4.71" || f.Apache.Modules["proxy"] || !f.Apache.Modules["mpm_event"] || !f.Apache.Sites["000-default"] {
				t.Errorf("apache: %+v", f.Apache)
			}
			sx := f.File("/opt/atlassian/jira/conf/server.xml")
			if !sx.Exists || sx.Mode != 0o644 || !strings.Contains(string(sx.Data), `<Connector port="8080"`) {
				t.Errorf("server.xml: exists=%v mode=%v", sx.Exists, sx.Mode)
			}
			if vh := f.File("/etc/apache2/sites-available/frontdoor-jira.example.com.conf"); vh.Exists {
				t.Error("vhost should be missing")
			}
			if !f.Listening[8080] || f.Listening[7990] {
				t.Errorf("listening: %v (Jira on 8080, nothing on 7990)", f.Listening)
			}
			if f.Services["jira"] != c.init {
				t.Errorf("jira service managed by %q, want %q", f.Services["jira"], c.init)
			}
			if err := f.Supported(); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestParseGatherErrors(t *testing.T) {
	for _, c := range []struct{ name, out, want string }{
		{"not posix", "'sh' is not recognized as an internal or external command,\r\n", "does not start with"},
		{"truncated", header + "\n@@ kv\nuid=0\n", "truncated"},
		{"bad size", header + "\n@@ file /x\nstat 644 0 0 5\nYWJj\n@@ end\n", "stat said 5"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := ParseGather(c.out); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want %q", err, c.want)
			}
		})
	}
}

// Other families are detected and refused before any change, saying so.
func TestSupported(t *testing.T) {
	rocky := &Facts{Family: RedHat, OS: ParseOSRelease(fixture(t, "linux/rocky9_os-release.txt"))}
	if err := rocky.Supported(); err == nil || !strings.Contains(err.Error(), "dnf install httpd") || !strings.Contains(err.Error(), "Rocky") {
		t.Errorf("rocky without httpd: %v", err)
	}
	rocky.Apache = Apache{Layout: "redhat", Binaries: []string{"httpd", "apachectl"}}
	if err := rocky.Supported(); err != nil {
		t.Errorf("rocky with httpd: %v", err)
	}
	win := &Facts{Family: Windows, Windows: "Microsoft Windows 10.0.20348"}
	if err := win.Supported(); err == nil || !strings.Contains(err.Error(), "nothing was changed") {
		t.Errorf("windows: %v", err)
	}
	noApache := &Facts{Family: Debian, OS: OSRelease{PrettyName: "Debian 12"}}
	if err := noApache.Supported(); err == nil || !strings.Contains(err.Error(), "apt-get install apache2") {
		t.Errorf("no apache: %v", err)
	}
}

func TestScriptQuotesPaths(t *testing.T) {
	s := Script(Request{Files: []string{"/opt/it's here/server.xml"}})
	if !strings.Contains(s, `'/opt/it'\''s here/server.xml'`) {
		t.Errorf("path not quoted:\n%s", s)
	}
}

// LoadModule lines of the real CentOS files: commented ones found with the offset of their "#",
// absolute module paths, UTF-8 comments around them.
func TestLoadModules(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("..", "testdata", "fixtures", "apache-distro", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	summary := func(data []byte) string {
		var out []string
		for _, lm := range LoadModules(data) {
			s := lm.Module
			if lm.Commented {
				s = "#" + s
				if data[lm.Hash] != '#' {
					t.Errorf("%s: Hash does not point at '#'", lm.Module)
				}
			}
			if !strings.Contains(string(data[lm.Start:lm.End]), "LoadModule") || strings.ContainsAny(string(data[lm.Start:lm.End]), "\r\n") {
				t.Errorf("%s: bad line span %q", lm.Module, data[lm.Start:lm.End])
			}
			out = append(out, s)
		}
		return strings.Join(out, " ")
	}
	for name, want := range map[string]string{
		"centos7-cbcurrier3-all-commented-00-proxy.conf": "#proxy #lbmethod_bybusyness #lbmethod_byrequests #lbmethod_bytraffic #lbmethod_heartbeat #proxy_ajp #proxy_balancer #proxy_connect #proxy_express #proxy_fcgi #proxy_fdpass #proxy_ftp #proxy_http #proxy_scgi #proxy_wstunnel",
		"centos7-stock-all-enabled-00-proxy.conf":        "proxy lbmethod_bybusyness lbmethod_byrequests lbmethod_bytraffic lbmethod_heartbeat proxy_ajp proxy_balancer proxy_connect proxy_express proxy_fcgi proxy_fdpass proxy_ftp proxy_http proxy_scgi proxy_wstunnel",
	} {
		if got := summary(read(name)); got != want {
			t.Errorf("%s:\n got %s\nwant %s", name, got, want)
		}
	}
	stream9 := summary(read("centos-stream9-robot-dot-win-00-proxy.conf"))
	if !strings.Contains(stream9, "#proxy_wstunnel") || !strings.Contains(stream9, " proxy_http") {
		t.Errorf("stream9: %s", stream9)
	}
	if k := summary(read("kusanagi-centos-abs-module-paths-00-proxy.conf")); strings.Contains(k, "wstunnel") || !strings.Contains(k, "proxy_http") {
		t.Errorf("kusanagi: %s", k)
	}
	if c6 := summary(read("centos6-httpd22-a-abella-httpd.conf")); !strings.Contains(c6, "proxy_http") {
		t.Errorf("centos6: %s", c6)
	}
}

// The state directory as the gather reports it: root's 0700 directory is fine; another owner, a
// mode open to others, a symlink, or (Windows) an ACL letting in more than SYSTEM and
// Administrators is a problem, said in words.
func TestStateDirProblems(t *testing.T) {
	out := header + "\n@@ os-release\nID=debian\nVERSION_ID=12\n@@ statedir\n/var/lib/frontdoor 0 700 directory\n/var/lib/frontdoor/runs 1000 755 directory\n" +
		"/var/lib/frontdoor/x symlink\nC:\\ProgramData\\frontdoor acl S-1-5-32-545,inherited\n@@ end\n"
	f, err := ParseGather(out)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"/var/lib/frontdoor/runs is a directory owned by uid 1000 with mode 755 (want a directory owned by root, mode 700)",
		"/var/lib/frontdoor/x is a symlink",
		`C:\ProgramData\frontdoor is open to S-1-5-32-545,inherited (want only SYSTEM and Administrators, not inherited)`,
	}
	if fmt.Sprint(f.StateDirProblems) != fmt.Sprint(want) {
		t.Errorf("got %q", f.StateDirProblems)
	}
	// The Windows commands create frontdoor's folders protected, and take the lock only in one.
	mk := WinCommand("mkdir", WinParams{Path: `C:\ProgramData\frontdoor\runs\x`})
	gather := WinGather(Request{Lock: "run=x"}, `C:\Apache24`, "Apache2.4", nil)
	for _, c := range []struct{ cmd, want string }{{mk, "Protect $p.path"}, {gather, "if ($p.lock -and -not $bad)"}, {gather, "SetAccessRuleProtection($true, $false)"}} {
		if !strings.Contains(decodeScript(t, c.cmd), c.want) {
			t.Errorf("script lacks %q", c.want)
		}
	}
}

func decodeScript(t *testing.T, cmd string) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(cmd, "powershell -NoProfile -NonInteractive -EncodedCommand "))
	if err != nil {
		t.Fatal(err)
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
	}
	return string(utf16.Decode(u))
}
