package datagouv

import (
	"bytes"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/datalab/datalab/connectors"
)

// DefaultAPI is the udata API of data.gouv.fr.
const DefaultAPI = "https://www.data.gouv.fr/api/1"

// Options are the connector's own options in a datagouv registration's
// source block. Every other option of the block is handed to the file
// connector that reads the resource.
type Options struct {
	// Kind is "datagouv".
	Kind string `yaml:"kind"`
	// Dataset is the dataset's id or slug, as in its page's URL
	// (https://www.data.gouv.fr/fr/datasets/<slug>/). Required.
	Dataset string `yaml:"dataset"`
	// Resource is the resource's id or its exact title. Required.
	Resource string `yaml:"resource"`
	// API is the base URL of the udata API; default DefaultAPI.
	API string `yaml:"api"`
	// Reader names the file connector that reads the resource (csv, json,
	// parquet); default: the one of the resource's format, as the API
	// says it. Set it when a resource's format is wrong or missing.
	Reader string `yaml:"reader"`
}

// ownOptions are the yaml names of Options.
func ownOptions() []string { return connectors.OptionNames(&Options{}) }

// decodeOptions splits the source block into the connector's own options,
// decoded strictly, and the rest, for the file connector.
func decodeOptions(raw []byte) (Options, yaml.MapSlice, error) {
	var o Options
	if len(bytes.TrimSpace(raw)) == 0 {
		return o, nil, &connectors.SpecError{Field: "source", Reason: "missing", Fix: "give at least {kind: datagouv, dataset: <id or slug>, resource: <id or title>}"}
	}
	var items yaml.MapSlice
	if err := yaml.Unmarshal(raw, &items); err != nil {
		first, _, _ := strings.Cut(err.Error(), "\n")
		return o, nil, &connectors.SpecError{Field: "source", Reason: "not a YAML mapping: " + first,
			Fix: "write the source block as a mapping of options, e.g. {kind: datagouv, dataset: x, resource: y}"}
	}
	own, rest := yaml.MapSlice{}, yaml.MapSlice{}
	known := ownOptions()
	for _, item := range items {
		key := fmt.Sprint(item.Key)
		switch {
		case key == "url":
			return o, nil, &connectors.SpecError{Field: "source.url", Reason: "a datagouv source finds its URL through the data.gouv.fr API",
				Fix: "remove url and name the dataset and the resource, or use kind: csv (json, parquet) with the URL"}
		case slices.Contains(known, key):
			own = append(own, item)
		default:
			rest = append(rest, item)
		}
	}
	ownYAML, err := yaml.Marshal(own)
	if err != nil {
		first, _, _ := strings.Cut(err.Error(), "\n")
		return o, nil, &connectors.SpecError{Field: "source", Reason: first, Fix: "check the source block of the registration"}
	}
	if err := connectors.DecodeOptions(ownYAML, &o, connectors.OptionsHelp{Kind: "datagouv"}); err != nil {
		return o, nil, err
	}
	return o, rest, nil
}

// settings are Options checked, with defaults applied.
type settings struct {
	dataset, resource string
	api               *url.URL
	reader            string
}

// resolve checks o and applies the defaults.
func (o Options) resolve(readers map[string]connectors.Factory) (settings, error) {
	var s settings
	if o.Kind != "" && o.Kind != "datagouv" {
		return s, &connectors.SpecError{Field: "source.kind", Reason: fmt.Sprintf("%q is not datagouv", o.Kind), Fix: "write kind: datagouv"}
	}
	s.dataset = strings.TrimSpace(o.Dataset)
	if s.dataset == "" {
		return s, &connectors.SpecError{Field: "source.dataset", Reason: "missing",
			Fix: "give the dataset's id or slug, as in its page's URL https://www.data.gouv.fr/fr/datasets/<slug>/"}
	}
	if strings.Contains(s.dataset, "/") {
		return s, &connectors.SpecError{Field: "source.dataset", Reason: fmt.Sprintf("%q is not an id or a slug", o.Dataset),
			Fix: "give only the last part of the dataset's page URL: https://www.data.gouv.fr/fr/datasets/<slug>/"}
	}
	s.resource = o.Resource
	if strings.TrimSpace(s.resource) == "" {
		return s, &connectors.SpecError{Field: "source.resource", Reason: "missing", Fix: "give the resource's id or its exact title, as the dataset's page shows it"}
	}
	api := o.API
	if api == "" {
		api = DefaultAPI
	}
	u, err := url.Parse(strings.TrimRight(api, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return s, &connectors.SpecError{Field: "source.api", Reason: fmt.Sprintf("%q is not an http(s) URL", o.API),
			Fix: "give the udata API's base URL, e.g. " + DefaultAPI + ", or leave it out"}
	}
	s.api = u
	s.reader = strings.ToLower(strings.TrimSpace(o.Reader))
	if _, ok := readers[s.reader]; s.reader != "" && !ok {
		return s, &connectors.SpecError{Field: "source.reader", Reason: fmt.Sprintf("%q is not a file connector", o.Reader),
			Fix: "use one of: " + strings.Join(sortedKeys(readers), ", ") + ", or leave it out to follow the resource's format"}
	}
	return s, nil
}

func sortedKeys(m map[string]connectors.Factory) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
