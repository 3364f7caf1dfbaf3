//go:build duckdb_arrow

package pipelines_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/datalab/datalab/catalog"
	"github.com/datalab/datalab/connectors"
	"github.com/datalab/datalab/connectors/csv"
	"github.com/datalab/datalab/pipelines"
)

// A failed ingest of a non_public dataset logs where and why, never the
// value that broke it; the catalog, inside the warehouse, keeps the whole
// error for those who may read it.
func TestFailedIngestLogsNoValue(t *testing.T) {
	ctx := context.Background()
	var logs bytes.Buffer
	dir := t.TempDir()
	reg := strings.Replace(numbersReg, "access: restricted", "access: non_public", 1) +
		"schema: {fields: [{name: amount, type: number}]}\n"
	writeFile(t, dir+"/datasets/numbers.yaml", reg)
	writeFile(t, dir+"/data/numbers.csv", "id;code;amount\n1;00001;2,5\n2;00002;SECRET-VALUE-42\n")
	kinds := &connectors.Registry{}
	kinds.Add("csv", csv.New)
	ws, err := pipelines.Open(ctx, dir, pipelines.Options{Connectors: kinds, Log: zerolog.New(&logs)})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	register(t, ws, "datasets/numbers.yaml")
	snap, err := ws.Ingest(ctx, "lab.numbers", pipelines.IngestOptions{})
	if err == nil {
		t.Fatal("the ingest of a bad value succeeded")
	}
	if !strings.Contains(snap.Error, "SECRET-VALUE-42") {
		t.Errorf("the catalog lost the value that failed: %q", snap.Error)
	}
	if strings.Contains(logs.String(), "SECRET-VALUE-42") {
		t.Errorf("a non_public value reached the log:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "numbers.csv:3: column amount") {
		t.Errorf("the log does not say where the ingest failed:\n%s", logs.String())
	}
	// Public data is logged whole.
	if got := pipelines.LogSafeError(err, catalog.Public); !strings.Contains(got, "SECRET-VALUE-42") {
		t.Errorf("public error shortened: %s", got)
	}
	if lvl := ws.JobLevel(ctx, catalog.DatasetNode("lab.numbers"), nil); lvl != catalog.NonPublic {
		t.Errorf("JobLevel = %s", lvl)
	}
	if lvl := ws.JobLevel(ctx, catalog.DatasetNode("lab.unknown"), nil); lvl != catalog.NonPublic {
		t.Errorf("JobLevel of an unknown dataset = %s, want non_public", lvl)
	}
}
