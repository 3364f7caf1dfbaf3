// Package connectors defines how datalab reads a registered dataset: a
// Source opened into a Stream of Apache Arrow record batches, built from a
// registration's Spec by the Factory of its kind.
//
// Each kind of source lives in a sub-package (csv, ...). This package knows
// nothing of DuckDB or of the catalog: it turns bytes from files, URLs and
// databases into typed Arrow columns, and says what version of the content it
// read (a Fingerprint), so that an unchanged source is not loaded twice.
//
// Column names are normalised with ColumnName so that notebooks can name them
// plainly; the original header travels as the Arrow field's "title" metadata.
package connectors
