package jsonsrc

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/datalab/datalab/connectors"
)

// kind is what a column (or a nested field) holds, as inferred from the
// sample or declared by the registration.
type kind uint8

const (
	kNull     kind = iota // only nulls seen so far
	kBool                 // true, false
	kInt                  // integers within int64
	kFloat                // numbers
	kDate                 // "yyyy-mm-dd"
	kDatetime             // ISO 8601 dates and times
	kString               // strings
	kJSON                 // mixed kinds: each value as its JSON text
	kStruct               // objects (nested: struct)
	kList                 // arrays
)

func (k kind) describe() string {
	return [...]string{"null", "a boolean", "an integer", "a number", "a date (yyyy-mm-dd)",
		"a date and time (ISO 8601)", "a string", "any JSON value", "an object", "an array"}[k]
}

// timestampType has no time zone unless the values say one.
var timestampType = &arrow.TimestampType{Unit: arrow.Microsecond}

// node is a column, or a field nested in one: what the sample says of its
// values, then its Arrow type.
type node struct {
	title string // the key as in the file; a flattened column's dotted path
	name  string // in the warehouse
	path  string // for messages: adresse.ville, tags[]
	kind  kind
	tz    bool              // a datetime with an offset was seen
	decl  *connectors.Field // the registration's, for a top-level column
	lay   layout            // a declared date format; "" for ISO forms
	typ   arrow.DataType    // settled
	kids  []*node           // of a struct, in the order met
	byKey map[string]int    // index in kids
	elem  *node             // of a list
	slots []*value          // scratch for a struct's values
	index int               // a column's position
}

// merge widens the node's kind to hold k too.
func (n *node) merge(k kind) {
	a := n.kind
	textual := func(k kind) bool { return k == kDate || k == kDatetime || k == kString }
	switch {
	case a == k || k == kNull || a == kJSON:
	case a == kNull:
		n.kind = k
	case a == kInt && k == kFloat || a == kFloat && k == kInt:
		n.kind = kFloat
	case a == kDate && k == kDatetime || a == kDatetime && k == kDate:
		n.kind = kDatetime
	case textual(a) && textual(k):
		n.kind = kString
	default:
		n.kind = kJSON
	}
}

// declared reports whether the registration's schema sets the node's type.
func (n *node) declared() bool { return n.decl != nil && n.decl.Type != "" }

// observe narrows the node by a value of the sample.
func (n *node) observe(v *value) {
	if n.declared() {
		if n.kind == kDatetime && v.kind == vString && n.lay == "" {
			if _, tz := stringKind(v.s); tz {
				n.tz = true
			}
		}
		return
	}
	switch v.kind {
	case vBool:
		n.merge(kBool)
	case vNumber:
		if _, ok := asInt(v.s); ok && isIntLiteral(v.s) {
			n.merge(kInt)
		} else {
			n.merge(kFloat)
		}
	case vString:
		k, tz := stringKind(v.s)
		n.merge(k)
		n.tz = n.tz || tz
	case vObject:
		n.merge(kStruct)
		if n.kind != kStruct {
			return
		}
		for i := range v.obj {
			n.kid(v.obj[i].key).observe(&v.obj[i].val)
		}
	case vArray:
		n.merge(kList)
		if n.kind != kList {
			return
		}
		if n.elem == nil {
			n.elem = &node{title: "item", path: n.path + "[]"}
		}
		for i := range v.arr {
			n.elem.observe(&v.arr[i])
		}
	}
}

// kid returns the struct field of key, made when first met.
func (n *node) kid(key string) *node {
	if i, ok := n.byKey[key]; ok {
		return n.kids[i]
	}
	if n.byKey == nil {
		n.byKey = map[string]int{}
	}
	k := &node{title: key, path: n.path + "." + key}
	n.byKey[key] = len(n.kids)
	n.kids = append(n.kids, k)
	return k
}

// settle fixes the node's Arrow type from what the sample showed: a field
// only ever null is read as JSON text, and so is an empty object.
func (n *node) settle() {
	switch n.kind {
	case kNull:
		n.kind = kJSON
	case kStruct:
		if len(n.kids) == 0 {
			n.kind = kJSON
		}
	}
	switch n.kind {
	case kBool:
		n.typ = arrow.FixedWidthTypes.Boolean
	case kInt:
		n.typ = arrow.PrimitiveTypes.Int64
	case kFloat:
		n.typ = arrow.PrimitiveTypes.Float64
	case kDate:
		n.typ = arrow.FixedWidthTypes.Date32
	case kDatetime:
		n.typ = timestampType
		if n.tz {
			n.typ = &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
		}
	case kString, kJSON:
		n.typ = arrow.BinaryTypes.String
	case kStruct:
		titles := make([]string, len(n.kids))
		for i, k := range n.kids {
			titles[i] = k.title
		}
		names := connectors.ColumnNames(titles)
		fields := make([]arrow.Field, len(n.kids))
		for i, k := range n.kids {
			k.name = names[i]
			k.settle()
			fields[i] = arrow.Field{Name: k.name, Type: k.typ, Nullable: true, Metadata: titleMeta(k.title)}
		}
		n.typ = arrow.StructOf(fields...)
		n.slots = make([]*value, len(n.kids))
	case kList:
		n.elem.settle()
		n.typ = arrow.ListOfField(arrow.Field{Name: "item", Type: n.elem.typ, Nullable: true})
	}
}

func titleMeta(title string) arrow.Metadata {
	return arrow.NewMetadata([]string{connectors.TitleKey}, []string{title})
}

// declaredKind is the kind a declared Table Schema type reads.
func declaredKind(t connectors.FieldType) kind {
	switch t {
	case connectors.TypeBoolean:
		return kBool
	case connectors.TypeInteger:
		return kInt
	case connectors.TypeNumber:
		return kFloat
	case connectors.TypeDate:
		return kDate
	case connectors.TypeDatetime:
		return kDatetime
	}
	return kString
}

// pathNode is a key path of the records: the column that its values go to,
// and, when flattening, the paths below it.
type pathNode struct {
	title    string // "a.b"
	col      *node
	next     map[string]*pathNode
	declared bool // a declared column: its values are never flattened
}

// shape is the columns of the records and how a record's values reach
// them.
type shape struct {
	flatten bool
	root    pathNode
	cols    []*node
	fields  []connectors.Field
	used    []bool // fields bound to a column
	pats    []layout
}

// unknownField is a key path of a record that the sample did not have.
type unknownField struct{ path string }

// walk sends each value of a record to its column through visit. With
// grow, paths and columns are made as met (the sample); without, an
// unknown path is an error.
func (s *shape) walk(pn *pathNode, obj []member, grow bool, visit func(c *node, v *value)) *unknownField {
	for i := range obj {
		m := &obj[i]
		child := pn.next[m.key]
		if child == nil {
			title := m.key
			if pn != &s.root {
				title = pn.title + "." + m.key
			}
			if !grow {
				if m.val.isEmpty() {
					continue
				}
				return &unknownField{path: title}
			}
			child = s.path(pn, m.key, title)
		}
		if s.flatten && m.val.kind == vObject && !child.declared {
			if u := s.walk(child, m.val.obj, grow, visit); u != nil {
				return u
			}
			continue
		}
		if child.col == nil {
			if !grow {
				if m.val.isEmpty() {
					continue
				}
				return &unknownField{path: child.title}
			}
			s.column(child)
		}
		visit(child.col, &m.val)
	}
	return nil
}

// path makes the path node of key below pn.
func (s *shape) path(pn *pathNode, key, title string) *pathNode {
	if pn.next == nil {
		pn.next = map[string]*pathNode{}
	}
	child := &pathNode{title: title}
	pn.next[key] = child
	if i := s.declaredFor(title); i >= 0 {
		child.declared = true
		s.bind(s.column(child), i)
	}
	return child
}

// column makes the column of a path.
func (s *shape) column(pn *pathNode) *node {
	if pn.col == nil {
		pn.col = &node{title: pn.title, path: pn.title, index: len(s.cols)}
		s.cols = append(s.cols, pn.col)
	}
	return pn.col
}

// declaredFor returns the index of the unbound declared field that names
// a path, -1 when none does.
func (s *shape) declaredFor(title string) int {
	for i, f := range s.fields {
		if !s.used[i] && (f.Title == title || f.Name == title || connectors.ColumnName(f.Name) == connectors.ColumnName(title)) {
			return i
		}
	}
	return -1
}

// bind makes c the column of declared field i.
func (s *shape) bind(c *node, i int) {
	s.used[i] = true
	c.decl = &s.fields[i]
	c.lay = s.pats[i]
	if c.declared() {
		c.kind = declaredKind(c.decl.Type)
	}
}

// settle adds the declared fields the sample did not meet, names the
// columns and fixes their types.
func (s *shape) settle(loc string) error {
	for i, f := range s.fields {
		if s.used[i] {
			continue
		}
		title := f.Title
		if title == "" {
			title = f.Name
		}
		keys := []string{title}
		if s.flatten {
			keys = strings.Split(title, ".")
		}
		pn := &s.root
		for j, key := range keys {
			next := pn.next[key]
			if next == nil {
				if pn.next == nil {
					pn.next = map[string]*pathNode{}
				}
				next = &pathNode{title: strings.Join(keys[:j+1], ".")}
				pn.next[key] = next
			}
			pn = next
		}
		pn.declared = true
		c := s.column(pn)
		c.title = title
		s.bind(c, i)
	}
	titles := make([]string, len(s.cols))
	for i, c := range s.cols {
		titles[i] = c.title
	}
	names := connectors.ColumnNames(titles)
	seen := map[string]bool{}
	for i, c := range s.cols {
		c.name = names[i]
		if c.decl != nil {
			c.name = c.decl.Name
		}
		if seen[c.name] {
			return &connectors.DataError{Location: loc, Column: c.name,
				Reason: fmt.Sprintf("two columns are named %s (one of them is %q in the file)", c.name, c.title),
				Fix:    "give the declared field another name in the registration's schema"}
		}
		seen[c.name] = true
		c.settle()
	}
	return nil
}

// schema is the Arrow schema of the columns.
func (s *shape) schema() *arrow.Schema {
	fields := make([]arrow.Field, len(s.cols))
	for i, c := range s.cols {
		fields[i] = arrow.Field{Name: c.name, Type: c.typ, Nullable: true, Metadata: titleMeta(c.title)}
	}
	return arrow.NewSchema(fields, nil)
}
