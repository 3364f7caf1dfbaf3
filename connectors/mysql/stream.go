package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/datalab/datalab/connectors"
	"github.com/datalab/datalab/connectors/sqlsource"
)

// maxBatchBytes ends a batch early when its rows hold this much text, so
// that a batch of very wide rows stays within Arrow's 32-bit offsets.
const maxBatchBytes = 256 << 20

// stream is the connectors.CursorStream of an opened MySQL source.
type stream struct {
	connectors.Batches

	ctx       context.Context
	cancel    context.CancelFunc // of the query: drops the connection
	src       *Source
	db        *sql.DB
	conn      *sql.Conn
	rows      *sql.Rows
	red       sqlsource.Redactor
	mem       memory.Allocator
	batchRows int

	schema  *arrow.Schema
	names   []string
	cols    []column
	targets []any
	rb      *array.RecordBuilder
	shape   connectors.BatchShape // of the last batch: room reserved for the next
	hash    *rowHash
	nrows   int64
	size    int // bytes of the current batch

	incremental bool
	curText     sql.NullString // the cursor's text form, of the current row
	prevCur     string         // OpenOptions.Cursor
	lastCur     string         // the highest cursor read

	complete bool // read to the end without error
}

var _ connectors.CursorStream = (*stream)(nil)

// free frees the builders, and closes the connection: the last Release
// calls it.
func (st *stream) free() {
	if st.rb != nil {
		st.rb.Release()
		st.rb = nil
	}
	st.closeConn()
}

// closeConn ends the query and closes the connection. Unread rows are not
// read: cancelling the query's context drops the connection first.
// Closing errors are no one's to act on.
func (st *stream) closeConn() {
	if st.db == nil {
		return
	}
	st.cancel()
	if st.rows != nil {
		_ = st.rows.Close()
	}
	_ = st.conn.Close()
	_ = st.db.Close()
	st.db, st.conn, st.rows = nil, nil, nil
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

// Cursor returns the highest cursor value read, as MySQL writes it as text,
// or OpenOptions.Cursor when no row had one.
func (st *stream) Cursor() string {
	if st.lastCur != "" {
		return st.lastCur
	}
	return st.prevCur
}

// Next reads the next batch of up to BatchRows rows. It returns false at
// the end, on the first error (see Err), and once ctx is cancelled.
func (st *stream) Next() bool {
	if !st.Begin() {
		return false
	}
	if err := st.ctx.Err(); err != nil {
		return st.fail(fmt.Errorf("read %s: %w", st.src.set.location, err))
	}
	n := 0
	st.size = 0
	st.shape.Reserve(st.rb)
	for n < st.batchRows && !st.complete && st.size < maxBatchBytes {
		if !st.rows.Next() {
			if err := st.rows.Err(); err != nil {
				return st.fail(st.readError(err))
			}
			st.complete = true
			st.closeConn()
			break
		}
		st.nrows++
		st.hash.Begin()
		if err := st.rows.Scan(st.targets...); err != nil {
			return st.fail(st.scanError(err))
		}
		st.hash.End()
		if st.incremental && st.curText.Valid {
			// Rows come in the cursor's order: the last is the highest.
			st.lastCur = st.curText.String
		}
		n++
	}
	if n == 0 {
		st.End()
		return false
	}
	rec := st.rb.NewRecordBatch()
	st.shape = connectors.ShapeOf(rec)
	st.SetBatch(rec)
	return true
}

func (st *stream) fail(err error) bool {
	st.closeConn()
	return st.Fail(st.red.Error(err))
}

func (st *stream) readError(err error) error {
	if st.ctx.Err() != nil {
		return fmt.Errorf("read %s: %w", st.src.set.location, st.ctx.Err())
	}
	return fmt.Errorf("read %s after %d rows: %w%s", st.src.set.location, st.nrows, err, st.hint(err))
}

// scanError turns a value a column cannot hold into a DataError naming
// the column.
func (st *stream) scanError(err error) error {
	var ve *valueError
	if errors.As(err, &ve) {
		return &connectors.DataError{Location: st.src.set.location, Column: st.names[ve.column], Value: ve.value,
			Reason: fmt.Sprintf("row %d: %s", st.nrows, ve.reason), Fix: ve.fix}
	}
	return fmt.Errorf("read %s, row %d: %w", st.src.set.location, st.nrows, err)
}
