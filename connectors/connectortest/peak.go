package connectortest

import (
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// PeakAllocator is a memory.Allocator that passes every call to another one
// and records the most bytes allocated at once, so that a test can show
// that a connector's memory does not grow with the size of its source.
// It is safe for concurrent use.
type PeakAllocator struct {
	mem  memory.Allocator
	cur  atomic.Int64
	peak atomic.Int64
}

var _ memory.Allocator = (*PeakAllocator)(nil)

// NewPeakAllocator wraps mem, typically a memory.CheckedAllocator.
func NewPeakAllocator(mem memory.Allocator) *PeakAllocator {
	return &PeakAllocator{mem: mem}
}

// Allocate allocates size bytes from the wrapped allocator.
func (a *PeakAllocator) Allocate(size int) []byte {
	b := a.mem.Allocate(size)
	a.add(int64(len(b)))
	return b
}

// Reallocate resizes b to size bytes through the wrapped allocator.
func (a *PeakAllocator) Reallocate(size int, b []byte) []byte {
	old := len(b)
	nb := a.mem.Reallocate(size, b)
	a.add(int64(len(nb) - old))
	return nb
}

// Free frees b through the wrapped allocator.
func (a *PeakAllocator) Free(b []byte) {
	a.add(-int64(len(b)))
	a.mem.Free(b)
}

func (a *PeakAllocator) add(n int64) {
	cur := a.cur.Add(n)
	for {
		p := a.peak.Load()
		if cur <= p || a.peak.CompareAndSwap(p, cur) {
			return
		}
	}
}

// Current returns the bytes allocated and not yet freed.
func (a *PeakAllocator) Current() int64 { return a.cur.Load() }

// Peak returns the most bytes that were allocated at once.
func (a *PeakAllocator) Peak() int64 { return a.peak.Load() }
