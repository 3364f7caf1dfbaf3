package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The benchmark compares like with like: on a small version of both inputs,
// DuckDB's read_csv (with the benchmark's options), datalab's ingest and the
// naive loader give the same table: the same column types, the same rows
// (EXCEPT ALL both ways) and the same content hash, the sum(hash(t)) that
// datalab's snapshots record. The two inputs hold the same rows, so their
// tables are the same too.
func TestSameTable(t *testing.T) {
	const rows = 50_000
	dir := t.TempDir()
	ctx := t.Context()
	var first table
	for _, in := range inputs(dir, rows) {
		if err := generate(in); err != nil {
			t.Fatal(err)
		}
		duck, err := loadDuckDB(ctx, workDir(t, dir, in.Name+"-duckdb"), in)
		if err != nil {
			t.Fatalf("%s: duckdb: %v", in.Name, err)
		}
		lab, err := loadDatalab(ctx, workDir(t, dir, in.Name+"-datalab"), in, false)
		if err != nil {
			t.Fatalf("%s: datalab: %v", in.Name, err)
		}
		naive, err := loadNaive(ctx, workDir(t, dir, in.Name+"-naive"), in)
		if err != nil {
			t.Fatalf("%s: naive: %v", in.Name, err)
		}
		for _, l := range []loaded{duck, lab, naive} {
			if l.Rows != rows {
				t.Errorf("%s: %s loaded %d rows, want %d", in.Name, l.DB, l.Rows, rows)
			}
		}
		want := table{name: in.Name + " by duckdb", loaded: duck}
		if first.name == "" {
			first = want
		} else {
			compare(ctx, t, first, want)
		}
		compare(ctx, t, want, table{name: in.Name + " by datalab", loaded: lab})
		compare(ctx, t, want, table{name: in.Name + " by the naive loader", loaded: naive})
	}
}

// A table that differs in one value, or in a column's type, is told apart:
// the comparison can fail.
func TestSameTableTellsDifferences(t *testing.T) {
	dir := t.TempDir()
	ctx := t.Context()
	in := inputs(dir, 1000)[0]
	if err := generate(in); err != nil {
		t.Fatal(err)
	}
	duck, err := loadDuckDB(ctx, workDir(t, dir, "duckdb"), in)
	if err != nil {
		t.Fatal(err)
	}
	want := table{name: "duckdb", loaded: duck}
	for name, change := range map[string]string{
		"one value":   "UPDATE bench SET montant = montant + 0.01 WHERE id = 500",
		"a type":      "ALTER TABLE bench ALTER code_commune TYPE BIGINT",
		"a duplicate": "INSERT INTO bench SELECT * FROM bench WHERE id = 1; DELETE FROM bench WHERE id = 2",
	} {
		other, err := loadDuckDB(ctx, workDir(t, dir, "changed-"+name), in)
		if err != nil {
			t.Fatal(err)
		}
		db, err := sql.Open("duckdb", other.DB)
		if err != nil {
			t.Fatal(err)
		}
		_, err = db.ExecContext(ctx, change)
		if cerr := db.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatal(err)
		}
		if diffs := differences(ctx, t, want, table{name: name, loaded: other}); len(diffs) == 0 {
			t.Errorf("a table with %s changed compares as the same", name)
		}
	}
}

// table is a loaded table, named for messages.
type table struct {
	name string
	loaded
}

// compare fails the test when got is not the same table as want.
func compare(ctx context.Context, t *testing.T, want, got table) {
	t.Helper()
	for _, d := range differences(ctx, t, want, got) {
		t.Errorf("%s differs from %s: %s", got.name, want.name, d)
	}
}

// differences lists how got differs from want: column names and types,
// row count and content hash, rows of one missing from the other.
func differences(ctx context.Context, t *testing.T, want, got table) []string {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for alias, l := range map[string]loaded{"w": want.loaded, "g": got.loaded} {
		if _, err := conn.ExecContext(ctx, fmt.Sprintf("ATTACH '%s' AS %s (READ_ONLY)", l.DB, alias)); err != nil {
			t.Fatal(err)
		}
	}
	w, g := "w."+qualified(want.Table), "g."+qualified(got.Table)
	var diffs []string
	if wt, gt := columnTypes(ctx, t, conn, w), columnTypes(ctx, t, conn, g); !slices.Equal(wt, gt) {
		diffs = append(diffs, fmt.Sprintf("columns %v, want %v", gt, wt))
		return diffs // the rows cannot be compared
	}
	wn, wh := contentHash(ctx, t, conn, w)
	gn, gh := contentHash(ctx, t, conn, g)
	if wn != gn || wh != gh {
		diffs = append(diffs, fmt.Sprintf("%d rows of hash %s, want %d rows of hash %s", gn, gh, wn, wh))
	}
	for _, q := range []struct{ what, from, minus string }{{"rows missing", w, g}, {"rows in excess", g, w}} {
		var n int64
		if err := conn.QueryRowContext(ctx, fmt.Sprintf("SELECT count(*) FROM (SELECT * FROM %s EXCEPT ALL SELECT * FROM %s)", q.from, q.minus)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			diffs = append(diffs, fmt.Sprintf("%d %s", n, q.what))
		}
	}
	return diffs
}

// qualified is the table's name with a schema.
func qualified(table string) string {
	if !strings.Contains(table, ".") {
		return "main." + table
	}
	return table
}

func columnTypes(ctx context.Context, t *testing.T, conn *sql.Conn, table string) []string {
	t.Helper()
	rows, err := conn.QueryContext(ctx, "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM "+table+")")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, name+" "+typ)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return cols
}

// contentHash is the row count and the order-independent sum of the rows'
// hashes, as datalab's snapshots compute it.
func contentHash(ctx context.Context, t *testing.T, conn *sql.Conn, table string) (int64, string) {
	t.Helper()
	var n int64
	var sum sql.NullString
	if err := conn.QueryRowContext(ctx, "SELECT count(*), CAST(sum(CAST(hash(t) AS HUGEINT)) AS VARCHAR) FROM "+table+" AS t").Scan(&n, &sum); err != nil {
		t.Fatal(err)
	}
	return n, sum.String
}

func workDir(t *testing.T, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestNewMemoryCost checks that the probe of new memory writes it: each
// page written faults at least once, or a huge page for 512 of them.
func TestNewMemoryCost(t *testing.T) {
	took, faults, err := newMemoryCost()
	if err != nil {
		t.Fatal(err)
	}
	pages := int64(64<<20) / int64(os.Getpagesize())
	if took <= 0 || faults < pages/512 || faults > pages+1000 {
		t.Errorf("64 MB of new memory written in %v with %d page faults: want a time and %d to %d faults", took, faults, pages/512, pages)
	}
}
