package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/datalab/datalab/connectors"
	"github.com/datalab/datalab/connectors/postgres"
)

// startHint says how to start the machine's PostgreSQL.
const startHint = "start it with `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`, or point DATALAB_TEST_PG_URL at a server"

// testURL is the test server: DATALAB_TEST_PG_URL, or the machine's own.
func testURL() string {
	if u := os.Getenv("DATALAB_TEST_PG_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// admin connects to the test server with its own connection, or skips the
// test when it is unreachable; on CI (CI=true) it fails instead.
func admin(t testing.TB) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, testURL())
	if err != nil {
		msg := fmt.Sprintf("PostgreSQL unreachable at %s: %v; %s", testURL(), err, startHint)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func exec(t testing.TB, conn *pgx.Conn, sql string, args ...any) {
	t.Helper()
	if _, err := conn.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// newSchema creates a schema of a unique name, dropped with its tables at
// the end of the test.
func newSchema(t testing.TB, conn *pgx.Conn) string {
	t.Helper()
	name := "datalab_test_" + randomHex(6)
	exec(t, conn, "CREATE SCHEMA "+name)
	t.Cleanup(func() {
		conn.Exec(context.Background(), "DROP SCHEMA "+name+" CASCADE")
	})
	return name
}

// newSource builds a source of the test server from options (YAML lines
// after url).
func newSource(t testing.TB, options string) connectors.Source {
	t.Helper()
	src, err := postgres.New(connectors.Spec{Kind: "postgres", Options: []byte("kind: postgres\nurl: " + testURL() + "\n" + options)})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// namedSource builds a source of the test server that reads query over a
// connection of an application name of its own, which pg_stat_activity
// shows: the name is returned.
func namedSource(t testing.TB, query string) (connectors.Source, string) {
	t.Helper()
	sep := "?"
	if strings.Contains(testURL(), "?") {
		sep = "&"
	}
	app := "datalab_test_" + randomHex(6)
	src, err := postgres.New(connectors.Spec{Kind: "postgres", Options: []byte(fmt.Sprintf("url: %s%sapplication_name=%s\nquery: %s\n", testURL(), sep, app, query))})
	if err != nil {
		t.Fatal(err)
	}
	return src, app
}
