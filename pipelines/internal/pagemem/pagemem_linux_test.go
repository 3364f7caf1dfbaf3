package pagemem

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestFreeGivesPagesBack checks the reason for the package: the pages of
// freed large buffers leave the process, even after a first free, from
// which glibc would keep such buffers in its heaps.
func TestFreeGivesPagesBack(t *testing.T) {
	a := New()
	first := a.Allocate(1 << 20)
	fill(first, 0)
	a.Free(first)

	before := residentBytes(t)
	var bufs [][]byte
	for range 64 {
		b := a.Allocate(1 << 20)
		fill(b, 0)
		bufs = append(bufs, b)
	}
	held := residentBytes(t)
	if held-before < 60<<20 {
		t.Fatalf("64 MiB written: resident memory grew by %d bytes only; the measure is wrong", held-before)
	}
	for i, b := range bufs {
		if i%2 == 1 {
			b = b[:Threshold:Threshold] // handed back with less capacity than mapped
		}
		a.Free(b)
	}
	after := residentBytes(t)
	if after-before > 4<<20 {
		t.Errorf("resident memory %d bytes before, %d with 64 MiB of buffers, %d once freed: the pages were kept", before, held, after)
	}
}

// residentBytes reads the process's resident set from /proc/self/statm.
func residentBytes(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b))
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		t.Fatalf("/proc/self/statm %q: %v", b, err)
	}
	return pages * int64(os.Getpagesize())
}

// TestFreeTwice frees a large buffer twice, after its address was mapped
// again by other code: the second Free must leave that mapping alone.
func TestFreeTwice(t *testing.T) {
	a := New()
	b := a.Allocate(1 << 20)
	a.Free(b)
	other, err := unix.Mmap(-1, 0, cap(b), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(other)
	if &other[0] != &b[0] {
		t.Skip("the kernel mapped the other region elsewhere: nothing to check")
	}
	fill(other, 0)
	a.Free(b)
	for i := range other {
		if other[i] != byte(i%251) {
			t.Fatalf("byte %d of another mapping is %d after a buffer was freed twice", i, other[i])
		}
	}
	if n := a.AllocatedBytes(); n != 0 {
		t.Errorf("AllocatedBytes: %d", n)
	}
}
