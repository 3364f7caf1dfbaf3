//go:build duckdb_arrow

package pipelines_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/rs/zerolog"

	"github.com/datalab/datalab/catalog"
	"github.com/datalab/datalab/connectors"
	"github.com/datalab/datalab/connectors/csv"
	"github.com/datalab/datalab/pipelines"
)

// testKey is a 40-byte key, long enough.
var testKey = []byte("0123456789abcdef0123456789abcdef-secret")

// applicants is a CSV of n applications, "id;dep;amount", with ids that
// identify people.
func applicants(n int) string {
	var b strings.Builder
	b.WriteString("id;dep;amount\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "P%06d;%02d;%d\n", i, 1+i%9, i%500)
	}
	return b.String()
}

const applicantsReg = `id: lab.applicants
title: Applicants
publisher: Lab
access: non_public
source: {kind: csv, url: data/applicants.csv}
schema: {fields: [{name: id, type: string}, {name: dep, type: string}]}
`

const depsPublicReg = `id: lab.deps
title: Départements
publisher: Lab
access: public
source: {kind: csv, url: data/deps.csv}
schema: {fields: [{name: dep, type: string}]}
`

func pseudoPipeline(t *testing.T) pipelines.Pipeline {
	t.Helper()
	pseudo, err := pipelines.NewPseudonymiser(testKey, pipelines.PseudoHex, "id")
	if err != nil {
		t.Fatal(err)
	}
	return pipelines.Pipeline{
		Name:     "pseudo",
		Inputs:   []string{"lab.applicants"},
		Output:   catalog.Dataset{ID: "lab.applicants_pseudo", Title: "Applicants, pseudonymised", Publisher: "Lab", Access: catalog.NonPublic},
		OnChange: true,
		Step:     pipelines.Step{Transform: pseudo},
	}
}

func hmacHex(value string) string {
	m := hmac.New(sha256.New, testKey)
	m.Write([]byte(value))
	return hex.EncodeToString(m.Sum(nil))
}

func TestPipelinePseudonymises(t *testing.T) {
	ctx := context.Background()
	var logs bytes.Buffer
	dir := t.TempDir()
	writeFile(t, dir+"/datasets/applicants.yaml", applicantsReg)
	writeFile(t, dir+"/data/applicants.csv", applicants(5000))
	reg := &connectors.Registry{}
	reg.Add("csv", csv.New)
	ws, err := pipelines.Open(ctx, dir, pipelines.Options{Connectors: reg,
		Log: zerolog.New(zerolog.MultiLevelWriter(&logs, zerolog.NewTestWriter(t))).Level(zerolog.DebugLevel)})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	register(t, ws, "datasets/applicants.yaml")
	in := ingest(t, ws, "lab.applicants", pipelines.IngestOptions{})
	if err := ws.AddPipeline(ctx, pseudoPipeline(t)); err != nil {
		t.Fatal(err)
	}

	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	snap, err := ws.RunPipeline(ctx, "pseudo", pipelines.IngestOptions{Allocator: mem})
	if err != nil {
		t.Fatal(err)
	}
	mem.AssertSize(t, 0)
	if snap.Status != catalog.Succeeded || snap.Rows != 5000 || snap.Access != catalog.NonPublic {
		t.Fatalf("snapshot = %+v", snap)
	}
	// P000007 lives in 08 and asked for 7: its row is found by its HMAC.
	var dep string
	var amount int64
	if err := ws.DB.QueryRow(`SELECT dep, amount FROM lab.applicants_pseudo WHERE id = ?`, hmacHex("P000007")).Scan(&dep, &amount); err != nil || dep != "08" || amount != 7 {
		t.Errorf("the row of P000007's pseudonym: %s %d %v", dep, amount, err)
	}
	if n := count(t, ws, `SELECT count(*) FROM lab.applicants_pseudo WHERE id LIKE 'P%' OR length(id) <> 64`); n != 0 {
		t.Errorf("%d identifiers were not pseudonymised", n)
	}
	if n := count(t, ws, `SELECT count(DISTINCT id) FROM lab.applicants_pseudo`); n != 5000 {
		t.Errorf("%d distinct pseudonyms for 5000 people", n)
	}
	d, err := ws.Catalog.Dataset(ctx, "lab.applicants_pseudo")
	if err != nil || d.Access != catalog.NonPublic || d.Source.Kind != pipelines.PipelineKind ||
		!strings.Contains(string(d.Source.Options), `"pipeline":"pseudo"`) {
		t.Errorf("output registration = %+v, %v", d, err)
	}

	// Lineage: the input's snapshot, the pipeline, the output's snapshot.
	up, err := ws.Catalog.Lineage(ctx, catalog.DatasetNode("lab.applicants_pseudo"), catalog.Upstream)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{
		fmt.Sprintf("dataset:lab.applicants -> pipeline:pseudo reads %d", in.ID):           false,
		fmt.Sprintf("pipeline:pseudo -> dataset:lab.applicants_pseudo writes %d", snap.ID): false,
	}
	for _, e := range up {
		want[fmt.Sprintf("%s -> %s %s %d", e.From, e.To, e.Kind, e.Snapshot)] = true
	}
	for e, seen := range want {
		if !seen {
			t.Errorf("lineage lacks %s: %+v", e, up)
		}
	}

	// Inputs unchanged: nothing computed. Input changed: computed again.
	again, err := ws.RunPipeline(ctx, "pseudo", pipelines.IngestOptions{})
	if err != nil || again.Status != catalog.Unchanged || again.Rows != 5000 {
		t.Errorf("second run = %+v, %v", again, err)
	}
	writeFile(t, ws.Path("data/applicants.csv"), applicants(6000))
	ingest(t, ws, "lab.applicants", pipelines.IngestOptions{})
	changed, err := ws.RunPipeline(ctx, "pseudo", pipelines.IngestOptions{})
	if err != nil || changed.Status != catalog.Succeeded || changed.Rows != 6000 {
		t.Errorf("run after a change = %+v, %v", changed, err)
	}
	// Another key: other pseudonyms, computed again.
	p := pseudoPipeline(t)
	other, _ := pipelines.NewPseudonymiser(append([]byte("another "), testKey...), pipelines.PseudoBase32, "id")
	p.Step.Transform = other
	if err := ws.AddPipeline(ctx, p); err != nil {
		t.Fatal(err)
	}
	rekeyed, err := ws.RunPipeline(ctx, "pseudo", pipelines.IngestOptions{})
	if err != nil || rekeyed.Status != catalog.Succeeded {
		t.Errorf("run under a new key = %+v, %v", rekeyed, err)
	}
	if n := count(t, ws, `SELECT count(*) FROM lab.applicants_pseudo WHERE length(id) = 52`); n != 6000 {
		t.Errorf("%d base32 pseudonyms, want 6000", n)
	}

	// The key is in no log and nowhere in the catalog.
	if strings.Contains(logs.String(), string(testKey)) || strings.Contains(logs.String(), "secret") {
		t.Errorf("the key reached the logs")
	}
	if pr := fmt.Sprintf("%v %+v %#v %s", other, other, other, other); strings.Contains(pr, "secret") {
		t.Errorf("printing the pseudonymiser shows its key: %s", pr)
	}
	for _, table := range []string{"datasets", "snapshots", "lineage", "runs", "meta"} {
		var n int64
		q := fmt.Sprintf(`SELECT count(*) FROM datalab.%s AS t WHERE CAST(t AS VARCHAR) LIKE '%%secret%%'`, table)
		if err := ws.DB.QueryRow(q).Scan(&n); err != nil || n != 0 {
			t.Errorf("datalab.%s: %d rows hold the key (%v)", table, n, err)
		}
	}
}

func TestPipelineSQLStep(t *testing.T) {
	ctx := context.Background()
	ws := newWorkspace(t, map[string]string{
		"datasets/applicants.yaml": applicantsReg, "data/applicants.csv": applicants(900),
		"datasets/deps.yaml": depsPublicReg, "data/deps.csv": "dep;nom\n01;Ain\n02;Aisne\n03;Allier\n",
	})
	register(t, ws, "datasets/applicants.yaml", "datasets/deps.yaml")
	ingest(t, ws, "lab.applicants", pipelines.IngestOptions{})
	ingest(t, ws, "lab.deps", pipelines.IngestOptions{})
	p := pipelines.Pipeline{
		Name:   "by_dep",
		Inputs: []string{"lab.applicants", "lab.deps"},
		Output: catalog.Dataset{ID: "lab.by_dep", Title: "Applicants by département", Publisher: "Lab"},
		Step:   pipelines.Step{SQL: "SELECT d.nom, count(*) AS n FROM lab.applicants a JOIN lab.deps d USING (dep) GROUP BY ALL"},
	}
	if err := ws.AddPipeline(ctx, p); err != nil {
		t.Fatal(err)
	}
	snap, err := ws.RunPipeline(ctx, "by_dep", pipelines.IngestOptions{})
	if err != nil || snap.Rows != 3 {
		t.Fatalf("run = %+v, %v", snap, err)
	}
	if n := count(t, ws, `SELECT n FROM lab.by_dep WHERE nom = 'Aisne'`); n != 100 {
		t.Errorf("Aisne: %d applicants, want 100", n)
	}
	// Its level is its inputs' highest, unless said otherwise.
	if d, _ := ws.Catalog.Dataset(ctx, "lab.by_dep"); d.Access != catalog.NonPublic {
		t.Errorf("output level = %s, want non_public", d.Access)
	}
	if got := ws.Pipelines(); len(got) != 1 || got[0].Name != "by_dep" {
		t.Errorf("pipelines = %+v", got)
	}
}

func TestAddPipelineRefusals(t *testing.T) {
	ctx := context.Background()
	ws := newWorkspace(t, map[string]string{
		"datasets/applicants.yaml": applicantsReg, "data/applicants.csv": applicants(10),
		"datasets/deps.yaml": depsPublicReg, "data/deps.csv": "dep;nom\n01;Ain\n",
	})
	register(t, ws, "datasets/applicants.yaml", "datasets/deps.yaml")
	ingest(t, ws, "lab.applicants", pipelines.IngestOptions{})
	good := pseudoPipeline(t)
	missing, _ := pipelines.NewPseudonymiser(testKey, "", "no_such_column")
	cases := []struct {
		name   string
		change func(p *pipelines.Pipeline)
		is     error
		want   string
	}{
		{"name", func(p *pipelines.Pipeline) { p.Name = "Pseudo!" }, pipelines.ErrInvalid, "field Name"},
		{"no input", func(p *pipelines.Pipeline) { p.Inputs = nil }, pipelines.ErrInvalid, "field Inputs: invalid request: no input"},
		{"unknown input", func(p *pipelines.Pipeline) { p.Inputs = []string{"lab.nope"} }, pipelines.ErrInvalid, "lab.nope is not a dataset of the catalog"},
		{"level", func(p *pipelines.Pipeline) { p.Output.Access = catalog.Public }, pipelines.ErrRefused,
			"the output lab.applicants_pseudo would be public, below its inputs lab.applicants (non_public)"},
		{"level restricted", func(p *pipelines.Pipeline) { p.Output.Access = catalog.Restricted }, pipelines.ErrRefused, "lab.applicants (non_public)"},
		{"no title", func(p *pipelines.Pipeline) { p.Output.Title = "" }, catalog.ErrInvalid, "pipeline pseudo: field Output.title: missing"},
		{"bad id", func(p *pipelines.Pipeline) { p.Output.ID = "Nope" }, catalog.ErrInvalid, "field Output.id"},
		{"output is a file's", func(p *pipelines.Pipeline) { p.Output.ID = "lab.deps" }, pipelines.ErrInvalid, "lab.deps is registered from datasets/deps.yaml"},
		{"output is input", func(p *pipelines.Pipeline) { p.Output.ID = "lab.applicants" }, pipelines.ErrInvalid, "is also an input"},
		{"schedule", func(p *pipelines.Pipeline) { p.Schedule = "every day" }, pipelines.ErrInvalid, "field Schedule"},
		{"sql not an input", func(p *pipelines.Pipeline) {
			p.Step = pipelines.Step{SQL: "SELECT a.*, d.nom FROM lab.applicants a JOIN lab.deps d USING (dep)"}
		}, pipelines.ErrInvalid, "the query reads lab.deps, not among the inputs"},
		{"sql file", func(p *pipelines.Pipeline) { p.Step = pipelines.Step{SQL: "SELECT * FROM read_csv('/etc/passwd')"} }, pipelines.ErrInvalid, "read_csv"},
		{"sql not select", func(p *pipelines.Pipeline) { p.Step = pipelines.Step{SQL: "DELETE FROM lab.applicants"} }, pipelines.ErrInvalid, "one SELECT"},
		{"no step", func(p *pipelines.Pipeline) { p.Step = pipelines.Step{} }, pipelines.ErrInvalid, "field Step"},
		{"transform column", func(p *pipelines.Pipeline) { p.Step.Transform = missing }, pipelines.ErrInvalid, "no column no_such_column to pseudonymise; the columns are id, dep, amount"},
	}
	for _, c := range cases {
		p := good
		p.Inputs = append([]string(nil), good.Inputs...)
		c.change(&p)
		err := ws.AddPipeline(ctx, p)
		if !errors.Is(err, c.is) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %v with %q", c.name, err, c.is, c.want)
		}
	}
	if _, err := pipelines.NewPseudonymiser(testKey[:31], pipelines.PseudoHex, "id"); !errors.Is(err, pipelines.ErrWeakKey) ||
		strings.Contains(err.Error(), string(testKey[:31])) {
		t.Errorf("a 31-byte key: %v", err)
	}
	if ds, _ := ws.Catalog.Datasets(ctx); len(ds) != 2 || len(ws.Pipelines()) != 0 {
		t.Errorf("a refused pipeline left %d datasets, %d pipelines", len(ds), len(ws.Pipelines()))
	}

	// A cycle: a -> (p1) -> b -> (p2) -> c, then p1 made to read c.
	add := func(name, output string, inputs ...string) error {
		return ws.AddPipeline(ctx, pipelines.Pipeline{Name: name, Inputs: inputs,
			Output: catalog.Dataset{ID: output, Title: output, Publisher: "Lab"}, Step: pipelines.Step{SQL: "SELECT * FROM " + inputs[0]}})
	}
	if err := add("p1", "lab.b", "lab.applicants"); err != nil {
		t.Fatal(err)
	}
	if err := add("p2", "lab.c", "lab.b"); err != nil {
		t.Fatal(err)
	}
	err := add("p1", "lab.b", "lab.c")
	if !errors.Is(err, pipelines.ErrInvalid) || !strings.Contains(err.Error(), "dataset:lab.b -> pipeline:p2 -> dataset:lab.c -> pipeline:p1 -> dataset:lab.b") {
		t.Errorf("cycle: %v", err)
	}
	if err := add("p3", "lab.b", "lab.applicants"); err == nil || !strings.Contains(err.Error(), "lab.b is the output of pipeline p1") {
		t.Errorf("two pipelines writing one dataset: %v", err)
	}

	// A registration file cannot take a pipeline's output id, nor register
	// a pipeline's kind.
	writeFile(t, ws.Path("datasets/b.yaml"), strings.ReplaceAll(depsPublicReg, "lab.deps", "lab.b"))
	if _, err := ws.Register(ctx, "datasets/b.yaml"); !errors.Is(err, catalog.ErrInvalid) || !strings.Contains(err.Error(), "lab.b is the output of the pipeline p1") {
		t.Errorf("a file taking a pipeline's output: %v", err)
	}
	if _, err := ws.RunPipeline(ctx, "p1", pipelines.IngestOptions{}); err != nil {
		t.Errorf("the pipeline no longer runs: %v", err)
	}
	writeFile(t, ws.Path("datasets/c.yaml"), "id: lab.c\ntitle: C\npublisher: Lab\naccess: public\nsource: {kind: pipeline, pipeline: p2}\n")
	if _, err := ws.Register(ctx, "datasets/c.yaml"); err == nil || !strings.Contains(err.Error(), `unknown kind "pipeline"`) {
		t.Errorf("a file registering a pipeline's output: %v", err)
	}
}
