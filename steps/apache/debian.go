package apache

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/frontdoor-dev/frontdoor/distro"
	"github.com/frontdoor-dev/frontdoor/steps"
	"github.com/frontdoor-dev/frontdoor/target"
)

// Service is the name steps use to trigger httpd.
const Service = "httpd"

// Debian paths and names.
const (
	sitesAvailable = "/etc/apache2/sites-available/"
	SitePrefix     = "frontdoor-"
)

// SitePath is where a VirtualHost lives on a Debian host.
func SitePath(v VHost) string { return sitesAvailable + v.Site() + ".conf" }

// Modules are the modules the vhosts need: the guide's proxy_http (with proxy), proxy_wstunnel and
// rewrite for Synchrony, remoteip for X-Forwarded-For.
func Modules(vhosts []VHost) []string {
	mods := []string{"proxy", "proxy_http"}
	var sync, remote, ssl, redirect, hsts, md, balance bool
	lbmethods := map[string]bool{}
	for _, v := range vhosts {
		sync = sync || v.Synchrony()
		for _, be := range v.Backends {
			if be.Balancer != nil {
				balance, lbmethods[be.Balancer.LBMethod] = true, true
			}
		}
		remote = remote || v.RemoteIP
		if v.TLS != nil {
			ssl, redirect, hsts, md = true, redirect || v.TLS.Redirect, hsts || v.TLS.HSTS > 0, md || v.TLS.ACME != nil
		}
	}
	if sync {
		mods = append(mods, "proxy_wstunnel", "rewrite")
	}
	if remote {
		mods = append(mods, "remoteip")
	}
	// mod_ssl needs a session cache; Debian's a2enmod ssl enables socache_shmcb with it, and
	// RHEL's mod_ssl package loads both.
	if ssl { // with what Debian's ssl.load depends on, so a rollback disables what a2enmod enabled
		mods = append(mods, "setenvif", "mime", "socache_shmcb", "ssl")
	}
	if md {
		mods = append(mods, "md")
	}
	if redirect {
		mods = append(mods, "alias") // Redirect
	}
	if balance {
		// With what Debian's .load files depend on, in order, so a rollback disables exactly
		// what a2enmod enabled.
		// (mod_watchdog, which proxy_hcheck needs, is built into Debian's and Red Hat's httpd.)
		mods = append(mods, "slotmem_shm", "alias", "proxy_balancer")
		for _, m := range slices.Sorted(maps.Keys(lbmethods)) {
			mods = append(mods, "lbmethod_"+m)
		}
		mods = append(mods, "proxy_hcheck")
	}
	if hsts || balance {
		mods = append(mods, "headers")
	}
	// Once each (alias: both the redirect's and proxy_balancer's), first place kept.
	seen := map[string]bool{}
	return slices.DeleteFunc(mods, func(m string) bool {
		dup := seen[m]
		seen[m] = true
		return dup
	})
}

// ForHost returns the vhosts as this host needs them: Apache 2.2 access syntax when it runs 2.2,
// and a Listen line for a port that no enabled configuration (other than frontdoor's own files)
// listens on yet, in the first of the vhosts on that port. The input is not changed.
func ForHost(f *distro.Facts, vhosts []VHost) []VHost {
	listened := map[int]bool{}
	for port, files := range f.Apache.Listen {
		for _, file := range files {
			if !strings.Contains(file, "/"+SitePrefix) {
				listened[port] = true
			}
		}
	}
	out := append([]VHost(nil), vhosts...)
	for i := range out {
		out[i].Apache22 = strings.HasPrefix(f.Apache.Version, "2.2")
		out[i].Listen = !listened[out[i].Port]
		listened[out[i].Port] = true
	}
	for i := range out {
		if t := out[i].TLS; t != nil && t.Redirect {
			c := *t
			c.ListenRedirect = !listened[80]
			listened[80] = true
			out[i].TLS = &c
		}
	}
	return out
}

// DebianSteps returns the steps for the vhosts (as ForHost gives them) on a Debian/Ubuntu host:
// the modules once, then each vhost's file and its site enabled. Every step triggers httpd.
func DebianSteps(f *distro.Facts, vhosts []VHost) []steps.Step {
	var out []steps.Step
	for _, m := range Modules(vhosts) {
		out = append(out, toggle("module "+m, f.Apache.Modules[m], "a2enmod -q "+target.Quote(m), "a2dismod -q -f "+target.Quote(m)))
	}
	out = append(out, retirePlainSites(f, vhosts, SitePath)...)
	for _, v := range vhosts {
		out = append(out, vhostStep(f, v, SitePath(v)))
		out = append(out, toggle("site "+v.Site(), f.Apache.Sites[v.Site()], "a2ensite -q "+target.Quote(v.Site()), "a2dissite -q "+target.Quote(v.Site())))
	}
	return out
}

// TLSSupported refuses https where this host's Apache cannot serve it as frontdoor writes it:
// older than 2.4.8 (before it, the intermediates after the leaf in SSLCertificateFile are not
// sent, and 2.2 has no socache_shmcb module); on the Red Hat family without the mod_ssl package
// (or mod_md, for acme), which httpd does not ship; with acme on Windows.
func TLSSupported(f *distro.Facts, acme bool) error {
	if !versionAtLeast(f.Apache.Version, 2, 4, 8) {
		return fmt.Errorf("https needs Apache 2.4.8 or later (it sends the intermediates from SSLCertificateFile); this host has Apache %s: upgrade Apache, or use an http url for it", f.Apache.Version)
	}
	switch f.Apache.Layout {
	case "redhat":
		for _, m := range []struct {
			mod, pkg string
			need     bool
		}{{"ssl", "mod_ssl", true}, {"md", "mod_md", acme}} {
			if m.need && !f.Apache.Modules[m.mod] && commentedIn(f, m.mod) == "" {
				return fmt.Errorf("https here needs the %[1]s package (no file in /etc/httpd/conf.modules.d loads %[2]s_module): install it (dnf install %[1]s, or yum install %[1]s), then run frontdoor again", m.pkg, m.mod)
			}
		}
	case "windows":
		if acme {
			return fmt.Errorf("acme on Windows hosts is not done in this version (frontdoor's wait for mod_md's first certificate is a POSIX script): give the certificate's files instead (certificate, key, chain)")
		}
		// Its Listen 443 and _default_ vhost are not read by the gather: frontdoor would add a
		// second Listen 443, and httpd would not start.
		for _, file := range f.Apache.ModuleFiles {
			if hasLine(f.Files[file].Data, "Include conf/extra/httpd-ssl.conf") {
				return fmt.Errorf("httpd.conf includes conf/extra/httpd-ssl.conf, which listens on 443 with its own certificate: frontdoor writes its own https VirtualHost; comment that Include out (frontdoor does not edit it), then run frontdoor again")
			}
		}
	}
	return nil
}

// vhostStep writes one VirtualHost's file at p; Synchrony is refused below Apache 2.4.10.
func vhostStep(f *distro.Facts, v VHost, p string) steps.Step {
	conf := v.Render()
	var refuse error
	if v.Synchrony() && !versionAtLeast(f.Apache.Version, 2, 4, 10) {
		refuse = fmt.Errorf("Synchrony (Confluence 6.0+) needs Apache 2.4.10 or later (the guide); this host has Apache %s: upgrade Apache, or write synchrony: false", f.Apache.Version)
	}
	return &steps.FileStep{
		Label:   "apache: VirtualHost " + v.ServerName,
		Current: f.File(p),
		Edit:    func([]byte) ([]byte, error) { return []byte(conf), refuse },
		NewMode: 0o644, Notify: []string{Service},
		Reason: p + " already up to date",
	}
}

// VersionAtLeast compares a dotted version ("2.4.62") with major.minor.patch; an unknown
// version passes.
func VersionAtLeast(v string, major, minor, patch int) bool {
	return versionAtLeast(v, major, minor, patch)
}

// versionAtLeast compares a dotted version ("2.4.62") with major.minor.patch; an unknown version
// passes (the configtest will still judge the result).
func versionAtLeast(v string, major, minor, patch int) bool {
	var a, b, c int
	if n, _ := fmt.Sscanf(v, "%d.%d.%d", &a, &b, &c); n < 2 {
		return true
	}
	for _, p := range [][2]int{{a, major}, {b, minor}, {c, patch}} {
		if p[0] != p[1] {
			return p[0] > p[1]
		}
	}
	return true
}

// toggle is a module or site that must be enabled: enable reaches that state, disable undoes it.
// PlainSite is frontdoor's plain-http site for an https VirtualHost's name: what an earlier apply
// with an http url wrote.
func PlainSite(v VHost) VHost { return VHost{ServerName: v.ServerName, Port: 80} }

// retirePlainSites disables (Debian: a2dissite) and deletes frontdoor's own plain-http
// VirtualHost file (at pathOf) of a name that is now https (the admin moved the url from http to
// https): left in place it would keep proxying in clear, or shadow the redirect. A rollback
// restores and re-enables it. A site the playbook still produces is kept.
func retirePlainSites(f *distro.Facts, vhosts []VHost, pathOf func(VHost) string) []steps.Step {
	var out []steps.Step
	for _, old := range retired(vhosts) {
		site := old.Site()
		if f.Apache.Layout == "debian" && f.Apache.Sites[site] {
			out = append(out, &steps.CommandStep{Label: "apache: site " + site, Reason: "disable site " + site + " (plain http for " + old.ServerName + ", now https)",
				Command: "a2dissite -q " + target.Quote(site), Undo: "a2ensite -q " + target.Quote(site), Notify: []string{Service}})
		}
		if file := f.File(pathOf(old)); file.Exists {
			out = append(out, &steps.FileStep{Label: "apache: plain VirtualHost " + old.ServerName, Current: file,
				Edit: func([]byte) ([]byte, error) { return nil, nil }, Notify: []string{Service}})
		}
	}
	return out
}

// retired are frontdoor's plain-http VirtualHosts that the https ones replace (PlainSite), those
// the playbook still produces aside.
func retired(vhosts []VHost) []VHost {
	produced := map[string]bool{}
	for _, v := range vhosts {
		produced[v.Site()] = true
	}
	var out []VHost
	for _, v := range vhosts {
		if old := PlainSite(v); v.TLS != nil && !produced[old.Site()] {
			out = append(out, old)
		}
	}
	return out
}

func toggle(what string, enabled bool, enable, disable string) steps.Step {
	reason := what + " already enabled"
	if !enabled {
		reason = "enable " + what
	}
	return &steps.CommandStep{Label: "apache: " + what, Done: enabled, Reason: reason,
		Command: enable, Undo: disable, Notify: []string{Service}}
}

// DebianService is httpd on a Debian host: apache2ctl configtest, and for each vhost a check that
// it is the one answering its name, before any restart; restart by systemctl or the init.d
// script, whichever the host runs.
func DebianService(f *distro.Facts, vhosts []VHost) *steps.Service {
	return httpdService(f, vhosts, "apache2", "apache2ctl", "apache2ctl -S", "disable that site (a2dissite) or give it another ServerName")
}

// httpdService is httpd as a Service: ctl's configtest, and for each vhost the check (with dump,
// apache2ctl -S or httpd -S) that it answers its name, before any restart; unit is the service's
// name for systemctl or the init.d script, whichever the host runs.
func httpdService(f *distro.Facts, vhosts []VHost, unit, ctl, dump, fix string) *steps.Service {
	svc := func(action string) string {
		if f.Init == "systemd" {
			return "systemctl " + action + " " + unit
		}
		return "service " + unit + " " + action
	}
	configtest := ctl + " configtest 2>&1"
	validate := []string{configtest}
	port := 80
	ports := map[int]bool{}
	for p := range f.Apache.Listen {
		ports[p] = true
	}
	for _, v := range vhosts {
		validate = append(validate, shadowCheck(dump, v.ServerName, v.Port, v.Site()+".conf", fix))
		port = v.Port
		ports[v.Port] = true
		if v.TLS != nil && v.TLS.Redirect {
			validate = append(validate, shadowCheck(dump, v.ServerName, 80, v.Site()+".conf", fix))
			ports[80] = true
		}
	}
	errorLog := map[string]string{"apache2": "/var/log/apache2/error.log", "httpd": "/var/log/httpd/error_log"}[unit]
	// What httpd logged when it fails to start: the unit's journal, else the error log.
	// Apache's own lines carry an AH code or an errno: "(98)Address already in use: AH00072: ...".
	why := "journalctl -u " + unit + " -n 40 --no-pager -o cat | grep -E 'AH[0-9]{5}|^\\([0-9]+\\)' | tail -n 5"
	if f.Init != "systemd" {
		why = "tail -n 5 " + errorLog
	}
	var settle []string
	for _, v := range vhosts {
		if v.TLS != nil && v.TLS.ACME != nil {
			settle = append(settle, MDReady(v.TLS.ACME.Store, v.ServerName, v.Port, errorLog, 180, v.TLS.ACME.TLSALPN))
		}
	}
	return &steps.Service{
		Name: Service, Kind: steps.Proxy, WasRunning: f.Apache.Running,
		Validate:   strings.Join(validate, " && "),
		Configtest: configtest, Why: why,
		PortsFree: distro.PortsFree(slices.Collect(maps.Keys(ports)), 20),
		Start:     svc("start"), Stop: svc("stop"), Restart: svc("restart"), Reload: svc("reload"),
		Ready:        distro.HTTPReady(port, "httpd", 60),
		Settle:       strings.Join(settle, " && "),
		RestoreReady: distro.HTTPReady(listenedPort(f), "httpd", 60),
	}
}

// shadowCheck fails when another VirtualHost answers for the ServerName first, as Debian's
// 000-default.conf does when the name is the host's own FQDN (Apache derives the default
// server's name from it): requests would never reach the proxy.
func shadowCheck(dump, name string, port int, file, fix string) string {
	pattern := strings.ReplaceAll(name, ".", `\.`)
	// apache2ctl -S lists "port N namevhost NAME (file:line)" when several vhosts share an address,
	// and "*:N NAME (file:line)" when one is alone on it. Every value is single-quoted data.
	grep := fmt.Sprintf(`(port %[1]d namevhost %[2]s|^[^[:space:]]*:%[1]d[[:space:]]+%[2]s)[[:space:]]`, port, pattern)
	msg := fmt.Sprintf("ServerName %s on port %d is served first by another VirtualHost:", name, port)
	hint := fmt.Sprintf(". Requests would not reach the proxy: %s, or choose another public name.", fix)
	return fmt.Sprintf(`{ l=$(%s 2>/dev/null | grep -E %s | head -n1); case "$l" in *%s*) ;; *) echo %s"${l:- (none found)}"%s >&2; exit 1;; esac; }`,
		dump, target.Quote(grep), target.Quote("/"+file+":"), target.Quote(msg), target.Quote(hint))
}

// listenedPort is a port httpd listened on before the apply (80 when it did, else the lowest
// one, else 80): after a rollback it answers there, not necessarily on the new vhosts' port.
func listenedPort(f *distro.Facts) int {
	if len(f.Apache.Listen) == 0 || len(f.Apache.Listen[80]) > 0 {
		return 80
	}
	low := 0
	for p := range f.Apache.Listen {
		if low == 0 || p < low {
			low = p
		}
	}
	return low
}
