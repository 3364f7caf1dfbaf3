package postgres

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/jackc/pgx/v5/pgtype"
)

// putFunc appends one value, in PostgreSQL's binary format, to the
// builder it was made for; v is nil for NULL. The builder must have room
// for one more value (Reserve): fixed-width values are written without a
// check. Bytes of strings and binaries grow as they come (appendBytes).
type putFunc func(v []byte) error

// appendBytes appends v to b, whose room for one more value is reserved,
// the room for bytes doubling when v does not fit (ReserveData alone
// grows by what is asked, which would copy the bytes at every value).
func appendBytes(b *array.BinaryBuilder, v []byte) {
	if b.DataLen()+len(v) > b.DataCap() {
		b.ReserveData(max(len(v), b.DataCap()))
	}
	b.UnsafeAppend(v)
}

// pgType is how a PostgreSQL type is read: its Arrow type and how its
// binary values go into a builder of that type.
type pgType struct {
	arrow arrow.DataType
	put   func(b array.Builder) putFunc
}

// valueError is a value that its Arrow column cannot hold.
type valueError struct {
	value, reason, fix string
}

func (e *valueError) Error() string { return e.reason }

// textType is the type of a column read as its PostgreSQL text form:
// text types, and every type without a mapping of its own (cast to text).
var textType = pgType{arrow: arrow.BinaryTypes.String, put: putString}

// arrayElem maps the array types read as Arrow lists to their element type.
var arrayElem = map[uint32]uint32{
	pgtype.BoolArrayOID:        pgtype.BoolOID,
	pgtype.Int2ArrayOID:        pgtype.Int2OID,
	pgtype.Int4ArrayOID:        pgtype.Int4OID,
	pgtype.Int8ArrayOID:        pgtype.Int8OID,
	pgtype.Float4ArrayOID:      pgtype.Float4OID,
	pgtype.Float8ArrayOID:      pgtype.Float8OID,
	pgtype.NumericArrayOID:     pgtype.NumericOID,
	pgtype.TextArrayOID:        pgtype.TextOID,
	pgtype.VarcharArrayOID:     pgtype.VarcharOID,
	pgtype.BPCharArrayOID:      pgtype.BPCharOID,
	pgtype.NameArrayOID:        pgtype.NameOID,
	pgtype.DateArrayOID:        pgtype.DateOID,
	pgtype.TimestampArrayOID:   pgtype.TimestampOID,
	pgtype.TimestamptzArrayOID: pgtype.TimestamptzOID,
	pgtype.UUIDArrayOID:        pgtype.UUIDOID,
	pgtype.JSONArrayOID:        pgtype.JSONOID,
	pgtype.JSONBArrayOID:       pgtype.JSONBOID,
	pgtype.ByteaArrayOID:       pgtype.ByteaOID,
}

// typeFor returns how a column of type oid (with its type modifier) is
// read; false means it is read as text, cast by the query.
func typeFor(oid uint32, typmod int32) (pgType, bool) {
	if elem, ok := arrayElem[oid]; ok {
		t, ok := scalarType(elem, typmod)
		if !ok {
			return pgType{}, false
		}
		return pgType{arrow: arrow.ListOf(t.arrow), put: func(b array.Builder) putFunc {
			lb := b.(*array.ListBuilder)
			return putList(lb, t.put(lb.ValueBuilder()))
		}}, true
	}
	return scalarType(oid, typmod)
}

func scalarType(oid uint32, typmod int32) (pgType, bool) {
	switch oid {
	case pgtype.BoolOID:
		return pgType{arrow.FixedWidthTypes.Boolean, putBool}, true
	case pgtype.Int2OID:
		return pgType{arrow.PrimitiveTypes.Int16, putInt2}, true
	case pgtype.Int4OID:
		return pgType{arrow.PrimitiveTypes.Int32, putInt4}, true
	case pgtype.Int8OID:
		return pgType{arrow.PrimitiveTypes.Int64, putInt8}, true
	case pgtype.Float4OID:
		return pgType{arrow.PrimitiveTypes.Float32, putFloat4}, true
	case pgtype.Float8OID:
		return pgType{arrow.PrimitiveTypes.Float64, putFloat8}, true
	case pgtype.NumericOID:
		if p, s, ok := numericTypmod(typmod); ok {
			return pgType{&arrow.Decimal128Type{Precision: p, Scale: s}, putDecimal(p, s)}, true
		}
		// No precision, or more than decimal128 holds: a double.
		return pgType{arrow.PrimitiveTypes.Float64, putNumericFloat}, true
	case pgtype.TextOID, pgtype.VarcharOID, pgtype.BPCharOID, pgtype.NameOID, pgtype.JSONOID:
		return textType, true
	case pgtype.JSONBOID:
		return pgType{arrow.BinaryTypes.String, putJSONB}, true
	case pgtype.DateOID:
		return pgType{arrow.FixedWidthTypes.Date32, putDate}, true
	case pgtype.TimestampOID:
		return pgType{&arrow.TimestampType{Unit: arrow.Microsecond}, putTimestamp}, true
	case pgtype.TimestamptzOID:
		return pgType{&arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, putTimestamp}, true
	case pgtype.UUIDOID:
		return pgType{arrow.BinaryTypes.String, putUUID}, true
	case pgtype.ByteaOID:
		return pgType{arrow.BinaryTypes.Binary, putBytea}, true
	}
	return pgType{}, false
}

// numericTypmod decodes numeric(p,s) from its type modifier: false when
// the column has no precision, or one decimal128 cannot hold (p > 38, or a
// negative scale).
func numericTypmod(typmod int32) (p, s int32, ok bool) {
	if typmod < 4 {
		return 0, 0, false
	}
	t := typmod - 4
	p = (t >> 16) & 0xffff
	s = ((t & 0x7ff) ^ 1024) - 1024 // an 11-bit signed scale since PostgreSQL 15
	if p < 1 || p > 38 || s < 0 || s > p {
		return 0, 0, false
	}
	return p, s, true
}

// sizeError is a binary value whose length its type does not have.
func sizeError(v []byte, want string) error {
	return fmt.Errorf("a binary value of %d bytes, want %s", len(v), want)
}

// putList reads PostgreSQL's binary arrays: ndim, has-null flag, element
// type, (size, lower bound) per dimension, then each element as an int32
// length (-1 for NULL) and its bytes.
func putList(lb *array.ListBuilder, elem putFunc) putFunc {
	return func(v []byte) error {
		if v == nil {
			lb.AppendNull()
			return nil
		}
		if len(v) < 12 {
			return sizeError(v, "an array")
		}
		ndim := int(int32(binary.BigEndian.Uint32(v)))
		if ndim > 1 {
			return &valueError{
				value:  fmt.Sprintf("an array of %d dimensions", ndim),
				reason: "multi-dimensional arrays are not read",
				fix:    "read the column as text (col::text) or unnest it in source.query",
			}
		}
		lb.Append(true)
		if ndim <= 0 {
			return nil
		}
		if len(v) < 20 {
			return sizeError(v, "a one-dimensional array")
		}
		n := int(int32(binary.BigEndian.Uint32(v[12:])))
		if n < 0 || n > len(v)/4 {
			return sizeError(v, "a complete array")
		}
		lb.ValueBuilder().Reserve(n)
		rest := v[20:]
		for range n {
			if len(rest) < 4 {
				return sizeError(v, "a complete array")
			}
			l := int(int32(binary.BigEndian.Uint32(rest)))
			rest = rest[4:]
			if l < 0 {
				if err := elem(nil); err != nil {
					return err
				}
				continue
			}
			if l > len(rest) {
				return sizeError(v, "a complete array")
			}
			if err := elem(rest[:l:l]); err != nil {
				return err
			}
			rest = rest[l:]
		}
		return nil
	}
}

func putBool(b array.Builder) putFunc {
	bb := b.(*array.BooleanBuilder)
	return func(v []byte) error {
		switch {
		case v == nil:
			bb.UnsafeAppendBoolToBitmap(false)
		case len(v) != 1:
			return sizeError(v, "1")
		default:
			bb.UnsafeAppend(v[0] != 0)
		}
		return nil
	}
}

func putInt2(b array.Builder) putFunc {
	ib := b.(*array.Int16Builder)
	return func(v []byte) error {
		switch {
		case v == nil:
			ib.UnsafeAppendBoolToBitmap(false)
		case len(v) != 2:
			return sizeError(v, "2")
		default:
			ib.UnsafeAppend(int16(binary.BigEndian.Uint16(v)))
		}
		return nil
	}
}

func putInt4(b array.Builder) putFunc {
	ib := b.(*array.Int32Builder)
	return func(v []byte) error {
		switch {
		case v == nil:
			ib.UnsafeAppendBoolToBitmap(false)
		case len(v) != 4:
			return sizeError(v, "4")
		default:
			ib.UnsafeAppend(int32(binary.BigEndian.Uint32(v)))
		}
		return nil
	}
}

func putInt8(b array.Builder) putFunc {
	ib := b.(*array.Int64Builder)
	return func(v []byte) error {
		switch {
		case v == nil:
			ib.UnsafeAppendBoolToBitmap(false)
		case len(v) != 8:
			return sizeError(v, "8")
		default:
			ib.UnsafeAppend(int64(binary.BigEndian.Uint64(v)))
		}
		return nil
	}
}

func putFloat4(b array.Builder) putFunc {
	fb := b.(*array.Float32Builder)
	return func(v []byte) error {
		switch {
		case v == nil:
			fb.UnsafeAppendBoolToBitmap(false)
		case len(v) != 4:
			return sizeError(v, "4")
		default:
			fb.UnsafeAppend(math.Float32frombits(binary.BigEndian.Uint32(v)))
		}
		return nil
	}
}

func putFloat8(b array.Builder) putFunc {
	fb := b.(*array.Float64Builder)
	return func(v []byte) error {
		switch {
		case v == nil:
			fb.UnsafeAppendBoolToBitmap(false)
		case len(v) != 8:
			return sizeError(v, "8")
		default:
			fb.UnsafeAppend(math.Float64frombits(binary.BigEndian.Uint64(v)))
		}
		return nil
	}
}

// putString appends text as it is: text, varchar, char(n), name, json,
// and the columns cast to text.
func putString(b array.Builder) putFunc {
	sb := b.(*array.StringBuilder)
	return func(v []byte) error {
		if v == nil {
			sb.AppendNull()
			return nil
		}
		appendBytes(sb.BinaryBuilder, v)
		return nil
	}
}

// putJSONB appends a jsonb's text: its binary form is a version byte, 1,
// then the text.
func putJSONB(b array.Builder) putFunc {
	sb := b.(*array.StringBuilder)
	return func(v []byte) error {
		switch {
		case v == nil:
			sb.AppendNull()
		case len(v) == 0 || v[0] != 1:
			return fmt.Errorf("a jsonb value of an unknown version")
		default:
			appendBytes(sb.BinaryBuilder, v[1:])
		}
		return nil
	}
}

func putBytea(b array.Builder) putFunc {
	bb := b.(*array.BinaryBuilder)
	return func(v []byte) error {
		if v == nil {
			bb.AppendNull()
			return nil
		}
		appendBytes(bb, v)
		return nil
	}
}

func putUUID(b array.Builder) putFunc {
	sb := b.(*array.StringBuilder)
	var buf [36]byte
	return func(u []byte) error {
		switch {
		case u == nil:
			sb.AppendNull()
			return nil
		case len(u) != 16:
			return sizeError(u, "16")
		}
		hex.Encode(buf[0:8], u[0:4])
		buf[8] = '-'
		hex.Encode(buf[9:13], u[4:6])
		buf[13] = '-'
		hex.Encode(buf[14:18], u[6:8])
		buf[18] = '-'
		hex.Encode(buf[19:23], u[8:10])
		buf[23] = '-'
		hex.Encode(buf[24:], u[10:])
		appendBytes(sb.BinaryBuilder, buf[:])
		return nil
	}
}

// infinite is the error of an infinite date or time, which Arrow cannot
// hold.
func infinite(negative bool) error {
	value := "infinity"
	if negative {
		value = "-infinity"
	}
	return &valueError{value: value, reason: "an infinite date or time has no Arrow value",
		fix: "replace it in source.query, e.g. NULLIF(col, 'infinity')"}
}

// Dates and times count from 2000-01-01 in PostgreSQL, from 1970-01-01 in
// Arrow.
const (
	pgEpochDays   = 10957
	pgEpochMicros = pgEpochDays * 86400 * 1_000_000
)

func putDate(b array.Builder) putFunc {
	db := b.(*array.Date32Builder)
	return func(v []byte) error {
		switch {
		case v == nil:
			db.UnsafeAppendBoolToBitmap(false)
			return nil
		case len(v) != 4:
			return sizeError(v, "4")
		}
		d := int32(binary.BigEndian.Uint32(v))
		if d == math.MaxInt32 || d == math.MinInt32 {
			return infinite(d < 0)
		}
		db.UnsafeAppend(arrow.Date32(d + pgEpochDays))
		return nil
	}
}

func putTimestamp(b array.Builder) putFunc {
	tb := b.(*array.TimestampBuilder)
	return func(v []byte) error {
		switch {
		case v == nil:
			tb.UnsafeAppendBoolToBitmap(false)
			return nil
		case len(v) != 8:
			return sizeError(v, "8")
		}
		t := int64(binary.BigEndian.Uint64(v))
		if t == math.MaxInt64 || t == math.MinInt64 {
			return infinite(t < 0)
		}
		tb.UnsafeAppend(arrow.Timestamp(t + pgEpochMicros))
		return nil
	}
}

// numeric is a binary numeric: its base-10000 digits, the weight of the
// first, its sign.
type numeric struct {
	digits []byte // ndigits big-endian int16
	weight int
	sign   uint16
}

const (
	numericNeg    = 0x4000
	numericNaN    = 0xC000
	numericPosInf = 0xD000
	numericNegInf = 0xF000
)

func parseNumeric(v []byte) (numeric, error) {
	if len(v) < 8 {
		return numeric{}, sizeError(v, "a numeric")
	}
	n := int(binary.BigEndian.Uint16(v))
	if len(v) != 8+2*n {
		return numeric{}, sizeError(v, "a numeric")
	}
	return numeric{digits: v[8:], weight: int(int16(binary.BigEndian.Uint16(v[2:]))), sign: binary.BigEndian.Uint16(v[4:])}, nil
}

// special is the text of NaN and the infinities; "" for a number.
func (n numeric) special() string {
	switch n.sign {
	case numericNaN:
		return "NaN"
	case numericPosInf:
		return "infinity"
	case numericNegInf:
		return "-infinity"
	}
	return ""
}

// exp is the power of ten of the last digit.
func (n numeric) exp() int { return 4 * (n.weight - len(n.digits)/2 + 1) }

// small returns the digits as an integer when they fit in 16 decimal
// digits.
func (n numeric) small() (uint64, bool) {
	if len(n.digits) > 8 {
		return 0, false
	}
	var x uint64
	for i := 0; i < len(n.digits); i += 2 {
		x = x*10000 + uint64(binary.BigEndian.Uint16(n.digits[i:]))
	}
	return x, true
}

// appendDigits appends the digits as a decimal integer.
func (n numeric) appendDigits(b []byte) []byte {
	if n.sign == numericNeg {
		b = append(b, '-')
	}
	if len(n.digits) == 0 {
		return append(b, '0')
	}
	for i := 0; i < len(n.digits); i += 2 {
		d := binary.BigEndian.Uint16(n.digits[i:])
		if i == 0 {
			b = strconv.AppendUint(b, uint64(d), 10)
			continue
		}
		b = append(b, byte('0'+d/1000), byte('0'+d/100%10), byte('0'+d/10%10), byte('0'+d%10))
	}
	return b
}

// String is the value as <digits>e<exp>.
func (n numeric) String() string {
	if s := n.special(); s != "" {
		return s
	}
	b := n.appendDigits(nil)
	if len(n.digits) == 0 {
		return string(b)
	}
	return string(strconv.AppendInt(append(b, 'e'), int64(n.exp()), 10))
}

// pow10u holds the powers of ten that a uint64 holds.
var pow10u = func() (p [20]uint64) {
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// float returns the nearest double.
func (n numeric) float() float64 {
	switch n.sign {
	case numericNaN:
		return math.NaN()
	case numericPosInf:
		return math.Inf(1)
	case numericNegInf:
		return math.Inf(-1)
	}
	if len(n.digits) == 0 {
		return 0
	}
	e := n.exp()
	if x, ok := n.small(); ok && x < 1<<53 && e >= -22 && e <= 22 {
		// Both exact: one correctly rounded operation.
		f := float64(x)
		if e < 0 {
			f /= pow10[-e]
		} else {
			f *= pow10[e]
		}
		if n.sign == numericNeg {
			f = -f
		}
		return f
	}
	var buf [64]byte
	b := strconv.AppendInt(append(n.appendDigits(buf[:0]), 'e'), int64(e), 10)
	f, _ := strconv.ParseFloat(string(b), 64) // out of range: ±Inf or 0, as PostgreSQL's float8 cast would fail
	return f
}

// putNumericFloat appends numerics of a column without a precision as
// doubles.
func putNumericFloat(b array.Builder) putFunc {
	fb := b.(*array.Float64Builder)
	return func(v []byte) error {
		if v == nil {
			fb.UnsafeAppendBoolToBitmap(false)
			return nil
		}
		n, err := parseNumeric(v)
		if err != nil {
			return err
		}
		fb.UnsafeAppend(n.float())
		return nil
	}
}

// putDecimal appends numerics of a numeric(p,s) column, exactly.
func putDecimal(p, s int32) func(array.Builder) putFunc {
	var limit int64 // 10^p, for the common p <= 18
	if p <= 18 {
		limit = int64(pow10u[p])
	}
	return func(b array.Builder) putFunc {
		db := b.(*array.Decimal128Builder)
		return func(v []byte) error {
			if v == nil {
				db.UnsafeAppendBoolToBitmap(false)
				return nil
			}
			n, err := parseNumeric(v)
			if err != nil {
				return err
			}
			if x, ok := n.scaled(s); ok && p <= 18 && -limit < x && x < limit {
				db.UnsafeAppend(decimal128.FromI64(x))
				return nil
			}
			if text := n.special(); text != "" {
				return &valueError{value: text, reason: fmt.Sprintf("not a number that decimal(%d,%d) holds", p, s),
					fix: "replace it in source.query, e.g. NULLIF(col, 'NaN'), or cast the column to float8"}
			}
			d, ok := n.decimal(s)
			if !ok || !d.FitsInPrecision(p) {
				return &valueError{value: n.String(), reason: fmt.Sprintf("does not fit decimal(%d,%d)", p, s),
					fix: "check the column's type in PostgreSQL"}
			}
			db.UnsafeAppend(d)
			return nil
		}
	}
}

// scaled returns the number as an integer of scale digits after the
// point: false when it has more than 16 decimal digits, is not a number, or
// that integer would lose digits or reach 10^18. It is the common case of
// decimal, without 128-bit arithmetic.
func (n numeric) scaled(scale int32) (int64, bool) {
	if n.sign != 0 && n.sign != numericNeg {
		return 0, false
	}
	x, ok := n.small()
	if !ok {
		return 0, false
	}
	if len(n.digits) == 0 {
		return 0, true
	}
	switch shift := n.exp() + int(scale); {
	case shift >= 0 && shift <= 18:
		hi, lo := bits.Mul64(x, pow10u[shift])
		if hi != 0 || lo >= pow10u[18] {
			return 0, false
		}
		x = lo
	case shift == -1 && x%10 == 0:
		x /= 10
	case shift == -2 && x%100 == 0:
		x /= 100
	case shift == -3 && x%1000 == 0:
		x /= 1000
	default:
		return 0, false
	}
	if n.sign == numericNeg {
		return -int64(x), true
	}
	return int64(x), true
}

// decimal returns the number as a decimal of the given scale, false when
// it would lose digits or overflow.
func (n numeric) decimal(scale int32) (decimal128.Num, bool) {
	if len(n.digits) == 0 {
		return decimal128.Num{}, true
	}
	shift := int32(n.exp()) + scale
	if x, ok := n.small(); ok && shift >= -19 && shift <= 19 {
		// x is below 10^16: x * 10^shift fits in 128 bits.
		var d decimal128.Num
		if shift >= 0 {
			hi, lo := bits.Mul64(x, pow10u[shift])
			d = decimal128.New(int64(hi), lo)
		} else {
			p := pow10u[-shift]
			if x%p != 0 {
				return decimal128.Num{}, false
			}
			d = decimal128.New(0, x/p)
		}
		if n.sign == numericNeg {
			d = d.Negate()
		}
		return d, true
	}
	i, ok := new(big.Int).SetString(string(n.appendDigits(nil)), 10)
	if !ok {
		return decimal128.Num{}, false
	}
	return toDecimal(i, shift)
}

// toDecimal returns i * 10^shift, false when it would lose digits or
// overflow.
func toDecimal(i *big.Int, shift int32) (decimal128.Num, bool) {
	x := i
	pow := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(shift))), nil)
	if shift >= 0 {
		x.Mul(x, pow)
	} else {
		var rem big.Int
		x.QuoRem(x, pow, &rem)
		if rem.Sign() != 0 {
			return decimal128.Num{}, false
		}
	}
	if x.BitLen() > 127 {
		return decimal128.Num{}, false
	}
	return decimal128.FromBigInt(x), true
}

func abs(x int32) int32 {
	if x < 0 {
		return -x
	}
	return x
}
