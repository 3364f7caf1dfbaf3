package postgres

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/datalab/datalab/connectors"
	"github.com/datalab/datalab/connectors/sqlsource"
)

// Kind is the source kind this package reads: `kind: postgres`.
const Kind = "postgres"

// Options is the source block of a PostgreSQL registration:
//
//	source:
//	  kind: postgres
//	  url: postgres://datalab@db.example.org:5432/cnaf?sslmode=require
//	  password_env: CNAF_PG_PASSWORD
//	  table: public.allocataires
//	  cursor: updated_at
//	  primary_key: [id]
//
// url and one of table or query are required; the rest may be left out.
type Options struct {
	// Kind is "postgres".
	Kind string `yaml:"kind"`
	// URL is a libpq connection URL without a password:
	// postgres://user@host:5432/database?sslmode=disable. Parameters such as
	// sslmode and connect_timeout are honoured. Required.
	URL string `yaml:"url"`
	// PasswordEnv names the environment variable that holds the user's
	// password. It is read at each Open, never stored nor printed. When
	// empty, the usual libpq fallbacks apply (PGPASSWORD, ~/.pgpass), or no
	// password at all.
	PasswordEnv string `yaml:"password_env"`
	// Table is the table or view to read, "schema.name" or "name" (then
	// found through the search_path), written as PostgreSQL names it: case
	// matters, no quotes. Exactly one of Table and Query is given.
	Table string `yaml:"table"`
	// Query is a SELECT whose result is the dataset. It runs in a read-only
	// transaction, wrapped as a subquery: it must not end with a LIMIT that
	// an incremental read would need to see past.
	Query string `yaml:"query"`
	// Cursor names a column that only grows (an id, an update time): when
	// set, ingests after the first read only the rows whose cursor is past
	// the highest value already loaded, and add them to the table.
	Cursor string `yaml:"cursor"`
	// PrimaryKey names the columns that identify a row: with a cursor, a
	// row read again (updated, its cursor bumped) replaces the loaded one.
	// Without it, new rows are appended. Needs Cursor.
	PrimaryKey []string `yaml:"primary_key"`
	// FetchRows was the number of rows fetched from the server at a time.
	// It is checked but no longer used: the rows come in one streaming
	// COPY, and batches hold connectors.OpenOptions.BatchRows rows.
	FetchRows int `yaml:"fetch_rows"`
}

// DefaultFetchRows is the FetchRows of a registration that does not say;
// it is no longer used.
const DefaultFetchRows = 10_000

// dialect is what the shared checks and messages say of PostgreSQL.
var dialect = sqlsource.Dialect{Kind: Kind, Name: "PostgreSQL", Qualifier: "schema", TableExample: "public.communes",
	PasswordExample: "CNAF_PG_PASSWORD", CursorExample: "updated_at"}

// settings are Options checked, with defaults applied.
type settings struct {
	url        string
	host, port string
	database   string
	user       string
	base       string // the SELECT that gives the dataset, unquoted parts quoted
	table      string // the table, quoted, when the registration names one
	what       string // "source.table" or "source.query", for messages
	location   string
	fetchRows  int
	cursor     string   // the cursor column as PostgreSQL names it
	primaryKey []string // as named in the stream
}

// decodeOptions reads raw (YAML or JSON) strictly into Options.
func decodeOptions(raw []byte) (Options, error) {
	var o Options
	err := connectors.DecodeOptions(raw, &o, connectors.OptionsHelp{
		Kind:    Kind,
		Minimal: "{kind: postgres, url: postgres://user@host:5432/db, table: schema.name}",
		Example: "{kind: postgres, url: postgres://user@host/db, table: public.t}",
		Hint: func(option string) (what, example string) {
			if option == "fetch_rows" {
				return "a whole number of rows", "fetch_rows: 10000"
			}
			return sqlsource.Hint(option)
		},
		Secret: true,
	})
	return o, err
}

// resolve checks o and applies the defaults.
func (o Options) resolve(kind string) (settings, error) {
	var s settings
	if err := dialect.CheckKind(o.Kind, kind); err != nil {
		return s, err
	}
	if err := s.parseURL(o.URL); err != nil {
		return s, err
	}
	shared, err := dialect.Resolve(sqlsource.Options{PasswordEnv: o.PasswordEnv,
		Table: o.Table, Query: o.Query, Cursor: o.Cursor, PrimaryKey: o.PrimaryKey}, nil)
	if err != nil {
		return s, err
	}
	s.what = shared.What
	if shared.Table != nil {
		s.table = quoteIdent(shared.Table...)
		s.base = "SELECT * FROM " + s.table
		s.location += "/" + strings.Join(shared.Table, ".")
	} else {
		s.base = shared.Query
		s.location += shared.QueryID()
	}
	s.cursor, s.primaryKey = shared.Cursor, shared.PrimaryKey
	switch {
	case o.FetchRows < 0:
		return s, &connectors.SpecError{Field: "source.fetch_rows", Reason: fmt.Sprintf("%d is negative", o.FetchRows), Fix: fmt.Sprintf("give a positive number of rows, or leave it out for %d", DefaultFetchRows)}
	case o.FetchRows == 0:
		s.fetchRows = DefaultFetchRows
	default:
		s.fetchRows = o.FetchRows
	}
	return s, nil
}

// parseURL checks the connection URL: a postgres:// URL that holds no
// password. Messages never quote the URL, which might hold one.
func (s *settings) parseURL(raw string) error {
	const fix = "write postgres://user@host:5432/database (no password: name its variable in password_env)"
	if strings.TrimSpace(raw) == "" {
		return &connectors.SpecError{Field: "source.url", Reason: "missing", Fix: fix}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return &connectors.SpecError{Field: "source.url", Reason: "not a URL", Fix: fix}
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return &connectors.SpecError{Field: "source.url", Reason: fmt.Sprintf("scheme %q is not postgres", u.Scheme), Fix: fix}
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			return &connectors.SpecError{Field: "source.url", Reason: "the URL holds a password",
				Fix: "remove the password from the URL and name an environment variable that holds it: password_env: MY_VARIABLE"}
		}
		s.user = u.User.Username()
	}
	for key := range u.Query() {
		if strings.Contains(strings.ToLower(key), "password") {
			return &connectors.SpecError{Field: "source.url", Reason: fmt.Sprintf("the URL holds a %s parameter", key),
				Fix: "remove it and name an environment variable that holds the password: password_env: MY_VARIABLE"}
		}
	}
	if strings.Contains(u.Host, ",") {
		return &connectors.SpecError{Field: "source.url", Reason: "several hosts are not supported", Fix: "name one host"}
	}
	s.host, s.port = u.Hostname(), u.Port()
	if s.host == "" {
		s.host = u.Query().Get("host")
	}
	if s.port == "" {
		s.port = "5432"
	}
	s.database = strings.TrimPrefix(u.Path, "/")
	if s.database == "" {
		s.database = s.user
	}
	if strings.Contains(s.database, "/") {
		return &connectors.SpecError{Field: "source.url", Reason: "the path names more than a database", Fix: "write postgres://user@host:5432/database and the table in source.table"}
	}
	s.url = raw
	host := s.host
	if strings.HasPrefix(host, "/") {
		host = "localhost"
	}
	s.location = "postgres://" + net.JoinHostPort(host, s.port) + "/" + s.database
	return nil
}

// quoteIdent quotes a possibly qualified PostgreSQL name.
func quoteIdent(parts ...string) string {
	q := make([]string, len(parts))
	for i, p := range parts {
		q[i] = `"` + strings.ReplaceAll(p, `"`, `""`) + `"`
	}
	return strings.Join(q, ".")
}
