//go:build duckdb_arrow

package pipelines_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/datalab/datalab/pipelines"
)

// No query can read or write a file, attach a database, load an extension,
// or turn that back on: datalab reads sources itself.
func TestWarehouseCannotReachFiles(t *testing.T) {
	ws := newWorkspace(t, nil)
	for _, q := range []string{
		"SELECT * FROM read_csv('/etc/passwd')",
		"SELECT * FROM '/etc/passwd'",
		"COPY (SELECT 1) TO '" + ws.Path("leak.csv") + "'",
		"ATTACH '" + ws.Path("other.duckdb") + "'",
		"INSTALL httpfs",
		"SET enable_external_access = true",
		"RESET enable_external_access",
	} {
		if _, err := ws.DB.Exec(q); err == nil {
			t.Errorf("%s: accepted", q)
		}
	}
}

func TestConfig(t *testing.T) {
	cases := []struct{ yaml, want string }{
		{"", ""},
		{"warehouse: ../elsewhere.duckdb\n", "field warehouse"},
		{"output: /tmp/out\n", "field output"},
		{"disclosure: {min_count: -3}\n", "field disclosure.min_count"},
		{"outputs: x\n", "unknown field"},
	}
	for _, c := range cases {
		files := map[string]string{}
		if c.yaml != "" {
			files["datalab.yaml"] = c.yaml
		}
		dir := t.TempDir()
		for name, content := range files {
			writeFile(t, dir+"/"+name, content)
		}
		cfg, err := pipelines.LoadConfig(dir)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%q: %v", c.yaml, err)
		case c.want == "" && (cfg.Warehouse != "warehouse.duckdb" || cfg.Output != "out" || cfg.Disclosure.MinCount != 11):
			t.Errorf("defaults = %+v", cfg)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "datalab.yaml")):
			t.Errorf("%q: error %v, want %q", c.yaml, err, c.want)
		}
	}
	if _, err := pipelines.Open(context.Background(), t.TempDir()+"/none", pipelines.Options{}); !errors.Is(err, pipelines.ErrNoWorkspace) {
		t.Errorf("open of a missing folder: %v", err)
	}
}
