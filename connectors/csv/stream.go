package csv

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/datalab/datalab/connectors"
)

// maxBatchBytes ends a batch early when its rows hold this much text, so
// that a batch of very wide rows stays within Arrow's 32-bit string offsets.
const maxBatchBytes = 256 << 20

// stream is the connectors.Stream of an opened CSV file.
//
// Once Open has read the sample, a producer goroutine parses the file one
// batch ahead of Next: while the caller (DuckDB's Arrow scan, say) works on
// a batch, the next one is being built (and waits, unbuffered, so that at
// most two batches are held at once). The producer owns the scanner,
// the builders and the reading of the body; Next only receives finished
// batches, in order, so errors and line numbers are those of a serial read.
type stream struct {
	refs atomic.Int64

	ctx       context.Context
	cancel    context.CancelFunc
	src       *Source
	body      *connectors.Body
	dec       *decoder
	sc        *scanner
	cols      []*column
	nulls     *nullSet
	schema    *arrow.Schema
	mem       memory.Allocator
	batchRows int
	rowsHint  int // rows to reserve per batch
	sampled   int // rows the types were inferred from
	fbuf      []byte

	// The producer sends batches on out and closes it when it stops; stop
	// tells it to stop early. fp is the fingerprint without content hash,
	// for the time the producer reads the body.
	out      chan batchResult
	stop     chan struct{}
	fp       connectors.Fingerprint
	finished bool // out was seen closed: the producer is gone

	cur    arrow.RecordBatch
	err    error
	done   bool
	closed bool
}

// batchResult is a batch, or the error that ended the producer.
type batchResult struct {
	rec arrow.RecordBatch
	err error
}

var _ connectors.Stream = (*stream)(nil)

// start launches the producer; prepare must have run.
func (st *stream) start() {
	st.fp = st.body.Fingerprint()
	st.fp.ContentHash = ""
	st.out = make(chan batchResult)
	st.stop = make(chan struct{})
	go st.produce()
}

// produce parses batches until the end, an error, or stop.
func (st *stream) produce() {
	defer close(st.out)
	for {
		select {
		case <-st.stop:
			return
		default:
		}
		rec, eof, err := st.readBatch()
		if rec == nil && err == nil {
			return
		}
		select {
		case st.out <- batchResult{rec, err}:
		case <-st.stop:
			if rec != nil {
				rec.Release()
			}
			return
		}
		if err != nil || eof {
			return
		}
	}
}

// Retain adds a reference to the stream.
func (st *stream) Retain() { st.refs.Add(1) }

// Release removes a reference; the last one stops the producer and frees
// the batches, the builders and the file or HTTP response.
func (st *stream) Release() {
	if st.refs.Add(-1) == 0 {
		st.closeAll()
	}
}

// closeAll frees everything the stream holds. Cancelling the stream's
// context first unblocks a producer waiting on the network; the body is
// closed once the producer is gone. An error of closing is not the data's
// fault, and there is no one to tell.
func (st *stream) closeAll() {
	if st.closed {
		return
	}
	st.closed = true
	st.done = true
	if st.cur != nil {
		st.cur.Release()
		st.cur = nil
	}
	st.cancel()
	if st.stop != nil {
		close(st.stop)
		for res := range st.out {
			if res.rec != nil {
				res.rec.Release()
			}
		}
		st.finished = true
	}
	for _, c := range st.cols {
		c.release()
	}
	_ = st.body.Close()
}

// Schema returns the schema every batch has.
func (st *stream) Schema() *arrow.Schema { return st.schema }

// RecordBatch returns the current batch, valid until the next call to Next.
func (st *stream) RecordBatch() arrow.RecordBatch { return st.cur }

// Record returns the current batch.
//
// Deprecated: use RecordBatch.
func (st *stream) Record() arrow.RecordBatch { return st.cur }

// Err returns the error that stopped Next, nil at a clean end.
func (st *stream) Err() error { return st.err }

// Fingerprint returns the file's validators, and the hash of its bytes once
// the stream has reached its end.
func (st *stream) Fingerprint() connectors.Fingerprint {
	if st.finished || st.out == nil {
		return st.body.Fingerprint()
	}
	return st.fp // the producer is still reading the body
}

// Next makes the next batch current. It returns false at the end of the
// file, on the first error (see Err), and once ctx is cancelled.
func (st *stream) Next() bool {
	if st.cur != nil {
		st.cur.Release()
		st.cur = nil
	}
	if st.done {
		return false
	}
	if err := st.ctx.Err(); err != nil {
		return st.fail(st.wrap(err))
	}
	var res batchResult
	var ok bool
	select {
	case res, ok = <-st.out:
	case <-st.ctx.Done():
		return st.fail(st.wrap(st.ctx.Err()))
	}
	if !ok {
		st.finished = true
		st.done = true
		return false
	}
	if res.err != nil {
		return st.fail(res.err)
	}
	st.cur = res.rec
	return true
}

func (st *stream) fail(err error) bool {
	st.err = err
	st.done = true
	return false
}

// readBatch parses the next batch of at most batchRows rows. It returns a
// nil batch at the end of the file; eof says the batch is the last.
func (st *stream) readBatch() (rec arrow.RecordBatch, eof bool, err error) {
	if err := st.ctx.Err(); err != nil {
		return nil, false, st.wrap(err)
	}
	sc := st.sc
	for _, c := range st.cols {
		c.reserve(st.rowsHint)
	}
	rows, text := 0, 0
	for rows < st.batchRows && text < maxBatchBytes {
		ok, err := sc.next()
		if err != nil {
			return nil, false, st.wrap(err)
		}
		if !ok {
			eof = true
			break
		}
		if err := st.checkWidth(); err != nil {
			return nil, false, err
		}
		for i, c := range st.cols {
			v := sc.fields[i]
			if st.nulls.match(v) {
				c.appendNull()
				continue
			}
			if !c.append(v, &st.fbuf) {
				return nil, false, st.valueError(c, v)
			}
		}
		rows++
		text += sc.recLen
	}
	if rows == 0 {
		return nil, eof, nil
	}
	arrs := make([]arrow.Array, len(st.cols))
	for i, c := range st.cols {
		arrs[i] = c.newArray()
	}
	rec = array.NewRecordBatch(st.schema, arrs, int64(rows))
	for _, a := range arrs {
		a.Release()
	}
	return rec, eof, nil
}

// valueError says which value does not fit its column, and what to do.
func (st *stream) valueError(c *column, v []byte) error {
	e := &connectors.DataError{
		Location: st.src.set.loc.String(),
		Line:     st.sc.recLine,
		Column:   c.name,
		Value:    string(v),
	}
	if c.field != nil {
		e.Reason = fmt.Sprintf("not %s, as the registration's schema declares (%s)", c.kind.describe(), c.field.Type)
		e.Fix = "fix the value in the file, or change the column's type or format in the registration's schema"
	} else {
		e.Reason = fmt.Sprintf("not %s, the type inferred from the first %d rows", c.kind.describe(), st.sampled)
		e.Fix = fmt.Sprintf("declare the column in the registration's schema, e.g. {name: %s, type: string}", c.name)
	}
	return e
}
