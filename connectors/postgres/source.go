package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/datalab/datalab/connectors"
	"github.com/datalab/datalab/connectors/sqlsource"
)

// DefaultConnectTimeout bounds a connection attempt when the URL does not
// set connect_timeout.
const DefaultConnectTimeout = 30 * time.Second

// Source is a registered PostgreSQL table or query. It is immutable once
// built: opening it several times, even concurrently, is safe; each Open
// has its own connection.
type Source struct {
	opts Options
	set  settings
}

// IncrementalSource is the Source of a registration that names a cursor
// column: a connectors.Incremental, which the ingest loads by adding the
// rows past the last cursor instead of replacing the table. New returns
// one only then, since the ingest finds the capability by type assertion.
type IncrementalSource struct {
	*Source
}

var (
	_ connectors.Factory     = New
	_ connectors.Incremental = (*IncrementalSource)(nil)
)

// New builds a PostgreSQL Source from a registration: a
// connectors.Factory. It decodes spec.Options strictly into Options and
// checks them; every refusal is a *connectors.SpecError naming the option
// ("source.table"). It does no I/O: the server is first reached by Open.
// New returns an *IncrementalSource when the registration names a cursor
// column, a *Source otherwise.
func New(spec connectors.Spec) (connectors.Source, error) {
	opts, err := decodeOptions(spec.Options)
	if err != nil {
		return nil, err
	}
	kind := spec.Kind
	if kind == "" {
		kind = Kind
	}
	set, err := opts.resolve(kind)
	if err != nil {
		return nil, err
	}
	src := &Source{opts: opts, set: set}
	if set.cursor != "" {
		return &IncrementalSource{src}, nil
	}
	return src, nil
}

// Options returns the registration's options as decoded.
func (s *Source) Options() Options { return s.opts }

// Location returns where the data lives, without credentials:
// postgres://host:port/database/schema.table, or
// postgres://host:port/database#query-<hash> for a query.
func (s *Source) Location() string { return s.set.location }

// CursorColumn returns the cursor column as the stream names it.
func (s *IncrementalSource) CursorColumn() string { return connectors.ColumnName(s.set.cursor) }

// PrimaryKey returns the primary key's columns as the stream names them;
// empty when new rows are appended.
func (s *IncrementalSource) PrimaryKey() []string { return slices.Clone(s.set.primaryKey) }

// Open connects to the server, starts a read-only transaction and a
// binary COPY of the table or query, and returns a Stream that decodes its
// rows batch by batch: memory holds one batch, whatever the
// size of the table. The stream owns the connection; its last Release
// closes it.
//
// With a cursor column, the rows come in the cursor's order, and only those
// past opts.Cursor when it is set; the Stream is a connectors.CursorStream.
// opts.Previous is not used: a database cannot tell cheaply that a table is
// unchanged (the stream's content hash lets the ingest tell afterwards).
//
// Open fails with an error wrapping ErrPasswordEnv when the variable
// Options.PasswordEnv names is not set, ErrConnect when the server cannot
// be reached or refuses the connection, a *connectors.SpecError when the
// cursor or a primary key column is not in the result, and the server's
// error (a missing table, a bad query) with what to check. No error holds
// the password. Cancelling ctx stops the stream between batches and
// interrupts a fetch under way.
func (s *Source) Open(ctx context.Context, opts connectors.OpenOptions) (connectors.Stream, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("open %s: %w", s.set.location, err)
	}
	cfg, red, err := s.config()
	if err != nil {
		return nil, err
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, s.connectError(cfg, red, err)
	}
	opts = opts.WithDefaults()
	st := &stream{
		ctx:       ctx,
		src:       s,
		conn:      conn,
		red:       red,
		mem:       opts.Allocator,
		batchRows: opts.BatchRows,
		prevCur:   opts.Cursor,
		hash:      newRowHash(),
	}
	st.Init(st.free)
	if err := st.start(opts.Cursor); err != nil {
		st.Release()
		return nil, red.Error(err)
	}
	return st, nil
}

// config builds the connection's configuration, the password read from
// the environment.
func (s *Source) config() (*pgx.ConnConfig, sqlsource.Redactor, error) {
	cfg, err := pgx.ParseConfig(s.set.url)
	if err != nil {
		// The URL holds no password (New refused it), but pgx may have read
		// one from PGPASSWORD or ~/.pgpass: keep pgx's message out.
		return nil, sqlsource.Redactor{}, &connectors.SpecError{Field: "source.url", Reason: "not a valid PostgreSQL URL",
			Fix: "write postgres://user@host:5432/database?sslmode=disable"}
	}
	if name := s.opts.PasswordEnv; name != "" {
		pw, err := dialect.Password(name, cfg.User)
		if err != nil {
			return nil, sqlsource.Redactor{}, err
		}
		cfg.Password = pw
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	// Timestamps read as text (the cursor) are written in UTC.
	cfg.RuntimeParams["TimeZone"] = "UTC"
	if cfg.RuntimeParams["application_name"] == "" {
		cfg.RuntimeParams["application_name"] = "datalab"
	}
	return cfg, sqlsource.NewRedactor(cfg.Password), nil
}

// connectError says why the connection failed and what to check.
func (s *Source) connectError(cfg *pgx.ConnConfig, red sqlsource.Redactor, err error) error {
	check := "check that the server runs and listens there, that it accepts connections from this machine (pg_hba.conf), and that the database and user exist"
	switch {
	case s.opts.PasswordEnv != "":
		check += fmt.Sprintf(", and that %s holds the user's password", s.opts.PasswordEnv)
	default:
		check += "; if the user needs a password, name the variable that holds it in source.password_env"
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "28P01" {
		check = fmt.Sprintf("the password was refused: check the one in %s", s.opts.PasswordEnv)
		if s.opts.PasswordEnv == "" {
			check = "the user needs a password: name the variable that holds it in source.password_env"
		}
	}
	host := cfg.Host
	if host == "" {
		host = s.set.host
	}
	msg := fmt.Sprintf("connect to PostgreSQL at %s:%d, database %s, user %s: %s; %s",
		host, cfg.Port, cfg.Database, cfg.User, err.Error(), check)
	return red.ConnectError(ErrConnect, msg, err)
}

// start begins the transaction and the COPY, and reads the COPY's header:
// the columns and their types are known when it returns.
func (st *stream) start(cursor string) error {
	set := st.src.set
	ctx := st.ctx
	if _, err := st.conn.Exec(ctx, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); err != nil {
		return st.queryError(err)
	}
	desc, err := st.conn.PgConn().Prepare(ctx, "", "SELECT * FROM ("+set.base+") AS datalab_src", nil)
	if err != nil {
		return st.queryError(err)
	}
	if len(desc.Fields) == 0 {
		return &connectors.SpecError{Field: set.what, Reason: "the result has no column", Fix: "select at least one column"}
	}
	headers := make([]string, len(desc.Fields))
	for i, f := range desc.Fields {
		headers[i] = f.Name
	}
	names := connectors.ColumnNames(headers)
	aliases := make([]string, len(headers))
	exprs := make([]string, len(headers))
	fields := make([]arrow.Field, len(headers))
	types := make([]pgType, len(headers))
	st.names = names
	st.hash.header(desc.Fields)
	cast := false // a column is read as text
	for i, f := range desc.Fields {
		aliases[i] = fmt.Sprintf("c%d", i+1)
		exprs[i] = "datalab_src." + aliases[i]
		t, ok := typeFor(f.DataTypeOID, f.TypeModifier)
		if !ok {
			t = textType
			exprs[i] += "::text"
			cast = true
		}
		types[i] = t
		fields[i] = arrow.Field{Name: names[i], Type: t.arrow, Nullable: true,
			Metadata: arrow.NewMetadata([]string{connectors.TitleKey}, []string{f.Name})}
	}
	st.schema = arrow.NewSchema(fields, nil)

	cur := -1
	if set.cursor != "" {
		if cur = findColumn(headers, names, set.cursor); cur < 0 {
			return &connectors.SpecError{Field: "source.cursor", Reason: fmt.Sprintf("column %s is not in the result of %s (columns: %s)", set.cursor, set.what, strings.Join(headers, ", ")),
				Fix: "name one of its columns, one that only grows (an id, an update time)"}
		}
		for i, k := range set.primaryKey {
			if findColumn(headers, names, k) < 0 {
				return &connectors.SpecError{Field: fmt.Sprintf("source.primary_key[%d]", i), Reason: fmt.Sprintf("column %s is not in the result of %s (columns: %s)", k, set.what, strings.Join(headers, ", ")),
					Fix: "name the columns that identify a row"}
			}
		}
		st.incremental = true
		// The cursor is also read as text, last: PostgreSQL's own text form
		// of the value, which it reads back exactly in the next WHERE.
		exprs = append(exprs, "datalab_src."+aliases[cur]+"::text")
	}
	from := " FROM (" + set.base + ") AS datalab_src(" + strings.Join(aliases, ", ") + ")"
	q := "SELECT " + strings.Join(exprs, ", ") + from
	if cur >= 0 {
		if cursor != "" {
			// COPY takes no parameter: the cursor is a quoted literal, which
			// the server reads as the column's type, as it would a text
			// parameter. A parameter first checks that it is a value of the
			// column, with an error of its own.
			where := " WHERE datalab_src." + aliases[cur] + " > "
			if _, err := st.conn.Exec(ctx, "SELECT 1"+from+where+"$1 LIMIT 0", cursor); err != nil {
				var pgErr *pgconn.PgError
				if errors.As(err, &pgErr) && strings.HasPrefix(pgErr.Code, "22") {
					return fmt.Errorf("read %s: the last cursor %q is not a value of column %s: %w; ingest again with --force to reload the table", set.location, cursor, set.cursor, err)
				}
				return st.queryError(err)
			}
			lit, ok := quoteLiteral(cursor)
			if !ok {
				return fmt.Errorf("read %s: the last cursor %q is not a value of column %s; ingest again with --force to reload the table", set.location, cursor, set.cursor)
			}
			q += where + lit
		}
		q += " ORDER BY datalab_src." + aliases[cur]
	}
	st.rb = array.NewRecordBuilder(st.mem, st.schema)
	st.puts = make([]putFunc, len(types))
	for i, t := range types {
		st.puts[i] = t.put(st.rb.Field(i))
	}
	stmt := "COPY (" + q + ") TO STDOUT (FORMAT binary)"
	if set.table != "" && cur < 0 && !cast && serverMajor(st.conn) >= 12 {
		// A plain table is copied as such: the server reads it without
		// planning and running a query (a bare COPY of cmd/datalab-bench's
		// table: 0.485 s, 0.502 s through a query). Not a table that others
		// inherit from, nor one with generated columns: SELECT * reads the
		// rows of the first's children and the second's generated columns,
		// which COPY leaves out.
		var plain bool
		if err := st.conn.QueryRow(ctx, plainTable, set.table).Scan(&plain); err != nil {
			return st.queryError(err)
		}
		if plain {
			stmt = "COPY " + set.table + " TO STDOUT (FORMAT binary)"
		}
	}
	if err := st.startCopy(stmt); err != nil {
		return st.queryError(err)
	}
	if err := st.rd.header(); err != nil {
		return st.queryError(err)
	}
	st.startDecoding()
	return nil
}

// startCopy sends the COPY, and takes the connection from pgx: st.rd
// reads the answer from the connection itself. Cancelling ctx interrupts
// a read under way.
func (st *stream) startCopy(q string) error {
	pg := st.conn.PgConn()
	if err := pg.SyncConn(st.ctx); err != nil {
		return err
	}
	hc, err := pg.Hijack()
	if err != nil {
		return err
	}
	st.raw = hc.Conn
	st.unwatch = context.AfterFunc(st.ctx, func() { _ = hc.Conn.SetDeadline(time.Now()) })
	msg, err := (&pgproto3.Query{String: q}).Encode(nil)
	if err != nil {
		return err
	}
	if _, err := st.raw.Write(msg); err != nil {
		return err
	}
	st.rd = newCopyReader(newWire(st.raw))
	return nil
}

// plainTable tells whether the table $1 is one that COPY reads as SELECT *
// does: an ordinary table, without children or generated columns
// (pg_attribute.attgenerated, PostgreSQL 12 and later).
const plainTable = `SELECT c.relkind = 'r' AND NOT c.relhassubclass AND NOT EXISTS (
	SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated <> '')
	FROM pg_class c WHERE c.oid = $1::regclass`

// serverMajor returns the server's major version, from the server_version
// it reported at connection; 0 when it cannot tell.
func serverMajor(conn *pgx.Conn) int {
	return majorVersion(conn.PgConn().ParameterStatus("server_version"))
}

// majorVersion returns the major version of a server_version: 15 of
// "15.20 (Debian 15.20-0+deb12u1)", 9 of "9.6.24", 0 of "".
func majorVersion(v string) int {
	end := strings.IndexFunc(v, func(r rune) bool { return r < '0' || r > '9' })
	if end < 0 {
		end = len(v)
	}
	n, _ := strconv.Atoi(v[:end])
	return n
}

// findColumn returns the index of the column named name, as the server
// names it or as the stream does; -1 when there is none.
func findColumn(headers, names []string, name string) int {
	if i := slices.Index(headers, name); i >= 0 {
		return i
	}
	return slices.Index(names, connectors.ColumnName(name))
}

// queryError says what failed on the server and what to check.
func (st *stream) queryError(err error) error {
	if sqlsource.ContextCause(err) != nil && st.ctx.Err() != nil {
		return fmt.Errorf("read %s: %w", st.src.set.location, st.ctx.Err())
	}
	return fmt.Errorf("read %s: %w%s", st.src.set.location, err, st.hint(err))
}

// hint says what to check after an error of the server, if it can tell.
func (st *stream) hint(err error) string {
	set := st.src.set
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return ""
	}
	switch pgErr.Code {
	case "42P01", "3F000": // undefined table, undefined schema
		if set.what == "source.query" {
			return "; check the tables source.query reads"
		}
		return fmt.Sprintf("; check %s: schema.name as PostgreSQL names it (\\dt lists them), case included", set.what)
	case "42501": // insufficient privilege
		return fmt.Sprintf("; grant user %s SELECT on what %s reads", set.user, set.what)
	case "42601", "42703", "42883", "42804": // syntax, column, function, datatype
		return "; check " + set.what
	case "25006": // read-only transaction
		return "; source.query must only read (SELECT)"
	}
	return ""
}
