package connectors_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/datalab/datalab/connectors"
)

func TestDecodeOptions(t *testing.T) {
	type options struct {
		URL  string   `yaml:"url"`
		Rows int      `yaml:"rows"`
		Keys []string `yaml:"keys"`
	}
	help := connectors.OptionsHelp{Kind: "test", Minimal: "{url: x}", Example: "{url: x}",
		Hint: func(option string) (string, string) {
			if option == "rows" {
				return "a whole number", "rows: 10"
			}
			return "", ""
		}}
	var o options
	if err := connectors.DecodeOptions([]byte(`{url: x, rows: 3, keys: [a]}`), &o, help); err != nil || o.URL != "x" || o.Rows != 3 || len(o.Keys) != 1 {
		t.Fatalf("DecodeOptions = %+v, %v", o, err)
	}
	cases := []struct{ raw, field, text string }{
		{"", "source", "give at least {url: x}"},
		{"[a, b]", "source", "not a YAML mapping"},
		{"url: x\nrowz: 3", "source.rowz", "the test options are: url, rows, keys"},
		{"rows: many", "source.rows", "many is not a whole number"},
		{"url: [s3cret]", "source.url", "is not a string"},
	}
	for _, c := range cases {
		err := connectors.DecodeOptions([]byte(c.raw), &options{}, help)
		var se *connectors.SpecError
		if !errors.As(err, &se) || se.Field != c.field || !strings.Contains(err.Error(), c.text) {
			t.Errorf("DecodeOptions(%q) = %v, want a refusal of %s saying %q", c.raw, err, c.field, c.text)
		}
	}
	help.Secret = true
	err := connectors.DecodeOptions([]byte("url: [s3cret]"), &options{}, help)
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("a secret DecodeOptions echoes the value: %v", err)
	}
}
