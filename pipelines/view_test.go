//go:build duckdb_arrow

package pipelines

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestRegisterViewRelease checks that a released view is gone from its
// connection, which goes back to the pool: no query on it can reach the
// freed stream.
func TestRegisterViewRelease(t *testing.T) {
	ctx := context.Background()
	conn := duckConn(t)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := array.NewInt64Builder(mem)
	b.AppendValues([]int64{1, 2, 3}, nil)
	col := b.NewArray()
	b.Release()
	schema := arrow.NewSchema([]arrow.Field{{Name: "n", Type: arrow.PrimitiveTypes.Int64}}, nil)
	rec := array.NewRecordBatch(schema, []arrow.Array{col}, 3)
	col.Release()
	rd, err := array.NewRecordReader(schema, []arrow.RecordBatch{rec})
	rec.Release()
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Release()

	release, err := registerView(conn, rd, "datalab_ingest_test")
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	if err := conn.QueryRowContext(ctx, `SELECT sum(n) FROM datalab_ingest_test`).Scan(&sum); err != nil || sum != 6 {
		t.Fatalf("sum over the view: %d, %v; want 6", sum, err)
	}
	release()
	var views int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_views() WHERE view_name = 'datalab_ingest_test'`).Scan(&views); err != nil {
		t.Fatal(err)
	}
	if views != 0 {
		t.Errorf("the view outlived its release: %d view(s) datalab_ingest_test", views)
	}
	if _, err := conn.ExecContext(ctx, `SELECT * FROM datalab_ingest_test`); err == nil {
		t.Error("a query of the released view succeeded")
	}
}
