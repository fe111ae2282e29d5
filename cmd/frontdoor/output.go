package main

import (
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/urfave/cli/v2"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/frontdoor-dev/frontdoor/fleet"
	"github.com/frontdoor-dev/frontdoor/ledger"
	"github.com/frontdoor-dev/frontdoor/report"
)

func outputFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "text", Usage: "text, or json: one event per line (docs/events.md); junit FILE: text, and JUnit XML to FILE"},
		ledgerFlag(),
		&cli.BoolFlag{Name: "no-progress", Usage: "plain lines even on a terminal"},
	}
}

// output is where a run's events go: text lines (with live progress bars on a terminal) or JSON
// lines, and always the ledger.
type output struct {
	l         *loaded
	em        *fleet.Emitter
	led       *ledger.Ledger
	text      bool
	verbose   bool
	shown     map[string]bool // hosts whose plan was already printed (before the confirmation)
	plans     map[string]int  // host.plan events seen per host (a second: the plan after an install)
	progress  *progressView
	w         io.Writer
	mu        sync.Mutex
	junit     *report.JUnit // --output junit FILE
	junitFile string
}

func ledgerPath(c *cli.Context) (string, error) {
	if p := c.String("ledger"); p != "" {
		return p, nil
	}
	p, err := ledger.DefaultPath()
	if err == nil {
		err = ledger.DefaultDir(p)
	}
	return p, err
}

// textOutput checks --output: text (true) or json (false).
func textOutput(c *cli.Context) (bool, error) {
	switch c.String("output") {
	case "text":
		return true, nil
	case "json":
		return false, nil
	case "junit":
		if hasFlag(c.Command, "junit") {
			return false, usageErrorf("--output junit needs the FILE to write, e.g. --output junit frontdoor.xml")
		}
		return false, usageErrorf("--output junit: %s writes text or json", c.Command.Name)
	}
	if hasFlag(c.Command, "junit") {
		return false, usageErrorf("--output %q: write text, json, or junit FILE", c.String("output"))
	}
	return false, usageErrorf("--output %q: write text or json", c.String("output"))
}

func openOutput(c *cli.Context, l *loaded, run string) (*output, error) {
	o := &output{l: l, verbose: c.Bool("verbose"), shown: map[string]bool{}, plans: map[string]int{}, w: l.out}
	var err error
	if o.text, err = textOutput(c); err != nil {
		return nil, err
	}
	path, err := ledgerPath(c)
	if err != nil {
		return nil, err
	}
	if o.led, err = openLedgerAt(path); err != nil {
		return nil, err
	}
	sinks := []func(fleet.Event){o.led.Record}
	if o.text {
		if f, ok := terminal(l.out); ok && !c.Bool("no-progress") && !o.verbose {
			o.progress = newProgressView(f, false) // its own escape sequences go to the terminal as they are
			o.w = safeWriter{o.progress.p}
			if colored(l.out) {
				o.w = safeWriter{&colorWriter{w: o.progress.p}}
			}
		}
		sinks = append(sinks, o.printText)
	} else {
		sinks = append(sinks, fleet.JSONLines(l.out))
	}
	if o.progress != nil {
		sinks = append(sinks, o.progress.event)
	}
	if o.junitFile = c.String("junit"); o.junitFile != "" {
		o.junit = report.NewJUnit(c.Command.Name)
		sinks = append(sinks, o.junit.Record)
	}
	o.em = fleet.NewEmitter(run, sinks...)
	o.em.Explain = explain
	return o, nil
}

// started records in the ledger what run.start does not carry: the options given (as written,
// with their values: secrets never come from the command line) and the playbook's sha256, read
// now, as the run starts.
func (o *output) started(c *cli.Context, run, playbook string) {
	var flags []string
	for _, f := range c.Command.Flags {
		name := f.Names()[0]
		if !c.IsSet(name) {
			continue
		}
		if _, isBool := f.(*cli.BoolFlag); isBool {
			flags = append(flags, "--"+name)
		} else if name == "ledger" {
			flags = append(flags, "--ledger "+ledger.Redact(c.String(name))) // a URL may carry a password
		} else {
			flags = append(flags, fmt.Sprintf("--%s %v", name, c.Value(name)))
		}
	}
	s := ledger.Start{Flags: flags}
	if playbook != "" {
		if b, err := os.ReadFile(playbook); err == nil {
			s.PlaybookSHA256 = fmt.Sprintf("%x", sha256.Sum256(b))
		}
	}
	o.led.RecordStart(run, s)
}

// ended records the run's exit status and the last words main will print about it.
func (o *output) ended(run string, err error, retry string) {
	e := ledger.End{RetryFile: retry}
	if ee, ok := err.(*exitErr); ok {
		e.ExitCode = ee.code
		if ee.err != nil {
			e.Message = explain(ee.err)
		}
	} else if err != nil {
		e.ExitCode, e.Message = exitError, explain(err)
	}
	o.led.RecordEnd(run, e)
}

// close stops the progress view, writes the JUnit file and closes the ledger; a file that could
// not be written is an error.
func (o *output) close() error {
	if o.progress != nil {
		o.progress.stop()
	}
	var jerr error
	if o.junit != nil {
		jerr = writeJUnit(o.junitFile, o.junit)
	}
	if err := o.led.Close(); err != nil {
		return err
	}
	return jerr
}

// junitFlag is --junit FILE, which --output junit FILE is written as.
func junitFlag() cli.Flag {
	return &cli.StringFlag{Name: "junit", TakesFile: true, Usage: "also write the result as JUnit XML to `FILE` (same as --output junit FILE)"}
}

// writeJUnit writes the JUnit XML file, readable by its owner only: it holds the diffs.
func writeJUnit(path string, j *report.JUnit) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("--output junit: %w", err)
	}
	if err := j.Write(f); err != nil {
		f.Close()
		return fmt.Errorf("--output junit %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("--output junit %s: %w", path, err)
	}
	return nil
}

func (o *output) printf(format string, a ...any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	fmt.Fprintf(o.w, format, a...)
}

// printText renders events as the plain lines of frontdoor's text output.
func (o *output) printText(e fleet.Event) {
	switch e.Type {
	case fleet.RunStart:
		what := "apply " + e.Playbook
		if e.Command == "rollback" {
			what = "roll back run " + e.Undoes
		}
		var sizes []string
		n := 0
		for _, b := range e.Batches {
			sizes = append(sizes, fmt.Sprint(len(b)))
			n += len(b)
		}
		if len(e.Batches) > 1 {
			o.printf("run %s: %s on %d host(s) in %d batches of %s\n", e.Run, what, n, len(e.Batches), strings.Join(sizes, ", "))
		} else {
			o.printf("run %s: %s on %d host(s)\n", e.Run, what, n)
		}
	case fleet.BatchStart:
		if len(o.l.hosts) > len(e.Hosts) {
			o.printf("-- batch %d: %s\n", e.Batch, strings.Join(e.Hosts, ", "))
		}
	case fleet.HostPlan:
		// A second plan of a host is the whole apply after Apache was installed: new to the user.
		if o.plans[e.Host]++; !o.shown[e.Host] || o.plans[e.Host] > 1 {
			var b strings.Builder
			renderPlan(&b, e, o.verbose)
			o.printf("%s", b.String())
		}
	case fleet.HostProgress:
		if o.verbose {
			if e.Error != "" {
				o.printf("%s: %s: %s\n", e.Host, e.Step, e.Error)
			} else {
				o.printf("%s: %s\n", e.Host, e.Step)
			}
		}
	case fleet.HostDone:
		o.printHostDone(e)
	case fleet.HostRollback:
		switch e.Status {
		case fleet.StatusRolledBack:
			if e.Batch > 0 {
				o.printf("%s: ROLLED BACK (batch %d went over --max-fail), byte-exact\n", e.Host, e.Batch)
			} else {
				o.printf("%s: rolled back, byte-exact\n", e.Host)
			}
		case fleet.StatusNothing:
			if e.Step != "" {
				o.printf("%s: nothing to roll back: %s\n", e.Host, e.Step)
			} else {
				o.printf("%s: nothing to roll back: the run changed nothing here\n", e.Host)
			}
		default:
			o.printf("%s: %s: %s\n", e.Host, strings.ToUpper(e.Status), e.Error)
		}
	case fleet.BatchDone:
		if len(o.l.hosts) > e.Counts.Hosts || e.Status == fleet.RunStopped {
			o.printf("-- batch %d: %s%s\n", e.Batch, countsLine(e.Counts),
				map[bool]string{true: "; STOPPED: failures over --max-fail, later batches not started", false: ""}[e.Status == fleet.RunStopped])
		}
	case fleet.RunDone:
		o.printf("run %s: %s: %s\n", e.Run, strings.ToUpper(e.Status), countsLine(e.Counts))
	}
}

func countsLine(c *fleet.Counts) string {
	if c == nil {
		return ""
	}
	return fmt.Sprintf("%d host(s): %d ok, %d changed, %d failed, %d rolled back, %d not started", c.Hosts, c.OK, c.Changed, c.Failed, c.RolledBack, c.Skipped)
}

func (o *output) printHostDone(e fleet.Event) {
	d := time.Duration(e.DurationMS) * time.Millisecond
	switch {
	case e.Status == fleet.StatusSkipped:
		o.printf("%s: %s\n", e.Host, e.Error)
		return
	case e.Error != "" && e.RolledBack:
		o.printf("%s: FAILED, rolled back to where it was: %s\n", e.Host, e.Error)
		return
	case e.Error != "":
		o.printf("%s: FAILED: %s\n", e.Host, e.Error)
		return
	case e.Changed == 0:
		o.printf("%s: ok, no changes (nothing restarted) in %s\n", e.Host, d)
	default:
		o.printf("%s: ok, %d change(s) applied in %s\n", e.Host, e.Changed, d)
	}
	printVerified(o.printf, e.Host, e.Verified)
}

// printVerified says what was proved through the proxy and what the Base URL is.
func printVerified(printf func(string, ...any), host string, vs []fleet.Verified) {
	for _, v := range vs {
		if v.Node != "" {
			// A cluster's node, checked on itself (its balancer is another host).
			printf("%s: verified %s on the node itself, at %s through SSH (%s)\n", host, v.App, v.BaseURL, strings.Join(v.Chain, ", "))
			continue
		}
		printf("%s: verified %s through the proxy (%s)\n", host, v.BaseURL, strings.Join(v.Chain, ", "))
		switch {
		case v.Set:
			printf("%s: Base URL set to %s\n", host, v.AppBaseURL)
		case v.Manual:
			printf("%s: MANUAL CHECK: %s\n", host, v.Note)
		case v.Note != "":
			printf("%s: WARNING: %s\n", host, v.Note)
		default:
			printf("%s: Base URL is %s\n", host, v.AppBaseURL)
		}
	}
}

// recap prints one line per host at the end, sorted by name.
func (o *output) recap(res *fleet.Result) {
	if !o.text || len(res.Hosts) < 2 {
		return
	}
	hosts := append([]*fleet.HostResult(nil), res.Hosts...)
	sort.Slice(hosts, func(i, j int) bool { return hosts[i].Host < hosts[j].Host })
	o.printf("RECAP\n")
	for _, h := range hosts {
		rb := ""
		if h.RolledBack {
			rb = " rolled-back"
		}
		o.printf("  %-24s batch=%-3d %-8s changed=%d%s\n", h.Host, h.Batch, h.Status, h.Changed, rb)
	}
}

// progressView is the live view on a terminal: a bar per batch with its tallies, and a line per
// running host with the step it is on. Text lines are printed above it.
type progressView struct {
	p       *mpb.Progress
	mu      sync.Mutex
	batches map[int]*batchBar
	hosts   map[string]*hostLine
}

// The decorators run on mpb's goroutine, so what they read is atomic rather than under v.mu
// (which is held while bars are added).
type batchBar struct {
	bar                         *mpb.Bar
	changed, ok, failed, rolled atomic.Int32
	total                       int
}

type hostLine struct {
	bar  *mpb.Bar
	step atomic.Pointer[string]
}

// newProgressView draws on w, which must be a terminal unless always is set (tests).
func newProgressView(w io.Writer, always bool) *progressView {
	opts := []mpb.ContainerOption{mpb.WithOutput(w), mpb.WithWidth(30), mpb.WithRefreshRate(150 * time.Millisecond)}
	if always {
		opts = append(opts, mpb.WithAutoRefresh())
	}
	return &progressView{p: mpb.New(opts...), batches: map[int]*batchBar{}, hosts: map[string]*hostLine{}}
}

func (v *progressView) event(e fleet.Event) {
	v.mu.Lock()
	defer v.mu.Unlock()
	switch e.Type {
	case fleet.BatchStart:
		b := &batchBar{total: len(e.Hosts)}
		name := fmt.Sprintf("batch %d ", e.Batch)
		b.bar = v.p.AddBar(int64(b.total), mpb.BarPriority(e.Batch),
			mpb.PrependDecorators(decor.Name(name), decor.CountersNoUnit("%d/%d hosts")),
			mpb.AppendDecorators(decor.Any(func(decor.Statistics) string {
				return fmt.Sprintf(" %d changed · %d ok · %d failed · %d rolled back", b.changed.Load(), b.ok.Load(), b.failed.Load(), b.rolled.Load())
			})))
		v.batches[e.Batch] = b
	case fleet.HostProgress:
		h := v.hosts[e.Host]
		if h == nil {
			h = &hostLine{}
			name := sanitize(e.Host) // drawn straight to the terminal, past the safeWriter
			h.bar = v.p.AddSpinner(1, mpb.BarPriority(1000+len(v.hosts)), mpb.BarRemoveOnComplete(), mpb.BarWidth(1),
				mpb.PrependDecorators(decor.Name("  "+name+" ")),
				mpb.AppendDecorators(decor.Any(func(decor.Statistics) string {
					if s := h.step.Load(); s != nil {
						return " " + *s
					}
					return ""
				})))
			v.hosts[e.Host] = h
		}
		step := sanitize(e.Step)
		h.step.Store(&step)
	case fleet.HostDone, fleet.HostRollback:
		if h := v.hosts[e.Host]; h != nil && e.Type == fleet.HostDone {
			h.bar.SetTotal(1, true)
			delete(v.hosts, e.Host)
		}
		b := v.batches[e.Batch]
		if b == nil {
			return
		}
		switch {
		case e.Type == fleet.HostRollback:
			if e.Status == fleet.StatusRolledBack {
				b.rolled.Add(1)
			}
			return
		case e.Status == fleet.StatusChanged:
			b.changed.Add(1)
		case e.Status == fleet.StatusOK:
			b.ok.Add(1)
		case e.Status == fleet.StatusFailed:
			b.failed.Add(1)
		}
		if e.RolledBack {
			b.rolled.Add(1)
		}
		b.bar.Increment()
	case fleet.BatchDone:
		if b := v.batches[e.Batch]; b != nil {
			b.bar.SetTotal(-1, true)
		}
	}
}

func (v *progressView) stop() {
	v.mu.Lock()
	for _, h := range v.hosts {
		h.bar.Abort(true)
	}
	for _, b := range v.batches {
		if !b.bar.Completed() {
			b.bar.Abort(false)
		}
	}
	v.mu.Unlock()
	v.p.Wait()
}

// terminal is the terminal under w (through a safeWriter and a colorWriter), if it is one.
func terminal(w io.Writer) (*os.File, bool) {
	if s, ok := w.(safeWriter); ok {
		w = s.w
	}
	if c, ok := w.(*colorWriter); ok {
		w = c.w
	}
	f, ok := w.(*os.File)
	return f, ok && isatty.IsTerminal(f.Fd())
}
