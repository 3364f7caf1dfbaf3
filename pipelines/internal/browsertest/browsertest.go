// Package browsertest runs datalab's pages in headless Chromium for tests:
// it finds the tools (Node.js, Debian's Chromium, the npm packages of
// pipelines/testdata/browser: playwright-core and axe-core), runs a check
// script there, and reports axe-core's findings and the screenshots.
package browsertest

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

// Chromium is where Debian's chromium package puts the browser.
const Chromium = "/usr/bin/chromium"

// Violation is an axe-core rule result: a violation, or a check to review
// by hand.
type Violation struct {
	ID      string `json:"id"`
	Impact  string `json:"impact"`
	Help    string `json:"help"`
	HelpURL string `json:"helpUrl"`
	Nodes   []struct {
		Target  []any  `json:"target"`
		Summary string `json:"summary"`
	} `json:"nodes"`
}

// String writes the rule, its help and the elements it found.
func (v Violation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): %s [%s]", v.ID, v.Impact, v.Help, v.HelpURL)
	for _, n := range v.Nodes {
		fmt.Fprintf(&b, "\n    %v: %s", n.Target, strings.ReplaceAll(n.Summary, "\n", " "))
	}
	return b.String()
}

// Run runs the Node.js script of dir (the folder of the npm packages) with
// args, Chromium's path in $CHROMIUM, and decodes what it prints as JSON
// into v. Without node, Chromium or the npm packages it skips t, saying how
// to install them, except under CI=true where it fails t.
func Run(t testing.TB, dir, script string, v any, args ...string) {
	t.Helper()
	node, err := exec.LookPath("node")
	var missing, install []string
	if err != nil {
		missing = append(missing, "node")
		install = append(install, "apt-get install -y nodejs npm")
	}
	if _, err := os.Stat(Chromium); err != nil {
		missing = append(missing, Chromium)
		install = append(install, "apt-get install -y chromium")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "playwright-core")); err != nil {
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
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append([]string{filepath.Join(dir, script)}, args...)...)
	cmd.Env = append(os.Environ(), "CHROMIUM="+Chromium)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node %s: %v\n%s", script, err, stderr.String())
	}
	if err := json.Unmarshal(stdout.Bytes(), v); err != nil {
		t.Fatalf("node %s printed %q: %v\n%s", script, stdout.String(), err, stderr.String())
	}
}

// KeepScreenshots logs the screenshots' paths and copies them to
// $DATALAB_SCREENSHOT_DIR when it is set, each name prefixed.
func KeepScreenshots(t testing.TB, prefix string, shots []string) {
	t.Helper()
	for _, shot := range shots {
		t.Logf("screenshot: %s", shot)
		out := os.Getenv("DATALAB_SCREENSHOT_DIR")
		if out == "" {
			continue
		}
		data, err := os.ReadFile(shot)
		if err == nil {
			err = os.MkdirAll(out, 0o755)
		}
		if err == nil {
			err = os.WriteFile(filepath.Join(out, prefix+filepath.Base(shot)), data, 0o644)
		}
		if err != nil {
			t.Errorf("copy the screenshot to DATALAB_SCREENSHOT_DIR: %v", err)
		}
	}
}

// Audit reports one page's axe-core results: it fails t on every violation
// and when no rule was checked, and logs what is left to review by hand.
func Audit(t testing.TB, page string, passes int, violations, incomplete []Violation) {
	t.Helper()
	t.Logf("%s: %d rules passed, %d violated, %d to review by hand", page, passes, len(violations), len(incomplete))
	for _, v := range incomplete {
		t.Logf("  to review: %s (%s) on %d elements: %s", v.ID, v.Impact, len(v.Nodes), v.Help)
	}
	for _, v := range violations {
		t.Errorf("%s: accessibility violation: %s", page, v)
	}
	if passes == 0 {
		t.Errorf("%s: axe-core checked no rule: the audit did not run", page)
	}
}
