package postgres

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"math/bits"

	"github.com/jackc/pgx/v5/pgconn"
)

// rowHash hashes a result whatever the order of its rows, which a table
// read without ORDER BY does not keep from one read to the next: the
// sha256 of each row's wire values is added into a 256-bit sum, and the
// content hash is the sha256 of the columns, the row count and that sum.
type rowHash struct {
	cols []byte
	h    hash.Hash
	buf  [sha256.Size]byte
	acc  [4]uint64
	n    uint64
	len  [4]byte
}

func newRowHash() *rowHash { return &rowHash{h: sha256.New()} }

// header records the columns: their names and types are part of the content.
func (r *rowHash) header(fields []pgconn.FieldDescription) {
	for _, f := range fields {
		r.cols = binary.BigEndian.AppendUint32(r.cols, f.DataTypeOID)
		r.cols = binary.BigEndian.AppendUint32(r.cols, uint32(f.TypeModifier))
		r.cols = append(r.cols, f.Name...)
		r.cols = append(r.cols, 0)
	}
}

// row adds a row's values, nil for NULL.
func (r *rowHash) row(values [][]byte) {
	r.h.Reset()
	for _, v := range values {
		n := uint32(len(v))
		if v == nil {
			n = 1<<32 - 1
		}
		binary.BigEndian.PutUint32(r.len[:], n)
		r.h.Write(r.len[:])
		r.h.Write(v)
	}
	d := r.h.Sum(r.buf[:0])
	var carry uint64
	for i := 3; i >= 0; i-- {
		r.acc[i], carry = bits.Add64(r.acc[i], binary.BigEndian.Uint64(d[i*8:]), carry)
	}
	r.n++
}

// sum returns "sha256:<hex>" of the rows added so far.
func (r *rowHash) sum() string {
	h := sha256.New()
	h.Write(r.cols)
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], r.n)
	h.Write(b[:])
	for _, w := range r.acc {
		binary.BigEndian.PutUint64(b[:], w)
		h.Write(b[:])
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}
