package connectors

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Location is where a file-shaped source lives: a local path or an HTTP URL.
type Location struct {
	// Path is the absolute local path, empty for a URL.
	Path string
	// URL is the http(s) URL, nil for a local file.
	URL *url.URL
}

// ParseLocation resolves a registration's url field: a path relative to dir,
// a file:// URL or an http(s):// URL. field names the option in errors.
// A local file must exist.
func ParseLocation(dir, raw, field string) (Location, error) {
	if strings.TrimSpace(raw) == "" {
		return Location{}, &SpecError{Field: field, Reason: "missing", Fix: "give a path relative to the workspace, a file:// URL or an http(s):// URL"}
	}
	u, err := url.Parse(raw)
	if err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		if u.Host == "" {
			return Location{}, &SpecError{Field: field, Reason: fmt.Sprintf("URL %q has no host", raw)}
		}
		return Location{URL: u}, nil
	}
	path := raw
	switch {
	case err == nil && u.Scheme == "file":
		path = u.Path
	case err == nil && u.Scheme != "" && len(u.Scheme) > 1:
		return Location{}, &SpecError{Field: field, Reason: fmt.Sprintf("scheme %q is not supported", u.Scheme), Fix: "use a relative path, file://, http:// or https://"}
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	info, statErr := os.Stat(path)
	if statErr != nil {
		return Location{}, &SpecError{Field: field, Reason: fmt.Sprintf("file %s not found", path), Fix: "check the path (relative paths start at the workspace folder)"}
	}
	if info.IsDir() {
		return Location{}, &SpecError{Field: field, Reason: fmt.Sprintf("%s is a folder", path), Fix: "name a file"}
	}
	return Location{Path: path}, nil
}

// String returns the location for messages and the catalog: the path, or
// the URL without its user information.
func (l Location) String() string {
	if l.URL == nil {
		return l.Path
	}
	u := *l.URL
	u.User = nil
	return u.String()
}

// Body is an opened location's content. It hashes what is read through it,
// so that the fingerprint's content hash is known at the end without reading
// twice.
type Body struct {
	r    io.ReadCloser
	h    hash.Hash
	fp   Fingerprint
	size int64
}

// Read reads from the content and hashes what it returns.
func (b *Body) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.h.Write(p[:n])
	b.size += int64(n)
	return n, err
}

// Close closes the file or the HTTP response.
func (b *Body) Close() error { return b.r.Close() }

// Fingerprint returns the validators of the content, with the hash of the
// bytes read so far: the content hash once everything was read.
func (b *Body) Fingerprint() Fingerprint {
	fp := b.fp
	fp.ContentHash = "sha256:" + hex.EncodeToString(b.h.Sum(nil))
	return fp
}

// HTTPClient is the client used for http(s) locations. Its timeout bounds a
// whole download; a response that does not start within a minute fails.
var HTTPClient = &http.Client{
	Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		ResponseHeaderTimeout: time.Minute,
		IdleConnTimeout:       90 * time.Second,
	},
}

// Open opens the location for reading. When prev is known and the location
// says its content has not changed (an HTTP 304 to a conditional request, or
// a local file of the same size and modification time), Open returns
// ErrUnchanged. The caller closes the Body.
func (l Location) Open(ctx context.Context, prev Fingerprint) (*Body, error) {
	if l.URL != nil {
		return l.openHTTP(ctx, prev)
	}
	f, err := os.Open(l.Path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", l.Path, err)
	}
	info, err := f.Stat()
	if err != nil {
		return nil, errors.Join(fmt.Errorf("stat %s: %w", l.Path, err), f.Close())
	}
	fp := Fingerprint{Location: l.String(), Size: info.Size(), ModTime: info.ModTime().UTC()}
	if !prev.IsZero() && fp.SameVersion(prev) {
		return nil, errors.Join(ErrUnchanged, f.Close())
	}
	return &Body{r: f, h: sha256.New(), fp: fp}, nil
}

func (l Location) openHTTP(ctx context.Context, prev Fingerprint) (*Body, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, l.URL.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("request %s: %w", l, err)
	}
	if prev.Location == l.String() {
		if prev.ETag != "" {
			req.Header.Set("If-None-Match", prev.ETag)
		}
		if prev.LastModified != "" {
			req.Header.Set("If-Modified-Since", prev.LastModified)
		}
	}
	resp, err := HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", l, err)
	}
	switch {
	case resp.StatusCode == http.StatusNotModified:
		resp.Body.Close()
		return nil, ErrUnchanged
	case resp.StatusCode != http.StatusOK:
		resp.Body.Close()
		return nil, fmt.Errorf("GET %s: server answered %s; check the URL or try later", l, resp.Status)
	}
	fp := Fingerprint{
		Location:     l.String(),
		ETag:         resp.Header.Get("ETag"),
		LastModified: resp.Header.Get("Last-Modified"),
	}
	return &Body{r: resp.Body, h: sha256.New(), fp: fp}, nil
}
