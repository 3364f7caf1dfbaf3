package catalog

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// Status is where an ingest stands.
type Status string

// The statuses of a snapshot.
const (
	// Running: the ingest started and has not finished. A snapshot left
	// running by a process that died is marked Failed by Recover.
	Running Status = "running"
	// Succeeded: the table holds this snapshot's rows.
	Succeeded Status = "succeeded"
	// Failed: nothing was loaded; the previous table and snapshot stand.
	Failed Status = "failed"
	// Unchanged: the source had not changed since the last success; nothing
	// was loaded.
	Unchanged Status = "unchanged"
)

// Snapshot is one ingest of a dataset: when, from where, what it loaded.
type Snapshot struct {
	ID      int64  `json:"id"`
	Dataset string `json:"dataset"`
	// Access is the dataset's level when it was loaded.
	Access     Level     `json:"access"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	Status     Status    `json:"status"`
	// Rows is the number of rows loaded; Rejected those set aside.
	Rows     int64 `json:"rows"`
	Rejected int64 `json:"rejected"`
	// Columns is the loaded table's schema.
	Columns []Column `json:"columns,omitempty"`
	// ContentHash identifies the loaded table's content: same columns, types
	// and rows give the same hash, whatever their order.
	ContentHash string `json:"content_hash,omitempty"`
	// Location is where it was read from, without credentials.
	Location string `json:"location,omitempty"`
	// Fingerprint is the source's version as its connector tells it (ETag,
	// Last-Modified, size and modification time, content hash), as JSON.
	Fingerprint json.RawMessage `json:"fingerprint,omitempty"`
	// Error says why a failed ingest failed.
	Error string `json:"error,omitempty"`
	// Cursor is, for an incremental source, the highest cursor value
	// loaded so far.
	Cursor string `json:"cursor,omitempty"`
}

// Column is a column of a loaded table.
type Column struct {
	Name string `json:"name"`
	// Title is the source's original header.
	Title string `json:"title,omitempty"`
	// Type is the DuckDB type.
	Type string `json:"type"`
}

// Duration is how long the ingest took, zero while it runs.
func (s Snapshot) Duration() time.Duration {
	if s.FinishedAt.IsZero() {
		return 0
	}
	return s.FinishedAt.Sub(s.StartedAt)
}

// BeginSnapshot records that an ingest of d starts, and returns its snapshot
// with an id, status Running.
func (s *Store) BeginSnapshot(ctx context.Context, d Dataset, location string) (Snapshot, error) {
	snap := Snapshot{Dataset: d.ID, Access: d.Access, StartedAt: time.Now().UTC(), Status: Running, Location: location}
	err := s.q.QueryRowContext(ctx, `INSERT INTO datalab.snapshots (dataset, access, started_at, status, location)
		VALUES (?, ?, ?, ?, ?) RETURNING id`, snap.Dataset, snap.Access.String(), snap.StartedAt, string(snap.Status), location).Scan(&snap.ID)
	if err != nil {
		return Snapshot{}, fmt.Errorf("catalog: begin snapshot of %s: %w", d.ID, err)
	}
	return snap, nil
}

// FinishSnapshot records how snap ended: its status, rows, columns, hash,
// fingerprint or error. FinishedAt is set to now when zero.
func (s *Store) FinishSnapshot(ctx context.Context, snap Snapshot) error {
	if snap.FinishedAt.IsZero() {
		snap.FinishedAt = time.Now().UTC()
	}
	cols, err := json.Marshal(snap.Columns)
	if err != nil {
		return fmt.Errorf("catalog: snapshot %d: columns: %w", snap.ID, err)
	}
	var fp any
	if len(snap.Fingerprint) > 0 {
		fp = string(snap.Fingerprint)
	}
	res, err := s.q.ExecContext(ctx, `UPDATE datalab.snapshots SET finished_at = ?, status = ?, rows = ?, rejected = ?,
		columns = ?, content_hash = ?, location = ?, fingerprint = ?, error = ?, cursor = ? WHERE id = ?`,
		snap.FinishedAt.UTC(), string(snap.Status), snap.Rows, snap.Rejected, string(cols), snap.ContentHash,
		snap.Location, fp, snap.Error, snap.Cursor, snap.ID)
	if err != nil {
		return fmt.Errorf("catalog: finish snapshot %d: %w", snap.ID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("catalog: snapshot %d: %w", snap.ID, ErrNotFound)
	}
	return nil
}

const snapshotColumns = `id, dataset, access, started_at, finished_at, status, rows, rejected,
	CAST(columns AS VARCHAR), content_hash, location, CAST(fingerprint AS VARCHAR), error, cursor`

// Snapshots returns the latest snapshots of a dataset, newest first, at
// most limit of them (all when limit <= 0).
func (s *Store) Snapshots(ctx context.Context, dataset string, limit int) ([]Snapshot, error) {
	q := `SELECT ` + snapshotColumns + ` FROM datalab.snapshots WHERE dataset = ? ORDER BY id DESC`
	args := []any{dataset}
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	return s.querySnapshots(ctx, q, args...)
}

// Current returns the dataset's last successful snapshot: the one its table
// holds. The error wraps ErrNotFound when it was never loaded.
func (s *Store) Current(ctx context.Context, dataset string) (Snapshot, error) {
	snaps, err := s.querySnapshots(ctx, `SELECT `+snapshotColumns+` FROM datalab.snapshots
		WHERE dataset = ? AND status = 'succeeded' ORDER BY id DESC LIMIT 1`, dataset)
	if err != nil {
		return Snapshot{}, err
	}
	if len(snaps) == 0 {
		return Snapshot{}, fmt.Errorf("dataset %s was never loaded: %w; run `datalab ingest %s`", dataset, ErrNotFound, dataset)
	}
	return snaps[0], nil
}

// Snapshot returns the snapshot of that id.
func (s *Store) Snapshot(ctx context.Context, id int64) (Snapshot, error) {
	snaps, err := s.querySnapshots(ctx, `SELECT `+snapshotColumns+` FROM datalab.snapshots WHERE id = ?`, id)
	if err != nil {
		return Snapshot{}, err
	}
	if len(snaps) == 0 {
		return Snapshot{}, fmt.Errorf("snapshot %d: %w", id, ErrNotFound)
	}
	return snaps[0], nil
}

// Recover marks Failed every snapshot still Running: an ingest that a
// stopped process left unfinished. Call it when the warehouse is opened for
// writing. It returns how many it marked.
func (s *Store) Recover(ctx context.Context) (int64, error) {
	res, err := s.q.ExecContext(ctx, `UPDATE datalab.snapshots SET status = 'failed', finished_at = ?,
		error = 'interrupted: the process stopped before the ingest finished; the previous snapshot stands'
		WHERE status = 'running'`, time.Now().UTC())
	if err != nil {
		return 0, fmt.Errorf("catalog: recover interrupted snapshots: %w", err)
	}
	return res.RowsAffected()
}

func (s *Store) querySnapshots(ctx context.Context, q string, args ...any) ([]Snapshot, error) {
	rows, err := s.q.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("catalog: snapshots: %w", err)
	}
	defer rows.Close()
	var out []Snapshot
	for rows.Next() {
		var snap Snapshot
		var access, status string
		var finished sql.NullTime
		var nrows, rejected sql.NullInt64
		var cols, hash, loc, fp, msg, cursor sql.NullString
		if err := rows.Scan(&snap.ID, &snap.Dataset, &access, &snap.StartedAt, &finished, &status, &nrows, &rejected,
			&cols, &hash, &loc, &fp, &msg, &cursor); err != nil {
			return nil, fmt.Errorf("catalog: read snapshot: %w", err)
		}
		snap.Access, _ = ParseLevel(access)
		snap.FinishedAt, snap.Status, snap.Rows, snap.Rejected = finished.Time, Status(status), nrows.Int64, rejected.Int64
		snap.ContentHash, snap.Location, snap.Error, snap.Cursor = hash.String, loc.String, msg.String, cursor.String
		if fp.Valid && fp.String != "" {
			snap.Fingerprint = json.RawMessage(fp.String)
		}
		if cols.Valid && cols.String != "" && cols.String != "null" {
			if err := json.Unmarshal([]byte(cols.String), &snap.Columns); err != nil {
				return nil, fmt.Errorf("catalog: snapshot %d: columns: %w", snap.ID, err)
			}
		}
		out = append(out, snap)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("catalog: read snapshots: %w", err)
	}
	return out, nil
}
