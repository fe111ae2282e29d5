package steps

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"regexp"
	"strconv"
	"strings"

	"github.com/aymanbagabas/go-udiff"
	"github.com/frontdoor-dev/frontdoor/target"
)

// FileStep makes a file hold what Edit returns for its current content. Current is the file as
// gathered with the facts; Apply re-reads it and refuses if it changed since (someone else is
// editing it), records the original bytes, mode and owner, then writes atomically.
type FileStep struct {
	Label   string
	Current target.File
	// Edit returns the desired content from the current one (nil when the file does not exist).
	// A nil result means the file must not exist: an existing one is deleted.
	Edit func(current []byte) ([]byte, error)
	// NewMode, NewUID, NewGID apply when the file is created.
	NewMode        fs.FileMode
	NewUID, NewGID int
	// Owned makes NewMode, NewUID and NewGID apply to an existing file too (a private key must
	// stay 0600 root's even if someone loosened it): a difference is a change.
	Owned  bool
	Notify []string
	Reason string // said when nothing changes, e.g. "server.xml already proxied"
	// Describe, when set, says what a content is instead of showing it: a private key (plans,
	// events, the ledger and reports get its words, never the bytes) or a certificate (whose
	// PEM body tells a reader nothing).
	Describe func(content []byte) string
}

// wrongOwner says an existing file's mode or owner is not the one the step keeps (Owned).
func (s *FileStep) wrongOwner() bool {
	return s.Current.Mode.Perm() != s.NewMode.Perm() || s.Current.UID != s.NewUID || s.Current.GID != s.NewGID
}

// diff is the change's diff, or for a described file what the old and new contents are.
func (s *FileStep) diff(old, new []byte) string {
	if s.Describe == nil {
		return Diff(s.Current.Path, old, new)
	}
	d := "--- a" + s.Current.Path + "\n+++ b" + s.Current.Path + "\n"
	if old != nil {
		d += "-" + s.Describe(old) + "\n"
	}
	if new != nil {
		d += "+" + s.Describe(new) + "\n"
	}
	return d
}

func (s *FileStep) Name() string       { return s.Label }
func (s *FileStep) Triggers() []string { return s.Notify }

func (s *FileStep) desired() ([]byte, error) {
	var cur []byte
	if s.Current.Exists {
		cur = s.Current.Data
	}
	out, err := s.Edit(cur)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.Current.Path, err)
	}
	return out, nil
}

func (s *FileStep) Check(ctx context.Context, h target.Host) (Change, error) {
	want, err := s.desired()
	if err != nil {
		return Change{}, err
	}
	if want == nil {
		if !s.Current.Exists {
			return Change{Action: NoOp, Summary: s.Current.Path + " is already absent"}, nil
		}
		return Change{Action: Delete, Summary: "delete " + s.Current.Path, Diff: s.diff(s.Current.Data, nil)}, nil
	}
	if s.Owned && s.Current.Exists && bytes.Equal(want, s.Current.Data) && s.wrongOwner() {
		return Change{Action: Update, Summary: fmt.Sprintf("set %s to mode %04o, owner %d:%d (it is %04o, %d:%d)", s.Current.Path,
			uint32(s.NewMode), s.NewUID, s.NewGID, uint32(s.Current.Mode.Perm()), s.Current.UID, s.Current.GID)}, nil
	}
	if s.Current.Exists && bytes.Equal(want, s.Current.Data) {
		reason := s.Reason
		if reason == "" {
			reason = s.Current.Path + " is already right"
		}
		return Change{Action: NoOp, Summary: reason}, nil
	}
	ch := Change{Action: Update, Summary: "edit " + s.Current.Path}
	if !s.Current.Exists {
		ch = Change{Action: Create, Summary: "create " + s.Current.Path}
	}
	var old []byte
	if s.Current.Exists {
		old = s.Current.Data
	}
	ch.Diff = s.diff(old, want)
	return ch, nil
}

func (s *FileStep) Apply(ctx context.Context, h target.Host, j *Journal) error {
	want, err := s.desired()
	if err != nil {
		return err
	}
	live, err := h.ReadFile(ctx, s.Current.Path)
	if err != nil {
		return fmt.Errorf("re-read %s before writing: %w", s.Current.Path, err)
	}
	if live.Exists != s.Current.Exists || sha256.Sum256(live.Data) != sha256.Sum256(s.Current.Data) {
		return fmt.Errorf("%s changed on the host since the plan was made; run plan again", s.Current.Path)
	}
	if err := j.RecordFile(ctx, live, want); err != nil {
		return err
	}
	if want == nil {
		if err := h.Remove(ctx, s.Current.Path); err != nil {
			return fmt.Errorf("delete %s: %w", s.Current.Path, err)
		}
		return nil
	}
	f := target.File{Path: s.Current.Path, Exists: true, Data: want, Mode: live.Mode, UID: live.UID, GID: live.GID}
	if !live.Exists || s.Owned {
		f.Mode, f.UID, f.GID = s.NewMode, s.NewUID, s.NewGID
	}
	if err := h.WriteFile(ctx, f); err != nil {
		return fmt.Errorf("write %s: %w", s.Current.Path, err)
	}
	return nil
}

// Diff renders a unified diff of a file's old and new content ("" when equal), with secrets
// masked: plans, the ledger and JSON events show diffs, and a changed line's neighbours in
// bitbucket.properties or server.xml are often a database or keystore password.
func Diff(path string, old, new []byte) string {
	return redact(fixHunks(udiff.Unified("a"+path, "b"+path, string(old), string(new))))
}

var hunkRe = regexp.MustCompile(`(?m)^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@`)

// fixHunks recomputes each hunk's start line in the new file from the old start and the lines
// the hunks before it added or removed: go-udiff v0.4.1 leaves the equal lines between two edits
// of one hunk out of its count, so after such a hunk every new-file line number is too small.
func fixHunks(d string) string {
	delta := 0
	return hunkRe.ReplaceAllStringFunc(d, func(h string) string {
		m := hunkRe.FindStringSubmatch(h)
		num := func(s string, def int) int {
			if s == "" {
				return def
			}
			n, _ := strconv.Atoi(s)
			return n
		}
		a, b, d := num(m[1], 0), num(m[2], 1), num(m[4], 1)
		c := a + delta
		switch {
		case b == 0:
			c++ // lines inserted after old line a
		case d == 0:
			c-- // lines deleted after new line c
		}
		delta += d - b
		out := fmt.Sprintf("@@ -%d", a)
		if m[2] != "" {
			out += "," + m[2]
		}
		out += fmt.Sprintf(" +%d", c)
		if m[4] != "" {
			out += "," + m[4]
		}
		return out + " @@"
	})
}

// secretWord is what names a secret in a key, an attribute or an element.
const secretWord = `(?:password|passwd|pwd|secret|token|credential)`

var (
	// key=value, key: value or key value (.properties allows each) where the key names a secret;
	// a diff line's first character (' ', '+', '-') may come first.
	secretKV = regexp.MustCompile(`(?i)^([ +-]?[ \t]*[^\s=:#!<]*` + secretWord + `[^\s=:]*(?:[ \t]*[=:][ \t]*|[ \t]+))(\S.*?)(\r?)$`)
	// name="value" attributes naming a secret (server.xml's keystorePass, a Resource's password).
	secretAttr = regexp.MustCompile(`(?i)(\b[A-Za-z_.-]*(?:pass|` + secretWord[3:len(secretWord)-1] + `)[A-Za-z_.-]*\s*=\s*)("[^"]*"|'[^']*')`)
	// <password>value</password> and the like.
	secretElem = regexp.MustCompile(`(?i)(<([A-Za-z_.:-]*` + secretWord + `[A-Za-z_.:-]*)>)([^<]*)(</[A-Za-z_.:-]*>)`)
	// password=value inside another value: a JDBC URL's query, Fisheye's jdbc-url attribute.
	secretParam = regexp.MustCompile(`(?i)(\b` + secretWord + `=)([^&;\s"'<>]+)`)
)

// Redact masks secrets in text as diffs are masked when they are made; the report masks the
// diffs it shows again with it, so a ledger written before a pattern was added shows none either.
func Redact(text string) string { return redact(text) }

// redact masks secrets in text (a diff or a file): values of secret-looking keys (and the lines
// a backslash continues them on), attributes, elements, and password= inside values.
func redact(text string) string {
	lines := strings.SplitAfter(text, "\n")
	continued := false
	for i, line := range lines {
		body := strings.TrimRight(line, "\r\n")
		end := line[len(body):]
		switch {
		case continued:
			// A continuation line of a secret: keep the diff marker, mask the rest.
			marker := ""
			if body != "" && strings.ContainsRune(" +-", rune(body[0])) {
				marker, body = body[:1], body[1:]
			}
			continued = continues(body)
			lines[i] = marker + "********" + end
			continue
		case secretKV.MatchString(body):
			continued = continues(body)
			body = secretKV.ReplaceAllString(body, "${1}********${3}")
		}
		body = secretElem.ReplaceAllString(body, "${1}********${4}")
		body = secretParam.ReplaceAllString(body, "${1}********")
		body = secretAttr.ReplaceAllStringFunc(body, func(m string) string {
			sub := secretAttr.FindStringSubmatch(m)
			q := sub[2][:1]
			return sub[1] + q + "********" + q
		})
		lines[i] = body + end
	}
	return strings.Join(lines, "")
}

// continues says whether a .properties line goes on on the next one (an odd number of trailing
// backslashes).
func continues(line string) bool {
	n := len(line) - len(strings.TrimRight(line, "\\"))
	return n%2 == 1
}
