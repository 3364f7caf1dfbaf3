package jsonsrc

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// maxDepth bounds how deeply values nest: deeper is refused rather than
// risking the stack on hostile input.
const maxDepth = 100

// vkind is the JSON kind of a value.
type vkind uint8

const (
	vNull vkind = iota
	vBool
	vNumber
	vString
	vObject
	vArray
)

func (k vkind) String() string {
	return [...]string{"null", "a boolean", "a number", "a string", "an object", "an array"}[k]
}

// value is a JSON value as read, object members in their order.
type value struct {
	kind vkind
	b    bool
	s    string // a string, or a number's literal
	obj  []member
	arr  []value
}

// member is an object's key and value.
type member struct {
	key string
	val value
}

// errTooDeep is a value nested past maxDepth.
var errTooDeep = fmt.Errorf("values nested more than %d levels deep", maxDepth)

// readValue reads the next value from dec, token by token, so that object
// keys keep their order. dec must use numbers (UseNumber).
func readValue(dec *json.Decoder) (value, error) {
	tok, err := dec.Token()
	if err != nil {
		return value{}, err
	}
	return valueFrom(dec, tok, 0)
}

func valueFrom(dec *json.Decoder, tok json.Token, depth int) (value, error) {
	switch t := tok.(type) {
	case nil:
		return value{}, nil
	case bool:
		return value{kind: vBool, b: t}, nil
	case json.Number:
		return value{kind: vNumber, s: string(t)}, nil
	case string:
		return value{kind: vString, s: t}, nil
	case json.Delim:
		if depth >= maxDepth {
			return value{}, errTooDeep
		}
		switch t {
		case '{':
			v := value{kind: vObject}
			for dec.More() {
				ktok, err := dec.Token()
				if err != nil {
					return value{}, err
				}
				key, ok := ktok.(string)
				if !ok {
					return value{}, fmt.Errorf("an object key is %v, not a string", ktok)
				}
				vtok, err := dec.Token()
				if err != nil {
					return value{}, err
				}
				mv, err := valueFrom(dec, vtok, depth+1)
				if err != nil {
					return value{}, err
				}
				v.obj = append(v.obj, member{key: key, val: mv})
			}
			if _, err := dec.Token(); err != nil { // '}'
				return value{}, err
			}
			return v, nil
		case '[':
			v := value{kind: vArray, arr: []value{}}
			for dec.More() {
				etok, err := dec.Token()
				if err != nil {
					return value{}, err
				}
				ev, err := valueFrom(dec, etok, depth+1)
				if err != nil {
					return value{}, err
				}
				v.arr = append(v.arr, ev)
			}
			if _, err := dec.Token(); err != nil { // ']'
				return value{}, err
			}
			return v, nil
		}
	}
	return value{}, fmt.Errorf("unexpected %v", tok)
}

// isEmpty reports whether the value holds nothing: null, or an object of
// nothing but empty values.
func (v *value) isEmpty() bool {
	switch v.kind {
	case vNull:
		return true
	case vObject:
		for i := range v.obj {
			if !v.obj[i].val.isEmpty() {
				return false
			}
		}
		return true
	}
	return false
}

// text is the value as JSON text (compact), or a string's own text.
func (v *value) text() string {
	if v.kind == vString {
		return v.s
	}
	return string(v.appendJSON(nil))
}

// appendJSON appends the value as compact JSON.
func (v *value) appendJSON(b []byte) []byte {
	switch v.kind {
	case vNull:
		return append(b, "null"...)
	case vBool:
		return strconv.AppendBool(b, v.b)
	case vNumber:
		return append(b, v.s...)
	case vString:
		return appendString(b, v.s)
	case vObject:
		b = append(b, '{')
		for i := range v.obj {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, v.obj[i].key)
			b = append(b, ':')
			b = v.obj[i].val.appendJSON(b)
		}
		return append(b, '}')
	case vArray:
		b = append(b, '[')
		for i := range v.arr {
			if i > 0 {
				b = append(b, ',')
			}
			b = v.arr[i].appendJSON(b)
		}
		return append(b, ']')
	}
	return b
}

// appendString appends s as a JSON string, escaping only what JSON
// requires.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		case c < utf8.RuneSelf:
			b = append(b, c)
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			b = utf8.AppendRune(b, r)
			i += n
			continue
		}
		i++
	}
	return append(b, '"')
}

// isIntLiteral reports whether a JSON number literal is written as an
// integer (no fraction, no exponent).
func isIntLiteral(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '.' || c == 'e' || c == 'E' {
			return false
		}
	}
	return true
}

// asInt reads a number as an int64: an integer literal, or any number
// whose value is a whole number within range (1.0, 1e3).
func asInt(s string) (int64, bool) {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != float64(int64(f)) || f < -(1<<63) || f >= 1<<63 {
		return 0, false
	}
	return int64(f), true
}

// asFloat reads a number as a float64.
func asFloat(s string) (float64, bool) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, false
	}
	return f, err == nil
}
