package catalog

import (
	"errors"
	"fmt"
	"strings"
)

var (
	// ErrNotFound is returned when a dataset, snapshot or node is unknown.
	ErrNotFound = errors.New("not found in the catalog")
	// ErrBadLevel is wrapped when an access level is not one of the three.
	ErrBadLevel = errors.New("unknown access level")
	// ErrInvalid is wrapped by every *FieldError: a registration the user must fix.
	ErrInvalid = errors.New("invalid registration")
)

// FieldError is one field of a registration that is refused.
type FieldError struct {
	// File is the registration's file, Line the field's line in it (0 when
	// unknown), Field its path ("source.url", "schema.fields[2].type").
	File  string
	Line  int
	Field string
	// Reason says what is wrong, Fix what to write instead.
	Reason, Fix string
}

func (e *FieldError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	}
	if e.Field != "" {
		fmt.Fprintf(&b, "field %s: ", e.Field)
	}
	b.WriteString(e.Reason)
	if e.Fix != "" {
		b.WriteString("; ")
		b.WriteString(e.Fix)
	}
	return b.String()
}

// Unwrap makes every FieldError match ErrInvalid.
func (e *FieldError) Unwrap() error { return ErrInvalid }
