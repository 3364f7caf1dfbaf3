//go:build duckdb_arrow

package datagouv_test

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
	"github.com/datalab/datalab/connectors/datagouv"
	"github.com/datalab/datalab/pipelines"
)

// TestIngest registers the DREES file through the data.gouv.fr API, with
// CSV options passed through, and ingests it into DuckDB; the second
// ingest finds it unchanged from the API alone.
func TestIngest(t *testing.T) {
	p := newPortal(t)
	dir := t.TempDir()
	reg := fmt.Sprintf(`id: drees.ivg_mineures
title: Part des IVG chez les mineures, par zone
publisher: DREES
access: public
license: etalab-2.0
source:
  kind: datagouv
  dataset: %s
  resource: donnees_feuil4.csv
  api: %s
  delimiter: ";"
  encoding: iso-8859-1
  decimal: ","
schema:
  fields:
    - {name: zone_geo, type: string}
    - {name: part_age_inf18, type: number}
`, slug, p.api())
	os.MkdirAll(filepath.Join(dir, "datasets"), 0o755)
	if err := os.WriteFile(filepath.Join(dir, "datasets", "ivg.yaml"), []byte(reg), 0o644); err != nil {
		t.Fatal(err)
	}
	kinds := &connectors.Registry{}
	kinds.Add("datagouv", datagouv.New)
	ctx := context.Background()
	ws, err := pipelines.Open(ctx, dir, pipelines.Options{Connectors: kinds, Log: zerolog.New(zerolog.NewTestWriter(t))})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if _, err := ws.Register(ctx, "datasets/ivg.yaml"); err != nil {
		t.Fatal(err)
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	snap, err := ws.Ingest(ctx, "drees.ivg_mineures", pipelines.IngestOptions{Allocator: mem})
	if err != nil {
		t.Fatal(err)
	}
	mem.AssertSize(t, 0)
	if snap.Status != catalog.Succeeded || snap.Rows != 1053 {
		t.Fatalf("snapshot %+v", snap)
	}
	if want := p.URL + "/resources/" + slug + "/20240926-141021/donnees-feuil4.csv"; snap.Location != want {
		t.Errorf("location %s, want %s", snap.Location, want)
	}
	var part float64
	if err := ws.DB.QueryRow(`SELECT part_age_inf18 FROM drees.ivg_mineures WHERE zone_geo = 'Ain' AND annee = 2024`).Scan(&part); err != nil {
		t.Fatal(err)
	}
	if part != 2.5 {
		t.Errorf("part_age_inf18 for Ain = %v, want 2.5", part)
	}
	var n int64
	if err := ws.DB.QueryRow(`SELECT count(*) FROM drees.ivg_mineures WHERE zone_geo = 'Bouches-du-Rhône'`).Scan(&n); err != nil || n == 0 {
		t.Errorf("ISO-8859-1 names not decoded: %d rows, %v", n, err)
	}
	again, err := ws.Ingest(ctx, "drees.ivg_mineures", pipelines.IngestOptions{Allocator: mem})
	if err != nil || again.Status != catalog.Unchanged {
		t.Errorf("second ingest: %+v, %v", again, err)
	}
	if got := p.count("donnees-feuil4.csv"); got != 1 {
		t.Errorf("the file was downloaded %d times, want once", got)
	}
}
