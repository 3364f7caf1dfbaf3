package parquet

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/datalab/datalab/connectors"
)

// Options is the source block of a Parquet registration:
//
//	source:
//	  kind: parquet
//	  url: https://example.org/dossiers.parquet
//	  columns: [numero, date_depot, departement]
type Options struct {
	// Kind is "parquet".
	Kind string `yaml:"kind"`
	// URL is where the file lives: a path relative to the workspace, a
	// file:// URL or an http(s):// URL. Required. A gzip-compressed file
	// (file.parquet.gz) is decompressed.
	URL string `yaml:"url"`
	// Columns, when given, are the only columns read, in the file's order,
	// named as in the file or as normalised; the others are not even
	// decoded. Empty: every column.
	Columns []string `yaml:"columns"`
}

// decodeOptions reads raw strictly into Options; a refusal names the
// option.
func decodeOptions(raw []byte) (Options, error) {
	var o Options
	if len(bytes.TrimSpace(raw)) == 0 {
		return o, &connectors.SpecError{Field: "source", Reason: "missing", Fix: "give at least {kind: parquet, url: <file>}"}
	}
	var items yaml.MapSlice
	if err := yaml.Unmarshal(raw, &items); err != nil {
		return o, &connectors.SpecError{Field: "source", Reason: "not a YAML mapping: " + firstLine(err.Error()), Fix: "write the source block as a mapping of options, e.g. {kind: parquet, url: data/x.parquet}"}
	}
	known := optionNames()
	for _, item := range items {
		key := fmt.Sprint(item.Key)
		if !slices.Contains(known, key) {
			return o, &connectors.SpecError{Field: "source." + key, Reason: "unknown option", Fix: "the parquet options are: " + strings.Join(known, ", ")}
		}
		one, err := yaml.Marshal(yaml.MapSlice{item})
		var probe Options
		if err != nil || yaml.UnmarshalWithOptions(one, &probe, yaml.Strict()) != nil {
			what, example := "a string", key+`: "..."`
			if key == "columns" {
				what, example = "a list of column names", "columns: [code, libelle]"
			}
			return o, &connectors.SpecError{Field: "source." + key, Reason: fmt.Sprintf("%v is not %s", item.Value, what), Fix: "write " + what + ", e.g. " + example}
		}
	}
	if err := yaml.UnmarshalWithOptions(raw, &o, yaml.Strict()); err != nil {
		return o, &connectors.SpecError{Field: "source", Reason: firstLine(err.Error()), Fix: "check the source block of the registration"}
	}
	return o, nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// optionNames lists the yaml names of Options, in declaration order.
func optionNames() []string {
	t := reflect.TypeFor[Options]()
	names := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		names = append(names, strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0])
	}
	return names
}
