//go:build duckdb_arrow

package pipelines

import (
	"context"
	"database/sql"
	"fmt"
	"testing"

	"github.com/datalab/datalab/catalog"
)

// contentHash hashes a table in ranges of rowid, one scan each: the rows
// and their sum are those of one scan of the whole table, whether the rows
// are committed, written by the transaction, or both with some deleted,
// and whatever the number of threads.
func TestContentHashRanges(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec("CREATE TABLE t (id BIGINT, label VARCHAR, amount DECIMAL(18,2))")
	fill := func(from, to int) string {
		return fmt.Sprintf("INSERT INTO t SELECT g, 'label ' || g, g * 0.25 FROM range(%d, %d) AS r(g)", from, to)
	}
	cols := []catalog.Column{{Name: "id", Type: "BIGINT"}, {Name: "label", Type: "VARCHAR"}, {Name: "amount", Type: "DECIMAL(18,2)"}}
	for _, threads := range []int{1, 2, 3, 8} {
		exec(fmt.Sprintf("SET threads = %d", threads))
		for _, c := range []struct {
			name      string
			committed string   // before the transaction
			written   []string // in it
		}{
			{"empty", "", nil},
			{"one row", "", []string{fill(0, 1)}},
			{"written in the transaction", "", []string{fill(0, 300_000)}},
			{"committed", fill(0, 300_000), nil},
			{"committed and written, some deleted", fill(0, 300_000), []string{fill(300_000, 400_000), "DELETE FROM t WHERE id % 7 = 0"}},
		} {
			exec("DELETE FROM t")
			if c.committed != "" {
				exec(c.committed)
			}
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, q := range c.written {
				if _, err := tx.ExecContext(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
			var wantN int64
			var sum sql.NullString
			if err := tx.QueryRowContext(ctx, "SELECT count(*), CAST(sum(CAST(hash(t) AS HUGEINT)) AS VARCHAR) FROM t AS t").Scan(&wantN, &sum); err != nil {
				t.Fatal(err)
			}
			n, got, err := contentHash(ctx, tx, "t", cols)
			if err != nil {
				t.Fatal(err)
			}
			if want := hashOf(cols, wantN, sum.String); n != wantN || got != want {
				t.Errorf("%d threads, %s: %d rows, %s; one scan: %d rows, %s", threads, c.name, n, got, wantN, want)
			}
			tx.Rollback()
		}
	}
}
