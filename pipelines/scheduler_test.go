//go:build duckdb_arrow

package pipelines_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/duckdb/duckdb-go/v2"
	"github.com/rs/zerolog"

	"github.com/datalab/datalab/catalog"
	"github.com/datalab/datalab/connectors"
	"github.com/datalab/datalab/connectors/csv"
	"github.com/datalab/datalab/pipelines"
)

// syncBuffer is a log destination that goroutines may share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// openDir opens the workspace in dir with the csv and flaky kinds, logging
// to the test and to logs (when not nil).
func openDir(t *testing.T, dir string, logs io.Writer) *pipelines.Workspace {
	t.Helper()
	reg := &connectors.Registry{}
	reg.Add("csv", csv.New)
	reg.Add("flaky", newFlaky)
	var out io.Writer = zerolog.NewTestWriter(t)
	if logs != nil {
		out = zerolog.MultiLevelWriter(out, logs)
	}
	ws, err := pipelines.Open(context.Background(), dir, pipelines.Options{Connectors: reg, Log: zerolog.New(out)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	return ws
}

func newScheduler(t *testing.T, ws *pipelines.Workspace, logs io.Writer) *pipelines.Scheduler {
	t.Helper()
	var out io.Writer = zerolog.NewTestWriter(t)
	if logs != nil {
		out = zerolog.MultiLevelWriter(out, logs)
	}
	s, err := pipelines.NewScheduler(context.Background(), ws, pipelines.SchedulerOptions{
		Log:   zerolog.New(out),
		Retry: pipelines.RetryPolicy{Attempts: 4, Initial: 20 * time.Millisecond, Max: 100 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func stop(t *testing.T, s *pipelines.Scheduler, grace time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
}

// runsOf returns the runs of a job, oldest first.
func runsOf(t *testing.T, ws *pipelines.Workspace, f catalog.RunFilter) []catalog.Run {
	t.Helper()
	runs, err := ws.Catalog.Runs(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(runs)
	return runs
}

// A source slower than its schedule: one run at a time, the ticks that
// find it running recorded as skipped.
func TestSchedulerSlowSourceNeverRunsTwiceAtOnce(t *testing.T) {
	t.Parallel()
	var active, most, requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := active.Add(1)
		defer active.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		requests.Add(1)
		select {
		case <-time.After(2200 * time.Millisecond):
		case <-r.Context().Done():
			return
		}
		fmt.Fprintf(w, "id;n\n1;%d\n", requests.Load())
	}))
	defer srv.Close()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "datasets/slow.yaml"), "id: lab.slow\ntitle: Slow\npublisher: Lab\naccess: public\nschedule: \"@every 1s\"\nsource: {kind: csv, url: \""+srv.URL+"/slow.csv\"}\n")
	ws := openDir(t, dir, nil)
	register(t, ws, "datasets/slow.yaml")
	s := newScheduler(t, ws, nil)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Second)
	stop(t, s, 5*time.Second)

	if most.Load() != 1 {
		t.Errorf("the source was read %d times at once", most.Load())
	}
	runs := runsOf(t, ws, catalog.RunFilter{Job: catalog.DatasetNode("lab.slow")})
	var ran []catalog.Run
	skipped := 0
	for _, r := range runs {
		switch r.Status {
		case catalog.Skipped:
			skipped++
			if r.Trigger != catalog.TriggerSchedule || !strings.Contains(r.Error, "still going") {
				t.Errorf("skipped run = %+v", r)
			}
		case catalog.Succeeded, catalog.Unchanged:
			ran = append(ran, r)
		default:
			t.Errorf("run %d ended %s: %s", r.ID, r.Status, r.Error)
		}
	}
	for i := 1; i < len(ran); i++ {
		if ran[i].StartedAt.Before(ran[i-1].FinishedAt) {
			t.Errorf("run %d started at %s, before run %d finished at %s", ran[i].ID, ran[i].StartedAt, ran[i-1].ID, ran[i-1].FinishedAt)
		}
	}
	if len(ran) < 3 || len(ran) > 5 || skipped < 3 {
		t.Errorf("over 10 s: %d runs, %d skipped; want 3 to 5 runs of 2.2 s, and the ticks in between skipped", len(ran), skipped)
	}
	if int64(len(ran)) != requests.Load() {
		t.Errorf("%d runs for %d requests", len(ran), requests.Load())
	}
	t.Logf("%d runs, %d skipped", len(ran), skipped)
}

// flaky is a source kind for tests: it reads whitespace-separated integers
// from an HTTP URL, a server's 5xx being a transient failure (wrapping
// connectors.ErrTransient), as the Source contract asks.
type flaky struct{ url string }

func newFlaky(spec connectors.Spec) (connectors.Source, error) {
	var o struct {
		URL string `json:"url"`
	}
	if err := json.Unmarshal(spec.Options, &o); err != nil || o.URL == "" {
		return nil, &connectors.SpecError{Field: "source.url", Reason: "missing"}
	}
	return &flaky{url: o.URL}, nil
}

func (f *flaky) Open(ctx context.Context, opts connectors.OpenOptions) (connectors.Stream, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode >= 500:
		return nil, fmt.Errorf("GET %s: server answered %s: %w", f.url, resp.Status, connectors.ErrTransient)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("GET %s: server answered %s", f.url, resp.Status)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	mem := opts.Allocator
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	schema := arrow.NewSchema([]arrow.Field{{Name: "n", Type: arrow.PrimitiveTypes.Int64}}, nil)
	b := array.NewInt64Builder(mem)
	defer b.Release()
	for _, w := range strings.Fields(string(body)) {
		var n int64
		fmt.Sscan(w, &n)
		b.Append(n)
	}
	col := b.NewArray()
	defer col.Release()
	rec := array.NewRecordBatch(schema, []arrow.Array{col}, int64(col.Len()))
	defer rec.Release()
	rr, err := array.NewRecordReader(schema, []arrow.RecordBatch{rec})
	if err != nil {
		return nil, err
	}
	return flakyStream{rr, f.url}, nil
}

type flakyStream struct {
	array.RecordReader
	url string
}

func (s flakyStream) Fingerprint() connectors.Fingerprint {
	return connectors.Fingerprint{Location: s.url}
}

// A transient failure is tried again until it succeeds; a permanent one is
// not; a panicking step fails its run and the scheduler goes on.
func TestSchedulerFailures(t *testing.T) {
	var hits, notFound atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/flaky":
			if hits.Add(1) <= 2 {
				http.Error(w, "busy", http.StatusServiceUnavailable)
				return
			}
			fmt.Fprint(w, "1 2 3 4 5 6 7")
		default:
			notFound.Add(1)
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "datasets/flaky.yaml"), "id: lab.flaky\ntitle: Flaky\npublisher: Lab\naccess: public\nsource: {kind: flaky, url: \""+srv.URL+"/flaky\"}\n")
	writeFile(t, filepath.Join(dir, "datasets/gone.yaml"), "id: lab.gone\ntitle: Gone\npublisher: Lab\naccess: public\nsource: {kind: csv, url: \""+srv.URL+"/gone.csv\"}\n")
	writeFile(t, filepath.Join(dir, "datasets/applicants.yaml"), applicantsReg)
	writeFile(t, filepath.Join(dir, "data/applicants.csv"), applicants(5000))
	ws := openDir(t, dir, nil)
	register(t, ws, "datasets/flaky.yaml", "datasets/gone.yaml", "datasets/applicants.yaml")
	ctx := context.Background()

	// The step panics on its second batch, once told to.
	var explode atomic.Int64
	pseudo, _ := pipelines.NewPseudonymiser(testKey, pipelines.PseudoHex, "id")
	step := &panicky{Transformer: pseudo, explode: &explode}
	p := pseudoPipeline(t)
	p.Step.Transform = step
	if err := ws.AddPipeline(ctx, p); err != nil {
		t.Fatal(err)
	}
	s := newScheduler(t, ws, nil)

	run, err := s.RunNow(ctx, catalog.DatasetNode("lab.flaky"), pipelines.RunOptions{})
	if err != nil || run.Status != catalog.Succeeded || run.Attempts != 3 || run.Rows != 7 || hits.Load() != 3 {
		t.Errorf("transient failures: run %+v, %v; %d requests; want succeeded on the 3rd attempt", run, err, hits.Load())
	}
	run, err = s.RunNow(ctx, catalog.DatasetNode("lab.gone"), pipelines.RunOptions{})
	if err != nil || run.Status != catalog.Failed || run.Attempts != 1 || notFound.Load() != 1 || !strings.Contains(run.Error, "404 Not Found") {
		t.Errorf("permanent failure: run %+v, %v; %d requests; want failed at once", run, err, notFound.Load())
	}
	if got, _ := ws.Catalog.Run(ctx, run.ID); got.Status != catalog.Failed || got.Error != run.Error || got.Snapshot == 0 {
		t.Errorf("recorded run = %+v", got)
	}

	// A good run, then a panicking one: the previous output stands.
	run, _ = s.RunNow(ctx, catalog.DatasetNode("lab.applicants"), pipelines.RunOptions{Downstream: true})
	good, err := ws.Catalog.Current(ctx, "lab.applicants_pseudo")
	if run.Status != catalog.Succeeded || err != nil || good.Rows != 5000 {
		t.Fatalf("good run: %+v; output %+v, %v", run, good, err)
	}
	explode.Store(2)
	run, err = s.RunNow(ctx, catalog.NewNode(catalog.KindPipeline, "pseudo"), pipelines.RunOptions{})
	if err != nil || run.Status != catalog.Unchanged {
		t.Errorf("run with unchanged inputs = %+v, %v", run, err)
	}
	p.Version = "2" // the code changed: compute again
	if err := ws.AddPipeline(ctx, p); err != nil {
		t.Fatal(err)
	}
	run, err = s.RunNow(ctx, catalog.NewNode(catalog.KindPipeline, "pseudo"), pipelines.RunOptions{})
	if err != nil || run.Status != catalog.Failed || run.Attempts != 1 || !strings.Contains(run.Error, "panic in the Transformer: boom") || explode.Load() != 0 {
		t.Errorf("panicking step: run %+v, %v", run, err)
	}
	if cur, _ := ws.Catalog.Current(ctx, "lab.applicants_pseudo"); cur.ID != good.ID || count(t, ws, "SELECT count(*) FROM lab.applicants_pseudo") != 5000 {
		t.Errorf("the previous output did not stand: current %+v", cur)
	}
	// The scheduler goes on.
	if run, err := s.RunNow(ctx, catalog.NewNode(catalog.KindPipeline, "pseudo"), pipelines.RunOptions{}); err != nil || run.Status != catalog.Succeeded {
		t.Errorf("run after the panic = %+v, %v", run, err)
	}
	if _, err := s.RunNow(ctx, "dataset:lab.nope", pipelines.RunOptions{}); !errors.Is(err, pipelines.ErrInvalid) {
		t.Errorf("unknown job: %v", err)
	}
}

// panicky wraps a Transformer and panics when its countdown, set by the
// test, reaches zero: on the second batch after it is set to 2.
type panicky struct {
	pipelines.Transformer
	explode *atomic.Int64
}

func (p *panicky) Transform(ctx context.Context, batch arrow.RecordBatch, mem memory.Allocator) (arrow.RecordBatch, error) {
	if p.explode.Load() > 0 && p.explode.Add(-1) == 0 {
		panic("boom")
	}
	return p.Transformer.Transform(ctx, batch, mem)
}

func TestTransient(t *testing.T) {
	_, refused := net.Dial("tcp", "127.0.0.1:1")
	cases := []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("ingest x: GET u: server answered 503 Service Unavailable: %w", connectors.ErrTransient), true},
		{errors.New("GET u: server answered 404 Not Found"), false},
		{fmt.Errorf("read: %w", refused), true},
		{&duckdb.Error{Type: duckdb.ErrorTypeTransaction, Msg: "TransactionContext Error: Catalog write-write conflict"}, true},
		{&duckdb.Error{Type: duckdb.ErrorTypeIO, Msg: `IO Error: Could not set lock on file "w.duckdb"`}, true},
		{&duckdb.Error{Type: duckdb.ErrorTypeConversion, Msg: "Conversion Error: could not convert"}, false},
		{&connectors.DataError{Location: "x.csv", Line: 3, Reason: "not a number"}, false},
		{fmt.Errorf("%w: contract freeze", pipelines.ErrContract), false},
		{fmt.Errorf("ingest: %w", context.Canceled), false},
		{fmt.Errorf("%w: boom", pipelines.ErrPanic), false},
		{nil, false},
	}
	for _, c := range cases {
		if got := pipelines.Transient(c.err); got != c.want {
			t.Errorf("Transient(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

// Stopped longer than a period: the missed ticks give one catch-up run on
// start, not one per tick; logged. Restarted within the period: none.
func TestSchedulerCatchUp(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "datasets/tick.yaml"), "id: lab.tick\ntitle: Tick\npublisher: Lab\naccess: public\nschedule: \"@every 2s\"\nsource: {kind: csv, url: data/tick.csv}\n")
	writeFile(t, filepath.Join(dir, "data/tick.csv"), "n\n1\n")
	ws := openDir(t, dir, nil)
	register(t, ws, "datasets/tick.yaml")
	job := catalog.DatasetNode("lab.tick")

	// Never loaded: caught up at once.
	s := newScheduler(t, ws, nil)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	stop(t, s, 5*time.Second)
	first := runsOf(t, ws, catalog.RunFilter{Job: job})
	if len(first) != 1 || first[0].Trigger != catalog.TriggerCatchUp || first[0].Status != catalog.Succeeded || !strings.Contains(first[0].Cause, "last success never") {
		t.Fatalf("first start: runs %+v", first)
	}
	ws.Close()

	// Stopped for more than two periods, then started again.
	time.Sleep(4500 * time.Millisecond)
	ws = openDir(t, dir, nil)
	var logs syncBuffer
	restart := time.Now()
	s = newScheduler(t, ws, &logs)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	// @every 2s ticks on whole seconds: the first tick comes 1 to 2 s
	// after the start.
	time.Sleep(800 * time.Millisecond)
	stop(t, s, 5*time.Second)
	runs := runsOf(t, ws, catalog.RunFilter{Job: job, Since: restart})
	if len(runs) != 1 || runs[0].Trigger != catalog.TriggerCatchUp || runs[0].Status != catalog.Unchanged {
		t.Errorf("after a stop of two periods: runs %+v; want one catch-up", runs)
	}
	if !strings.Contains(logs.String(), "missed run") || !strings.Contains(logs.String(), `"job":"dataset:lab.tick"`) {
		t.Errorf("the catch-up was not logged:\n%s", logs.String())
	}

	// Started again within the period: nothing to catch up.
	again := time.Now()
	s = newScheduler(t, ws, nil)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	stop(t, s, 5*time.Second)
	if runs := runsOf(t, ws, catalog.RunFilter{Job: job, Since: again}); len(runs) != 0 {
		t.Errorf("restarted within the period: runs %+v", runs)
	}
}

const notebookXY = `---
title: X
publish: non_public
---

` + "```sql c\nSELECT s.dep, count(*) AS n FROM lab.scored s JOIN lab.deps d USING (dep) GROUP BY ALL\n```\n" +
	"```indicator\nid: n\nlabel: N\nfrom: c\nvalue: n\nby: [dep]\ncount: n\n```\n"

// Over datasets, a Go pipeline and a notebook: what changed makes what
// depends on it run after it, in dependency order, each once.
func TestSchedulerDependencyOrder(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"datasets/applicants.yaml": applicantsReg, "data/applicants.csv": applicants(3000),
		"datasets/deps.yaml": depsPublicReg, "data/deps.csv": "dep;nom\n01;Ain\n02;Aisne\n",
		"projects/x/x.md": notebookXY,
	} {
		writeFile(t, filepath.Join(dir, name), content)
	}
	writeFile(t, filepath.Join(dir, "data/other.csv"), "dep\n01\n")
	writeFile(t, filepath.Join(dir, "datasets/other.yaml"), strings.ReplaceAll(strings.ReplaceAll(depsPublicReg, "lab.deps", "lab.other"), "deps.csv", "other.csv"))
	ws := openDir(t, dir, nil)
	register(t, ws, "datasets/applicants.yaml", "datasets/deps.yaml", "datasets/other.yaml")
	ctx := context.Background()
	ingest(t, ws, "lab.deps", pipelines.IngestOptions{})
	pseudo, _ := pipelines.NewPseudonymiser(testKey, pipelines.PseudoHex, "id")
	err := ws.AddPipeline(ctx, pipelines.Pipeline{
		Name:     "score",
		Inputs:   []string{"lab.applicants", "lab.deps"},
		Output:   catalog.Dataset{ID: "lab.scored", Title: "Scored", Publisher: "Lab"},
		OnChange: true,
		Step:     pipelines.Step{SQL: "SELECT a.id, a.dep, a.amount FROM lab.applicants a JOIN lab.deps d USING (dep)", Transform: pseudo},
	})
	if err != nil {
		t.Fatal(err)
	}
	s := newScheduler(t, ws, nil)
	var order []string
	for _, j := range s.Jobs() {
		order = append(order, string(j.Node))
	}
	want := "dataset:lab.applicants dataset:lab.deps dataset:lab.other pipeline:score project:x"
	if strings.Join(order, " ") != want {
		t.Errorf("jobs in order %v, want %s", order, want)
	}

	check := func(start time.Time, want ...string) []catalog.Run {
		t.Helper()
		runs := runsOf(t, ws, catalog.RunFilter{Since: start})
		var got []string
		for i, r := range runs {
			got = append(got, fmt.Sprintf("%s %s %s", r.Job, r.Trigger, r.Status))
			if i > 0 && r.StartedAt.Before(runs[i-1].FinishedAt) {
				t.Errorf("%s started before %s finished", r.Job, runs[i-1].Job)
			}
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("runs:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		return runs
	}
	start := time.Now()
	if _, err := s.RunNow(ctx, catalog.DatasetNode("lab.applicants"), pipelines.RunOptions{Downstream: true}); err != nil {
		t.Fatal(err)
	}
	runs := check(start,
		"dataset:lab.applicants manual succeeded",
		"pipeline:score upstream succeeded",
		"project:x upstream succeeded")
	if len(runs) == 3 && (runs[2].Rows != 2 || !strings.Contains(runs[2].Cause, "dataset:lab.scored snapshot")) {
		t.Errorf("project run = %+v", runs[2])
	}
	if _, err := os.Stat(ws.Path("out/non_public/x/indicators.csv")); err != nil {
		t.Errorf("the project wrote nothing: %v", err)
	}

	// A public input read by both the pipeline and the notebook: the
	// notebook runs once, after the pipeline.
	writeFile(t, ws.Path("data/deps.csv"), "dep;nom\n01;Ain\n02;Aisne\n03;Allier\n")
	start = time.Now()
	s.RunNow(ctx, catalog.DatasetNode("lab.deps"), pipelines.RunOptions{Downstream: true})
	check(start,
		"dataset:lab.deps manual succeeded",
		"pipeline:score upstream succeeded",
		"project:x upstream succeeded")

	// Unchanged: nothing downstream. Unrelated: nothing downstream.
	start = time.Now()
	s.RunNow(ctx, catalog.DatasetNode("lab.deps"), pipelines.RunOptions{Downstream: true})
	s.RunNow(ctx, catalog.DatasetNode("lab.other"), pipelines.RunOptions{Downstream: true})
	check(start, "dataset:lab.deps manual unchanged", "dataset:lab.other manual succeeded")
}

// A second process cannot open the warehouse for writing; the message says
// which process holds it.
func TestSecondProcessIsRefused(t *testing.T) {
	dir := t.TempDir()
	ws := openDir(t, dir, nil)
	ws.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHoldWarehouse$")
	cmd.Env = append(os.Environ(), "DATALAB_TEST_HOLD="+dir)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer stdin.Close()
	lines := bufio.NewScanner(stdout)
	for lines.Scan() && lines.Text() != "holding" {
	}
	_, err := pipelines.Open(context.Background(), dir, pipelines.Options{})
	want := fmt.Sprintf("is open for writing by process %d (", cmd.Process.Pid)
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), fmt.Sprintf("kill %d", cmd.Process.Pid)) {
		t.Errorf("open while another process holds it: %v\nwant %q", err, want)
	}
	t.Log(err)
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	ws, err = pipelines.Open(context.Background(), dir, pipelines.Options{})
	if err != nil {
		t.Fatalf("open once the other process is gone: %v", err)
	}
	ws.Close()
}

// TestHoldWarehouse is the other process of TestSecondProcessIsRefused: it
// holds the workspace named by DATALAB_TEST_HOLD until its stdin closes.
func TestHoldWarehouse(t *testing.T) {
	dir := os.Getenv("DATALAB_TEST_HOLD")
	if dir == "" {
		t.Skip("the other process of TestSecondProcessIsRefused")
	}
	ws, err := pipelines.Open(context.Background(), dir, pipelines.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	fmt.Println("holding")
	io.Copy(io.Discard, os.Stdin)
}

// Two jobs started at once: their writes to the warehouse run one after
// the other.
func TestWritesAreSerialised(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(500 * time.Millisecond)
		fmt.Fprint(w, "n\n1\n2\n")
	}))
	defer srv.Close()
	dir := t.TempDir()
	for _, id := range []string{"one", "two"} {
		writeFile(t, filepath.Join(dir, "datasets", id+".yaml"), "id: lab."+id+"\ntitle: T\npublisher: Lab\naccess: public\nsource: {kind: csv, url: \""+srv.URL+"/"+id+".csv\"}\n")
	}
	ws := openDir(t, dir, nil)
	register(t, ws, "datasets/one.yaml", "datasets/two.yaml")
	s := newScheduler(t, ws, nil)
	var wg sync.WaitGroup
	for _, id := range []string{"lab.one", "lab.two"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if run, err := s.RunNow(context.Background(), catalog.DatasetNode(id), pipelines.RunOptions{Downstream: true}); err != nil || run.Status != catalog.Succeeded {
				t.Errorf("%s: %+v, %v", id, run, err)
			}
		}()
	}
	wg.Wait()
	one, _ := ws.Catalog.Current(context.Background(), "lab.one")
	two, _ := ws.Catalog.Current(context.Background(), "lab.two")
	if one.StartedAt.Before(two.FinishedAt) && two.StartedAt.Before(one.FinishedAt) {
		t.Errorf("the ingests overlapped: %s–%s and %s–%s", one.StartedAt, one.FinishedAt, two.StartedAt, two.FinishedAt)
	}
}

// Launch starts a run in the background and returns it at once; a second
// launch while it runs is skipped; Force loads an unchanged source.
func TestSchedulerLaunch(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(400 * time.Millisecond)
		fmt.Fprint(w, "n\n1\n2\n")
	}))
	defer srv.Close()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "datasets", "one.yaml"), "id: lab.one\ntitle: T\npublisher: Lab\naccess: public\nsource: {kind: csv, url: \""+srv.URL+"/one.csv\"}\n")
	ws := openDir(t, dir, nil)
	register(t, ws, "datasets/one.yaml")
	s := newScheduler(t, ws, nil)
	ctx := context.Background()
	job := catalog.DatasetNode("lab.one")
	waitRun := func(id int64) catalog.Run {
		t.Helper()
		for i := 0; i < 100; i++ {
			if r, err := ws.Catalog.Run(ctx, id); err == nil && r.Status != catalog.Running {
				return r
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("run %d never ended", id)
		return catalog.Run{}
	}
	first, err := s.Launch(job, pipelines.RunOptions{Cause: "asked by a test"})
	if err != nil || first.Status != catalog.Running || first.ID == 0 || first.Cause != "asked by a test" {
		t.Fatalf("Launch = %+v, %v", first, err)
	}
	var busy *pipelines.BusyError
	if again, err := s.Launch(job, pipelines.RunOptions{}); !errors.As(err, &busy) || busy.Run != first.ID || busy.Job != job || again.ID != 0 {
		t.Errorf("second Launch while running = %+v, %v; want a BusyError naming run %d", again, err, first.ID)
	}
	if r := waitRun(first.ID); r.Status != catalog.Succeeded || r.Rows != 2 {
		t.Errorf("launched run = %+v", r)
	}
	// A run is recorded as over a moment before the scheduler lets the job
	// run again: Launch says busy until then.
	launchWhenFree := func(opts pipelines.RunOptions) catalog.Run {
		t.Helper()
		for i := 0; i < 500; i++ {
			run, err := s.Launch(job, opts)
			if !errors.As(err, &busy) {
				if err != nil {
					t.Fatal(err)
				}
				return run
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatal("the job stayed busy")
		return catalog.Run{}
	}
	unchanged := launchWhenFree(pipelines.RunOptions{})
	waitRun(unchanged.ID)
	forced := launchWhenFree(pipelines.RunOptions{Force: true})
	if r := waitRun(unchanged.ID); r.Status != catalog.Unchanged {
		t.Errorf("unchanged source: %+v", r)
	}
	if r := waitRun(forced.ID); r.Status != catalog.Succeeded {
		t.Errorf("forced: %+v", r)
	}
	stop(t, s, time.Second)
	if _, err := s.Launch(job, pipelines.RunOptions{}); err == nil {
		t.Error("Launch after Stop started a run")
	}
}
