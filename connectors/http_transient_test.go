package connectors

import (
	"errors"
	"testing"
)

// A scheduler retries a load that failed on a server error, never one that
// failed on a client error.
func TestHTTPErrorTransient(t *testing.T) {
	cause := errors.New("cause")
	for _, c := range []struct {
		status    int
		transient bool
	}{{0, true}, {429, true}, {500, true}, {503, true}, {400, false}, {403, false}, {404, false}} {
		err := error(&HTTPError{Method: "GET", URL: "https://example.org/x.csv", StatusCode: c.status, Err: cause})
		if errors.Is(err, ErrTransient) != c.transient {
			t.Errorf("status %d: transient = %v, want %v", c.status, !c.transient, c.transient)
		}
		if !errors.Is(err, cause) {
			t.Errorf("status %d: the cause is lost", c.status)
		}
	}
}
