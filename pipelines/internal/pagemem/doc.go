// Package pagemem is an Arrow allocator for batches that are handed to
// DuckDB and freed as soon as it has copied them.
//
// With C's malloc, the pages of freed batches stay in glibc's heaps: once a
// large block has been freed, glibc raises the size from which it maps
// blocks of their own, and the next batches are carved from heaps that it
// seldom gives back. On Linux, a buffer of Threshold bytes or more is here a
// mapping of its own, returned to the system by Free, so that a process
// streaming batches holds the batches in flight and no more. Smaller
// buffers (validity bitmaps, short columns) come from malloc, as do all
// buffers on other systems.
package pagemem

// Threshold is the size from which a buffer has a mapping of its own, on
// Linux: 64 KiB, where a page-rounded mapping and its system calls cost
// little against the buffer.
const Threshold = 64 << 10

// grown clears the bytes of b past old, its length before a Reallocate
// that may have kept bytes written before a shrink.
func grown(b []byte, old int) []byte {
	if len(b) > old {
		clear(b[old:])
	}
	return b
}
