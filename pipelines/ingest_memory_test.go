package pipelines_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/rs/zerolog"

	"github.com/datalab/datalab/connectors"
	"github.com/datalab/datalab/connectors/csv"
	"github.com/datalab/datalab/pipelines"
)

// leaky is a source kind for tests: three rows, and a buffer of the
// ingest's allocator that it never frees.
type leaky struct{}

func (leaky) Open(ctx context.Context, opts connectors.OpenOptions) (connectors.Stream, error) {
	if opts.Allocator == nil {
		return nil, connectors.ErrTransient // the ingest always gives one
	}
	opts.Allocator.Allocate(64) // the leak
	b := array.NewInt64Builder(opts.Allocator)
	defer b.Release()
	b.AppendValues([]int64{1, 2, 3}, nil)
	col := b.NewArray()
	defer col.Release()
	schema := arrow.NewSchema([]arrow.Field{{Name: "n", Type: arrow.PrimitiveTypes.Int64}}, nil)
	rec := array.NewRecordBatch(schema, []arrow.Array{col}, 3)
	defer rec.Release()
	rr, err := array.NewRecordReader(schema, []arrow.RecordBatch{rec})
	if err != nil {
		return nil, err
	}
	return flakyStream{rr, "leaky:"}, nil
}

// By default a connector's batches are C memory, freed as DuckDB releases
// them: the ingest gives the same table, and says so when a connector
// leaves buffers unreleased, which C memory would leak.
func TestIngestDefaultAllocator(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "datasets/numbers.yaml"), numbersReg)
	writeFile(t, filepath.Join(dir, "data/numbers.csv"), numbers(300_000, 0))
	writeFile(t, filepath.Join(dir, "datasets/leaky.yaml"), "id: lab.leaky\ntitle: Leaky\npublisher: Lab\naccess: public\nsource: {kind: leaky}\n")
	reg := &connectors.Registry{}
	reg.Add("csv", csv.New)
	reg.Add("leaky", func(connectors.Spec) (connectors.Source, error) { return leaky{}, nil })
	var logs bytes.Buffer
	ws, err := pipelines.Open(context.Background(), dir, pipelines.Options{Connectors: reg, Log: zerolog.New(&logs)})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	register(t, ws, "datasets/numbers.yaml", "datasets/leaky.yaml")

	// No allocator: the ingest's own.
	snap, err := ws.Ingest(context.Background(), "lab.numbers", pipelines.IngestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var n, sum int64
	if err := ws.DB.QueryRow("SELECT count(*), sum(id) FROM lab.numbers").Scan(&n, &sum); err != nil {
		t.Fatal(err)
	}
	if snap.Rows != 300_000 || n != 300_000 || sum != 300_000*300_001/2 {
		t.Errorf("loaded %d rows (snapshot says %d) summing to %d, want 300000 rows 1..300000", n, snap.Rows, sum)
	}
	if strings.Contains(logs.String(), "did not release") {
		t.Errorf("the CSV connector left buffers unreleased:\n%s", logs.String())
	}

	if _, err := ws.Ingest(context.Background(), "lab.leaky", pipelines.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), `"bytes":64,"message":"the connector did not release all its Arrow buffers`) {
		t.Errorf("the leak was not reported:\n%s", logs.String())
	}
}
