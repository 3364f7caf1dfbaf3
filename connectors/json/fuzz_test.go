package jsonsrc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/datalab/datalab/connectors"
	jsonsrc "github.com/datalab/datalab/connectors/json"
)

// FuzzJSON reads arbitrary bytes as a JSON source: it must never panic,
// leak Arrow memory or fail without a *connectors.DataError naming the
// file; and what it reads as records must be valid JSON.
func FuzzJSON(f *testing.F) {
	for _, seed := range []string{
		ndjson(20, 0), array(20, 0), ndjson(20, 15), array(20, 12)[:900],
		`[{"a": 1}, {"a": "x"}]`, `[{"a": {"b": [1, {"c": null}]}}]`, "{\"a\":1}\n{\"a\":2,\"b\":3}\n",
		`[{"t": "2024-06-01T12:00:00+02:00"}, {"t": "2024-13-01"}]`, `[1]`, `[]`, ``, "\ufeff[{\"é\": \"\\u00e9\"}]",
		`[{"a": 1e400}, {"a": -0}]`, "{\"a\": [[[[]]]]}\n", `[{"": 1, " ": 2}]`, "[{\"a\": 1}] x",
	} {
		f.Add([]byte(seed), false, uint8(3))
		f.Add([]byte(seed), true, uint8(1))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte, nestedStruct bool, sample uint8) {
		tmp, err := os.CreateTemp(dir, "fuzz-*.json")
		if err != nil {
			t.Fatal(err)
		}
		path := tmp.Name()
		defer os.Remove(path)
		if _, err := tmp.Write(data); err != nil {
			t.Fatal(err)
		}
		if err := tmp.Close(); err != nil {
			t.Fatal(err)
		}
		nested := "flatten"
		if nestedStruct {
			nested = "struct"
		}
		src, err := jsonsrc.New(connectors.Spec{Kind: "json", Options: fmt.Appendf(nil, "url: %s\nnested: %s\nsample_rows: %d", path, nested, 1+sample%8)})
		if err != nil {
			t.Fatal(err)
		}
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		st, err := src.Open(context.Background(), connectors.OpenOptions{Allocator: mem, BatchRows: 3})
		if err != nil {
			checkError(t, err, path)
			return
		}
		defer st.Release()
		var rows int64
		for st.Next() {
			rec := st.RecordBatch()
			for i, col := range rec.Columns() {
				if int64(col.Len()) != rec.NumRows() {
					t.Fatalf("column %d: %d values for %d rows", i, col.Len(), rec.NumRows())
				}
			}
			rows += rec.NumRows()
		}
		if err := st.Err(); err != nil {
			checkError(t, err, path)
			return
		}
		// What was read whole was valid JSON.
		text := bytes.TrimPrefix(data, []byte("\ufeff"))
		if t2 := bytes.TrimSpace(text); len(t2) > 0 && t2[0] == '[' {
			if !json.Valid(text) {
				t.Fatalf("read %d rows from invalid JSON %q", rows, data)
			}
			return
		}
		for line := range strings.SplitSeq(string(text), "\n") {
			if strings.TrimSpace(line) != "" && !json.Valid([]byte(line)) {
				t.Fatalf("read %d rows from invalid NDJSON line %q", rows, line)
			}
		}
	})
}

func checkError(t *testing.T, err error, path string) {
	t.Helper()
	var de *connectors.DataError
	if !errors.As(err, &de) {
		t.Fatalf("error %v (%T) is not a *connectors.DataError", err, err)
	}
	if de.Location != path || de.Reason == "" || !strings.HasPrefix(err.Error(), path) {
		t.Fatalf("unclear error: %v", err)
	}
}
