package pagemem

import (
	"bytes"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestAllocateZeroedAligned checks what Arrow expects of every buffer,
// on both sides of Threshold.
func TestAllocateZeroedAligned(t *testing.T) {
	a := New()
	for _, size := range []int{0, 1, 100, Threshold - 1, Threshold, Threshold + 1, 3 << 20} {
		b := a.Allocate(size)
		if len(b) != size {
			t.Fatalf("Allocate(%d): %d bytes", size, len(b))
		}
		if size > 0 {
			if addr := uintptr(unsafe.Pointer(unsafe.SliceData(b))); addr%64 != 0 {
				t.Errorf("Allocate(%d): address %#x not aligned on 64 bytes", size, addr)
			}
		}
		if i := bytes.IndexFunc(b, func(r rune) bool { return r != 0 }); i >= 0 {
			t.Errorf("Allocate(%d): byte %d is not zero", size, i)
		}
		for i := range b {
			b[i] = 0xff
		}
		a.Free(b)
	}
	if n := a.AllocatedBytes(); n != 0 {
		t.Errorf("AllocatedBytes after freeing all: %d", n)
	}
}

// TestReallocate grows and shrinks buffers across Threshold: the bytes
// kept are the buffer's, the new ones zero, even past a shrink.
func TestReallocate(t *testing.T) {
	a := New()
	steps := []int{1000, 300, 900, Threshold - 8, Threshold + 100, 5 << 20, 1 << 20, 3 << 20, 9 << 20, 500}
	b := a.Allocate(10)
	fill(b, 0)
	for _, size := range steps {
		old := len(b)
		b = a.Reallocate(size, b)
		if len(b) != size {
			t.Fatalf("Reallocate(%d): %d bytes", size, len(b))
		}
		for i := range min(old, size) {
			if b[i] != byte(i%251) {
				t.Fatalf("Reallocate(%d) from %d: byte %d is %d, want %d", size, old, i, b[i], byte(i%251))
			}
		}
		for i := old; i < size; i++ {
			if b[i] != 0 {
				t.Fatalf("Reallocate(%d) from %d: new byte %d is %d, want 0", size, old, i, b[i])
			}
		}
		if got := a.AllocatedBytes(); got != int64(size) {
			t.Fatalf("AllocatedBytes after Reallocate(%d): %d", size, got)
		}
		fill(b, old)
		// Bytes written past a shrink must not come back.
		for i := size; i < min(cap(b), size+4096); i++ {
			b[:cap(b)][i] = 0xee
		}
	}
	a.Free(b)
	if n := a.AllocatedBytes(); n != 0 {
		t.Errorf("AllocatedBytes after Free: %d", n)
	}
}

func fill(b []byte, from int) {
	for i := from; i < len(b); i++ {
		b[i] = byte(i % 251)
	}
}

// TestBuilders builds batches as connectors do, from several goroutines,
// and checks their values and that every byte is freed.
func TestBuilders(t *testing.T) {
	mem := memory.NewCheckedAllocator(New())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "label", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for batch := range 3 {
				b := array.NewRecordBuilder(mem, schema)
				rows := 50_000 + 10_000*g + batch
				for i := range rows {
					if i%7 == 0 {
						b.Field(0).AppendNull()
						b.Field(1).AppendNull()
						continue
					}
					b.Field(0).(*array.Int64Builder).Append(int64(i))
					b.Field(1).(*array.StringBuilder).Append(strings.Repeat("x", i%40) + strconv.Itoa(i))
				}
				rec := b.NewRecordBatch()
				b.Release()
				ids := rec.Column(0).(*array.Int64)
				labels := rec.Column(1).(*array.String)
				for i := range rows {
					if i%7 == 0 {
						if ids.IsValid(i) || labels.IsValid(i) {
							t.Errorf("row %d: not null", i)
						}
						continue
					}
					if ids.Value(i) != int64(i) || labels.Value(i) != strings.Repeat("x", i%40)+strconv.Itoa(i) {
						t.Errorf("row %d: %d %q", i, ids.Value(i), labels.Value(i))
						break
					}
				}
				rec.Release()
			}
		})
	}
	wg.Wait()
}
