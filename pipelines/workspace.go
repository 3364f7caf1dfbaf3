package pipelines

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/goccy/go-yaml"
	"github.com/rs/zerolog"

	"github.com/datalab/datalab/catalog"
	"github.com/datalab/datalab/connectors"
)

// ConfigFile is the workspace's optional configuration file.
const ConfigFile = "datalab.yaml"

// Config is a workspace's datalab.yaml. Zero fields take their defaults.
type Config struct {
	// Warehouse is the DuckDB file, relative to the workspace
	// (default warehouse.duckdb).
	Warehouse string `yaml:"warehouse"`
	// Output is the folder of indicator files, relative to the workspace
	// (default out).
	Output string `yaml:"output"`
	// Disclosure is the statistical disclosure control of outputs published
	// below their inputs' level.
	Disclosure Disclosure `yaml:"disclosure"`
	// OpenLineage says where the run events of ingests, pipelines and
	// notebooks go; none are emitted when it is empty.
	OpenLineage OpenLineage `yaml:"openlineage"`
}

// Disclosure configures disclosure control.
type Disclosure struct {
	// MinCount is the least number of units a published value may be built
	// from (default 11).
	MinCount int `yaml:"min_count"`
}

// The defaults of Config.
const (
	DefaultWarehouse = "warehouse.duckdb"
	DefaultOutput    = "out"
	DefaultMinCount  = 11
)

// withDefaults fills the zero fields of c.
func (c Config) withDefaults() Config {
	if c.Warehouse == "" {
		c.Warehouse = DefaultWarehouse
	}
	if c.Output == "" {
		c.Output = DefaultOutput
	}
	if c.Disclosure.MinCount == 0 {
		c.Disclosure.MinCount = DefaultMinCount
	}
	return c
}

// Validate checks c, naming the first bad field.
func (c Config) Validate() error {
	for field, p := range map[string]string{"warehouse": c.Warehouse, "output": c.Output} {
		if filepath.IsAbs(p) || strings.HasPrefix(filepath.Clean(p), "..") {
			return fmt.Errorf("%s: field %s: %q must stay inside the workspace; give a relative path such as %q", ConfigFile, field, p, map[string]string{"warehouse": DefaultWarehouse, "output": DefaultOutput}[field])
		}
	}
	if c.Disclosure.MinCount < 1 {
		return fmt.Errorf("%s: field disclosure.min_count: %d is not a count; give a positive number of units (default %d)", ConfigFile, c.Disclosure.MinCount, DefaultMinCount)
	}
	if err := c.OpenLineage.Validate(); err != nil {
		return err
	}
	return nil
}

// LoadConfig reads dir's datalab.yaml, or returns the defaults when there is
// none.
func LoadConfig(dir string) (Config, error) {
	var c Config
	data, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return Config{}, fmt.Errorf("read %s: %w", ConfigFile, err)
	default:
		if err := yaml.UnmarshalWithOptions(data, &c, yaml.Strict()); err != nil {
			return Config{}, fmt.Errorf("%s: %s; the fields are warehouse, output, disclosure.min_count and openlineage (file, url, api_key_env, namespace)", ConfigFile, yaml.FormatError(err, false, false))
		}
	}
	c = c.withDefaults()
	return c, c.Validate()
}

// Workspace is an open workspace: its configuration, its warehouse and the
// catalog in it, and the pipelines added to it. A Workspace is safe for
// concurrent use: reads run concurrently, while the writes to the
// warehouse (ingests, pipeline runs, project runs, pipeline registrations)
// run one at a time, since DuckDB has one writer.
type Workspace struct {
	// Dir is the workspace folder, absolute.
	Dir    string
	Config Config
	// DB is the warehouse. It is closed by Close.
	DB      *sql.DB
	Catalog *catalog.Store
	// Connectors builds the Source of each registration.
	Connectors *connectors.Registry
	Log        zerolog.Logger

	// writes holds one token: the right to write to the warehouse.
	writes chan struct{}
	// pipelines are the pipelines added, by name.
	pmu       sync.RWMutex
	pipelines map[string]*registeredPipeline
}

// lockWrites waits for the right to write to the warehouse, or for ctx to
// be done. The caller calls unlock when it has finished writing.
func (w *Workspace) lockWrites(ctx context.Context) (unlock func(), err error) {
	select {
	case w.writes <- struct{}{}:
		return func() { <-w.writes }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for another write to the warehouse to finish: %w", ctx.Err())
	}
}

// Options are what Open needs besides the folder.
type Options struct {
	// Connectors are the source kinds the workspace can read.
	Connectors *connectors.Registry
	// Log receives the workspace's logs; the zero Logger discards them.
	Log zerolog.Logger
}

// Open opens the workspace in dir: it reads datalab.yaml, opens (or
// creates) the warehouse and its catalog, and marks as failed the ingests a
// stopped process left running.
func Open(ctx context.Context, dir string, opts Options) (*Workspace, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("workspace %s: %w", dir, err)
	}
	if info, err := os.Stat(abs); err != nil || !info.IsDir() {
		return nil, fmt.Errorf("workspace %s is not a folder: %w", abs, ErrNoWorkspace)
	}
	cfg, err := LoadConfig(abs)
	if err != nil {
		return nil, fmt.Errorf("workspace %s: %w", abs, err)
	}
	if opts.Connectors == nil {
		opts.Connectors = &connectors.Registry{}
	}
	w := &Workspace{Dir: abs, Config: cfg, Connectors: opts.Connectors,
		Log: opts.Log.With().Str("component", "workspace").Logger(), writes: make(chan struct{}, 1)}
	path := w.Path(cfg.Warehouse)
	// datalab does every read of files and URLs itself, in Go: DuckDB never
	// needs to, so a query (a notebook's cell) cannot read a file, attach a
	// database, copy a table out or load an extension, and cannot turn that
	// back on.
	db, err := sql.Open("duckdb", path+"?enable_external_access=false&lock_configuration=true")
	if err == nil {
		err = db.PingContext(ctx)
	}
	if err != nil {
		if db != nil {
			db.Close()
		}
		if strings.Contains(err.Error(), "lock") {
			return nil, lockError(path, err)
		}
		return nil, fmt.Errorf("open warehouse %s: %w", path, err)
	}
	w.DB = db
	if w.Catalog, err = catalog.Open(ctx, db); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	n, err := w.Catalog.Recover(ctx)
	if err != nil {
		return nil, errors.Join(err, db.Close())
	}
	if n > 0 {
		w.Log.Warn().Int64("snapshots", n).Msg("ingests interrupted by a stopped process were marked failed; their previous snapshots stand")
	}
	runs, err := w.Catalog.RecoverRuns(ctx)
	if err != nil {
		return nil, errors.Join(err, db.Close())
	}
	if runs > 0 {
		w.Log.Warn().Int64("runs", runs).Msg("runs interrupted by a stopped process were marked failed")
	}
	return w, nil
}

// lockHolder finds, in DuckDB's lock error, the process that holds the
// warehouse: "... Conflicting lock is held in /usr/bin/datalab (PID 1234)
// by user ...".
var lockHolder = regexp.MustCompile(`Conflicting lock is held in (.*?) \(PID (\d+)\)`)

// lockError says which process holds the warehouse, and what to do.
func lockError(path string, err error) error {
	holder, stop := "another process", "stop it (e.g. `datalab serve`)"
	if m := lockHolder.FindStringSubmatch(err.Error()); m != nil {
		holder = fmt.Sprintf("process %s (%s)", m[2], m[1])
		stop = fmt.Sprintf("stop it (`kill %s` stops `datalab serve` cleanly)", m[2])
	}
	return fmt.Errorf("warehouse %s is open for writing by %s, and DuckDB lets one process write to it at a time: %s or wait for it to finish, then try again; "+
		"while `datalab serve` runs, ask it for runs through its API instead (POST /api/runs?job=project:NAME, POST /api/datasets/ID/ingest) (%w)",
		path, holder, stop, err)
}

// Path returns the absolute path of rel, a path relative to the workspace.
func (w *Workspace) Path(rel string) string { return filepath.Join(w.Dir, rel) }

// Close closes the warehouse.
func (w *Workspace) Close() error { return w.DB.Close() }
