package xmledit

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
)

// Span is one splice: bytes [Start, End) of the input are replaced by Text.
type Span struct {
	Start, End int
	Text       string
}

// Splice applies non-overlapping spans to src and returns a new slice; src is not modified.
func Splice(src []byte, spans []Span) []byte {
	sorted := append([]Span(nil), spans...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Start < sorted[j].Start })
	var out bytes.Buffer
	out.Grow(len(src) + 256)
	last := 0
	for _, s := range sorted {
		out.Write(src[last:s.Start])
		out.WriteString(s.Text)
		last = s.End
	}
	out.Write(src[last:])
	return out.Bytes()
}

// PlaceholderError says that an attribute holds a ${...} placeholder that frontdoor was not told
// to replace: the value is resolved by Tomcat at start-up from a system property, so overwriting
// it would silently defeat whatever sets that property.
type PlaceholderError struct {
	Line      int
	Element   string
	Attr      string
	Value     string
	Requested string
}

func (e *PlaceholderError) Error() string {
	return fmt.Sprintf("line %d: <%s %s=%q> is a placeholder resolved at start-up; frontdoor would set it to %q. "+
		"Set the system property instead",
		e.Line, e.Element, e.Attr, e.Value, e.Requested)
}

// AttrSet is what to set on one element: names in order, with their values.
type AttrSet struct {
	Names  []string
	Values map[string]string
}

// Set records name=value, keeping the order of first use.
func (s *AttrSet) Set(name, value string) {
	if s.Values == nil {
		s.Values = map[string]string{}
	}
	if _, ok := s.Values[name]; !ok {
		s.Names = append(s.Names, name)
	}
	s.Values[name] = value
}

// SetAttrs returns the spans that give el the attributes in set: a value that differs (after
// decoding references) is replaced in its own quotes; missing attributes are inserted after the
// last one, on a new line with the same indentation when the tag already spans several lines.
func (d *Doc) SetAttrs(el *Element, set AttrSet, replacePlaceholders bool) ([]Span, error) {
	var spans []Span
	var missing []string
	for _, name := range set.Names {
		want := set.Values[name]
		a, ok := el.Attr(name)
		if !ok {
			missing = append(missing, fmt.Sprintf(`%s="%s"`, name, escape(want, '"')))
			continue
		}
		if a.Value() == want {
			continue
		}
		if strings.Contains(a.Raw, "${") && !replacePlaceholders {
			return nil, &PlaceholderError{Line: d.Line(a.ValueStart), Element: el.Name, Attr: name, Value: a.Raw, Requested: want}
		}
		spans = append(spans, Span{Start: a.ValueStart, End: a.ValueEnd, Text: escape(want, a.Quote)})
	}
	if len(missing) > 0 {
		spans = append(spans, Span{Start: el.AttrsEnd, End: el.AttrsEnd, Text: d.attrSeparator(el) + strings.Join(missing, " ")})
	}
	return spans, nil
}

// attrSeparator is what goes before inserted attributes: a space, or for a tag whose attributes
// are on several lines, a line break (in the file's own style) and the last line's indentation.
func (d *Doc) attrSeparator(el *Element) string {
	tag := d.Src[el.Start:el.AttrsEnd]
	if len(el.Attrs) == 0 || !bytes.Contains(tag, []byte{'\n'}) {
		return " "
	}
	last := el.Attrs[len(el.Attrs)-1]
	lineStart := bytes.LastIndexByte(d.Src[:last.NameStart], '\n') + 1
	k := lineStart
	for k < len(d.Src) && (d.Src[k] == ' ' || d.Src[k] == '\t') {
		k++
	}
	indent := string(d.Src[lineStart:k])
	if lineStart <= el.Start { // the last attribute is on the tag's own line
		indent += "    "
	}
	nl := "\n"
	if lineStart >= 2 && d.Src[lineStart-2] == '\r' {
		nl = "\r\n"
	}
	return nl + indent
}
