package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/frontdoor-dev/frontdoor/distro"
)

// The emulated shell answers as cmd.exe: a POSIX command is "not recognized", ver is Windows'.
func TestShellAnswers(t *testing.T) {
	e := &emu{root: t.TempDir(), run: t.TempDir()}
	_, stderr, code := e.exec("export LC_ALL=C PATH=/usr/bin\necho x")
	if code != 1 || string(stderr) != "'export' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n" {
		t.Errorf("POSIX command: %d %q", code, stderr)
	}
	if out, _, code := e.exec("cmd /c ver"); code != 0 || string(out) != winVer {
		t.Errorf("ver: %d %q", code, out)
	}
	if _, stderr, code := e.exec(distro.WinCommand("nosuchverb", distro.WinParams{})); code != 1 || !strings.Contains(string(stderr), "nosuchverb") {
		t.Errorf("unknown verb: %d %q", code, stderr)
	}
}

// The gather reads files by their SFTP paths under the drive directory and takes the lock once.
func TestGatherAndLock(t *testing.T) {
	root := t.TempDir()
	e := &emu{root: root, run: t.TempDir()}
	os.MkdirAll(filepath.Join(root, "Apache24", "conf"), 0o755)
	os.WriteFile(filepath.Join(root, "Apache24", "conf", "httpd.conf"), []byte("Listen 80\r\n"), 0o644)
	p := distro.WinParams{Files: []string{"/C:/Apache24/conf/httpd.conf", "/C:/nope.txt"}, ApacheRoot: `C:\Apache24`, StateDir: distro.WinStateDir, Lock: "run=a"}
	out, _, code := e.exec(distro.WinCommand("gather", p))
	f, err := distro.ParseGather(strings.ReplaceAll(string(out), "\r\n", "\n"))
	if code != 0 || err != nil {
		t.Fatalf("%d %v\n%s", code, err, out)
	}
	if !f.LockAcquired || f.LockHolder != "run=a" || f.Family != distro.Windows || string(f.Files["/C:/Apache24/conf/httpd.conf"].Data) != "Listen 80\r\n" || f.Files["/C:/nope.txt"].Exists {
		t.Errorf("facts: %+v", f)
	}
	p.Lock = "run=b"
	out, _, _ = e.exec(distro.WinCommand("gather", p))
	if f, _ := distro.ParseGather(strings.ReplaceAll(string(out), "\r\n", "\n")); f.LockAcquired || f.LockHolder != "run=a" {
		t.Errorf("second lock: %+v", f)
	}
}

// httpd.conf is translated for Debian's Apache binary: Windows paths into the drive directory,
// Windows-only and built-in modules not loaded from files; every other line as it is.
func TestTranslate(t *testing.T) {
	src, err := os.ReadFile("../../testdata/fixtures/apache-distro/windows-apachelounge-2.4.56-original-httpd.conf")
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	e := &emu{root: root, run: t.TempDir()}
	os.MkdirAll(filepath.Join(root, "Apache24", "conf"), 0o755)
	os.WriteFile(filepath.Join(root, "Apache24", "conf", "httpd.conf"), src, 0o644)
	out, err := e.translate(`C:\Apache24`)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `Define SRVROOT "`+root+`/Apache24"`) || !strings.Contains(out, "# (winemu: not a loadable module on this Apache build) LoadModule isapi_module") ||
		!strings.Contains(out, "LoadModule mpm_event_module") || strings.Count(out, "\n") < strings.Count(string(src), "\n") {
		t.Errorf("translation:\n%s", out[:2000])
	}
}
