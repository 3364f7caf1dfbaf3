package mysql

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/datalab/datalab/connectors"
	"github.com/datalab/datalab/connectors/sqlsource"
)

// Kind is the source kind this package reads: `kind: mysql`.
const Kind = "mysql"

// Options is the source block of a MySQL or MariaDB registration:
//
//	source:
//	  kind: mysql
//	  url: mysql://datalab@db.example.org:3306/aides?tls=true
//	  password_env: AIDES_MYSQL_PASSWORD
//	  table: aides.demandes
//	  cursor: id
//
// url and one of table or query are required; the rest may be left out.
type Options struct {
	// Kind is "mysql".
	Kind string `yaml:"kind"`
	// URL is mysql://user@host:3306/database, without a password. Its
	// parameters are those of the Go MySQL driver's DSN (tls, charset,
	// timeout, ...); parseTime, loc and interpolateParams are set by the
	// connector. Required.
	URL string `yaml:"url"`
	// PasswordEnv names the environment variable that holds the user's
	// password. It is read at each Open, never stored nor printed.
	PasswordEnv string `yaml:"password_env"`
	// Table is the table or view to read, "database.name" or "name" (in the
	// URL's database). Exactly one of Table and Query is given.
	Table string `yaml:"table"`
	// Query is a SELECT whose result is the dataset, wrapped as a derived
	// table.
	Query string `yaml:"query"`
	// Cursor names a column that only grows (an id, an update time): when
	// set, ingests after the first read only the rows whose cursor is past
	// the highest value already loaded, and add them to the table.
	Cursor string `yaml:"cursor"`
	// PrimaryKey names the columns that identify a row: with a cursor, a
	// row read again replaces the loaded one; without it, new rows are
	// appended. Needs Cursor.
	PrimaryKey []string `yaml:"primary_key"`
}

// DefaultConnectTimeout bounds a connection attempt when the URL does not
// set timeout.
const DefaultConnectTimeout = 30 * time.Second

// dialect is what the shared checks and messages say of MySQL.
var dialect = sqlsource.Dialect{Kind: Kind, Name: "MySQL", Qualifier: "database",
	PasswordExample: "AIDES_MYSQL_PASSWORD", CursorExample: "id"}

// settings are Options checked, with defaults applied.
type settings struct {
	cfg        *mysql.Config // without password
	tableDB    string        // the table's database, empty for the URL's
	tableName  string        // empty for a query
	base       string        // the SELECT that gives the dataset
	what       string        // "source.table" or "source.query"
	location   string
	cursor     string
	primaryKey []string // as named in the stream
}

// decodeOptions reads raw (YAML or JSON) strictly into Options.
func decodeOptions(raw []byte) (Options, error) {
	var o Options
	err := connectors.DecodeOptions(raw, &o, connectors.OptionsHelp{
		Kind:    Kind,
		Minimal: "{kind: mysql, url: mysql://user@host:3306/db, table: name}",
		Example: "{kind: mysql, url: mysql://user@host/db, table: t}",
		Hint:    sqlsource.Hint,
		Secret:  true,
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
	shared, err := dialect.Resolve(sqlsource.Options{PasswordEnv: o.PasswordEnv, Table: o.Table, Query: o.Query,
		Cursor: o.Cursor, PrimaryKey: o.PrimaryKey}, func(parts []string) error {
		if len(parts) == 1 && s.cfg.DBName == "" {
			return &connectors.SpecError{Field: "source.table", Reason: "no database: the URL names none", Fix: "write database.name, or name the database in the URL"}
		}
		return nil
	})
	if err != nil {
		return s, err
	}
	s.what = shared.What
	if parts := shared.Table; parts != nil {
		if len(parts) == 2 {
			s.tableDB = parts[0]
		}
		s.tableName = parts[len(parts)-1]
		s.base = "SELECT * FROM " + quoteIdent(parts...)
		db := s.tableDB
		if db == "" {
			db = s.cfg.DBName
		}
		s.location = "mysql://" + s.cfg.Addr + "/" + db + "/" + s.tableName
	} else {
		s.base = shared.Query
		s.location += shared.QueryID()
	}
	s.cursor, s.primaryKey = shared.Cursor, shared.PrimaryKey
	return s, nil
}

// parseURL turns mysql://user@host:port/database?params into the driver's
// configuration. Messages never quote the URL, which might hold a password.
func (s *settings) parseURL(raw string) error {
	const fix = "write mysql://user@host:3306/database (no password: name its variable in password_env)"
	if strings.TrimSpace(raw) == "" {
		return &connectors.SpecError{Field: "source.url", Reason: "missing", Fix: fix}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return &connectors.SpecError{Field: "source.url", Reason: "not a URL", Fix: fix}
	}
	if u.Scheme != "mysql" && u.Scheme != "mariadb" {
		return &connectors.SpecError{Field: "source.url", Reason: fmt.Sprintf("scheme %q is not mysql", u.Scheme), Fix: fix}
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			return &connectors.SpecError{Field: "source.url", Reason: "the URL holds a password",
				Fix: "remove the password from the URL and name an environment variable that holds it: password_env: MY_VARIABLE"}
		}
	}
	for key := range u.Query() {
		if strings.Contains(strings.ToLower(key), "passw") {
			return &connectors.SpecError{Field: "source.url", Reason: fmt.Sprintf("the URL holds a %s parameter", key),
				Fix: "remove it and name an environment variable that holds the password: password_env: MY_VARIABLE"}
		}
	}
	if u.Hostname() == "" {
		return &connectors.SpecError{Field: "source.url", Reason: "no host", Fix: fix}
	}
	port := u.Port()
	if port == "" {
		port = "3306"
	}
	addr := net.JoinHostPort(u.Hostname(), port)
	db := strings.TrimPrefix(u.Path, "/")
	if strings.Contains(db, "/") {
		return &connectors.SpecError{Field: "source.url", Reason: "the path names more than a database", Fix: "write mysql://user@host:3306/database and the table in source.table"}
	}
	dsn := "tcp(" + addr + ")/" + db
	if u.RawQuery != "" {
		dsn += "?" + u.RawQuery
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return &connectors.SpecError{Field: "source.url", Reason: "its parameters are not the MySQL driver's: " + err.Error(),
			Fix: "keep the parameters of the Go MySQL driver's DSN (tls, charset, timeout, ...)"}
	}
	if u.User != nil {
		cfg.User = u.User.Username()
	}
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	// Arguments are written into the query text: every query is a plain
	// query of the text protocol, its values read the same way.
	cfg.InterpolateParams = true
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	// TIMESTAMP values are read in UTC.
	cfg.Params["time_zone"] = "'+00:00'"
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultConnectTimeout
	}
	cfg.Logger = &mysql.NopLogger{} // errors are returned, not logged aside
	s.cfg = cfg
	s.location = "mysql://" + addr + "/" + db
	return nil
}

// quoteIdent quotes a possibly qualified MySQL name.
func quoteIdent(parts ...string) string {
	q := make([]string, len(parts))
	for i, p := range parts {
		q[i] = "`" + strings.ReplaceAll(p, "`", "``") + "`"
	}
	return strings.Join(q, ".")
}
