package apache

import (
	"fmt"
	"github.com/frontdoor-dev/frontdoor/distro"
	"github.com/frontdoor-dev/frontdoor/steps"
	"strings"
)

// Service is the name steps use to trigger httpd.
const Service = "httpd"

// Debian paths and names.
const (
	sitesAvailable = "/etc/apache2/sites-available/"
	SitePrefix     = "frontdoor-"
)

// SitePath is where the VirtualHost of site lives on a Debian host.
func SitePath(site string) string { return sitesAvailable + SitePrefix + site + ".conf" }

// Files lists what the Debian steps read, for the gather.
func Files(site string) []string { return []string{SitePath(site)} }

// DebianSteps returns the steps for one site on a Debian/Ubuntu host: modules, the vhost file,
// the site enabled. Every step triggers httpd.
func DebianSteps(f *distro.Facts, site string, v VHost) []steps.Step {
	mods := []string{"proxy", "proxy_http"}
	if v.RemoteIP {
		mods = append(mods, "remoteip")
	}
	var out []steps.Step
	for _, m := range mods {
		out = append(out, toggle("module "+m, f.Apache.Modules[m], "a2enmod -q "+m, "a2dismod -q -f "+m))
	}
	conf := v.Render()
	out = append(out, &steps.FileStep{
		Label:   "apache: VirtualHost " + v.ServerName,
		Current: f.File(SitePath(site)),
		Edit:    func([]byte) ([]byte, error) { return []byte(conf), nil },
		NewMode: 0o644, Notify: []string{Service},
		Reason: SitePath(site) + " already up to date",
	})
	name := SitePrefix + site
	out = append(out, toggle("site "+name, f.Apache.Sites[name], "a2ensite -q "+name, "a2dissite -q "+name))
	return out
}

// toggle is a module or site that must be enabled: enable reaches that state, disable undoes it.
func toggle(what string, enabled bool, enable, disable string) steps.Step {
	reason := what + " already enabled"
	if !enabled {
		reason = "enable " + what
	}
	return &steps.CommandStep{Label: "apache: " + what, Done: enabled, Reason: reason,
		Command: enable, Undo: disable, Notify: []string{Service}}
}

// DebianService is httpd on a Debian host: apache2ctl configtest before any restart; restart by
// systemctl or the init.d script, whichever the host runs.
func DebianService(f *distro.Facts, site string, v VHost) *steps.Service {
	ctl := func(action string) string {
		if f.Init == "systemd" {
			return "systemctl " + action + " apache2"
		}
		return "service apache2 " + action
	}
	return &steps.Service{
		Name: Service, Kind: steps.Proxy, WasRunning: f.Apache.Running,
		Validate:   "apache2ctl configtest 2>&1 && " + shadowCheck(v.ServerName, v.Port, SitePrefix+site+".conf"),
		Configtest: "apache2ctl configtest 2>&1",
		Start:      ctl("start"), Stop: ctl("stop"), Restart: ctl("restart"),
		Ready: steps.HTTPReady(v.Port, "httpd", 60),
	}
}

// shadowCheck fails when another VirtualHost answers for the ServerName first, as Debian's
// 000-default.conf does when the name is the host's own FQDN (Apache derives the default
// server's name from it): requests would never reach the proxy.
func shadowCheck(name string, port int, file string) string {
	pattern := strings.ReplaceAll(name, ".", `\\.`)
	return fmt.Sprintf(`{ l=$(apache2ctl -S 2>/dev/null | grep -E "port %[2]d namevhost %[4]s[[:space:]]" | head -n1); `+
		`case "$l" in *"/%[3]s:"*) ;; *) echo "ServerName %[1]s on port %[2]d is served first by another VirtualHost:${l:- (none found)}. `+
		`Requests would not reach the proxy: disable that site (a2dissite) or give it another ServerName, or choose another public name." >&2; exit 1;; esac; }`,
		name, port, file, pattern)
}
