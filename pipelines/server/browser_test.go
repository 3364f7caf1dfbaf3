//go:build duckdb_arrow

package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/datalab/datalab/pipelines/server"
)

// chromiumPath is where Debian's chromium package puts the browser.
const chromiumPath = "/usr/bin/chromium"

// browserDir holds the Node.js tooling of the browser tests
// (playwright-core, axe-core), shared with the report's test.
var browserDir = filepath.Join("..", "testdata", "browser")

type axeResult struct {
	ID      string `json:"id"`
	Impact  string `json:"impact"`
	Help    string `json:"help"`
	HelpURL string `json:"helpUrl"`
	Nodes   []struct {
		Target  []any  `json:"target"`
		Summary string `json:"summary"`
	} `json:"nodes"`
}

func (v axeResult) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): %s [%s]", v.ID, v.Impact, v.Help, v.HelpURL)
	for _, n := range v.Nodes {
		fmt.Fprintf(&b, "\n    %v: %s", n.Target, strings.ReplaceAll(n.Summary, "\n", " "))
	}
	return b.String()
}

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
		URL        string      `json:"url"`
		Violations []axeResult `json:"violations"`
		Incomplete []axeResult `json:"incomplete"`
		Passes     int         `json:"passes"`
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
	node, err := exec.LookPath("node")
	var missing, install []string
	if err != nil {
		missing = append(missing, "node")
		install = append(install, "apt-get install -y nodejs npm")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		missing = append(missing, chromiumPath)
		install = append(install, "apt-get install -y chromium")
	}
	if _, err := os.Stat(filepath.Join(browserDir, "node_modules", "playwright-core")); err != nil {
		missing = append(missing, "pipelines/testdata/browser/node_modules")
		install = append(install, "npm ci --prefix pipelines/testdata/browser")
	}
	if len(missing) > 0 {
		msg := fmt.Sprintf("the browser test needs %s; from the repository's root, run: %s",
			strings.Join(missing, ", "), strings.Join(install, " && "))
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}

	f := newFixture(t, server.Options{AdminToken: testToken})
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(browserDir, "server_check.js"), f.srv.URL, "non_public", dir, filepath.Join(dir, "profile"),
		"/datasets/lab.communes", "/datasets/lab.agents", "/runs", "/projects", "/login")
	cmd.Env = append(os.Environ(), "CHROMIUM="+chromiumPath)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node server_check.js: %v\n%s", err, stderr.String())
	}
	var res serverCheck
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("node server_check.js printed %q: %v\n%s", stdout.String(), err, stderr.String())
	}

	for _, shot := range res.Screenshots {
		t.Logf("screenshot: %s", shot)
		if out := os.Getenv("DATALAB_SCREENSHOT_DIR"); out != "" {
			data, err := os.ReadFile(shot)
			if err == nil {
				err = os.MkdirAll(out, 0o755)
			}
			if err == nil {
				err = os.WriteFile(filepath.Join(out, "server-"+filepath.Base(shot)), data, 0o644)
			}
			if err != nil {
				t.Errorf("copy the screenshot to DATALAB_SCREENSHOT_DIR: %v", err)
			}
		}
	}

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
		t.Logf("%s: %d rules passed, %d violated, %d to review by hand", a.URL, a.Passes, len(a.Violations), len(a.Incomplete))
		for _, v := range a.Incomplete {
			t.Logf("  to review: %s (%s) on %d elements: %s", v.ID, v.Impact, len(v.Nodes), v.Help)
		}
		for _, v := range a.Violations {
			t.Errorf("%s: accessibility violation: %s", a.URL, v)
		}
		if a.Passes == 0 {
			t.Errorf("%s: axe-core checked no rule", a.URL)
		}
	}
	for _, u := range res.Requests {
		t.Errorf("a page requested %s: pages must load nothing from elsewhere", u)
	}
}
