package postgres

import (
	"context"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/jackc/pgx/v5"

	"github.com/datalab/datalab/connectors"
	"github.com/datalab/datalab/connectors/sqlsource"
)

// reserveRows is how many rows decode makes room for at a time, in every
// builder, before appending them without a check.
const reserveRows = 1024

// maxBatchBytes ends a batch early when its rows hold this much data, so
// that a batch of very wide rows stays within Arrow's 32-bit offsets.
const maxBatchBytes = 256 << 20

// stream is the connectors.CursorStream of an opened PostgreSQL source.
type stream struct {
	connectors.Batches

	ctx       context.Context
	src       *Source
	conn      *pgx.Conn
	red       sqlsource.Redactor
	mem       memory.Allocator
	batchRows int

	schema *arrow.Schema
	names  []string
	puts   []putFunc // of each column, into the builders of rb
	rb     *array.RecordBuilder
	shape  connectors.BatchShape // of the last batch: room reserved for the next
	hash   *rowHash
	rows   int64

	incremental bool
	prevCur     string // OpenOptions.Cursor
	lastCur     []byte // the highest cursor read, in its text form
	hasCur      bool   // lastCur holds a cursor

	// The COPY is read from raw, the connection taken from conn once the
	// COPY is sent; rd decodes it. unwatch stops interrupting raw's reads
	// when ctx is done.
	raw     net.Conn
	rd      *copyReader
	unwatch func() bool

	// Batches are decoded one ahead, in a goroutine of their own.
	results  chan decoded
	stop     chan struct{} // closed by free: the decoder stops
	decoding chan struct{} // closed when the decoder ends

	drained  bool // every row was read
	complete bool // read to the end without error
}

var _ connectors.CursorStream = (*stream)(nil)

// free frees the builders, and closes the connection: the last Release
// calls it.
func (st *stream) free() {
	if st.decoding != nil {
		close(st.stop)
		st.interrupt()
		<-st.decoding
		st.decoding = nil
		for {
			select {
			case r := <-st.results:
				if r.rec != nil {
					r.rec.Release()
				}
				continue
			default:
			}
			break
		}
	}
	if st.rb != nil {
		st.rb.Release()
		st.rb = nil
	}
	st.closeConn()
}

// closeConn closes the connection: the server ends the transaction. A
// closing error is no one's to act on.
func (st *stream) closeConn() {
	if st.raw != nil {
		st.unwatch()
		st.interrupt()
		// Say goodbye, as pgx would: the server then logs no lost client.
		_ = st.raw.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = st.raw.Write([]byte{'X', 0, 0, 0, 4})
		_ = st.raw.Close()
		st.raw = nil
	}
	if st.conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = st.conn.Close(ctx) // once raw is taken from it, this does nothing
	st.conn = nil
}

// interrupt makes a read of the COPY under way, in the decoding
// goroutine, return at once with an error. It may be called again.
func (st *stream) interrupt() {
	if st.raw != nil {
		_ = st.raw.SetReadDeadline(time.Now())
	}
}

// Schema returns the schema every batch has.
func (st *stream) Schema() *arrow.Schema { return st.schema }

// Fingerprint returns the location and, once every row was read, a hash
// of the rows that does not depend on their order.
func (st *stream) Fingerprint() connectors.Fingerprint {
	fp := connectors.Fingerprint{Location: st.src.set.location}
	if st.complete {
		fp.ContentHash = st.hash.Sum()
	}
	return fp
}

// Cursor returns the highest cursor value read, in PostgreSQL's text form,
// or OpenOptions.Cursor when no row had one.
func (st *stream) Cursor() string {
	if st.hasCur {
		return string(st.lastCur)
	}
	return st.prevCur
}

// decoded is a batch decoded ahead: rec (nil when there are no more
// rows), the cursor's highest value so far, and whether the stream ended
// (end) or failed (err).
type decoded struct {
	rec    arrow.RecordBatch
	cursor string
	hasCur bool
	end    bool
	err    error
}

// startDecoding decodes the batches in a goroutine, one ahead of Next.
func (st *stream) startDecoding() {
	st.results = make(chan decoded, 1)
	st.stop = make(chan struct{})
	st.decoding = make(chan struct{})
	go func() {
		defer close(st.decoding)
		for {
			r := st.decode()
			select {
			case st.results <- r:
			case <-st.stop:
				if r.rec != nil {
					r.rec.Release()
				}
				return
			}
			if r.end || r.err != nil {
				return
			}
		}
	}()
}

// Next returns the next batch of BatchRows rows of the COPY stream. It
// returns false at the end, on the first error (see Err), and once ctx is
// cancelled.
func (st *stream) Next() bool {
	if !st.Begin() {
		return false
	}
	if err := st.ctx.Err(); err != nil {
		return st.fail(fmt.Errorf("read %s: %w", st.src.set.location, err))
	}
	if st.drained {
		st.End()
		return false
	}
	r := <-st.results
	if r.err != nil {
		return st.fail(r.err)
	}
	if r.hasCur {
		st.lastCur, st.hasCur = []byte(r.cursor), true
	}
	if r.end {
		st.drained, st.complete = true, true
		st.closeConn()
	}
	if r.rec == nil {
		st.End()
		return false
	}
	st.SetBatch(r.rec)
	return true
}

// decode decodes the next batch, in the decoding goroutine: it alone uses
// rd, rb, the hash and the row count until it sends the last result.
func (st *stream) decode() decoded {
	var r decoded
	n, size := 0, 0
	ncols := len(st.puts)
	want := ncols
	if st.incremental {
		want++ // the cursor's text form, last
	}
	var cur []byte
	st.shape.Reserve(st.rb)
	room := 0 // rows the builders have room for: the puts write without a check
	for n < st.batchRows && size < maxBatchBytes {
		if n == room {
			k := min(reserveRows, st.batchRows-n)
			for _, b := range st.rb.Fields() {
				b.Reserve(k)
			}
			room += k
		}
		t, err := st.rd.next(want)
		if err == io.EOF {
			r.end = true
			break
		}
		if err != nil {
			return decoded{err: st.readError(err)}
		}
		st.rows++
		values := t[:st.rd.ends[ncols-1]]
		st.hash.row(values)
		size += len(values)
		for i, put := range st.puts {
			if err := put(st.rd.fields[i]); err != nil {
				return decoded{err: st.valueError(i, err)}
			}
		}
		if st.incremental {
			// Rows come in the cursor's order: the last is the highest.
			if v := st.rd.fields[ncols]; v != nil {
				cur = append(cur[:0], v...)
				r.hasCur = true
			}
		}
		n++
	}
	if r.end {
		// The rest of the server's answer, and its count of the rows.
		if err := st.rd.drain(st.rows); err != nil {
			return decoded{err: st.readError(err)}
		}
	}
	if r.hasCur {
		r.cursor = string(cur)
	}
	if n > 0 {
		r.rec = st.rb.NewRecordBatch()
		st.shape = connectors.ShapeOf(r.rec)
	}
	return r
}

func (st *stream) fail(err error) bool {
	st.closeConn()
	return st.Fail(st.red.Error(err))
}

func (st *stream) readError(err error) error {
	if st.ctx.Err() != nil {
		return fmt.Errorf("read %s: %w", st.src.set.location, st.ctx.Err())
	}
	return fmt.Errorf("read %s after %d rows: %w%s", st.src.set.location, st.rows, err, st.hint(err))
}

func (st *stream) valueError(col int, err error) error {
	ve, ok := err.(*valueError)
	if !ok {
		return fmt.Errorf("read %s, row %d, column %s: %w", st.src.set.location, st.rows, st.names[col], err)
	}
	return &connectors.DataError{Location: st.src.set.location, Column: st.names[col], Value: ve.value,
		Reason: fmt.Sprintf("row %d: %s", st.rows, ve.reason), Fix: ve.fix}
}
