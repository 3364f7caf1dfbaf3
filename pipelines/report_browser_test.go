package pipelines

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
)

// chromiumPath is where Debian's chromium package puts the browser.
const chromiumPath = "/usr/bin/chromium"

// browserResult is what testdata/browser/check.js prints.
type browserResult struct {
	Axe        string         `json:"axe"`
	Tags       []string       `json:"tags"`
	Violations []axeViolation `json:"violations"`
	Incomplete []axeViolation `json:"incomplete"`
	Passes     int            `json:"passes"`
	Requests   []string       `json:"requests"`
	// Screenshots are the full-page PNGs: wide screen, then a phone.
	Screenshots []string `json:"screenshots"`
}

type axeViolation struct {
	ID      string `json:"id"`
	Impact  string `json:"impact"`
	Help    string `json:"help"`
	HelpURL string `json:"helpUrl"`
	Nodes   []struct {
		Target  []any  `json:"target"`
		Summary string `json:"summary"`
	} `json:"nodes"`
}

func (v axeViolation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): %s [%s]", v.ID, v.Impact, v.Help, v.HelpURL)
	for _, n := range v.Nodes {
		fmt.Fprintf(&b, "\n    %v: %s", n.Target, strings.ReplaceAll(n.Summary, "\n", " "))
	}
	return b.String()
}

// TestReportBrowser opens the report in headless Chromium: it must load
// nothing but itself, and axe-core must find no WCAG 2 A/AA violation. The
// screenshots are left in the test's temporary folder, and copied to
// $DATALAB_SCREENSHOT_DIR when it is set. Without node, Chromium or the npm
// packages the test is skipped, except under CI=true where it fails.
func TestReportBrowser(t *testing.T) {
	browserDir := filepath.Join("testdata", "browser")
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

	dir := t.TempDir()
	report := filepath.Join(dir, ReportHTML)
	var buf bytes.Buffer
	if err := writeReport(&buf, reportPublication()); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(report, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	screenshot := filepath.Join(dir, "report.png")

	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(browserDir, "check.js"), report, screenshot, filepath.Join(dir, "profile"))
	cmd.Env = append(os.Environ(), "CHROMIUM="+chromiumPath)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node check.js: %v\n%s", err, stderr.String())
	}
	var res browserResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("node check.js printed %q: %v\n%s", stdout.String(), err, stderr.String())
	}

	for _, shot := range res.Screenshots {
		t.Logf("screenshot: %s", shot)
		if out := os.Getenv("DATALAB_SCREENSHOT_DIR"); out != "" {
			data, err := os.ReadFile(shot)
			if err == nil {
				err = os.MkdirAll(out, 0o755)
			}
			if err == nil {
				err = os.WriteFile(filepath.Join(out, filepath.Base(shot)), data, 0o644)
			}
			if err != nil {
				t.Errorf("copy the screenshot to DATALAB_SCREENSHOT_DIR: %v", err)
			}
		}
	}
	t.Logf("axe-core %s, tags %v: %d rules passed, %d violated, %d to review by hand",
		res.Axe, res.Tags, res.Passes, len(res.Violations), len(res.Incomplete))
	for _, v := range res.Incomplete {
		t.Logf("to review: %s (%s) on %d elements: %s", v.ID, v.Impact, len(v.Nodes), v.Help)
	}
	for _, v := range res.Violations {
		t.Errorf("accessibility violation: %s", v)
	}
	for _, u := range res.Requests {
		t.Errorf("the report requested %s: it must load nothing", u)
	}
	if res.Passes == 0 {
		t.Error("axe-core checked no rule: the audit did not run on the report")
	}
	if len(res.Screenshots) == 0 {
		t.Error("no screenshot was taken")
	}
}
