package csv_test

import (
	"context"
	"os"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/datalab/datalab/connectors"
	"github.com/datalab/datalab/connectors/csv"
)

// BenchmarkParse reads a generated file of 200,000 rows of mixed types
// (integers, codes, text with quotes, decimal commas, dates, nulls) into
// Arrow batches; b.SetBytes makes it report MB/s.
func BenchmarkParse(b *testing.B) {
	path := writeLarge(b, b.TempDir(), 200_000)
	info, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	src, err := csv.New(connectors.Spec{Kind: "csv", Options: []byte("url: " + path)})
	if err != nil {
		b.Fatal(err)
	}
	mem := memory.NewGoAllocator()
	b.SetBytes(info.Size())
	b.ReportAllocs()
	for b.Loop() {
		st, err := src.Open(context.Background(), connectors.OpenOptions{Allocator: mem})
		if err != nil {
			b.Fatal(err)
		}
		rows := int64(0)
		for st.Next() {
			rows += st.RecordBatch().NumRows()
		}
		if err := st.Err(); err != nil {
			b.Fatal(err)
		}
		st.Release()
		if rows != 200_000 {
			b.Fatalf("%d rows", rows)
		}
	}
}
