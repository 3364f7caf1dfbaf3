package mysql

import (
	"context"
	"errors"
	"net/url"
	"strings"
)

// ErrPasswordEnv is wrapped when the environment variable that
// Options.PasswordEnv names is not set: the message names the variable.
var ErrPasswordEnv = errors.New("password variable not set")

// ErrConnect is wrapped when the server cannot be reached or refuses the
// connection: the message says host, port, database, user and what to
// check.
var ErrConnect = errors.New("cannot connect to MySQL")

// redactor removes a password from error messages. Errors that do not
// hold it are returned as they are; those that do are replaced by an error
// of the redacted message, which keeps only the context's error in its
// chain (a driver's error may carry its configuration, password included).
type redactor struct{ secret string }

func (r redactor) forms() []string {
	if r.secret == "" {
		return nil
	}
	return []string{r.secret, url.QueryEscape(r.secret), url.PathEscape(r.secret)}
}

func (r redactor) string(s string) string {
	for _, f := range r.forms() {
		s = strings.ReplaceAll(s, f, "[redacted]")
	}
	return s
}

func (r redactor) error(err error) error {
	if err == nil || r.secret == "" {
		return err
	}
	msg := err.Error()
	if clean := r.string(msg); clean != msg {
		return &redactedError{msg: clean, cause: contextCause(err)}
	}
	return err
}

// contextCause returns the context error err wraps, if any.
func contextCause(err error) error {
	switch {
	case errors.Is(err, context.Canceled):
		return context.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		return context.DeadlineExceeded
	}
	return nil
}

// redactedError is an error whose message had a password removed.
type redactedError struct {
	msg   string
	cause error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.cause }

// connectError is a failed connection. Its chain holds ErrConnect and the
// context's error, never the driver's error, whose configuration holds the
// password.
type connectError struct {
	msg   string
	cause error
}

func (e *connectError) Error() string { return e.msg }
func (e *connectError) Unwrap() []error {
	if e.cause != nil {
		return []error{ErrConnect, e.cause}
	}
	return []error{ErrConnect}
}
