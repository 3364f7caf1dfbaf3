package datagouv_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

const (
	slug      = "interruptions-volontaires-de-grossesses-ivg"
	datasetID = "6334756b8a2d4a3f2b9e0c11"
	feuil4ID  = "a1b4c3d2-7e6f-4a58-9b3c-2d1e0f9a8b7c"
	feuil4SHA = "7a893b1b160b35fc8bdbba8fbdf58c85fff7fb4c"
)

var realdata = filepath.Join("..", "..", "testdata", "realdata")

// portal replays the recorded udata answers and serves the resources'
// files, counting the requests by path.
type portal struct {
	*httptest.Server
	mu      sync.Mutex
	dataset string          // the API's answer, {{server}} replaced
	files   map[string]file // by path
	hits    map[string]int
	failAPI int // the next API requests answered 503
}

type file struct {
	content     []byte
	contentType string
	etag        string
}

func newPortal(t testing.TB) *portal {
	t.Helper()
	p := &portal{files: map[string]file{}, hits: map[string]int{}}
	p.Server = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.Close)
	raw, err := os.ReadFile(filepath.Join("testdata", "dataset-ivg.json"))
	if err != nil {
		t.Fatal(err)
	}
	p.dataset = strings.ReplaceAll(string(raw), "{{server}}", p.URL)
	read := func(path string) []byte {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	p.files["/resources/"+slug+"/20240926-141021/donnees-feuil4.csv"] = file{read(filepath.Join(realdata, "drees-donnees_feuil4.csv")), "text/csv", ""}
	p.files["/resources/"+slug+"/20240926-141102/donnees-feuil7.csv"] = file{read(filepath.Join(realdata, "drees-donnees_feuil7.csv")), "text/csv", ""}
	p.files["/exports/ivg-mineures-regions.json"] = file{read(filepath.Join("testdata", "ivg-mineures-regions.json")), "application/json", ""}
	p.files["/exports/indicateurs-ivg.parquet"] = file{indicators(t), "application/vnd.apache.parquet", `"pq-1"`}
	return p
}

func (p *portal) serve(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hits[r.URL.Path]++
	switch {
	case r.URL.Path == "/api/1/datasets/"+slug+"/" || r.URL.Path == "/api/1/datasets/"+datasetID+"/":
		if p.failAPI > 0 {
			p.failAPI--
			http.Error(w, "Service Unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(p.dataset))
	case strings.HasPrefix(r.URL.Path, "/api/1/"):
		notFound, _ := os.ReadFile(filepath.Join("testdata", "not-found.json"))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		w.Write(notFound)
	default:
		f, ok := p.files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if f.etag != "" {
			w.Header().Set("ETag", f.etag)
			if r.Header.Get("If-None-Match") == f.etag {
				w.WriteHeader(http.StatusNotModified)
				return
			}
		}
		w.Header().Set("Content-Type", f.contentType)
		w.Write(f.content)
	}
}

// count returns the requests of a path, or of the paths ending so.
func (p *portal) count(suffix string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for path, c := range p.hits {
		if strings.HasSuffix(path, suffix) {
			n += c
		}
	}
	return n
}

// edit changes the API's answer, as a new upload of a resource would.
func (p *portal) edit(old, new string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dataset = strings.Replace(p.dataset, old, new, 1)
}

func (p *portal) api() string { return p.URL + "/api/1" }

// indicators is a small Parquet file of indicators per zone.
func indicators(t testing.TB) []byte {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "Zone", Type: arrow.BinaryTypes.String},
		{Name: "Nombre d'IVG", Type: arrow.PrimitiveTypes.Int64},
	}, nil)
	b := array.NewRecordBuilder(memory.NewGoAllocator(), schema)
	defer b.Release()
	zones := []string{"Ain", "Aisne", "Allier", "Alpes-de-Haute-Provence", "Hautes-Alpes", "Alpes-Maritimes"}
	for i, z := range zones {
		b.Field(0).(*array.StringBuilder).Append(z)
		b.Field(1).(*array.Int64Builder).Append(int64(1000 + 37*i))
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	var buf bytes.Buffer
	w, err := pqarrow.NewFileWriter(schema, &buf, nil, pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
