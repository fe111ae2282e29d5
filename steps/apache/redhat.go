package apache

import (
	"bytes"
	"fmt"
	"path"
	"strings"

	"github.com/frontdoor-dev/frontdoor/distro"
	"github.com/frontdoor-dev/frontdoor/steps"
)

// RedHat paths: VirtualHosts in conf.d (read by httpd.conf's IncludeOptional, nothing to
// enable), modules in conf.modules.d.
const (
	confD = "/etc/httpd/conf.d/"
	// ModulesFile holds the LoadModule lines frontdoor adds for modules no file mentions.
	ModulesFile = "/etc/httpd/conf.modules.d/99-frontdoor.conf"
)

// RedHatVHostPath is where a VirtualHost lives on a RedHat-family host.
func RedHatVHostPath(v VHost) string { return confD + v.Site() + ".conf" }

// RedHatSteps returns the steps on a RHEL/CentOS/Rocky/Alma/Fedora host: each needed module that
// is not loaded is enabled by uncommenting its LoadModule line where the distribution has it
// (00-proxy.conf, 00-base.conf...: only those bytes change), or by a LoadModule line in
// 99-frontdoor.conf when no file mentions it; SELinux's httpd_can_network_connect is turned on
// when SELinux is not disabled; then each vhost's file in conf.d.
func RedHatSteps(f *distro.Facts, vhosts []VHost) []steps.Step {
	var out []steps.Step
	uncomment := map[string][]string{} // file -> modules to uncomment there
	var add []string
	for _, m := range Modules(vhosts) {
		if f.Apache.Modules[m] {
			out = append(out, &steps.CommandStep{Label: "apache: module " + m, Done: true, Reason: "module " + m + " already loaded"})
			continue
		}
		if file := commentedIn(f, m); file != "" {
			uncomment[file] = append(uncomment[file], m)
		} else {
			add = append(add, m)
		}
	}
	for _, file := range f.Apache.ModuleFiles {
		mods := uncomment[file]
		if len(mods) == 0 {
			continue
		}
		out = append(out, &steps.FileStep{
			Label:   fmt.Sprintf("apache: modules %s in %s", strings.Join(mods, ", "), path.Base(file)),
			Current: f.File(file),
			Edit:    func(cur []byte) ([]byte, error) { return uncommentModules(cur, mods), nil },
			Notify:  []string{Service},
		})
	}
	if len(add) > 0 {
		cur := f.File(ModulesFile)
		out = append(out, &steps.FileStep{
			Label:   "apache: modules " + strings.Join(add, ", ") + " in " + path.Base(ModulesFile),
			Current: cur,
			Edit:    func(cur []byte) ([]byte, error) { return appendModules(cur, add), nil },
			NewMode: 0o644, Notify: []string{Service},
		})
	}
	out = append(out, selinuxStep(f.SELinux))
	out = append(out, retirePlainSites(f, vhosts, RedHatVHostPath)...)
	for _, v := range vhosts {
		out = append(out, vhostStep(f, v, RedHatVHostPath(v)))
	}
	return out
}

// commentedIn returns the first module file with a commented-out LoadModule line for m.
func commentedIn(f *distro.Facts, m string) string {
	for _, file := range f.Apache.ModuleFiles {
		for _, lm := range distro.LoadModules(f.Files[file].Data) {
			if lm.Module == m && lm.Commented {
				return file
			}
		}
	}
	return ""
}

// uncommentModules removes the "#" (and the blanks after it) before the first commented
// LoadModule line of each module; every other byte stays.
func uncommentModules(data []byte, mods []string) []byte {
	want := map[string]bool{}
	for _, m := range mods {
		want[m] = true
	}
	var out bytes.Buffer
	last := 0
	for _, lm := range distro.LoadModules(data) {
		if !lm.Commented || !want[lm.Module] {
			continue
		}
		want[lm.Module] = false
		rest := bytes.Index(data[lm.Hash:lm.End], []byte("LoadModule"))
		out.Write(data[last:lm.Hash])
		last = lm.Hash + rest
	}
	out.Write(data[last:])
	return out.Bytes()
}

// appendModules adds a LoadModule line per module to frontdoor's own modules file, in the
// distribution's form (modules/mod_x.so, relative to ServerRoot).
func appendModules(cur []byte, mods []string) []byte {
	out := append([]byte(nil), cur...)
	if len(out) == 0 {
		out = []byte("# Written by frontdoor: modules its reverse proxy needs that no other file loaded.\n")
	} else if out[len(out)-1] != '\n' {
		out = append(out, '\n')
	}
	for _, m := range mods {
		out = append(out, fmt.Sprintf("LoadModule %s_module modules/mod_%s.so\n", m, m)...)
	}
	return out
}

// selinuxStep lets httpd connect to the applications when SELinux could stop it (the guide's
// "setsebool -P httpd_can_network_connect 1"); undone by setting it back off.
func selinuxStep(s distro.SELinux) steps.Step {
	st := &steps.CommandStep{Label: "selinux: httpd_can_network_connect", Done: true,
		Command: "setsebool -P httpd_can_network_connect 1", Undo: "setsebool -P httpd_can_network_connect 0"}
	switch {
	case s.Mode == "":
		st.Reason = "no SELinux tools on this host"
	case !s.Active():
		st.Reason = "SELinux is " + strings.ToLower(s.Mode)
	case !s.NetworkConnectKnown:
		st.Reason = "getsebool does not know httpd_can_network_connect"
	case s.NetworkConnect:
		st.Reason = "httpd_can_network_connect already on (SELinux " + strings.ToLower(s.Mode) + ")"
	default:
		st.Done = false
		st.Reason = "turn httpd_can_network_connect on (SELinux " + strings.ToLower(s.Mode) + "), persistently"
	}
	return st
}

// RedHatService is httpd on a RedHat-family host: apachectl configtest and the check that each
// vhost answers its name (httpd -S), then systemctl or the init.d script.
func RedHatService(f *distro.Facts, vhosts []VHost) *steps.Service {
	return httpdService(f, vhosts, "httpd", "apachectl", "httpd -S", "remove or rename that file in /etc/httpd/conf.d")
}

// For returns the steps and the httpd service for the host's platform family (w: where Apache is
// on Windows hosts).
func For(f *distro.Facts, vhosts []VHost, w Windows) ([]steps.Step, *steps.Service) {
	switch f.Apache.Layout {
	case "redhat":
		return RedHatSteps(f, vhosts), RedHatService(f, vhosts)
	case "windows":
		return WindowsSteps(f, vhosts, w), WindowsService(f, vhosts, w)
	}
	return DebianSteps(f, vhosts), DebianService(f, vhosts)
}
