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
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/duckdb/duckdb-go/v2"

	"github.com/datalab/datalab/catalog"
	"github.com/datalab/datalab/connectors"
)

// IngestOptions tune one ingest.
type IngestOptions struct {
	// Allocator allocates the Arrow batches; nil means the default.
	Allocator memory.Allocator
	// Force loads the source even when it has not changed.
	Force bool
	// Progress, when set, is called from the ingest's goroutine with the
	// number of rows read so far, after each batch.
	Progress func(rows int64)
}

// Ingest loads one dataset from its source into its table, through Arrow
// record batches, and records the snapshot in the catalog.
//
// The table and its snapshot are replaced in one transaction: a reader sees
// the old ones or the new ones, never half. When the source fails half way,
// a value breaks the schema or the contract, or ctx is cancelled, the
// previous table and snapshot stay as they were and a failed snapshot
// records why; the returned error says it too. A source that has not
// changed since the last success is not loaded again: the snapshot says
// Unchanged.
//
// The returned snapshot is the one recorded (failed ones included), so that
// callers can report it; its ID is 0 when not even that could be recorded.
func (w *Workspace) Ingest(ctx context.Context, id string, opts IngestOptions) (catalog.Snapshot, error) {
	d, err := w.Catalog.Dataset(ctx, id)
	if err != nil {
		if errors.Is(err, catalog.ErrNotFound) {
			return catalog.Snapshot{}, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		return catalog.Snapshot{}, err
	}
	log := w.Log.With().Str("component", "ingest").Str("dataset", id).Logger()
	src, err := w.source(d)
	if err != nil {
		return catalog.Snapshot{}, fmt.Errorf("dataset %s: registration %s no longer holds: %w; fix it and register it again", id, d.File, err)
	}
	prev, err := w.Catalog.Current(ctx, id)
	if err != nil && !errors.Is(err, catalog.ErrNotFound) {
		return catalog.Snapshot{}, err
	}
	var prevFP connectors.Fingerprint
	if len(prev.Fingerprint) > 0 && !opts.Force {
		if err := json.Unmarshal(prev.Fingerprint, &prevFP); err != nil {
			log.Warn().Err(err).Msg("the last snapshot's fingerprint is unreadable; loading again")
		}
	}
	snap, err := w.Catalog.BeginSnapshot(ctx, d, "")
	if err != nil {
		return catalog.Snapshot{}, err
	}
	log.Debug().Int64("snapshot", snap.ID).Msg("ingest started")

	loaded, err := w.load(ctx, d, src, prev, prevFP, snap, opts)
	if err == nil {
		log.Debug().Int64("snapshot", loaded.ID).Str("status", string(loaded.Status)).Int64("rows", loaded.Rows).
			Dur("took", loaded.Duration()).Msg("ingest finished")
		return loaded, nil
	}
	loaded.Status, loaded.Error, loaded.FinishedAt = catalog.Failed, err.Error(), time.Now().UTC()
	loaded.Rows, loaded.Columns, loaded.ContentHash = 0, nil, ""
	// The failure is recorded even when ctx was cancelled.
	if ferr := w.Catalog.FinishSnapshot(context.WithoutCancel(ctx), loaded); ferr != nil {
		err = errors.Join(err, ferr)
	}
	log.Error().Err(err).Int64("snapshot", snap.ID).Msg("ingest failed; the previous snapshot stands")
	return loaded, fmt.Errorf("ingest %s: %w", id, err)
}

// load does the work of Ingest; on error the caller records the failure.
func (w *Workspace) load(ctx context.Context, d catalog.Dataset, src connectors.Source, prev catalog.Snapshot,
	prevFP connectors.Fingerprint, snap catalog.Snapshot, opts IngestOptions) (catalog.Snapshot, error) {
	inc, incremental := src.(connectors.Incremental)
	appending := incremental && prev.ID != 0 && !opts.Force
	openOpts := connectors.OpenOptions{Allocator: opts.Allocator, Previous: prevFP}
	if appending {
		openOpts.Cursor = prev.Cursor
	}
	stream, err := src.Open(ctx, openOpts)
	if errors.Is(err, connectors.ErrUnchanged) {
		return w.unchanged(ctx, snap, prev)
	}
	if err != nil {
		return snap, err
	}
	defer stream.Release()
	snap.Location = stream.Fingerprint().Location

	if d.Contract == catalog.Freeze && prev.ID != 0 {
		if err := frozen(prev.Columns, stream.Schema()); err != nil {
			return snap, err
		}
	}

	conn, err := w.DB.Conn(ctx)
	if err != nil {
		return snap, fmt.Errorf("warehouse connection: %w", err)
	}
	defer conn.Close()
	counted := &countingReader{Stream: stream, ctx: ctx, progress: opts.Progress}
	view := fmt.Sprintf("datalab_ingest_%d", snap.ID)
	var release func()
	err = conn.Raw(func(dc any) error {
		a, err := duckdb.NewArrowFromConn(dc.(driver.Conn))
		if err != nil {
			return err
		}
		release, err = a.RegisterView(counted, view)
		return err
	})
	if err != nil {
		return snap, fmt.Errorf("hand the stream to DuckDB: %w", err)
	}
	defer release()

	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return snap, fmt.Errorf("begin transaction: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			tx.Rollback()
		}
	}()
	table := quoteIdent(d.SchemaName()) + "." + quoteIdent(d.TableName())
	if _, err := tx.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+quoteIdent(d.SchemaName())); err != nil {
		return snap, fmt.Errorf("create schema %s: %w", d.SchemaName(), err)
	}
	load := fmt.Sprintf("CREATE OR REPLACE TABLE %s AS SELECT * FROM %s", table, quoteIdent(view))
	staging := quoteIdent("datalab_staging_" + d.SchemaName() + "_" + d.TableName())
	if appending {
		load = fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %s AS SELECT * FROM %s", staging, quoteIdent(view))
	}
	if _, err := tx.ExecContext(ctx, load); err != nil {
		// The stream's own error says more than DuckDB's account of it.
		if serr := counted.Err(); serr != nil {
			return snap, serr
		}
		return snap, fmt.Errorf("load %s: %w", table, err)
	}
	if err := counted.Err(); err != nil {
		return snap, err
	}
	if cs, ok := stream.(connectors.CursorStream); ok && incremental {
		snap.Cursor = cs.Cursor()
	}
	if appending {
		if counted.rows.Load() == 0 {
			return w.unchanged(ctx, snap, prev)
		}
		if err := merge(ctx, tx, table, staging, stream.Schema(), prev.Columns, inc.PrimaryKey()); err != nil {
			return snap, err
		}
	}
	fp := stream.Fingerprint()
	if !incremental && !opts.Force && prev.ID != 0 && fp.ContentHash != "" && fp.ContentHash == prevFP.ContentHash {
		// Touched but not changed: roll the copy back, keep the snapshot.
		return w.unchanged(ctx, snap, prev)
	}
	rejected, err := checkConstraints(ctx, tx, d, table)
	if err != nil {
		return snap, err
	}
	snap.Rejected = rejected
	if snap.Columns, err = tableColumns(ctx, tx, d, stream.Schema()); err != nil {
		return snap, err
	}
	if snap.Rows, snap.ContentHash, err = contentHash(ctx, tx, table, snap.Columns); err != nil {
		return snap, err
	}
	if snap.Fingerprint, err = json.Marshal(fp); err != nil {
		return snap, fmt.Errorf("fingerprint: %w", err)
	}
	snap.Status = catalog.Succeeded
	snap.FinishedAt = time.Now().UTC()
	store := w.Catalog.In(tx)
	if err := store.FinishSnapshot(ctx, snap); err != nil {
		return snap, err
	}
	if err := store.AddEdges(ctx, catalog.Edge{From: catalog.NewNode(catalog.KindSource, snap.Location),
		To: catalog.DatasetNode(d.ID), Kind: "ingest", Snapshot: snap.ID}); err != nil {
		return snap, err
	}
	if err := tx.Commit(); err != nil {
		return snap, fmt.Errorf("commit %s: %w", table, err)
	}
	committed = true
	return snap, nil
}

// merge adds the rows of staging to table: the new columns first (the
// contract allowed them), then, with a primary key, the staged rows replace
// the loaded rows of the same key, else they are appended.
func merge(ctx context.Context, tx *sql.Tx, table, staging string, schema *arrow.Schema, loaded []catalog.Column, key []string) error {
	for _, f := range schema.Fields() {
		if !slices.ContainsFunc(loaded, func(c catalog.Column) bool { return c.Name == f.Name }) {
			if _, err := tx.ExecContext(ctx, fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s %s", table, quoteIdent(f.Name), duckType(f.Type))); err != nil {
				return fmt.Errorf("add column %s to %s: %w", f.Name, table, err)
			}
		}
	}
	if len(key) > 0 {
		cols := make([]string, len(key))
		for i, k := range key {
			cols[i] = quoteIdent(k)
		}
		tuple := "(" + strings.Join(cols, ", ") + ")"
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("DELETE FROM %s WHERE %s IN (SELECT %s FROM %s)", table, tuple, tuple, staging)); err != nil {
			return fmt.Errorf("merge into %s by %s: %w", table, strings.Join(key, ", "), err)
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("INSERT INTO %s BY NAME SELECT * FROM %s", table, staging)); err != nil {
		return fmt.Errorf("append to %s: %w", table, err)
	}
	_, err := tx.ExecContext(ctx, "DROP TABLE "+staging)
	return err
}

// unchanged records that the source had not changed since prev.
func (w *Workspace) unchanged(ctx context.Context, snap, prev catalog.Snapshot) (catalog.Snapshot, error) {
	snap.Status, snap.FinishedAt = catalog.Unchanged, time.Now().UTC()
	snap.Rows, snap.Columns, snap.ContentHash, snap.Fingerprint, snap.Cursor = prev.Rows, prev.Columns, prev.ContentHash, prev.Fingerprint, prev.Cursor
	if snap.Location == "" {
		snap.Location = prev.Location
	}
	return snap, w.Catalog.FinishSnapshot(ctx, snap)
}

// frozen fails when the stream's columns differ from the loaded ones.
func frozen(loaded []catalog.Column, schema *arrow.Schema) error {
	var diffs []string
	have := map[string]string{}
	for _, c := range loaded {
		have[c.Name] = c.Type
	}
	seen := map[string]bool{}
	for _, f := range schema.Fields() {
		seen[f.Name] = true
		typ := duckType(f.Type)
		switch old, ok := have[f.Name]; {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("new column %s %s", f.Name, typ))
		case old != typ:
			diffs = append(diffs, fmt.Sprintf("column %s changed from %s to %s", f.Name, old, typ))
		}
	}
	for _, c := range loaded {
		if !seen[c.Name] {
			diffs = append(diffs, fmt.Sprintf("column %s is gone", c.Name))
		}
	}
	if len(diffs) > 0 {
		return fmt.Errorf("%w: contract freeze: %s; nothing was written. Fix the source, or set contract: evolve in the registration to accept the change", ErrContract, strings.Join(diffs, ", "))
	}
	return nil
}

// tableColumns reads the loaded table's columns, with each source header as
// title.
func tableColumns(ctx context.Context, tx *sql.Tx, d catalog.Dataset, schema *arrow.Schema) ([]catalog.Column, error) {
	rows, err := tx.QueryContext(ctx, `SELECT column_name, data_type FROM information_schema.columns
		WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position`, d.SchemaName(), d.TableName())
	if err != nil {
		return nil, fmt.Errorf("read columns of %s: %w", d.ID, err)
	}
	defer rows.Close()
	var cols []catalog.Column
	for rows.Next() {
		var c catalog.Column
		if err := rows.Scan(&c.Name, &c.Type); err != nil {
			return nil, err
		}
		if i := schema.FieldIndices(c.Name); len(i) > 0 {
			if title, ok := schema.Field(i[0]).Metadata.GetValue(connectors.TitleKey); ok {
				c.Title = title
			}
		}
		cols = append(cols, c)
	}
	return cols, rows.Err()
}

// contentHash counts a table's rows and hashes its content: the columns and
// an order-independent sum of the rows' hashes.
func contentHash(ctx context.Context, tx *sql.Tx, table string, cols []catalog.Column) (int64, string, error) {
	var n int64
	var sum sql.NullString
	q := fmt.Sprintf("SELECT count(*), CAST(sum(CAST(hash(t) AS HUGEINT)) AS VARCHAR) FROM %s AS t", table)
	if err := tx.QueryRowContext(ctx, q).Scan(&n, &sum); err != nil {
		return 0, "", fmt.Errorf("hash %s: %w", table, err)
	}
	h := sha256.New()
	for _, c := range cols {
		fmt.Fprintf(h, "%s %s\n", c.Name, c.Type)
	}
	fmt.Fprintf(h, "%d %s\n", n, sum.String)
	return n, "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// countingReader counts the rows DuckDB pulls from a stream, reports
// progress, and stops at cancellation between batches.
type countingReader struct {
	connectors.Stream
	ctx      context.Context
	progress func(int64)
	rows     atomic.Int64
	err      error
}

func (r *countingReader) Next() bool {
	if r.err != nil {
		return false
	}
	if err := r.ctx.Err(); err != nil {
		r.err = fmt.Errorf("ingest cancelled: %w", err)
		return false
	}
	if !r.Stream.Next() {
		return false
	}
	n := r.rows.Add(r.Stream.RecordBatch().NumRows())
	if r.progress != nil {
		r.progress(n)
	}
	return true
}

func (r *countingReader) Err() error {
	if r.err != nil {
		return r.err
	}
	return r.Stream.Err()
}

// Retain and Release keep the stream's lifetime with the caller of Ingest:
// DuckDB's hold on the view ends before the stream is released.
func (r *countingReader) Retain()  {}
func (r *countingReader) Release() {}

// duckType is the DuckDB type DuckDB gives an Arrow type.
func duckType(t arrow.DataType) string {
	switch t.ID() {
	case arrow.BOOL:
		return "BOOLEAN"
	case arrow.INT8:
		return "TINYINT"
	case arrow.INT16:
		return "SMALLINT"
	case arrow.INT32:
		return "INTEGER"
	case arrow.INT64:
		return "BIGINT"
	case arrow.FLOAT32:
		return "FLOAT"
	case arrow.FLOAT64:
		return "DOUBLE"
	case arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW:
		return "VARCHAR"
	case arrow.DATE32, arrow.DATE64:
		return "DATE"
	case arrow.TIMESTAMP:
		if ts, ok := t.(*arrow.TimestampType); ok && ts.TimeZone != "" {
			return "TIMESTAMP WITH TIME ZONE"
		}
		return "TIMESTAMP"
	}
	return strings.ToUpper(t.String())
}

// quoteIdent quotes a DuckDB identifier.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
