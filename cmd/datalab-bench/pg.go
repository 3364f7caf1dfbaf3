package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory/mallocator"
	"github.com/jackc/pgx/v5"

	"github.com/datalab/datalab/connectors"
	"github.com/datalab/datalab/connectors/postgres"
)

// pgTable is the PostgreSQL table measured: where, and its rows.
type pgTable struct {
	URL   string
	Table string // schema.name
	Rows  int
}

// pgBenchTable is the table the bench creates, and replaces when it does
// not hold the rows asked for.
const pgBenchTable = "public.datalab_bench"

func defaultPGURL() string {
	if u := os.Getenv("DATALAB_BENCH_PG_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// measurePostgres prints datalab's ingest of a PostgreSQL table against a
// bare binary COPY of it, and ratio_vs_copy; it says so and returns nil
// when PostgreSQL is unreachable.
func measurePostgres(c config) error {
	ctx := context.Background()
	t := pgTable{URL: c.pgURL, Table: pgBenchTable, Rows: c.pgRows}
	fmt.Printf("\npostgresql: %d rows of %s in %s\n", t.Rows, t.Table, redactURL(t.URL))
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	conn, err := pgx.Connect(cctx, t.URL)
	cancel()
	if err != nil {
		fmt.Printf("  skipped: PostgreSQL is unreachable (%v); start it, set DATALAB_BENCH_PG_URL, or pass -pg=false\n", err)
		return nil
	}
	var version string
	err = conn.QueryRow(ctx, "SHOW server_version").Scan(&version)
	if err == nil {
		err = createPGTable(ctx, conn, t)
	}
	conn.Close(ctx)
	if err != nil {
		return fmt.Errorf("postgresql: create %s: %w", t.Table, err)
	}
	fmt.Printf("  PostgreSQL %s; copy: COPY (SELECT * FROM %s) TO STDOUT (FORMAT binary) into io.Discard, connection not timed\n", version, t.Table)
	fmt.Println("  read: datalab's connector alone, its Arrow batches released as they come; datalab: the ingest into DuckDB")
	methods := []string{"pgcopy", "pgread", "pgdatalab"}
	times := map[string][]float64{}
	own := map[string][]float64{}
	others := map[string][]float64{}
	rss := map[string][]int64{}
	faults := map[string][]int64{}
	var bytes int64
	for r := 0; r < c.runs; r++ {
		for _, m := range methods {
			res, err := measure(c.dir, m, t, false)
			if err != nil {
				return fmt.Errorf("%s: %w", m, err)
			}
			if res.Rows != int64(t.Rows) {
				return fmt.Errorf("%s read %d rows, want %d", m, res.Rows, t.Rows)
			}
			bytes = max(bytes, res.Bytes)
			times[m] = append(times[m], res.Seconds)
			own[m] = append(own[m], res.CPU)
			others[m] = append(others[m], res.Others)
			rss[m] = append(rss[m], res.RSS)
			faults[m] = append(faults[m], res.Faults)
		}
	}
	mb := float64(bytes) / 1e6
	copyS := median(times["pgcopy"])
	fmt.Printf("  %-9s %9s %9s %12s %9s %10s %8s %8s %8s %8s\n", "method", "median s", "min s", "rows/s", "MB/s", "peak RSS", "ratio", "CPU s", "others", "faults")
	for _, m := range methods {
		med := median(times[m])
		fmt.Printf("  %-9s %9.3f %9.3f %12.0f %9.1f %8.0fMB %8.2f %8.2f %8.2f %7.0fk\n", m[2:], med, slices.Min(times[m]), float64(t.Rows)/med, mb/med,
			medianInt(rss[m])/1e6, copyS/med, median(own[m]), median(others[m]), medianInt(faults[m])/1e3)
	}
	ratios := make([]string, c.runs)
	for r := range ratios {
		ratios[r] = fmt.Sprintf("%.2f", times["pgcopy"][r]/times["pgdatalab"][r])
	}
	fmt.Printf("  copy/datalab run by run: %s\n", strings.Join(ratios, " "))
	fmt.Printf("  (MB/s: of the %.1f MB binary COPY stream; ratio: throughput against the COPY; CPU s: the method's own CPU time;\n", mb)
	fmt.Printf("  others: the rest of the machine's, mostly the PostgreSQL server's; faults: the child process's page faults, its start\n")
	fmt.Printf("  included: see \"new memory\" above for what one costs here; medians; load average now %s)\n", loadAverage())
	if need := median(own["pgdatalab"]) + median(others["pgdatalab"]); need > 0 {
		// The machine cannot give the ingest more than all its CPUs.
		least := need / float64(runtime.NumCPU())
		fmt.Printf("  CPU budget: the ingest and the server need %.2f s of CPU, at least %.2f s on %d CPUs: a ratio of at most %.2f here\n",
			need, least, runtime.NumCPU(), copyS/least)
	}
	fmt.Printf("ratio_vs_copy=%.2f\n", copyS/median(times["pgdatalab"]))
	return nil
}

// createPGTable makes t.Table hold t.Rows rows of mixed types, unless it
// does already.
func createPGTable(ctx context.Context, conn *pgx.Conn, t pgTable) error {
	var n int64
	err := conn.QueryRow(ctx, fmt.Sprintf("SELECT count(*) FROM %s WHERE obj_description(%s::regclass) = 'datalab-bench v1'",
		t.Table, quoteLiteral(t.Table))).Scan(&n)
	if err == nil && n == int64(t.Rows) {
		return nil
	}
	stmts := []string{
		"DROP TABLE IF EXISTS " + t.Table,
		`CREATE TABLE ` + t.Table + ` (
			id bigint PRIMARY KEY,
			code_commune text NOT NULL,
			date_depot date,
			date_decision date,
			montant numeric(12,2),
			categorie text,
			urgent boolean,
			nb_pieces integer,
			score double precision,
			modifie_le timestamptz)`,
		fmt.Sprintf(`INSERT INTO %s
			SELECT g, lpad((g * 7919 %% 99999)::text, 5, '0'),
				date '2020-01-01' + (g * 31 %% 2000)::integer,
				date '2020-01-01' + (g * 31 %% 2000 + g %% 200)::integer,
				((g * 104729) %% 50000000) / 100.0,
				(ARRAY['accordée', 'refusée', 'en cours', 'classée sans suite', 'irrecevable'])[1 + g %% 5],
				g %% 10 = 0,
				(g %% 37)::integer,
				sqrt(g::double precision),
				timestamptz '2024-01-01 00:00:00+00' + (g * 17 %% 31536000) * interval '1 second'
			FROM generate_series(1::bigint, %d) AS g`, t.Table, t.Rows),
		fmt.Sprintf("COMMENT ON TABLE %s IS 'datalab-bench v1'", t.Table),
		"VACUUM ANALYZE " + t.Table, // hint bits set: no read pays for the insert
	}
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// countingWriter counts the bytes written to it, and discards them.
type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}

// copyPostgres reads the table with a bare binary COPY into io.Discard: the
// fastest a client can get the rows out of PostgreSQL. The connection is
// not timed.
func copyPostgres(ctx context.Context, t pgTable) (loaded, int64, error) {
	conn, err := pgx.Connect(ctx, t.URL)
	if err != nil {
		return loaded{}, 0, err
	}
	defer conn.Close(ctx)
	var w countingWriter
	mark, start := markCPU(), time.Now()
	tag, err := conn.PgConn().CopyTo(ctx, &w, fmt.Sprintf("COPY (SELECT * FROM %s) TO STDOUT (FORMAT binary)", t.Table))
	res := loaded{Rows: tag.RowsAffected(), Elapsed: time.Since(start)}
	res.CPU, res.Others = cpuSince(mark)
	if err != nil {
		return loaded{}, 0, err
	}
	return res, w.n, nil
}

// readPostgres reads the table with datalab's connector alone, in C memory
// as an ingest does, releasing each batch: the connection is timed, as it is
// in an ingest.
func readPostgres(ctx context.Context, t pgTable) (loaded, error) {
	src, err := postgres.New(connectors.Spec{Kind: postgres.Kind, Options: []byte(fmt.Sprintf("url: %q\ntable: %s\n", t.URL, t.Table))})
	if err != nil {
		return loaded{}, err
	}
	mem := mallocator.NewMallocator()
	mark, start := markCPU(), time.Now()
	st, err := src.Open(ctx, connectors.OpenOptions{Allocator: mem, BatchRows: 122_880})
	if err != nil {
		return loaded{}, err
	}
	var res loaded
	for st.Next() {
		res.Rows += st.RecordBatch().NumRows()
	}
	err = st.Err()
	st.Release()
	res.Elapsed = time.Since(start)
	res.CPU, res.Others = cpuSince(mark)
	if n := mem.AllocatedBytes(); err == nil && n != 0 {
		err = fmt.Errorf("the connector left %d bytes of Arrow buffers unreleased", n)
	}
	return res, err
}

// loadPostgres ingests the table registered as a `kind: postgres` dataset.
func loadPostgres(ctx context.Context, work string, t pgTable) (loaded, error) {
	reg := fmt.Sprintf(`id: bench.pg
title: Bench
publisher: datalab-bench
access: non_public
source: {kind: postgres, url: %q, table: %s}
`, t.URL, t.Table)
	if err := os.WriteFile(filepath.Join(work, "pg.yaml"), []byte(reg), 0o644); err != nil {
		return loaded{}, err
	}
	kinds := &connectors.Registry{}
	kinds.Add(postgres.Kind, postgres.New)
	return ingestDataset(ctx, work, kinds, "pg.yaml", "bench.pg", false)
}

// redactURL drops a password from a connection URL, for printing.
func redactURL(u string) string {
	cfg, err := pgx.ParseConfig(u)
	if err != nil {
		return "(unparsable URL)"
	}
	return fmt.Sprintf("postgres://%s@%s:%d/%s", cfg.User, cfg.Host, cfg.Port, cfg.Database)
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
