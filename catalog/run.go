package catalog

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// KindProject is the kind of a project's node, as a job of the scheduler:
// project:<name>.
const KindProject = "project"

// The statuses only a Run has, besides Running, Succeeded, Unchanged and
// Failed.
const (
	// Cancelled: the run was stopped (the scheduler shut down); what it was
	// writing was rolled back, the previous snapshot stands.
	Cancelled Status = "cancelled"
	// Skipped: the run did not start because the same job was still running.
	Skipped Status = "skipped"
)

// Trigger says why a run started.
type Trigger string

// The triggers.
const (
	// TriggerSchedule: the job's cron schedule came due.
	TriggerSchedule Trigger = "schedule"
	// TriggerUpstream: an input of the job got a new snapshot.
	TriggerUpstream Trigger = "upstream"
	// TriggerManual: someone asked for it (a command, the API).
	TriggerManual Trigger = "manual"
	// TriggerCatchUp: the scheduler started and found the job's last success
	// older than its previous scheduled time (missed while stopped).
	TriggerCatchUp Trigger = "catch-up"
)

// Triggers lists every trigger.
func Triggers() []Trigger {
	return []Trigger{TriggerSchedule, TriggerUpstream, TriggerManual, TriggerCatchUp}
}

// RunStatuses lists every status a run can have.
func RunStatuses() []Status {
	return []Status{Running, Succeeded, Unchanged, Failed, Cancelled, Skipped}
}

// Run is one run of a job of the scheduler: an ingest of a dataset, a run of
// a pipeline or of a project's notebooks.
type Run struct {
	ID int64 `json:"id"`
	// Job is what ran: dataset:<id>, pipeline:<name> or project:<name>.
	Job     Node    `json:"job"`
	Trigger Trigger `json:"trigger"`
	// Cause says more about the trigger: the schedule, the upstream dataset
	// and its snapshot, the missed time.
	Cause      string    `json:"cause,omitempty"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	Status     Status    `json:"status"`
	// Rows is what the run produced: the rows of the snapshot it loaded, or
	// the indicator values a project computed.
	Rows int64 `json:"rows"`
	// Attempts counts the tries: more than one when transient failures were
	// retried.
	Attempts int `json:"attempts"`
	// Snapshot is the snapshot an ingest or a pipeline recorded, 0 for none.
	Snapshot int64 `json:"snapshot,omitempty"`
	// Error says why it failed, was cancelled or skipped.
	Error string `json:"error,omitempty"`
}

// Duration is how long the run took, zero while it runs.
func (r Run) Duration() time.Duration {
	if r.FinishedAt.IsZero() {
		return 0
	}
	return r.FinishedAt.Sub(r.StartedAt)
}

// BeginRun records that a run of job starts, and returns it with an id,
// status Running and one attempt.
func (s *Store) BeginRun(ctx context.Context, job Node, trigger Trigger, cause string) (Run, error) {
	r := Run{Job: job, Trigger: trigger, Cause: cause, StartedAt: time.Now().UTC(), Status: Running, Attempts: 1}
	if err := s.insertRun(ctx, &r); err != nil {
		return Run{}, err
	}
	return r, nil
}

// AddRun records a run that is already over, such as a skipped one, and
// returns it with its id. StartedAt and FinishedAt are set to now when zero.
func (s *Store) AddRun(ctx context.Context, r Run) (Run, error) {
	now := time.Now().UTC()
	if r.StartedAt.IsZero() {
		r.StartedAt = now
	}
	if r.FinishedAt.IsZero() {
		r.FinishedAt = now
	}
	if err := s.insertRun(ctx, &r); err != nil {
		return Run{}, err
	}
	return r, nil
}

func (s *Store) insertRun(ctx context.Context, r *Run) error {
	if r.Job.Kind() == "" || r.Job.Name() == "" || !strings.Contains(string(r.Job), ":") {
		return fmt.Errorf("catalog: run of %q: name the job as kind:name", r.Job)
	}
	var finished any
	if !r.FinishedAt.IsZero() {
		finished = r.FinishedAt.UTC()
	}
	err := s.q.QueryRowContext(ctx, `INSERT INTO datalab.runs
		(kind, name, trigger, cause, started_at, finished_at, status, rows, attempts, snapshot, error)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		r.Job.Kind(), r.Job.Name(), string(r.Trigger), r.Cause, r.StartedAt.UTC(), finished, string(r.Status),
		r.Rows, r.Attempts, r.Snapshot, r.Error).Scan(&r.ID)
	if err != nil {
		return fmt.Errorf("catalog: record a run of %s: %w", r.Job, err)
	}
	return nil
}

// FinishRun records how r ended: its status, rows, attempts, snapshot or
// error. FinishedAt is set to now when zero.
func (s *Store) FinishRun(ctx context.Context, r Run) error {
	if r.FinishedAt.IsZero() {
		r.FinishedAt = time.Now().UTC()
	}
	res, err := s.q.ExecContext(ctx, `UPDATE datalab.runs SET finished_at = ?, status = ?, rows = ?, attempts = ?,
		snapshot = ?, error = ? WHERE id = ?`,
		r.FinishedAt.UTC(), string(r.Status), r.Rows, r.Attempts, r.Snapshot, r.Error, r.ID)
	if err != nil {
		return fmt.Errorf("catalog: finish run %d: %w", r.ID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("catalog: run %d: %w", r.ID, ErrNotFound)
	}
	return nil
}

// RunFilter selects runs. Zero fields select everything.
type RunFilter struct {
	// Job selects the runs of one job; Kind those of one kind of job
	// (dataset, pipeline, project).
	Job  Node
	Kind string
	// Status and Trigger select runs that ended so or started so.
	Status  Status
	Trigger Trigger
	// Since selects the runs that started at or after it.
	Since time.Time
	// Limit is the most runs returned, the latest ones; 0 means all.
	Limit int
}

const runColumns = `id, kind, name, trigger, cause, started_at, finished_at, status, rows, attempts, snapshot, error`

// Runs returns the runs f selects, newest first.
func (s *Store) Runs(ctx context.Context, f RunFilter) ([]Run, error) {
	var where []string
	var args []any
	if f.Job != "" {
		where = append(where, "kind = ? AND name = ?")
		args = append(args, f.Job.Kind(), f.Job.Name())
	}
	if f.Kind != "" {
		where = append(where, "kind = ?")
		args = append(args, f.Kind)
	}
	if f.Status != "" {
		where = append(where, "status = ?")
		args = append(args, string(f.Status))
	}
	if f.Trigger != "" {
		where = append(where, "trigger = ?")
		args = append(args, string(f.Trigger))
	}
	if !f.Since.IsZero() {
		where = append(where, "started_at >= ?")
		args = append(args, f.Since.UTC())
	}
	q := `SELECT ` + runColumns + ` FROM datalab.runs`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC"
	if f.Limit > 0 {
		q += " LIMIT ?"
		args = append(args, f.Limit)
	}
	return s.queryRuns(ctx, q, args...)
}

// Run returns the run of that id, or an error wrapping ErrNotFound.
func (s *Store) Run(ctx context.Context, id int64) (Run, error) {
	runs, err := s.queryRuns(ctx, `SELECT `+runColumns+` FROM datalab.runs WHERE id = ?`, id)
	if err != nil {
		return Run{}, err
	}
	if len(runs) == 0 {
		return Run{}, fmt.Errorf("run %d: %w", id, ErrNotFound)
	}
	return runs[0], nil
}

// LastSuccess returns when the last successful (or unchanged) run of job
// started; for a dataset, its last successful or unchanged snapshot counts
// too, so that loads made outside the scheduler (datalab ingest) are known.
// It returns the zero time when there is none.
func (s *Store) LastSuccess(ctx context.Context, job Node) (time.Time, error) {
	var last sql.NullTime
	err := s.q.QueryRowContext(ctx, `SELECT max(started_at) FROM datalab.runs
		WHERE kind = ? AND name = ? AND status IN ('succeeded', 'unchanged')`, job.Kind(), job.Name()).Scan(&last)
	if err != nil {
		return time.Time{}, fmt.Errorf("catalog: last success of %s: %w", job, err)
	}
	if job.Kind() == KindDataset {
		var snap sql.NullTime
		err := s.q.QueryRowContext(ctx, `SELECT max(started_at) FROM datalab.snapshots
			WHERE dataset = ? AND status IN ('succeeded', 'unchanged')`, job.Name()).Scan(&snap)
		if err != nil {
			return time.Time{}, fmt.Errorf("catalog: last load of %s: %w", job, err)
		}
		if snap.Valid && (!last.Valid || snap.Time.After(last.Time)) {
			last = snap
		}
	}
	if !last.Valid {
		return time.Time{}, nil
	}
	return last.Time.UTC(), nil
}

// RecoverRuns marks Failed every run still Running: a run that a stopped
// process left unfinished (killed, crashed). Call it when the warehouse is
// opened for writing. It returns how many it marked.
func (s *Store) RecoverRuns(ctx context.Context) (int64, error) {
	res, err := s.q.ExecContext(ctx, `UPDATE datalab.runs SET status = 'failed', finished_at = ?,
		error = 'interrupted: the process stopped before the run finished; what it was writing was rolled back'
		WHERE status = 'running'`, time.Now().UTC())
	if err != nil {
		return 0, fmt.Errorf("catalog: recover interrupted runs: %w", err)
	}
	return res.RowsAffected()
}

func (s *Store) queryRuns(ctx context.Context, q string, args ...any) ([]Run, error) {
	rows, err := s.q.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("catalog: runs: %w", err)
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		var r Run
		var kind, name, trigger, status string
		var cause, msg sql.NullString
		var finished sql.NullTime
		var nrows, snapshot sql.NullInt64
		var attempts sql.NullInt32
		if err := rows.Scan(&r.ID, &kind, &name, &trigger, &cause, &r.StartedAt, &finished, &status, &nrows,
			&attempts, &snapshot, &msg); err != nil {
			return nil, fmt.Errorf("catalog: read run: %w", err)
		}
		r.Job, r.Trigger, r.Cause, r.Status = NewNode(kind, name), Trigger(trigger), cause.String, Status(status)
		r.StartedAt = r.StartedAt.UTC()
		if finished.Valid {
			r.FinishedAt = finished.Time.UTC()
		}
		r.Rows, r.Attempts, r.Snapshot, r.Error = nrows.Int64, int(attempts.Int32), snapshot.Int64, msg.String
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("catalog: read runs: %w", err)
	}
	return out, nil
}
