package playbooks

import (
	"crypto/x509"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"time"

	"github.com/frontdoor-dev/frontdoor/certs"
	"github.com/frontdoor-dev/frontdoor/distro"
	"github.com/frontdoor-dev/frontdoor/steps"
	"github.com/frontdoor-dev/frontdoor/steps/apache"
)

// TLS is how an https public URL gets its certificate: files on the controller that frontdoor
// uploads (certificate, key, chain), or files already on the host (certificate_path, key_path,
// chain_path), checked and not copied. "{{host}}" in those six paths is the inventory host's
// name (not in the ca_file paths: roots are the same for every host).
type TLS struct {
	Certificate string `yaml:"certificate"`
	Key         string `yaml:"key"`
	Chain       string `yaml:"chain"`

	CertificatePath string `yaml:"certificate_path"`
	KeyPath         string `yaml:"key_path"`
	ChainPath       string `yaml:"chain_path"`

	// CAFile holds extra trusted roots (PEM, on the controller): for the checks before any change
	// and for the verification over https, beside the system's roots.
	CAFile string `yaml:"ca_file"`
	// RedirectHTTP (default true) adds a port-80 VirtualHost that redirects to the https URL.
	RedirectHTTP *bool `yaml:"redirect_http"`
	// HSTS, when above 0, sends Strict-Transport-Security with this max-age (seconds).
	HSTS int `yaml:"hsts"`
	// ACME, instead of certificate files: Apache's own mod_md obtains the certificate from an ACME
	// CA (Let's Encrypt by default) and renews it, without frontdoor.
	ACME *ACME `yaml:"acme"`

	dir string // the playbook's directory: relative controller paths are read from there
}

// ACME is how mod_md gets the certificate.
type ACME struct {
	Email     string `yaml:"email"`     // the account's contact (MDContactEmail)
	Directory string `yaml:"directory"` // the CA's ACME directory URL (default Let's Encrypt's)
	// CAFile, on the controller, holds the roots of the ACME server's own https (uploaded for
	// MDCACertificateFile): only for a private ACME server.
	CAFile string `yaml:"ca_file"`
	// AgreeTOS must be true: the CA's terms of service are accepted in the admin's name
	// (MDCertificateAgreement accepted).
	AgreeTOS bool `yaml:"agree_tos"`
	// Challenge is how the CA validates the name: http-01 (default: the CA fetches a file on
	// port 80) or tls-alpn-01 (a TLS handshake on port 443, for hosts whose port 80 is closed).
	Challenge string `yaml:"challenge"`
	// Resolver, host:port, is the DNS server the checks before any change ask for the name (the
	// one the CA uses, when the controller's own DNS gives another view); default: the controller's.
	Resolver string `yaml:"resolver"`
}

// Challenge types mod_md offers (MDCAChallenges) that frontdoor configures.
const (
	HTTP01    = "http-01"
	TLSALPN01 = "tls-alpn-01"
)

// LetsEncrypt is the default ACME directory.
const LetsEncrypt = "https://acme-v02.api.letsencrypt.org/directory"

var emailR = regexp.MustCompile(`^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$`)

// Uploaded says the certificate and key come from the controller.
func (t *TLS) Uploaded() bool { return t.Certificate != "" }

// Redirect says whether plain http on port 80 redirects to https.
func (t *TLS) Redirect() bool { return t.RedirectHTTP == nil || *t.RedirectHTTP }

// checkTLS validates an app's tls block against its url at load.
func (pb *Playbook) checkTLS(a *App, at string) error {
	src := pb.src
	https := a.public.Scheme == "https"
	t := a.TLS
	if t == nil {
		return nil // an https app may share another app's tls (crossCheckTLS)
	}
	if !https {
		return src.errorf(at+".tls", "tls is for an https url; this app's url is %s: write url: https://...", a.URL)
	}
	t.dir = filepath.Dir(src.name)
	if t.HSTS < 0 {
		return src.errorf(at+".tls.hsts", "hsts %d: give a max-age in seconds, like 31536000 (a year), or 0 for none", t.HSTS)
	}
	if t.CAFile != "" {
		if _, err := certs.Pool(t.path(t.CAFile, "")); err != nil {
			return src.errorf(at+".tls.ca_file", "%v", err)
		}
	}
	local := t.Certificate != "" || t.Key != "" || t.Chain != ""
	remote := t.CertificatePath != "" || t.KeyPath != "" || t.ChainPath != ""
	if acme := t.ACME; acme != nil {
		switch {
		case local || remote:
			return src.errorf(at+".tls.acme", "acme gets the certificate itself: remove certificate/key (or their _path) from this tls, or remove acme")
		case !emailR.MatchString(acme.Email):
			return src.errorf(at+".tls.acme", "acme needs a contact email for the CA (expiry notices): write email: admin@example.com")
		case !acme.AgreeTOS:
			return src.errorf(at+".tls.acme", "the ACME CA's terms of service must be accepted to get a certificate: read them (Let's Encrypt: https://letsencrypt.org/repository/), then write agree_tos: true")
		}
		if acme.Directory == "" {
			acme.Directory = LetsEncrypt
		}
		if u, err := url.Parse(acme.Directory); err != nil || u.Scheme != "https" || u.Host == "" || strings.ContainsAny(acme.Directory, " \"'\n\r\x00") {
			return src.errorf(at+".tls.acme.directory", "directory %q: give the CA's ACME directory as an https URL, like %s", acme.Directory, LetsEncrypt)
		}
		if acme.CAFile != "" {
			if _, err := certs.Pool(t.path(acme.CAFile, "")); err != nil {
				return src.errorf(at+".tls.acme.ca_file", "%v", err)
			}
		}
		switch acme.Challenge {
		case "":
			acme.Challenge = HTTP01
		case HTTP01, TLSALPN01:
		default:
			return src.errorf(at+".tls.acme.challenge", "challenge %q: write %s (the CA fetches a file on port 80, the default) or %s (a TLS handshake on port 443)", acme.Challenge, HTTP01, TLSALPN01)
		}
		if acme.Resolver != "" {
			if _, port, err := net.SplitHostPort(acme.Resolver); err != nil || port == "" {
				return src.errorf(at+".tls.acme.resolver", "resolver %q: give the DNS server as host:port, like 10.0.0.53:53", acme.Resolver)
			}
		}
		return nil
	}
	switch {
	case local && remote:
		return src.errorf(at+".tls", "give either files on the controller (certificate:, key:) or paths on the host (certificate_path:, key_path:), not both")
	case local && (t.Certificate == "" || t.Key == ""):
		return src.errorf(at+".tls", "certificate: and key: are both needed (chain: is optional)")
	case remote && (t.CertificatePath == "" || t.KeyPath == ""):
		return src.errorf(at+".tls", "certificate_path: and key_path: are both needed (chain_path: is optional)")
	case !local && !remote:
		return src.errorf(at+".tls", "no certificate: write certificate: and key: (PEM files on this machine), certificate_path: and key_path: (on the host), or acme: (mod_md gets one)")
	}
	for _, p := range []struct{ key, val string }{{"certificate_path", t.CertificatePath}, {"key_path", t.KeyPath}, {"chain_path", t.ChainPath}} {
		if p.val != "" && (!strings.HasPrefix(p.val, "/") || strings.ContainsAny(p.val, "'\"\n\r\x00 ")) {
			return src.errorf(at+".tls."+p.key, "%s %q must be an absolute path on the host without spaces or quotes, like /etc/ssl/certs/jira.pem", p.key, p.val)
		}
	}
	return nil
}

// crossCheckTLS gives every https app the tls block of its VirtualHost (apps sharing a public
// name and port share one certificate), and refuses two different ones for one VirtualHost, an
// https VirtualHost without one, and a redirect on port 80 where a plain-http app is served.
func (pb *Playbook) crossCheckTLS() error {
	byVHost := map[string]*TLS{}
	for i, a := range pb.Apps {
		p := a.PublicFor("host")
		key := fmt.Sprintf("%s:%d", p.Host, p.Port)
		if a.TLS == nil {
			continue
		}
		if other, ok := byVHost[key]; ok && !reflect.DeepEqual(other, a.TLS) {
			return pb.src.errorf(fmt.Sprintf("$.apps[%d].tls", i), "%s has another tls than an app before it on the same public name %s: apps on one name share one certificate; give tls once", a.Name, key)
		}
		byVHost[key] = a.TLS
	}
	plain := map[string]string{}
	for i, a := range pb.Apps {
		p := a.PublicFor("host")
		if p.Scheme == "http" && p.Port == 80 {
			plain[p.Host] = a.Name
		}
		// One port speaks TLS or not, for every name on it.
		if p.Scheme == "https" && p.Port == 80 || p.Scheme == "http" && p.Port == 443 {
			return pb.src.errorf(fmt.Sprintf("$.apps[%d].url", i), "url %s: port %d is %s's; write %s://%s%s, or another port", a.URL, p.Port,
				map[int]string{80: "plain http", 443: "https"}[p.Port], map[int]string{80: "http", 443: "https"}[p.Port], strings.ReplaceAll(p.Host, hostVar, "{{host}}"), p.ContextPath)
		}
	}
	redirected := map[string]string{}
	for i := range pb.Apps {
		a := &pb.Apps[i]
		p := a.PublicFor("host")
		if p.Scheme != "https" {
			continue
		}
		if a.TLS == nil {
			a.TLS = byVHost[fmt.Sprintf("%s:%d", p.Host, p.Port)]
		}
		if a.TLS == nil {
			return pb.src.errorf(fmt.Sprintf("$.apps[%d].url", i), "url %s is https: give its certificate, e.g.\n    tls:\n      certificate: certs/%s.pem\n      key: certs/%s.key", a.URL, p.Host, p.Host)
		}
		if other, ok := redirected[p.Host]; ok && a.TLS.Redirect() && other != fmt.Sprint(p.Port) {
			return pb.src.errorf(fmt.Sprintf("$.apps[%d].tls", i), "%s is https on ports %s and %d, and both would redirect http://%s to them: write redirect_http: false in one of their tls",
				strings.ReplaceAll(p.Host, hostVar, "<host>"), other, p.Port, strings.ReplaceAll(p.Host, hostVar, "<host>"))
		}
		if a.TLS.Redirect() {
			redirected[p.Host] = fmt.Sprint(p.Port)
		}
		if other, ok := plain[p.Host]; ok && a.TLS.Redirect() {
			return pb.src.errorf(fmt.Sprintf("$.apps[%d].tls", i), "%s serves http://%s while %s's tls redirects it to https: write redirect_http: false in %s's tls, or make %s https too",
				other, strings.ReplaceAll(p.Host, hostVar, "<host>"), a.Name, a.Name, other)
		}
	}
	return nil
}

// path resolves a controller path of the tls block for one host: {{host}} replaced, relative to
// the playbook's directory.
func (t *TLS) path(p, host string) string {
	p = strings.ReplaceAll(p, hostVar, host)
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(t.dir, p)
}

// safeHostPathR is a path on the host that can be written in an Apache directive unquoted.
var safeHostPathR = regexp.MustCompile(`^/[A-Za-z0-9._+@/-]+$`)

// hostPath is a host path of the tls block with {{host}} replaced.
func hostPath(p, host string) string { return strings.ReplaceAll(p, hostVar, host) }

// Roots are the roots the app's certificate is checked and verified against: the system's, plus
// tls.ca_file. Nil for an http app.
func (a App) Roots() (*x509.CertPool, error) {
	if a.TLS == nil {
		return nil, nil
	}
	return certs.Pool(a.TLS.path(a.TLS.CAFile, ""))
}

// Material reads the controller's certificate, key and chain for one host, and checks them for
// the public name at now. For a tls block with host paths it returns nil material: the host's
// files are checked once gathered (CheckOnHost).
func (a App) Material(host string, now time.Time) (*certs.Material, certs.Info, error) {
	t := a.TLS
	if t == nil || !t.Uploaded() {
		return nil, certs.Info{}, nil
	}
	m := &certs.Material{CertFile: t.path(t.Certificate, host), KeyFile: t.path(t.Key, host), ChainFile: t.path(t.Chain, host)}
	var err error
	if m.Cert, err = os.ReadFile(m.CertFile); err != nil {
		return nil, certs.Info{}, fmt.Errorf("tls certificate: %w", err)
	}
	if m.Key, err = os.ReadFile(m.KeyFile); err != nil {
		return nil, certs.Info{}, fmt.Errorf("tls key: %w", err)
	}
	if m.ChainFile != "" {
		if m.Chain, err = os.ReadFile(m.ChainFile); err != nil {
			return nil, certs.Info{}, fmt.Errorf("tls chain: %w", err)
		}
	}
	info, err := a.check(*m, host, now)
	return m, info, err
}

func (a App) check(m certs.Material, host string, now time.Time) (certs.Info, error) {
	roots, err := a.Roots()
	if err != nil {
		return certs.Info{}, err
	}
	return certs.Check(m, a.PublicFor(host).Host, roots, now)
}

// tlsFor completes the https VirtualHosts for one host: the certificate checked (the controller's
// files, or the host's as gathered) for the public name, the files' paths on the host, and the
// steps that upload the controller's files. Any problem refuses the host before any change.
func (pb *Playbook) tlsFor(f *distro.Facts, host string, vhosts []apache.VHost) ([]apache.VHost, []steps.Step, error) {
	var out []steps.Step
	now := time.Now()
	for i, v := range vhosts {
		if v.TLS == nil {
			continue
		}
		a := pb.appOf(v, host)
		if err := apache.TLSSupported(f, a.TLS.ACME != nil); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", a.Name, err)
		}
		t := *v.TLS
		if acme := a.TLS.ACME; acme != nil {
			if acme.Challenge == TLSALPN01 && v.Port != 443 {
				return nil, nil, fmt.Errorf("%s: tls: acme: challenge tls-alpn-01 validates on port 443, and %s is on port %d: write challenge: http-01, or publish it on 443", a.Name, v.ServerName, v.Port)
			}
			t.ACME = &apache.ACME{Directory: acme.Directory, Email: acme.Email, Store: apache.MDStore(f.Apache.Layout), TLSALPN: acme.Challenge == TLSALPN01}
			if acme.CAFile != "" {
				roots, err := os.ReadFile(a.TLS.path(acme.CAFile, host))
				if err != nil {
					return nil, nil, fmt.Errorf("%s: tls: acme: %w", a.Name, err)
				}
				t.ACME.CAFile = apache.ACMECAPath(f.Apache.Layout, v.Site())
				out = append(out, apache.ACMECAStep(f, t.ACME.CAFile, roots, certs.Describe))
			}
			out = append(out, apache.MDStoreStep(f))
		} else if a.TLS.Uploaded() {
			m, _, err := a.Material(host, now)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %w", a.Name, err)
			}
			full, err := certs.FullChain(*m)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %w", a.Name, err)
			}
			p := apache.CertPaths(f.Apache.Layout, pb.windows(), v.Site())
			t.CertFile, t.KeyFile = p.ConfCert, p.ConfKey
			out = append(out, apache.CertSteps(f, v, pb.windows(), full, m.Key, certs.Describe, describeKey)...)
		} else {
			for _, p := range []string{t.CertFile, t.KeyFile, t.ChainFile} {
				if p != "" && !safeHostPathR.MatchString(p) {
					return nil, nil, fmt.Errorf("%s: tls: %q: a path on the host goes into Apache's configuration as it is: use letters, digits and . _ - + @ /", a.Name, p)
				}
			}
			m := certs.Material{CertFile: host + ":" + t.CertFile, KeyFile: host + ":" + t.KeyFile}
			for _, p := range []struct {
				path string
				into *[]byte
			}{{t.CertFile, &m.Cert}, {t.KeyFile, &m.Key}, {t.ChainFile, &m.Chain}} {
				if p.path == "" {
					continue
				}
				file := f.File(p.path)
				if !file.Exists {
					return nil, nil, fmt.Errorf("%s: tls: %s does not exist on %s (or is not readable by the login user's sudo root)", a.Name, p.path, host)
				}
				*p.into = file.Data
			}
			if t.ChainFile != "" {
				m.ChainFile = host + ":" + t.ChainFile
			}
			if _, err := a.check(m, host, now); err != nil {
				return nil, nil, fmt.Errorf("%s: %w", a.Name, err)
			}
		}
		vhosts[i].TLS = &t
	}
	return vhosts, out, nil
}

// appOf is the first app of the playbook served by vhost v on host (the one whose tls it has).
func (pb *Playbook) appOf(v apache.VHost, host string) App {
	for _, a := range pb.Proxied(host) {
		if p := a.PublicFor(host); p.Host == v.ServerName && p.Port == v.Port {
			return a
		}
	}
	return App{}
}

// describeKey names a private key by its public key's fingerprint: enough to tell keys apart in a
// plan, nothing of the key itself.
func describeKey(b []byte) string {
	if fp, err := certs.KeyFingerprint(b); err == nil {
		return "(not shown) private key, public key " + fp
	}
	return fmt.Sprintf("(not shown) %d bytes", len(b))
}

// ServedFingerprint is the certificate Apache must serve for the app on host ("sha256:..."): the
// controller's file, else the host's as gathered in f (nil: not known, not checked).
func (a App) ServedFingerprint(host string, f *distro.Facts) string {
	t := a.TLS
	if t == nil || t.ACME != nil { // mod_md's certificate: checked against the roots only
		return ""
	}
	var pemData []byte
	if t.Uploaded() {
		pemData, _ = os.ReadFile(t.path(t.Certificate, host))
	} else if f != nil {
		pemData = f.File(hostPath(t.CertificatePath, host)).Data
	}
	fp, err := certs.Fingerprint(pemData)
	if err != nil {
		return ""
	}
	return fp
}

// tlsNotes are the certificates' warnings for one host (one expiring soon), once per certificate.
func (pb *Playbook) tlsNotes(f *distro.Facts, host string) []string {
	var notes []string
	seen := map[*TLS]bool{}
	for _, a := range pb.Proxied(host) {
		t := a.TLS
		if t == nil || seen[t] || a.PublicFor(host).Scheme != "https" || t.ACME != nil {
			continue
		}
		seen[t] = true
		var info certs.Info
		var err error
		if t.Uploaded() {
			_, info, err = a.Material(host, time.Now())
		} else {
			m := certs.Material{Cert: f.File(hostPath(t.CertificatePath, host)).Data, Key: f.File(hostPath(t.KeyPath, host)).Data}
			if t.ChainPath != "" {
				m.Chain = f.File(hostPath(t.ChainPath, host)).Data
			}
			info, err = a.check(m, host, time.Now())
		}
		if err != nil {
			continue // refused by Compile, with the reason
		}
		for _, w := range info.Warnings {
			notes = append(notes, fmt.Sprintf("%s (%s): %s", a.Name, a.PublicFor(host).Host, w))
		}
	}
	return notes
}
