//go:build duckdb_arrow

package main

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files of the demo's outputs")

// Times change from run to run; everything else in the demo's outputs is
// the same for the same data and key.
var (
	isoTime    = regexp.MustCompile(`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})`)
	frenchTime = regexp.MustCompile(`\d{1,2}(er)? (janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre) \d{4} à \d{1,2} h \d{2}( UTC)?`)
)

func normalise(b []byte) []byte {
	b = isoTime.ReplaceAll(b, []byte("<time>"))
	return frenchTime.ReplaceAll(b, []byte("<date>"))
}

// The demo project's four output files, compared with golden copies in
// testdata/golden (refreshed with -update).
func TestDemoOutputsGolden(t *testing.T) {
	t.Setenv("DATALAB_PSEUDO_KEY", "golden-key-golden-key-golden-key-0123456789")
	dir := filepath.Join(t.TempDir(), "demo")
	if code, out, errOut := runCLI(t, "demo", dir); code != 0 {
		t.Fatalf("demo exited %d\n%s\n%s", code, out, errOut)
	}
	for _, name := range []string{"indicators.csv", "indicators.json", "report.html", "provenance.json"} {
		got, err := os.ReadFile(filepath.Join(dir, "out", "public", "delais", name))
		if err != nil {
			t.Fatal(err)
		}
		got = normalise(got)
		path := filepath.Join("testdata", "golden", "delais-"+name)
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v; run `go test -tags duckdb_arrow ./cmd/datalab -run TestDemoOutputsGolden -update`", err)
		}
		if string(got) != string(want) {
			wl, gl := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
			for i := range max(len(wl), len(gl)) {
				var w, g string
				if i < len(wl) {
					w = wl[i]
				}
				if i < len(gl) {
					g = gl[i]
				}
				if w != g {
					t.Errorf("%s differs from %s at line %d:\n-%.300s\n+%.300s\n(run with -update to accept)", name, path, i+1, w, g)
					break
				}
			}
		}
	}
}
