package jsonsrc

import (
	"fmt"
	"strings"

	"github.com/datalab/datalab/connectors"
)

// Options is the source block of a JSON registration:
//
//	source:
//	  kind: json
//	  url: https://example.org/api/aides.ndjson
//	  format: ndjson
//	  nested: struct
//
// Every option but url may be left out.
type Options struct {
	// Kind is "json".
	Kind string `yaml:"kind"`
	// URL is where the file lives: a path relative to the workspace, a
	// file:// URL or an http(s):// URL. Required. A gzip-compressed file
	// (x.json.gz) is decompressed.
	URL string `yaml:"url"`
	// Format is "array" (one JSON array of objects) or "ndjson" (one
	// object per line; "jsonl" is the same). Detected when empty: a file
	// whose first character is "[" is an array, "{" NDJSON.
	Format string `yaml:"format"`
	// Nested says what becomes of objects within records: "flatten" (the
	// default) makes a column of each nested key, {"a": {"b": 1}} giving
	// column a_b (title "a.b"); "struct" keeps them as one STRUCT column.
	// Arrays are list columns either way.
	Nested string `yaml:"nested"`
	// SampleRows is the number of records read to infer the columns and
	// their types before the stream starts; default DefaultSampleRows. The
	// sample also stops at MaxSampleBytes of JSON.
	SampleRows int `yaml:"sample_rows"`
}

// DefaultSampleRows is the number of records read to infer the columns
// when a registration does not say.
const DefaultSampleRows = 10_000

// MaxSampleBytes bounds the JSON held for inference, whatever SampleRows
// says.
const MaxSampleBytes = 32 << 20

// format is how the records are laid out.
type format uint8

const (
	formatNone format = iota // not said, or an empty file
	formatArray
	formatNDJSON
)

// settings are Options checked, with defaults applied.
type settings struct {
	loc        connectors.Location
	format     format
	flatten    bool
	sampleRows int
}

// decodeOptions reads raw strictly into Options; a refusal names the
// option.
func decodeOptions(raw []byte) (Options, error) {
	var o Options
	err := connectors.DecodeOptions(raw, &o, connectors.OptionsHelp{
		Kind:    "json",
		Minimal: "{kind: json, url: <file>}",
		Example: "{kind: json, url: data/x.json}",
		Hint: func(option string) (what, example string) {
			if option == "sample_rows" {
				return "a whole number", "sample_rows: 50000"
			}
			return "", ""
		},
	})
	return o, err
}

// resolve checks o against spec and applies the defaults.
func (o Options) resolve(spec connectors.Spec) (settings, error) {
	s := settings{flatten: true, sampleRows: DefaultSampleRows}
	if o.Kind != "" && o.Kind != "json" {
		return s, &connectors.SpecError{Field: "source.kind", Reason: fmt.Sprintf("%q is not json", o.Kind), Fix: "write kind: json"}
	}
	switch strings.ToLower(strings.TrimSpace(o.Format)) {
	case "":
	case "array", "json":
		s.format = formatArray
	case "ndjson", "jsonl", "jsonlines", "json-lines":
		s.format = formatNDJSON
	default:
		return s, &connectors.SpecError{Field: "source.format", Reason: fmt.Sprintf("%q is not a JSON layout", o.Format),
			Fix: "use array (one JSON array of objects) or ndjson (one object per line), or leave it out to detect it"}
	}
	switch strings.ToLower(strings.TrimSpace(o.Nested)) {
	case "", "flatten":
	case "struct":
		s.flatten = false
	default:
		return s, &connectors.SpecError{Field: "source.nested", Reason: fmt.Sprintf("%q is not a way to read nested objects", o.Nested),
			Fix: "use flatten (a column per nested key, the default) or struct (one STRUCT column)"}
	}
	switch {
	case o.SampleRows < 0:
		return s, &connectors.SpecError{Field: "source.sample_rows", Reason: fmt.Sprintf("%d is negative", o.SampleRows), Fix: fmt.Sprintf("give a positive number of records, or leave it out for %d", DefaultSampleRows)}
	case o.SampleRows > 0:
		s.sampleRows = o.SampleRows
	}
	loc, err := connectors.ParseLocation(spec.Dir, o.URL, "source.url")
	if err != nil {
		return s, err
	}
	s.loc = loc
	return s, nil
}
