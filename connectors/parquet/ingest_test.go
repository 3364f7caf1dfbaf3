//go:build duckdb_arrow

package parquet_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/rs/zerolog"

	"github.com/datalab/datalab/catalog"
	"github.com/datalab/datalab/connectors"
	"github.com/datalab/datalab/connectors/parquet"
	"github.com/datalab/datalab/pipelines"
)

// TestIngest registers a generated Parquet file in a workspace and
// ingests it into DuckDB: the table has the file's types, nested ones
// included, and its values.
func TestIngest(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "data"), 0o755)
	path := writeParquet(t, filepath.Join(dir, "data"), 5000, 1000, 0)
	reg := fmt.Sprintf(`id: lab.communes
title: Communes
publisher: Lab
access: public
source: {kind: parquet, url: data/%s}
schema:
  fields:
    - {name: petit, type: integer}
    - {name: population, type: string}
`, filepath.Base(path))
	os.MkdirAll(filepath.Join(dir, "datasets"), 0o755)
	if err := os.WriteFile(filepath.Join(dir, "datasets", "communes.yaml"), []byte(reg), 0o644); err != nil {
		t.Fatal(err)
	}
	kinds := &connectors.Registry{}
	kinds.Add("parquet", parquet.New)
	ctx := context.Background()
	ws, err := pipelines.Open(ctx, dir, pipelines.Options{Connectors: kinds, Log: zerolog.New(zerolog.NewTestWriter(t))})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if _, err := ws.Register(ctx, "datasets/communes.yaml"); err != nil {
		t.Fatal(err)
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	snap, err := ws.Ingest(ctx, "lab.communes", pipelines.IngestOptions{Allocator: mem})
	if err != nil {
		t.Fatal(err)
	}
	mem.AssertSize(t, 0)
	if snap.Status != catalog.Succeeded || snap.Rows != 5000 {
		t.Fatalf("snapshot %+v", snap)
	}
	types := map[string]string{}
	titles := map[string]string{}
	for _, c := range snap.Columns {
		types[c.Name], titles[c.Name] = c.Type, c.Title
	}
	for name, want := range map[string]string{
		"code_commune":  "VARCHAR",
		"population":    "VARCHAR",
		"part":          "DOUBLE",
		"actif":         "BOOLEAN",
		"date_de_depot": "DATE",
		"mis_a_jour":    "TIMESTAMP WITH TIME ZONE",
		"petit":         "BIGINT",
		"montant":       "DECIMAL(10,2)",
		"adresse":       "STRUCT(code_postal VARCHAR, ville VARCHAR)",
		"tags":          "VARCHAR[]",
		"compteur":      "UBIGINT",
	} {
		if types[name] != want {
			t.Errorf("column %s: %s, want %s", name, types[name], want)
		}
	}
	if titles["date_de_depot"] != "Date de dépôt" || titles["part"] != "Part (%)" {
		t.Errorf("titles %v", titles)
	}
	var (
		code, pop, cp, ville, day string
		part                      float64
		montant                   string
		ntags                     int
	)
	err = ws.DB.QueryRow(`SELECT code_commune, population, part, adresse.code_postal, adresse.ville,
		len(tags), CAST(date_de_depot AS VARCHAR), CAST(montant AS VARCHAR)
		FROM lab.communes WHERE petit = 1 AND population = '10010'`).Scan(&code, &pop, &part, &cp, &ville, &ntags, &day, &montant)
	if err != nil {
		t.Fatal(err)
	}
	if code != "01001" || pop != "10010" || part != 0.25 || cp != "02001" || ville != "Ville 1001" || ntags != 2 || day != "2024-09-26" || montant != "1001.25" {
		t.Errorf("row 1001: %s %s %v %s %s %d %s %s", code, pop, part, cp, ville, ntags, day, montant)
	}
	var nulls struct{ code, part, adresse, tags int64 }
	if err := ws.DB.QueryRow(`SELECT count(*) FILTER (code_commune IS NULL), count(*) FILTER (part IS NULL),
		count(*) FILTER (adresse IS NULL), count(*) FILTER (tags IS NULL) FROM lab.communes`).Scan(&nulls.code, &nulls.part, &nulls.adresse, &nulls.tags); err != nil {
		t.Fatal(err)
	}
	// Every 7th, 5th, 11th and 3rd row is null.
	if nulls.code != 714 || nulls.part != 1000 || nulls.adresse != 454 || nulls.tags != 1667 {
		t.Errorf("nulls %+v", nulls)
	}
	again, err := ws.Ingest(ctx, "lab.communes", pipelines.IngestOptions{Allocator: mem})
	if err != nil || again.Status != catalog.Unchanged {
		t.Errorf("second ingest: %+v, %v", again, err)
	}
}
