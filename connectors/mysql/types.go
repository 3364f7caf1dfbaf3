package mysql

import (
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
)

// kind is how a column's values are read.
type kind int

const (
	kindString kind = iota
	kindBool
	kindInt64
	kindUint64
	kindFloat32
	kindFloat64
	kindDecimal
	kindDate
	kindTimestamp
	kindBinary
	kindBit
)

// column is a column of the result and how it is read.
type column struct {
	name     string // as the server names it
	dbType   string // the driver's name of its type: INT, UNSIGNED BIGINT, ...
	kind     kind
	prec, sc int32 // of a decimal
}

// infoColumn is what information_schema says of a table's column: the
// protocol does not tell tinyint(1) from tinyint, nor an unsigned decimal's
// precision.
type infoColumn struct {
	columnType string // lower case: "tinyint(1)", "decimal(12,2) unsigned"
	prec, sc   sql.NullInt64
}

// newColumn settles how a column is read from its driver type and, for a
// table, what information_schema says of it.
func newColumn(ct *sql.ColumnType, info *infoColumn) column {
	c := column{name: ct.Name(), dbType: ct.DatabaseTypeName()}
	if info != nil {
		switch info.columnType {
		case "tinyint(1)", "bit(1)":
			c.kind = kindBool
			return c
		}
	}
	switch c.dbType {
	case "TINYINT", "SMALLINT", "MEDIUMINT", "INT", "BIGINT", "YEAR",
		"UNSIGNED TINYINT", "UNSIGNED SMALLINT", "UNSIGNED MEDIUMINT", "UNSIGNED INT":
		c.kind = kindInt64
	case "UNSIGNED BIGINT":
		c.kind = kindUint64
	case "FLOAT":
		c.kind = kindFloat32
	case "DOUBLE":
		c.kind = kindFloat64
	case "DECIMAL":
		p, s, ok := ct.DecimalSize()
		if info != nil && info.prec.Valid && info.sc.Valid {
			p, s, ok = info.prec.Int64, info.sc.Int64, true
		}
		c.kind = kindFloat64 // more digits than decimal128 holds
		if ok && p >= 1 && p <= 38 && s >= 0 && s <= p {
			c.kind, c.prec, c.sc = kindDecimal, int32(p), int32(s)
		}
	case "DATE":
		c.kind = kindDate
	case "DATETIME", "TIMESTAMP":
		c.kind = kindTimestamp
	case "BIT":
		c.kind = kindBit
	case "BLOB", "TINYBLOB", "MEDIUMBLOB", "LONGBLOB", "BINARY", "VARBINARY", "GEOMETRY", "VECTOR":
		c.kind = kindBinary
	default: // CHAR, VARCHAR, TEXT..., ENUM, SET, JSON, TIME, NULL
		c.kind = kindString
	}
	return c
}

// arrowType is the column's Arrow type.
func (c column) arrowType() arrow.DataType {
	switch c.kind {
	case kindBool:
		return arrow.FixedWidthTypes.Boolean
	case kindInt64:
		return arrow.PrimitiveTypes.Int64
	case kindUint64, kindBit:
		return arrow.PrimitiveTypes.Uint64
	case kindFloat32:
		return arrow.PrimitiveTypes.Float32
	case kindFloat64:
		return arrow.PrimitiveTypes.Float64
	case kindDecimal:
		return &arrow.Decimal128Type{Precision: c.prec, Scale: c.sc}
	case kindDate:
		return arrow.FixedWidthTypes.Date32
	case kindTimestamp:
		return &arrow.TimestampType{Unit: arrow.Microsecond}
	case kindBinary:
		return arrow.BinaryTypes.Binary
	}
	return arrow.BinaryTypes.String
}

// param is the SQL that reads the cursor's text back as the column's type,
// so that the comparison is the column's and not, as MySQL does between a
// number and a string, one of doubles.
func (c column) param() string {
	switch c.kind {
	case kindInt64, kindBool:
		return "CAST(? AS SIGNED)"
	case kindUint64, kindBit:
		return "CAST(? AS UNSIGNED)"
	case kindDecimal:
		return fmt.Sprintf("CAST(? AS DECIMAL(%d,%d))", c.prec, c.sc)
	case kindDate:
		return "CAST(? AS DATE)"
	case kindTimestamp:
		return "CAST(? AS DATETIME(6))"
	}
	return "?"
}

// valueError is a value that its Arrow column cannot hold.
type valueError struct {
	column             int // index in the result
	value, reason, fix string
}

func (e *valueError) Error() string { return e.reason }

// cell receives a column's value of each row from database/sql, and
// appends it to the column's builder at once: the driver's bytes are only
// valid until the next row.
type cell struct {
	index int // in the result
	col   *column
	b     array.Builder
	hash  *rowHash
	size  *int
}

var _ sql.Scanner = (*cell)(nil)

// Scan appends src, a value of the driver: nil, int64, uint64, float32,
// float64, []byte or time.Time.
func (c *cell) Scan(src any) error {
	err := c.scan(src)
	var ve *valueError
	if errors.As(err, &ve) {
		ve.column = c.index
	}
	return err
}

func (c *cell) scan(src any) error {
	c.hash.value(src)
	if b, ok := src.([]byte); ok {
		*c.size += len(b)
	}
	if src == nil {
		c.b.AppendNull()
		return nil
	}
	switch c.col.kind {
	case kindBool:
		if b, ok := src.([]byte); ok && c.col.dbType == "BIT" {
			// bit(1): the bit itself, not its digits.
			c.b.(*array.BooleanBuilder).Append(strings.Trim(string(b), "\x00") != "")
			return nil
		}
		n, err := toInt(src)
		if err != nil {
			return err
		}
		c.b.(*array.BooleanBuilder).Append(n != 0)
	case kindInt64:
		n, err := toInt(src)
		if err != nil {
			return err
		}
		c.b.(*array.Int64Builder).Append(n)
	case kindUint64:
		n, err := toUint(src)
		if err != nil {
			return err
		}
		c.b.(*array.Uint64Builder).Append(n)
	case kindBit:
		b, ok := src.([]byte)
		if !ok || len(b) > 8 {
			return unexpected(src, "a BIT value")
		}
		var buf [8]byte
		copy(buf[8-len(b):], b)
		c.b.(*array.Uint64Builder).Append(binary.BigEndian.Uint64(buf[:]))
	case kindFloat32:
		f, err := toFloat(src, 32)
		if err != nil {
			return err
		}
		c.b.(*array.Float32Builder).Append(float32(f))
	case kindFloat64:
		f, err := toFloat(src, 64)
		if err != nil {
			return err
		}
		c.b.(*array.Float64Builder).Append(f)
	case kindDecimal:
		text := toBytes(src)
		n, ok := parseDecimal(text, c.col.prec, c.col.sc)
		if !ok {
			return &valueError{value: string(text), reason: fmt.Sprintf("not a decimal(%d,%d)", c.col.prec, c.col.sc),
				fix: fmt.Sprintf("cast the column in source.query, e.g. CAST(col AS DECIMAL(%d,%d))", min(c.col.prec+1, 38), c.col.sc)}
		}
		c.b.(*array.Decimal128Builder).Append(n)
	case kindDate, kindTimestamp:
		t, ok := src.(time.Time)
		if !ok {
			return unexpected(src, "a date")
		}
		if t.IsZero() {
			// MySQL's zero date, 0000-00-00: no date.
			c.b.AppendNull()
			return nil
		}
		if c.col.kind == kindDate {
			c.b.(*array.Date32Builder).Append(arrow.Date32FromTime(t))
		} else {
			c.b.(*array.TimestampBuilder).Append(arrow.Timestamp(t.UnixMicro()))
		}
	case kindBinary:
		c.b.(*array.BinaryBuilder).Append(toBytes(src))
	default:
		if t, ok := src.(time.Time); ok {
			c.b.(*array.StringBuilder).Append(t.Format("2006-01-02 15:04:05.999999"))
			return nil
		}
		c.b.(*array.StringBuilder).BinaryBuilder.Append(toBytes(src))
	}
	return nil
}

func unexpected(src any, what string) error {
	return &valueError{value: fmt.Sprint(src), reason: fmt.Sprintf("the driver gave %T, not %s", src, what), fix: "cast the column in source.query"}
}

func toInt(src any) (int64, error) {
	switch v := src.(type) {
	case int64:
		return v, nil
	case uint64:
		if v <= math.MaxInt64 {
			return int64(v), nil
		}
	case []byte:
		if n, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return n, nil
		}
	}
	return 0, unexpected(src, "an integer")
}

func toUint(src any) (uint64, error) {
	switch v := src.(type) {
	case uint64:
		return v, nil
	case int64:
		if v >= 0 {
			return uint64(v), nil
		}
	case []byte:
		if n, err := strconv.ParseUint(string(v), 10, 64); err == nil {
			return n, nil
		}
	}
	return 0, unexpected(src, "an unsigned integer")
}

func toFloat(src any, bits int) (float64, error) {
	switch v := src.(type) {
	case float64:
		return v, nil
	case float32:
		return float64(v), nil
	case int64:
		return float64(v), nil
	case uint64:
		return float64(v), nil
	case []byte:
		if f, err := strconv.ParseFloat(string(v), bits); err == nil {
			return f, nil
		}
	}
	return 0, unexpected(src, "a number")
}

func toBytes(src any) []byte {
	switch v := src.(type) {
	case []byte:
		return v
	case string:
		return []byte(v)
	}
	return []byte(fmt.Sprint(src))
}

var ten = decimal128.FromU64(10)

// parseDecimal reads a decimal as MySQL writes it ("-123.45") exactly, at
// the given scale; false when it is not one or does not fit.
func parseDecimal(b []byte, prec, scale int32) (decimal128.Num, bool) {
	s := strings.TrimSpace(string(b))
	if !strings.ContainsAny(s, "0123456789") {
		return decimal128.Num{}, false
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimLeft(strings.TrimPrefix(strings.TrimPrefix(s, "-"), "+"), "0")
	whole, frac, _ := strings.Cut(s, ".")
	if int32(len(frac)) > scale {
		// More decimals than the scale: only zeros may be dropped.
		if strings.Trim(frac[scale:], "0") != "" {
			return decimal128.Num{}, false
		}
		frac = frac[:scale]
	}
	digits := whole + frac + strings.Repeat("0", int(scale)-len(frac))
	digits = strings.TrimLeft(digits, "0")
	if len(digits) > int(prec) || len(digits) > 38 {
		return decimal128.Num{}, false
	}
	var n decimal128.Num
	for _, d := range []byte(digits) {
		if d < '0' || d > '9' {
			return decimal128.Num{}, false
		}
		n = n.Mul(ten).Add(decimal128.FromU64(uint64(d - '0')))
	}
	if neg {
		n = n.Negate()
	}
	return n, true
}
