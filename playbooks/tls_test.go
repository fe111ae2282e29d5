package playbooks

import (
	"strings"
	"testing"
)

// An https url needs its certificate, and the tls block is checked at load with the line to fix.
func TestTLSErrors(t *testing.T) {
	for _, c := range []struct{ name, yaml, want string }{
		{"https without tls", "apps:\n  - product: jira\n    url: https://j.example.com\n", "pb.yaml:3:10: url https://j.example.com is https: give its certificate"},
		{"tls on http", "apps:\n  - product: jira\n    url: http://j.example.com\n    tls: {certificate: a.pem, key: a.key}\n", "pb.yaml:4:10: tls is for an https url"},
		{"no key", "apps:\n  - product: jira\n    url: https://j.example.com\n    tls: {certificate: a.pem}\n", "certificate: and key: are both needed"},
		{"both kinds", "apps:\n  - product: jira\n    url: https://j.example.com\n    tls: {certificate: a.pem, key: a.key, key_path: /etc/k}\n", "not both"},
		{"relative host path", "apps:\n  - product: jira\n    url: https://j.example.com\n    tls: {certificate_path: etc/c.pem, key_path: /etc/k}\n", `certificate_path "etc/c.pem" must be an absolute path`},
		{"acme without agreement", "apps:\n  - product: jira\n    url: https://j.example.com\n    tls: {acme: {email: a@example.com}}\n", "pb.yaml:4:17: the ACME CA's terms of service must be accepted"},
		{"acme without email", "apps:\n  - product: jira\n    url: https://j.example.com\n    tls: {acme: {agree_tos: true}}\n", "acme needs a contact email"},
		{"acme and files", "apps:\n  - product: jira\n    url: https://j.example.com\n    tls: {certificate: a.pem, key: a.key, acme: {email: a@example.com, agree_tos: true}}\n", "acme gets the certificate itself"},
		{"acme plain http directory", "apps:\n  - product: jira\n    url: https://j.example.com\n    tls: {acme: {email: a@example.com, agree_tos: true, directory: \"http://ca.example.com/dir\"}}\n", "give the CA's ACME directory as an https URL"},
		{"missing ca_file", "apps:\n  - product: jira\n    url: https://j.example.com\n    tls: {certificate: a.pem, key: a.key, ca_file: /nonexistent/ca.pem}\n", "/nonexistent/ca.pem"},
		{"two certificates on one name", "apps:\n  - product: jira\n    url: https://x.example.com/jira\n    tls: {certificate: a.pem, key: a.key}\n  - product: confluence\n    url: https://x.example.com/wiki\n    tls: {certificate: b.pem, key: b.key}\n", "confluence has another tls than an app before it on the same public name"},
		{"https on 80", "apps:\n  - product: jira\n    url: https://j.example.com:80\n    tls: {certificate: a.pem, key: a.key}\n", "url https://j.example.com:80: port 80 is plain http's; write http://j.example.com"},
		{"http on 443", "apps:\n  - product: jira\n    url: http://j.example.com:443/jira\n", "port 443 is https's; write https://j.example.com/jira"},
		{"one name, two https ports redirecting", "apps:\n  - product: jira\n    url: https://x.example.com\n    tls: {certificate: a.pem, key: a.key}\n  - product: confluence\n    url: https://x.example.com:8443\n    tls: {certificate: a.pem, key: a.key}\n", "x.example.com is https on ports 443 and 8443, and both would redirect"},
		{"redirect over plain app", "apps:\n  - product: jira\n    url: https://x.example.com/jira\n    tls: {certificate: a.pem, key: a.key}\n  - product: confluence\n    url: http://x.example.com/wiki\n", "confluence serves http://x.example.com while jira's tls redirects it to https: write redirect_http: false"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParsePlaybook("pb.yaml", []byte(c.yaml))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v\nwant %q", err, c.want)
			}
		})
	}
	// Apps on one https name share the tls given once; a plain app may share the name with
	// redirect_http: false.
	pb, err := ParsePlaybook("pb.yaml", []byte("apps:\n  - product: jira\n    url: https://x.example.com/jira\n    tls: {certificate: a.pem, key: a.key, redirect_http: false}\n  - product: confluence\n    url: https://x.example.com/wiki\n  - product: bitbucket\n    url: http://x.example.com/bb\n"))
	if err != nil {
		t.Fatal(err)
	}
	if pb.Apps[1].TLS != pb.Apps[0].TLS {
		t.Error("confluence does not share jira's tls")
	}
}
