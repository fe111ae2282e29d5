package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/frontdoor-dev/frontdoor/internal/labtest"
)

// TestHostKeys: a changed host key is refused with what to do; an unknown one is refused unless
// --accept-new-host-keys, which records it, after which strict checking passes without the flag.
func TestHostKeys(t *testing.T) {
	l := labtest.Open(t)
	hosts := l.Need(t, 2)
	h, other := hosts[0], hosts[1]
	known, err := os.ReadFile(l.KnownHosts)
	if err != nil {
		t.Fatal(err)
	}
	// known_hosts where h's address carries the other host's keys: what a reinstalled host or a
	// man in the middle looks like.
	var swapped []string
	for _, line := range strings.Split(strings.TrimSpace(string(known)), "\n") {
		f := strings.Fields(line)
		if strings.HasPrefix(f[0], other.Address+",") {
			swapped = append(swapped, h.Address+" "+f[1]+" "+f[2])
		}
	}
	kh := writeFile(t, "known_hosts", strings.Join(swapped, "\n")+"\n")
	pb := playbook(t, "jira-subdomain.yaml")

	r := frontdoor(t, nil, "plan", "-i", l.Inventory, "--limit", h.Name, "--known-hosts", kh, pb)
	if r.code != 1 || !strings.Contains(r.stdout, "HOST KEY CHANGED") || !strings.Contains(r.stdout, "ssh-keygen -R") {
		t.Fatalf("changed key:\n%s", r)
	}
	r = frontdoor(t, nil, "plan", "-i", l.Inventory, "--limit", h.Name, "--known-hosts", kh, "--accept-new-host-keys", pb)
	if r.code != 1 || !strings.Contains(r.stdout, "HOST KEY CHANGED") {
		t.Fatalf("changed key with --accept-new-host-keys must still be refused:\n%s", r)
	}

	empty := filepath.Join(t.TempDir(), "known_hosts")
	os.WriteFile(empty, nil, 0o600)
	r = frontdoor(t, nil, "facts", "-i", l.Inventory, "--limit", h.Name, "--known-hosts", empty)
	if r.code != 1 || !strings.Contains(r.stdout, "host key not in") {
		t.Fatalf("unknown key without opt-in:\n%s", r)
	}
	r = frontdoor(t, nil, "facts", "-i", l.Inventory, "--limit", h.Name, "--known-hosts", empty, "--accept-new-host-keys")
	if r.code != 0 || !strings.Contains(r.stdout, "family: debian") {
		t.Fatalf("unknown key with --accept-new-host-keys:\n%s", r)
	}
	// The recorded key verifies with ssh-keygen's own reading of the file, and strictly next time.
	if out, err := exec.Command("ssh-keygen", "-F", h.Address, "-f", empty).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen -F does not find the recorded key: %v\n%s", err, out)
	}
	r = frontdoor(t, nil, "facts", "-i", l.Inventory, "--limit", h.Name, "--known-hosts", empty)
	if r.code != 0 {
		t.Fatalf("strict check after recording:\n%s", r)
	}
}

// TestLocalConnection runs frontdoor inside a lab host against itself (inventory
// "connection: local"), the same steps through the local transport.
func TestLocalConnection(t *testing.T) {
	l := labtest.Open(t)
	h := l.Need(t, 4)[3]
	l.Reset(t, h)
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	// Copy the binary in through testdata/lab/exec (no SSH involved).
	cmd := exec.Command(filepath.Join(l.Dir, "exec"), strings.TrimPrefix(h.Name, "jira"), "/bin/sh", "-c", "cat > /usr/local/bin/frontdoor && chmod 755 /usr/local/bin/frontdoor")
	cmd.Stdin = strings.NewReader(string(data))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("copy frontdoor into %s: %v %s", h.Name, err, out)
	}
	l.Exec(t, h, `mkdir -p /root/fd && printf 'hosts:\n  self:\n    connection: local\n' > /root/fd/inventory.yaml && printf 'apps:\n  - product: jira\n    url: http://jira.local.lab.test/jira\n' > /root/fd/pb.yaml`)
	out, err := l.TryExec(h, "cd /root/fd && /usr/local/bin/frontdoor apply --yes -i inventory.yaml pb.yaml")
	if err != nil || !strings.Contains(out, "self: verified http://jira.local.lab.test/jira") {
		t.Fatalf("local apply: %v\n%s", err, out)
	}
	out, err = l.TryExec(h, "cd /root/fd && /usr/local/bin/frontdoor plan -i inventory.yaml pb.yaml")
	if err != nil || !strings.Contains(out, "no changes") {
		t.Fatalf("local plan after apply: %v\n%s", err, out)
	}
}

// TestSSHConfigProxyJump: a host reached only through a jump host, as ~/.ssh/config describes
// it (HostName, User, IdentityFile, ProxyJump), read from the inventory's ssh_config. The target's
// sshd is made to accept only connections coming from the jump host, so a direct connection
// fails and the plan can only have been made through the jump.
func TestSSHConfigProxyJump(t *testing.T) {
	l := labtest.Open(t)
	hs := l.Need(t, 7)
	jump, target := hs[0], hs[6]
	l.Reset(t, target)
	l.Exec(t, target, "echo 'AllowUsers *@"+jump.Address+"' >> /etc/ssh/sshd_config && kill -HUP $(cat /run/sshd.pid)")
	time.Sleep(300 * time.Millisecond)
	direct := frontdoor(t, nil, "facts", "-i", l.Inventory, "--limit", target.Name)
	if direct.code == 0 {
		t.Fatalf("a direct connection should be refused now:\n%s", direct)
	}
	dir := t.TempDir()
	cfg := writeFile(t, "ssh_config", fmt.Sprintf("Host %s\n  HostName %s\n  User root\n  IdentityFile %s\n  ProxyJump root@%s\n", target.Name, target.Address, l.Key, jump.Address))
	inv := filepath.Join(dir, "inventory.yaml")
	if err := os.WriteFile(inv, []byte(fmt.Sprintf("known_hosts: %s\nssh_config: %s\nhosts:\n  %s:\n", l.KnownHosts, cfg, target.Name)), 0o600); err != nil {
		t.Fatal(err)
	}
	r := frontdoor(t, nil, "plan", "-i", inv, playbook(t, "jira-subdomain.yaml"))
	if r.code != 2 || !strings.Contains(r.stdout, "== "+target.Name+" ("+target.Address+")") {
		t.Fatalf("plan through the jump host:\n%s", r)
	}
	// Through the jump host too, a target whose key is not the one known is refused, with or
	// without --accept-new-host-keys, and known_hosts is left alone.
	keyFile := filepath.Join(dir, "other")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", keyFile).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v %s", err, out)
	}
	other, _ := os.ReadFile(keyFile + ".pub")
	known, _ := os.ReadFile(l.KnownHosts)
	var lines []string
	for _, line := range strings.Split(strings.TrimSpace(string(known)), "\n") {
		if strings.HasPrefix(line, target.Address+" ") || strings.HasPrefix(line, target.Address+",") {
			f := strings.Fields(string(other))
			line = target.Address + " " + f[0] + " " + f[1]
		}
		lines = append(lines, line)
	}
	changed := writeFile(t, "known_hosts_changed", strings.Join(lines, "\n")+"\n")
	for _, extra := range [][]string{nil, {"--accept-new-host-keys"}} {
		args := append([]string{"plan", "-i", inv, "--known-hosts", changed}, extra...)
		r = frontdoor(t, nil, append(args, playbook(t, "jira-subdomain.yaml"))...)
		if r.code != 1 || !strings.Contains(r.stdout, "HOST KEY CHANGED") || !strings.Contains(r.stdout, "ssh-keygen -R") {
			t.Fatalf("changed target key through the jump host %v:\n%s", extra, r)
		}
	}
	if after, _ := os.ReadFile(changed); string(after) != strings.Join(lines, "\n")+"\n" {
		t.Error("known_hosts was changed by a refused connection")
	}
	l.Reset(t, target)
}
