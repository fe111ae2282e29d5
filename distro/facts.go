package distro

import (
	"fmt"
	"slices"
	"strings"

	"github.com/frontdoor-dev/frontdoor/target"
)

// Family is a platform family: it decides paths, module handling and service control.
type Family string

const (
	Debian  Family = "debian" // Debian, Ubuntu and derivatives
	RedHat  Family = "redhat" // RHEL, CentOS, Rocky, Alma, Fedora, Amazon Linux
	Windows Family = "windows"
	Unknown Family = "unknown"
)

// OSRelease is the part of /etc/os-release frontdoor uses.
type OSRelease struct {
	ID, VersionID, Name, PrettyName string
	IDLike                          []string
}

// Apache is what was found of Apache httpd.
type Apache struct {
	Layout   string           // "debian" (/etc/apache2) or "redhat" (/etc/httpd); "" when absent
	Running  bool             // an apache2/httpd process exists
	Version  string           // "2.4.62" when it could be read
	Modules  map[string]bool  // enabled modules (Debian: mods-enabled/*.load)
	Sites    map[string]bool  // enabled sites (Debian: sites-enabled/*.conf, without .conf)
	Binaries []string         // control commands found: apache2ctl, apachectl, a2enmod, ...
	Listen   map[int][]string // port -> the enabled config files with a Listen directive for it
	// ModuleFiles are, on the RedHat layout, httpd.conf and conf.modules.d/*.conf in load order;
	// their content is in Facts.Files and Modules is read from their LoadModule lines.
	ModuleFiles []string
}

// SELinux is SELinux's state as getenforce and getsebool report it ("" when the tools are absent).
type SELinux struct {
	Mode string // Enforcing, Permissive, Disabled, or ""
	// NetworkConnect is httpd_can_network_connect; NetworkConnectKnown is false when getsebool
	// said nothing usable (SELinux disabled, or no such boolean).
	NetworkConnect, NetworkConnectKnown bool
}

// Active says whether SELinux can block httpd's connections to the applications.
func (s SELinux) Active() bool { return s.Mode == "Enforcing" || s.Mode == "Permissive" }

// Facts is everything one gather learned about a host.
type Facts struct {
	Family     Family
	OS         OSRelease
	Windows    string // Windows version line, when Family is Windows
	Kernel     string
	UID        int
	Init       string // "systemd" or "sysv"
	SFTPServer string // path of sftp-server, for file access under sudo
	Apache     Apache
	Files      map[string]target.File
	Listening  map[int]bool      // TCP ports something listens on (of those asked for)
	Services   map[string]string // service name -> "systemd", "sysv" or "none"
	SELinux    SELinux
	// WinServices are, on Windows, the services found for each product by name or display name.
	WinServices map[string][]string
	// LockHolder is the owner line of the host's lock ("" when free); LockAcquired says this
	// gather took it.
	LockHolder   string
	LockAcquired bool
	// Runs are the run journals kept on the host: run id -> state (applying, applied, ...).
	Runs map[string]string
	// Clock is the host's time (Unix seconds) when it answered the gather; 0 when not known.
	Clock int64
	// DiskFree is the free space in bytes of the file systems holding /var/lib/frontdoor (when
	// it exists: backups, journals), /var/lib and /etc (configuration), by those paths; absent
	// when not known.
	DiskFree map[string]int64
	// PortHolders are the programs listening on each TCP port, as ss names them (POSIX hosts
	// with ss); nil when not known.
	PortHolders map[int][]string
	// StateDirProblems say why /var/lib/frontdoor (or its runs/) is not safe to keep journals
	// in (not root's, not 0700, a symlink); the lock is not taken then.
	StateDirProblems []string
	// Firewall is the host's ufw or firewalld, as its files say.
	Firewall Firewall
}

// ServiceCommand returns the command that does action (start, stop, restart) to a service the way
// this host manages it, or "" when the host has no such service.
func (f *Facts) ServiceCommand(name, action string) string {
	switch f.Services[name] {
	case "systemd":
		return "systemctl " + action + " " + target.Quote(name)
	case "sysv":
		return "service " + target.Quote(name) + " " + action
	case "windows":
		return WinCommand("service", WinParams{Name: name, Action: action})
	}
	return ""
}

// ReadyCommand waits up to seconds for an HTTP answer on 127.0.0.1:port, the host's way.
func (f *Facts) ReadyCommand(port int, name string, seconds int) string {
	if f.Family == Windows {
		return WinCommand("ready", WinParams{Port: port, Seconds: seconds, Name: name})
	}
	return HTTPReady(port, name, seconds)
}

// File returns the gathered file at path (Exists false when it was not there). A path that was
// not asked for is an error in the caller, so it panics rather than reporting "missing".
func (f *Facts) File(path string) target.File {
	file, ok := f.Files[path]
	if !ok {
		panic(fmt.Sprintf("distro: %s was not gathered", path))
	}
	return file
}

// Describe is a one-line summary, e.g. "Debian GNU/Linux 12 (bookworm), systemd, Apache 2.4.62".
func (f *Facts) Describe() string {
	if f.Family == Windows {
		if f.Apache.Layout == "" {
			return f.Windows + ", no Apache"
		}
		return f.Windows + ", Apache " + f.Apache.Version
	}
	s := f.OS.PrettyName
	if s == "" {
		s = strings.TrimSpace(f.OS.Name + " " + f.OS.VersionID)
	}
	s += ", " + f.Init
	if f.Apache.Layout != "" {
		s += ", Apache " + f.Apache.Version
		if !f.Apache.Running {
			s += " (stopped)"
		}
	} else {
		s += ", no Apache"
	}
	return s
}

// Supported says whether frontdoor acts on this host yet, and if not, why, before any change.
func (f *Facts) Supported() error {
	switch f.Family {
	case Debian:
		if f.Apache.Layout == "" {
			return fmt.Errorf("Apache httpd is not installed (no /etc/apache2): install it first (apt-get install apache2), or let frontdoor install it (apache: {install: true} in the playbook); nothing was changed")
		}
		if !slices.Contains(f.Apache.Binaries, "a2enmod") {
			return fmt.Errorf("a2enmod not found: this Apache is not Debian's packaged layout")
		}
		return nil
	case RedHat:
		if f.Apache.Layout != "redhat" {
			return fmt.Errorf("%s (family redhat) has no /etc/httpd/conf/httpd.conf: install Apache first (dnf install httpd, or yum install httpd), or let frontdoor install it (apache: {install: true} in the playbook); nothing was changed", f.OS.PrettyName)
		}
		if !slices.Contains(f.Apache.Binaries, "httpd") {
			return fmt.Errorf("the httpd binary is not on PATH: this Apache is not the distribution's packaged layout")
		}
		return nil
	case Windows:
		if f.Apache.Layout != "windows" {
			return fmt.Errorf("%s: no Apache httpd at the playbook's apache.windows_root (conf\\httpd.conf not found): install Apache (e.g. Apache Lounge in C:\\Apache24) or set apache.windows_root; nothing was changed", f.Windows)
		}
		return nil
	default:
		return fmt.Errorf("unknown platform %q: frontdoor acts on Debian/Ubuntu and the Red Hat family (RHEL, CentOS, Rocky, Alma, Fedora, Amazon Linux); nothing was changed", f.OS.PrettyName)
	}
}

// KnownPlatform is Supported for a host whose Apache is not used (a cluster's node): the family
// must be known; Apache need not be there.
func (f *Facts) KnownPlatform() error {
	switch f.Family {
	case Debian, RedHat, Windows:
		return nil
	}
	return fmt.Errorf("unknown platform %q: frontdoor acts on Debian/Ubuntu and the Red Hat family (RHEL, CentOS, Rocky, Alma, Fedora, Amazon Linux); nothing was changed", f.OS.PrettyName)
}

// Installable says whether frontdoor can install Apache here (apache.install): a Debian, Ubuntu
// or Red Hat-family (with systemd) host with no Apache at all. Elsewhere it says what to do instead.
func (f *Facts) Installable() error {
	switch {
	case f.Family == Debian && f.Apache.Layout == "" && !slices.Contains(f.Apache.Binaries, "apache2ctl"):
		return nil
	case f.Family == RedHat && f.Apache.Layout == "" && !slices.Contains(f.Apache.Binaries, "httpd"):
		if f.Init != "systemd" {
			return fmt.Errorf("apache.install on %s needs systemd (it runs systemctl enable --now httpd): install Apache yourself (dnf install httpd), then run frontdoor again; nothing was changed", f.OS.PrettyName)
		}
		return nil
	case f.Family == Windows:
		return fmt.Errorf("apache.install installs Apache on Linux hosts only: on %s install Apache Lounge (unpack it to the playbook's apache.windows_root, then httpd.exe -k install), then run frontdoor again; nothing was changed", f.Windows)
	case f.Family == Debian:
		return fmt.Errorf("apache2ctl is on PATH but /etc/apache2/apache2.conf is missing: a broken or hand-made Apache install, which apache.install does not touch; repair it (apt-get install --reinstall apache2) and run frontdoor again; nothing was changed")
	case f.Family == RedHat:
		return fmt.Errorf("httpd is on PATH but /etc/httpd/conf/httpd.conf is missing: a broken or hand-made Apache install, which apache.install does not touch; repair it (dnf reinstall httpd) and run frontdoor again; nothing was changed")
	}
	return f.Supported()
}

// ClassifyOS decides the family from os-release's ID and ID_LIKE.
func ClassifyOS(o OSRelease) Family {
	ids := append([]string{o.ID}, o.IDLike...)
	for _, id := range ids {
		switch id {
		case "debian", "ubuntu":
			return Debian
		case "rhel", "centos", "fedora", "rocky", "almalinux", "amzn", "ol":
			return RedHat
		}
	}
	return Unknown
}

// Dialect is how the host is spoken to, from its family.
func (f *Facts) Dialect() target.Dialect {
	if f.Family == Windows {
		return target.Windows
	}
	return target.POSIX
}
