package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DCATContext is the JSON-LD @context of the DCAT-AP documents DCAT builds:
// the prefixes of the vocabularies they use.
var DCATContext = map[string]string{
	"dcat":  "http://www.w3.org/ns/dcat#",
	"dct":   "http://purl.org/dc/terms/",
	"foaf":  "http://xmlns.com/foaf/0.1/",
	"vcard": "http://www.w3.org/2006/vcard/ns#",
	"spdx":  "http://spdx.org/rdf/terms#",
	"adms":  "http://www.w3.org/ns/adms#",
	"xsd":   "http://www.w3.org/2001/XMLSchema#",
}

// The EU authority tables DCAT-AP wants values from.
const (
	FrequencyAuthority = "http://publications.europa.eu/resource/authority/frequency/"
	FileTypeAuthority  = "http://publications.europa.eu/resource/authority/file-type/"
	mediaTypes         = "https://www.iana.org/assignments/media-types/"
	spdxLicenses       = "http://spdx.org/licenses/"
)

// euFrequencies maps Frequencies to the EU frequency vocabulary.
var euFrequencies = map[string]string{
	"continuous": "CONT", "hourly": "HOURLY", "daily": "DAILY", "weekly": "WEEKLY",
	"biweekly": "BIWEEKLY", "monthly": "MONTHLY", "bimonthly": "BIMONTHLY",
	"quarterly": "QUARTERLY", "semiannual": "ANNUAL_2", "yearly": "ANNUAL",
	"irregular": "IRREG", "unknown": "UNKNOWN",
}

// FrequencyURI returns the EU frequency URI of one of Frequencies
// (yearly -> .../frequency/ANNUAL), or "" when f is not one of them.
func FrequencyURI(f string) string {
	if code, ok := euFrequencies[f]; ok {
		return FrequencyAuthority + code
	}
	return ""
}

// fileTypes are the EU file type and IANA media type of the source kinds
// that read a file; database sources have none.
var fileTypes = map[string][2]string{
	"csv":     {"CSV", "text/csv"},
	"json":    {"JSON", "application/json"},
	"parquet": {"PARQUET", "application/vnd.apache.parquet"},
}

// spdxIDs are the licences a registration may name, by their SPDX id or a
// common alias, lower case.
var spdxIDs = map[string]string{
	"etalab-2.0": "etalab-2.0", "lo-2.0": "etalab-2.0", "lov2": "etalab-2.0", "licence-ouverte-2.0": "etalab-2.0",
	"odbl-1.0": "ODbL-1.0", "odbl": "ODbL-1.0", "odc-by-1.0": "ODC-By-1.0", "pddl-1.0": "PDDL-1.0",
	"cc-by-4.0": "CC-BY-4.0", "cc-by-sa-4.0": "CC-BY-SA-4.0", "cc0-1.0": "CC0-1.0", "cc0": "CC0-1.0",
}

// DCATOptions describe the catalog itself and where its pages are.
type DCATOptions struct {
	// BaseURL is where `datalab serve` answers (https://datalab.example.gouv.fr):
	// the IRIs of the catalog and its datasets, their landing pages, and the
	// access URL of what is not public. Default http://127.0.0.1:8080.
	BaseURL string
	// Title, Description and Publisher describe the catalog (defaults:
	// "Catalogue datalab", a sentence, "datalab").
	Title, Description, Publisher string
}

// DefaultBaseURL is the address `datalab serve` listens on by default.
const DefaultBaseURL = "http://127.0.0.1:8080"

func (o DCATOptions) withDefaults() DCATOptions {
	if o.BaseURL == "" {
		o.BaseURL = DefaultBaseURL
	}
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	if o.Title == "" {
		o.Title = "Catalogue datalab"
	}
	if o.Description == "" {
		o.Description = "Les jeux de données enregistrés dans datalab : métadonnées, niveau d’accès, fréquence de mise à jour et distributions."
	}
	if o.Publisher == "" {
		o.Publisher = "datalab"
	}
	return o
}

// DCATEntry is a dataset and its current snapshot (the zero Snapshot when
// it was never loaded), as DCAT describes them.
type DCATEntry struct {
	Dataset Dataset
	Current Snapshot
}

// DCATEntries returns every registered dataset with its current snapshot.
func (s *Store) DCATEntries(ctx context.Context) ([]DCATEntry, error) {
	ds, err := s.Datasets(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]DCATEntry, len(ds))
	for i, d := range ds {
		out[i].Dataset = d
		cur, err := s.Current(ctx, d.ID)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
		out[i].Current = cur
	}
	return out, nil
}

// DCAT builds the DCAT-AP JSON-LD document of a catalog of entries: a
// dcat:Catalog whose dcat:dataset lists one dcat:Dataset per entry, with
// its identifier, title, description, publisher, contact point, access
// rights (Level.URI), periodicity (FrequencyURI), licence and one
// dcat:Distribution.
//
// A distribution's dcat:accessURL is the source's own address only when
// the dataset is public and its source an http(s) URL, which anyone may
// then open (it is also its dcat:downloadURL). Otherwise it is the
// dataset's page in the catalog (<BaseURL>/datasets/<id>), which says who
// to ask for access: the path of a file on the lab's server or the address
// of a ministry's database means nothing outside and tells too much. Its
// spdx:checksum is the SHA-256 of the bytes the current snapshot read, its
// dct:format the EU file type of the source kind (CSV, JSON, PARQUET).
//
// A dataset registered without a description gets one made of its title,
// publisher and level, since DCAT-AP requires dct:description. No row of
// any dataset is part of the document.
func DCAT(entries []DCATEntry, opts DCATOptions) map[string]any {
	opts = opts.withDefaults()
	datasets := make([]any, 0, len(entries))
	for _, e := range entries {
		datasets = append(datasets, dcatDataset(e, opts))
	}
	return map[string]any{
		"@context":        DCATContext,
		"@id":             opts.BaseURL + "/api/catalog.jsonld",
		"@type":           "dcat:Catalog",
		"dct:title":       langString(opts.Title),
		"dct:description": langString(opts.Description),
		"dct:publisher":   agent(opts.Publisher),
		"foaf:homepage":   iri(opts.BaseURL + "/"),
		"dct:language":    iri("http://publications.europa.eu/resource/authority/language/FRA"),
		"dcat:dataset":    datasets,
	}
}

// WriteDCAT writes DCAT(entries, opts) as indented JSON-LD.
func WriteDCAT(w io.Writer, entries []DCATEntry, opts DCATOptions) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(DCAT(entries, opts))
}

// DatasetPage returns the address of a dataset's page under baseURL.
func DatasetPage(baseURL, id string) string {
	return strings.TrimRight(baseURL, "/") + "/datasets/" + url.PathEscape(id)
}

func dcatDataset(e DCATEntry, opts DCATOptions) map[string]any {
	d := e.Dataset
	page := DatasetPage(opts.BaseURL, d.ID)
	desc := strings.TrimSpace(d.Description)
	if desc == "" {
		desc = fmt.Sprintf("%s. Jeu de données publié par %s, niveau d’accès %s.", strings.TrimRight(d.Title, ". "), d.Publisher, d.Access)
	}
	ds := map[string]any{
		"@id":               page,
		"@type":             "dcat:Dataset",
		"dct:identifier":    d.ID,
		"dct:title":         langString(d.Title),
		"dct:description":   langString(desc),
		"dct:publisher":     agent(d.Publisher),
		"dct:accessRights":  iri(d.Access.URI()),
		"dcat:landingPage":  iri(page),
		"dcat:distribution": []any{dcatDistribution(e, page)},
	}
	if d.Contact != "" {
		ds["dcat:contactPoint"] = map[string]any{
			"@type":          "vcard:Kind",
			"vcard:fn":       d.Publisher,
			"vcard:hasEmail": iri("mailto:" + d.Contact),
		}
	}
	if f := FrequencyURI(d.Frequency); f != "" {
		ds["dct:accrualPeriodicity"] = iri(f)
	}
	if l := licence(d.License); l != nil {
		ds["dct:license"] = l
	}
	if !d.RegisteredAt.IsZero() {
		ds["dct:issued"] = dateTime(d.RegisteredAt)
	}
	if modified := lastChange(e); !modified.IsZero() {
		ds["dct:modified"] = dateTime(modified)
	}
	return ds
}

func dcatDistribution(e DCATEntry, page string) map[string]any {
	d, cur := e.Dataset, e.Current
	dist := map[string]any{
		"@id":            page + "#distribution",
		"@type":          "dcat:Distribution",
		"dct:title":      langString(d.Title),
		"dcat:accessURL": iri(page),
	}
	if src := PublicURL(d); src != "" {
		dist["dcat:accessURL"] = iri(src)
		dist["dcat:downloadURL"] = iri(src)
	}
	if ft, ok := fileTypes[d.Source.Kind]; ok {
		dist["dct:format"] = iri(FileTypeAuthority + ft[0])
		dist["dcat:mediaType"] = iri(mediaTypes + ft[1])
	}
	if l := licence(d.License); l != nil {
		dist["dct:license"] = l
	}
	dist["dct:accessRights"] = iri(d.Access.URI())
	if cur.ID != 0 {
		var fp struct {
			ContentHash string `json:"content_hash"`
			Size        int64  `json:"size"`
		}
		if len(cur.Fingerprint) > 0 && json.Unmarshal(cur.Fingerprint, &fp) == nil {
			if hex, ok := strings.CutPrefix(fp.ContentHash, "sha256:"); ok && hex != "" {
				dist["spdx:checksum"] = map[string]any{
					"@type":              "spdx:Checksum",
					"spdx:algorithm":     iri("spdx:checksumAlgorithm_sha256"),
					"spdx:checksumValue": map[string]any{"@value": hex, "@type": "xsd:hexBinary"},
				}
			}
			if fp.Size > 0 {
				dist["dcat:byteSize"] = map[string]any{"@value": strconv.FormatInt(fp.Size, 10), "@type": "xsd:nonNegativeInteger"}
			}
		}
		if !cur.FinishedAt.IsZero() {
			dist["dct:modified"] = dateTime(cur.FinishedAt)
		}
	}
	return dist
}

// PublicURL returns the http(s) address of a public dataset's source,
// where anyone may fetch it; "" when the dataset is not public or its
// source is not on the web (a file of the lab's server, a database).
func PublicURL(d Dataset) string {
	if d.Access != Public {
		return ""
	}
	var opts struct {
		URL string `json:"url"`
	}
	if json.Unmarshal(d.Source.Options, &opts) != nil {
		return ""
	}
	u, err := url.Parse(opts.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return ""
	}
	return u.String()
}

// lastChange is when the dataset's data last changed: its current
// snapshot's end, else its registration's last update.
func lastChange(e DCATEntry) time.Time {
	if !e.Current.FinishedAt.IsZero() {
		return e.Current.FinishedAt
	}
	return e.Dataset.UpdatedAt
}

// licence is a registration's licence as a dct:LicenseDocument: its SPDX
// IRI when known, else its name; nil for none.
func licence(name string) any {
	n := strings.TrimSpace(name)
	switch strings.ToLower(n) {
	case "", "none", "aucune":
		return nil
	}
	if id, ok := spdxIDs[strings.ToLower(n)]; ok {
		return map[string]any{"@id": spdxLicenses + id, "@type": "dct:LicenseDocument"}
	}
	if u, err := url.Parse(n); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		return map[string]any{"@id": n, "@type": "dct:LicenseDocument"}
	}
	return map[string]any{"@type": "dct:LicenseDocument", "dct:title": n}
}

func iri(s string) map[string]any { return map[string]any{"@id": s} }

func langString(s string) map[string]any { return map[string]any{"@value": s, "@language": "fr"} }

func agent(name string) map[string]any {
	return map[string]any{"@type": "foaf:Agent", "foaf:name": name}
}

func dateTime(t time.Time) map[string]any {
	return map[string]any{"@value": t.UTC().Format(time.RFC3339), "@type": "xsd:dateTime"}
}
