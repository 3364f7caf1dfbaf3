package csv

import (
	"fmt"
	"strings"

	"github.com/datalab/datalab/connectors"
)

// Options is the source block of a CSV registration:
//
//	source:
//	  kind: csv
//	  url: data/donnees_feuil4.csv
//	  delimiter: ";"
//	  encoding: iso-8859-1
//	  decimal: ","
//
// Every option but url may be left out: the connector then detects it from
// the start of the file, or uses the default said below.
type Options struct {
	// Kind is "csv".
	Kind string `yaml:"kind"`
	// URL is where the file lives: a path relative to the workspace, a
	// file:// URL or an http(s):// URL. Required.
	URL string `yaml:"url"`
	// Delimiter separates fields: ";", ",", "|", or a tab (written "\t" or
	// "tab"). Detected when empty.
	Delimiter string `yaml:"delimiter"`
	// Encoding is utf-8, iso-8859-1 (or latin1) or windows-1252 (or cp1252).
	// Detected when empty: UTF-8 when the bytes are valid UTF-8 (a BOM is
	// dropped), else Windows-1252 when bytes 0x80-0x9F occur, else ISO-8859-1.
	Encoding string `yaml:"encoding"`
	// Decimal is the decimal separator of numbers, "." or ",". When empty,
	// "." is read everywhere, and "," too, column by column, when the
	// delimiter is not ","; such a column may mix "45,93" and "45.52", as
	// real files do. A "," decimal allows thousands separators made of
	// spaces (ordinary, no-break or narrow no-break): "1 234,5". A declared
	// decimal is strict: a value written with the other separator is not a
	// number.
	Decimal string `yaml:"decimal"`
	// Header says whether the first line names the columns; default true.
	// Without a header, columns are named column_1, column_2, ... unless the
	// registration's schema names them, in order.
	Header *bool `yaml:"header"`
	// NullValues are the values read as NULL in every column, compared with
	// the value as written and with the value trimmed of spaces; default
	// "", "NA", "N/A" and "-".
	NullValues *[]string `yaml:"null_values"`
	// SampleRows is the number of rows (after the header) read to infer the
	// columns' types before the stream starts; default DefaultSampleRows. The
	// sample also stops at MaxSampleBytes of text.
	SampleRows int `yaml:"sample_rows"`
	// SkipRows is the number of lines skipped before the header (a title
	// line above the table, say); default 0.
	SkipRows int `yaml:"skip_rows"`
}

// DefaultSampleRows is the number of rows read to infer column types when a
// registration does not say: enough to meet the rare values of most columns,
// small enough that the sample stays a few megabytes.
const DefaultSampleRows = 50_000

// MaxSampleBytes bounds the text buffered for type inference, whatever
// SampleRows says, so that memory does not depend on the width of rows.
const MaxSampleBytes = 32 << 20

// DefaultNullValues are the values read as NULL when a registration does not
// list its own.
var DefaultNullValues = []string{"", "NA", "N/A", "-"}

// settings are Options checked and resolved, with defaults applied.
type settings struct {
	loc        connectors.Location
	delim      byte // 0: detect
	enc        encoding
	decimal    byte // 0: detect per column
	header     bool
	nulls      [][]byte
	sampleRows int
	skipRows   int
}

// decodeOptions reads spec.Options strictly into Options.
func decodeOptions(raw []byte) (Options, error) {
	var o Options
	err := connectors.DecodeOptions(raw, &o, connectors.OptionsHelp{
		Kind:    "csv",
		Minimal: "{kind: csv, url: <file>}",
		Example: "{kind: csv, url: data/x.csv}",
		Hint:    optionHint,
	})
	return o, err
}

func optionHint(name string) (what, example string) {
	switch name {
	case "header":
		return "true or false", "header: false"
	case "null_values":
		return "a list of strings", `null_values: ["", "NA"]`
	case "sample_rows":
		return "a whole number", "sample_rows: 100000"
	case "skip_rows":
		return "a whole number", "skip_rows: 1"
	case "delimiter":
		return "a string", `delimiter: ";"`
	}
	return "a string", name + `: "..."`
}

// resolve checks o against spec and applies the defaults.
func (o Options) resolve(spec connectors.Spec) (settings, error) {
	s := settings{header: true, sampleRows: DefaultSampleRows}
	if o.Kind != "" && o.Kind != "csv" {
		return s, &connectors.SpecError{Field: "source.kind", Reason: fmt.Sprintf("%q is not csv", o.Kind), Fix: "write kind: csv"}
	}
	switch o.Delimiter {
	case "":
	case ";", ",", "|":
		s.delim = o.Delimiter[0]
	case "\t", "tab", `\t`, "TAB":
		s.delim = '\t'
	default:
		return s, &connectors.SpecError{
			Field:  "source.delimiter",
			Reason: fmt.Sprintf("%q is not a supported delimiter", o.Delimiter),
			Fix:    `use ";", ",", "|" or "tab", or leave it out to detect it`,
		}
	}
	switch strings.ToLower(strings.TrimSpace(o.Encoding)) {
	case "":
		s.enc = encDetect
	case "utf-8", "utf8":
		s.enc = encUTF8
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1":
		s.enc = encLatin1
	case "windows-1252", "cp1252", "windows1252":
		s.enc = encWindows1252
	default:
		return s, &connectors.SpecError{
			Field:  "source.encoding",
			Reason: fmt.Sprintf("%q is not a supported encoding", o.Encoding),
			Fix:    "use utf-8, iso-8859-1 or windows-1252, or leave it out to detect it",
		}
	}
	switch o.Decimal {
	case "":
	case ".", ",":
		s.decimal = o.Decimal[0]
	default:
		return s, &connectors.SpecError{
			Field:  "source.decimal",
			Reason: fmt.Sprintf("%q is not a decimal separator", o.Decimal),
			Fix:    `use "." or ",", or leave it out to detect it`,
		}
	}
	if s.delim != 0 && s.delim == s.decimal {
		return s, &connectors.SpecError{
			Field:  "source.decimal",
			Reason: fmt.Sprintf("%q is also the delimiter", o.Decimal),
			Fix:    "a decimal comma needs another delimiter, such as \";\"",
		}
	}
	if o.Header != nil {
		s.header = *o.Header
	}
	nulls := DefaultNullValues
	if o.NullValues != nil {
		nulls = *o.NullValues
	}
	for _, n := range nulls {
		if strings.ContainsAny(n, "\r\n") {
			return s, &connectors.SpecError{Field: "source.null_values", Reason: fmt.Sprintf("%q contains a line break", n), Fix: "list values of one line"}
		}
		s.nulls = append(s.nulls, []byte(n))
	}
	switch {
	case o.SampleRows < 0:
		return s, &connectors.SpecError{Field: "source.sample_rows", Reason: fmt.Sprintf("%d is negative", o.SampleRows), Fix: fmt.Sprintf("give a positive number of rows, or leave it out for %d", DefaultSampleRows)}
	case o.SampleRows > 0:
		s.sampleRows = o.SampleRows
	}
	if o.SkipRows < 0 {
		return s, &connectors.SpecError{Field: "source.skip_rows", Reason: fmt.Sprintf("%d is negative", o.SkipRows), Fix: "give the number of lines above the header, or leave it out"}
	}
	s.skipRows = o.SkipRows
	loc, err := connectors.ParseLocation(spec.Dir, o.URL, "source.url")
	if err != nil {
		return s, err
	}
	s.loc = loc
	return s, nil
}
