package pipelines

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/duckdb/duckdb-go/v2"
	"github.com/rs/zerolog"

	"github.com/datalab/datalab/catalog"
	"github.com/datalab/datalab/connectors"
)

// PipelineKind is the source kind of a pipeline's output in the catalog:
// its Source is {kind: pipeline, pipeline: <name>, inputs: [...]}. No
// registration file may use it: a pipeline's output is registered by the
// Go code that declares the pipeline (AddPipeline).
const PipelineKind = "pipeline"

// Pipeline declares a pipeline: a step that computes a dataset of the
// catalog from other datasets of the catalog. Declare it in Go and add it to
// a Workspace with AddPipeline; the Scheduler runs it on its schedule or
// when an input changes, and RunPipeline runs it now.
//
// Its output is loaded like an ingest: streamed as Arrow record batches into
// DuckDB, replacing the table in one transaction with its snapshot, checked
// against the output's schema and contract; a failed or cancelled run leaves
// the previous table. Lineage records dataset:<input> -> pipeline:<name> ->
// dataset:<output>.
type Pipeline struct {
	// Name identifies the pipeline: lower-case letters, digits and _.
	Name string
	// Description says what it does, for people listing pipelines.
	Description string
	// Inputs are the ids of the catalog datasets it reads. Each must be
	// registered when the pipeline is added.
	Inputs []string
	// Output is the dataset it produces, registered like any other: ID,
	// Title, Publisher, Access, and the rest of the metadata, Schema and
	// Contract included (its Source and Schedule are set by AddPipeline).
	// Access may never be below the highest level of the inputs; zero means
	// that level.
	Output catalog.Dataset
	// Schedule is a cron expression (robfig syntax: five fields, optional
	// seconds, @daily, @every 1h) for running it; empty for none.
	Schedule string
	// OnChange runs it after one of its inputs got a new snapshot.
	OnChange bool
	// Step is what it computes.
	Step Step
	// Version is part of the output's fingerprint: change it when the
	// step's code changes, so that the next run computes the output again
	// even though the inputs did not change.
	Version string
}

// Step is what a pipeline computes from its inputs: an SQL query, a Go
// Transformer applied to each record batch of a query, or both.
type Step struct {
	// SQL is one SELECT over the inputs, named by their ids ("SELECT
	// departement, count(*) AS n FROM demandes.dossiers GROUP BY ALL"). It
	// may read only the pipeline's inputs. Empty means "SELECT * FROM" the
	// pipeline's only input.
	SQL string
	// Transform, when set, is applied to every record batch of SQL's
	// result, in order: the output streams, whatever the size of the input.
	Transform Transformer
}

// Transformer is a pipeline step written in Go: it turns each record batch
// of its input into a record batch of its output.
//
// Transform is called once per batch, never concurrently, from whichever
// goroutine or thread the warehouse reads the output from: it must not keep
// state tied to a goroutine. The input batch is valid during the call only
// (Retain it to keep it); the returned batch belongs to the caller, who
// releases it; it must have the schema Schema returned. A panic in
// Transform fails the run and is reported as an error. Cancelling ctx
// should make Transform return ctx.Err() promptly.
type Transformer interface {
	// Schema returns the output's schema for an input of schema in, or an
	// error when the input lacks what the step needs. It is called when the
	// pipeline is added (when its inputs are loaded) and before each run.
	Schema(in *arrow.Schema) (*arrow.Schema, error)
	// Transform computes the output batch of one input batch, allocating
	// its buffers from mem.
	Transform(ctx context.Context, batch arrow.RecordBatch, mem memory.Allocator) (arrow.RecordBatch, error)
}

// Fingerprinter is implemented by a Transformer whose output depends on
// more than its input, such as a key: Fingerprint returns a short text that
// changes when that does, so that a run after the change computes the
// output again. It must not reveal a secret: derive it with a one-way
// function.
type Fingerprinter interface {
	Fingerprint() string
}

// AddPipeline checks a pipeline and adds it to the workspace, registering
// its output in the catalog (in one transaction, and only when the
// registration changed). Adding a pipeline of a name already added
// replaces it.
//
// It refuses, with an error wrapping ErrInvalid that names the field: a bad
// name; no inputs, or an input that is not registered; an output whose
// registration is invalid, that is an input, that is registered from a
// file or produced by another pipeline; an output level below the highest
// level of its inputs (naming them, and wrapping ErrRefused too); an SQL step that is not one SELECT
// over the inputs; a Transformer that refuses the input's columns (checked
// when the inputs are loaded); and a pipeline that would close a cycle
// among pipelines (naming it).
func (w *Workspace) AddPipeline(ctx context.Context, p Pipeline) error {
	where := fmt.Sprintf("pipeline %s", p.Name)
	fail := func(field, format string, args ...any) error {
		return fmt.Errorf("%s: field %s: %w: %s", where, field, ErrInvalid, fmt.Sprintf(format, args...))
	}
	if !identPattern.MatchString(p.Name) {
		return fail("Name", "%q is not a lower-case identifier (letters, digits, _), e.g. pseudonymisation", p.Name)
	}
	if len(p.Inputs) == 0 {
		return fail("Inputs", "no input; name the catalog datasets it reads")
	}
	p.Inputs = slices.Clone(p.Inputs)
	var inputs []catalog.Dataset
	for i, id := range p.Inputs {
		if slices.Contains(p.Inputs[:i], id) {
			return fail("Inputs", "%s is named twice", id)
		}
		d, err := w.Catalog.Dataset(ctx, id)
		if errors.Is(err, catalog.ErrNotFound) {
			return fail("Inputs", "%s is not a dataset of the catalog; register it first (`datalab dataset list` shows them)", id)
		}
		if err != nil {
			return err
		}
		inputs = append(inputs, d)
	}
	if p.Step.SQL == "" && p.Step.Transform == nil {
		return fail("Step", "empty; give an SQL query, a Transformer, or both")
	}
	if p.Step.SQL == "" && len(p.Inputs) > 1 {
		return fail("Step.SQL", "a pipeline of %d inputs needs a query that says how to combine them", len(p.Inputs))
	}

	// The output's level: at least the highest level of the inputs.
	need := catalog.Public
	for _, d := range inputs {
		need = catalog.Max(need, d.Access)
	}
	out := p.Output
	if out.Access == 0 {
		out.Access = need
	}
	if !out.Access.Valid() {
		return fail("Output.Access", "%v is not an access level; use catalog.Public, catalog.Restricted or catalog.NonPublic", out.Access)
	}
	if out.Access < need {
		var above []string
		for _, d := range inputs {
			if d.Access > out.Access {
				above = append(above, fmt.Sprintf("%s (%s)", d.ID, d.Access))
			}
		}
		return invalid{fmt.Errorf("%s: field Output.Access: %w: the output %s would be %s, below its inputs %s; what is derived from inputs has at least their highest level: declare it %s",
			where, ErrRefused, out.ID, out.Access, strings.Join(above, ", "), need)}
	}
	d, err := w.outputRegistration(p, out)
	if err != nil {
		return err
	}
	p.Output = d
	if slices.Contains(p.Inputs, d.ID) {
		return fail("Output.ID", "%s is also an input; a pipeline writes a dataset of its own", d.ID)
	}
	switch existing, err := w.Catalog.Dataset(ctx, d.ID); {
	case errors.Is(err, catalog.ErrNotFound):
	case err != nil:
		return err
	case existing.Source.Kind != PipelineKind:
		from := existing.File
		if from == "" {
			from = "the API"
		}
		return fail("Output.ID", "%s is registered from %s with a %s source; give the pipeline's output its own id", d.ID, from, existing.Source.Kind)
	case pipelineOf(existing) != p.Name:
		return fail("Output.ID", "%s is the output of pipeline %s; give this pipeline's output its own id", d.ID, pipelineOf(existing))
	}
	w.pmu.RLock()
	for name, other := range w.pipelines {
		if name != p.Name && other.Output.ID == d.ID {
			w.pmu.RUnlock()
			return fail("Output.ID", "%s is the output of pipeline %s; give this pipeline's output its own id", d.ID, name)
		}
	}
	w.pmu.RUnlock()
	if p.Schedule != "" {
		if _, err := cronParser.Parse(p.Schedule); err != nil {
			return fail("Schedule", "%q is not a schedule: %v; write five cron fields (\"0 6 * * 1\"), six with seconds, or @daily, @every 1h", p.Schedule, err)
		}
	}
	query, err := w.checkStep(ctx, p)
	if err != nil {
		return err
	}
	if err := w.checkCycles(ctx, p); err != nil {
		return err
	}

	unlock, err := w.lockWrites(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	if err := w.registerOutput(ctx, d); err != nil {
		return err
	}
	w.pmu.Lock()
	if w.pipelines == nil {
		w.pipelines = map[string]*registeredPipeline{}
	}
	w.pipelines[p.Name] = &registeredPipeline{Pipeline: p, query: query}
	w.pmu.Unlock()
	w.Log.Debug().Str("pipeline", p.Name).Strs("inputs", p.Inputs).Str("output", d.ID).Msg("pipeline added")
	return nil
}

// registeredPipeline is a pipeline added to a workspace, with its query.
type registeredPipeline struct {
	Pipeline
	query string
}

// Pipelines returns the pipelines added to the workspace, by name.
func (w *Workspace) Pipelines() []Pipeline {
	w.pmu.RLock()
	defer w.pmu.RUnlock()
	out := make([]Pipeline, 0, len(w.pipelines))
	for _, p := range w.pipelines {
		out = append(out, p.Pipeline)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Pipeline returns the pipeline of that name, or an error wrapping
// ErrInvalid.
func (w *Workspace) Pipeline(name string) (Pipeline, error) {
	p, err := w.pipeline(name)
	if err != nil {
		return Pipeline{}, err
	}
	return p.Pipeline, nil
}

func (w *Workspace) pipeline(name string) (*registeredPipeline, error) {
	w.pmu.RLock()
	defer w.pmu.RUnlock()
	p, ok := w.pipelines[name]
	if !ok {
		names := make([]string, 0, len(w.pipelines))
		for n := range w.pipelines {
			names = append(names, n)
		}
		sort.Strings(names)
		known := "this program declares none"
		if len(names) > 0 {
			known = "this program declares " + strings.Join(names, ", ")
		}
		return nil, fmt.Errorf("pipeline %s: %w: unknown pipeline; %s", name, ErrInvalid, known)
	}
	return p, nil
}

// RunPipeline runs a pipeline now: it computes its output from the inputs'
// current snapshots and loads it, exactly as Ingest loads a dataset (one
// transaction, a snapshot recorded, failed ones included). When no input
// changed since the output's last load, nothing is computed and the
// snapshot says Unchanged (opts.Force computes it anyway).
func (w *Workspace) RunPipeline(ctx context.Context, name string, opts IngestOptions) (catalog.Snapshot, error) {
	p, err := w.pipeline(name)
	if err != nil {
		return catalog.Snapshot{}, err
	}
	d, err := w.Catalog.Dataset(ctx, p.Output.ID)
	if err != nil {
		return catalog.Snapshot{}, err
	}
	if pipelineOf(d) != name {
		return catalog.Snapshot{}, fmt.Errorf("pipeline %s: %w: its output %s was registered again from %q with a %s source; remove that registration, or give the pipeline's output another id",
			name, ErrInvalid, d.ID, d.File, d.Source.Kind)
	}
	return w.Ingest(ctx, p.Output.ID, opts)
}

// pipelineOf returns the name of the pipeline that produces d, "" when d
// is not a pipeline's output.
func pipelineOf(d catalog.Dataset) string {
	return pipelineOptions(d).Pipeline
}

// pipelineSourceOptions are the Source options of a pipeline's output.
type pipelineSourceOptions struct {
	Kind     string   `json:"kind"`
	Pipeline string   `json:"pipeline"`
	Inputs   []string `json:"inputs"`
}

func pipelineOptions(d catalog.Dataset) pipelineSourceOptions {
	var o pipelineSourceOptions
	if d.Source.Kind == PipelineKind {
		_ = json.Unmarshal(d.Source.Options, &o)
	}
	return o
}

// outputRegistration validates the output's registration the way a
// registration file is, and returns it complete.
func (w *Workspace) outputRegistration(p Pipeline, out catalog.Dataset) (catalog.Dataset, error) {
	reg := map[string]any{
		"id": out.ID, "title": out.Title, "publisher": out.Publisher, "access": out.Access.String(),
		"source": pipelineSourceOptions{Kind: PipelineKind, Pipeline: p.Name, Inputs: p.Inputs},
	}
	for k, v := range map[string]string{"description": out.Description, "contact": out.Contact, "license": out.License,
		"frequency": out.Frequency, "schedule": p.Schedule, "contract": string(out.Contract)} {
		if v != "" {
			reg[k] = v
		}
	}
	if out.Schema != nil {
		reg["schema"] = out.Schema
	}
	data, err := json.Marshal(reg)
	if err != nil {
		return catalog.Dataset{}, fmt.Errorf("pipeline %s: output: %w: %w", p.Name, ErrInvalid, err)
	}
	d, err := catalog.ParseRegistration("pipeline "+p.Name, data)
	if err != nil {
		// The registration is built here, not written in a file: name the
		// Go fields, not lines.
		var all []error
		if joined, ok := err.(interface{ Unwrap() []error }); ok {
			all = joined.Unwrap()
		} else {
			all = []error{err}
		}
		for _, e := range all {
			var fe *catalog.FieldError
			if errors.As(e, &fe) {
				fe.Line = 0
				switch {
				case fe.Field == "schedule":
					fe.Field = "Schedule"
				case fe.Field != "":
					fe.Field = "Output." + fe.Field
				}
			}
		}
		return catalog.Dataset{}, invalid{err}
	}
	return d, nil
}

// invalid is an error of the user's that matches ErrInvalid too, keeping
// its message.
type invalid struct{ err error }

func (e invalid) Error() string   { return e.err.Error() }
func (e invalid) Unwrap() []error { return []error{e.err, ErrInvalid} }

// registerOutput records the output's registration when it differs from
// the catalog's.
func (w *Workspace) registerOutput(ctx context.Context, d catalog.Dataset) error {
	if old, err := w.Catalog.Dataset(ctx, d.ID); err == nil && sameRegistration(old, d) {
		return nil
	}
	return w.inTx(ctx, func(s *catalog.Store) error { return s.Register(ctx, d) })
}

func sameRegistration(a, b catalog.Dataset) bool {
	norm := func(d catalog.Dataset) string {
		var opts any
		_ = json.Unmarshal(d.Source.Options, &opts)
		d.Source.Options = nil
		d.RegisteredAt, d.UpdatedAt = time.Time{}, time.Time{}
		j, _ := json.Marshal(struct {
			D catalog.Dataset
			O any
		}{d, opts})
		return string(j)
	}
	return norm(a) == norm(b)
}

// checkStep checks the step's query: one SELECT that reads only the
// pipeline's inputs; and, when the inputs are loaded, that the Transformer
// accepts the query's schema. It returns the query to run.
func (w *Workspace) checkStep(ctx context.Context, p Pipeline) (string, error) {
	query := strings.TrimRight(strings.TrimSpace(p.Step.SQL), ";")
	if query == "" {
		in := catalog.Dataset{ID: p.Inputs[0]}
		query = "SELECT * FROM " + quoteIdent(in.SchemaName()) + "." + quoteIdent(in.TableName())
	} else {
		ds, err := w.Catalog.Datasets(ctx)
		if err != nil {
			return "", err
		}
		known := map[string]bool{}
		for _, d := range ds {
			known[d.ID] = true
		}
		nb := &Notebook{File: "pipeline " + p.Name}
		cell := &Cell{Name: "step", SQL: query}
		reads, err := checkCell(ctx, w.DB, nb, cell, known, map[string]bool{})
		if err != nil {
			msg := strings.TrimPrefix(err.Error(), fmt.Sprintf("%s:%d: cell %s: ", nb.File, cell.Line, cell.Name))
			msg = strings.TrimPrefix(msg, ErrRefused.Error()+": ")
			return "", fmt.Errorf("pipeline %s: field Step.SQL: %w: %s", p.Name, ErrInvalid, msg)
		}
		var extra []string
		for _, id := range reads.Datasets {
			if !slices.Contains(p.Inputs, id) {
				extra = append(extra, id)
			}
		}
		if len(extra) > 0 {
			return "", fmt.Errorf("pipeline %s: field Step.SQL: %w: the query reads %s, not among the inputs; add it to Inputs, so that its level and lineage are known",
				p.Name, ErrInvalid, strings.Join(extra, ", "))
		}
	}
	if p.Step.Transform == nil {
		return query, nil
	}
	for _, id := range p.Inputs {
		if _, err := w.Catalog.Current(ctx, id); err != nil {
			return query, nil // not loaded yet: checked before each run
		}
	}
	schema, err := w.querySchema(ctx, query)
	if err != nil {
		return "", fmt.Errorf("pipeline %s: field Step.SQL: %w: %w", p.Name, ErrInvalid, err)
	}
	if _, err := transformSchema(p.Step.Transform, schema); err != nil {
		return "", fmt.Errorf("pipeline %s: field Step.Transform: %w: %w", p.Name, ErrInvalid, err)
	}
	return query, nil
}

// querySchema returns the Arrow schema of a query's result, running it
// with no row.
func (w *Workspace) querySchema(ctx context.Context, query string) (*arrow.Schema, error) {
	conn, err := w.DB.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("warehouse connection: %w", err)
	}
	defer conn.Close()
	var schema *arrow.Schema
	err = conn.Raw(func(dc any) error {
		a, err := duckdb.NewArrowFromConn(dc.(driver.Conn))
		if err != nil {
			return err
		}
		rr, err := a.QueryContext(ctx, "SELECT * FROM ("+query+") LIMIT 0")
		if err != nil {
			return err
		}
		defer rr.Release()
		schema = rr.Schema()
		return nil
	})
	return schema, err
}

// transformSchema calls t.Schema, turning a panic into an error.
func transformSchema(t Transformer, in *arrow.Schema) (out *arrow.Schema, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: the Transformer's Schema panicked: %v", ErrPanic, r)
		}
	}()
	out, err = t.Schema(in)
	if err == nil && out == nil {
		err = errors.New("the Transformer's Schema returned no schema")
	}
	return out, err
}

// ErrPanic is wrapped when a step, a source or a run panicked: the run
// fails, and the panic is reported as its error.
var ErrPanic = errors.New("panic")

// pipelineSource builds the Source of a pipeline's output.
func (w *Workspace) pipelineSource(d catalog.Dataset) (connectors.Source, error) {
	name := pipelineOf(d)
	p, err := w.pipeline(name)
	if err != nil {
		return nil, fmt.Errorf("dataset %s is the output of pipeline %s, which this program does not declare: %w; run it with the program that declares it", d.ID, name, err)
	}
	if p.Output.ID != d.ID {
		return nil, fmt.Errorf("dataset %s: %w: pipeline %s now writes %s", d.ID, ErrInvalid, name, p.Output.ID)
	}
	return &pipelineSource{w: w, p: p, output: d}, nil
}

// pipelineSource reads a pipeline's output: its query over the inputs,
// each batch through its Transformer.
type pipelineSource struct {
	w      *Workspace
	p      *registeredPipeline
	output catalog.Dataset
}

// inputSnapshot is the snapshot of an input that a run reads.
type inputSnapshot struct {
	dataset string
	catalog.Snapshot
}

// Open checks the inputs (registered at most at the output's level,
// loaded), returns ErrUnchanged when their snapshots are those of the last
// run, and starts the query on a connection of its own.
func (s *pipelineSource) Open(ctx context.Context, opts connectors.OpenOptions) (connectors.Stream, error) {
	p := s.p
	h := sha256.New()
	fmt.Fprintf(h, "pipeline %s\nversion %s\nquery %s\n", p.Name, p.Version, p.query)
	if t := p.Step.Transform; t != nil {
		fmt.Fprintf(h, "transform %T\n", t)
		if f, ok := t.(Fingerprinter); ok {
			fmt.Fprintf(h, "fingerprint %s\n", f.Fingerprint())
		}
	}
	var inputs []inputSnapshot
	for _, id := range p.Inputs {
		d, err := s.w.Catalog.Dataset(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("pipeline %s: input %s: %w", p.Name, id, err)
		}
		if d.Access > s.output.Access {
			return nil, fmt.Errorf("pipeline %s: %w: input %s is now %s, above its output %s (%s); declare the output %s",
				p.Name, ErrRefused, id, d.Access, s.output.ID, s.output.Access, d.Access)
		}
		snap, err := s.w.Catalog.Current(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("pipeline %s: input %s was never loaded: %w; ingest it first", p.Name, id, ErrInvalid)
		}
		inputs = append(inputs, inputSnapshot{dataset: id, Snapshot: snap})
		fmt.Fprintf(h, "input %s %d %s\n", id, snap.ID, snap.ContentHash)
	}
	fp := connectors.Fingerprint{Location: string(catalog.NewNode(catalog.KindPipeline, p.Name)),
		ContentHash: "sha256:" + hex.EncodeToString(h.Sum(nil))}
	if !opts.Previous.IsZero() && fp.SameVersion(opts.Previous) {
		return nil, connectors.ErrUnchanged
	}
	mem := opts.Allocator
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	conn, err := s.w.DB.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("warehouse connection: %w", err)
	}
	var rr array.RecordReader
	err = conn.Raw(func(dc any) error {
		a, err := duckdb.NewArrowFromConn(dc.(driver.Conn))
		if err != nil {
			return err
		}
		rr, err = a.QueryContext(ctx, p.query)
		return err
	})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("pipeline %s: query: %w", p.Name, err), conn.Close())
	}
	st := &pipelineStream{ctx: ctx, conn: conn, rr: rr, t: p.Step.Transform, mem: mem, fp: fp,
		name: p.Name, inputs: inputs, log: s.w.Log}
	st.refs.Store(1)
	st.in = withTitles(rr.Schema(), inputs)
	st.schema = st.in
	if st.t != nil {
		if st.schema, err = transformSchema(st.t, st.in); err != nil {
			st.Release()
			return nil, fmt.Errorf("pipeline %s: step: %w", p.Name, err)
		}
	}
	return st, nil
}

// withTitles returns schema with, for each column that has none, the title
// (the source's original header) of the input column of the same name,
// when the inputs agree on it: so that the catalog shows it for the output
// too.
func withTitles(schema *arrow.Schema, inputs []inputSnapshot) *arrow.Schema {
	titles := map[string]string{}
	for _, in := range inputs {
		for _, c := range in.Columns {
			if prev, ok := titles[c.Name]; ok && prev != c.Title {
				c.Title = ""
			}
			titles[c.Name] = c.Title
		}
	}
	fields := slices.Clone(schema.Fields())
	changed := false
	for i, f := range fields {
		if title := titles[f.Name]; title != "" && f.Metadata.Len() == 0 {
			fields[i].Metadata = arrow.NewMetadata([]string{connectors.TitleKey}, []string{title})
			changed = true
		}
	}
	if !changed {
		return schema
	}
	md := schema.Metadata()
	return arrow.NewSchema(fields, &md)
}

// pipelineStream is the stream of a pipeline's output.
type pipelineStream struct {
	refs atomic.Int64
	ctx  context.Context
	conn *sql.Conn
	rr   array.RecordReader
	t    Transformer
	mem  memory.Allocator
	// in is the schema of the query's batches, with the inputs' titles;
	// schema the output's.
	in     *arrow.Schema
	schema *arrow.Schema
	// cur is the current batch; owned when it is to be released.
	cur    arrow.RecordBatch
	owned  bool
	err    error
	fp     connectors.Fingerprint
	name   string
	inputs []inputSnapshot
	log    zerolog.Logger
}

func (s *pipelineStream) Schema() *arrow.Schema { return s.schema }

func (s *pipelineStream) Next() bool {
	s.releaseCurrent()
	if s.err != nil {
		return false
	}
	if err := s.ctx.Err(); err != nil {
		s.err = fmt.Errorf("pipeline %s cancelled: %w", s.name, err)
		return false
	}
	if !s.rr.Next() {
		if err := s.rr.Err(); err != nil {
			s.err = fmt.Errorf("pipeline %s: read the inputs: %w", s.name, err)
		}
		return false
	}
	batch := s.rr.RecordBatch()
	if s.in != s.rr.Schema() {
		batch = array.NewRecordBatch(s.in, batch.Columns(), batch.NumRows())
	} else {
		batch.Retain()
	}
	if s.t == nil {
		s.cur, s.owned = batch, true
		return true
	}
	out, err := s.transform(batch)
	batch.Release()
	if err != nil {
		s.err = fmt.Errorf("pipeline %s: step: %w", s.name, err)
		return false
	}
	if !out.Schema().Equal(s.schema) {
		out.Release()
		s.err = fmt.Errorf("pipeline %s: step: a batch has the schema %s, not the one Schema returned, %s", s.name, out.Schema(), s.schema)
		return false
	}
	s.cur, s.owned = out, true
	return true
}

// transform calls the Transformer, turning a panic into an error: the
// warehouse calls Next from its own threads, where a panic would stop the
// process.
func (s *pipelineStream) transform(batch arrow.RecordBatch) (out arrow.RecordBatch, err error) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error().Str("pipeline", s.name).Str("stack", string(debug.Stack())).Msg("the step panicked")
			out, err = nil, fmt.Errorf("%w in the Transformer: %v", ErrPanic, r)
		}
	}()
	out, err = s.t.Transform(s.ctx, batch, s.mem)
	if err == nil && out == nil {
		err = errors.New("the Transformer returned no batch")
	}
	return out, err
}

func (s *pipelineStream) releaseCurrent() {
	if s.cur != nil && s.owned {
		s.cur.Release()
	}
	s.cur, s.owned = nil, false
}

func (s *pipelineStream) RecordBatch() arrow.RecordBatch { return s.cur }

// Record returns the current batch.
//
// Deprecated: use RecordBatch.
func (s *pipelineStream) Record() arrow.RecordBatch { return s.cur }

func (s *pipelineStream) Err() error { return s.err }

func (s *pipelineStream) Retain() { s.refs.Add(1) }

func (s *pipelineStream) Release() {
	if s.refs.Add(-1) != 0 {
		return
	}
	s.releaseCurrent()
	s.rr.Release()
	s.conn.Close()
}

func (s *pipelineStream) Fingerprint() connectors.Fingerprint { return s.fp }

// edges are the lineage of a pipeline's run: each input's snapshot read by
// the pipeline, the pipeline writing the output's snapshot.
func (s *pipelineStream) edges(output string, snapshot int64) []catalog.Edge {
	node := catalog.NewNode(catalog.KindPipeline, s.name)
	var edges []catalog.Edge
	for _, in := range s.inputs {
		edges = append(edges, catalog.Edge{From: catalog.DatasetNode(in.dataset), To: node, Kind: "reads", Snapshot: in.ID})
	}
	return append(edges, catalog.Edge{From: node, To: catalog.DatasetNode(output), Kind: "writes", Snapshot: snapshot})
}
