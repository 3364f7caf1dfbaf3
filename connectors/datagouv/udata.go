package datagouv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/datalab/datalab/connectors"
)

// maxAPIBytes bounds the API's answer about one dataset.
const maxAPIBytes = 32 << 20

// dataset is what the udata API says of a dataset (GET
// /api/1/datasets/{id or slug}/): the fields the connector uses.
type dataset struct {
	ID        string     `json:"id"`
	Slug      string     `json:"slug"`
	Title     string     `json:"title"`
	Resources []resource `json:"resources"`
}

// resource is a file of a udata dataset.
type resource struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	// URL is where the file is downloaded from.
	URL string `json:"url"`
	// Format is what the publisher said of the file: csv, json,
	// parquet, xlsx, pdf, ... (free text, often lower case).
	Format   string `json:"format"`
	Checksum *struct {
		Type  string `json:"type"`
		Value string `json:"value"`
	} `json:"checksum"`
	// LastModified is the resource's last change, as the portal records it.
	LastModified string `json:"last_modified"`
}

// version is the resource's version as the API tells it: its checksum
// and its last modification; empty when the API says neither.
func (r resource) version() (etag, modified string) {
	if r.Checksum != nil && r.Checksum.Value != "" {
		etag = r.Checksum.Value
		if r.Checksum.Type != "" {
			etag = strings.ToLower(r.Checksum.Type) + ":" + etag
		}
	}
	return etag, r.LastModified
}

// fetchDataset asks the API for a dataset.
func (s *Source) fetchDataset(ctx context.Context) (dataset, error) {
	var d dataset
	u := s.set.api.JoinPath("datasets", s.set.dataset) // escapes the id
	u.Path += "/"
	loc := connectors.Location{URL: u, HTTP: s.cfg.HTTP}
	body, err := loc.Open(ctx, connectors.Fingerprint{})
	var he *connectors.HTTPError
	switch {
	case errors.As(err, &he) && (he.StatusCode == http.StatusNotFound || he.StatusCode == http.StatusGone):
		return d, &connectors.SpecError{Field: "source.dataset",
			Reason: fmt.Sprintf("%s has no dataset %q (GET %s answered %s)", s.set.api.Host, s.set.dataset, loc, he.Status),
			Fix:    "give the dataset's id or slug, as in its page's URL https://www.data.gouv.fr/fr/datasets/<slug>/"}
	case err != nil:
		return d, err
	}
	defer body.Close()
	data, err := io.ReadAll(io.LimitReader(body, maxAPIBytes+1))
	if err != nil {
		return d, err
	}
	if len(data) > maxAPIBytes {
		return d, fmt.Errorf("GET %s: the answer is larger than %d MB; check source.api", loc, maxAPIBytes>>20)
	}
	if err := json.Unmarshal(data, &d); err != nil || d.ID == "" {
		if err == nil {
			err = errors.New("it has no id")
		}
		return d, fmt.Errorf("GET %s: the answer is not a udata dataset (%v); check source.api", loc, err)
	}
	return d, nil
}

// pick returns the resource the registration names: by id, else by exact
// title.
func (s *Source) pick(d dataset) (resource, error) {
	var byTitle []resource
	for _, r := range d.Resources {
		if r.ID == s.set.resource {
			return r, nil
		}
		if r.Title == s.set.resource {
			byTitle = append(byTitle, r)
		}
	}
	switch len(byTitle) {
	case 1:
		return byTitle[0], nil
	case 0:
		titles := make([]string, len(d.Resources))
		for i, r := range d.Resources {
			titles[i] = fmt.Sprintf("%q", r.Title)
		}
		fix := "the dataset has no resource"
		if len(titles) > 0 {
			fix = "use the id or the exact title of one of its resources: " + strings.Join(titles, ", ")
		}
		return resource{}, &connectors.SpecError{Field: "source.resource",
			Reason: fmt.Sprintf("dataset %q (%s) has no resource %q", d.Title, d.Slug, s.set.resource), Fix: fix}
	}
	ids := make([]string, len(byTitle))
	for i, r := range byTitle {
		ids[i] = fmt.Sprintf("%s (%s, modified %s)", r.ID, r.Format, r.LastModified)
	}
	return resource{}, &connectors.SpecError{Field: "source.resource",
		Reason: fmt.Sprintf("dataset %q has %d resources titled %q", d.Title, len(byTitle), s.set.resource),
		Fix:    "name the one to read by its id: " + strings.Join(ids, ", ")}
}

// readerOf is the file connector of a resource: the registration's, or
// the one of the resource's format, or of its URL's extension.
func (s *Source) readerOf(r resource) (string, error) {
	if s.set.reader != "" {
		return s.set.reader, nil
	}
	format := strings.ToLower(strings.TrimSpace(r.Format))
	if format == "" {
		if u, err := url.Parse(r.URL); err == nil {
			format = strings.TrimPrefix(strings.ToLower(path.Ext(strings.TrimSuffix(u.Path, ".gz"))), ".")
		}
	}
	reader, ok := formatReaders[strings.TrimSuffix(format, ".gz")]
	if _, known := s.cfg.Readers[reader]; ok && known {
		return reader, nil
	}
	if _, known := s.cfg.Readers[format]; known {
		return format, nil
	}
	return "", &connectors.SpecError{Field: "source.resource",
		Reason: fmt.Sprintf("resource %q is in format %q, which datalab does not read", r.Title, r.Format),
		Fix:    "pick a resource in " + strings.Join(sortedKeys(s.cfg.Readers), ", ") + ", or set reader: when its format is mislabelled"}
}

// formatReaders maps the formats publishers write to file connectors.
var formatReaders = map[string]string{
	"csv": "csv", "tsv": "csv", "txt": "csv",
	"json": "json", "ndjson": "json", "jsonl": "json",
	"parquet": "parquet",
}
