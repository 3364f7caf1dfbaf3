package parquet

import (
	"context"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	pq "github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/datalab/datalab/connectors"
)

// readBufferSize is the read-ahead of each column chunk: the reader holds
// this much per column, not whole column chunks.
const readBufferSize = 256 << 10

// Source is a registered Parquet file. It is immutable once built: opening
// it several times, even concurrently, is safe.
type Source struct {
	opts   Options
	loc    connectors.Location
	fields []connectors.Field
}

var _ connectors.Factory = New

// New builds a Parquet Source from a registration: a connectors.Factory.
// It decodes spec.Options strictly into Options and checks them and the
// declared fields; every refusal is a *connectors.SpecError naming the
// option ("source.url") or the field ("schema.fields[1].type"). It does no
// I/O beyond checking that a local file exists.
func New(spec connectors.Spec) (connectors.Source, error) {
	opts, err := decodeOptions(spec.Options)
	if err != nil {
		return nil, err
	}
	if opts.Kind != "" && opts.Kind != "parquet" {
		return nil, &connectors.SpecError{Field: "source.kind", Reason: fmt.Sprintf("%q is not parquet", opts.Kind), Fix: "write kind: parquet"}
	}
	for i, c := range opts.Columns {
		if strings.TrimSpace(c) == "" {
			return nil, &connectors.SpecError{Field: fmt.Sprintf("source.columns[%d]", i), Reason: "empty", Fix: "name a column of the file, or leave columns out to read them all"}
		}
	}
	loc, err := connectors.ParseLocation(spec.Dir, opts.URL, "source.url")
	if err != nil {
		return nil, err
	}
	for i, f := range spec.Fields {
		path := fmt.Sprintf("schema.fields[%d]", i)
		if strings.TrimSpace(f.Name) == "" {
			return nil, &connectors.SpecError{Field: path + ".name", Reason: "missing", Fix: "name the column"}
		}
		switch f.Type {
		case connectors.TypeString, connectors.TypeInteger, connectors.TypeNumber, connectors.TypeBoolean,
			connectors.TypeDate, connectors.TypeDatetime, "":
		default:
			return nil, &connectors.SpecError{Field: path + ".type", Reason: fmt.Sprintf("column %s: type %q is not read from Parquet", f.Name, f.Type),
				Fix: "use string, integer, number, boolean, date or datetime, or leave the type out to keep the file's"}
		}
		if f.Format != "" && f.Format != "default" && f.Format != "any" {
			return nil, &connectors.SpecError{Field: path + ".format", Reason: fmt.Sprintf("column %s: a Parquet column is typed, a format has no meaning", f.Name),
				Fix: "remove the format"}
		}
	}
	return &Source{opts: opts, loc: loc, fields: spec.Fields}, nil
}

// Options returns the registration's options as decoded.
func (s *Source) Options() Options { return s.opts }

// Location returns where the file lives.
func (s *Source) Location() connectors.Location { return s.loc }

// Open opens the file (downloading it first when it is remote or
// compressed) and reads its footer, then returns a Stream of batches of at
// most opts.BatchRows rows, decoded row group after row group.
//
// Open returns an error wrapping connectors.ErrUnchanged when
// opts.Previous says the file has not changed (a local file's size and
// modification time, an HTTP 304), and a *connectors.DataError when the
// file is not Parquet, a declared column is missing or its declared type
// does not fit the column. A value that a declared type cannot hold (an
// unsigned integer past the range of integer) stops the stream with a
// *connectors.DataError. Cancelling ctx stops a download and the stream
// between batches.
func (s *Source) Open(ctx context.Context, opts connectors.OpenOptions) (_ connectors.Stream, err error) {
	opts = opts.WithDefaults()
	mem, batchRows := opts.Allocator, opts.BatchRows
	loc := s.loc.String()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("open %s: %w", loc, err)
	}
	f, err := s.loc.OpenFile(ctx, opts.Previous)
	if err != nil {
		return nil, err
	}
	st := &stream{ctx: ctx, loc: loc, file: f, mem: mem}
	st.Init(st.free)
	defer func() {
		if r := recover(); r != nil {
			err = corrupt(loc, fmt.Errorf("%v", r))
		}
		if err != nil {
			st.Release()
		}
	}()
	props := pq.NewReaderProperties(mem)
	props.BufferedStreamEnabled = true
	props.BufferSize = readBufferSize
	pf, err := file.NewParquetReader(randomReader{f}, file.WithReadProps(props))
	if err != nil {
		return nil, &connectors.DataError{Location: loc, Reason: "not a Parquet file: " + err.Error(),
			Fix: "check the URL, or register the file with the connector of its format"}
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: int64(batchRows)}, mem)
	if err != nil {
		return nil, corrupt(loc, err)
	}
	sc, err := fr.Schema()
	if err != nil {
		return nil, corrupt(loc, err)
	}
	if err := st.plan(s, sc); err != nil {
		return nil, err
	}
	if pf.NumRows() == 0 {
		st.End()
		return st, nil
	}
	var leaves []int
	for _, c := range st.cols {
		leaves = appendLeaves(leaves, fr.Manifest.Fields[c.index])
	}
	rr, err := fr.GetRecordReader(ctx, leaves, nil)
	if err != nil {
		return nil, corrupt(loc, err)
	}
	st.rr = rr
	if n := rr.Schema().NumFields(); n != len(st.cols) {
		return nil, corrupt(loc, fmt.Errorf("the reader gives %d columns, the footer %d", n, len(st.cols)))
	}
	return st, nil
}

// randomReader hides the File's Close from the Parquet reader: the stream
// closes the file itself.
type randomReader struct{ f *connectors.File }

func (r randomReader) ReadAt(p []byte, off int64) (int, error) { return r.f.ReadAt(p, off) }
func (r randomReader) Read(p []byte) (int, error)              { return r.f.Read(p) }
func (r randomReader) Seek(off int64, whence int) (int64, error) {
	return r.f.Seek(off, whence)
}

// appendLeaves adds the Parquet leaf columns of a field.
func appendLeaves(leaves []int, f pqarrow.SchemaField) []int {
	if f.IsLeaf() {
		return append(leaves, f.ColIndex)
	}
	for _, c := range f.Children {
		leaves = appendLeaves(leaves, c)
	}
	return leaves
}

// column is a top-level column of the stream.
type column struct {
	index int            // in the file's schema
	field arrow.Field    // as the stream gives it
	cast  arrow.DataType // the type to cast the file's values to first; nil: none
}

// plan names the selected columns, binds the declared fields and settles
// the stream's schema.
func (st *stream) plan(s *Source, sc *arrow.Schema) error {
	titles := make([]string, sc.NumFields())
	for i, f := range sc.Fields() {
		titles[i] = f.Name
	}
	names := connectors.ColumnNames(titles)
	for i, f := range sc.Fields() {
		st.cols = append(st.cols, &column{index: i, field: arrow.Field{
			Name: names[i], Type: normalise(f.Type), Nullable: f.Nullable, Metadata: titleMeta(f.Name),
		}})
	}
	if len(s.opts.Columns) > 0 {
		var keep []*column
		for i, want := range s.opts.Columns {
			c := find(st.cols, titles, want)
			if c == nil {
				return &connectors.DataError{Location: st.loc, Column: want,
					Reason: fmt.Sprintf("source.columns[%d] names a column that the file does not have", i),
					Fix:    "name one of the file's columns: " + strings.Join(names, ", ")}
			}
			keep = append(keep, c)
		}
		// The reader gives columns in the file's order.
		var ordered []*column
		for _, c := range st.cols {
			for _, k := range keep {
				if k == c {
					ordered = append(ordered, c)
					break
				}
			}
		}
		st.cols = ordered
	}
	for i := range s.fields {
		decl := &s.fields[i]
		c := findDeclared(st.cols, titles, decl)
		if c == nil {
			return &connectors.DataError{Location: st.loc, Column: decl.Name,
				Reason: "declared in the registration's schema but not in the file",
				Fix:    "name one of the file's columns: " + strings.Join(colNames(st.cols), ", ")}
		}
		c.field.Name = decl.Name
		if decl.Type == "" {
			continue
		}
		from := sc.Field(c.index).Type
		to, ok := castTarget(from, decl.Type)
		if !ok {
			return &connectors.DataError{Location: st.loc, Column: decl.Name,
				Reason: fmt.Sprintf("the file's column is %s, which cannot be read as %s, the type the registration's schema declares", from, decl.Type),
				Fix:    fmt.Sprintf("declare the column as %s, or leave its type out to keep the file's", suggest(from))}
		}
		if !arrow.TypeEqual(to, from) {
			c.cast = to
			c.field.Type = to
		}
	}
	fields := make([]arrow.Field, len(st.cols))
	for i, c := range st.cols {
		fields[i] = c.field
	}
	st.schema = arrow.NewSchema(fields, nil)
	return nil
}

func titleMeta(title string) arrow.Metadata {
	return arrow.NewMetadata([]string{connectors.TitleKey}, []string{title})
}

func colNames(cols []*column) []string {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.field.Name
	}
	return names
}

// find returns the column named want, as in the file or as normalised.
func find(cols []*column, titles []string, want string) *column {
	for _, c := range cols {
		if titles[c.index] == want || c.field.Name == want || c.field.Name == connectors.ColumnName(want) {
			return c
		}
	}
	return nil
}

// findDeclared returns the column a declared field names: by its name,
// by its title, by its normalised name, or by its name against the file's.
func findDeclared(cols []*column, titles []string, f *connectors.Field) *column {
	for _, by := range []func(c *column) bool{
		func(c *column) bool { return c.field.Name == f.Name },
		func(c *column) bool { return f.Title != "" && titles[c.index] == f.Title },
		func(c *column) bool { return c.field.Name == connectors.ColumnName(f.Name) },
		func(c *column) bool { return titles[c.index] == f.Name },
	} {
		for _, c := range cols {
			if by(c) {
				return c
			}
		}
	}
	return nil
}

// castTarget is the Arrow type a column of type from takes when declared
// as to, and whether the cast is meaningful.
func castTarget(from arrow.DataType, to connectors.FieldType) (arrow.DataType, bool) {
	id := from.ID()
	switch to {
	case connectors.TypeInteger:
		if arrow.IsInteger(id) {
			return arrow.PrimitiveTypes.Int64, true
		}
	case connectors.TypeNumber:
		if arrow.IsInteger(id) || arrow.IsFloating(id) || arrow.IsDecimal(id) {
			return arrow.PrimitiveTypes.Float64, true
		}
	case connectors.TypeString:
		if id == arrow.STRING {
			return from, true
		}
		if arrow.IsInteger(id) || id == arrow.LARGE_STRING {
			return arrow.BinaryTypes.String, true
		}
	case connectors.TypeBoolean:
		if id == arrow.BOOL {
			return from, true
		}
	case connectors.TypeDate:
		switch id {
		case arrow.DATE32:
			return from, true
		case arrow.DATE64, arrow.TIMESTAMP:
			return arrow.FixedWidthTypes.Date32, true
		}
	case connectors.TypeDatetime:
		switch id {
		case arrow.TIMESTAMP:
			return from, true
		case arrow.DATE32, arrow.DATE64:
			return &arrow.TimestampType{Unit: arrow.Microsecond}, true
		}
	}
	return nil, false
}

// suggest is the declared type that fits an Arrow type.
func suggest(t arrow.DataType) string {
	id := t.ID()
	switch {
	case arrow.IsInteger(id):
		return "integer, number or string"
	case arrow.IsFloating(id), arrow.IsDecimal(id):
		return "number"
	case id == arrow.BOOL:
		return "boolean"
	case id == arrow.DATE32 || id == arrow.DATE64:
		return "date or datetime"
	case id == arrow.TIMESTAMP:
		return "datetime or date"
	case id == arrow.STRING || id == arrow.LARGE_STRING:
		return "string"
	}
	return "nothing (no declared type fits " + t.String() + ")"
}

// normalise returns t with the names of its nested fields normalised by
// connectors.ColumnNames, each with its original name as title.
func normalise(t arrow.DataType) arrow.DataType {
	switch t := t.(type) {
	case *arrow.StructType:
		titles := make([]string, t.NumFields())
		for i, f := range t.Fields() {
			titles[i] = f.Name
		}
		names := connectors.ColumnNames(titles)
		fields := make([]arrow.Field, t.NumFields())
		for i, f := range t.Fields() {
			fields[i] = arrow.Field{Name: names[i], Type: normalise(f.Type), Nullable: f.Nullable, Metadata: titleMeta(f.Name)}
		}
		return arrow.StructOf(fields...)
	case *arrow.ListType:
		e := t.ElemField()
		e.Type, e.Metadata = normalise(e.Type), arrow.Metadata{}
		return arrow.ListOfField(e)
	case *arrow.LargeListType:
		e := t.ElemField()
		e.Type, e.Metadata = normalise(e.Type), arrow.Metadata{}
		return arrow.LargeListOfField(e)
	case *arrow.FixedSizeListType:
		e := t.ElemField()
		e.Type, e.Metadata = normalise(e.Type), arrow.Metadata{}
		return arrow.FixedSizeListOfField(t.Len(), e)
	}
	return t
}

// corrupt is the error of a file that the Parquet reader cannot read.
func corrupt(loc string, err error) error {
	return &connectors.DataError{Location: loc, Reason: "the Parquet file cannot be read: " + err.Error(),
		Fix: "check the file (a complete download, a Parquet writer that other tools read)"}
}
