package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"github.com/frontdoor-dev/frontdoor/preflight"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/frontdoor-dev/frontdoor/fleet"
	"github.com/frontdoor-dev/frontdoor/playbooks"
	"github.com/frontdoor-dev/frontdoor/session"
	"github.com/frontdoor-dev/frontdoor/steps"
)

// savedPlanFormat is the version of the saved plan file; a change that older frontdoors would
// misread bumps it.
const savedPlanFormat = 1

// savedPlan is what `frontdoor plan -out FILE` writes and `frontdoor apply FILE` applies
// (docs/cli.md, "Saved plans").
type savedPlan struct {
	// Format is the file's format version; its key is also how a saved plan is told from a
	// playbook.
	Format         int        `json:"frontdoor_plan"`
	Frontdoor      string     `json:"frontdoor"` // the version that wrote it
	Created        time.Time  `json:"created"`
	Playbook       string     `json:"playbook"` // absolute
	PlaybookSHA256 string     `json:"playbook_sha256"`
	Inventories    []string   `json:"inventories"` // absolute, in -i order
	Flags          planFlags  `json:"flags"`
	Hosts          []planHost `json:"hosts"`
	Checksum       string     `json:"checksum"` // sha256 of the file's content with this field empty
	file           string     // where it was read from
}

// planFlags are the options that shape a plan (which hosts); the others (--forks, --serial,
// --timeout...) are how it is carried out and may differ at apply.
type planFlags struct {
	Limit string `json:"limit,omitempty"`
}

// planHost is one host's plan, as plan --output json and the saved plan write it.
type planHost struct {
	Host     string `json:"host"`
	Address  string `json:"address"`
	Platform string `json:"platform,omitempty"`
	// Fingerprint identifies the pending changes (session.Fingerprint): apply refuses a host
	// whose new plan has another.
	Fingerprint string         `json:"fingerprint,omitempty"`
	Pending     int            `json:"pending"`
	Changes     []fleet.Change `json:"changes,omitempty"`
	Restarts    []string       `json:"restarts,omitempty"`
	Reloads     []string       `json:"reloads,omitempty"`
	Notes       []string       `json:"notes,omitempty"`
	Warnings    []string       `json:"warnings,omitempty"`
	// Preflight are the checks before any change, also for a host they refused.
	Preflight []preflight.Result `json:"preflight,omitempty"`
	Error     string             `json:"error,omitempty"`
}

// hostPlan describes a planned host; diffs are masked when they are made (steps.Diff).
func hostPlan(r *session.HostRun) planHost {
	if r.Err != nil || r.Plan == nil {
		return planHost{Host: r.Host.Name, Address: r.Host.Address, Preflight: r.Preflight, Error: explain(r.Err)}
	}
	e := fleet.PlanEvent(r, 0, explain)
	return planHost{Host: e.Host, Address: e.Address, Platform: e.Platform, Fingerprint: session.Fingerprint(r.Plan),
		Pending: r.Plan.Pending(), Changes: e.Changes, Restarts: e.Restarts, Reloads: e.Reloads, Notes: e.Notes, Warnings: e.Warnings, Preflight: r.Preflight}
}

// fingerprintOf is session.Fingerprint computed from a plan as written in a file, so a saved
// plan whose changes were edited does not pass for the plan that was shown.
func fingerprintOf(changes []fleet.Change) string {
	var b strings.Builder
	for _, c := range changes {
		if c.Action != "noop" {
			fmt.Fprintf(&b, "%s\x00%s\x00%s\x00%s\x00", c.Step, steps.ActionSymbol(c.Action), c.Summary, c.Diff)
		}
	}
	return steps.Hash([]byte(b.String()))
}

func (p *savedPlan) checksum() string {
	q := *p
	q.Checksum = ""
	b, _ := json.Marshal(q)
	return fmt.Sprintf("%x", sha256.Sum256(b))
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// writeSavedPlan writes the plan of hosts to path, 0600: its diffs are configuration.
func writeSavedPlan(c *cli.Context, path string, runs []*session.HostRun) error {
	pbPath := absPath(c.Args().First())
	data, err := os.ReadFile(pbPath)
	if err != nil {
		return err
	}
	p := &savedPlan{Format: savedPlanFormat, Frontdoor: version, Created: time.Now().UTC().Truncate(time.Second),
		Playbook: pbPath, PlaybookSHA256: fmt.Sprintf("%x", sha256.Sum256(data)), Flags: planFlags{Limit: c.String("limit")}}
	for _, i := range inventories(c) {
		p.Inventories = append(p.Inventories, absPath(i))
	}
	for _, r := range runs {
		p.Hosts = append(p.Hosts, hostPlan(r))
	}
	p.Checksum = p.checksum()
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	// O_EXCL-free but 0600 from the start, and kept 0600 when an older file is overwritten.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("-out: %w", err)
	}
	if err := f.Chmod(0o600); err == nil {
		_, err = f.Write(append(b, '\n'))
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("-out %s: %w", path, err)
	}
	return nil
}

// readSavedPlan reads path if it is a saved plan: (nil, nil) when it is something else (a
// playbook). It is recognised by its content (a JSON object with "frontdoor_plan"), and a file
// named *.fdplan that is not one is refused rather than read as a playbook.
func readSavedPlan(path string) (*savedPlan, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil // the playbook loader says what is wrong with the file
	}
	var probe map[string]json.RawMessage
	isPlan := json.Unmarshal(data, &probe) == nil && probe["frontdoor_plan"] != nil
	if !isPlan {
		if strings.HasSuffix(path, ".fdplan") {
			return nil, usageErrorf("%s is not a saved plan (not JSON with a frontdoor_plan key): write it again with frontdoor plan -i INVENTORY PLAYBOOK -out %s", path, shellWord(path))
		}
		return nil, nil
	}
	p := &savedPlan{file: path}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(p); err != nil {
		return nil, usageErrorf("%s: not a saved plan this frontdoor can read (%v): write it again with frontdoor plan -i INVENTORY PLAYBOOK -out %s", path, err, shellWord(path))
	}
	if p.Format != savedPlanFormat {
		return nil, usageErrorf("%s: saved plan format %d, this frontdoor (%s) reads format %d: write it again with this frontdoor: frontdoor plan -i INVENTORY PLAYBOOK -out %s", path, p.Format, version, savedPlanFormat, shellWord(path))
	}
	tampered := p.Checksum != p.checksum()
	for _, h := range p.Hosts {
		if h.Error != "" || (h.Fingerprint != fingerprintOf(h.Changes)) {
			tampered = true
		}
	}
	if tampered {
		return nil, usageErrorf("%s was changed after it was saved (its checksum or a host's fingerprint does not match its content): not applying it; plan again and review the new plan: %s", path, p.replan())
	}
	return p, nil
}

// replan is the command that plans again what p planned, into the same file.
func (p *savedPlan) replan() string {
	w := []string{"frontdoor", "plan"}
	for _, i := range p.Inventories {
		w = append(w, "-i", shellWord(i))
	}
	if p.Flags.Limit != "" {
		w = append(w, "--limit", shellWord(p.Flags.Limit))
	}
	return strings.Join(append(w, shellWord(p.Playbook), "-out", shellWord(p.file)), " ")
}

// stalePlanError refuses a host whose new plan is not the saved one.
type stalePlanError struct{ file, host, replan string }

func (e *stalePlanError) Error() string {
	return fmt.Sprintf("the plan saved in %s no longer matches %s: run frontdoor plan again (its facts or its configuration changed since; nothing was changed here), review the new plan and apply it: %s", e.file, e.host, e.replan)
}

// loadSaved loads what the saved plan names: its playbook (unchanged, by sha256), its
// inventories and exactly its hosts. -i and --limit, if given, must be the saved ones.
func loadSaved(c *cli.Context, p *savedPlan) (*loaded, error) {
	if given := inventories(c); len(given) > 0 {
		var abs []string
		for _, i := range given {
			abs = append(abs, absPath(i))
		}
		if !slices.Equal(abs, p.Inventories) {
			return nil, usageErrorf("-i %s does not match the inventory saved in %s (%s): leave -i out to use the saved one, or plan again with this inventory",
				strings.Join(given, " -i "), p.file, strings.Join(p.Inventories, ", "))
		}
	}
	if c.IsSet("limit") && c.String("limit") != p.Flags.Limit {
		return nil, usageErrorf("--limit %q does not match the plan saved in %s (--limit %q): leave --limit out, or plan again with it", c.String("limit"), p.file, p.Flags.Limit)
	}
	data, err := os.ReadFile(p.Playbook)
	if err != nil {
		return nil, usageErrorf("the playbook of the plan saved in %s: %w", p.file, err)
	}
	if sum := fmt.Sprintf("%x", sha256.Sum256(data)); sum != p.PlaybookSHA256 {
		return nil, usageErrorf("the playbook %s changed since the plan was saved in %s (sha256 %.12s…, now %.12s…): not applying; plan again and review the new plan: %s",
			p.Playbook, p.file, p.PlaybookSHA256, sum, p.replan())
	}
	l, err := loadHostsFrom(c, p.Inventories, p.Flags.Limit)
	if err != nil {
		return nil, err
	}
	byName := map[string]*playbooks.Host{}
	for _, h := range l.hosts {
		byName[h.Name] = h
	}
	// Exactly the saved hosts: one the inventory selects now but the plan did not show is left
	// alone; one gone or moved is refused.
	var hosts []*playbooks.Host
	for _, s := range p.Hosts {
		h := byName[s.Host]
		switch {
		case h == nil:
			return nil, usageErrorf("host %s of the plan saved in %s is no longer in its inventory (%s) with --limit %q: plan again: %s", s.Host, p.file, strings.Join(p.Inventories, ", "), p.Flags.Limit, p.replan())
		case h.Address != s.Address:
			return nil, usageErrorf("host %s of the plan saved in %s was %s and is now %s in the inventory: plan again: %s", s.Host, p.file, s.Address, h.Address, p.replan())
		}
		hosts = append(hosts, h)
	}
	l.hosts = hosts
	if err := l.loadPlaybook(p.Playbook); err != nil {
		return nil, err
	}
	return l, nil
}

// checkSaved plans every host again (read-only, no lock) and refuses, untouched, each host whose
// plan is not the saved one; the others are planned once more under their lock by the rollout
// and must still match.
func checkSaved(c *cli.Context, l *loaded, p *savedPlan) map[string]*session.HostRun {
	saved := map[string]planHost{}
	for _, h := range p.Hosts {
		saved[h.Host] = h
	}
	m := map[string]*session.HostRun{}
	for _, r := range l.prepareAll(c.Context, c.Int("forks")) {
		if r.Err == nil {
			s := saved[r.Host.Name]
			now := hostPlan(r)
			if now.Fingerprint != s.Fingerprint || !slices.Equal(now.Changes, s.Changes) {
				r.Err = &stalePlanError{file: p.file, host: r.Host.Name, replan: p.replan()}
			}
		}
		m[r.Host.Name] = r
	}
	return m
}
