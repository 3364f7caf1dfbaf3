package parquet

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/compute/exec"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/datalab/datalab/connectors"
)

// stream is the connectors.Stream of an opened Parquet file.
type stream struct {
	connectors.Batches

	ctx    context.Context
	loc    string
	file   *connectors.File
	rr     pqarrow.RecordReader // nil for a file without rows
	cols   []*column
	schema *arrow.Schema
	mem    memory.Allocator
	rows   int64 // read so far

}

var _ connectors.Stream = (*stream)(nil)

// free frees the reader's buffers, closes the file and removes a downloaded
// copy: the last Release calls it.
func (st *stream) free() {
	if st.rr != nil {
		st.rr.Release()
		st.rr = nil
	}
	if st.file != nil {
		_ = st.file.Close()
	}
}

// Schema returns the schema every batch has.
func (st *stream) Schema() *arrow.Schema { return st.schema }

// Fingerprint returns the file's validators and content hash, complete
// from Open on: the file was read whole (or downloaded) before.
func (st *stream) Fingerprint() connectors.Fingerprint { return st.file.Fingerprint() }

// Next decodes the next batch. It returns false at the end of the file, on
// the first error (see Err), and once ctx is cancelled.
func (st *stream) Next() bool {
	if !st.Begin() {
		return false
	}
	if err := st.ctx.Err(); err != nil {
		return st.Fail(fmt.Errorf("read %s: %w", st.loc, err))
	}
	rec, err := st.next()
	if err != nil {
		return st.Fail(err)
	}
	if rec == nil {
		st.End()
		return false
	}
	st.SetBatch(rec)
	st.rows += rec.NumRows()
	return true
}

// next reads a batch from the Parquet reader and gives it the stream's
// names and types; nil at the end. A panic of the reader, on a corrupt
// file, is an error.
func (st *stream) next() (rec arrow.RecordBatch, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = corrupt(st.loc, fmt.Errorf("%v", r))
		}
	}()
	if !st.rr.Next() {
		if err := st.rr.Err(); err != nil {
			return nil, corrupt(st.loc, err)
		}
		return nil, nil
	}
	in := st.rr.RecordBatch()
	cols := make([]arrow.Array, len(st.cols))
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for i, c := range st.cols {
		arr := in.Column(i)
		if c.cast != nil {
			cast, err := st.castArray(arr, c.cast)
			if err != nil {
				return nil, &connectors.DataError{
					Location: st.loc, Column: c.field.Name,
					Reason: fmt.Sprintf("a value of rows %d to %d cannot be read as %s, as the registration's schema declares: %v",
						st.rows+1, st.rows+in.NumRows(), c.cast, err),
					Fix: "change the column's type in the registration's schema, or leave it out to keep the file's",
				}
			}
			defer cast.Release()
			arr = cast
		}
		data := retype(arr.Data(), c.field.Type)
		cols[i] = array.MakeFromData(data)
		data.Release()
	}
	return array.NewRecordBatch(st.schema, cols, in.NumRows()), nil
}

// castArray casts arr to the type t; the caller releases the result.
func (st *stream) castArray(arr arrow.Array, t arrow.DataType) (arrow.Array, error) {
	if t.ID() == arrow.STRING {
		// By hand: arrow-go's cast of integers to strings leaks a buffer.
		b := array.NewStringBuilder(st.mem)
		defer b.Release()
		b.Reserve(arr.Len())
		for i := range arr.Len() {
			if arr.IsNull(i) {
				b.AppendNull()
			} else {
				b.Append(arr.ValueStr(i))
			}
		}
		return b.NewArray(), nil
	}
	return compute.CastArray(exec.WithAllocator(st.ctx, st.mem), arr, compute.SafeCastOptions(t))
}

// retype returns d as type t, which differs at most in the names and
// metadata of nested fields; the buffers are shared. The caller releases
// the result.
func retype(d arrow.ArrayData, t arrow.DataType) arrow.ArrayData {
	if arrow.TypeEqual(d.DataType(), t, arrow.CheckMetadata()) {
		d.Retain()
		return d
	}
	children := d.Children()
	retyped := make([]arrow.ArrayData, len(children))
	for i, c := range children {
		var ct arrow.DataType
		switch t := t.(type) {
		case *arrow.StructType:
			ct = t.Field(i).Type
		case arrow.ListLikeType:
			ct = t.Elem()
		default:
			ct = c.DataType()
		}
		retyped[i] = retype(c, ct)
	}
	out := array.NewData(t, d.Len(), d.Buffers(), retyped, d.NullN(), d.Offset())
	for _, c := range retyped {
		c.Release()
	}
	return out
}
