package postgres

import (
	"encoding/binary"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/datalab/datalab/connectors/sqlsource"
)

// rowHash hashes a result whatever the order of its rows (see
// sqlsource.RowHash): a row is hashed by its wire values.
type rowHash struct {
	*sqlsource.RowHash
	len [4]byte
}

func newRowHash() *rowHash { return &rowHash{RowHash: sqlsource.NewRowHash()} }

// header records the columns: their names and types are part of the content.
func (r *rowHash) header(fields []pgconn.FieldDescription) {
	var cols []byte
	for _, f := range fields {
		cols = binary.BigEndian.AppendUint32(cols, f.DataTypeOID)
		cols = binary.BigEndian.AppendUint32(cols, uint32(f.TypeModifier))
		cols = append(cols, f.Name...)
		cols = append(cols, 0)
	}
	r.Header(cols)
}

// row adds a row's values, nil for NULL.
func (r *rowHash) row(values [][]byte) {
	r.Begin()
	for _, v := range values {
		n := uint32(len(v))
		if v == nil {
			n = 1<<32 - 1
		}
		binary.BigEndian.PutUint32(r.len[:], n)
		r.Write(r.len[:])
		r.Write(v)
	}
	r.End()
}
