package main

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
)

func run(t *testing.T, args ...string) (string, error) {
	app := newApp()
	var out bytes.Buffer
	app.Writer, app.ErrWriter = &out, &out
	err := app.Run(interspersed(app, append([]string{"frontdoor"}, args...)))
	return out.String(), err
}

func TestHelpAndVersion(t *testing.T) {
	out, err := run(t, "--help")
	if err != nil || !strings.Contains(out, "plan") || !strings.Contains(out, "apply") || !strings.Contains(out, "facts") || !strings.Contains(out, "verify") {
		t.Errorf("--help: %v\n%s", err, out)
	}
	out, err = run(t, "version")
	if err != nil || strings.TrimSpace(out) != "frontdoor "+version {
		t.Errorf("version: %v %q", err, out)
	}
}

// Input errors exit 1 with a message naming the file; no host is contacted.
func TestInputErrors(t *testing.T) {
	dir := t.TempDir()
	inv := dir + "/inv.yaml"
	writeTestFile(t, inv, "hosts:\n  h1:\n    address: 192.0.2.1\n    colour: blue\n")
	_, err := run(t, "plan", "-i", inv, "pb.yaml")
	var ee *exitErr
	if !errors.As(err, &ee) || ee.code != exitError || !strings.Contains(err.Error(), "inv.yaml:4:5: unknown field \"colour\"") {
		t.Errorf("bad inventory: %v", err)
	}
	writeTestFile(t, inv, "hosts:\n  h1:\n    address: 192.0.2.1\n")
	_, err = run(t, "plan", "-i", inv)
	if !errors.As(err, &ee) || !strings.Contains(err.Error(), "give exactly one PLAYBOOK") {
		t.Errorf("no playbook: %v", err)
	}
	_, err = run(t, "apply", "-i", inv, "--set-base-url", "../../playbooks/examples/jira-subdomain.yaml")
	if !errors.As(err, &ee) || !strings.Contains(err.Error(), "needs the application admin's credentials") {
		t.Errorf("--set-base-url without credentials: %v", err)
	}
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// Options may follow a command's arguments, as in ssh, ansible-playbook and terraform.
func TestInterspersedOptions(t *testing.T) {
	app := newApp()
	for _, c := range []struct{ in, want string }{
		{"frontdoor rollback R1 -i inv --limit web1 --force", "frontdoor rollback -i inv --limit web1 --force R1"},
		{"frontdoor plan pb.yaml -i inv -v --limit=a,b", "frontdoor plan -i inv -v --limit=a,b pb.yaml"},
		{"frontdoor show R1 --diff", "frontdoor show --diff R1"},
		{"frontdoor apply -i inv pb.yaml -- -odd-name.yaml", "frontdoor apply -i inv pb.yaml -- -odd-name.yaml"},
		{"frontdoor --help", "frontdoor --help"},
		{"frontdoor plann pb.yaml -i x", "frontdoor plann pb.yaml -i x"},
	} {
		if got := strings.Join(interspersed(app, strings.Fields(c.in)), " "); got != c.want {
			t.Errorf("%s\n got  %s\n want %s", c.in, got, c.want)
		}
	}
}
