//go:build linux

package pagemem

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/arrow/memory/mallocator"
	"golang.org/x/sys/unix"
)

var pageSize = os.Getpagesize()

// Allocator gives each buffer of at least Threshold bytes a memory mapping
// of its own, unmapped when the buffer is freed, and smaller buffers C
// memory from malloc. It is safe for concurrent use.
type Allocator struct {
	small *mallocator.Mallocator
	large atomic.Int64 // bytes of the large buffers, counted as mallocator counts (by length)
	// maps holds the length of each live mapping by its address: a buffer
	// freed twice is then ignored, as mallocator does, where unmapping its
	// address again would unmap whatever the process mapped there since
	// (DuckDB's memory, the Go heap); and a buffer handed back with a
	// smaller capacity still unmaps all its pages.
	maps sync.Map // uintptr -> int
}

var _ memory.Allocator = (*Allocator)(nil)

// New returns an Allocator.
func New() *Allocator { return &Allocator{small: mallocator.NewMallocator()} }

// Allocate returns size zeroed bytes, aligned on 64 bytes.
func (a *Allocator) Allocate(size int) []byte {
	if size < Threshold {
		return a.small.Allocate(size)
	}
	n := roundPage(size)
	p, err := unix.MmapPtr(-1, 0, nil, uintptr(n), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		// As the Go runtime and mallocator do when the system has no memory left.
		panic(fmt.Sprintf("pagemem: mapping %d bytes: %v", n, err))
	}
	a.maps.Store(uintptr(p), n)
	a.large.Add(int64(size))
	return unsafe.Slice((*byte)(p), n)[:size]
}

// Reallocate returns b resized to size bytes, moved if it must grow past
// its capacity; the bytes past len(b) are zero.
func (a *Allocator) Reallocate(size int, b []byte) []byte {
	if cap(b) < Threshold {
		if size < Threshold {
			return grown(a.small.Reallocate(size, b), len(b))
		}
		nb := a.Allocate(size)
		copy(nb, b)
		a.small.Free(b)
		return nb
	}
	if size <= cap(b) {
		a.large.Add(int64(size - len(b)))
		return grown(b[:size], len(b))
	}
	// The kernel moves the pages, not their bytes; the new ones are zero.
	n := roundPage(size)
	old := unsafe.Pointer(unsafe.SliceData(b))
	was, live := a.maps.LoadAndDelete(uintptr(old))
	if !live {
		panic(fmt.Sprintf("pagemem: reallocating a buffer of %d bytes this allocator did not map, or freed", cap(b)))
	}
	p, err := unix.MremapPtr(old, uintptr(was.(int)), nil, uintptr(n), unix.MREMAP_MAYMOVE)
	if err != nil {
		panic(fmt.Sprintf("pagemem: remapping %d bytes to %d: %v", was.(int), n, err))
	}
	a.maps.Store(uintptr(p), n)
	nb := unsafe.Slice((*byte)(p), n)
	clear(nb[len(b):cap(b)])
	a.large.Add(int64(size - len(b)))
	return nb[:size]
}

// Free releases b: the pages of a large buffer go back to the system.
func (a *Allocator) Free(b []byte) {
	if cap(b) < Threshold {
		a.small.Free(b)
		return
	}
	p := unsafe.Pointer(unsafe.SliceData(b))
	n, live := a.maps.LoadAndDelete(uintptr(p))
	if !live {
		return
	}
	if err := unix.MunmapPtr(p, uintptr(n.(int))); err != nil {
		panic(fmt.Sprintf("pagemem: unmapping %d bytes: %v", n.(int), err))
	}
	a.large.Add(-int64(len(b)))
}

// AllocatedBytes returns the bytes allocated and not yet freed.
func (a *Allocator) AllocatedBytes() int64 { return a.small.AllocatedBytes() + a.large.Load() }

func roundPage(n int) int { return (n + pageSize - 1) &^ (pageSize - 1) }
