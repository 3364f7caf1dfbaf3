package pipelines

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/datalab/datalab/catalog"
)

// OpenLineage is datalab.yaml's openlineage block: where the OpenLineage
// run events of every ingest, pipeline and notebook run go, as they
// happen. Both may be set; neither means no event is emitted.
//
//	openlineage:
//	  file: lineage/events.ndjson               # appended, one event a line
//	  url: http://marquez:5000/api/v1/lineage   # each event POSTed as JSON
//	  api_key_env: OPENLINEAGE_API_KEY          # optional bearer token for url
//	  namespace: datalab                        # the jobs' namespace
type OpenLineage struct {
	// File, relative to the workspace, receives the events as NDJSON,
	// appended.
	File string `yaml:"file"`
	// URL receives each event in a POST (an OpenLineage HTTP endpoint).
	URL string `yaml:"url"`
	// APIKeyEnv names the environment variable that holds the token sent to
	// URL as "Authorization: Bearer"; never the token itself.
	APIKeyEnv string `yaml:"api_key_env"`
	// Namespace names datalab's jobs (default catalog.DefaultNamespace).
	Namespace string `yaml:"namespace"`
}

// openLineageTimeout bounds the POST of one event: emitting must not hold
// a run up.
const openLineageTimeout = 5 * time.Second

// Enabled reports whether events are emitted.
func (o OpenLineage) Enabled() bool { return o.File != "" || o.URL != "" }

// EventOptions returns how events name jobs and tables.
func (o OpenLineage) EventOptions() catalog.EventOptions {
	return catalog.EventOptions{Namespace: o.Namespace}
}

// Validate checks the block, naming the bad field.
func (o OpenLineage) Validate() error {
	if o.File != "" && (filepath.IsAbs(o.File) || strings.HasPrefix(filepath.Clean(o.File), "..")) {
		return fmt.Errorf("%s: field openlineage.file: %q must stay inside the workspace; give a relative path such as lineage/events.ndjson", ConfigFile, o.File)
	}
	if o.URL != "" {
		u, err := url.Parse(o.URL)
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			return fmt.Errorf("%s: field openlineage.url: %q is not an http(s) URL; give the collector's endpoint, e.g. http://marquez:5000/api/v1/lineage", ConfigFile, o.URL)
		case u.User != nil:
			return fmt.Errorf("%s: field openlineage.url: the URL holds credentials; remove them and name an environment variable that holds a token: api_key_env: OPENLINEAGE_API_KEY", ConfigFile)
		}
	}
	if o.APIKeyEnv != "" && o.URL == "" {
		return fmt.Errorf("%s: field openlineage.api_key_env: set without openlineage.url; give the URL the token is for, or remove it", ConfigFile)
	}
	return nil
}

// lineageFiles serialises the appends to event files: an event is one
// line, never mixed with another.
var lineageFiles sync.Mutex

// lineageClient posts events; its timeout bounds each POST.
var lineageClient = &http.Client{Timeout: openLineageTimeout}

// emitLineage sends ev where datalab.yaml says. A failure to emit is
// logged, never returned: lineage is reported, it does not decide whether
// a run succeeds.
func (w *Workspace) emitLineage(ctx context.Context, ev catalog.RunEvent) {
	cfg := w.Config.OpenLineage
	log := w.Log.With().Str("component", "openlineage").Str("job", ev.Job.Name).Str("event", string(ev.EventType)).Logger()
	if err := EmitLineage(context.WithoutCancel(ctx), w.Dir, cfg, ev); err != nil {
		log.Warn().Err(err).Msg("could not emit the OpenLineage event; the run goes on")
	}
}

// EmitLineage sends one event as cfg says: appended to cfg.File (relative
// to dir), POSTed to cfg.URL. It returns what failed.
func EmitLineage(ctx context.Context, dir string, cfg OpenLineage, ev catalog.RunEvent) error {
	data, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("openlineage: encode the event: %w", err)
	}
	var errs []error
	if cfg.File != "" {
		path := filepath.Join(dir, cfg.File)
		if err := appendLine(path, data); err != nil {
			errs = append(errs, fmt.Errorf("openlineage: append to %s: %w", cfg.File, err))
		}
	}
	if cfg.URL != "" {
		if err := postEvent(ctx, cfg, data); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func appendLine(path string, data []byte) error {
	lineageFiles.Lock()
	defer lineageFiles.Unlock()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if info, err := os.Lstat(path); err == nil && info.Mode()&os.ModeSymlink != 0 {
		return fmt.Errorf("%s is a symbolic link: %w", path, ErrRefused)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(data, '\n')); err != nil {
		return errors.Join(err, f.Close())
	}
	return f.Close()
}

func postEvent(ctx context.Context, cfg OpenLineage, data []byte) error {
	ctx, cancel := context.WithTimeout(ctx, openLineageTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.URL, bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("openlineage: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if cfg.APIKeyEnv != "" {
		key := os.Getenv(cfg.APIKeyEnv)
		if key == "" {
			return fmt.Errorf("openlineage: %s is empty or unset; set it to the collector's token, or remove api_key_env", cfg.APIKeyEnv)
		}
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := lineageClient.Do(req)
	if err != nil {
		// The error names the URL, which holds no credential (Validate).
		return fmt.Errorf("openlineage: POST: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("openlineage: POST %s: status %s", cfg.URL, resp.Status)
	}
	return nil
}

// emitSnapshotLineage emits the event of an ingest's snapshot as it
// stands: START when it begins, COMPLETE or FAIL when it ends. Ingest calls
// it at both ends; a pipeline's run is the ingest of its output.
func (w *Workspace) emitSnapshotLineage(ctx context.Context, snap catalog.Snapshot) {
	if !w.Config.OpenLineage.Enabled() || snap.ID == 0 {
		return
	}
	ev, err := w.Catalog.SnapshotEvent(context.WithoutCancel(ctx), w.Config.OpenLineage.EventOptions(), snap)
	if err != nil {
		w.Log.Warn().Str("component", "openlineage").Err(err).Int64("snapshot", snap.ID).Msg("could not build the OpenLineage event")
		return
	}
	w.emitLineage(ctx, ev)
}

// startProjectLineage emits the START event of a project's run and returns
// the function that emits its end, given what the run returned.
func (w *Workspace) startProjectLineage(ctx context.Context, project string) func(*RunResult, error) {
	cfg := w.Config.OpenLineage
	if !cfg.Enabled() {
		return func(*RunResult, error) {}
	}
	run := catalog.ProjectRun{RunID: catalog.NewRunID(), Project: project, Status: catalog.Running, Time: time.Now().UTC()}
	if inputs, err := w.projectReads(ctx, project); err == nil {
		run.Inputs = inputs
	}
	w.emitLineage(ctx, catalog.ProjectEvent(cfg.EventOptions(), run))
	return func(res *RunResult, err error) {
		run.Time, run.Status = time.Now().UTC(), catalog.Succeeded
		switch {
		case err != nil && ctx.Err() != nil:
			run.Status, run.Error = catalog.Cancelled, err.Error()
		case err != nil:
			run.Status, run.Error = catalog.Failed, err.Error()
		}
		if res != nil {
			for _, pub := range res.Publications {
				for _, in := range pub.Inputs {
					run.Inputs = append(run.Inputs, in.Dataset)
				}
			}
			for _, dir := range res.Dirs {
				for _, name := range []string{IndicatorsCSV, IndicatorsJSON, ReportHTML, ProvenanceJSON} {
					run.Outputs = append(run.Outputs, filepath.ToSlash(filepath.Join(dir, name)))
				}
			}
		}
		// The error is told only when every input is public.
		run.Level = catalog.Public
		ds, _ := w.Catalog.Datasets(context.WithoutCancel(ctx))
		for _, in := range run.Inputs {
			level := catalog.NonPublic // unknown: as protected as can be
			for _, d := range ds {
				if d.ID == in {
					level = d.Access
				}
			}
			run.Level = catalog.Max(run.Level, level)
		}
		w.emitLineage(ctx, catalog.ProjectEvent(cfg.EventOptions(), run))
	}
}
