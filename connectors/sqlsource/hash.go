package sqlsource

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"math/bits"
)

// RowHash hashes a result whatever the order of its rows, which a table
// read without ORDER BY does not keep from one read to the next: the
// sha256 of each row's values is added into a 256-bit sum, and the content
// hash is the sha256 of the columns, the row count and that sum.
//
// A connector describes the columns with Header, then writes each row's
// values, in a form of its own, between Begin and End.
type RowHash struct {
	cols []byte
	h    hash.Hash
	buf  [sha256.Size]byte
	acc  [4]uint64
	n    uint64
}

// NewRowHash returns a RowHash of no row.
func NewRowHash() *RowHash { return &RowHash{h: sha256.New()} }

// Header adds to the description of the columns: their names and types
// are part of the content.
func (r *RowHash) Header(desc []byte) { r.cols = append(r.cols, desc...) }

// Begin starts a row.
func (r *RowHash) Begin() { r.h.Reset() }

// Write adds bytes to the current row's hash; it never fails.
func (r *RowHash) Write(p []byte) (int, error) { return r.h.Write(p) }

// End adds the current row to the sum.
func (r *RowHash) End() {
	r.add([sha256.Size]byte(r.h.Sum(r.buf[:0])))
}

// Sum returns "sha256:<hex>" of the rows added so far.
func (r *RowHash) Sum() string {
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

// AddRow adds a row whose values a connector has in one piece, p: its
// sha256 is added to the sum, as Begin, Write(p), End would.
func (r *RowHash) AddRow(p []byte) {
	r.add(sha256.Sum256(p))
}

func (r *RowHash) add(d [sha256.Size]byte) {
	var carry uint64
	for i := 3; i >= 0; i-- {
		r.acc[i], carry = bits.Add64(r.acc[i], binary.BigEndian.Uint64(d[i*8:]), carry)
	}
	r.n++
}
