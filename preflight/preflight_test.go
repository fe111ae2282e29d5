package preflight

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/frontdoor-dev/frontdoor/distro"
	"github.com/frontdoor-dev/frontdoor/playbooks"
)

func load(t *testing.T, yaml string) *playbooks.Playbook {
	t.Helper()
	p := filepath.Join(t.TempDir(), "pb.yaml")
	os.WriteFile(p, []byte(yaml), 0o644)
	pb, err := playbooks.LoadPlaybook(p)
	if err != nil {
		t.Fatal(err)
	}
	return pb
}

// healthy is a host where every check passes for Confluence at localhost (Synchrony proxied).
func healthy() *distro.Facts {
	return &distro.Facts{Family: distro.Debian, Clock: time.Now().Unix(),
		Apache:      distro.Apache{Layout: "debian", Version: "2.4.62", Listen: map[int][]string{80: {"/etc/apache2/ports.conf"}}},
		Listening:   map[int]bool{8090: true},
		DiskFree:    map[string]int64{"/var/lib": 5 << 30, "/etc": 5 << 30},
		PortHolders: map[int][]string{80: {"apache2"}, 8090: {"java"}, 22: {"sshd"}},
	}
}

func find(rs []Result, check string) Result {
	for _, r := range rs {
		if r.Check == check {
			return r
		}
	}
	return Result{}
}

// Each check on a healthy host says OK; each problem the issue names (a port taken by another
// program, a disk nearly full, a clock 10 minutes off, an Apache too old for Synchrony) is an
// ERROR that says what to do; a stopped app, a clock a minute and a half off and a name that
// does not resolve are WARNINGs, which --strict-preflight makes refusals.
func TestChecks(t *testing.T) {
	pb := load(t, "apps:\n  - product: confluence\n    url: http://localhost/wiki\n")
	in := Input{Playbook: pb, Facts: healthy(), Host: "h1", Address: "127.0.0.1", Sent: time.Now(), Received: time.Now()}
	rs := Run(t.Context(), in)
	for _, r := range rs {
		if r.Level != OK {
			t.Errorf("healthy host: %s", r)
		}
	}
	for _, want := range []string{"dns localhost", "port 80", "app confluence", "disk /var/lib", "disk /etc", "clock", "apache Synchrony over WebSocket"} {
		if find(rs, want).Level != OK {
			t.Errorf("no OK %q in %v", want, rs)
		}
	}
	if err := Failed(rs, true); err != nil {
		t.Errorf("healthy host refused: %v", err)
	}

	bad := healthy()
	bad.PortHolders[80] = []string{"python3"}
	bad.DiskFree["/var/lib"] = 20 << 20
	bad.Clock = time.Now().Add(-10 * time.Minute).Unix()
	bad.Apache.Version = "2.4.7"
	bad.Listening = map[int]bool{}
	in.Facts = bad
	rs = Run(t.Context(), in)
	for check, want := range map[string]string{
		"port 80":                         "ERROR   port 80: taken by python3, not Apache: Apache could not start on it; stop that program",
		"disk /var/lib":                   "ERROR   disk /var/lib: only 20 MiB free where /var/lib is:",
		"clock":                           "ERROR   clock: the host's clock is 10m0s behind this controller's:",
		"apache Synchrony over WebSocket": "ERROR   apache Synchrony over WebSocket: Synchrony over WebSocket needs Apache 2.4.10 or later; this host has 2.4.7: upgrade Apache",
		"app confluence":                  "WARNING app confluence: nothing listens on port 8090:",
	} {
		if got := find(rs, check).String(); !strings.HasPrefix(got, want) {
			t.Errorf("%s:\n got %q\nwant %q...", check, got, want)
		}
	}
	err := Failed(rs, false)
	if err == nil || strings.Count(err.Error(), "\n  ERROR ") != 4 || strings.Contains(err.Error(), "app confluence") {
		t.Errorf("the four ERRORs, not the WARNING: %v", err)
	}

	// A minute and a half: a warning; strict makes it a refusal.
	in.Facts = healthy()
	in.Facts.Clock = in.Received.Truncate(time.Second).Add(time.Second + 90*time.Second).Unix()
	rs = Run(t.Context(), in)
	if got := find(rs, "clock").String(); !strings.HasPrefix(got, "WARNING clock: the host's clock is 1m30s ahead of") {
		t.Errorf("clock: %q", got)
	}
	if Failed(rs, false) != nil || Failed(rs, true) == nil {
		t.Error("a warning refuses without strict, or not with it")
	}

	// A name that does not resolve (.invalid never does), and one that resolves elsewhere.
	in.Facts, in.Playbook = healthy(), load(t, "apps:\n  - product: confluence\n    url: http://wiki.frontdoor-test.invalid\n")
	if got := find(Run(t.Context(), in), "dns wiki.frontdoor-test.invalid").String(); !strings.HasPrefix(got, "WARNING dns wiki.frontdoor-test.invalid: does not resolve by the controller's DNS (no such name)") {
		t.Errorf("dns: %q", got)
	}
	in.Playbook, in.Address = load(t, "apps:\n  - product: confluence\n    url: http://localhost/wiki\n"), "10.9.9.9"
	if got := find(Run(t.Context(), in), "dns localhost").String(); !strings.Contains(got, "not to this host (10.9.9.9)") {
		t.Errorf("dns: %q", got)
	}
}

// An active ufw that closes port 80 is a WARNING that says how to open it, OK when open_firewall
// will, OK when a rule allows it, and an ERROR when an admin's rule denies it.
func TestFirewallCheck(t *testing.T) {
	f := healthy()
	f.Firewall = distro.Firewall{Kind: "ufw", Active: true, Rules: []string{"allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in"}}
	for _, c := range []struct {
		yaml  string
		rules []string
		level Level
		msg   string
	}{
		{"", nil, Warning, "closed by ufw (active): clients will not reach Apache, and verification through the proxy will fail; set apache: {open_firewall: true}, or run: ufw allow 80/tcp"},
		{"apache:\n  open_firewall: true\n", nil, OK, "closed by ufw: open_firewall opens it (ufw allow 80/tcp)"},
		{"", []string{"allow tcp 80,443 0.0.0.0/0 any 0.0.0.0/0 WWW%20Full - in"}, OK, "open in ufw"},
		{"apache:\n  open_firewall: true\n", []string{"deny any 80 0.0.0.0/0 any 0.0.0.0/0 in"}, Error, `ufw's rule "deny any 80 0.0.0.0/0 any 0.0.0.0/0 in" denies it`},
	} {
		pb := load(t, "apps:\n  - product: confluence\n    url: http://localhost/wiki\n"+c.yaml)
		g := *f
		g.Firewall.Rules = append(slices.Clone(f.Firewall.Rules), c.rules...)
		r := find(Run(t.Context(), Input{Playbook: pb, Facts: &g, Host: "h1", Address: "127.0.0.1", Sent: time.Now(), Received: time.Now()}), "firewall 80/tcp")
		if r.Level != c.level || !strings.Contains(r.Message, c.msg) {
			t.Errorf("%q %v: got %s", c.yaml, c.rules, r)
		}
	}
}
