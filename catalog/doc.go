// Package catalog keeps what datalab knows of its data: every registered
// Dataset with its access Level, every Snapshot an ingest loaded (or failed
// to load), and the lineage Edges from sources to published figures.
//
// The catalog lives in the warehouse itself, in the schema "datalab", so
// that a dataset's table and the snapshot that describes it change in one
// transaction. It knows nothing of connectors: a dataset's Source is kept as
// the registration wrote it, for the connector of its kind to read.
//
// Registrations are read with ParseRegistration, which refuses a bad one
// with a *FieldError per field: the file, the line, the field and the fix.
package catalog
