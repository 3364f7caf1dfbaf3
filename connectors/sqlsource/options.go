package sqlsource

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/datalab/datalab/connectors"
)

// Options are the options every SQL registration has but its kind and URL,
// which the connector checks, as decoded into the connector's own Options.
type Options struct {
	// PasswordEnv names the variable that holds the password.
	PasswordEnv string
	// Table and Query say what to read; exactly one is given.
	Table, Query string
	// Cursor names the column that only grows; empty for a full read.
	Cursor string
	// PrimaryKey names the columns that identify a row; needs Cursor.
	PrimaryKey []string
}

// Dialect is what the checks and messages say of a database.
type Dialect struct {
	// Kind is the source kind: "postgres".
	Kind string
	// Name is the database's name for people: "PostgreSQL".
	Name string
	// Qualifier is what qualifies a table's name: "schema" or "database".
	Qualifier string
	// TableExample, when set, is a qualified table offered in messages:
	// "public.communes".
	TableExample string
	// PasswordExample is a variable offered in messages: "CNAF_PG_PASSWORD".
	PasswordExample string
	// CursorExample is a cursor column offered in messages: "updated_at".
	CursorExample string
}

// Settings are Options checked.
type Settings struct {
	// Table is source.table split at its dot, [name] or [qualifier, name];
	// nil for a query.
	Table []string
	// Query is source.query without its final semicolons and spaces; empty
	// for a table.
	Query string
	// What is "source.table" or "source.query", for messages.
	What string
	// Cursor is the cursor column as the database names it; empty for a
	// full read.
	Cursor string
	// PrimaryKey are the primary key's columns as the stream names them.
	PrimaryKey []string
}

// QueryID is "#query-" and the start of the query's sha256, which ends the
// location of a source that reads a query.
func (s Settings) QueryID() string {
	sum := sha256.Sum256([]byte(s.Query))
	return "#query-" + hex.EncodeToString(sum[:6])
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// CheckKind refuses a source.kind that is neither kind (the registration's,
// which may be an alias) nor the dialect's.
func (d Dialect) CheckKind(got, kind string) error {
	if got != "" && got != kind && got != d.Kind {
		return &connectors.SpecError{Field: "source.kind", Reason: fmt.Sprintf("%q is not %s", got, d.Kind), Fix: "write kind: " + d.Kind}
	}
	return nil
}

// Resolve checks o but its URL and kind: the password variable's name,
// the table or the query, the cursor and the primary key. checkTable, when
// not nil, checks the table's parts further. Every refusal is a
// *connectors.SpecError naming the option.
func (d Dialect) Resolve(o Options, checkTable func(parts []string) error) (Settings, error) {
	var s Settings
	if o.PasswordEnv != "" && !envName.MatchString(o.PasswordEnv) {
		return s, &connectors.SpecError{Field: "source.password_env", Reason: "not the name of an environment variable",
			Fix: "name the variable that holds the password (letters, digits and _), e.g. password_env: " + d.PasswordExample + "; never the password itself"}
	}
	table, query := strings.TrimSpace(o.Table), strings.TrimSpace(o.Query)
	switch {
	case table == "" && query == "":
		return s, &connectors.SpecError{Field: "source.table", Reason: "missing", Fix: "name the table to read (table: " + d.Qualifier + ".name), or give a query (query: SELECT ...)"}
	case table != "" && query != "":
		return s, &connectors.SpecError{Field: "source.query", Reason: "given with source.table", Fix: "give either table or query, not both"}
	case table != "":
		parts := strings.Split(table, ".")
		if len(parts) > 2 || slices.ContainsFunc(parts, func(p string) bool { return p == "" || strings.TrimSpace(p) != p }) {
			example := ""
			if d.TableExample != "" {
				example = " (" + d.TableExample + ")"
			}
			return s, &connectors.SpecError{Field: "source.table", Reason: fmt.Sprintf("%q is not %s.name", table, d.Qualifier),
				Fix: "write the table as " + d.Qualifier + ".name" + example + " or name, without quotes"}
		}
		if checkTable != nil {
			if err := checkTable(parts); err != nil {
				return s, err
			}
		}
		s.Table = parts
		s.What = "source.table"
	default:
		s.Query = strings.TrimSpace(strings.TrimRight(query, "; \t\r\n"))
		s.What = "source.query"
	}
	if o.Cursor != "" && strings.TrimSpace(o.Cursor) == "" {
		return s, &connectors.SpecError{Field: "source.cursor", Reason: "blank", Fix: "name the column that only grows, e.g. cursor: " + d.CursorExample}
	}
	s.Cursor = o.Cursor
	if len(o.PrimaryKey) > 0 && s.Cursor == "" {
		return s, &connectors.SpecError{Field: "source.primary_key", Reason: "given without source.cursor", Fix: "name the cursor column (cursor: updated_at) for incremental ingests, or remove primary_key"}
	}
	for i, k := range o.PrimaryKey {
		if strings.TrimSpace(k) == "" {
			return s, &connectors.SpecError{Field: fmt.Sprintf("source.primary_key[%d]", i), Reason: "blank", Fix: "name a column of the table"}
		}
		name := connectors.ColumnName(k)
		if slices.Contains(s.PrimaryKey, name) {
			return s, &connectors.SpecError{Field: fmt.Sprintf("source.primary_key[%d]", i), Reason: fmt.Sprintf("%s is listed twice", k), Fix: "list each column once"}
		}
		s.PrimaryKey = append(s.PrimaryKey, name)
	}
	return s, nil
}

// Hint says what the value of an option shared by every SQL source must
// be, for connectors.OptionsHelp: an empty what means a string.
func Hint(option string) (what, example string) {
	if option == "primary_key" {
		return "a list of column names", "primary_key: [id]"
	}
	return "", ""
}
