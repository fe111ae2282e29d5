package distro

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The undo of apache.install is replayable exactly as frontdoor writes it, and nothing like it is.
func TestUninstallReplayable(t *testing.T) {
	pkgs := []string{"libapr1", "liblua5.3-0", "apache2-bin", "apache2"}
	for _, c := range []string{PurgeCommand(pkgs, false), PurgeCommand(pkgs, true), DnfRemoveCommand([]string{"httpd", "mod_ssl", "apr-util"})} {
		if !Replayable(c) {
			t.Errorf("not replayable: %s", c)
		}
	}
	for _, c := range []string{
		PurgeCommand([]string{"apache2;reboot"}, false),
		PurgeCommand([]string{"ssh.", "sudo+"}, false), // apt reads "ssh." as a pattern, "sudo+" as install
		PurgeCommand([]string{"apache2"}, false) + " && rm -rf /",
		strings.Replace(PurgeCommand(pkgs, true), AptStateDir, "/etc", 2),
		strings.Replace(PurgeCommand(pkgs, false), "grep -vxF -e libapr1", "true || grep -vxF -e libapr1", 1),
		PurgeCommand([]string{"$(id)"}, false),
		DnfRemoveCommand([]string{"httpd"}) + " && rm -rf /",
		strings.Replace(DnfRemoveCommand([]string{"httpd"}), " --noautoremove httpd 2>", " httpd 2>", 1),
		"dnf remove -y -q httpd",
		"ufw delete allow 22/tcp",
		"firewall-cmd -q --permanent --remove-service=http && firewall-cmd -q --remove-port=22/tcp",
	} {
		if Replayable(c) {
			t.Errorf("replayable: %s", c)
		}
	}
}

// The undo of an install, run in a shell with apt-get and dnf stubbed on PATH (they record their
// calls): when the removal would take a package installed since (PHP's Apache module), it is
// refused before anything is removed; otherwise exactly the listed packages are removed.
func TestUninstallRefusesToTakeOthers(t *testing.T) {
	dir := t.TempDir()
	stub := func(name, simulated string) {
		script := "#!/bin/sh\necho \"$*\" >>" + dir + "/calls\ncase \"$*\" in *-s\\ purge*|*--assumeno*) cat " + dir + "/" + name + ".out ;; esac\n"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".out"), []byte(simulated), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run := func(cmd string) (string, error) {
		os.Remove(filepath.Join(dir, "calls"))
		c := exec.Command("/bin/sh", "-c", cmd)
		c.Env = append(os.Environ(), "PATH="+dir+":/usr/bin:/bin")
		out, err := c.CombinedOutput()
		calls, _ := os.ReadFile(filepath.Join(dir, "calls"))
		return string(out) + "|" + string(calls), err
	}
	stub("apt-get", "Purg apache2 [2.4.71-1~deb12u1]\nPurg apache2-bin [2.4.71-1~deb12u1]\nRemv libapache2-mod-php8.2 [8.2.29-1~deb12u1]\n")
	out, err := run(PurgeCommand([]string{"apache2-bin", "apache2"}, false))
	if err == nil || !strings.Contains(out, "would also remove: libapache2-mod-php8.2 (installed since; they need it)") || strings.Contains(out, "-y -o") {
		t.Errorf("purge that takes PHP's module: err=%v\n%s", err, out)
	}
	stub("apt-get", "Purg apache2 [2.4.71-1~deb12u1]\nPurg apache2-bin [2.4.71-1~deb12u1]\n")
	if out, err := run(PurgeCommand([]string{"apache2-bin", "apache2"}, false)); err != nil || !strings.Contains(out, "-q -y -o DPkg::Lock::Timeout=300 purge apache2-bin apache2\n") {
		t.Errorf("purge of what was installed: err=%v\n%s", err, out)
	}
	stub("dnf", "Dependencies resolved.\nRemoving:\n httpd   x86_64  2.4.62-1.el9  @appstream  45 k\nRemoving dependent packages:\n php     x86_64  8.0.30-1.el9  @appstream  15 k\n\nOperation aborted.\n")
	if out, err := run(DnfRemoveCommand([]string{"httpd"})); err == nil || !strings.Contains(out, "would also remove: php ") || strings.Contains(out, "remove -y") {
		t.Errorf("dnf remove that takes php: err=%v\n%s", err, out)
	}
}
