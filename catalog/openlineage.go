package catalog

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// OpenLineage run events (https://openlineage.io/spec/2-0-2/OpenLineage.json)
// describe each ingest, pipeline and notebook run for lineage tools
// (Marquez, DataHub, OpenMetadata): the job, the run, the datasets read and
// written.
const (
	// OpenLineageSchemaURL is the schemaURL of every RunEvent.
	OpenLineageSchemaURL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
	// Producer is the producer URI of events and facets.
	Producer = "https://github.com/datalab/datalab"
	// DefaultNamespace is the namespace of datalab's jobs when none is set.
	DefaultNamespace = "datalab"

	schemaFacetURL  = "https://openlineage.io/spec/facets/1-0-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet"
	errorFacetURL   = "https://openlineage.io/spec/facets/1-0-0/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet"
	jobTypeFacetURL = "https://openlineage.io/spec/facets/2-0-4/JobTypeJobFacet.json#/$defs/JobTypeJobFacet"
)

// EventType is the transition of a run an event reports.
type EventType string

// The event types datalab emits: one START, then one of COMPLETE, FAIL or
// ABORT, per run.
const (
	EventStart    EventType = "START"
	EventComplete EventType = "COMPLETE"
	EventFail     EventType = "FAIL"
	EventAbort    EventType = "ABORT"
)

// RunEvent is an OpenLineage run event.
type RunEvent struct {
	EventType EventType      `json:"eventType"`
	EventTime time.Time      `json:"eventTime"`
	Run       EventRun       `json:"run"`
	Job       EventJob       `json:"job"`
	Inputs    []EventDataset `json:"inputs"`
	Outputs   []EventDataset `json:"outputs"`
	Producer  string         `json:"producer"`
	SchemaURL string         `json:"schemaURL"`
}

// EventRun is the run of an event: a UUID shared by its START and its end.
type EventRun struct {
	RunID  string         `json:"runId"`
	Facets map[string]any `json:"facets,omitempty"`
}

// EventJob is the job of an event: dataset:<id> for an ingest,
// pipeline:<name>, project:<name> for a project's notebooks.
type EventJob struct {
	Namespace string         `json:"namespace"`
	Name      string         `json:"name"`
	Facets    map[string]any `json:"facets,omitempty"`
}

// EventDataset is a dataset an event's run reads or writes, named after
// the OpenLineage naming conventions: a warehouse table is
// duckdb://<namespace> and schema.table, a file "file" and its path, a URL
// its scheme://host and its path.
type EventDataset struct {
	Namespace string         `json:"namespace"`
	Name      string         `json:"name"`
	Facets    map[string]any `json:"facets,omitempty"`
}

// EventOptions say how events name datalab's jobs and tables.
type EventOptions struct {
	// Namespace is the namespace of jobs (default DefaultNamespace); the
	// warehouse's tables are in duckdb://<Namespace>.
	Namespace string
}

func (o EventOptions) withDefaults() EventOptions {
	if o.Namespace == "" {
		o.Namespace = DefaultNamespace
	}
	return o
}

func (o EventOptions) tableNamespace() string { return "duckdb://" + o.Namespace }

// RunID returns the run id of key ("snapshot/12", "run/3") in namespace: a
// UUID derived from them, so that the START and the end of a run, emitted
// apart, and the history exported later, all carry the same id.
func RunID(namespace, key string) string {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte("datalab:"+namespace+":"+key)).String()
}

// NewRunID returns a fresh random run id, for a run the catalog keeps no
// id of.
func NewRunID() string { return uuid.Must(uuid.NewV7()).String() }

// eventTypeOf is the event that reports a run or snapshot's status; START
// for one still running.
func eventTypeOf(s Status) EventType {
	switch s {
	case Succeeded, Unchanged:
		return EventComplete
	case Failed:
		return EventFail
	case Cancelled:
		return EventAbort
	}
	return EventStart
}

func newEvent(typ EventType, at time.Time, runID string, job EventJob) RunEvent {
	return RunEvent{EventType: typ, EventTime: at.UTC(), Run: EventRun{RunID: runID}, Job: job,
		Inputs: []EventDataset{}, Outputs: []EventDataset{}, Producer: Producer, SchemaURL: OpenLineageSchemaURL}
}

func facet(schemaURL string, fields map[string]any) map[string]any {
	fields["_producer"] = Producer
	fields["_schemaURL"] = schemaURL
	return fields
}

func eventJob(opts EventOptions, node Node) EventJob {
	kind := map[string]string{KindDataset: "INGEST", KindPipeline: "PIPELINE", KindProject: "NOTEBOOK"}[node.Kind()]
	if kind == "" {
		kind = "JOB"
	}
	return EventJob{Namespace: opts.Namespace, Name: string(node), Facets: map[string]any{
		"jobType": facet(jobTypeFacetURL, map[string]any{"processingType": "BATCH", "integration": "DATALAB", "jobType": kind}),
	}}
}

// withError adds the error's message to a failed event. It is left out for
// what is not public: a message may quote a value of the data.
func withError(ev *RunEvent, msg string, level Level) {
	if msg == "" || level != Public || ev.EventType == EventStart {
		return
	}
	ev.Run.Facets = map[string]any{"errorMessage": facet(errorFacetURL, map[string]any{"message": msg, "programmingLanguage": "GO"})}
}

// tableDataset names a dataset of the warehouse.
func tableDataset(opts EventOptions, id string) EventDataset {
	return EventDataset{Namespace: opts.tableNamespace(), Name: id}
}

// locationDataset names what a source location points at.
func locationDataset(loc string) EventDataset {
	if u, err := url.Parse(loc); err == nil && u.Scheme != "" && u.Host != "" && len(u.Scheme) > 1 {
		u.User = nil
		name := u.Path
		if u.RawQuery != "" {
			name += "?" + u.RawQuery
		}
		if name == "" {
			name = "/"
		}
		return EventDataset{Namespace: u.Scheme + "://" + u.Host, Name: name}
	}
	return EventDataset{Namespace: "file", Name: strings.TrimPrefix(loc, "file://")}
}

// fileDataset names an output file (a path relative to the workspace).
func fileDataset(p string) EventDataset {
	return EventDataset{Namespace: "file", Name: path.Clean(strings.ReplaceAll(p, `\`, "/"))}
}

// snapshotEvent builds the event of a snapshot's current status: START
// while it runs, then COMPLETE, FAIL or ABORT. edges are the lineage edges
// recorded with it (what it was read from).
func snapshotEvent(opts EventOptions, d Dataset, snap Snapshot, edges []Edge) RunEvent {
	job := DatasetNode(snap.Dataset)
	if d.Source.Kind == KindPipeline {
		// A pipeline's output is loaded by running the pipeline.
		var src struct {
			Pipeline string `json:"pipeline"`
		}
		if json.Unmarshal(d.Source.Options, &src) == nil && src.Pipeline != "" {
			job = NewNode(KindPipeline, src.Pipeline)
		}
	}
	var inputs []EventDataset
	for _, e := range edges {
		switch {
		case e.To == DatasetNode(snap.Dataset) && e.From.Kind() == KindPipeline:
			job = e.From
		case e.To == DatasetNode(snap.Dataset) && e.From.Kind() == KindSource:
			inputs = append(inputs, locationDataset(e.From.Name()))
		case e.To.Kind() == KindPipeline && e.From.Kind() == KindDataset:
			inputs = append(inputs, tableDataset(opts, e.From.Name()))
		}
	}
	if len(inputs) == 0 && snap.Location != "" && job.Kind() == KindDataset {
		inputs = append(inputs, locationDataset(snap.Location))
	}
	typ := eventTypeOf(snap.Status)
	at := snap.StartedAt
	if typ != EventStart && !snap.FinishedAt.IsZero() {
		at = snap.FinishedAt
	}
	ev := newEvent(typ, at, RunID(opts.Namespace, "snapshot/"+strconv.FormatInt(snap.ID, 10)), eventJob(opts, job))
	if typ != EventStart {
		ev.Inputs = dedupe(inputs)
	}
	out := tableDataset(opts, snap.Dataset)
	if typ == EventComplete && len(snap.Columns) > 0 {
		fields := make([]map[string]any, len(snap.Columns))
		for i, c := range snap.Columns {
			fields[i] = map[string]any{"name": c.Name, "type": c.Type}
			if c.Title != "" && c.Title != c.Name {
				fields[i]["description"] = c.Title
			}
		}
		out.Facets = map[string]any{"schema": facet(schemaFacetURL, map[string]any{"fields": fields})}
	}
	ev.Outputs = []EventDataset{out}
	withError(&ev, snap.Error, d.Access)
	return ev
}

// SnapshotEvent returns the event that reports snap as it stands: START
// while it runs, COMPLETE once loaded (or unchanged), FAIL when it failed.
// The event's run id is derived from the snapshot's (RunID), its job is
// the dataset's ingest or the pipeline that computes it, its inputs what
// it was read from, its output the table with its columns. The error
// message of a failure is included only for a public dataset.
func (s *Store) SnapshotEvent(ctx context.Context, opts EventOptions, snap Snapshot) (RunEvent, error) {
	opts = opts.withDefaults()
	d, err := s.Dataset(ctx, snap.Dataset)
	if err != nil {
		return RunEvent{}, err
	}
	var edges []Edge
	if snap.Status == Succeeded {
		if edges, err = s.queryEdges(ctx, `WHERE recorded_at IN (SELECT recorded_at FROM datalab.lineage WHERE dst = ? AND snapshot = ?)`,
			string(DatasetNode(snap.Dataset)), snap.ID); err != nil {
			return RunEvent{}, err
		}
	}
	return snapshotEvent(opts, d, snap, edges), nil
}

// ProjectRun is a run of a project's notebooks, as an event reports it.
type ProjectRun struct {
	// RunID is the run's id (RunID or NewRunID), the same for its START
	// and its end.
	RunID   string
	Project string
	// Status is Running for its START, then how it ended.
	Status Status
	// Time is when it started, or ended.
	Time time.Time
	// Inputs are the datasets its notebooks read; Outputs the files it
	// wrote, relative to the workspace.
	Inputs, Outputs []string
	// Error says why it failed; Level is the highest level it read, since
	// the error is told only for a public run.
	Error string
	Level Level
}

// ProjectEvent returns the event of a project's run.
func ProjectEvent(opts EventOptions, r ProjectRun) RunEvent {
	opts = opts.withDefaults()
	ev := newEvent(eventTypeOf(r.Status), r.Time, r.RunID, eventJob(opts, NewNode(KindProject, r.Project)))
	r.Inputs, r.Outputs = slices.Clone(r.Inputs), slices.Clone(r.Outputs)
	slices.Sort(r.Inputs)
	slices.Sort(r.Outputs)
	for _, in := range r.Inputs {
		ev.Inputs = append(ev.Inputs, tableDataset(opts, in))
	}
	for _, out := range r.Outputs {
		ev.Outputs = append(ev.Outputs, fileDataset(out))
	}
	ev.Inputs, ev.Outputs = dedupe(ev.Inputs), dedupe(ev.Outputs)
	withError(&ev, r.Error, r.Level)
	return ev
}

// OpenLineageHistory returns the events of every run the catalog knows, in
// time order: each snapshot (an ingest or a pipeline's run), each run of
// the scheduler that recorded no snapshot (a project's notebooks, a run
// that failed before loading), and each run of a project's notebooks made
// outside the scheduler, found from the lineage it recorded. Skipped runs
// did not run and have no event. Run ids are derived (RunID): exporting
// twice gives the same ids, and an ingest's events match those emitted
// live.
func (s *Store) OpenLineageHistory(ctx context.Context, opts EventOptions) ([]RunEvent, error) {
	opts = opts.withDefaults()
	ds, err := s.Datasets(ctx)
	if err != nil {
		return nil, err
	}
	datasets := map[string]Dataset{}
	for _, d := range ds {
		datasets[d.ID] = d
	}
	edges, err := s.queryEdges(ctx, "")
	if err != nil {
		return nil, err
	}
	byTime := map[time.Time][]Edge{}
	for _, e := range edges {
		byTime[e.RecordedAt] = append(byTime[e.RecordedAt], e)
	}
	snaps, err := s.querySnapshots(ctx, `SELECT `+snapshotColumns+` FROM datalab.snapshots ORDER BY id`)
	if err != nil {
		return nil, err
	}
	var events []RunEvent
	for _, snap := range snaps {
		d, ok := datasets[snap.Dataset]
		if !ok {
			d = Dataset{ID: snap.Dataset, Access: snap.Access}
		}
		var own []Edge
		for _, e := range edges {
			if e.To == DatasetNode(snap.Dataset) && e.Snapshot == snap.ID {
				own = byTime[e.RecordedAt]
				break
			}
		}
		start := snap
		start.Status = Running
		events = append(events, snapshotEvent(opts, d, start, nil))
		if snap.Status != Running {
			events = append(events, snapshotEvent(opts, d, snap, own))
		}
	}

	runs, err := s.Runs(ctx, RunFilter{})
	if err != nil {
		return nil, err
	}
	covered := map[time.Time]bool{}
	for _, r := range runs {
		if r.Status == Skipped || r.Snapshot != 0 {
			continue // skipped runs did not run; the others are their snapshots
		}
		runID := RunID(opts.Namespace, "run/"+strconv.FormatInt(r.ID, 10))
		if r.Job.Kind() == KindProject {
			pr := ProjectRun{RunID: runID, Project: r.Job.Name(), Status: Running, Time: r.StartedAt, Error: r.Error}
			for t, group := range byTime {
				if !t.Before(r.StartedAt) && (r.FinishedAt.IsZero() || !t.After(r.FinishedAt)) && projectOf(group) == r.Job.Name() {
					covered[t] = true
					in, out := projectIO(group)
					pr.Inputs, pr.Outputs = append(pr.Inputs, in...), append(pr.Outputs, out...)
				}
			}
			pr.Level = inputsLevel(pr.Inputs, datasets)
			events = append(events, ProjectEvent(opts, pr))
			if r.Status != Running {
				pr.Status, pr.Time = r.Status, r.FinishedAt
				events = append(events, ProjectEvent(opts, pr))
			}
			continue
		}
		// A dataset's or pipeline's run that failed before it recorded a
		// snapshot.
		level, outputs := NonPublic, []EventDataset{}
		if r.Job.Kind() == KindDataset {
			outputs = append(outputs, tableDataset(opts, r.Job.Name()))
			if d, ok := datasets[r.Job.Name()]; ok {
				level = d.Access
			}
		}
		for _, status := range []Status{Running, r.Status} {
			at := r.StartedAt
			if status != Running {
				at = r.FinishedAt
			}
			ev := newEvent(eventTypeOf(status), at, runID, eventJob(opts, r.Job))
			ev.Outputs = outputs
			withError(&ev, r.Error, level)
			events = append(events, ev)
			if r.Status == Running {
				break
			}
		}
	}
	// Runs of projects outside the scheduler (datalab run) left their
	// lineage, recorded at once at the end of each run.
	for t, group := range byTime {
		project := projectOf(group)
		if project == "" || covered[t] {
			continue
		}
		in, out := projectIO(group)
		pr := ProjectRun{RunID: RunID(opts.Namespace, "project/"+project+"/"+t.UTC().Format(time.RFC3339Nano)), Project: project,
			Status: Running, Time: t, Inputs: in, Outputs: out}
		events = append(events, ProjectEvent(opts, pr))
		pr.Status = Succeeded
		events = append(events, ProjectEvent(opts, pr))
	}
	sort.SliceStable(events, func(i, j int) bool { return events[i].EventTime.Before(events[j].EventTime) })
	return events, nil
}

// projectOf returns the project whose run recorded edges, "" when they are
// not a project's.
func projectOf(edges []Edge) string {
	for _, e := range edges {
		if e.To.Kind() == KindCell || e.From.Kind() == KindIndicator {
			n := e.To.Name()
			if e.From.Kind() == KindIndicator {
				n = e.From.Name()
			}
			p, _, _ := strings.Cut(n, "/")
			return p
		}
	}
	return ""
}

// projectIO returns the datasets a project's run read and the files it
// wrote.
func projectIO(edges []Edge) (inputs, outputs []string) {
	for _, e := range edges {
		if e.From.Kind() == KindDataset && e.To.Kind() == KindCell {
			inputs = append(inputs, e.From.Name())
		}
		if e.To.Kind() == KindOutput {
			outputs = append(outputs, e.To.Name())
		}
	}
	slices.Sort(inputs)
	slices.Sort(outputs)
	return slices.Compact(inputs), slices.Compact(outputs)
}

func inputsLevel(inputs []string, datasets map[string]Dataset) Level {
	l := Public
	for _, in := range inputs {
		d, ok := datasets[in]
		if !ok {
			return NonPublic
		}
		l = Max(l, d.Access)
	}
	return l
}

func dedupe(ds []EventDataset) []EventDataset {
	out := []EventDataset{}
	for _, d := range ds {
		if !slices.ContainsFunc(out, func(o EventDataset) bool { return o.Namespace == d.Namespace && o.Name == d.Name }) {
			out = append(out, d)
		}
	}
	return out
}

// queryEdges reads raw lineage edges, every one recorded (not only the
// latest of each pair), in the order they were recorded.
func (s *Store) queryEdges(ctx context.Context, where string, args ...any) ([]Edge, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT src, dst, kind, coalesce(snapshot, 0), recorded_at FROM datalab.lineage `+where+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("catalog: lineage: %w", err)
	}
	return scanEdges(rows)
}

// WriteEvents writes events as NDJSON, one event a line, the format
// OpenLineage's file transport and most collectors read.
func WriteEvents(w io.Writer, events []RunEvent) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, ev := range events {
		if err := enc.Encode(ev); err != nil {
			return err
		}
	}
	return nil
}
