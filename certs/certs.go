// Package certs owns the checks of a TLS certificate, its key and chain before they reach a host:
// an https url: names PEM files on the controller (certificate, key, an optional chain, an
// optional ca_file of extra trusted roots), and bad material must be refused before any change,
// each problem with its file and what to do, rather than found by Apache after a restart or by a
// browser after that. It also writes what Apache's SSLCertificateFile takes (FullChain).
//
// Nothing here touches a host. No error and no Info ever holds key material: a key is named by
// the SHA-256 of its public half only.
package certs

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"
)

// Kinds of problem Check reports, for errors.Is: every error it returns is a *Problem whose Kind
// is one of these.
var (
	ErrPEM         = errors.New("not a usable PEM file")
	ErrPassphrase  = errors.New("private key has a passphrase")
	ErrKeyMismatch = errors.New("private key does not match the certificate")
	ErrName        = errors.New("certificate does not cover the public name")
	ErrNotYetValid = errors.New("certificate not yet valid")
	ErrExpired     = errors.New("certificate expired")
	ErrNotLeaf     = errors.New("CA certificate used as the server's")
	ErrUsage       = errors.New("certificate not for TLS servers")
	ErrChain       = errors.New("certificate chain does not verify")
)

// Problem is one thing wrong with the material.
type Problem struct {
	Kind error  // one of the Err* values
	File string // the playbook key and the path: "certificate /etc/tls/jira.pem"
	Msg  string // what is wrong and what to do, starting with a verb
}

func (p *Problem) Error() string { return p.File + " " + p.Msg }
func (p *Problem) Unwrap() error { return p.Kind }

func problem(kind error, f file, msg string) error {
	return &Problem{Kind: kind, File: f.String(), Msg: msg}
}

// file is one of the material's files: its playbook key, its path, and what to write in a
// suggested command when the path is not known.
type file struct{ key, path, placeholder string }

func (f file) String() string {
	if f.path == "" {
		return f.key
	}
	return f.key + " " + f.path
}

func (f file) arg() string {
	if f.path == "" {
		return f.placeholder
	}
	return f.path
}

// Material is PEM data as read from the controller's files; the names are the files' paths, used
// in errors.
type Material struct {
	// Cert holds the server's certificate first; certificates after it are taken as
	// intermediates, as Apache takes them. Chain may be empty.
	Cert, Key, Chain             []byte
	CertFile, KeyFile, ChainFile string
}

// Load reads the files of a Material (chainFile may be empty); an error names the file.
func Load(certFile, keyFile, chainFile string) (Material, error) {
	m := Material{CertFile: certFile, KeyFile: keyFile, ChainFile: chainFile}
	var errs []error
	read := func(key, path string) []byte {
		if path == "" {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %s: cannot read it: %w", key, path, unwrapPath(err)))
		}
		return b
	}
	m.Cert = read("certificate", certFile)
	m.Key = read("key", keyFile)
	m.Chain = read("chain", chainFile)
	return m, errors.Join(errs...)
}

// unwrapPath drops the path from an *fs.PathError, which the message already names.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Info is what was found, for the plan and facts: never any key material.
type Info struct {
	Subject, Issuer     string   // the CN ("CN=jira.example.com"), or the whole name without one
	Names               []string // the leaf's DNS subject alternative names
	NotBefore, NotAfter time.Time
	// Fingerprint is "sha256:" and the lower-case hex SHA-256 of the leaf's DER: what
	// `openssl x509 -noout -fingerprint -sha256` prints, without its colons.
	Fingerprint string
	// KeyFingerprint is "sha256:" and the hex SHA-256 of the key file's public key as DER
	// (SubjectPublicKeyInfo, as `openssl pkey -pubout -outform der` writes it): a name for the key
	// that shows nothing of it. Empty when the key does not parse.
	KeyFingerprint string
	Warnings       []string
}

// String is Info on one line for the plan.
func (i Info) String() string {
	if i.Fingerprint == "" {
		return "no certificate"
	}
	return fmt.Sprintf("subject %s, issuer %s, expires %s, %s", i.Subject, i.Issuer,
		i.NotAfter.UTC().Format(time.DateOnly), short(i.Fingerprint))
}

// short cuts a fingerprint to its first 16 hex digits, enough to tell files apart in a plan.
func short(fp string) string {
	const n = len("sha256:") + 16
	if len(fp) <= n {
		return fp
	}
	return fp[:n] + "…"
}

// WarnDays is how close to its end a certificate's validity draws a warning.
const WarnDays = 30

// Check parses and checks material for the public name `name` at time `now` against roots (nil:
// the system roots; the caller adds ca_file to a pool via Pool): the files parse, the key has no
// passphrase and matches the certificate, the certificate covers name, is valid at now, is not a
// CA, and chains to a trusted root for a TLS server through the certificates after it in Cert
// and those in Chain. It returns every problem found, joined (errors.Join), each a *Problem
// naming the file and saying what to do; the Info holds what could be read even then. A
// certificate that expires within WarnDays is a warning in Info, not an error.
func Check(m Material, name string, roots *x509.CertPool, now time.Time) (Info, error) {
	cf := file{"certificate", m.CertFile, "CERT"}
	kf := file{"key", m.KeyFile, "KEY"}
	chf := file{"chain", m.ChainFile, "CHAIN"}
	var info Info
	var errs []error

	certs, certErrs := parseCerts(m.Cert, cf)
	errs = append(errs, certErrs...)
	var chain []*x509.Certificate
	var chainErrs []error
	if len(m.Chain) > 0 || m.ChainFile != "" {
		chain, chainErrs = parseCerts(m.Chain, chf)
		errs = append(errs, chainErrs...)
	}
	key, err := parseKey(m.Key, kf)
	if err != nil {
		errs = append(errs, err)
	} else {
		info.KeyFingerprint = fingerprint(pkix(key.Public()))
	}
	if len(certErrs) > 0 {
		// Which certificate is the leaf is not known when one of them does not parse.
		return info, errors.Join(errs...)
	}

	// A file with the chain before the server's certificate is refused below (Apache would
	// present the CA as the server); the other checks judge the server's certificate, so that
	// the one message says what to fix.
	li := 0
	if certs[0].IsCA {
		li = max(firstLeaf(certs), 0)
	}
	leaf := certs[li]
	others := slices.Delete(slices.Clone(certs), li, li+1)
	info.Subject, info.Issuer = shortName(leaf.Subject.CommonName, leaf.Subject.String()),
		shortName(leaf.Issuer.CommonName, leaf.Issuer.String())
	info.Names = leaf.DNSNames
	info.NotBefore, info.NotAfter = leaf.NotBefore, leaf.NotAfter
	info.Fingerprint = fingerprint(leaf.Raw)

	if key != nil && !publicEqual(leaf.PublicKey, key.Public()) {
		errs = append(errs, problem(ErrKeyMismatch, kf, fmt.Sprintf(
			"does not match %s (the certificate's public key is %s, the key's %s): name the key the certificate was issued for; compare: openssl x509 -noout -pubkey -in %s; openssl pkey -pubout -in %s",
			cf, short(fingerprint(leaf.RawSubjectPublicKeyInfo)), short(info.KeyFingerprint), cf.arg(), kf.arg())))
	}

	if name == "" {
		errs = append(errs, problem(ErrName, cf, "cannot be checked: no public name was given (url:)"))
	} else if leaf.VerifyHostname(name) != nil {
		errs = append(errs, problem(ErrName, cf, fmt.Sprintf(
			"does not cover %s: %s: ask the CA for a certificate with %s among its subject alternative names, or correct url:",
			name, covers(leaf), name)))
	}

	switch {
	case now.Before(leaf.NotBefore):
		errs = append(errs, problem(ErrNotYetValid, cf, fmt.Sprintf(
			"is not valid until %s (it is %s now): if it was just issued, wait; otherwise check the controller's clock",
			stamp(leaf.NotBefore), stamp(now))))
	case now.After(leaf.NotAfter):
		errs = append(errs, problem(ErrExpired, cf, fmt.Sprintf(
			"expired on %s (%s ago): renew it and name the new certificate", stamp(leaf.NotAfter), days(now.Sub(leaf.NotAfter)))))
	case leaf.NotAfter.Sub(now) < WarnDays*24*time.Hour:
		info.Warnings = append(info.Warnings, fmt.Sprintf("%s expires in %s (%s): renew it before then",
			cf, days(leaf.NotAfter.Sub(now)), leaf.NotAfter.UTC().Format(time.DateOnly)))
	}

	if certs[0].IsCA {
		msg := fmt.Sprintf("holds a CA certificate (%s, basic constraints CA:TRUE) first, where the server's certificate must be: browsers refuse a CA certificate as a server's. ", name1(certs[0]))
		if li > 0 {
			msg += fmt.Sprintf("The server's certificate (%s) is certificate %d in the file: put it first", name1(leaf), li+1)
		} else {
			msg += "If it is the server's own self-signed certificate, make it again with -addext basicConstraints=critical,CA:FALSE; if it is the CA, name it in chain: or ca_file: and name the server's certificate in certificate:"
		}
		errs = append(errs, problem(ErrNotLeaf, cf, msg))
	}

	if len(chainErrs) == 0 {
		if err := verify(leaf, others, chain, roots, now, cf, chf); err != nil {
			errs = append(errs, err)
		}
	}
	return info, errors.Join(errs...)
}

// verify checks that the leaf chains to a trusted root for a TLS server. The leaf's own validity
// and name are checked by Check, each with its own message: x509's Verify stops at the first of
// them and would hide a chain problem behind an expired leaf. So it runs here without DNSName and
// at a time within the leaf's validity.
func verify(leaf *x509.Certificate, extra, chain []*x509.Certificate, roots *x509.CertPool, now time.Time, cf, chf file) error {
	inter := x509.NewCertPool()
	from := map[string]file{}
	for _, c := range extra {
		inter.AddCert(c)
		from[string(c.Raw)] = cf
	}
	for _, c := range chain {
		inter.AddCert(c)
		from[string(c.Raw)] = chf
	}
	at := now
	if at.Before(leaf.NotBefore) {
		at = leaf.NotBefore
	}
	if at.After(leaf.NotAfter) {
		at = leaf.NotAfter
	}
	_, err := leaf.Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: inter,
		CurrentTime:   at,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err == nil {
		return nil
	}
	describe := func(c *x509.Certificate) string {
		s := name1(c)
		if f, ok := from[string(c.Raw)]; ok && c != leaf {
			s += " from " + f.String()
		}
		return s
	}
	const fix = "add the intermediate certificates (chain:), or the root CA that issued them (ca_file:)"
	var ua x509.UnknownAuthorityError
	var ci x509.CertificateInvalidError
	var sr x509.SystemRootsError
	switch {
	case errors.As(err, &ua) && ua.Cert != nil:
		msg := fmt.Sprintf("does not verify to a trusted root: no trusted issuer found for %s (issued by %s)",
			describe(ua.Cert), shortName(ua.Cert.Issuer.CommonName, ua.Cert.Issuer.String()))
		// x509 keeps why a candidate issuer was turned down (a wrong signature, an expired
		// intermediate) in the message only.
		if _, hint, ok := strings.Cut(err.Error(), "(possibly because of "); ok {
			msg += " (possibly because of " + hint
		}
		return problem(ErrChain, cf, msg+": "+fix)
	case errors.As(err, &ci) && ci.Reason == x509.IncompatibleUsage:
		return problem(ErrUsage, cf, "is not for TLS servers: its extended key usage (or an intermediate's) lacks serverAuth: ask the CA for a TLS server certificate")
	case errors.As(err, &ci) && ci.Reason == x509.NotAuthorizedToSign:
		return problem(ErrChain, cf, fmt.Sprintf("does not verify: %s is not a CA and cannot have signed it: name the CA's intermediate certificates in chain:", describe(ci.Cert)))
	case errors.As(err, &ci) && ci.Reason == x509.Expired:
		return problem(ErrChain, cf, fmt.Sprintf("does not verify: %s is not valid at %s (%s): %s", describe(ci.Cert), stamp(at), ci.Detail,
			"get the CA's current intermediate certificates for chain:"))
	case errors.As(err, &sr):
		return problem(ErrChain, cf, "cannot be verified: the controller has no system roots: name the CA in ca_file:")
	}
	return problem(ErrChain, cf, fmt.Sprintf("does not verify to a trusted root (%v): %s", err, fix))
}

// firstLeaf is the index of the first certificate that is not a CA, or -1.
func firstLeaf(certs []*x509.Certificate) int {
	for i, c := range certs {
		if !c.IsCA {
			return i
		}
	}
	return -1
}

// covers says which names a certificate covers, for a message.
func covers(c *x509.Certificate) string {
	var names []string
	names = append(names, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 {
		return fmt.Sprintf("it has no subject alternative names (its subject %s alone counts for no browser)", name1(c))
	}
	return "it covers only " + strings.Join(names, ", ")
}

func name1(c *x509.Certificate) string {
	return shortName(c.Subject.CommonName, c.Subject.String())
}

func shortName(cn, full string) string {
	switch {
	case cn != "":
		return "CN=" + cn
	case full != "":
		return full
	}
	return "(an empty name)"
}

func publicEqual(a, b crypto.PublicKey) bool {
	k, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(b)
}

// pkix is a public key as SubjectPublicKeyInfo DER, or nil if x509 cannot encode it.
func pkix(pub crypto.PublicKey) []byte {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil
	}
	return der
}

func fingerprint(der []byte) string {
	if der == nil {
		return ""
	}
	sum := sha256.Sum256(der)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

// days is a duration in whole days, rounded down, for messages.
func days(d time.Duration) string {
	switch n := int(d / (24 * time.Hour)); n {
	case 0:
		return "less than a day"
	case 1:
		return "1 day"
	default:
		return fmt.Sprintf("%d days", n)
	}
}

// FullChain returns Cert's leaf followed by the other certificates in Cert and then Chain's, as
// one PEM: what Apache's SSLCertificateFile takes since 2.4.8. It is normalised: exactly the
// CERTIFICATE blocks, "\n" line ends, a certificate given twice (a chain file that starts with
// the leaf) written once. It never holds a key, whatever else the files hold.
func FullChain(m Material) ([]byte, error) {
	certs, errs := parseCerts(m.Cert, file{"certificate", m.CertFile, "CERT"})
	if len(m.Chain) > 0 || m.ChainFile != "" {
		chain, chainErrs := parseCerts(m.Chain, file{"chain", m.ChainFile, "CHAIN"})
		certs = append(certs, chain...)
		errs = append(errs, chainErrs...)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	var out bytes.Buffer
	seen := map[string]bool{}
	for _, c := range certs {
		if seen[string(c.Raw)] {
			continue
		}
		seen[string(c.Raw)] = true
		pem.Encode(&out, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}) // a bytes.Buffer does not fail
	}
	return out.Bytes(), nil
}

// Pool returns the system roots plus the PEM certificates in caFile (if caFile is not empty); an
// error names the file. The system roots are a copy: adding to them changes no other pool.
func Pool(caFile string) (*x509.CertPool, error) {
	pool, sysErr := x509.SystemCertPool()
	if sysErr != nil {
		if caFile == "" {
			return nil, fmt.Errorf("the controller's system roots cannot be read (%v): name the CA in ca_file:", sysErr)
		}
		pool = x509.NewCertPool()
	}
	if caFile == "" {
		return pool, nil
	}
	data, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("ca_file %s: cannot read it: %w", caFile, unwrapPath(err))
	}
	certs, errs := parseCerts(data, file{"ca_file", caFile, "CA_FILE"})
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	for i, c := range certs {
		// Only roots: an intermediate trusted here would let a chain pass the checks that Apache,
		// sending only the files it is given, does not send to browsers.
		if !bytes.Equal(c.RawSubject, c.RawIssuer) || c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) != nil {
			return nil, problem(ErrChain, file{"ca_file", caFile, "CA_FILE"}, fmt.Sprintf(
				"certificate %d (%s) is not a root: it is issued by %s. An intermediate belongs in chain: (Apache sends it to clients); ca_file holds root certificates only",
				i+1, name1(c), shortName(c.Issuer.CommonName, c.Issuer.String())))
		}
		pool.AddCert(c)
	}
	return pool, nil
}

// Fingerprint is "sha256:" + hex of the first certificate's DER in a PEM file: the served
// certificate that verification expects.
func Fingerprint(certPEM []byte) (string, error) {
	cs, errs := parseCerts(certPEM, file{key: "certificate"})
	if len(errs) > 0 {
		return "", errors.Join(errs...)
	}
	if len(cs) == 0 {
		return "", problem(ErrPEM, file{key: "certificate"}, "holds no certificate")
	}
	return fingerprint(cs[0].Raw), nil
}

// KeyFingerprint names a private key by its public key ("sha256:" + hex of the
// SubjectPublicKeyInfo DER), so a plan can tell keys apart without showing one.
func KeyFingerprint(keyPEM []byte) (string, error) {
	k, err := parseKey(keyPEM, file{key: "key"})
	if err != nil {
		return "", err
	}
	return fingerprint(pkix(k.Public())), nil
}

// Describe says what a certificate file holds, for a plan: each certificate's subject, issuer,
// expiry and fingerprint, the server's first (a PEM body tells a reader nothing).
func Describe(certPEM []byte) string {
	cs, errs := parseCerts(certPEM, file{key: "certificate"})
	if len(errs) > 0 || len(cs) == 0 {
		return fmt.Sprintf("%d bytes, not a certificate file", len(certPEM))
	}
	var parts []string
	for _, c := range cs {
		parts = append(parts, fmt.Sprintf("subject %s, issuer %s, expires %s, %s", shortName(c.Subject.CommonName, c.Subject.String()),
			shortName(c.Issuer.CommonName, c.Issuer.String()), c.NotAfter.UTC().Format(time.DateOnly), short(fingerprint(c.Raw))))
	}
	return "certificate " + strings.Join(parts, "; then ")
}
