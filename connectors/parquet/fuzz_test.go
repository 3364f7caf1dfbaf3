package parquet_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/datalab/datalab/connectors"
)

// FuzzParquet reads mutated Parquet files: the connector must never
// panic nor leak Arrow memory, and every failure is a
// *connectors.DataError naming the file.
func FuzzParquet(f *testing.F) {
	seed, err := os.ReadFile(writeParquet(f, f.TempDir(), 300, 100, 0))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add(seed[:len(seed)/2])
	f.Add([]byte("PAR1"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		tmp, err := os.CreateTemp(dir, "fuzz-*.parquet")
		if err != nil {
			t.Fatal(err)
		}
		path := tmp.Name()
		defer os.Remove(path)
		tmp.Write(data)
		tmp.Close()
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		st, err := newSource(t, "url: "+path).Open(context.Background(), connectors.OpenOptions{Allocator: mem, BatchRows: 64})
		if err == nil {
			for st.Next() {
			}
			err = st.Err()
			st.Release()
		}
		var de *connectors.DataError
		if err != nil && (!errors.As(err, &de) || !strings.HasPrefix(err.Error(), path)) {
			t.Fatalf("error %v (%T) is not a DataError naming the file", err, err)
		}
	})
}

// TestCorruptFile reads a file whose pages are damaged half way: the
// stream fails with a DataError after the good batches, and frees
// everything.
func TestCorruptFile(t *testing.T) {
	path := writeParquet(t, t.TempDir(), 1000, 100, 0)
	data, _ := os.ReadFile(path)
	for i := len(data) / 2; i < len(data)/2+64; i++ {
		data[i] ^= 0x5a
	}
	bad := filepath.Join(t.TempDir(), "bad.parquet")
	os.WriteFile(bad, data, 0o644)
	_, rows, err := readNoFatal(t, newSource(t, "url: "+bad))
	var de *connectors.DataError
	if !errors.As(err, &de) || !strings.Contains(err.Error(), "the Parquet file cannot be read") || len(rows) == 0 {
		t.Errorf("after %d batches: %v", len(rows), err)
	}
}
