package pipelines

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// rowHasher computes, from the Arrow batches an ingest hands DuckDB, the
// row count and the sum contentHash would read back from the loaded table:
// DuckDB's hash() of each row, a row being hashed as the struct of its
// values. The ingest then does not scan the table it has just written once
// the source is read, which took 30 to 40 ms for the 1,000,000 rows of
// cmd/datalab-bench's PostgreSQL table, between the end of the source and
// the commit; the batches are hashed as they come instead, in the DuckDB
// threads that take them (BenchmarkRowHash: 2 to 3 ns a fixed-width value,
// about 15 a string of 20 bytes).
//
// It follows DuckDB's hash() on the values DuckDB stores for each Arrow
// type. A column of another type (nested, intervals, times, timestamps
// with a time zone in another unit than µs...) leaves the hash to the
// table's scan. rowHashAgrees compares the two once per process, and the
// tests on every covered type and their edge values: a DuckDB whose
// hash() changed makes the ingests scan their tables again, rather than
// record hashes their tables do not have.
type rowHasher struct {
	cols []hashColumn
	pool sync.Pool // of *[2][]uint64: a batch's row hashes and one column's

	mu     sync.Mutex
	hi, lo uint64 // the sum of the rows' hashes, on 128 bits
}

// hashColumn xors into h the hash of each value of a, of the values its
// NULLs hold too.
type hashColumn func(a arrow.Array, h []uint64)

// newRowHasher returns a rowHasher of batches of schema, or nil when one of
// its columns is of a type it does not cover.
func newRowHasher(schema *arrow.Schema) *rowHasher {
	if schema.NumFields() == 0 {
		return nil
	}
	r := &rowHasher{}
	for _, f := range schema.Fields() {
		c := hashColumnOf(f.Type)
		if c == nil {
			return nil
		}
		r.cols = append(r.cols, c)
	}
	return r
}

// add adds the rows of rec. It may be called from several goroutines.
func (r *rowHasher) add(rec arrow.RecordBatch) {
	n := int(rec.NumRows())
	if n == 0 {
		return
	}
	s, _ := r.pool.Get().(*[2][]uint64)
	if s == nil {
		s = new([2][]uint64)
	}
	if cap(s[0]) < n {
		s[0], s[1] = make([]uint64, n), make([]uint64, n)
	}
	rows, col := s[0][:n], s[1][:n]
	for i, hash := range r.cols {
		a := rec.Column(i)
		if i == 0 {
			clear(rows)
		} else {
			for j, h := range rows {
				rows[j] = premix(h)
			}
		}
		if a.NullN() == 0 {
			hash(a, rows)
			continue
		}
		clear(col)
		hash(a, col)
		for j, h := range col {
			if a.IsNull(j) {
				h = nullHash
			}
			rows[j] ^= h
		}
	}
	var hi, lo, carry uint64
	for _, h := range rows {
		lo, carry = bits.Add64(lo, h, 0)
		hi += carry
	}
	r.pool.Put(s)
	r.mu.Lock()
	r.lo, carry = bits.Add64(r.lo, lo, 0)
	r.hi += hi + carry
	r.mu.Unlock()
}

// sum returns the sum of the hashes of the rows added, in decimal.
func (r *rowHasher) sum() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := new(big.Int).SetUint64(r.hi)
	s.Lsh(s, 64)
	s.Or(s, new(big.Int).SetUint64(r.lo))
	return s.String()
}

// DuckDB's hash of a NULL, and its mixing of a 64-bit value.
const nullHash = 0xbf58476d1ce4e5b9

func murmur64(x uint64) uint64 {
	x ^= x >> 32
	x *= 0xd6e8feb86659fd93
	x ^= x >> 32
	x *= 0xd6e8feb86659fd93
	x ^= x >> 32
	return x
}

// premix is the first half of DuckDB's combination of the hash a of a
// struct's first fields with the hash of its next field, which is then
// xored in.
func premix(a uint64) uint64 {
	a ^= a >> 32
	return a * 0xd6e8feb86659fd93
}

// hashBytes is DuckDB's hash of a VARCHAR or a BLOB, b. Its last word,
// of fewer than 8 bytes, is read whole and masked when b's capacity goes
// that far, as it does inside an Arrow buffer.
func hashBytes(b []byte) uint64 {
	h := uint64(0xe17a1465) ^ uint64(len(b))*0xc6a4a7935bd1e995
	for ; len(b) >= 8; b = b[8:] {
		h ^= binary.LittleEndian.Uint64(b)
		h *= 0xd6e8feb86659fd93
	}
	if r := len(b); r > 0 {
		var w uint64
		if cap(b) >= 8 {
			w = binary.LittleEndian.Uint64(b[:8]) & (1<<(8*r) - 1)
		} else {
			var t [8]byte
			copy(t[:], b)
			w = binary.LittleEndian.Uint64(t[:])
		}
		h ^= w
		h *= 0xd6e8feb86659fd93
	}
	return murmur64(h)
}

// small hashes the values DuckDB stores on 32 bits or fewer: as an
// unsigned 32-bit integer, the signed ones extended by their sign.
func small[T int8 | int16 | int32 | uint8 | uint16 | uint32](vals []T, h []uint64) {
	for i, v := range vals {
		h[i] ^= murmur64(uint64(uint32(v)))
	}
}

func wide[T int64 | uint64 | arrow.Timestamp](vals []T, h []uint64) {
	for i, v := range vals {
		h[i] ^= murmur64(uint64(v))
	}
}

// offsetsHash hashes the values of a VARCHAR or BLOB column, data
// starting at the first offset.
func offsetsHash[O int32 | int64](offs []O, data []byte, h []uint64) {
	base := offs[0]
	for i := range h {
		h[i] ^= hashBytes(data[offs[i]-base : offs[i+1]-base])
	}
}

// hashColumnOf returns the hashColumn of Arrow type t, nil when it does
// not cover it.
func hashColumnOf(t arrow.DataType) hashColumn {
	switch t.ID() {
	case arrow.BOOL:
		return func(a arrow.Array, h []uint64) {
			b := a.(*array.Boolean)
			for i := range h {
				v := uint64(0)
				if b.Value(i) {
					v = 1
				}
				h[i] ^= murmur64(v)
			}
		}
	case arrow.INT8:
		return func(a arrow.Array, h []uint64) { small(a.(*array.Int8).Int8Values(), h) }
	case arrow.INT16:
		return func(a arrow.Array, h []uint64) { small(a.(*array.Int16).Int16Values(), h) }
	case arrow.INT32:
		return func(a arrow.Array, h []uint64) { small(a.(*array.Int32).Int32Values(), h) }
	case arrow.UINT8:
		return func(a arrow.Array, h []uint64) { small(a.(*array.Uint8).Uint8Values(), h) }
	case arrow.UINT16:
		return func(a arrow.Array, h []uint64) { small(a.(*array.Uint16).Uint16Values(), h) }
	case arrow.UINT32:
		return func(a arrow.Array, h []uint64) { small(a.(*array.Uint32).Uint32Values(), h) }
	case arrow.DATE32:
		return func(a arrow.Array, h []uint64) {
			d := a.(*array.Date32).Date32Values()
			for i, v := range d {
				h[i] ^= murmur64(uint64(uint32(v)))
			}
		}
	case arrow.INT64:
		return func(a arrow.Array, h []uint64) { wide(a.(*array.Int64).Int64Values(), h) }
	case arrow.UINT64:
		return func(a arrow.Array, h []uint64) { wide(a.(*array.Uint64).Uint64Values(), h) }
	case arrow.TIMESTAMP:
		// DuckDB keeps the unit of a timestamp without time zone
		// (TIMESTAMP_S, _MS, _NS) and turns one with a time zone into µs.
		if ts := t.(*arrow.TimestampType); ts.TimeZone != "" && ts.Unit != arrow.Microsecond {
			return nil
		}
		return func(a arrow.Array, h []uint64) { wide(a.(*array.Timestamp).TimestampValues(), h) }
	case arrow.FLOAT32:
		// -0 is hashed as 0, and every NaN as C++'s quiet NaN.
		return func(a arrow.Array, h []uint64) {
			for i, v := range a.(*array.Float32).Float32Values() {
				b := math.Float32bits(v)
				switch {
				case v == 0:
					b = 0
				case v != v:
					b = 0x7fc00000
				}
				h[i] ^= murmur64(uint64(b))
			}
		}
	case arrow.FLOAT64:
		return func(a arrow.Array, h []uint64) {
			for i, v := range a.(*array.Float64).Float64Values() {
				b := math.Float64bits(v)
				switch {
				case v == 0:
					b = 0
				case v != v:
					b = 0x7ff8000000000000
				}
				h[i] ^= murmur64(b)
			}
		}
	case arrow.STRING, arrow.BINARY:
		return func(a arrow.Array, h []uint64) {
			v := a.(interface {
				ValueOffsets() []int32
				ValueBytes() []byte
			})
			offsetsHash(v.ValueOffsets(), v.ValueBytes(), h)
		}
	case arrow.LARGE_STRING, arrow.LARGE_BINARY:
		return func(a arrow.Array, h []uint64) {
			v := a.(interface {
				ValueOffsets() []int64
				ValueBytes() []byte
			})
			offsetsHash(v.ValueOffsets(), v.ValueBytes(), h)
		}
	case arrow.DECIMAL128:
		// DuckDB stores a DECIMAL on 16, 32, 64 or 128 bits by its
		// precision.
		p := t.(*arrow.Decimal128Type).Precision
		return func(a arrow.Array, h []uint64) {
			d := a.(*array.Decimal128)
			for i := range h {
				v := d.Value(i)
				lo := v.LowBits()
				switch {
				case p <= 4:
					h[i] ^= murmur64(uint64(uint32(int16(lo))))
				case p <= 9:
					h[i] ^= murmur64(uint64(uint32(lo)))
				case p <= 18:
					h[i] ^= murmur64(lo)
				default:
					h[i] ^= murmur64(lo) ^ murmur64(uint64(v.HighBits()))
				}
			}
		}
	}
	return nil
}

// rowHashCheck is the comparison of rowHasher with DuckDB's hash(), made
// once per process: the hash belongs to the DuckDB library linked in.
var rowHashCheck struct {
	mu   sync.Mutex
	done bool  // err is the answer
	err  error // a *hashMismatch, or nil
}

// hashMismatch says how rowHasher and DuckDB's hash() differ.
type hashMismatch struct {
	n, wantN  int64
	sum, want string
}

func (e *hashMismatch) Error() string {
	return fmt.Sprintf("%d rows of sum %q; DuckDB's hash(): %d rows of sum %q", e.n, e.sum, e.wantN, e.want)
}

// rowHashAgrees reports whether rowHasher agrees with DuckDB's hash() on a
// batch of every type it covers, edge values and NULLs included; conn is
// the warehouse's. Once it has an answer, it does not ask DuckDB again.
func rowHashAgrees(ctx context.Context, conn *sql.Conn) error {
	rowHashCheck.mu.Lock()
	defer rowHashCheck.mu.Unlock()
	if rowHashCheck.done {
		return rowHashCheck.err
	}
	probe := hashProbe(memory.DefaultAllocator)
	defer probe.Release()
	err := compareRowHash(ctx, conn, probe, newRowHasher(probe.Schema()))
	var m *hashMismatch
	if err == nil || errors.As(err, &m) {
		rowHashCheck.done, rowHashCheck.err = true, err
	}
	return err
}

// compareRowHash hashes rec with r and with DuckDB, through conn, and
// says how they differ.
func compareRowHash(ctx context.Context, conn *sql.Conn, rec arrow.RecordBatch, r *rowHasher) error {
	if r == nil {
		return fmt.Errorf("a column of %s is of a type rowHasher does not cover", rec.Schema())
	}
	r.add(rec)
	n, sum := rec.NumRows(), r.sum()
	rd, err := array.NewRecordReader(rec.Schema(), []arrow.RecordBatch{rec})
	if err != nil {
		return err
	}
	defer rd.Release()
	view := fmt.Sprintf("datalab_hash_probe_%d", time.Now().UnixNano())
	release, err := registerView(conn, rd, view)
	if err != nil {
		return err
	}
	defer release()
	var wantN int64
	var want sql.NullString
	q := fmt.Sprintf("SELECT count(*), CAST(sum(CAST(hash(t) AS HUGEINT)) AS VARCHAR) FROM %s AS t", quoteIdent(view))
	if err := conn.QueryRowContext(ctx, q).Scan(&wantN, &want); err != nil {
		return err
	}
	if n != wantN || sum != want.String {
		return &hashMismatch{n: n, wantN: wantN, sum: sum, want: want.String}
	}
	return nil
}

// hashProbe returns a batch of a column of each type rowHasher covers, with
// their edge values and a row of NULLs.
func hashProbe(mem memory.Allocator) arrow.RecordBatch {
	type column struct {
		typ    arrow.DataType
		values []any // of the builder's Append; nil appends a NULL
	}
	strs := []any{"", "a", "abcdefg", "abcdefgh", "abcdefghi", "abcdefghijkl", "abcdefghijklm", "1234567890123456", "accordée", "x\x00y", nil}
	ts := func(unit arrow.TimeUnit, tz string) column {
		return column{&arrow.TimestampType{Unit: unit, TimeZone: tz},
			[]any{arrow.Timestamp(0), arrow.Timestamp(-1), arrow.Timestamp(1_700_000_000_123), arrow.Timestamp(math.MaxInt32 + 7), nil}}
	}
	dec := func(p, s int32, vals ...int64) column {
		v := make([]any, 0, len(vals)+2)
		for _, x := range vals {
			v = append(v, decimal128.FromI64(x))
		}
		if p > 18 {
			big, _ := decimal128.FromString("-12345678901234567890123.4567890123", p, s)
			v = append(v, big)
		}
		return column{&arrow.Decimal128Type{Precision: p, Scale: s}, append(v, nil)}
	}
	cols := []column{
		{arrow.FixedWidthTypes.Boolean, []any{true, false, nil}},
		{arrow.PrimitiveTypes.Int8, []any{int8(0), int8(-1), int8(math.MinInt8), int8(math.MaxInt8), nil}},
		{arrow.PrimitiveTypes.Int16, []any{int16(0), int16(-1), int16(math.MinInt16), int16(math.MaxInt16), nil}},
		{arrow.PrimitiveTypes.Int32, []any{int32(0), int32(-1), int32(math.MinInt32), int32(math.MaxInt32), nil}},
		{arrow.PrimitiveTypes.Int64, []any{int64(0), int64(-1), int64(math.MinInt64), int64(math.MaxInt64), nil}},
		{arrow.PrimitiveTypes.Uint8, []any{uint8(0), uint8(math.MaxUint8), nil}},
		{arrow.PrimitiveTypes.Uint16, []any{uint16(0), uint16(math.MaxUint16), nil}},
		{arrow.PrimitiveTypes.Uint32, []any{uint32(0), uint32(math.MaxUint32), nil}},
		{arrow.PrimitiveTypes.Uint64, []any{uint64(0), uint64(math.MaxUint64), nil}},
		{arrow.PrimitiveTypes.Float32, []any{float32(0), float32(math.Copysign(0, -1)), float32(math.NaN()), math.Float32frombits(0xffc00001),
			float32(math.Inf(-1)), float32(-1.5), nil}},
		{arrow.PrimitiveTypes.Float64, []any{0.0, math.Copysign(0, -1), math.NaN(), math.Float64frombits(0xfff8000000000000), math.Inf(1), 1e-300, -2.5, nil}},
		{arrow.BinaryTypes.String, strs},
		{arrow.BinaryTypes.LargeString, strs},
		{arrow.BinaryTypes.Binary, []any{[]byte{}, []byte{0}, []byte("0123456789abcdef0"), nil}},
		{arrow.BinaryTypes.LargeBinary, []any{[]byte{}, []byte{0xff, 0}, nil}},
		{arrow.FixedWidthTypes.Date32, []any{arrow.Date32(0), arrow.Date32(-1), arrow.Date32(20_000), nil}},
		ts(arrow.Second, ""), ts(arrow.Millisecond, ""), ts(arrow.Microsecond, ""), ts(arrow.Nanosecond, ""), ts(arrow.Microsecond, "UTC"),
		dec(4, 2, 0, -1, 9999, -9999), dec(9, 3, 0, -1, 999_999_999, -123_456_789), dec(18, 2, 0, -1, 999_999_999_999_999_999, -5),
		dec(38, 10, 0, -1, math.MaxInt64),
	}
	rows := 0
	for _, c := range cols {
		rows = max(rows, len(c.values))
	}
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fields[i] = arrow.Field{Name: fmt.Sprintf("c%d", i), Type: c.typ, Nullable: true}
	}
	b := array.NewRecordBuilder(mem, arrow.NewSchema(fields, nil))
	defer b.Release()
	for i, c := range cols {
		fb := b.Field(i)
		for r := 0; r < rows; r++ {
			// Each value once, then the column's values again, shifted, so
			// that every row mixes types differently.
			v := c.values[(r+i)%len(c.values)]
			if v == nil {
				fb.AppendNull()
				continue
			}
			appendValue(fb, v)
		}
	}
	return b.NewRecordBatch()
}

// appendValue appends v, of the Go type of fb's values, to fb.
func appendValue(fb array.Builder, v any) {
	switch fb := fb.(type) {
	case *array.BooleanBuilder:
		fb.Append(v.(bool))
	case *array.Int8Builder:
		fb.Append(v.(int8))
	case *array.Int16Builder:
		fb.Append(v.(int16))
	case *array.Int32Builder:
		fb.Append(v.(int32))
	case *array.Int64Builder:
		fb.Append(v.(int64))
	case *array.Uint8Builder:
		fb.Append(v.(uint8))
	case *array.Uint16Builder:
		fb.Append(v.(uint16))
	case *array.Uint32Builder:
		fb.Append(v.(uint32))
	case *array.Uint64Builder:
		fb.Append(v.(uint64))
	case *array.Float32Builder:
		fb.Append(v.(float32))
	case *array.Float64Builder:
		fb.Append(v.(float64))
	case *array.StringBuilder:
		fb.Append(v.(string))
	case *array.LargeStringBuilder:
		fb.Append(v.(string))
	case *array.BinaryBuilder:
		fb.Append(v.([]byte))
	case *array.Date32Builder:
		fb.Append(v.(arrow.Date32))
	case *array.TimestampBuilder:
		fb.Append(v.(arrow.Timestamp))
	case *array.Decimal128Builder:
		fb.Append(v.(decimal128.Num))
	default:
		panic(fmt.Sprintf("appendValue: %T", fb))
	}
}
