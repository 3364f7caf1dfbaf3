package sqlsource

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
)

// ErrPasswordEnv is wrapped when the environment variable that
// source.password_env names is not set: the message names the variable.
var ErrPasswordEnv = errors.New("password variable not set")

// Password returns the value of the environment variable env, which
// source.password_env names. The error, wrapping ErrPasswordEnv, says that
// the variable is not set or empty and that it should hold the password of
// user.
func (d Dialect) Password(env, user string) (string, error) {
	pw, ok := os.LookupEnv(env)
	if !ok || pw == "" {
		state := "not set"
		if ok {
			state = "empty"
		}
		return "", fmt.Errorf("%w: environment variable %s (source.password_env) is %s; set it to the password of %s user %s in datalab's environment",
			ErrPasswordEnv, env, state, d.Name, user)
	}
	return pw, nil
}

// Redactor removes a password from error messages. Errors that do not
// hold it are returned as they are; those that do are replaced by an error
// of the redacted message, which keeps only the context's error in its
// chain (a driver's error may carry its configuration, password included).
// The zero Redactor removes nothing.
type Redactor struct{ secret string }

// NewRedactor returns a Redactor of secret, the password.
func NewRedactor(secret string) Redactor { return Redactor{secret: secret} }

func (r Redactor) forms() []string {
	if r.secret == "" {
		return nil
	}
	return []string{r.secret, url.QueryEscape(r.secret), url.PathEscape(r.secret)}
}

// String returns s with the password, as written or URL-escaped, replaced
// by "[redacted]".
func (r Redactor) String(s string) string {
	for _, f := range r.forms() {
		s = strings.ReplaceAll(s, f, "[redacted]")
	}
	return s
}

// Error returns err, or an error of its redacted message when it holds the
// password.
func (r Redactor) Error(err error) error {
	if err == nil || r.secret == "" {
		return err
	}
	msg := err.Error()
	if clean := r.String(msg); clean != msg {
		return &redactedError{msg: clean, cause: ContextCause(err)}
	}
	return err
}

// ConnectError is a failed connection of message msg, redacted, that err
// caused. Its chain holds sentinel (the connector's ErrConnect) and the
// context's error, never err, whose configuration may hold the password.
func (r Redactor) ConnectError(sentinel error, msg string, err error) error {
	return &connectError{msg: r.String(msg), sentinel: sentinel, cause: ContextCause(err)}
}

// ContextCause returns the context error err wraps, if any.
func ContextCause(err error) error {
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

// connectError is a failed connection.
type connectError struct {
	msg             string
	sentinel, cause error
}

func (e *connectError) Error() string { return e.msg }
func (e *connectError) Unwrap() []error {
	if e.cause != nil {
		return []error{e.sentinel, e.cause}
	}
	return []error{e.sentinel}
}
