package playbooks

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// source is a YAML file kept for error positions.
type source struct {
	name string
	file *ast.File
}

// decode strictly decodes data into v; unknown keys and type errors name file:line:column.
func decode(name string, data []byte, v any) (*source, error) {
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, posError(name, err)
	}
	src := &source{name: name, file: f}
	// The user's words first; the decoder below stays the last word on what it reads.
	for _, doc := range f.Docs {
		if err := src.checkShape(doc, "", reflect.TypeOf(v)); err != nil {
			return nil, err
		}
	}
	if err := yaml.UnmarshalWithOptions(data, v, yaml.Strict()); err != nil {
		return nil, posError(name, err)
	}
	return src, nil
}

func posError(name string, err error) error {
	var ye yaml.Error
	if errors.As(err, &ye) && ye.GetToken() != nil {
		p := ye.GetToken().Position
		return fmt.Errorf("%s:%d:%d: %s", name, p.Line, p.Column, ye.GetMessage())
	}
	return fmt.Errorf("%s: %w", name, err)
}

// errorf returns an error positioned at the YAML path (e.g. "$.apps[0].url"); when the path is
// not in the file (a default), at the file.
func (s *source) errorf(path, format string, a ...any) error {
	msg := fmt.Sprintf(format, a...)
	if p, err := yaml.PathString(path); err == nil {
		if n, err := p.FilterFile(s.file); err == nil && n != nil && n.GetToken() != nil {
			pos := n.GetToken().Position
			return fmt.Errorf("%s:%d:%d: %s", s.name, pos.Line, pos.Column, msg)
		}
	}
	return fmt.Errorf("%s: %s", s.name, msg)
}
