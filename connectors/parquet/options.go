package parquet

import (
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
	err := connectors.DecodeOptions(raw, &o, connectors.OptionsHelp{
		Kind:    "parquet",
		Minimal: "{kind: parquet, url: <file>}",
		Example: "{kind: parquet, url: data/x.parquet}",
		Hint: func(option string) (what, example string) {
			if option == "columns" {
				return "a list of column names", "columns: [code, libelle]"
			}
			return "", ""
		},
	})
	return o, err
}
