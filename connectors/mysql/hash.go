package mysql

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/datalab/datalab/connectors/sqlsource"
)

// rowHash hashes a result whatever the order of its rows (see
// sqlsource.RowHash): a row is hashed by its values as the driver gives
// them.
type rowHash struct {
	*sqlsource.RowHash
	tmp [9]byte
}

func newRowHash() *rowHash { return &rowHash{RowHash: sqlsource.NewRowHash()} }

// header records the columns: their names and types are part of the content.
func (r *rowHash) header(cols []column) {
	var desc []byte
	for _, c := range cols {
		desc = fmt.Appendf(desc, "%s %s %d %d %d\x00", c.name, c.dbType, c.kind, c.prec, c.sc)
	}
	r.Header(desc)
}

// value adds a value of the row, as the driver gave it.
func (r *rowHash) value(v any) {
	b := r.tmp[:9]
	switch v := v.(type) {
	case nil:
		r.Write([]byte{0})
		return
	case int64:
		b[0] = 1
		binary.BigEndian.PutUint64(b[1:], uint64(v))
	case uint64:
		b[0] = 2
		binary.BigEndian.PutUint64(b[1:], v)
	case float32:
		b[0] = 3
		binary.BigEndian.PutUint64(b[1:], uint64(math.Float32bits(v)))
	case float64:
		b[0] = 4
		binary.BigEndian.PutUint64(b[1:], math.Float64bits(v))
	case time.Time:
		b[0] = 5
		binary.BigEndian.PutUint64(b[1:], uint64(v.UnixNano()))
	case []byte:
		b[0] = 6
		binary.BigEndian.PutUint64(b[1:], uint64(len(v)))
		r.Write(b)
		r.Write(v)
		return
	default:
		s := fmt.Sprint(v)
		b[0] = 7
		binary.BigEndian.PutUint64(b[1:], uint64(len(s)))
		r.Write(b)
		r.Write([]byte(s))
		return
	}
	r.Write(b)
}
