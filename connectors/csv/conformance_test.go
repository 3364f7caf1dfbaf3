package csv_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/datalab/datalab/connectors"
	"github.com/datalab/datalab/connectors/connectortest"
	"github.com/datalab/datalab/connectors/csv"
)

// mixedCSV returns a file of n rows of mixed types, quotes included.
func mixedCSV(n int) string {
	var b strings.Builder
	b.WriteString("id;code;label;amount;day;ok\n")
	for i := range n {
		fmt.Fprintf(&b, "%d;%05d;\"label %d; \"\"quoted\"\"\";%d,%02d;2024-%02d-%02d;%t\n",
			i, i%100000, i, i*3, i%100, 1+i%12, 1+i%28, i%2 == 0)
	}
	return b.String()
}

func TestConformance(t *testing.T) {
	title := func(s string) arrow.Metadata { return arrow.NewMetadata([]string{connectors.TitleKey}, []string{s}) }
	mixedSchema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true, Metadata: title("id")},
		{Name: "code", Type: arrow.BinaryTypes.String, Nullable: true, Metadata: title("code")},
		{Name: "label", Type: arrow.BinaryTypes.String, Nullable: true, Metadata: title("label")},
		{Name: "amount", Type: arrow.PrimitiveTypes.Float64, Nullable: true, Metadata: title("amount")},
		{Name: "day", Type: arrow.FixedWidthTypes.Date32, Nullable: true, Metadata: title("day")},
		{Name: "ok", Type: arrow.FixedWidthTypes.Boolean, Nullable: true, Metadata: title("ok")},
	}, nil)
	mixed := writeFile(t, "mixed.csv", mixedCSV(1000))
	broken := writeFile(t, "broken.csv", mixedCSV(1000)+"x;1;a;1;2024-01-01;true\n")
	fromFile := func(path, options string) func(t testing.TB) connectors.Source {
		return func(t testing.TB) connectors.Source {
			src, err := csv.New(connectors.Spec{Kind: "csv", Options: []byte("url: " + path + "\n" + options)})
			if err != nil {
				t.Fatal(err)
			}
			return src
		}
	}
	srv := newHTTPServer(t, []byte(mixedCSV(1000)))
	connectortest.Run(t, []connectortest.Case{
		{
			Name:      "mixed",
			Source:    fromFile(mixed, "sample_rows: 100"),
			Rows:      1000,
			Schema:    mixedSchema,
			BatchRows: 64,
			Unchanged: true,
			Broken:    fromFile(broken, "sample_rows: 100"),
		},
		{
			Name:      "communes",
			Source:    fromFile(filepath.Join(realdata, "cog-donnees_communes.csv"), ""),
			Rows:      34900,
			BatchRows: 5000,
			Unchanged: true,
		},
		{
			Name:      "latin1",
			Source:    fromFile(filepath.Join(realdata, "drees-donnees_feuil4.csv"), ""),
			Rows:      1053,
			BatchRows: 100,
			Unchanged: true,
			Broken: func(t testing.TB) connectors.Source {
				// A declared type that the values break.
				src, err := csv.New(connectors.Spec{
					Kind:    "csv",
					Options: []byte("url: drees-donnees_feuil4.csv"),
					Dir:     realdata,
					Fields:  []connectors.Field{{Name: "part_age_inf18", Type: connectors.TypeInteger}},
				})
				if err != nil {
					t.Fatal(err)
				}
				return src
			},
		},
		{
			Name:      "http",
			Source:    fromFile(srv.URL+"/mixed.csv", "sample_rows: 100"),
			Rows:      1000,
			Schema:    mixedSchema,
			BatchRows: 100,
			Unchanged: true,
		},
	})
}

// httpServer serves one file with an ETag and a Last-Modified date, and
// answers conditional requests with 304 Not Modified.
type httpServer struct {
	*httptest.Server
	full, notModified atomic.Int64
}

func newHTTPServer(t *testing.T, content []byte) *httpServer {
	const etag = `"v1"`
	modified := time.Date(2024, 9, 1, 12, 0, 0, 0, time.UTC).Format(http.TimeFormat)
	s := &httpServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing.csv" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("ETag", etag)
		w.Header().Set("Last-Modified", modified)
		if r.Header.Get("If-None-Match") == etag || (r.Header.Get("If-None-Match") == "" && r.Header.Get("If-Modified-Since") == modified) {
			s.notModified.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		s.full.Add(1)
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Write(content)
	}))
	t.Cleanup(s.Close)
	return s
}

// TestHTTP reads a CSV over HTTP, then reopens it with the fingerprint of
// that read: the server answers 304 and Open returns ErrUnchanged.
func TestHTTP(t *testing.T) {
	srv := newHTTPServer(t, []byte("zone;part\nAin;2,5\nAisne;4,5\n"))
	src, err := csv.New(connectors.Spec{Kind: "csv", Options: []byte("url: " + srv.URL + "/ivg.csv")})
	if err != nil {
		t.Fatal(err)
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	st, err := src.Open(context.Background(), connectors.OpenOptions{Allocator: mem})
	if err != nil {
		t.Fatal(err)
	}
	var rows int64
	for st.Next() {
		rows += st.RecordBatch().NumRows()
		if got := st.RecordBatch().Column(1).ValueStr(0); got != "2.5" {
			t.Errorf("part = %s, want 2.5", got)
		}
	}
	if err := st.Err(); err != nil {
		t.Fatal(err)
	}
	fp := st.Fingerprint()
	st.Release()
	if rows != 2 {
		t.Errorf("%d rows, want 2", rows)
	}
	if fp.ETag != `"v1"` || fp.LastModified == "" || !strings.HasPrefix(fp.ContentHash, "sha256:") || fp.Location != srv.URL+"/ivg.csv" {
		t.Errorf("fingerprint %+v", fp)
	}
	_, err = src.Open(context.Background(), connectors.OpenOptions{Allocator: mem, Previous: fp})
	if !errors.Is(err, connectors.ErrUnchanged) {
		t.Errorf("reopen with the previous fingerprint: %v, want ErrUnchanged", err)
	}
	// Last-Modified alone is honoured too.
	_, err = src.Open(context.Background(), connectors.OpenOptions{Allocator: mem, Previous: connectors.Fingerprint{Location: fp.Location, LastModified: fp.LastModified}})
	if !errors.Is(err, connectors.ErrUnchanged) {
		t.Errorf("reopen with Last-Modified: %v, want ErrUnchanged", err)
	}
	if srv.full.Load() != 1 || srv.notModified.Load() != 2 {
		t.Errorf("server sent %d full answers and %d 304s, want 1 and 2", srv.full.Load(), srv.notModified.Load())
	}
	// A server error is an error of Open that names the URL.
	missing, err := csv.New(connectors.Spec{Kind: "csv", Options: []byte("url: " + srv.URL + "/missing.csv")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := missing.Open(context.Background(), connectors.OpenOptions{Allocator: mem}); err == nil || !strings.Contains(err.Error(), "/missing.csv") {
		t.Errorf("404: err = %v, want an error naming the URL", err)
	}
}

// writeLarge writes a generated CSV file of n rows and returns its path.
func writeLarge(t testing.TB, dir string, n int) string {
	t.Helper()
	path := filepath.Join(dir, fmt.Sprintf("large-%d.csv", n))
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString("id;code;commune;population;part;date_maj;statut\n")
	for i := range n {
		fmt.Fprintf(w, "%d;%05d;Commune n°%d de l'Ain;%d;%d,%d;2024-%02d-%02d;%s\n",
			i, i%100000, i, i%50000, i%100, i%10, 1+i%12, 1+i%28, [...]string{"actif", "NA", "fermé \"provisoirement\""}[i%3])
	}
	if err := errors.Join(w.Flush(), f.Close()); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestStreamingMemory reads a file and one ten times larger: the peak of
// Arrow memory must not follow the size of the file. The reader takes its
// time over each batch, as DuckDB does, so that the connector's producer
// always has the next batch built: the peak is then the same two batches
// for both files, whatever the machine's load.
func TestStreamingMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and reads 150 MB")
	}
	dir := t.TempDir()
	peak := func(n int) int64 {
		path := writeLarge(t, dir, n)
		src, err := csv.New(connectors.Spec{Kind: "csv", Options: []byte("url: " + path)})
		if err != nil {
			t.Fatal(err)
		}
		checked := memory.NewCheckedAllocator(memory.NewGoAllocator())
		alloc := connectortest.NewPeakAllocator(checked)
		st, err := src.Open(context.Background(), connectors.OpenOptions{Allocator: alloc})
		if err != nil {
			t.Fatal(err)
		}
		var rows int64
		for st.Next() {
			rows += st.RecordBatch().NumRows()
			time.Sleep(60 * time.Millisecond)
		}
		if err := st.Err(); err != nil {
			t.Fatal(err)
		}
		st.Release()
		checked.AssertSize(t, 0)
		if rows != int64(n) {
			t.Fatalf("%d rows, want %d", rows, n)
		}
		os.Remove(path)
		return alloc.Peak()
	}
	small, large := peak(200_000), peak(2_000_000)
	t.Logf("peak Arrow memory: %d bytes for 200k rows, %d for 2M rows", small, large)
	if small == 0 || float64(large) >= 1.5*float64(small) {
		t.Errorf("peak memory %d for 2M rows, %d for 200k rows: it grows with the file", large, small)
	}
}

// TestReleaseDuringDownload releases a stream whose producer waits on a
// server that stopped sending: Release must abort the download and free
// everything at once, not wait for the server.
func TestReleaseDuringDownload(t *testing.T) {
	stall := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("n;label\n"))
		for i := range 50 {
			fmt.Fprintf(w, "%d;x\n", i)
		}
		w.(http.Flusher).Flush()
		select { // the rest never comes
		case <-stall:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(stall)
	src, err := csv.New(connectors.Spec{Kind: "csv", Options: []byte("url: " + srv.URL + "/slow.csv\nsample_rows: 10")})
	if err != nil {
		t.Fatal(err)
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := src.Open(ctx, connectors.OpenOptions{Allocator: mem, BatchRows: 5})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if !st.Next() {
			t.Fatalf("no batch: %v", st.Err())
		}
	}
	start := time.Now()
	st.Release()
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Release took %s while the server stalled", d)
	}
	mem.AssertSize(t, 0)
}
