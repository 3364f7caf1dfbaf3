package server

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/datalab/datalab/catalog"
	"github.com/datalab/datalab/pipelines"
)

// entry is a dataset with its latest snapshot (of any status) and its
// current one (the last success); nil when there is none.
type entry struct {
	d       catalog.Dataset
	last    *catalog.Snapshot
	current *catalog.Snapshot
}

// datasetFilter selects datasets; zero fields select all.
type datasetFilter struct {
	Level     catalog.Level
	Publisher string
	Text      string
}

// fold lowers s and strips its accents, so that "departement" finds
// "Départements".
func fold(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, strings.ToLower(s))
	if err != nil {
		return strings.ToLower(s)
	}
	return out
}

func (f datasetFilter) match(d catalog.Dataset) bool {
	if f.Level != 0 && d.Access != f.Level {
		return false
	}
	if f.Publisher != "" && !strings.EqualFold(strings.TrimSpace(f.Publisher), d.Publisher) {
		return false
	}
	if t := strings.TrimSpace(f.Text); t != "" {
		hay := fold(strings.Join([]string{d.ID, d.Title, d.Description, d.Publisher}, " "))
		for _, word := range strings.Fields(fold(t)) {
			if !strings.Contains(hay, word) {
				return false
			}
		}
	}
	return true
}

// entries returns the datasets f selects, by id, with their snapshots.
func (s *server) entries(ctx context.Context, f datasetFilter) ([]entry, []string, error) {
	ds, err := s.ws.Catalog.Datasets(ctx)
	if err != nil {
		return nil, nil, err
	}
	var publishers []string
	var out []entry
	for _, d := range ds {
		if !slices.Contains(publishers, d.Publisher) {
			publishers = append(publishers, d.Publisher)
		}
		if !f.match(d) {
			continue
		}
		e, err := s.entry(ctx, d)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, e)
	}
	slices.SortFunc(publishers, func(a, b string) int { return strings.Compare(fold(a), fold(b)) })
	return out, publishers, nil
}

func (s *server) entry(ctx context.Context, d catalog.Dataset) (entry, error) {
	e := entry{d: d}
	snaps, err := s.ws.Catalog.Snapshots(ctx, d.ID, 1)
	if err != nil {
		return e, err
	}
	if len(snaps) == 1 {
		e.last = &snaps[0]
	}
	cur, err := s.ws.Catalog.Current(ctx, d.ID)
	switch {
	case err == nil:
		e.current = &cur
	case !errors.Is(err, catalog.ErrNotFound):
		return e, err
	}
	return e, nil
}

// finding is a quality finding on a dataset.
type finding struct {
	// Severity is error, warning or info.
	Severity string `json:"severity"`
	Message  string `json:"message"`
}

// staleAfter is, for each frequency, how old the last load may be before
// it looks stale: twice the period.
var staleAfter = map[string]time.Duration{
	"hourly": 2 * time.Hour, "daily": 48 * time.Hour, "weekly": 14 * 24 * time.Hour,
	"biweekly": 28 * 24 * time.Hour, "monthly": 62 * 24 * time.Hour, "bimonthly": 124 * 24 * time.Hour,
	"quarterly": 184 * 24 * time.Hour, "semiannual": 366 * 24 * time.Hour, "yearly": 730 * 24 * time.Hour,
}

// quality lists what a reader should know of a dataset's state: never
// loaded, last load failed, rows set aside (and by which rule), columns
// declared but not loaded, a load older than the frequency says. It counts
// and names rules; it never reads a value.
func (s *server) quality(ctx context.Context, e entry) ([]finding, error) {
	var out []finding
	add := func(sev, format string, args ...any) {
		out = append(out, finding{Severity: sev, Message: fmt.Sprintf(format, args...)})
	}
	if e.last == nil {
		add("warning", "Jamais chargé : lancer `datalab ingest %s`.", e.d.ID)
		return out, nil
	}
	if e.last.Status == catalog.Failed {
		add("error", "Le dernier chargement (instantané %d) a échoué ; l’instantané précédent reste en place.", e.last.ID)
	}
	if e.current == nil {
		if e.last.Status != catalog.Failed {
			add("warning", "Aucun chargement réussi pour l’instant.")
		}
		return out, nil
	}
	cur := e.current
	if cur.Rows == 0 {
		add("warning", "La table chargée est vide.")
	}
	if cur.Rejected > 0 {
		add("warning", "%s par le contrat discard_row (mises en quarantaine au même niveau d’accès).", plural(cur.Rejected, "ligne écartée", "lignes écartées"))
		reasons, err := s.rejectReasons(ctx, e.d)
		if err != nil {
			return nil, err
		}
		for _, r := range reasons {
			add("info", "%s : %s.", r.reason, plural(r.n, "ligne", "lignes"))
		}
	}
	if e.d.Schema != nil {
		var missing []string
		for _, f := range e.d.Schema.Fields {
			if !slices.ContainsFunc(cur.Columns, func(c catalog.Column) bool { return c.Name == f.Name }) {
				missing = append(missing, f.Name)
			}
		}
		if len(missing) > 0 {
			add("warning", "Colonnes déclarées mais absentes de la table chargée : %s.", strings.Join(missing, ", "))
		}
	}
	if limit, ok := staleAfter[e.d.Frequency]; ok && !cur.FinishedAt.IsZero() {
		if age := time.Since(cur.FinishedAt); age > limit {
			add("warning", "Dernier chargement réussi il y a %s, plus ancien que ne le laisse attendre la fréquence annoncée (%s).", humanAge(age), frequencyLabel(e.d.Frequency))
		}
	}
	return out, nil
}

type rejectReason struct {
	reason string
	n      int64
}

// rejectReasons counts the quarantined rows of a dataset by rule: the
// reasons are the registration's rules, never values.
func (s *server) rejectReasons(ctx context.Context, d catalog.Dataset) ([]rejectReason, error) {
	table := d.TableName() + "__rejected"
	var n int
	if err := s.ws.DB.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?`,
		d.SchemaName(), table).Scan(&n); err != nil || n == 0 {
		return nil, err
	}
	rows, err := s.ws.DB.QueryContext(ctx, fmt.Sprintf(`SELECT rejected_reason, count(*) FROM %s.%s GROUP BY 1 ORDER BY 2 DESC, 1`,
		quoteIdent(d.SchemaName()), quoteIdent(table)))
	if err != nil {
		return nil, nil // a quarantine table of another shape: nothing to say
	}
	defer rows.Close()
	var out []rejectReason
	for rows.Next() {
		var r rejectReason
		var reason sql.NullString
		if err := rows.Scan(&reason, &r.n); err != nil {
			return nil, err
		}
		r.reason = reason.String
		out = append(out, r)
	}
	return out, rows.Err()
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// projectPattern is a project's folder name, as pipelines accepts it.
var projectPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// outputFiles are the files of a publication, the only ones served.
var outputFiles = []string{pipelines.ReportHTML, pipelines.IndicatorsCSV, pipelines.IndicatorsJSON, pipelines.ProvenanceJSON}

// projectInfo is a project: its notebooks, indicators and outputs.
type projectInfo struct {
	Name       string          `json:"name"`
	Notebooks  []notebookInfo  `json:"notebooks"`
	Indicators []indicatorInfo `json:"indicators"`
	Outputs    []outputInfo    `json:"outputs"`
	// Report redirects to the least protected report, empty when none was
	// written.
	Report string `json:"report,omitempty"`
	// Problem says why the notebooks cannot be read.
	Problem string `json:"problem,omitempty"`
}

type notebookInfo struct {
	Name    string        `json:"name"`
	Title   string        `json:"title"`
	Owner   string        `json:"owner,omitempty"`
	File    string        `json:"file"`
	Publish catalog.Level `json:"publish"`
}

type indicatorInfo struct {
	ID          string        `json:"id"`
	Label       string        `json:"label"`
	Unit        string        `json:"unit,omitempty"`
	Description string        `json:"description,omitempty"`
	Notebook    string        `json:"notebook"`
	Publish     catalog.Level `json:"publish"`
	Direction   string        `json:"direction,omitempty"`
	Baseline    *float64      `json:"baseline,omitempty"`
	Target      *float64      `json:"target,omitempty"`
}

// outputInfo is a project's outputs at one level.
type outputInfo struct {
	Level catalog.Level `json:"level"`
	// Open is true when anyone may read them (level public); the others
	// need the administrator's token.
	Open        bool      `json:"open"`
	GeneratedAt time.Time `json:"generated_at,omitzero"`
	// Files are the URLs of the files, by name.
	Files map[string]string `json:"files"`
}

// outputDir returns the folder of a project's outputs at a level.
func (s *server) outputDir(level catalog.Level, project string) string {
	return filepath.Join(s.ws.Path(s.ws.Config.Output), level.String(), project)
}

func outputURL(level catalog.Level, project, file string) string {
	return "/out/" + level.String() + "/" + project + "/" + file
}

// projects reads every project, or the one named.
func (s *server) projects(ctx context.Context, only string) ([]projectInfo, error) {
	names, err := s.ws.Projects()
	if err != nil {
		return nil, err
	}
	var out []projectInfo
	for _, name := range names {
		if only != "" && name != only {
			continue
		}
		if !projectPattern.MatchString(name) {
			continue
		}
		p := projectInfo{Name: name, Notebooks: []notebookInfo{}, Indicators: []indicatorInfo{}, Outputs: []outputInfo{}}
		nbs, err := s.ws.Notebooks(name)
		if err != nil {
			p.Problem = err.Error()
		}
		for _, nb := range nbs {
			p.Notebooks = append(p.Notebooks, notebookInfo{Name: nb.Name, Title: nb.Title, Owner: nb.Owner, File: nb.File, Publish: nb.Publish})
			for _, ind := range nb.Indicators() {
				p.Indicators = append(p.Indicators, indicatorInfo{ID: ind.ID, Label: ind.Label, Unit: ind.Unit, Description: ind.Description,
					Notebook: nb.Name, Publish: nb.Publish, Direction: ind.Direction, Baseline: ind.Baseline, Target: ind.Target})
			}
		}
		for _, lvl := range catalog.Levels() {
			o := outputInfo{Level: lvl, Open: lvl == catalog.Public, Files: map[string]string{}}
			for _, f := range outputFiles {
				info, err := os.Lstat(filepath.Join(s.outputDir(lvl, name), f))
				if err != nil || !info.Mode().IsRegular() {
					continue
				}
				o.Files[f] = outputURL(lvl, name, f)
				if f == pipelines.ReportHTML {
					o.GeneratedAt = info.ModTime().UTC()
				}
			}
			if len(o.Files) > 0 {
				p.Outputs = append(p.Outputs, o)
				if p.Report == "" {
					p.Report = "/projects/" + name + "/report"
				}
			}
		}
		out = append(out, p)
	}
	return out, nil
}
