package certs_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/frontdoor-dev/frontdoor/certs"
	"github.com/frontdoor-dev/frontdoor/certs/certtest"
)

// now is the time every check here runs at; certificates are issued relative to it.
var now = time.Now().UTC().Truncate(time.Second)

const (
	certFile  = "/tls/cert.pem"
	keyFile   = "/tls/key.pem"
	chainFile = "/tls/chain.pem"
)

// valid returns material for names from ca, valid from an hour ago to 90 days ahead, with the
// intermediate as its chain.
func valid(t *testing.T, ca *certtest.CA, names []string, opts ...certtest.Option) certs.Material {
	t.Helper()
	c, k := ca.Issue(t, names, now.Add(-time.Hour), now.AddDate(0, 0, 90), opts...)
	return certs.Material{Cert: c, Key: k, Chain: ca.IntermediatePEM, CertFile: certFile, KeyFile: keyFile, ChainFile: chainFile}
}

// check runs Check and, whatever the case, asserts that no key material from m reaches its
// error or its Info.
func check(t *testing.T, m certs.Material, name string, roots *x509.CertPool) (certs.Info, error) {
	t.Helper()
	return checkAt(t, m, name, roots, now)
}

func checkAt(t *testing.T, m certs.Material, name string, roots *x509.CertPool, at time.Time) (certs.Info, error) {
	t.Helper()
	info, err := certs.Check(m, name, roots, at)
	out := fmt.Sprintf("%v\n%s\n%#v", err, info, info)
	for _, data := range [][]byte{m.Key, m.Cert, m.Chain} {
		if leak := keyLeak(data, out); leak != "" {
			t.Fatalf("key material %q in the output:\n%s", leak, out)
		}
	}
	return info, err
}

// keyLeak returns a 16-character piece of a private key's base64 in data that appears in out,
// or "".
func keyLeak(data []byte, out string) string {
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return ""
		}
		if !strings.HasSuffix(b.Type, "PRIVATE KEY") {
			continue
		}
		body := strings.NewReplacer("\n", "", "\r", "").Replace(string(pem.EncodeToMemory(&pem.Block{Type: "X", Bytes: b.Bytes})))
		body = strings.TrimSuffix(strings.TrimPrefix(body, "-----BEGIN X-----"), "-----END X-----")
		for i := 0; i+16 <= len(body); i++ {
			if strings.Contains(out, body[i:i+16]) {
				return body[i : i+16]
			}
		}
	}
}

// problems returns the *certs.Problem values in err, in order.
func problems(t *testing.T, err error) []*certs.Problem {
	t.Helper()
	if err == nil {
		return nil
	}
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	var ps []*certs.Problem
	for _, e := range errs {
		var p *certs.Problem
		if !errors.As(e, &p) {
			t.Fatalf("not a *certs.Problem: %v", e)
		}
		ps = append(ps, p)
	}
	return ps
}

// want asserts the kinds of the problems in err, in order, and that each message holds its
// strings.
func want(t *testing.T, err error, kinds []error, msgs ...string) {
	t.Helper()
	ps := problems(t, err)
	var got []error
	for _, p := range ps {
		got = append(got, p.Kind)
	}
	if !slices.Equal(got, kinds) {
		t.Fatalf("kinds = %v, want %v; error:\n%v", got, kinds, err)
	}
	for _, m := range msgs {
		if !strings.Contains(err.Error(), m) {
			t.Errorf("error does not say %q:\n%v", m, err)
		}
	}
}

func kinds(k ...error) []error { return k }

func TestGood(t *testing.T) {
	ca := certtest.NewCA(t)
	m := valid(t, ca, []string{"jira.example.com", "www.jira.example.com"})
	info, err := check(t, m, "jira.example.com", ca.Pool())
	if err != nil {
		t.Fatal(err)
	}
	leaf := parse(t, m.Cert)
	sum := sha256.Sum256(leaf.Raw)
	keySum := sha256.Sum256(leaf.RawSubjectPublicKeyInfo)
	wantInfo := certs.Info{
		Subject:        "CN=jira.example.com",
		Issuer:         "CN=" + ca.Intermediate.Subject.CommonName,
		Names:          []string{"jira.example.com", "www.jira.example.com"},
		NotBefore:      now.Add(-time.Hour),
		NotAfter:       now.AddDate(0, 0, 90),
		Fingerprint:    "sha256:" + hex.EncodeToString(sum[:]),
		KeyFingerprint: "sha256:" + hex.EncodeToString(keySum[:]),
	}
	if fmt.Sprintf("%#v", info) != fmt.Sprintf("%#v", wantInfo) {
		t.Errorf("info =\n%#v\nwant\n%#v", info, wantInfo)
	}
	line := fmt.Sprintf("subject CN=jira.example.com, issuer CN=%s, expires %s, %s…", ca.Intermediate.Subject.CommonName,
		now.AddDate(0, 0, 90).Format(time.DateOnly), wantInfo.Fingerprint[:len("sha256:")+16])
	if info.String() != line {
		t.Errorf("String() = %q, want %q", info.String(), line)
	}
	if (certs.Info{}).String() != "no certificate" {
		t.Errorf("empty Info: %q", certs.Info{}.String())
	}
}

// Apache since 2.4.8 takes the intermediates after the leaf in SSLCertificateFile: a cert file
// that holds them needs no chain file.
func TestIntermediatesInCertFile(t *testing.T) {
	ca := certtest.NewCA(t)
	m := valid(t, ca, []string{"jira.example.com"})
	m.Cert = append(m.Cert, ca.IntermediatePEM...)
	m.Chain, m.ChainFile = nil, ""
	if _, err := check(t, m, "jira.example.com", ca.Pool()); err != nil {
		t.Fatal(err)
	}
	// A chain file that is a full chain (leaf first) is as good.
	m = valid(t, ca, []string{"jira.example.com"})
	m.Chain = append(slices.Clip(m.Cert), ca.IntermediatePEM...)
	if _, err := check(t, m, "jira.example.com", ca.Pool()); err != nil {
		t.Fatal(err)
	}
}

// A combined PEM (certificate and key in one file) named as both certificate: and key: works.
func TestCombinedPEM(t *testing.T) {
	ca := certtest.NewCA(t)
	m := valid(t, ca, []string{"jira.example.com"})
	both := append(slices.Clip(m.Cert), m.Key...)
	m.Cert, m.Key, m.KeyFile = both, both, certFile
	if _, err := check(t, m, "jira.example.com", ca.Pool()); err != nil {
		t.Fatal(err)
	}
	full, err := certs.FullChain(m)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(full, []byte("PRIVATE KEY")) {
		t.Fatalf("FullChain kept the key:\n%s", full)
	}
}

// keyFormat is a key type and the PEM encoding its key file is written in.
type keyFormat struct {
	name   string
	opt    []certtest.Option
	encode func(*testing.T, []byte) []byte
}

// keyFormats are the key types and encodings admins' key files come in, which the checks and
// the openssl cross-check both try.
func keyFormats() []keyFormat {
	rsaKey := certtest.RSA(2048)
	return []keyFormat{
		{"ECDSA PKCS#8", nil, same},
		{"ECDSA SEC1", nil, sec1},
		{"RSA PKCS#8", []certtest.Option{rsaKey}, same},
		{"RSA PKCS#1", []certtest.Option{rsaKey}, pkcs1},
		{"Ed25519 PKCS#8", []certtest.Option{certtest.Ed25519()}, same},
	}
}

func TestKeyFormats(t *testing.T) {
	ca := certtest.NewCA(t)
	// OpenSSL reads by content; so does Check.
	labelled := keyFormat{"RSA PKCS#1 labelled PRIVATE KEY", []certtest.Option{certtest.RSA(2048)}, func(t *testing.T, k []byte) []byte {
		return bytes.ReplaceAll(pkcs1(t, k), []byte("RSA PRIVATE KEY"), []byte("PRIVATE KEY"))
	}}
	for _, tc := range append(keyFormats(), labelled) {
		t.Run(tc.name, func(t *testing.T) {
			m := valid(t, ca, []string{"jira.example.com"}, tc.opt...)
			m.Key = tc.encode(t, m.Key)
			info, err := check(t, m, "jira.example.com", ca.Pool())
			if err != nil {
				t.Fatal(err)
			}
			keySum := sha256.Sum256(parse(t, m.Cert).RawSubjectPublicKeyInfo)
			if info.KeyFingerprint != "sha256:"+hex.EncodeToString(keySum[:]) {
				t.Errorf("KeyFingerprint %s is not the certificate's public key's", info.KeyFingerprint)
			}

			// The same kind of key, not the certificate's.
			other := valid(t, ca, []string{"jira.example.com"}, tc.opt...)
			m.Key = tc.encode(t, other.Key)
			_, err = check(t, m, "jira.example.com", ca.Pool())
			want(t, err, kinds(certs.ErrKeyMismatch), "key /tls/key.pem does not match certificate /tls/cert.pem",
				"name the key the certificate was issued for",
				"openssl x509 -noout -pubkey -in /tls/cert.pem; openssl pkey -pubout -in /tls/key.pem")
		})
	}
	// Another kind of key altogether.
	m := valid(t, ca, []string{"jira.example.com"}, certtest.RSA(2048))
	m.Key = valid(t, ca, []string{"jira.example.com"}).Key
	_, err := check(t, m, "jira.example.com", ca.Pool())
	want(t, err, kinds(certs.ErrKeyMismatch))
}

func TestPEMProblems(t *testing.T) {
	ca := certtest.NewCA(t)
	good := valid(t, ca, []string{"jira.example.com"})
	leafDER := parse(t, good.Cert).Raw
	keyDER, _ := pem.Decode(good.Key)
	csr := csrPEM(t)
	pub := pubPEM(t, good.Key)
	damaged := slices.Clone(good.Cert)
	damaged[100] = '*' // not base64
	truncated := good.Cert[:len(good.Cert)-20]
	garbage := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{0x30, 3, 1, 2, 3}})
	garbageKey := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{0x30, 3, 1, 2, 3}})
	twoKeys := append(slices.Clip(good.Key), valid(t, ca, nil).Key...)
	ssh := []byte("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB\n-----END OPENSSH PRIVATE KEY-----\n")

	for _, tc := range []struct {
		name  string
		edit  func(*certs.Material)
		kinds []error
		say   []string
	}{
		{"empty certificate", func(m *certs.Material) { m.Cert = []byte("\n \n") },
			kinds(certs.ErrPEM), []string{"certificate /tls/cert.pem is empty"}},
		{"DER certificate", func(m *certs.Material) { m.Cert = leafDER },
			kinds(certs.ErrPEM), []string{"certificate /tls/cert.pem is not PEM (binary DER?): convert it: openssl x509 -inform der -in /tls/cert.pem -out /tls/cert.pem.pem"}},
		{"text certificate", func(m *certs.Material) { m.Cert = []byte("jira.example.com\n") },
			kinds(certs.ErrPEM), []string{"certificate /tls/cert.pem holds no PEM block"}},
		{"damaged base64", func(m *certs.Material) { m.Cert = append(slices.Clip(good.Cert), damaged...) },
			kinds(certs.ErrPEM), []string{"certificate /tls/cert.pem has a PEM block that does not decode at line " + fmt.Sprint(lines(good.Cert)+1), "copy the file again"}},
		{"missing END line", func(m *certs.Material) { m.Cert = truncated },
			kinds(certs.ErrPEM), []string{"does not decode at line 1"}},
		{"not X.509", func(m *certs.Material) { m.Cert = garbage },
			kinds(certs.ErrPEM), []string{"certificate /tls/cert.pem has a certificate at line 1 that does not parse (x509: "}},
		{"key as certificate", func(m *certs.Material) { m.Cert = good.Key },
			kinds(certs.ErrPEM), []string{"certificate /tls/cert.pem holds a private key, not a certificate: did you swap certificate: and key:?"}},
		{"swapped", func(m *certs.Material) { m.Cert, m.Key = good.Key, good.Cert },
			kinds(certs.ErrPEM, certs.ErrPEM), []string{"certificate /tls/cert.pem holds a private key, not a certificate", "key /tls/key.pem holds a certificate, not a private key"}},
		{"CSR as certificate", func(m *certs.Material) { m.Cert = csr },
			kinds(certs.ErrPEM), []string{"holds a certificate request (CSR), not a certificate: send it to the CA"}},
		{"public key as key", func(m *certs.Material) { m.Key = pub },
			kinds(certs.ErrPEM), []string{"key /tls/key.pem holds a public key, not a private key"}},
		{"two keys", func(m *certs.Material) { m.Key = twoKeys },
			kinds(certs.ErrPEM), []string{"key /tls/key.pem holds 2 private keys (lines 1, " + fmt.Sprint(lines(good.Key)+1) + "): keep only the one the certificate was issued for"}},
		{"OpenSSH key", func(m *certs.Material) { m.Key = ssh },
			kinds(certs.ErrPEM), []string{"holds an OpenSSH key, not a TLS private key"}},
		{"key not a key", func(m *certs.Material) { m.Key = garbageKey },
			kinds(certs.ErrPEM), []string{"key /tls/key.pem has a private key at line 1 that does not parse as PKCS#8, PKCS#1 or SEC1"}},
		{"DER key", func(m *certs.Material) { m.Key = keyDER.Bytes },
			kinds(certs.ErrPEM), []string{"key /tls/key.pem is not PEM (binary DER?): convert it: openssl pkey -inform der -in /tls/key.pem -out /tls/key.pem.pem"}},
		{"empty key", func(m *certs.Material) { m.Key = nil },
			kinds(certs.ErrPEM), []string{"key /tls/key.pem is empty"}},
		{"empty chain", func(m *certs.Material) { m.Chain = nil },
			kinds(certs.ErrPEM), []string{"chain /tls/chain.pem is empty"}},
		{"key as chain", func(m *certs.Material) { m.Chain = good.Key },
			kinds(certs.ErrPEM), []string{"chain /tls/chain.pem holds a private key, not a certificate"}},
		// A damaged chain does not hide the leaf's own problems.
		{"damaged chain, wrong name", func(m *certs.Material) { m.Chain = damaged },
			kinds(certs.ErrPEM, certs.ErrName), []string{"chain /tls/chain.pem has a PEM block that does not decode at line 1", "does not cover"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := good
			tc.edit(&m)
			name := "jira.example.com"
			if strings.Contains(tc.name, "wrong name") {
				name = "wiki.example.com"
			}
			_, err := check(t, m, name, ca.Pool())
			want(t, err, tc.kinds, tc.say...)
		})
	}
}

func TestName(t *testing.T) {
	ca := certtest.NewCA(t)
	m := valid(t, ca, []string{"jira.example.com", "*.wiki.example.com"})
	for name, ok := range nameCases {
		_, err := check(t, m, name, ca.Pool())
		if ok {
			want(t, err, nil)
		} else {
			want(t, err, kinds(certs.ErrName), "certificate /tls/cert.pem does not cover "+name+
				": it covers only jira.example.com, *.wiki.example.com: ask the CA for a certificate with "+name+
				" among its subject alternative names, or correct url:")
		}
	}
	_, err := check(t, m, "", ca.Pool())
	want(t, err, kinds(certs.ErrName), "no public name was given")
}

// nameCases are public names against a certificate for jira.example.com and *.wiki.example.com,
// and whether it covers them (a wildcard covers one label, never the bare domain).
var nameCases = map[string]bool{
	"jira.example.com":       true,
	"JIRA.Example.com":       true,
	"a.wiki.example.com":     true,
	"wiki.example.com":       false,
	"a.b.wiki.example.com":   false,
	"confluence.example.com": false,
	"example.com":            false,
}

func TestValidity(t *testing.T) {
	ca := certtest.NewCA(t)
	issue := func(notBefore, notAfter time.Time) certs.Material {
		m := valid(t, ca, []string{"jira.example.com"})
		m.Cert, m.Key = ca.Issue(t, []string{"jira.example.com"}, notBefore, notAfter)
		return m
	}
	// The chain is judged apart from the leaf's dates: one problem, one message.
	_, err := check(t, issue(now.Add(48*time.Hour), now.AddDate(1, 0, 0)), "jira.example.com", ca.Pool())
	want(t, err, kinds(certs.ErrNotYetValid), fmt.Sprintf("certificate /tls/cert.pem is not valid until %s (it is %s now): if it was just issued, wait; otherwise check the controller's clock",
		now.Add(48*time.Hour).Format("2006-01-02 15:04:05 UTC"), now.Format("2006-01-02 15:04:05 UTC")))

	_, err = check(t, issue(now.AddDate(-1, 0, 0), now.Add(-3*24*time.Hour-time.Minute)), "jira.example.com", ca.Pool())
	want(t, err, kinds(certs.ErrExpired), fmt.Sprintf("certificate /tls/cert.pem expired on %s (3 days ago): renew it",
		now.Add(-3*24*time.Hour-time.Minute).Format("2006-01-02 15:04:05 UTC")))

	info, err := check(t, issue(now.AddDate(0, -2, 0), now.Add(12*24*time.Hour+time.Hour)), "jira.example.com", ca.Pool())
	want(t, err, nil)
	w := fmt.Sprintf("certificate /tls/cert.pem expires in 12 days (%s): renew it before then", now.Add(12*24*time.Hour+time.Hour).Format(time.DateOnly))
	if !slices.Equal(info.Warnings, []string{w}) {
		t.Errorf("warnings = %q, want %q", info.Warnings, w)
	}

	info, err = check(t, issue(now.AddDate(0, -2, 0), now.AddDate(0, 0, 31)), "jira.example.com", ca.Pool())
	if err != nil || info.Warnings != nil {
		t.Errorf("31 days left: %v, warnings %q", err, info.Warnings)
	}
}

func TestChain(t *testing.T) {
	ca, other := certtest.NewCA(t), certtest.NewCA(t)
	rootCN, interCN := ca.Root.Subject.CommonName, ca.Intermediate.Subject.CommonName
	const fix = "add the intermediate certificates (chain:), or the root CA that issued them (ca_file:)"

	t.Run("no intermediates", func(t *testing.T) {
		m := valid(t, ca, []string{"jira.example.com"})
		m.Chain, m.ChainFile = nil, ""
		_, err := check(t, m, "jira.example.com", ca.Pool())
		want(t, err, kinds(certs.ErrChain), "certificate /tls/cert.pem does not verify to a trusted root: no trusted issuer found for CN=jira.example.com (issued by CN="+interCN+"): "+fix)
	})
	t.Run("root not trusted", func(t *testing.T) {
		_, err := check(t, valid(t, ca, []string{"jira.example.com"}), "jira.example.com", other.Pool())
		want(t, err, kinds(certs.ErrChain), "no trusted issuer found for CN="+interCN+" from chain /tls/chain.pem (issued by CN="+rootCN+"): "+fix)
	})
	t.Run("system roots", func(t *testing.T) {
		_, err := check(t, valid(t, ca, []string{"jira.example.com"}), "jira.example.com", nil)
		want(t, err, kinds(certs.ErrChain), fix)
	})
	t.Run("another CA's intermediate", func(t *testing.T) {
		m := valid(t, ca, []string{"jira.example.com"})
		m.Chain = other.IntermediatePEM
		_, err := check(t, m, "jira.example.com", certPool(ca.Root, other.Root))
		want(t, err, kinds(certs.ErrChain), fix)
	})
	t.Run("root in ca_file", func(t *testing.T) {
		roots, err := certs.Pool(write(t, "ca.pem", ca.RootPEM))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := check(t, valid(t, ca, []string{"jira.example.com"}), "jira.example.com", roots); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("self-signed in ca_file", func(t *testing.T) {
		c, k := certtest.SelfSigned(t, []string{"jira.example.com"}, now.Add(-time.Hour), now.AddDate(1, 0, 0))
		m := certs.Material{Cert: c, Key: k, CertFile: certFile, KeyFile: keyFile}
		roots, err := certs.Pool(write(t, "ca.pem", c))
		if err != nil {
			t.Fatal(err)
		}
		info, err := check(t, m, "jira.example.com", roots)
		if err != nil || info.Warnings != nil {
			t.Fatalf("%v; warnings %q", err, info.Warnings)
		}
		_, err = check(t, m, "jira.example.com", ca.Pool())
		want(t, err, kinds(certs.ErrChain), "no trusted issuer found for CN=jira.example.com (issued by CN=jira.example.com)")
	})
	t.Run("client certificate", func(t *testing.T) {
		m := valid(t, ca, []string{"jira.example.com"}, certtest.ExtKeyUsage(x509.ExtKeyUsageClientAuth))
		_, err := check(t, m, "jira.example.com", ca.Pool())
		want(t, err, kinds(certs.ErrUsage), "is not for TLS servers: its extended key usage (or an intermediate's) lacks serverAuth")
	})
	t.Run("expired leaf, chain fine", func(t *testing.T) {
		m := valid(t, ca, []string{"jira.example.com"})
		m.Cert, m.Key = ca.Issue(t, []string{"jira.example.com"}, now.AddDate(-2, 0, 0), now.AddDate(-1, 0, 0))
		_, err := check(t, m, "jira.example.com", ca.Pool())
		want(t, err, kinds(certs.ErrExpired))
	})
}

func TestCAAsLeaf(t *testing.T) {
	ca := certtest.NewCA(t)
	// The intermediate named as the certificate (with the key of the server's certificate).
	m := valid(t, ca, []string{"jira.example.com"})
	m.Cert = ca.IntermediatePEM
	_, err := check(t, m, "jira.example.com", ca.Pool())
	want(t, err, kinds(certs.ErrKeyMismatch, certs.ErrName, certs.ErrNotLeaf),
		"certificate /tls/cert.pem holds a CA certificate (CN="+ca.Intermediate.Subject.CommonName+", basic constraints CA:TRUE) first",
		"if it is the CA, name it in chain: or ca_file:")

	// The chain before the leaf.
	m = valid(t, ca, []string{"jira.example.com"})
	m.Cert = append(slices.Clip(ca.IntermediatePEM), m.Cert...)
	m.Chain, m.ChainFile = nil, ""
	info, err := check(t, m, "jira.example.com", ca.Pool())
	want(t, err, kinds(certs.ErrNotLeaf),
		"certificate /tls/cert.pem holds a CA certificate (CN="+ca.Intermediate.Subject.CommonName+", basic constraints CA:TRUE) first",
		"The server's certificate (CN=jira.example.com) is certificate 2 in the file: put it first")
	if info.Subject != "CN=jira.example.com" {
		t.Errorf("info is about %s", info.Subject)
	}

	// openssl req -x509's default: a self-signed CA:TRUE, even when trusted through ca_file.
	c, k := certtest.SelfSigned(t, []string{"jira.example.com"}, now.Add(-time.Hour), now.AddDate(1, 0, 0), certtest.AsCA())
	_, err = check(t, certs.Material{Cert: c, Key: k, CertFile: certFile, KeyFile: keyFile}, "jira.example.com", certPool(parse(t, c)))
	want(t, err, kinds(certs.ErrNotLeaf), "make it again with -addext basicConstraints=critical,CA:FALSE")
}

// Every problem is reported at once, each naming its file.
func TestAllProblemsAtOnce(t *testing.T) {
	ca := certtest.NewCA(t)
	m := valid(t, ca, []string{"jira.example.com"})
	m.Cert, _ = ca.Issue(t, []string{"jira.example.com"}, now.AddDate(-2, 0, 0), now.AddDate(-1, 0, 0))
	m.Chain, m.ChainFile = nil, ""
	_, err := check(t, m, "wiki.example.com", ca.Pool())
	want(t, err, kinds(certs.ErrKeyMismatch, certs.ErrName, certs.ErrExpired, certs.ErrChain))
	for _, p := range problems(t, err) {
		if p.File != "certificate /tls/cert.pem" && p.File != "key /tls/key.pem" {
			t.Errorf("problem names %q", p.File)
		}
		if !errors.Is(err, p.Kind) {
			t.Errorf("errors.Is(err, %v) is false", p.Kind)
		}
	}
	// Without paths (material from memory), the playbook key alone.
	m.CertFile, m.KeyFile = "", ""
	_, err = check(t, m, "wiki.example.com", ca.Pool())
	if ps := problems(t, err); ps[0].File != "key" || ps[1].File != "certificate" ||
		!strings.Contains(ps[0].Msg, "openssl pkey -pubout -in KEY") {
		t.Errorf("%v", err)
	}
}

// A hostile or confused set of files never puts key material in an error: the key given as
// every file, damaged, doubled.
func TestNoKeyMaterialInErrors(t *testing.T) {
	ca := certtest.NewCA(t)
	m := valid(t, ca, []string{"jira.example.com"}, certtest.RSA(2048))
	k := m.Key
	damaged := slices.Clone(k)
	damaged[len(damaged)/2] = '*'
	for _, mm := range []certs.Material{
		{Cert: k, Key: k, Chain: k},
		{Cert: m.Cert, Key: damaged},
		{Cert: m.Cert, Key: bytes.ReplaceAll(k, []byte("PRIVATE KEY"), []byte("CERTIFICATE"))},
		{Cert: bytes.ReplaceAll(k, []byte("PRIVATE KEY"), []byte("CERTIFICATE")), Key: k},
		{Cert: m.Cert, Key: bytes.ReplaceAll(k, []byte("PRIVATE KEY"), []byte("EC PRIVATE KEY"))[:len(k)-30]},
		{Cert: m.Cert, Key: append(slices.Clip(k), k...)},
		{Cert: m.Cert, Key: bytes.ReplaceAll(k, []byte("\n"), []byte("\r\n"))},
		{Cert: m.Cert, Key: valid(t, ca, nil).Key},
	} {
		_, err := check(t, mm, "jira.example.com", ca.Pool())
		if err == nil {
			t.Fatal("no error")
		}
		// A certificate block made of key bytes is quoted by no one either.
		if leak := keyLeak(k, err.Error()); leak != "" {
			t.Fatalf("%q in %v", leak, err)
		}
	}
	if keyLeak(k, "x"+string(k[len("-----BEGIN PRIVATE KEY-----\n")+70:])) == "" {
		t.Fatal("keyLeak does not see a key")
	}
}

func TestFullChain(t *testing.T) {
	ca := certtest.NewCA(t)
	m := valid(t, ca, []string{"jira.example.com"})
	wantPEM := append(slices.Clip(m.Cert), ca.IntermediatePEM...)

	// What exports look like: CRLF, bag attributes before each block, the leaf again in the chain.
	crlf := func(b []byte) []byte { return bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n")) }
	messy := m
	messy.Cert = append([]byte("Bag Attributes\r\n    friendlyName: jira\r\nsubject=CN = jira.example.com\r\n"), crlf(m.Cert)...)
	messy.Cert = append(messy.Cert, crlf(m.Key)...)
	messy.Chain = append(append(slices.Clip(m.Cert), "issuer=x\n"...), ca.IntermediatePEM...)
	for _, mm := range []certs.Material{m, messy} {
		got, err := certs.FullChain(mm)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, wantPEM) {
			t.Errorf("FullChain =\n%s\nwant\n%s", got, wantPEM)
		}
	}
	// What Go's TLS server (as Apache) loads with the key.
	if _, err := tls.X509KeyPair(wantPEM, m.Key); err != nil {
		t.Fatal(err)
	}
	m.Chain = []byte("junk")
	if _, err := certs.FullChain(m); !errors.Is(err, certs.ErrPEM) || !strings.Contains(err.Error(), "chain /tls/chain.pem holds no PEM block") {
		t.Fatalf("junk chain: %v", err)
	}
}

func TestPool(t *testing.T) {
	ca := certtest.NewCA(t)
	if p, err := certs.Pool(""); err != nil || p == nil {
		t.Fatalf("system roots: %v", err)
	}
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.pem")
	if _, err := certs.Pool(missing); err == nil || err.Error() != "ca_file "+missing+": cannot read it: no such file or directory" {
		t.Fatalf("missing ca_file: %v", err)
	}
	_, key := ca.Issue(t, []string{"jira.example.com"}, now, now.AddDate(0, 0, 1))
	f := write(t, "key.pem", key)
	if _, err := certs.Pool(f); !errors.Is(err, certs.ErrPEM) || !strings.Contains(err.Error(), "ca_file "+f+" holds a private key, not a certificate") {
		t.Fatalf("key as ca_file: %v", err)
	}
	// An intermediate is not a root: trusting it would pass a chain Apache does not send whole.
	if _, err := certs.Pool(write(t, "inter.pem", append(append([]byte{}, ca.RootPEM...), ca.IntermediatePEM...))); !errors.Is(err, certs.ErrChain) ||
		!strings.Contains(err.Error(), "certificate 2 (CN=") || !strings.Contains(err.Error(), "belongs in chain:") {
		t.Fatalf("intermediate in ca_file: %v", err)
	}
	// Adding to a pool leaves the system roots alone.
	if _, err := certs.Pool(write(t, "ca.pem", ca.RootPEM)); err != nil {
		t.Fatal(err)
	}
	p, _ := certs.Pool("")
	if _, err := ca.Intermediate.Verify(x509.VerifyOptions{Roots: p}); err == nil {
		t.Fatal("a later system pool trusts the ca_file's root")
	}
}

func TestLoadAndWriteFiles(t *testing.T) {
	ca := certtest.NewCA(t)
	dir := t.TempDir()
	cert, key, chain, root := ca.WriteFiles(t, dir, []string{"jira.example.com"})
	for f, mode := range map[string]os.FileMode{cert: 0o644, key: 0o600, chain: 0o644, root: 0o644} {
		if st, err := os.Stat(f); err != nil || st.Mode().Perm() != mode {
			t.Errorf("%s: %v %v, want %v", f, st.Mode(), err, mode)
		}
	}
	m, err := certs.Load(cert, key, chain)
	if err != nil {
		t.Fatal(err)
	}
	roots, err := certs.Pool(root)
	if err != nil {
		t.Fatal(err)
	}
	info, err := check(t, m, "jira.example.com", roots)
	if err != nil || info.Warnings != nil {
		t.Fatalf("%v %q", err, info.Warnings)
	}
	if _, err := certs.Load(cert, filepath.Join(dir, "nokey.pem"), ""); err == nil ||
		err.Error() != "key "+filepath.Join(dir, "nokey.pem")+": cannot read it: no such file or directory" {
		t.Fatalf("missing key: %v", err)
	}
}

func parse(t *testing.T, certPEM []byte) *x509.Certificate {
	t.Helper()
	b, _ := pem.Decode(certPEM)
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func certPool(cs ...*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range cs {
		p.AddCert(c)
	}
	return p
}

func write(t *testing.T, name string, data []byte) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(f, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func lines(b []byte) int { return bytes.Count(b, []byte("\n")) }

func privateKey(t *testing.T, keyPEM []byte) crypto.Signer {
	t.Helper()
	b, _ := pem.Decode(keyPEM)
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k.(crypto.Signer)
}

func same(_ *testing.T, k []byte) []byte { return k }

func sec1(t *testing.T, k []byte) []byte {
	der, err := x509.MarshalECPrivateKey(privateKey(t, k).(*ecdsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
}

func pkcs1(t *testing.T, k []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(privateKey(t, k).(*rsa.PrivateKey))})
}

func csrPEM(t *testing.T) []byte {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "jira.example.com"}}, k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
}

func pubPEM(t *testing.T, k []byte) []byte {
	der, err := x509.MarshalPKIXPublicKey(privateKey(t, k).Public())
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// Fingerprint and KeyFingerprint agree with Check's Info, and say nothing of a key.
func TestFingerprints(t *testing.T) {
	ca := certtest.NewCA(t)
	now := time.Now()
	cert, key := ca.Issue(t, []string{"jira.example.com"}, now.Add(-time.Hour), now.Add(90*24*time.Hour))
	info, err := certs.Check(certs.Material{Cert: cert, Key: key, Chain: ca.IntermediatePEM}, "jira.example.com", ca.Pool(), now)
	if err != nil {
		t.Fatal(err)
	}
	if fp, err := certs.Fingerprint(cert); err != nil || fp != info.Fingerprint {
		t.Errorf("Fingerprint: %s %v, want %s", fp, err, info.Fingerprint)
	}
	if fp, err := certs.KeyFingerprint(key); err != nil || fp != info.KeyFingerprint {
		t.Errorf("KeyFingerprint: %s %v, want %s", fp, err, info.KeyFingerprint)
	}
	if _, err := certs.Fingerprint(key); err == nil {
		t.Error("a key file gave a certificate fingerprint")
	}
	if _, err := certs.KeyFingerprint(cert); err == nil {
		t.Error("a certificate gave a key fingerprint")
	}
}

// Describe names each certificate of a file, the server's first, and nothing of a key beside it.
func TestDescribe(t *testing.T) {
	ca := certtest.NewCA(t)
	now := time.Now()
	cert, key := ca.Issue(t, []string{"jira.example.com"}, now.Add(-time.Hour), now.Add(90*24*time.Hour))
	d := certs.Describe(append(append(append([]byte{}, cert...), ca.IntermediatePEM...), key...))
	fp, _ := certs.Fingerprint(cert)
	if !strings.HasPrefix(d, "certificate subject CN=jira.example.com, issuer CN=") || !strings.Contains(d, fp[:23]) ||
		strings.Count(d, "; then subject ") != 1 || strings.Contains(d, "PRIVATE") {
		t.Errorf("Describe: %s", d)
	}
	if d := certs.Describe([]byte("junk")); d != "4 bytes, not a certificate file" {
		t.Errorf("Describe(junk): %s", d)
	}
}
