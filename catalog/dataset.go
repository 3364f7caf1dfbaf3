package catalog

import (
	"encoding/json"
	"strings"
	"time"
)

// Dataset is a registered dataset: what it is, who publishes it, where it
// lives, and who may read it.
type Dataset struct {
	// ID is "schema.table", the dataset's table in the warehouse.
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	Publisher   string `json:"publisher"`
	Contact     string `json:"contact,omitempty"`
	Access      Level  `json:"access"`
	License     string `json:"license,omitempty"`
	// Frequency is how often the publisher updates it (yearly, monthly, ...).
	Frequency string `json:"frequency,omitempty"`
	// Schedule is a cron expression (robfig syntax) for ingesting it; empty
	// when it is ingested only on demand.
	Schedule string `json:"schedule,omitempty"`
	Source   Source `json:"source"`
	// Schema is the registration's Table Schema, nil when columns are inferred.
	Schema   *Schema  `json:"schema,omitempty"`
	Contract Contract `json:"contract"`
	// File is the registration's file, relative to the workspace; empty for
	// a registration received through the API.
	File         string    `json:"file,omitempty"`
	RegisteredAt time.Time `json:"registered_at,omitzero"`
	UpdatedAt    time.Time `json:"updated_at,omitzero"`
}

// SchemaName returns the DuckDB schema of the dataset's table.
func (d Dataset) SchemaName() string { s, _, _ := strings.Cut(d.ID, "."); return s }

// TableName returns the DuckDB table name, without its schema.
func (d Dataset) TableName() string { _, t, _ := strings.Cut(d.ID, "."); return t }

// Source is where a dataset lives. The catalog keeps its options as the
// registration wrote them (never a secret: credentials are named by an
// environment variable); the connector of its Kind reads them.
type Source struct {
	Kind string `json:"kind"`
	// Options is the registration's whole source block as JSON, kind included.
	Options json.RawMessage `json:"options"`
}

// Schema is a Frictionless Table Schema: the columns a registration declares.
type Schema struct {
	Fields []Field `json:"fields"`
}

// Field is a declared column.
type Field struct {
	// Name is the column's snake_case name in the warehouse.
	Name string `json:"name"`
	// Title is the original header, when it differs from the name.
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"`
	// Type is a Table Schema type: string, integer, number, boolean, date,
	// datetime.
	Type string `json:"type,omitempty"`
	// Format is a date pattern such as "%d/%m/%Y".
	Format      string       `json:"format,omitempty"`
	Constraints *Constraints `json:"constraints,omitempty"`
}

// Constraints are a Table Schema field's constraints.
type Constraints struct {
	Required bool     `json:"required,omitempty"`
	Unique   bool     `json:"unique,omitempty"`
	Pattern  string   `json:"pattern,omitempty"`
	Enum     []string `json:"enum,omitempty"`
	Minimum  *float64 `json:"minimum,omitempty"`
	Maximum  *float64 `json:"maximum,omitempty"`
}

// Contract says what an ingest does when the source's columns or rows do not
// match what was loaded before or what the schema says.
type Contract string

// The contracts.
const (
	// Evolve accepts new columns and type changes: the table follows the source.
	Evolve Contract = "evolve"
	// Freeze fails the ingest, before anything is written, when a column is
	// added, removed or changes type.
	Freeze Contract = "freeze"
	// DiscardRow sets rows that break the schema aside, in a quarantine table
	// of the same access level, and loads the others.
	DiscardRow Contract = "discard_row"
)

// FieldTypes are the Table Schema types a registration may declare.
var FieldTypes = []string{"string", "integer", "number", "boolean", "date", "datetime"}

// Frequencies are the update frequencies a registration may declare, after
// the EU frequency vocabulary.
var Frequencies = []string{
	"continuous", "hourly", "daily", "weekly", "biweekly", "monthly",
	"bimonthly", "quarterly", "semiannual", "yearly", "irregular", "unknown",
}
