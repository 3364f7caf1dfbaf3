//go:build duckdb_arrow

package server_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/datalab/datalab/pipelines/internal/browsertest"
	"github.com/datalab/datalab/pipelines/server"
)

// browserDir holds the Node.js tooling of the browser tests
// (playwright-core, axe-core), shared with the report's test.
var browserDir = filepath.Join("..", "testdata", "browser")

// serverCheck is what testdata/browser/server_check.js prints.
type serverCheck struct {
	Axe  string   `json:"axe"`
	Tags []string `json:"tags"`
	Walk struct {
		CatalogStatus   int      `json:"catalogStatus"`
		CatalogRows     int      `json:"catalogRows"`
		FilteredURL     string   `json:"filteredURL"`
		FilteredRows    int      `json:"filteredRows"`
		FilteredBadges  []string `json:"filteredBadges"`
		SelectedLevel   string   `json:"selectedLevel"`
		FollowedTitle   string   `json:"followedTitle"`
		DatasetURL      string   `json:"datasetURL"`
		DatasetH1       string   `json:"datasetH1"`
		DatasetHasGraph int      `json:"datasetHasGraph"`
	} `json:"walk"`
	Audits []struct {
		URL        string                  `json:"url"`
		Violations []browsertest.Violation `json:"violations"`
		Incomplete []browsertest.Violation `json:"incomplete"`
		Passes     int                     `json:"passes"`
	} `json:"audits"`
	Requests    []string `json:"requests"`
	Screenshots []string `json:"screenshots"`
}

// TestPagesInBrowser serves the fixture on loopback and walks it in
// headless Chromium, scripts off: the catalog, filtered by level with its
// form, then the first dataset's page by its link, then the runs, projects
// and sign-in pages. axe-core must find no WCAG 2 A/AA violation on any of
// them, and no page may load anything from elsewhere. The screenshots stay
// in the test's temporary folder, and are copied to $DATALAB_SCREENSHOT_DIR
// when it is set. Without node, Chromium or the npm packages the test is
// skipped, except under CI=true where it fails.
func TestPagesInBrowser(t *testing.T) {
	f := newFixture(t, server.Options{AdminToken: testToken})
	dir := t.TempDir()
	var res serverCheck
	browsertest.Run(t, browserDir, "server_check.js", &res, f.srv.URL, "non_public", dir, filepath.Join(dir, "profile"),
		"/datasets/lab.communes", "/datasets/lab.agents", "/runs", "/projects", "/login")
	browsertest.KeepScreenshots(t, "server-", res.Screenshots)

	w := res.Walk
	if w.CatalogStatus != 200 || w.CatalogRows != 4 {
		t.Errorf("the catalog answered %d with %d datasets, want 200 and 4", w.CatalogStatus, w.CatalogRows)
	}
	if !strings.Contains(w.FilteredURL, "level=non_public") || w.SelectedLevel != "non_public" {
		t.Errorf("submitting the level filter led to %s (level selected: %q)", w.FilteredURL, w.SelectedLevel)
	}
	if w.FilteredRows != 2 || len(w.FilteredBadges) != 2 {
		t.Errorf("filtered by non_public: %d rows, badges %q; want the 2 non_public datasets", w.FilteredRows, w.FilteredBadges)
	}
	for _, b := range w.FilteredBadges {
		if b != "Non public" {
			t.Errorf("filtered by non_public, a row says %q", b)
		}
	}
	if !strings.HasSuffix(w.DatasetURL, "/datasets/lab.people") || w.DatasetH1 != w.FollowedTitle || w.DatasetH1 != "Personnes suivies" {
		t.Errorf("following %q led to %s, titled %q", w.FollowedTitle, w.DatasetURL, w.DatasetH1)
	}
	if w.DatasetHasGraph != 1 {
		t.Errorf("the dataset page has %d lineage graphs, want 1", w.DatasetHasGraph)
	}

	t.Logf("axe-core %s, tags %v", res.Axe, res.Tags)
	if len(res.Audits) < 8 {
		t.Errorf("axe audited %d pages, want the 8 visited", len(res.Audits))
	}
	for _, a := range res.Audits {
		browsertest.Audit(t, a.URL, a.Passes, a.Violations, a.Incomplete)
	}
	for _, u := range res.Requests {
		t.Errorf("a page requested %s: pages must load nothing from elsewhere", u)
	}
}
