//go:build duckdb_arrow

package main

import (
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
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/datalab/datalab"
	"github.com/datalab/datalab/catalog"
	"github.com/datalab/datalab/pipelines"
)

// The demo's Go pipeline: a key made once and kept out of the catalog, the
// output non_public, the notebook reading it, lineage through it.
func TestDemoPipeline(t *testing.T) {
	t.Setenv(pipelines.PseudoKeyEnv, "")
	dir := filepath.Join(t.TempDir(), "demo")
	code, out, errOut := runCLI(t, "demo", dir)
	if code != 0 {
		t.Fatalf("demo exited %d\n%s\n%s", code, out, errOut)
	}
	keyFile := filepath.Join(dir, datalab.DemoKeyFile)
	info, err := os.Stat(keyFile)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", info, err)
	}
	key, _ := os.ReadFile(keyFile)
	secret := strings.TrimSpace(string(key))
	for _, want := range []string{"Made a pseudonymisation key for the demo in " + keyFile, "Running the pipelines (pseudonymisation)"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	if !regexp.MustCompile(`demandes\.dossiers_pseudo\s+non_public\s+200 000\s+succeeded`).MatchString(out) {
		t.Errorf("the pipeline did not run:\n%s", out)
	}
	if strings.Contains(out+errOut, secret) {
		t.Error("the key was printed")
	}

	code, out, _ = runCLI(t, "-w", dir, "lineage", "dataset:demandes.dossiers_pseudo")
	for _, want := range []string{"dataset:demandes.dossiers -> pipeline:pseudonymisation  (reads", "pipeline:pseudonymisation -> dataset:demandes.dossiers_pseudo  (writes",
		"dataset:demandes.dossiers_pseudo -> cell:delais/delais/decisions"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("lineage lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = runCLI(t, "-w", dir, "dataset", "show", "demandes.dossiers_pseudo")
	if code != 0 || !strings.Contains(out, "non_public") || !strings.Contains(out, "Identifiant demandeur") {
		t.Errorf("dataset show:\n%s", out)
	}
	code, out, _ = runCLI(t, "-w", dir, "pipeline", "list")
	if code != 0 || !regexp.MustCompile(`pseudonymisation\s+demandes\.dossiers\s+demandes\.dossiers_pseudo\s+non_public\s+on change`).MatchString(out) {
		t.Errorf("pipeline list:\n%s", out)
	}
	first := pseudonym(t, dir)

	// The key is read back: same pseudonyms, nothing to compute.
	code, out, errOut = runCLI(t, "-w", dir, "pipeline", "run", "pseudonymisation")
	if code != 0 || !regexp.MustCompile(`pipeline:pseudonymisation\s+manual\s+unchanged`).MatchString(out) {
		t.Errorf("pipeline run exited %d:\n%s\n%s", code, out, errOut)
	}
	// Another key: computed again, other pseudonyms.
	t.Setenv(pipelines.PseudoKeyEnv, strings.Repeat("k", 40))
	code, out, errOut = runCLI(t, "-w", dir, "pipeline", "run", "pseudonymisation")
	if code != 0 || !regexp.MustCompile(`pipeline:pseudonymisation\s+manual\s+succeeded\s+\S+\s+200 000`).MatchString(out) {
		t.Errorf("pipeline run under another key exited %d:\n%s\n%s", code, out, errOut)
	}
	if second := pseudonym(t, dir); second == first || len(second) != 64 {
		t.Errorf("pseudonyms under two keys: %s, %s", first, second)
	}
	t.Setenv(pipelines.PseudoKeyEnv, "short")
	if code, _, errOut := runCLI(t, "demo", dir); code != 2 || !strings.Contains(errOut, "DATALAB_PSEUDO_KEY holds 5 bytes") {
		t.Errorf("a short key: exit %d, %s", code, errOut)
	}

	code, out, _ = runCLI(t, "-w", dir, "runs", "--format", "json", "--since", "1h")
	var runs []catalog.Run
	if err := json.Unmarshal([]byte(out), &runs); err != nil || code != 0 || len(runs) != 2 || runs[0].Status != catalog.Succeeded {
		t.Errorf("runs --format json: %v\n%s", err, out)
	}
	code, out, _ = runCLI(t, "-w", dir, "runs", "--status", "unchanged", "pipeline:pseudonymisation")
	if code != 0 || strings.Count(out, "pipeline:pseudonymisation") != 1 {
		t.Errorf("runs --status unchanged:\n%s", out)
	}
	for _, args := range [][]string{{"runs", "--status", "done"}, {"runs", "--since", "yesterday"}, {"runs", "pseudonymisation"}, {"pipeline", "run", "nope"}} {
		if code, _, errOut := runCLI(t, append([]string{"-w", dir}, args...)...); code != 2 {
			t.Errorf("datalab %s: exit %d, want 2: %s", strings.Join(args, " "), code, errOut)
		}
	}

	// The key is nowhere in the warehouse.
	ws, err := pipelines.Open(context.Background(), dir, pipelines.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	for _, table := range []string{"datasets", "snapshots", "lineage", "runs", "meta"} {
		var n int64
		q := fmt.Sprintf(`SELECT count(*) FROM datalab.%s AS t WHERE contains(CAST(t AS VARCHAR), ?)`, table)
		if err := ws.DB.QueryRow(q, secret).Scan(&n); err != nil || n != 0 {
			t.Errorf("datalab.%s: %d rows hold the key (%v)", table, n, err)
		}
	}
}

// pseudonym returns the smallest pseudonym of the demo's output.
func pseudonym(t *testing.T, dir string) string {
	t.Helper()
	ws, err := pipelines.Open(context.Background(), dir, pipelines.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	var p string
	if err := ws.DB.QueryRow(`SELECT min(id_demandeur) FROM demandes.dossiers_pseudo`).Scan(&p); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestMainChild is the child process of the serve tests: it runs main
// with the arguments in DATALAB_TEST_ARGS (JSON), as the datalab command.
func TestMainChild(t *testing.T) {
	raw := os.Getenv("DATALAB_TEST_ARGS")
	if raw == "" {
		t.Skip("the child process of the serve tests")
	}
	var args []string
	if err := json.Unmarshal([]byte(raw), &args); err != nil {
		t.Fatal(err)
	}
	os.Args = append([]string{"datalab"}, args...)
	main()
}

// bigSource serves a CSV: 1 000 rows, or, once large is set, 300 000 rows
// of which it sends a third, then waits for the reader to go away.
type bigSource struct {
	*httptest.Server
	large     atomic.Bool
	streaming chan struct{}
	once      sync.Once
}

func newBigSource(t *testing.T) *bigSource {
	b := &bigSource{streaming: make(chan struct{})}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rows := 1000
		if b.large.Load() {
			rows = 300_000
		}
		var buf bytes.Buffer
		buf.WriteString("id;code;amount\n")
		for i := 1; i <= rows; i++ {
			fmt.Fprintf(&buf, "%d;%05d;%d,5\n", i, i%1000, i)
			if i == rows/3 && b.large.Load() {
				w.Write(buf.Bytes())
				w.(http.Flusher).Flush()
				buf.Reset()
				b.once.Do(func() { close(b.streaming) })
				<-r.Context().Done()
				return
			}
		}
		w.Write(buf.Bytes())
	}))
	t.Cleanup(b.Close)
	return b
}

// serveWorkspace makes a workspace whose dataset lab.big, scheduled every
// second, is read from src; loads it once (1 000 rows); then makes src
// large.
func serveWorkspace(t *testing.T, src *bigSource) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "ws")
	if code, out, errOut := runCLI(t, "init", dir); code != 0 {
		t.Fatalf("init: %d %s %s", code, out, errOut)
	}
	reg := fmt.Sprintf("id: lab.big\ntitle: Big\npublisher: Lab\naccess: restricted\nschedule: \"@every 1s\"\nsource: {kind: csv, url: %q}\n", src.URL+"/big.csv")
	if err := os.WriteFile(filepath.Join(dir, "datasets", "big.yaml"), []byte(reg), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runCLI(t, "-w", dir, "dataset", "register", "datasets/big.yaml"); code != 0 {
		t.Fatalf("register: %d %s %s", code, out, errOut)
	}
	if code, out, errOut := runCLI(t, "-w", dir, "ingest", "lab.big"); code != 0 || !strings.Contains(out, "1 000") {
		t.Fatalf("first ingest: %d %s %s", code, out, errOut)
	}
	src.large.Store(true)
	return dir
}

// syncBuffer collects a child's output while it runs.
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

// startServe starts `datalab serve` on dir in a child process.
func startServe(t *testing.T, dir string, extra ...string) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	args, _ := json.Marshal(append([]string{"-w", dir, "--log-format", "json", "serve", "--addr", "127.0.0.1:0"}, extra...))
	cmd := exec.Command(os.Args[0], "-test.run=^TestMainChild$")
	cmd.Env = append(os.Environ(), "DATALAB_TEST_ARGS="+string(args))
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	return cmd, &out
}

func wait(t *testing.T, cmd *exec.Cmd, out *syncBuffer, d time.Duration) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		t.Fatalf("the child did not exit within %s:\n%s", d, out.String())
		return nil
	}
}

func waitStreaming(t *testing.T, src *bigSource, out *syncBuffer) {
	t.Helper()
	select {
	case <-src.streaming:
	case <-time.After(30 * time.Second):
		t.Fatalf("serve never started the ingest:\n%s", out.String())
	}
	time.Sleep(300 * time.Millisecond) // DuckDB is reading the first batches
}

// lastRun returns the last run of lab.big that ran (the ticks of its
// schedule that found it running are recorded as skipped after it) and its
// last snapshot.
func lastRun(t *testing.T, ws *pipelines.Workspace) (catalog.Run, catalog.Snapshot) {
	t.Helper()
	all, err := ws.Catalog.Runs(context.Background(), catalog.RunFilter{Job: catalog.DatasetNode("lab.big")})
	var runs []catalog.Run
	for _, r := range all {
		if r.Status != catalog.Skipped {
			runs = append(runs, r)
		}
	}
	if err != nil || len(runs) == 0 {
		t.Fatalf("runs: %v %v", all, err)
	}
	snaps, err := ws.Catalog.Snapshots(context.Background(), "lab.big", 1)
	if err != nil || len(snaps) != 1 {
		t.Fatalf("snapshots: %v %v", snaps, err)
	}
	return runs[0], snaps[0]
}

// assertPrevious checks that lab.big still holds its first load.
func assertPrevious(t *testing.T, ws *pipelines.Workspace) {
	t.Helper()
	var n int64
	if err := ws.DB.QueryRow("SELECT count(*) FROM lab.big").Scan(&n); err != nil || n != 1000 {
		t.Errorf("lab.big holds %d rows (%v), want the previous 1 000", n, err)
	}
	cur, err := ws.Catalog.Current(context.Background(), "lab.big")
	if err != nil || cur.ID != 1 || cur.Rows != 1000 {
		t.Errorf("current snapshot = %+v, %v; want the first", cur, err)
	}
}

// SIGTERM in the middle of a large ingest: no new run, the running one
// cancelled after the grace period, the previous table intact, exit 0.
func TestServeSIGTERMDuringIngest(t *testing.T) {
	t.Parallel()
	src := newBigSource(t)
	dir := serveWorkspace(t, src)
	cmd, out := startServe(t, dir, "--grace", "1s")
	waitStreaming(t, src, out)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := wait(t, cmd, out, 30*time.Second); err != nil {
		t.Fatalf("serve exited with %v, want status 0:\n%s", err, out.String())
	}
	for _, want := range []string{`"message":"stopping: no new runs`, `"message":"grace period over: cancelling the running runs"`, `"status":"cancelled"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("serve's log lacks %s:\n%s", want, out.String())
		}
	}
	if testing.Verbose() {
		t.Log(out.String())
	}
	ws, err := pipelines.Open(context.Background(), dir, pipelines.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	assertPrevious(t, ws)
	run, snap := lastRun(t, ws)
	if run.Status != catalog.Cancelled || !strings.Contains(run.Error, "cancel") || run.FinishedAt.IsZero() {
		t.Errorf("last run = %+v, want cancelled", run)
	}
	if snap.Status != catalog.Failed || !strings.Contains(snap.Error, "cancel") || run.Snapshot != snap.ID {
		t.Errorf("its snapshot = %+v, want failed (cancelled)", snap)
	}
}

// kill -9 in the middle of an ingest, then a restart: the warehouse opens,
// the previous snapshot stands, the interrupted run is marked failed.
func TestServeKilledDuringIngest(t *testing.T) {
	t.Parallel()
	src := newBigSource(t)
	dir := serveWorkspace(t, src)
	cmd, out := startServe(t, dir)
	waitStreaming(t, src, out)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	var exit *exec.ExitError
	if err := wait(t, cmd, out, 10*time.Second); !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("serve exited with %v, want killed", err)
	}
	var logs syncBuffer
	code := run(context.Background(), []string{"-w", dir, "--log-format", "json", "runs", "--limit", "1"}, &logs, &logs)
	if code != 0 || !strings.Contains(logs.String(), `"message":"runs interrupted by a stopped process were marked failed"`) {
		t.Errorf("restart: exit %d:\n%s", code, logs.String())
	}
	ws, err := pipelines.Open(context.Background(), dir, pipelines.Options{})
	if err != nil {
		t.Fatalf("the warehouse does not open after kill -9: %v", err)
	}
	defer ws.Close()
	assertPrevious(t, ws)
	r, snap := lastRun(t, ws)
	if r.Status != catalog.Failed || !strings.Contains(r.Error, "interrupted") {
		t.Errorf("interrupted run = %+v, want failed", r)
	}
	if snap.Status != catalog.Failed || !strings.Contains(snap.Error, "interrupted") {
		t.Errorf("interrupted snapshot = %+v, want failed", snap)
	}
}

// serve answers GET /healthz, and stops with status 0 when its context
// ends.
// serveInProcess runs `datalab serve` on dir in this process, on a free
// port: its address, the exit code it sends once cancel is called, and its
// output.
func serveInProcess(t *testing.T, dir, grace string) (addr string, done chan int, out *syncBuffer, cancel func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr = ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done, out = make(chan int, 1), &syncBuffer{}
	go func() { done <- run(ctx, []string{"-w", dir, "serve", "--addr", addr, "--grace", grace}, out, out) }()
	return addr, done, out, cancel
}

func TestServeHealthz(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ws")
	if code, _, errOut := runCLI(t, "init", dir); code != 0 {
		t.Fatal(errOut)
	}
	addr, done, out, cancel := serveInProcess(t, dir, "1s")
	var body []byte
	for i := 0; i < 100; i++ {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(string(body), `"status":"ok"`) {
		t.Errorf("healthz = %s\n%s", body, out.String())
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("serve exited %d:\n%s", code, out.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
	}
	if code, _, errOut := runCLI(t, "-w", dir, "serve", "--grace", "-1s"); code != 2 {
		t.Errorf("--grace -1s: exit %d %s", code, errOut)
	}
}

// An ingest asked through serve's API is a run of the scheduler: the
// project reading the dataset runs after it, as after a scheduled ingest,
// and a second ask while it runs is refused with the run under way.
func TestServeAPIIngestCascades(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ws")
	if code, _, errOut := runCLI(t, "init", dir); code != 0 {
		t.Fatal(errOut)
	}
	files := map[string]string{
		"data/regions.csv":        "code;nom\n11;Île-de-France\n24;Centre-Val de Loire\n",
		"datasets/regions.yaml":   "id: lab.regions\ntitle: Régions\npublisher: Lab\naccess: public\nsource: {kind: csv, url: data/regions.csv}\n",
		"projects/geo/regions.md": "---\ntitle: Régions\nowner: Lab\npublish: public\n---\n\n```sql n\nSELECT count(*) AS regions FROM lab.regions\n```\n",
	}
	for name, content := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if code, out, errOut := runCLI(t, "-w", dir, "dataset", "register", "datasets/regions.yaml"); code != 0 {
		t.Fatalf("register: %s %s", out, errOut)
	}
	if code, out, errOut := runCLI(t, "-w", dir, "ingest", "lab.regions"); code != 0 {
		t.Fatalf("ingest: %s %s", out, errOut)
	}
	const token = "test-token-0123456789abcdef"
	t.Setenv("DATALAB_ADMIN_TOKEN", token)
	addr, done, out, cancel := serveInProcess(t, dir, "5s")
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Error("serve did not stop")
		}
	}()
	call := func(method, path string, send ...string) (int, []byte) {
		req, _ := http.NewRequest(method, "http://"+addr+path, strings.NewReader(strings.Join(send, "")))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, nil
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, body
	}
	for i := 0; i < 200; i++ {
		if code, _ := call("GET", "/healthz"); code == 200 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	code, body := call("POST", "/api/datasets/lab.regions/ingest?force=true")
	if code != http.StatusAccepted && code != http.StatusOK {
		t.Fatalf("POST ingest: %d %s\n%s", code, body, out.String())
	}
	var started struct {
		Run catalog.Run `json:"run"`
	}
	if err := json.Unmarshal(body, &started); err != nil || started.Run.Cause != "POST /api/datasets/lab.regions/ingest" {
		t.Fatalf("POST ingest answered %s (%v)", body, err)
	}
	// The project runs after the dataset, triggered by it.
	var project []catalog.Run
	for i := 0; i < 200 && (len(project) == 0 || project[0].Status == catalog.Running); i++ {
		time.Sleep(50 * time.Millisecond)
		_, body = call("GET", "/api/runs?kind=project")
		json.Unmarshal(body, &project)
	}
	if len(project) != 1 || project[0].Trigger != catalog.TriggerUpstream || !strings.Contains(project[0].Cause, "dataset:lab.regions snapshot 2") ||
		project[0].Status != catalog.Succeeded {
		t.Fatalf("project runs after the API's ingest: %s\n%s", body, out.String())
	}
	// A run of the project asked for through the API, the warehouse being
	// serve's.
	code, body = call("POST", "/api/runs?job=project:geo&force=true")
	var launched struct {
		Run catalog.Run `json:"run"`
	}
	if err := json.Unmarshal(body, &launched); code != http.StatusAccepted || err != nil || launched.Run.Job != "project:geo" || launched.Run.Cause != "POST /api/runs" {
		t.Errorf("POST /api/runs?job=project:geo: %d %s", code, body)
	}
	_, body = call("GET", "/api/runs?kind=dataset")
	var ingests []catalog.Run
	json.Unmarshal(body, &ingests)
	if len(ingests) != 1 || ingests[0].ID != started.Run.ID || ingests[0].Status != catalog.Succeeded || ingests[0].Trigger != catalog.TriggerManual {
		t.Errorf("the API's ingest run: %s", body)
	}

	// A dataset registered through the API once serve runs is ingested when
	// asked, the scheduler's runs checking for a run under way as for others.
	code, body = call("POST", "/api/datasets", "id: lab.regions_bis\ntitle: Régions bis\npublisher: Lab\naccess: public\nsource: {kind: csv, url: data/regions.csv}\n")
	if code != http.StatusCreated && code != http.StatusOK {
		t.Fatalf("POST /api/datasets: %d %s", code, body)
	}
	code, body = call("POST", "/api/datasets/lab.regions_bis/ingest")
	if err := json.Unmarshal(body, &started); code != http.StatusAccepted || err != nil {
		t.Fatalf("POST ingest of a dataset registered since serve started: %d %s\n%s", code, body, out.String())
	}
	for i := 0; i < 200; i++ {
		_, body = call("GET", "/api/runs/"+fmt.Sprint(started.Run.ID))
		var r catalog.Run
		if json.Unmarshal(body, &r) == nil && r.Status != catalog.Running {
			if r.Status != catalog.Succeeded || r.Rows != 2 {
				t.Errorf("the new dataset's ingest: %s", body)
			}
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Errorf("the new dataset's ingest never ended: %s", body)
}
