package parquet_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/datalab/datalab/connectors"
	"github.com/datalab/datalab/connectors/connectortest"
	"github.com/datalab/datalab/connectors/parquet"
)

func newSource(t testing.TB, options string, fields ...connectors.Field) connectors.Source {
	t.Helper()
	src, err := parquet.New(connectors.Spec{Kind: "parquet", Options: []byte(options), Fields: fields})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// serve serves path with an ETag, answering conditional requests with
// 304, and counts the full answers.
func serve(t testing.TB, path string) (*httptest.Server, *atomic.Int64) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var full atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"p1"`)
		if r.Header.Get("If-None-Match") == `"p1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		full.Add(1)
		w.Write(data)
	}))
	t.Cleanup(srv.Close)
	return srv, &full
}

func TestConformance(t *testing.T) {
	dir := t.TempDir()
	path := writeParquet(t, dir, 1000, 100, 0)
	huge := writeParquet(t, dir, 1000, 100, 950)
	truncated := filepath.Join(dir, "truncated.parquet")
	data, _ := os.ReadFile(path)
	os.WriteFile(truncated, data[:len(data)/2], 0o644)
	srv, _ := serve(t, path)
	connectortest.Run(t, []connectortest.Case{
		{
			Name:      "local",
			Source:    func(t testing.TB) connectors.Source { return newSource(t, "url: "+path) },
			Rows:      1000,
			Schema:    wantSchema,
			BatchRows: 64,
			Unchanged: true,
			// A declared integer that row 950 breaks, far past the first batches.
			Broken: func(t testing.TB) connectors.Source {
				return newSource(t, "url: "+huge, connectors.Field{Name: "compteur", Type: connectors.TypeInteger})
			},
		},
		{
			Name:      "http",
			Source:    func(t testing.TB) connectors.Source { return newSource(t, "url: "+srv.URL+"/data.parquet") },
			Rows:      1000,
			Schema:    wantSchema,
			BatchRows: 300,
			Unchanged: true,
			Broken:    func(t testing.TB) connectors.Source { return newSource(t, "url: "+truncated) },
		},
	})
}

// read reads a whole stream with a checked allocator and returns its
// batches' rows as text, one map per row.
func read(t *testing.T, src connectors.Source, batchRows int) (*arrow.Schema, []map[string]string) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	st, err := src.Open(context.Background(), connectors.OpenOptions{Allocator: mem, BatchRows: batchRows})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Release()
	var rows []map[string]string
	for st.Next() {
		rec := st.RecordBatch()
		for i := range int(rec.NumRows()) {
			row := map[string]string{}
			for j, f := range rec.Schema().Fields() {
				row[f.Name] = rec.Column(j).ValueStr(i)
			}
			rows = append(rows, row)
		}
	}
	if err := st.Err(); err != nil {
		t.Fatal(err)
	}
	return st.Schema(), rows
}

func TestValues(t *testing.T) {
	path := writeParquet(t, t.TempDir(), 2500, 1000, 0)
	_, rows := read(t, newSource(t, "url: "+path), 700)
	if len(rows) != 2500 {
		t.Fatalf("%d rows, want 2500", len(rows))
	}
	for i, want := range map[int]map[string]string{
		0:    {"code_commune": "00000", "population": "0", "part": "0", "actif": "true", "date_de_depot": "2024-01-01", "petit": "0", "montant": "0.25", "tags": "(null)", "compteur": "0"},
		3:    {"code_commune": "(null)", "part": "0.75", "actif": "false", "tags": "(null)"},
		4:    {"part": "(null)", "tags": "[]"},
		5:    {"tags": `["a","5"]`},
		10:   {"adresse": "(null)"},
		1001: {"code_commune": "01001", "population": "10010", "adresse": `{"code_postal":"02001","ville":"Ville 1001"}`, "mis_a_jour": "2024-01-01T16:41:00Z"},
	} {
		for col, v := range want {
			if got := rows[i][col]; got != v {
				t.Errorf("row %d, %s = %q, want %q", i, col, got, v)
			}
		}
	}
}

func TestDeclaredTypes(t *testing.T) {
	path := writeParquet(t, t.TempDir(), 300, 100, 0)
	schema, rows := read(t, newSource(t, "url: "+path,
		connectors.Field{Name: "population", Type: connectors.TypeString},
		connectors.Field{Name: "petit", Type: connectors.TypeInteger},
		connectors.Field{Name: "montant_eur", Title: "Montant", Type: connectors.TypeNumber},
		connectors.Field{Name: "date_de_depot", Type: connectors.TypeDatetime},
		connectors.Field{Name: "mis_a_jour", Type: connectors.TypeDate},
		connectors.Field{Name: "compteur", Type: connectors.TypeInteger},
		connectors.Field{Name: "code_commune", Type: connectors.TypeString},
	), 128)
	for name, typ := range map[string]string{
		"population": "utf8", "petit": "int64", "montant_eur": "float64", "date_de_depot": "timestamp[us]",
		"mis_a_jour": "date32", "compteur": "int64", "code_commune": "utf8", "part": "float64",
	} {
		i := schema.FieldIndices(name)
		if len(i) != 1 || schema.Field(i[0]).Type.String() != typ {
			t.Errorf("column %s: %v, want type %s", name, schema.FieldIndices(name), typ)
		}
	}
	if tl, _ := schema.Field(schema.FieldIndices("montant_eur")[0]).Metadata.GetValue(connectors.TitleKey); tl != "Montant" {
		t.Errorf("renamed column's title = %q", tl)
	}
	want := map[string]string{"population": "1230", "petit": "123", "montant_eur": "123.25", "date_de_depot": "2024-05-03T00:00:00", "mis_a_jour": "2024-01-01", "compteur": "123"}
	for col, v := range want {
		if got := rows[123][col]; got != v {
			t.Errorf("row 123, %s = %q, want %q", col, got, v)
		}
	}
}

func TestDeclaredTypeMismatch(t *testing.T) {
	path := writeParquet(t, t.TempDir(), 10, 10, 0)
	for _, tc := range []struct {
		field connectors.Field
		want  string
	}{
		{connectors.Field{Name: "actif", Type: connectors.TypeInteger}, "column actif: the file's column is bool, which cannot be read as integer"},
		{connectors.Field{Name: "part", Type: connectors.TypeInteger}, "declare the column as number"},
		{connectors.Field{Name: "adresse", Type: connectors.TypeString}, "cannot be read as string"},
		{connectors.Field{Name: "absent", Type: connectors.TypeString}, "column absent: declared in the registration's schema but not in the file; name one of the file's columns: code_commune, population"},
	} {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		_, err := newSource(t, "url: "+path, tc.field).Open(context.Background(), connectors.OpenOptions{Allocator: mem})
		var de *connectors.DataError
		if !errors.As(err, &de) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%+v: err = %v, want a DataError with %q", tc.field, err, tc.want)
		}
		mem.AssertSize(t, 0)
	}
}

func TestBrokenValueNamesRows(t *testing.T) {
	path := writeParquet(t, t.TempDir(), 1000, 100, 950)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	st, err := newSource(t, "url: "+path, connectors.Field{Name: "compteur", Type: connectors.TypeInteger}).
		Open(context.Background(), connectors.OpenOptions{Allocator: mem, BatchRows: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Release()
	var rows int64
	for st.Next() {
		rows += st.RecordBatch().NumRows()
	}
	var de *connectors.DataError
	if !errors.As(st.Err(), &de) || de.Column != "compteur" || !strings.Contains(de.Reason, "rows 901 to 1000") || rows != 900 {
		t.Errorf("after %d rows: %v", rows, st.Err())
	}
}

func TestColumns(t *testing.T) {
	path := writeParquet(t, t.TempDir(), 50, 20, 0)
	schema, rows := read(t, newSource(t, "url: "+path+"\ncolumns: [Tags, code_commune, Adresse]"), 10)
	if got := strings.Join(fieldNames(schema), ","); got != "code_commune,adresse,tags" || len(rows) != 50 {
		t.Errorf("columns %s, %d rows", got, len(rows))
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	_, err := newSource(t, "url: "+path+"\ncolumns: [nope]").Open(context.Background(), connectors.OpenOptions{Allocator: mem})
	if err == nil || !strings.Contains(err.Error(), "source.columns[0] names a column that the file does not have") {
		t.Errorf("unknown column: %v", err)
	}
	mem.AssertSize(t, 0)
}

func fieldNames(s *arrow.Schema) []string {
	var names []string
	for _, f := range s.Fields() {
		names = append(names, f.Name)
	}
	return names
}

func TestSpecErrors(t *testing.T) {
	path := writeParquet(t, t.TempDir(), 1, 1, 0)
	for _, tc := range []struct {
		options string
		fields  []connectors.Field
		field   string
	}{
		{"", nil, "source"},
		{"kind: parquet", nil, "source.url"},
		{"url: " + path + "\ndelimiter: ';'", nil, "source.delimiter"},
		{"url: " + path + "\ncolumns: code", nil, "source.columns"},
		{"url: " + path + "\ncolumns: ['']", nil, "source.columns[0]"},
		{"kind: csv\nurl: " + path, nil, "source.kind"},
		{"url: missing.parquet", nil, "source.url"},
		{"url: ftp://x/y.parquet", nil, "source.url"},
		{"url: " + path, []connectors.Field{{Name: "x", Type: "geopoint"}}, "schema.fields[0].type"},
		{"url: " + path, []connectors.Field{{Name: "x", Type: "date", Format: "%d/%m/%Y"}}, "schema.fields[0].format"},
		{"url: " + path, []connectors.Field{{Type: "date"}}, "schema.fields[0].name"},
	} {
		_, err := parquet.New(connectors.Spec{Kind: "parquet", Options: []byte(tc.options), Fields: tc.fields, Dir: t.TempDir()})
		var se *connectors.SpecError
		if !errors.As(err, &se) || se.Field != tc.field || !errors.Is(err, connectors.ErrBadSpec) {
			t.Errorf("%q %v: err = %v, want a SpecError on %s", tc.options, tc.fields, err, tc.field)
		}
	}
}

func TestNotParquet(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.parquet")
	os.WriteFile(path, []byte("a;b\n1;2\n"), 0o644)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	_, err := newSource(t, "url: "+path).Open(context.Background(), connectors.OpenOptions{Allocator: mem})
	var de *connectors.DataError
	if !errors.As(err, &de) || !strings.Contains(err.Error(), "not a Parquet file") {
		t.Errorf("err = %v", err)
	}
	mem.AssertSize(t, 0)
}

func TestEmptyFile(t *testing.T) {
	path := writeParquet(t, t.TempDir(), 0, 10, 0)
	schema, rows := read(t, newSource(t, "url: "+path), 10)
	if len(rows) != 0 || !schema.Equal(wantSchema) {
		t.Errorf("%d rows, schema %s", len(rows), schema)
	}
}

// TestDownload reads a remote file through a temporary copy that Release
// removes, and a gzip-compressed one.
func TestDownload(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	path := writeParquet(t, t.TempDir(), 500, 100, 0)
	srv, full := serve(t, path)
	src := newSource(t, "url: "+srv.URL+"/d.parquet")
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	st, err := src.Open(context.Background(), connectors.OpenOptions{Allocator: mem})
	if err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 1 {
		t.Errorf("%d temporary files while reading, want 1", len(entries))
	}
	st.Next()
	fp := st.Fingerprint()
	st.Release()
	mem.AssertSize(t, 0)
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Errorf("temporary files left after Release: %v", entries)
	}
	if fp.ETag != `"p1"` || !strings.HasPrefix(fp.ContentHash, "sha256:") {
		t.Errorf("fingerprint %+v", fp)
	}
	if _, err := src.Open(context.Background(), connectors.OpenOptions{Allocator: mem, Previous: fp}); !errors.Is(err, connectors.ErrUnchanged) {
		t.Errorf("reopen: %v, want ErrUnchanged", err)
	}
	if full.Load() != 1 {
		t.Errorf("%d downloads, want 1", full.Load())
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	<-ctx.Done()
	if _, err := src.Open(ctx, connectors.OpenOptions{Allocator: mem}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("expired context: %v", err)
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Errorf("temporary files left after a cancelled open: %v", entries)
	}
}

func TestGzip(t *testing.T) {
	path := writeParquet(t, t.TempDir(), 300, 100, 0)
	gz := gzipFile(t, path)
	_, rows := read(t, newSource(t, "url: "+gz), 100)
	if len(rows) != 300 || rows[299]["population"] != "2990" {
		t.Errorf("%d rows", len(rows))
	}
}

// TestStreamingMemory reads a file and one ten times larger: the peak of
// Arrow memory must not follow the size of the file.
func TestStreamingMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 1M rows")
	}
	dir := t.TempDir()
	peak := func(n int) int64 {
		path := writeParquet(t, dir, n, 20_000, 0)
		checked := memory.NewCheckedAllocator(memory.NewGoAllocator())
		alloc := connectortest.NewPeakAllocator(checked)
		st, err := newSource(t, "url: "+path).Open(context.Background(), connectors.OpenOptions{Allocator: alloc, BatchRows: 8192})
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
		if rows != int64(n) {
			t.Fatalf("%d rows, want %d", rows, n)
		}
		return alloc.Peak()
	}
	small, large := peak(100_000), peak(1_000_000)
	t.Logf("peak Arrow memory: %d bytes for 100k rows, %d for 1M rows", small, large)
	if small == 0 || float64(large) >= 1.5*float64(small) {
		t.Errorf("peak memory %d for 1M rows, %d for 100k rows: it grows with the file", large, small)
	}
}

func readNoFatal(t *testing.T, src connectors.Source) (*arrow.Schema, []int64, error) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	st, err := src.Open(context.Background(), connectors.OpenOptions{Allocator: mem, BatchRows: 100})
	if err != nil {
		return nil, nil, err
	}
	defer st.Release()
	var rows []int64
	for st.Next() {
		rows = append(rows, st.RecordBatch().NumRows())
	}
	return st.Schema(), rows, st.Err()
}
