package jsonsrc_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/datalab/datalab/connectors"
	jsonsrc "github.com/datalab/datalab/connectors/json"
)

// types renders a schema as "name type" pairs.
func types(s interface {
	NumFields() int
}, fields func(i int) (string, string)) string {
	var parts []string
	for i := range s.NumFields() {
		n, t := fields(i)
		parts = append(parts, n+" "+t)
	}
	return strings.Join(parts, ", ")
}

func TestInference(t *testing.T) {
	for _, tc := range []struct {
		name, input, options string
		schema               string
		rows                 []map[string]string
	}{
		{
			name:   "scalars",
			input:  `[{"a": 1, "b": 1.5, "c": true, "d": "x", "e": "2024-02-29", "f": "2024-02-29T10:30:00", "g": null}]`,
			schema: "a int64, b float64, c bool, d utf8, e date32, f timestamp[us], g utf8",
			rows:   []map[string]string{{"a": "1", "b": "1.5", "c": "true", "d": "x", "e": "2024-02-29", "f": "2024-02-29T10:30:00", "g": "(null)"}},
		},
		{
			name:   "widening",
			input:  "{\"n\": 1, \"d\": \"2024-01-01\", \"s\": \"2024-01-01\"}\n{\"n\": 2.5, \"d\": \"2024-01-02 08:00:00.5\", \"s\": \"soon\"}\n",
			schema: "n float64, d timestamp[us], s utf8",
			rows:   []map[string]string{{"n": "1", "d": "2024-01-01T00:00:00", "s": "2024-01-01"}, {"n": "2.5", "d": "2024-01-02T08:00:00.5", "s": "soon"}},
		},
		{
			name:   "offsets are UTC",
			input:  `[{"t": "2024-06-01T12:00:00+02:00"}, {"t": "2024-06-01T12:00:00Z"}, {"t": "2024-06-01T12:00:00"}]`,
			schema: "t timestamp[us, tz=UTC]",
			rows:   []map[string]string{{"t": "2024-06-01T10:00:00Z"}, {"t": "2024-06-01T12:00:00Z"}, {"t": "2024-06-01T12:00:00Z"}},
		},
		{
			name:    "mixed kinds are JSON text",
			input:   `[{"m": 1}, {"m": "un"}, {"m": {"x": [1, "é\n"]}}, {"m": null}, {"m": true}]`,
			options: "nested: struct",
			schema:  "m utf8",
			rows:    []map[string]string{{"m": "1"}, {"m": "un"}, {"m": `{"x":[1,"é\n"]}`}, {"m": "(null)"}, {"m": "true"}},
		},
		{
			name:   "flatten",
			input:  `[{"Code Région": "84", "géo": {"lat": 45.1, "lon": 5, "src": {"nom": "IGN"}}}, {"géo": {"lat": 46}, "autre": 1}]`,
			schema: "code_region utf8, geo_lat float64, geo_lon int64, geo_src_nom utf8, autre int64",
			rows: []map[string]string{
				{"code_region": "84", "geo_lat": "45.1", "geo_lon": "5", "geo_src_nom": "IGN", "autre": "(null)"},
				{"code_region": "(null)", "geo_lat": "46", "geo_lon": "(null)", "geo_src_nom": "(null)", "autre": "1"},
			},
		},
		{
			name:    "struct",
			input:   `[{"géo": {"Lat": 45.1, "src": {"nom": "IGN"}}, "l": [[1, 2], []]}, {"géo": null, "l": null}]`,
			options: "nested: struct",
			schema:  "geo struct<lat: float64 nullable, src: struct<nom: utf8 nullable> nullable>, l list<item: list<item: int64, nullable>, nullable>",
			rows:    []map[string]string{{"geo": `{"lat":45.1,"src":{"nom":"IGN"}}`, "l": "[[1,2],[]]"}, {"geo": "(null)", "l": "(null)"}},
		},
		{
			name:   "lists of objects",
			input:  `{"l": [{"a": 1}, {"b": "x"}]}` + "\n" + `{"l": [], "e": [], "o": {}}`,
			schema: "l list<item: struct<a: int64 nullable, b: utf8 nullable>, nullable>, e list<item: utf8, nullable>",
			rows:   []map[string]string{{"l": `[{"a":1,"b":null},{"a":null,"b":"x"}]`, "e": "(null)"}, {"l": "[]", "e": "[]"}},
		},
		{
			name:   "bom, blank lines and CRLF",
			input:  "\ufeff\r\n{\"a\": 1}\r\n\r\n{\"a\": 2}\r\n",
			schema: "a int64",
			rows:   []map[string]string{{"a": "1"}, {"a": "2"}},
		},
		{
			name:   "big integers are numbers",
			input:  `[{"n": 12345678901234567890}, {"n": 1}]`,
			schema: "n float64",
		},
		{
			name:   "duplicate names",
			input:  `[{"a b": 1, "a_b": 2, "a": {"b": 3}}]`,
			schema: "a_b int64, a_b_2 int64, a_b_3 int64",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, "in.json", tc.input)
			schema, rows, err := readAll(t, newSource(t, "url: "+path+"\n"+tc.options), 2)
			if err != nil {
				t.Fatal(err)
			}
			got := types(schema, func(i int) (string, string) { return schema.Field(i).Name, schema.Field(i).Type.String() })
			if got != tc.schema {
				t.Errorf("schema\n got %s\nwant %s", got, tc.schema)
			}
			for i, want := range tc.rows {
				for col, v := range want {
					if i >= len(rows) || rows[i][col] != v {
						t.Errorf("row %d, %s = %q, want %q", i, col, rows[min(i, len(rows)-1)][col], v)
					}
				}
			}
		})
	}
}

func TestTitles(t *testing.T) {
	path := writeFile(t, "in.json", `[{"Date de dépôt": "2024-01-01", "géo": {"Code Postal": "01000"}}]`)
	schema, _, err := readAll(t, newSource(t, "url: "+path), 10)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"Date de dépôt", "géo.Code Postal"} {
		if got, _ := schema.Field(i).Metadata.GetValue(connectors.TitleKey); got != want {
			t.Errorf("field %s title %q, want %q", schema.Field(i).Name, got, want)
		}
	}
}

func TestDataErrors(t *testing.T) {
	for _, tc := range []struct {
		name, input, options string
		line                 int64
		column, want         string
	}{
		{"ndjson type", "{\"a\": 1}\n{\"a\": 2}\n\n{\"a\": \"trois\"}\n", "sample_rows: 2", 4, "a",
			`:4: column a: value "trois": line 4: a string, not an integer, the type inferred from the first 2 records; declare the column in the registration's schema, e.g. {name: a, type: string}, or raise source.sample_rows (now 2)`},
		{"array type", `[{"a": 1}, {"a": 2}, {"a": 2.5}]`, "sample_rows: 2", 3, "a", `:3: column a: value "2.5": record 3 of the array: a number, not an integer`},
		{"nested type", `[{"p": {"q": true}}, {"p": {"q": 1}}]`, "sample_rows: 1\nnested: struct", 2, "p.q", "record 2 of the array: a number, not a boolean"},
		{"list element", "{\"l\": [1]}\n{\"l\": [1, \"x\"]}", "sample_rows: 1", 2, "l[]", "a string, not an integer"},
		{"new field", "{\"a\": 1}\n{\"a\": 2, \"b\": 3}\n", "sample_rows: 1", 2, "b", "line 2 has a field that the first record, which settled the columns, did not have"},
		{"new nested field", `[{"p": {"q": 1}}, {"p": {"r": 1}}]`, "sample_rows: 1\nnested: struct", 2, "p.r", "record 2 of the array: a field that the first record, which settled the columns, did not have; raise source.sample_rows (now 1) so that the sample meets it, or declare the column p as string to keep its values as JSON text"},
		{"not an object", "{\"a\": 1}\n[1, 2]\n", "", 2, "", "line 2 is an array, not an object"},
		{"array of numbers", `[1, 2]`, "", 1, "", "record 1 of the array is a number, not an object"},
		{"syntax ndjson", "{\"a\": 1}\n{\"a\": 1,}\n", "", 2, "", "line 2 is not valid JSON: invalid character '}'"},
		{"syntax array", `[{"a": 1}, {"a" 1}]`, "", 2, "", "record 2 of the array is not valid JSON"},
		{"truncated array", `[{"a": 1}, {"a": 1`, "", 2, "", "the file ends in the middle of record 2 of the array"},
		{"two values on a line", "{\"a\": 1} {\"a\": 2}\n", "", 1, "", "more than one JSON value on the line"},
		{"pretty object as ndjson", "{\n  \"a\": 1\n}\n", "", 1, "", "line 1 is not a complete JSON value"},
		{"after the array", `[{"a": 1}] {"a": 2}`, "", 2, "", "there is more after the end of the array"},
		{"not json", "a;b\n1;2\n", "", 0, "", `the file is neither a JSON array nor newline-delimited JSON: it starts with 'a'`},
		{"empty", "  \n", "", 0, "", "the file holds no records: the columns cannot be inferred"},
		{"empty array", "[]", "", 0, "", "the file holds no records"},
		{"array said ndjson", `[{"a": 1}]`, "format: ndjson", 1, "", "line 1 is an array, not an object"},
		{"ndjson said array", "{\"a\": 1}\n", "format: array", 0, "", "the file is not a JSON array"},
		{"too deep", strings.Repeat("[", 200) + strings.Repeat("]", 200), "format: ndjson", 1, "", "nested more than 100 levels deep"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, "in.json", tc.input)
			_, _, err := readAll(t, newSource(t, "url: "+path+"\n"+tc.options), 1)
			var de *connectors.DataError
			if !errors.As(err, &de) {
				t.Fatalf("err = %v, want a *connectors.DataError", err)
			}
			if de.Location != path || de.Line != tc.line || de.Column != tc.column || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v\n(line %d, column %q); want line %d, column %q, with %q", err, de.Line, de.Column, tc.line, tc.column, tc.want)
			}
		})
	}
}

func TestDeclaredFields(t *testing.T) {
	input := `[{"n": "42", "x": 1.5, "ok": "true", "d": "31/12/2024", "t": "2024-12-31 23:59:59 +0100", "obj": {"k": [1]}, "code": 1234},` +
		`{"n": 7, "x": "2", "ok": false, "d": null, "t": null, "obj": "plain", "code": "01234", "late": 5}]`
	path := writeFile(t, "in.json", input)
	src := newSource(t, "url: "+path+"\nsample_rows: 1",
		connectors.Field{Name: "n", Type: connectors.TypeInteger},
		connectors.Field{Name: "x", Type: connectors.TypeNumber},
		connectors.Field{Name: "ok", Type: connectors.TypeBoolean},
		connectors.Field{Name: "jour", Title: "d", Type: connectors.TypeDate, Format: "%d/%m/%Y"},
		connectors.Field{Name: "t", Type: connectors.TypeDatetime, Format: "%Y-%m-%d %H:%M:%S %z"},
		connectors.Field{Name: "obj", Type: connectors.TypeString},
		connectors.Field{Name: "code", Type: connectors.TypeString},
		connectors.Field{Name: "late", Type: connectors.TypeInteger},
	)
	schema, rows, err := readAll(t, src, 10)
	if err != nil {
		t.Fatal(err)
	}
	got := types(schema, func(i int) (string, string) { return schema.Field(i).Name, schema.Field(i).Type.String() })
	if want := "n int64, x float64, ok bool, jour date32, t timestamp[us], obj utf8, code utf8, late int64"; got != want {
		t.Errorf("schema\n got %s\nwant %s", got, want)
	}
	want := []map[string]string{
		{"n": "42", "x": "1.5", "ok": "true", "jour": "2024-12-31", "t": "2024-12-31T22:59:59", "obj": `{"k":[1]}`, "code": "1234", "late": "(null)"},
		{"n": "7", "x": "2", "ok": "false", "jour": "(null)", "t": "(null)", "obj": "plain", "code": "01234", "late": "5"},
	}
	for i := range want {
		for col, v := range want[i] {
			if rows[i][col] != v {
				t.Errorf("row %d, %s = %q, want %q", i, col, rows[i][col], v)
			}
		}
	}
	// A declared type that a value breaks.
	_, _, err = readAll(t, newSource(t, "url: "+path, connectors.Field{Name: "obj", Type: connectors.TypeInteger}), 10)
	if err == nil || !strings.Contains(err.Error(), "column obj: value \"{\\\"k\\\":[1]}\": record 1 of the array: an object, not an integer as the registration's schema declares (integer)") {
		t.Errorf("err = %v", err)
	}
	// In flatten mode, a declared path keeps its object whole.
	_, rows, err = readAll(t, newSource(t, "url: "+path, connectors.Field{Name: "obj", Type: connectors.TypeString}), 10)
	if err != nil || rows[0]["obj"] != `{"k":[1]}` {
		t.Errorf("declared object: %v, %v", rows, err)
	}
}

func TestSpecErrors(t *testing.T) {
	path := writeFile(t, "in.json", `[{"a": 1}]`)
	for _, tc := range []struct {
		options string
		fields  []connectors.Field
		field   string
	}{
		{"", nil, "source"},
		{"[1, 2]", nil, "source"},
		{"kind: json", nil, "source.url"},
		{"url: " + path + "\ndelimiter: ';'", nil, "source.delimiter"},
		{"url: " + path + "\nformat: xml", nil, "source.format"},
		{"url: " + path + "\nnested: deep", nil, "source.nested"},
		{"url: " + path + "\nsample_rows: -1", nil, "source.sample_rows"},
		{"url: " + path + "\nsample_rows: many", nil, "source.sample_rows"},
		{"kind: csv\nurl: " + path, nil, "source.kind"},
		{"url: nowhere.json", nil, "source.url"},
		{"url: " + path, []connectors.Field{{Name: "a", Type: "geopoint"}}, "schema.fields[0].type"},
		{"url: " + path, []connectors.Field{{Name: "a", Type: "date", Format: "%d %B %Y"}}, "schema.fields[0].format"},
		{"url: " + path, []connectors.Field{{Name: "a", Type: "date", Format: "day %d"}}, "schema.fields[0].format"},
		{"url: " + path, []connectors.Field{{Type: "string"}}, "schema.fields[0].name"},
	} {
		_, err := jsonsrc.New(connectors.Spec{Kind: "json", Options: []byte(tc.options), Fields: tc.fields})
		var se *connectors.SpecError
		if !errors.As(err, &se) || se.Field != tc.field || !errors.Is(err, connectors.ErrBadSpec) {
			t.Errorf("%q %v: err = %v, want a SpecError on %s", tc.options, tc.fields, err, tc.field)
		}
	}
}

// TestHTTPBrokenDownload: a download that breaks off is an error naming
// the URL, not a JSON syntax error.
func TestHTTPBrokenDownload(t *testing.T) {
	body := ndjson(5000, 0)
	srv, _ := serve(t, nil)
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "10000000")
		w.Write([]byte(body))
	})
	_, _, err := readAll(t, newSource(t, "url: "+srv.URL+"/x.ndjson\nsample_rows: 10"), 100)
	var de *connectors.DataError
	if err == nil || errors.As(err, &de) || !strings.Contains(err.Error(), srv.URL+"/x.ndjson: the download broke off") {
		t.Errorf("err = %v", err)
	}
}

func TestUnchangedLocalFile(t *testing.T) {
	path := writeFile(t, "in.ndjson", ndjson(10, 0))
	src := newSource(t, "url: "+path)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	st, err := src.Open(context.Background(), connectors.OpenOptions{Allocator: mem})
	if err != nil {
		t.Fatal(err)
	}
	for st.Next() {
	}
	fp := st.Fingerprint()
	st.Release()
	if _, err := src.Open(context.Background(), connectors.OpenOptions{Allocator: mem, Previous: fp}); !errors.Is(err, connectors.ErrUnchanged) {
		t.Errorf("reopen: %v", err)
	}
	mem.AssertSize(t, 0)
}
