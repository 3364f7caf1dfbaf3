// Package jsonsrc is the connector of JSON files, local or over http(s):
// `kind: json` in a registration. Its folder is connectors/json; the
// package is named jsonsrc so that it does not shadow encoding/json in the
// files that use both.
//
// A file is either one JSON array of objects or newline-delimited JSON
// (NDJSON, JSON Lines: one object per line), told apart by its first
// character or by the registration's format option. Both are streamed:
// an array token by token with encoding/json's Decoder, NDJSON line by
// line, so that memory holds the sample and one batch, whatever the size
// of the file. A .gz file is decompressed.
//
// Opening a source reads a sample of records (Options.SampleRows) to
// settle the columns, in the order their keys first appear, and their
// types: boolean, integer, number, date (yyyy-mm-dd), datetime (ISO 8601:
// with a T or a space, optional seconds and fraction; a column whose
// values carry an offset or Z is a TIMESTAMP WITH TIME ZONE, in UTC), or
// string. A field only ever null in the sample, or whose values mix kinds
// (numbers and strings, say), is a string column holding each value as
// its JSON text. Nested objects are flattened into columns (a.b becomes
// a_b) or kept as Arrow structs (Options.Nested); arrays become Arrow
// lists. Names go through connectors.ColumnNames, the original key (the
// dotted path when flattened) kept under connectors.TitleKey.
//
// The registration's schema overrides inference column by column: a
// declared type also reads values written as strings ("42" as an
// integer), and a declared string keeps any value as its JSON text. A
// value further on that breaks its column's type, a record that is not an
// object, or a field the sample never met stops the stream with a
// *connectors.DataError naming the record, the field and the value: for
// NDJSON, Line is the line of the file; for an array, the record's number.
package jsonsrc
