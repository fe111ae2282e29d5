package apache

import (
	"fmt"
	"path"

	"github.com/frontdoor-dev/frontdoor/distro"
	"github.com/frontdoor-dev/frontdoor/steps"
	"github.com/frontdoor-dev/frontdoor/target"
)

// CertFiles are where an uploaded certificate (leaf then chain) and its key go on a host: Cert
// and Key as frontdoor writes them (SFTP paths on Windows), ConfCert and ConfKey as the
// VirtualHost names them.
type CertFiles struct{ Cert, Key, ConfCert, ConfKey string }

// PrivateDir is the folder, under a Windows host's Apache conf, that holds uploaded keys: Windows
// keeps ACLs, not modes, and conf inherits read access for Users, so the keys go into a folder
// readable by SYSTEM (Apache's service) and Administrators only.
const PrivateDir = "frontdoor-private"

// CertPaths are the family's own certificate directories, which exist on a stock install
// (Debian's /etc/ssl/private is root:ssl-cert 0710, RHEL's /etc/pki/tls/private is root's), and on
// Windows Apache's conf folder (where Apache Lounge's httpd-ssl.conf keeps server.crt) with the
// key in PrivateDir; for the VirtualHost's site name.
func CertPaths(layout string, w Windows, site string) CertFiles {
	switch layout {
	case "redhat":
		c, k := "/etc/pki/tls/certs/"+site+".pem", "/etc/pki/tls/private/"+site+".key"
		return CertFiles{c, k, c, k}
	case "windows":
		c, k := "conf/"+site+".pem", "conf/"+PrivateDir+"/"+site+".key" // relative to ServerRoot
		root := distro.SFTPPath(w.Root) + "/"
		return CertFiles{root + c, root + k, c, k}
	}
	c, k := "/etc/ssl/certs/"+site+".pem", "/etc/ssl/private/"+site+".key"
	return CertFiles{c, k, c, k}
}

// CertSteps upload a VirtualHost's certificate (0644) and key (0600, root's; on Windows into
// PrivateDir, made first); plans show what they are, by describeCert and describeKey: a key's
// bytes are never shown. A new certificate and key alone (a renewal) need only httpd's graceful
// reload.
func CertSteps(f *distro.Facts, v VHost, w Windows, cert, key []byte, describeCert, describeKey func([]byte) string) []steps.Step {
	p := CertPaths(f.Apache.Layout, w, v.Site())
	win := f.Family == distro.Windows
	var out []steps.Step
	if win {
		dir := distro.WinPath(path.Dir(p.Key))
		have := f.File(p.Key).Exists
		out = append(out, &steps.CommandStep{
			Label: "apache: private folder " + dir, Done: have,
			Reason:  map[bool]string{true: dir + " holds the key", false: "create " + dir + ", readable by SYSTEM and Administrators only"}[have],
			Command: distro.WinCommand("mkdir", distro.WinParams{Path: dir}),
			// Removed only when empty: the journal has deleted the key first.
			Undo: distro.WinCommand("rmdir", distro.WinParams{Path: dir}),
		})
	}
	return append(out,
		&steps.FileStep{
			Label: "apache: certificate " + v.ServerName, Current: f.File(p.Cert),
			Edit:    func([]byte) ([]byte, error) { return cert, nil },
			NewMode: 0o644, Notify: []string{Service + steps.ReloadTrigger}, Reason: p.Cert + " already holds this certificate",
			Describe: describeCert,
		},
		&steps.FileStep{
			Label: "apache: key " + v.ServerName, Current: f.File(p.Key),
			Edit: func([]byte) ([]byte, error) { return key, nil },
			// Windows has no modes to keep: its folder's ACL protects the key.
			NewMode: 0o600, Owned: !win, Notify: []string{Service + steps.ReloadTrigger}, Reason: p.Key + " already holds this key",
			Describe: describeKey,
		})
}

// MDStore is where mod_md keeps its ACME account, keys and certificates on a host of the layout:
// a directory of its own (the default would be ServerRoot's md/, inside /etc), created by
// frontdoor so a rollback removes it with everything mod_md put there.
func MDStore(layout string) string {
	if layout == "redhat" {
		return "/var/lib/httpd/md"
	}
	return "/var/lib/apache2/md"
}

// MDStoreFile exists once mod_md has used the store: the store was there before this run.
func MDStoreFile(layout string) string { return MDStore(layout) + "/md_store.json" }

// MDStoreStep creates mod_md's store unless it is there, 0755 root (mod_md's watchdog runs as
// httpd's child user and must reach staging/; mod_md keeps the keys 0600 inside); its undo
// removes it.
func MDStoreStep(f *distro.Facts) steps.Step {
	store, have := MDStore(f.Apache.Layout), f.File(MDStoreFile(f.Apache.Layout)).Exists
	return &steps.CommandStep{
		Label: "apache: mod_md store " + store, Done: have,
		Reason:  map[bool]string{true: "mod_md's store " + store + " is there", false: "create mod_md's store " + store}[have],
		Command: "mkdir -p -m 0755 " + store, Undo: "rm -rf " + store, Notify: []string{Service},
	}
}

// ACMECAPath is where a private ACME server's roots go for the VirtualHost's site name.
func ACMECAPath(layout, site string) string {
	if layout == "redhat" {
		return "/etc/pki/tls/certs/" + site + "-acme-ca.pem"
	}
	return "/etc/ssl/certs/" + site + "-acme-ca.pem"
}

// ACMECAStep uploads the roots of a private ACME server's https (MDCACertificateFile) to path.
func ACMECAStep(f *distro.Facts, path string, roots []byte, describe func([]byte) string) steps.Step {
	return &steps.FileStep{
		Label: "apache: ACME server's roots", Current: f.File(path),
		Edit:    func([]byte) ([]byte, error) { return roots, nil },
		NewMode: 0o644, Notify: []string{Service}, Reason: path + " already holds these roots", Describe: describe,
	}
}

// MDReady waits up to seconds for mod_md (its store at store)'s certificate for name: once mod_md has it staged it
// asks httpd to reload (mod_md activates a new certificate only then), and it is done when httpd
// serves it on port (checked with openssl where the host has it: a graceful reload's old children
// may still serve mod_md's temporary certificate a moment). On failure it shows mod_md's last
// lines from the error log.
func MDReady(store, name string, port int, errorLog string, seconds int, tlsALPN bool) string {
	reach := fmt.Sprintf("http://%s/ on port 80", name)
	if tlsALPN {
		reach = fmt.Sprintf("%s on port 443 (TLS with ALPN acme-tls/1)", name)
	}
	return fmt.Sprintf(`d=%[1]s; n=%[2]s; end=$(($(date +%%s) + %[3]d)); while [ "$(date +%%s)" -le "$end" ]; do
  if [ -f "$d/staging/$n/pubcert.pem" ]; then apachectl graceful >/dev/null 2>&1 || apache2ctl graceful >/dev/null 2>&1; sleep 2; continue; fi
  if [ -f "$d/domains/$n/pubcert.pem" ]; then
    command -v openssl >/dev/null 2>&1 || { sleep 3; exit 0; }
    want=$(openssl x509 -noout -fingerprint -sha256 -in "$d/domains/$n/pubcert.pem")
    got=$(openssl s_client -connect 127.0.0.1:%[6]d -servername "$n" </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256 2>/dev/null)
    [ -n "$want" ] && [ "$got" = "$want" ] && exit 0
  fi
  sleep 1; done
echo %[4]s >&2; grep -E 'AH100[0-9]{2}|md[_:]' %[5]s 2>/dev/null | tail -n 5 >&2; exit 1`,
		store, target.Quote(name), seconds,
		target.Quote(fmt.Sprintf("mod_md did not get a certificate for %s from the ACME CA in %d s (the CA must reach %s); its log says:", name, seconds, reach)),
		errorLog, port)
}
