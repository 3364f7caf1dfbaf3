package connectortest

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/datalab/datalab/connectors"
)

// fault is a way for the test source to break the contract.
type fault int

const (
	faultNone         fault = iota
	faultIgnoreCancel       // reads on after the context is cancelled
	faultLeak               // keeps a buffer after the last Release
	faultBigBatch           // ignores BatchRows
	faultNoHash             // reports no content hash
	faultSchema             // a batch with another schema
)

// genSource is an in-memory source of rows 0..rows-1, faulty as asked.
type genSource struct {
	rows  int
	fault fault
}

var genSchema = arrow.NewSchema([]arrow.Field{{Name: "n", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, nil)

func (s *genSource) Open(ctx context.Context, opts connectors.OpenOptions) (connectors.Stream, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !opts.Previous.IsZero() && s.fault != faultNoHash {
		return nil, connectors.ErrUnchanged
	}
	mem := opts.Allocator
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	g := &genStream{src: s, ctx: ctx, mem: mem, batch: opts.BatchRows}
	g.refs.Store(1)
	if s.fault == faultLeak {
		g.leak = memory.NewResizableBuffer(mem)
		g.leak.Resize(64)
	}
	return g, nil
}

type genStream struct {
	refs  atomic.Int64
	src   *genSource
	ctx   context.Context
	mem   memory.Allocator
	batch int
	next  int
	cur   arrow.RecordBatch
	err   error
	leak  *memory.Buffer
}

func (g *genStream) Retain() { g.refs.Add(1) }
func (g *genStream) Release() {
	if g.refs.Add(-1) == 0 && g.cur != nil {
		g.cur.Release()
		g.cur = nil
	}
}
func (g *genStream) Schema() *arrow.Schema          { return genSchema }
func (g *genStream) RecordBatch() arrow.RecordBatch { return g.cur }
func (g *genStream) Record() arrow.RecordBatch      { return g.cur }
func (g *genStream) Err() error                     { return g.err }
func (g *genStream) Fingerprint() connectors.Fingerprint {
	fp := connectors.Fingerprint{Location: "gen:"}
	if g.src.fault != faultNoHash && g.next >= g.src.rows {
		fp.ContentHash = fmt.Sprintf("sha256:%064x", g.src.rows)
	}
	return fp
}

func (g *genStream) Next() bool {
	if g.cur != nil {
		g.cur.Release()
		g.cur = nil
	}
	if g.err != nil || g.next >= g.src.rows {
		return false
	}
	if err := g.ctx.Err(); err != nil && g.src.fault != faultIgnoreCancel {
		g.err = fmt.Errorf("gen: %w", err)
		return false
	}
	n := min(g.batch, g.src.rows-g.next)
	if g.src.fault == faultBigBatch {
		n = g.src.rows - g.next
	}
	b := array.NewInt64Builder(g.mem)
	defer b.Release()
	for range n {
		b.Append(int64(g.next))
		g.next++
	}
	arr := b.NewArray()
	defer arr.Release()
	schema := genSchema
	if g.src.fault == faultSchema && g.next > g.batch {
		schema = arrow.NewSchema([]arrow.Field{{Name: "other", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, nil)
	}
	g.cur = array.NewRecordBatch(schema, []arrow.Array{arr}, int64(n))
	return true
}

// recorder is a testing.TB that records failures instead of reporting
// them, so that the suite's own failures can be checked.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	failed []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = append(r.failed, fmt.Sprintf(format, args...))
}
func (r *recorder) Error(args ...any) { r.Errorf("%s", fmt.Sprint(args...)) }
func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}
func (r *recorder) Fatal(args ...any)                { r.Fatalf("%s", fmt.Sprint(args...)) }
func (r *recorder) Skipf(format string, args ...any) { runtime.Goexit() }

// runCheck runs one check of the suite with a recorder, in its own
// goroutine so that Fatal can stop it.
func runCheck(t *testing.T, check func(testing.TB, Case), c Case) []string {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		check(r, c)
	}()
	<-done
	return r.failed
}

func genCase(f fault) Case {
	return Case{
		Name:      "gen",
		Source:    func(testing.TB) connectors.Source { return &genSource{rows: 100, fault: f} },
		Rows:      100,
		Schema:    genSchema,
		BatchRows: 10,
		Unchanged: true,
	}
}

// TestSuitePassesAGoodSource runs the suite on a correct source.
func TestSuitePassesAGoodSource(t *testing.T) {
	Run(t, []Case{genCase(faultNone)})
}

// TestSuiteCatchesFaults checks that each check fails on the fault it is
// there to catch.
func TestSuiteCatchesFaults(t *testing.T) {
	for _, c := range []struct {
		name  string
		fault fault
		check func(testing.TB, Case)
	}{
		{"cancellation ignored", faultIgnoreCancel, checkCancel},
		{"memory kept after Release", faultLeak, checkEarlyRelease},
		{"batch larger than BatchRows", faultBigBatch, checkBatches},
		{"no content hash", faultNoHash, checkFingerprint},
		{"batch with another schema", faultSchema, checkBatches},
	} {
		t.Run(c.name, func(t *testing.T) {
			if failed := runCheck(t, c.check, genCase(faultNone)); len(failed) != 0 {
				t.Fatalf("the check fails a good source: %v", failed)
			}
			failed := runCheck(t, c.check, genCase(c.fault))
			if len(failed) == 0 {
				t.Error("the check passed a faulty source")
			}
			t.Logf("caught: %v", failed)
		})
	}
	t.Run("wrong row count", func(t *testing.T) {
		c := genCase(faultNone)
		c.Rows = 99
		if failed := runCheck(t, checkBatches, c); len(failed) == 0 {
			t.Error("a wrong row count passed")
		}
	})
	t.Run("broken source that reads cleanly", func(t *testing.T) {
		c := genCase(faultNone)
		c.Broken = c.Source
		if failed := runCheck(t, checkError, c); len(failed) == 0 {
			t.Error("a Broken source without error passed")
		}
	})
}

// TestPeakAllocator checks that the peak follows allocations and frees.
func TestPeakAllocator(t *testing.T) {
	checked := memory.NewCheckedAllocator(memory.NewGoAllocator())
	a := NewPeakAllocator(checked)
	b1 := a.Allocate(100)
	b2 := a.Allocate(50)
	a.Free(b1)
	b2 = a.Reallocate(200, b2)
	if a.Current() != 200 || a.Peak() != 200 {
		t.Errorf("current %d, peak %d; want 200, 200", a.Current(), a.Peak())
	}
	a.Free(b2)
	if a.Current() != 0 || a.Peak() != 200 {
		t.Errorf("current %d, peak %d; want 0, 200", a.Current(), a.Peak())
	}
	checked.AssertSize(t, 0)
}
