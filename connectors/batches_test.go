package connectors_test

import (
	"errors"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/datalab/datalab/connectors"
)

func TestBatchesFreesOnceOnTheLastRelease(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	rb := array.NewRecordBuilder(mem, arrow.NewSchema([]arrow.Field{{Name: "n", Type: arrow.PrimitiveTypes.Int64}}, nil))
	rb.Field(0).(*array.Int64Builder).Append(1)

	var b connectors.Batches
	frees := 0
	b.Init(func() { frees++ })
	if !b.Begin() {
		t.Fatal("a new stream has ended")
	}
	b.SetBatch(rb.NewRecordBatch())
	rb.Release()
	b.Retain()
	b.Release()
	if frees != 0 || b.RecordBatch() == nil {
		t.Fatalf("freed with a reference left")
	}
	b.Release()
	b.Release() // one too many: nothing more to free
	if frees != 1 || b.RecordBatch() != nil || b.Begin() {
		t.Errorf("after the last Release: %d frees, batch %v", frees, b.RecordBatch())
	}
}

func TestBatchesFail(t *testing.T) {
	var b connectors.Batches
	b.Init(nil)
	defer b.Release()
	boom := errors.New("boom")
	if b.Fail(boom) || b.Begin() || !b.Ended() || !errors.Is(b.Err(), boom) {
		t.Errorf("after Fail: Err %v, Ended %v", b.Err(), b.Ended())
	}
}
