package connectors

import (
	"errors"
	"fmt"
)

// ErrUnchanged is returned by Source.Open when the source's content is the
// same as the one of OpenOptions.Previous: there is nothing to load.
var ErrUnchanged = errors.New("source unchanged since the last load")

// ErrBadSpec is wrapped by every *SpecError, so that callers can tell a bad
// registration (the user's to fix) from a failing source.
var ErrBadSpec = errors.New("invalid source")

// SpecError is a registration's source option that a connector refuses.
type SpecError struct {
	// Field is the option's path in the registration: "source.delimiter".
	Field string
	// Reason says what is wrong with it, Fix what to write instead.
	Reason, Fix string
}

func (e *SpecError) Error() string {
	msg := fmt.Sprintf("field %s: %s", e.Field, e.Reason)
	if e.Fix != "" {
		msg += "; " + e.Fix
	}
	return msg
}

// Unwrap makes every SpecError match ErrBadSpec.
func (e *SpecError) Unwrap() error { return ErrBadSpec }

// DataError is a value in the source that cannot be read as its column's
// type, or a row of the wrong shape. The ingest fails on it and reports it.
type DataError struct {
	// Location is the file or URL; Line is 1-based (the header is line 1),
	// 0 when unknown; Column is the column's name, empty for a whole row.
	Location string
	Line     int64
	Column   string
	// Value is the offending text, cut to a readable length.
	Value string
	// Reason says what is wrong, Fix what the user can do.
	Reason, Fix string
}

func (e *DataError) Error() string {
	msg := e.Location
	if e.Line > 0 {
		msg += fmt.Sprintf(":%d", e.Line)
	}
	if e.Column != "" {
		msg += fmt.Sprintf(": column %s", e.Column)
	}
	if e.Value != "" {
		v := e.Value
		if len(v) > 60 {
			v = v[:60] + "..."
		}
		msg += fmt.Sprintf(": value %q", v)
	}
	msg += ": " + e.Reason
	if e.Fix != "" {
		msg += "; " + e.Fix
	}
	return msg
}

// ErrTransient is wrapped by the errors of a source that may go away when
// the same read is tried again later: the network failing, a server
// answering 5xx or 429, a database busy. The scheduler retries them with
// backoff; every other error is permanent (a bad value, a bad registration,
// a broken contract) and is not retried.
var ErrTransient = errors.New("transient failure")
