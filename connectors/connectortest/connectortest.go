package connectortest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/datalab/datalab/connectors"
)

// Case is one source put through the suite.
type Case struct {
	// Name names the case's sub-tests.
	Name string
	// Source builds the source under test. It is called once per sub-test,
	// so that each starts fresh.
	Source func(t testing.TB) connectors.Source
	// Rows is the number of rows the source holds.
	Rows int64
	// Schema, when not nil, is the schema the stream must have, field
	// metadata included.
	Schema *arrow.Schema
	// BatchRows is the batch size the suite asks for; it must make the
	// source yield several batches, for the cancellation checks. Zero means
	// a third of Rows (at least 1).
	BatchRows int
	// Unchanged says that the source tells an unchanged content cheaply:
	// reopened with the fingerprint of a complete read, it returns
	// connectors.ErrUnchanged.
	Unchanged bool
	// Broken, when not nil, builds a variant of the source whose stream
	// fails part of the way through (a bad value, a malformed row): the
	// suite checks that the failure is reported by Err, or by Open, and that
	// every buffer is freed all the same.
	Broken func(t testing.TB) connectors.Source
}

func (c Case) batchRows() int {
	if c.BatchRows > 0 {
		return c.BatchRows
	}
	return int(max(c.Rows/3, 1))
}

// Run checks every case against the contract of connectors.Source and
// connectors.Stream:
//
//   - every batch has the stream's schema (and the case's, when given),
//     holds between 1 and BatchRows rows, and the rows add up to Rows;
//   - a batch retained by the caller outlives the next call to Next;
//   - after the end, Err is nil and Next keeps returning false;
//   - Fingerprint has a sha256 content hash at a clean end, and reopening
//     with it gives connectors.ErrUnchanged when the case says so;
//   - cancelling the context stops the stream: Next returns false and Err
//     wraps context.Canceled; a context cancelled before Open does too;
//   - Retain and Release count references, from several goroutines too,
//     and the last Release frees every buffer, also after an error, a
//     cancellation or an early stop: all allocation goes through a
//     memory.CheckedAllocator that must end at zero;
//   - two streams of one source read at once see the same rows.
func Run(t *testing.T, cases []Case) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			if c.Source == nil {
				t.Fatal("connectortest: Case.Source is nil")
			}
			t.Run("Batches", func(t *testing.T) { checkBatches(t, c) })
			t.Run("Fingerprint", func(t *testing.T) { checkFingerprint(t, c) })
			t.Run("Cancel", func(t *testing.T) { checkCancel(t, c) })
			t.Run("CancelBeforeOpen", func(t *testing.T) { checkCancelBeforeOpen(t, c) })
			t.Run("RefCount", func(t *testing.T) { checkRefCount(t, c) })
			t.Run("EarlyRelease", func(t *testing.T) { checkEarlyRelease(t, c) })
			t.Run("ConcurrentOpens", func(t *testing.T) { checkConcurrentOpens(t, c) })
			if c.Broken != nil {
				t.Run("Error", func(t *testing.T) { checkError(t, c) })
			}
		})
	}
}

// open opens src with a checked allocator and registers the memory check.
func open(t testing.TB, ctx context.Context, src connectors.Source, batchRows int) (connectors.Stream, *memory.CheckedAllocator) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	st, err := src.Open(ctx, connectors.OpenOptions{Allocator: mem, BatchRows: batchRows})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if st == nil {
		t.Fatal("Open returned neither a stream nor an error")
	}
	if st.Schema() == nil {
		t.Fatal("Schema() is nil right after Open")
	}
	return st, mem
}

func checkBatches(t testing.TB, c Case) {
	batchRows := c.batchRows()
	st, mem := open(t, context.Background(), c.Source(t), batchRows)
	schema := st.Schema()
	if c.Schema != nil && !schema.Equal(c.Schema) {
		t.Errorf("schema:\n got %s\nwant %s", schema, c.Schema)
	}
	if c.Schema != nil {
		for i, f := range c.Schema.Fields() {
			if got := schema.Field(i).Metadata; !got.Equal(f.Metadata) {
				t.Errorf("field %s metadata: got %v, want %v", f.Name, got, f.Metadata)
			}
		}
	}
	var rows int64
	var kept arrow.RecordBatch
	var keptRows int64
	batches := 0
	for st.Next() {
		rec := st.RecordBatch()
		batches++
		if rec == nil {
			t.Fatalf("batch %d: RecordBatch() is nil after Next returned true", batches)
		}
		if !rec.Schema().Equal(schema) {
			t.Errorf("batch %d: schema %s differs from Stream.Schema() %s", batches, rec.Schema(), schema)
		}
		n := rec.NumRows()
		if n < 1 || n > int64(batchRows) {
			t.Errorf("batch %d: %d rows, want 1 to %d (BatchRows)", batches, n, batchRows)
		}
		for i, col := range rec.Columns() {
			if int64(col.Len()) != n {
				t.Errorf("batch %d, column %d: %d values for %d rows", batches, i, col.Len(), n)
			}
		}
		if kept == nil {
			rec.Retain()
			kept, keptRows = rec, n
		}
		rows += n
	}
	if err := st.Err(); err != nil {
		t.Fatalf("Err after the end: %v", err)
	}
	if rows != c.Rows {
		t.Errorf("read %d rows, want %d", rows, c.Rows)
	}
	if c.Rows > int64(batchRows) && batches < 2 {
		t.Errorf("%d rows in %d batch of at most %d rows", rows, batches, batchRows)
	}
	for range 2 {
		if st.Next() {
			t.Fatal("Next returned true after the end")
		}
	}
	if err := st.Err(); err != nil {
		t.Errorf("Err after calling Next past the end: %v", err)
	}
	if kept != nil {
		// The first batch, retained, must still be whole after the stream
		// moved on.
		if kept.NumRows() != keptRows || int64(kept.Column(0).Len()) != keptRows {
			t.Errorf("a retained batch changed after Next: %d rows, want %d", kept.NumRows(), keptRows)
		}
		kept.Release()
	}
	st.Release()
	mem.AssertSize(t, 0)
}

func checkFingerprint(t testing.TB, c Case) {
	src := c.Source(t)
	st, mem := open(t, context.Background(), src, c.batchRows())
	_ = st.Fingerprint() // must not fail before the end
	for st.Next() {
	}
	if err := st.Err(); err != nil {
		t.Fatalf("Err: %v", err)
	}
	fp := st.Fingerprint()
	st.Release()
	mem.AssertSize(t, 0)
	if !strings.HasPrefix(fp.ContentHash, "sha256:") || len(fp.ContentHash) != len("sha256:")+64 {
		t.Errorf("ContentHash at a clean end = %q, want sha256:<64 hex digits>", fp.ContentHash)
	}
	if fp.Location == "" {
		t.Error("Fingerprint has no Location")
	}
	// Reading again gives the same content hash.
	st2, mem2 := open(t, context.Background(), src, c.batchRows())
	for st2.Next() {
	}
	if fp2 := st2.Fingerprint(); st2.Err() == nil && fp2.ContentHash != fp.ContentHash {
		t.Errorf("second read: ContentHash %s, first %s", fp2.ContentHash, fp.ContentHash)
	}
	st2.Release()
	mem2.AssertSize(t, 0)

	mem3 := memory.NewCheckedAllocator(memory.NewGoAllocator())
	st3, err := src.Open(context.Background(), connectors.OpenOptions{Allocator: mem3, Previous: fp})
	switch {
	case c.Unchanged && !errors.Is(err, connectors.ErrUnchanged):
		t.Errorf("Open with the previous fingerprint: err = %v, want connectors.ErrUnchanged", err)
	case !c.Unchanged && err != nil:
		t.Errorf("Open with a previous fingerprint: %v", err)
	}
	if err != nil && st3 != nil {
		t.Error("Open returned both a stream and an error")
	}
	if st3 != nil {
		st3.Release()
	}
	mem3.AssertSize(t, 0)
}

func checkCancel(t testing.TB, c Case) {
	if c.Rows <= int64(c.batchRows()) {
		t.Skipf("%d rows fit in one batch of %d: nothing to cancel between batches", c.Rows, c.batchRows())
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, mem := open(t, ctx, c.Source(t), c.batchRows())
	if !st.Next() {
		t.Fatalf("no first batch: %v", st.Err())
	}
	cancel()
	if st.Next() {
		t.Error("Next returned true after the context was cancelled")
	}
	if err := st.Err(); !errors.Is(err, context.Canceled) {
		t.Errorf("Err after cancellation = %v, want an error wrapping context.Canceled", err)
	}
	if st.Next() {
		t.Error("Next returned true again after the cancellation")
	}
	st.Release()
	mem.AssertSize(t, 0)
}

func checkCancelBeforeOpen(t testing.TB, c Case) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	st, err := c.Source(t).Open(ctx, connectors.OpenOptions{Allocator: mem, BatchRows: c.batchRows()})
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Open with a cancelled context: %v, want an error wrapping context.Canceled", err)
		}
		mem.AssertSize(t, 0)
		return
	}
	if st.Next() {
		t.Error("Next returned true with a context cancelled before Open")
	}
	if err := st.Err(); !errors.Is(err, context.Canceled) {
		t.Errorf("Err = %v, want an error wrapping context.Canceled", err)
	}
	st.Release()
	mem.AssertSize(t, 0)
}

func checkRefCount(t testing.TB, c Case) {
	st, mem := open(t, context.Background(), c.Source(t), c.batchRows())
	// References taken and dropped at once from several goroutines.
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				st.Retain()
			}
			for range 100 {
				st.Release()
			}
		})
	}
	wg.Wait()
	st.Retain()
	st.Release()
	// One reference is left: the stream must still work.
	var rows int64
	for st.Next() {
		rows += st.RecordBatch().NumRows()
	}
	if err := st.Err(); err != nil {
		t.Fatalf("Err: %v", err)
	}
	if rows != c.Rows {
		t.Errorf("read %d rows after Retain/Release pairs, want %d", rows, c.Rows)
	}
	st.Retain()
	st.Release()
	if mem.CurrentAlloc() < 0 {
		t.Errorf("allocator below zero: %d", mem.CurrentAlloc())
	}
	st.Release()
	mem.AssertSize(t, 0)
}

func checkEarlyRelease(t testing.TB, c Case) {
	st, mem := open(t, context.Background(), c.Source(t), c.batchRows())
	if !st.Next() {
		t.Fatalf("no first batch: %v", st.Err())
	}
	st.Release() // the caller stops reading
	mem.AssertSize(t, 0)

	st2, mem2 := open(t, context.Background(), c.Source(t), c.batchRows())
	st2.Release() // and before reading at all
	mem2.AssertSize(t, 0)
}

func checkConcurrentOpens(t testing.TB, c Case) {
	src := c.Source(t)
	var wg sync.WaitGroup
	counts := make([]int64, 2)
	errs := make([]error, 2)
	for i := range counts {
		wg.Go(func() {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			st, err := src.Open(context.Background(), connectors.OpenOptions{Allocator: mem, BatchRows: c.batchRows()})
			if err != nil {
				errs[i] = err
				return
			}
			for st.Next() {
				counts[i] += st.RecordBatch().NumRows()
			}
			errs[i] = st.Err()
			st.Release()
			mem.AssertSize(t, 0)
		})
	}
	wg.Wait()
	for i := range counts {
		if errs[i] != nil {
			t.Errorf("stream %d: %v", i, errs[i])
		} else if counts[i] != c.Rows {
			t.Errorf("stream %d: %d rows, want %d", i, counts[i], c.Rows)
		}
	}
}

func checkError(t testing.TB, c Case) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	st, err := c.Broken(t).Open(context.Background(), connectors.OpenOptions{Allocator: mem, BatchRows: c.batchRows()})
	if err != nil {
		if err.Error() == "" {
			t.Error("Open failed with an empty message")
		}
		mem.AssertSize(t, 0)
		return
	}
	for st.Next() {
	}
	err = st.Err()
	if err == nil {
		t.Fatal("the broken source read to its end without an error")
	}
	if err.Error() == "" {
		t.Error("the error's message is empty")
	}
	if st.Next() {
		t.Error("Next returned true after an error")
	}
	if st.Err() == nil {
		t.Error("Err was forgotten by a later Next")
	}
	st.Release()
	mem.AssertSize(t, 0)
}
