package catalog_test

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/datalab/datalab/catalog"
)

// dcatFixture registers three datasets, one of each level, and loads two.
func dcatFixture(t *testing.T) []catalog.DCATEntry {
	t.Helper()
	ctx := context.Background()
	s, _ := openStore(t)
	pub := dataset("drees.ivg", catalog.Public)
	pub.Description, pub.Contact, pub.License, pub.Frequency = "Part des IVG chez les mineures.", "contact@example.org", "etalab-2.0", "yearly"
	pub.Source.Options = []byte(`{"kind":"csv","url":"https://data.example.gouv.fr/ivg.csv"}`)
	restricted := dataset("cnaf.allocataires", catalog.Restricted)
	restricted.Description, restricted.Frequency, restricted.License = "Allocataires par commune.", "monthly", "Conditions de la convention CNAF"
	restricted.Source.Options = []byte(`{"kind":"csv","url":"/srv/cnaf/extract.csv"}`)
	secret := dataset("demandes.dossiers", catalog.NonPublic) // no description, never loaded
	secret.Frequency = "daily"
	secret.Source = catalog.Source{Kind: "postgres", Options: []byte(`{"kind":"postgres","host":"db.interne","password_env":"PG_PASSWORD"}`)}
	if err := s.Register(ctx, pub, restricted, secret); err != nil {
		t.Fatal(err)
	}
	for _, d := range []catalog.Dataset{pub, restricted} {
		snap, err := s.BeginSnapshot(ctx, d, "")
		if err != nil {
			t.Fatal(err)
		}
		snap.Status, snap.Rows, snap.ContentHash = catalog.Succeeded, 10, "sha256:table"
		snap.Fingerprint = []byte(`{"content_hash":"sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","size":1234}`)
		if err := s.FinishSnapshot(ctx, snap); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := s.DCATEntries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

func get(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

func str(v any, path ...string) string { s, _ := get(v, path...).(string); return s }

// lang reads a language-tagged string, or a plain one.
func lang(v any, key string) string {
	if s := str(v, key); s != "" {
		return s
	}
	return str(v, key, "@value")
}

// TestDCATMandatory checks the document against DCAT-AP's mandatory
// properties: the catalog's title, description, publisher and datasets;
// each dataset's title and description; each distribution's access URL;
// and each agent's name. It checks the access rights are the EU URIs, and
// that what is not public is reached through the catalog's page, never an
// internal path.
func TestDCATMandatory(t *testing.T) {
	entries := dcatFixture(t)
	var buf bytes.Buffer
	if err := catalog.WriteDCAT(&buf, entries, catalog.DCATOptions{BaseURL: "https://datalab.example.gouv.fr/"}); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, buf.String())
	}
	ctx, _ := doc["@context"].(map[string]any)
	for _, prefix := range []string{"dcat", "dct", "foaf", "vcard", "spdx", "adms"} {
		if u, _ := ctx[prefix].(string); !strings.HasPrefix(u, "http") {
			t.Errorf("@context lacks %s", prefix)
		}
	}
	// Every compact IRI used is declared in the context.
	used := regexp.MustCompile(`"([a-z]+):[A-Za-z_]+`).FindAllStringSubmatch(buf.String(), -1)
	for _, m := range used {
		if _, ok := ctx[m[1]]; !ok && m[1] != "http" && m[1] != "https" && m[1] != "mailto" && m[1] != "sha256" {
			t.Errorf("prefix %s: is used but not in @context", m[1])
		}
	}

	if doc["@type"] != "dcat:Catalog" || lang(doc, "dct:title") == "" || lang(doc, "dct:description") == "" ||
		str(doc, "dct:publisher", "foaf:name") == "" || str(doc, "dct:publisher", "@type") != "foaf:Agent" {
		t.Errorf("the catalog lacks a mandatory property: %v", doc)
	}
	datasets, _ := doc["dcat:dataset"].([]any)
	if len(datasets) != 3 {
		t.Fatalf("dcat:dataset has %d datasets, want 3", len(datasets))
	}
	want := map[string]struct{ access, frequency, accessURL string }{
		"drees.ivg":         {"PUBLIC", "ANNUAL", "https://data.example.gouv.fr/ivg.csv"},
		"cnaf.allocataires": {"RESTRICTED", "MONTHLY", "https://datalab.example.gouv.fr/datasets/cnaf.allocataires"},
		"demandes.dossiers": {"NON_PUBLIC", "DAILY", "https://datalab.example.gouv.fr/datasets/demandes.dossiers"},
	}
	for _, v := range datasets {
		id := str(v, "dct:identifier")
		w, ok := want[id]
		if !ok {
			t.Errorf("unexpected dataset %q", id)
			continue
		}
		raw, _ := json.Marshal(v)
		if get(v, "@type") != "dcat:Dataset" || lang(v, "dct:title") == "" || lang(v, "dct:description") == "" {
			t.Errorf("%s lacks dct:title or dct:description: %s", id, raw)
		}
		if got := str(v, "dct:accessRights", "@id"); got != "http://publications.europa.eu/resource/authority/access-right/"+w.access {
			t.Errorf("%s: dct:accessRights %q", id, got)
		}
		if got := str(v, "dct:accrualPeriodicity", "@id"); got != "http://publications.europa.eu/resource/authority/frequency/"+w.frequency {
			t.Errorf("%s: dct:accrualPeriodicity %q", id, got)
		}
		if str(v, "dct:publisher", "foaf:name") != "P" {
			t.Errorf("%s: dct:publisher %v", id, get(v, "dct:publisher"))
		}
		dists, _ := get(v, "dcat:distribution").([]any)
		if len(dists) != 1 {
			t.Fatalf("%s: %d distributions", id, len(dists))
		}
		dist := dists[0]
		if got := str(dist, "dcat:accessURL", "@id"); got != w.accessURL {
			t.Errorf("%s: dcat:accessURL %q, want %q", id, got, w.accessURL)
		}
		if w.access != "PUBLIC" {
			if get(dist, "dcat:downloadURL") != nil || strings.Contains(string(raw), "/srv/") || strings.Contains(string(raw), "db.interne") {
				t.Errorf("%s is not public: its distribution must not point inside: %s", id, raw)
			}
		}
		switch id {
		case "drees.ivg":
			if str(v, "dcat:contactPoint", "vcard:hasEmail", "@id") != "mailto:contact@example.org" || str(v, "dcat:contactPoint", "@type") != "vcard:Kind" {
				t.Errorf("contact point: %v", get(v, "dcat:contactPoint"))
			}
			if str(v, "dct:license", "@id") != "http://spdx.org/licenses/etalab-2.0" {
				t.Errorf("licence: %v", get(v, "dct:license"))
			}
			if str(dist, "dct:format", "@id") != "http://publications.europa.eu/resource/authority/file-type/CSV" ||
				str(dist, "dcat:mediaType", "@id") != "https://www.iana.org/assignments/media-types/text/csv" {
				t.Errorf("format: %s", raw)
			}
			if str(dist, "spdx:checksum", "spdx:algorithm", "@id") != "spdx:checksumAlgorithm_sha256" ||
				str(dist, "spdx:checksum", "spdx:checksumValue", "@value") != "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08" {
				t.Errorf("checksum: %v", get(dist, "spdx:checksum"))
			}
		case "cnaf.allocataires":
			if str(v, "dct:license", "dct:title") != "Conditions de la convention CNAF" {
				t.Errorf("a licence by name: %v", get(v, "dct:license"))
			}
		case "demandes.dossiers":
			if get(dist, "spdx:checksum") != nil || get(dist, "dct:format") != nil || get(v, "dcat:contactPoint") != nil {
				t.Errorf("a dataset never loaded, from a database, without contact: %s", raw)
			}
			if !strings.Contains(lang(v, "dct:description"), "non_public") {
				t.Errorf("the description made for a dataset without one: %q", lang(v, "dct:description"))
			}
		}
	}
}

func TestFrequencyURI(t *testing.T) {
	for _, f := range catalog.Frequencies {
		if u := catalog.FrequencyURI(f); !strings.HasPrefix(u, catalog.FrequencyAuthority) || len(u) == len(catalog.FrequencyAuthority) {
			t.Errorf("frequency %s has no EU URI: %q", f, u)
		}
	}
	if catalog.FrequencyURI("sometimes") != "" {
		t.Error("an unknown frequency got a URI")
	}
}
