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
	"github.com/datalab/datalab/pipelines/internal/pagemem"
)

// IngestOptions tune one ingest.
type IngestOptions struct {
	// Allocator allocates the Arrow batches; nil means C memory (see
	// batchAllocator), or for a pipeline's output Go memory.
	Allocator memory.Allocator
	// Force loads the source even when it has not changed.
	Force bool
	// Progress, when set, is called from the ingest's goroutine with the
	// number of rows read so far, after each batch.
	Progress func(rows int64)
	// CheckHash reads the loaded table back to check the content hash
	// computed from the batches as DuckDB took them (see rowHasher): a
	// difference fails the ingest. Tests set it; it costs a scan of the
	// table.
	CheckHash bool
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
// The output of a pipeline (source kind "pipeline") is ingested by running
// the pipeline (see RunPipeline). Ingests, like every write to the
// warehouse, run one at a time: Ingest first waits for the writes under way
// to finish (or for ctx to be done).
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
	var src connectors.Source
	if d.Source.Kind == PipelineKind {
		src, err = w.pipelineSource(d)
	} else if src, err = w.source(d); err != nil {
		return catalog.Snapshot{}, fmt.Errorf("dataset %s: registration %s no longer holds: %w; fix it and register it again", id, d.File, err)
	}
	// One write at a time: the snapshot, the table and the lineage.
	unlock, lerr := w.lockWrites(ctx)
	if lerr != nil {
		return catalog.Snapshot{}, fmt.Errorf("ingest %s: %w", id, lerr)
	}
	defer unlock()
	prev, perr := w.Catalog.Current(ctx, id)
	if perr != nil && !errors.Is(perr, catalog.ErrNotFound) {
		return catalog.Snapshot{}, perr
	}
	snap, serr := w.Catalog.BeginSnapshot(ctx, d, "")
	if serr != nil {
		return catalog.Snapshot{}, serr
	}
	w.emitSnapshotLineage(ctx, snap)
	if err != nil {
		// A pipeline this program does not declare: say so in the catalog.
		return w.failed(ctx, log, snap, err)
	}
	var prevFP connectors.Fingerprint
	if len(prev.Fingerprint) > 0 && !opts.Force {
		if err := json.Unmarshal(prev.Fingerprint, &prevFP); err != nil {
			log.Warn().Err(err).Msg("the last snapshot's fingerprint is unreadable; loading again")
		}
	}
	log.Debug().Int64("snapshot", snap.ID).Msg("ingest started")

	loaded, err := w.safeLoad(ctx, d, src, prev, prevFP, snap, opts)
	if err == nil {
		log.Debug().Int64("snapshot", loaded.ID).Str("status", string(loaded.Status)).Int64("rows", loaded.Rows).
			Dur("took", loaded.Duration()).Msg("ingest finished")
		w.emitSnapshotLineage(ctx, loaded)
		return loaded, nil
	}
	return w.failed(ctx, log, loaded, err)
}

// failed records that an ingest failed, even when ctx was cancelled, and
// returns the error.
func (w *Workspace) failed(ctx context.Context, log zerolog.Logger, snap catalog.Snapshot, err error) (catalog.Snapshot, error) {
	snap.Status, snap.Error, snap.FinishedAt = catalog.Failed, err.Error(), time.Now().UTC()
	snap.Rows, snap.Columns, snap.ContentHash = 0, nil, ""
	if ferr := w.Catalog.FinishSnapshot(context.WithoutCancel(ctx), snap); ferr != nil {
		err = errors.Join(err, ferr)
	}
	log.Error().Str("error", LogSafeError(err, snap.Access)).Int64("snapshot", snap.ID).Msg("ingest failed; the previous snapshot stands")
	w.emitSnapshotLineage(ctx, snap)
	return snap, fmt.Errorf("ingest %s: %w", snap.Dataset, err)
}

// safeLoad is load, with a panic (in a connector's Open, say) turned into
// an error, so that the failure is recorded and the transaction rolled
// back.
func (w *Workspace) safeLoad(ctx context.Context, d catalog.Dataset, src connectors.Source, prev catalog.Snapshot,
	prevFP connectors.Fingerprint, snap catalog.Snapshot, opts IngestOptions) (loaded catalog.Snapshot, err error) {
	defer func() {
		if r := recover(); r != nil {
			w.Log.Error().Str("dataset", d.ID).Str("stack", string(debug.Stack())).Msg("the ingest panicked")
			loaded, err = snap, fmt.Errorf("%w: %v", ErrPanic, r)
		}
	}()
	return w.load(ctx, d, src, prev, prevFP, snap, opts)
}

// rowGroupRows is the number of rows of a DuckDB row group (the default
// ROW_GROUP_SIZE), asked of every source as its batch size: DuckDB
// compresses and writes a batch of a whole row group to the file as it
// comes, while it keeps smaller batches uncompressed in memory until they
// can be merged, and with several threads that is most of the table (the
// peak RSS of a 2,000,000-row CSV ingest: 256 MB with 65,536-row batches,
// 169 MB with these; cmd/datalab-bench measures it).
const rowGroupRows = 122_880

// batchAllocator allocates a connector's batches outside the Go heap,
// freed the moment DuckDB, which copies every value, releases a batch: with
// Go memory, the garbage of released batches lets the heap grow to twice
// the batches in flight before a collection (20 MB more peak RSS for a
// 2,000,000-row CSV file than for a tenth of it). Each large buffer is a
// mapping of its own, given back to the system when freed: from malloc,
// glibc kept the pages of freed batches in its heaps (147 MB of peak RSS
// for that file instead of 134, where a tenth of it needs 97 to 99). It is
// not used for a pipeline's output, which Go code of the pipeline may hold
// on to. done logs the buffers a stream failed to release, which would
// leak.
func (w *Workspace) batchAllocator(d catalog.Dataset, mem memory.Allocator) (_ memory.Allocator, done func()) {
	if mem != nil || d.Source.Kind == PipelineKind {
		return mem, func() {}
	}
	c := pagemem.New()
	return c, func() {
		if n := c.AllocatedBytes(); n != 0 {
			w.Log.Warn().Str("component", "ingest").Str("dataset", d.ID).Str("kind", d.Source.Kind).Int64("bytes", n).
				Msg("the connector did not release all its Arrow buffers: a leak of C memory; report it")
		}
	}
}

// load does the work of Ingest; on error the caller records the failure.
func (w *Workspace) load(ctx context.Context, d catalog.Dataset, src connectors.Source, prev catalog.Snapshot,
	prevFP connectors.Fingerprint, snap catalog.Snapshot, opts IngestOptions) (catalog.Snapshot, error) {
	inc, incremental := src.(connectors.Incremental)
	appending := incremental && prev.ID != 0 && !opts.Force
	mem, checkReleased := w.batchAllocator(d, opts.Allocator)
	defer checkReleased() // after the stream's Release, deferred below
	openOpts := connectors.OpenOptions{Allocator: mem, Previous: prevFP, BatchRows: rowGroupRows}
	if appending {
		openOpts.Cursor = prev.Cursor
	}
	stream, err := src.Open(ctx, openOpts)
	if errors.Is(err, connectors.ErrUnchanged) {
		return w.unchanged(ctx, snap, prev)
	}
	if err != nil {
		return snap, &openError{err}
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
	if !appending {
		// The table is then the batches' rows: hash them as they come.
		counted.hasher = newRowHasher(stream.Schema())
		if counted.hasher != nil {
			if err := rowHashAgrees(ctx, conn); err != nil {
				w.Log.Warn().Str("component", "ingest").Err(err).
					Msg("datalab's copy of DuckDB's hash() does not agree with this DuckDB: content hashes are read back from the tables, which is slower; report it")
				counted.hasher = nil
			}
		}
	}
	view := fmt.Sprintf("datalab_ingest_%d", snap.ID)
	release, err := registerView(conn, counted, view)
	if err != nil {
		return snap, fmt.Errorf("hand the stream to DuckDB: %w", err)
	}
	defer release()

	// Not ctx: when its context ends, database/sql rolls a transaction back
	// from a goroutine of its own, which would use the DuckDB connection
	// while the view's stream is released below. The deferred Rollback ends
	// it here, before the release; each statement still stops with ctx.
	tx, err := conn.BeginTx(context.WithoutCancel(ctx), nil)
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
	if snap.Rows, snap.ContentHash, err = loadedHash(ctx, tx, table, snap.Columns, counted, rejected, opts.CheckHash); err != nil {
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
	edges := []catalog.Edge{{From: catalog.NewNode(catalog.KindSource, snap.Location),
		To: catalog.DatasetNode(d.ID), Kind: "ingest", Snapshot: snap.ID}}
	if ls, ok := stream.(lineageStream); ok {
		edges = ls.edges(d.ID, snap.ID)
	}
	if err := store.AddEdges(ctx, edges...); err != nil {
		return snap, err
	}
	if err := ctx.Err(); err != nil {
		return snap, fmt.Errorf("ingest cancelled: %w", err) // the transaction does not see ctx
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
//
// The rows are hashed in as many ranges of rowid as DuckDB has threads,
// each its own scan: DuckDB scans the rows a transaction wrote, and not yet
// committed, with one thread, where ranges of them are scanned in parallel
// (a 1,000,000-row table: 37 ms in one scan, 20 ms in two ranges on two
// threads). Any ranges give the same sum.
func contentHash(ctx context.Context, tx *sql.Tx, table string, cols []catalog.Column) (int64, string, error) {
	var lo, hi sql.NullInt64
	var threads int64
	q := fmt.Sprintf("SELECT min(rowid), max(rowid), current_setting('threads') FROM %s", table)
	if err := tx.QueryRowContext(ctx, q).Scan(&lo, &hi, &threads); err != nil {
		return 0, "", fmt.Errorf("hash %s: %w", table, err)
	}
	parts := []string{fmt.Sprintf("SELECT hash(t) AS h FROM %s AS t", table)}
	if n := min(threads, 64); lo.Valid && n > 1 && hi.Int64-lo.Int64 >= n {
		parts = parts[:0]
		step := (hi.Int64 - lo.Int64 + 1 + n - 1) / n
		for from := lo.Int64; from <= hi.Int64; from += step {
			parts = append(parts, fmt.Sprintf("SELECT hash(t) AS h FROM %s AS t WHERE rowid BETWEEN %d AND %d", table, from, from+step-1))
		}
	}
	var n int64
	var sum sql.NullString
	q = fmt.Sprintf("SELECT count(*), CAST(sum(CAST(h AS HUGEINT)) AS VARCHAR) FROM (%s)", strings.Join(parts, " UNION ALL "))
	if err := tx.QueryRowContext(ctx, q).Scan(&n, &sum); err != nil {
		return 0, "", fmt.Errorf("hash %s: %w", table, err)
	}
	return n, hashOf(cols, n, sum.String), nil
}

// registerView makes rd a view of conn's, named view; release drops the
// view and frees the stream, once no statement of conn scans it.
func registerView(conn *sql.Conn, rd array.RecordReader, view string) (release func(), err error) {
	var free func()
	err = conn.Raw(func(dc any) error {
		a, err := duckdb.NewArrowFromConn(dc.(driver.Conn))
		if err != nil {
			return err
		}
		free, err = a.RegisterView(rd, view)
		return err
	})
	if err != nil {
		return nil, err
	}
	return func() {
		// The view would otherwise outlive its stream on this connection,
		// which goes back to the pool, and a statement that binds it would
		// read freed memory: when it cannot be dropped, the connection is
		// discarded instead.
		if _, err := conn.ExecContext(context.Background(), "DROP VIEW IF EXISTS "+quoteIdent(view)); err != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		free()
	}, nil
}

// loadedHash returns the row count and content hash of table, just
// loaded from counted: from the batches' hashes when counted hashed them
// and no row was set aside since, else from a scan of the table
// (contentHash). check compares the two.
func loadedHash(ctx context.Context, tx *sql.Tx, table string, cols []catalog.Column,
	counted *countingReader, rejected int64, check bool) (int64, string, error) {
	if counted.hasher == nil || rejected != 0 {
		return contentHash(ctx, tx, table, cols)
	}
	n, sum := counted.rows.Load(), ""
	if n > 0 {
		sum = counted.hasher.sum() // contentHash's sum of no row is NULL
	}
	hash := hashOf(cols, n, sum)
	if check {
		tn, th, err := contentHash(ctx, tx, table, cols)
		if err != nil {
			return 0, "", err
		}
		if tn != n || th != hash {
			return 0, "", fmt.Errorf("%s: the batches hashed to %d rows, %s; the table to %d rows, %s: report it", table, n, hash, tn, th)
		}
	}
	return n, hash, nil
}

// hashOf is the content hash of a table of columns cols, n rows and sum,
// the sum of its rows' hashes.
func hashOf(cols []catalog.Column, n int64, sum string) string {
	h := sha256.New()
	for _, c := range cols {
		fmt.Fprintf(h, "%s %s\n", c.Name, c.Type)
	}
	fmt.Fprintf(h, "%d %s\n", n, sum)
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// lineageStream is a Stream that says what its dataset is made from (a
// pipeline's inputs), instead of the location it was read from.
type lineageStream interface {
	edges(dataset string, snapshot int64) []catalog.Edge
}

// countingReader counts the rows DuckDB pulls from a stream, reports
// progress, and stops at cancellation between batches. DuckDB calls Next
// from its own threads, where a panic would stop the process: a panic of
// the stream becomes its error.
type countingReader struct {
	connectors.Stream
	ctx      context.Context
	progress func(int64)
	hasher   *rowHasher // nil, or hashes each batch before DuckDB takes it
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
	if !r.next() {
		return false
	}
	n := r.rows.Add(r.Stream.RecordBatch().NumRows())
	if r.progress != nil {
		r.progress(n)
	}
	return true
}

func (r *countingReader) next() (ok bool) {
	defer func() {
		if p := recover(); p != nil {
			r.err, ok = fmt.Errorf("%w in the source: %v", ErrPanic, p), false
		}
	}()
	if !r.Stream.Next() {
		return false
	}
	if r.hasher != nil {
		r.hasher.add(r.Stream.RecordBatch())
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
	case arrow.UINT8:
		return "UTINYINT"
	case arrow.UINT16:
		return "USMALLINT"
	case arrow.UINT32:
		return "UINTEGER"
	case arrow.UINT64:
		return "UBIGINT"
	case arrow.BINARY, arrow.LARGE_BINARY, arrow.BINARY_VIEW:
		return "BLOB"
	case arrow.DECIMAL128, arrow.DECIMAL256:
		d := t.(arrow.DecimalType)
		return fmt.Sprintf("DECIMAL(%d,%d)", d.GetPrecision(), d.GetScale())
	case arrow.LIST, arrow.LARGE_LIST:
		return duckType(t.(arrow.ListLikeType).Elem()) + "[]"
	case arrow.STRUCT:
		st := t.(*arrow.StructType)
		fields := make([]string, st.NumFields())
		for i, f := range st.Fields() {
			name := f.Name
			if !identPattern.MatchString(name) {
				name = quoteIdent(name)
			}
			fields[i] = name + " " + duckType(f.Type)
		}
		return "STRUCT(" + strings.Join(fields, ", ") + ")"
	case arrow.FLOAT32:
		return "FLOAT"
	case arrow.FLOAT64:
		return "DOUBLE"
	case arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW:
		return "VARCHAR"
	case arrow.DATE32, arrow.DATE64:
		return "DATE"
	case arrow.TIMESTAMP:
		ts := t.(*arrow.TimestampType)
		switch {
		case ts.TimeZone != "":
			return "TIMESTAMP WITH TIME ZONE"
		case ts.Unit == arrow.Second:
			return "TIMESTAMP_S"
		case ts.Unit == arrow.Millisecond:
			return "TIMESTAMP_MS"
		case ts.Unit == arrow.Nanosecond:
			return "TIMESTAMP_NS"
		}
		return "TIMESTAMP"
	}
	return strings.ToUpper(t.String())
}

// quoteIdent quotes a DuckDB identifier.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// openError is a source that failed to open: it could not connect, find
// its table or file, or read its header. Apart from a *connectors.DataError
// in it, it says nothing of the data's values (see LogSafeError).
type openError struct{ err error }

func (e *openError) Error() string { return e.err.Error() }
func (e *openError) Unwrap() error { return e.err }
