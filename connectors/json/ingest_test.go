//go:build duckdb_arrow

package jsonsrc_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/rs/zerolog"

	"github.com/datalab/datalab/catalog"
	"github.com/datalab/datalab/connectors"
	jsonsrc "github.com/datalab/datalab/connectors/json"
	"github.com/datalab/datalab/pipelines"
)

// workspace opens a workspace holding files, with the json connector.
func workspace(t *testing.T, files map[string]string) *pipelines.Workspace {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		path := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	kinds := &connectors.Registry{}
	kinds.Add("json", jsonsrc.New)
	ws, err := pipelines.Open(context.Background(), dir, pipelines.Options{Connectors: kinds, Log: zerolog.New(zerolog.NewTestWriter(t))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	return ws
}

func ingest(t *testing.T, ws *pipelines.Workspace, id string) (catalog.Snapshot, error) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	return ws.Ingest(context.Background(), id, pipelines.IngestOptions{Allocator: mem})
}

func columnTypes(snap catalog.Snapshot) map[string]string {
	m := map[string]string{}
	for _, c := range snap.Columns {
		m[c.Name] = c.Type
	}
	return m
}

func TestIngest(t *testing.T) {
	const reg = `id: lab.aides
title: Aides
publisher: Lab
access: public
source: {kind: json, url: data/aides.ndjson, nested: struct, sample_rows: 500}
`
	ws := workspace(t, map[string]string{"datasets/aides.yaml": reg, "data/aides.ndjson": ndjson(3000, 0),
		"datasets/plat.yaml": strings.NewReplacer("lab.aides", "lab.plat", "nested: struct, ", "", "aides.ndjson", "aides.json").Replace(reg),
		"data/aides.json":    array(3000, 0)})
	if _, err := ws.Register(context.Background(), "datasets/aides.yaml", "datasets/plat.yaml"); err != nil {
		t.Fatal(err)
	}
	snap, err := ingest(t, ws, "lab.aides")
	if err != nil {
		t.Fatal(err)
	}
	if snap.Status != catalog.Succeeded || snap.Rows != 3000 {
		t.Fatalf("snapshot %+v", snap)
	}
	types := columnTypes(snap)
	for name, want := range map[string]string{
		"id": "BIGINT", "code": "VARCHAR", "montant": "DOUBLE", "actif": "BOOLEAN", "jour": "DATE",
		"maj": "TIMESTAMP WITH TIME ZONE", "adresse": "STRUCT(code_postal VARCHAR, ville VARCHAR)", "tags": "VARCHAR[]", "note": "VARCHAR",
	} {
		if types[name] != want {
			t.Errorf("column %s: %s, want %s", name, types[name], want)
		}
	}
	var code, cp, ville, note, maj string
	var montant float64
	var ntags int
	err = ws.DB.QueryRow(`SELECT code, montant, adresse.code_postal, adresse.ville, len(tags), note,
		strftime(maj AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M') FROM lab.aides WHERE id = 2400`).Scan(&code, &montant, &cp, &ville, &ntags, &note, &maj)
	if err != nil {
		t.Fatal(err)
	}
	if code != "02400" || montant != 2400.5 || cp != "03400" || ville != "Ville 2400" || ntags != 2 || note != `note "2400"` || maj != "2024-03-01 08:00" {
		t.Errorf("row 2400: %s %v %s %s %d %s %s", code, montant, cp, ville, ntags, note, maj)
	}

	flat, err := ingest(t, ws, "lab.plat")
	if err != nil {
		t.Fatal(err)
	}
	types = columnTypes(flat)
	if types["adresse_code_postal"] != "VARCHAR" || types["adresse_ville"] != "VARCHAR" || types["adresse"] != "" {
		t.Errorf("flattened columns %v", types)
	}
	for _, c := range flat.Columns {
		if c.Name == "adresse_code_postal" && c.Title != "adresse.code postal" {
			t.Errorf("title %q", c.Title)
		}
	}
	if n := count(t, ws, `SELECT count(*) FROM lab.plat WHERE adresse_ville = 'Ville 17' AND tags IS NULL AND jour = DATE '2024-06-18'`); n != 1 {
		t.Errorf("row 17 not loaded as typed: %d", n)
	}
}

func count(t *testing.T, ws *pipelines.Workspace, query string) int64 {
	t.Helper()
	var n int64
	if err := ws.DB.QueryRow(query).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestIngestBadRecordKeepsPreviousTable: a record past the sample that
// breaks its column's type fails the ingest, naming the line and the
// field, and the table loaded before stays.
func TestIngestBadRecordKeepsPreviousTable(t *testing.T) {
	const reg = `id: lab.aides
title: Aides
publisher: Lab
access: public
source: {kind: json, url: data/aides.ndjson, sample_rows: 100}
`
	ws := workspace(t, map[string]string{"datasets/aides.yaml": reg, "data/aides.ndjson": ndjson(1000, 0)})
	if _, err := ws.Register(context.Background(), "datasets/aides.yaml"); err != nil {
		t.Fatal(err)
	}
	good, err := ingest(t, ws, "lab.aides")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ws.Path("data/aides.ndjson"), []byte(ndjson(100_000, 90_000)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = ingest(t, ws, "lab.aides")
	var de *connectors.DataError
	if !errors.As(err, &de) || de.Line != 90_000 || de.Column != "id" || !strings.Contains(err.Error(), "aides.ndjson:90000: column id") {
		t.Fatalf("err = %v, want a DataError at line 90000, column id", err)
	}
	if n := count(t, ws, `SELECT count(*) FROM lab.aides`); n != good.Rows {
		t.Errorf("table has %d rows, want the previous %d", n, good.Rows)
	}
}
