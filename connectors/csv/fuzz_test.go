package csv_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/datalab/datalab/connectors"
	"github.com/datalab/datalab/connectors/csv"
)

// fuzzOptions turns a fuzzed byte into a set of options, so that the fuzzer
// explores declared delimiters, encodings, decimals, headers and small
// samples as well as detection.
func fuzzOptions(o byte) string {
	var s string
	switch o & 7 {
	case 1:
		s += "delimiter: \";\"\n"
	case 2:
		s += "delimiter: \",\"\n"
	case 3:
		s += "delimiter: tab\n"
	case 4:
		s += "delimiter: \"|\"\n"
	}
	switch (o >> 3) & 3 {
	case 1:
		s += "encoding: utf-8\n"
	case 2:
		s += "encoding: windows-1252\n"
	case 3:
		s += "encoding: iso-8859-1\n"
	}
	if o&32 != 0 {
		s += "header: false\n"
	}
	if o&64 != 0 {
		s += "sample_rows: 2\n"
	}
	if o&128 != 0 && o&7 != 2 {
		s += "decimal: \",\"\n"
	}
	return s
}

// FuzzCSV feeds arbitrary bytes to the connector: it must never panic,
// every failure must be an error with a message (a data error names its
// line), strings must be valid UTF-8, and every buffer must be freed.
func FuzzCSV(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(realdata, "*.*"))
	for _, p := range files {
		if filepath.Ext(p) == ".md" {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b[:min(len(b), 512)], byte(0))
	}
	for _, s := range []string{
		"", "\n", "\r\n", "a", "a\n", "\xef\xbb\xbf", "\xef\xbb", "\"", "\"\"", "a,b\n\"x", "a,b\n\"x\"\"",
		"a;b\r\n1;\"2\r\n3\"\r\n", "a\n\"\"\"\"\n", "a,b\n1,2,3\n", "a\n01\n1\n", "a\n1 234,5\n",
		"a;b\n2,5;1.5\n", "d\n20240229\n20230229\n", "d\n2024-02-29T23:59:60.1234567Z\n",
		"a\n\xe9\n", "a\n\xc3\n", "a\n\x80\x81\x8d\x8f\x90\x9d\n", "a\n\xf0\x9f\x98\x80\n", "a\n\xf0\x9f\x98",
		"a,a,,A\n1,2,3,4\n", "\n\n\na\n\n1\n\n", "a\n1e400\n", "a\n-9223372036854775808\n", "a|b\n\"x\" |y\n",
		"x\ty\n1\t\"\t\"\n", "a\n1\u00a0234,5\n1\u202f000\n", "a\nNA\n-\nN/A\n",
	} {
		f.Add([]byte(s), byte(0))
		f.Add([]byte(s), byte(0x55))
		f.Add([]byte(s), byte(0xE2))
	}
	// One file, rewritten for each input: a worker runs one input at a
	// time, and a fresh folder per input would slow fuzzing tenfold.
	path := filepath.Join(f.TempDir(), "f.csv")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		f.Fatal(err)
	}
	var sources [256]connectors.Source
	for o := range sources {
		src, err := csv.New(connectors.Spec{Kind: "csv", Options: []byte("url: " + strconv.Quote(path) + "\n" + fuzzOptions(byte(o)))})
		if err != nil {
			f.Fatalf("New with %q: %v", fuzzOptions(byte(o)), err)
		}
		sources[o] = src
	}
	f.Fuzz(func(t *testing.T, data []byte, opt byte) {
		done := make(chan struct{})
		defer close(done)
		go func() {
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				panic(fmt.Sprintf("FuzzCSV: no answer after 10 s for %q with options %q", data, fuzzOptions(opt)))
			}
		}()
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		src := sources[opt]
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		st, err := src.Open(context.Background(), connectors.OpenOptions{Allocator: mem, BatchRows: 3})
		if err != nil {
			checkFuzzError(t, err)
			return
		}
		defer st.Release()
		for st.Next() {
			rec := st.RecordBatch()
			if !rec.Schema().Equal(st.Schema()) {
				t.Fatal("batch schema differs from the stream's")
			}
			for _, col := range rec.Columns() {
				if int64(col.Len()) != rec.NumRows() {
					t.Fatal("column length differs from the batch's rows")
				}
				if s, ok := col.(*array.String); ok {
					for i := range s.Len() {
						if !utf8.ValidString(s.Value(i)) {
							t.Fatalf("invalid UTF-8 in a string: %q", s.Value(i))
						}
					}
				}
			}
		}
		if err := st.Err(); err != nil {
			checkFuzzError(t, err)
		}
	})
}

func checkFuzzError(t *testing.T, err error) {
	t.Helper()
	if err.Error() == "" {
		t.Fatalf("an error without a message: %#v", err)
	}
	var de *connectors.DataError
	if !errors.As(err, &de) {
		t.Fatalf("a failure that is not a *connectors.DataError: %T %v", err, err)
	}
	if de.Line <= 0 || de.Reason == "" || de.Fix == "" {
		t.Fatalf("a data error without a line, a reason or a fix: %+v", de)
	}
}
