package sqlsource

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math/bits"

	"github.com/zeebo/xxh3"
)

// RowHash hashes a result whatever the order of its rows, which a table
// read without ORDER BY does not keep from one read to the next: the
// 128-bit XXH3 hash of each row's values is added into a 256-bit sum, and
// the content hash is the sha256 of the columns, the row count and that
// sum.
//
// It tells a changed source from an unchanged one, the way an ETag does;
// it is not a signature. XXH3 rather than a sha256 per row: hashing each
// row with sha256 took a sixth of the CPU time of a PostgreSQL ingest
// (cmd/datalab-bench), XXH3 a hundredth. An accidental change that keeps
// the sum needs two 128-bit hashes to collide.
//
// A connector describes the columns with Header, then writes each row's
// values, in a form of its own, between Begin and End.
type RowHash struct {
	cols []byte
	h    *xxh3.Hasher
	acc  [4]uint64
	n    uint64
}

// NewRowHash returns a RowHash of no row.
func NewRowHash() *RowHash { return &RowHash{h: xxh3.New()} }

// Header adds to the description of the columns: their names and types
// are part of the content.
func (r *RowHash) Header(desc []byte) { r.cols = append(r.cols, desc...) }

// Begin starts a row.
func (r *RowHash) Begin() { r.h.Reset() }

// Write adds bytes to the current row's hash; it never fails.
func (r *RowHash) Write(p []byte) (int, error) { return r.h.Write(p) }

// End adds the current row to the sum.
func (r *RowHash) End() { r.add(r.h.Sum128()) }

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
// hash is added to the sum, as Begin, Write(p), End would.
func (r *RowHash) AddRow(p []byte) { r.add(xxh3.Hash128(p)) }

func (r *RowHash) add(d xxh3.Uint128) {
	var carry uint64
	r.acc[3], carry = bits.Add64(r.acc[3], d.Lo, 0)
	r.acc[2], carry = bits.Add64(r.acc[2], d.Hi, carry)
	r.acc[1], carry = bits.Add64(r.acc[1], 0, carry)
	r.acc[0] += carry
	r.n++
}
