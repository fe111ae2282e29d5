// Package report owns what frontdoor shows of recorded runs outside the terminal: the
// self-contained HTML page of one run made from the ledger (frontdoor report), the read-only web
// view of the ledger that serves the same pages (frontdoor serve), and the JUnit XML of a plan or
// an apply (--output junit FILE).
//
// It reads the ledger and the events as recorded and says nothing of its own about what to run
// to recover: the CLI hands it those sentences (Options.Advise), so they stay the CLI's words.
package report

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/frontdoor-dev/frontdoor/fleet"
	"github.com/frontdoor-dev/frontdoor/ledger"
	"github.com/frontdoor-dev/frontdoor/steps"
)

// Recovery is what to do about a host, in the CLI's words: a sentence and the exact command.
type Recovery struct {
	Text, Command string
}

// Options are what the caller decides about a page.
type Options struct {
	// RunLink is the address of another run's page (a rollback and the run it undid link to
	// each other).
	RunLink func(id string) string
	// IndexLink, if set, is the address of the list of runs (serve).
	IndexLink string
	// Advise says what to do about a host that did not end verified (nil: nothing said).
	Advise func(r *ledger.Run, h *ledger.Host) Recovery
	// RunAdvice says what to do about a run as a whole, e.g. one the ledger saw start and not end.
	RunAdvice func(r *ledger.Run) string
	// Generator names the program and version that made the page.
	Generator string
	// Now is when the page is made (tests fix it).
	Now time.Time
}

// Host statuses as the page shows and filters them.
const (
	StatusFailed         = "failed"
	StatusRollbackFailed = "rollback failed"
	StatusUnfinished     = "unfinished"
	StatusRolledBack     = "rolled back"
	StatusNotStarted     = "not started"
	StatusChanged        = "changed"
	StatusOK             = "ok"
	StatusNothing        = "nothing to undo"
)

// statusOrder is the default order of the host table: what needs attention first.
var statusOrder = []string{StatusFailed, StatusRollbackFailed, StatusUnfinished, StatusRolledBack, StatusNotStarted, StatusChanged, StatusOK, StatusNothing}

// Page is one run as the page shows it.
type Page struct {
	Run             ledger.Run
	Status          string // the run's: ok, failed, stopped, interrupted, unfinished
	Who, Controller string
	PlaybookName    string
	Duration        string
	ExitCode        string // "" when the ledger does not have it
	Advice          string
	Undoes          *RunRef
	UndoneBy        []RunRef
	Hosts           []*HostView
	Statuses        []string // the host statuses present, in statusOrder, for the filter
	Timeline        Timeline
	Opts            Options
}

// RunRef is a link to another run.
type RunRef struct {
	ID, Status, Href string
	Started          time.Time
}

// HostView is one host of a run.
type HostView struct {
	ID                 string // the element id of its section: h1, h2, ... (host names are not ids)
	Name, Status       string
	Rank               int
	Batch, Changed     int
	RolledBack         bool
	DurationMS         int64
	Duration           string
	Address, Platform  string
	Error              string
	Recovery           Recovery
	Steps              []StepView
	Restarts, Notes    []string
	Warnings           []string
	Verified           []fleet.Verified
	Phases             []Phase
	Progress           []ProgressLine // each step as it started, with its time since the run began
	StartedAt, EndedAt time.Time
}

// StepView is one step of a host's plan with its diff.
type StepView struct {
	Step, Action, Symbol, Summary string
	Lines                         []DiffLine
}

// DiffLine is one line of a unified diff with its kind (add, del, hunk, file, ctx) for colour.
type DiffLine struct {
	Kind, Text string
}

// ProgressLine is one host.progress event.
type ProgressLine struct {
	At, Step, Error string
}

// Build reads run id (or an unambiguous prefix of it) from the ledger.
func Build(led *ledger.Ledger, id string, opts Options) (*Page, error) {
	r, err := led.Find(id)
	if err != nil {
		return nil, err
	}
	hosts, err := led.Hosts(r.ID)
	if err != nil {
		return nil, err
	}
	evs, err := led.Events(r.ID)
	if err != nil {
		return nil, err
	}
	runs, err := led.Runs(0)
	if err != nil {
		return nil, err
	}
	return assemble(*r, hosts, evs, runs, opts), nil
}

// assemble makes the page from what the ledger holds: the run, its hosts, its events, and the
// other runs (for the rollbacks linked both ways).
func assemble(r ledger.Run, hosts []ledger.Host, evs []fleet.Event, runs []ledger.Run, opts Options) *Page {
	if opts.RunLink == nil {
		opts.RunLink = func(id string) string { return "frontdoor-report-" + id + ".html" }
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	p := &Page{Run: r, Status: r.Status, Opts: opts}
	if r.Status == "running" {
		p.Status = StatusUnfinished
	}
	p.Who, p.Controller = r.Controller, ""
	if i := strings.LastIndex(r.Controller, "@"); i >= 0 {
		p.Who, p.Controller = r.Controller[:i], r.Controller[i+1:]
	}
	if r.Playbook != "" {
		p.PlaybookName = filepath.Base(r.Playbook)
	}
	if !r.Ended.IsZero() {
		p.Duration = dur(r.Ended.Sub(r.Started))
	}
	if r.ExitCode != nil {
		p.ExitCode = fmt.Sprint(*r.ExitCode)
	}
	if opts.RunAdvice != nil {
		p.Advice = opts.RunAdvice(&r)
	}
	for _, o := range runs {
		if o.ID == r.Undoes {
			p.Undoes = &RunRef{ID: o.ID, Status: runStatus(o), Href: opts.RunLink(o.ID), Started: o.Started}
		}
		if o.Undoes == r.ID {
			p.UndoneBy = append(p.UndoneBy, RunRef{ID: o.ID, Status: runStatus(o), Href: opts.RunLink(o.ID), Started: o.Started})
		}
	}
	if r.Undoes != "" && p.Undoes == nil { // the run undone is not in this ledger: still name it
		p.Undoes = &RunRef{ID: r.Undoes, Status: "not in this ledger"}
	}
	sort.Slice(p.UndoneBy, func(i, j int) bool { return p.UndoneBy[i].Started.Before(p.UndoneBy[j].Started) })

	byName := map[string]*HostView{}
	for i := range hosts {
		h := &hosts[i]
		v := &HostView{ID: fmt.Sprintf("h%d", i+1), Name: h.Name, Status: hostStatus(r, h), Batch: h.Batch, Changed: h.Changed,
			RolledBack: h.RolledBack, DurationMS: h.Duration.Milliseconds(), Duration: dur(h.Duration), Error: h.Error}
		for k, s := range statusOrder {
			if s == v.Status {
				v.Rank = k
			}
		}
		if opts.Advise != nil && v.Status != StatusOK && v.Status != StatusChanged && v.Status != StatusNothing {
			v.Recovery = opts.Advise(&r, h)
		}
		for _, c := range h.Changes {
			v.Steps = append(v.Steps, StepView{Step: c.Step, Action: c.Action, Symbol: steps.ActionSymbol(c.Action), Summary: c.Summary, Lines: diffLines(c.Diff, c.Action)})
		}
		p.Hosts = append(p.Hosts, v)
		byName[h.Name] = v
	}
	p.Timeline = timeline(r, evs, p.Hosts, byName)
	for _, e := range evs {
		v := byName[e.Host]
		if v == nil {
			continue
		}
		switch e.Type {
		case fleet.HostPlan:
			v.Address, v.Platform, v.Restarts, v.Notes, v.Warnings = e.Address, e.Platform, e.Restarts, e.Notes, e.Warnings
		case fleet.HostDone:
			v.Verified = e.Verified
		case fleet.HostProgress:
			v.Progress = append(v.Progress, ProgressLine{At: "+" + dur(e.Time.Sub(r.Started)), Step: e.Step, Error: e.Error})
		}
	}
	// What needs attention first; then by batch and name, as the ledger lists them.
	sort.SliceStable(p.Hosts, func(i, j int) bool { return p.Hosts[i].Rank < p.Hosts[j].Rank })
	seen := map[string]bool{}
	for _, v := range p.Hosts {
		seen[v.Status] = true
	}
	for _, s := range statusOrder {
		if seen[s] {
			p.Statuses = append(p.Statuses, s)
		}
	}
	return p
}

// runStatus is a run's status; "unfinished" is a run the ledger saw start and not end.
func runStatus(r ledger.Run) string {
	if r.Status == "running" {
		return StatusUnfinished
	}
	return r.Status
}

// hostStatus names a host's end as the page shows it.
func hostStatus(r ledger.Run, h *ledger.Host) string {
	switch h.Status {
	case fleet.StatusOK:
		return StatusOK
	case fleet.StatusChanged:
		return StatusChanged
	case fleet.StatusFailed:
		return StatusFailed
	case fleet.StatusRolledBack:
		return StatusRolledBack
	case fleet.StatusRollbackFail:
		return StatusRollbackFailed
	case fleet.StatusSkipped:
		return StatusNotStarted
	case fleet.StatusNothing:
		return StatusNothing
	case "pending":
		if r.Status == "running" {
			return StatusUnfinished
		}
		return StatusNotStarted
	}
	return h.Status
}

// diffLines splits a diff into lines with their kind, masking secrets again (see steps.Redact).
func diffLines(diff, action string) []DiffLine {
	if diff == "" || action == "run" {
		return nil
	}
	var out []DiffLine
	for _, l := range strings.Split(strings.TrimRight(steps.Redact(diff), "\n"), "\n") {
		l = strings.TrimSuffix(l, "\r")
		k := "ctx"
		switch {
		case strings.HasPrefix(l, "+++ "), strings.HasPrefix(l, "--- "):
			k = "file"
		case strings.HasPrefix(l, "@@"):
			k = "hunk"
		case strings.HasPrefix(l, "+"):
			k = "add"
		case strings.HasPrefix(l, "-"):
			k = "del"
		}
		out = append(out, DiffLine{Kind: k, Text: l})
	}
	return out
}

// dur is a duration as people read it: 850ms, 3.2s, 4m05s.
func dur(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	d = d.Round(time.Second)
	return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
}
