package jsonsrc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/datalab/datalab/connectors"
)

// Source is a registered JSON file. It is immutable once built: opening it
// several times, even concurrently, is safe.
type Source struct {
	opts   Options
	set    settings
	fields []connectors.Field
	pats   []layout // compiled formats of fields, "" when detected
}

var _ connectors.Factory = New

// New builds a JSON Source from a registration: a connectors.Factory. It
// decodes spec.Options strictly into Options and checks them and the
// declared fields; every refusal is a *connectors.SpecError naming the
// option ("source.nested") or the field ("schema.fields[2].format"). It
// does no I/O beyond checking that a local file exists.
func New(spec connectors.Spec) (connectors.Source, error) {
	opts, err := decodeOptions(spec.Options)
	if err != nil {
		return nil, err
	}
	set, err := opts.resolve(spec)
	if err != nil {
		return nil, err
	}
	s := &Source{opts: opts, set: set, fields: spec.Fields, pats: make([]layout, len(spec.Fields))}
	for i, f := range spec.Fields {
		path := fmt.Sprintf("schema.fields[%d]", i)
		if strings.TrimSpace(f.Name) == "" {
			return nil, &connectors.SpecError{Field: path + ".name", Reason: "missing", Fix: "name the column"}
		}
		switch f.Type {
		case "", connectors.TypeString, connectors.TypeInteger, connectors.TypeNumber, connectors.TypeBoolean:
		case connectors.TypeDate, connectors.TypeDatetime:
			if f.Format != "" && f.Format != "default" && f.Format != "any" {
				l, err := compileFormat(f.Format)
				if err != nil {
					return nil, &connectors.SpecError{Field: path + ".format", Reason: fmt.Sprintf("column %s: %v", f.Name, err),
						Fix: `write a pattern such as "%d/%m/%Y" or "%Y-%m-%dT%H:%M:%S%z" (%Y %y %m %d %H %M %S %f %z), or leave it out for ISO 8601 dates`}
				}
				s.pats[i] = l
			}
		default:
			return nil, &connectors.SpecError{Field: path + ".type", Reason: fmt.Sprintf("column %s: type %q is not read from JSON", f.Name, f.Type),
				Fix: "use string, integer, number, boolean, date or datetime"}
		}
	}
	return s, nil
}

// Options returns the registration's options as decoded.
func (s *Source) Options() Options { return s.opts }

// Location returns where the file lives.
func (s *Source) Location() connectors.Location { return s.set.loc }

// Open reads a sample of records (see Options.SampleRows) to settle the
// columns and their types, then returns a Stream that replays the sample
// and goes on through the file, one batch of opts.BatchRows records at a
// time. Memory holds the sample and one batch, whatever the size of the
// file.
//
// Open returns an error wrapping connectors.ErrUnchanged when
// opts.Previous says the file has not changed, and a *connectors.DataError
// when the file is not JSON records or its sample is malformed. A value
// further on that does not fit its column's type, a record that is not an
// object, or a field the sample did not have stops the stream with a
// *connectors.DataError naming the record (Line is the line of NDJSON, the
// record's number in an array), the field and the value. Cancelling ctx
// stops the stream between batches.
func (s *Source) Open(ctx context.Context, opts connectors.OpenOptions) (connectors.Stream, error) {
	opts = opts.WithDefaults()
	mem, batchRows := opts.Allocator, opts.BatchRows
	loc := s.set.loc.String()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("open %s: %w", loc, err)
	}
	body, err := s.set.loc.Open(ctx, opts.Previous)
	if err != nil {
		return nil, err
	}
	st := &stream{ctx: ctx, src: s, loc: loc, body: body, mem: mem, batchRows: batchRows}
	st.Init(st.free)
	if err := st.prepare(); err != nil {
		st.Release()
		return nil, err
	}
	return st, nil
}

// sampled is a record of the sample, kept to be replayed.
type sampled struct {
	rec  value
	line int64
	size int64
}

// prepare reads the sample and settles the schema.
func (st *stream) prepare() error {
	set := st.src.set
	br := bufio.NewReaderSize(bodyReader{st.body}, 64<<10)
	detected, skipped, err := detect(br)
	if err != nil {
		if errors.Is(err, errNotJSON) {
			return &connectors.DataError{Location: st.loc, Reason: "the file is " + errNotJSON.Error() + ": " + strings.TrimSuffix(err.Error(), ": "+errNotJSON.Error()),
				Fix: "check the URL, or register the file with the connector of its format"}
		}
		return unwrapBody(err)
	}
	st.format = set.format
	if st.format == formatNone {
		st.format = detected
	}
	switch {
	case detected == formatNone:
		st.recs = emptyRecords{}
	case st.format == formatArray:
		st.recs = newArrayRecords(st.loc, br)
	default:
		st.recs = newLineRecords(st.loc, br, skipped)
	}
	st.shape = &shape{flatten: set.flatten, fields: st.src.fields, used: make([]bool, len(st.src.fields)), pats: st.src.pats}
	observe := func(c *node, v *value) { c.observe(v) }
	var bytes int64
	for len(st.sample) < set.sampleRows && bytes < MaxSampleBytes {
		if len(st.sample)%1024 == 1023 {
			if err := st.ctx.Err(); err != nil {
				return fmt.Errorf("read %s: %w", st.loc, err)
			}
		}
		rec, ok, err := st.recs.next()
		if err != nil {
			return unwrapBody(err)
		}
		if !ok {
			st.eof = true
			break
		}
		line := st.recs.line()
		if rec.kind != vObject {
			return st.notObject(&rec, line)
		}
		st.shape.walk(&st.shape.root, rec.obj, true, observe)
		st.sample = append(st.sample, sampled{rec: rec, line: line, size: st.recs.size()})
		bytes += st.recs.size()
	}
	st.sampled = len(st.sample)
	if err := st.shape.settle(st.loc); err != nil {
		return err
	}
	if len(st.shape.cols) == 0 {
		reason := "the file holds no records"
		if st.sampled > 0 {
			reason = fmt.Sprintf("the first %d records hold no values", st.sampled)
		}
		return &connectors.DataError{Location: st.loc, Reason: reason + ": the columns cannot be inferred",
			Fix: "check the file, or declare the columns in the registration's schema"}
	}
	st.schema = st.shape.schema()
	st.builder = array.NewRecordBuilder(st.mem, st.schema)
	st.slots = make([]*value, len(st.shape.cols))
	st.visit = func(c *node, v *value) { st.slots[c.index] = v }
	return nil
}

// emptyRecords is the records of an empty file.
type emptyRecords struct{}

func (emptyRecords) next() (value, bool, error) { return value{}, false, nil }
func (emptyRecords) line() int64                { return 0 }
func (emptyRecords) size() int64                { return 0 }

// unwrapBody returns the content reader's own error, which names the
// location.
func unwrapBody(err error) error {
	var be *bodyError
	if errors.As(err, &be) {
		return be.err
	}
	return err
}
