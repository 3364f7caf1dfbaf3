package mysql_test

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

	driver "github.com/go-sql-driver/mysql"

	"github.com/datalab/datalab/connectors"
	"github.com/datalab/datalab/connectors/mysql"
)

// startHint says how to start the machine's MariaDB.
const startHint = "start it with `start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd`, or point DATALAB_TEST_MYSQL_URL at a server"

// testURL is the test server: DATALAB_TEST_MYSQL_URL, or the machine's own.
func testURL() string {
	if u := os.Getenv("DATALAB_TEST_MYSQL_URL"); u != "" {
		return u
	}
	return "mysql://root@127.0.0.1:3306/test"
}

// admin connects to the test server, or skips the test when it is
// unreachable; on CI (CI=true) it fails instead.
func admin(t testing.TB) *sql.DB {
	t.Helper()
	u, err := url.Parse(testURL())
	if err != nil {
		t.Fatal(err)
	}
	cfg := driver.NewConfig()
	cfg.Net, cfg.Addr, cfg.DBName = "tcp", u.Host, strings.TrimPrefix(u.Path, "/")
	cfg.User = u.User.Username()
	cfg.MultiStatements = true
	cfg.Timeout = 5 * time.Second
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = db.PingContext(ctx)
		cancel()
	}
	if err != nil {
		msg := fmt.Sprintf("MySQL unreachable at %s: %v; %s", testURL(), err, startHint)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func exec(t testing.TB, db *sql.DB, query string, args ...any) {
	t.Helper()
	if _, err := db.Exec(query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// newDatabase creates a database of a unique name, dropped at the end of
// the test.
func newDatabase(t testing.TB, db *sql.DB) string {
	t.Helper()
	name := "datalab_test_" + randomHex(6)
	exec(t, db, "CREATE DATABASE "+name)
	t.Cleanup(func() { db.Exec("DROP DATABASE " + name) })
	return name
}

// newSource builds a source of the test server from options (YAML lines
// after url).
func newSource(t testing.TB, options string) connectors.Source {
	t.Helper()
	src, err := mysql.New(connectors.Spec{Kind: "mysql", Options: []byte("kind: mysql\nurl: " + testURL() + "\n" + options)})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// digits creates db.digits, 0 to 9, to generate rows by cross joins.
func digits(t testing.TB, db *sql.DB, database string) {
	t.Helper()
	exec(t, db, fmt.Sprintf("CREATE TABLE %s.digits (d int); INSERT INTO %[1]s.digits VALUES (0),(1),(2),(3),(4),(5),(6),(7),(8),(9)", database))
}
