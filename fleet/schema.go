package fleet

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// EventSchema is the JSON Schema of --output json's lines (docs/events.md describes it).
//
//go:embed events.schema.json
var EventSchema []byte

var (
	schemaOnce sync.Once
	schema     *jsonschema.Schema
	schemaErr  error
)

// ValidateEvent checks one JSON line against EventSchema.
func ValidateEvent(line []byte) error {
	schemaOnce.Do(func() {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(EventSchema))
		if err != nil {
			schemaErr = err
			return
		}
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		if schemaErr = c.AddResource("events.schema.json", doc); schemaErr == nil {
			schema, schemaErr = c.Compile("events.schema.json")
		}
	})
	if schemaErr != nil {
		return schemaErr
	}
	var v any
	d := json.NewDecoder(bytes.NewReader(line))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return err
	}
	return schema.Validate(v)
}
