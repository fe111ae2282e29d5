package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// runSplit runs the CLI with stdout and stderr apart, so a test sees what a pipe to jq sees.
func runSplit(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	app := newApp()
	var out, errOut bytes.Buffer
	app.Writer, app.ErrWriter = &out, &errOut
	err := runCLI(context.Background(), app, append([]string{"frontdoor"}, args...))
	return out.String(), errOut.String(), err
}

// decodeOne decodes stdout as exactly one JSON document, unknown fields refused, nothing after it.
func decodeOne(t *testing.T, stdout string, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("stdout is not the documented JSON document: %v\n%s", err, stdout)
	}
	if dec.More() || strings.TrimSpace(stdout[dec.InputOffset():]) != "" {
		t.Fatalf("something after the JSON document on stdout:\n%s", stdout)
	}
}

func TestPlanFactsJSON(t *testing.T) {
	fl, dir := memCLI(t, "j1", "j2")
	inv, pb := dir+"/inventory.yaml", dir+"/pb.yaml"
	fl.Down["j2"] = true
	stdout, stderr, err := runSplit(t, "plan", pb, "-i", inv, "--output", "json", "-v")
	if exitCode(err) != exitError {
		t.Fatalf("plan: %v\n%s\n%s", err, stdout, stderr)
	}
	var plan planDoc
	decodeOne(t, stdout, &plan)
	if plan.V != 1 || plan.Command != "plan" || plan.Playbook != pb || len(plan.Inventories) != 1 || plan.Inventories[0] != inv ||
		plan.Pending != 5 || plan.Failed != 1 || len(plan.Hosts) != 2 {
		t.Fatalf("plan document: %+v", plan)
	}
	j1, j2 := plan.Hosts[0], plan.Hosts[1]
	if j1.Host != "j1" || j1.Address != "192.0.2.1" || !strings.Contains(j1.Platform, "Debian") || j1.Pending != 5 || len(j1.Fingerprint) != 64 ||
		!strings.Contains(strings.Join(j1.Restarts, ","), "jira") || j1.Error != "" {
		t.Errorf("j1: %+v", j1)
	}
	var diff bool
	for _, c := range j1.Changes {
		if c.Action == "update" && strings.Contains(c.Diff, `+`) && strings.Contains(c.Diff, `proxyName="j1.example.com"`) {
			diff = true
		}
	}
	if !diff {
		t.Errorf("j1's server.xml diff missing: %+v", j1.Changes)
	}
	if j2.Host != "j2" || !strings.Contains(j2.Error, "connection refused") || len(j2.Changes) != 0 {
		t.Errorf("j2: %+v", j2)
	}
	if !strings.Contains(stderr, "j1: gather facts") {
		t.Errorf("-v progress is not on stderr:\n%s", stderr)
	}

	fl.Down["j2"] = false
	stdout, stderr, err = runSplit(t, "facts", "-i", inv, "-o", "json")
	if err != nil {
		t.Fatalf("facts: %v\n%s", err, stderr)
	}
	var facts factsDoc
	decodeOne(t, stdout, &facts)
	if facts.V != 1 || facts.Command != "facts" || len(facts.Hosts) != 2 || facts.Hosts[1].Host != "j2" {
		t.Fatalf("facts document: %+v", facts)
	}
	f := facts.Hosts[0]
	if f.Host != "j1" || f.Family != "debian" || f.OS == nil || f.OS.ID != "debian" || f.Init != "systemd" || f.LoginUID == nil || *f.LoginUID != 0 ||
		f.Apache == nil || f.Apache.Layout != "debian" || !f.Supported || f.Error != "" {
		t.Errorf("j1's facts: %+v", f)
	}
	// With a playbook: the files it would read, described, never their content.
	stdout, _, err = runSplit(t, "facts", "-i", inv, pb, "--output", "json", "--limit", "j1")
	if err != nil {
		t.Fatal(err)
	}
	facts = factsDoc{}
	decodeOne(t, stdout, &facts)
	var sx bool
	for _, ff := range facts.Hosts[0].Files {
		if ff.Path == "/opt/atlassian/jira/conf/server.xml" && ff.Exists && ff.Mode != "" && ff.Bytes > 0 {
			sx = true
		}
	}
	if len(facts.Hosts) != 1 || !sx || strings.Contains(stdout, "<Server") {
		t.Errorf("facts with a playbook:\n%s", stdout)
	}
	// An unknown --output is a usage error, before any host.
	if _, _, err := runSplit(t, "facts", "-i", inv, "--output", "yaml"); exitCode(err) != exitUsage || !strings.Contains(err.Error(), `--output "yaml": write text or json`) {
		t.Errorf("--output yaml: %v", err)
	}
}

func TestHistoryShowJSON(t *testing.T) {
	_, dir := memCLI(t, "j1", "j2")
	inv, pb := dir+"/inventory.yaml", dir+"/pb.yaml"
	stdout, _, err := runSplit(t, "history", "--output", "json")
	var hist historyDoc
	decodeOne(t, stdout, &hist)
	if err != nil || hist.V != 1 || hist.Command != "history" || hist.Runs == nil || len(hist.Runs) != 0 {
		t.Fatalf("empty history: %v %s", err, stdout)
	}
	out, err := run(t, "apply", "-i", inv, "--yes", "--serial", "1", pb)
	m := runIDRe.FindStringSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	id := m[1]
	stdout, _, err = runSplit(t, "history", "-o", "json")
	decodeOne(t, stdout, &hist)
	if err != nil || len(hist.Runs) != 1 {
		t.Fatalf("history: %v %s", err, stdout)
	}
	r := hist.Runs[0]
	if r.Run != id || r.Command != "apply" || r.Status != "ok" || r.Playbook != pb || r.Inventory != inv || len(r.PlaybookSHA256) != 64 ||
		r.Ended == nil || r.Ended.Before(r.Started) || time.Since(r.Started) > time.Minute || r.Counts == nil || r.Counts.Changed != 2 ||
		r.ExitCode == nil || *r.ExitCode != 0 {
		t.Errorf("history run: %+v", r)
	}
	stdout, _, err = runSplit(t, "show", id, "--output", "json", "--diff", "-v")
	var show showDoc
	decodeOne(t, stdout, &show)
	if err != nil || show.V != 1 || show.Command != "show" || show.Run.Run != id || len(show.Hosts) != 2 {
		t.Fatalf("show: %v\n%s", err, stdout)
	}
	h := show.Hosts[1]
	if h.Host != "j2" || h.Batch != 2 || h.Status != "changed" || h.Changed != 5 || len(h.Changes) != 5 || h.DurationMS <= 0 ||
		!strings.Contains(stdout, `proxyName=\"j2.example.com\"`) {
		t.Errorf("show j2: %+v", h)
	}
	if len(show.Events) == 0 || show.Events[0].Type != "run.start" || show.Events[len(show.Events)-1].Type != "run.done" {
		t.Errorf("show -v events: %d", len(show.Events))
	}
	// Without --diff, the changes without their diffs, as the text.
	stdout, _, _ = runSplit(t, "show", id, "-o", "json")
	show = showDoc{}
	decodeOne(t, stdout, &show)
	if len(show.Hosts[0].Changes) != 5 || show.Hosts[0].Changes[0].Diff != "" || show.Events != nil {
		t.Errorf("show without --diff:\n%s", stdout)
	}
	// A run not in the ledger: nothing on stdout, the error on stderr, exit 1.
	stdout, _, err = runSplit(t, "show", "20990101T000000Z-000000", "-o", "json")
	if exitCode(err) != exitError || stdout != "" {
		t.Errorf("unknown run: %v %q", err, stdout)
	}
}
