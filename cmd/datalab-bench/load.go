package main

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/rs/zerolog"
	"golang.org/x/text/encoding/charmap"

	"github.com/datalab/datalab/catalog"
	"github.com/datalab/datalab/connectors"
	dlcsv "github.com/datalab/datalab/connectors/csv"
	"github.com/datalab/datalab/pipelines"
)

// columns are the generated files' columns: their DuckDB types, and their
// Table Schema types in datalab's registration.
var columns = []struct{ name, duck, schema string }{
	{"id", "BIGINT", "integer"},
	{"code_commune", "VARCHAR", "string"},
	{"date_depot", "DATE", "date"},
	{"date_decision", "DATE", "date"},
	{"montant", "DOUBLE", "number"},
	{"categorie", "VARCHAR", "string"},
	{"urgent", "BOOLEAN", "boolean"},
}

// loaded is a table a method loaded, in a DuckDB file of its own that the
// method has closed, so that it can be attached and compared.
type loaded struct {
	Rows    int64
	Elapsed time.Duration // the load, without opening and closing the database
	// Checkpoint is the CHECKPOINT run after the load, not in Elapsed: the
	// work the load left for DuckDB to do later.
	Checkpoint time.Duration
	// CPU is the CPU time of the process during Elapsed, Others the rest of
	// the machine's (a PostgreSQL server's, say).
	CPU, Others time.Duration
	// DB is the DuckDB file, Table the table's qualified name in it.
	DB, Table string
}

// readCSVOptions are the read_csv options the file needs, and no more: the
// delimiter and the header (datalab's registration states the delimiter
// too), the column types (so that the code stays VARCHAR, as datalab's
// registration declares it), and for the Latin-1 file its encoding, decimal
// comma and date format. The UTF-8 file, in DuckDB's default encoding with
// ISO dates, needs nothing more.
func (in input) readCSVOptions() string {
	cols := make([]string, len(columns))
	for i, c := range columns {
		cols[i] = fmt.Sprintf("'%s': '%s'", c.name, c.duck)
	}
	opts := []string{"header = true", fmt.Sprintf("delim = '%s'", in.Delimiter)}
	if in.Encoding != "" {
		opts = append(opts, fmt.Sprintf("encoding = '%s'", in.Encoding))
	}
	if in.Decimal != "" {
		opts = append(opts, fmt.Sprintf("decimal_separator = '%s'", in.Decimal))
	}
	if in.DateFormat != "" {
		opts = append(opts, fmt.Sprintf("dateformat = '%s'", in.DateFormat))
	}
	opts = append(opts, "columns = {"+strings.Join(cols, ", ")+"}")
	return strings.Join(opts, ", ")
}

// readCSVQuery is the statement timed for DuckDB's own reader.
func (in input) readCSVQuery(table string) string {
	return fmt.Sprintf("CREATE TABLE %s AS SELECT * FROM read_csv('%s', %s)", table, in.Path, in.readCSVOptions())
}

// loadDuckDB loads the file with DuckDB's own reader.
func loadDuckDB(ctx context.Context, work string, in input) (loaded, error) {
	res := loaded{DB: filepath.Join(work, "duckdb.duckdb"), Table: "bench"}
	db, err := sql.Open("duckdb", res.DB)
	if err != nil {
		return res, err
	}
	defer db.Close()
	start := time.Now()
	if _, err := db.ExecContext(ctx, in.readCSVQuery(res.Table)); err != nil {
		return res, err
	}
	res.Elapsed = time.Since(start)
	if res.Checkpoint, err = checkpoint(ctx, db); err != nil {
		return res, err
	}
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+res.Table).Scan(&res.Rows); err != nil {
		return res, err
	}
	return res, db.Close()
}

// checkpoint times a CHECKPOINT of db.
func checkpoint(ctx context.Context, db *sql.DB) (time.Duration, error) {
	start := time.Now()
	_, err := db.ExecContext(ctx, "CHECKPOINT")
	return time.Since(start), err
}

// registration is datalab's registration of the file: the options it needs
// (the delimiter; for the Latin-1 file its encoding, decimal comma and date
// format) and the column types.
func (in input) registration() string {
	source := fmt.Sprintf("{kind: csv, url: %q, delimiter: %q", in.Path, in.Delimiter)
	if in.Encoding == "latin-1" {
		source += ", encoding: iso-8859-1"
	}
	if in.Decimal != "" {
		source += fmt.Sprintf(", decimal: %q", in.Decimal)
	}
	fields := make([]string, len(columns))
	for i, c := range columns {
		f := fmt.Sprintf("{name: %s, type: %s", c.name, c.schema)
		if c.schema == "date" && in.DateFormat != "" {
			f += fmt.Sprintf(", format: %q", in.DateFormat)
		}
		fields[i] = f + "}"
	}
	return fmt.Sprintf(`id: bench.demandes
title: Bench
publisher: datalab-bench
access: non_public
source: %s}
schema: {fields: [%s]}
`, source, strings.Join(fields, ", "))
}

// loadDatalab ingests the file registered as a dataset: connector, Arrow,
// DuckDB, constraints, content hash and catalog snapshot. With unchanged,
// it ingests the file once first and times the second ingest, which finds
// it unchanged.
func loadDatalab(ctx context.Context, work string, in input, unchanged bool) (loaded, error) {
	if err := os.WriteFile(filepath.Join(work, "bench.yaml"), []byte(in.registration()), 0o644); err != nil {
		return loaded{}, err
	}
	kinds := &connectors.Registry{}
	kinds.Add("csv", dlcsv.New)
	return ingestDataset(ctx, work, kinds, "bench.yaml", "bench.demandes", unchanged)
}

// ingestDataset registers file in the workspace work, ingests the dataset
// id and closes the workspace. With unchanged, it ingests twice and times
// the second ingest, which must find the source unchanged.
func ingestDataset(ctx context.Context, work string, kinds *connectors.Registry, file, id string, unchanged bool) (res loaded, err error) {
	ws, err := pipelines.Open(ctx, work, pipelines.Options{Connectors: kinds, Log: zerolog.Nop()})
	if err != nil {
		return res, err
	}
	defer func() { err = errors.Join(err, ws.Close()) }()
	res.DB, res.Table = ws.Path(ws.Config.Warehouse), id
	if _, err := ws.Register(ctx, file); err != nil {
		return res, err
	}
	if unchanged {
		if _, err := ws.Ingest(ctx, id, pipelines.IngestOptions{}); err != nil {
			return res, err
		}
	}
	mark, start := markCPU(), time.Now()
	snap, err := ws.Ingest(ctx, id, pipelines.IngestOptions{})
	res.Elapsed = time.Since(start)
	res.CPU, res.Others = cpuSince(mark)
	if err != nil {
		return res, err
	}
	want := catalog.Succeeded
	if unchanged {
		want = catalog.Unchanged
	}
	if snap.Status != want {
		return res, fmt.Errorf("ingest status %s, want %s", snap.Status, want)
	}
	res.Rows = snap.Rows
	res.Checkpoint, err = checkpoint(ctx, ws.DB)
	return res, err
}

// loadNaive is what a first Go loader looks like: encoding/csv records,
// strconv and time parsing, duckdb-go's Appender row by row.
func loadNaive(ctx context.Context, work string, in input) (loaded, error) {
	res := loaded{DB: filepath.Join(work, "naive.duckdb"), Table: "bench"}
	db, err := sql.Open("duckdb", res.DB)
	if err != nil {
		return res, err
	}
	defer db.Close()
	defs := make([]string, len(columns))
	for i, c := range columns {
		defs[i] = c.name + " " + c.duck
	}
	if _, err := db.ExecContext(ctx, "CREATE TABLE "+res.Table+" ("+strings.Join(defs, ", ")+")"); err != nil {
		return res, err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return res, err
	}
	defer conn.Close()
	start := time.Now()
	err = conn.Raw(func(dc any) error {
		app, err := duckdb.NewAppenderFromConn(dc.(driver.Conn), "", res.Table)
		if err != nil {
			return err
		}
		res.Rows, err = appendRows(in, app)
		return errors.Join(err, app.Close())
	})
	res.Elapsed = time.Since(start)
	if err != nil {
		return res, err
	}
	if res.Checkpoint, err = checkpoint(ctx, db); err != nil {
		return res, err
	}
	return res, errors.Join(conn.Close(), db.Close())
}

func appendRows(in input, app *duckdb.Appender) (int64, error) {
	f, err := os.Open(in.Path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var r io.Reader = f
	if in.Encoding == "latin-1" {
		r = charmap.ISO8859_1.NewDecoder().Reader(f)
	}
	cr := csv.NewReader(r)
	cr.Comma = rune(in.Delimiter[0])
	cr.ReuseRecord = true
	if _, err := cr.Read(); err != nil {
		return 0, err
	}
	layout := in.goDateLayout()
	var n int64
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		id, err1 := strconv.ParseInt(rec[0], 10, 64)
		filed, err2 := time.Parse(layout, rec[2])
		decided, err3 := time.Parse(layout, rec[3])
		amount, err4 := strconv.ParseFloat(strings.Replace(rec[4], ",", ".", 1), 64)
		urgent, err5 := strconv.ParseBool(rec[6])
		if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
			return n, fmt.Errorf("line %d: %w", n+2, err)
		}
		if err := app.AppendRow(id, rec[1], filed, decided, amount, rec[5], urgent); err != nil {
			return n, err
		}
		n++
	}
}
