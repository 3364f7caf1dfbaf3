//go:build duckdb_arrow

package datagouv_test

import (
	"fmt"
	"testing"

	"github.com/datalab/datalab/catalog"
	"github.com/datalab/datalab/connectors/datagouv"
	"github.com/datalab/datalab/pipelines/pipelinetest"
)

// TestIngest registers the DREES file through the data.gouv.fr API, with
// CSV options passed through, and ingests it into DuckDB; the second
// ingest finds it unchanged from the API alone.
func TestIngest(t *testing.T) {
	p := newPortal(t)
	ws := pipelinetest.Open(t, "datagouv", datagouv.New)
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
	pipelinetest.Register(t, ws, "ivg.yaml", reg)
	snap, err := pipelinetest.Ingest(t, ws, "drees.ivg_mineures")
	if err != nil {
		t.Fatal(err)
	}
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
	again, err := pipelinetest.Ingest(t, ws, "drees.ivg_mineures")
	if err != nil || again.Status != catalog.Unchanged {
		t.Errorf("second ingest: %+v, %v", again, err)
	}
	if got := p.count("donnees-feuil4.csv"); got != 1 {
		t.Errorf("the file was downloaded %d times, want once", got)
	}
}
