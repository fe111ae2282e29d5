package distro

import (
	"encoding/base64"
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
	if !strings.Contains(script, `o''brien`) || !strings.Contains(script, "ConvertFrom-Json") || !strings.Contains(script, "'"+header+"'") {
		t.Errorf("script:\n%s", script)
	}
	if _, _, err := DecodeWinCommand("cmd /c ver"); err == nil {
		t.Error("decoded a non-frontdoor command")
	}
}
