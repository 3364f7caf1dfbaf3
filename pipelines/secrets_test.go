//go:build duckdb_arrow

package pipelines_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"

	"github.com/datalab/datalab/catalog"
	"github.com/datalab/datalab/connectors/postgres/pgecho"
	"github.com/datalab/datalab/pipelines"
)

// canaryLog is a log sink that the ingest's goroutines may share.
type canaryLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *canaryLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *canaryLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// leakCheck gathers everything a user could read after ingests (logs,
// errors, the catalog, `dataset show` output, the warehouse's bytes) and
// looks for secrets in it.
type leakCheck struct {
	places map[string][]byte // where -> what can be read there
}

func newLeakCheck() *leakCheck { return &leakCheck{places: map[string][]byte{}} }

func (c *leakCheck) add(where string, content []byte) {
	c.places[where] = append(c.places[where], content...)
	c.places[where] = append(c.places[where], '\n')
}

// workspace adds every value of every table of the warehouse (the
// catalog's and the datasets'), and for each dataset what `datalab dataset
// show --format json` and `datalab lineage` print.
func (c *leakCheck) workspace(t *testing.T, ws *pipelines.Workspace) {
	t.Helper()
	ctx := context.Background()
	cols, err := ws.DB.QueryContext(ctx, `SELECT table_schema, table_name, column_name FROM information_schema.columns
		WHERE table_schema IN ('datalab', 'lab') ORDER BY ALL`)
	if err != nil {
		t.Fatal(err)
	}
	var targets [][3]string
	for cols.Next() {
		var s, tb, col string
		if err := cols.Scan(&s, &tb, &col); err != nil {
			t.Fatal(err)
		}
		targets = append(targets, [3]string{s, tb, col})
	}
	cols.Close()
	tables := map[string]bool{}
	for _, tc := range targets {
		tables[tc[0]+"."+tc[1]] = true
		rows, err := ws.DB.QueryContext(ctx, fmt.Sprintf(`SELECT CAST(%q AS VARCHAR) FROM %q.%q`, tc[2], tc[0], tc[1]))
		if err != nil {
			t.Fatal(err)
		}
		where := "warehouse table " + strings.Join(tc[:], ".")
		for rows.Next() {
			var v *string
			if err := rows.Scan(&v); err != nil {
				t.Fatal(err)
			}
			if v != nil {
				c.add(where, []byte(*v))
			}
		}
		rows.Close()
	}
	for _, want := range []string{"datalab.datasets", "datalab.snapshots", "datalab.lineage"} {
		if !tables[want] {
			t.Errorf("the catalog dump misses %s (tables: %v)", want, tables)
		}
	}
	ds, err := ws.Catalog.Datasets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		snaps, err := ws.Catalog.Snapshots(ctx, d.ID, 100)
		if err != nil {
			t.Fatal(err)
		}
		show, err := json.MarshalIndent(struct {
			catalog.Dataset
			Snapshots []catalog.Snapshot `json:"snapshots"`
		}{d, snaps}, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		c.add("dataset show "+d.ID, show)
		g, err := ws.Catalog.Graph(ctx, catalog.DatasetNode(d.ID))
		if errors.Is(err, catalog.ErrNotFound) {
			continue // never loaded: no lineage
		}
		if err != nil {
			t.Fatal(err)
		}
		lineage, _ := json.Marshal(g)
		c.add("lineage "+d.ID, lineage)
	}
}

// files adds the bytes of every file of the workspace folder (the
// warehouse, its write-ahead log), to read once the warehouse is closed.
func (c *leakCheck) files(t *testing.T, dir string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		c.add("file "+path, b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// find returns the places where s can be read.
func (c *leakCheck) find(s string) []string {
	var found []string
	for where, b := range c.places {
		if bytes.Contains(b, []byte(s)) {
			found = append(found, where)
		}
	}
	return found
}

// assertAbsent fails for every place where a secret can be read.
func (c *leakCheck) assertAbsent(t *testing.T, secrets ...string) {
	t.Helper()
	if len(c.places) == 0 {
		t.Fatal("nothing was gathered to look into")
	}
	for _, s := range secrets {
		for _, where := range c.find(s) {
			t.Errorf("the secret %q can be read in %s", s, where)
		}
	}
}

// assertPresent fails when s can be read nowhere among the places whose
// name starts with prefix: it shows that the places gathered do hold what
// a leak would put there.
func (c *leakCheck) assertPresent(t *testing.T, prefix, s string) {
	t.Helper()
	for _, where := range c.find(s) {
		if strings.HasPrefix(where, prefix) {
			return
		}
	}
	t.Errorf("%q can be read in no %s: the check would not see a leak there", s, prefix)
}

// closeAndScan checkpoints a control value into the warehouse, closes it,
// and gathers the workspace's files: the control must be readable in the
// warehouse file, as a leaked secret would be.
func (c *leakCheck) closeAndScan(t *testing.T, ws *pipelines.Workspace) {
	t.Helper()
	control := "control-" + dbRandom(8)
	if _, err := ws.DB.Exec(fmt.Sprintf(`CREATE TABLE lab.leak_control AS SELECT '%s' AS v; CHECKPOINT`, control)); err != nil {
		t.Fatal(err)
	}
	if err := ws.Close(); err != nil {
		t.Fatal(err)
	}
	c.files(t, ws.Dir)
	c.assertPresent(t, "file "+ws.Path(ws.Config.Warehouse), control)
}

// TestSecretCanaryPostgres ingests PostgreSQL sources whose password is a
// canary in an environment variable, with success and with failures, and
// looks for the canary everywhere a user could read.
func TestSecretCanaryPostgres(t *testing.T) {
	conn, schema := pgAdmin(t)
	pgExec(t, conn, fmt.Sprintf(`CREATE TABLE %s.t AS SELECT g AS id, 'row ' || g AS label FROM generate_series(1, 10) AS g`, schema))
	canary := "canary-pg-" + dbRandom(12)
	role := "datalab_canary_" + dbRandom(4)
	pgExec(t, conn, fmt.Sprintf(`CREATE ROLE %s LOGIN PASSWORD '%s'`, role, canary))
	t.Cleanup(func() {
		conn.Exec(context.Background(), "DROP OWNED BY "+role)
		conn.Exec(context.Background(), "DROP ROLE "+role)
	})
	pgExec(t, conn, fmt.Sprintf(`GRANT USAGE ON SCHEMA %s TO %s; GRANT SELECT ON %[1]s.t TO %[2]s`, schema, role))
	variable := "DATALAB_CANARY_PG_" + strings.ToUpper(dbRandom(4))
	t.Setenv(variable, canary)
	if os.Getenv(variable) != canary {
		t.Fatalf("%s is not set", variable)
	}

	logs := &canaryLog{}
	ws := dbWorkspace(t, zerolog.New(logs).Level(zerolog.DebugLevel))
	echo := pgecho.New(t)
	good, err := url.Parse(pgURL())
	if err != nil {
		t.Fatal(err)
	}
	good.User = url.User(role)
	closed, echoing := *good, *good
	closed.Host = "127.0.0.1:1"
	echoing.Host = echo.Addr()
	source := func(u *url.URL, table string) string {
		return fmt.Sprintf("  kind: postgres\n  url: %s\n  password_env: %s\n  table: %s\n", u, variable, table)
	}
	registerSource(t, ws, "lab.pg_good", source(good, schema+".t"))
	registerSource(t, ws, "lab.pg_missing_table", source(good, schema+".nope"))
	registerSource(t, ws, "lab.pg_closed_port", source(&closed, schema+".t"))
	registerSource(t, ws, "lab.pg_echoing_server", source(&echoing, "t"))

	check := newLeakCheck()
	ctx := context.Background()
	// The role logs in with the canary: the password was read and used.
	snap := ingest(t, ws, "lab.pg_good", pipelines.IngestOptions{})
	if snap.Status != catalog.Succeeded || snap.Rows != 10 {
		t.Fatalf("ingest as %s: %+v", role, snap)
	}
	for _, id := range []string{"lab.pg_missing_table", "lab.pg_closed_port", "lab.pg_echoing_server"} {
		_, err := ws.Ingest(ctx, id, pipelines.IngestOptions{})
		if err == nil {
			t.Fatalf("ingest of %s succeeded", id)
		}
		t.Logf("%s: %v", id, err)
		check.add("error of "+id, fmt.Appendf(nil, "%v\n%+v\n%#v", err, err, err))
	}
	// The server that asked for the password got the canary, and quoted it
	// back in its refusal.
	if got := echo.Passwords(); len(got) != 1 || got[0] != canary {
		t.Fatalf("the echoing server received %q, want the canary", got)
	}
	check.workspace(t, ws)
	check.closeAndScan(t, ws)
	check.add("logs", []byte(logs.String()))

	check.assertAbsent(t, canary)
	// What a leak would have gone through was there to be seen: the
	// failures, with the user's name, in the logs, the errors and the
	// catalog; the server's quoted password, redacted.
	for _, prefix := range []string{"logs", "error of lab.pg_echoing_server", "warehouse table datalab.snapshots.error", "dataset show lab.pg_echoing_server"} {
		check.assertPresent(t, prefix, "[redacted]")
		check.assertPresent(t, prefix, role)
	}
	check.assertPresent(t, "logs", "ingest failed")
	check.assertPresent(t, "logs", variable)
	check.assertPresent(t, "warehouse table lab.pg_good.label", "row 10")
}

// TestSecretCanaryMySQL ingests MySQL sources whose password is a canary in
// an environment variable, with success and with failures (a wrong
// password, a missing table, a closed port), and looks for the passwords
// everywhere a user could read.
func TestSecretCanaryMySQL(t *testing.T) {
	db, database := myAdmin(t)
	myExec(t, db, fmt.Sprintf(`CREATE TABLE %s.t (id int, label varchar(20)); INSERT INTO %[1]s.t VALUES (1, 'row 1'), (2, 'row 2')`, database))
	canary := "canary-my-" + dbRandom(12)
	wrong := "canary-wrong-" + dbRandom(12)
	user := "datalab_canary_" + dbRandom(4)
	myExec(t, db, fmt.Sprintf(`CREATE USER '%s'@'%%' IDENTIFIED BY '%s'`, user, canary))
	t.Cleanup(func() { db.Exec(fmt.Sprintf(`DROP USER '%s'@'%%'`, user)) })
	myExec(t, db, fmt.Sprintf(`GRANT SELECT ON %s.* TO '%s'@'%%'`, database, user))
	variable := "DATALAB_CANARY_MYSQL_" + strings.ToUpper(dbRandom(4))
	wrongVariable := variable + "_WRONG"
	t.Setenv(variable, canary)
	t.Setenv(wrongVariable, wrong)
	if os.Getenv(variable) != canary || os.Getenv(wrongVariable) != wrong {
		t.Fatal("the variables are not set")
	}

	logs := &canaryLog{}
	ws := dbWorkspace(t, zerolog.New(logs).Level(zerolog.DebugLevel))
	good, err := url.Parse(myURL())
	if err != nil {
		t.Fatal(err)
	}
	good.User = url.User(user)
	good.Path = "/" + database
	closed := *good
	closed.Host = "127.0.0.1:1"
	source := func(u *url.URL, variable, table string) string {
		return fmt.Sprintf("  kind: mysql\n  url: %s\n  password_env: %s\n  table: %s\n", u, variable, table)
	}
	registerSource(t, ws, "lab.my_good", source(good, variable, "t"))
	registerSource(t, ws, "lab.my_wrong_password", source(good, wrongVariable, "t"))
	registerSource(t, ws, "lab.my_missing_table", source(good, variable, "nope"))
	registerSource(t, ws, "lab.my_closed_port", source(&closed, variable, "t"))

	check := newLeakCheck()
	ctx := context.Background()
	// MariaDB checks passwords: the user logs in with the canary only.
	snap := ingest(t, ws, "lab.my_good", pipelines.IngestOptions{})
	if snap.Status != catalog.Succeeded || snap.Rows != 2 {
		t.Fatalf("ingest as %s: %+v", user, snap)
	}
	for _, id := range []string{"lab.my_wrong_password", "lab.my_missing_table", "lab.my_closed_port"} {
		_, err := ws.Ingest(ctx, id, pipelines.IngestOptions{})
		if err == nil {
			t.Fatalf("ingest of %s succeeded", id)
		}
		t.Logf("%s: %v", id, err)
		check.add("error of "+id, fmt.Appendf(nil, "%v\n%+v\n%#v", err, err, err))
	}
	check.workspace(t, ws)
	check.closeAndScan(t, ws)
	check.add("logs", []byte(logs.String()))

	check.assertAbsent(t, canary, wrong)
	for _, prefix := range []string{"logs", "error of lab.my_wrong_password", "warehouse table datalab.snapshots.error", "dataset show lab.my_wrong_password"} {
		check.assertPresent(t, prefix, "Access denied for user '"+user+"'")
	}
	check.assertPresent(t, "logs", wrongVariable)
	check.assertPresent(t, "warehouse table lab.my_good.label", "row 2")
}
