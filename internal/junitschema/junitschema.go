// Package junitschema checks JUnit XML files against the schema CI systems read them with, for
// tests: the JUnit XML schema that Jenkins' JUnit support, its xUnit plugin and JUnit 5's own
// tests validate reports against is junit-4.xsd of Jenkins' dtkit (dtkit-junit-model,
// com/thalesgroup/dtkit/junit/model/xsd/junit-4.xsd, MIT licence). It is not copied here:
// Declarations restates it element by element (the attributes each allows, required or not, and
// the sequence of children each allows, in order, with their occurrences), and Check validates
// a file against them, then checks that its counts add up, which a schema cannot say. XSD writes
// the same declarations as an XML Schema, and Check also has libxml2's xmllint validate the file
// against it when xmllint is installed (scripts/setup installs it).
package junitschema

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Particle is one child element of a sequence with its occurrences (Max -1: unbounded).
type Particle struct {
	Name     string
	Min, Max int
}

// Decl is an element's declaration.
type Decl struct {
	Required, Optional []string
	Children           []Particle
	Text               bool // holds text (and no element)
}

// Declarations are junit-4.xsd's elements. failure, error, skipped, system-out and system-err
// hold text (skipped is an xs:string: no attribute); the others hold elements only.
var Declarations = map[string]Decl{
	"testsuites": {Optional: []string{"name", "time", "tests", "failures", "disabled", "errors"},
		Children: []Particle{{"testsuite", 0, -1}}},
	"testsuite": {Required: []string{"name", "tests"},
		Optional: []string{"failures", "errors", "time", "disabled", "skipped", "timestamp", "hostname", "id", "package"},
		Children: []Particle{{"properties", 0, 1}, {"testcase", 0, -1}, {"system-out", 0, 1}, {"system-err", 0, 1}}},
	"properties": {Children: []Particle{{"property", 1, -1}}},
	"property":   {Required: []string{"name", "value"}},
	"testcase": {Required: []string{"name"}, Optional: []string{"assertions", "time", "classname", "status"},
		Children: []Particle{{"skipped", 0, 1}, {"error", 0, -1}, {"failure", 0, -1}, {"system-out", 0, -1}, {"system-err", 0, -1}}},
	"failure":    {Optional: []string{"type", "message"}, Text: true},
	"error":      {Optional: []string{"type", "message"}, Text: true},
	"skipped":    {Text: true},
	"system-out": {Text: true},
	"system-err": {Text: true},
}

// Node is an element of the file.
type Node struct {
	Name     string
	Attrs    map[string]string
	Children []*Node
	Text     string
}

// Parse reads a well-formed XML document into its element tree.
func Parse(b []byte) (*Node, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	var stack []*Node
	var root *Node
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("not well-formed XML: %w", err)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			if tk.Name.Space != "" {
				return nil, fmt.Errorf("<%s> in namespace %q: the schema has no target namespace", tk.Name.Local, tk.Name.Space)
			}
			n := &Node{Name: tk.Name.Local, Attrs: map[string]string{}}
			for _, a := range tk.Attr {
				n.Attrs[a.Name.Local] = a.Value
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.Children = append(p.Children, n)
			} else if root != nil {
				return nil, errors.New("more than one root element")
			} else {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].Text += string(tk)
			}
		}
	}
	if root == nil {
		return nil, errors.New("no element")
	}
	return root, nil
}

// Validate checks n and its subtree against the declarations; each error names its path.
func Validate(n *Node, path string) []string {
	path += "/" + n.Name
	d, ok := Declarations[n.Name]
	if !ok {
		return []string{path + ": no such element in the schema"}
	}
	var errs []string
	for _, a := range d.Required {
		if _, ok := n.Attrs[a]; !ok {
			errs = append(errs, fmt.Sprintf("%s: required attribute %s missing", path, a))
		}
	}
	for a := range n.Attrs {
		allowed := false
		for _, x := range append(append([]string(nil), d.Required...), d.Optional...) {
			allowed = allowed || x == a
		}
		if !allowed {
			errs = append(errs, fmt.Sprintf("%s: attribute %s not allowed", path, a))
		}
	}
	if !d.Text && strings.TrimSpace(n.Text) != "" {
		errs = append(errs, fmt.Sprintf("%s: text not allowed: %q", path, n.Text))
	}
	if d.Text && len(n.Children) > 0 {
		errs = append(errs, fmt.Sprintf("%s: holds text only, has <%s>", path, n.Children[0].Name))
	}
	// The children against the sequence: each particle in turn takes as many as it may (the
	// schema's sequences name each element once, so this greedy match is exact).
	i := 0
	for _, p := range d.Children {
		k := 0
		for i < len(n.Children) && n.Children[i].Name == p.Name && (p.Max < 0 || k < p.Max) {
			i++
			k++
		}
		if k < p.Min {
			errs = append(errs, fmt.Sprintf("%s: needs at least %d <%s>", path, p.Min, p.Name))
		}
	}
	if i < len(n.Children) {
		errs = append(errs, fmt.Sprintf("%s: <%s> not allowed there (child %d)", path, n.Children[i].Name, i+1))
	}
	for _, c := range n.Children {
		errs = append(errs, Validate(c, path)...)
	}
	return errs
}

// Check parses a JUnit file, validates it (the root must be testsuites), and checks that the
// tests, failures and skipped counts of each testsuite and of testsuites are those it holds.
func Check(b []byte) (*Node, error) {
	root, err := Parse(b)
	if err != nil {
		return nil, err
	}
	if _, err := Xmllint(b); err != nil {
		return nil, err
	}
	if root.Name != "testsuites" {
		return nil, fmt.Errorf("the root is <%s>, not <testsuites>", root.Name)
	}
	errs := Validate(root, "")
	// A count the file gives must be right (the schema makes them optional, but for testsuite's tests).
	count := func(n *Node, a string, have int) {
		v, ok := n.Attrs[a]
		if !ok {
			return
		}
		if got, err := strconv.Atoi(v); err != nil || got != have {
			errs = append(errs, fmt.Sprintf("<%s name=%q %s=%q>: it holds %d", n.Name, n.Attrs["name"], a, v, have))
		}
	}
	tests, failures := 0, 0
	for _, s := range root.Children {
		st, sf, ss := 0, 0, 0
		for _, c := range s.Children {
			if c.Name != "testcase" {
				continue
			}
			st++
			for _, x := range c.Children {
				switch x.Name {
				case "failure":
					sf++
				case "skipped":
					ss++
				}
			}
		}
		count(s, "tests", st)
		count(s, "failures", sf)
		count(s, "skipped", ss)
		tests += st
		failures += sf
	}
	count(root, "tests", tests)
	count(root, "failures", failures)
	if len(errs) > 0 {
		return root, fmt.Errorf("not valid against junit-4.xsd:\n%s", strings.Join(errs, "\n"))
	}
	return root, nil
}

// XSD writes Declarations as an XML Schema, so a real validator (libxml2's xmllint) can hold
// files to the same rules: every element global, its attributes (required or optional, as
// strings), and either text or the sequence of its children with their occurrences.
func XSD() []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" elementFormDefault="qualified">` + "\n")
	names := make([]string, 0, len(Declarations))
	for n := range Declarations {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		d := Declarations[name]
		fmt.Fprintf(&b, "  <xs:element name=%q>\n    <xs:complexType", name)
		if d.Text {
			b.WriteString(` mixed="true"`)
		}
		b.WriteString(">\n")
		if len(d.Children) > 0 {
			b.WriteString("      <xs:sequence>\n")
			for _, c := range d.Children {
				max := "unbounded"
				if c.Max >= 0 {
					max = strconv.Itoa(c.Max)
				}
				fmt.Fprintf(&b, "        <xs:element ref=%q minOccurs=\"%d\" maxOccurs=%q/>\n", c.Name, c.Min, max)
			}
			b.WriteString("      </xs:sequence>\n")
		}
		for _, a := range d.Required {
			fmt.Fprintf(&b, "      <xs:attribute name=%q type=\"xs:string\" use=\"required\"/>\n", a)
		}
		for _, a := range d.Optional {
			fmt.Fprintf(&b, "      <xs:attribute name=%q type=\"xs:string\"/>\n", a)
		}
		b.WriteString("    </xs:complexType>\n  </xs:element>\n")
	}
	b.WriteString("</xs:schema>\n")
	return []byte(b.String())
}

// Xmllint validates b against XSD with libxml2's xmllint; ok is false when xmllint is not
// installed (scripts/setup installs libxml2-utils).
func Xmllint(b []byte) (ok bool, err error) {
	bin, lerr := exec.LookPath("xmllint")
	if lerr != nil {
		return false, nil
	}
	dir, derr := os.MkdirTemp("", "junitschema")
	if derr != nil {
		return true, derr
	}
	defer os.RemoveAll(dir)
	xsd, file := filepath.Join(dir, "junit.xsd"), filepath.Join(dir, "junit.xml")
	if err := os.WriteFile(xsd, XSD(), 0o600); err != nil {
		return true, err
	}
	if err := os.WriteFile(file, b, 0o600); err != nil {
		return true, err
	}
	if out, err := exec.Command(bin, "--noout", "--nonet", "--schema", xsd, file).CombinedOutput(); err != nil {
		return true, fmt.Errorf("xmllint: %s", bytes.TrimSpace(out))
	}
	return true, nil
}
