package jsonsrc

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// badValue is a value that its column's type cannot hold.
type badValue struct {
	path    string // the column, or the nested field: adresse.ville
	value   string // as JSON text
	reason  string
	unknown bool // a field that the sample did not have
}

// append appends v (nil when the record has no such key) to b, the
// builder of the node's type.
func (n *node) append(b array.Builder, v *value) *badValue {
	if v == nil || v.kind == vNull {
		b.AppendNull()
		return nil
	}
	lenient := n.declared()
	switch n.kind {
	case kBool:
		switch {
		case v.kind == vBool:
			b.(*array.BooleanBuilder).Append(v.b)
			return nil
		case lenient && v.kind == vString:
			if t, err := strconv.ParseBool(strings.TrimSpace(v.s)); err == nil {
				b.(*array.BooleanBuilder).Append(t)
				return nil
			}
		}
	case kInt:
		switch {
		case v.kind == vNumber:
			if i, ok := asInt(v.s); ok {
				b.(*array.Int64Builder).Append(i)
				return nil
			}
		case lenient && v.kind == vString:
			if i, ok := asInt(strings.TrimSpace(v.s)); ok {
				b.(*array.Int64Builder).Append(i)
				return nil
			}
		}
	case kFloat:
		switch {
		case v.kind == vNumber:
			if f, ok := asFloat(v.s); ok {
				b.(*array.Float64Builder).Append(f)
				return nil
			}
			return &badValue{path: n.path, value: v.s, reason: "a number beyond the range of a double (about ±1.8e308)"}
		case lenient && v.kind == vString:
			if f, ok := asFloat(strings.TrimSpace(v.s)); ok {
				b.(*array.Float64Builder).Append(f)
				return nil
			}
		}
	case kDate:
		if v.kind == vString {
			if n.lay != "" {
				if t, ok := n.lay.parse(v.s); ok {
					b.(*array.Date32Builder).Append(arrow.Date32FromTime(t))
					return nil
				}
			} else if d, ok := parseDate(v.s); ok {
				b.(*array.Date32Builder).Append(d)
				return nil
			}
		}
	case kDatetime:
		if v.kind == vString {
			if n.lay != "" {
				if t, ok := n.lay.parse(v.s); ok {
					b.(*array.TimestampBuilder).Append(arrow.Timestamp(t.UnixMicro()))
					return nil
				}
			} else if us, _, ok := parseDatetime(v.s); ok {
				b.(*array.TimestampBuilder).Append(arrow.Timestamp(us))
				return nil
			} else if d, ok := parseDate(v.s); ok {
				b.(*array.TimestampBuilder).Append(arrow.Timestamp(int64(d) * 86_400_000_000))
				return nil
			}
		}
	case kString:
		if v.kind == vString {
			b.(*array.StringBuilder).Append(v.s)
			return nil
		}
		if lenient {
			b.(*array.StringBuilder).Append(v.text())
			return nil
		}
	case kJSON:
		b.(*array.StringBuilder).Append(v.text())
		return nil
	case kStruct:
		if v.kind == vObject {
			return n.appendStruct(b.(*array.StructBuilder), v)
		}
	case kList:
		if v.kind == vArray {
			lb := b.(*array.ListBuilder)
			lb.Append(true)
			vb := lb.ValueBuilder()
			for i := range v.arr {
				if bad := n.elem.append(vb, &v.arr[i]); bad != nil {
					return bad
				}
			}
			return nil
		}
	}
	return &badValue{path: n.path, value: v.text(), reason: n.mismatch(v)}
}

// appendStruct appends an object to a struct column.
func (n *node) appendStruct(sb *array.StructBuilder, v *value) *badValue {
	clear(n.slots)
	for i := range v.obj {
		m := &v.obj[i]
		k, ok := n.byKey[m.key]
		if !ok {
			if m.val.isEmpty() {
				continue
			}
			return &badValue{path: n.path + "." + m.key, value: m.val.text(), unknown: true}
		}
		n.slots[k] = &m.val
	}
	sb.Append(true)
	for i, kid := range n.kids {
		if bad := kid.append(sb.FieldBuilder(i), n.slots[i]); bad != nil {
			return bad
		}
	}
	return nil
}

// mismatch says why v does not fit the node.
func (n *node) mismatch(v *value) string {
	want := n.kind.describe()
	if n.lay != "" {
		want = fmt.Sprintf("a date in the declared format %q", n.decl.Format)
	}
	if n.declared() {
		return fmt.Sprintf("%s, not %s as the registration's schema declares (%s)", v.kind, want, n.decl.Type)
	}
	return fmt.Sprintf("%s, not %s", v.kind, want)
}
