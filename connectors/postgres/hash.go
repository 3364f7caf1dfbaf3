package postgres

import (
	"encoding/binary"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/datalab/datalab/connectors/sqlsource"
)

// rowHash hashes a result whatever the order of its rows (see
// sqlsource.RowHash): a row is hashed by its binary COPY fields, each an
// int32 length (-1 for NULL) and its bytes.
type rowHash struct {
	*sqlsource.RowHash
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

// row adds a row's fields, as the COPY stream holds them.
func (r *rowHash) row(fields []byte) { r.AddRow(fields) }
