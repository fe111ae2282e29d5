// Package props owns format-preserving edits of Java .properties files (Bitbucket 5+'s
// <home>/shared/bitbucket.properties). It sets keys by splicing only the value of the key's last
// active occurrence (the one java.util.Properties keeps), or appends a line; every other line,
// comment, commented-out duplicate, blank line, line ending and a missing final newline stay as
// they were. Edits are pure and idempotent.
package props

import (
	"bytes"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// entry is one active key=value logical line: byte offsets of its value (to the end of the
// logical line, line ending excluded).
type entry struct {
	key                  string
	valueStart, valueEnd int
	raw                  string // the value as written (continuations included)
	noSep                bool   // "key" alone: a value must be preceded by a separator
}

// parse finds the active entries, in order.
func parse(src []byte) []entry {
	var out []entry
	i := 0
	for i < len(src) {
		// One logical line: physical lines joined while a line ends with an odd number of '\'.
		start := i
		end := i
		// A comment is one natural line: java.util.Properties does not continue it with '\'.
		k := i
		for k < len(src) && isWS(src[k]) {
			k++
		}
		comment := k < len(src) && (src[k] == '#' || src[k] == '!')
		for {
			nl := bytes.IndexByte(src[end:], '\n')
			var lineEnd, next int
			if nl < 0 {
				lineEnd, next = len(src), len(src)
			} else {
				lineEnd, next = end+nl, end+nl+1
			}
			content := lineEnd
			if content > end && src[content-1] == '\r' {
				content--
			}
			bs := 0
			for k := content - 1; k >= end && src[k] == '\\'; k-- {
				bs++
			}
			if bs%2 == 1 && next < len(src) && !comment {
				end = next
				continue
			}
			end = content
			i = next
			break
		}
		if e, ok := parseLine(src, start, end); ok {
			out = append(out, e)
		}
	}
	return out
}

func isWS(c byte) bool { return c == ' ' || c == '\t' || c == '\f' }

func parseLine(src []byte, start, end int) (entry, bool) {
	j := start
	for j < end && isWS(src[j]) {
		j++
	}
	if j >= end || src[j] == '#' || src[j] == '!' || src[j] == '\r' || src[j] == '\n' {
		return entry{}, false
	}
	var key strings.Builder // as written; decoded like a value below (\uXXXX, \t, \=, ...)
	for j < end {
		c := src[j]
		if c == '\\' && j+1 < end {
			key.WriteByte(c)
			key.WriteByte(src[j+1])
			j += 2
			continue
		}
		if c == '=' || c == ':' || isWS(c) {
			break
		}
		key.WriteByte(c)
		j++
	}
	keyEnd := j
	// Separator: white space, then at most one '=' or ':', then white space.
	for j < end && isWS(src[j]) {
		j++
	}
	if j < end && (src[j] == '=' || src[j] == ':') {
		j++
	}
	for j < end && isWS(src[j]) {
		j++
	}
	return entry{key: Value(key.String()), valueStart: j, valueEnd: end, raw: string(src[j:end]), noSep: j == keyEnd}, true
}

// Value decodes a raw value: escapes and line continuations (with the next line's leading
// white space dropped). The file's bytes are ISO-8859-1, as java.util.Properties reads them;
// the result is text (UTF-8), \uXXXX escapes included.
func Value(raw string) string {
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' || i+1 >= len(raw) {
			b.WriteRune(rune(c))
			continue
		}
		i++
		switch raw[i] {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			// \uXXXX, as java.util.Properties reads it.
			if i+4 < len(raw) {
				if n, err := strconv.ParseUint(raw[i+1:i+5], 16, 16); err == nil {
					b.WriteRune(rune(n))
					i += 4
					continue
				}
			}
			b.WriteByte('u')
		case '\r', '\n':
			if raw[i] == '\r' && i+1 < len(raw) && raw[i+1] == '\n' {
				i++
			}
			for i+1 < len(raw) && isWS(raw[i+1]) {
				i++
			}
		default:
			b.WriteRune(rune(raw[i]))
		}
	}
	return b.String()
}

func escape(v string) string {
	v = strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\f", `\f`).Replace(v)
	// A leading space, '=' or ':' would be taken as part of the separator.
	if strings.HasPrefix(v, " ") || strings.HasPrefix(v, "=") || strings.HasPrefix(v, ":") {
		v = `\` + v
	}
	return v
}

// Get returns the value of key's last active occurrence.
func Get(src []byte, key string) (string, bool) {
	es := parse(src)
	for i := len(es) - 1; i >= 0; i-- {
		if es[i].key == key {
			return Value(es[i].raw), true
		}
	}
	return "", false
}

// keyRe is the keys frontdoor writes (server.proxy-name and the like): no escaping needed.
var keyRe = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

// Pair is one key to set.
type Pair struct{ Key, Value string }

// Set returns src with each key set to its value, changing only what differs.
func Set(src []byte, pairs []Pair) ([]byte, error) {
	lf := bytes.ReplaceAll(src, []byte("\r\n"), []byte("\n"))
	if i := bytes.IndexByte(lf, '\r'); i >= 0 {
		return nil, fmt.Errorf("line %d has a bare carriage return (old Mac line ending): frontdoor does not edit such a file; convert it to LF or CRLF first",
			bytes.Count(lf[:i], []byte("\n"))+1)
	}
	es := parse(src)
	type splice struct {
		start, end int
		text       string
	}
	var edits []splice
	var appended []string
	for _, p := range pairs {
		if !keyRe.MatchString(p.Key) || strings.ContainsAny(p.Value, "\r\n") {
			return nil, fmt.Errorf("cannot write %q=%q as a properties line", p.Key, p.Value)
		}
		found := -1
		for i := len(es) - 1; i >= 0; i-- {
			if es[i].key == p.Key {
				found = i
				break
			}
		}
		switch {
		case found < 0:
			appended = append(appended, p.Key+"="+escape(p.Value))
		case Value(es[found].raw) != p.Value:
			text := escape(p.Value)
			if es[found].noSep {
				text = "=" + text
			}
			edits = append(edits, splice{es[found].valueStart, es[found].valueEnd, text})
		}
	}
	if len(edits) == 0 && len(appended) == 0 {
		return src, nil
	}
	var out bytes.Buffer
	last := 0
	sort.Slice(edits, func(i, j int) bool { return edits[i].start < edits[j].start })
	for _, e := range edits {
		out.Write(src[last:e.start])
		out.WriteString(e.text)
		last = e.end
	}
	out.Write(src[last:])
	if len(appended) > 0 {
		nl := "\n"
		if bytes.Contains(src, []byte("\r\n")) {
			nl = "\r\n"
		}
		endsWithNL := len(src) == 0 || src[len(src)-1] == '\n'
		body := bytes.TrimSuffix(bytes.TrimSuffix(src, []byte("\n")), []byte("\r"))
		if trail := len(body) - len(bytes.TrimRight(body, "\\")); trail%2 == 1 {
			return nil, fmt.Errorf("the last line ends with a '\\' (a continuation with nothing after it): fix the file before frontdoor appends to it")
		}
		if !endsWithNL {
			// Keep the file's missing final newline: break before our lines, not after the last.
			out.WriteString(nl + strings.Join(appended, nl))
		} else {
			out.WriteString(strings.Join(appended, nl) + nl)
		}
	}
	return out.Bytes(), nil
}
