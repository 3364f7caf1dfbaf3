package datagouv_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/datalab/datalab/connectors"
	"github.com/datalab/datalab/connectors/connectortest"
	"github.com/datalab/datalab/connectors/datagouv"
)

// fast retries the API in milliseconds.
var fast = datagouv.Config{HTTP: &connectors.HTTPOptions{Retry: connectors.RetryPolicy{FirstDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}}}

func newSource(t testing.TB, options string, fields ...connectors.Field) connectors.Source {
	t.Helper()
	src, err := datagouv.NewFactory(fast)(connectors.Spec{Kind: "datagouv", Options: []byte(options), Fields: fields})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func block(p *portal, resource string, more ...string) string {
	return strings.Join(append([]string{"kind: datagouv", "dataset: " + slug, fmt.Sprintf("resource: %q", resource), "api: " + p.api()}, more...), "\n")
}

func TestConformance(t *testing.T) {
	p := newPortal(t)
	from := func(options string, fields ...connectors.Field) func(t testing.TB) connectors.Source {
		return func(t testing.TB) connectors.Source { return newSource(t, options, fields...) }
	}
	connectortest.Run(t, []connectortest.Case{
		{
			Name:      "csv",
			Source:    from(block(p, "donnees_feuil4.csv", "encoding: iso-8859-1", `decimal: ","`)),
			Rows:      1053,
			BatchRows: 100,
			Unchanged: true,
			Broken:    from(block(p, "donnees_feuil4.csv"), connectors.Field{Name: "part_age_inf18", Type: connectors.TypeInteger}),
		},
		{
			Name:      "json",
			Source:    from(block(p, "Part des IVG chez les mineures par région (JSON)")),
			Rows:      13,
			BatchRows: 4,
			Unchanged: true,
		},
		{
			// No checksum nor last_modified: the file server's ETag decides.
			Name:      "parquet",
			Source:    from(block(p, "7e8f9a0b-1c2d-4e3f-9a4b-5c6d7e8f9a0b")),
			Rows:      6,
			BatchRows: 2,
			Unchanged: true,
		},
	})
}

func read(t *testing.T, src connectors.Source, prev connectors.Fingerprint) (connectors.Fingerprint, int64, error) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	st, err := src.Open(context.Background(), connectors.OpenOptions{Allocator: mem, Previous: prev})
	if err != nil {
		return connectors.Fingerprint{}, 0, err
	}
	defer st.Release()
	var rows int64
	for st.Next() {
		rows += st.RecordBatch().NumRows()
	}
	return st.Fingerprint(), rows, st.Err()
}

// TestUnchangedIsNotDownloaded: the API's checksum tells an unchanged
// resource before any download; a new checksum downloads it again.
func TestUnchangedIsNotDownloaded(t *testing.T) {
	p := newPortal(t)
	src := newSource(t, block(p, feuil4ID, "encoding: iso-8859-1"))
	fp, rows, err := read(t, src, connectors.Fingerprint{})
	if err != nil || rows != 1053 {
		t.Fatalf("%d rows, %v", rows, err)
	}
	if fp.ETag != "sha1:"+feuil4SHA || fp.LastModified != "2024-09-26T14:10:21.448000+00:00" ||
		fp.Location != p.URL+"/resources/"+slug+"/20240926-141021/donnees-feuil4.csv" || !strings.HasPrefix(fp.ContentHash, "sha256:") {
		t.Errorf("fingerprint %+v", fp)
	}
	if _, _, err := read(t, src, fp); !errors.Is(err, connectors.ErrUnchanged) {
		t.Errorf("same checksum: %v, want ErrUnchanged", err)
	}
	if n := p.count("donnees-feuil4.csv"); n != 1 {
		t.Errorf("the file was downloaded %d times, want 1", n)
	}
	if n := p.count("/datasets/" + slug + "/"); n != 2 {
		t.Errorf("the API was asked %d times, want 2", n)
	}
	p.edit(feuil4SHA, "0000000000000000000000000000000000000000")
	fp2, _, err := read(t, src, fp)
	if err != nil || fp2.ETag != "sha1:0000000000000000000000000000000000000000" || fp2.ContentHash != fp.ContentHash {
		t.Errorf("new checksum: %+v, %v", fp2, err)
	}
	if n := p.count("donnees-feuil4.csv"); n != 2 {
		t.Errorf("the file was downloaded %d times, want 2", n)
	}
	// Without a checksum, last_modified decides.
	p.edit(`"checksum": {"type": "sha1", "value": "0000000000000000000000000000000000000000"}`, `"checksum": null`)
	if _, _, err := read(t, src, fp2); !errors.Is(err, connectors.ErrUnchanged) {
		t.Errorf("no checksum, same last_modified: %v, want ErrUnchanged", err)
	}
	p.edit(`"last_modified": "2024-09-26T14:10:21.448000+00:00"`, `"last_modified": "2025-09-25T09:00:00.000000+00:00"`)
	fp3, _, err := read(t, src, fp2)
	if err != nil || fp3.ETag != "" || fp3.LastModified != "2025-09-25T09:00:00.000000+00:00" {
		t.Fatalf("new last_modified: %+v, %v", fp3, err)
	}
	if _, _, err := read(t, src, fp3); !errors.Is(err, connectors.ErrUnchanged) {
		t.Errorf("same last_modified: %v, want ErrUnchanged", err)
	}
	if n := p.count("donnees-feuil4.csv"); n != 3 {
		t.Errorf("the file was downloaded %d times, want 3", n)
	}
}

func TestByID(t *testing.T) {
	p := newPortal(t)
	src := newSource(t, strings.Replace(block(p, feuil4ID), "dataset: "+slug, "dataset: "+datasetID, 1))
	if _, rows, err := read(t, src, connectors.Fingerprint{}); err != nil || rows != 1053 {
		t.Errorf("%d rows, %v", rows, err)
	}
}

func TestAPIRetried(t *testing.T) {
	p := newPortal(t)
	p.failAPI = 2
	if _, rows, err := read(t, newSource(t, block(p, "donnees_feuil7.csv")), connectors.Fingerprint{}); err != nil || rows != 1054 {
		t.Errorf("%d rows, %v", rows, err)
	}
	if n := p.count("/datasets/" + slug + "/"); n != 3 {
		t.Errorf("%d API requests, want 3", n)
	}
	p.failAPI = 10
	_, _, err := read(t, newSource(t, block(p, "donnees_feuil7.csv")), connectors.Fingerprint{})
	want := fmt.Sprintf("GET %s/datasets/%s/: server answered 503 Service Unavailable after 4 attempts; try later", p.api(), slug)
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
}

func TestOpenErrors(t *testing.T) {
	p := newPortal(t)
	for _, tc := range []struct {
		name, options, field string
		want                 []string
	}{
		{"unknown dataset", strings.Replace(block(p, "x"), "dataset: "+slug, "dataset: ivg-2031", 1), "source.dataset",
			[]string{`has no dataset "ivg-2031"`, p.api() + "/datasets/ivg-2031/", "404 Not Found", "id or slug"}},
		{"unknown resource", block(p, "donnees_feuil9.csv"), "source.resource",
			[]string{`dataset "Interruptions volontaires de grossesses (IVG)" (` + slug + `) has no resource "donnees_feuil9.csv"`,
				`"donnees_feuil4.csv", "donnees_feuil7.csv", "Part des IVG chez les mineures par région (JSON)", "Indicateurs IVG (Parquet)", "Documentation méthodologique"`}},
		{"title is exact", block(p, "Donnees_feuil4.csv"), "source.resource", []string{`has no resource "Donnees_feuil4.csv"`}},
		{"unreadable format", block(p, "Documentation méthodologique"), "source.resource",
			[]string{`resource "Documentation méthodologique" is in format "pdf", which datalab does not read`, "pick a resource in csv, json, parquet, or set reader:"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := read(t, newSource(t, tc.options), connectors.Fingerprint{})
			var se *connectors.SpecError
			if !errors.As(err, &se) || se.Field != tc.field {
				t.Fatalf("err = %v, want a SpecError on %s", err, tc.field)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v\nwant it to say %s", err, w)
				}
			}
		})
	}
	// A reader said by the registration overrides the resource's format.
	_, _, err := read(t, newSource(t, block(p, "Documentation méthodologique", "reader: csv")), connectors.Fingerprint{})
	if err == nil || !strings.Contains(err.Error(), "note-methodologique.pdf") {
		t.Errorf("pdf read as csv: %v", err)
	}
}

func TestSpecErrors(t *testing.T) {
	for _, tc := range []struct {
		options, field, want string
	}{
		{"", "source", "missing"},
		{"kind: datagouv\nresource: x", "source.dataset", "missing"},
		{"kind: datagouv\ndataset: https://www.data.gouv.fr/fr/datasets/x/\nresource: x", "source.dataset", "not an id or a slug"},
		{"dataset: x", "source.resource", "missing"},
		{"dataset: x\nresource: y\napi: ftp://x", "source.api", "not an http(s) URL"},
		{"dataset: x\nresource: y\nurl: https://x/y.csv", "source.url", "finds its URL through the data.gouv.fr API"},
		{"dataset: x\nresource: y\nreader: xlsx", "source.reader", `"xlsx" is not a file connector`},
		{"dataset: x\nresource: y\ndataset_id: z", "source.dataset_id", "the datagouv options are kind, dataset, resource, api, reader, and those of the file connector"},
		{"dataset: x\nresource: y\nreader: csv\ndelimter: ';'", "source.delimter", "the csv options are"},
		{"dataset: x\nresource: y\ndelimiter: '#'", "source.delimiter", `"#" is not a supported delimiter`},
		{"dataset: x\nresource: y\nreader: parquet\ndelimiter: ';'", "source.delimiter", "unknown option"},
		{"dataset: [x]\nresource: y", "source.dataset", "is not a string"},
		{"kind: csv\ndataset: x\nresource: y", "source.kind", "not datagouv"},
	} {
		_, err := datagouv.New(connectors.Spec{Kind: "datagouv", Options: []byte(tc.options)})
		var se *connectors.SpecError
		if !errors.As(err, &se) || se.Field != tc.field || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want a SpecError on %s saying %q", tc.options, err, tc.field, tc.want)
		}
	}
	// The declared fields are checked by the file connectors too.
	_, err := datagouv.New(connectors.Spec{Kind: "datagouv", Options: []byte("dataset: x\nresource: y\nreader: json"),
		Fields: []connectors.Field{{Name: "d", Type: connectors.TypeDate, Format: "%Q"}}})
	var se *connectors.SpecError
	if !errors.As(err, &se) || se.Field != "schema.fields[0].format" {
		t.Errorf("bad format: %v", err)
	}
}
