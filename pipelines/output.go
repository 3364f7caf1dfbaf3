package pipelines

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/datalab/datalab/catalog"
)

// The indicator files of a publication.
const (
	IndicatorsCSV  = "indicators.csv"
	IndicatorsJSON = "indicators.json"
	ReportHTML     = "report.html"
	ProvenanceJSON = "provenance.json"
)

// writePublication writes a publication's four files into
// out/<level>/<project>/ as a whole: they are built in memory, written into
// a staging folder beside it, then swapped in, so that readers never see a
// half-written file or a mix of two runs. It refuses to write through a
// symbolic link. It returns the folder and the files, relative to the
// workspace.
func (w *Workspace) writePublication(p *Publication) (string, []string, error) {
	if !projectPattern.MatchString(p.Project) || !p.Level.Valid() {
		return "", nil, fmt.Errorf("publish %q at %v: %w: not a project name or level", p.Project, p.Level, ErrRefused)
	}
	files := map[string][]byte{}
	var err error
	if files[IndicatorsCSV], err = indicatorsCSV(p); err != nil {
		return "", nil, err
	}
	if files[IndicatorsJSON], err = indicatorsJSON(p); err != nil {
		return "", nil, err
	}
	if files[ProvenanceJSON], err = provenanceJSON(p); err != nil {
		return "", nil, err
	}
	var report bytes.Buffer
	if err := writeReport(&report, p); err != nil {
		return "", nil, fmt.Errorf("report of %s: %w", p.Project, err)
	}
	files[ReportHTML] = report.Bytes()

	out := w.Path(w.Config.Output)
	levelDir := filepath.Join(out, p.Level.String())
	final := filepath.Join(levelDir, p.Project)
	for _, dir := range []string{out, levelDir} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", nil, fmt.Errorf("create %s: %w", dir, err)
		}
	}
	for _, path := range []string{out, levelDir, final} {
		if info, err := os.Lstat(path); err == nil && info.Mode()&os.ModeSymlink != 0 {
			return "", nil, fmt.Errorf("%s is a symbolic link: %w: outputs are written only under %s; remove the link", path, ErrRefused, out)
		}
	}
	staging, err := os.MkdirTemp(levelDir, "."+p.Project+".tmp-")
	if err != nil {
		return "", nil, fmt.Errorf("stage outputs: %w", err)
	}
	cleanup := func(err error) error { return errors.Join(err, os.RemoveAll(staging)) }
	names := []string{IndicatorsCSV, IndicatorsJSON, ReportHTML, ProvenanceJSON}
	for _, name := range names {
		if err := writeSynced(filepath.Join(staging, name), files[name]); err != nil {
			return "", nil, cleanup(err)
		}
	}
	if err := os.Chmod(staging, 0o755); err != nil {
		return "", nil, cleanup(err)
	}
	old := ""
	if _, err := os.Lstat(final); err == nil {
		old = staging + ".old"
		if err := os.Rename(final, old); err != nil {
			return "", nil, cleanup(fmt.Errorf("replace %s: %w", final, err))
		}
	}
	if err := os.Rename(staging, final); err != nil {
		if old != "" {
			err = errors.Join(err, os.Rename(old, final))
		}
		return "", nil, cleanup(fmt.Errorf("publish %s: %w", final, err))
	}
	if old != "" {
		if err := os.RemoveAll(old); err != nil {
			w.Log.Warn().Err(err).Str("path", old).Msg("could not remove the previous outputs")
		}
	}
	rel, _ := filepath.Rel(w.Dir, final)
	var written []string
	for _, name := range names {
		written = append(written, filepath.Join(rel, name))
	}
	return rel, written, nil
}

func writeSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return errors.Join(err, f.Close())
	}
	if err := f.Sync(); err != nil {
		return errors.Join(err, f.Close())
	}
	return f.Close()
}

// dimensions lists the by dimensions of every indicator, in order of first
// appearance: the CSV has a column for each.
func dimensions(p *Publication) []string {
	var dims []string
	for _, ind := range p.Indicators {
		for _, b := range ind.By {
			if !slices.Contains(dims, b) {
				dims = append(dims, b)
			}
		}
	}
	return dims
}

func formatFloat(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'f', -1, 64)
}

// indicatorsCSV writes one row per indicator, period and dimension values,
// comma-separated UTF-8 with a point as decimal separator.
func indicatorsCSV(p *Publication) ([]byte, error) {
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	dims := dimensions(p)
	header := append(append([]string{"indicator", "label", "period"}, dims...), "value", "unit", "target", "baseline", "direction", "suppressed")
	cw.Write(header)
	for _, ind := range p.Indicators {
		for _, r := range ind.Rows {
			rec := []string{ind.ID, ind.Label, r.Period}
			for _, d := range dims {
				v := ""
				if i := slices.Index(ind.By, d); i >= 0 {
					v = r.By[i]
				}
				rec = append(rec, v)
			}
			rec = append(rec, formatFloat(r.Value), ind.Unit, formatFloat(ind.Target), formatFloat(ind.Baseline), ind.Direction, strconv.FormatBool(r.Suppressed))
			cw.Write(rec)
		}
	}
	cw.Flush()
	return buf.Bytes(), cw.Error()
}

type jsonValue struct {
	Period     string            `json:"period,omitempty"`
	By         map[string]string `json:"by,omitempty"`
	Value      *float64          `json:"value"`
	Suppressed bool              `json:"suppressed"`
}

type jsonIndicator struct {
	ID          string      `json:"id"`
	Label       string      `json:"label"`
	Unit        string      `json:"unit,omitempty"`
	Description string      `json:"description,omitempty"`
	Notebook    string      `json:"notebook"`
	From        string      `json:"from"`
	Period      string      `json:"period,omitempty"`
	By          []string    `json:"by,omitempty"`
	Count       string      `json:"count,omitempty"`
	Direction   string      `json:"direction,omitempty"`
	Baseline    *float64    `json:"baseline,omitempty"`
	Target      *float64    `json:"target,omitempty"`
	Suppressed  int         `json:"suppressed"`
	Values      []jsonValue `json:"values"`
}

func indicatorsJSON(p *Publication) ([]byte, error) {
	doc := struct {
		Project     string          `json:"project"`
		Level       catalog.Level   `json:"level"`
		GeneratedAt time.Time       `json:"generated_at"`
		MinCount    int             `json:"disclosure_min_count,omitempty"`
		Indicators  []jsonIndicator `json:"indicators"`
	}{Project: p.Project, Level: p.Level, GeneratedAt: p.RunAt, MinCount: p.MinCount, Indicators: []jsonIndicator{}}
	for _, ind := range p.Indicators {
		ji := jsonIndicator{ID: ind.ID, Label: ind.Label, Unit: ind.Unit, Description: ind.Description, Notebook: ind.Notebook,
			From: ind.From, Period: ind.Period, By: ind.By, Count: ind.Count, Direction: ind.Direction,
			Baseline: ind.Baseline, Target: ind.Target, Suppressed: ind.Suppressed, Values: []jsonValue{}}
		for _, r := range ind.Rows {
			v := jsonValue{Period: r.Period, Value: r.Value, Suppressed: r.Suppressed}
			if len(ind.By) > 0 {
				v.By = map[string]string{}
				for i, b := range ind.By {
					v.By[b] = r.By[i]
				}
			}
			ji.Values = append(ji.Values, v)
		}
		doc.Indicators = append(doc.Indicators, ji)
	}
	return json.MarshalIndent(doc, "", "  ")
}

func provenanceJSON(p *Publication) ([]byte, error) {
	type notebook struct {
		File string `json:"file"`
		Hash string `json:"content_hash"`
	}
	doc := struct {
		Project   string          `json:"project"`
		Level     catalog.Level   `json:"level"`
		RunAt     time.Time       `json:"run_at"`
		Engine    string          `json:"engine"`
		MinCount  int             `json:"disclosure_min_count,omitempty"`
		Notebooks []notebook      `json:"notebooks"`
		Inputs    []InputSnapshot `json:"inputs"`
	}{Project: p.Project, Level: p.Level, RunAt: p.RunAt, Engine: p.Engine, MinCount: p.MinCount, Inputs: p.Inputs}
	for _, nb := range p.Notebooks {
		doc.Notebooks = append(doc.Notebooks, notebook{File: nb.File, Hash: nb.Hash})
	}
	if doc.Inputs == nil {
		doc.Inputs = []InputSnapshot{}
	}
	return json.MarshalIndent(doc, "", "  ")
}
