package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/datalab/datalab/connectors"
	"github.com/datalab/datalab/connectors/sqlsource"
)

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
	fetchRows int

	schema  *arrow.Schema
	names   []string
	cells   []cell
	targets []any
	rb      *array.RecordBuilder
	hash    *rowHash
	rows    int64

	incremental bool
	curText     pgtype.Text // the cursor's text form, of the current row
	prevCur     string      // OpenOptions.Cursor
	lastCur     string      // the highest cursor read

	drained  bool // every row was fetched
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

// closeConn closes the connection: the server ends the transaction. A
// closing error is no one's to act on.
func (st *stream) closeConn() {
	if st.conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = st.conn.Close(ctx)
	st.conn = nil
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
	if st.lastCur != "" {
		return st.lastCur
	}
	return st.prevCur
}

// Next reads the next batch: one or more fetches of Options.FetchRows rows
// until BatchRows rows. It returns false at the end, on the first error
// (see Err), and once ctx is cancelled.
func (st *stream) Next() bool {
	if !st.Begin() {
		return false
	}
	if err := st.ctx.Err(); err != nil {
		return st.fail(fmt.Errorf("read %s: %w", st.src.set.location, err))
	}
	n, size := 0, 0
	for n < st.batchRows && !st.drained && size < maxBatchBytes {
		want := min(st.fetchRows, st.batchRows-n)
		got, bytes, err := st.fetch(want)
		n, size = n+got, size+bytes
		if err != nil {
			return st.fail(err)
		}
		if got < want {
			st.drained = true
		}
	}
	if st.drained {
		st.complete = true
		st.closeConn()
	}
	if n == 0 {
		st.End()
		return false
	}
	st.SetBatch(st.rb.NewRecordBatch())
	return true
}

// fetch reads up to want rows into the builders.
func (st *stream) fetch(want int) (rows, size int, err error) {
	res, err := st.conn.Query(st.ctx, "FETCH FORWARD "+strconv.Itoa(want)+" FROM datalab_rows")
	if err != nil {
		return 0, 0, st.readError(err)
	}
	defer res.Close()
	ncols := len(st.cells)
	for res.Next() {
		st.rows++
		if err := res.Scan(st.targets...); err != nil {
			return rows, size, st.scanError(err)
		}
		raw := res.RawValues()[:ncols]
		st.hash.row(raw)
		for _, v := range raw {
			size += len(v)
		}
		for i, c := range st.cells {
			if err := c.put(st.rb.Field(i)); err != nil {
				return rows, size, st.valueError(i, err)
			}
		}
		if st.incremental && st.curText.Valid {
			// Rows come in the cursor's order: the last is the highest.
			st.lastCur = st.curText.String
		}
		rows++
	}
	if err := res.Err(); err != nil {
		return rows, size, st.readError(err)
	}
	return rows, size, nil
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

func (st *stream) scanError(err error) error {
	var se pgx.ScanArgError
	if errors.As(err, &se) && se.ColumnIndex < len(st.names) {
		return &connectors.DataError{Location: st.src.set.location, Column: st.names[se.ColumnIndex],
			Reason: fmt.Sprintf("row %d cannot be read: %v", st.rows, se.Err),
			Fix:    "cast the column to text in source.query (col::text)"}
	}
	return fmt.Errorf("read %s, row %d: %w", st.src.set.location, st.rows, err)
}

func (st *stream) valueError(col int, err error) error {
	ve, ok := err.(*valueError)
	if !ok {
		return fmt.Errorf("read %s, row %d, column %s: %w", st.src.set.location, st.rows, st.names[col], err)
	}
	return &connectors.DataError{Location: st.src.set.location, Column: st.names[col], Value: ve.value,
		Reason: fmt.Sprintf("row %d: %s", st.rows, ve.reason), Fix: ve.fix}
}
