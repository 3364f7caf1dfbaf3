package csv

import (
	"bytes"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/datalab/datalab/connectors"
)

// kind is how a column's text is read. The order is the order of
// preference of inference: the first kind that reads every sampled value
// of a column wins.
type kind uint8

const (
	kBool kind = iota
	kDateYMD8
	kInt
	kFloatDot
	kFloatComma
	kDateISO
	kDateDMY
	kTimeISO
	kTimeDMY
	kDateFmt
	kTimeFmt
	kString
	numKinds
)

type kindSet uint16

func (k kind) bit() kindSet { return 1 << k }

func setOf(kinds ...kind) kindSet {
	var s kindSet
	for _, k := range kinds {
		s |= k.bit()
	}
	return s
}

// first returns the preferred kind of s, kString when s is empty.
func (s kindSet) first() kind {
	for k := range numKinds {
		if s&k.bit() != 0 {
			return k
		}
	}
	return kString
}

// describe names what a kind reads, for messages.
func (k kind) describe() string {
	switch k {
	case kBool:
		return "a boolean (true or false)"
	case kDateYMD8:
		return "a date written yyyymmdd"
	case kInt:
		return "an integer (a code with leading zeros is not one)"
	case kFloatDot:
		return `a number with a "." decimal separator`
	case kFloatComma:
		return `a number with a "," decimal separator`
	case kDateISO:
		return "a date written yyyy-mm-dd"
	case kDateDMY:
		return "a date written dd/mm/yyyy"
	case kTimeISO:
		return "a date and time written yyyy-mm-dd hh:mm:ss"
	case kTimeDMY:
		return "a date and time written dd/mm/yyyy hh:mm:ss"
	case kDateFmt:
		return "a date in the declared format"
	case kTimeFmt:
		return "a date and time in the declared format"
	}
	return "text"
}

// arrowType is the Arrow type a kind produces.
func (k kind) arrowType() arrow.DataType {
	switch k {
	case kBool:
		return arrow.FixedWidthTypes.Boolean
	case kInt:
		return arrow.PrimitiveTypes.Int64
	case kFloatDot, kFloatComma:
		return arrow.PrimitiveTypes.Float64
	case kDateYMD8, kDateISO, kDateDMY, kDateFmt:
		return arrow.FixedWidthTypes.Date32
	case kTimeISO, kTimeDMY, kTimeFmt:
		return timestampType
	}
	return arrow.BinaryTypes.String
}

// timestampType has no time zone: the files say local times, and so does
// DuckDB's TIMESTAMP.
var timestampType = &arrow.TimestampType{Unit: arrow.Microsecond}

// nullSet holds the values read as NULL.
type nullSet struct {
	vals   [][]byte
	empty  bool
	maxLen int
}

func newNullSet(vals [][]byte) *nullSet {
	n := &nullSet{}
	for _, v := range vals {
		if len(v) == 0 {
			n.empty = true
			continue
		}
		n.vals = append(n.vals, v)
		n.maxLen = max(n.maxLen, len(v))
	}
	return n
}

// match reports whether v, as written or trimmed of spaces, is a null
// value.
func (n *nullSet) match(v []byte) bool {
	if len(v) == 0 {
		return n.empty
	}
	if v[0] == ' ' || v[0] == '\t' || v[len(v)-1] == ' ' || v[len(v)-1] == '\t' {
		if n.matchExact(v) {
			return true
		}
		v = trimSpace(v)
		if len(v) == 0 {
			return n.empty
		}
	}
	return n.matchExact(v)
}

func (n *nullSet) matchExact(v []byte) bool {
	if len(v) > n.maxLen {
		return false
	}
	for _, x := range n.vals {
		if bytes.Equal(x, v) {
			return true
		}
	}
	return false
}

// column is one column of the file: how to read it, and its builder.
type column struct {
	name  string
	title string
	// field is the registration's declaration, nil for an inferred column.
	field *connectors.Field

	cand    kindSet // kinds still possible during inference
	seen    bool    // a non-null value was sampled
	kind    kind
	flags   numFlags
	boolNum bool
	pat     *pattern

	// badLine and badValue keep the first sampled value that a declared
	// column cannot read.
	badLine  int64
	badValue string

	str  *array.StringBuilder
	i64  *array.Int64Builder
	f64  *array.Float64Builder
	bl   *array.BooleanBuilder
	d32  *array.Date32Builder
	ts   *array.TimestampBuilder
	hint int // data bytes of the last batch, for a string column
}

// candidates sets the kinds a column may take: from its declaration, or
// every kind the file's decimal separator allows.
func (c *column) candidates(decimal, delim byte) {
	dotOK := decimal != ','
	commaOK := decimal == ',' || (decimal == 0 && delim != ',')
	if commaOK {
		c.flags |= numGrouped
	}
	if decimal == 0 {
		c.flags |= numDotToo
	}
	floats := kindSet(0)
	if dotOK {
		floats |= kFloatDot.bit()
	}
	if commaOK {
		floats |= kFloatComma.bit()
	}
	if c.field == nil {
		c.cand = setOf(kBool, kDateYMD8, kInt, kDateISO, kDateDMY, kTimeISO, kTimeDMY, kString) | floats
		return
	}
	c.flags |= numLeadingZero
	switch c.field.Type {
	case connectors.TypeString:
		c.cand = setOf(kString)
	case connectors.TypeInteger:
		c.cand = setOf(kInt)
	case connectors.TypeNumber:
		c.cand = floats
	case connectors.TypeBoolean:
		c.cand, c.boolNum = setOf(kBool), true
	case connectors.TypeDate:
		if c.pat != nil {
			c.cand = setOf(kDateFmt)
		} else {
			c.cand = setOf(kDateISO, kDateDMY, kDateYMD8)
		}
	case connectors.TypeDatetime:
		if c.pat != nil {
			c.cand = setOf(kTimeFmt)
		} else {
			c.cand = setOf(kTimeISO, kTimeDMY)
		}
	}
}

// observe narrows the candidate kinds with a sampled, trimmed, non-null
// value.
func (c *column) observe(v []byte, line int64, fbuf *[]byte) {
	c.seen = true
	before := c.cand
	for s := c.cand &^ kString.bit(); s != 0; s &= s - 1 {
		k := kind(trailingZeros(s))
		if !c.reads(k, v, fbuf) {
			c.cand &^= k.bit()
		}
	}
	if c.cand == 0 && before != 0 && c.badLine == 0 {
		c.badLine, c.badValue = line, string(v)
	}
}

func trailingZeros(s kindSet) int {
	n := 0
	for s&1 == 0 {
		s >>= 1
		n++
	}
	return n
}

// reads reports whether kind k reads v.
func (c *column) reads(k kind, v []byte, fbuf *[]byte) bool {
	var ok bool
	switch k {
	case kBool:
		_, ok = parseBool(v, c.boolNum)
	case kDateYMD8:
		_, ok = parseDateYMD8(v)
	case kInt:
		_, ok = parseInt(v, c.flags)
	case kFloatDot:
		_, ok = parseFloat(v, '.', c.flags&^numGrouped, fbuf)
	case kFloatComma:
		_, ok = parseFloat(v, ',', c.flags, fbuf)
	case kDateISO:
		_, rest, ok1 := parseDateISO(v)
		ok = ok1 && len(rest) == 0
	case kDateDMY:
		_, rest, ok1 := parseDateDMY(v)
		ok = ok1 && len(rest) == 0
	case kTimeISO:
		_, ok = parseDatetimeISO(v)
	case kTimeDMY:
		_, ok = parseDatetimeDMY(v)
	case kDateFmt, kTimeFmt:
		_, ok = c.pat.parse(v)
	case kString:
		ok = true
	}
	return ok
}

// settle picks the column's kind once the sample is read.
func (c *column) settle() {
	switch {
	case c.field == nil && !c.seen:
		c.kind = kString // an all-null column
	default:
		c.kind = c.cand.first()
	}
}

// arrowField describes the column in the stream's schema.
func (c *column) arrowField() arrow.Field {
	f := arrow.Field{Name: c.name, Type: c.kind.arrowType(), Nullable: true}
	if c.title != "" {
		f.Metadata = arrow.NewMetadata([]string{connectors.TitleKey}, []string{c.title})
	}
	return f
}

// newBuilder makes the column's builder.
func (c *column) newBuilder(mem memory.Allocator) {
	switch c.kind.arrowType().ID() {
	case arrow.BOOL:
		c.bl = array.NewBooleanBuilder(mem)
	case arrow.INT64:
		c.i64 = array.NewInt64Builder(mem)
	case arrow.FLOAT64:
		c.f64 = array.NewFloat64Builder(mem)
	case arrow.DATE32:
		c.d32 = array.NewDate32Builder(mem)
	case arrow.TIMESTAMP:
		c.ts = array.NewTimestampBuilder(mem, timestampType)
	default:
		c.str = array.NewStringBuilder(mem)
	}
}

// reserve makes room for rows values.
func (c *column) reserve(rows int) {
	switch {
	case c.str != nil:
		c.str.Reserve(rows)
		c.str.ReserveData(c.hint + c.hint/8) // room for slightly longer rows

	case c.i64 != nil:
		c.i64.Reserve(rows)
	case c.f64 != nil:
		c.f64.Reserve(rows)
	case c.bl != nil:
		c.bl.Reserve(rows)
	case c.d32 != nil:
		c.d32.Reserve(rows)
	case c.ts != nil:
		c.ts.Reserve(rows)
	}
}

// appendNull appends a NULL.
func (c *column) appendNull() {
	switch {
	case c.str != nil:
		c.str.AppendNull()
	case c.i64 != nil:
		c.i64.AppendNull()
	case c.f64 != nil:
		c.f64.AppendNull()
	case c.bl != nil:
		c.bl.AppendNull()
	case c.d32 != nil:
		c.d32.AppendNull()
	case c.ts != nil:
		c.ts.AppendNull()
	}
}

// append reads a non-null value into the builder; false when the column's
// kind cannot read it.
func (c *column) append(v []byte, fbuf *[]byte) bool {
	if c.kind == kString {
		c.str.BinaryBuilder.Append(v)
		return true
	}
	v = trimSpace(v)
	switch c.kind {
	case kInt:
		x, ok := parseInt(v, c.flags)
		if ok {
			c.i64.Append(x)
		}
		return ok
	case kFloatDot, kFloatComma:
		dec, flags := byte('.'), c.flags&^numGrouped
		if c.kind == kFloatComma {
			dec, flags = ',', c.flags
		}
		x, ok := parseFloat(v, dec, flags, fbuf)
		if ok {
			c.f64.Append(x)
		}
		return ok
	case kBool:
		x, ok := parseBool(v, c.boolNum)
		if ok {
			c.bl.Append(x)
		}
		return ok
	case kDateYMD8:
		d, ok := parseDateYMD8(v)
		return c.appendDate(d, ok)
	case kDateISO:
		d, rest, ok := parseDateISO(v)
		return c.appendDate(d, ok && len(rest) == 0)
	case kDateDMY:
		d, rest, ok := parseDateDMY(v)
		return c.appendDate(d, ok && len(rest) == 0)
	case kDateFmt:
		if c.pat.days != nil {
			d, ok := c.pat.days(v)
			return c.appendDate(d, ok)
		}
		us, ok := c.pat.parse(v)
		return c.appendDate(floorDiv(us, microsPerDay), ok)
	case kTimeISO:
		us, ok := parseDatetimeISO(v)
		return c.appendTime(us, ok)
	case kTimeDMY:
		us, ok := parseDatetimeDMY(v)
		return c.appendTime(us, ok)
	case kTimeFmt:
		us, ok := c.pat.parse(v)
		return c.appendTime(us, ok)
	}
	return false
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func (c *column) appendDate(days int64, ok bool) bool {
	if ok {
		c.d32.Append(arrow.Date32(days))
	}
	return ok
}

func (c *column) appendTime(us int64, ok bool) bool {
	if ok {
		c.ts.Append(arrow.Timestamp(us))
	}
	return ok
}

// newArray hands the batch's values over as an array, and resets the
// builder.
func (c *column) newArray() arrow.Array {
	switch {
	case c.str != nil:
		c.hint = c.str.DataLen()
		return c.str.NewArray()
	case c.i64 != nil:
		return c.i64.NewArray()
	case c.f64 != nil:
		return c.f64.NewArray()
	case c.bl != nil:
		return c.bl.NewArray()
	case c.d32 != nil:
		return c.d32.NewArray()
	}
	return c.ts.NewArray()
}

// release frees the builder.
func (c *column) release() {
	switch {
	case c.str != nil:
		c.str.Release()
	case c.i64 != nil:
		c.i64.Release()
	case c.f64 != nil:
		c.f64.Release()
	case c.bl != nil:
		c.bl.Release()
	case c.d32 != nil:
		c.d32.Release()
	case c.ts != nil:
		c.ts.Release()
	}
	c.str, c.i64, c.f64, c.bl, c.d32, c.ts = nil, nil, nil, nil, nil, nil
}
