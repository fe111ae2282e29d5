package playbooks

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/goccy/go-yaml/ast"

	"github.com/frontdoor-dev/frontdoor/internal/didyoumean"
)

// hint says, for a key, what its value must be and how one is written: it turns a type error into
// a sentence the user can act on, for playbooks and frontdoor inventories alike.
type hint struct {
	what     string // "a whole number from 1 to 65535"
	example  string // "8080"
	min, max int    // for whole numbers: the range, when max > 0
}

var hints = map[string]hint{
	"port":           {what: "a whole number from 1 to 65535", example: "8080", min: 1, max: 65535},
	"synchrony_port": {what: "a whole number from 1 to 65535", example: "8091", min: 1, max: 65535},
	"start_timeout":  {what: "a whole number of seconds from 10 to 3600", example: "600"},
	"url":            {what: "the public base URL", example: "http://jira.example.com"},
	"product":        {what: "a product name", example: "jira"},
	"directives":     {what: "a list of single-line Apache directives", example: `["Timeout 300"]`},
	"apps":           {what: "a list of apps", example: "\n  - product: jira\n    url: http://jira.example.com"},
}

// kindOf says what a Go type is called in the user's words, with a generic example.
func kindOf(t reflect.Type) (what, example string) {
	switch t.Kind() {
	case reflect.Int:
		return "a whole number", "8080"
	case reflect.Bool:
		return "true or false", "true"
	case reflect.String:
		return "text", ""
	case reflect.Slice:
		return "a list", ""
	case reflect.Struct, reflect.Map:
		return "a mapping of keys to values", ""
	}
	return t.String(), ""
}

// shapeError is a value that is not what its key takes, positioned at the value.
func (s *source) shapeError(n ast.Node, key string, t reflect.Type, format string, a ...any) error {
	h, ok := hints[key]
	if !ok {
		h.what, h.example = kindOf(t)
	}
	msg := fmt.Sprintf(format, a...) + ": write " + h.what
	if h.example != "" {
		msg += ", e.g. " + key + ": " + h.example
	}
	return s.at(n, msg)
}

// at is msg positioned at node n (file:line:column).
func (s *source) at(n ast.Node, msg string) error {
	if m, ok := mapping(n); ok && len(m) > 0 {
		n = m[0].Key // a mapping's own token is its first ':'
	}
	if tk := n.GetToken(); tk != nil {
		return fmt.Errorf("%s:%d:%d: %s", s.name, tk.Position.Line, tk.Position.Column, msg)
	}
	return fmt.Errorf("%s: %s", s.name, msg)
}

// checkShape walks the YAML as the Go type t will read it, and refuses in the user's words what the
// decoder would refuse in Go's ("cannot unmarshal string into Go struct field Playbook.Apps of
// type int") or silently change: an unknown key (with the key probably meant), a value of the
// wrong kind (with what to write), a number that is not whole, a port out of range, and YAML
// 1.1's yes/no, which YAML 1.2 reads as text.
func (s *source) checkShape(n ast.Node, key string, t reflect.Type) error {
	for {
		switch v := n.(type) {
		case *ast.DocumentNode:
			n = v.Body
			continue
		case *ast.AnchorNode:
			n = v.Value
			continue
		case *ast.TagNode:
			n = v.Value
			continue
		}
		break
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch n.(type) {
	case nil, *ast.NullNode, *ast.AliasNode:
		return nil // a default, or an anchor's value checked where it is written
	}
	switch t.Kind() {
	case reflect.Interface:
		return nil // free-form (vars)
	case reflect.Struct:
		return s.checkStruct(n, key, t)
	case reflect.Map:
		m, ok := mapping(n)
		if !ok {
			return s.shapeError(n, key, t, "%s: %s is not a mapping", key, oneLine(n))
		}
		for _, mv := range m {
			k := mv.Key.GetToken().Value
			if err := s.checkShape(mv.Value, k, t.Elem()); err != nil {
				return err
			}
		}
	case reflect.Slice:
		seq, ok := n.(*ast.SequenceNode)
		if !ok {
			return s.shapeError(n, key, t, "%s: %s is not a list", key, oneLine(n))
		}
		for _, e := range seq.Values {
			if err := s.checkShape(e, key, t.Elem()); err != nil {
				return err
			}
		}
	case reflect.Int:
		switch v := n.(type) {
		case *ast.IntegerNode:
			h, ok := hints[key]
			if i, isInt := toInt(v.Value); ok && h.max > 0 && isInt && (i < h.min || i > h.max) {
				return s.shapeError(n, key, t, "%s %d is out of range %d..%d", key, i, h.min, h.max)
			}
		case *ast.FloatNode:
			return s.shapeError(n, key, t, "%s: %s is not a whole number", key, v.GetToken().Value)
		case *ast.StringNode:
			return s.shapeError(n, key, t, "%s: %q is text, not a number", key, v.Value)
		default:
			return s.shapeError(n, key, t, "%s: %s is not a number", key, oneLine(n))
		}
	case reflect.Bool:
		switch v := n.(type) {
		case *ast.BoolNode:
		case *ast.StringNode:
			word := strings.ToLower(v.Value)
			if b, ok := yaml11Bools[word]; ok {
				return s.at(n, fmt.Sprintf("%s: %s means %t in YAML 1.1 only; frontdoor reads YAML 1.2, where it is the text %q: write %s: %t",
					key, v.Value, b, v.Value, key, b))
			}
			return s.shapeError(n, key, t, "%s: %q is not true or false", key, v.Value)
		default:
			return s.shapeError(n, key, t, "%s: %s is not true or false", key, oneLine(n))
		}
	case reflect.String:
		switch n.(type) {
		case *ast.MappingNode, *ast.MappingValueNode, *ast.SequenceNode:
			return s.shapeError(n, key, t, "%s: a %s where text was expected", key, map[bool]string{true: "list", false: "mapping"}[isSeq(n)])
		}
	}
	return nil
}

var yaml11Bools = map[string]bool{"yes": true, "no": false, "y": true, "n": false, "on": true, "off": false}

func (s *source) checkStruct(n ast.Node, key string, t reflect.Type) error {
	m, ok := mapping(n)
	if !ok {
		what := "the file"
		if key != "" {
			what = key
		}
		return s.shapeError(n, key, t, "%s: %s is not a mapping of keys to values", what, oneLine(n))
	}
	fields := map[string]reflect.StructField{}
	var names []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		fields[name] = f
		names = append(names, name)
	}
	for _, mv := range m {
		if mv.Key.IsMergeKey() {
			continue
		}
		k := mv.Key.GetToken().Value
		f, ok := fields[k]
		if !ok {
			msg := fmt.Sprintf("unknown field %q", k)
			if s := didyoumean.Closest(k, names); s != "" {
				msg += fmt.Sprintf("; did you mean %s?", s)
			} else {
				slices.Sort(names)
				msg += "; the keys here are " + strings.Join(names, ", ")
			}
			return s.at(mv.Key, msg)
		}
		if err := s.checkShape(mv.Value, k, f.Type); err != nil {
			return err
		}
	}
	return nil
}

// mapping is n's key/value pairs when n is a mapping (goccy gives a lone pair its own node).
func mapping(n ast.Node) ([]*ast.MappingValueNode, bool) {
	switch v := n.(type) {
	case *ast.MappingNode:
		return v.Values, true
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{v}, true
	}
	return nil, false
}

func isSeq(n ast.Node) bool { _, ok := n.(*ast.SequenceNode); return ok }

// oneLine is a node as quoted in a message: its text, cut short.
func oneLine(n ast.Node) string {
	switch n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	}
	s := n.String()
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return s
}

func toInt(v any) (int, bool) {
	switch i := v.(type) {
	case int64:
		return int(i), true
	case uint64:
		return int(i), true
	case int:
		return i, true
	}
	return 0, false
}
