// Package pipelines runs what datalab does to a workspace: it opens the
// workspace (Open), registers datasets (Register), ingests them into the
// DuckDB warehouse through Arrow record batches (Ingest), runs Go pipelines
// that compute datasets from others (Pipeline, AddPipeline, RunPipeline),
// runs projects' notebooks and writes their indicator files (RunProject),
// and keeps all of it fresh on schedules and in dependency order
// (Scheduler).
//
// A pipeline is declared in Go, by the program that runs it: an SQL query
// over its input datasets, a Transformer applied to each record batch of
// that query, or both, into an output dataset registered like any other,
// at an access level never below its inputs'. Pseudonymiser is the
// Transformer datalab ships: a keyed HMAC-SHA256 of identifying columns.
//
// Writes to the warehouse run one at a time (DuckDB has one writer); each
// replaces a table and records its snapshot in one transaction, so that a
// failure, a cancellation or a killed process leaves the previous snapshot.
package pipelines
