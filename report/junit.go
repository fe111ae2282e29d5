package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/frontdoor-dev/frontdoor/fleet"
)

// JUnit turns a plan's or an apply's events into JUnit XML, the report CI systems show (GitLab,
// Jenkins, GitHub Actions reporters): a testsuite per host, and in it a testcase per step of the
// host's plan, one per application verified through the proxy, and one for the host's result,
// whose <failure> carries the host's error. A host not started is one skipped testcase; the
// steps of a host that failed are skipped, saying whether they were rolled back (as the text of
// <skipped>: the schema gives it no attribute).
//
// The shape is the one of the JUnit schema Jenkins and JUnit 5 validate against (junit-4.xsd of
// Jenkins' dtkit): testsuites > testsuite (name and tests required) > testcase (name required) >
// skipped?, failure*, system-out*; see junit_test.go, which checks it.
type JUnit struct {
	kind string // apply or plan
	mu   sync.Mutex
	evs  []fleet.Event
}

// NewJUnit collects the events of a run of kind apply or plan.
func NewJUnit(kind string) *JUnit { return &JUnit{kind: kind} }

// Record is a sink for fleet.Emitter.
func (j *JUnit) Record(e fleet.Event) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.evs = append(j.evs, e)
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr,omitempty"`
	Hostname  string      `xml:"hostname,attr,omitempty"`
	Cases     []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Skipped   *junitSkipped `xml:"skipped"`
	Failure   *junitMessage `xml:"failure"`
	SystemOut string        `xml:"system-out,omitempty"`
}

// junitSkipped says why as its text: junit-4.xsd gives skipped no attribute.
type junitSkipped struct {
	Text string `xml:",chardata"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

type junitHost struct {
	name             string
	plan, done       *fleet.Event
	rollback         *fleet.Event
	first, last      time.Time
	stepTime         map[string]time.Duration // "apply STEP" phases
	progressAt       time.Time
	progressStep     string
	started, skipped bool
}

func secs(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// Write writes the JUnit XML of the events recorded so far.
func (j *JUnit) Write(w io.Writer) error {
	j.mu.Lock()
	evs := append([]fleet.Event(nil), j.evs...)
	j.mu.Unlock()

	byName := map[string]*junitHost{}
	var order []string
	host := func(name string) *junitHost {
		h := byName[name]
		if h == nil {
			h = &junitHost{name: name, stepTime: map[string]time.Duration{}}
			byName[name] = h
			order = append(order, name)
		}
		return h
	}
	run := ""
	var start, end time.Time
	for i := range evs {
		e := &evs[i]
		if run == "" {
			run = e.Run
		}
		if start.IsZero() || e.Time.Before(start) {
			start = e.Time
		}
		if e.Time.After(end) {
			end = e.Time
		}
		if e.Type == fleet.RunStart {
			for _, b := range e.Batches {
				for _, n := range b {
					host(n)
				}
			}
		}
		if e.Host == "" {
			continue
		}
		h := host(e.Host)
		if h.first.IsZero() {
			h.first = e.Time
		}
		h.last = e.Time
		if h.progressStep != "" { // the step in progress ends at the host's next event
			if strings.HasPrefix(h.progressStep, "apply ") {
				h.stepTime[strings.TrimPrefix(h.progressStep, "apply ")] += e.Time.Sub(h.progressAt)
			}
			h.progressStep = ""
		}
		switch e.Type {
		case fleet.HostPlan:
			h.plan = e
		case fleet.HostProgress:
			h.progressAt, h.progressStep = e.Time, e.Step
		case fleet.HostDone:
			h.done = e
		case fleet.HostRollback:
			h.rollback = e
		}
	}
	name := "frontdoor " + j.kind
	if run != "" && j.kind == "apply" {
		name += " " + run
	}
	out := junitSuites{Name: name, Time: secs(end.Sub(start))}
	for _, n := range order {
		s := j.suite(byName[n])
		out.Tests += s.Tests
		out.Failures += s.Failures
		out.Suites = append(out.Suites, s)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// suite is one host's testsuite.
func (j *JUnit) suite(h *junitHost) junitSuite {
	s := junitSuite{Name: h.name, Hostname: h.name, Time: secs(h.last.Sub(h.first))}
	if !h.first.IsZero() {
		s.Timestamp = h.first.UTC().Format("2006-01-02T15:04:05") // ISO 8601 without a zone, as Ant wrote it: UTC
	}
	add := func(c junitCase) {
		if c.Classname == "" {
			c.Classname = h.name
		}
		if c.Time == "" {
			c.Time = "0.000"
		}
		s.Cases = append(s.Cases, c)
		s.Tests++
		if c.Failure != nil {
			s.Failures++
		}
		if c.Skipped != nil {
			s.Skipped++
		}
	}
	d := h.done
	status, errText := "", ""
	if d != nil {
		status, errText = d.Status, d.Error
	}
	if h.plan == nil && (d == nil || status == fleet.StatusSkipped) {
		msg := "not started"
		if errText != "" {
			msg = errText
		}
		add(junitCase{Name: j.kind, Skipped: &junitSkipped{Text: msg}})
		return s
	}
	batchUndone := h.rollback != nil && h.rollback.Status == fleet.StatusRolledBack
	// The steps of the plan.
	if h.plan != nil {
		for _, c := range h.plan.Changes {
			tc := junitCase{Name: c.Step, Time: secs(h.stepTime[c.Step])}
			out := c.Summary
			if c.Action == "noop" {
				out = "already right: " + c.Summary
			} else if c.Diff != "" && c.Action != "run" {
				out += "\n" + c.Diff
			}
			tc.SystemOut = out
			switch {
			case c.Action == "noop" || j.kind == "plan":
			case status == fleet.StatusFailed && d.RolledBack:
				tc.Skipped = &junitSkipped{Text: "rolled back: the host failed"}
			case status == fleet.StatusFailed:
				tc.Skipped = &junitSkipped{Text: "not rolled back: the host failed (see its result)"}
			case batchUndone:
				tc.Skipped = &junitSkipped{Text: "rolled back with its batch"}
			case d == nil:
				tc.Skipped = &junitSkipped{Text: "the run did not record this host's end"}
			}
			add(tc)
		}
	}
	// What was verified through the proxy.
	if d != nil {
		for _, v := range d.Verified {
			out := strings.Join(v.Chain, "\n")
			switch {
			case v.Set:
				out += "\nBase URL set to " + v.AppBaseURL
			case v.Manual:
				out += "\nMANUAL CHECK: " + v.Note
			case v.Note != "":
				out += "\nWARNING: " + v.Note
			case v.AppBaseURL != "":
				out += "\nBase URL is " + v.AppBaseURL
			}
			add(junitCase{Name: "verify " + v.App + " at " + v.BaseURL, SystemOut: out})
		}
	}
	// The host's result.
	res := junitCase{Name: j.kind, Time: secs(h.last.Sub(h.first))}
	switch {
	case j.kind == "plan" && errText == "":
		pending := 0
		for _, c := range h.plan.Changes {
			if c.Action != "noop" {
				pending++
			}
		}
		res.SystemOut = fmt.Sprintf("%d change(s) pending", pending)
		for _, w := range h.plan.Warnings {
			res.SystemOut += "\nWARNING: " + w
		}
	case status == fleet.StatusFailed || errText != "":
		first, _, _ := strings.Cut(errText, "\n")
		typ := "failed"
		if d != nil && d.RolledBack {
			typ = "failed, rolled back"
		}
		res.Failure = &junitMessage{Message: first, Type: typ, Text: errText}
	case batchUndone:
		res.Skipped = &junitSkipped{Text: "rolled back: its batch went over --max-fail"}
	case d == nil:
		res.Failure = &junitMessage{Message: "the run did not record this host's end", Type: "unfinished"}
	default:
		res.SystemOut = fmt.Sprintf("%s, %d change(s)", status, d.Changed)
	}
	add(res)
	return s
}
