package distro

import (
	"strings"
	"testing"
)

// The firewall section as the gather prints it on a lab host after (run there by hand):
// ufw allow 22/tcp; ufw allow 8000:8010/tcp; ufw allow "WWW Full";
// ufw allow from 10.0.0.0/8 to any port 9000 proto tcp; ufw deny 81; ufw --force enable.
var ufwSection = []string{
	"ufw yes DROP",
	"rule allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in",
	"rule allow tcp 8000:8010 0.0.0.0/0 any 0.0.0.0/0 in",
	"rule allow tcp 80,443 0.0.0.0/0 any 0.0.0.0/0 WWW%20Full - in",
	"rule allow tcp 9000 0.0.0.0/0 any 10.0.0.0/8 in",
	"rule deny any 81 0.0.0.0/0 any 0.0.0.0/0 in",
}

func TestFirewallBlocks(t *testing.T) {
	var f Facts
	f.parseFirewall(ufwSection)
	fw := f.Firewall
	if fw.Kind != "ufw" || !fw.Active || fw.DefaultAllow || len(fw.Rules) != 5 {
		t.Fatalf("parsed: %+v", fw)
	}
	for port, want := range map[int]string{22: "open", 80: "open", 443: "open", 8005: "open", 9000: "closed" /* from 10.0.0.0/8 only */, 81: "denied", 8080: "closed", 8443: "closed"} {
		blocked, rule := fw.Blocks(port)
		got := "open"
		if blocked {
			got = "closed"
			if rule != "" {
				got = "denied"
			}
		}
		if got != want {
			t.Errorf("port %d: %s (rule %q), want %s", port, got, rule, want)
		}
	}
	// Inactive, or a default policy of ACCEPT: nothing is closed.
	f = Facts{}
	f.parseFirewall([]string{"ufw no DROP"})
	if b, _ := f.Firewall.Blocks(80); b {
		t.Error("inactive ufw blocks 80")
	}
	f = Facts{}
	f.parseFirewall([]string{"ufw yes ACCEPT"})
	if b, _ := f.Firewall.Blocks(80); b {
		t.Error("ufw with ACCEPT blocks 80")
	}
	// firewalld's stock public zone (ssh, dhcpv6-client, cockpit), then with http and 8443/tcp.
	f = Facts{}
	f.parseFirewall([]string{"firewalld active public", "service ssh", "service dhcpv6-client", "service cockpit"})
	if b, _ := f.Firewall.Blocks(80); !b {
		t.Error("firewalld's stock public zone lets 80 in")
	}
	f.parseFirewall([]string{"firewalld active public", "service http", "port 8443/tcp"})
	if b, _ := f.Firewall.Blocks(80); b {
		t.Error("firewalld with http blocks 80")
	}
	if b, _ := f.Firewall.Blocks(8443); b {
		t.Error("firewalld with 8443/tcp blocks it")
	}
}

// What open_firewall runs and journals: the undo of each is replayable, and nothing wider is.
func TestFirewallCommands(t *testing.T) {
	ufw, fd := Firewall{Kind: "ufw"}, Firewall{Kind: "firewalld"}
	for _, c := range []struct{ got, want string }{
		{ufw.OpenCommand(80), "ufw allow 80/tcp"},
		{ufw.CloseCommand(8443), "ufw delete allow 8443/tcp"},
		{fd.OpenCommand(443), "firewall-cmd -q --permanent --add-service=https && firewall-cmd -q --add-service=https"},
		{fd.CloseCommand(8443), "firewall-cmd -q --permanent --remove-port=8443/tcp && firewall-cmd -q --remove-port=8443/tcp"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	for _, c := range []string{ufw.CloseCommand(80), fd.CloseCommand(80), fd.CloseCommand(8443)} {
		if !Replayable(c) {
			t.Errorf("not replayable: %s", c)
		}
	}
	for _, c := range []string{"ufw disable", "ufw delete allow 22/tcp; reboot", "ufw allow 80/tcp", strings.Replace(fd.CloseCommand(80), "remove", "add", 2),
		"firewall-cmd -q --permanent --remove-service=ssh && firewall-cmd -q --remove-service=ssh"} {
		if Replayable(c) {
			t.Errorf("replayable: %s", c)
		}
	}
}

// A ufw rule for some sources only decides nothing for the public: fail2ban's deny of one
// address does not close the port, an allow from a private network does not open it.
func TestFirewallRulesForSomeSources(t *testing.T) {
	var f Facts
	f.parseFirewall([]string{"ufw yes DROP",
		"rule deny any any 0.0.0.0/0 any 203.0.113.9 in",
		"rule allow tcp 443 0.0.0.0/0 any 10.0.0.0/8 in",
		"rule allow tcp 80 0.0.0.0/0 any 0.0.0.0/0 in"})
	if b, rule := f.Firewall.Blocks(80); b || rule != "" {
		t.Errorf("80: blocked=%v by %q", b, rule)
	}
	if b, rule := f.Firewall.Blocks(443); !b || rule != "" {
		t.Errorf("443: blocked=%v by %q, want closed by the default policy", b, rule)
	}
}
