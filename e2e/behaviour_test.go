package e2e

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/frontdoor-dev/frontdoor/internal/labtest"
)

// TestOnlyWhatChangesRestarts: a change to the VirtualHost alone restarts httpd and not Jira.
func TestOnlyWhatChangesRestarts(t *testing.T) {
	l := labtest.Open(t)
	h := l.Need(t, 1)[0]
	l.Reset(t, h)
	url := "http://jira." + h.Name + ".lab.test"
	first := writeFile(t, "a.yaml", "apps:\n  - product: jira\n    url: "+url+"\n")
	second := writeFile(t, "b.yaml", "apps:\n  - product: jira\n    url: "+url+"\napache:\n  directives:\n    - ProxyTimeout 120\n")
	if r := frontdoor(t, nil, "apply", "--yes", "-i", l.Inventory, "--limit", h.Name, first); r.code != 0 {
		t.Fatalf("first apply:\n%s", r)
	}
	jira := jiraPID(t, l, h)
	httpd := strings.TrimSpace(l.Exec(t, h, "cat /run/apache2/apache2.pid"))
	r := frontdoor(t, nil, "apply", "--yes", "-i", l.Inventory, "--limit", h.Name, second)
	if r.code != 0 || !strings.Contains(r.stdout, "1 change(s) pending; would restart: httpd\n") {
		t.Fatalf("vhost-only apply:\n%s", r)
	}
	if got := jiraPID(t, l, h); got != jira {
		t.Errorf("Jira restarted (%s -> %s) though only the VirtualHost changed", jira, got)
	}
	if got := strings.TrimSpace(l.Exec(t, h, "cat /run/apache2/apache2.pid")); got == httpd {
		t.Error("httpd was not restarted after its VirtualHost changed")
	}
}

// TestRefusesMismatchedLayout: a host whose os-release says Rocky Linux 9 but which has Debian's Apache
// layout (no /etc/httpd) is refused before any change, with a message that says so.
func TestRefusesMismatchedLayout(t *testing.T) {
	l := labtest.Open(t)
	h := l.Need(t, 3)[2]
	l.Reset(t, h)
	rocky, err := os.ReadFile(filepath.Join("..", "testdata", "fixtures", "platform", "linux", "rocky9_os-release.txt"))
	if err != nil {
		t.Fatal(err)
	}
	l.Exec(t, h, "rm /etc/os-release && cat > /etc/os-release <<'EOF'\n"+string(rocky)+"EOF")
	before := snapshot(t, l, h)
	r := frontdoor(t, nil, "apply", "--yes", "-i", l.Inventory, "--limit", h.Name, playbook(t, "jira-subdomain.yaml"))
	if r.code != 1 || !strings.Contains(r.stdout, "Rocky Linux 9") || !strings.Contains(r.stdout, "no /etc/httpd/conf/httpd.conf") || !strings.Contains(r.stdout, "nothing was changed") {
		t.Fatalf("apply on a Rocky host:\n%s", r)
	}
	if after := snapshot(t, l, h); after != before {
		t.Errorf("the refused host changed:\n%s\n->\n%s", before, after)
	}
	l.Reset(t, h)
}

// TestStartStopScriptsWithoutService: with no init service for Jira, frontdoor stops and starts it
// with bin/stop-jira.sh and bin/start-jira.sh, as the guide says.
func TestStartStopScriptsWithoutService(t *testing.T) {
	l := labtest.Open(t)
	h := l.HostWithInit(t, "sysv")
	l.Reset(t, h)
	l.Exec(t, h, "update-rc.d -f jira remove >/dev/null && rm /etc/init.d/jira")
	pid := jiraPID(t, l, h)
	r := frontdoor(t, nil, "apply", "--yes", "-i", l.Inventory, "--limit", h.Name, playbook(t, "jira-context-path.yaml"))
	if r.code != 0 || !strings.Contains(r.stdout, "verified http://tools."+h.Name+".lab.test/jira") {
		t.Fatalf("apply without a jira service:\n%s", r)
	}
	if got := jiraPID(t, l, h); got == pid {
		t.Error("Jira was not restarted")
	}
	l.Reset(t, h)
}

// TestInterruptRollsBack: Ctrl-C in the middle of an apply (Jira being started with its new
// configuration) rolls the host back instead of leaving it half-changed.
func TestInterruptRollsBack(t *testing.T) {
	l := labtest.Open(t)
	h := l.Need(t, 1)[0]
	l.Reset(t, h)
	before := snapshot(t, l, h)
	cmd := exec.Command(bin, "apply", "--yes", "-v", "-i", l.Inventory, "--limit", h.Name, playbook(t, "jira-subdomain.yaml"))
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		out.WriteString(sc.Text() + "\n")
		if strings.HasSuffix(sc.Text(), ": start jira") {
			cmd.Process.Signal(os.Interrupt)
		}
	}
	err = cmd.Wait()
	if err == nil || !strings.Contains(out.String(), "FAILED, rolled back") || !strings.Contains(stderr.String(), "interrupted") {
		t.Fatalf("interrupted apply: %v\n%s\n%s", err, out.String(), stderr.String())
	}
	if after := snapshot(t, l, h); after != before {
		t.Errorf("host not restored after Ctrl-C:\n%s\n->\n%s", before, after)
	}
	checkAnswersAsBefore(t, h)
}

// TestConfirmOnATerminal: on a terminal (a pty, through script(1)), apply shows the plan and asks;
// "no" applies nothing; "yes" applies the plan that was shown (planned again under the lock and
// compared), with the live progress view drawing on the terminal.
func TestConfirmOnATerminal(t *testing.T) {
	l := labtest.Open(t)
	h := l.Need(t, 7)[6]
	l.Reset(t, h)
	if _, err := exec.LookPath("script"); err != nil {
		t.Fatal("script(1) is needed (util-linux)")
	}
	before := snapshot(t, l, h)
	term := func(answer string) (string, error) {
		line := fmt.Sprintf("stty cols 120 rows 40; HOME=%s %s apply -i %s --limit %s %s", t.TempDir(), bin, l.Inventory, h.Name, playbook(t, "jira-subdomain.yaml"))
		cmd := exec.Command("script", "-qfec", line, "/dev/null")
		cmd.Stdin = strings.NewReader(answer + "\n")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := term("no")
	if err == nil || !strings.Contains(out, "Apply 6 change(s)? Type yes:") || !strings.Contains(out, "not applied") {
		t.Fatalf("answered no: %v\n%s", err, out)
	}
	if s := snapshot(t, l, h); s != before || !untouched(t, l, h) {
		t.Fatalf("answering no changed the host")
	}
	out, err = term("yes")
	if err != nil || !strings.Contains(out, h.Name+": ok, 6 change(s) applied") || !strings.Contains(out, "batch 1") {
		t.Fatalf("answered yes: %v\n%s", err, out)
	}
	if strings.Count(out, "== "+h.Name+" (") != 1 {
		t.Errorf("the plan should be shown once, before the question:\n%s", out)
	}
}

// TestUnsafeStateDirRefused: a /var/lib/frontdoor that another user owns, or that is a symlink,
// is refused on a real host before any change, and no lock is taken in it.
func TestUnsafeStateDirRefused(t *testing.T) {
	l := labtest.Open(t)
	h := l.Need(t, 1)[0]
	l.Reset(t, h)
	defer l.Reset(t, h)
	for _, setup := range []string{
		"mkdir -p /var/lib/frontdoor && chown 1000 /var/lib/frontdoor && chmod 755 /var/lib/frontdoor",
		"rm -rf /var/lib/frontdoor && mkdir -m 777 /tmp/fd-elsewhere && ln -s /tmp/fd-elsewhere /var/lib/frontdoor",
	} {
		l.Exec(t, h, setup)
		before := snapshot(t, l, h)
		r := frontdoor(t, nil, "apply", "--yes", "-i", l.Inventory, "--limit", h.Name, playbook(t, "jira-subdomain.yaml"))
		if r.code != 1 || !strings.Contains(r.stdout, "state directory is unsafe") {
			t.Fatalf("%s:\n%s", setup, r)
		}
		if after := snapshot(t, l, h); after != before {
			t.Errorf("%s: the refused host changed:\n%s\n->\n%s", setup, before, after)
		}
		if out, _ := l.TryExec(h, "ls -A /var/lib/frontdoor/ /tmp/fd-elsewhere 2>/dev/null"); strings.Contains(out, "lock") || strings.Contains(out, "runs") {
			t.Errorf("%s: something was created in the unsafe directory: %s", setup, out)
		}
		l.Exec(t, h, "rm -rf /var/lib/frontdoor /tmp/fd-elsewhere")
	}
}
