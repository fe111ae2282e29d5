package main

import (
	"bytes"
	"io"
	"os"
	"regexp"

	"github.com/urfave/cli/v2"
)

// colorWriter colours frontdoor's own lines on a terminal: diff lines, plan markers and host
// statuses. It sits below the safeWriter (safeWriter{&colorWriter{terminal}}), so the host text it
// sees has already lost its control characters: the only escape sequences reaching the terminal
// are the colours added here.
type colorWriter struct {
	w       io.Writer
	midLine bool // the last write ended inside a line: its colour was decided then
}

const (
	sgrReset  = "\x1b[0m"
	sgrBold   = "\x1b[1m"
	sgrRed    = "\x1b[31m"
	sgrGreen  = "\x1b[32m"
	sgrYellow = "\x1b[33m"
	sgrCyan   = "\x1b[36m"
)

// lineColors: the first match colours the line. Diffs are indented six spaces under their change.
var lineColors = []struct {
	re  *regexp.Regexp
	sgr string
}{
	{regexp.MustCompile(`^ {6}(\+\+\+|---) `), sgrBold},
	{regexp.MustCompile(`^ {6}\+`), sgrGreen},
	{regexp.MustCompile(`^ {6}-`), sgrRed},
	{regexp.MustCompile(`^ {6}@@`), sgrCyan},
	{regexp.MustCompile(`^== `), sgrBold},
	{regexp.MustCompile(`^  \+ `), sgrGreen},
	{regexp.MustCompile(`^  - `), sgrRed},
	{regexp.MustCompile(`^  [~!] `), sgrYellow},
	{regexp.MustCompile(`^[^ ].*?: (FAILED|ROLLBACK-FAILED|ERROR|REFUSED)\b|^== .*: ERROR:|^run \S+: (FAILED|STOPPED|INTERRUPTED)`), sgrRed},
	{regexp.MustCompile(`(^|  |: )(WARNING|MANUAL CHECK):|^[^ ].*?: (rolled back|ROLLED BACK)\b`), sgrYellow},
	{regexp.MustCompile(`^[^ ].*?: (ok,|verified )|^run \S+: OK:`), sgrGreen},
}

func (c *colorWriter) Write(p []byte) (int, error) {
	var b bytes.Buffer
	for _, line := range bytes.SplitAfter(p, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		body, nl := bytes.CutSuffix(line, []byte("\n"))
		sgr := ""
		if !c.midLine {
			for _, lc := range lineColors {
				if lc.re.Match(body) {
					sgr = lc.sgr
					break
				}
			}
		}
		if sgr != "" && len(body) > 0 {
			b.WriteString(sgr)
			b.Write(body)
			b.WriteString(sgrReset)
		} else {
			b.Write(body)
		}
		if nl {
			b.WriteByte('\n')
		}
		c.midLine = !nl
	}
	if _, err := c.w.Write(b.Bytes()); err != nil {
		return 0, err
	}
	return len(p), nil
}

func noColorFlag() cli.Flag {
	return &cli.BoolFlag{Name: "no-color", Usage: "no colours, even on a terminal (as NO_COLOR=1 does)"}
}

// useColor says whether output to w is coloured: on a terminal, unless --no-color, NO_COLOR (set
// and not empty, as no-color.org says) or TERM=dumb.
func useColor(w io.Writer, noColor bool) bool {
	if noColor || os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	_, ok := terminal(w)
	return ok
}

// colorBefore colours the app's standard output when useColor says so.
func colorBefore(c *cli.Context) error {
	if s, ok := c.App.Writer.(safeWriter); ok && useColor(s, c.Bool("no-color")) {
		c.App.Writer = safeWriter{&colorWriter{w: s.w}}
	}
	return nil
}

// colored says w already colours its lines (then a writer standing in for it, the live view's, does too).
func colored(w io.Writer) bool {
	s, ok := w.(safeWriter)
	if !ok {
		return false
	}
	_, ok = s.w.(*colorWriter)
	return ok
}
