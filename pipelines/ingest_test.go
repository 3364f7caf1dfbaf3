//go:build duckdb_arrow

package pipelines_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/rs/zerolog"

	"github.com/datalab/datalab/catalog"
	"github.com/datalab/datalab/connectors"
	"github.com/datalab/datalab/connectors/csv"
	"github.com/datalab/datalab/pipelines"
)

// newWorkspace opens a workspace in a fresh folder, holding files (path ->
// content), logging through the test.
func newWorkspace(t *testing.T, files map[string]string) *pipelines.Workspace {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		writeFile(t, filepath.Join(dir, name), content)
	}
	reg := &connectors.Registry{}
	reg.Add("csv", csv.New)
	ws, err := pipelines.Open(context.Background(), dir, pipelines.Options{Connectors: reg, Log: zerolog.New(zerolog.NewTestWriter(t))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	return ws
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func register(t *testing.T, ws *pipelines.Workspace, files ...string) {
	t.Helper()
	if _, err := ws.Register(context.Background(), files...); err != nil {
		t.Fatal(err)
	}
}

// numbers is a CSV of n rows "i;code;amount"; when badAt > 0 that row's
// amount is not a number.
func numbers(n, badAt int) string {
	var b strings.Builder
	b.WriteString("id;code;amount\n")
	for i := 1; i <= n; i++ {
		if i == badAt {
			fmt.Fprintf(&b, "%d;%05d;not a number\n", i, i%1000)
			continue
		}
		fmt.Fprintf(&b, "%d;%05d;%d,5\n", i, i%1000, i)
	}
	return b.String()
}

const numbersReg = `id: lab.numbers
title: Numbers
publisher: Lab
access: restricted
source: {kind: csv, url: data/numbers.csv}
`

func count(t *testing.T, ws *pipelines.Workspace, query string) int64 {
	t.Helper()
	var n int64
	if err := ws.DB.QueryRow(query).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func ingest(t *testing.T, ws *pipelines.Workspace, id string, opts pipelines.IngestOptions) catalog.Snapshot {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	opts.Allocator = mem
	opts.CheckHash = true
	snap, err := ws.Ingest(context.Background(), id, opts)
	if err != nil {
		t.Fatal(err)
	}
	mem.AssertSize(t, 0)
	return snap
}

func TestIngestRecordsSnapshotAndLineage(t *testing.T) {
	ws := newWorkspace(t, map[string]string{"datasets/numbers.yaml": numbersReg, "data/numbers.csv": numbers(1000, 0)})
	register(t, ws, "datasets/numbers.yaml")
	snap := ingest(t, ws, "lab.numbers", pipelines.IngestOptions{})
	if snap.Status != catalog.Succeeded || snap.Rows != 1000 || snap.Access != catalog.Restricted {
		t.Fatalf("snapshot = %+v", snap)
	}
	want := []catalog.Column{{Name: "id", Title: "id", Type: "BIGINT"}, {Name: "code", Title: "code", Type: "VARCHAR"}, {Name: "amount", Title: "amount", Type: "DOUBLE"}}
	if fmt.Sprint(snap.Columns) != fmt.Sprint(want) {
		t.Errorf("columns = %v, want %v", snap.Columns, want)
	}
	if !strings.HasPrefix(snap.ContentHash, "sha256:") || !strings.Contains(string(snap.Fingerprint), "sha256:") {
		t.Errorf("hash %q, fingerprint %s", snap.ContentHash, snap.Fingerprint)
	}
	if n := count(t, ws, `SELECT count(*) FROM lab.numbers WHERE code = '00999' AND amount = 999.5`); n != 1 {
		t.Errorf("row 999 not loaded as typed: %d", n)
	}
	cur, err := ws.Catalog.Current(context.Background(), "lab.numbers")
	if err != nil || cur.ID != snap.ID {
		t.Errorf("current = %+v, %v", cur, err)
	}
	g, err := ws.Catalog.Graph(context.Background(), catalog.DatasetNode("lab.numbers"))
	if err != nil || len(g.Upstream) != 1 || g.Upstream[0].Snapshot != snap.ID || !strings.HasSuffix(g.Upstream[0].From.Name(), "data/numbers.csv") {
		t.Errorf("lineage = %+v, %v", g, err)
	}
}

func TestIngestUnchangedSourceIsNotReloaded(t *testing.T) {
	ws := newWorkspace(t, map[string]string{"datasets/numbers.yaml": numbersReg, "data/numbers.csv": numbers(500, 0)})
	register(t, ws, "datasets/numbers.yaml")
	path := ws.Path("data/numbers.csv")
	first := ingest(t, ws, "lab.numbers", pipelines.IngestOptions{})

	again := ingest(t, ws, "lab.numbers", pipelines.IngestOptions{})
	if again.Status != catalog.Unchanged || again.Rows != 500 || again.ContentHash != first.ContentHash {
		t.Errorf("same file: %+v", again)
	}
	// Touched, same bytes: read, found identical by its hash, not replaced.
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
	touched := ingest(t, ws, "lab.numbers", pipelines.IngestOptions{})
	if touched.Status != catalog.Unchanged {
		t.Errorf("touched file: %+v", touched)
	}
	if cur, _ := ws.Catalog.Current(context.Background(), "lab.numbers"); cur.ID != first.ID {
		t.Errorf("current snapshot moved to %d", cur.ID)
	}
	forced := ingest(t, ws, "lab.numbers", pipelines.IngestOptions{Force: true})
	if forced.Status != catalog.Succeeded || forced.ContentHash != first.ContentHash {
		t.Errorf("forced: %+v", forced)
	}
	writeFile(t, path, numbers(600, 0))
	changed := ingest(t, ws, "lab.numbers", pipelines.IngestOptions{})
	if changed.Status != catalog.Succeeded || changed.Rows != 600 || changed.ContentHash == first.ContentHash {
		t.Errorf("changed file: %+v", changed)
	}
}

// assertIntact checks that the table and current snapshot are still those
// of good, and that the last snapshot recorded the failure.
func assertIntact(t *testing.T, ws *pipelines.Workspace, good catalog.Snapshot, wantErr string) {
	t.Helper()
	ctx := context.Background()
	if n := count(t, ws, `SELECT count(*) FROM lab.numbers`); n != good.Rows {
		t.Errorf("table has %d rows, the previous snapshot %d", n, good.Rows)
	}
	cur, err := ws.Catalog.Current(ctx, "lab.numbers")
	if err != nil || cur.ID != good.ID || cur.ContentHash != good.ContentHash {
		t.Errorf("current snapshot = %+v, %v; want %d", cur, err, good.ID)
	}
	snaps, err := ws.Catalog.Snapshots(ctx, "lab.numbers", 1)
	if err != nil || len(snaps) != 1 {
		t.Fatal(snaps, err)
	}
	if last := snaps[0]; last.Status != catalog.Failed || !strings.Contains(last.Error, wantErr) || last.FinishedAt.IsZero() {
		t.Errorf("last snapshot = %+v, want failed with %q", last, wantErr)
	}
}

// A bad value far past the rows used for type inference: DuckDB has
// already received batches when the stream fails.
func TestIngestFailureHalfWayKeepsPreviousTable(t *testing.T) {
	ws := newWorkspace(t, map[string]string{"datasets/numbers.yaml": numbersReg, "data/numbers.csv": numbers(1000, 0)})
	register(t, ws, "datasets/numbers.yaml")
	good := ingest(t, ws, "lab.numbers", pipelines.IngestOptions{})

	writeFile(t, ws.Path("data/numbers.csv"), numbers(300_000, 250_000))
	var read atomic.Int64
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	_, err := ws.Ingest(context.Background(), "lab.numbers", pipelines.IngestOptions{Allocator: mem, Progress: func(n int64) { read.Store(n) }})
	if err == nil {
		t.Fatal("ingest of a bad file succeeded")
	}
	var de *connectors.DataError
	if !errors.As(err, &de) || de.Line != 250_001 || de.Column != "amount" {
		t.Errorf("error = %v, want a DataError at line 250001, column amount", err)
	}
	if read.Load() < 100_000 {
		t.Errorf("only %d rows were read before the failure: not half way", read.Load())
	}
	mem.AssertSize(t, 0)
	assertIntact(t, ws, good, "numbers.csv:250001: column amount")
}

// The source itself fails half way: the server drops the connection.
func TestIngestSourceErrorHalfWayKeepsPreviousTable(t *testing.T) {
	body := numbers(200_000, 0)
	var broken atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !broken.Load() {
			w.Write([]byte(body))
			return
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.Write([]byte(body[:len(body)/2]))
		w.(http.Flusher).Flush()
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.(*net.TCPConn).SetLinger(0)
			conn.Close()
		}
	}))
	defer srv.Close()
	reg := strings.Replace(numbersReg, "data/numbers.csv", srv.URL+"/numbers.csv", 1)
	ws := newWorkspace(t, map[string]string{"datasets/numbers.yaml": reg})
	register(t, ws, "datasets/numbers.yaml")
	good := ingest(t, ws, "lab.numbers", pipelines.IngestOptions{})
	if good.Rows != 200_000 {
		t.Fatalf("first load: %+v", good)
	}
	broken.Store(true)
	_, err := ws.Ingest(context.Background(), "lab.numbers", pipelines.IngestOptions{})
	if err == nil {
		t.Fatal("ingest of a dropped download succeeded")
	}
	assertIntact(t, ws, good, "")
}

// A cancelled ingest leaves the previous table in place, whether it is
// cancelled in the middle of the load or with the last batch, when DuckDB
// may already have the whole table.
func TestIngestCancelledKeepsPreviousTable(t *testing.T) {
	for _, tc := range []struct {
		name     string
		rows     int
		cancelAt int64
	}{
		{"middle", 300_000, 50_001},
		{"last batch", 2000, 2000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws := newWorkspace(t, map[string]string{"datasets/numbers.yaml": numbersReg, "data/numbers.csv": numbers(1000, 0)})
			register(t, ws, "datasets/numbers.yaml")
			good := ingest(t, ws, "lab.numbers", pipelines.IngestOptions{})
			writeFile(t, ws.Path("data/numbers.csv"), numbers(tc.rows, 0))

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			_, err := ws.Ingest(ctx, "lab.numbers", pipelines.IngestOptions{Allocator: mem, Progress: func(n int64) {
				if n >= tc.cancelAt {
					cancel()
				}
			}})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("error = %v, want context.Canceled", err)
			}
			mem.AssertSize(t, 0)
			assertIntact(t, ws, good, "cancel")
		})
	}
}

// A reader running while a dataset is replaced sees the old rows or the new
// ones, never a mix.
func TestIngestReplacesTableAtomically(t *testing.T) {
	ws := newWorkspace(t, map[string]string{"datasets/numbers.yaml": numbersReg, "data/numbers.csv": numbers(1000, 0)})
	register(t, ws, "datasets/numbers.yaml")
	ingest(t, ws, "lab.numbers", pipelines.IngestOptions{})
	writeFile(t, ws.Path("data/numbers.csv"), numbers(200_000, 0))

	var wg sync.WaitGroup
	done := make(chan struct{})
	seen := map[int64]int{}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			var n int64
			if err := ws.DB.QueryRow(`SELECT count(*) FROM lab.numbers`).Scan(&n); err != nil {
				t.Error(err)
				return
			}
			seen[n]++
		}
	}()
	ingest(t, ws, "lab.numbers", pipelines.IngestOptions{})
	close(done)
	wg.Wait()
	for n := range seen {
		if n != 1000 && n != 200_000 {
			t.Errorf("a reader saw %d rows: %v", n, seen)
		}
	}
	if seen[1000] == 0 {
		t.Errorf("the reader never ran during the ingest: %v", seen)
	}
}

func TestIngestFreezeRefusesNewColumns(t *testing.T) {
	reg := numbersReg + "contract: freeze\n"
	ws := newWorkspace(t, map[string]string{"datasets/numbers.yaml": reg, "data/numbers.csv": numbers(100, 0)})
	register(t, ws, "datasets/numbers.yaml")
	good := ingest(t, ws, "lab.numbers", pipelines.IngestOptions{})
	writeFile(t, ws.Path("data/numbers.csv"), "id;code;amount;extra\n1;00001;2,5;x\n")
	_, err := ws.Ingest(context.Background(), "lab.numbers", pipelines.IngestOptions{})
	if !errors.Is(err, pipelines.ErrContract) || !strings.Contains(err.Error(), "new column extra VARCHAR") {
		t.Fatalf("error = %v", err)
	}
	assertIntact(t, ws, good, "contract freeze")
}

const constrainedReg = `id: lab.numbers
title: Numbers
publisher: Lab
access: non_public
source: {kind: csv, url: data/numbers.csv}
schema:
  fields:
    - {name: id, type: integer, constraints: {required: true, unique: true}}
    - {name: code, type: string, constraints: {pattern: "[0-9]{5}", enum: ["00001", "00002", "00003"]}}
    - {name: amount, type: number, constraints: {minimum: 0, maximum: 100}}
`

func TestIngestConstraints(t *testing.T) {
	data := "id;code;amount\n1;00001;5\n2;00002;500\n;00003;1\n2;00003;1\n4;0004;1\n"
	ws := newWorkspace(t, map[string]string{"datasets/numbers.yaml": constrainedReg, "data/numbers.csv": data})
	register(t, ws, "datasets/numbers.yaml")
	_, err := ws.Ingest(context.Background(), "lab.numbers", pipelines.IngestOptions{})
	if !errors.Is(err, pipelines.ErrContract) || !strings.Contains(err.Error(), "column id: 1 rows break the constraint required (rows 3 (empty))") {
		t.Fatalf("error = %v", err)
	}

	ws2 := newWorkspace(t, map[string]string{"datasets/numbers.yaml": constrainedReg + "contract: discard_row\n", "data/numbers.csv": data})
	register(t, ws2, "datasets/numbers.yaml")
	snap := ingest(t, ws2, "lab.numbers", pipelines.IngestOptions{})
	if snap.Rows != 1 || snap.Rejected != 4 {
		t.Errorf("snapshot = %+v, want 1 row kept and 4 rejected", snap)
	}
	rows, err := ws2.DB.Query(`SELECT rejected_row, rejected_reason FROM lab.numbers__rejected ORDER BY rejected_row`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var row int64
		var reason string
		rows.Scan(&row, &reason)
		got = append(got, fmt.Sprintf("%d: %s", row, reason))
	}
	want := []string{"2: column amount breaks maximum 100", "3: column id breaks required", "4: column id breaks unique", "5: column code breaks pattern [0-9]{5}"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("rejected = %q\nwant %q", got, want)
	}
}

func TestRegisterIsAllOrNothing(t *testing.T) {
	bad := strings.Replace(numbersReg, "lab.numbers", "lab.other", 1)
	bad = strings.Replace(bad, "access: restricted", "access: secret", 1)
	ws := newWorkspace(t, map[string]string{
		"datasets/numbers.yaml": numbersReg, "data/numbers.csv": numbers(10, 0),
		"datasets/other.yaml":   bad,
		"datasets/missing.yaml": strings.Replace(strings.Replace(numbersReg, "lab.numbers", "lab.missing", 1), "data/numbers.csv", "data/nothere.csv", 1),
		"datasets/delim.yaml":   strings.Replace(strings.Replace(numbersReg, "lab.numbers", "lab.delim", 1), "url: data/numbers.csv", "url: data/numbers.csv, delimiter: '::'", 1),
	})
	_, err := ws.Register(context.Background(), "datasets/numbers.yaml", "datasets/other.yaml", "datasets/missing.yaml", "datasets/delim.yaml")
	if err == nil {
		t.Fatal("a bad registration was accepted")
	}
	for _, want := range []string{
		`datasets/other.yaml:4: field access: "secret" is not an access level`,
		"datasets/missing.yaml:5: field source.url: file",
		"datasets/delim.yaml:5: field source.delimiter",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
	if ds, _ := ws.Catalog.Datasets(context.Background()); len(ds) != 0 {
		t.Errorf("%d datasets registered after a refusal", len(ds))
	}
	if _, err := ws.Ingest(context.Background(), "lab.nothing", pipelines.IngestOptions{}); !errors.Is(err, pipelines.ErrInvalid) {
		t.Errorf("ingest of an unknown dataset: %v", err)
	}
}
