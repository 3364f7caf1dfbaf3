//go:build duckdb_arrow

package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/datalab/datalab/catalog"
	"github.com/datalab/datalab/pipelines"
	"github.com/datalab/datalab/pipelines/server"
)

// apiErr is the body of an error of the API.
type apiErr struct {
	Status int    `json:"status"`
	Error  string `json:"error"`
	Fix    string `json:"fix"`
	Fields []struct {
		Field, Reason, Fix, Message string
		Line                        int
	} `json:"fields"`
}

// wantError checks a response is the API's JSON error of that status, and
// that its message says want.
func wantError(t *testing.T, resp *http.Response, body string, status int, want string) apiErr {
	t.Helper()
	var e apiErr
	if resp.StatusCode != status {
		t.Errorf("%s %s: status %d, want %d: %s", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, status, body)
	}
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Errorf("%s %s: Content-Type %q, want JSON", resp.Request.Method, resp.Request.URL.Path, resp.Header.Get("Content-Type"))
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Status != status || e.Error == "" {
		t.Errorf("%s %s: the body is not an error that says what is wrong (%v): %s", resp.Request.Method, resp.Request.URL.Path, err, body)
	}
	if !strings.Contains(e.Error+" "+e.Fix, want) {
		t.Errorf("%s %s: the error does not say %q: %s", resp.Request.Method, resp.Request.URL.Path, want, body)
	}
	return e
}

func decode[T any](t *testing.T, resp *http.Response, body string, status int) T {
	t.Helper()
	var v T
	if resp.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d: %s", resp.Request.Method, resp.Request.URL, resp.StatusCode, status, body)
	}
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("%s %s: %v: %s", resp.Request.Method, resp.Request.URL, err, body)
	}
	return v
}

type dataset struct {
	ID           string `json:"id"`
	Access       string `json:"access"`
	AccessURI    string `json:"access_uri"`
	Publisher    string `json:"publisher"`
	LastSnapshot *struct {
		ID            int64  `json:"id"`
		Status        string `json:"status"`
		Error         string `json:"error"`
		ErrorWithheld bool   `json:"error_withheld"`
	} `json:"last_snapshot"`
	Quality []struct{ Severity, Message string } `json:"quality"`
}

func ids(ds []dataset) string {
	var out []string
	for _, d := range ds {
		out = append(out, d.ID)
	}
	return strings.Join(out, ",")
}

func TestReadEndpoints(t *testing.T) {
	f := newFixture(t, server.Options{AdminToken: testToken})

	// The catalog, filtered by level, publisher and text.
	for query, want := range map[string]string{
		"":                                 "lab.agents,lab.communes,lab.people,lab.secret_fail",
		"?level=non_public":                "lab.people,lab.secret_fail",
		"?level=public":                    "lab.communes",
		"?publisher=insee":                 "lab.communes",
		"?q=departements":                  "lab.communes", // accents ignored
		"?text=personnes&level=non_public": "lab.people",
		"?q=nothing-like-this":             "",
	} {
		resp, body := f.do(t, "GET", "/api/datasets"+query, "", nil)
		if got := ids(decode[[]dataset](t, resp, body, 200)); got != want {
			t.Errorf("GET /api/datasets%s = %s, want %s", query, got, want)
		}
	}
	resp, body := f.do(t, "GET", "/api/datasets?level=secret", "", nil)
	wantError(t, resp, body, 400, "use public, restricted or non_public")

	// One dataset, with its URIs and its quality findings.
	resp, body = f.do(t, "GET", "/api/datasets/lab.communes", "", nil)
	d := decode[dataset](t, resp, body, 200)
	if d.AccessURI != "http://publications.europa.eu/resource/authority/access-right/PUBLIC" || d.LastSnapshot == nil || d.LastSnapshot.Status != "succeeded" {
		t.Errorf("GET /api/datasets/lab.communes = %s", body)
	}
	resp, body = f.do(t, "GET", "/api/datasets/lab.agents", "", nil)
	d = decode[dataset](t, resp, body, 200)
	if len(d.Quality) < 2 || !strings.Contains(d.Quality[0].Message, "1 ligne écartée") || !strings.Contains(d.Quality[1].Message, "column grade breaks enum") {
		t.Errorf("lab.agents set a row aside: its quality should say so and by which rule: %+v", d.Quality)
	}
	// A failed ingest of a non_public dataset: failed, its error withheld.
	resp, body = f.do(t, "GET", "/api/datasets/lab.secret_fail", "", nil)
	d = decode[dataset](t, resp, body, 200)
	if d.LastSnapshot == nil || d.LastSnapshot.Status != "failed" || d.LastSnapshot.Error != "" || !d.LastSnapshot.ErrorWithheld {
		t.Errorf("the failed snapshot of a non_public dataset: %s", body)
	}
	resp, body = f.do(t, "GET", "/api/datasets/no.such", "", nil)
	wantError(t, resp, body, 404, `no dataset "no.such"`)

	resp, body = f.do(t, "GET", "/api/datasets/lab.people/snapshots", "", nil)
	if snaps := decode[[]map[string]any](t, resp, body, 200); len(snaps) != 1 || snaps[0]["status"] != "succeeded" || snaps[0]["rows"] != 60.0 {
		t.Errorf("GET /api/datasets/lab.people/snapshots = %s", body)
	}
	resp, body = f.do(t, "GET", "/api/datasets/no.such/snapshots", "", nil)
	wantError(t, resp, body, 404, `no dataset "no.such"`)
	resp, body = f.do(t, "GET", "/api/datasets/lab.people/snapshots?limit=many", "", nil)
	wantError(t, resp, body, 400, "query parameter limit")

	// Runs, filtered; errors above public withheld.
	resp, body = f.do(t, "GET", "/api/runs?status=failed&since=1h", "", nil)
	runs := decode[[]map[string]any](t, resp, body, 200)
	if len(runs) != 2 {
		t.Fatalf("GET /api/runs?status=failed = %s", body)
	}
	for _, r := range runs {
		switch r["job"] {
		case "dataset:lab.communes":
			if r["error"] != "source data/communes.csv: connection reset" {
				t.Errorf("the error of a public dataset's run is shown: %v", r)
			}
		case "dataset:lab.secret_fail":
			if r["error"] != nil || r["error_withheld"] != true {
				t.Errorf("the error of a non_public dataset's run is withheld: %v", r)
			}
		}
	}
	resp, body = f.do(t, "GET", "/api/runs?kind=project", "", nil)
	if runs := decode[[]map[string]any](t, resp, body, 200); len(runs) != 1 || runs[0]["job"] != "project:effectifs" {
		t.Errorf("GET /api/runs?kind=project = %s", body)
	}
	for query, want := range map[string]string{"status=done": "query parameter status", "since=yesterday": "query parameter since",
		"kind=table": "query parameter kind", "limit=0": "query parameter limit", "job=people": "query parameter job"} {
		resp, body = f.do(t, "GET", "/api/runs?"+query, "", nil)
		wantError(t, resp, body, 400, want)
	}
	resp, body = f.do(t, "GET", "/api/runs/1", "", nil)
	if r := decode[map[string]any](t, resp, body, 200); r["job"] != "dataset:lab.secret_fail" || r["error_withheld"] != true {
		t.Errorf("GET /api/runs/1 = %s", body)
	}
	for _, id := range []string{"999", "abc"} {
		resp, body = f.do(t, "GET", "/api/runs/"+id, "", nil)
		wantError(t, resp, body, 404, "no run")
	}

	// Lineage: by node, bare id, text formats, a source's URL escaped.
	resp, body = f.do(t, "GET", "/api/lineage/dataset:lab.people", "", nil)
	g := decode[catalog.Graph](t, resp, body, 200)
	if g.Node != "dataset:lab.people" || len(g.Upstream) != 1 || len(g.Downstream) < 4 {
		t.Errorf("GET /api/lineage/dataset:lab.people = %s", body)
	}
	resp, body = f.do(t, "GET", "/api/lineage/lab.people?format=dot", "", nil)
	if resp.StatusCode != 200 || !strings.HasPrefix(body, "digraph lineage") {
		t.Errorf("GET /api/lineage/lab.people?format=dot = %d %s", resp.StatusCode, body)
	}
	resp, body = f.do(t, "GET", "/api/lineage/cell:effectifs/effectifs/par_dep?format=mermaid", "", nil)
	if resp.StatusCode != 200 || !strings.HasPrefix(body, "flowchart LR") {
		t.Errorf("a cell's lineage: %d %s", resp.StatusCode, body)
	}
	src := string(g.Upstream[0].From)
	resp, body = f.do(t, "GET", "/api/lineage/"+url.PathEscape(src), "", nil)
	if g := decode[catalog.Graph](t, resp, body, 200); string(g.Node) != src {
		t.Errorf("the lineage of %s, escaped: %s", src, body)
	}
	resp, body = f.do(t, "GET", "/api/lineage/dataset:no.such", "", nil)
	wantError(t, resp, body, 404, "no lineage recorded for dataset:no.such")
	resp, body = f.do(t, "GET", "/api/lineage/lab.people?format=svg", "", nil)
	wantError(t, resp, body, 400, "use json, text, dot or mermaid")

	// Projects and their indicators; above public, only with the token.
	resp, body = f.do(t, "GET", "/api/projects", "", nil)
	projects := decode[[]struct {
		Name       string
		Report     string
		Indicators []struct{ ID string }
		Outputs    []struct {
			Level string
			Open  bool
			Files map[string]string
		}
	}](t, resp, body, 200)
	if len(projects) != 3 || projects[1].Name != "effectifs" || projects[1].Report != "/projects/effectifs/report" ||
		len(projects[1].Indicators) != 1 || projects[1].Outputs[0].Files["report.html"] != "/out/public/effectifs/report.html" ||
		projects[2].Outputs[0].Level != "non_public" || projects[2].Outputs[0].Open {
		t.Errorf("GET /api/projects = %s", body)
	}
	resp, body = f.do(t, "GET", "/api/projects/effectifs/indicators", "", nil)
	ind := decode[struct {
		Level      string
		Indicators []struct {
			ID         string
			Suppressed int
		}
	}](t, resp, body, 200)
	if ind.Level != "public" || len(ind.Indicators) != 1 || ind.Indicators[0].Suppressed == 0 {
		t.Errorf("GET /api/projects/effectifs/indicators (5 people in 48 are suppressed) = %s", body)
	}
	resp, body = f.do(t, "GET", "/api/projects/interne/indicators", "", nil)
	wantError(t, resp, body, 404, "?level=non_public")
	resp, body = f.do(t, "GET", "/api/projects/interne/indicators?level=non_public", "", nil)
	wantError(t, resp, body, 401, "Authorization: Bearer")
	if resp.Header.Get("WWW-Authenticate") == "" {
		t.Error("a 401 without WWW-Authenticate")
	}
	resp, body = f.do(t, "GET", "/api/projects/interne/indicators?level=non_public", "wrong-token", nil)
	wantError(t, resp, body, 403, "the token is wrong")
	resp, body = f.do(t, "GET", "/api/projects/interne/indicators?level=non_public", testToken, nil)
	if v := decode[map[string]any](t, resp, body, 200); v["level"] != "non_public" || resp.Header.Get("Cache-Control") != "private, no-store" {
		t.Errorf("the non_public indicators with the token: %s %v", body, resp.Header)
	}
	resp, body = f.do(t, "GET", "/api/projects/nope/indicators", "", nil)
	wantError(t, resp, body, 404, `no project "nope"`)
	resp, body = f.do(t, "GET", "/api/projects/effectifs/indicators?level=top", "", nil)
	wantError(t, resp, body, 400, "query parameter level")

	// The DCAT-AP catalog, its pages under the address asked.
	resp, body = f.do(t, "GET", "/api/catalog.jsonld", "", nil)
	doc := decode[struct {
		Type     string `json:"@type"`
		Datasets []struct {
			ID           string `json:"dct:identifier"`
			Distribution []struct {
				AccessURL struct {
					ID string `json:"@id"`
				} `json:"dcat:accessURL"`
			} `json:"dcat:distribution"`
		} `json:"dcat:dataset"`
	}](t, resp, body, 200)
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/ld+json") || doc.Type != "dcat:Catalog" || len(doc.Datasets) != 4 {
		t.Errorf("GET /api/catalog.jsonld: %s %s", resp.Header.Get("Content-Type"), body)
	}
	for _, d := range doc.Datasets {
		if want := f.srv.URL + "/datasets/" + d.ID; len(d.Distribution) != 1 || d.Distribution[0].AccessURL.ID != want {
			t.Errorf("%s: accessURL %+v, want its page %s", d.ID, d.Distribution, want)
		}
	}

	// Unknown endpoints and methods answer JSON too.
	resp, body = f.do(t, "GET", "/api/nothing", "", nil)
	wantError(t, resp, body, 404, "no such endpoint")
	resp, body = f.do(t, "DELETE", "/api/datasets/lab.people", testToken, nil)
	wantError(t, resp, body, 405, "DELETE is not allowed")
	if resp.Header.Get("Allow") != "GET" {
		t.Errorf("405 Allow = %q", resp.Header.Get("Allow"))
	}

	// Every response forbids scripts and framing.
	resp, _ = f.do(t, "GET", "/", "", nil)
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("security headers: %v", resp.Header)
	}
}

const goodRegistration = `id: api.regions
title: Régions
description: Les régions, enregistrées par l'API.
publisher: INSEE
contact: contact@example.org
access: public
frequency: yearly
source: {kind: csv, url: data/communes.csv}
`

func TestRegister(t *testing.T) {
	f := newFixture(t, server.Options{AdminToken: testToken, MaxBody: 4096})
	post := func(token, body string) (*http.Response, string) {
		return f.do(t, "POST", "/api/datasets", token, strings.NewReader(body), "Content-Type", "application/yaml")
	}

	resp, body := post("", goodRegistration)
	wantError(t, resp, body, 401, "Authorization: Bearer <token>")
	if resp.Header.Get("WWW-Authenticate") != `Bearer realm="datalab"` {
		t.Errorf("WWW-Authenticate = %q", resp.Header.Get("WWW-Authenticate"))
	}
	resp, body = post("not-the-token", goodRegistration)
	wantError(t, resp, body, 403, "the token is wrong")
	resp, body = f.do(t, "POST", "/api/datasets", "", strings.NewReader(goodRegistration), "Authorization", "Basic YWRtaW46YWRtaW4=")
	wantError(t, resp, body, 401, "not a bearer token")
	resp, body = post(testToken, "")
	wantError(t, resp, body, 400, "the body is empty")

	// Bad bodies: the CLI's messages, the field named, nothing registered.
	for _, c := range []struct{ name, body, field, want string }{
		{"yaml", "id: [unclosed\n", "", "body:"},
		{"access", strings.Replace(goodRegistration, "access: public", "access: secret", 1), "access", `body:6: field access: "secret" is not an access level; use public, restricted or non_public`},
		{"frequency", strings.Replace(goodRegistration, "frequency: yearly", "frequency: sometimes", 1), "frequency", `field frequency: "sometimes" is not a known frequency`},
		{"secret", strings.Replace(goodRegistration, "url: data/communes.csv", "url: data/communes.csv, password: hunter2", 1), "source.password", "must not hold a credential"},
		{"unknown", goodRegistration + "colour: blue\n", "colour", "unknown field"},
		{"json", `{"id": "api.x", "title": "X", "publisher": "P", "access": "nope", "source": {"kind": "csv", "url": "x.csv"}}`, "access", "is not an access level"},
	} {
		resp, body := post(testToken, c.body)
		e := wantError(t, resp, body, 400, c.want)
		if c.field != "" && (len(e.Fields) == 0 || e.Fields[0].Field != c.field) {
			t.Errorf("%s: the refused field is not named %s: %s", c.name, c.field, body)
		}
		if strings.Contains(body, "hunter2") {
			t.Errorf("%s: the refusal echoes the secret: %s", c.name, body)
		}
	}

	// Too large: refused before it is read, whether its length is announced or not.
	big := goodRegistration + "# " + strings.Repeat("x", 5000) + "\n"
	resp, body = post(testToken, big)
	wantError(t, resp, body, 413, "larger than 4096 bytes")
	resp, body = f.do(t, "POST", "/api/datasets", testToken, struct{ *strings.Reader }{strings.NewReader(big)})
	wantError(t, resp, body, 413, "larger than 4096 bytes")

	resp, body = f.do(t, "GET", "/api/datasets/api.regions", "", nil)
	wantError(t, resp, body, 404, "no dataset")

	// Registered: 201, then the same id again: 200.
	resp, body = post(testToken, goodRegistration)
	d := decode[map[string]any](t, resp, body, 201)
	if d["id"] != "api.regions" || resp.Header.Get("Location") != "/api/datasets/api.regions" || d["file"] != nil {
		t.Errorf("POST /api/datasets = %s, Location %q", body, resp.Header.Get("Location"))
	}
	resp, body = f.do(t, "GET", "/api/datasets/api.regions", "", nil)
	decode[map[string]any](t, resp, body, 200)
	resp, body = f.do(t, "POST", "/api/datasets", testToken,
		strings.NewReader(`{"id": "api.regions", "title": "Régions (JSON)", "publisher": "INSEE", "access": "restricted", "source": {"kind": "csv", "url": "data/communes.csv"}}`),
		"Content-Type", "application/json")
	if d := decode[map[string]any](t, resp, body, 200); d["title"] != "Régions (JSON)" || d["access"] != "restricted" {
		t.Errorf("re-registering: %s", body)
	}
	// A dataset registered by a file of the workspace is changed there.
	resp, body = post(testToken, strings.Replace(goodRegistration, "api.regions", "lab.communes", 1))
	wantError(t, resp, body, 409, "datasets/communes.yaml")

	// Wrong methods are not writes.
	resp, body = f.do(t, "PUT", "/api/datasets", testToken, strings.NewReader(goodRegistration))
	wantError(t, resp, body, 405, "use GET or POST")
}

func TestWriteAPIOff(t *testing.T) {
	f := newFixture(t, server.Options{})
	for _, path := range []string{"/api/datasets", "/api/datasets/lab.communes/ingest"} {
		for _, token := range []string{"", "anything"} {
			resp, body := f.do(t, "POST", path, token, strings.NewReader(goodRegistration))
			wantError(t, resp, body, 403, server.AdminTokenEnv)
		}
	}
	resp, body := f.do(t, "GET", "/out/non_public/interne/report.html", "anything", nil)
	wantError(t, resp, body, 403, server.AdminTokenEnv)
	// Reading stays open.
	resp, _ = f.do(t, "GET", "/api/datasets", "", nil)
	if resp.StatusCode != 200 {
		t.Errorf("GET /api/datasets without a token set: %d", resp.StatusCode)
	}
}

func TestIngestEndpoint(t *testing.T) {
	f := newFixture(t, server.Options{AdminToken: testToken, MaxBody: 1024})
	resp, body := f.do(t, "POST", "/api/datasets/lab.communes/ingest", "", nil)
	wantError(t, resp, body, 401, "Authorization: Bearer")
	resp, body = f.do(t, "POST", "/api/datasets/lab.communes/ingest", "wrong", nil)
	wantError(t, resp, body, 403, "the token is wrong")
	resp, body = f.do(t, "POST", "/api/datasets/no.such/ingest", testToken, nil)
	wantError(t, resp, body, 404, `no dataset "no.such"`)
	resp, body = f.do(t, "POST", "/api/datasets/lab.communes/ingest", testToken, strings.NewReader(strings.Repeat("x", 2000)))
	wantError(t, resp, body, 413, "larger than 1024 bytes")
	resp, body = f.do(t, "POST", "/api/datasets/lab.communes/ingest?force=often", testToken, nil)
	wantError(t, resp, body, 400, "query parameter force")

	// The source changed: the ingest started by the API loads it.
	if err := os.WriteFile(f.ws.Path("data/communes.csv"), []byte("code,dep,nom\n75056,75,Paris\n69123,69,Lyon\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	resp, body = f.do(t, "POST", "/api/datasets/lab.communes/ingest", testToken, nil)
	started := decode[struct {
		Run struct {
			ID     int64
			Job    string
			Status string
		}
		Links struct{ Run, Snapshots string }
	}](t, resp, body, 202)
	if started.Run.Status != "running" || started.Run.Job != "dataset:lab.communes" || resp.Header.Get("Location") != started.Links.Run ||
		!regexp.MustCompile(`^/api/runs/\d+$`).MatchString(started.Links.Run) {
		t.Fatalf("POST ingest = %s, Location %q", body, resp.Header.Get("Location"))
	}
	var run map[string]any
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, body = f.do(t, "GET", started.Links.Run, "", nil)
		run = decode[map[string]any](t, resp, body, 200)
		if run["status"] != "running" || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if run["status"] != "succeeded" || run["rows"] != 2.0 || run["snapshot"] == nil {
		t.Errorf("the ingest's run: %v", run)
	}
	resp, body = f.do(t, "GET", started.Links.Snapshots+"?limit=1", "", nil)
	if snaps := decode[[]map[string]any](t, resp, body, 200); len(snaps) != 1 || snaps[0]["id"] != run["snapshot"] || snaps[0]["rows"] != 2.0 {
		t.Errorf("the new snapshot: %s (run %v)", body, run)
	}
}

// TestRunEndpoint starts runs of jobs through a real scheduler, as
// `datalab serve` does.
func TestRunEndpoint(t *testing.T) {
	var sched *pipelines.Scheduler
	f := newFixture(t, server.Options{AdminToken: testToken, Launch: func(job catalog.Node, opts pipelines.RunOptions) (catalog.Run, error) {
		return sched.Launch(job, opts)
	}})
	var err error
	if sched, err = pipelines.NewScheduler(context.Background(), f.ws, pipelines.SchedulerOptions{}); err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		sched.Stop(ctx)
	}()
	resp, body := f.do(t, "POST", "/api/runs?job=project:effectifs", "", nil)
	wantError(t, resp, body, 401, "Authorization: Bearer")
	for query, want := range map[string]string{"": "query parameter job", "job=effectifs": "name a job as kind:name",
		"job=table:x": "name a job as kind:name", "job=project:": "the name is missing", "job=project:effectifs&force=often": "query parameter force"} {
		resp, body = f.do(t, "POST", "/api/runs?"+query, testToken, nil)
		wantError(t, resp, body, 400, want)
	}
	resp, body = f.do(t, "POST", "/api/runs?job=project:nope", testToken, nil)
	wantError(t, resp, body, 404, "no such job")

	resp, body = f.do(t, "POST", "/api/runs?job=project:effectifs&force=true", testToken, nil)
	started := decode[struct{ Run catalog.Run }](t, resp, body, 202)
	if started.Run.Status != catalog.Running || started.Run.Job != "project:effectifs" || started.Run.Cause != "POST /api/runs" ||
		resp.Header.Get("Location") != "/api/runs/"+strconv.FormatInt(started.Run.ID, 10) {
		t.Fatalf("POST /api/runs = %s, Location %q", body, resp.Header.Get("Location"))
	}
	// Asked again while it runs: refused, with the run under way.
	resp, body = f.do(t, "POST", "/api/runs?job=project:effectifs", testToken, nil)
	wantError(t, resp, body, 409, "already running")
	if resp.Header.Get("Location") != "/api/runs/"+strconv.FormatInt(started.Run.ID, 10) {
		t.Errorf("409's Location = %q, want run %d", resp.Header.Get("Location"), started.Run.ID)
	}
	var run catalog.Run
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, body = f.do(t, "GET", "/api/runs/"+strconv.FormatInt(started.Run.ID, 10), "", nil)
		run = decode[catalog.Run](t, resp, body, 200)
		if run.Status != catalog.Running || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if run.Status != catalog.Succeeded || run.Rows == 0 || run.Trigger != catalog.TriggerManual {
		t.Errorf("the project's run: %s", body)
	}
}

// TestRunEndpointWithoutScheduler: a server without Launch starts no runs.
func TestRunEndpointWithoutScheduler(t *testing.T) {
	f := newFixture(t, server.Options{AdminToken: testToken})
	resp, body := f.do(t, "POST", "/api/runs?job=project:effectifs", testToken, nil)
	wantError(t, resp, body, 503, "no scheduler")
}

// TestOutputs checks who reads the projects' files: anyone at public, the
// administrator above, by token or by the session of /login, which never
// opens the write API.
func TestOutputs(t *testing.T) {
	f := newFixture(t, server.Options{AdminToken: testToken})
	resp, body := f.do(t, "GET", "/out/public/effectifs/report.html", "", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, `<html lang="fr">`) || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("the public report: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	resp, body = f.do(t, "GET", "/out/public/effectifs/indicators.csv", "", nil)
	if resp.StatusCode != 200 || !strings.HasPrefix(body, "indicator,") {
		t.Errorf("the public CSV: %d %q", resp.StatusCode, body)
	}
	resp, _ = f.do(t, "GET", "/projects/effectifs/report", "", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/out/public/effectifs/report.html" {
		t.Errorf("/projects/effectifs/report: %d -> %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ = f.do(t, "GET", "/projects/nope/report", "", nil)
	if resp.StatusCode != 404 {
		t.Errorf("the report of no project: %d", resp.StatusCode)
	}

	const secret = "/out/non_public/interne/report.html"
	resp, body = f.do(t, "GET", secret, "", nil)
	wantError(t, resp, body, 401, "this needs the administrator's token")
	resp, body = f.do(t, "GET", secret, "", nil, "Accept", "text/html")
	if resp.StatusCode != 401 || !strings.Contains(body, "/login?next=") || strings.Contains(body, "Suivi interne") {
		t.Errorf("a browser without the token: %d %s", resp.StatusCode, body)
	}
	resp, body = f.do(t, "GET", secret, "wrong", nil)
	wantError(t, resp, body, 403, "the token is wrong")
	resp, body = f.do(t, "GET", secret, testToken, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "Suivi interne") || resp.Header.Get("Cache-Control") != "private, no-store" {
		t.Errorf("with the token: %d %v", resp.StatusCode, resp.Header)
	}
	for _, p := range []string{"/out/public/effectifs/notes.txt", "/out/secret/effectifs/report.html", "/out/public/effectifs/..%2F..%2F..%2Fprojects%2Feffectifs%2Feffectifs.md",
		"/out/public/Effectifs/report.html", "/out/public/nope/report.html", "/out/restricted/effectifs/report.html"} {
		resp, _ = f.do(t, "GET", p, testToken, nil)
		if resp.StatusCode != 404 {
			t.Errorf("GET %s: %d, want 404", p, resp.StatusCode)
		}
	}
	// A link planted in the outputs is not followed.
	resp, body = f.do(t, "GET", "/out/public/../../projects/effectifs/effectifs.md", "", nil)
	if strings.Contains(body, "```sql") {
		t.Error("a path with .. served a file of the workspace")
	}
	if err := os.Symlink(f.ws.Path("projects/effectifs/effectifs.md"), filepath.Join(f.ws.Path("out/public/effectifs"), "provenance.json.new")); err != nil {
		t.Fatal(err)
	}
	os.Remove(f.ws.Path("out/public/effectifs/provenance.json"))
	os.Rename(filepath.Join(f.ws.Path("out/public/effectifs"), "provenance.json.new"), f.ws.Path("out/public/effectifs/provenance.json"))
	resp, _ = f.do(t, "GET", "/out/public/effectifs/provenance.json", "", nil)
	if resp.StatusCode != 404 {
		t.Errorf("a symbolic link was served: %d", resp.StatusCode)
	}

	// Signing in: a wrong token is refused; the right one sets a session
	// that opens the outputs and never holds the token.
	form := func(token string) *strings.Reader {
		return strings.NewReader(url.Values{"token": {token}, "next": {secret}}.Encode())
	}
	resp, body = f.do(t, "POST", "/login", "", form("wrong"), "Content-Type", "application/x-www-form-urlencoded")
	if resp.StatusCode != 403 || !strings.Contains(body, "Ce jeton n’est pas le bon") || resp.Header.Get("Set-Cookie") != "" {
		t.Errorf("signing in with a wrong token: %d %v", resp.StatusCode, resp.Header)
	}
	resp, _ = f.do(t, "POST", "/login", "", form(testToken), "Content-Type", "application/x-www-form-urlencoded")
	cookie := resp.Header.Get("Set-Cookie")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != secret || !strings.Contains(cookie, "HttpOnly") ||
		!strings.Contains(cookie, "SameSite=Strict") || strings.Contains(cookie, testToken) {
		t.Fatalf("signing in: %d -> %q, cookie %q", resp.StatusCode, resp.Header.Get("Location"), cookie)
	}
	session, _, _ := strings.Cut(cookie, ";")
	resp, body = f.do(t, "GET", secret, "", nil, "Cookie", session)
	if resp.StatusCode != 200 || !strings.Contains(body, "Suivi interne") {
		t.Errorf("with the session: %d", resp.StatusCode)
	}
	resp, body = f.do(t, "GET", "/", "", nil, "Cookie", session)
	if !strings.Contains(body, "Administrateur connecté") {
		t.Error("the pages do not say the administrator is signed in")
	}
	resp, body = f.do(t, "POST", "/api/datasets", "", strings.NewReader(goodRegistration), "Cookie", session)
	wantError(t, resp, body, 401, "Authorization: Bearer")
	resp, body = f.do(t, "GET", secret, "", nil, "Cookie", "datalab_session=forged")
	wantError(t, resp, body, 403, "sign in again")
	resp, _ = f.do(t, "POST", "/login", "", strings.NewReader(url.Values{"token": {testToken}, "next": {"//evil.example/"}}.Encode()),
		"Content-Type", "application/x-www-form-urlencoded")
	if resp.Header.Get("Location") != "/" {
		t.Errorf("signing in redirects off the server: %q", resp.Header.Get("Location"))
	}
}

func TestPages(t *testing.T) {
	f := newFixture(t, server.Options{AdminToken: testToken})
	for _, c := range []struct {
		path   string
		status int
		want   []string
		not    []string
	}{
		{"/", 200, []string{`<html lang="fr">`, `<main id="contenu"`, `<label for="q">`, `<label for="level">`, `<label for="publisher">`,
			"4 jeux de données enregistrés.", `href="/datasets/lab.people"`, `class="level non-public">Non public`}, nil},
		{"/?level=non_public", 200, []string{"2 jeux de données sur 4", `<option value="non_public" selected>`, "lab.secret_fail"}, []string{"lab.communes"}},
		{"/?publisher=DRH&q=agents", 200, []string{"1 jeu de données sur 4", "lab.agents"}, []string{"lab.people"}},
		{"/?level=top", 200, []string{"Niveau d’accès inconnu", "4 jeux de données"}, nil},
		{"/datasets/lab.people", 200, []string{"<h1>Personnes suivies</h1>", `<svg class="lineage" role="img"`, "<title id=\"lignage-titre-svg\">",
			"Vient de", "Alimente", "projet effectifs", "ses lignes ne le sont jamais"}, nil},
		{"/datasets/lab.secret_fail", 200, []string{"détail masqué", "datalab dataset show lab.secret_fail", "Le dernier chargement (instantané"}, []string{canary}},
		{"/datasets/lab.agents", 200, []string{"1 ligne écartée", "column grade breaks enum"}, nil},
		{"/datasets/no.such", 404, []string{"Aucun jeu de données « no.such »"}, nil},
		{"/runs", 200, []string{"Exécutions récentes", "amont modifié", "connection reset", "détail masqué"}, []string{canary}},
		{"/runs?status=succeeded", 200, []string{"project:effectifs"}, []string{"connection reset"}},
		{"/projects", 200, []string{"Projet effectifs", `href="/out/public/effectifs/report.html"`, "réservé à l’administrateur", "Personnes suivies par département"}, nil},
		{"/login", 200, []string{`<label for="token">`, `type="password"`}, nil},
		{"/nowhere", 404, []string{"Cette page n’existe pas"}, nil},
	} {
		resp, body := f.do(t, "GET", c.path, "", nil)
		if resp.StatusCode != c.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Errorf("GET %s: %d %s, want %d HTML", c.path, resp.StatusCode, resp.Header.Get("Content-Type"), c.status)
		}
		for _, w := range c.want {
			if !strings.Contains(body, w) {
				t.Errorf("GET %s lacks %q", c.path, w)
			}
		}
		for _, w := range c.not {
			if strings.Contains(body, w) {
				t.Errorf("GET %s holds %q", c.path, w)
			}
		}
	}
}
