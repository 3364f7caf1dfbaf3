package jsonsrc

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/datalab/datalab/connectors"
)

// maxBatchBytes ends a batch early when its records hold this much JSON,
// so that a batch of very large records stays within Arrow's 32-bit
// string offsets.
const maxBatchBytes = 256 << 20

// stream is the connectors.Stream of an opened JSON file.
type stream struct {
	connectors.Batches

	ctx       context.Context
	src       *Source
	loc       string
	body      *connectors.Body
	format    format
	recs      records
	shape     *shape
	schema    *arrow.Schema
	mem       memory.Allocator
	builder   *array.RecordBuilder
	batchRows int
	sample    []sampled // the records read to infer the columns, replayed first
	replayed  int
	sampled   int
	eof       bool
	slots     []*value // a record's value per column
	visit     func(c *node, v *value)
}

var _ connectors.Stream = (*stream)(nil)

// free frees the builders and the file or HTTP response: the last Release
// calls it.
func (st *stream) free() {
	if st.builder != nil {
		st.builder.Release()
		st.builder = nil
	}
	st.sample = nil
	if st.body != nil {
		_ = st.body.Close()
	}
}

// Schema returns the schema every batch has.
func (st *stream) Schema() *arrow.Schema { return st.schema }

// Fingerprint returns the file's validators and the hash of the bytes read.
func (st *stream) Fingerprint() connectors.Fingerprint { return st.body.Fingerprint() }

// Next reads the next batch. It returns false at the end of the file, on
// the first error (see Err), and once ctx is cancelled.
func (st *stream) Next() bool {
	if !st.Begin() {
		return false
	}
	if err := st.ctx.Err(); err != nil {
		return st.Fail(fmt.Errorf("read %s: %w", st.loc, err))
	}
	rows, size := 0, int64(0)
	for rows < st.batchRows && size < maxBatchBytes {
		var rec value
		var line, n int64
		switch {
		case st.replayed < len(st.sample):
			s := &st.sample[st.replayed]
			rec, line, n = s.rec, s.line, s.size
			*s = sampled{}
			st.replayed++
			if st.replayed == len(st.sample) {
				st.sample = nil
				st.replayed = 0
			}
		case st.eof:
			st.End()
		default:
			var ok bool
			var err error
			rec, ok, err = st.recs.next()
			if err != nil {
				return st.Fail(unwrapBody(err))
			}
			if !ok {
				st.eof = true
				st.End()
				break
			}
			line, n = st.recs.line(), st.recs.size()
		}
		if st.Ended() {
			break
		}
		if err := st.appendRecord(&rec, line); err != nil {
			return st.Fail(err)
		}
		rows++
		size += n
	}
	if rows == 0 {
		return false
	}
	st.SetBatch(st.builder.NewRecordBatch())
	return true
}

// appendRecord appends one record to the builders.
func (st *stream) appendRecord(rec *value, line int64) error {
	if rec.kind != vObject {
		return st.notObject(rec, line)
	}
	clear(st.slots)
	if u := st.shape.walk(&st.shape.root, rec.obj, false, st.visit); u != nil {
		return &connectors.DataError{
			Location: st.loc, Line: line, Column: u.path,
			Reason: fmt.Sprintf("%s has a field that %s, which settled the columns, did not have", where(st.format, line), firstRecords(st.sampled)),
			Fix:    fmt.Sprintf("raise source.sample_rows (now %d) so that the sample meets it, or declare it in the registration's schema", st.src.set.sampleRows),
		}
	}
	for i, c := range st.shape.cols {
		if bad := c.append(st.builder.Field(i), st.slots[i]); bad != nil {
			e := &connectors.DataError{Location: st.loc, Line: line, Column: bad.path, Value: bad.value,
				Reason: where(st.format, line) + ": " + bad.reason}
			switch {
			case bad.unknown:
				e.Reason += fmt.Sprintf("a field that %s, which settled the columns, did not have", firstRecords(st.sampled))
				e.Fix = fmt.Sprintf("raise source.sample_rows (now %d) so that the sample meets it, or declare the column %s as string to keep its values as JSON text", st.src.set.sampleRows, c.name)
			case c.declared():
				e.Fix = "fix the value in the file, or change the column's type or format in the registration's schema"
			default:
				e.Reason += ", the type inferred from " + firstRecords(st.sampled)
				e.Fix = fmt.Sprintf("declare the column in the registration's schema, e.g. {name: %s, type: string}, or raise source.sample_rows (now %d)", c.name, st.src.set.sampleRows)
			}
			return e
		}
	}
	return nil
}

// firstRecords says how many records the sample had.
func firstRecords(n int) string {
	if n == 1 {
		return "the first record"
	}
	return fmt.Sprintf("the first %d records", n)
}

// notObject is the error of a record that is not a JSON object.
func (st *stream) notObject(rec *value, line int64) error {
	return &connectors.DataError{Location: st.loc, Line: line, Value: rec.text(),
		Reason: fmt.Sprintf("%s is %s, not an object", where(st.format, line), rec.kind),
		Fix:    "each record must be a JSON object: {\"column\": value, ...}"}
}
