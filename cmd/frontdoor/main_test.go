package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
)

func run(t *testing.T, args ...string) (string, error) {
	app := newApp()
	var out bytes.Buffer
	app.Writer, app.ErrWriter = &out, &out
	err := runCLI(context.Background(), app, append([]string{"frontdoor"}, args...))
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

// Input errors exit 4 (usage) with a message naming the file; no host is contacted.
func TestInputErrors(t *testing.T) {
	dir := t.TempDir()
	inv := dir + "/inv.yaml"
	writeTestFile(t, inv, "hosts:\n  h1:\n    address: 192.0.2.1\n    colour: blue\n")
	_, err := run(t, "plan", "-i", inv, "pb.yaml")
	var ee *exitErr
	if !errors.As(err, &ee) || ee.code != exitUsage || !strings.Contains(err.Error(), "inv.yaml:4:5: unknown field \"colour\"") {
		t.Errorf("bad inventory: %v", err)
	}
	writeTestFile(t, inv, "hosts:\n  h1:\n    address: 192.0.2.1\n")
	_, err = run(t, "plan", "-i", inv)
	if !errors.As(err, &ee) || ee.code != exitUsage || !strings.Contains(err.Error(), "give exactly one PLAYBOOK") {
		t.Errorf("no playbook: %v", err)
	}
	_, err = run(t, "plan", "--preflight-only", "--out", dir+"/plan.json", "-i", inv, "../../playbooks/examples/jira-subdomain.yaml")
	if !errors.As(err, &ee) || ee.code != exitUsage || !strings.Contains(err.Error(), "--preflight-only makes no plan to save") {
		t.Errorf("--preflight-only with --out: %v", err)
	}
	_, err = run(t, "apply", "-i", inv, "--set-base-url", "../../playbooks/examples/jira-subdomain.yaml")
	if !errors.As(err, &ee) || ee.code != exitUsage || !strings.Contains(err.Error(), "needs the application admin's credentials") {
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
		{"frontdoor -v plan pb.yaml -i inv", "frontdoor plan -v -i inv pb.yaml"},
		{"frontdoor -v config edit x.xml", "frontdoor -v config edit x.xml"},
		{"frontdoor plan pb.yaml --no-color -i inv", "frontdoor --no-color plan -i inv pb.yaml"},
		{"frontdoor plan pb.yaml -i inv --generate-bash-completion", "frontdoor plan -i inv pb.yaml --generate-bash-completion"},
	} {
		if got := strings.Join(interspersed(app, strings.Fields(c.in)), " "); got != c.want {
			t.Errorf("%s\n got  %s\n want %s", c.in, got, c.want)
		}
	}
}

// Exit statuses are distinct (docs/cli.md): a mistyped command or flag is a usage error, 4, with
// the command or flag probably meant; never 3, which means "stopped at --max-fail".
func TestUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"plann", "pb.yaml", "-i", "inv.yaml"}, "unknown command plann; did you mean plan?"},
		{[]string{"rolback", "R1"}, "unknown command rolback; did you mean rollback?"},
		{[]string{"deploy"}, "unknown command deploy; frontdoor --help lists the commands"},
		{[]string{"config", "edt", "server.xml"}, "unknown command config edt; did you mean config edit?"},
		{[]string{"plan", "--forkz", "3", "-i", "inv.yaml", "pb.yaml"}, "plan: flag provided but not defined: -forkz; did you mean --forks? (frontdoor plan --help lists the options)"},
		{[]string{"show", "R1", "--dif"}, "show: flag provided but not defined: -dif; did you mean --diff?"},
		{[]string{"config", "edit", "--prodcut", "jira", "x.xml"}, "config edit: flag provided but not defined: -prodcut; did you mean --product?"},
		{[]string{"--bogus", "plan"}, "flag provided but not defined: -bogus (frontdoor --help lists the options)"},
		{[]string{"plan", "pb.yaml"}, `Required flag "inventory" not set`},
		{[]string{"history", "-n", "ten"}, `invalid value "ten" for flag -n`},
	} {
		out, err := run(t, c.args...)
		if exitCode(err) != exitUsage || !strings.Contains(fmt.Sprint(err), c.want) {
			t.Errorf("%v: exit %d: %v\n%s", c.args, exitCode(err), err, out)
		}
	}
}

// -v is --verbose, as in ssh and ansible, wherever it is written; the version is --version or
// the version command.
func TestVerboseIsNotVersion(t *testing.T) {
	_, dir := memCLI(t, "j1")
	out, err := run(t, "-v", "plan", dir+"/pb.yaml", "-i", dir+"/inventory.yaml")
	if exitCode(err) != exitPending || strings.Contains(out, "frontdoor version") || !strings.Contains(out, `proxyName="j1.example.com"`) {
		t.Fatalf("-v plan: exit %d %v\n%s", exitCode(err), err, out)
	}
	// Verbose: each phase as it starts, which plain plan leaves out.
	quiet, _ := run(t, "plan", dir+"/pb.yaml", "-i", dir+"/inventory.yaml")
	if !strings.Contains(out, "j1: gather facts\n") || strings.Contains(quiet, "j1: gather facts") {
		t.Errorf("-v before the command is not --verbose:\n%s\n--- without -v:\n%s", out, quiet)
	}
	if out, err := run(t, "-v"); exitCode(err) != exitUsage || strings.Contains(out, "version") {
		t.Errorf("-v alone: exit %d %v %q", exitCode(err), err, out)
	}
	if out, err := run(t, "--version"); err != nil || !strings.HasPrefix(out, "frontdoor ") {
		t.Errorf("--version: %v %q", err, out)
	}
}
