//go:build duckdb_arrow

package pipelines

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/datalab/datalab/catalog"
)

// duckConn is a connection to an in-memory DuckDB.
func duckConn(t *testing.T) *sql.Conn {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// eachColumn calls f with a batch of each column of rec alone, then with
// rec and with rec less its first and last rows (its arrays then start at
// an offset).
func eachColumn(rec arrow.RecordBatch, f func(name string, rec arrow.RecordBatch)) {
	for i, field := range rec.Schema().Fields() {
		one := array.NewRecordBatch(arrow.NewSchema([]arrow.Field{field}, nil), []arrow.Array{rec.Column(i)}, rec.NumRows())
		f(field.Type.String(), one)
	}
	rec.Retain()
	f("all the columns", rec)
	f("all the columns, sliced", rec.NewSlice(1, rec.NumRows()-1))
}

// rowHasher computes DuckDB's hash() of every type it covers: on their
// edge values and NULLs, column by column and all together.
func TestRowHashProbe(t *testing.T) {
	conn := duckConn(t)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := hashProbe(mem)
	defer rec.Release()
	eachColumn(rec, func(name string, one arrow.RecordBatch) {
		defer one.Release()
		if err := compareRowHash(t.Context(), conn, one, newRowHasher(one.Schema())); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	})
}

// ... and on random values, a tenth of them NULL, in batches of several
// thousand rows.
func TestRowHashRandom(t *testing.T) {
	conn := duckConn(t)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	probe := hashProbe(mem)
	schema := probe.Schema()
	probe.Release()
	rng := rand.New(rand.NewPCG(1, 2))
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	const rows = 5000
	for i, f := range schema.Fields() {
		fb := b.Field(i)
		for r := 0; r < rows; r++ {
			if rng.IntN(10) == 0 {
				fb.AppendNull()
				continue
			}
			appendValue(fb, randomValue(rng, f.Type))
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	eachColumn(rec, func(name string, one arrow.RecordBatch) {
		defer one.Release()
		if err := compareRowHash(t.Context(), conn, one, newRowHasher(one.Schema())); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	})
}

func randomValue(rng *rand.Rand, t arrow.DataType) any {
	u := rng.Uint64()
	text := func() string {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			b[i] = byte('a' + rng.IntN(26))
		}
		return string(b)
	}
	switch t.ID() {
	case arrow.BOOL:
		return u&1 == 1
	case arrow.INT8:
		return int8(u)
	case arrow.INT16:
		return int16(u)
	case arrow.INT32:
		return int32(u)
	case arrow.INT64:
		return int64(u)
	case arrow.UINT8:
		return uint8(u)
	case arrow.UINT16:
		return uint16(u)
	case arrow.UINT32:
		return uint32(u)
	case arrow.UINT64:
		return u
	case arrow.FLOAT32:
		return float32(rng.NormFloat64() * 1e6)
	case arrow.FLOAT64:
		return rng.NormFloat64() * 1e12
	case arrow.STRING, arrow.LARGE_STRING:
		return text()
	case arrow.BINARY, arrow.LARGE_BINARY:
		return []byte(text())
	case arrow.DATE32:
		return arrow.Date32(rng.IntN(60_000) - 20_000)
	case arrow.TIMESTAMP:
		return arrow.Timestamp(int64(u) >> 12)
	case arrow.DECIMAL128:
		p := t.(*arrow.Decimal128Type).Precision
		limit := math.Pow10(int(min(p, 18)))
		v := decimal128.FromI64(int64((rng.Float64()*2 - 1) * limit))
		if p > 18 {
			v = v.Mul(decimal128.FromU64(u >> 1))
		}
		return v
	}
	panic(fmt.Sprintf("randomValue: %s", t))
}

// The comparison can fail: a hasher that is off on one value is told
// apart.
func TestRowHashMismatch(t *testing.T) {
	conn := duckConn(t)
	schema := arrow.NewSchema([]arrow.Field{{Name: "s", Type: arrow.BinaryTypes.String}}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	b.Field(0).(*array.StringBuilder).AppendValues([]string{"a", "b"}, nil)
	rec := b.NewRecordBatch()
	defer rec.Release()
	if err := compareRowHash(t.Context(), conn, rec, newRowHasher(schema)); err != nil {
		t.Fatal(err)
	}
	offByOne := &rowHasher{cols: []hashColumn{func(a arrow.Array, h []uint64) {
		hashColumnOf(a.DataType())(a, h)
		h[1]++
	}}}
	var m *hashMismatch
	if err := compareRowHash(t.Context(), conn, rec, offByOne); !errors.As(err, &m) {
		t.Errorf("a wrong hasher: %v, want a mismatch", err)
	}
}

// A type rowHasher does not cover leaves the hash to the table's scan.
func TestRowHashUncovered(t *testing.T) {
	for _, typ := range []arrow.DataType{
		arrow.ListOf(arrow.PrimitiveTypes.Int32),
		arrow.FixedWidthTypes.Time64us,
		arrow.FixedWidthTypes.MonthDayNanoInterval,
		&arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"},
		&arrow.Decimal256Type{Precision: 40, Scale: 2},
	} {
		schema := arrow.NewSchema([]arrow.Field{{Name: "i", Type: arrow.PrimitiveTypes.Int64}, {Name: "x", Type: typ}}, nil)
		if newRowHasher(schema) != nil {
			t.Errorf("%s: a hasher", typ)
		}
	}
}

// BenchmarkRowHash hashes batches of a row group of the probe's types, as
// an ingest does before handing them to DuckDB (ns/op: one batch).
func BenchmarkRowHash(b *testing.B) {
	probe := hashProbe(memory.DefaultAllocator)
	schema := probe.Schema()
	probe.Release()
	rng := rand.New(rand.NewPCG(1, 2))
	rb := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer rb.Release()
	const rows = rowGroupRows
	for i, f := range schema.Fields() {
		for r := 0; r < rows; r++ {
			appendValue(rb.Field(i), randomValue(rng, f.Type))
		}
	}
	rec := rb.NewRecordBatch()
	defer rec.Release()
	h := newRowHasher(schema)
	b.SetBytes(rows)
	b.ResetTimer()
	for range b.N {
		h.add(rec)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/rows/float64(len(schema.Fields())), "ns/value")
}

// With CheckHash, an ingest whose batches hashed otherwise than the table
// it wrote fails, and one whose batches are the table gives the table's
// hash. Once rows were set aside, the table is hashed, not the batches.
func TestLoadedHashCheck(t *testing.T) {
	ctx := t.Context()
	conn := duckConn(t)
	if _, err := conn.ExecContext(ctx, "CREATE TABLE t AS SELECT i, 'v' || i AS s FROM range(1000) AS r(i)"); err != nil {
		t.Fatal(err)
	}
	cols := []catalog.Column{{Name: "i", Type: "BIGINT"}, {Name: "s", Type: "VARCHAR"}}
	schema := arrow.NewSchema([]arrow.Field{{Name: "i", Type: arrow.PrimitiveTypes.Int64}, {Name: "s", Type: arrow.BinaryTypes.String}}, nil)
	batch := func(last string) arrow.RecordBatch {
		b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		defer b.Release()
		for i := range 1000 {
			b.Field(0).(*array.Int64Builder).Append(int64(i))
			s := fmt.Sprintf("v%d", i)
			if i == 999 {
				s = last
			}
			b.Field(1).(*array.StringBuilder).Append(s)
		}
		return b.NewRecordBatch()
	}
	for _, c := range []struct {
		last     string
		rejected int64 // rows set aside after the load: the table is hashed
		wantErr  bool
	}{{"v999", 0, false}, {"v998", 0, true}, {"v998", 1, false}} {
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		rec := batch(c.last)
		counted := &countingReader{hasher: newRowHasher(schema)}
		counted.hasher.add(rec)
		counted.rows.Store(rec.NumRows())
		rec.Release()
		n, got, err := loadedHash(ctx, tx, "t", cols, counted, c.rejected, true)
		wantN, want, werr := contentHash(ctx, tx, "t", cols)
		tx.Rollback()
		if werr != nil {
			t.Fatal(werr)
		}
		switch {
		case c.wantErr && (err == nil || !strings.Contains(err.Error(), "report it")):
			t.Errorf("last value %q: %v, want the hashes told apart", c.last, err)
		case !c.wantErr && (err != nil || n != wantN || got != want):
			t.Errorf("last value %q: %d rows, %s, %v; the table: %d rows, %s", c.last, n, got, err, wantN, want)
		}
	}
	// No row: the sum is contentHash's NULL, not 0.
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "DELETE FROM t"); err != nil {
		t.Fatal(err)
	}
	n, got, err := loadedHash(ctx, tx, "t", cols, &countingReader{hasher: newRowHasher(schema)}, 0, true)
	if err != nil || n != 0 || got != hashOf(cols, 0, "") {
		t.Errorf("no row: %d rows, %s, %v", n, got, err)
	}
}

// hashBytes reads a last word past the value only within its capacity,
// and hashes the value alike either way.
func TestHashBytesTail(t *testing.T) {
	buf := []byte("abcdefghijklmnopq\xff\xff\xff\xff\xff\xff\xff\xff")
	for n := 0; n <= 17; n++ {
		exact := append([]byte(nil), buf[:n]...)[:n:n]
		if got, want := hashBytes(buf[:n]), hashBytes(exact); got != want {
			t.Errorf("%d bytes: %x with more capacity, %x without", n, got, want)
		}
	}
}
