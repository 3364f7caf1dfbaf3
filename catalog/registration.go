package catalog

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/robfig/cron/v3"
)

// registration is a registration file as written, before validation.
type registration struct {
	ID          string         `yaml:"id"`
	Title       string         `yaml:"title"`
	Description string         `yaml:"description"`
	Publisher   string         `yaml:"publisher"`
	Contact     string         `yaml:"contact"`
	Access      string         `yaml:"access"`
	License     string         `yaml:"license"`
	Frequency   string         `yaml:"frequency"`
	Schedule    string         `yaml:"schedule"`
	Source      map[string]any `yaml:"source"`
	Schema      *struct {
		Fields []struct {
			Name        string `yaml:"name"`
			Title       string `yaml:"title"`
			Description string `yaml:"description"`
			Type        string `yaml:"type"`
			Format      string `yaml:"format"`
			Constraints *struct {
				Required bool     `yaml:"required"`
				Unique   bool     `yaml:"unique"`
				Pattern  string   `yaml:"pattern"`
				Enum     []string `yaml:"enum"`
				Minimum  *float64 `yaml:"minimum"`
				Maximum  *float64 `yaml:"maximum"`
			} `yaml:"constraints"`
		} `yaml:"fields"`
		PrimaryKey any `yaml:"primaryKey"`
	} `yaml:"schema"`
	Contract string `yaml:"contract"`
}

var (
	idPattern   = regexp.MustCompile(`^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$`)
	namePattern = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)
	// reservedSchemas are DuckDB's own schemas and the catalog's.
	reservedSchemas = []string{SchemaName, "main", "information_schema", "pg_catalog", "temp", "system"}
	// secretKey matches source options that would hold a credential.
	secretKey = regexp.MustCompile(`(?i)(password|passwd|secret|token|api_?key|credential)`)
	// cronParser accepts five fields, optional seconds and descriptors.
	cronParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
)

// ParseRegistration reads and validates a dataset registration (YAML, or
// JSON which is YAML too). file names it in errors. On success the Dataset
// is complete but for its File and dates. Otherwise the error joins one
// *FieldError per refused field, each with its line and what to do.
func ParseRegistration(file string, data []byte) (Dataset, error) {
	fail := func(line int, field, reason, fix string) error {
		return &FieldError{File: file, Line: line, Field: field, Reason: reason, Fix: fix}
	}
	doc, err := parser.ParseBytes(data, 0)
	if err != nil {
		return Dataset{}, yamlError(file, err)
	}
	if len(doc.Docs) == 0 || doc.Docs[0].Body == nil {
		return Dataset{}, fail(0, "", "the registration is empty", "write at least id, title, publisher, access and source")
	}
	var r registration
	if err := yaml.UnmarshalWithOptions(data, &r, yaml.Strict()); err != nil {
		return Dataset{}, yamlError(file, err)
	}
	line := func(path string) int { return lineOf(doc, path) }
	var errs []error
	add := func(path, field, reason, fix string) {
		errs = append(errs, fail(line(path), field, reason, fix))
	}

	d := Dataset{
		ID: strings.TrimSpace(r.ID), Title: strings.TrimSpace(r.Title), Description: r.Description,
		Publisher: strings.TrimSpace(r.Publisher), Contact: strings.TrimSpace(r.Contact),
		License: strings.TrimSpace(r.License), Frequency: strings.TrimSpace(r.Frequency),
		Schedule: strings.TrimSpace(r.Schedule), Contract: Contract(strings.TrimSpace(r.Contract)),
	}
	switch {
	case d.ID == "":
		add("$", "id", "missing", "write id: schema.table, in lower case letters, digits and _ (e.g. drees.ivg_mineures)")
	case !idPattern.MatchString(d.ID):
		add("$.id", "id", fmt.Sprintf("%q is not schema.table in lower case letters, digits and _", d.ID), "e.g. drees.ivg_mineures")
	case slices.Contains(reservedSchemas, d.SchemaName()):
		add("$.id", "id", fmt.Sprintf("schema %q is reserved", d.SchemaName()), "use the publisher's short name as the schema, e.g. drees.ivg_mineures")
	}
	if d.Title == "" {
		add("$", "title", "missing", "write a title that says what the dataset holds")
	}
	if d.Publisher == "" {
		add("$", "publisher", "missing", "write the publishing body, e.g. DREES")
	}
	if d.Contact != "" {
		if _, err := mail.ParseAddress(d.Contact); err != nil {
			add("$.contact", "contact", fmt.Sprintf("%q is not an e-mail address", d.Contact), "write an address such as contact@example.org")
		}
	}
	if strings.TrimSpace(r.Access) == "" {
		add("$", "access", "missing", "write access: public, restricted or non_public")
	} else if lvl, err := ParseLevel(r.Access); err != nil {
		add("$.access", "access", fmt.Sprintf("%q is not an access level", r.Access), "use public, restricted or non_public")
	} else {
		d.Access = lvl
	}
	if d.Frequency != "" && !slices.Contains(Frequencies, d.Frequency) {
		add("$.frequency", "frequency", fmt.Sprintf("%q is not a known frequency", d.Frequency), "use one of: "+strings.Join(Frequencies, ", "))
	}
	if d.Schedule != "" {
		if _, err := cronParser.Parse(d.Schedule); err != nil {
			add("$.schedule", "schedule", fmt.Sprintf("%q is not a schedule: %v", d.Schedule, err), `write five cron fields ("0 6 * * 1"), six with seconds, or @daily, @every 1h`)
		}
	}
	switch d.Contract {
	case "":
		d.Contract = Evolve
	case Evolve, Freeze, DiscardRow:
	default:
		add("$.contract", "contract", fmt.Sprintf("%q is not a contract", d.Contract), "use evolve, freeze or discard_row")
	}
	if src, err := parseSource(r.Source, line); err != nil {
		errs = append(errs, withFile(err, file))
	} else {
		d.Source = src
	}
	if r.Schema != nil {
		d.Schema = &Schema{}
		seen := map[string]bool{}
		if len(r.Schema.Fields) == 0 {
			add("$.schema", "schema.fields", "no fields", "list the columns, or remove schema to infer them")
		}
		for i, f := range r.Schema.Fields {
			path := fmt.Sprintf("$.schema.fields[%d]", i)
			field := fmt.Sprintf("schema.fields[%d]", i)
			name := strings.TrimSpace(f.Name)
			switch {
			case name == "":
				add(path, field+".name", "missing", "name the column in snake_case, e.g. zone_geo")
			case !namePattern.MatchString(name):
				add(path+".name", field+".name", fmt.Sprintf("%q is not a snake_case name", name), fmt.Sprintf("write %q and keep the original header as title", suggestName(name)))
			case seen[name]:
				add(path+".name", field+".name", fmt.Sprintf("column %q is declared twice", name), "declare each column once")
			}
			seen[name] = true
			typ := strings.TrimSpace(f.Type)
			if typ == "" {
				typ = "string"
			}
			if !slices.Contains(FieldTypes, typ) {
				add(path+".type", field+".type", fmt.Sprintf("%q is not a type", f.Type), "use one of: "+strings.Join(FieldTypes, ", "))
			}
			fd := Field{Name: name, Title: f.Title, Description: f.Description, Type: typ, Format: f.Format}
			if c := f.Constraints; c != nil {
				fd.Constraints = &Constraints{Required: c.Required, Unique: c.Unique, Pattern: c.Pattern, Enum: c.Enum, Minimum: c.Minimum, Maximum: c.Maximum}
				if c.Pattern != "" {
					if _, err := regexp.Compile(c.Pattern); err != nil {
						add(path+".constraints.pattern", field+".constraints.pattern", fmt.Sprintf("bad pattern: %v", err), "write a regular expression (RE2 syntax)")
					}
				}
				if c.Minimum != nil && c.Maximum != nil && *c.Minimum > *c.Maximum {
					add(path+".constraints", field+".constraints", "minimum is above maximum", "swap them")
				}
			}
			d.Schema.Fields = append(d.Schema.Fields, fd)
		}
	}
	if len(errs) > 0 {
		return Dataset{}, errors.Join(errs...)
	}
	return d, nil
}

// parseSource checks what the catalog can know of a source block: its kind,
// and that it holds no credential. The connector of its kind checks the rest.
func parseSource(src map[string]any, line func(string) int) (Source, error) {
	if src == nil {
		return Source{}, &FieldError{Line: line("$"), Field: "source", Reason: "missing", Fix: "say where the data lives: source: {kind: csv, url: data/file.csv}"}
	}
	kind, _ := src["kind"].(string)
	if strings.TrimSpace(kind) == "" {
		return Source{}, &FieldError{Line: line("$.source"), Field: "source.kind", Reason: "missing", Fix: "write the connector's kind: csv, json, parquet, postgres, ..."}
	}
	for key, v := range src {
		if secretKey.MatchString(key) && !strings.HasSuffix(key, "_env") {
			return Source{}, &FieldError{Line: line("$.source." + key), Field: "source." + key,
				Reason: "a registration must not hold a credential",
				Fix:    fmt.Sprintf("remove it, put the secret in an environment variable and name it: %s_env: MY_VARIABLE", key)}
		}
		if s, ok := v.(string); ok {
			if u, err := url.Parse(s); err == nil && u.User != nil {
				if _, has := u.User.Password(); has {
					return Source{}, &FieldError{Line: line("$.source." + key), Field: "source." + key,
						Reason: "the URL holds a password",
						Fix:    "remove the password from the URL and name an environment variable that holds it: password_env: MY_VARIABLE"}
				}
			}
		}
	}
	opts, err := json.Marshal(src)
	if err != nil {
		return Source{}, &FieldError{Line: line("$.source"), Field: "source", Reason: fmt.Sprintf("cannot be stored: %v", err), Fix: "use plain values (strings, numbers, lists, maps)"}
	}
	return Source{Kind: kind, Options: opts}, nil
}

func withFile(err error, file string) error {
	var fe *FieldError
	if errors.As(err, &fe) {
		fe.File = file
	}
	return err
}

// yamlError turns a YAML syntax or decoding error into a FieldError with the
// line it points at.
func yamlError(file string, err error) error {
	fe := &FieldError{File: file, Reason: err.Error(), Fix: "fix the YAML syntax"}
	var ye yaml.Error
	if errors.As(err, &ye) {
		if tk := ye.GetToken(); tk != nil {
			fe.Line = tk.Position.Line
		}
		fe.Reason = ye.GetMessage()
	}
	var unknown *yaml.UnknownFieldError
	if errors.As(err, &unknown) {
		fe.Field = unknown.Token.Value
		fe.Reason = "unknown field"
		fe.Fix = "check its spelling; the fields are id, title, description, publisher, contact, access, license, frequency, schedule, source, schema, contract"
	}
	var typ *yaml.TypeError
	if errors.As(err, &typ) {
		fe.Fix = "give the field a value of the right kind (text, list or map)"
	}
	return fe
}

// lineOf returns the line of the node at path in doc, 0 when absent.
func lineOf(doc *ast.File, path string) int {
	p, err := yaml.PathString(path)
	if err != nil {
		return 0
	}
	n, err := p.FilterFile(doc)
	if err != nil || n == nil || n.GetToken() == nil {
		return 0
	}
	return n.GetToken().Position.Line
}

// suggestName is a column name in snake_case close to s.
func suggestName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return strings.Trim(b.String(), "_")
}

// FieldLine returns the line of a field ("source.delimiter") in a
// registration's text, 0 when it is not there, so that errors found by
// others (a connector) can point at it too.
func FieldLine(data []byte, field string) int {
	doc, err := parser.ParseBytes(data, 0)
	if err != nil {
		return 0
	}
	return lineOf(doc, "$."+field)
}
