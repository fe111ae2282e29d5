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
	key string
	// keyRaw and valueRaw are the key and value as written, continuations joined (logical).
	keyRaw, valueRaw     string
	keyStart             int
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
				if len(bytes.Trim(src[start:content-1], " \t\f")) == 0 {
					// Nothing before the continuation: the logical line is still empty, and
					// java.util.Properties starts it afresh, a comment included, on the next line.
					start = next
					k := next
					for k < len(src) && isWS(src[k]) {
						k++
					}
					comment = k < len(src) && (src[k] == '#' || src[k] == '!')
				}
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

// logical is a logical line as java.util.Properties's LineReader makes it before reading key and
// value: each continuation (an unescaped '\\' ending a physical line) dropped with the line break
// and the next line's leading white space. at[k] is the offset in src of the logical byte k.
func logical(src []byte, start, end int) (line []byte, at []int) {
	for i := start; i < end; i++ {
		if src[i] == '\\' && i+1 < end {
			if src[i+1] == '\r' || src[i+1] == '\n' {
				i++
				if src[i] == '\r' && i+1 < end && src[i+1] == '\n' {
					i++
				}
				for i+1 < end && isWS(src[i+1]) {
					i++
				}
				continue
			}
			line, at = append(line, src[i], src[i+1]), append(at, i, i+1) // an escape pair
			i++
			continue
		}
		line, at = append(line, src[i]), append(at, i)
	}
	return line, at
}

func parseLine(src []byte, start, end int) (entry, bool) {
	line, at := logical(src, start, end)
	j := 0
	for j < len(line) && isWS(line[j]) {
		j++
	}
	if j >= len(line) || line[j] == '#' || line[j] == '!' || line[j] == '\r' || line[j] == '\n' {
		return entry{}, false
	}
	keyStart := j
	for j < len(line) {
		c := line[j]
		if c == '\\' && j+1 < len(line) {
			j += 2
			continue
		}
		if c == '=' || c == ':' || isWS(c) {
			break
		}
		j++
	}
	keyEnd := j
	// Separator: white space, then at most one '=' or ':', then white space.
	for j < len(line) && isWS(line[j]) {
		j++
	}
	if j < len(line) && (line[j] == '=' || line[j] == ':') {
		j++
	}
	for j < len(line) && isWS(line[j]) {
		j++
	}
	valueStart := end // an empty value: where the logical line ends in src
	if j < len(line) {
		valueStart = at[j]
	}
	return entry{key: Value(string(line[keyStart:keyEnd])), keyRaw: string(line[keyStart:keyEnd]), valueRaw: string(line[j:]),
		keyStart: at[keyStart], valueStart: valueStart, valueEnd: end, raw: string(src[valueStart:end]), noSep: j == keyEnd}, true
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

// Check refuses what java.util.Properties refuses to load: a \u escape not followed by four hex
// digits, in a key or a value ("Malformed \uxxxx encoding"; Bitbucket would not start).
func Check(src []byte) error {
	for _, e := range parse(src) {
		for _, raw := range []string{e.keyRaw, e.valueRaw} {
			for i := 0; i < len(raw); i++ {
				if raw[i] != '\\' || i+1 >= len(raw) {
					continue
				}
				i++
				if raw[i] != 'u' {
					continue
				}
				if !isHex4([]byte(raw[i+1 : min(i+5, len(raw))])) {
					return fmt.Errorf("line %d: %q is not a \\uXXXX escape (four hex digits): java.util.Properties refuses the file, so Bitbucket would not start; fix it",
						bytes.Count(src[:e.keyStart], []byte("\n"))+1, raw[i-1:min(i+5, len(raw))])
				}
				i += 4
			}
		}
	}
	return nil
}

func isHex4(b []byte) bool {
	if len(b) != 4 {
		return false
	}
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// Get returns the value of key's last active occurrence.
func Get(src []byte, key string) (string, bool) {
	es := parse(src)
	for i := len(es) - 1; i >= 0; i-- {
		if es[i].key == key {
			return Value(es[i].valueRaw), true
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
	if err := Check(src); err != nil {
		return nil, err
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
		case Value(es[found].valueRaw) != p.Value:
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
