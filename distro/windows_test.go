package distro

import (
	"encoding/base64"
	"regexp"
	"strings"
	"testing"
	"unicode/utf16"
)

func TestWinPaths(t *testing.T) {
	for native, sftp := range map[string]string{
		`C:\Program Files\Atlassian\JIRA\conf\server.xml`: "/C:/Program Files/Atlassian/JIRA/conf/server.xml",
		`c:/Apache24/conf/httpd.conf`:                     "/C:/Apache24/conf/httpd.conf",
	} {
		if got := SFTPPath(native); got != sftp {
			t.Errorf("SFTPPath(%s) = %s", native, got)
		}
	}
	if got := WinPath("/C:/Program Files/Atlassian/JIRA"); got != `C:\Program Files\Atlassian\JIRA` {
		t.Errorf("WinPath: %s", got)
	}
	if got := SFTPPath("/C:/x"); got != "/C:/x" {
		t.Errorf("SFTPPath of an SFTP path: %s", got)
	}
}

var paramsLine = regexp.MustCompile(`^\$p = \[Text\.Encoding\]::ASCII\.GetString\(\[Convert\]::FromBase64String\('[A-Za-z0-9+/=]*'\)\) \| ConvertFrom-Json$`)

// Parameters never reach PowerShell inside a string literal: a service name with Unicode quotes
// (which end a single-quoted PowerShell string) or a path with a double quote or a newline stay
// data: ASCII JSON in the marker comment, base64 on the line that reads it (issue 11 row 5).
func TestWinCommandHostileParams(t *testing.T) {
	for _, v := range []string{"Apache2.4\u2019; Start-Process calc; \u2019", "x'; Start-Process calc; '", "a\"b", "line\nStart-Process calc", "x\u2028Start-Process calc", "\U0001F600"} {
		cmd := WinCommand("service", WinParams{Name: v, Action: "start"})
		verb, got, err := DecodeWinCommand(cmd)
		if err != nil || verb != "service" || got.Name != v {
			t.Fatalf("%q: %s %+v %v", v, verb, got, err)
		}
		b, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(cmd, "powershell -NoProfile -NonInteractive -EncodedCommand "))
		u := make([]uint16, len(b)/2)
		for i := range u {
			u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
		}
		lines := strings.Split(string(utf16.Decode(u)), "\n")
		for _, r := range lines[0] {
			if r >= 0x80 || r < 0x20 {
				t.Errorf("%q: marker line holds %U", v, r)
			}
		}
		if !paramsLine.MatchString(lines[1]) || strings.Contains(strings.Join(lines[1:], "\n"), "calc") {
			t.Errorf("%q: the value reached the script:\n%s", v, strings.Join(lines[:2], "\n"))
		}
	}
}

// A command is one -EncodedCommand (UTF-16LE, as PowerShell wants it) whose first line says the
// verb and parameters, and whose second gives them to the script; quotes survive.
func TestWinCommandRoundTrip(t *testing.T) {
	p := WinParams{Files: []string{"/C:/Program Files/Atlassian/JIRA/conf/server.xml"}, ApacheRoot: `C:\Apache24`, Lock: "run=x controller=o'brien@ctl"}
	cmd := WinCommand("gather", p)
	verb, got, err := DecodeWinCommand(cmd)
	if err != nil || verb != "gather" || got.Files[0] != p.Files[0] || got.ApacheRoot != p.ApacheRoot || got.Lock != p.Lock {
		t.Fatalf("%s %+v %v", verb, got, err)
	}
	b, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(cmd, "powershell -NoProfile -NonInteractive -EncodedCommand "))
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
	}
	script := string(utf16.Decode(u))
	lines := strings.Split(script, "\n")
	if !paramsLine.MatchString(lines[1]) || !strings.Contains(script, "'"+header+"'") {
		t.Errorf("script:\n%s", script)
	}
	if _, _, err := DecodeWinCommand("cmd /c ver"); err == nil {
		t.Error("decoded a non-frontdoor command")
	}
}

// Windows OpenSSH's SFTP working directory is /C:/Users/ (captured: platform/windows/
// sftp_pwd_windows_issue476.txt): SFTPPath gives that form, with an upper-case drive letter
// (/c: is "not found": sftp_ls_drive_error_issue479.txt).
func TestSFTPPathFromCapture(t *testing.T) {
	pwd := fixture(t, "windows/sftp_pwd_windows_issue476.txt")
	if !strings.Contains(pwd, "Remote working directory: "+SFTPPath(`C:\Users\`)) {
		t.Errorf("%s vs %s", SFTPPath(`C:\Users\`), pwd)
	}
	if !strings.Contains(fixture(t, "windows/sftp_ls_drive_error_issue479.txt"), `"/c:" not found`) || SFTPPath("c:") != "/C:" {
		t.Errorf("lower-case drive: %s", SFTPPath("c:"))
	}
}

// cmd.exe's answer to a command it does not know (captured: platform/windows/
// cmd_default_shell_powershell_cmdlet_not_recognized_issue936.txt) is what tells frontdoor a
// host is Windows; the wording it relies on is in it.
func TestCmdNotRecognizedCapture(t *testing.T) {
	if !strings.Contains(fixture(t, "windows/cmd_default_shell_powershell_cmdlet_not_recognized_issue936.txt"), "is not recognized as") {
		t.Error("the capture no longer says 'is not recognized as'")
	}
}

// getenforce and getsebool outputs, as captured on RHEL/CentOS, read into the SELinux facts.
func TestSELinuxFromCaptures(t *testing.T) {
	for _, c := range []struct {
		enforce, bool string
		want          SELinux
		active        bool
	}{
		{"selinux/getenforce_enforcing.txt", "selinux/getsebool_httpd_can_network_connect_off.txt", SELinux{Mode: "Enforcing", NetworkConnectKnown: true}, true},
		{"selinux/getenforce_permissive.txt", "selinux/getsebool_httpd_can_network_connect_off.txt", SELinux{Mode: "Permissive", NetworkConnectKnown: true}, true},
		{"selinux/getenforce_disabled.txt", "selinux/getsebool_selinux-disabled.txt", SELinux{Mode: "Disabled"}, false},
	} {
		out := header + "\n@@ kv\nselinux=" + strings.TrimSpace(fixture(t, c.enforce)) + "\nsebool=" + strings.TrimSpace(fixture(t, c.bool)) + "\n@@ end\n"
		f, err := ParseGather(out)
		if err != nil || f.SELinux != c.want || f.SELinux.Active() != c.active {
			t.Errorf("%s + %s: %+v %v", c.enforce, c.bool, f.SELinux, err)
		}
	}
	on := header + "\n@@ kv\nselinux=Enforcing\nsebool=httpd_can_network_connect --> on\n@@ end\n"
	if f, _ := ParseGather(on); !f.SELinux.NetworkConnect {
		t.Errorf("on: %+v", f.SELinux)
	}
}
