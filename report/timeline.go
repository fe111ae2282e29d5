package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/frontdoor-dev/frontdoor/fleet"
	"github.com/frontdoor-dev/frontdoor/ledger"
)

// Phases of a host's run, in the order an apply goes through them; each host.progress step
// belongs to one (phaseOf).
var Phases = []string{"connect", "gather", "stop", "apply", "restart", "wait", "verify", "rollback", "other"}

// phaseOf names the phase a host.progress step is in. The steps are those of session and
// steps.Apply ("stop jira", "apply module proxy", "check the configuration of httpd", ...) and of
// frontdoor rollback ("check for drift", "restore").
func phaseOf(step string) string {
	switch {
	case step == "connect":
		return "connect"
	case step == "gather facts", step == "check for drift", strings.HasPrefix(step, "take over the stale lock"):
		return "gather"
	case strings.HasPrefix(step, "stop "):
		return "stop"
	case strings.HasPrefix(step, "apply "):
		return "apply"
	case strings.HasPrefix(step, "check the configuration of "), strings.HasPrefix(step, "restart "), strings.HasPrefix(step, "start "):
		return "restart" // configtest comes right before the restart it allows
	case strings.HasPrefix(step, "wait for "):
		return "wait"
	case step == "re-check", step == "verify":
		return "verify"
	case strings.HasPrefix(step, "roll"), step == "restore", step == "check the restored files":
		return "rollback"
	}
	return "other"
}

// Phase is one stretch of a host's run: from its step's start to the next step (or the host's end).
type Phase struct {
	Name, Step string
	Start, End time.Time
	From, Took string // since the run started; how long
}

// Timeline is the SVG of hosts x phases: a row per host (batch, then name), a bar per phase.
type Timeline struct {
	Width, Height, LabelW                         int
	AxisBottom, BatchLabelY, LegendY, LegendTextY int
	Rows                                          []TimelineRow
	Ticks                                         []Mark
	Batches                                       []Mark
	Legend                                        []LegendItem
	Span                                          string
}

// TimelineRow is one host's row.
type TimelineRow struct {
	Host, Status, Label string
	TextY, LineY        int
	Bars                []Bar
	Note                string // a host with no phase: why
	NoteX               int
}

// Bar is one phase drawn.
type Bar struct {
	X, W  string // formatted, so the SVG does not carry 17 digits
	Y     int
	Phase string
	Title string
}

// Mark is a labelled vertical line: a time tick or a batch's start.
type Mark struct {
	X      string
	Label  string
	Anchor string // the label's text-anchor: the first and last ticks stay inside the drawing
}

// LegendItem is a phase shown in the legend.
type LegendItem struct {
	Phase    string
	X, TextX int
}

const (
	tlWidth  = 960
	tlLabelW = 170
	tlRow    = 18
	tlTop    = 22
)

// timeline draws the run from its events: each host.progress starts a phase, which lasts until
// the host's next event that ends or changes it.
func timeline(r ledger.Run, evs []fleet.Event, hosts []*HostView, byName map[string]*HostView) Timeline {
	start, end := r.Started, r.Ended
	for _, e := range evs {
		if start.IsZero() || e.Time.Before(start) {
			start = e.Time
		}
		if e.Time.After(end) {
			end = e.Time
		}
	}
	open := map[string]*Phase{}
	closeAt := func(h string, t time.Time) {
		if p := open[h]; p != nil {
			p.End = t
			v := byName[h]
			v.Phases = append(v.Phases, *p)
			delete(open, h)
		}
	}
	var batchStarts []Mark
	span := end.Sub(start)
	if span <= 0 {
		span = time.Millisecond
	}
	plotW := float64(tlWidth - tlLabelW - 10)
	x := func(t time.Time) float64 { return float64(tlLabelW) + plotW*float64(t.Sub(start))/float64(span) }
	for _, e := range evs {
		v := byName[e.Host]
		switch {
		case e.Type == fleet.BatchStart:
			batchStarts = append(batchStarts, Mark{X: f(x(e.Time)), Label: fmt.Sprintf("batch %d", e.Batch)})
		case v == nil:
		case e.Type == fleet.HostProgress && e.Error == "":
			closeAt(e.Host, e.Time)
			open[e.Host] = &Phase{Name: phaseOf(e.Step), Step: e.Step, Start: e.Time}
			if v.StartedAt.IsZero() {
				v.StartedAt = e.Time
			}
		case e.Type == fleet.HostDone, e.Type == fleet.HostRollback:
			closeAt(e.Host, e.Time)
			v.EndedAt = e.Time
		}
	}
	for h := range open { // a run that never ended (its controller killed): up to its last event
		closeAt(h, end)
	}
	tl := Timeline{Width: tlWidth, LabelW: tlLabelW, Span: dur(span)}
	used := map[string]bool{}
	y := tlTop
	for _, v := range hosts {
		label := v.Name
		if r := []rune(label); len(r) > 24 {
			label = string(r[:23]) + "…"
		}
		row := TimelineRow{Host: v.Name, Status: v.Status, Label: label, TextY: y + 12, LineY: y + tlRow - 1}
		for i := range v.Phases {
			p := &v.Phases[i]
			p.From, p.Took = "+"+dur(p.Start.Sub(start)), dur(p.End.Sub(p.Start))
			w := x(p.End) - x(p.Start)
			if w < 1 {
				w = 1 // a step of a few milliseconds is still seen
			}
			row.Bars = append(row.Bars, Bar{X: f(x(p.Start)), W: f(w), Y: y + 2, Phase: p.Name,
				Title: fmt.Sprintf("%s: %s, %s (from %s)", v.Name, p.Step, p.Took, p.From)})
			used[p.Name] = true
		}
		if len(row.Bars) == 0 {
			row.Note, row.NoteX = v.Status, tlLabelW+4
		}
		tl.Rows = append(tl.Rows, row)
		y += tlRow
	}
	tl.AxisBottom, tl.BatchLabelY = y, y+12
	tl.LegendY, tl.LegendTextY = y+20, y+30
	tl.Batches = nil
	if len(batchStarts) > 1 {
		tl.Batches = batchStarts
	}
	for i := 0; i <= 5; i++ {
		t := start.Add(span * time.Duration(i) / 5)
		anchor := map[int]string{0: "start", 5: "end"}[i]
		if anchor == "" {
			anchor = "middle"
		}
		tl.Ticks = append(tl.Ticks, Mark{X: f(x(t)), Label: "+" + dur(t.Sub(start)), Anchor: anchor})
	}
	lx := tlLabelW
	for _, ph := range Phases {
		if used[ph] {
			tl.Legend = append(tl.Legend, LegendItem{Phase: ph, X: lx, TextX: lx + 15})
			lx += 90
		}
	}
	tl.Height = y + 38
	return tl
}

func f(v float64) string { return fmt.Sprintf("%.1f", v) }
