//go:build duckdb_arrow

package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/datalab/datalab/catalog"
	"github.com/datalab/datalab/connectors"
	"github.com/datalab/datalab/connectors/csv"
	"github.com/datalab/datalab/pipelines"
	"github.com/datalab/datalab/pipelines/server"
)

// canary is a value of a row of a non_public dataset: no response may ever
// hold it.
const canary = "CANARY-7f3a9c"

// testToken is the administrator's token of the fixtures.
const testToken = "s3cret-admin-token-0123456789abcdef"

// peopleCSV is a non_public dataset of 60 people in 3 départements (40 in
// 75, 15 in 13, 5 in 48), one of them named with the canary.
func peopleCSV() string {
	var b strings.Builder
	b.WriteString("id;dep;nom\n")
	for i := range 60 {
		dep := "75"
		if i >= 40 {
			dep = "13"
		}
		if i >= 55 {
			dep = "48"
		}
		name := fmt.Sprintf("personne%02d", i)
		if i == 2 {
			name = canary
		}
		fmt.Fprintf(&b, "P%03d;%s;%s\n", i, dep, name)
	}
	return b.String()
}

var fixtureFiles = map[string]string{
	"datasets/communes.yaml": `id: lab.communes
title: Communes et départements
description: Les communes de démonstration avec leur département.
publisher: INSEE
contact: contact@example.org
access: public
license: etalab-2.0
frequency: yearly
source: {kind: csv, url: data/communes.csv}
schema:
  fields:
    - {name: code, title: Code commune, type: string, constraints: {required: true}}
    - {name: dep, type: string}
`,
	"data/communes.csv": "code,dep,nom\n75056,75,Paris\n13055,13,Marseille\n48095,48,Mende\n13001,13,Aix-en-Provence\n",
	"datasets/people.yaml": `id: lab.people
title: Personnes suivies
description: Une ligne par personne. Données personnelles.
publisher: Ministère de démonstration
contact: dpd@example.org
access: non_public
frequency: daily
source: {kind: csv, url: data/people.csv}
schema: {fields: [{name: dep, type: string}]}
`,
	"datasets/secret_fail.yaml": `id: lab.secret_fail
title: Extraction refusée
publisher: Ministère de démonstration
access: non_public
source: {kind: csv, url: data/secret_fail.csv}
schema: {fields: [{name: code, type: string, constraints: {pattern: "[0-9]+"}}]}
contract: freeze
`,
	"data/secret_fail.csv": "code;dep\n123;75\n" + canary + ";13\n456;48\n",
	"datasets/agents.yaml": `id: lab.agents
title: Agents habilités
publisher: DRH
access: restricted
frequency: monthly
source: {kind: csv, url: data/agents.csv}
schema: {fields: [{name: grade, type: string, constraints: {enum: [A, B, C]}}]}
contract: discard_row
`,
	"data/agents.csv": "matricule;grade\n1;A\n2;B\n3;Z\n4;C\n",
	"projects/effectifs/effectifs.md": "---\ntitle: Effectifs suivis\nowner: Datalab\npublish: public\n---\n\nLes effectifs par département.\n\n" +
		"```sql par_dep\nSELECT dep, count(*) AS n FROM lab.people GROUP BY dep\n```\n\n" +
		"```indicator\nid: effectif\nlabel: Personnes suivies par département\nunit: personnes\nfrom: par_dep\nvalue: n\nby: [dep]\ncount: n\n```\n",
	"projects/interne/interne.md": "---\ntitle: Suivi interne\npublish: non_public\n---\n\n" +
		"```sql total\nSELECT count(*) AS n FROM lab.people\n```\n\n" +
		"```indicator\nid: total\nlabel: Personnes suivies\nfrom: total\nvalue: n\n```\n",
	"projects/communes/communes.md": "---\ntitle: Communes par département\npublish: public\n---\n\n" +
		"```sql par_dep\nSELECT dep, count(*) AS n FROM lab.communes GROUP BY dep\n```\n\n" +
		"```indicator\nid: communes\nlabel: Communes par département\nfrom: par_dep\nvalue: n\nby: [dep]\ndirection: up\ntarget: 3\n```\n",
}

// fixture is a workspace with four datasets (public, restricted, two
// non_public, one of whose ingests failed quoting the canary), three
// projects run (public, public through disclosure control, non_public),
// and runs recorded, behind the handler.
type fixture struct {
	ws  *pipelines.Workspace
	h   http.Handler
	srv *httptest.Server
}

func newWorkspace(t *testing.T) *pipelines.Workspace {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{"data/people.csv": peopleCSV()}
	for k, v := range fixtureFiles {
		files[k] = v
	}
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	kinds := &connectors.Registry{}
	kinds.Add("csv", csv.New)
	ws, err := pipelines.Open(context.Background(), dir, pipelines.Options{Connectors: kinds, Log: zerolog.New(zerolog.NewTestWriter(t))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	return ws
}

func newFixture(t *testing.T, opts server.Options) *fixture {
	t.Helper()
	ctx := context.Background()
	ws := newWorkspace(t)
	if _, err := ws.Register(ctx, "datasets/communes.yaml", "datasets/people.yaml", "datasets/secret_fail.yaml", "datasets/agents.yaml"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"lab.communes", "lab.people", "lab.agents"} {
		if _, err := ws.Ingest(ctx, id, pipelines.IngestOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ws.Ingest(ctx, "lab.secret_fail", pipelines.IngestOptions{}); err == nil || !strings.Contains(err.Error(), canary) {
		t.Fatalf("the failing ingest should fail quoting the canary: %v", err)
	}
	for _, p := range []string{"effectifs", "interne", "communes"} {
		if _, err := ws.RunProject(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	// Runs as the scheduler records them, one failed quoting the canary.
	if _, err := ws.Catalog.AddRun(ctx, catalog.Run{Job: catalog.DatasetNode("lab.secret_fail"), Trigger: catalog.TriggerSchedule,
		Cause: "schedule @daily", Status: catalog.Failed, Attempts: 1, Error: "ingest lab.secret_fail: rows 2 (" + canary + ")"}); err != nil {
		t.Fatal(err)
	}
	if _, err := ws.Catalog.AddRun(ctx, catalog.Run{Job: catalog.DatasetNode("lab.communes"), Trigger: catalog.TriggerManual,
		Status: catalog.Failed, Attempts: 2, Error: "source data/communes.csv: connection reset"}); err != nil {
		t.Fatal(err)
	}
	if _, err := ws.Catalog.AddRun(ctx, catalog.Run{Job: catalog.NewNode(catalog.KindProject, "effectifs"), Trigger: catalog.TriggerUpstream,
		Cause: "new dataset:lab.people snapshot 2", Status: catalog.Succeeded, Rows: 3, Attempts: 1}); err != nil {
		t.Fatal(err)
	}
	opts.Log = zerolog.New(zerolog.NewTestWriter(t))
	f := &fixture{ws: ws, h: server.New(ws, opts)}
	f.srv = httptest.NewServer(f.h)
	t.Cleanup(f.srv.Close)
	return f
}

// do sends a request to the handler and returns the response and its body.
func (f *fixture) do(t *testing.T, method, path, token string, body io.Reader, headers ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(data)
}
