//go:build duckdb_arrow

package pipelines_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/datalab/datalab/catalog"
	"github.com/datalab/datalab/connectors"
	"github.com/datalab/datalab/connectors/csv"
	"github.com/datalab/datalab/pipelines"
)

// TestOpenLineageEmission: with datalab.yaml's openlineage block, each
// ingest and each project's run emits a START and then a COMPLETE or FAIL
// event, with one run id, appended to the file and POSTed with the token of
// api_key_env; a failure's message is left out above public.
func TestOpenLineageEmission(t *testing.T) {
	var mu sync.Mutex
	var posted []catalog.RunEvent
	var auth []string
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, _ := io.ReadAll(r.Body)
		var ev catalog.RunEvent
		if err := json.Unmarshal(data, &ev); err != nil || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "bad event", http.StatusBadRequest)
			return
		}
		mu.Lock()
		posted, auth = append(posted, ev), append(auth, r.Header.Get("Authorization"))
		mu.Unlock()
		w.WriteHeader(http.StatusCreated)
	}))
	defer collector.Close()
	t.Setenv("OL_TEST_KEY", "collector-token")

	dir := t.TempDir()
	for name, content := range map[string]string{
		"datalab.yaml":          "openlineage:\n  file: lineage/events.ndjson\n  url: " + collector.URL + "/api/v1/lineage\n  api_key_env: OL_TEST_KEY\n  namespace: lab\n",
		"datasets/deps.yaml":    "id: lab.deps\ntitle: Départements\npublisher: Lab\naccess: public\nsource: {kind: csv, url: data/deps.csv}\n",
		"data/deps.csv":         "dep,nom\n75,Paris\n13,Bouches-du-Rhône\n",
		"datasets/bad.yaml":     "id: lab.bad\ntitle: Bad\npublisher: Lab\naccess: non_public\nsource: {kind: csv, url: data/bad.csv}\nschema: {fields: [{name: code, type: string, constraints: {pattern: \"[0-9]+\"}}]}\n",
		"data/bad.csv":          "code;x\n12;a\nSECRET-VALUE;b\n",
		"projects/p/nb.md":      "---\ntitle: T\npublish: public\n---\n\n```sql c\nSELECT count(*) AS n FROM lab.deps\n```\n\n```indicator\nid: n\nlabel: N\nfrom: c\nvalue: n\n```\n",
		"projects/broken/nb.md": "---\ntitle: T\npublish: public\n---\n\n```sql c\nSELECT nope FROM lab.deps\n```\n",
	} {
		path := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	kinds := &connectors.Registry{}
	kinds.Add("csv", csv.New)
	ctx := context.Background()
	ws, err := pipelines.Open(ctx, dir, pipelines.Options{Connectors: kinds, Log: zerolog.New(zerolog.NewTestWriter(t))})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if _, err := ws.Register(ctx, "datasets/deps.yaml", "datasets/bad.yaml"); err != nil {
		t.Fatal(err)
	}
	ok, err := ws.Ingest(ctx, "lab.deps", pipelines.IngestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ws.Ingest(ctx, "lab.bad", pipelines.IngestOptions{}); err == nil {
		t.Fatal("lab.bad should fail")
	}
	if _, err := ws.RunProject(ctx, "p"); err != nil {
		t.Fatal(err)
	}
	if _, err := ws.RunProject(ctx, "broken"); err == nil {
		t.Fatal("project broken should fail")
	}

	f, err := os.Open(filepath.Join(dir, "lineage", "events.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var events []catalog.RunEvent
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var ev catalog.RunEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("a line is not an event: %v: %s", err, sc.Text())
		}
		if strings.Contains(sc.Text(), "SECRET-VALUE") {
			t.Errorf("an event quotes a non_public value: %s", sc.Text())
		}
		events = append(events, ev)
	}
	if len(events) != 8 {
		t.Fatalf("%d events in the file, want 8 (START and end of 2 ingests and 2 runs)", len(events))
	}
	mu.Lock()
	if len(posted) != len(events) {
		t.Errorf("%d events posted, %d written", len(posted), len(events))
	}
	for _, a := range auth {
		if a != "Bearer collector-token" {
			t.Errorf("posted with Authorization %q", a)
		}
	}
	mu.Unlock()

	type pair struct{ start, end *catalog.RunEvent }
	runs := map[string]*pair{}
	for i := range events {
		ev := &events[i]
		if _, err := uuid.Parse(ev.Run.RunID); err != nil || ev.EventTime.IsZero() || ev.Producer == "" ||
			ev.SchemaURL != catalog.OpenLineageSchemaURL || ev.Job.Namespace != "lab" || ev.Job.Name == "" {
			t.Errorf("event %d lacks a required field: %+v", i, ev)
		}
		p := runs[ev.Run.RunID]
		if p == nil {
			p = &pair{}
			runs[ev.Run.RunID] = p
		}
		if ev.EventType == catalog.EventStart {
			p.start = ev
		} else {
			p.end = ev
		}
	}
	ends := map[string]*catalog.RunEvent{}
	for id, p := range runs {
		if p.start == nil || p.end == nil || p.start.Job.Name != p.end.Job.Name {
			t.Errorf("run %s: START %v, end %v", id, p.start, p.end)
			continue
		}
		ends[p.end.Job.Name+" "+string(p.end.EventType)] = p.end
	}
	in := ends["dataset:lab.deps COMPLETE"]
	if in == nil || len(in.Inputs) != 1 || in.Inputs[0].Namespace != "file" || !strings.HasSuffix(in.Inputs[0].Name, "data/deps.csv") ||
		in.Outputs[0].Name != "lab.deps" || in.Run.RunID != catalog.RunID("lab", "snapshot/1") || ok.ID != 1 {
		t.Errorf("the ingest of lab.deps: %+v", in)
	}
	if bad := ends["dataset:lab.bad FAIL"]; bad == nil || bad.Run.Facets != nil {
		t.Errorf("the failed ingest of a non_public dataset, its message left out: %+v", bad)
	}
	p := ends["project:p COMPLETE"]
	if p == nil || len(p.Inputs) != 1 || p.Inputs[0].Name != "lab.deps" || len(p.Outputs) != 4 || p.Outputs[0].Name != "out/public/p/indicators.csv" {
		t.Errorf("the run of project p: %+v", p)
	}
	if b := ends["project:broken FAIL"]; b == nil || b.Run.Facets["errorMessage"] == nil {
		t.Errorf("the failed run of a public project tells why: %+v", b)
	}
}

func TestOpenLineageConfig(t *testing.T) {
	for yaml, want := range map[string]string{
		"openlineage: {file: /var/log/events.ndjson}":                   "field openlineage.file",
		"openlineage: {url: ftp://collector}":                           "field openlineage.url",
		"openlineage: {url: 'http://user:pw@collector/api/v1/lineage'}": "holds credentials",
		"openlineage: {api_key_env: KEY}":                               "field openlineage.api_key_env",
		"openlineage: {file: x.ndjson, colour: blue}":                   "openlineage",
	} {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, pipelines.ConfigFile), []byte(yaml+"\n"), 0o644)
		_, err := pipelines.LoadConfig(dir)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error naming %q", yaml, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "pw@") {
			t.Errorf("%s: the error repeats the credentials: %v", yaml, err)
		}
	}
}
