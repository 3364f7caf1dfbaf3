//go:build duckdb_arrow

package pipelines_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	mysqldriver "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"

	"github.com/datalab/datalab/catalog"
	"github.com/datalab/datalab/connectors"
	"github.com/datalab/datalab/connectors/mysql"
	"github.com/datalab/datalab/connectors/postgres"
	"github.com/datalab/datalab/pipelines"
)

// dbWorkspace opens a workspace in a fresh folder that reads postgres and
// mysql sources, logging to log.
func dbWorkspace(t *testing.T, log zerolog.Logger) *pipelines.Workspace {
	t.Helper()
	reg := &connectors.Registry{}
	reg.Add("postgres", postgres.New)
	reg.Add("mysql", mysql.New)
	ws, err := pipelines.Open(context.Background(), t.TempDir(), pipelines.Options{Connectors: reg, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	return ws
}

func dbRandom(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// unreachable skips a test whose database is down, or fails it on CI.
func unreachable(t *testing.T, what, at string, err error, start string) {
	t.Helper()
	msg := fmt.Sprintf("%s unreachable at %s: %v; start it with `%s`", what, at, err, start)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// pgURL is the test PostgreSQL: DATALAB_TEST_PG_URL, or the machine's own.
func pgURL() string {
	if u := os.Getenv("DATALAB_TEST_PG_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// pgAdmin connects to the test PostgreSQL and creates a schema of a unique
// name, dropped with its tables at the end of the test.
func pgAdmin(t *testing.T) (*pgx.Conn, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, pgURL())
	if err != nil {
		unreachable(t, "PostgreSQL", pgURL(), err, "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start")
	}
	schema := "datalab_test_" + dbRandom(6)
	pgExec(t, conn, "CREATE SCHEMA "+schema)
	t.Cleanup(func() {
		conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		conn.Close(context.Background())
	})
	return conn, schema
}

func pgExec(t *testing.T, conn *pgx.Conn, query string, args ...any) {
	t.Helper()
	if _, err := conn.Exec(context.Background(), query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// myURL is the test MySQL: DATALAB_TEST_MYSQL_URL, or the machine's MariaDB.
func myURL() string {
	if u := os.Getenv("DATALAB_TEST_MYSQL_URL"); u != "" {
		return u
	}
	return "mysql://root@127.0.0.1:3306/test"
}

// myAdmin connects to the test MySQL and creates a database of a unique
// name, dropped at the end of the test.
func myAdmin(t *testing.T) (*sql.DB, string) {
	t.Helper()
	u, err := url.Parse(myURL())
	if err != nil {
		t.Fatal(err)
	}
	cfg := mysqldriver.NewConfig()
	cfg.Net, cfg.Addr, cfg.DBName, cfg.User = "tcp", u.Host, strings.TrimPrefix(u.Path, "/"), u.User.Username()
	cfg.MultiStatements, cfg.Timeout = true, 5*time.Second
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = db.PingContext(ctx)
		cancel()
	}
	if err != nil {
		unreachable(t, "MySQL", myURL(), err, "start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd")
	}
	database := "datalab_test_" + dbRandom(6)
	myExec(t, db, "CREATE DATABASE "+database)
	t.Cleanup(func() {
		db.Exec("DROP DATABASE " + database)
		db.Close()
	})
	return db, database
}

func myExec(t *testing.T, db *sql.DB, query string, args ...any) {
	t.Helper()
	if _, err := db.Exec(query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// registerSource writes and registers a dataset of the given source block
// (YAML, indented by two spaces).
func registerSource(t *testing.T, ws *pipelines.Workspace, id, source string) {
	t.Helper()
	file := "datasets/" + strings.ReplaceAll(id, ".", "_") + ".yaml"
	writeFile(t, ws.Path(file), fmt.Sprintf("id: %s\ntitle: %s\npublisher: Lab\naccess: restricted\nsource:\n%s", id, id, source))
	register(t, ws, file)
}

func rowsOf(t *testing.T, ws *pipelines.Workspace, query string) []string {
	t.Helper()
	rows, err := ws.DB.Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestIncrementalPostgres loads a table with a cursor and a primary key:
// new rows are added, an updated row replaces the loaded one, and a load
// without new rows changes nothing.
func TestIncrementalPostgres(t *testing.T) {
	conn, schema := pgAdmin(t)
	pgExec(t, conn, fmt.Sprintf(`CREATE TABLE %s.dossiers (id int PRIMARY KEY, label text, updated_at timestamptz)`, schema))
	pgExec(t, conn, fmt.Sprintf(`INSERT INTO %s.dossiers VALUES
		(1, 'a', '2024-01-01 10:00:00.000001+00'), (2, 'b', '2024-01-01 11:00:00+00'), (3, 'c', '2024-01-01 12:00:00.5+00')`, schema))
	ws := dbWorkspace(t, zerolog.New(zerolog.NewTestWriter(t)))
	registerSource(t, ws, "lab.dossiers", fmt.Sprintf("  kind: postgres\n  url: %s\n  table: %s.dossiers\n  cursor: updated_at\n  primary_key: [id]\n", pgURL(), schema))

	first := ingest(t, ws, "lab.dossiers", pipelines.IngestOptions{})
	if first.Status != catalog.Succeeded || first.Rows != 3 || first.Cursor != "2024-01-01 12:00:00.5+00" {
		t.Fatalf("first ingest: %+v", first)
	}

	pgExec(t, conn, fmt.Sprintf(`INSERT INTO %s.dossiers VALUES (4, 'd', '2024-01-02 09:00:00+00'), (5, 'e', '2024-01-02 10:00:00.123456+00')`, schema))
	pgExec(t, conn, fmt.Sprintf(`UPDATE %s.dossiers SET label = 'a, updated', updated_at = '2024-01-02 08:00:00+00' WHERE id = 1`, schema))
	second := ingest(t, ws, "lab.dossiers", pipelines.IngestOptions{})
	if second.Status != catalog.Succeeded || second.Rows != 5 || second.Cursor != "2024-01-02 10:00:00.123456+00" {
		t.Fatalf("second ingest: %+v", second)
	}
	if got := rowsOf(t, ws, `SELECT id || ':' || label FROM lab.dossiers ORDER BY id`); strings.Join(got, " ") != "1:a, updated 2:b 3:c 4:d 5:e" {
		t.Errorf("table after the second ingest: %v", got)
	}
	if n := count(t, ws, `SELECT count(*) FROM lab.dossiers WHERE id = 1`); n != 1 {
		t.Errorf("row 1 is there %d times", n)
	}
	var typ string
	if err := ws.DB.QueryRow(`SELECT data_type FROM information_schema.columns WHERE table_schema = 'lab' AND table_name = 'dossiers' AND column_name = 'updated_at'`).Scan(&typ); err != nil || typ != "TIMESTAMP WITH TIME ZONE" {
		t.Errorf("updated_at is %q, %v", typ, err)
	}

	third := ingest(t, ws, "lab.dossiers", pipelines.IngestOptions{})
	if third.Status != catalog.Unchanged || third.Rows != 5 || third.Cursor != second.Cursor {
		t.Errorf("third ingest, nothing new: %+v", third)
	}
	if cur, err := ws.Catalog.Current(context.Background(), "lab.dossiers"); err != nil || cur.ID != second.ID {
		t.Errorf("current snapshot = %+v, %v; want %d", cur, err, second.ID)
	}
	if n := count(t, ws, `SELECT count(*) FROM lab.dossiers`); n != 5 {
		t.Errorf("%d rows after a load without news", n)
	}

	// A forced ingest reloads the whole table, and keeps the cursor.
	forced := ingest(t, ws, "lab.dossiers", pipelines.IngestOptions{Force: true})
	if forced.Status != catalog.Succeeded || forced.Rows != 5 || forced.Cursor != second.Cursor || forced.ContentHash != second.ContentHash {
		t.Errorf("forced ingest: %+v; want the content of %+v", forced, second)
	}
}

// TestIncrementalMySQL loads a MySQL table by an id cursor: without a
// primary key, new rows are appended; with one, updated rows replace the
// loaded ones.
func TestIncrementalMySQL(t *testing.T) {
	db, database := myAdmin(t)
	myExec(t, db, fmt.Sprintf(`CREATE TABLE %s.events (id bigint AUTO_INCREMENT PRIMARY KEY, label varchar(20), at datetime(6))`, database))
	myExec(t, db, fmt.Sprintf(`INSERT INTO %s.events (label, at) VALUES ('a', '2024-01-01 10:00:00'), ('b', '2024-01-01 11:00:00'), ('c', '2024-01-01 12:00:00.250000')`, database))
	ws := dbWorkspace(t, zerolog.New(zerolog.NewTestWriter(t)))

	t.Run("append", func(t *testing.T) {
		registerSource(t, ws, "lab.events", fmt.Sprintf("  kind: mysql\n  url: %s\n  table: %s.events\n  cursor: id\n", myURL(), database))
		first := ingest(t, ws, "lab.events", pipelines.IngestOptions{})
		if first.Status != catalog.Succeeded || first.Rows != 3 || first.Cursor != "3" {
			t.Fatalf("first ingest: %+v", first)
		}
		myExec(t, db, fmt.Sprintf(`INSERT INTO %s.events (label, at) VALUES ('d', '2024-01-02 10:00:00'), ('e', '2024-01-02 11:00:00')`, database))
		second := ingest(t, ws, "lab.events", pipelines.IngestOptions{})
		if second.Status != catalog.Succeeded || second.Rows != 5 || second.Cursor != "5" {
			t.Fatalf("second ingest: %+v", second)
		}
		if got := rowsOf(t, ws, `SELECT id || ':' || label FROM lab.events ORDER BY id`); strings.Join(got, " ") != "1:a 2:b 3:c 4:d 5:e" {
			t.Errorf("table: %v", got)
		}
		third := ingest(t, ws, "lab.events", pipelines.IngestOptions{})
		if third.Status != catalog.Unchanged || third.Rows != 5 || third.Cursor != "5" {
			t.Errorf("third ingest: %+v", third)
		}
	})

	t.Run("merge", func(t *testing.T) {
		registerSource(t, ws, "lab.events_by_time", fmt.Sprintf("  kind: mysql\n  url: %s\n  table: %s.events\n  cursor: at\n  primary_key: [id]\n", myURL(), database))
		first := ingest(t, ws, "lab.events_by_time", pipelines.IngestOptions{})
		if first.Status != catalog.Succeeded || first.Rows != 5 || first.Cursor != "2024-01-02 11:00:00.000000" {
			t.Fatalf("first ingest: %+v", first)
		}
		myExec(t, db, fmt.Sprintf(`UPDATE %s.events SET label = 'b, updated', at = '2024-01-03 09:00:00.000001' WHERE id = 2`, database))
		myExec(t, db, fmt.Sprintf(`INSERT INTO %s.events (label, at) VALUES ('f', '2024-01-03 10:00:00')`, database))
		second := ingest(t, ws, "lab.events_by_time", pipelines.IngestOptions{})
		if second.Status != catalog.Succeeded || second.Rows != 6 || second.Cursor != "2024-01-03 10:00:00.000000" {
			t.Fatalf("second ingest: %+v", second)
		}
		if got := rowsOf(t, ws, `SELECT id || ':' || label FROM lab.events_by_time ORDER BY id`); strings.Join(got, " ") != "1:a 2:b, updated 3:c 4:d 5:e 6:f" {
			t.Errorf("table: %v", got)
		}
		third := ingest(t, ws, "lab.events_by_time", pipelines.IngestOptions{})
		if third.Status != catalog.Unchanged || third.Cursor != second.Cursor {
			t.Errorf("third ingest: %+v", third)
		}
	})
}

// TestPostgresUnchangedTableIsNotReplaced: a table without cursor is read
// whole at each ingest; the stream's hash of its rows lets the ingest tell
// that nothing changed and keep the loaded snapshot.
func TestPostgresUnchangedTableIsNotReplaced(t *testing.T) {
	conn, schema := pgAdmin(t)
	pgExec(t, conn, fmt.Sprintf(`CREATE TABLE %s.communes AS SELECT g AS id, 'commune ' || g AS name FROM generate_series(1, 500) AS g`, schema))
	ws := dbWorkspace(t, zerolog.New(zerolog.NewTestWriter(t)))
	registerSource(t, ws, "lab.communes", fmt.Sprintf("  kind: postgres\n  url: %s\n  table: %s.communes\n", pgURL(), schema))
	first := ingest(t, ws, "lab.communes", pipelines.IngestOptions{})
	if first.Status != catalog.Succeeded || first.Rows != 500 || first.Cursor != "" {
		t.Fatalf("first ingest: %+v", first)
	}
	again := ingest(t, ws, "lab.communes", pipelines.IngestOptions{})
	if again.Status != catalog.Unchanged || again.ContentHash != first.ContentHash {
		t.Errorf("same table: %+v", again)
	}
	pgExec(t, conn, fmt.Sprintf(`UPDATE %s.communes SET name = 'renamed' WHERE id = 250`, schema))
	changed := ingest(t, ws, "lab.communes", pipelines.IngestOptions{})
	if changed.Status != catalog.Succeeded || changed.Rows != 500 || changed.ContentHash == first.ContentHash {
		t.Errorf("changed table: %+v", changed)
	}
	if n := count(t, ws, `SELECT count(*) FROM lab.communes WHERE name = 'renamed'`); n != 1 {
		t.Errorf("%d renamed rows", n)
	}
}

// TestMySQLUnchangedTableIsNotReplaced: the same for a MySQL table.
func TestMySQLUnchangedTableIsNotReplaced(t *testing.T) {
	db, database := myAdmin(t)
	myExec(t, db, fmt.Sprintf(`CREATE TABLE %s.communes (id int, name varchar(30)); INSERT INTO %[1]s.communes VALUES (1, 'Ain'), (2, 'Aisne'), (3, 'Allier')`, database))
	ws := dbWorkspace(t, zerolog.New(zerolog.NewTestWriter(t)))
	registerSource(t, ws, "lab.communes", fmt.Sprintf("  kind: mysql\n  url: %s\n  table: %s.communes\n", myURL(), database))
	first := ingest(t, ws, "lab.communes", pipelines.IngestOptions{})
	if first.Status != catalog.Succeeded || first.Rows != 3 {
		t.Fatalf("first ingest: %+v", first)
	}
	again := ingest(t, ws, "lab.communes", pipelines.IngestOptions{})
	if again.Status != catalog.Unchanged || again.ContentHash != first.ContentHash {
		t.Errorf("same table: %+v", again)
	}
	myExec(t, db, fmt.Sprintf(`UPDATE %s.communes SET name = 'Alpes' WHERE id = 3`, database))
	changed := ingest(t, ws, "lab.communes", pipelines.IngestOptions{})
	if changed.Status != catalog.Succeeded || changed.Rows != 3 || changed.ContentHash == first.ContentHash {
		t.Errorf("changed table: %+v", changed)
	}
}
