package parquet_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	pq "github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/datalab/datalab/connectors"
)

// fileSchema is the schema of the generated files, with the headers a
// ministry would write.
var fileSchema = arrow.NewSchema([]arrow.Field{
	{Name: "Code Commune", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "Population", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "Part (%)", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "Actif", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	{Name: "Date de dépôt", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
	{Name: "Mis à jour", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, Nullable: true},
	{Name: "Petit", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	{Name: "Montant", Type: &arrow.Decimal128Type{Precision: 10, Scale: 2}, Nullable: true},
	{Name: "Adresse", Type: arrow.StructOf(
		arrow.Field{Name: "Code Postal", Type: arrow.BinaryTypes.String, Nullable: true},
		arrow.Field{Name: "Ville", Type: arrow.BinaryTypes.String, Nullable: true},
	), Nullable: true},
	{Name: "Tags", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true},
	{Name: "Compteur", Type: arrow.PrimitiveTypes.Uint64, Nullable: true},
}, nil)

func title(s string) arrow.Metadata {
	return arrow.NewMetadata([]string{connectors.TitleKey}, []string{s})
}

// wantSchema is the schema the stream gives the generated files.
var wantSchema = arrow.NewSchema([]arrow.Field{
	{Name: "code_commune", Type: arrow.BinaryTypes.String, Nullable: true, Metadata: title("Code Commune")},
	{Name: "population", Type: arrow.PrimitiveTypes.Int64, Nullable: true, Metadata: title("Population")},
	{Name: "part", Type: arrow.PrimitiveTypes.Float64, Nullable: true, Metadata: title("Part (%)")},
	{Name: "actif", Type: arrow.FixedWidthTypes.Boolean, Nullable: true, Metadata: title("Actif")},
	{Name: "date_de_depot", Type: arrow.FixedWidthTypes.Date32, Nullable: true, Metadata: title("Date de dépôt")},
	{Name: "mis_a_jour", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, Nullable: true, Metadata: title("Mis à jour")},
	{Name: "petit", Type: arrow.PrimitiveTypes.Int32, Nullable: true, Metadata: title("Petit")},
	{Name: "montant", Type: &arrow.Decimal128Type{Precision: 10, Scale: 2}, Nullable: true, Metadata: title("Montant")},
	{Name: "adresse", Type: arrow.StructOf(
		arrow.Field{Name: "code_postal", Type: arrow.BinaryTypes.String, Nullable: true, Metadata: title("Code Postal")},
		arrow.Field{Name: "ville", Type: arrow.BinaryTypes.String, Nullable: true, Metadata: title("Ville")},
	), Nullable: true, Metadata: title("Adresse")},
	{Name: "tags", Type: arrow.ListOfField(arrow.Field{Name: "element", Type: arrow.BinaryTypes.String, Nullable: true}), Nullable: true, Metadata: title("Tags")},
	{Name: "compteur", Type: arrow.PrimitiveTypes.Uint64, Nullable: true, Metadata: title("Compteur")},
}, nil)

var day0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// writeParquet writes n generated rows in row groups of rowGroup rows and
// returns the file's path. When hugeAt > 0, row hugeAt (1-based) holds a
// Compteur past the range of int64.
func writeParquet(t testing.TB, dir string, n, rowGroup, hugeAt int) string {
	t.Helper()
	path := filepath.Join(dir, fmt.Sprintf("data-%d-%d-%d.parquet", n, rowGroup, hugeAt))
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	props := pq.NewWriterProperties(pq.WithMaxRowGroupLength(int64(rowGroup)), pq.WithCompression(compress.Codecs.Snappy))
	w, err := pqarrow.NewFileWriter(fileSchema, f, props, pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	const chunk = 10_000
	for start := 0; start < n; start += chunk {
		rec := generate(start, min(chunk, n-start), hugeAt)
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		rec.Release()
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// generate builds rows start to start+n-1 (0-based).
func generate(start, n, hugeAt int) arrow.RecordBatch {
	b := array.NewRecordBuilder(memory.NewGoAllocator(), fileSchema)
	defer b.Release()
	code := b.Field(0).(*array.StringBuilder)
	pop := b.Field(1).(*array.Int64Builder)
	part := b.Field(2).(*array.Float64Builder)
	actif := b.Field(3).(*array.BooleanBuilder)
	day := b.Field(4).(*array.Date32Builder)
	maj := b.Field(5).(*array.TimestampBuilder)
	petit := b.Field(6).(*array.Int32Builder)
	montant := b.Field(7).(*array.Decimal128Builder)
	adr := b.Field(8).(*array.StructBuilder)
	cp := adr.FieldBuilder(0).(*array.StringBuilder)
	ville := adr.FieldBuilder(1).(*array.StringBuilder)
	tags := b.Field(9).(*array.ListBuilder)
	tag := tags.ValueBuilder().(*array.StringBuilder)
	compteur := b.Field(10).(*array.Uint64Builder)
	for i := start; i < start+n; i++ {
		if i%7 == 3 {
			code.AppendNull()
		} else {
			code.Append(fmt.Sprintf("%05d", i%100000))
		}
		pop.Append(int64(i) * 10)
		if i%5 == 4 {
			part.AppendNull()
		} else {
			part.Append(float64(i%1000) / 4)
		}
		actif.Append(i%2 == 0)
		day.Append(arrow.Date32FromTime(day0.AddDate(0, 0, i%366)))
		maj.Append(arrow.Timestamp(day0.Add(time.Duration(i) * time.Minute).UnixMicro()))
		petit.Append(int32(i % 1000))
		montant.Append(decimal128.FromI64(int64(i)*100 + 25))
		if i%11 == 10 {
			adr.AppendNull()
		} else {
			adr.Append(true)
			cp.Append(fmt.Sprintf("%05d", 1000+i%90000))
			ville.Append(fmt.Sprintf("Ville %d", i))
		}
		switch i % 3 {
		case 0:
			tags.AppendNull()
		case 1:
			tags.Append(true)
		default:
			tags.Append(true)
			tag.Append("a")
			tag.Append(fmt.Sprint(i))
		}
		if i+1 == hugeAt {
			compteur.Append(math.MaxUint64)
		} else {
			compteur.Append(uint64(i))
		}
	}
	return b.NewRecordBatch()
}

// gzipFile writes a gzip-compressed copy of path and returns its path.
func gzipFile(t testing.TB, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write(data)
	zw.Close()
	out := path + ".gz"
	if err := os.WriteFile(out, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}
