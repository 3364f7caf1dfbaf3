package postgres

import (
	"encoding/hex"
	"fmt"
	"math/big"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/jackc/pgx/v5/pgtype"
)

// cell is where one column's value of the current row is scanned, and how
// it goes into the column's Arrow builder.
type cell struct {
	target any
	put    func(b array.Builder) error
}

// pgType is how a PostgreSQL type is read: its Arrow type and the cells of
// a scalar column and of an array column of it.
type pgType struct {
	arrow arrow.DataType
	cell  func() cell
	list  func() cell // nil: no arrays of it
}

// valueError is a value that its Arrow column cannot hold.
type valueError struct {
	value, reason, fix string
}

func (e *valueError) Error() string { return e.reason }

// textType is the type of a column read as its PostgreSQL text form:
// text types, and every type without a mapping of its own (cast to text).
var textType = pgType{
	arrow: arrow.BinaryTypes.String,
	cell: func() cell {
		v := new(pgtype.DriverBytes) // borrowed until the next row: copied by Append
		return cell{v, func(b array.Builder) error {
			sb := b.(*array.StringBuilder)
			if *v == nil {
				sb.AppendNull()
				return nil
			}
			sb.BinaryBuilder.Append(*v)
			return nil
		}}
	},
	list: func() cell {
		v := new(pgtype.Array[pgtype.Text])
		return cell{v, func(b array.Builder) error { return putList(b, v, putText) }}
	},
}

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
		return pgType{arrow: arrow.ListOf(t.arrow), cell: t.list}, true
	}
	return scalarType(oid, typmod)
}

func scalarType(oid uint32, typmod int32) (pgType, bool) {
	switch oid {
	case pgtype.BoolOID:
		return kind(arrow.FixedWidthTypes.Boolean, putBool), true
	case pgtype.Int2OID:
		return kind(arrow.PrimitiveTypes.Int16, putInt2), true
	case pgtype.Int4OID:
		return kind(arrow.PrimitiveTypes.Int32, putInt4), true
	case pgtype.Int8OID:
		return kind(arrow.PrimitiveTypes.Int64, putInt8), true
	case pgtype.Float4OID:
		return kind(arrow.PrimitiveTypes.Float32, putFloat4), true
	case pgtype.Float8OID:
		return kind(arrow.PrimitiveTypes.Float64, putFloat8), true
	case pgtype.NumericOID:
		if p, s, ok := numericTypmod(typmod); ok {
			return kind(&arrow.Decimal128Type{Precision: p, Scale: s}, putDecimal(p, s)), true
		}
		// No precision, or more than decimal128 holds: a double.
		return kind(arrow.PrimitiveTypes.Float64, putFloat8), true
	case pgtype.TextOID, pgtype.VarcharOID, pgtype.BPCharOID, pgtype.NameOID:
		return textType, true
	case pgtype.DateOID:
		return kind(arrow.FixedWidthTypes.Date32, putDate), true
	case pgtype.TimestampOID:
		return kind(&arrow.TimestampType{Unit: arrow.Microsecond}, putTimestamp), true
	case pgtype.TimestamptzOID:
		return kind(&arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, putTimestamptz), true
	case pgtype.UUIDOID:
		return kind(arrow.BinaryTypes.String, putUUID), true
	case pgtype.JSONOID, pgtype.JSONBOID:
		return kind(arrow.BinaryTypes.String, putJSON), true
	case pgtype.ByteaOID:
		return kind(arrow.BinaryTypes.Binary, putBytea), true
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

// kind is the pgType whose values scan into a T and go into a builder with
// put, in scalar and in array columns.
func kind[T any](dt arrow.DataType, put func(array.Builder, *T) error) pgType {
	return pgType{
		arrow: dt,
		cell: func() cell {
			v := new(T)
			return cell{v, func(b array.Builder) error { return put(b, v) }}
		},
		list: func() cell {
			v := new(pgtype.Array[T])
			return cell{v, func(b array.Builder) error { return putList(b, v, put) }}
		},
	}
}

func putList[T any](b array.Builder, v *pgtype.Array[T], put func(array.Builder, *T) error) error {
	lb := b.(*array.ListBuilder)
	if !v.Valid {
		lb.AppendNull()
		return nil
	}
	if len(v.Dims) > 1 {
		return &valueError{
			value:  fmt.Sprintf("an array of %d dimensions", len(v.Dims)),
			reason: "multi-dimensional arrays are not read",
			fix:    "read the column as text (col::text) or unnest it in source.query",
		}
	}
	lb.Append(true)
	vb := lb.ValueBuilder()
	for i := range v.Elements {
		if err := put(vb, &v.Elements[i]); err != nil {
			return err
		}
	}
	return nil
}

func putBool(b array.Builder, v *pgtype.Bool) error {
	if !v.Valid {
		b.AppendNull()
		return nil
	}
	b.(*array.BooleanBuilder).Append(v.Bool)
	return nil
}

func putInt2(b array.Builder, v *pgtype.Int2) error {
	if !v.Valid {
		b.AppendNull()
		return nil
	}
	b.(*array.Int16Builder).Append(v.Int16)
	return nil
}

func putInt4(b array.Builder, v *pgtype.Int4) error {
	if !v.Valid {
		b.AppendNull()
		return nil
	}
	b.(*array.Int32Builder).Append(v.Int32)
	return nil
}

func putInt8(b array.Builder, v *pgtype.Int8) error {
	if !v.Valid {
		b.AppendNull()
		return nil
	}
	b.(*array.Int64Builder).Append(v.Int64)
	return nil
}

func putFloat4(b array.Builder, v *pgtype.Float4) error {
	if !v.Valid {
		b.AppendNull()
		return nil
	}
	b.(*array.Float32Builder).Append(v.Float32)
	return nil
}

func putFloat8(b array.Builder, v *pgtype.Float8) error {
	if !v.Valid {
		b.AppendNull()
		return nil
	}
	b.(*array.Float64Builder).Append(v.Float64)
	return nil
}

func putText(b array.Builder, v *pgtype.Text) error {
	if !v.Valid {
		b.AppendNull()
		return nil
	}
	b.(*array.StringBuilder).Append(v.String)
	return nil
}

func putJSON(b array.Builder, v *[]byte) error {
	if *v == nil {
		b.AppendNull()
		return nil
	}
	b.(*array.StringBuilder).BinaryBuilder.Append(*v)
	return nil
}

func putBytea(b array.Builder, v *[]byte) error {
	if *v == nil {
		b.AppendNull()
		return nil
	}
	b.(*array.BinaryBuilder).Append(*v)
	return nil
}

func putUUID(b array.Builder, v *pgtype.UUID) error {
	if !v.Valid {
		b.AppendNull()
		return nil
	}
	var buf [36]byte
	u := v.Bytes
	hex.Encode(buf[0:8], u[0:4])
	buf[8] = '-'
	hex.Encode(buf[9:13], u[4:6])
	buf[13] = '-'
	hex.Encode(buf[14:18], u[6:8])
	buf[18] = '-'
	hex.Encode(buf[19:23], u[8:10])
	buf[23] = '-'
	hex.Encode(buf[24:], u[10:])
	b.(*array.StringBuilder).BinaryBuilder.Append(buf[:])
	return nil
}

// infinite is the error of an infinite date or time, which Arrow cannot
// hold.
func infinite(m pgtype.InfinityModifier) error {
	return &valueError{value: m.String(), reason: "an infinite date or time has no Arrow value",
		fix: "replace it in source.query, e.g. NULLIF(col, 'infinity')"}
}

func putDate(b array.Builder, v *pgtype.Date) error {
	if !v.Valid {
		b.AppendNull()
		return nil
	}
	if v.InfinityModifier != pgtype.Finite {
		return infinite(v.InfinityModifier)
	}
	b.(*array.Date32Builder).Append(arrow.Date32FromTime(v.Time))
	return nil
}

func putTimestamp(b array.Builder, v *pgtype.Timestamp) error {
	if !v.Valid {
		b.AppendNull()
		return nil
	}
	if v.InfinityModifier != pgtype.Finite {
		return infinite(v.InfinityModifier)
	}
	b.(*array.TimestampBuilder).Append(arrow.Timestamp(v.Time.UnixMicro()))
	return nil
}

func putTimestamptz(b array.Builder, v *pgtype.Timestamptz) error {
	if !v.Valid {
		b.AppendNull()
		return nil
	}
	if v.InfinityModifier != pgtype.Finite {
		return infinite(v.InfinityModifier)
	}
	b.(*array.TimestampBuilder).Append(arrow.Timestamp(v.Time.UnixMicro()))
	return nil
}

// putDecimal appends numerics of a numeric(p,s) column, exactly.
func putDecimal(p, s int32) func(array.Builder, *pgtype.Numeric) error {
	return func(b array.Builder, v *pgtype.Numeric) error {
		if !v.Valid {
			b.AppendNull()
			return nil
		}
		if v.NaN || v.InfinityModifier != pgtype.Finite {
			text := "NaN"
			if !v.NaN {
				text = v.InfinityModifier.String()
			}
			return &valueError{value: text, reason: fmt.Sprintf("not a number that decimal(%d,%d) holds", p, s),
				fix: "replace it in source.query, e.g. NULLIF(col, 'NaN'), or cast the column to float8"}
		}
		n, ok := toDecimal(v.Int, v.Exp, s)
		if !ok || !n.FitsInPrecision(p) {
			return &valueError{value: numericString(v), reason: fmt.Sprintf("does not fit decimal(%d,%d)", p, s),
				fix: "check the column's type in PostgreSQL"}
		}
		b.(*array.Decimal128Builder).Append(n)
		return nil
	}
}

// toDecimal returns i * 10^exp as a decimal of the given scale, false when
// it would lose digits or overflow.
func toDecimal(i *big.Int, exp, scale int32) (decimal128.Num, bool) {
	if i == nil {
		return decimal128.Num{}, true
	}
	shift := exp + scale
	if i.IsInt64() && shift >= -38 && shift <= 38 {
		n, err := decimal128.FromI64(i.Int64()).Rescale(0, shift)
		return n, err == nil
	}
	x := new(big.Int).Set(i)
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

func numericString(v *pgtype.Numeric) string {
	if v.Int == nil {
		return "0"
	}
	return v.Int.String() + "e" + strconv.Itoa(int(v.Exp))
}
