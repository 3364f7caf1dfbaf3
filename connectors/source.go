package connectors

import (
	"context"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Source reads one registered dataset from where it lives (a file, a URL, a
// database) as a stream of Arrow record batches.
//
// A Source is built once from a registration by a Factory and may be opened
// many times, one after the other or concurrently: each Open is independent.
type Source interface {
	// Open starts reading the source and returns a Stream of record batches.
	//
	// When opts.Previous is the fingerprint of the last successful load and
	// the source can tell, cheaply and before reading its content, that the
	// content has not changed (same ETag, Last-Modified, size and modification
	// time), Open returns ErrUnchanged and no Stream.
	//
	// Cancelling ctx stops the reading: Next returns false and Err returns an
	// error wrapping ctx.Err(). Open never retains ctx beyond the Stream's
	// lifetime. The caller owns the Stream and must call Release on it, even
	// after an error from Next.
	Open(ctx context.Context, opts OpenOptions) (Stream, error)
}

// OpenOptions are what the ingest tells a Source when opening it.
type OpenOptions struct {
	// Allocator allocates every Arrow buffer of the stream; nil means
	// memory.DefaultAllocator. Tests pass a memory.CheckedAllocator.
	Allocator memory.Allocator
	// Previous is the fingerprint of the last successful load, zero when
	// there is none.
	Previous Fingerprint
	// BatchRows is the number of rows per record batch; 0 means DefaultBatchRows.
	BatchRows int
	// Cursor is, for an Incremental source, the highest cursor value of the
	// last successful load, as its CursorStream returned it; empty for a
	// first load, which reads everything.
	Cursor string
}

// DefaultBatchRows is the number of rows per record batch when OpenOptions
// does not say: large enough to amortise per-batch costs, small enough that
// a batch of wide rows stays in a few megabytes.
const DefaultBatchRows = 64 * 1024

// WithDefaults returns o with the defaults of its unset fields applied:
// memory.DefaultAllocator for a nil Allocator, DefaultBatchRows for a
// BatchRows of zero or less.
func (o OpenOptions) WithDefaults() OpenOptions {
	if o.Allocator == nil {
		o.Allocator = memory.DefaultAllocator
	}
	if o.BatchRows <= 0 {
		o.BatchRows = DefaultBatchRows
	}
	return o
}

// Stream is a stream of record batches with one schema, read from a Source.
//
// It follows array.RecordReader: a batch returned by RecordBatch is valid
// until the next call to Next (Retain it to keep it longer); Next returns
// false at the end or on the first error, and Err, checked after the loop,
// tells which (the end is not an error). All batches have the schema that
// Schema returns. A Stream belongs to one goroutine. Release frees the
// stream's resources (files, connections, buffers) when its reference count
// reaches zero; Release must be called even when Next failed.
type Stream interface {
	array.RecordReader
	// Err returns the error that stopped Next, nil at a clean end.
	Err() error
	// Fingerprint identifies the version of the content read. ContentHash is
	// complete only once Next has returned false with a nil Err.
	Fingerprint() Fingerprint
}

// Fingerprint identifies a version of a source's content, so that an
// unchanged source is not loaded again. Empty fields are unknown.
type Fingerprint struct {
	// Location is where the content was read from, without credentials.
	Location string `json:"location,omitempty"`
	// ETag and LastModified are the HTTP validators the server sent.
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
	// Size and ModTime describe a local file.
	Size    int64     `json:"size,omitempty"`
	ModTime time.Time `json:"mod_time,omitzero"`
	// ContentHash is "sha256:<hex>" of the raw bytes read.
	ContentHash string `json:"content_hash,omitempty"`
}

// IsZero reports whether nothing is known of the content.
func (f Fingerprint) IsZero() bool { return f == Fingerprint{} }

// SameVersion reports whether f and g identify the same content by the
// validators both know: an ETag, a Last-Modified date, a file's size and
// modification time, or failing those a content hash. Two fingerprints that
// share no validator are not the same version.
func (f Fingerprint) SameVersion(g Fingerprint) bool {
	switch {
	case f.Location != g.Location:
		return false
	case f.ETag != "" && g.ETag != "":
		return f.ETag == g.ETag
	case f.LastModified != "" && g.LastModified != "":
		return f.LastModified == g.LastModified
	case !f.ModTime.IsZero() && !g.ModTime.IsZero():
		return f.Size == g.Size && f.ModTime.Equal(g.ModTime)
	case f.ContentHash != "" && g.ContentHash != "":
		return f.ContentHash == g.ContentHash
	}
	return false
}

// Incremental is implemented by a Source registered with a cursor column:
// it reads only the rows whose cursor is past OpenOptions.Cursor, and the
// ingest adds them to the table instead of replacing it (merging rows of
// the same primary key, when there is one).
type Incremental interface {
	Source
	// CursorColumn names the column that only grows (an id, an update
	// time), as it is named in the stream.
	CursorColumn() string
	// PrimaryKey names the columns that identify a row; an updated row
	// replaces the loaded one. Empty: new rows are appended.
	PrimaryKey() []string
}

// CursorStream is implemented by the Stream of an Incremental source: once
// Next has returned false with a nil Err, Cursor returns the highest cursor
// value read, as text, to store with the snapshot and hand back in
// OpenOptions.Cursor; it returns the previous cursor when no row was read.
type CursorStream interface {
	Stream
	Cursor() string
}
