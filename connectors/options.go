package connectors

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
)

// OptionsHelp is what the messages of DecodeOptions say of a connector's
// source block.
type OptionsHelp struct {
	// Kind names the connector: "the csv options are: ...".
	Kind string
	// Minimal is the smallest block that works, offered when the block is
	// missing: "{kind: csv, url: <file>}".
	Minimal string
	// Example is a block offered when the source is not a mapping:
	// "{kind: csv, url: data/x.csv}".
	Example string
	// Hint says what the value of an option must be and gives an example
	// ("a whole number", "sample_rows: 100000"); nil, or an empty what,
	// means a string.
	Hint func(option string) (what, example string)
	// Secret keeps the values and the YAML parser's messages out of the
	// errors: a misplaced password must not be printed.
	Secret bool
}

// DecodeOptions decodes raw, a registration's source block (YAML or JSON),
// strictly into v, a pointer to a connector's options struct whose fields
// have yaml tags. Every refusal is a *SpecError naming the option at fault
// ("source.delimiter"): a missing block, one that is not a mapping, an
// unknown option (the message lists the known ones) or a value of the
// wrong type.
func DecodeOptions(raw []byte, v any, help OptionsHelp) error {
	if len(bytes.TrimSpace(raw)) == 0 {
		return &SpecError{Field: "source", Reason: "missing", Fix: "give at least " + help.Minimal}
	}
	err := yaml.UnmarshalWithOptions(raw, v, yaml.Strict())
	if err == nil {
		return nil
	}
	// Name the option at fault: decode the options one by one.
	var items yaml.MapSlice
	if merr := yaml.Unmarshal(raw, &items); merr != nil {
		reason := "not a YAML mapping"
		if !help.Secret {
			reason += ": " + firstLine(merr.Error())
		}
		return &SpecError{Field: "source", Reason: reason, Fix: "write the source block as a mapping of options, e.g. " + help.Example}
	}
	known := OptionNames(v)
	for _, item := range items {
		key := fmt.Sprint(item.Key)
		if !slices.Contains(known, key) {
			return &SpecError{Field: "source." + key, Reason: "unknown option", Fix: "the " + help.Kind + " options are: " + strings.Join(known, ", ")}
		}
		one, merr := yaml.Marshal(yaml.MapSlice{item})
		probe := reflect.New(reflect.TypeOf(v).Elem()).Interface()
		if merr == nil && yaml.UnmarshalWithOptions(one, probe, yaml.Strict()) == nil {
			continue
		}
		what, example := "", ""
		if help.Hint != nil {
			what, example = help.Hint(key)
		}
		if what == "" {
			what, example = "a string", key+`: "..."`
		}
		if help.Secret {
			// The value is not echoed: it might be a misplaced secret.
			return &SpecError{Field: "source." + key, Reason: "not " + what, Fix: "write " + what + ", e.g. " + example}
		}
		return &SpecError{Field: "source." + key, Reason: fmt.Sprintf("%v is not %s", item.Value, what), Fix: "write " + what + ", e.g. " + example}
	}
	if help.Secret {
		return &SpecError{Field: "source", Reason: "cannot be read", Fix: "check the source block of the registration"}
	}
	return &SpecError{Field: "source", Reason: firstLine(err.Error()), Fix: "check the source block of the registration"}
}

// OptionNames lists the yaml names of the fields of v, a pointer to an
// options struct, in declaration order.
func OptionNames(v any) []string {
	t := reflect.TypeOf(v)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	names := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		names = append(names, strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0])
	}
	return names
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
