package connectors

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// HTTPOptions say how an http(s) Location is fetched: retries, timeouts,
// the client. The zero value means the defaults said on each field; a
// Location whose HTTP field is nil uses DefaultHTTPOptions.
type HTTPOptions struct {
	// Client sends the requests; nil means HTTPClient.
	Client *http.Client
	// Retry says when and how often a failed request is sent again.
	Retry RetryPolicy
	// Timeout bounds a whole fetch, from the first attempt to the last byte
	// of the content, waits between attempts included; default
	// DefaultHTTPTimeout.
	Timeout time.Duration
	// HeaderTimeout bounds each attempt's wait for the server's answer
	// (its status line and headers); default DefaultHeaderTimeout. An
	// attempt that times out is retried.
	HeaderTimeout time.Duration
	// UserAgent is sent with every request; default "datalab".
	UserAgent string
	// TempDir is where Location.OpenFile downloads a remote file that a
	// reader needs to read at random (Parquet); default os.TempDir().
	TempDir string
}

// RetryPolicy says how a failed HTTP request is retried. A request is
// retried on a network error, a timeout waiting for the answer, a 5xx
// status (but 501 and 505, which say the server never will) and 429 Too
// Many Requests; never on another 4xx, and never once the content has
// started to arrive: a download that breaks off is an error.
//
// The wait before attempt n+1 is FirstDelay·2^(n-1), capped at MaxDelay,
// then jittered to a random duration between half and all of it, so that
// clients that failed together do not retry together. A Retry-After header
// (seconds or an HTTP date) lengthens the wait to what the server asks.
type RetryPolicy struct {
	// Attempts is the most requests sent for one fetch, the first
	// included; default 4. 1 disables retries.
	Attempts int
	// FirstDelay is the wait before the second attempt; default 500ms.
	FirstDelay time.Duration
	// MaxDelay caps the wait between two attempts; default 8s.
	MaxDelay time.Duration
	// MaxRetryAfter is the longest Retry-After honoured: a server that asks
	// to wait longer fails the fetch at once, saying when to try again;
	// default 1 minute.
	MaxRetryAfter time.Duration
}

// Defaults of HTTPOptions and RetryPolicy.
const (
	DefaultHTTPTimeout   = time.Hour
	DefaultHeaderTimeout = time.Minute
	DefaultAttempts      = 4
	DefaultFirstDelay    = 500 * time.Millisecond
	DefaultMaxDelay      = 8 * time.Second
	DefaultMaxRetryAfter = time.Minute
	DefaultHTTPUserAgent = "datalab"
)

const (
	maxDrainBeforeRetry   = 64 << 10
	retryAfterHeader      = "Retry-After"
	acceptEncodingHeader  = "Accept-Encoding"
	contentEncodingHeader = "Content-Encoding"
)

// DefaultHTTPOptions are the options of every Location whose HTTP field is
// nil. main may change them once, before any source is opened; they must
// not change while sources are read.
var DefaultHTTPOptions HTTPOptions

// HTTPClient is the client used when HTTPOptions.Client is nil. Its
// transport bounds connecting (30s) and the TLS handshake (10s);
// HTTPOptions bound the rest (the wait for an answer, the whole fetch).
var HTTPClient = &http.Client{
	Transport: &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout: 10 * time.Second,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   true,
	},
}

// withDefaults returns o with every zero field set to its default.
func (o HTTPOptions) withDefaults() HTTPOptions {
	if o.Client == nil {
		o.Client = HTTPClient
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultHTTPTimeout
	}
	if o.HeaderTimeout == 0 {
		o.HeaderTimeout = DefaultHeaderTimeout
	}
	if o.UserAgent == "" {
		o.UserAgent = DefaultHTTPUserAgent
	}
	if o.TempDir == "" {
		o.TempDir = os.TempDir()
	}
	r := &o.Retry
	if r.Attempts == 0 {
		r.Attempts = DefaultAttempts
	}
	if r.FirstDelay == 0 {
		r.FirstDelay = DefaultFirstDelay
	}
	if r.MaxDelay == 0 {
		r.MaxDelay = max(DefaultMaxDelay, r.FirstDelay)
	}
	if r.MaxRetryAfter == 0 {
		r.MaxRetryAfter = DefaultMaxRetryAfter
	}
	return o
}

// Validate checks options whose defaults are applied, naming the first bad
// field.
func (o HTTPOptions) Validate() error {
	r := o.Retry
	switch {
	case o.Timeout < 0:
		return fmt.Errorf("HTTPOptions.Timeout %v is negative; leave it zero for %v", o.Timeout, DefaultHTTPTimeout)
	case o.HeaderTimeout < 0:
		return fmt.Errorf("HTTPOptions.HeaderTimeout %v is negative; leave it zero for %v", o.HeaderTimeout, DefaultHeaderTimeout)
	case r.Attempts < 0:
		return fmt.Errorf("HTTPOptions.Retry.Attempts %d is negative; use 1 for no retry, or leave it zero for %d", r.Attempts, DefaultAttempts)
	case r.FirstDelay < 0:
		return fmt.Errorf("HTTPOptions.Retry.FirstDelay %v is negative", r.FirstDelay)
	case r.MaxDelay < r.FirstDelay:
		return fmt.Errorf("HTTPOptions.Retry.MaxDelay %v is below FirstDelay %v", r.MaxDelay, r.FirstDelay)
	case r.MaxRetryAfter < 0:
		return fmt.Errorf("HTTPOptions.Retry.MaxRetryAfter %v is negative", r.MaxRetryAfter)
	}
	return nil
}

// delay is the jittered wait after the failed attempt n (1-based).
func (r RetryPolicy) delay(n int) time.Duration {
	d := r.FirstDelay
	for i := 1; i < n && d < r.MaxDelay; i++ {
		d *= 2
	}
	d = min(d, r.MaxDelay)
	if d <= 1 {
		return d
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

// HTTPError is a fetch that failed before its content started: the server
// answered a status other than 200 OK or 304 Not Modified, or did not
// answer at all, after every attempt the RetryPolicy allowed.
type HTTPError struct {
	// Method and URL say what was requested; URL has no credentials.
	Method, URL string
	// StatusCode and Status are the last answer's ("503 Service
	// Unavailable"); 0 and "" when the server did not answer.
	StatusCode int
	Status     string
	// Attempts is the number of requests sent.
	Attempts int
	// RetryAfter is the wait the server asked for, when it asked.
	RetryAfter time.Duration
	// Err is why there was no answer (a network error, a timeout); nil
	// when the server answered.
	Err error
}

// Error says what was requested, what the server answered, after how many
// attempts, and what to do.
func (e *HTTPError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: ", e.Method, e.URL)
	if e.StatusCode == 0 {
		b.WriteString("no answer")
	} else {
		b.WriteString("server answered " + e.Status)
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " after %d attempts", e.Attempts)
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	switch c := e.StatusCode; {
	case e.RetryAfter > 0:
		fmt.Fprintf(&b, "; the server asks to wait %v: try later", e.RetryAfter)
	case c == http.StatusNotFound || c == http.StatusGone:
		b.WriteString("; check the URL")
	case c == http.StatusUnauthorized || c == http.StatusForbidden:
		b.WriteString("; the server refuses access: check the URL, and that the file is public")
	case c >= 400 && c < 500 && c != http.StatusTooManyRequests:
		b.WriteString("; check the URL")
	case c == 0 && isCertificateError(e.Err):
		b.WriteString("; the server's certificate is not trusted: check the URL")
	default:
		b.WriteString("; try later")
	}
	return b.String()
}

// Unwrap returns why there was no answer.
//
// A server error (5xx), a 429 or no answer at all may go away: such an
// error also matches ErrTransient, so that a scheduler tries the whole load
// again later; a 4xx is the registration's to fix and does not.
func (e *HTTPError) Unwrap() []error {
	errs := []error{}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	if e.StatusCode == 0 || e.StatusCode == 429 || e.StatusCode >= 500 {
		errs = append(errs, ErrTransient)
	}
	return errs
}

// timeoutError is the cause of a context cancelled by a timeout of
// HTTPOptions.
type timeoutError struct {
	what string // "the whole-request timeout", "the header timeout"
	d    time.Duration
}

func (e *timeoutError) Error() string {
	return fmt.Sprintf("%s of %v passed", e.what, e.d)
}

// Timeout marks the error as a timeout for net.Error-style checks.
func (e *timeoutError) Timeout() bool { return true }

// Is makes a timeoutError match context.DeadlineExceeded.
func (e *timeoutError) Is(target error) bool { return target == context.DeadlineExceeded }

// httpOptions returns the location's options, defaults applied.
func (l Location) httpOptions() HTTPOptions {
	o := DefaultHTTPOptions
	if l.HTTP != nil {
		o = *l.HTTP
	}
	return o.withDefaults()
}

// openHTTP sends GET requests until one is answered 200 OK (or 304 Not
// Modified), as the retry policy allows, and returns the content.
func (l Location) openHTTP(ctx context.Context, prev Fingerprint) (*Body, error) {
	o := l.httpOptions()
	loc := l.String()
	if err := o.Validate(); err != nil {
		return nil, fmt.Errorf("GET %s: %w", loc, err)
	}
	ctx, cancel := context.WithTimeoutCause(ctx, o.Timeout, &timeoutError{what: "the whole-request timeout", d: o.Timeout})
	herr := &HTTPError{Method: http.MethodGet, URL: loc}
	for {
		herr.Attempts++
		resp, stop, err := l.attempt(ctx, o, prev)
		retry := false
		herr.StatusCode, herr.Status, herr.RetryAfter, herr.Err = 0, "", 0, nil
		switch {
		case err != nil && ctx.Err() != nil:
			cancel()
			return nil, ctxError(ctx, "GET "+loc)
		case err != nil:
			herr.Err = err
			retry = !isCertificateError(err) && !strings.Contains(err.Error(), "stopped after")
		case resp.StatusCode == http.StatusOK:
			b, err := newBody(ctx, resp.Body, loc, resp.Header.Get(contentEncodingHeader), func() { stop(); cancel() })
			if err != nil {
				return nil, err
			}
			b.fp.ETag = resp.Header.Get("ETag")
			b.fp.LastModified = resp.Header.Get("Last-Modified")
			return b, nil
		case resp.StatusCode == http.StatusNotModified:
			discard(resp)
			stop()
			cancel()
			return nil, fmt.Errorf("GET %s: %w", loc, ErrUnchanged)
		default:
			herr.StatusCode, herr.Status = resp.StatusCode, resp.Status
			herr.RetryAfter = retryAfter(resp.Header.Get(retryAfterHeader), time.Now())
			retry = resp.StatusCode == http.StatusTooManyRequests ||
				resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented && resp.StatusCode != http.StatusHTTPVersionNotSupported
			discard(resp)
		}
		stop()
		if !retry || herr.Attempts >= o.Retry.Attempts {
			cancel()
			return nil, herr
		}
		wait := o.Retry.delay(herr.Attempts)
		if herr.RetryAfter > 0 {
			if herr.RetryAfter > o.Retry.MaxRetryAfter {
				cancel()
				return nil, herr
			}
			wait = max(wait, herr.RetryAfter)
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			cancel()
			return nil, herr
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			cancel()
			return nil, ctxError(ctx, "GET "+loc)
		}
	}
}

// attempt sends one request. On success, stop releases the attempt's
// context once the content is read; the caller calls it in every case.
func (l Location) attempt(ctx context.Context, o HTTPOptions, prev Fingerprint) (resp *http.Response, stop func(), err error) {
	actx, acancel := context.WithCancelCause(ctx)
	stop = func() { acancel(nil) }
	req, err := http.NewRequestWithContext(actx, http.MethodGet, l.URL.String(), nil)
	if err != nil {
		return nil, stop, err
	}
	req.Header.Set("User-Agent", o.UserAgent)
	req.Header.Set(acceptEncodingHeader, "gzip")
	if prev.Location == l.String() {
		if prev.ETag != "" {
			req.Header.Set("If-None-Match", prev.ETag)
		}
		if prev.LastModified != "" {
			req.Header.Set("If-Modified-Since", prev.LastModified)
		}
	}
	headerTimeout := &timeoutError{what: "the header timeout", d: o.HeaderTimeout}
	timer := time.AfterFunc(o.HeaderTimeout, func() { acancel(headerTimeout) })
	resp, err = o.Client.Do(req)
	if !timer.Stop() && err == nil {
		// The answer came as the timer fired: its content is cut off.
		discard(resp)
		return nil, stop, headerTimeout
	}
	if err != nil {
		if errors.Is(context.Cause(actx), headerTimeout) {
			return nil, stop, headerTimeout
		}
		var ue *url.Error
		if errors.As(err, &ue) && ue.Err != nil {
			// A *url.Error repeats the URL, user name included.
			err = ue.Err
		}
		return nil, stop, err
	}
	return resp, stop, nil
}

// discard reads a little of an unwanted answer, so that its connection
// can serve the next attempt, and closes it.
func discard(resp *http.Response) {
	_, _ = io.CopyN(io.Discard, resp.Body, maxDrainBeforeRetry)
	_ = resp.Body.Close()
}

// retryAfter reads a Retry-After header: seconds or an HTTP date; 0 when
// absent or unreadable.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}

// ctxError explains a fetch stopped by its context: a timeout of the
// options, or the caller's cancellation. The error wraps ctx.Err().
func ctxError(ctx context.Context, what string) error {
	var te *timeoutError
	if cause := context.Cause(ctx); errors.As(cause, &te) {
		return fmt.Errorf("%s: %w: %w; raise the timeout or try later", what, te, ctx.Err())
	}
	return fmt.Errorf("%s: %w", what, ctx.Err())
}

// isCertificateError reports whether err is a TLS certificate that cannot
// be trusted: retrying does not help.
func isCertificateError(err error) bool {
	if err == nil {
		return false
	}
	var ve *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ie x509.CertificateInvalidError
	return errors.As(err, &ve) || errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ie)
}
