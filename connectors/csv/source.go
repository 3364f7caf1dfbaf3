package csv

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/datalab/datalab/connectors"
)

// Source is a registered CSV file. It is immutable once built: opening it
// several times, even concurrently, is safe.
type Source struct {
	opts   Options
	set    settings
	fields []connectors.Field
	pats   []*pattern // compiled formats of fields, nil when detected
}

var _ connectors.Factory = New

// New builds a CSV Source from a registration: a connectors.Factory. It
// decodes spec.Options strictly into Options and checks them and the
// declared fields; every refusal is a *connectors.SpecError naming the
// option ("source.delimiter") or the field ("schema.fields[2].format").
// It does no I/O beyond checking that a local file exists.
func New(spec connectors.Spec) (connectors.Source, error) {
	opts, err := decodeOptions(spec.Options)
	if err != nil {
		return nil, err
	}
	set, err := opts.resolve(spec)
	if err != nil {
		return nil, err
	}
	s := &Source{opts: opts, set: set, fields: spec.Fields, pats: make([]*pattern, len(spec.Fields))}
	for i, f := range spec.Fields {
		path := fmt.Sprintf("schema.fields[%d]", i)
		if strings.TrimSpace(f.Name) == "" {
			return nil, &connectors.SpecError{Field: path + ".name", Reason: "missing", Fix: "name the column"}
		}
		switch f.Type {
		case connectors.TypeString, connectors.TypeInteger, connectors.TypeNumber, connectors.TypeBoolean:
		case connectors.TypeDate, connectors.TypeDatetime:
			if f.Format != "" && f.Format != "default" && f.Format != "any" {
				p, err := compilePattern(f.Format)
				if err != nil {
					return nil, &connectors.SpecError{
						Field:  path + ".format",
						Reason: fmt.Sprintf("column %s: %v", f.Name, err),
						Fix:    `write a pattern such as "%d/%m/%Y" or "%Y%m%d" (%Y %y %m %d %H %M %S %f), or leave it out to detect the format`,
					}
				}
				s.pats[i] = p
			}
		default:
			return nil, &connectors.SpecError{
				Field:  path + ".type",
				Reason: fmt.Sprintf("column %s: type %q is not read from CSV", f.Name, f.Type),
				Fix:    "use string, integer, number, boolean, date or datetime",
			}
		}
	}
	return s, nil
}

// Options returns the registration's options as decoded.
func (s *Source) Options() Options { return s.opts }

// Location returns where the file lives.
func (s *Source) Location() connectors.Location { return s.set.loc }

// Open reads the header and a sample of rows (see Options.SampleRows) to
// settle the delimiter, the encoding and each column's type, then returns
// a Stream that replays the sample and goes on through the file, one batch
// of opts.BatchRows rows at a time. Memory does not grow with the file:
// the sample and two batches (the current one and the next, parsed ahead)
// are held at most.
//
// Open returns connectors.ErrUnchanged (wrapped) when opts.Previous says the
// file has not changed, and a *connectors.DataError when the header or the
// sample is malformed. Values further on that do not fit their column's
// type stop the stream with a *connectors.DataError naming the line, the
// column and the value. Cancelling ctx stops the stream between batches.
func (s *Source) Open(ctx context.Context, opts connectors.OpenOptions) (connectors.Stream, error) {
	mem := opts.Allocator
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	batchRows := opts.BatchRows
	if batchRows <= 0 {
		batchRows = connectors.DefaultBatchRows
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("open %s: %w", s.set.loc, err)
	}
	// The stream's own context lets Release abort a read in flight (an
	// HTTP download) without closing the body under the producer's feet.
	ctx, cancel := context.WithCancel(ctx)
	body, err := s.set.loc.Open(ctx, opts.Previous)
	if err != nil {
		cancel()
		return nil, err
	}
	st := &stream{
		ctx:       ctx,
		cancel:    cancel,
		src:       s,
		body:      body,
		mem:       mem,
		batchRows: batchRows,
		nulls:     newNullSet(s.set.nulls),
	}
	st.refs.Store(1)
	st.dec = newDecoder(body, s.set.enc)
	st.sc = newScanner(ctx, st.dec)
	if err := st.prepare(); err != nil {
		st.closeAll()
		return nil, err
	}
	st.start()
	return st, nil
}

// prepare reads the header and the sample, and settles the schema.
func (st *stream) prepare() error {
	set := st.src.set
	sc := st.sc
	if err := sc.skipLines(set.skipRows); err != nil {
		return st.wrap(err)
	}
	sc.delim = set.delim
	if sc.delim == 0 {
		if err := sc.peek(minBuffer, min(maxDetectLines, set.sampleRows+1)); err != nil {
			return st.wrap(err)
		}
		sc.delim = detectDelimiter(sc.buf[sc.pos:sc.end], sc.eof)
	}
	var headers []string
	headerLine := int64(0)
	if set.header {
		ok, err := sc.next()
		if err != nil {
			return st.wrap(err)
		}
		if !ok {
			return &connectors.DataError{Location: set.loc.String(), Line: sc.line, Reason: "the file is empty: there is no header line", Fix: "check the file, or set header: false when it has no header"}
		}
		headerLine = sc.recLine
		headers = make([]string, len(sc.fields))
		for i, f := range sc.fields {
			headers[i] = strings.TrimSpace(string(f))
		}
	}
	sc.mark()
	ok, err := sc.next()
	if err != nil {
		return st.wrap(err)
	}
	if !set.header {
		if !ok {
			return &connectors.DataError{Location: set.loc.String(), Line: sc.line, Reason: "the file is empty", Fix: "check the file"}
		}
		headers = make([]string, len(sc.fields))
	}
	if err := st.makeColumns(headers, headerLine); err != nil {
		return err
	}
	// The sample: every row narrows the kinds its columns may take.
	rows := 0
	for ok {
		if err := st.checkWidth(); err != nil {
			return err
		}
		for i, c := range st.cols {
			v := sc.fields[i]
			if st.nulls.match(v) {
				continue
			}
			c.observe(trimSpace(v), sc.recLine, &st.fbuf)
		}
		rows++
		if rows >= set.sampleRows || sc.buffered() >= MaxSampleBytes {
			break
		}
		if ok, err = sc.next(); err != nil {
			return st.wrap(err)
		}
	}
	st.sampled = rows
	fields := make([]arrow.Field, len(st.cols))
	for i, c := range st.cols {
		if c.field != nil && c.cand == 0 {
			return &connectors.DataError{
				Location: set.loc.String(),
				Line:     c.badLine,
				Column:   c.name,
				Value:    c.badValue,
				Reason:   fmt.Sprintf("not a valid %s, the type the registration's schema declares", c.field.Type),
				Fix:      "fix the value in the file, or change the column's type or format in the registration's schema",
			}
		}
		c.settle()
		c.newBuilder(st.mem)
		fields[i] = c.arrowField()
	}
	st.schema = arrow.NewSchema(fields, nil)
	st.rowsHint = st.batchRows
	if !ok || sc.eof && sc.pos == sc.end {
		st.rowsHint = min(st.batchRows, max(rows, 1))
	}
	sc.rewind()
	return nil
}

// makeColumns names the columns and matches them with the declared fields.
func (st *stream) makeColumns(headers []string, headerLine int64) error {
	set, fields := st.src.set, st.src.fields
	loc := set.loc.String()
	names := connectors.ColumnNames(headers)
	st.cols = make([]*column, len(headers))
	for i := range headers {
		st.cols[i] = &column{name: names[i], title: headers[i]}
	}
	if !set.header && len(fields) > 0 {
		// Without a header, the declared fields name the columns in order.
		if len(fields) != len(headers) {
			return &connectors.DataError{
				Location: loc, Line: st.sc.line,
				Reason: fmt.Sprintf("the registration's schema declares %d fields, the file has %d columns", len(fields), len(headers)),
				Fix:    "declare one field per column, in order",
			}
		}
		for i := range fields {
			st.cols[i].bind(&fields[i], st.src.pats[i])
		}
	} else {
		for i := range fields {
			f := &fields[i]
			c := st.findColumn(f)
			if c == nil {
				return &connectors.DataError{
					Location: loc, Line: headerLine, Column: f.Name,
					Reason: "declared in the registration's schema but not in the file's header",
					Fix:    fmt.Sprintf("name one of the file's columns (%s), or give the header as the field's title", strings.Join(names, ", ")),
				}
			}
			c.bind(f, st.src.pats[i])
		}
	}
	for _, c := range st.cols {
		c.candidates(set.decimal, st.sc.delim)
	}
	return nil
}

// findColumn returns the column a declared field names: by its name, by
// its normalised name, or by its title against the header.
func (st *stream) findColumn(f *connectors.Field) *column {
	for _, by := range []func(c *column) bool{
		func(c *column) bool { return c.name == f.Name },
		func(c *column) bool { return f.Title != "" && c.title == strings.TrimSpace(f.Title) },
		func(c *column) bool { return c.name == connectors.ColumnName(f.Name) },
		func(c *column) bool { return c.title == strings.TrimSpace(f.Name) },
	} {
		for _, c := range st.cols {
			if c.field == nil && by(c) {
				return c
			}
		}
	}
	return nil
}

// bind makes c the column field declares.
func (c *column) bind(f *connectors.Field, p *pattern) {
	c.field, c.pat = f, p
	c.name = f.Name
	if f.Title != "" && c.title == "" {
		c.title = f.Title
	}
}

// checkWidth refuses a record whose number of fields is not the header's.
func (st *stream) checkWidth() error {
	if n := len(st.sc.fields); n != len(st.cols) {
		return &connectors.DataError{
			Location: st.src.set.loc.String(),
			Line:     st.sc.recLine,
			Reason:   fmt.Sprintf("the row has %d fields, the header %d", n, len(st.cols)),
			Fix:      fmt.Sprintf("quote the values that hold the delimiter %s, or declare the right delimiter in the registration", delimName(st.sc.delim)),
		}
	}
	return nil
}

func delimName(d byte) string {
	if d == '\t' {
		return "(tab)"
	}
	return fmt.Sprintf("%q", string(d))
}

// wrap turns an error of the decoder or the scanner into the error the
// stream reports.
func (st *stream) wrap(err error) error {
	loc := st.src.set.loc.String()
	var de *decodeError
	var re *recordError
	switch {
	case errors.As(err, &de):
		reason := de.reason + " (the file was detected as UTF-8 from its first non-ASCII bytes)"
		fix := "declare the file's encoding in the registration, e.g. encoding: windows-1252"
		if st.src.set.enc == encUTF8 {
			reason = de.reason + " (the registration says encoding: utf-8)"
			fix = "check the file, or declare encoding: windows-1252 or iso-8859-1"
		}
		return &connectors.DataError{Location: loc, Line: de.line, Reason: reason, Fix: fix}
	case errors.As(err, &re):
		return &connectors.DataError{Location: loc, Line: re.line, Value: re.value, Reason: re.reason, Fix: re.fix}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("read %s: %w", loc, err)
	}
	return fmt.Errorf("read %s: %w", loc, err)
}
