// Package certtest makes throwaway certificates for tests: a CA (a root and one intermediate)
// that issues server certificates, and self-signed ones, as PEM, so that tests of TLS material
// (package certs, the lab's https tests) use real X.509 rather than canned files that expire.
package certtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// CA is a throwaway certificate authority for tests (root + one intermediate), ECDSA P-256. Both
// are valid from ten years ago to twenty years ahead, so that leaves issued in the past or the
// future are judged on their own dates.
type CA struct {
	RootPEM, IntermediatePEM []byte
	Root, Intermediate       *x509.Certificate

	rootKey, intermediateKey crypto.Signer
}

// NewCA makes a CA with names unique to it ("certtest root 1a2b3c4d"), so that two CAs in a test
// are never taken for each other.
func NewCA(t testing.TB) *CA {
	t.Helper()
	id := make([]byte, 4)
	rand.Read(id)
	now := time.Now()
	ca := &CA{rootKey: newECDSA(t), intermediateKey: newECDSA(t)}
	root := &x509.Certificate{
		Subject:               pkix.Name{CommonName: "certtest root " + hex.EncodeToString(id), Organization: []string{"frontdoor tests"}},
		NotBefore:             now.AddDate(-10, 0, 0),
		NotAfter:              now.AddDate(20, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	ca.Root, ca.RootPEM = create(t, root, root, ca.rootKey.Public(), ca.rootKey)
	inter := &x509.Certificate{
		Subject:               pkix.Name{CommonName: "certtest intermediate " + hex.EncodeToString(id), Organization: []string{"frontdoor tests"}},
		NotBefore:             root.NotBefore,
		NotAfter:              root.NotAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	ca.Intermediate, ca.IntermediatePEM = create(t, inter, ca.Root, ca.intermediateKey.Public(), ca.rootKey)
	return ca
}

// Pool is a pool holding the CA's root only (no system roots).
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Root)
	return p
}

// Option changes a certificate that Issue or SelfSigned makes.
type Option func(*options)

type options struct {
	key   func(testing.TB) crypto.Signer
	isCA  bool
	usage []x509.ExtKeyUsage
	ips   []net.IP
}

// IPs adds IP address SANs (a test server reached by its address, e.g. an ACME server).
func IPs(ips ...net.IP) Option { return func(o *options) { o.ips = ips } }

// RSA gives the certificate an RSA key of bits bits (the default is ECDSA P-256).
func RSA(bits int) Option {
	return func(o *options) {
		o.key = func(t testing.TB) crypto.Signer {
			t.Helper()
			k, err := rsa.GenerateKey(rand.Reader, bits)
			if err != nil {
				t.Fatal(err)
			}
			return k
		}
	}
}

// Ed25519 gives the certificate an Ed25519 key.
func Ed25519() Option {
	return func(o *options) {
		o.key = func(t testing.TB) crypto.Signer {
			t.Helper()
			_, k, err := ed25519.GenerateKey(rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			return k
		}
	}
}

// Key makes the certificate for key instead of a new one (a key that openssl made, say).
func Key(key crypto.Signer) Option {
	return func(o *options) { o.key = func(testing.TB) crypto.Signer { return key } }
}

// AsCA makes the certificate a CA (basic constraints CA:TRUE), as `openssl req -x509` does by
// default: a certificate a server must not present as its own.
func AsCA() Option { return func(o *options) { o.isCA = true } }

// ExtKeyUsage replaces the certificate's extended key usages (the default is serverAuth).
func ExtKeyUsage(u ...x509.ExtKeyUsage) Option { return func(o *options) { o.usage = u } }

// Issue returns a leaf for names (DNS SANs; the first is also the CN) valid from notBefore to
// notAfter, signed by the intermediate; the key PEM is PKCS#8.
func (ca *CA) Issue(t testing.TB, names []string, notBefore, notAfter time.Time, opts ...Option) (certPEM, keyPEM []byte) {
	t.Helper()
	tmpl, key := leaf(t, names, notBefore, notAfter, opts)
	_, certPEM = create(t, tmpl, ca.Intermediate, key.Public(), ca.intermediateKey)
	return certPEM, pkcs8(t, key)
}

// SelfSigned returns a leaf like Issue's, signed by its own key.
func SelfSigned(t testing.TB, names []string, notBefore, notAfter time.Time, opts ...Option) (certPEM, keyPEM []byte) {
	t.Helper()
	tmpl, key := leaf(t, names, notBefore, notAfter, opts)
	_, certPEM = create(t, tmpl, tmpl, key.Public(), key)
	return certPEM, pkcs8(t, key)
}

// WriteFiles writes a leaf for names valid from an hour ago to 90 days ahead, its key (mode
// 0600), the intermediate as the chain and the root, as cert.pem, key.pem, chain.pem and root.pem
// in dir, and returns their paths.
func (ca *CA) WriteFiles(t testing.TB, dir string, names []string) (cert, key, chain, root string) {
	t.Helper()
	now := time.Now()
	certPEM, keyPEM := ca.Issue(t, names, now.Add(-time.Hour), now.AddDate(0, 0, 90))
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	chain, root = filepath.Join(dir, "chain.pem"), filepath.Join(dir, "root.pem")
	for _, f := range []struct {
		path string
		data []byte
		mode os.FileMode
	}{{cert, certPEM, 0o644}, {key, keyPEM, 0o600}, {chain, ca.IntermediatePEM, 0o644}, {root, ca.RootPEM, 0o644}} {
		if err := os.WriteFile(f.path, f.data, f.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(f.path, f.mode); err != nil { // an existing file keeps its mode
			t.Fatal(err)
		}
	}
	return cert, key, chain, root
}

func leaf(t testing.TB, names []string, notBefore, notAfter time.Time, opts []Option) (*x509.Certificate, crypto.Signer) {
	t.Helper()
	o := options{key: newECDSA, usage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	for _, opt := range opts {
		opt(&o)
	}
	key := o.key(t)
	tmpl := &x509.Certificate{
		DNSNames:              names,
		IPAddresses:           o.ips,
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           o.usage,
		BasicConstraintsValid: true,
		IsCA:                  o.isCA,
	}
	if len(names) > 0 {
		tmpl.Subject.CommonName = names[0]
	}
	if _, ok := key.(*rsa.PrivateKey); ok {
		tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment // RSA key exchange, for old clients
	}
	if o.isCA {
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	}
	return tmpl, key
}

func create(t testing.TB, tmpl, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer) (*x509.Certificate, []byte) {
	t.Helper()
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = serial
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func newECDSA(t testing.TB) crypto.Signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func pkcs8(t testing.TB, key crypto.Signer) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}
