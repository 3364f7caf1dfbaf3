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

// columns are the generated files' columns and their DuckDB types.
var columns = []struct{ name, duck, schema string }{
	{"id", "BIGINT", "integer"},
	{"code_commune", "VARCHAR", "string"},
	{"date_depot", "DATE", "date"},
	{"date_decision", "DATE", "date"},
	{"montant", "DOUBLE", "number"},
	{"categorie", "VARCHAR", "string"},
	{"urgent", "BOOLEAN", "boolean"},
}

// loadDuckDB loads the file with DuckDB's own reader, given the options
// and column types the file needs.
func loadDuckDB(ctx context.Context, work string, in input) (int64, time.Duration, error) {
	db, err := sql.Open("duckdb", filepath.Join(work, "duckdb.duckdb"))
	if err != nil {
		return 0, 0, err
	}
	defer db.Close()
	var cols []string
	for _, c := range columns {
		cols = append(cols, fmt.Sprintf("'%s': '%s'", c.name, c.duck))
	}
	q := fmt.Sprintf(`CREATE TABLE bench AS SELECT * FROM read_csv('%s', header = true, delim = '%s', encoding = '%s',
		decimal_separator = '%s', dateformat = '%s', columns = {%s})`,
		in.Path, in.Delimiter, in.Encoding, in.Decimal, in.DateFormat, strings.Join(cols, ", "))
	start := time.Now()
	if _, err := db.ExecContext(ctx, q); err != nil {
		return 0, 0, err
	}
	elapsed := time.Since(start)
	var n int64
	err = db.QueryRowContext(ctx, "SELECT count(*) FROM bench").Scan(&n)
	return n, elapsed, err
}

// loadDatalab ingests the file registered as a dataset: connector, Arrow,
// DuckDB, catalog snapshot and content hash. With unchanged, it loads it
// once first and times the second ingest, which finds it unchanged.
func loadDatalab(ctx context.Context, work string, in input, unchanged bool) (int64, time.Duration, error) {
	encoding := map[string]string{"utf-8": "utf-8", "latin-1": "iso-8859-1"}[in.Encoding]
	var fields []string
	for _, c := range columns {
		f := fmt.Sprintf("{name: %s, type: %s", c.name, c.schema)
		if c.schema == "date" {
			f += fmt.Sprintf(", format: %q", in.DateFormat)
		}
		fields = append(fields, f+"}")
	}
	reg := fmt.Sprintf(`id: bench.demandes
title: Bench
publisher: datalab-bench
access: non_public
source: {kind: csv, url: %q, delimiter: %q, encoding: %s, decimal: %q}
schema: {fields: [%s]}
`, in.Path, in.Delimiter, encoding, in.Decimal, strings.Join(fields, ", "))
	if err := os.WriteFile(filepath.Join(work, "bench.yaml"), []byte(reg), 0o644); err != nil {
		return 0, 0, err
	}
	kinds := &connectors.Registry{}
	kinds.Add("csv", dlcsv.New)
	ws, err := pipelines.Open(ctx, work, pipelines.Options{Connectors: kinds, Log: zerolog.Nop()})
	if err != nil {
		return 0, 0, err
	}
	defer ws.Close()
	if _, err := ws.Register(ctx, "bench.yaml"); err != nil {
		return 0, 0, err
	}
	if unchanged {
		if _, err := ws.Ingest(ctx, "bench.demandes", pipelines.IngestOptions{}); err != nil {
			return 0, 0, err
		}
	}
	start := time.Now()
	snap, err := ws.Ingest(ctx, "bench.demandes", pipelines.IngestOptions{})
	elapsed := time.Since(start)
	if err != nil {
		return 0, 0, err
	}
	want := catalog.Succeeded
	if unchanged {
		want = catalog.Unchanged
	}
	if snap.Status != want {
		return 0, 0, fmt.Errorf("ingest status %s, want %s", snap.Status, want)
	}
	return snap.Rows, elapsed, nil
}

// loadNaive is what a first Go loader looks like: encoding/csv records,
// strconv and time parsing, duckdb-go's Appender row by row.
func loadNaive(ctx context.Context, work string, in input) (int64, time.Duration, error) {
	db, err := sql.Open("duckdb", filepath.Join(work, "naive.duckdb"))
	if err != nil {
		return 0, 0, err
	}
	defer db.Close()
	var defs []string
	for _, c := range columns {
		defs = append(defs, c.name+" "+c.duck)
	}
	if _, err := db.ExecContext(ctx, "CREATE TABLE bench ("+strings.Join(defs, ", ")+")"); err != nil {
		return 0, 0, err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return 0, 0, err
	}
	defer conn.Close()
	start := time.Now()
	var n int64
	err = conn.Raw(func(dc any) error {
		app, err := duckdb.NewAppenderFromConn(dc.(driver.Conn), "", "bench")
		if err != nil {
			return err
		}
		n, err = appendRows(in, app)
		return errors.Join(err, app.Close())
	})
	return n, time.Since(start), err
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
	layout := map[string]string{"%Y-%m-%d": "2006-01-02", "%d/%m/%Y": "02/01/2006"}[in.DateFormat]
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
