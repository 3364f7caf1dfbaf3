//go:build duckdb_arrow

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// runCLI runs the command in-process and returns its exit status and
// outputs.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestDemoEndToEnd(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	code, out, errOut := runCLI(t, "demo", dir)
	if code != 0 {
		t.Fatalf("demo exited %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`demandes\.dossiers\s+non_public\s+200 000\s+succeeded`),
		regexp.MustCompile(`drees\.ivg_mineures\s+public\s+1 053\s+succeeded`),
		regexp.MustCompile(`insee\.departements\s+public\s+101\s+succeeded`),
		regexp.MustCompile(`insee\.populations_communes\s+public\s+34 900\s+succeeded`),
		regexp.MustCompile(`culture\.musees\s+public\s+1 221\s+succeeded`),
	} {
		if !want.MatchString(out) {
			t.Errorf("demo output lacks %s:\n%s", want, out)
		}
	}
	// Again on the same folder: nothing changed, nothing is reloaded.
	code, out, errOut = runCLI(t, "demo", dir)
	if code != 0 || strings.Contains(out, "succeeded") || !strings.Contains(out, "unchanged") {
		t.Errorf("second demo exited %d:\n%s\n%s", code, out, errOut)
	}

	code, out, _ = runCLI(t, "-w", dir, "dataset", "list")
	if code != 0 || !regexp.MustCompile(`demandes\.dossiers\s+non_public\s+Ministère de démonstration\s+200 000`).MatchString(out) {
		t.Errorf("dataset list exited %d:\n%s", code, out)
	}
	code, out, _ = runCLI(t, "-w", dir, "dataset", "show", "demandes.dossiers")
	for _, want := range []string{"non_public (http://publications.europa.eu/resource/authority/access-right/NON_PUBLIC)",
		"date_depot", "DATE", "Date de dépôt", "montant_accorde", "Montant accordé (€)", "unchanged", "succeeded"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("dataset show lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = runCLI(t, "-w", dir, "dataset", "show", "drees.ivg_mineures", "--format", "json")
	var shown struct {
		ID        string `json:"id"`
		Access    string `json:"access"`
		Snapshots []struct {
			Rows   int64  `json:"rows"`
			Status string `json:"status"`
		} `json:"snapshots"`
	}
	if err := json.Unmarshal([]byte(out), &shown); err != nil || code != 0 || shown.Access != "public" || len(shown.Snapshots) != 2 {
		t.Errorf("dataset show --format json: %v\n%s", err, out)
	}
	for format, want := range map[string]string{
		"text":    "dataset:insee.departements",
		"json":    `"kind": "ingest"`,
		"dot":     "digraph lineage",
		"mermaid": "flowchart LR",
	} {
		code, out, errOut := runCLI(t, "-w", dir, "lineage", "insee.departements", "--format", format)
		if code != 0 || !strings.Contains(out, want) || !strings.Contains(out, "cog-departements.csv") {
			t.Errorf("lineage --format %s exited %d:\n%s%s", format, code, out, errOut)
		}
	}
}

func TestExitStatuses(t *testing.T) {
	ws := t.TempDir()
	if code, out, errOut := runCLI(t, "init", ws); code != 0 {
		t.Fatalf("init exited %d: %s %s", code, out, errOut)
	}
	write := func(name, content string) {
		path := filepath.Join(ws, name)
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("data/a.csv", "code;n\n01;1\n02;2\n")
	write("datasets/a.yaml", "id: lab.a\ntitle: A\npublisher: Lab\naccess: public\nsource: {kind: csv, url: data/a.csv}\nschema: {fields: [{name: n, type: integer}]}\n")
	write("datasets/bad.yaml", "id: lab.b\ntitle: B\npublisher: Lab\naccess: open\nsource: {kind: csv, url: data/a.csv}\n")

	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"no-such-command"}, 2, "unknown command"},
		{[]string{"--no-such-flag"}, 2, "unknown flag"},
		{[]string{"-w", ws, "--log-level", "loud", "dataset", "list"}, 2, "--log-level"},
		{[]string{"-w", ws, "dataset", "show"}, 2, "accepts 1 arg"},
		{[]string{"-w", ws, "dataset", "register", "datasets/a.yaml", "datasets/bad.yaml"}, 2, `datasets/bad.yaml:4: field access: "open" is not an access level; use public, restricted or non_public`},
		{[]string{"-w", ws, "dataset", "list"}, 0, "ID"},
		{[]string{"-w", ws, "ingest"}, 2, "no dataset is registered"},
		{[]string{"-w", ws, "dataset", "register", "datasets/a.yaml"}, 0, "registered lab.a (public) from datasets/a.yaml"},
		{[]string{"-w", ws, "dataset", "show", "lab.nope"}, 2, "dataset lab.nope: not found"},
		{[]string{"-w", ws, "ingest", "lab.nope"}, 2, "not found"},
		{[]string{"-w", ws, "ingest", "lab.a"}, 0, "succeeded"},
		{[]string{"-w", ws, "lineage", "lab.a", "--format", "png"}, 2, "use text, json, dot or mermaid"},
		{[]string{"-w", ws, "lineage", "dataset:lab.nope"}, 2, "not found"},
		{[]string{"-w", filepath.Join(ws, "nope"), "dataset", "list"}, 2, "not a workspace"},
		{[]string{"init", ws}, 2, "is not empty"},
	}
	for _, c := range cases {
		code, out, errOut := runCLI(t, c.args...)
		if code != c.code || !strings.Contains(out+errOut, c.want) {
			t.Errorf("datalab %s: exit %d, want %d with %q\nstdout: %s\nstderr: %s", strings.Join(c.args, " "), code, c.code, c.want, out, errOut)
		}
	}
	// A failing ingest: exit 1, the error names the line and column.
	write("data/a.csv", "code;n\n01;1\n02;deux\n")
	code, out, errOut := runCLI(t, "-w", ws, "ingest", "--force", "lab.a")
	if code != 1 || !strings.Contains(errOut, "a.csv:3: column n") || !strings.Contains(out, "failed") {
		t.Errorf("failing ingest: exit %d\n%s\n%s", code, out, errOut)
	}
}

// A notebook that would publish a non_public dataset's values at public
// without a count: exit 1, the indicator and input named, nothing written.
func TestRunRefusedExitsOne(t *testing.T) {
	ws := t.TempDir()
	if code, out, errOut := runCLI(t, "init", ws); code != 0 {
		t.Fatalf("init: %d %s %s", code, out, errOut)
	}
	files := map[string]string{
		"data/p.csv":          "id;dep\n1;75\n2;75\n3;48\n",
		"datasets/p.yaml":     "id: lab.people\ntitle: P\npublisher: Lab\naccess: non_public\nsource: {kind: csv, url: data/p.csv}\n",
		"projects/x/count.md": "---\ntitle: T\npublish: public\n---\n```sql c\nSELECT dep, count(*) AS n FROM lab.people GROUP BY dep\n```\n```indicator\nid: n\nlabel: N\nfrom: c\nvalue: n\nby: [dep]\n```\n",
	}
	for name, content := range files {
		path := filepath.Join(ws, name)
		os.MkdirAll(filepath.Dir(path), 0o755)
		os.WriteFile(path, []byte(content), 0o644)
	}
	if code, out, errOut := runCLI(t, "-w", ws, "dataset", "register", "datasets/p.yaml"); code != 0 {
		t.Fatalf("register: %d %s %s", code, out, errOut)
	}
	code, out, errOut := runCLI(t, "-w", ws, "run", "x")
	if code != 1 || !strings.Contains(errOut, "projects/x/count.md:8: indicator n: refused: the notebook reads lab.people (non_public) and publishes at public") {
		t.Errorf("run: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "lab.people") || !strings.Contains(out, "succeeded") {
		t.Errorf("run did not ingest its input first:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(ws, "out", "public")); !os.IsNotExist(err) {
		t.Errorf("out/public exists after a refused run: %v", err)
	}
	if code, _, errOut := runCLI(t, "-w", ws, "run", "nope"); code != 2 || !strings.Contains(errOut, "project nope") {
		t.Errorf("unknown project: exit %d %s", code, errOut)
	}
}
