package jsonsrc_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/datalab/datalab/connectors"
	jsonsrc "github.com/datalab/datalab/connectors/json"
)

// record is the generated record i as JSON; when bad, its id is a string.
func record(i int, bad bool) string {
	id := fmt.Sprint(i)
	if bad {
		id = `"x"`
	}
	tags := `["a","b"]`
	switch i % 3 {
	case 1:
		tags = `[]`
	case 2:
		tags = `null`
	}
	note := `null`
	if i%4 == 0 {
		note = fmt.Sprintf(`"note \"%d\""`, i)
	}
	return fmt.Sprintf(`{"id":%s,"code":"%05d","montant":%d.5,"actif":%t,"jour":"2024-%02d-%02d","maj":"2024-03-01T10:%02d:00+02:00",`+
		`"adresse":{"code postal":"%05d","ville":"Ville %d"},"tags":%s,"note":%s}`,
		id, i%100000, i, i%2 == 0, 1+i%12, 1+i%28, i%60, 1000+i, i, tags, note)
}

// ndjson is n generated records, one per line; record badAt (1-based) has
// a string id.
func ndjson(n, badAt int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		b.WriteString(record(i, i == badAt))
		b.WriteByte('\n')
	}
	return b.String()
}

// array is n generated records as a pretty JSON array.
func array(n, badAt int) string {
	var b strings.Builder
	b.WriteString("[\n")
	for i := 1; i <= n; i++ {
		if i > 1 {
			b.WriteString(",\n")
		}
		b.WriteString("  " + record(i, i == badAt))
	}
	b.WriteString("\n]\n")
	return b.String()
}

func title(s string) arrow.Metadata {
	return arrow.NewMetadata([]string{connectors.TitleKey}, []string{s})
}

var utcTimestamp = &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}

// flatSchema is the schema of the generated records, flattened.
var flatSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true, Metadata: title("id")},
	{Name: "code", Type: arrow.BinaryTypes.String, Nullable: true, Metadata: title("code")},
	{Name: "montant", Type: arrow.PrimitiveTypes.Float64, Nullable: true, Metadata: title("montant")},
	{Name: "actif", Type: arrow.FixedWidthTypes.Boolean, Nullable: true, Metadata: title("actif")},
	{Name: "jour", Type: arrow.FixedWidthTypes.Date32, Nullable: true, Metadata: title("jour")},
	{Name: "maj", Type: utcTimestamp, Nullable: true, Metadata: title("maj")},
	{Name: "adresse_code_postal", Type: arrow.BinaryTypes.String, Nullable: true, Metadata: title("adresse.code postal")},
	{Name: "adresse_ville", Type: arrow.BinaryTypes.String, Nullable: true, Metadata: title("adresse.ville")},
	{Name: "tags", Type: arrow.ListOfField(arrow.Field{Name: "item", Type: arrow.BinaryTypes.String, Nullable: true}), Nullable: true, Metadata: title("tags")},
	{Name: "note", Type: arrow.BinaryTypes.String, Nullable: true, Metadata: title("note")},
}, nil)

// structSchema is the schema of the generated records, nested: struct.
var structSchema = arrow.NewSchema([]arrow.Field{
	flatSchema.Field(0), flatSchema.Field(1), flatSchema.Field(2), flatSchema.Field(3), flatSchema.Field(4), flatSchema.Field(5),
	{Name: "adresse", Type: arrow.StructOf(
		arrow.Field{Name: "code_postal", Type: arrow.BinaryTypes.String, Nullable: true, Metadata: title("code postal")},
		arrow.Field{Name: "ville", Type: arrow.BinaryTypes.String, Nullable: true, Metadata: title("ville")},
	), Nullable: true, Metadata: title("adresse")},
	flatSchema.Field(8), flatSchema.Field(9),
}, nil)

func writeFile(t testing.TB, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func gzipped(s string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	zw.Close()
	return b.Bytes()
}

func newSource(t testing.TB, options string, fields ...connectors.Field) connectors.Source {
	t.Helper()
	src, err := jsonsrc.New(connectors.Spec{Kind: "json", Options: []byte(options), Fields: fields})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// serve serves content with an ETag, answering conditional requests with
// 304.
func serve(t testing.TB, content []byte) (*httptest.Server, *atomic.Int64) {
	var full atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"j1"`)
		if r.Header.Get("If-None-Match") == `"j1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		full.Add(1)
		w.Write(content)
	}))
	t.Cleanup(srv.Close)
	return srv, &full
}

// readAll reads a stream whole with a checked allocator: its schema, its
// rows as text (one map per row), and the error that stopped it.
func readAll(t testing.TB, src connectors.Source, batchRows int) (*arrow.Schema, []map[string]string, error) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	st, err := src.Open(context.Background(), connectors.OpenOptions{Allocator: mem, BatchRows: batchRows})
	if err != nil {
		return nil, nil, err
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
	return st.Schema(), rows, st.Err()
}
