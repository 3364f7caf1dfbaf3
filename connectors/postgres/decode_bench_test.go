package postgres

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math/big"
	"strings"
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

// TestDecodeAcrossChunks checks that a tuple cut between two CopyData
// messages, which a server sending a tuple per message does not do, or
// between two reads of the connection, is read whole all the same: the
// stream sent in payloads of any size, and read in pieces of any size,
// decodes to the same batches as sent a tuple per message.
func TestDecodeAcrossChunks(t *testing.T) {
	msgs := copyMessages(t, 20_000) // about 2 MB: several buffers
	rows := len(msgs) - 2
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	want := decodeAll(t, decodeStream(t, answer(msgs, rows), 0, mem, 4096))
	whole := bytes.Join(msgs, nil)
	for _, c := range []struct{ payload, read int }{
		{1, 0}, {7, 0}, {1000, 0}, {wireBuffer - 1, 0}, {wireBuffer + 13, 0}, {len(whole), 0}, // payloads cut anywhere
		{0, 1}, {0, 5}, {0, 4093}, {0, wireBuffer + 1}, // a tuple per payload, reads of any size
		{333, 17},
	} {
		pieces := msgs
		if c.payload > 0 {
			pieces = nil
			for i := 0; i < len(whole); i += c.payload {
				pieces = append(pieces, whole[i:min(i+c.payload, len(whole))])
			}
		}
		st := decodeStream(t, answer(pieces, rows), c.read, mem, 4096)
		got := decodeAll(t, st)
		if len(got) != len(want) {
			t.Fatalf("%+v: %d batches, want %d", c, len(got), len(want))
		}
		for i := range got {
			if !array.RecordEqual(got[i], want[i]) {
				t.Fatalf("%+v: batch %d differs", c, i)
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

// TestDecodeServerAnswers checks what the decoder makes of answers a
// server may give instead of a whole COPY: an error in the middle, a
// connection closed, a count that differs from the rows sent, and the
// messages a server may slip in between two CopyData.
func TestDecodeServerAnswers(t *testing.T) {
	msgs := copyMessages(t, 3000)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	pgErr := message('E', []byte("SERROR\x00C22012\x00Mdivision by zero\x00\x00"))
	full := answer(msgs, 3000)
	cut := bytes.Index(full, message('d', msgs[2000]))
	notice := message('N', []byte("SNOTICE\x00C00000\x00Mhello\x00\x00"))
	last := bytes.Index(full, message('d', msgs[len(msgs)-1])) // the trailer's message
	for _, c := range []struct {
		name   string
		answer []byte
		err    string // "" for none
	}{
		{"an error after 2000 rows", append(full[:cut:cut], append(pgErr, message('Z', []byte("E"))...)...), "division by zero (SQLSTATE 22012)"},
		{"the connection closed", full[:cut], "the server closed the connection in the middle of the COPY"},
		{"a message cut short", full[:cut+30], "the server closed the connection in the middle of the COPY"},
		{"another count", answer(msgs, 2999), `the server sent 3000 rows but says "COPY 2999"`},
		{"no trailer", append(full[:last:last], message('Z', []byte("I"))...), "unexpected EOF"},
		{"a notice in between", append(append(full[:cut:cut], notice...), full[cut:]...), ""},
		{"a length out of step", append(full[:cut:cut], 'd', 0xff, 0xff, 0xff, 0xff), "the server sent a message of 4294967295 bytes"},
		{"a text COPY", append(message('H', []byte{0, 0, 0}), full[bytes.IndexByte(full, 'd'):]...), "the server answered the binary COPY in text"},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := newDecodeStream(t, c.answer, 0, mem, 1000)
			defer st.rb.Release()
			err := st.rd.header()
			rows := 0
			for err == nil {
				r := st.decode()
				if r.rec != nil {
					rows += int(r.rec.NumRows())
					r.rec.Release()
				}
				if r.end {
					break
				}
				err = r.err
			}
			switch {
			case c.err == "" && err != nil:
				t.Fatalf("error %v after %d rows", err, rows)
			case c.err == "" && rows != 3000:
				t.Fatalf("%d rows, want 3000", rows)
			case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
				t.Fatalf("error %v, want one that says %q", err, c.err)
			}
		})
	}
}

// message frames body as a message of the protocol, of type typ.
func message(typ byte, body []byte) []byte {
	m := binary.BigEndian.AppendUint32([]byte{typ}, uint32(4+len(body)))
	return append(m, body...)
}

// answer returns what a server answers a binary COPY TO STDOUT that sends
// payloads and counts rows rows.
func answer(payloads [][]byte, rows int) []byte {
	b := message('H', []byte{1, 0, 0})
	for _, p := range payloads {
		b = append(b, message('d', p)...)
	}
	b = append(b, message('c', nil)...)
	b = append(b, message('C', fmt.Appendf(nil, "COPY %d\x00", rows))...)
	return append(b, message('Z', []byte("T"))...)
}

// pieceReader returns at most n bytes per Read.
type pieceReader struct {
	b []byte
	n int
}

func (r *pieceReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	k := copy(p[:min(len(p), r.n)], r.b)
	r.b = r.b[k:]
	return k, nil
}

// decodeStream returns a stream that decodes a server's answer, read in
// pieces of read bytes (0 for all that fits), into batches of batchRows
// rows allocated by mem; it has read the COPY's header.
func decodeStream(tb testing.TB, answer []byte, read int, mem memory.Allocator, batchRows int) *stream {
	st := newDecodeStream(tb, answer, read, mem, batchRows)
	if err := st.rd.header(); err != nil {
		tb.Fatal(err)
	}
	return st
}

// newDecodeStream is decodeStream before the header is read.
func newDecodeStream(tb testing.TB, answer []byte, read int, mem memory.Allocator, batchRows int) *stream {
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
	st := &stream{ctx: context.Background(), src: &Source{}, mem: mem, batchRows: batchRows, hash: newRowHash(), schema: arrow.NewSchema(fields, nil)}
	st.names = make([]string, len(fields))
	st.rb = array.NewRecordBuilder(mem, st.schema)
	st.puts = make([]putFunc, len(types))
	for i, t := range types {
		st.puts[i] = t.put(st.rb.Field(i))
	}
	var rd io.Reader = bytes.NewReader(answer)
	if read > 0 {
		rd = &pieceReader{b: answer, n: read}
	}
	st.rd = newCopyReader(newWire(rd))
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
	ans := answer(copyMessages(b, rows), rows)
	mem := memory.NewGoAllocator()
	b.SetBytes(int64(len(ans)))
	b.ReportAllocs()
	for b.Loop() {
		st := decodeStream(b, ans, 0, mem, 122_880)
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
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	st := decodeStream(t, answer(copyMessages(t, 1000), 1000), 0, mem, 300)
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
