package xmledit

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"
)

// Attr is one attribute of a start tag, with the byte offsets of its name and of its value
// (between the quotes) in the document.
type Attr struct {
	Name                 string
	NameStart, NameEnd   int
	ValueStart, ValueEnd int
	Quote                byte
	Raw                  string // the value as written, entities not decoded
}

// Value is the attribute value with entity and character references decoded.
func (a Attr) Value() string { return unescape(a.Raw) }

// Element is one start tag found outside comments, with its ancestors' names.
type Element struct {
	Name      string
	Path      []string // names of the ancestors, outermost first
	Parents   []int    // their indices in Doc.Elements, outermost first
	Start     int      // offset of '<'
	AttrsEnd  int      // offset just after the last attribute (or the name, when none)
	TagEnd    int      // offset of the closing "/>" or ">"
	SelfClose bool
	Attrs     []Attr
}

// Attr returns the attribute called name, if present.
func (e *Element) Attr(name string) (Attr, bool) {
	for _, a := range e.Attrs {
		if a.Name == name {
			return a, true
		}
	}
	return Attr{}, false
}

// Doc is a scanned document: the original bytes and every element outside comments.
type Doc struct {
	Src      []byte
	Elements []*Element
	newlines []int // offsets of the '\n's, for Line
}

// Line returns the 1-based line number of a byte offset, for error messages.
func (d *Doc) Line(off int) int {
	if d.newlines == nil { // once: a file with thousands of elements asks for many lines
		d.newlines = []int{}
		for i, c := range d.Src {
			if c == '\n' {
				d.newlines = append(d.newlines, i)
			}
		}
	}
	return sort.SearchInts(d.newlines, off) + 1
}

// Ancestor returns the nearest ancestor of el called name, or nil.
func (d *Doc) Ancestor(el *Element, name string) *Element {
	for k := len(el.Parents) - 1; k >= 0; k-- {
		if p := d.Elements[el.Parents[k]]; p.Name == name {
			return p
		}
	}
	return nil
}

// Parse checks that src is well-formed XML and scans its elements. Errors name the line.
func Parse(src []byte) (*Doc, error) {
	if err := wellFormed(src); err != nil {
		return nil, err
	}
	d := &Doc{Src: src}
	var stack []string
	var parents []int
	doctype := false
	entities := declaredEntities(src)
	i := 0
	for i < len(src) {
		lt := bytes.IndexByte(src[i:], '<')
		if lt < 0 {
			break
		}
		i += lt
		rest := src[i:]
		switch {
		case bytes.HasPrefix(rest, []byte("<!--")):
			end := bytes.Index(rest[4:], []byte("-->"))
			if end < 0 {
				return nil, fmt.Errorf("line %d: comment is not closed", d.Line(i))
			}
			i += 4 + end + 3
		case bytes.HasPrefix(rest, []byte("<![CDATA[")):
			end := bytes.Index(rest, []byte("]]>"))
			if end < 0 {
				return nil, fmt.Errorf("line %d: CDATA section is not closed", d.Line(i))
			}
			i += end + 3
		case bytes.HasPrefix(rest, []byte("<?")):
			end := bytes.Index(rest, []byte("?>"))
			if end < 0 {
				return nil, fmt.Errorf("line %d: processing instruction is not closed", d.Line(i))
			}
			if !piTargetOK(rest, end) {
				return nil, fmt.Errorf("line %d: not well-formed XML: a processing instruction's target must be a name followed by a space", d.Line(i))
			}
			i += end + 2
		case bytes.HasPrefix(rest, []byte("<!")):
			// Only one DOCTYPE, before the root element; <! starts nothing else outside comments
			// and CDATA (encoding/xml takes any <!...> as a directive anywhere).
			if !bytes.HasPrefix(rest, []byte("<!DOCTYPE")) || len(d.Elements) > 0 || doctype {
				return nil, fmt.Errorf("line %d: not well-formed XML: %q is not allowed here", d.Line(i), rest[:min(len(rest), 12)])
			}
			doctype = true
			n := skipDecl(rest)
			if err := checkDoctype(rest[:n]); err != nil {
				return nil, fmt.Errorf("line %d: not well-formed XML: %w", d.Line(i), err)
			}
			i += n
		case bytes.HasPrefix(rest, []byte("</")):
			end := bytes.IndexByte(rest, '>')
			if end < 0 {
				return nil, fmt.Errorf("line %d: end tag is not closed", d.Line(i))
			}
			if len(stack) > 0 {
				stack, parents = stack[:len(stack)-1], parents[:len(parents)-1]
			}
			i += end + 1
		default:
			el, next, err := scanStartTag(src, i)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", d.Line(i), err)
			}
			el.Path = append([]string(nil), stack...)
			el.Parents = append([]int(nil), parents...)
			seen := map[string]bool{}
			for _, a := range el.Attrs {
				for _, m := range entityRef.FindAllStringSubmatch(a.Raw, -1) {
					if strings.Contains(entities[m[1]], "<") {
						return nil, fmt.Errorf("line %d: attribute %s of <%s> uses &%s;, whose text contains '<': Tomcat refuses this file", d.Line(i), a.Name, el.Name, m[1])
					}
				}
				if seen[a.Name] {
					// encoding/xml lets this through; Tomcat's parser (Xerces) rejects the file.
					return nil, fmt.Errorf("line %d: attribute %s appears twice in <%s>: Tomcat refuses this file; remove one", d.Line(i), a.Name, el.Name)
				}
				seen[a.Name] = true
			}
			d.Elements = append(d.Elements, el)
			if !el.SelfClose {
				stack, parents = append(stack, el.Name), append(parents, len(d.Elements)-1)
			}
			i = next
		}
	}
	return d, nil
}

// charsetReader reads the encodings Tomcat's server.xml is found in: UTF-8 and US-ASCII as they
// are, ISO-8859-1 (and windows-1252's superset of it) decoded byte by byte; frontdoor only
// splices ASCII into the original bytes, so the file keeps its encoding. UTF-16 is refused.
func charsetReader(label string, r io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return r, nil
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "windows-1252", "cp1252":
		b, err := io.ReadAll(r)
		if err != nil {
			return nil, err
		}
		runes := make([]rune, len(b))
		for i, c := range b {
			runes[i] = rune(c)
		}
		return strings.NewReader(string(runes)), nil
	case "utf-16", "utf-16le", "utf-16be":
		return nil, errUTF16
	}
	return nil, fmt.Errorf("encoding %q is not supported: convert the file to UTF-8 or ISO-8859-1", label)
}

var errUTF16 = errors.New("UTF-16 is not supported: convert the file to UTF-8")

// ErrUnsupportedDTD is a DOCTYPE frontdoor does not read as Tomcat would (attribute defaults,
// element, notation, parameter or external entity declarations): the file is refused, not guessed.
var ErrUnsupportedDTD = errors.New("unsupported DOCTYPE")

var entityRef = regexp.MustCompile(`&([A-Za-z_:][-A-Za-z0-9._:]*);`)

var entityDecl = regexp.MustCompile(`<!ENTITY\s+([A-Za-z_:][-A-Za-z0-9._:]*)\s+(?:"([^"]*)"|'([^']*)')\s*>`)

// declaredEntities returns the general entities of the document's internal DTD subset.
func declaredEntities(src []byte) map[string]string {
	out := map[string]string{}
	start, end, ok := doctypeSpan(src)
	if !ok {
		return out
	}
	subset := src[start:end]
	for _, m := range entityDecl.FindAllSubmatch(subset, -1) {
		out[string(m[1])] = string(m[2]) + string(m[3])
	}
	return out
}

// xmlDecl is the XML declaration as the spec allows it: version, then optionally encoding and
// standalone, in that order.
var xmlDecl = regexp.MustCompile(`^<\?xml[ \t\r\n]+version[ \t\r\n]*=[ \t\r\n]*("1\.[0-9]+"|'1\.[0-9]+')` +
	`(?:[ \t\r\n]+encoding[ \t\r\n]*=[ \t\r\n]*("[A-Za-z][A-Za-z0-9._-]*"|'[A-Za-z][A-Za-z0-9._-]*'))?` +
	`(?:[ \t\r\n]+standalone[ \t\r\n]*=[ \t\r\n]*("(?:yes|no)"|'(?:yes|no)'))?[ \t\r\n]*\?>`)

// strictXML refuses what encoding/xml lets through but the XML spec, and so Tomcat's parser, do
// not (each found by comparing with the JDK's parser on generated files): a malformed XML
// declaration or one not at the very start, bytes that are not UTF-8 in a file that is UTF-8,
// "--" inside a comment.
func strictXML(src []byte) error {
	body := bytes.TrimPrefix(src, []byte{0xEF, 0xBB, 0xBF})
	enc := ""
	if bytes.HasPrefix(body, []byte("<?xml")) && len(body) > 5 && (isSpace(body[5]) || body[5] == '?') {
		m := xmlDecl.FindSubmatch(body)
		if m == nil {
			end := bytes.Index(body, []byte("?>"))
			if end < 0 {
				end = min(len(body), 60)
			}
			return fmt.Errorf("line 1: the XML declaration %q is not well-formed (<?xml version=\"1.0\" encoding=\"UTF-8\"?>)", body[:end+2*btoi(end < len(body))])
		}
		enc = strings.ToLower(strings.Trim(string(m[2]), `"'`))
		body = body[len(m[0]):]
	}
	switch enc {
	case "", "utf-8", "utf8", "us-ascii", "ascii":
		if !utf8.Valid(src) {
			bad := 0
			for bad < len(src) {
				r, n := utf8.DecodeRune(src[bad:])
				if r == utf8.RuneError && n <= 1 {
					break
				}
				bad += n
			}
			return fmt.Errorf("line %d: byte 0x%02X is not UTF-8, which the file is in (by its declaration or by default): save it as UTF-8, or declare its encoding (<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>)",
				bytes.Count(src[:bad], []byte("\n"))+1, src[bad])
		}
	}
	return nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// wellFormed uses encoding/xml as the judge of well-formedness, with strictXML's additions, so
// the scanner may assume it.
func wellFormed(src []byte) error {
	if bytes.HasPrefix(src, []byte{0xFE, 0xFF}) || bytes.HasPrefix(src, []byte{0xFF, 0xFE}) {
		return errUTF16
	}
	if err := strictXML(src); err != nil {
		return fmt.Errorf("not well-formed XML: %w", err)
	}
	dec := xml.NewDecoder(bytes.NewReader(blankDoctype(src)))
	dec.Strict = true
	// The entities the DOCTYPE declares, and no others: Tomcat's parser refuses an undeclared
	// &nbsp; as it refuses any undeclared entity.
	dec.Entity = declaredEntities(src)
	dec.CharsetReader = charsetReader
	roots := 0
	depth := 0
	started := false // a token other than the BOM was read
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("not well-formed XML: %w", err)
		}
		wasStarted := started
		started = true
		switch tok := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
			}
			depth++
		case xml.EndElement:
			depth--
		case xml.ProcInst:
			if strings.EqualFold(tok.Target, "xml") && wasStarted {
				line, _ := dec.InputPos()
				return fmt.Errorf("not well-formed XML: line %d: an XML declaration (<?xml ...?>) is allowed only at the very start of the file", line)
			}
		case xml.CharData:
			if len(bytes.Trim(tok, "\ufeff")) == 0 && !wasStarted {
				started = false // the BOM alone
				continue
			}
			if depth == 0 && len(bytes.TrimLeft(tok, " \t\r\n")) > 0 {
				line, _ := dec.InputPos()
				return fmt.Errorf("not well-formed XML: line %d: text outside the root element", line)
			}
		case xml.Comment:
			if bytes.Contains(tok, []byte("--")) || bytes.HasSuffix(tok, []byte("-")) {
				line, _ := dec.InputPos()
				return fmt.Errorf("not well-formed XML: line %d: \"--\" inside a comment (the comment ends at the first \"-->\")", line)
			}
		}
	}
	if roots != 1 {
		return fmt.Errorf("not well-formed XML: %d root elements", roots)
	}
	return nil
}

// blankDoctype returns src with its DOCTYPE (if any) turned into spaces, line breaks kept:
// encoding/xml misreads an internal subset with a processing instruction holding '>' (found by
// the JDK oracle), and frontdoor checks the DOCTYPE itself (checkDoctype) and reads its entities
// (declaredEntities).
func blankDoctype(src []byte) []byte {
	start, end, ok := doctypeSpan(src)
	if !ok {
		return src
	}
	out := append([]byte(nil), src...)
	for k := start; k < end; k++ {
		if out[k] != '\n' && out[k] != '\r' {
			out[k] = ' '
		}
	}
	return out
}

// doctypeSpan finds the document's DOCTYPE: in the prolog, after white space, comments and
// processing instructions only (a "<!DOCTYPE" inside a comment is text).
func doctypeSpan(src []byte) (start, end int, ok bool) {
	i := 0
	for i < len(src) {
		rest := src[i:]
		switch {
		case isSpace(rest[0]):
			i++
			continue
		case i == 0 && bytes.HasPrefix(rest, []byte{0xEF, 0xBB, 0xBF}): // the BOM
			i += 3
			continue
		case bytes.HasPrefix(rest, []byte("<!--")):
			e := bytes.Index(rest[4:], []byte("-->"))
			if e < 0 {
				return 0, 0, false
			}
			i += 4 + e + 3
			continue
		case bytes.HasPrefix(rest, []byte("<?")):
			e := bytes.Index(rest, []byte("?>"))
			if e < 0 {
				return 0, 0, false
			}
			i += e + 2
			continue
		case bytes.HasPrefix(rest, []byte("<!DOCTYPE")):
			return i, i + skipDecl(rest), true
		}
		return 0, 0, false
	}
	return 0, 0, false
}

// skipDecl returns the length of a <!DOCTYPE ...> (with an internal subset) or other <!...>.
func skipDecl(b []byte) int {
	depth := 0
	var quote byte
	for j := 2; j < len(b); j++ {
		c := b[j]
		switch {
		case quote == 0 && bytes.HasPrefix(b[j:], []byte("<!--")):
			// A comment in the internal subset: its quotes are text, not delimiters.
			end := bytes.Index(b[j+4:], []byte("-->"))
			if end < 0 {
				return len(b)
			}
			j += 4 + end + 2
		case quote == 0 && bytes.HasPrefix(b[j:], []byte("<?")):
			// So is a processing instruction, '>' and ']' included.
			end := bytes.Index(b[j:], []byte("?>"))
			if end < 0 {
				return len(b)
			}
			j += end + 1
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '[':
			depth++
		case c == ']':
			depth--
		case c == '>' && depth <= 0:
			return j + 1
		}
	}
	return len(b)
}

// checkDoctype checks a <!DOCTYPE ...> as the XML spec has it: a root element name, an optional
// external id, and an internal subset of markup declarations, comments, processing instructions
// and parameter-entity references only (Tomcat's parser reads the subset; encoding/xml does not).
func checkDoctype(b []byte) error {
	j := len("<!DOCTYPE")
	if j >= len(b) || !isSpace(b[j]) {
		return errors.New("<!DOCTYPE must be followed by a space and the root element's name")
	}
	for j < len(b) && isSpace(b[j]) {
		j++
	}
	if j >= len(b) || !isNameStart(b[j]) {
		return errors.New("<!DOCTYPE must name the root element")
	}
	for j < len(b) && isNameByte(b[j]) {
		j++
	}
	skip := func() {
		for j < len(b) && isSpace(b[j]) {
			j++
		}
	}
	quoted := func() bool { // a system or public literal
		if !(j < len(b) && isSpace(b[j])) {
			return false
		}
		skip()
		if j >= len(b) || (b[j] != '"' && b[j] != '\'') {
			return false
		}
		end := bytes.IndexByte(b[j+1:], b[j])
		if end < 0 {
			return false
		}
		j += end + 2
		return true
	}
	skip()
	switch {
	case bytes.HasPrefix(b[j:], []byte("SYSTEM")):
		j += len("SYSTEM")
		if !quoted() {
			return errors.New("<!DOCTYPE ... SYSTEM needs a quoted system id")
		}
	case bytes.HasPrefix(b[j:], []byte("PUBLIC")):
		j += len("PUBLIC")
		if !quoted() || !quoted() {
			return errors.New("<!DOCTYPE ... PUBLIC needs a quoted public id and system id")
		}
	}
	skip()
	if j < len(b) && b[j] == '>' {
		return nil
	}
	if j >= len(b) || b[j] != '[' {
		return errors.New("the DOCTYPE must end with '>' after the root element's name (and its external id and internal subset)")
	}
	sub := b[j+1:]
	for k := 0; k < len(sub); {
		rest := sub[k:]
		switch {
		case isSpace(rest[0]):
			k++
		case rest[0] == ']':
			if tail := bytes.TrimLeft(rest[1:], " \t\r\n"); !bytes.Equal(tail, []byte(">")) {
				return errors.New("the DOCTYPE must end with '>' after its internal subset")
			}
			return nil
		case bytes.HasPrefix(rest, []byte("<!--")):
			end := bytes.Index(rest[4:], []byte("-->"))
			if end < 0 || bytes.Contains(rest[4:4+end], []byte("--")) {
				return errors.New("a comment in the DOCTYPE is not closed, or has \"--\" inside")
			}
			k += 4 + end + 3
		case bytes.HasPrefix(rest, []byte("<?")):
			end := bytes.Index(rest, []byte("?>"))
			if end < 0 || !piTargetOK(rest, end) {
				return errors.New("a processing instruction in the DOCTYPE is not closed, or has no target name")
			}
			if t := bytes.TrimRight(rest[2:min(end, 6)], " \t\r\n"); len(t) == 3 && bytes.EqualFold(t, []byte("xml")) {
				return errors.New("an XML declaration (<?xml ...?>) is allowed only at the very start of the file")
			}
			k += end + 2
		case rest[0] == '%':
			return fmt.Errorf("%w: the DOCTYPE refers to a parameter entity (%%name;), which brings declarations from elsewhere: remove it", ErrUnsupportedDTD)
		default:
			decl := ""
			for _, kw := range []string{"<!ENTITY", "<!ELEMENT", "<!ATTLIST", "<!NOTATION"} {
				if bytes.HasPrefix(rest, []byte(kw)) && len(rest) > len(kw) && isSpace(rest[len(kw)]) {
					decl = kw
				}
			}
			if decl == "" {
				return fmt.Errorf("%q in the DOCTYPE's internal subset is not a markup declaration", rest[:min(len(rest), 12)])
			}
			if m := entityDecl.Find(rest); decl != "<!ENTITY" || m == nil || !bytes.HasPrefix(rest, m) {
				// An attribute's default declared here (<!ATTLIST Connector proxyName CDATA "x">)
				// changes what Tomcat reads without being in the tag; parameter and external
				// entities bring in text from elsewhere.
				return fmt.Errorf("%w: the DOCTYPE declares %s...>; frontdoor edits only files whose DOCTYPE declares plain entities (<!ENTITY name \"text\">): remove that declaration", ErrUnsupportedDTD, decl)
			}
			var quote byte
			end := -1
			for m := 2; m < len(rest) && end < 0; m++ {
				switch c := rest[m]; {
				case quote != 0:
					if c == quote {
						quote = 0
					}
				case c == '"' || c == '\'':
					quote = c
				case c == '<':
					return errors.New("a markup declaration in the DOCTYPE is not closed")
				case c == '>':
					end = m
				}
			}
			if end < 0 {
				return errors.New("a markup declaration in the DOCTYPE is not closed")
			}
			k += end + 1
		}
	}
	return errors.New("the DOCTYPE's internal subset is not closed with ]")
}

// piTargetOK says whether the processing instruction at the start of b (ending at end, its "?>")
// begins with a target: a name followed by a space or its end (<?xm<x ...?> and <? x?> are not).
func piTargetOK(b []byte, end int) bool {
	if len(b) < 3 || !isNameStart(b[2]) {
		return false
	}
	t := 2
	for t < end && isNameByte(b[t]) {
		t++
	}
	return t == end || isSpace(b[t])
}

func isNameStart(c byte) bool {
	return c == ':' || c == '_' || c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isNameByte(c byte) bool {
	return c == ':' || c == '_' || c == '-' || c == '.' || c >= 0x80 ||
		(c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

func scanStartTag(src []byte, start int) (*Element, int, error) {
	j := start + 1
	for j < len(src) && isNameByte(src[j]) {
		j++
	}
	el := &Element{Name: string(src[start+1 : j]), Start: start, AttrsEnd: j}
	for {
		for j < len(src) && isSpace(src[j]) {
			j++
		}
		if j >= len(src) {
			return nil, 0, fmt.Errorf("start tag <%s is not closed", el.Name)
		}
		switch {
		case src[j] == '>':
			el.TagEnd = j
			return el, j + 1, nil
		case src[j] == '/' && j+1 < len(src) && src[j+1] == '>':
			el.TagEnd, el.SelfClose = j, true
			return el, j + 2, nil
		}
		ns := j
		for j < len(src) && isNameByte(src[j]) {
			j++
		}
		if j == ns {
			return nil, 0, fmt.Errorf("unexpected %q in <%s", src[j], el.Name)
		}
		a := Attr{Name: string(src[ns:j]), NameStart: ns, NameEnd: j}
		for j < len(src) && isSpace(src[j]) {
			j++
		}
		if j >= len(src) || src[j] != '=' {
			return nil, 0, fmt.Errorf("attribute %s of <%s has no value", a.Name, el.Name)
		}
		j++
		for j < len(src) && isSpace(src[j]) {
			j++
		}
		if j >= len(src) || (src[j] != '"' && src[j] != '\'') {
			return nil, 0, fmt.Errorf("attribute %s of <%s is not quoted", a.Name, el.Name)
		}
		a.Quote = src[j]
		a.ValueStart = j + 1
		end := bytes.IndexByte(src[a.ValueStart:], a.Quote)
		if end < 0 {
			return nil, 0, fmt.Errorf("attribute %s of <%s is not closed", a.Name, el.Name)
		}
		a.ValueEnd = a.ValueStart + end
		a.Raw = string(src[a.ValueStart:a.ValueEnd])
		if strings.Contains(a.Raw, "<") {
			// encoding/xml takes it; the XML spec and Tomcat's parser do not (write &lt;).
			return nil, 0, fmt.Errorf("attribute %s of <%s> contains '<': Tomcat refuses this file (write &lt;)", a.Name, el.Name)
		}
		j = a.ValueEnd + 1
		if j < len(src) && !isSpace(src[j]) && src[j] != '>' && src[j] != '/' {
			// encoding/xml reads name="a"b="c" as two attributes; the XML spec and Tomcat's
			// parser want a space between them.
			return nil, 0, fmt.Errorf("no space after attribute %s of <%s>: Tomcat refuses this file", a.Name, el.Name)
		}
		el.AttrsEnd = j
		el.Attrs = append(el.Attrs, a)
	}
}

var unescaper = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&quot;", `"`, "&apos;", "'", "&amp;", "&")

func unescape(s string) string {
	if !strings.Contains(s, "&") {
		return s
	}
	// Character references first (&#x5c; &#96;), then the five named entities.
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '&' && i+2 < len(s) && s[i+1] == '#' {
			if semi := strings.IndexByte(s[i:], ';'); semi > 0 {
				var r rune
				ref := s[i+2 : i+semi]
				var err error
				if ref != "" && (ref[0] == 'x' || ref[0] == 'X') {
					_, err = fmt.Sscanf(ref[1:], "%x", &r)
				} else {
					_, err = fmt.Sscanf(ref, "%d", &r)
				}
				if err == nil {
					b.WriteRune(r)
					i += semi
					continue
				}
			}
		}
		b.WriteByte(s[i])
	}
	return unescaper.Replace(b.String())
}

// escape makes v safe inside an attribute quoted with q.
func escape(v string, q byte) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	v = r.Replace(v)
	if q == '"' {
		return strings.ReplaceAll(v, `"`, "&quot;")
	}
	return strings.ReplaceAll(v, "'", "&apos;")
}
