package pipelines

import (
	"context"
	"errors"
	"fmt"

	"github.com/datalab/datalab/catalog"
	"github.com/datalab/datalab/connectors"
)

// DatasetLevels returns every registered dataset's access level, by id.
func (w *Workspace) DatasetLevels(ctx context.Context) (map[string]catalog.Level, error) {
	ds, err := w.Catalog.Datasets(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]catalog.Level, len(ds))
	for _, d := range ds {
		out[d.ID] = d.Access
	}
	return out, nil
}

// JobLevel returns the level of what a run of job reads or writes: its
// dataset's for an ingest, its output's for a pipeline, the highest of its
// inputs' for a project; NonPublic when it cannot tell. levels are the
// datasets' levels (DatasetLevels); nil reads them.
func (w *Workspace) JobLevel(ctx context.Context, job catalog.Node, levels map[string]catalog.Level) catalog.Level {
	if levels == nil {
		var err error
		if levels, err = w.DatasetLevels(ctx); err != nil {
			return catalog.NonPublic
		}
	}
	switch job.Kind() {
	case catalog.KindDataset:
		if l, ok := levels[job.Name()]; ok {
			return l
		}
	case catalog.KindPipeline:
		if p, err := w.Pipeline(job.Name()); err == nil {
			if l, ok := levels[p.Output.ID]; ok {
				return l
			}
		}
	case catalog.KindProject:
		inputs, err := w.ProjectInputs(ctx, job.Name())
		if err != nil {
			return catalog.NonPublic
		}
		l := catalog.Public
		for _, in := range inputs {
			li, ok := levels[in]
			if !ok {
				return catalog.NonPublic
			}
			l = catalog.Max(l, li)
		}
		return l
	}
	return catalog.NonPublic
}

// LogSafeError is what a log may say of err, the error of a job at level:
// the whole error for public data; above, only what cannot quote a value of
// the data (a bad value's place and reason, never the value), with where to
// read the whole error. Logs often travel further than the warehouse.
func LogSafeError(err error, level catalog.Level) string {
	if err == nil {
		return ""
	}
	if level <= catalog.Public {
		return err.Error()
	}
	const more = "the whole error, which may quote values, is in the catalog: `datalab dataset show ID` or `datalab runs`"
	var de *connectors.DataError
	if errors.As(err, &de) {
		safe := *de
		safe.Value = ""
		return fmt.Sprintf("%s (%s)", safe.Error(), more)
	}
	var he *connectors.HTTPError
	var oe *openError
	switch {
	case errors.Is(err, ErrInvalid), errors.Is(err, catalog.ErrInvalid), errors.Is(err, connectors.ErrBadSpec),
		errors.As(err, &he), errors.As(err, &oe):
		// A registration's fault, a server's answer, a source that did not
		// open: metadata, no value.
		return err.Error()
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "cancelled; " + more
	case errors.Is(err, ErrContract):
		return "a constraint or the contract of the registration is broken; " + more
	case errors.Is(err, ErrRefused):
		return "refused; " + more
	case errors.Is(err, connectors.ErrTransient):
		return "a transient failure of the source; " + more
	}
	return fmt.Sprintf("failed (%s data); %s", level, more)
}
