package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/datalab/datalab/connectors"
	"github.com/datalab/datalab/connectors/connectortest"
	"github.com/datalab/datalab/connectors/postgres"
	"github.com/datalab/datalab/connectors/postgres/pgecho"
)

func TestPostgresConformance(t *testing.T) {
	conn := admin(t)
	schema := newSchema(t, conn)
	exec(t, conn, fmt.Sprintf(`CREATE TABLE %s.mixed AS
		SELECT g AS id, 'label ' || g AS label, (g * 1.25)::numeric(12,2) AS amount,
		       DATE '2024-01-01' + g AS day, TIMESTAMPTZ '2024-01-01 00:00:00+00' + g * INTERVAL '1 minute' AS at,
		       g %% 2 = 0 AS ok, ARRAY[g, g + 1] AS pair
		FROM generate_series(1, 1000) AS g`, schema))
	// Row 700 holds a NaN, which a decimal column cannot: the stream fails
	// after several batches.
	exec(t, conn, fmt.Sprintf(`CREATE TABLE %s.broken AS SELECT * FROM %[1]s.mixed ORDER BY id`, schema))
	exec(t, conn, fmt.Sprintf(`UPDATE %s.broken SET amount = 'NaN' WHERE id = 700`, schema))

	title := func(s string) arrow.Metadata { return arrow.NewMetadata([]string{connectors.TitleKey}, []string{s}) }
	mixedSchema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int32, Nullable: true, Metadata: title("id")},
		{Name: "label", Type: arrow.BinaryTypes.String, Nullable: true, Metadata: title("label")},
		{Name: "amount", Type: &arrow.Decimal128Type{Precision: 12, Scale: 2}, Nullable: true, Metadata: title("amount")},
		{Name: "day", Type: arrow.FixedWidthTypes.Date32, Nullable: true, Metadata: title("day")},
		{Name: "at", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, Nullable: true, Metadata: title("at")},
		{Name: "ok", Type: arrow.FixedWidthTypes.Boolean, Nullable: true, Metadata: title("ok")},
		{Name: "pair", Type: arrow.ListOf(arrow.PrimitiveTypes.Int32), Nullable: true, Metadata: title("pair")},
	}, nil)
	from := func(options string) func(testing.TB) connectors.Source {
		return func(t testing.TB) connectors.Source { return newSource(t, options) }
	}
	connectortest.Run(t, []connectortest.Case{
		{
			Name:      "table",
			Source:    from("table: " + schema + ".mixed"),
			Rows:      1000,
			Schema:    mixedSchema,
			BatchRows: 64,
			Broken:    from("table: " + schema + ".broken"),
		},
		{
			// Batches of several fetches.
			Name:      "query",
			Source:    from("fetch_rows: 50\nquery: SELECT g AS n, md5(g::text) AS h FROM generate_series(1, 1000) AS g;"),
			Rows:      1000,
			BatchRows: 128,
		},
		{
			Name:      "incremental",
			Source:    from("table: " + schema + ".mixed\ncursor: at\nprimary_key: [id]"),
			Rows:      1000,
			Schema:    mixedSchema,
			BatchRows: 100,
		},
	})
}

func TestPostgresOptions(t *testing.T) {
	for _, c := range []struct {
		name, options, field string
	}{
		{"empty", "", "source"},
		{"not a mapping", "[1, 2]", "source"},
		{"no url", "table: public.t", "source.url"},
		{"other scheme", "url: mysql://root@h/db\ntable: t", "source.url"},
		{"password in url", "url: postgres://u:s3cr3t-canary@h/db\ntable: t", "source.url"},
		{"password parameter", "url: postgres://u@h/db?password=s3cr3t-canary\ntable: t", "source.url"},
		{"no table nor query", "url: postgres://u@h/db", "source.table"},
		{"table and query", "url: postgres://u@h/db\ntable: t\nquery: SELECT 1", "source.query"},
		{"table of three parts", "url: postgres://u@h/db\ntable: a.b.c", "source.table"},
		{"table with a blank part", "url: postgres://u@h/db\ntable: public.", "source.table"},
		{"password_env not a name", "url: postgres://u@h/db\ntable: t\npassword_env: s3cr3t-canary", "source.password_env"},
		{"primary key without cursor", "url: postgres://u@h/db\ntable: t\nprimary_key: [id]", "source.primary_key"},
		{"primary key not a list", "url: postgres://u@h/db\ntable: t\ncursor: at\nprimary_key: {a: 1}", "source.primary_key"},
		{"primary key twice", "url: postgres://u@h/db\ntable: t\ncursor: at\nprimary_key: [id, id]", "source.primary_key[1]"},
		{"negative fetch", "url: postgres://u@h/db\ntable: t\nfetch_rows: -1", "source.fetch_rows"},
		{"unknown option", "url: postgres://u@h/db\ntabel: t", "source.tabel"},
		{"password option", "url: postgres://u@h/db\ntable: t\npassword: s3cr3t-canary", "source.password"},
		{"other kind", "kind: mysql\nurl: postgres://u@h/db\ntable: t", "source.kind"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := postgres.New(connectors.Spec{Kind: "postgres", Options: []byte(c.options)})
			var se *connectors.SpecError
			if !errors.As(err, &se) || se.Field != c.field || !errors.Is(err, connectors.ErrBadSpec) {
				t.Fatalf("err = %v, want a SpecError on %s", err, c.field)
			}
			if se.Reason == "" || se.Fix == "" && se.Reason != "unknown option" {
				t.Errorf("error without reason or fix: %+v", se)
			}
			if strings.Contains(err.Error(), "s3cr3t-canary") {
				t.Errorf("the error repeats a secret: %v", err)
			}
		})
	}

	src, err := postgres.New(connectors.Spec{Kind: "postgres", Options: []byte(`{"kind":"postgres","url":"postgres://reader@db.example.org/cnaf?sslmode=require","table":"public.Allocataires","cursor":"Updated At","primary_key":["ID"]}`)})
	if err != nil {
		t.Fatal(err)
	}
	s, ok := src.(*postgres.IncrementalSource)
	if !ok {
		t.Fatalf("a source with a cursor is a %T", src)
	}
	if got := s.Location(); got != "postgres://db.example.org:5432/cnaf/public.Allocataires" {
		t.Errorf("Location = %s", got)
	}
	if s.CursorColumn() != "updated_at" || !slices.Equal(s.PrimaryKey(), []string{"id"}) {
		t.Errorf("cursor %q, primary key %v", s.CursorColumn(), s.PrimaryKey())
	}
	q, err := postgres.New(connectors.Spec{Kind: "postgres", Options: []byte("url: postgres://u@h:6543/db\nquery: SELECT 1")})
	if err != nil {
		t.Fatal(err)
	}
	if loc := q.(*postgres.Source).Location(); !strings.HasPrefix(loc, "postgres://h:6543/db#query-") {
		t.Errorf("query Location = %s", loc)
	}
	// Without a cursor, the ingest must replace the table: the source is
	// not an Incremental.
	if _, ok := q.(connectors.Incremental); ok {
		t.Error("a source without cursor is a connectors.Incremental")
	}
}

// TestPostgresTypes reads a row of every mapped type, and a row of NULLs.
func TestPostgresTypes(t *testing.T) {
	conn := admin(t)
	schema := newSchema(t, conn)
	exec(t, conn, createTypes(schema))
	res, err := connectortest.ReadAll(t, newSource(t, "table: "+schema+".types"), connectors.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name string
		typ  arrow.DataType
		val  string
	}{
		{"id", arrow.PrimitiveTypes.Int32, "1"},
		{"i2", arrow.PrimitiveTypes.Int16, "-32768"},
		{"i4", arrow.PrimitiveTypes.Int32, "2147483647"},
		{"i8", arrow.PrimitiveTypes.Int64, "-9223372036854775808"},
		{"f4", arrow.PrimitiveTypes.Float32, "1.5"},
		{"f8", arrow.PrimitiveTypes.Float64, "-2.25e-300"},
		{"num", &arrow.Decimal128Type{Precision: 12, Scale: 2}, "1234567890.12"},
		{"num_neg", &arrow.Decimal128Type{Precision: 12, Scale: 2}, "-0.5"},
		{"num_big", &arrow.Decimal128Type{Precision: 38, Scale: 10}, "1234567890123456789012345678.0123456789"},
		{"num_free", arrow.PrimitiveTypes.Float64, "3.141592653589793"},
		{"txt", arrow.BinaryTypes.String, "héllo \"wörld\""},
		{"empty", arrow.BinaryTypes.String, ""},
		{"vc", arrow.BinaryTypes.String, "varchar"},
		{"ch", arrow.BinaryTypes.String, "ab   "},
		{"b", arrow.FixedWidthTypes.Boolean, "true"},
		{"d", arrow.FixedWidthTypes.Date32, "1969-07-20"},
		{"ts", &arrow.TimestampType{Unit: arrow.Microsecond}, "2024-02-29T23:59:59.123456"},
		{"tstz", &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, "2024-03-01T10:00:00.654321Z"},
		{"u", arrow.BinaryTypes.String, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
		{"j", arrow.BinaryTypes.String, `{"b": [1, 2], "a": "x"}`},
		{"jb", arrow.BinaryTypes.String, `{"a": "x", "b": [1, 2]}`},
		{"ints", arrow.ListOf(arrow.PrimitiveTypes.Int32), "[1,null,3]"},
		{"texts", arrow.ListOf(arrow.BinaryTypes.String), `["a","b,c",null]`},
		{"nums", arrow.ListOf(&arrow.Decimal128Type{Precision: 12, Scale: 2}), `["1.5","-2"]`},
		{"tstzs", arrow.ListOf(&arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}), `["2024-01-01T00:00:00Z"]`},
		{"by", arrow.BinaryTypes.Binary, "AP8A"},
		{"iv", arrow.BinaryTypes.String, "1 day 02:03:04"},
		{"mood", arrow.BinaryTypes.String, "happy"},
	}
	if res.Schema.NumFields() != len(want) {
		t.Fatalf("schema: %s", res.Schema)
	}
	if len(res.Rows) != 2 {
		t.Fatalf("%d rows, want 2", len(res.Rows))
	}
	for i, w := range want {
		f := res.Schema.Field(i)
		if f.Name != w.name || !arrow.TypeEqual(f.Type, w.typ) || !f.Nullable {
			t.Errorf("column %d: %s %s (nullable %t), want %s %s", i, f.Name, f.Type, f.Nullable, w.name, w.typ)
		}
		if got := res.Rows[0][i]; got != w.val {
			t.Errorf("%s = %q, want %q", w.name, got, w.val)
		}
		if got := res.Rows[1][i]; got != "(null)" && w.name != "id" {
			t.Errorf("%s of the NULL row = %q, want (null)", w.name, got)
		}
	}
}

// createTypes is a table of every mapped type: a row of values, a row of
// NULLs.
func createTypes(schema string) string {
	return fmt.Sprintf(`CREATE TYPE %[1]s.mood AS ENUM ('sad', 'happy');
	CREATE TABLE %[1]s.types (
		id int4, i2 int2, i4 int4, i8 int8, f4 float4, f8 float8,
		num numeric(12,2), num_neg numeric(12,2), num_big numeric(38,10), num_free numeric,
		txt text, empty text, vc varchar(20), ch char(5), b bool, d date, ts timestamp, tstz timestamptz,
		u uuid, j json, jb jsonb, ints int4[], texts text[], nums numeric(12,2)[], tstzs timestamptz[], by bytea,
		iv interval, mood %[1]s.mood);
	INSERT INTO %[1]s.types VALUES (1, -32768, 2147483647, -9223372036854775808, 1.5, -2.25e-300,
		1234567890.12, -0.5, 1234567890123456789012345678.0123456789, 3.141592653589793,
		'héllo "wörld"', '', 'varchar', 'ab', true, '1969-07-20', '2024-02-29 23:59:59.123456', '2024-03-01 12:00:00.654321+02',
		'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', '{"b": [1, 2], "a": "x"}', '{"b": [1, 2], "a": "x"}',
		'{1,NULL,3}', '{a,"b,c",NULL}', '{1.5,-2}', '{"2024-01-01 00:00:00+00"}', '\x00ff00',
		'1 day 2 hours 3 minutes 4 seconds', 'happy');
	INSERT INTO %[1]s.types (id) VALUES (2);`, schema)
}

// TestPostgresIncremental reads with a cursor of each kind of type: the
// cursor the stream returns reads back exactly as the column's type.
func TestPostgresIncremental(t *testing.T) {
	conn := admin(t)
	schema := newSchema(t, conn)
	exec(t, conn, fmt.Sprintf(`CREATE TABLE %s.events (id int8, at timestamptz, local timestamp, code text, day date, amount numeric(10,3))`, schema))
	exec(t, conn, fmt.Sprintf(`INSERT INTO %s.events VALUES
		(1, '2024-01-01 10:00:00.000001+00', '2024-01-01 10:00:00.000001', 'a', '2024-01-01', 1.001),
		(3, '2024-01-03 10:00:00.999999+00', '2024-01-03 10:00:00.999999', 'c', '2024-01-03', 3.003),
		(2, '2024-01-02 10:00:00.5+00', '2024-01-02 10:00:00.5', 'b', '2024-01-02', 2.002),
		(NULL, NULL, NULL, NULL, NULL, NULL)`, schema))
	for _, c := range []struct{ column, first string }{
		{"id", "3"},
		{"at", "2024-01-03 10:00:00.999999+00"},
		{"local", "2024-01-03 10:00:00.999999"},
		{"code", "c"},
		{"day", "2024-01-03"},
		{"amount", "3.003"},
	} {
		t.Run(c.column, func(t *testing.T) {
			src := newSource(t, "table: "+schema+".events\ncursor: "+c.column)
			full, err := connectortest.ReadAll(t, src, connectors.OpenOptions{})
			if err != nil {
				t.Fatal(err)
			}
			// A full load reads every row, NULL cursors too, in the cursor's
			// order.
			if len(full.Rows) != 4 || full.Rows[0][0] != "1" || full.Rows[2][0] != "3" {
				t.Errorf("full load: %v", full.Rows)
			}
			if full.Cursor != c.first {
				t.Fatalf("cursor after a full load = %q, want %q", full.Cursor, c.first)
			}
			again, err := connectortest.ReadAll(t, src, connectors.OpenOptions{Cursor: full.Cursor})
			if err != nil {
				t.Fatal(err)
			}
			if len(again.Rows) != 0 || again.Cursor != full.Cursor {
				t.Errorf("past the cursor: %d rows, cursor %q; want none and %q", len(again.Rows), again.Cursor, full.Cursor)
			}
			past, err := connectortest.ReadAll(t, src, connectors.OpenOptions{Cursor: full.Rows[0][slices.Index(columnNames(full.Schema), c.column)]})
			if err != nil {
				t.Fatal(err)
			}
			if len(past.Rows) != 2 || past.Cursor != c.first {
				t.Errorf("past the first row: %v, cursor %q", past.Rows, past.Cursor)
			}
		})
	}
	// A cursor that is not a value of the column says how to recover.
	_, err := connectortest.ReadAll(t, newSource(t, "table: "+schema+".events\ncursor: id"), connectors.OpenOptions{Cursor: "not a number"})
	if err == nil || !strings.Contains(err.Error(), "--force") {
		t.Errorf("bad cursor: %v", err)
	}
	// A cursor column that does not exist is the registration's fault.
	_, err = connectortest.ReadAll(t, newSource(t, "table: "+schema+".events\ncursor: updated_at"), connectors.OpenOptions{})
	var se *connectors.SpecError
	if !errors.As(err, &se) || se.Field != "source.cursor" || !strings.Contains(se.Reason, "id, at, local") {
		t.Errorf("missing cursor column: %v", err)
	}
	_, err = connectortest.ReadAll(t, newSource(t, "table: "+schema+".events\ncursor: id\nprimary_key: [id, nope]"), connectors.OpenOptions{})
	if !errors.As(err, &se) || se.Field != "source.primary_key[1]" {
		t.Errorf("missing key column: %v", err)
	}
}

func columnNames(s *arrow.Schema) []string {
	var names []string
	for _, f := range s.Fields() {
		names = append(names, f.Name)
	}
	return names
}

// TestPostgresContentHash: the hash follows the content, not the order in
// which the server sends the rows.
func TestPostgresContentHash(t *testing.T) {
	conn := admin(t)
	schema := newSchema(t, conn)
	exec(t, conn, fmt.Sprintf(`CREATE TABLE %s.t AS SELECT g AS id, g::text AS label FROM generate_series(1, 100) g`, schema))
	hash := func(options string) string {
		t.Helper()
		res, err := connectortest.ReadAll(t, newSource(t, options), connectors.OpenOptions{BatchRows: 30})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(res.Fingerprint.ContentHash, "sha256:") {
			t.Fatalf("fingerprint %+v", res.Fingerprint)
		}
		return res.Fingerprint.ContentHash
	}
	first := hash("table: " + schema + ".t")
	if reversed := hash("query: SELECT * FROM " + schema + ".t ORDER BY id DESC"); reversed != first {
		t.Errorf("same rows in another order: %s, want %s", reversed, first)
	}
	exec(t, conn, fmt.Sprintf(`UPDATE %s.t SET label = 'changed' WHERE id = 50`, schema))
	if changed := hash("table: " + schema + ".t"); changed == first {
		t.Error("a changed row left the hash as it was")
	}
}

func TestPostgresPasswordEnv(t *testing.T) {
	conn := admin(t)
	schema := newSchema(t, conn)
	exec(t, conn, fmt.Sprintf(`CREATE TABLE %s.t AS SELECT 1 AS one`, schema))
	canary := "canary-" + randomHex(12)
	role := "datalab_reader_" + randomHex(4)
	exec(t, conn, fmt.Sprintf(`CREATE ROLE %s LOGIN PASSWORD '%s'`, role, canary))
	t.Cleanup(func() {
		conn.Exec(context.Background(), "DROP OWNED BY "+role)
		conn.Exec(context.Background(), "DROP ROLE "+role)
	})
	exec(t, conn, fmt.Sprintf(`GRANT USAGE ON SCHEMA %s TO %s; GRANT SELECT ON %[1]s.t TO %[2]s`, schema, role))
	u, err := url.Parse(testURL())
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(role)
	variable := "DATALAB_TEST_PG_PASSWORD_" + strings.ToUpper(randomHex(4))
	opts := fmt.Sprintf("url: %s\npassword_env: %s\ntable: %s.t", u, variable, schema)
	src, err := postgres.New(connectors.Spec{Kind: "postgres", Options: []byte(opts)})
	if err != nil {
		t.Fatal(err)
	}

	// The variable is missing: the error names it, and no connection is tried.
	_, err = connectortest.ReadAll(t, src, connectors.OpenOptions{})
	if !errors.Is(err, postgres.ErrPasswordEnv) || !strings.Contains(err.Error(), variable) || !strings.Contains(err.Error(), role) {
		t.Errorf("missing variable: %v", err)
	}
	t.Logf("missing variable: %v", err)

	t.Setenv(variable, canary)
	res, err := connectortest.ReadAll(t, src, connectors.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 1 || strings.Contains(res.Fingerprint.Location, canary) || strings.Contains(res.Fingerprint.Location, role) {
		t.Errorf("read as %s: %v, location %s", role, res.Rows, res.Fingerprint.Location)
	}

	// A server that asks for the password gets the canary, and quotes it in
	// its refusal: the error must not.
	fake := pgecho.New(t)
	fu := *u
	fu.Host = fake.Addr()
	src, err = postgres.New(connectors.Spec{Kind: "postgres", Options: []byte(fmt.Sprintf("url: %s\npassword_env: %s\ntable: t", &fu, variable))})
	if err != nil {
		t.Fatal(err)
	}
	_, err = connectortest.ReadAll(t, src, connectors.OpenOptions{})
	if got := fake.Passwords(); len(got) == 0 || got[0] != canary {
		t.Fatalf("the server received %q, want the canary from %s", got, variable)
	}
	if err == nil || !errors.Is(err, postgres.ErrConnect) {
		t.Fatalf("refused password: %v", err)
	}
	t.Logf("refused password: %v", err)
	if strings.Contains(fmt.Sprintf("%v %+v %#v", err, err, err), canary) {
		t.Errorf("the error holds the password: %v", err)
	}
	for _, want := range []string{"[redacted]", "password authentication failed", variable, role} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}

func TestPostgresConnectionErrors(t *testing.T) {
	src, err := postgres.New(connectors.Spec{Kind: "postgres", Options: []byte("url: postgres://reader@127.0.0.1:1/cnaf?sslmode=disable&connect_timeout=5\ntable: t")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = connectortest.ReadAll(t, src, connectors.OpenOptions{})
	if !errors.Is(err, postgres.ErrConnect) {
		t.Fatalf("closed port: %v", err)
	}
	t.Logf("closed port: %v", err)
	for _, want := range []string{"127.0.0.1:1", "database cnaf", "user reader", "check that the server runs", "password_env"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}

	conn := admin(t)
	schema := newSchema(t, conn)
	_, err = connectortest.ReadAll(t, newSource(t, "table: "+schema+".nope"), connectors.OpenOptions{})
	if err == nil || !strings.Contains(err.Error(), "does not exist") || !strings.Contains(err.Error(), "check source.table") {
		t.Errorf("missing table: %v", err)
	}
	t.Logf("missing table: %v", err)
	// The transaction is read-only: a query cannot write.
	exec(t, conn, "CREATE SEQUENCE "+schema+".seq")
	_, err = connectortest.ReadAll(t, newSource(t, "query: SELECT nextval('"+schema+".seq')"), connectors.OpenOptions{})
	if err == nil || !strings.Contains(err.Error(), "read-only") || !strings.Contains(err.Error(), "must only read") {
		t.Errorf("a query that writes: %v", err)
	}
	t.Logf("writing query: %v", err)
	// A context cancelled during Open.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := newSource(t, "table: "+schema+".nope").Open(ctx, connectors.OpenOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// TestPostgresValuesArrowCannotHold: values without an Arrow value stop the
// stream with a DataError naming the column, the value and the fix.
func TestPostgresValuesArrowCannotHold(t *testing.T) {
	conn := admin(t)
	schema := newSchema(t, conn)
	for _, c := range []struct{ column, typ, value, wantValue, wantFix string }{
		{"grid", "int4[]", "ARRAY[[1,2],[3,4]]", "an array of 2 dimensions", "::text"},
		{"day", "date", "'infinity'", "infinity", "NULLIF"},
		{"at", "timestamptz", "'-infinity'", "-infinity", "NULLIF"},
		{"amount", "numeric(10,2)", "'NaN'", "NaN", "float8"},
	} {
		t.Run(c.column, func(t *testing.T) {
			exec(t, conn, fmt.Sprintf(`CREATE TABLE %s.%s AS SELECT 1 AS id, %s::%s AS %[2]s`, schema, c.column, c.value, c.typ))
			_, err := connectortest.ReadAll(t, newSource(t, "table: "+schema+"."+c.column), connectors.OpenOptions{})
			var de *connectors.DataError
			if !errors.As(err, &de) || de.Column != c.column || de.Value != c.wantValue || !strings.Contains(de.Fix, c.wantFix) {
				t.Errorf("err = %v, want a DataError on %s, value %q", err, c.column, c.wantValue)
			}
		})
	}
}

// TestPostgresStreamingMemory reads 100,000 then 1,000,000 generated rows:
// the Go heap in use, sampled after a collection at every batch, must not
// follow the number of rows, and Arrow memory stays a few batches. The
// stream decodes a batch ahead, so how many batches are in flight at a
// sample depends on timing: the bounds are in batches and megabytes, not a
// ratio of two small, noisy peaks (the data of the 900,000 extra rows is
// about 60 MB).
func TestPostgresStreamingMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("reads a million rows")
	}
	admin(t)
	peak := func(n int) (heap uint64, arrowPeak, batchBytes int64) {
		src := newSource(t, fmt.Sprintf("query: SELECT g AS id, md5(g::text) AS label, g * 0.01 AS amount, now() AS at FROM generate_series(1, %d) AS g", n))
		checked := memory.NewCheckedAllocator(memory.NewGoAllocator())
		alloc := connectortest.NewPeakAllocator(checked)
		st, err := src.Open(context.Background(), connectors.OpenOptions{Allocator: alloc, BatchRows: 10_000})
		if err != nil {
			t.Fatal(err)
		}
		var rows int64
		var ms runtime.MemStats
		for st.Next() {
			rows += st.RecordBatch().NumRows()
			var size int64
			for _, col := range st.RecordBatch().Columns() {
				for _, buf := range col.Data().Buffers() {
					if buf != nil {
						size += int64(buf.Cap())
					}
				}
			}
			batchBytes = max(batchBytes, size)
			runtime.GC()
			runtime.ReadMemStats(&ms)
			heap = max(heap, ms.HeapInuse)
		}
		if err := st.Err(); err != nil {
			t.Fatal(err)
		}
		st.Release()
		checked.AssertSize(t, 0)
		if rows != int64(n) {
			t.Fatalf("%d rows, want %d", rows, n)
		}
		return heap, alloc.Peak(), batchBytes
	}
	smallHeap, smallArrow, _ := peak(100_000)
	largeHeap, largeArrow, batch := peak(1_000_000)
	t.Logf("peak heap in use: %d bytes for 100k rows, %d for 1M; peak Arrow memory %d and %d; a batch %d", smallHeap, largeHeap, smallArrow, largeArrow, batch)
	if largeHeap >= smallHeap+16<<20 {
		t.Errorf("heap %d for 1M rows, %d for 100k: it grows with the table", largeHeap, smallHeap)
	}
	// One batch held by the reader, one queued, one being decoded, each
	// with builders that may have doubled their buffers.
	if largeArrow > 6*batch || smallArrow > 6*batch {
		t.Errorf("Arrow memory %d for 1M rows, %d for 100k: more than 6 batches of %d bytes", largeArrow, smallArrow, batch)
	}
}

// TestPostgresServerEnds checks how a stream ends on a real server: an
// error the server meets in the middle of the COPY comes out as the
// server's error, with the rows read before it, and once the stream is
// released, after that error, after an early stop or after its last row,
// the server's backend is gone.
func TestPostgresServerEnds(t *testing.T) {
	conn := admin(t)
	for _, c := range []struct {
		name, query string
		batches     int // read before Release; 0 for all
		err         string
	}{
		{"an error in the middle", "SELECT g AS id, 1 / (g - 5000) AS inverse FROM generate_series(1, 20000) AS g", 0, "division by zero (SQLSTATE 22012)"},
		{"an early stop", "SELECT g AS id, md5(g::text) AS label FROM generate_series(1, 2000000) AS g", 1, ""},
		{"the end", "SELECT g AS id FROM generate_series(1, 20000) AS g", 0, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			src, app := namedSource(t, c.query)
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			st, err := src.Open(context.Background(), connectors.OpenOptions{Allocator: mem, BatchRows: 1000})
			if err != nil {
				t.Fatal(err)
			}
			rows, batches := int64(0), 0
			for (c.batches == 0 || batches < c.batches) && st.Next() {
				rows += st.RecordBatch().NumRows()
				batches++
			}
			err = st.Err()
			st.Release()
			mem.AssertSize(t, 0)
			switch {
			case c.err == "" && err != nil:
				t.Fatalf("error %v after %d rows", err, rows)
			case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
				t.Fatalf("error %v, want the server's %q", err, c.err)
			case c.err != "" && (rows == 0 || rows >= 5000):
				t.Errorf("%d rows before the error, want the batches before row 5000", rows)
			}
			deadline := time.Now().Add(10 * time.Second)
			for {
				var n int
				if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", app).Scan(&n); err != nil {
					t.Fatal(err)
				}
				if n == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the server still has %d backends of the released stream", n)
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}

// TestPostgresRelationKinds reads, through source.table, each kind of
// relation a table name may name: a plain table (which the server copies
// as such), one with a dropped column, a view, a materialized view, a
// partitioned table, a table others inherit from and one with a generated
// column (which it copies through a query). Each gives the
// rows and columns of source.query's SELECT * of it.
func TestPostgresRelationKinds(t *testing.T) {
	conn := admin(t)
	schema := newSchema(t, conn)
	exec(t, conn, fmt.Sprintf(`
		CREATE TABLE %[1]s.plain AS SELECT g AS id, 'label ' || g AS label, (g * 1.25)::numeric(12,2) AS amount FROM generate_series(1, 3000) AS g;
		CREATE TABLE %[1]s.dropped AS SELECT g AS id, g AS gone, 'label ' || g AS label FROM generate_series(1, 3000) AS g;
		ALTER TABLE %[1]s.dropped DROP COLUMN gone;
		CREATE VIEW %[1]s.view AS SELECT id, label FROM %[1]s.plain WHERE id %% 2 = 0;
		CREATE MATERIALIZED VIEW %[1]s.matview AS SELECT id, amount FROM %[1]s.plain WHERE id %% 3 = 0;
		CREATE TABLE %[1]s.parts (id int, label text) PARTITION BY RANGE (id);
		CREATE TABLE %[1]s.parts_low PARTITION OF %[1]s.parts FOR VALUES FROM (0) TO (1500);
		CREATE TABLE %[1]s.parts_high PARTITION OF %[1]s.parts FOR VALUES FROM (1500) TO (10000);
		INSERT INTO %[1]s.parts SELECT g, 'part ' || g FROM generate_series(1, 3000) AS g;
		CREATE TABLE %[1]s.parent (id int, label text);
		CREATE TABLE %[1]s.child () INHERITS (%[1]s.parent);
		INSERT INTO %[1]s.parent SELECT g, 'parent ' || g FROM generate_series(1, 1000) AS g;
		INSERT INTO %[1]s.child SELECT g, 'child ' || g FROM generate_series(1001, 3000) AS g;
		CREATE TABLE %[1]s.generated (id int, twice int GENERATED ALWAYS AS (id * 2) STORED);
		INSERT INTO %[1]s.generated SELECT g FROM generate_series(1, 3000) AS g;`, schema))
	for _, rel := range []string{"plain", "dropped", "view", "matview", "parts", "parent", "generated"} {
		t.Run(rel, func(t *testing.T) {
			got, err := connectortest.ReadAll(t, newSource(t, "table: "+schema+"."+rel), connectors.OpenOptions{BatchRows: 1000})
			if err != nil {
				t.Fatal(err)
			}
			want, err := connectortest.ReadAll(t, newSource(t, "query: SELECT * FROM "+schema+"."+rel+" ORDER BY id"), connectors.OpenOptions{BatchRows: 1000})
			if err != nil {
				t.Fatal(err)
			}
			if !got.Schema.Equal(want.Schema) {
				t.Fatalf("schema %s, want %s", got.Schema, want.Schema)
			}
			slices.SortFunc(got.Rows, func(a, b []string) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
			slices.SortFunc(want.Rows, func(a, b []string) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
			if len(got.Rows) == 0 || !slices.EqualFunc(got.Rows, want.Rows, slices.Equal) {
				t.Errorf("%d rows, want the %d of the query", len(got.Rows), len(want.Rows))
			}
		})
	}
}

// TestPostgresBackendTerminated reads a stream whose backend an
// administrator terminates in the middle of the COPY: the stream ends with
// the server's own message, and releases every buffer.
func TestPostgresBackendTerminated(t *testing.T) {
	conn := admin(t)
	src, app := namedSource(t, "SELECT g AS id, md5(g::text) AS label FROM generate_series(1, 5000000) AS g")
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	st, err := src.Open(context.Background(), connectors.OpenOptions{Allocator: mem, BatchRows: 1000})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Release()
	if !st.Next() {
		t.Fatalf("no first batch: %v", st.Err())
	}
	var killed bool
	if err := conn.QueryRow(context.Background(), "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", app).Scan(&killed); err != nil || !killed {
		t.Fatalf("terminate the backend: %v (%t)", err, killed)
	}
	for st.Next() {
	}
	if err := st.Err(); err == nil || !strings.Contains(err.Error(), "terminating connection due to administrator command") {
		t.Fatalf("error %v, want the server's", err)
	}
}
