package mysql

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/goccy/go-yaml"

	"github.com/datalab/datalab/connectors"
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

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

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
	if len(bytes.TrimSpace(raw)) == 0 {
		return o, &connectors.SpecError{Field: "source", Reason: "missing", Fix: "give at least {kind: mysql, url: mysql://user@host:3306/db, table: name}"}
	}
	err := yaml.UnmarshalWithOptions(raw, &o, yaml.Strict())
	if err == nil {
		return o, nil
	}
	var items yaml.MapSlice
	if yaml.Unmarshal(raw, &items) != nil {
		return o, &connectors.SpecError{Field: "source", Reason: "not a YAML mapping", Fix: "write the source block as a mapping of options, e.g. {kind: mysql, url: mysql://user@host/db, table: t}"}
	}
	known := optionNames()
	for _, item := range items {
		key := fmt.Sprint(item.Key)
		if !slices.Contains(known, key) {
			return o, &connectors.SpecError{Field: "source." + key, Reason: "unknown option", Fix: "the mysql options are: " + strings.Join(known, ", ")}
		}
		one, merr := yaml.Marshal(yaml.MapSlice{item})
		var probe Options
		if merr == nil && yaml.UnmarshalWithOptions(one, &probe, yaml.Strict()) == nil {
			continue
		}
		// The value is not echoed: it might be a misplaced secret.
		if key == "primary_key" {
			return o, &connectors.SpecError{Field: "source." + key, Reason: "not a list of column names", Fix: "write a list, e.g. primary_key: [id]"}
		}
		return o, &connectors.SpecError{Field: "source." + key, Reason: "not a string", Fix: "write " + key + `: "..."`}
	}
	return o, &connectors.SpecError{Field: "source", Reason: "cannot be read", Fix: "check the source block of the registration"}
}

// optionNames lists the yaml names of Options, in declaration order.
func optionNames() []string {
	t := reflect.TypeFor[Options]()
	names := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		names = append(names, strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0])
	}
	return names
}

// resolve checks o and applies the defaults.
func (o Options) resolve(kind string) (settings, error) {
	var s settings
	if o.Kind != "" && o.Kind != kind && o.Kind != Kind {
		return s, &connectors.SpecError{Field: "source.kind", Reason: fmt.Sprintf("%q is not %s", o.Kind, Kind), Fix: "write kind: " + Kind}
	}
	if err := s.parseURL(o.URL); err != nil {
		return s, err
	}
	if o.PasswordEnv != "" && !envName.MatchString(o.PasswordEnv) {
		return s, &connectors.SpecError{Field: "source.password_env", Reason: "not the name of an environment variable",
			Fix: "name the variable that holds the password (letters, digits and _), e.g. password_env: AIDES_MYSQL_PASSWORD; never the password itself"}
	}
	table, query := strings.TrimSpace(o.Table), strings.TrimSpace(o.Query)
	switch {
	case table == "" && query == "":
		return s, &connectors.SpecError{Field: "source.table", Reason: "missing", Fix: "name the table to read (table: database.name), or give a query (query: SELECT ...)"}
	case table != "" && query != "":
		return s, &connectors.SpecError{Field: "source.query", Reason: "given with source.table", Fix: "give either table or query, not both"}
	case table != "":
		parts := strings.Split(table, ".")
		if len(parts) > 2 || slices.ContainsFunc(parts, func(p string) bool { return p == "" || strings.TrimSpace(p) != p }) {
			return s, &connectors.SpecError{Field: "source.table", Reason: fmt.Sprintf("%q is not database.name", table), Fix: "write the table as database.name or name, without quotes"}
		}
		if len(parts) == 2 {
			s.tableDB = parts[0]
		} else if s.cfg.DBName == "" {
			return s, &connectors.SpecError{Field: "source.table", Reason: "no database: the URL names none", Fix: "write database.name, or name the database in the URL"}
		}
		s.tableName = parts[len(parts)-1]
		s.base = "SELECT * FROM " + quoteIdent(parts...)
		s.what = "source.table"
		db := s.tableDB
		if db == "" {
			db = s.cfg.DBName
		}
		s.location = "mysql://" + s.cfg.Addr + "/" + db + "/" + s.tableName
	default:
		query = strings.TrimSpace(strings.TrimRight(query, "; \t\r\n"))
		s.base = query
		s.what = "source.query"
		sum := sha256.Sum256([]byte(query))
		s.location += "#query-" + hex.EncodeToString(sum[:6])
	}
	if o.Cursor != "" && strings.TrimSpace(o.Cursor) == "" {
		return s, &connectors.SpecError{Field: "source.cursor", Reason: "blank", Fix: "name the column that only grows, e.g. cursor: id"}
	}
	s.cursor = o.Cursor
	if len(o.PrimaryKey) > 0 && s.cursor == "" {
		return s, &connectors.SpecError{Field: "source.primary_key", Reason: "given without source.cursor", Fix: "name the cursor column (cursor: updated_at) for incremental ingests, or remove primary_key"}
	}
	for i, k := range o.PrimaryKey {
		if strings.TrimSpace(k) == "" {
			return s, &connectors.SpecError{Field: fmt.Sprintf("source.primary_key[%d]", i), Reason: "blank", Fix: "name a column of the table"}
		}
		name := connectors.ColumnName(k)
		if slices.Contains(s.primaryKey, name) {
			return s, &connectors.SpecError{Field: fmt.Sprintf("source.primary_key[%d]", i), Reason: fmt.Sprintf("%s is listed twice", k), Fix: "list each column once"}
		}
		s.primaryKey = append(s.primaryKey, name)
	}
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
