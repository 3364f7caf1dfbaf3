package connectors

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// Location is where a file-shaped source lives: a local path or an HTTP URL.
//
// Open reads it as a stream of bytes, OpenFile as a local file that can be
// read at random. Content compressed with gzip (a .gz file, or any file
// that starts with gzip's magic number) is decompressed on the way; so is
// an HTTP answer with Content-Encoding: gzip.
type Location struct {
	// Path is the absolute local path, empty for a URL.
	Path string
	// URL is the http(s) URL, nil for a local file.
	URL *url.URL
	// HTTP tunes how a URL is fetched (retries, timeouts); nil means
	// DefaultHTTPOptions.
	HTTP *HTTPOptions
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

// Body is an opened location's content, decompressed. It hashes what is
// read through it, so that the fingerprint's content hash is known at the
// end without reading twice.
//
// The content hash is that of the bytes as the location publishes them: a
// .gz file is hashed compressed, as it was received; an HTTP answer's
// Content-Encoding, which the server may or may not apply from one request
// to the next, is removed first, so that it does not change the hash.
type Body struct {
	r       io.Reader // the content, decompressed
	hr      *hashReader
	close   func() error
	fp      Fingerprint
	remote  bool
	gzipped bool
	file    *os.File        // the local file, when Open read one
	ctx     context.Context // the fetch's, for a URL
}

// hashReader hashes and counts what is read through it.
type hashReader struct {
	r io.Reader
	h hash.Hash
	n int64
}

func (h *hashReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.h.Write(p[:n])
	h.n += int64(n)
	return n, err
}

// gzipMagic starts every gzip stream (RFC 1952).
var gzipMagic = []byte{0x1f, 0x8b}

// newBody stacks the readers of a location's content: the transfer
// decoding (Content-Encoding), the hash, then the decompression of gzip
// content. done runs when the Body is closed.
func newBody(ctx context.Context, raw io.ReadCloser, loc, contentEncoding string, done func()) (*Body, error) {
	b := &Body{fp: Fingerprint{Location: loc}, remote: ctx != nil, ctx: ctx}
	closers := []io.Closer{raw}
	b.close = func() error {
		var errs []error
		for i := len(closers) - 1; i >= 0; i-- {
			errs = append(errs, closers[i].Close())
		}
		if done != nil {
			done()
		}
		return errors.Join(errs...)
	}
	var content io.Reader = raw
	switch strings.ToLower(strings.TrimSpace(contentEncoding)) {
	case "", "identity":
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(raw)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("GET %s: the answer says Content-Encoding: gzip but is not gzip: %w; try later", loc, err), b.close())
		}
		closers = append(closers, zr)
		content = zr
	default:
		return nil, errors.Join(fmt.Errorf("GET %s: the server answered with Content-Encoding %q, which datalab does not read; ask the publisher for plain or gzip content", loc, contentEncoding), b.close())
	}
	b.hr = &hashReader{r: content, h: sha256.New()}
	br := bufio.NewReaderSize(b.hr, 64<<10)
	b.r = br
	magic, err := br.Peek(len(gzipMagic))
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, errors.Join(b.readError(err), b.close())
	}
	if bytes.Equal(magic, gzipMagic) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, errors.Join(b.readError(err), b.close())
		}
		zr.Multistream(true)
		closers = append(closers, zr)
		b.r = zr
		b.gzipped = true
	}
	return b, nil
}

// Read reads the content, decompressed; an error names the location.
func (b *Body) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		err = b.readError(err)
	}
	return n, err
}

// readError names the location in an error met while reading its content.
func (b *Body) readError(err error) error {
	loc := b.fp.Location
	switch {
	case b.ctx != nil && b.ctx.Err() != nil:
		return ctxError(b.ctx, fmt.Sprintf("GET %s: stopped after %d bytes", loc, b.hr.n))
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("read %s: stopped after %d bytes: %w", loc, b.hr.n, err)
	case errors.Is(err, gzip.ErrHeader), errors.Is(err, gzip.ErrChecksum), isFlateError(err):
		return fmt.Errorf("read %s: the gzip content is corrupt after %d bytes: %w; check the file", loc, b.hr.n, err)
	case b.remote:
		return fmt.Errorf("GET %s: the download broke off after %d bytes: %w; try later", loc, b.hr.n, err)
	}
	return fmt.Errorf("read %s: %w", loc, err)
}

func isFlateError(err error) bool {
	var ce flate.CorruptInputError
	return errors.As(err, &ce)
}

// Close closes the file or the HTTP response.
func (b *Body) Close() error { return b.close() }

// Fingerprint returns the validators of the content, with the hash of the
// bytes read so far: the content hash once everything was read.
func (b *Body) Fingerprint() Fingerprint {
	fp := b.fp
	fp.ContentHash = "sha256:" + hex.EncodeToString(b.hr.h.Sum(nil))
	return fp
}

// Open opens the location for reading. When prev is known and the location
// says its content has not changed (an HTTP 304 to a conditional request, or
// a local file of the same size and modification time), Open returns an
// error wrapping ErrUnchanged. The caller closes the Body.
//
// A URL is fetched as its HTTPOptions say: failed requests are retried
// (see RetryPolicy) until the content starts to arrive; an error after
// that fails the Body's Read. Every error names the location (without
// credentials) and, for a URL, the server's answer: a *HTTPError when the
// server did not answer 200 OK.
func (l Location) Open(ctx context.Context, prev Fingerprint) (*Body, error) {
	if l.URL != nil {
		return l.openHTTP(ctx, prev)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("open %s: %w", l.Path, err)
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
		return nil, errors.Join(fmt.Errorf("open %s: %w", l.Path, ErrUnchanged), f.Close())
	}
	b, err := newBody(nil, f, l.String(), "", nil)
	if err != nil {
		return nil, err
	}
	b.fp = fp
	b.file = f
	return b, nil
}

// File is a location's content as a local file, for readers that need to
// read at random (Parquet). It is either the location's own file or a
// temporary copy that Close removes.
type File struct {
	f    *os.File
	size int64
	fp   Fingerprint
	temp bool
}

// OpenFile opens the location as a local file that can be read at random.
// A local file that is not compressed is opened as it is; anything else (a
// URL, a gzip file) is downloaded and decompressed into a temporary file of
// HTTPOptions.TempDir, which Close removes. Either way the content is read
// once before OpenFile returns, so that the fingerprint's content hash is
// complete. ErrUnchanged and errors are as for Open; cancelling ctx stops
// the download.
func (l Location) OpenFile(ctx context.Context, prev Fingerprint) (*File, error) {
	body, err := l.Open(ctx, prev)
	if err != nil {
		return nil, err
	}
	if body.file != nil && !body.gzipped {
		// The file itself: read it once for its hash.
		if err := copyContext(ctx, l.String(), io.Discard, body); err != nil {
			return nil, errors.Join(err, body.Close())
		}
		return &File{f: body.file, size: body.fp.Size, fp: body.Fingerprint()}, nil
	}
	tmp, err := os.CreateTemp(l.httpOptions().TempDir, "datalab-download-*")
	if err != nil {
		return nil, errors.Join(fmt.Errorf("download %s: %w; check that the temporary folder is writable", l, err), body.Close())
	}
	cleanup := func(err error) error {
		return errors.Join(err, body.Close(), tmp.Close(), os.Remove(tmp.Name()))
	}
	if err := copyContext(ctx, l.String(), tmp, body); err != nil {
		return nil, cleanup(err)
	}
	fp := body.Fingerprint()
	if err := body.Close(); err != nil {
		return nil, errors.Join(fmt.Errorf("download %s: %w", l, err), tmp.Close(), os.Remove(tmp.Name()))
	}
	info, err := tmp.Stat()
	if err != nil {
		return nil, errors.Join(fmt.Errorf("download %s: %w", l, err), tmp.Close(), os.Remove(tmp.Name()))
	}
	return &File{f: tmp, size: info.Size(), fp: fp, temp: true}, nil
}

// copyContext copies src to dst, checking ctx between chunks.
func copyContext(ctx context.Context, loc string, dst io.Writer, src io.Reader) error {
	buf := make([]byte, 1<<20)
	for {
		if ctx.Err() != nil {
			return ctxError(ctx, "download "+loc)
		}
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return fmt.Errorf("download %s: %w; check the space left in the temporary folder", loc, werr)
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// ReadAt reads len(p) bytes at offset off; it may be called concurrently.
func (f *File) ReadAt(p []byte, off int64) (int, error) { return f.f.ReadAt(p, off) }

// Seek sets the offset of the next Read.
func (f *File) Seek(offset int64, whence int) (int64, error) { return f.f.Seek(offset, whence) }

// Read reads from the current offset.
func (f *File) Read(p []byte) (int, error) { return f.f.Read(p) }

// Size returns the content's size in bytes, decompressed.
func (f *File) Size() int64 { return f.size }

// Fingerprint returns the content's validators and hash.
func (f *File) Fingerprint() Fingerprint { return f.fp }

// Close closes the file and removes it when it was a temporary copy.
func (f *File) Close() error {
	err := f.f.Close()
	if f.temp {
		err = errors.Join(err, os.Remove(f.f.Name()))
	}
	return err
}
