package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/datalab/datalab/catalog"
	"github.com/datalab/datalab/pipelines"
)

// AdminTokenEnv is the environment variable `datalab serve` reads the
// administrator's token from.
const AdminTokenEnv = "DATALAB_ADMIN_TOKEN"

// DefaultMaxBody is the largest request body accepted when Options.MaxBody
// is zero: a registration is a few kilobytes.
const DefaultMaxBody = 1 << 20

// minTokenLength is the shortest token taken without a warning.
const minTokenLength = 16

// Options configure the handler. Zero fields take their defaults.
type Options struct {
	// AdminToken opens the write API and the non-public outputs; empty, the
	// write API is off and non-public outputs are served to no one. It is
	// compared in constant time and never written anywhere.
	AdminToken string
	// MaxBody is the largest request body, in bytes (default DefaultMaxBody);
	// a larger one is refused with 413.
	MaxBody int64
	// Log receives a line per request (component "server"); the zero Logger
	// discards them.
	Log zerolog.Logger
	// Launch starts a run of a job in the background and returns it,
	// status running: Scheduler.Launch, which `datalab serve` gives. The
	// server asks it for POST /api/runs?job= and POST
	// /api/datasets/{id}/ingest, with what depends on the job running
	// after it (RunOptions.Downstream) and the request as cause. An error
	// wrapping pipelines.ErrInvalid says there is no such job (404), a
	// *pipelines.BusyError that it is running (409). nil: the server
	// ingests on its own, one ingest of a dataset at a time and nothing
	// downstream, under Context, and starts no other run (503).
	Launch func(job catalog.Node, opts pipelines.RunOptions) (catalog.Run, error)
	// Context bounds the ingests started through the API: when it is done,
	// they are cancelled and the previous snapshots stand. Default
	// context.Background().
	Context context.Context
	// DCAT describes the catalog in /api/catalog.jsonld. When its BaseURL is
	// empty, it is the address the request came to.
	DCAT catalog.DCATOptions
}

func (o Options) withDefaults() Options {
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.Context == nil {
		o.Context = context.Background()
	}
	return o
}

// server holds what the handlers share.
type server struct {
	ws   *pipelines.Workspace
	opts Options
	log  zerolog.Logger
	mux  *http.ServeMux
	// session is the value of the session cookie: derived from the token,
	// never the token itself.
	session string
	// running are the datasets whose ingest the API started and that have
	// not finished, with their run.
	mu      sync.Mutex
	running map[string]int64
}

// New returns the handler of the HTTP API, the web pages and the catalog
// export over ws. The routes are:
//
//	GET  /                                  the catalog (?q=&level=&publisher=)
//	GET  /datasets/{id}                     a dataset: metadata, schema, snapshots, quality, lineage
//	GET  /runs                              recent runs (?status=&since=&kind=)
//	GET  /projects                          projects, their indicators and reports
//	GET  /projects/{project}/report         redirects to the project's least protected report
//	GET  /out/{level}/{project}/{file}      an output file; above public, for the administrator
//	GET  /login, POST /login, POST /logout  the administrator's session, for browsers
//
//	GET  /api/datasets                      ?level=&publisher=&q= (or text=)
//	POST /api/datasets                      register (YAML or JSON body); token
//	GET  /api/datasets/{id}
//	GET  /api/datasets/{id}/snapshots       ?limit=
//	POST /api/datasets/{id}/ingest          start an ingest (?force=true); token; 202
//	GET  /api/runs                          ?status=&since=&kind=&job=&trigger=&limit=
//	POST /api/runs                          start a run of ?job= (?force=true); token; 202
//	GET  /api/runs/{id}
//	GET  /api/lineage/{node...}             ?format=json|text|dot|mermaid
//	GET  /api/projects
//	GET  /api/projects/{project}/indicators ?level= (above public: token)
//	GET  /api/catalog.jsonld                the DCAT-AP catalog
//
// Errors of the API are JSON objects {"status", "error", "fix"}, with
// "fields" for a refused registration. The handler is safe for concurrent
// use.
func New(ws *pipelines.Workspace, opts Options) http.Handler {
	opts = opts.withDefaults()
	s := &server{ws: ws, opts: opts, log: opts.Log.With().Str("component", "server").Logger(),
		mux: http.NewServeMux(), running: map[string]int64{}}
	if opts.AdminToken != "" {
		mac := hmac.New(sha256.New, []byte(opts.AdminToken))
		mac.Write([]byte("datalab session v1"))
		s.session = hex.EncodeToString(mac.Sum(nil))
		if len(opts.AdminToken) < minTokenLength {
			s.log.Warn().Int("length", len(opts.AdminToken)).Msgf("the admin token is short; use %d random characters or more (openssl rand -hex 32)", minTokenLength*2)
		}
	}
	s.routes()
	return s.headers(s.logged(s.mux))
}

func (s *server) routes() {
	m := s.mux
	m.HandleFunc("GET /api/datasets", s.apiDatasets)
	m.HandleFunc("POST /api/datasets", s.apiRegister)
	m.HandleFunc("GET /api/datasets/{id}", s.apiDataset)
	m.HandleFunc("GET /api/datasets/{id}/snapshots", s.apiSnapshots)
	m.HandleFunc("POST /api/datasets/{id}/ingest", s.apiIngest)
	m.HandleFunc("GET /api/runs", s.apiRuns)
	m.HandleFunc("POST /api/runs", s.apiStartRun)
	m.HandleFunc("GET /api/runs/{id}", s.apiRun)
	m.HandleFunc("GET /api/lineage/{node...}", s.apiLineage)
	m.HandleFunc("GET /api/projects", s.apiProjects)
	m.HandleFunc("GET /api/projects/{project}/indicators", s.apiIndicators)
	m.HandleFunc("GET /api/catalog.jsonld", s.apiDCAT)
	m.HandleFunc("/api/", s.apiNotFound)

	m.HandleFunc("GET /{$}", s.pageCatalog)
	m.HandleFunc("GET /datasets/{id}", s.pageDataset)
	m.HandleFunc("GET /runs", s.pageRuns)
	m.HandleFunc("GET /projects", s.pageProjects)
	m.HandleFunc("GET /projects/{project}/report", s.projectReport)
	m.HandleFunc("GET /out/{level}/{project}/{file}", s.output)
	m.HandleFunc("GET /login", s.pageLogin)
	m.HandleFunc("POST /login", s.login)
	m.HandleFunc("POST /logout", s.logout)
	m.HandleFunc("/", s.pageNotFound)
}

// headers sets what every response carries: no script, nothing from
// elsewhere, no framing, no sniffing.
func (s *server) headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// statusWriter remembers a response's status, for the log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// logged logs each request: method, path, status, time. Writes at info,
// reads at debug; never a header, so never the token.
func (s *server) logged(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		ev := s.log.Debug()
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			ev = s.log.Info()
		}
		if sw.status >= 500 {
			ev = s.log.Error()
		}
		ev.Str("method", r.Method).Str("path", r.URL.Path).Int("status", sw.status).Dur("took", time.Since(start)).Msg("request")
	})
}

// apiError is the body of every error of the API.
type apiError struct {
	Status int    `json:"status"`
	Error  string `json:"error"`
	// Fix says what to do.
	Fix string `json:"fix,omitempty"`
	// Fields are the refused fields of a registration.
	Fields []fieldError `json:"fields,omitempty"`
}

// fieldError is a refused field of a registration.
type fieldError struct {
	Field   string `json:"field,omitempty"`
	Line    int    `json:"line,omitempty"`
	Reason  string `json:"reason"`
	Fix     string `json:"fix,omitempty"`
	Message string `json:"message"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg, fix string) {
	writeJSON(w, status, apiError{Status: status, Error: msg, Fix: fix})
}

// internal answers 500 and logs why; the body says no more than that.
func (s *server) internal(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error().Err(err).Str("path", r.URL.Path).Msg("request failed")
	writeError(w, http.StatusInternalServerError, "the server could not answer: "+err.Error(), "try again; if it goes on, read datalab serve's log")
}

// authError says why a request is not the administrator's.
type authError struct {
	status   int
	msg, fix string
}

func (e *authError) Error() string { return e.msg }

// authorize reports whether r carries the administrator's token: nil when
// it does, else why not. With cookie set, the session cookie of /login
// stands for the token (pages and outputs, never the write API, which a
// cookie would expose to cross-site requests).
func (s *server) authorize(r *http.Request, cookie bool) *authError {
	if s.opts.AdminToken == "" {
		return &authError{http.StatusForbidden, "the administrator's token is not set on this server: the write API and non-public outputs are off",
			"start datalab serve with " + AdminTokenEnv + " set to a long random token (e.g. " + AdminTokenEnv + "=$(openssl rand -hex 32)), then send it as Authorization: Bearer <token>"}
	}
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			return &authError{http.StatusUnauthorized, "the Authorization header is not a bearer token", "send Authorization: Bearer <token>, the value of " + AdminTokenEnv}
		}
		if !equalSecret(strings.TrimSpace(token), s.opts.AdminToken) {
			return &authError{http.StatusForbidden, "the token is wrong", "send the value of " + AdminTokenEnv + " that datalab serve was started with"}
		}
		return nil
	}
	if cookie {
		if c, err := r.Cookie(sessionCookie); err == nil {
			if equalSecret(c.Value, s.session) {
				return nil
			}
			return &authError{http.StatusForbidden, "the session is not valid any more", "sign in again at /login"}
		}
	}
	return &authError{http.StatusUnauthorized, "this needs the administrator's token", "send Authorization: Bearer <token>, the value of " + AdminTokenEnv + "; in a browser, sign in at /login"}
}

// isAdmin reports whether r is the administrator's (token or session).
func (s *server) isAdmin(r *http.Request) bool { return s.authorize(r, true) == nil }

// equalSecret compares two secrets in a time that depends on neither.
func equalSecret(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}

// requireAdmin answers the API's auth error and returns false unless r
// carries the token.
func (s *server) requireAdmin(w http.ResponseWriter, r *http.Request) bool {
	if err := s.authorize(r, false); err != nil {
		if err.status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="datalab"`)
		}
		writeError(w, err.status, err.msg, err.fix)
		return false
	}
	return true
}

// readBody reads a request body of at most MaxBody bytes; a larger one is
// answered with 413 and ok is false.
func (s *server) readBody(w http.ResponseWriter, r *http.Request) (data []byte, ok bool) {
	tooLarge := func() {
		writeError(w, http.StatusRequestEntityTooLarge,
			fmt.Sprintf("the request body is larger than %d bytes", s.opts.MaxBody),
			"send a smaller body: a registration is a few kilobytes")
	}
	if r.ContentLength > s.opts.MaxBody {
		tooLarge()
		return nil, false
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.MaxBody))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		tooLarge()
		return nil, false
	case err != nil:
		writeError(w, http.StatusBadRequest, "could not read the request body: "+err.Error(), "send the body again")
		return nil, false
	}
	return data, true
}

// apiNotFound answers an unknown path of the API, or a known one asked
// with the wrong method.
func (s *server) apiNotFound(w http.ResponseWriter, r *http.Request) {
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		if m == r.Method {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "" && pattern != "/api/" && pattern != "/" {
			allowed = append(allowed, m)
		}
	}
	if len(allowed) > 0 {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("%s is not allowed on %s", r.Method, r.URL.Path), "use "+strings.Join(allowed, " or "))
		return
	}
	writeError(w, http.StatusNotFound, "no such endpoint: "+r.URL.Path,
		"the endpoints are /api/datasets, /api/datasets/{id}, /api/datasets/{id}/snapshots, /api/datasets/{id}/ingest, /api/runs, /api/runs/{id}, /api/lineage/{node}, /api/projects, /api/projects/{project}/indicators and /api/catalog.jsonld")
}

// withheld is what replaces the error of a run or snapshot above public.
const withheld = "withheld: the error of an ingest or run above public may quote values of its data; read it on the server with `datalab dataset show ID` or `datalab runs`"

// startIngest starts an ingest of dataset d: through Options.Launch when
// set, else on the server's own, which records a run then ingests in the
// background.
func (s *server) startIngest(ctx context.Context, d catalog.Dataset, force bool) (catalog.Run, error) {
	id, job, cause := d.ID, pipelines.IngestJob(d), "POST /api/datasets/"+d.ID+"/ingest"
	if s.opts.Launch != nil {
		return s.opts.Launch(job, pipelines.RunOptions{Force: force, Downstream: true, Cause: cause})
	}
	s.mu.Lock()
	if runID, ok := s.running[id]; ok {
		s.mu.Unlock()
		return catalog.Run{}, &pipelines.BusyError{Job: job, Run: runID}
	}
	run, err := s.ws.Catalog.BeginRun(ctx, job, catalog.TriggerManual, cause)
	if err != nil {
		s.mu.Unlock()
		return catalog.Run{}, err
	}
	s.running[id] = run.ID
	s.mu.Unlock()
	go func() {
		defer func() {
			s.mu.Lock()
			delete(s.running, id)
			s.mu.Unlock()
		}()
		bg := s.opts.Context
		snap, err := s.ws.Ingest(bg, id, pipelines.IngestOptions{Force: force})
		done := run
		done.Snapshot, done.Rows, done.Status = snap.ID, snap.Rows, snap.Status
		switch {
		case err != nil && bg.Err() != nil:
			done.Status, done.Error = catalog.Cancelled, "cancelled: "+err.Error()
		case err != nil:
			done.Status, done.Error = catalog.Failed, err.Error()
		}
		if ferr := s.ws.Catalog.FinishRun(context.WithoutCancel(bg), done); ferr != nil {
			s.log.Error().Err(ferr).Int64("run", run.ID).Msg("could not record the end of the ingest")
		}
		s.log.Info().Str("dataset", id).Int64("run", run.ID).Str("status", string(done.Status)).Msg("ingest started by the API finished")
	}()
	return run, nil
}

// queryLevel reads a level filter: "" for none.
func queryLevel(v string) (catalog.Level, error) {
	if v == "" {
		return 0, nil
	}
	l, err := catalog.ParseLevel(v)
	if err != nil || l.String() != strings.TrimSpace(strings.ToLower(v)) {
		return 0, fmt.Errorf("level %q: use public, restricted or non_public", v)
	}
	return l, nil
}

// runStatuses lists the run statuses, for messages.
func runStatuses() string {
	var names []string
	for _, st := range catalog.RunStatuses() {
		names = append(names, string(st))
	}
	return strings.Join(names, ", ")
}

func validStatus(s string) bool {
	return slices.Contains(catalog.RunStatuses(), catalog.Status(s))
}
