package datagouv

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/datalab/datalab/connectors"
	"github.com/datalab/datalab/connectors/csv"
	jsonsrc "github.com/datalab/datalab/connectors/json"
	"github.com/datalab/datalab/connectors/parquet"
)

// Config is how main sets the connector up. The zero value is ready to
// use.
type Config struct {
	// Readers are the file connectors that read resources, by name (the
	// reader option); nil means DefaultReaders.
	Readers map[string]connectors.Factory
	// HTTP tunes the requests to the API; nil means
	// connectors.DefaultHTTPOptions. Resources are downloaded by their
	// file connector, with its own options.
	HTTP *connectors.HTTPOptions
}

// DefaultReaders returns the file connectors datalab ships: csv, json and
// parquet.
func DefaultReaders() map[string]connectors.Factory {
	return map[string]connectors.Factory{"csv": csv.New, "json": jsonsrc.New, "parquet": parquet.New}
}

// placeholder stands for the resource's URL when New checks the file
// connector's options, before the API is asked.
const placeholder = "https://www.data.gouv.fr/datalab-placeholder"

// NewFactory returns the connectors.Factory of datagouv sources with cfg.
func NewFactory(cfg Config) connectors.Factory {
	if cfg.Readers == nil {
		cfg.Readers = DefaultReaders()
	}
	return func(spec connectors.Spec) (connectors.Source, error) { return newSource(cfg, spec) }
}

// New builds a datagouv Source from a registration with the default
// Config: a connectors.Factory. See NewFactory.
func New(spec connectors.Spec) (connectors.Source, error) { return NewFactory(Config{})(spec) }

var _ connectors.Factory = New

// Source is a registered data.gouv.fr resource. It is immutable once
// built: opening it several times, even concurrently, is safe.
type Source struct {
	cfg    Config
	opts   Options
	set    settings
	rest   yaml.MapSlice // the file connector's options
	fields []connectors.Field
	dir    string
}

// newSource decodes and checks the registration: the connector's own
// options, and the rest with the file connector that will read the
// resource (all of them when the reader is not said), so that a bad
// option is refused at registration, as a *connectors.SpecError naming it.
// It does no I/O.
func newSource(cfg Config, spec connectors.Spec) (connectors.Source, error) {
	opts, rest, err := decodeOptions(spec.Options)
	if err != nil {
		return nil, err
	}
	set, err := opts.resolve(cfg.Readers)
	if err != nil {
		return nil, err
	}
	s := &Source{cfg: cfg, opts: opts, set: set, rest: rest, fields: spec.Fields, dir: spec.Dir}
	readers := []string{set.reader}
	if set.reader == "" {
		readers = sortedKeys(cfg.Readers)
	}
	var errs []error
	for _, r := range readers {
		if _, err := s.fileSource(r, placeholder); err != nil {
			errs = append(errs, err)
			continue
		}
		return s, nil
	}
	return nil, s.refusal(readers, errs)
}

// refusal picks the error to report when no file connector accepts the
// options: one that refuses a value rather than an unknown option, else
// an unknown option listing every option there is.
func (s *Source) refusal(readers []string, errs []error) error {
	var unknown *connectors.SpecError
	for _, err := range errs {
		var se *connectors.SpecError
		if !errors.As(err, &se) {
			return err
		}
		if se.Reason != "unknown option" {
			return err
		}
		unknown = se
	}
	if len(readers) == 1 {
		return unknown
	}
	return &connectors.SpecError{Field: unknown.Field, Reason: "unknown option",
		Fix: fmt.Sprintf("the datagouv options are %s, and those of the file connector that reads the resource (%s)",
			strings.Join(ownOptions(), ", "), strings.Join(readers, ", "))}
}

// fileSource builds the file connector's source of the resource at u.
func (s *Source) fileSource(reader, u string) (connectors.Source, error) {
	block := append(yaml.MapSlice{{Key: "kind", Value: reader}, {Key: "url", Value: u}}, s.rest...)
	raw, err := yaml.Marshal(block)
	if err != nil {
		return nil, &connectors.SpecError{Field: "source", Reason: err.Error(), Fix: "check the source block of the registration"}
	}
	return s.cfg.Readers[reader](connectors.Spec{Kind: reader, Options: raw, Dir: s.dir, Fields: s.fields})
}

// Options returns the connector's own options as decoded.
func (s *Source) Options() Options { return s.opts }

// Open asks the API for the dataset, picks the resource, and opens it with
// its file connector: the Stream is that connector's, with a fingerprint
// made of the API's checksum and last_modified of the resource.
//
// When opts.Previous has the same checksum (or, without one, the same
// last_modified) as the API now says, Open returns an error wrapping
// connectors.ErrUnchanged without downloading the resource. An unknown
// dataset or resource, or a resource in a format no file connector reads,
// is a *connectors.SpecError naming source.dataset or source.resource and
// listing what there is. Errors of the API are *connectors.HTTPError;
// the file connector's are its own. Cancelling ctx stops the request, the
// download and the stream.
func (s *Source) Open(ctx context.Context, opts connectors.OpenOptions) (connectors.Stream, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("open data.gouv.fr dataset %s: %w", s.set.dataset, err)
	}
	d, err := s.fetchDataset(ctx)
	if err != nil {
		return nil, err
	}
	r, err := s.pick(d)
	if err != nil {
		return nil, err
	}
	reader, err := s.readerOf(r)
	if err != nil {
		return nil, err
	}
	u, err := s.set.api.Parse(r.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("dataset %s: resource %q has no usable URL (%q); tell its publisher", d.Slug, r.Title, r.URL)
	}
	etag, modified := r.version()
	api := connectors.Fingerprint{Location: redacted(u), ETag: etag, LastModified: modified}
	known := etag != "" || modified != ""
	if known && !opts.Previous.IsZero() && api.SameVersion(opts.Previous) {
		return nil, fmt.Errorf("data.gouv.fr resource %q of %s: %w", r.Title, d.Slug, connectors.ErrUnchanged)
	}
	src, err := s.fileSource(reader, u.String())
	if err != nil {
		return nil, err
	}
	inner := opts
	if known {
		// The API says the resource changed: no conditional request.
		inner.Previous = connectors.Fingerprint{}
	}
	st, err := src.Open(ctx, inner)
	if err != nil {
		return nil, err
	}
	if !known {
		return st, nil
	}
	return &stream{Stream: st, etag: etag, modified: modified}, nil
}

func redacted(u *url.URL) string {
	c := *u
	c.User = nil
	return c.String()
}

// stream is the file connector's stream, with the API's version of the
// resource in its fingerprint.
type stream struct {
	connectors.Stream
	etag, modified string
}

// Fingerprint returns the file connector's, with the API's checksum as
// ETag and its last_modified as LastModified.
func (st *stream) Fingerprint() connectors.Fingerprint {
	fp := st.Stream.Fingerprint()
	fp.ETag, fp.LastModified = st.etag, st.modified
	return fp
}
