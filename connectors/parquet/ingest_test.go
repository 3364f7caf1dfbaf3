//go:build duckdb_arrow

package parquet_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/datalab/datalab/catalog"
	"github.com/datalab/datalab/connectors/parquet"
	"github.com/datalab/datalab/pipelines/pipelinetest"
)

// TestIngest registers a generated Parquet file in a workspace and
// ingests it into DuckDB: the table has the file's types, nested ones
// included, and its values.
func TestIngest(t *testing.T) {
	ws := pipelinetest.Open(t, "parquet", parquet.New)
	os.MkdirAll(ws.Path("data"), 0o755)
	path := writeParquet(t, ws.Path("data"), 5000, 1000, 0)
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
	pipelinetest.Register(t, ws, "communes.yaml", reg)
	snap, err := pipelinetest.Ingest(t, ws, "lab.communes")
	if err != nil {
		t.Fatal(err)
	}
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
	again, err := pipelinetest.Ingest(t, ws, "lab.communes")
	if err != nil || again.Status != catalog.Unchanged {
		t.Errorf("second ingest: %+v, %v", again, err)
	}
}
