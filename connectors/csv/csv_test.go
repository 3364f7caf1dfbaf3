package csv_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/datalab/datalab/connectors"
	"github.com/datalab/datalab/connectors/csv"
)

func date(y int, m time.Month, d int) arrow.Date32 {
	return arrow.Date32FromTime(time.Date(y, m, d, 0, 0, 0, 0, time.UTC))
}

func ts(y int, m time.Month, d, h, mi, s int) arrow.Timestamp {
	return arrow.Timestamp(time.Date(y, m, d, h, mi, s, 0, time.UTC).UnixMicro())
}

// want is one expected column of a parsing case: its type and its values
// from the first row on.
type want struct {
	col    string
	typ    arrow.Type
	values []any
}

// TestParsing checks each detection and parsing rule on a small file.
func TestParsing(t *testing.T) {
	nbsp, nnbsp := "\u00a0", "\u202f"
	cases := []struct {
		name    string
		content string
		options string
		fields  []connectors.Field
		rows    int
		want    []want
	}{
		{
			name:    "quotes: delimiters, doubled quotes and line breaks inside",
			content: "a,b\n\"x, y\",\"he said \"\"hi\"\"\"\n\"multi\nline\",\"\"\"\"\nplain,\"\"\n",
			rows:    3,
			want: []want{
				{"a", arrow.STRING, []any{"x, y", "multi\nline", "plain"}},
				{"b", arrow.STRING, []any{`he said "hi"`, `"`, nil}},
			},
		},
		{
			name:    "CRLF line ends, no value keeps a CR",
			content: "a;b\r\n1;x\r\n2;\"y\"\r\n",
			rows:    2,
			want: []want{
				{"a", arrow.INT64, []any{int64(1), int64(2)}},
				{"b", arrow.STRING, []any{"x", "y"}},
			},
		},
		{
			name:    "last line without a line break",
			content: "a,b\n1,2\n3,4",
			rows:    2,
			want:    []want{{"b", arrow.INT64, []any{int64(2), int64(4)}}},
		},
		{
			name:    "last quoted line without a line break",
			content: "a,b\n1,\"x\"",
			rows:    1,
			want:    []want{{"b", arrow.STRING, []any{"x"}}},
		},
		{
			name:    "blank lines skipped, trailing ones too",
			content: "a,b\n1,2\n\n3,4\r\n\r\n\n",
			rows:    2,
			want:    []want{{"a", arrow.INT64, []any{int64(1), int64(3)}}},
		},
		{
			name:    "integers, numbers, booleans",
			content: "i,f,e,b,neg\n1,1.5,1e3,true,-2\n0,-2,2.5E-2,FALSE,+3\n",
			rows:    2,
			want: []want{
				{"i", arrow.INT64, []any{int64(1), int64(0)}},
				{"f", arrow.FLOAT64, []any{1.5, -2.0}},
				{"e", arrow.FLOAT64, []any{1000.0, 0.025}},
				{"b", arrow.BOOL, []any{true, false}},
				{"neg", arrow.INT64, []any{int64(-2), int64(3)}},
			},
		},
		{
			name:    "leading zeros make codes strings; 0 alone is a number",
			content: "code;postal;n;x\n01;01260;0;0,5\n2;75001;10;01,5\n",
			rows:    2,
			want: []want{
				{"code", arrow.STRING, []any{"01", "2"}},
				{"postal", arrow.STRING, []any{"01260", "75001"}},
				{"n", arrow.INT64, []any{int64(0), int64(10)}},
				{"x", arrow.STRING, []any{"0,5", "01,5"}},
			},
		},
		{
			name:    "decimal comma detected when the delimiter is not a comma",
			content: "zone;part\nAin;2,5\nAisne;-4,5\nAllier;3\n",
			rows:    3,
			want:    []want{{"part", arrow.FLOAT64, []any{2.5, -4.5, 3.0}}},
		},
		{
			name:    "decimal comma and dot mixed in one column",
			content: "lat;lon\n45,930633;5,727664\n45.52955632679911;-4.006272428689588\n",
			rows:    2,
			want: []want{
				{"lat", arrow.FLOAT64, []any{45.930633, 45.52955632679911}},
				{"lon", arrow.FLOAT64, []any{5.727664, -4.006272428689588}},
			},
		},
		{
			name:    "thousands separators with a decimal comma: space, no-break, narrow no-break",
			content: "n;m;bad\n1 234,5;1 000;12 34\n12" + nbsp + "345" + nbsp + "678,25;2" + nnbsp + "500;1\n-1 000;3;2\n",
			rows:    3,
			want: []want{
				{"n", arrow.FLOAT64, []any{1234.5, 12345678.25, -1000.0}},
				{"m", arrow.INT64, []any{int64(1000), int64(2500), int64(3)}},
				{"bad", arrow.STRING, []any{"12 34", "1", "2"}},
			},
		},
		{
			name:    "a comma file reads no decimal comma",
			content: "a,b\n\"2,5\",1.5\n",
			rows:    1,
			want: []want{
				{"a", arrow.STRING, []any{"2,5"}},
				{"b", arrow.FLOAT64, []any{1.5}},
			},
		},
		{
			name:    "dates: yyyy-mm-dd, dd/mm/yyyy, yyyymmdd",
			content: "iso,fr,compact,notdate,short\n2024-03-15,15/03/2024,20240315,20241315,1/2/2024\n1999-12-31,31/12/1999,19991231,19991231,28/02/2023\n",
			rows:    2,
			want: []want{
				{"iso", arrow.DATE32, []any{date(2024, 3, 15), date(1999, 12, 31)}},
				{"fr", arrow.DATE32, []any{date(2024, 3, 15), date(1999, 12, 31)}},
				{"compact", arrow.DATE32, []any{date(2024, 3, 15), date(1999, 12, 31)}},
				{"notdate", arrow.INT64, []any{int64(20241315), int64(19991231)}},
				{"short", arrow.DATE32, []any{date(2024, 2, 1), date(2023, 2, 28)}},
			},
		},
		{
			name:    "yyyymmdd outside 1900-2100 stays an integer",
			content: "d\n18991231\n20240101\n",
			rows:    2,
			want:    []want{{"d", arrow.INT64, []any{int64(18991231), int64(20240101)}}},
		},
		{
			name:    "invalid dates are not dates",
			content: "d\n2023-02-29\n2024-02-29\n",
			rows:    2,
			want:    []want{{"d", arrow.STRING, []any{"2023-02-29", "2024-02-29"}}},
		},
		{
			name:    "datetimes",
			content: "a;b;c;d\n2024-03-15 08:30;2024-03-15T08:30:15Z;15/03/2024 08:30:15;2024-03-15 08:30:15.25\n2024-03-16 23:59:59;2024-03-16T00:00:00;16/03/2024 00:00;2024-03-16\n",
			rows:    2,
			want: []want{
				{"a", arrow.TIMESTAMP, []any{ts(2024, 3, 15, 8, 30, 0), ts(2024, 3, 16, 23, 59, 59)}},
				{"b", arrow.TIMESTAMP, []any{ts(2024, 3, 15, 8, 30, 15), ts(2024, 3, 16, 0, 0, 0)}},
				{"c", arrow.TIMESTAMP, []any{ts(2024, 3, 15, 8, 30, 15), ts(2024, 3, 16, 0, 0, 0)}},
				{"d", arrow.TIMESTAMP, []any{ts(2024, 3, 15, 8, 30, 15) + 250000, ts(2024, 3, 16, 0, 0, 0)}},
			},
		},
		{
			name:    "null values in every type, as written or with spaces",
			content: "s;i;f;d\nNA;1;N/A;-\n x ; 2 ; 2,5 ; 2024-01-02 \n;NA;;\n",
			rows:    3,
			want: []want{
				{"s", arrow.STRING, []any{nil, " x ", nil}},
				{"i", arrow.INT64, []any{int64(1), int64(2), nil}},
				{"f", arrow.FLOAT64, []any{nil, 2.5, nil}},
				{"d", arrow.DATE32, []any{nil, date(2024, 1, 2), nil}},
			},
		},
		{
			name:    "null_values replace the defaults",
			content: "a;b\nNA;.\n1;2\n",
			options: "null_values: [\".\"]\n",
			rows:    2,
			want: []want{
				{"a", arrow.STRING, []any{"NA", "1"}},
				{"b", arrow.INT64, []any{nil, int64(2)}},
			},
		},
		{
			name:    "an all-null column is a string column",
			content: "a,b\n1,\n2,NA\n",
			rows:    2,
			want:    []want{{"b", arrow.STRING, []any{nil, nil}}},
		},
		{
			name:    "header names normalised, the original kept as the title",
			content: "Date de dépôt;Montant accordé (€);Montant accordé (€)\n2024-01-02;1;2\n",
			rows:    1,
			want: []want{
				{"date_de_depot", arrow.DATE32, []any{date(2024, 1, 2)}},
				{"montant_accorde", arrow.INT64, []any{int64(1)}},
				{"montant_accorde_2", arrow.INT64, []any{int64(2)}},
			},
		},
		{
			name:    "tab delimiter detected",
			content: "a\tb\n1\tx,y\n2\tz;w\n",
			rows:    2,
			want:    []want{{"b", arrow.STRING, []any{"x,y", "z;w"}}},
		},
		{
			name:    "pipe delimiter detected",
			content: "a|b\n1|x,y\n2|z\n",
			rows:    2,
			want:    []want{{"b", arrow.STRING, []any{"x,y", "z"}}},
		},
		{
			name:    "delimiter inside quotes does not fool detection",
			content: "a,b\n\"x;y;z\",1\n\"u;v;w\",2\n",
			rows:    2,
			want:    []want{{"a", arrow.STRING, []any{"x;y;z", "u;v;w"}}},
		},
		{
			name:    "one column",
			content: "name\nAin\nAisne\n",
			rows:    2,
			want:    []want{{"name", arrow.STRING, []any{"Ain", "Aisne"}}},
		},
		{
			name:    "option delimiter overrides detection",
			content: "a;b\n1;2\n",
			options: "delimiter: \",\"\n",
			rows:    1,
			want:    []want{{"a_b", arrow.STRING, []any{"1;2"}}},
		},
		{
			name:    "option delimiter tab, written \\t",
			content: "a\tb;c\n1\t2;3\n",
			options: "delimiter: \"\\t\"\n",
			rows:    1,
			want:    []want{{"b_c", arrow.STRING, []any{"2;3"}}},
		},
		{
			name:    "option decimal . refuses decimal commas",
			content: "a;b\n2,5;1.5\n",
			options: "decimal: \".\"\n",
			rows:    1,
			want: []want{
				{"a", arrow.STRING, []any{"2,5"}},
				{"b", arrow.FLOAT64, []any{1.5}},
			},
		},
		{
			name:    "option decimal , with a dot value makes it a string",
			content: "a;b\n2,5;1.5\n",
			options: "decimal: \",\"\n",
			rows:    1,
			want: []want{
				{"a", arrow.FLOAT64, []any{2.5}},
				{"b", arrow.STRING, []any{"1.5"}},
			},
		},
		{
			name:    "option encoding overrides detection",
			content: "a\ncafé\n",
			options: "encoding: iso-8859-1\n",
			rows:    1,
			want:    []want{{"a", arrow.STRING, []any{"cafÃ©"}}},
		},
		{
			name:    "ISO-8859-1 detected",
			content: "a\ncaf\xe9\nArd\xe8che\n",
			rows:    2,
			want:    []want{{"a", arrow.STRING, []any{"café", "Ardèche"}}},
		},
		{
			name:    "Windows-1252 detected from bytes 0x80-0x9F",
			content: "a\n10 \x80\nl\x92eau \xe9t\xe9\n",
			rows:    2,
			want:    []want{{"a", arrow.STRING, []any{"10 €", "l’eau été"}}},
		},
		{
			name:    "UTF-8 BOM dropped",
			content: "\xef\xbb\xbfAnnées;n\n2013;1\n",
			rows:    1,
			want:    []want{{"annees", arrow.INT64, []any{int64(2013)}}},
		},
		{
			name:    "header: false names columns column_1, ...",
			content: "1;x\n2;y\n",
			options: "header: false\n",
			rows:    2,
			want: []want{
				{"column_1", arrow.INT64, []any{int64(1), int64(2)}},
				{"column_2", arrow.STRING, []any{"x", "y"}},
			},
		},
		{
			name:    "header: false with declared fields naming the columns",
			content: "01;x\n02;y\n",
			options: "header: false\n",
			fields:  []connectors.Field{{Name: "code", Type: connectors.TypeString}, {Name: "label", Type: connectors.TypeString}},
			rows:    2,
			want:    []want{{"code", arrow.STRING, []any{"01", "02"}}},
		},
		{
			name:    "skip_rows skips lines above the header",
			content: "Source: DREES\n\"a title; with a quote\n\na;b\n1;2\n",
			options: "skip_rows: 3\n",
			rows:    1,
			want:    []want{{"b", arrow.INT64, []any{int64(2)}}},
		},
		{
			name:    "declared fields override inference",
			content: "code;Montant (€);when;flag;n\n01;1,5;15-03-2024;1;7\n02;2;16-03-2024;0;8\n",
			fields: []connectors.Field{
				{Name: "code", Type: connectors.TypeInteger},
				{Name: "montant", Title: "Montant (€)", Type: connectors.TypeNumber},
				{Name: "when", Type: connectors.TypeDate, Format: "%d-%m-%Y"},
				{Name: "flag", Type: connectors.TypeBoolean},
				{Name: "n", Type: connectors.TypeString},
			},
			rows: 2,
			want: []want{
				{"code", arrow.INT64, []any{int64(1), int64(2)}},
				{"montant", arrow.FLOAT64, []any{1.5, 2.0}},
				{"when", arrow.DATE32, []any{date(2024, 3, 15), date(2024, 3, 16)}},
				{"flag", arrow.BOOL, []any{true, false}},
				{"n", arrow.STRING, []any{"7", "8"}},
			},
		},
		{
			name:    "declared formats: %Y%m%d and a datetime",
			content: "d;t\n20240315;15/03/2024 08h30\n",
			fields: []connectors.Field{
				{Name: "d", Type: connectors.TypeDate, Format: "%Y%m%d"},
				{Name: "t", Type: connectors.TypeDatetime, Format: "%d/%m/%Y %Hh%M"},
			},
			rows: 1,
			want: []want{
				{"d", arrow.DATE32, []any{date(2024, 3, 15)}},
				{"t", arrow.TIMESTAMP, []any{ts(2024, 3, 15, 8, 30, 0)}},
			},
		},
		{
			name:    "a declared field matches a header by its normalised name",
			content: "Date de dépôt\n2024-01-02\n",
			fields:  []connectors.Field{{Name: "date_de_depot", Type: connectors.TypeString}},
			rows:    1,
			want:    []want{{"date_de_depot", arrow.STRING, []any{"2024-01-02"}}},
		},
		{
			name:    "header only: no rows, string columns",
			content: "a;b\n",
			rows:    0,
			want:    []want{{"a", arrow.STRING, nil}},
		},
		{
			name:    "a quote inside an unquoted field is kept",
			content: "a,b\n5\" floppy,1\n",
			rows:    1,
			want:    []want{{"a", arrow.STRING, []any{`5" floppy`}}},
		},
		{
			name:    "integers too large for int64 are not numbers",
			content: "a,b\n99999999999999999999,9223372036854775807\n1,-9223372036854775808\n",
			rows:    2,
			want: []want{
				{"a", arrow.STRING, []any{"99999999999999999999", "1"}},
				{"b", arrow.INT64, []any{int64(9223372036854775807), int64(-9223372036854775808)}},
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tb := mustRead(t, newSource(t, c.content, c.options, c.fields...))
			if len(tb.rows) != c.rows {
				t.Fatalf("%d rows, want %d: %v", len(tb.rows), c.rows, tb.rows)
			}
			for _, w := range c.want {
				if got := tb.typeOf(t, w.col).ID(); got != w.typ {
					t.Errorf("column %s: type %s, want %s", w.col, got, w.typ)
					continue
				}
				for r, v := range w.values {
					if got := tb.value(t, r, w.col); got != v {
						t.Errorf("column %s, row %d: %#v, want %#v", w.col, r, got, v)
					}
				}
			}
		})
	}
}

func TestTitles(t *testing.T) {
	tb := mustRead(t, newSource(t, " Date de dépôt ;Montant accordé (€)\n2024-01-02;1\n", ""))
	for i, want := range []string{"Date de dépôt", "Montant accordé (€)"} {
		title, ok := tb.schema.Field(i).Metadata.GetValue(connectors.TitleKey)
		if !ok || title != want {
			t.Errorf("field %d title = %q (%v), want %q", i, title, ok, want)
		}
	}
}

// TestDataErrors checks that malformed files fail with a
// *connectors.DataError naming the line (and the column and value when
// there is one), and saying what to do.
func TestDataErrors(t *testing.T) {
	cases := []struct {
		name      string
		content   string
		options   string
		fields    []connectors.Field
		atOpen    bool
		line      int64
		column    string
		value     string
		inMessage string
	}{
		{
			name: "a ragged row in the sample", content: "a,b\n1,2\n3\n4,5\n",
			atOpen: true, line: 3, inMessage: "the row has 1 fields, the header 2",
		},
		{
			name: "a ragged row after the sample", content: "a,b\n1,2\n3,4\n5,6,7\n",
			options: "sample_rows: 1\n", line: 4, inMessage: "quote the values",
		},
		{
			name: "line numbers count line breaks inside quotes", content: "a,b\n\"x\ny\",2\n\"z\nw\",3\n4\n",
			atOpen: true, line: 6,
		},
		{
			name: "a value that breaks the inferred type after the sample", content: "a;b\n1;x\n2;y\n3,5;z\nx;w\n",
			options: "sample_rows: 2\n", line: 4, column: "a", value: "3,5",
			inMessage: "declare the column in the registration's schema, e.g. {name: a, type: string}",
		},
		{
			name: "a leading zero after the sample", content: "code\n1\n2\n01\n",
			options: "sample_rows: 2\n", line: 4, column: "code", value: "01", inMessage: "inferred from the first 2 rows",
		},
		{
			name: "a value that breaks a declared type", content: "a\n1\nx\n",
			fields: []connectors.Field{{Name: "a", Type: connectors.TypeInteger}},
			atOpen: true, line: 3, column: "a", value: "x", inMessage: "registration's schema declares",
		},
		{
			name: "a value that breaks a declared format after the sample", content: "d\n15/03/2024\n2024-03-16\n",
			options: "sample_rows: 1\n",
			fields:  []connectors.Field{{Name: "d", Type: connectors.TypeDate, Format: "%d/%m/%Y"}},
			line:    3, column: "d", value: "2024-03-16",
		},
		{
			name: "a declared field missing from the header", content: "a;b\n1;2\n",
			fields: []connectors.Field{{Name: "zone_geo", Type: connectors.TypeString}},
			atOpen: true, line: 1, column: "zone_geo", inMessage: "not in the file's header",
		},
		{
			name: "an unclosed quote", content: "a,b\n1,\"open\n2,3\n",
			atOpen: true, line: 2, inMessage: "not closed",
		},
		{
			name: "text after a closing quote", content: "a,b\n\"x\"y,1\n",
			atOpen: true, line: 2, inMessage: "after the closing quote",
		},
		{
			name: "an empty file", content: "",
			atOpen: true, line: 1, inMessage: "empty",
		},
		{
			name: "invalid UTF-8 after UTF-8", content: "a\nété\n" + strings.Repeat("x\n", 100000) + "caf\xe9\n",
			line: 100003, inMessage: "invalid UTF-8",
		},
		{
			name: "invalid UTF-8 in a declared UTF-8 file", content: "a\ncaf\xe9\n",
			options: "encoding: utf-8\n", atOpen: true, line: 2, inMessage: "encoding: utf-8",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := newSource(t, c.content, c.options, c.fields...)
			tb, err := readAll(t, src, 2)
			if err == nil {
				t.Fatalf("no error; read %d rows", len(tb.rows))
			}
			if c.atOpen != (tb == nil) {
				t.Errorf("failed at Open: %v, want %v (%v)", tb == nil, c.atOpen, err)
			}
			var de *connectors.DataError
			if !errors.As(err, &de) {
				t.Fatalf("error %T %v, want a *connectors.DataError", err, err)
			}
			if de.Line != c.line || de.Column != c.column || (c.value != "" && de.Value != c.value) {
				t.Errorf("line %d, column %q, value %q; want line %d, column %q, value %q (%v)",
					de.Line, de.Column, de.Value, c.line, c.column, c.value, err)
			}
			if !strings.HasPrefix(de.Location, "/") || de.Fix == "" || de.Reason == "" {
				t.Errorf("error without location, reason or fix: %+v", de)
			}
			if !strings.Contains(err.Error(), c.inMessage) {
				t.Errorf("message %q lacks %q", err, c.inMessage)
			}
		})
	}
}

// TestSpecErrors checks that each bad option or field is refused by New
// with a *connectors.SpecError naming it.
func TestSpecErrors(t *testing.T) {
	path := writeFile(t, "x.csv", "a\n1\n")
	cases := []struct {
		name    string
		options string
		fields  []connectors.Field
		field   string
	}{
		{"bad delimiter", `delimiter: ":"`, nil, "source.delimiter"},
		{"two-character delimiter", `delimiter: ";;"`, nil, "source.delimiter"},
		{"bad encoding", `encoding: ebcdic`, nil, "source.encoding"},
		{"bad decimal", `decimal: "x"`, nil, "source.decimal"},
		{"decimal equal to the delimiter", "delimiter: \",\"\ndecimal: \",\"", nil, "source.decimal"},
		{"header not a boolean", `header: maybe`, nil, "source.header"},
		{"sample_rows negative", `sample_rows: -1`, nil, "source.sample_rows"},
		{"sample_rows not a number", `sample_rows: many`, nil, "source.sample_rows"},
		{"skip_rows negative", `skip_rows: -2`, nil, "source.skip_rows"},
		{"null_values not a list", `null_values: {a: 1}`, nil, "source.null_values"},
		{"unknown option", `delimeter: ";"`, nil, "source.delimeter"},
		{"another kind", `kind: parquet`, nil, "source.kind"},
		{"field of an unknown type", "", []connectors.Field{{Name: "a", Type: "geopoint"}}, "schema.fields[0].type"},
		{"field without a name", "", []connectors.Field{{Type: connectors.TypeString}}, "schema.fields[0].name"},
		{"bad format", "", []connectors.Field{{Name: "a", Type: connectors.TypeString}, {Name: "d", Type: connectors.TypeDate, Format: "%d/%q/%Y"}}, "schema.fields[1].format"},
		{"format without a day", "", []connectors.Field{{Name: "d", Type: connectors.TypeDate, Format: "%Y-%m"}}, "schema.fields[0].format"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := csv.New(connectors.Spec{Kind: "csv", Options: []byte("url: " + path + "\n" + c.options), Fields: c.fields})
			var se *connectors.SpecError
			if !errors.As(err, &se) {
				t.Fatalf("error %T %v, want a *connectors.SpecError", err, err)
			}
			if se.Field != c.field || se.Reason == "" || se.Fix == "" {
				t.Errorf("field %q reason %q fix %q; want field %q with a reason and a fix", se.Field, se.Reason, se.Fix, c.field)
			}
			if !errors.Is(err, connectors.ErrBadSpec) {
				t.Error("not a connectors.ErrBadSpec")
			}
		})
	}
	t.Run("missing url", func(t *testing.T) {
		_, err := csv.New(connectors.Spec{Kind: "csv", Options: []byte("kind: csv\n")})
		var se *connectors.SpecError
		if !errors.As(err, &se) || se.Field != "source.url" {
			t.Errorf("err = %v, want a SpecError on source.url", err)
		}
	})
	t.Run("no such file", func(t *testing.T) {
		_, err := csv.New(connectors.Spec{Kind: "csv", Options: []byte("url: nowhere.csv\n"), Dir: t.TempDir()})
		var se *connectors.SpecError
		if !errors.As(err, &se) || se.Field != "source.url" {
			t.Errorf("err = %v, want a SpecError on source.url", err)
		}
	})
	t.Run("options as JSON", func(t *testing.T) {
		if _, err := csv.New(connectors.Spec{Kind: "csv", Options: []byte(`{"kind": "csv", "url": "` + path + `", "delimiter": "tab", "header": true}`)}); err != nil {
			t.Errorf("JSON options: %v", err)
		}
	})
	t.Run("Options returns what was decoded", func(t *testing.T) {
		src, err := csv.New(connectors.Spec{Kind: "csv", Options: []byte("url: " + path + "\ndelimiter: \";\"\nsample_rows: 10\n")})
		if err != nil {
			t.Fatal(err)
		}
		o := src.(*csv.Source).Options()
		if o.Delimiter != ";" || o.SampleRows != 10 || o.URL != path {
			t.Errorf("Options() = %+v", o)
		}
	})
}

// TestSampleReplay checks that rows of the sample and after it are read
// once each and in order, across batch and buffer boundaries.
func TestSampleReplay(t *testing.T) {
	var b strings.Builder
	b.WriteString("n;label\n")
	const rows = 30000
	for i := range rows {
		b.WriteString(strings.Repeat(" ", i%3))
		b.WriteString(itoa(i))
		b.WriteString(";\"l\"\"")
		b.WriteString(itoa(i))
		b.WriteString("\nx\"\r\n")
	}
	for _, sample := range []int{1, 100, 29999, 50000} {
		for _, batch := range []int{1000, 7777} {
			src := newSource(t, b.String(), "sample_rows: "+itoa(sample)+"\n")
			tb, err := readAll(t, src, batch)
			if err != nil {
				t.Fatal(err)
			}
			if len(tb.rows) != rows {
				t.Fatalf("sample %d, batch %d: %d rows", sample, batch, len(tb.rows))
			}
			for i, r := range tb.rows {
				if r[0] != int64(i) || r[1] != "l\""+itoa(i)+"\nx" {
					t.Fatalf("sample %d, batch %d, row %d: %v", sample, batch, i, r)
				}
			}
		}
	}
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}
