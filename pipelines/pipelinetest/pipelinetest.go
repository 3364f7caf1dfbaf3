//go:build duckdb_arrow

// Package pipelinetest helps tests load datasets through a real workspace
// and its DuckDB warehouse: a connector's tests check that DuckDB takes
// every Arrow type it makes, and that an ingest releases every buffer.
package pipelinetest

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/rs/zerolog"

	"github.com/datalab/datalab/catalog"
	"github.com/datalab/datalab/connectors"
	"github.com/datalab/datalab/pipelines"
)

// Open opens a workspace in a new temporary folder, with one connector
// kind, logging to t. It is closed at the end of the test.
func Open(t testing.TB, kind string, factory connectors.Factory) *pipelines.Workspace {
	t.Helper()
	kinds := &connectors.Registry{}
	kinds.Add(kind, factory)
	ws, err := pipelines.Open(context.Background(), t.TempDir(), pipelines.Options{Connectors: kinds, Log: zerolog.New(zerolog.NewTestWriter(t))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	return ws
}

// Register writes registration (YAML) as datasets/name in ws, and
// registers it.
func Register(t testing.TB, ws *pipelines.Workspace, name, registration string) {
	t.Helper()
	file := filepath.Join("datasets", name)
	if err := os.MkdirAll(ws.Path("datasets"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ws.Path(file), []byte(registration), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ws.Register(context.Background(), file); err != nil {
		t.Fatal(err)
	}
}

// Ingest ingests dataset id of ws with a checked allocator, and fails the
// test when the ingest leaves an Arrow buffer unreleased. The ingest checks
// the content hash it computes from the batches against the table's
// (IngestOptions.CheckHash).
func Ingest(t testing.TB, ws *pipelines.Workspace, id string) (catalog.Snapshot, error) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	snap, err := ws.Ingest(context.Background(), id, pipelines.IngestOptions{Allocator: mem, CheckHash: true})
	mem.AssertSize(t, 0)
	return snap, err
}
