package connectors

import (
	"fmt"
	"sort"
	"strings"
)

// Spec is what a registration says of its source, handed to the Factory of
// its kind.
type Spec struct {
	// Kind names the connector: csv, postgres, ...
	Kind string
	// Options is the registration's source block as YAML (or JSON, which is
	// YAML too). Each connector decodes it strictly into its own typed
	// options and refuses unknown fields.
	Options []byte
	// Dir is the workspace folder against which relative paths resolve.
	Dir string
	// Fields are the columns the registration's schema declares, in order;
	// empty when the registration leaves them to inference.
	Fields []Field
}

// Field is a column that a registration declares: it overrides what a
// connector would infer for the column of that name.
type Field struct {
	// Name is the column's name in the warehouse (snake_case).
	Name string
	// Title is the column's original header, when the registration gives it;
	// a source column matches a Field by Name or by Title.
	Title string
	// Type is a Table Schema type.
	Type FieldType
	// Format is the Table Schema format: for dates a strftime pattern such
	// as "%d/%m/%Y"; empty or "default" for the connector's detection.
	Format string
}

// FieldType is a Frictionless Table Schema type that connectors map to Arrow.
type FieldType string

// The Table Schema types connectors read.
const (
	TypeString   FieldType = "string"
	TypeInteger  FieldType = "integer"
	TypeNumber   FieldType = "number"
	TypeBoolean  FieldType = "boolean"
	TypeDate     FieldType = "date"
	TypeDatetime FieldType = "datetime"
)

// Factory builds a Source from a registration's Spec. It checks every option
// and returns a *SpecError naming the first bad one; it does no I/O beyond
// checking that a local file exists.
type Factory func(spec Spec) (Source, error)

// Registry maps source kinds to their factories. The zero value is empty and
// ready to use; main wires the connectors it ships with Add.
type Registry struct {
	factories map[string]Factory
}

// Add makes kind available. Adding a kind twice replaces its factory.
func (r *Registry) Add(kind string, f Factory) {
	if r.factories == nil {
		r.factories = make(map[string]Factory)
	}
	r.factories[kind] = f
}

// Kinds returns the registered kinds, sorted.
func (r *Registry) Kinds() []string {
	kinds := make([]string, 0, len(r.factories))
	for k := range r.factories {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	return kinds
}

// New builds the Source a Spec describes.
func (r *Registry) New(spec Spec) (Source, error) {
	f, ok := r.factories[spec.Kind]
	if !ok {
		return nil, &SpecError{
			Field:  "source.kind",
			Reason: fmt.Sprintf("unknown kind %q", spec.Kind),
			Fix:    "use one of: " + strings.Join(r.Kinds(), ", "),
		}
	}
	return f(spec)
}

// TitleKey is the Arrow field metadata key under which a connector keeps a
// column's original header, so that the catalog can show it.
const TitleKey = "title"
