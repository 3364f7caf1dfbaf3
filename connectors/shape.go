package connectors

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// BatchShape is the size of a batch a connector built: its rows and, for
// each column of variable-length values (strings, binaries), the bytes of
// its values. A connector that builds its batches with an
// array.RecordBuilder keeps the shape of the last one, and reserves room
// for the next one like it: the builders then allocate their buffers once
// per batch, where they would double them as the values come, copying
// what they hold each time (a third of the page faults of a PostgreSQL
// ingest, cmd/datalab-bench).
//
// The zero BatchShape reserves nothing: a first batch grows as it comes.
type BatchShape struct {
	rows  int
	bytes []int // of each column; 0 for fixed-width ones
}

// ShapeOf returns the shape of rec.
func ShapeOf(rec arrow.RecordBatch) BatchShape {
	s := BatchShape{rows: int(rec.NumRows()), bytes: make([]int, rec.NumCols())}
	for i, col := range rec.Columns() {
		var offs []int32
		switch a := col.(type) {
		case *array.String:
			offs = a.ValueOffsets()
		case *array.Binary:
			offs = a.ValueOffsets()
		}
		if len(offs) > 0 {
			s.bytes[i] = int(offs[len(offs)-1] - offs[0])
		}
	}
	return s
}

// Reserve makes room in b for a batch of this shape, with an eighth more
// bytes for values a little longer. Nested columns (lists, structs)
// reserve their rows only.
func (s BatchShape) Reserve(b *array.RecordBuilder) {
	if s.rows == 0 {
		return
	}
	for i, f := range b.Fields() {
		f.Reserve(s.rows)
		if i >= len(s.bytes) || s.bytes[i] == 0 {
			continue
		}
		if bb, ok := f.(interface{ ReserveData(int) }); ok {
			bb.ReserveData(s.bytes[i] + s.bytes[i]/8)
		}
	}
}
