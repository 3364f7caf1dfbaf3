package jsonsrc_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/datalab/datalab/connectors"
	"github.com/datalab/datalab/connectors/connectortest"
)

func TestConformance(t *testing.T) {
	nd := writeFile(t, "records.ndjson", ndjson(1000, 0))
	ndBroken := writeFile(t, "broken.ndjson", ndjson(1000, 900))
	arr := writeFile(t, "records.json", array(1000, 0))
	arrBroken := writeFile(t, "broken.json", array(1000, 900)[:20000])
	srv, _ := serve(t, gzipped(ndjson(1000, 0)))
	from := func(options string) func(t testing.TB) connectors.Source {
		return func(t testing.TB) connectors.Source { return newSource(t, options) }
	}
	connectortest.Run(t, []connectortest.Case{
		{
			Name:      "ndjson",
			Source:    from("url: " + nd + "\nsample_rows: 100"),
			Rows:      1000,
			Schema:    flatSchema,
			BatchRows: 64,
			Unchanged: true,
			// Record 900 breaks the type inferred from the first 100.
			Broken: from("url: " + ndBroken + "\nsample_rows: 100"),
		},
		{
			Name:      "array-struct",
			Source:    from("url: " + arr + "\nnested: struct\nsample_rows: 100"),
			Rows:      1000,
			Schema:    structSchema,
			BatchRows: 100,
			Unchanged: true,
			// The file is cut in the middle of a record.
			Broken: from("url: " + arrBroken + "\nnested: struct\nsample_rows: 10"),
		},
		{
			Name:      "http-gzip",
			Source:    from("url: " + srv.URL + "/records.ndjson.gz\nformat: ndjson"),
			Rows:      1000,
			Schema:    flatSchema,
			BatchRows: 300,
			Unchanged: true,
		},
	})
}

// TestStreamingMemory reads a file and one ten times larger: the peak of
// Arrow memory must not follow the size of the file.
func TestStreamingMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and reads 150 MB")
	}
	dir := t.TempDir()
	peak := func(n int) int64 {
		path := filepath.Join(dir, fmt.Sprintf("large-%d.ndjson", n))
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		w := bufio.NewWriterSize(f, 1<<20)
		for i := 1; i <= n; i++ {
			w.WriteString(record(i, false))
			w.WriteByte('\n')
		}
		if err := errors.Join(w.Flush(), f.Close()); err != nil {
			t.Fatal(err)
		}
		checked := memory.NewCheckedAllocator(memory.NewGoAllocator())
		alloc := connectortest.NewPeakAllocator(checked)
		st, err := newSource(t, "url: "+path+"\nsample_rows: 1000").Open(context.Background(), connectors.OpenOptions{Allocator: alloc, BatchRows: 8192})
		if err != nil {
			t.Fatal(err)
		}
		var rows int64
		for st.Next() {
			rows += st.RecordBatch().NumRows()
		}
		if err := st.Err(); err != nil {
			t.Fatal(err)
		}
		st.Release()
		checked.AssertSize(t, 0)
		os.Remove(path)
		if rows != int64(n) {
			t.Fatalf("%d rows, want %d", rows, n)
		}
		return alloc.Peak()
	}
	small, large := peak(50_000), peak(500_000)
	t.Logf("peak Arrow memory: %d bytes for 50k records, %d for 500k records", small, large)
	if small == 0 || float64(large) >= 1.5*float64(small) {
		t.Errorf("peak memory %d for 500k records, %d for 50k records: it grows with the file", large, small)
	}
}
