package pipelines

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/datalab/datalab/pipelines/internal/browsertest"
)

// browserResult is what testdata/browser/check.js prints.
type browserResult struct {
	Axe        string                  `json:"axe"`
	Tags       []string                `json:"tags"`
	Violations []browsertest.Violation `json:"violations"`
	Incomplete []browsertest.Violation `json:"incomplete"`
	Passes     int                     `json:"passes"`
	Requests   []string                `json:"requests"`
	// Screenshots are the full-page PNGs: wide screen, then a phone.
	Screenshots []string `json:"screenshots"`
}

// TestReportBrowser opens the report in headless Chromium: it must load
// nothing but itself, and axe-core must find no WCAG 2 A/AA violation. The
// screenshots are left in the test's temporary folder, and copied to
// $DATALAB_SCREENSHOT_DIR when it is set. Without node, Chromium or the npm
// packages the test is skipped, except under CI=true where it fails.
func TestReportBrowser(t *testing.T) {
	dir := t.TempDir()
	report := filepath.Join(dir, ReportHTML)
	var buf bytes.Buffer
	if err := writeReport(&buf, reportPublication()); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(report, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var res browserResult
	browsertest.Run(t, filepath.Join("testdata", "browser"), "check.js", &res,
		report, filepath.Join(dir, "report.png"), filepath.Join(dir, "profile"))
	browsertest.KeepScreenshots(t, "", res.Screenshots)
	t.Logf("axe-core %s, tags %v", res.Axe, res.Tags)
	browsertest.Audit(t, "report.html", res.Passes, res.Violations, res.Incomplete)
	for _, u := range res.Requests {
		t.Errorf("the report requested %s: it must load nothing", u)
	}
	if len(res.Screenshots) == 0 {
		t.Error("no screenshot was taken")
	}
}
