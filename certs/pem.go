package certs

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"
)

// block is one PEM block of a file, with the line it starts on (for messages).
type block struct {
	*pem.Block
	line int
}

// decode returns the file's PEM blocks, and the lines of the blocks that do not decode.
// encoding/pem skips a damaged block silently and goes on with the next one, which would turn a
// truncated copy into a missing certificate far from its cause; each "-----BEGIN " is decoded on
// its own here so that the damaged one is named.
func decode(data []byte) (blocks []block, broken []int) {
	const begin = "-----BEGIN "
	off := 0
	for {
		i := bytes.Index(data[off:], []byte(begin))
		if i < 0 {
			return blocks, broken
		}
		start := off + i
		end := len(data)
		if j := bytes.Index(data[start+len(begin):], []byte(begin)); j >= 0 {
			end = start + len(begin) + j
		}
		line := 1 + bytes.Count(data[:start], []byte("\n"))
		if b, _ := pem.Decode(data[start:end]); b != nil {
			blocks = append(blocks, block{b, line})
		} else {
			broken = append(broken, line)
		}
		off = end
	}
}

// isPrivateKey says whether a PEM type is a private key of any kind (so that it is never taken
// for, or shown as, something else).
func isPrivateKey(typ string) bool { return strings.HasSuffix(typ, "PRIVATE KEY") }

// pemProblem is what is wrong with a file that should hold PEM but holds no usable block of the
// kind wanted, or "" if it has blocks to look at. der is the conversion to suggest for DER input.
func pemProblem(data []byte, blocks []block, broken []int, der string) string {
	switch {
	case len(bytes.TrimSpace(data)) == 0:
		return "is empty"
	case len(blocks) == 0 && len(broken) == 0:
		if data[0] == 0x30 { // an ASN.1 SEQUENCE: DER, or a PKCS#12 bundle
			return "is not PEM (binary DER?): convert it: " + der +
				" (a .pfx/.p12 bundle: openssl pkcs12 -in FILE -nokeys -out cert.pem, -nocerts -noenc -out key.pem)"
		}
		return "holds no PEM block (-----BEGIN ...-----): name a PEM file"
	case len(broken) > 0:
		return fmt.Sprintf("has a PEM block that does not decode at line %s (damaged base64 or a missing END line): copy the file again",
			joinInts(broken))
	}
	return ""
}

// parseCerts returns the certificates in a certificate file (certificate, chain or ca_file), in
// order. Private keys and other blocks among them are skipped (a combined PEM is common), and
// never copied anywhere: FullChain takes certificates only.
func parseCerts(data []byte, where file) ([]*x509.Certificate, []error) {
	blocks, broken := decode(data)
	if p := pemProblem(data, blocks, broken, "openssl x509 -inform der -in "+where.arg()+" -out "+where.arg()+".pem"); p != "" {
		return nil, []error{problem(ErrPEM, where, p)}
	}
	var certs []*x509.Certificate
	var errs []error
	var types []string
	for _, b := range blocks {
		if b.Type != "CERTIFICATE" {
			types = append(types, b.Type)
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			errs = append(errs, problem(ErrPEM, where, fmt.Sprintf(
				"has a certificate at line %d that does not parse (%v): copy the file again, or ask the CA for it again", b.line, err)))
			continue
		}
		certs = append(certs, c)
	}
	if len(certs) > 0 || len(errs) > 0 {
		return certs, errs
	}
	// No certificate at all: say what the file holds instead.
	var msg string
	switch t := types[0]; {
	case isPrivateKey(t):
		msg = "holds a private key, not a certificate: did you swap certificate: and key:?"
	case t == "CERTIFICATE REQUEST" || t == "NEW CERTIFICATE REQUEST":
		msg = "holds a certificate request (CSR), not a certificate: send it to the CA and name the certificate it returns"
	case t == "TRUSTED CERTIFICATE":
		msg = "holds an OpenSSL TRUSTED CERTIFICATE: convert it: openssl x509 -in " + where.arg() + " -out " + where.arg() + ".pem"
	default:
		msg = fmt.Sprintf("holds no CERTIFICATE block (found %s): name a PEM certificate file", strings.Join(types, ", "))
	}
	return nil, []error{problem(ErrPEM, where, msg)}
}

// parseKey returns the private key in a key file. A certificate beside the key is allowed (a
// combined PEM); two keys are not, as which one Apache would take is not for frontdoor to guess.
// No message here quotes the file or a parser's error: both could carry key material.
func parseKey(data []byte, where file) (crypto.Signer, error) {
	blocks, broken := decode(data)
	if p := pemProblem(data, blocks, broken, "openssl pkey -inform der -in "+where.arg()+" -out "+where.arg()+".pem"); p != "" {
		return nil, problem(ErrPEM, where, p)
	}
	var keys []block
	var types []string
	for _, b := range blocks {
		if isPrivateKey(b.Type) {
			keys = append(keys, b)
		} else {
			types = append(types, b.Type)
		}
	}
	switch {
	case len(keys) > 1:
		return nil, problem(ErrPEM, where, fmt.Sprintf(
			"holds %d private keys (lines %s): keep only the one the certificate was issued for", len(keys), linesOf(keys)))
	case len(keys) == 0:
		msg := fmt.Sprintf("holds no private key (found %s): name the certificate's private key", strings.Join(types, ", "))
		switch types[0] {
		case "CERTIFICATE":
			msg = "holds a certificate, not a private key: did you swap certificate: and key:?"
		case "CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST":
			msg = "holds a certificate request (CSR), not a private key: name the key the request was made with"
		case "PUBLIC KEY", "RSA PUBLIC KEY":
			msg = "holds a public key, not a private key: name the private key the certificate was issued for"
		}
		return nil, problem(ErrPEM, where, msg)
	}
	k := keys[0]
	if k.Type == "ENCRYPTED PRIVATE KEY" || strings.Contains(k.Headers["Proc-Type"], "ENCRYPTED") {
		// Apache would ask for the passphrase at every start, and a restart by frontdoor (or at
		// boot) would hang waiting for it.
		p := where.arg()
		return nil, problem(ErrPassphrase, where, fmt.Sprintf(
			"is encrypted with a passphrase, which Apache would ask for at every start: remove the passphrase: openssl pkey -in %s -out %s.plain (and name %s.plain in key:, readable by you only)", p, p, p))
	}
	if k.Type == "OPENSSH PRIVATE KEY" {
		return nil, problem(ErrPEM, where, "holds an OpenSSH key, not a TLS private key: name the key the certificate was issued for")
	}
	// Labels are not always right (a PKCS#1 body under "PRIVATE KEY"), and OpenSSL reads by
	// content: try each encoding.
	var key any
	var err error
	for _, parse := range []func([]byte) (any, error){
		x509.ParsePKCS8PrivateKey,
		func(b []byte) (any, error) { return x509.ParsePKCS1PrivateKey(b) },
		func(b []byte) (any, error) { return x509.ParseECPrivateKey(b) },
	} {
		if key, err = parse(k.Bytes); err == nil {
			break
		}
	}
	if err != nil {
		return nil, problem(ErrPEM, where, fmt.Sprintf(
			"has a private key at line %d that does not parse as PKCS#8, PKCS#1 or SEC1 (RSA, ECDSA or Ed25519): the file is damaged or holds another kind of key", k.line))
	}
	switch s := key.(type) {
	case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey:
		return s.(crypto.Signer), nil
	}
	return nil, problem(ErrPEM, where, fmt.Sprintf(
		"has a private key at line %d of type %T, which cannot sign: a TLS server key is RSA, ECDSA or Ed25519", k.line, key))
}

func linesOf(bs []block) string {
	var ls []int
	for _, b := range bs {
		ls = append(ls, b.line)
	}
	return joinInts(ls)
}

func joinInts(is []int) string {
	var s []string
	for _, i := range is {
		s = append(s, fmt.Sprint(i))
	}
	return strings.Join(s, ", ")
}
