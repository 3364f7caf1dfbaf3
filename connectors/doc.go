// Package connectors defines how datalab reads a registered dataset: a
// Source opened into a Stream of Apache Arrow record batches, built from a
// registration's Spec by the Factory of its kind.
//
// Each kind of source lives in a sub-package (csv, ...). This package knows
// nothing of DuckDB or of the catalog: it turns bytes from files, URLs and
// databases into typed Arrow columns, and says what version of the content it
// read (a Fingerprint), so that an unchanged source is not loaded twice.
//
// What every connector does the same way has one home here: DecodeOptions
// reads a registration's source block strictly and names the option at
// fault; Batches is the reference counting and current batch of a Stream;
// OpenOptions.WithDefaults applies the defaults of an Open. The sources of
// SQL databases share connectors/sqlsource.
//
// Column names are normalised with ColumnName so that notebooks can name them
// plainly; the original header travels as the Arrow field's "title" metadata.
package connectors
