//go:build !linux

package pagemem

import "github.com/apache/arrow-go/v18/arrow/memory/mallocator"

// Allocator is mallocator's on systems other than Linux.
type Allocator struct{ *mallocator.Mallocator }

// New returns an Allocator.
func New() *Allocator { return &Allocator{mallocator.NewMallocator()} }

// Reallocate returns b resized to size bytes; the bytes past len(b) are
// zero.
func (a *Allocator) Reallocate(size int, b []byte) []byte {
	return grown(a.Mallocator.Reallocate(size, b), len(b))
}
