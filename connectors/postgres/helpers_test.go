package postgres_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
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

// fakeServer is a PostgreSQL server on loopback that asks for a clear-text
// password, keeps it, and refuses it with a message that quotes it, as a
// careless server or proxy might: it shows that the password is sent and
// that no error repeats it.
type fakeServer struct {
	ln        net.Listener
	mu        sync.Mutex
	passwords []string
}

func newFakeServer(t testing.TB) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &fakeServer{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return s
}

func (s *fakeServer) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

func (s *fakeServer) Passwords() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.passwords...)
}

func (s *fakeServer) serve(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	for {
		// Startup packet: length, then protocol or request code.
		var hdr [8]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return
		}
		n := binary.BigEndian.Uint32(hdr[:4])
		if _, err := io.CopyN(io.Discard, r, int64(n)-8); err != nil {
			return
		}
		if code := binary.BigEndian.Uint32(hdr[4:]); code == 80877103 || code == 80877104 {
			c.Write([]byte{'N'}) // no SSL, no GSS encryption
			continue
		}
		break
	}
	c.Write([]byte{'R', 0, 0, 0, 8, 0, 0, 0, 3}) // AuthenticationCleartextPassword
	typ, err := r.ReadByte()
	if err != nil || typ != 'p' {
		return
	}
	var lb [4]byte
	if _, err := io.ReadFull(r, lb[:]); err != nil {
		return
	}
	body := make([]byte, binary.BigEndian.Uint32(lb[:])-4)
	if _, err := io.ReadFull(r, body); err != nil {
		return
	}
	pw := strings.TrimRight(string(body), "\x00")
	s.mu.Lock()
	s.passwords = append(s.passwords, pw)
	s.mu.Unlock()
	var msg []byte
	for _, f := range []string{"SFATAL", "VFATAL", "C28P01", "Mpassword authentication failed: got \"" + pw + "\""} {
		msg = append(msg, f...)
		msg = append(msg, 0)
	}
	msg = append(msg, 0)
	out := []byte{'E', 0, 0, 0, 0}
	binary.BigEndian.PutUint32(out[1:], uint32(len(msg)+4))
	c.Write(append(out, msg...))
}
