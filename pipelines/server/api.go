package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/datalab/datalab/catalog"
	"github.com/datalab/datalab/pipelines"
)

// apiSnapshot is a snapshot as the API shows it: its error withheld above
// public, and its cursor too (it is a value of the data).
type apiSnapshot struct {
	catalog.Snapshot
	ErrorWithheld bool `json:"error_withheld,omitempty"`
}

func newAPISnapshot(snap catalog.Snapshot, level catalog.Level) *apiSnapshot {
	out := &apiSnapshot{Snapshot: snap}
	if level != catalog.Public {
		out.ErrorWithheld = snap.Error != ""
		out.Error, out.Cursor = "", ""
	}
	return out
}

// apiRun is a run as the API shows it: its error withheld above public.
type apiRun struct {
	catalog.Run
	ErrorWithheld bool   `json:"error_withheld,omitempty"`
	Self          string `json:"self"`
}

func newAPIRun(r catalog.Run, level catalog.Level) apiRun {
	out := apiRun{Run: r, Self: "/api/runs/" + strconv.FormatInt(r.ID, 10)}
	if level != catalog.Public && r.Error != "" {
		out.Error, out.ErrorWithheld = "", true
	}
	return out
}

// apiDataset is a dataset as the API shows it: its registration (never a
// secret), its access-right and frequency URIs, and its snapshots.
type apiDataset struct {
	catalog.Dataset
	AccessURI    string `json:"access_uri"`
	FrequencyURI string `json:"frequency_uri,omitempty"`
	// LastSnapshot is the latest ingest, of any status; CurrentSnapshot the
	// one its table holds.
	LastSnapshot    *apiSnapshot `json:"last_snapshot"`
	CurrentSnapshot *apiSnapshot `json:"current_snapshot"`
	// Quality is set on a single dataset.
	Quality []finding `json:"quality,omitempty"`
	Links   struct {
		Self      string `json:"self"`
		Page      string `json:"page"`
		Snapshots string `json:"snapshots"`
		Lineage   string `json:"lineage"`
	} `json:"links"`
}

func newAPIDataset(e entry) apiDataset {
	out := apiDataset{Dataset: e.d, AccessURI: e.d.Access.URI(), FrequencyURI: catalog.FrequencyURI(e.d.Frequency)}
	if e.last != nil {
		out.LastSnapshot = newAPISnapshot(*e.last, e.d.Access)
	}
	if e.current != nil {
		out.CurrentSnapshot = newAPISnapshot(*e.current, e.d.Access)
	}
	esc := url.PathEscape(e.d.ID)
	out.Links.Self = "/api/datasets/" + esc
	out.Links.Page = "/datasets/" + esc
	out.Links.Snapshots = "/api/datasets/" + esc + "/snapshots"
	out.Links.Lineage = "/api/lineage/dataset:" + esc
	return out
}

func (s *server) apiDatasets(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	level, err := queryLevel(q.Get("level"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "query parameter "+err.Error(), "leave it out for every level")
		return
	}
	text := q.Get("q")
	if text == "" {
		text = q.Get("text")
	}
	es, _, err := s.entries(r.Context(), datasetFilter{Level: level, Publisher: q.Get("publisher"), Text: text})
	if err != nil {
		s.internal(w, r, err)
		return
	}
	out := make([]apiDataset, 0, len(es))
	for _, e := range es {
		out = append(out, newAPIDataset(e))
	}
	writeJSON(w, http.StatusOK, out)
}

// dataset finds the dataset of the request's {id}, or answers 404.
func (s *server) dataset(w http.ResponseWriter, r *http.Request) (catalog.Dataset, bool) {
	id := r.PathValue("id")
	d, err := s.ws.Catalog.Dataset(r.Context(), id)
	if errors.Is(err, catalog.ErrNotFound) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no dataset %q in the catalog", id), "GET /api/datasets lists the registered ones")
		return d, false
	}
	if err != nil {
		s.internal(w, r, err)
		return d, false
	}
	return d, true
}

func (s *server) apiDataset(w http.ResponseWriter, r *http.Request) {
	d, ok := s.dataset(w, r)
	if !ok {
		return
	}
	e, err := s.entry(r.Context(), d)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	out := newAPIDataset(e)
	if out.Quality, err = s.quality(r.Context(), e); err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *server) apiSnapshots(w http.ResponseWriter, r *http.Request) {
	d, ok := s.dataset(w, r)
	if !ok {
		return
	}
	limit, err := queryInt(r, "limit", 100, 0, 10000)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error(), "give a number of snapshots, 0 for all")
		return
	}
	snaps, err := s.ws.Catalog.Snapshots(r.Context(), d.ID, limit)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	out := make([]*apiSnapshot, 0, len(snaps))
	for _, snap := range snaps {
		out = append(out, newAPISnapshot(snap, d.Access))
	}
	writeJSON(w, http.StatusOK, out)
}

// registrationName is what a registration received by the API is called
// in its errors, where a file's name would be.
const registrationName = "body"

func (s *server) apiRegister(w http.ResponseWriter, r *http.Request) {
	if !s.requireAdmin(w, r) {
		return
	}
	data, ok := s.readBody(w, r)
	if !ok {
		return
	}
	if strings.TrimSpace(string(data)) == "" {
		writeError(w, http.StatusBadRequest, "the body is empty", "send a registration in YAML or JSON, as in datasets/*.yaml: id, title, publisher, access, source...")
		return
	}
	d, err := s.ws.CheckRegistration(registrationName, data)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, refusal(err))
		return
	}
	d.File = "" // received through the API: no file holds it
	old, err := s.ws.Catalog.Dataset(r.Context(), d.ID)
	exists := err == nil
	switch {
	case err != nil && !errors.Is(err, catalog.ErrNotFound):
		s.internal(w, r, err)
		return
	case exists && old.Source.Kind == pipelines.PipelineKind:
		writeError(w, http.StatusConflict, fmt.Sprintf("dataset %s is the output of a Go pipeline: the program registers it", d.ID),
			"change the pipeline's declaration, or give this registration another id")
		return
	case exists && old.File != "":
		writeError(w, http.StatusConflict, fmt.Sprintf("dataset %s is registered by the file %s of the workspace", d.ID, old.File),
			"edit that file and run `datalab dataset register "+old.File+"`, so that the file and the catalog agree; or give this registration another id")
		return
	}
	if err := s.ws.RegisterDatasets(r.Context(), d); err != nil {
		if errors.Is(err, catalog.ErrInvalid) {
			// The id is a declared pipeline's output.
			body := refusal(err)
			body.Status = http.StatusConflict
			writeJSON(w, http.StatusConflict, body)
			return
		}
		s.internal(w, r, err)
		return
	}
	d, err = s.ws.Catalog.Dataset(r.Context(), d.ID)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	e, err := s.entry(r.Context(), d)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	out := newAPIDataset(e)
	w.Header().Set("Location", out.Links.Self)
	status := http.StatusCreated
	if exists {
		status = http.StatusOK
	}
	s.log.Info().Str("dataset", d.ID).Bool("replaced", exists).Msg("dataset registered through the API")
	writeJSON(w, status, out)
}

// refusal turns the errors of a refused registration into the API's 400
// body: one entry per field, with the message the CLI would print.
func refusal(err error) apiError {
	out := apiError{Status: http.StatusBadRequest, Error: "the registration is refused", Fix: "fix the fields named and send it again"}
	var walk func(error)
	walk = func(err error) {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		var fe *catalog.FieldError
		if errors.As(err, &fe) {
			out.Fields = append(out.Fields, fieldError{Field: fe.Field, Line: fe.Line, Reason: fe.Reason, Fix: fe.Fix, Message: err.Error()})
			return
		}
		out.Fields = append(out.Fields, fieldError{Reason: err.Error(), Message: err.Error()})
	}
	walk(err)
	if len(out.Fields) == 1 {
		out.Error = "the registration is refused: " + out.Fields[0].Message
	} else {
		out.Error = fmt.Sprintf("the registration is refused: %d fields", len(out.Fields))
	}
	return out
}

func (s *server) apiIngest(w http.ResponseWriter, r *http.Request) {
	if !s.requireAdmin(w, r) {
		return
	}
	if _, ok := s.readBody(w, r); !ok {
		return
	}
	d, ok := s.dataset(w, r)
	if !ok {
		return
	}
	force, ok := forceParam(w, r)
	if !ok {
		return
	}
	run, err := s.startIngest(r.Context(), d, force)
	if s.refusedRun(w, r, err) {
		return
	}
	s.log.Info().Str("dataset", d.ID).Int64("run", run.ID).Bool("force", force).Msg("ingest started through the API")
	body := struct {
		Run   apiRun `json:"run"`
		Links struct {
			Run       string `json:"run"`
			Snapshots string `json:"snapshots"`
		} `json:"links"`
	}{Run: newAPIRun(run, d.Access)}
	body.Links.Run = body.Run.Self
	body.Links.Snapshots = "/api/datasets/" + url.PathEscape(d.ID) + "/snapshots"
	w.Header().Set("Location", body.Run.Self)
	writeJSON(w, http.StatusAccepted, body)
}

// apiStartRun starts a run of the job ?job= through Options.Launch.
func (s *server) apiStartRun(w http.ResponseWriter, r *http.Request) {
	if !s.requireAdmin(w, r) {
		return
	}
	if _, ok := s.readBody(w, r); !ok {
		return
	}
	if s.opts.Launch == nil {
		writeError(w, http.StatusServiceUnavailable, "this server starts no runs: no scheduler runs with it",
			"run `datalab serve`, whose scheduler starts them, or POST /api/datasets/{id}/ingest for an ingest")
		return
	}
	job, err := jobParam(r.URL.Query().Get("job"))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error(), "GET /api/runs shows the jobs that ran")
		return
	}
	force, ok := forceParam(w, r)
	if !ok {
		return
	}
	run, err := s.opts.Launch(job, pipelines.RunOptions{Force: force, Downstream: true, Cause: "POST /api/runs"})
	if s.refusedRun(w, r, err) {
		return
	}
	s.log.Info().Str("job", string(job)).Int64("run", run.ID).Bool("force", force).Msg("run started through the API")
	out := newAPIRun(run, s.ws.JobLevel(r.Context(), job, nil))
	w.Header().Set("Location", out.Self)
	writeJSON(w, http.StatusAccepted, struct {
		Run apiRun `json:"run"`
	}{out})
}

// jobParam reads the job named by ?job=: kind:name, of a dataset, a
// pipeline or a project.
func jobParam(v string) (catalog.Node, error) {
	job := catalog.Node(v)
	switch job.Kind() {
	case catalog.KindDataset, catalog.KindPipeline, catalog.KindProject:
	default:
		return "", fmt.Errorf("query parameter job %q: name a job as kind:name, of kind dataset, pipeline or project, e.g. project:delais or dataset:insee.regions", v)
	}
	if job.Name() == "" {
		return "", fmt.Errorf("query parameter job %q: the name is missing, e.g. project:delais", v)
	}
	return job, nil
}

// forceParam reads ?force=, false when absent; on a bad value it answers
// 400 and ok is false.
func forceParam(w http.ResponseWriter, r *http.Request) (force, ok bool) {
	v := r.URL.Query().Get("force")
	if v == "" {
		return false, true
	}
	force, err := strconv.ParseBool(v)
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("query parameter force %q is not a boolean", v), "use force=true or leave it out")
		return false, false
	}
	return force, true
}

// refusedRun answers the error of starting a run, if any, and says so.
func (s *server) refusedRun(w http.ResponseWriter, r *http.Request, err error) bool {
	var busy *pipelines.BusyError
	switch {
	case err == nil:
		return false
	case errors.As(err, &busy) && busy.Run != 0:
		w.Header().Set("Location", "/api/runs/"+strconv.FormatInt(busy.Run, 10))
		writeError(w, http.StatusConflict, err.Error(), "follow it at /api/runs/"+strconv.FormatInt(busy.Run, 10)+" and ask again once it is over")
	case errors.As(err, &busy):
		writeError(w, http.StatusConflict, err.Error(), "GET /api/runs lists the runs; ask again once it is over")
	case errors.Is(err, catalog.ErrNotFound):
		writeError(w, http.StatusNotFound, err.Error(), "GET /api/datasets lists the registered ones")
	case errors.Is(err, pipelines.ErrInvalid):
		writeError(w, http.StatusNotFound, err.Error(), "")
	default:
		s.internal(w, r, err)
	}
	return true
}

// runFilter reads the filters of /api/runs and /runs.
func runFilter(r *http.Request) (catalog.RunFilter, error) {
	q := r.URL.Query()
	var f catalog.RunFilter
	if st := q.Get("status"); st != "" {
		if !validStatus(st) {
			return f, fmt.Errorf("query parameter status %q: use one of %s", st, runStatuses())
		}
		f.Status = catalog.Status(st)
	}
	if tr := q.Get("trigger"); tr != "" {
		ok := false
		var names []string
		for _, t := range catalog.Triggers() {
			ok = ok || string(t) == tr
			names = append(names, string(t))
		}
		if !ok {
			return f, fmt.Errorf("query parameter trigger %q: use one of %s", tr, strings.Join(names, ", "))
		}
		f.Trigger = catalog.Trigger(tr)
	}
	if k := q.Get("kind"); k != "" {
		if k != catalog.KindDataset && k != catalog.KindPipeline && k != catalog.KindProject {
			return f, fmt.Errorf("query parameter kind %q: use dataset, pipeline or project", k)
		}
		f.Kind = k
	}
	if j := q.Get("job"); j != "" {
		n, err := jobParam(j)
		if err != nil {
			return f, err
		}
		f.Job = n
	}
	if since := q.Get("since"); since != "" {
		t, err := parseSince(since, time.Now())
		if err != nil {
			return f, err
		}
		f.Since = t
	}
	limit, err := queryInt(r, "limit", 100, 1, 1000)
	if err != nil {
		return f, err
	}
	f.Limit = limit
	return f, nil
}

// parseSince reads a duration back from now (90m, 24h, 7d) or a date
// (2026-01-31) or time (RFC 3339).
func parseSince(v string, now time.Time) (time.Time, error) {
	if days, ok := strings.CutSuffix(v, "d"); ok {
		if n, err := strconv.ParseFloat(days, 64); err == nil && n >= 0 {
			return now.Add(-time.Duration(n * 24 * float64(time.Hour))), nil
		}
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339, time.DateOnly} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("query parameter since %q: give a duration (90m, 24h, 7d), a date (2026-01-31) or an RFC 3339 time", v)
}

func queryInt(r *http.Request, name string, def, lo, hi int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("query parameter %s %q: give a whole number from %d to %d", name, v, lo, hi)
	}
	return n, nil
}

// runs returns the runs f selects, their errors withheld above public.
func (s *server) runs(r *http.Request, f catalog.RunFilter) ([]apiRun, error) {
	runs, err := s.ws.Catalog.Runs(r.Context(), f)
	if err != nil {
		return nil, err
	}
	levels, err := s.ws.DatasetLevels(r.Context())
	if err != nil {
		return nil, err
	}
	jobLevels := map[catalog.Node]catalog.Level{}
	out := make([]apiRun, 0, len(runs))
	for _, run := range runs {
		l, ok := jobLevels[run.Job]
		if !ok {
			l = s.ws.JobLevel(r.Context(), run.Job, levels)
			jobLevels[run.Job] = l
		}
		out = append(out, newAPIRun(run, l))
	}
	return out, nil
}

func (s *server) apiRuns(w http.ResponseWriter, r *http.Request) {
	f, err := runFilter(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error(), "")
		return
	}
	out, err := s.runs(r, f)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *server) apiRun(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no run %q: a run's id is a positive number", r.PathValue("id")), "GET /api/runs lists the runs")
		return
	}
	run, err := s.ws.Catalog.Run(r.Context(), id)
	if errors.Is(err, catalog.ErrNotFound) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no run %d", id), "GET /api/runs lists the runs")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	levels, err := s.ws.DatasetLevels(r.Context())
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newAPIRun(run, s.ws.JobLevel(r.Context(), run.Job, levels)))
}

func (s *server) apiLineage(w http.ResponseWriter, r *http.Request) {
	raw := r.PathValue("node")
	node := catalog.Node(raw)
	if !strings.Contains(raw, ":") {
		node = catalog.DatasetNode(raw)
	}
	format := r.URL.Query().Get("format")
	write := map[string]func(catalog.Graph, http.ResponseWriter) error{
		"":        func(g catalog.Graph, w http.ResponseWriter) error { writeJSON(w, http.StatusOK, g); return nil },
		"json":    func(g catalog.Graph, w http.ResponseWriter) error { writeJSON(w, http.StatusOK, g); return nil },
		"text":    func(g catalog.Graph, w http.ResponseWriter) error { textType(w); return g.WriteText(w) },
		"dot":     func(g catalog.Graph, w http.ResponseWriter) error { textType(w); return g.WriteDOT(w) },
		"mermaid": func(g catalog.Graph, w http.ResponseWriter) error { textType(w); return g.WriteMermaid(w) },
	}[format]
	if write == nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("query parameter format %q", format), "use json, text, dot or mermaid")
		return
	}
	g, err := s.ws.Catalog.Graph(r.Context(), node)
	if errors.Is(err, catalog.ErrNotFound) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no lineage recorded for %s", node),
			"name a node as kind:name (dataset:drees.ivg_mineures, cell:<project>/<notebook>/<cell>, indicator:<project>/<id>); escape / as %2F in a source's URL")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if g.Upstream == nil {
		g.Upstream = []catalog.Edge{}
	}
	if g.Downstream == nil {
		g.Downstream = []catalog.Edge{}
	}
	if err := write(g, w); err != nil {
		s.log.Warn().Err(err).Msg("writing the lineage failed")
	}
}

func textType(w http.ResponseWriter) { w.Header().Set("Content-Type", "text/plain; charset=utf-8") }

func (s *server) apiProjects(w http.ResponseWriter, r *http.Request) {
	ps, err := s.projects(r.Context(), "")
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if ps == nil {
		ps = []projectInfo{}
	}
	writeJSON(w, http.StatusOK, ps)
}

func (s *server) apiIndicators(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("project")
	ps, err := s.projects(r.Context(), name)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if len(ps) == 0 {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no project %q", name), "GET /api/projects lists the projects")
		return
	}
	level := catalog.Public
	if v := r.URL.Query().Get("level"); v != "" {
		if level, err = queryLevel(v); err != nil {
			writeError(w, http.StatusBadRequest, "query parameter "+err.Error(), "leave it out for the public indicators")
			return
		}
	}
	if level != catalog.Public {
		if aerr := s.authorize(r, true); aerr != nil {
			if aerr.status == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="datalab"`)
			}
			writeError(w, aerr.status, fmt.Sprintf("the indicators of %s at level %s are not public: %s", name, level, aerr.msg), aerr.fix)
			return
		}
	}
	data, err := os.ReadFile(filepath.Join(s.outputDir(level, name), pipelines.IndicatorsJSON))
	if errors.Is(err, os.ErrNotExist) {
		var levels []string
		for _, o := range ps[0].Outputs {
			levels = append(levels, o.Level.String())
		}
		fix := "run `datalab run " + name + "` to compute them"
		if len(levels) > 0 {
			fix = "the project publishes at " + strings.Join(levels, ", ") + ": ask ?level=" + levels[0]
		}
		writeError(w, http.StatusNotFound, fmt.Sprintf("project %s has published no indicators at level %s", name, level), fix)
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if level != catalog.Public {
		w.Header().Set("Cache-Control", "private, no-store")
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Write(data)
}

// dcatOptions are the DCAT options for a request: the base URL is the
// address the request came to, unless set.
func (s *server) dcatOptions(r *http.Request) catalog.DCATOptions {
	o := s.opts.DCAT
	if o.BaseURL == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		o.BaseURL = scheme + "://" + r.Host
	}
	return o
}

func (s *server) apiDCAT(w http.ResponseWriter, r *http.Request) {
	entries, err := s.ws.Catalog.DCATEntries(r.Context())
	if err != nil {
		s.internal(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/ld+json; charset=utf-8")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	enc.Encode(catalog.DCAT(entries, s.dcatOptions(r)))
}
