package postgres

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math/big"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/jackc/pgx/v5/pgtype"
)

// benchColumns are the columns of cmd/datalab-bench's PostgreSQL table:
// their type and type modifier (numeric(12,2) for the amount).
var benchColumns = []struct {
	oid    uint32
	typmod int32
}{
	{pgtype.Int8OID, -1}, {pgtype.TextOID, -1}, {pgtype.DateOID, -1}, {pgtype.DateOID, -1},
	{pgtype.NumericOID, 12<<16 | 2 + 4}, {pgtype.TextOID, -1}, {pgtype.BoolOID, -1},
	{pgtype.Int4OID, -1}, {pgtype.Float8OID, -1}, {pgtype.TimestamptzOID, -1},
}

// copyMessages returns a binary COPY stream of rows rows like the bench
// table's, as the server sends it: the header, then one CopyData message
// per row, then the trailer. pgx's own encoders write the values.
func copyMessages(tb testing.TB, rows int) [][]byte {
	tb.Helper()
	m := pgtype.NewMap()
	categories := []string{"accordée", "refusée", "en cours", "classée sans suite", "irrecevable"}
	day := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	msgs := [][]byte{append(append([]byte{}, copySignature...), 0, 0, 0, 0, 0, 0, 0, 0)}
	for g := 1; g <= rows; g++ {
		values := []any{
			int64(g),
			fmt.Sprintf("%05d", g*7919%99999),
			day.AddDate(0, 0, g*31%2000),
			day.AddDate(0, 0, g*31%2000+g%200),
			pgtype.Numeric{Int: big.NewInt(int64(g * 104729 % 50000000)), Exp: -2, Valid: true},
			categories[g%5],
			g%10 == 0,
			int32(g % 37),
			float64(g) / 3,
			day.Add(time.Duration(g*17%31536000) * time.Second),
		}
		msg := binary.BigEndian.AppendUint16(nil, uint16(len(values)))
		for i, v := range values {
			if g%97 == 0 && i == 5 {
				msg = binary.BigEndian.AppendUint32(msg, 0xFFFFFFFF) // a NULL now and then
				continue
			}
			at := len(msg)
			msg = append(msg, 0, 0, 0, 0)
			var err error
			msg, err = m.Encode(benchColumns[i].oid, pgtype.BinaryFormatCode, v, msg)
			if err != nil {
				tb.Fatal(err)
			}
			binary.BigEndian.PutUint32(msg[at:], uint32(len(msg)-at-4))
		}
		msgs = append(msgs, msg)
	}
	return append(msgs, []byte{0xFF, 0xFF})
}

// decodeAll decodes a whole stream, returns its batches.
func decodeAll(tb testing.TB, st *stream) []arrow.RecordBatch {
	tb.Helper()
	var recs []arrow.RecordBatch
	for {
		r := st.decode()
		if r.err != nil {
			tb.Fatal(r.err)
		}
		if r.rec != nil {
			recs = append(recs, r.rec)
		}
		if r.end {
			return recs
		}
	}
}

// TestDecodeAcrossChunks checks that a tuple cut between two chunks of the
// pipe, which a server sending a tuple per message does not do, is read
// whole all the same: the stream written in pieces of any size decodes to
// the same batches as written a message at a time.
func TestDecodeAcrossChunks(t *testing.T) {
	msgs := copyMessages(t, 20_000) // about 2 MB: several chunks
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	want := decodeAll(t, decodeStream(t, msgs, mem, 4096))
	whole := bytes.Join(msgs, nil)
	for _, piece := range []int{1, 7, 1000, copyChunk - 1, copyChunk + 13, len(whole)} {
		var pieces [][]byte
		for i := 0; i < len(whole); i += piece {
			pieces = append(pieces, whole[i:min(i+piece, len(whole))])
		}
		st := decodeStream(t, pieces, mem, 4096)
		got := decodeAll(t, st)
		if len(got) != len(want) {
			t.Fatalf("pieces of %d bytes: %d batches, want %d", piece, len(got), len(want))
		}
		for i := range got {
			if !array.RecordEqual(got[i], want[i]) {
				t.Fatalf("pieces of %d bytes: batch %d differs", piece, i)
			}
			got[i].Release()
		}
		if st.hash.Sum() == "" {
			t.Fatal("no hash")
		}
		st.rb.Release()
	}
	for _, r := range want {
		r.Release()
	}
}

// decodeStream returns a stream that decodes msgs, as if a server sent
// them, into batches of batchRows rows allocated by mem.
func decodeStream(tb testing.TB, msgs [][]byte, mem memory.Allocator, batchRows int) *stream {
	fields := make([]arrow.Field, len(benchColumns))
	types := make([]pgType, len(benchColumns))
	for i, c := range benchColumns {
		t, ok := typeFor(c.oid, c.typmod)
		if !ok {
			tb.Fatalf("column %d: no type for oid %d", i, c.oid)
		}
		types[i] = t
		fields[i] = arrow.Field{Name: string(rune('a' + i)), Type: t.arrow, Nullable: true}
	}
	st := &stream{src: &Source{}, mem: mem, batchRows: batchRows, hash: newRowHash(), schema: arrow.NewSchema(fields, nil)}
	st.names = make([]string, len(fields))
	st.rb = array.NewRecordBuilder(mem, st.schema)
	st.puts = make([]putFunc, len(types))
	for i, t := range types {
		st.puts[i] = t.put(st.rb.Field(i))
	}
	st.pipe = newCopyPipe()
	st.rd = newCopyReader(st.pipe)
	st.copyCancel = func() {}
	st.copyDone = make(chan struct{})
	go func() {
		defer close(st.copyDone)
		for _, m := range msgs {
			if _, err := st.pipe.Write(m); err != nil {
				st.pipe.finish(err)
				return
			}
		}
		st.pipe.finish(nil)
	}()
	if err := st.rd.header(); err != nil {
		tb.Fatal(err)
	}
	return st
}

// BenchmarkDecode measures the connector's hot path on a recorded COPY
// stream, without a server: cutting the stream into tuples, converting
// each binary value, building the Arrow batches and hashing the rows. To
// profile it:
//
//	go test -tags duckdb_arrow -run '^$' -bench Decode -cpuprofile cpu.out ./connectors/postgres/
//	go tool pprof -top cpu.out
func BenchmarkDecode(b *testing.B) {
	const rows = 200_000
	msgs := copyMessages(b, rows)
	var size int64
	for _, m := range msgs {
		size += int64(len(m))
	}
	mem := memory.NewGoAllocator()
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		st := decodeStream(b, msgs, mem, 122_880)
		n := 0
		for {
			r := st.decode()
			if r.err != nil {
				b.Fatal(r.err)
			}
			if r.rec != nil {
				n += int(r.rec.NumRows())
				r.rec.Release()
			}
			if r.end {
				break
			}
		}
		st.rb.Release()
		if n != rows {
			b.Fatalf("%d rows decoded, want %d", n, rows)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
}

// TestDecodeRecorded checks the benchmark's stream: every value decoded
// as the server's encoder wrote it, NULLs included.
func TestDecodeRecorded(t *testing.T) {
	msgs := copyMessages(t, 1000)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	st := decodeStream(t, msgs, mem, 300)
	recs := decodeAll(t, st)
	st.rb.Release()
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	if len(recs) != 4 || recs[3].NumRows() != 100 {
		t.Fatalf("%d batches, want 3 of 300 rows and one of 100", len(recs))
	}
	// Row 291 (the 291st, g = 291) is in the first batch, at 290; row 97's
	// category is NULL.
	r := recs[0]
	if got := r.Column(0).(*array.Int64).Value(290); got != 291 {
		t.Errorf("id = %d, want 291", got)
	}
	if got, want := r.Column(1).(*array.String).Value(290), fmt.Sprintf("%05d", 291*7919%99999); got != want {
		t.Errorf("code = %s, want %s", got, want)
	}
	if got := r.Column(4).(*array.Decimal128).Value(290); got.LowBits() != uint64(291*104729%50000000) {
		t.Errorf("amount = %v, want %d hundredths", got, 291*104729%50000000)
	}
	if !r.Column(5).IsNull(96) || r.Column(5).IsNull(95) {
		t.Errorf("category of row 97 not NULL, or of row 96 NULL")
	}
	if got := r.Column(6).(*array.Boolean).Value(289); !got {
		t.Errorf("urgent of row 290 = false, want true")
	}
	want := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(291*17%31536000) * time.Second)
	if got := r.Column(9).(*array.Timestamp).Value(290).ToTime(arrow.Microsecond); !got.Equal(want) {
		t.Errorf("modified = %v, want %v", got, want)
	}
	if _, err := st.rd.next(len(benchColumns)); err != io.EOF {
		t.Errorf("after the trailer: %v, want io.EOF", err)
	}
}
