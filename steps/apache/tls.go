package apache

import (
	"github.com/frontdoor-dev/frontdoor/distro"
	"github.com/frontdoor-dev/frontdoor/steps"
)

// CertPaths are where an uploaded certificate (leaf then chain) and its key go on a host of the
// layout, for the VirtualHost's site name: the family's own certificate directories, which exist
// on a stock install (Debian's /etc/ssl/private is root:ssl-cert 0710).
func CertPaths(layout, site string) (cert, key string) {
	if layout == "redhat" {
		return "/etc/pki/tls/certs/" + site + ".pem", "/etc/pki/tls/private/" + site + ".key"
	}
	return "/etc/ssl/certs/" + site + ".pem", "/etc/ssl/private/" + site + ".key"
}

// CertSteps upload a VirtualHost's certificate (0644) and key (0600, root's); plans show what
// they are, by describeCert and describeKey: a key's bytes are never shown.
func CertSteps(f *distro.Facts, v VHost, cert, key []byte, describeCert, describeKey func([]byte) string) []steps.Step {
	certPath, keyPath := CertPaths(f.Apache.Layout, v.Site())
	return []steps.Step{
		&steps.FileStep{
			Label: "apache: certificate " + v.ServerName, Current: f.File(certPath),
			Edit:    func([]byte) ([]byte, error) { return cert, nil },
			NewMode: 0o644, Notify: []string{Service}, Reason: certPath + " already holds this certificate",
			Describe: describeCert,
		},
		&steps.FileStep{
			Label: "apache: key " + v.ServerName, Current: f.File(keyPath),
			Edit:    func([]byte) ([]byte, error) { return key, nil },
			NewMode: 0o600, Notify: []string{Service}, Reason: keyPath + " already holds this key",
			Describe: describeKey,
		},
	}
}
