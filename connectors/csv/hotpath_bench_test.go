package csv

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/datalab/datalab/connectors"
)

// The benchmarks of this file time the hot paths one by one, to profile
// them (go test -tags duckdb_arrow -bench . -cpuprofile cpu.out, then go
// tool pprof): the conversion of each kind of value, the splitting of
// records, the decoding of single-byte encodings, and the building of a
// batch from split records. BenchmarkParse times them all together.

// benchValues are values of each kind, as files write them.
var benchValues = []struct {
	name  string
	kind  kind
	field *connectors.Field
	pat   string
	vals  []string
}{
	{"int", kInt, nil, "", []string{"1", "42", "123456", "-7", "2000000", "99"}},
	{"float-dot", kFloatDot, nil, "", []string{"1234.56", "0.5", "-12.25", "4999.99", "3", "1e3"}},
	{"float-comma", kFloatComma, nil, "", []string{"1234,56", "0,5", "-12,25", "1 234,5", "3", "4999,99"}},
	{"bool", kBool, nil, "", []string{"true", "false", "TRUE", "False", "true", "false"}},
	{"date-iso", kDateISO, nil, "", []string{"2020-01-31", "2024-02-29", "1999-12-01", "2023-07-14", "2021-10-05", "2022-03-03"}},
	{"date-dmy", kDateDMY, nil, "", []string{"31/01/2020", "29/02/2024", "1/12/1999", "14/07/2023", "05/10/2021", "3/3/2022"}},
	{"date-format", kDateFmt, &connectors.Field{Type: connectors.TypeDate}, "%d/%m/%Y", []string{"31/01/2020", "29/02/2024", "1/12/1999", "14/07/2023", "05/10/2021", "3/3/2022"}},
	{"datetime-iso", kTimeISO, nil, "", []string{"2020-01-31 10:00:00", "2024-02-29T23:59:59Z", "1999-12-01 00:00", "2023-07-14 12:30:15.25", "2021-10-05 01:02:03", "2022-03-03T04:05:06"}},
	{"string", kString, nil, "", []string{"accordée", "refusée", "en cours", "classée sans suite", "01234", "irrecevable"}},
}

// BenchmarkConvert reads values of each kind into a column's builder, a
// batch of DefaultBatchRows values at a time.
func BenchmarkConvert(b *testing.B) {
	for _, bv := range benchValues {
		b.Run(bv.name, func(b *testing.B) {
			c := &column{name: bv.name, kind: bv.kind, field: bv.field}
			if bv.kind == kFloatComma {
				c.flags = numGrouped
			}
			if bv.pat != "" {
				p, err := compilePattern(bv.pat)
				if err != nil {
					b.Fatal(err)
				}
				c.pat = p
			}
			vals := make([][]byte, len(bv.vals))
			size := 0
			for i, v := range bv.vals {
				vals[i] = []byte(v)
				size += len(v)
			}
			mem := memory.NewGoAllocator()
			c.newBuilder(mem)
			defer c.release()
			var fbuf []byte
			const rows = connectors.DefaultBatchRows
			b.SetBytes(int64(size * rows / len(vals)))
			b.ReportAllocs()
			for b.Loop() {
				c.reserve(rows)
				for i := range rows {
					if !c.append(vals[i%len(vals)], &fbuf) {
						b.Fatalf("%q not read as %s", vals[i%len(vals)], bv.kind.describe())
					}
				}
				c.newArray().Release()
			}
		})
	}
}

// benchText is rows lines of the mixed columns of the benchmark command's
// files: an id, a code, two dates, an amount, a category, a boolean.
func benchText(rows int, delim byte, dmy, comma bool) []byte {
	var buf bytes.Buffer
	d := string(delim)
	buf.WriteString(strings.Join([]string{"id", "code", "depot", "decision", "montant", "categorie", "urgent"}, d) + "\n")
	cats := []string{"accordée", "refusée", "en cours", "classée sans suite", "irrecevable"}
	for i := 1; i <= rows; i++ {
		d1 := fmt.Sprintf("20%02d-%02d-%02d", 20+i%5, 1+i%12, 1+i%28)
		d2 := fmt.Sprintf("20%02d-%02d-%02d", 20+i%5, 1+(i+3)%12, 1+(i+7)%28)
		if dmy {
			d1 = fmt.Sprintf("%02d/%02d/20%02d", 1+i%28, 1+i%12, 20+i%5)
			d2 = fmt.Sprintf("%02d/%02d/20%02d", 1+(i+7)%28, 1+(i+3)%12, 20+i%5)
		}
		amount := fmt.Sprintf("%d.%02d", i*37%5000, i%100)
		if comma {
			amount = strings.Replace(amount, ".", ",", 1)
		}
		buf.WriteString(strings.Join([]string{strconv.Itoa(i), fmt.Sprintf("%05d", i*7919%99999), d1, d2, amount,
			cats[i%len(cats)], strconv.FormatBool(i%10 == 0)}, d) + "\n")
	}
	return buf.Bytes()
}

// BenchmarkScan splits records into fields: the scanner alone.
func BenchmarkScan(b *testing.B) {
	text := benchText(100_000, ',', false, false)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		s := newScanner(context.Background(), bytes.NewReader(text))
		s.delim = ','
		n := 0
		for {
			ok, err := s.next()
			if err != nil {
				b.Fatal(err)
			}
			if !ok {
				break
			}
			n += len(s.fields)
		}
		if n != 7*100_001 {
			b.Fatalf("%d fields", n)
		}
	}
}

// BenchmarkDecode turns text into UTF-8: checked when it is UTF-8 already,
// transcoded from ISO-8859-1.
func BenchmarkDecode(b *testing.B) {
	utf8Text := benchText(100_000, ';', true, true)
	latin1 := bytes.ReplaceAll(bytes.ReplaceAll(utf8Text, []byte("é"), []byte{0xe9}), []byte("è"), []byte{0xe8})
	for _, c := range []struct {
		name string
		text []byte
		enc  encoding
	}{{"utf-8", utf8Text, encUTF8}, {"iso-8859-1", latin1, encLatin1}} {
		b.Run(c.name, func(b *testing.B) {
			buf := make([]byte, maxBuffer)
			b.SetBytes(int64(len(c.text)))
			for b.Loop() {
				d := newDecoder(bytes.NewReader(c.text), c.enc)
				for {
					_, err := d.Read(buf)
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// BenchmarkBuildBatch builds Arrow batches from a file's text already in
// memory: scanning, null checks, conversion and building, without the
// file, the content hash, or the goroutine handing batches over.
func BenchmarkBuildBatch(b *testing.B) {
	for _, c := range []struct {
		name    string
		text    []byte
		options string
	}{
		{"utf8-comma", benchText(100_000, ',', false, false), `{kind: csv, url: x.csv, delimiter: ","}`},
		{"semicolon-dmy-comma", benchText(100_000, ';', true, true), `{kind: csv, url: x.csv, delimiter: ";", decimal: ","}`},
	} {
		b.Run(c.name, func(b *testing.B) {
			dir := b.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "x.csv"), c.text, 0o644); err != nil {
				b.Fatal(err)
			}
			src, err := New(connectors.Spec{Kind: "csv", Options: []byte(c.options), Dir: dir})
			if err != nil {
				b.Fatal(err)
			}
			mem := memory.NewGoAllocator()
			b.SetBytes(int64(len(c.text)))
			b.ReportAllocs()
			for b.Loop() {
				st := &stream{ctx: context.Background(), src: src.(*Source), mem: mem, batchRows: connectors.DefaultBatchRows,
					nulls: newNullSet(src.(*Source).set.nulls)}
				st.dec = newDecoder(bytes.NewReader(c.text), encUTF8)
				st.sc = newScanner(st.ctx, st.dec)
				if err := st.prepare(); err != nil {
					b.Fatal(err)
				}
				rows := int64(0)
				for {
					rec, eof, err := st.readBatch()
					if err != nil {
						b.Fatal(err)
					}
					if rec != nil {
						rows += rec.NumRows()
						rec.Release()
					}
					if eof || rec == nil {
						break
					}
				}
				for _, col := range st.cols {
					col.release()
				}
				if rows != 100_000 {
					b.Fatalf("%d rows", rows)
				}
			}
		})
	}
}
