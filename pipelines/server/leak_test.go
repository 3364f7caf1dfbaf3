//go:build duckdb_arrow

package server_test

import (
	"context"
	"encoding/json"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/datalab/datalab/catalog"
	"github.com/datalab/datalab/pipelines/server"
)

// TestNoRowIsServed crawls every page and GET endpoint, following every
// link they give, as a stranger, with the token and with the session of
// /login: the canary, a value of a row of a non_public dataset that a
// failed ingest's error and a run's error quote, must never come back, nor
// the token.
func TestNoRowIsServed(t *testing.T) {
	f := newFixture(t, server.Options{AdminToken: testToken})
	ctx := context.Background()

	// The canary is there to be leaked: in a table, in a snapshot's error
	// and in a run's error of the catalog.
	var n int
	if err := f.ws.DB.QueryRowContext(ctx, `SELECT count(*) FROM lab.people WHERE nom = ?`, canary).Scan(&n); err != nil || n != 1 {
		t.Fatalf("the canary is not in lab.people: %d, %v", n, err)
	}
	snaps, err := f.ws.Catalog.Snapshots(ctx, "lab.secret_fail", 1)
	if err != nil || len(snaps) != 1 || !strings.Contains(snaps[0].Error, canary) {
		t.Fatalf("the failed snapshot does not quote the canary: %+v, %v", snaps, err)
	}
	runs, err := f.ws.Catalog.Runs(ctx, catalog.RunFilter{Job: catalog.DatasetNode("lab.secret_fail")})
	if err != nil || len(runs) != 1 || !strings.Contains(runs[0].Error, canary) {
		t.Fatalf("the failed run does not quote the canary: %+v, %v", runs, err)
	}

	resp, _ := f.do(t, "POST", "/login", "", strings.NewReader(url.Values{"token": {testToken}}.Encode()), "Content-Type", "application/x-www-form-urlencoded")
	session, _, _ := strings.Cut(resp.Header.Get("Set-Cookie"), ";")

	seeds := []string{
		"/", "/?level=non_public", "/?q=personnes", "/?publisher=Minist%C3%A8re+de+d%C3%A9monstration", "/runs", "/runs?status=failed",
		"/runs?kind=dataset&since=7d", "/projects", "/login", "/api/datasets", "/api/datasets?level=non_public", "/api/runs",
		"/api/runs?status=failed", "/api/runs?limit=1000", "/api/projects", "/api/catalog.jsonld",
		"/api/projects/effectifs/indicators", "/api/projects/interne/indicators?level=non_public",
		"/api/lineage/dataset:lab.people?format=text", "/api/lineage/dataset:lab.people?format=dot",
		"/api/lineage/dataset:lab.people?format=mermaid", "/api/lineage/dataset:lab.secret_fail",
		"/api/datasets/lab.secret_fail/snapshots?limit=0", "/api/datasets/lab.people/snapshots?limit=0",
		"/projects/effectifs/report", "/projects/interne/report",
	}
	for _, id := range []string{"lab.people", "lab.secret_fail", "lab.agents", "lab.communes"} {
		seeds = append(seeds, "/datasets/"+id, "/api/datasets/"+id, "/api/datasets/"+id+"/snapshots", "/api/lineage/"+id)
	}
	all, err := f.ws.Catalog.Runs(ctx, catalog.RunFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range all {
		seeds = append(seeds, "/api/runs/"+strconv.FormatInt(r.ID, 10))
	}
	for _, level := range catalog.Levels() {
		for _, p := range []string{"effectifs", "interne", "communes"} {
			for _, file := range []string{"report.html", "indicators.csv", "indicators.json", "provenance.json"} {
				seeds = append(seeds, "/out/"+level.String()+"/"+p+"/"+file)
			}
		}
	}

	href := regexp.MustCompile(`(?:href|action)="(/[^"]*)"`)
	for _, who := range []struct {
		name    string
		headers []string
		token   string
	}{{"a stranger", nil, ""}, {"the administrator's token", nil, testToken}, {"the administrator's session", []string{"Cookie", session}, ""}} {
		seen := map[string]bool{}
		queue := append([]string(nil), seeds...)
		crawled := 0
		for len(queue) > 0 {
			p := queue[0]
			queue = queue[1:]
			if seen[p] || strings.HasPrefix(p, "/logout") {
				continue
			}
			if len(seen) > 3000 {
				t.Fatalf("%s: the links never end: %s", who.name, p)
			}
			seen[p] = true
			crawled++
			headers := append([]string{"Accept", "text/html,application/json"}, who.headers...)
			resp, body := f.do(t, "GET", p, who.token, nil, headers...)
			if strings.Contains(body, canary) {
				t.Errorf("%s: GET %s (%d) serves a value of a non_public dataset's row", who.name, p, resp.StatusCode)
			}
			if strings.Contains(body, testToken) {
				t.Errorf("%s: GET %s echoes the token", who.name, p)
			}
			if loc := resp.Header.Get("Location"); strings.HasPrefix(loc, "/") {
				queue = append(queue, loc)
			}
			for _, m := range href.FindAllStringSubmatch(body, -1) {
				queue = append(queue, strings.ReplaceAll(m[1], "&amp;", "&"))
			}
			if strings.Contains(resp.Header.Get("Content-Type"), "json") {
				var v any
				if json.Unmarshal([]byte(body), &v) == nil {
					queue = append(queue, jsonLinks(v)...)
				}
			}
		}
		if crawled < 60 {
			t.Errorf("%s: crawled only %d addresses", who.name, crawled)
		}
		t.Logf("%s: crawled %d addresses", who.name, crawled)
	}
}

// jsonLinks returns every string of v that is a path of the server.
func jsonLinks(v any) []string {
	var out []string
	switch v := v.(type) {
	case string:
		if strings.HasPrefix(v, "/api/") || strings.HasPrefix(v, "/datasets/") || strings.HasPrefix(v, "/out/") || strings.HasPrefix(v, "/projects/") {
			out = append(out, v)
		}
	case []any:
		for _, e := range v {
			out = append(out, jsonLinks(e)...)
		}
	case map[string]any:
		for _, e := range v {
			out = append(out, jsonLinks(e)...)
		}
	}
	return out
}
