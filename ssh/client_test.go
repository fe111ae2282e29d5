package ssh

import (
	"fmt"
	"testing"
)

// ProxyJump values as OpenSSH takes them: [user@]host[:port], comma-separated hops, IPv6 in
// brackets, "none" for no jump.
func TestParseProxyJump(t *testing.T) {
	for in, want := range map[string]string{
		"bastion":                      "[{bastion 22 deploy}]",
		"ops@bastion.example.com:2222": "[{bastion.example.com 2222 ops}]",
		"a,b@c:23":                     "[{a 22 deploy} {c 23 b}]",
		"[2001:db8::1]:22":             "[{2001:db8::1 22 deploy}]",
		"none":                         "[]",
		"":                             "[]",
	} {
		got, err := ParseProxyJump(in, "deploy")
		if err != nil || fmt.Sprint(got) != want {
			t.Errorf("%q: %v %v, want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{"host:port", "host:99999", "a b"} {
		if _, err := ParseProxyJump(bad, "u"); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
