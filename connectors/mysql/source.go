package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/go-sql-driver/mysql"

	"github.com/datalab/datalab/connectors"
	"github.com/datalab/datalab/connectors/sqlsource"
)

// Source is a registered MySQL or MariaDB table or query. It is immutable
// once built: opening it several times, even concurrently, is safe; each
// Open has its own connection.
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

// New builds a MySQL Source from a registration: a connectors.Factory. It
// decodes spec.Options strictly into Options and checks them; every
// refusal is a *connectors.SpecError naming the option ("source.url"). It
// does no I/O: the server is first reached by Open. New returns an
// *IncrementalSource when the registration names a cursor column, a
// *Source otherwise.
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
// mysql://host:port/database/table, or mysql://host:port/database#query-<hash>.
func (s *Source) Location() string { return s.set.location }

// CursorColumn returns the cursor column as the stream names it.
func (s *IncrementalSource) CursorColumn() string { return connectors.ColumnName(s.set.cursor) }

// PrimaryKey returns the primary key's columns as the stream names them;
// empty when new rows are appended.
func (s *IncrementalSource) PrimaryKey() []string { return slices.Clone(s.set.primaryKey) }

// Open connects to the server, starts a read-only transaction and runs the
// query; the returned Stream reads its rows as the server sends them, batch
// by batch, so that memory holds one batch whatever the size of the table.
// The stream owns the connection; its last Release closes it (a release
// before the end drops the connection rather than read the rest).
//
// With a cursor column, the rows come in the cursor's order, and only those
// past opts.Cursor when it is set; the Stream is a connectors.CursorStream.
// opts.Previous is not used: Open never returns connectors.ErrUnchanged.
//
// Open fails with an error wrapping ErrPasswordEnv when the variable
// Options.PasswordEnv names is not set, ErrConnect when the server cannot
// be reached or refuses the connection, a *connectors.SpecError when the
// cursor or a primary key column is not in the result, and the server's
// error otherwise, with what to check. No error holds the password.
// Cancelling ctx stops the stream and drops the connection.
func (s *Source) Open(ctx context.Context, opts connectors.OpenOptions) (connectors.Stream, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("open %s: %w", s.set.location, err)
	}
	cfg := s.set.cfg.Clone()
	if name := s.opts.PasswordEnv; name != "" {
		pw, err := dialect.Password(name, cfg.User)
		if err != nil {
			return nil, err
		}
		cfg.Passwd = pw
	}
	red := sqlsource.NewRedactor(cfg.Passwd)
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, red.Error(fmt.Errorf("%s: %w", s.set.location, err))
	}
	db := sql.OpenDB(connector)
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, s.connectError(red, err)
	}
	opts = opts.WithDefaults()
	qctx, cancel := context.WithCancel(ctx)
	st := &stream{
		ctx:       ctx,
		cancel:    cancel,
		src:       s,
		db:        db,
		conn:      conn,
		red:       red,
		mem:       opts.Allocator,
		batchRows: opts.BatchRows,
		prevCur:   opts.Cursor,
		hash:      newRowHash(),
	}
	st.Init(st.free)
	if err := st.start(qctx, opts.Cursor); err != nil {
		st.Release()
		return nil, red.Error(err)
	}
	return st, nil
}

// connectError says why the connection failed and what to check.
func (s *Source) connectError(red sqlsource.Redactor, err error) error {
	cfg := s.set.cfg
	check := "check that the server runs and listens there, that the user may connect from this machine, and that the database exists"
	if s.opts.PasswordEnv != "" {
		check += fmt.Sprintf(", and that %s holds the user's password", s.opts.PasswordEnv)
	} else {
		check += "; if the user needs a password, name the variable that holds it in source.password_env"
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		switch me.Number {
		case 1045: // access denied: user or password
			check = fmt.Sprintf("the user or password was refused: check the user, and the password in %s", s.opts.PasswordEnv)
			if s.opts.PasswordEnv == "" {
				check = "the user was refused: if it needs a password, name the variable that holds it in source.password_env"
			}
		case 1044: // no access to the database
			check = fmt.Sprintf("grant user %s access to database %s, or name another database in source.url", cfg.User, cfg.DBName)
		case 1049: // unknown database
			check = "check the database in source.url"
		}
	}
	msg := fmt.Sprintf("connect to MySQL at %s, database %s, user %s: %s; %s", cfg.Addr, cfg.DBName, cfg.User, err.Error(), check)
	return red.ConnectError(ErrConnect, msg, err)
}

// start begins the transaction, learns the columns and runs the query.
func (st *stream) start(qctx context.Context, cursor string) error {
	set := st.src.set
	if _, err := st.conn.ExecContext(qctx, "START TRANSACTION READ ONLY"); err != nil {
		return st.queryError(err)
	}
	var info map[string]*infoColumn
	if set.tableName != "" {
		var err error
		if info, err = st.tableInfo(qctx); err != nil {
			return st.queryError(err)
		}
	}
	// The columns, from a query that returns no row.
	probe, err := st.conn.QueryContext(qctx, "SELECT * FROM ("+set.base+") AS datalab_src LIMIT 0")
	if err != nil {
		return st.queryError(err)
	}
	cts, err := probe.ColumnTypes()
	probe.Close()
	if err != nil {
		return st.queryError(err)
	}
	st.cols = make([]column, len(cts))
	headers := make([]string, len(cts))
	for i, ct := range cts {
		st.cols[i] = newColumn(ct, info[strings.ToLower(ct.Name())])
		headers[i] = ct.Name()
	}
	names := connectors.ColumnNames(headers)
	st.names = names
	st.hash.header(st.cols)

	q := set.base
	var args []any
	if set.cursor != "" {
		cur := findColumn(headers, names, set.cursor)
		if cur < 0 {
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
		col := "datalab_src." + quoteIdent(headers[cur])
		// The cursor is also read as text, which the next WHERE casts back
		// to the column's type.
		q = "SELECT datalab_src.*, CAST(" + col + " AS CHAR) AS datalab_cursor FROM (" + set.base + ") AS datalab_src"
		if cursor != "" {
			q += " WHERE " + col + " > " + st.cols[cur].param()
			args = append(args, cursor)
		}
		q += " ORDER BY " + col
	}
	rows, err := st.conn.QueryContext(qctx, q, args...)
	if err != nil {
		return st.queryError(err)
	}
	st.rows = rows

	fields := make([]arrow.Field, len(st.cols))
	for i, c := range st.cols {
		fields[i] = arrow.Field{Name: names[i], Type: c.arrowType(), Nullable: true,
			Metadata: arrow.NewMetadata([]string{connectors.TitleKey}, []string{c.name})}
	}
	st.schema = arrow.NewSchema(fields, nil)
	st.rb = array.NewRecordBuilder(st.mem, st.schema)
	st.targets = make([]any, len(st.cols), len(st.cols)+1)
	for i := range st.cols {
		st.targets[i] = &cell{index: i, col: &st.cols[i], b: st.rb.Field(i), hash: st.hash, size: &st.size}
	}
	if st.incremental {
		st.targets = append(st.targets, &st.curText)
	}
	return nil
}

// tableInfo reads what information_schema says of the table's columns.
func (st *stream) tableInfo(ctx context.Context) (map[string]*infoColumn, error) {
	set := st.src.set
	var db any
	if set.tableDB != "" {
		db = set.tableDB
	}
	rows, err := st.conn.QueryContext(ctx, `SELECT COLUMN_NAME, LOWER(COLUMN_TYPE), NUMERIC_PRECISION, NUMERIC_SCALE
		FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?`, db, set.tableName)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	info := map[string]*infoColumn{}
	for rows.Next() {
		var name string
		c := &infoColumn{}
		if err := rows.Scan(&name, &c.columnType, &c.prec, &c.sc); err != nil {
			return nil, err
		}
		info[strings.ToLower(name)] = c
	}
	return info, rows.Err()
}

// findColumn returns the index of the column named name, as the server
// names it (case aside, as MySQL compares column names) or as the stream
// does; -1 when there is none.
func findColumn(headers, names []string, name string) int {
	if i := slices.IndexFunc(headers, func(h string) bool { return strings.EqualFold(h, name) }); i >= 0 {
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
	var me *mysql.MySQLError
	if !errors.As(err, &me) {
		return ""
	}
	switch me.Number {
	case 1146, 1049: // no such table, no such database
		if set.what == "source.query" {
			return "; check the tables source.query reads"
		}
		return fmt.Sprintf("; check %s: database.name as SHOW TABLES lists it", set.what)
	case 1142, 1143, 1044: // no privilege
		return fmt.Sprintf("; grant user %s SELECT on what %s reads", set.cfg.User, set.what)
	case 1054, 1064, 1305: // unknown column, syntax, unknown function
		return "; check " + set.what
	case 1792: // read-only transaction
		return "; source.query must only read (SELECT)"
	}
	return ""
}
