package connectors

import (
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
)

// Batches is the part of a Stream that every connector writes the same
// way: the count of references to the stream, the current batch, and how
// Next ended. A connector's stream embeds it, which gives the stream
// Retain, Release, RecordBatch, Record and Err; the stream writes Schema,
// Next and Fingerprint, calling Begin, SetBatch, End and Fail as it reads.
//
// Like the Stream, Batches belongs to one goroutine, but for Retain and
// Release.
type Batches struct {
	refs  atomic.Int64
	free  func()
	cur   arrow.RecordBatch
	err   error
	done  bool
	freed bool
}

// Init gives the stream its first reference, and free, which frees the
// stream's own resources (builders, files, connections): the last Release
// calls it once, after releasing the current batch. A stream that Open
// cannot return is freed by a Release.
func (b *Batches) Init(free func()) {
	b.free = free
	b.refs.Store(1)
}

// Retain adds a reference to the stream.
func (b *Batches) Retain() { b.refs.Add(1) }

// Release removes a reference; the last one ends the stream, releases the
// current batch and calls the stream's free function.
func (b *Batches) Release() {
	if b.refs.Add(-1) == 0 {
		b.release()
	}
}

func (b *Batches) release() {
	if b.freed {
		return
	}
	b.freed, b.done = true, true
	if b.cur != nil {
		b.cur.Release()
		b.cur = nil
	}
	if b.free != nil {
		b.free()
	}
}

// RecordBatch returns the current batch, valid until the next call to
// Next.
func (b *Batches) RecordBatch() arrow.RecordBatch { return b.cur }

// Record returns the current batch.
//
// Deprecated: use RecordBatch.
func (b *Batches) Record() arrow.RecordBatch { return b.cur }

// Err returns the error that stopped Next, nil at a clean end.
func (b *Batches) Err() error { return b.err }

// Begin begins the stream's Next: it releases the current batch and
// reports whether the stream may read on, false once it ended.
func (b *Batches) Begin() bool {
	if b.cur != nil {
		b.cur.Release()
		b.cur = nil
	}
	return !b.done
}

// SetBatch makes rec the current batch; the stream hands it its reference.
func (b *Batches) SetBatch(rec arrow.RecordBatch) { b.cur = rec }

// End ends the stream: Next reads no more.
func (b *Batches) End() { b.done = true }

// Ended reports whether the stream ended: at its end, on an error, or
// freed.
func (b *Batches) Ended() bool { return b.done }

// Fail ends the stream on err, which Err returns from then on. It returns
// false, for a Next to return it.
func (b *Batches) Fail(err error) bool {
	b.err, b.done = err, true
	return false
}
