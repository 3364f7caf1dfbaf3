package csv_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/datalab/datalab/connectors"
	"github.com/datalab/datalab/connectors/csv"
)

// realdata is the folder of real files published by ministries.
const realdata = "../../testdata/realdata"

// writeFile writes content into a fresh temporary folder and returns its
// path.
func writeFile(t testing.TB, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// newSource builds a source of content with extra YAML options.
func newSource(t testing.TB, content, options string, fields ...connectors.Field) connectors.Source {
	t.Helper()
	path := writeFile(t, "data.csv", content)
	src, err := csv.New(connectors.Spec{
		Kind:    "csv",
		Options: []byte("kind: csv\nurl: " + strconv.Quote(path) + "\n" + options),
		Dir:     filepath.Dir(path),
		Fields:  fields,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return src
}

// table is what a stream held: its schema and its rows, each value as Go
// reads it (nil, string, int64, float64, bool, arrow.Date32,
// arrow.Timestamp).
type table struct {
	schema *arrow.Schema
	rows   [][]any
}

// col returns the index of a column by name.
func (tb *table) col(t testing.TB, name string) int {
	t.Helper()
	idx := tb.schema.FieldIndices(name)
	if len(idx) != 1 {
		t.Fatalf("no column %q in %s", name, tb.schema)
	}
	return idx[0]
}

// typeOf returns the Arrow type of a column.
func (tb *table) typeOf(t testing.TB, name string) arrow.DataType {
	return tb.schema.Field(tb.col(t, name)).Type
}

// value returns a column's value on a row (0-based).
func (tb *table) value(t testing.TB, row int, name string) any {
	t.Helper()
	if row >= len(tb.rows) {
		t.Fatalf("row %d of %d", row, len(tb.rows))
	}
	return tb.rows[row][tb.col(t, name)]
}

// readAll reads a source to its end with a checked allocator, and checks
// that every buffer is freed. It returns the stream's error, if any.
func readAll(t testing.TB, src connectors.Source, batchRows int) (*table, error) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	st, err := src.Open(context.Background(), connectors.OpenOptions{Allocator: mem, BatchRows: batchRows})
	if err != nil {
		return nil, err
	}
	defer st.Release()
	tb := &table{schema: st.Schema()}
	for st.Next() {
		rec := st.RecordBatch()
		for r := range int(rec.NumRows()) {
			row := make([]any, rec.NumCols())
			for c, col := range rec.Columns() {
				row[c] = cell(col, r)
			}
			tb.rows = append(tb.rows, row)
		}
	}
	return tb, st.Err()
}

// mustRead reads a source that must read cleanly.
func mustRead(t testing.TB, src connectors.Source) *table {
	t.Helper()
	tb, err := readAll(t, src, 0)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return tb
}

func cell(col arrow.Array, i int) any {
	if col.IsNull(i) {
		return nil
	}
	switch a := col.(type) {
	case *array.String:
		return a.Value(i)
	case *array.Int64:
		return a.Value(i)
	case *array.Float64:
		return a.Value(i)
	case *array.Boolean:
		return a.Value(i)
	case *array.Date32:
		return a.Value(i)
	case *array.Timestamp:
		return a.Value(i)
	}
	return col.ValueStr(i)
}
