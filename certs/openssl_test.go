package certs_test

// Check's verdicts against the openssl CLI's on the same files: the tool admins use, and the
// library Apache's mod_ssl uses. openssl is required: CI installs it, and a missing one must fail
// the tests rather than let them pass without the comparison.

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/frontdoor-dev/frontdoor/certs"
	"github.com/frontdoor-dev/frontdoor/certs/certtest"
)

// openssl runs the openssl CLI and returns its standard output and whether it exited 0.
func openssl(t *testing.T, args ...string) (string, bool) {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatal("openssl not found: install openssl (apt-get install openssl): these tests compare Check with it")
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("openssl", args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("openssl %s: %v", strings.Join(args, " "), err)
	}
	return stdout.String() + stderr.String(), err == nil
}

func mustOpenSSL(t *testing.T, args ...string) string {
	t.Helper()
	out, ok := openssl(t, args...)
	if !ok {
		t.Fatalf("openssl %s: %s", strings.Join(args, " "), out)
	}
	return out
}

func has(err, kind error) bool { return errors.Is(err, kind) }

func TestOpenSSLKeyMatch(t *testing.T) {
	ca := certtest.NewCA(t)
	for _, tc := range keyFormats() {
		t.Run(tc.name, func(t *testing.T) {
			m := valid(t, ca, []string{"jira.example.com"}, tc.opt...)
			other := valid(t, ca, []string{"jira.example.com"}, tc.opt...)
			cert := write(t, "cert.pem", m.Cert)
			certPub := mustOpenSSL(t, "x509", "-noout", "-pubkey", "-in", cert)
			for _, key := range [][]byte{m.Key, other.Key} {
				key = tc.encode(t, key)
				kf := write(t, "key.pem", key)
				keyPub := mustOpenSSL(t, "pkey", "-pubout", "-in", kf)
				mm := m
				mm.Key = key
				info, err := check(t, mm, "jira.example.com", ca.Pool())
				if (certPub == keyPub) == has(err, certs.ErrKeyMismatch) {
					t.Errorf("openssl: public keys equal %v; Check: %v", certPub == keyPub, err)
				}
				// KeyFingerprint is the SHA-256 of what openssl writes as the public key's DER.
				der := mustOpenSSL(t, "pkey", "-pubout", "-outform", "DER", "-in", kf)
				sum := sha256.Sum256([]byte(der))
				if info.KeyFingerprint != "sha256:"+hex.EncodeToString(sum[:]) {
					t.Errorf("KeyFingerprint %s, openssl's DER hashes to %x", info.KeyFingerprint, sum)
				}
			}
		})
	}
}

// openssl verify -purpose sslserver judges the chain, the dates of every certificate and the
// usage; Check reports those as ErrChain, ErrExpired, ErrNotYetValid and ErrUsage.
func TestOpenSSLVerify(t *testing.T) {
	ca, other := certtest.NewCA(t), certtest.NewCA(t)
	names := []string{"jira.example.com"}
	n := time.Now()
	for _, tc := range []struct {
		name        string
		cert, chain []byte
		root        *certtest.CA
		ok          bool
	}{
		{"good", issue(t, ca, names, n.Add(-time.Hour), n.AddDate(0, 0, 90)), ca.IntermediatePEM, ca, true},
		{"another CA's intermediate", issue(t, ca, names, n.Add(-time.Hour), n.AddDate(0, 0, 90)), other.IntermediatePEM, ca, false},
		{"another CA's root", issue(t, ca, names, n.Add(-time.Hour), n.AddDate(0, 0, 90)), ca.IntermediatePEM, other, false},
		{"expired", issue(t, ca, names, n.AddDate(-1, 0, 0), n.Add(-time.Hour)), ca.IntermediatePEM, ca, false},
		{"not yet valid", issue(t, ca, names, n.Add(time.Hour), n.AddDate(0, 0, 90)), ca.IntermediatePEM, ca, false},
		{"client certificate", issue(t, ca, names, n.Add(-time.Hour), n.AddDate(0, 0, 90), certtest.ExtKeyUsage(x509.ExtKeyUsageClientAuth)), ca.IntermediatePEM, ca, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cert, chain, root := write(t, "cert.pem", tc.cert), write(t, "chain.pem", tc.chain), write(t, "root.pem", tc.root.RootPEM)
			out, sslOK := openssl(t, "verify", "-purpose", "sslserver", "-CAfile", root, "-untrusted", chain, cert)
			roots := certPool(tc.root.Root)
			_, err := certs.Check(certs.Material{Cert: tc.cert, Chain: tc.chain}, "jira.example.com", roots, time.Now())
			checkOK := !has(err, certs.ErrChain) && !has(err, certs.ErrExpired) && !has(err, certs.ErrNotYetValid) && !has(err, certs.ErrUsage)
			if sslOK != tc.ok || checkOK != tc.ok {
				t.Errorf("want %v; openssl verify: %v (%s); Check: %v (%v)", tc.ok, sslOK, strings.TrimSpace(out), checkOK, err)
			}
		})
	}
}

func TestOpenSSLCheckhost(t *testing.T) {
	ca := certtest.NewCA(t)
	m := valid(t, ca, []string{"jira.example.com", "*.wiki.example.com"})
	cert := write(t, "cert.pem", m.Cert)
	for name, covered := range nameCases {
		out := mustOpenSSL(t, "x509", "-noout", "-checkhost", name, "-in", cert)
		sslOK := strings.Contains(out, "does match")
		_, err := check(t, m, name, ca.Pool())
		if sslOK != covered || has(err, certs.ErrName) == covered {
			t.Errorf("%s: want %v; openssl: %s; Check: %v", name, covered, strings.TrimSpace(out), err)
		}
	}

	// One deliberate difference: with no subject alternative names, openssl falls back to the
	// CN; browsers (and Go) do not, so Check refuses. A self-signed certificate made without
	// -addext subjectAltName=... is the usual case.
	dir := t.TempDir()
	key, cn := filepath.Join(dir, "key.pem"), filepath.Join(dir, "cert.pem")
	mustOpenSSL(t, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cn,
		"-subj", "/CN=jira.example.com", "-addext", "basicConstraints=critical,CA:FALSE", "-days", "90")
	if out := mustOpenSSL(t, "x509", "-noout", "-checkhost", "jira.example.com", "-in", cn); !strings.Contains(out, "does match") {
		t.Fatalf("openssl no longer reads the CN: %s", out)
	}
	mm, err := certs.Load(cn, key, "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = checkAt(t, mm, "jira.example.com", certPool(parse(t, mm.Cert)), time.Now())
	want(t, err, kinds(certs.ErrName), "does not cover jira.example.com: it has no subject alternative names (its subject CN=jira.example.com alone counts for no browser)")
}

func TestOpenSSLFingerprint(t *testing.T) {
	ca := certtest.NewCA(t)
	m := valid(t, ca, []string{"jira.example.com"})
	out := mustOpenSSL(t, "x509", "-noout", "-fingerprint", "-sha256", "-in", write(t, "cert.pem", m.Cert))
	_, fp, ok := strings.Cut(strings.TrimSpace(out), "=")
	if !ok {
		t.Fatalf("openssl: %s", out)
	}
	info, err := check(t, m, "jira.example.com", ca.Pool())
	if err != nil {
		t.Fatal(err)
	}
	if want := "sha256:" + strings.ToLower(strings.ReplaceAll(fp, ":", "")); info.Fingerprint != want {
		t.Errorf("Fingerprint %s, openssl %s", info.Fingerprint, want)
	}
}

// Keys with a passphrase, as openssl writes them, are refused; the command the message gives
// removes the passphrase, and the key is then accepted.
func TestOpenSSLPassphrase(t *testing.T) {
	ca := certtest.NewCA(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		name   string
		gen    []string
		header string
	}{
		{"PKCS#8", []string{"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-aes256", "-pass", "pass:x"}, "-----BEGIN ENCRYPTED PRIVATE KEY-----"},
		{"legacy PKCS#1", []string{"genrsa", "-aes256", "-passout", "pass:x", "-traditional"}, "Proc-Type: 4,ENCRYPTED"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kf := filepath.Join(dir, strings.ReplaceAll(tc.name, "#", "")+".key")
			args := append(tc.gen, "-out", kf)
			if tc.gen[0] == "genrsa" {
				args = append(args, "2048") // the size comes last
			}
			mustOpenSSL(t, args...)
			enc, err := os.ReadFile(kf)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(enc, []byte(tc.header)) {
				t.Fatalf("openssl wrote no %q:\n%s", tc.header, enc)
			}
			// The plain key, to issue a certificate for it (the passphrase is given here; the
			// admin types it at the prompt).
			plain := kf + ".plain"
			mustOpenSSL(t, "pkey", "-in", kf, "-out", plain, "-passin", "pass:x")
			plainPEM, err := os.ReadFile(plain)
			if err != nil {
				t.Fatal(err)
			}
			certPEM, _ := ca.Issue(t, []string{"jira.example.com"}, time.Now().Add(-time.Hour), time.Now().AddDate(0, 0, 90),
				certtest.Key(privateKey(t, plainPEM)))
			m := certs.Material{Cert: certPEM, Key: enc, Chain: ca.IntermediatePEM, CertFile: certFile, KeyFile: kf, ChainFile: chainFile}
			_, err = checkAt(t, m, "jira.example.com", ca.Pool(), time.Now())
			want(t, err, kinds(certs.ErrPassphrase), "key "+kf+" is encrypted with a passphrase, which Apache would ask for at every start: remove the passphrase: openssl pkey -in "+kf+" -out "+plain)
			if keyLeak(plainPEM, err.Error()) != "" {
				t.Fatalf("key material in %v", err)
			}

			m.Key, m.KeyFile = plainPEM, plain
			if _, err := checkAt(t, m, "jira.example.com", ca.Pool(), time.Now()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// The PEM FullChain writes is what openssl reads as the leaf and its chain.
func TestOpenSSLFullChain(t *testing.T) {
	ca := certtest.NewCA(t)
	m := valid(t, ca, []string{"jira.example.com"})
	full, err := certs.FullChain(m)
	if err != nil {
		t.Fatal(err)
	}
	f, root := write(t, "full.pem", full), write(t, "root.pem", ca.RootPEM)
	mustOpenSSL(t, "verify", "-purpose", "sslserver", "-CAfile", root, "-untrusted", f, f)
	out := mustOpenSSL(t, "crl2pkcs7", "-nocrl", "-certfile", f)
	out = mustOpenSSL(t, "pkcs7", "-print_certs", "-noout", "-in", write(t, "p7.pem", []byte(out)))
	if strings.Count(out, "subject=") != 2 || !strings.HasPrefix(out, "subject=CN = jira.example.com") {
		t.Errorf("openssl reads:\n%s", out)
	}
}

func issue(t *testing.T, ca *certtest.CA, names []string, notBefore, notAfter time.Time, opts ...certtest.Option) []byte {
	c, _ := ca.Issue(t, names, notBefore, notAfter, opts...)
	return c
}
