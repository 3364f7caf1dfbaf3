package mysql

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"math"
	"math/bits"
	"time"
)

// rowHash hashes a result whatever the order of its rows, which a table
// read without ORDER BY does not keep from one read to the next: the
// sha256 of each row's values is added into a 256-bit sum, and the content
// hash is the sha256 of the columns, the row count and that sum.
type rowHash struct {
	cols []byte
	h    hash.Hash
	buf  [sha256.Size]byte
	tmp  [9]byte
	acc  [4]uint64
	n    uint64
}

func newRowHash() *rowHash { return &rowHash{h: sha256.New()} }

// header records the columns: their names and types are part of the content.
func (r *rowHash) header(cols []column) {
	for _, c := range cols {
		r.cols = fmt.Appendf(r.cols, "%s %s %d %d %d\x00", c.name, c.dbType, c.kind, c.prec, c.sc)
	}
}

// begin starts a row.
func (r *rowHash) begin() { r.h.Reset() }

// value adds a value of the row, as the driver gave it.
func (r *rowHash) value(v any) {
	b := r.tmp[:9]
	switch v := v.(type) {
	case nil:
		r.h.Write([]byte{0})
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
		r.h.Write(b)
		r.h.Write(v)
		return
	default:
		s := fmt.Sprint(v)
		b[0] = 7
		binary.BigEndian.PutUint64(b[1:], uint64(len(s)))
		r.h.Write(b)
		r.h.Write([]byte(s))
		return
	}
	r.h.Write(b)
}

// end adds the row to the sum.
func (r *rowHash) end() {
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
