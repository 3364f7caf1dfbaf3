package connectortest

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/datalab/datalab/connectors"
)

// Result is what ReadAll read from a stream.
type Result struct {
	Schema      *arrow.Schema
	Rows        [][]string // ValueStr of each column
	Cursor      string     // CursorStream.Cursor, when the stream is one
	Fingerprint connectors.Fingerprint
}

// ReadAll opens src with opts and a checked allocator, reads it to its end
// and fails the test when a buffer is left unreleased. The error is
// Open's or the stream's.
func ReadAll(t testing.TB, src connectors.Source, opts connectors.OpenOptions) (Result, error) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	opts.Allocator = mem
	st, err := src.Open(context.Background(), opts)
	if err != nil {
		return Result{}, err
	}
	defer st.Release()
	res := Result{Schema: st.Schema()}
	for st.Next() {
		rec := st.RecordBatch()
		for i := range int(rec.NumRows()) {
			row := make([]string, rec.NumCols())
			for j, col := range rec.Columns() {
				row[j] = col.ValueStr(i)
			}
			res.Rows = append(res.Rows, row)
		}
	}
	if err := st.Err(); err != nil {
		return res, err
	}
	if cs, ok := st.(connectors.CursorStream); ok {
		res.Cursor = cs.Cursor()
	}
	res.Fingerprint = st.Fingerprint()
	return res, nil
}
