package connectors_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/datalab/datalab/connectors"
)

// fast are HTTP options whose retries wait milliseconds, not seconds.
var fast = &connectors.HTTPOptions{Retry: connectors.RetryPolicy{FirstDelay: time.Millisecond, MaxDelay: 4 * time.Millisecond}}

// server answers each request with the handler of its attempt (the last
// one for every further attempt) and counts the requests.
type server struct {
	*httptest.Server
	mu       sync.Mutex
	requests []*http.Request
	times    []time.Time
}

func newServer(t *testing.T, handlers ...http.HandlerFunc) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		n := len(s.requests)
		s.requests = append(s.requests, r.Clone(context.Background()))
		s.times = append(s.times, time.Now())
		s.mu.Unlock()
		handlers[min(n, len(handlers)-1)](w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

func (s *server) location(t *testing.T, path string, opts *connectors.HTTPOptions) connectors.Location {
	t.Helper()
	loc, err := connectors.ParseLocation("", s.URL+path, "source.url")
	if err != nil {
		t.Fatal(err)
	}
	loc.HTTP = opts
	return loc
}

func status(code int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { http.Error(w, http.StatusText(code), code) }
}

func content(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v1"`)
		io.WriteString(w, body)
	}
}

// readAll opens loc and reads it whole.
func readAll(t *testing.T, loc connectors.Location, prev connectors.Fingerprint) (string, connectors.Fingerprint, error) {
	t.Helper()
	b, err := loc.Open(context.Background(), prev)
	if err != nil {
		return "", connectors.Fingerprint{}, err
	}
	defer b.Close()
	data, err := io.ReadAll(b)
	return string(data), b.Fingerprint(), err
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(h[:])
}

func TestHTTPRetriesServerErrors(t *testing.T) {
	srv := newServer(t, status(503), status(502), content("a;b\n1;2\n"))
	got, fp, err := readAll(t, srv.location(t, "/x.csv", fast), connectors.Fingerprint{})
	if err != nil {
		t.Fatal(err)
	}
	if got != "a;b\n1;2\n" || srv.count() != 3 {
		t.Errorf("content %q after %d requests, want the file after 3", got, srv.count())
	}
	if fp.ETag != `"v1"` || fp.ContentHash != sha([]byte(got)) || fp.Location != srv.URL+"/x.csv" {
		t.Errorf("fingerprint %+v", fp)
	}
}

func TestHTTPGivesUpAfterAttempts(t *testing.T) {
	srv := newServer(t, status(503))
	_, err := srv.location(t, "/x.csv", fast).Open(context.Background(), connectors.Fingerprint{})
	want := fmt.Sprintf("GET %s/x.csv: server answered 503 Service Unavailable after 4 attempts; try later", srv.URL)
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
	var he *connectors.HTTPError
	if !errors.As(err, &he) || he.StatusCode != 503 || he.Attempts != 4 {
		t.Errorf("err = %#v, want an *HTTPError of 503 after 4 attempts", err)
	}
	if srv.count() != 4 {
		t.Errorf("%d requests, want 4", srv.count())
	}
}

func TestHTTPDoesNotRetryClientErrors(t *testing.T) {
	for _, code := range []int{404, 403, 400, 410, 501} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			srv := newServer(t, status(code), content("never"))
			_, err := srv.location(t, "/x.csv", fast).Open(context.Background(), connectors.Fingerprint{})
			if srv.count() != 1 {
				t.Errorf("%d requests, want exactly 1", srv.count())
			}
			var he *connectors.HTTPError
			if !errors.As(err, &he) || he.StatusCode != code || he.Attempts != 1 {
				t.Fatalf("err = %v, want an *HTTPError of %d after 1 attempt", err, code)
			}
			want := fmt.Sprintf("GET %s/x.csv: server answered %d %s; ", srv.URL, code, http.StatusText(code))
			if !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "attempts") {
				t.Errorf("err = %v, want it to start with %q", err, want)
			}
		})
	}
}

func TestHTTPHonoursRetryAfter(t *testing.T) {
	tooMany := func(after string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", after)
			status(http.StatusTooManyRequests)(w, r)
		}
	}
	srv := newServer(t, tooMany("1"), content("ok"))
	got, _, err := readAll(t, srv.location(t, "/x.csv", fast), connectors.Fingerprint{})
	if err != nil || got != "ok" || srv.count() != 2 {
		t.Fatalf("got %q, %v after %d requests", got, err, srv.count())
	}
	if gap := srv.times[1].Sub(srv.times[0]); gap < 900*time.Millisecond {
		t.Errorf("second request %v after the 429 with Retry-After: 1, want about 1s", gap)
	}

	// A server that asks for more than MaxRetryAfter is not waited for.
	long := newServer(t, tooMany("120"), content("ok"))
	start := time.Now()
	_, err = long.location(t, "/x.csv", fast).Open(context.Background(), connectors.Fingerprint{})
	if err == nil || !strings.Contains(err.Error(), "429 Too Many Requests") || !strings.Contains(err.Error(), "asks to wait 2m0s") {
		t.Errorf("err = %v, want a 429 saying to wait 2m0s", err)
	}
	if long.count() != 1 || time.Since(start) > 5*time.Second {
		t.Errorf("%d requests in %v, want 1 at once", long.count(), time.Since(start))
	}
}

func TestHTTPHeaderTimeoutIsRetried(t *testing.T) {
	slow := func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
	}
	opts := *fast
	opts.HeaderTimeout = 100 * time.Millisecond
	srv := newServer(t, slow, content("ok"))
	got, _, err := readAll(t, srv.location(t, "/x.csv", &opts), connectors.Fingerprint{})
	if err != nil || got != "ok" || srv.count() != 2 {
		t.Errorf("got %q, %v after %d requests, want ok after 2", got, err, srv.count())
	}

	never := newServer(t, slow)
	opts.Retry.Attempts = 2
	_, err = never.location(t, "/x.csv", &opts).Open(context.Background(), connectors.Fingerprint{})
	if err == nil || !strings.Contains(err.Error(), "no answer after 2 attempts") || !strings.Contains(err.Error(), "header timeout") ||
		!strings.Contains(err.Error(), never.URL) {
		t.Errorf("err = %v", err)
	}
}

func TestHTTPWholeRequestTimeout(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		io.WriteString(w, strings.Repeat("x", 500))
		w.(http.Flusher).Flush()
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	})
	opts := *fast
	opts.Timeout = 300 * time.Millisecond
	start := time.Now()
	_, _, err := readAll(t, srv.location(t, "/x.csv", &opts), connectors.Fingerprint{})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), srv.URL+"/x.csv") ||
		!strings.Contains(err.Error(), "whole-request timeout") || !strings.Contains(err.Error(), "after 500 bytes") {
		t.Errorf("err = %v, want a timeout after 500 bytes naming the URL", err)
	}
	if time.Since(start) > 3*time.Second {
		t.Errorf("the timeout took %v", time.Since(start))
	}
	if srv.count() != 1 {
		t.Errorf("%d requests: a download that started is not retried", srv.count())
	}
}

func TestHTTPConnectionDroppedMidBody(t *testing.T) {
	body := strings.Repeat("1;2;3\n", 10_000)
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		io.WriteString(w, body[:len(body)/2])
		w.(http.Flusher).Flush()
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.(*net.TCPConn).SetLinger(0)
			conn.Close()
		}
	})
	_, _, err := readAll(t, srv.location(t, "/x.csv", fast), connectors.Fingerprint{})
	if err == nil || !strings.Contains(err.Error(), "GET "+srv.URL+"/x.csv: the download broke off after") {
		t.Errorf("err = %v, want the download broke off, naming the URL", err)
	}
	if srv.count() != 1 {
		t.Errorf("%d requests, want 1: no retry once the content started", srv.count())
	}
}

func TestHTTPNetworkErrorIsRetried(t *testing.T) {
	hangUp := func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}
	srv := newServer(t, hangUp, hangUp, content("ok"))
	got, _, err := readAll(t, srv.location(t, "/x.csv", fast), connectors.Fingerprint{})
	if err != nil || got != "ok" || srv.count() != 3 {
		t.Errorf("got %q, %v after %d requests, want ok after 3", got, err, srv.count())
	}

	// Nobody listens: every attempt fails, the error says so and why.
	srv.Close()
	_, err = srv.location(t, "/x.csv", fast).Open(context.Background(), connectors.Fingerprint{})
	if err == nil || !strings.HasPrefix(err.Error(), "GET "+srv.URL+"/x.csv: no answer after 4 attempts: ") {
		t.Errorf("err = %v", err)
	}
}

func TestHTTPErrorsHideCredentials(t *testing.T) {
	srv := newServer(t, status(503))
	u, _ := url.Parse(srv.URL + "/x.csv")
	u.User = url.UserPassword("agent", "s3cret")
	loc := connectors.Location{URL: u, HTTP: fast}
	_, err := loc.Open(context.Background(), connectors.Fingerprint{})
	if err == nil || strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "agent") || !strings.Contains(err.Error(), srv.URL[len("http://"):]) {
		t.Errorf("err = %v", err)
	}
	srv.Close()
	_, err = loc.Open(context.Background(), connectors.Fingerprint{})
	if err == nil || strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "agent") {
		t.Errorf("network error = %v", err)
	}
}

func TestHTTPCancelStopsRetries(t *testing.T) {
	srv := newServer(t, status(503))
	ctx, cancel := context.WithCancel(context.Background())
	opts := *fast
	opts.Retry.FirstDelay, opts.Retry.MaxDelay = time.Minute, time.Minute
	loc := srv.location(t, "/x.csv", &opts)
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err := loc.Open(ctx, connectors.Fingerprint{})
	if !errors.Is(err, context.Canceled) || time.Since(start) > 5*time.Second {
		t.Errorf("err = %v after %v, want context.Canceled at once", err, time.Since(start))
	}
}

func gzipped(t testing.TB, s string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	io.WriteString(zw, s)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestHTTPGzip(t *testing.T) {
	const text = "zone;part\nAin;2,5\n"
	gz := gzipped(t, text)
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/x.csv.gz":
			// A compressed file, served as it is.
			w.Header().Set("Content-Type", "application/gzip")
			w.Write(gz)
		case strings.Contains(r.Header.Get("Accept-Encoding"), "gzip"):
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(gz)
		default:
			io.WriteString(w, text)
		}
	})
	got, fp, err := readAll(t, srv.location(t, "/x.csv", fast), connectors.Fingerprint{})
	if err != nil || got != text {
		t.Fatalf("Content-Encoding gzip: got %q, %v", got, err)
	}
	if ae := srv.requests[0].Header.Get("Accept-Encoding"); ae != "gzip" {
		t.Errorf("Accept-Encoding = %q, want gzip", ae)
	}
	if fp.ContentHash != sha([]byte(text)) {
		t.Errorf("Content-Encoding gzip: hash %s, want the hash of the decoded content", fp.ContentHash)
	}

	got, fp, err = readAll(t, srv.location(t, "/x.csv.gz", fast), connectors.Fingerprint{})
	if err != nil || got != text {
		t.Fatalf(".gz URL: got %q, %v", got, err)
	}
	if fp.ContentHash != sha(gz) {
		t.Errorf(".gz URL: hash %s, want the hash of the bytes received %s", fp.ContentHash, sha(gz))
	}

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x.csv.gz"), gz, 0o644); err != nil {
		t.Fatal(err)
	}
	loc, err := connectors.ParseLocation(dir, "x.csv.gz", "source.url")
	if err != nil {
		t.Fatal(err)
	}
	got, fp, err = readAll(t, loc, connectors.Fingerprint{})
	if err != nil || got != text || fp.ContentHash != sha(gz) {
		t.Errorf("local .gz: got %q, %v, hash %s", got, err, fp.ContentHash)
	}

	// A corrupt gzip file is an error that says so.
	bad := append(append([]byte{}, gz[:len(gz)-8]...), 0, 0, 0, 0, 0, 0, 0, 0)
	if err := os.WriteFile(filepath.Join(dir, "bad.csv.gz"), bad, 0o644); err != nil {
		t.Fatal(err)
	}
	loc, _ = connectors.ParseLocation(dir, "bad.csv.gz", "source.url")
	if _, _, err = readAll(t, loc, connectors.Fingerprint{}); err == nil || !strings.Contains(err.Error(), "gzip content is corrupt") || !strings.Contains(err.Error(), "bad.csv.gz") {
		t.Errorf("corrupt gzip: err = %v", err)
	}
}

func TestHTTPConditionalRequests(t *testing.T) {
	const etag, modified = `"abc"`, "Sun, 01 Sep 2024 12:00:00 GMT"
	var full atomic.Int64
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", etag)
		w.Header().Set("Last-Modified", modified)
		if r.Header.Get("If-None-Match") == etag || r.Header.Get("If-None-Match") == "" && r.Header.Get("If-Modified-Since") == modified {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		full.Add(1)
		io.WriteString(w, "a\n1\n")
	})
	loc := srv.location(t, "/x.csv", fast)
	_, fp, err := readAll(t, loc, connectors.Fingerprint{})
	if err != nil || fp.ETag != etag || fp.LastModified != modified {
		t.Fatalf("first read: %+v, %v", fp, err)
	}
	for _, prev := range []connectors.Fingerprint{
		fp,
		{Location: fp.Location, ETag: etag},
		{Location: fp.Location, LastModified: modified},
	} {
		if _, err := loc.Open(context.Background(), prev); !errors.Is(err, connectors.ErrUnchanged) {
			t.Errorf("reopen with %+v: %v, want ErrUnchanged", prev, err)
		}
	}
	last := srv.requests[len(srv.requests)-1]
	if last.Header.Get("If-Modified-Since") != modified {
		t.Errorf("If-Modified-Since = %q", last.Header.Get("If-Modified-Since"))
	}
	// Validators of another location are not sent.
	if _, _, err := readAll(t, loc, connectors.Fingerprint{Location: "elsewhere", ETag: etag}); err != nil {
		t.Error(err)
	}
	if full.Load() != 2 || srv.count() != 5 {
		t.Errorf("%d full answers of %d requests, want 2 of 5", full.Load(), srv.count())
	}
}

func TestOpenFile(t *testing.T) {
	const text = "PAR1 pretend\n"
	tmp := t.TempDir()
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(gzipped(t, text))
	})
	opts := *fast
	opts.TempDir = tmp
	f, err := srv.location(t, "/x.parquet", &opts).OpenFile(context.Background(), connectors.Fingerprint{})
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := f.ReadAt(buf, 0); err != nil || string(buf) != "PAR1" || f.Size() != int64(len(text)) {
		t.Errorf("ReadAt: %q, %v; size %d", buf, err, f.Size())
	}
	if f.Fingerprint().ContentHash != sha([]byte(text)) {
		t.Errorf("hash %s", f.Fingerprint().ContentHash)
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 1 {
		t.Errorf("%d files in the temporary folder during the read, want 1", len(entries))
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Errorf("the download was not removed: %v", entries)
	}

	// A local file is read in place, and hashed.
	path := filepath.Join(t.TempDir(), "x.parquet")
	os.WriteFile(path, []byte(text), 0o644)
	loc, _ := connectors.ParseLocation("", path, "source.url")
	loc.HTTP = &opts
	f, err = loc.OpenFile(context.Background(), connectors.Fingerprint{})
	if err != nil {
		t.Fatal(err)
	}
	fp := f.Fingerprint()
	if fp.ContentHash != sha([]byte(text)) || fp.Size != int64(len(text)) || fp.ModTime.IsZero() {
		t.Errorf("local fingerprint %+v", fp)
	}
	f.Close()
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the local file is gone: %v", err)
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Errorf("a local file was copied: %v", entries)
	}
	if _, err := loc.OpenFile(context.Background(), fp); !errors.Is(err, connectors.ErrUnchanged) {
		t.Errorf("reopen: %v, want ErrUnchanged", err)
	}

	// A cancelled download leaves nothing behind.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := srv.location(t, "/x.parquet", &opts).OpenFile(ctx, connectors.Fingerprint{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Errorf("a cancelled download was left: %v", entries)
	}
}

func TestHTTPOptionsValidate(t *testing.T) {
	srv := newServer(t, content("ok"))
	for _, o := range []connectors.HTTPOptions{
		{Timeout: -1},
		{Retry: connectors.RetryPolicy{Attempts: -1}},
		{Retry: connectors.RetryPolicy{FirstDelay: time.Second, MaxDelay: time.Millisecond}},
	} {
		if _, err := srv.location(t, "/x", &o).Open(context.Background(), connectors.Fingerprint{}); err == nil || !strings.Contains(err.Error(), "HTTPOptions.") {
			t.Errorf("%+v: err = %v, want the bad field named", o, err)
		}
	}
	if srv.count() != 0 {
		t.Errorf("bad options sent %d requests", srv.count())
	}
}
