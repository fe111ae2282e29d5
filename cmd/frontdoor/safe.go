package main

import (
	"bytes"
	"io"
	"strings"
	"unicode/utf8"
)

// safeWriter strips control characters from what it writes. Host-controlled text reaches the
// operator's terminal through it (a command's stderr, a file's diff, os-release's name, a lock's
// holder), and must not move the cursor, retitle the window or hide lines with escape sequences.
// Newlines and tabs pass; a carriage return passes only before a newline (CRLF files' diffs).
type safeWriter struct{ w io.Writer }

func (s safeWriter) Write(p []byte) (int, error) {
	if clean(p) {
		return s.w.Write(p)
	}
	var b bytes.Buffer
	for i := 0; i < len(p); {
		r, n := utf8.DecodeRune(p[i:])
		switch {
		case r == '\n' || r == '\t' || (r == '\r' && i+1 < len(p) && p[i+1] == '\n'):
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
			b.WriteString("?")
		case r == utf8.RuneError && n == 1:
			b.WriteString("?")
		default:
			b.Write(p[i : i+n])
		}
		i += n
	}
	if _, err := s.w.Write(b.Bytes()); err != nil {
		return 0, err
	}
	return len(p), nil
}

// sanitize is a string as a safeWriter would write it.
func sanitize(s string) string {
	var b strings.Builder
	safeWriter{&b}.Write([]byte(s))
	return b.String()
}

// clean says p has nothing to strip (the common case, written as is).
func clean(p []byte) bool {
	for i, c := range p {
		if (c < 0x20 && c != '\n' && c != '\t' && !(c == '\r' && i+1 < len(p) && p[i+1] == '\n')) || c == 0x7f || c >= 0x80 {
			return false
		}
	}
	return true
}
