package pipelines

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/datalab/datalab/catalog"
)

// ProjectsDir is the workspace folder of projects, one sub-folder each.
const ProjectsDir = "projects"

// Version is datalab's version, recorded in provenance files.
var Version = "0.1.0"

// Projects returns the names of the workspace's projects, sorted.
func (w *Workspace) Projects() ([]string, error) {
	entries, err := os.ReadDir(w.Path(ProjectsDir))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", ProjectsDir, err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// Notebooks reads a project's notebooks (projects/<project>/*.md, sorted by
// name). A project name that is not a plain folder name is refused.
func (w *Workspace) Notebooks(project string) ([]*Notebook, error) {
	if !projectPattern.MatchString(project) {
		return nil, fmt.Errorf("project %q: %w: a project is a folder of projects/ named with lower-case letters, digits, - and _", project, ErrInvalid)
	}
	dir := w.Path(filepath.Join(ProjectsDir, project))
	info, err := os.Lstat(dir)
	if err != nil || !info.IsDir() {
		return nil, fmt.Errorf("project %s: %w: no folder %s", project, ErrInvalid, dir)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.md"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var nbs []*Notebook
	var errs []error
	for _, f := range files {
		if info, err := os.Lstat(f); err != nil || !info.Mode().IsRegular() {
			continue // a symbolic link or a folder is not a notebook
		}
		data, err := os.ReadFile(f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		rel, _ := filepath.Rel(w.Dir, f)
		nb, err := ParseNotebook(project, strings.TrimSuffix(filepath.Base(f), ".md"), rel, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		nbs = append(nbs, nb)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(nbs) == 0 {
		return nil, fmt.Errorf("project %s: %w: no notebook (*.md) in %s", project, ErrInvalid, dir)
	}
	return nbs, nil
}

// RunResult is what running a project did.
type RunResult struct {
	Project string
	// Publications are what was written, one per level.
	Publications []*Publication
	// Dirs are the output folders written, relative to the workspace.
	Dirs []string
}

// RunProject runs a project's notebooks top to bottom against the warehouse
// and writes their indicator files into out/<level>/<project>/, one folder
// per publication level.
//
// A notebook's level is the highest level of the datasets its cells read,
// found by parsing each cell, never declared. When it publishes below that
// level, every indicator must name its count column and values built from
// too few units are suppressed (see suppress); otherwise the run fails with
// the indicator and its inputs named, and nothing is written at that level.
// Cells run in one read transaction, so that every cell sees the same
// snapshots, and lineage edges (dataset -> cell -> indicator -> file) are
// recorded for the run. Like every write to the warehouse, a project's run
// waits for the writes under way to finish (or for ctx to be done).
func (w *Workspace) RunProject(ctx context.Context, project string) (*RunResult, error) {
	unlock, err := w.lockWrites(ctx)
	if err != nil {
		return nil, fmt.Errorf("project %s: %w", project, err)
	}
	defer unlock()
	done := w.startProjectLineage(ctx, project)
	res, err := w.runProject(ctx, project)
	done(res, err)
	return res, err
}

func (w *Workspace) runProject(ctx context.Context, project string) (*RunResult, error) {
	nbs, err := w.Notebooks(project)
	if err != nil {
		return nil, err
	}
	ds, err := w.Catalog.Datasets(ctx)
	if err != nil {
		return nil, err
	}
	datasets := map[string]catalog.Dataset{}
	for _, d := range ds {
		datasets[d.ID] = d
	}
	conn, err := w.DB.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("warehouse connection: %w", err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, &sql.TxOptions{ReadOnly: false})
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()

	runAt := time.Now().UTC()
	var version string
	if err := tx.QueryRowContext(ctx, "SELECT version()").Scan(&version); err != nil {
		return nil, err
	}
	pubs := map[catalog.Level]*Publication{}
	var edges []catalog.Edge
	for _, nb := range nbs {
		res, err := w.runNotebook(ctx, tx, nb, datasets)
		if err != nil {
			return nil, err
		}
		pub := pubs[nb.Publish]
		if pub == nil {
			pub = &Publication{Project: project, Level: nb.Publish, RunAt: runAt,
				Engine: fmt.Sprintf("datalab %s, DuckDB %s", Version, version)}
			pubs[nb.Publish] = pub
		}
		pub.Notebooks = append(pub.Notebooks, nb)
		pub.Indicators = append(pub.Indicators, res.indicators...)
		for _, in := range res.inputs {
			if !slices.ContainsFunc(pub.Inputs, func(o InputSnapshot) bool { return o.Snapshot == in.Snapshot }) {
				pub.Inputs = append(pub.Inputs, in)
			}
		}
		if res.disclosure {
			pub.MinCount = w.Config.Disclosure.MinCount
		}
		edges = append(edges, res.edges...)
	}
	result := &RunResult{Project: project}
	for _, lvl := range catalog.Levels() {
		pub := pubs[lvl]
		if pub == nil {
			continue
		}
		sort.Slice(pub.Inputs, func(i, j int) bool { return pub.Inputs[i].Dataset < pub.Inputs[j].Dataset })
		dir, files, err := w.writePublication(pub)
		if err != nil {
			return nil, err
		}
		for _, ind := range pub.Indicators {
			for _, f := range files {
				edges = append(edges, catalog.Edge{From: indicatorNode(project, ind.ID), To: catalog.NewNode(catalog.KindOutput, f), Kind: "writes"})
			}
		}
		result.Publications = append(result.Publications, pub)
		result.Dirs = append(result.Dirs, dir)
	}
	// Lineage goes through the catalog outside the read transaction.
	if err := tx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
		return nil, err
	}
	if err := w.inTx(ctx, func(s *catalog.Store) error { return s.AddEdges(ctx, edges...) }); err != nil {
		return nil, err
	}
	return result, nil
}

func indicatorNode(project, id string) catalog.Node {
	return catalog.NewNode(catalog.KindIndicator, project+"/"+id)
}

func cellNode(nb *Notebook, cell string) catalog.Node {
	return catalog.NewNode(catalog.KindCell, nb.Project+"/"+nb.Name+"/"+cell)
}

// notebookRun is what running one notebook gave.
type notebookRun struct {
	level      catalog.Level
	indicators []*IndicatorResult
	inputs     []InputSnapshot
	edges      []catalog.Edge
	disclosure bool
}

func (w *Workspace) runNotebook(ctx context.Context, tx *sql.Tx, nb *Notebook, datasets map[string]catalog.Dataset) (*notebookRun, error) {
	known := map[string]bool{}
	for id := range datasets {
		known[id] = true
	}
	run := &notebookRun{level: catalog.Public}
	cellLevels := map[string]catalog.Level{}
	cellInputs := map[string][]string{} // datasets behind each cell, through earlier cells
	defined := map[string]bool{}
	for _, cell := range nb.Cells() {
		reads, err := checkCell(ctx, tx, nb, cell, known, defined)
		if err != nil {
			return nil, err
		}
		level := catalog.Public
		var inputs []string
		for _, id := range reads.Datasets {
			snap, err := w.Catalog.In(tx).Current(ctx, id)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: cell %s reads %s: %w", nb.File, cell.Line, cell.Name, id, err)
			}
			d := datasets[id]
			level = catalog.Max(level, d.Access)
			inputs = append(inputs, id)
			if !slices.ContainsFunc(run.inputs, func(in InputSnapshot) bool { return in.Snapshot == snap.ID }) {
				run.inputs = append(run.inputs, InputSnapshot{Dataset: id, Snapshot: snap.ID, ContentHash: snap.ContentHash, LoadedAt: snap.FinishedAt, Access: d.Access})
			}
			run.edges = append(run.edges, catalog.Edge{From: catalog.DatasetNode(id), To: cellNode(nb, cell.Name), Kind: "reads", Snapshot: snap.ID})
		}
		for _, c := range reads.Cells {
			level = catalog.Max(level, cellLevels[c])
			inputs = append(inputs, cellInputs[c]...)
			run.edges = append(run.edges, catalog.Edge{From: cellNode(nb, c), To: cellNode(nb, cell.Name), Kind: "reads"})
		}
		slices.Sort(inputs)
		cellInputs[cell.Name] = slices.Compact(inputs)
		cellLevels[cell.Name] = level
		run.level = catalog.Max(run.level, level)
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %s AS %s", quoteIdent(cell.Name), strings.TrimRight(strings.TrimSpace(cell.SQL), ";"))); err != nil {
			return nil, fmt.Errorf("%s:%d: cell %s: %w", nb.File, cell.Line, cell.Name, err)
		}
		defined[cell.Name] = true
	}
	below := nb.Publish < run.level
	run.disclosure = below
	for _, ind := range nb.Indicators() {
		if below && ind.Count == "" {
			var restricted []string
			for _, id := range cellInputs[ind.From] {
				if datasets[id].Access > nb.Publish {
					restricted = append(restricted, fmt.Sprintf("%s (%s)", id, datasets[id].Access))
				}
			}
			if len(restricted) == 0 {
				restricted = []string{fmt.Sprintf("other cells at level %s", run.level)}
			}
			return nil, fmt.Errorf("%s:%d: indicator %s: %w: the notebook reads %s and publishes at %s, so every indicator must name its count (the column of units behind each value) for disclosure control; add count: <column> to it, or publish at %s",
				nb.File, ind.Line, ind.ID, ErrRefused, strings.Join(restricted, ", "), nb.Publish, run.level)
		}
		res, err := w.evalIndicator(ctx, tx, nb, ind, below)
		if err != nil {
			return nil, err
		}
		res.InputLevel = run.level
		run.indicators = append(run.indicators, res)
		run.edges = append(run.edges, catalog.Edge{From: cellNode(nb, ind.From), To: indicatorNode(nb.Project, ind.ID), Kind: "computes"})
	}
	return run, nil
}

// evalIndicator reads an indicator's values from its cell and, when
// disclose is set, applies disclosure control.
func (w *Workspace) evalIndicator(ctx context.Context, tx *sql.Tx, nb *Notebook, ind *Indicator, disclose bool) (*IndicatorResult, error) {
	where := fmt.Sprintf("%s:%d: indicator %s", nb.File, ind.Line, ind.ID)
	cols, err := cellColumns(ctx, tx, ind.From)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	need := append([]string{ind.Value, ind.Period, ind.Count}, ind.By...)
	for _, c := range need {
		if c != "" && !slices.Contains(cols, c) {
			return nil, fmt.Errorf("%s: %w: cell %s has no column %s; its columns are %s", where, ErrInvalid, ind.From, c, strings.Join(cols, ", "))
		}
	}
	text := func(col string) string {
		if col == "" {
			return "''"
		}
		return "coalesce(CAST(" + quoteIdent(col) + " AS VARCHAR), '')"
	}
	sel := []string{text(ind.Period)}
	order := []string{}
	if ind.Period != "" {
		order = append(order, quoteIdent(ind.Period))
	}
	for _, b := range ind.By {
		sel = append(sel, text(b))
		order = append(order, quoteIdent(b))
	}
	sel = append(sel, "TRY_CAST("+quoteIdent(ind.Value)+" AS DOUBLE)")
	if ind.Count != "" {
		sel = append(sel, "TRY_CAST("+quoteIdent(ind.Count)+" AS BIGINT)")
	} else {
		sel = append(sel, "NULL::BIGINT")
	}
	q := "SELECT " + strings.Join(sel, ", ") + " FROM " + quoteIdent(ind.From)
	if len(order) > 0 {
		q += " ORDER BY " + strings.Join(order, ", ")
	}
	rows, err := tx.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	defer rows.Close()
	res := &IndicatorResult{Indicator: ind, Notebook: nb.Name}
	var cells []*tableCell
	for rows.Next() {
		var period string
		by := make([]string, len(ind.By))
		var value sql.NullFloat64
		var count sql.NullInt64
		dest := []any{&period}
		for i := range by {
			dest = append(dest, &by[i])
		}
		dest = append(dest, &value, &count)
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		// A month or a day truncated to a timestamp reads as a date.
		row := IndicatorRow{Period: strings.TrimSuffix(period, " 00:00:00"), By: by}
		if value.Valid {
			v := value.Float64
			row.Value = &v
		}
		res.Rows = append(res.Rows, row)
		dims := append([]string{period}, by...)
		if ind.Period == "" {
			dims = by
		}
		cells = append(cells, &tableCell{dims: dims, count: count.Int64, hasCount: count.Valid})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	if disclose {
		res.Suppressed = suppress(cells, int64(w.Config.Disclosure.MinCount))
		for i, c := range cells {
			if c.suppressed {
				res.Rows[i].Value, res.Rows[i].Suppressed = nil, true
			}
		}
	}
	return res, nil
}

// cellColumns lists a cell's result columns.
func cellColumns(ctx context.Context, tx *sql.Tx, cell string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, "SELECT * FROM "+quoteIdent(cell)+" LIMIT 0")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return rows.Columns()
}

// ProjectInputs returns the datasets to bring up to date before running a
// project: those its notebooks read, found by parsing their cells (nothing
// runs), and, for those that a pipeline of the workspace computes, the
// pipeline's inputs, recursively. They come in dependency order: a
// pipeline's inputs before its output; otherwise sorted.
func (w *Workspace) ProjectInputs(ctx context.Context, project string) ([]string, error) {
	reads, err := w.projectReads(ctx, project)
	if err != nil {
		return nil, err
	}
	var out []string
	seen := map[string]bool{}
	var visit func(id string)
	visit = func(id string) {
		if seen[id] {
			return
		}
		seen[id] = true
		for _, p := range w.Pipelines() {
			if p.Output.ID == id {
				inputs := slices.Clone(p.Inputs)
				slices.Sort(inputs)
				for _, in := range inputs {
					visit(in)
				}
			}
		}
		out = append(out, id)
	}
	for _, id := range reads {
		visit(id)
	}
	return out, nil
}

// projectReads returns the datasets a project's notebooks read, sorted.
func (w *Workspace) projectReads(ctx context.Context, project string) ([]string, error) {
	nbs, err := w.Notebooks(project)
	if err != nil {
		return nil, err
	}
	ds, err := w.Catalog.Datasets(ctx)
	if err != nil {
		return nil, err
	}
	known := map[string]bool{}
	for _, d := range ds {
		known[d.ID] = true
	}
	var inputs []string
	for _, nb := range nbs {
		defined := map[string]bool{}
		for _, cell := range nb.Cells() {
			reads, err := checkCell(ctx, w.DB, nb, cell, known, defined)
			if err != nil {
				return nil, err
			}
			inputs = append(inputs, reads.Datasets...)
			defined[cell.Name] = true
		}
	}
	slices.Sort(inputs)
	return slices.Compact(inputs), nil
}
