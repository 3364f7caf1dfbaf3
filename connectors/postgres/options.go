package postgres

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

	"github.com/goccy/go-yaml"

	"github.com/datalab/datalab/connectors"
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
	// FetchRows is the number of rows fetched from the server at a time;
	// default DefaultFetchRows. Batches are made of one or more fetches.
	FetchRows int `yaml:"fetch_rows"`
}

// DefaultFetchRows is the number of rows fetched at a time when a
// registration does not say: a round trip every few thousand rows costs
// little, and the rows of one fetch are held in memory at once.
const DefaultFetchRows = 10_000

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// settings are Options checked, with defaults applied.
type settings struct {
	url        string
	host, port string
	database   string
	user       string
	base       string // the SELECT that gives the dataset, unquoted parts quoted
	what       string // "source.table" or "source.query", for messages
	location   string
	fetchRows  int
	cursor     string   // the cursor column as PostgreSQL names it
	primaryKey []string // as named in the stream
}

// decodeOptions reads raw (YAML or JSON) strictly into Options.
func decodeOptions(raw []byte) (Options, error) {
	var o Options
	if len(bytes.TrimSpace(raw)) == 0 {
		return o, &connectors.SpecError{Field: "source", Reason: "missing", Fix: "give at least {kind: postgres, url: postgres://user@host:5432/db, table: schema.name}"}
	}
	err := yaml.UnmarshalWithOptions(raw, &o, yaml.Strict())
	if err == nil {
		return o, nil
	}
	// Name the option at fault: decode the options one by one.
	var items yaml.MapSlice
	if yaml.Unmarshal(raw, &items) != nil {
		return o, &connectors.SpecError{Field: "source", Reason: "not a YAML mapping", Fix: "write the source block as a mapping of options, e.g. {kind: postgres, url: postgres://user@host/db, table: public.t}"}
	}
	known := optionNames()
	for _, item := range items {
		key := fmt.Sprint(item.Key)
		if !slices.Contains(known, key) {
			return o, &connectors.SpecError{Field: "source." + key, Reason: "unknown option", Fix: "the postgres options are: " + strings.Join(known, ", ")}
		}
		one, merr := yaml.Marshal(yaml.MapSlice{item})
		var probe Options
		if merr == nil && yaml.UnmarshalWithOptions(one, &probe, yaml.Strict()) == nil {
			continue
		}
		// The value is not echoed: it might be a misplaced secret.
		what, example := optionHint(key)
		return o, &connectors.SpecError{Field: "source." + key, Reason: "not " + what, Fix: "write " + what + ", e.g. " + example}
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

func optionHint(key string) (what, example string) {
	switch key {
	case "primary_key":
		return "a list of column names", "primary_key: [id]"
	case "fetch_rows":
		return "a whole number of rows", "fetch_rows: 10000"
	}
	return "a string", key + `: "..."`
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
			Fix: "name the variable that holds the password (letters, digits and _), e.g. password_env: CNAF_PG_PASSWORD; never the password itself"}
	}
	table, query := strings.TrimSpace(o.Table), strings.TrimSpace(o.Query)
	switch {
	case table == "" && query == "":
		return s, &connectors.SpecError{Field: "source.table", Reason: "missing", Fix: "name the table to read (table: schema.name), or give a query (query: SELECT ...)"}
	case table != "" && query != "":
		return s, &connectors.SpecError{Field: "source.query", Reason: "given with source.table", Fix: "give either table or query, not both"}
	case table != "":
		parts := strings.Split(table, ".")
		if len(parts) > 2 || slices.ContainsFunc(parts, func(p string) bool { return p == "" || strings.TrimSpace(p) != p }) {
			return s, &connectors.SpecError{Field: "source.table", Reason: fmt.Sprintf("%q is not schema.name", table), Fix: "write the table as schema.name (public.communes) or name, without quotes"}
		}
		s.base = "SELECT * FROM " + quoteIdent(parts...)
		s.what = "source.table"
		s.location += "/" + table
	default:
		query = strings.TrimSpace(strings.TrimRight(query, "; \t\r\n"))
		s.base = query
		s.what = "source.query"
		sum := sha256.Sum256([]byte(query))
		s.location += "#query-" + hex.EncodeToString(sum[:6])
	}
	if o.Cursor != "" && strings.TrimSpace(o.Cursor) == "" {
		return s, &connectors.SpecError{Field: "source.cursor", Reason: "blank", Fix: "name the column that only grows, e.g. cursor: updated_at"}
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
