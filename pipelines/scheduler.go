package pipelines

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/robfig/cron/v3"
	"github.com/rs/zerolog"

	"github.com/datalab/datalab/catalog"
	"github.com/datalab/datalab/connectors"
)

// cronParser reads schedules as registrations do: five fields, optional
// seconds, descriptors (@daily, @every 1h).
var cronParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// SchedulerOptions configure a Scheduler. Zero fields take their defaults.
type SchedulerOptions struct {
	// Log receives the scheduler's logs (component "scheduler"); the zero
	// Logger discards them.
	Log zerolog.Logger
	// Retry says how transient failures are tried again.
	Retry RetryPolicy
}

// RetryPolicy says how a run that failed for a transient reason (see
// Transient) is tried again: after Initial, then after twice as long each
// time, never more than Max, Attempts tries in all. A permanent failure is
// not tried again.
type RetryPolicy struct {
	// Attempts is the number of tries, the first included (default 4).
	Attempts int
	// Initial is the wait before the second try (default 1s); Max the
	// longest wait (default 1m).
	Initial, Max time.Duration
}

// The defaults of RetryPolicy.
const (
	DefaultRetryAttempts = 4
	DefaultRetryInitial  = time.Second
	DefaultRetryMax      = time.Minute
)

func (o SchedulerOptions) withDefaults() SchedulerOptions {
	if o.Retry.Attempts == 0 {
		o.Retry.Attempts = DefaultRetryAttempts
	}
	if o.Retry.Initial == 0 {
		o.Retry.Initial = DefaultRetryInitial
	}
	if o.Retry.Max == 0 {
		o.Retry.Max = DefaultRetryMax
	}
	return o
}

// Validate checks o, naming the first bad field.
func (o SchedulerOptions) Validate() error {
	switch {
	case o.Retry.Attempts < 1:
		return fmt.Errorf("scheduler: field Retry.Attempts: %d; give at least 1 (no retry)", o.Retry.Attempts)
	case o.Retry.Initial < 0:
		return fmt.Errorf("scheduler: field Retry.Initial: %s is negative", o.Retry.Initial)
	case o.Retry.Max < o.Retry.Initial:
		return fmt.Errorf("scheduler: field Retry.Max: %s is below Retry.Initial (%s)", o.Retry.Max, o.Retry.Initial)
	}
	return nil
}

// Job is something the scheduler runs: the ingest of a dataset, a
// pipeline, or the notebooks of a project.
type Job struct {
	// Node names it: dataset:<id>, pipeline:<name> or project:<name>.
	Node catalog.Node `json:"job"`
	// Schedule is its cron schedule, empty when it runs only after its
	// inputs changed, or when asked.
	Schedule string `json:"schedule,omitempty"`
	// OnChange is set when it runs after one of its inputs got a new
	// snapshot: always for a project, when declared for a pipeline.
	OnChange bool `json:"on_change,omitempty"`
	// Inputs are the datasets it reads; Output the dataset it loads (empty
	// for a project, which writes files).
	Inputs []string `json:"inputs,omitempty"`
	Output string   `json:"output,omitempty"`
}

// job is a Job with what the scheduler keeps of it.
type job struct {
	Job
	sched cron.Schedule
	// running is set while a run is under way; pending when an input
	// changed during it, so that it runs again after.
	running      bool
	pending      bool
	pendingCause string
	current      int64 // the run under way, once recorded
}

// IngestJob returns the job that loads dataset d: the dataset's own, or
// for the output of a pipeline the pipeline's.
func IngestJob(d catalog.Dataset) catalog.Node {
	if d.Source.Kind == PipelineKind {
		if name := pipelineOf(d); name != "" {
			return catalog.NewNode(catalog.KindPipeline, name)
		}
	}
	return catalog.DatasetNode(d.ID)
}

// BusyError is a job asked to run while a run of it is under way.
type BusyError struct {
	Job catalog.Node
	Run int64 // the run under way; 0 when it is not recorded yet
}

func (e *BusyError) Error() string {
	if e.Run == 0 {
		return fmt.Sprintf("%s is already running", e.Job)
	}
	return fmt.Sprintf("%s is already running (run %d)", e.Job, e.Run)
}

// Scheduler runs the jobs of a workspace on time and in dependency order:
// each dataset with a schedule is ingested on it, each pipeline runs on its
// schedule or after its inputs changed, and each project's notebooks run
// after one of the datasets they read got a new snapshot. What a run
// changes makes what depends on it run after it, in dependency order, each
// once.
//
// A job never runs twice at once: a tick that finds it running is recorded
// as skipped. Writes to the warehouse run one at a time (see Workspace). A
// panic in a run fails that run; a transient failure is retried (see
// RetryPolicy). Every run is recorded in the catalog (catalog.Run).
//
// The jobs are those of the workspace when NewScheduler is called: a
// dataset registered since runs when asked (RunNow, Launch), and a new
// Scheduler takes its schedule, and changes of registrations, into account.
type Scheduler struct {
	ws    *Workspace
	opts  SchedulerOptions
	log   zerolog.Logger
	jobs  map[catalog.Node]*job
	order []*job // dependency order
	extra []*job // datasets registered since NewScheduler, run when asked; under mu
	cron  *cron.Cron

	mu       sync.Mutex
	started  bool
	stopping bool
	runs     sync.WaitGroup
	// ctx is the runs' context, cancelled when Stop's grace is over.
	ctx    context.Context
	cancel context.CancelFunc
}

// NewScheduler reads the workspace's jobs: the registered datasets (their
// schedules), the pipelines added to it, and its projects (the datasets
// their notebooks read). A project whose notebooks do not parse is left
// out, with a warning. It refuses bad options, schedules and a cycle
// among the jobs with an error wrapping ErrInvalid.
func NewScheduler(ctx context.Context, ws *Workspace, opts SchedulerOptions) (*Scheduler, error) {
	opts = opts.withDefaults()
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	s := &Scheduler{ws: ws, opts: opts, log: opts.Log.With().Str("component", "scheduler").Logger(),
		jobs: map[catalog.Node]*job{}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	ds, err := ws.Catalog.Datasets(ctx)
	if err != nil {
		return nil, err
	}
	g := newDepGraph()
	add := func(j Job) error {
		jb := &job{Job: j}
		if j.Schedule != "" {
			if jb.sched, err = cronParser.Parse(j.Schedule); err != nil {
				return fmt.Errorf("%s: schedule %q: %w: %v", j.Node, j.Schedule, ErrInvalid, err)
			}
		}
		s.jobs[j.Node] = jb
		g.node(j.Node)
		for _, in := range j.Inputs {
			g.edge(catalog.DatasetNode(in), j.Node)
		}
		if out := catalog.DatasetNode(j.Output); j.Output != "" && out != j.Node {
			g.edge(j.Node, out)
		}
		return nil
	}
	pipelines := ws.Pipelines()
	for _, d := range ds {
		if d.Source.Kind == PipelineKind {
			name := pipelineOf(d)
			if !slices.ContainsFunc(pipelines, func(p Pipeline) bool { return p.Name == name }) {
				s.log.Warn().Str("dataset", d.ID).Str("pipeline", name).
					Msg("this dataset is the output of a pipeline this program does not declare: it is not scheduled")
			}
			continue
		}
		if err := add(Job{Node: catalog.DatasetNode(d.ID), Schedule: d.Schedule, Output: d.ID}); err != nil {
			return nil, err
		}
	}
	for _, p := range pipelines {
		j := Job{Node: catalog.NewNode(catalog.KindPipeline, p.Name), Schedule: p.Schedule, OnChange: p.OnChange,
			Inputs: slices.Clone(p.Inputs), Output: p.Output.ID}
		if err := add(j); err != nil {
			return nil, err
		}
	}
	projects, err := ws.Projects()
	if err != nil {
		return nil, err
	}
	for _, p := range projects {
		inputs, err := ws.projectReads(ctx, p)
		if err != nil {
			s.log.Warn().Err(err).Str("project", p).Msg("this project is not scheduled: its notebooks do not parse; fix them and restart")
			continue
		}
		if err := add(Job{Node: catalog.NewNode(catalog.KindProject, p), OnChange: true, Inputs: inputs}); err != nil {
			return nil, err
		}
	}
	order, err := g.order()
	if err != nil {
		return nil, err
	}
	for _, n := range order {
		if j, ok := s.jobs[n]; ok {
			s.order = append(s.order, j)
		}
	}
	s.cron = cron.New(cron.WithParser(cronParser), cron.WithLogger(cron.DiscardLogger))
	for _, j := range s.order {
		if j.sched != nil {
			s.cron.Schedule(j.sched, cron.FuncJob(func() { s.tick(j) }))
		}
	}
	return s, nil
}

// Jobs returns the scheduler's jobs in dependency order.
func (s *Scheduler) Jobs() []Job {
	out := make([]Job, len(s.order))
	for i, j := range s.order {
		out[i] = j.Job
	}
	return out
}

// Running returns the jobs running now.
func (s *Scheduler) Running() []catalog.Node {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []catalog.Node
	for _, jobs := range [][]*job{s.order, s.extra} {
		for _, j := range jobs {
			if j.running {
				out = append(out, j.Node)
			}
		}
	}
	return out
}

// Start starts the schedules and returns. First, every scheduled job whose
// last success is older than its previous scheduled time (it was missed
// while nothing ran, or never ran) runs once, with trigger catch-up, in
// dependency order; missed ticks do not pile up. Each catch-up is logged.
//
// Runs go on after ctx is done: Stop stops them. Start may be called once.
func (s *Scheduler) Start(ctx context.Context) error {
	s.mu.Lock()
	if s.started || s.stopping {
		s.mu.Unlock()
		return errors.New("scheduler: already started")
	}
	s.started = true
	s.mu.Unlock()
	due, err := s.catchUps(ctx, time.Now())
	if err != nil {
		return err
	}
	scheduled := 0
	for _, j := range s.order {
		if j.sched != nil {
			scheduled++
		}
	}
	s.log.Info().Int("jobs", len(s.order)).Int("scheduled", scheduled).Int("catch_up", len(due)).Msg("scheduler started")
	if s.track() {
		go func() {
			defer s.runs.Done()
			for _, c := range due {
				if s.isStopping() {
					return
				}
				// A catch-up done already by a run upstream is not done twice.
				if last, err := s.lastSuccess(s.ctx, c.job); err == nil && !last.Before(c.prev) {
					continue
				}
				s.runAndCascade(s.ctx, c.job, catalog.TriggerCatchUp, c.cause)
			}
		}()
	}
	s.cron.Start()
	return nil
}

// Run starts the scheduler, waits for ctx to be done, then stops it,
// letting running jobs finish for at most grace before cancelling them.
func (s *Scheduler) Run(ctx context.Context, grace time.Duration) error {
	if err := s.Start(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	stop, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	return s.Stop(stop)
}

// stopTimeout bounds the wait, after cancelling the runs, for them to roll
// back and record that they were cancelled.
const stopTimeout = 30 * time.Second

// Stop stops the scheduler: no run starts any more (ticks, cascades,
// catch-ups); the runs under way finish, until ctx is done (the grace
// period), when they are cancelled: an ingest cancelled rolls back and
// leaves the previous snapshot, and its run is recorded as cancelled. Stop
// returns when every run has ended.
func (s *Scheduler) Stop(ctx context.Context) error {
	s.mu.Lock()
	s.stopping = true
	var running []string
	for _, j := range s.order {
		if j.running {
			running = append(running, string(j.Node))
		}
	}
	s.mu.Unlock()
	s.cron.Stop()
	if len(running) > 0 {
		s.log.Info().Strs("running", running).Msg("stopping: no new runs; waiting for the running ones to finish")
	}
	done := make(chan struct{})
	go func() {
		s.runs.Wait()
		close(done)
	}()
	defer s.cancel()
	select {
	case <-done:
		s.log.Info().Msg("scheduler stopped")
		return nil
	case <-ctx.Done():
	}
	s.log.Warn().Strs("running", running).Msg("grace period over: cancelling the running runs")
	s.cancel()
	select {
	case <-done:
		s.log.Info().Msg("scheduler stopped")
		return nil
	case <-time.After(stopTimeout):
		return fmt.Errorf("scheduler: runs still going %s after they were cancelled", stopTimeout)
	}
}

// RunOptions say how a manual run goes.
type RunOptions struct {
	// Force loads the dataset, or computes the pipeline's output, even when
	// its source or inputs did not change.
	Force bool
	// Downstream runs, when the run loaded a new snapshot, the jobs that
	// depend on it, after it, in dependency order.
	Downstream bool
	// Cause says what asked for the run (recorded in catalog.Run.Cause),
	// e.g. the API request.
	Cause string
}

// RunNow runs a job now, with trigger manual, and returns its run when it
// is over, its downstream jobs included when opts.Downstream is set (the
// run's Status says how it ended; the error is for a job that does not
// exist or a scheduler stopping). A job already running is not run again:
// the returned run says Skipped. Cancelling ctx cancels the run. RunNow
// works whether the scheduler is started or not.
func (s *Scheduler) RunNow(ctx context.Context, node catalog.Node, opts RunOptions) (catalog.Run, error) {
	j, err := s.job(node)
	if err != nil {
		return catalog.Run{}, err
	}
	if !s.track() {
		return catalog.Run{}, errors.New("scheduler: stopping; no new run")
	}
	defer s.runs.Done()
	runCtx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	defer context.AfterFunc(ctx, cancel)()
	run, changed := s.runJob(runCtx, j, catalog.TriggerManual, opts.Cause, opts.Force)
	if changed && opts.Downstream {
		s.cascade(runCtx, map[string]int64{j.Output: run.Snapshot})
	}
	return run, nil
}

// Launch starts a manual run of a job in the background, as RunNow does,
// and returns it as soon as it is recorded, status Running (its end is in
// the catalog, catalog.Store.Run); with opts.Downstream, the jobs that
// depend on it follow it as they would a scheduled run. A job running
// already is not run again: the error is then a *BusyError naming the run
// under way, and nothing is recorded. The run goes on until it ends or the
// scheduler stops.
func (s *Scheduler) Launch(node catalog.Node, opts RunOptions) (catalog.Run, error) {
	j, err := s.job(node)
	if err != nil {
		return catalog.Run{}, err
	}
	if !s.track() {
		return catalog.Run{}, errors.New("scheduler: stopping; no new run")
	}
	s.mu.Lock()
	if j.running {
		busy := &BusyError{Job: j.Node, Run: j.current}
		s.mu.Unlock()
		s.runs.Done()
		return catalog.Run{}, busy
	}
	j.running = true
	s.mu.Unlock()
	run, log, ok := s.begin(s.ctx, j, catalog.TriggerManual, opts.Cause)
	go func() {
		defer s.runs.Done()
		last, changed := s.complete(s.ctx, j, run, log, ok, opts.Force)
		if changed && opts.Downstream {
			s.cascade(s.ctx, map[string]int64{j.Output: last.Snapshot})
		}
	}()
	if !ok {
		return run, errors.New(run.Error)
	}
	return run, nil
}

// job returns the job of node, or an error wrapping ErrInvalid.
func (s *Scheduler) job(node catalog.Node) (*job, error) {
	s.mu.Lock()
	j, ok := s.jobs[node]
	s.mu.Unlock()
	if ok {
		return j, nil
	}
	// A dataset registered since NewScheduler (through the API, say) can be
	// run on demand; its schedule waits for the next scheduler.
	if node.Kind() == catalog.KindDataset {
		d, err := s.ws.Catalog.Dataset(context.WithoutCancel(s.ctx), node.Name())
		if err == nil && d.Source.Kind != PipelineKind {
			s.mu.Lock()
			defer s.mu.Unlock()
			if j, ok := s.jobs[node]; ok {
				return j, nil
			}
			j := &job{Job: Job{Node: node, Output: d.ID}}
			s.jobs[node], s.extra = j, append(s.extra, j)
			s.log.Info().Str("job", string(node)).Msg("a dataset registered since the scheduler started: run on demand; restart serve for its schedule")
			return j, nil
		}
	}
	var known []string
	for _, j := range s.order {
		known = append(known, string(j.Node))
	}
	return nil, fmt.Errorf("%s: %w: no such job; the jobs are %s", node, ErrInvalid, strings.Join(known, ", "))
}

// track counts a run under way, unless the scheduler is stopping.
func (s *Scheduler) track() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping {
		return false
	}
	s.runs.Add(1)
	return true
}

func (s *Scheduler) isStopping() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopping
}

// tick is a scheduled time of j.
func (s *Scheduler) tick(j *job) {
	if !s.track() {
		return
	}
	defer s.runs.Done()
	s.runAndCascade(s.ctx, j, catalog.TriggerSchedule, "schedule "+j.Schedule)
}

// runAndCascade runs j, then, when it loaded a new snapshot, what depends
// on it. It returns j's run.
func (s *Scheduler) runAndCascade(ctx context.Context, j *job, trigger catalog.Trigger, cause string) catalog.Run {
	run, changed := s.runJob(ctx, j, trigger, cause, false)
	if changed {
		s.cascade(ctx, map[string]int64{j.Output: run.Snapshot})
	}
	return run
}

// cascade runs, in dependency order, each job that runs on change and
// reads a dataset of changed (dataset -> snapshot), adding to changed the
// new snapshots they load.
func (s *Scheduler) cascade(ctx context.Context, changed map[string]int64) {
	for _, j := range s.order {
		if !j.OnChange || s.isStopping() || ctx.Err() != nil {
			continue
		}
		var causes []string
		for _, in := range j.Inputs {
			if snap, ok := changed[in]; ok {
				causes = append(causes, fmt.Sprintf("dataset:%s snapshot %d", in, snap))
			}
		}
		if len(causes) == 0 {
			continue
		}
		run, ok := s.runJob(ctx, j, catalog.TriggerUpstream, "new "+strings.Join(causes, ", "), false)
		if ok && j.Output != "" {
			changed[j.Output] = run.Snapshot
		}
	}
}

// runJob runs j unless it is running already, in which case it records a
// skipped run (and, for an upstream trigger, has j run again once the
// current run is over). It reports whether j loaded a new snapshot.
func (s *Scheduler) runJob(ctx context.Context, j *job, trigger catalog.Trigger, cause string, force bool) (catalog.Run, bool) {
	if skipped, ok := s.acquire(ctx, j, trigger, cause); !ok {
		return skipped, false
	}
	run, log, ok := s.begin(ctx, j, trigger, cause)
	return s.complete(ctx, j, run, log, ok, force)
}

// acquire marks j running; when it is already, it records a skipped run
// and returns it.
func (s *Scheduler) acquire(ctx context.Context, j *job, trigger catalog.Trigger, cause string) (catalog.Run, bool) {
	s.mu.Lock()
	if !j.running {
		j.running = true
		s.mu.Unlock()
		return catalog.Run{}, true
	}
	if trigger == catalog.TriggerUpstream {
		j.pending, j.pendingCause = true, cause
	}
	s.mu.Unlock()
	return s.skip(ctx, j, trigger, cause), false
}

// complete finishes j's begun run (when ok), then runs j again while an
// input changed during the last run, and marks j as not running. It
// returns the last run, and whether one loaded a new snapshot.
func (s *Scheduler) complete(ctx context.Context, j *job, run catalog.Run, log zerolog.Logger, ok, force bool) (catalog.Run, bool) {
	changed := false
	for {
		if ok {
			var ch bool
			run, ch = s.finish(ctx, j, run, log, force)
			changed = changed || ch
		}
		s.mu.Lock()
		again := j.pending && !s.stopping && ctx.Err() == nil
		cause := j.pendingCause
		j.pending, j.pendingCause = false, ""
		if !again {
			j.running, j.current = false, 0
			s.mu.Unlock()
			return run, changed
		}
		s.mu.Unlock()
		run, log, ok = s.begin(ctx, j, catalog.TriggerUpstream, cause)
		force = false
	}
}

// skip records that j did not run because it was running.
func (s *Scheduler) skip(ctx context.Context, j *job, trigger catalog.Trigger, cause string) catalog.Run {
	run := catalog.Run{Job: j.Node, Trigger: trigger, Cause: cause, Status: catalog.Skipped,
		Error: "the previous run was still going"}
	recorded, err := s.ws.Catalog.AddRun(context.WithoutCancel(ctx), run)
	if err != nil {
		s.log.Error().Err(err).Str("job", string(j.Node)).Msg("could not record a skipped run")
		return run
	}
	s.log.Info().Str("job", string(j.Node)).Int64("run", recorded.ID).Str("trigger", string(trigger)).
		Msg("skipped: the previous run is still going")
	return recorded
}

// outcome is what one try of a job gave.
type outcome struct {
	status   catalog.Status
	rows     int64
	snapshot int64
}

// begin records that a run of j starts. When it cannot, it says why in the
// returned run, and ok is false.
func (s *Scheduler) begin(ctx context.Context, j *job, trigger catalog.Trigger, cause string) (catalog.Run, zerolog.Logger, bool) {
	log := s.log.With().Str("job", string(j.Node)).Str("trigger", string(trigger)).Logger()
	run, err := s.ws.Catalog.BeginRun(context.WithoutCancel(ctx), j.Node, trigger, cause)
	if err != nil {
		log.Error().Err(err).Msg("could not record the run; not running it")
		return catalog.Run{Job: j.Node, Trigger: trigger, Cause: cause, Status: catalog.Failed, Error: err.Error()}, log, false
	}
	log = log.With().Int64("run", run.ID).Logger()
	log.Info().Str("cause", cause).Msg("run started")
	s.mu.Lock()
	j.current = run.ID
	s.mu.Unlock()
	return run, log, true
}

// finish runs j (retrying transient failures) for its begun run, records
// how it ended, and reports whether it loaded a new snapshot.
func (s *Scheduler) finish(ctx context.Context, j *job, run catalog.Run, log zerolog.Logger, force bool) (catalog.Run, bool) {
	wait := s.opts.Retry.Initial
	var out outcome
	var err error
	for {
		out, err = s.try(ctx, j, force)
		if out.snapshot != 0 {
			run.Snapshot = out.snapshot
		}
		if err == nil || ctx.Err() != nil || !Transient(err) || run.Attempts >= s.opts.Retry.Attempts {
			break
		}
		log.Warn().Str("error", LogSafeError(err, s.ws.JobLevel(ctx, j.Node, nil))).Int("attempt", run.Attempts).Dur("retry_in", wait).Msg("transient failure; trying again")
		select {
		case <-time.After(wait):
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wait = min(2*wait, s.opts.Retry.Max)
		run.Attempts++
	}
	switch {
	case err == nil:
		run.Status, run.Rows = out.status, out.rows
	case ctx.Err() != nil:
		run.Status, run.Error = catalog.Cancelled, fmt.Sprintf("cancelled: %v", err)
	default:
		run.Status, run.Error = catalog.Failed, err.Error()
	}
	run.FinishedAt = time.Now().UTC()
	if ferr := s.ws.Catalog.FinishRun(context.WithoutCancel(ctx), run); ferr != nil {
		log.Error().Err(ferr).Msg("could not record the end of the run")
	}
	ev := log.Info()
	if run.Status == catalog.Failed || run.Status == catalog.Cancelled {
		ev = log.Error().Str("error", LogSafeError(err, s.ws.JobLevel(ctx, j.Node, nil)))
	}
	ev.Str("status", string(run.Status)).Int64("rows", run.Rows).Int("attempts", run.Attempts).
		Int64("snapshot", run.Snapshot).Dur("took", run.Duration()).Msg("run finished")
	return run, err == nil && out.status == catalog.Succeeded && j.Output != ""
}

// try runs j once; a panic becomes its error.
func (s *Scheduler) try(ctx context.Context, j *job, force bool) (out outcome, err error) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error().Str("job", string(j.Node)).Str("stack", string(debug.Stack())).Msg("the run panicked")
			err = fmt.Errorf("%w: %v", ErrPanic, r)
		}
	}()
	switch j.Node.Kind() {
	case catalog.KindProject:
		res, err := s.ws.RunProject(ctx, j.Node.Name())
		if err != nil {
			return out, err
		}
		out.status = catalog.Succeeded
		for _, p := range res.Publications {
			for _, ind := range p.Indicators {
				out.rows += int64(len(ind.Rows))
			}
		}
		return out, nil
	default:
		var snap catalog.Snapshot
		if j.Node.Kind() == catalog.KindPipeline {
			snap, err = s.ws.RunPipeline(ctx, j.Node.Name(), IngestOptions{Force: force})
		} else {
			snap, err = s.ws.Ingest(ctx, j.Output, IngestOptions{Force: force})
		}
		out.snapshot = snap.ID
		if err != nil {
			return out, err
		}
		out.status, out.rows = snap.Status, snap.Rows
		return out, nil
	}
}

// catchUp is a job to run once at start.
type catchUp struct {
	job   *job
	prev  time.Time
	cause string
}

// catchUps returns the scheduled jobs whose last success is older than
// their previous scheduled time, in dependency order, and logs each.
func (s *Scheduler) catchUps(ctx context.Context, now time.Time) ([]catchUp, error) {
	var due []catchUp
	for _, j := range s.order {
		if j.sched == nil {
			continue
		}
		prev := previousActivation(j.sched, now)
		if prev.IsZero() {
			continue
		}
		last, err := s.lastSuccess(ctx, j)
		if err != nil {
			return nil, err
		}
		if !last.IsZero() && !last.Before(prev) {
			continue
		}
		lastText := "never"
		if !last.IsZero() {
			lastText = last.Local().Format(time.DateTime)
		}
		cause := fmt.Sprintf("missed: last success %s, scheduled %s", lastText, prev.Local().Format(time.DateTime))
		s.log.Info().Str("job", string(j.Node)).Str("schedule", j.Schedule).Str("last_success", lastText).
			Time("scheduled", prev).Msg("missed run: its last success is older than its previous scheduled time; running it once now")
		due = append(due, catchUp{job: j, prev: prev, cause: cause})
	}
	return due, nil
}

// lastSuccess is when j last succeeded: its runs, and the loads of its
// output (made outside the scheduler too).
func (s *Scheduler) lastSuccess(ctx context.Context, j *job) (time.Time, error) {
	last, err := s.ws.Catalog.LastSuccess(ctx, j.Node)
	if err != nil || j.Output == "" || j.Node.Kind() == catalog.KindDataset {
		return last, err
	}
	out, err := s.ws.Catalog.LastSuccess(ctx, catalog.DatasetNode(j.Output))
	if out.After(last) {
		last = out
	}
	return last, err
}

// previousActivation returns the latest time at or before now when sched
// was due, zero when there is none in the last eight years.
func previousActivation(sched cron.Schedule, now time.Time) time.Time {
	if every, ok := sched.(cron.ConstantDelaySchedule); ok {
		return now.Add(-every.Delay)
	}
	for back := time.Minute; back <= 8*366*24*time.Hour; back *= 2 {
		t := sched.Next(now.Add(-back))
		if t.IsZero() {
			return time.Time{}
		}
		if t.After(now) {
			continue
		}
		for {
			next := sched.Next(t)
			if next.IsZero() || next.After(now) {
				return t
			}
			t = next
		}
	}
	return time.Time{}
}

// Transient reports whether err may go away when tried again later: an
// error wrapping connectors.ErrTransient (a server's 5xx), a network error
// (a timeout, a refused or reset connection), or a warehouse busy (a lock
// or a transaction conflict). Everything else is permanent: a bad value, a
// bad registration, a broken contract, a panic, a cancellation.
func Transient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, ErrPanic) {
		return false
	}
	if errors.Is(err, connectors.ErrTransient) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return true
	}
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	var de *duckdb.Error
	if errors.As(err, &de) {
		if de.Type == duckdb.ErrorTypeTransaction {
			return true
		}
		msg := strings.ToLower(de.Msg)
		return strings.Contains(msg, "conflict") || strings.Contains(msg, "could not set lock")
	}
	return false
}
