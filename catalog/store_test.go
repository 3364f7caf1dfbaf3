package catalog_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/datalab/datalab/catalog"
)

func openStore(t *testing.T) (*catalog.Store, *sql.DB) {
	t.Helper()
	db, err := sql.Open("duckdb", filepath.Join(t.TempDir(), "warehouse.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := catalog.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	return s, db
}

func dataset(id string, level catalog.Level) catalog.Dataset {
	return catalog.Dataset{ID: id, Title: "T " + id, Publisher: "P", Access: level, Contract: catalog.Evolve,
		Source: catalog.Source{Kind: "csv", Options: []byte(`{"kind":"csv","url":"x.csv"}`)}}
}

func TestStoreDatasets(t *testing.T) {
	ctx := context.Background()
	s, db := openStore(t)
	if err := s.Register(ctx, dataset("b.two", catalog.NonPublic), dataset("a.one", catalog.Public)); err != nil {
		t.Fatal(err)
	}
	// Re-registering replaces the registration, keeps one row.
	d := dataset("a.one", catalog.Restricted)
	d.Schema = &catalog.Schema{Fields: []catalog.Field{{Name: "code", Type: "string"}}}
	if err := s.Register(ctx, d); err != nil {
		t.Fatal(err)
	}
	all, err := s.Datasets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].ID != "a.one" || all[1].ID != "b.two" {
		t.Fatalf("datasets = %+v", all)
	}
	got, err := s.Dataset(ctx, "a.one")
	if err != nil {
		t.Fatal(err)
	}
	if got.Access != catalog.Restricted || got.Schema == nil || got.Schema.Fields[0].Name != "code" || string(got.Source.Options) != `{"kind":"csv","url":"x.csv"}` {
		t.Errorf("dataset = %+v", got)
	}
	if _, err := s.Dataset(ctx, "no.such"); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("unknown dataset: %v", err)
	}
	// Opening again over the same warehouse keeps what is there.
	s2, err := catalog.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if all, _ := s2.Datasets(ctx); len(all) != 2 {
		t.Errorf("after reopening: %d datasets", len(all))
	}
}

func TestStoreSnapshots(t *testing.T) {
	ctx := context.Background()
	s, _ := openStore(t)
	d := dataset("a.one", catalog.Public)
	if err := s.Register(ctx, d); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Current(ctx, d.ID); !errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("Current before any load: %v", err)
	}
	first, err := s.BeginSnapshot(ctx, d, "x.csv")
	if err != nil {
		t.Fatal(err)
	}
	first.Status, first.Rows, first.ContentHash = catalog.Succeeded, 42, "h1"
	first.Columns = []catalog.Column{{Name: "code", Title: "Code", Type: "VARCHAR"}}
	first.Fingerprint = []byte(`{"size":3}`)
	if err := s.FinishSnapshot(ctx, first); err != nil {
		t.Fatal(err)
	}
	failed, _ := s.BeginSnapshot(ctx, d, "x.csv")
	failed.Status, failed.Error = catalog.Failed, "line 3: bad"
	if err := s.FinishSnapshot(ctx, failed); err != nil {
		t.Fatal(err)
	}
	interrupted, _ := s.BeginSnapshot(ctx, d, "x.csv")

	cur, err := s.Current(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if cur.ID != first.ID || cur.Rows != 42 || cur.Columns[0].Title != "Code" || string(cur.Fingerprint) != `{"size":3}` || cur.Duration() < 0 {
		t.Errorf("current = %+v", cur)
	}
	n, err := s.Recover(ctx)
	if err != nil || n != 1 {
		t.Fatalf("Recover = %d, %v", n, err)
	}
	got, err := s.Snapshot(ctx, interrupted.ID)
	if err != nil || got.Status != catalog.Failed || got.Error == "" {
		t.Errorf("interrupted snapshot = %+v, %v", got, err)
	}
	all, _ := s.Snapshots(ctx, d.ID, 2)
	if len(all) != 2 || all[0].ID != interrupted.ID || all[1].Error != "line 3: bad" {
		t.Errorf("snapshots = %+v", all)
	}
}

func TestStoreLineage(t *testing.T) {
	ctx := context.Background()
	s, _ := openStore(t)
	src := catalog.NewNode(catalog.KindSource, "data/x.csv")
	ds := catalog.DatasetNode("a.one")
	cell := catalog.NewNode(catalog.KindCell, "p/nb/c")
	ind := catalog.NewNode(catalog.KindIndicator, "p/delai")
	other := catalog.DatasetNode("b.two")
	err := s.AddEdges(ctx,
		catalog.Edge{From: src, To: ds, Kind: "ingest", Snapshot: 1},
		catalog.Edge{From: ds, To: cell, Kind: "reads", Snapshot: 1},
		catalog.Edge{From: other, To: cell, Kind: "reads"},
		catalog.Edge{From: cell, To: ind, Kind: "computes"},
		catalog.Edge{From: ds, To: cell, Kind: "reads", Snapshot: 2}, // a later run
	)
	if err != nil {
		t.Fatal(err)
	}
	up, err := s.Lineage(ctx, ind, catalog.Upstream)
	if err != nil {
		t.Fatal(err)
	}
	if len(up) != 4 {
		t.Fatalf("upstream of %s = %+v", ind, up)
	}
	for _, e := range up {
		if e.From == ds && e.Snapshot != 2 {
			t.Errorf("the latest edge should win: %+v", e)
		}
	}
	down, err := s.Lineage(ctx, src, catalog.Downstream)
	if err != nil {
		t.Fatal(err)
	}
	if len(down) != 3 {
		t.Errorf("downstream of %s = %+v", src, down)
	}
	if _, err := s.Lineage(ctx, "dataset:none", catalog.Upstream); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("unknown node: %v", err)
	}
	if ind.Kind() != "indicator" || ind.Name() != "p/delai" {
		t.Errorf("node parts: %q %q", ind.Kind(), ind.Name())
	}
}
