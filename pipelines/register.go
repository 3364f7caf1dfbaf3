package pipelines

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/datalab/datalab/catalog"
	"github.com/datalab/datalab/connectors"
)

// ParseRegistration reads a registration file and checks it whole: the
// catalog's fields, then the source's options with the connector of its
// kind. file is a path relative to the workspace or absolute.
func (w *Workspace) ParseRegistration(file string) (catalog.Dataset, error) {
	path := file
	if !filepath.IsAbs(path) {
		path = w.Path(file)
	}
	rel, err := filepath.Rel(w.Dir, path)
	if err != nil || filepath.IsAbs(rel) {
		rel = path
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return catalog.Dataset{}, fmt.Errorf("%s: %w: %w", rel, ErrInvalid, err)
	}
	return w.CheckRegistration(rel, data)
}

// CheckRegistration validates a registration given as bytes (YAML or
// JSON); name says where it comes from in errors.
func (w *Workspace) CheckRegistration(name string, data []byte) (catalog.Dataset, error) {
	d, err := catalog.ParseRegistration(name, data)
	if err != nil {
		return catalog.Dataset{}, err
	}
	d.File = name
	if _, err := w.source(d); err != nil {
		var fe *catalog.FieldError
		if errors.As(err, &fe) {
			fe.Line = catalog.FieldLine(data, fe.Field)
		}
		return catalog.Dataset{}, err
	}
	return d, nil
}

// Register validates every registration file, then records them all in one
// transaction: when one is refused, none is registered and the error lists
// every refused field of every file.
func (w *Workspace) Register(ctx context.Context, files ...string) ([]catalog.Dataset, error) {
	var ds []catalog.Dataset
	var errs []error
	seen := map[string]string{}
	for _, f := range files {
		d, err := w.ParseRegistration(f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if other, ok := seen[d.ID]; ok {
			errs = append(errs, fmt.Errorf("%s: field id: %s is also registered by %s; %w: give each dataset its own id", d.File, d.ID, other, ErrInvalid))
			continue
		}
		seen[d.ID] = d.File
		ds = append(ds, d)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return ds, w.RegisterDatasets(ctx, ds...)
}

// RegisterDatasets records checked registrations (from CheckRegistration)
// in one transaction, all or none. A dataset that a pipeline produces is
// refused: its registration is the pipeline's.
func (w *Workspace) RegisterDatasets(ctx context.Context, ds ...catalog.Dataset) error {
	var errs []error
	for _, d := range ds {
		owner := ""
		for _, p := range w.Pipelines() {
			if p.Output.ID == d.ID {
				owner = p.Name
			}
		}
		if existing, err := w.Catalog.Dataset(ctx, d.ID); err == nil && existing.Source.Kind == PipelineKind {
			owner = "that produces it"
			var opts pipelineSourceOptions
			if json.Unmarshal(existing.Source.Options, &opts) == nil && opts.Pipeline != "" {
				owner = opts.Pipeline
			}
		}
		if owner != "" {
			errs = append(errs, &catalog.FieldError{File: d.File, Line: 0, Field: "id",
				Reason: fmt.Sprintf("%s is the output of the pipeline %s", d.ID, owner),
				Fix:    "give the dataset another id; a pipeline's output is registered by the pipeline"})
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	unlock, err := w.lockWrites(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	return w.inTx(ctx, func(store *catalog.Store) error { return store.Register(ctx, ds...) })
}

// inTx runs fn with a catalog bound to one transaction, committed when fn
// returns nil.
func (w *Workspace) inTx(ctx context.Context, fn func(*catalog.Store) error) error {
	tx, err := w.DB.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	if err := fn(w.Catalog.In(tx)); err != nil {
		return errors.Join(err, tx.Rollback())
	}
	return tx.Commit()
}

// source builds the Source of a dataset with its connector.
func (w *Workspace) source(d catalog.Dataset) (connectors.Source, error) {
	spec := connectors.Spec{Kind: d.Source.Kind, Options: d.Source.Options, Dir: w.Dir}
	if d.Schema != nil {
		for _, f := range d.Schema.Fields {
			spec.Fields = append(spec.Fields, connectors.Field{Name: f.Name, Title: f.Title, Type: connectors.FieldType(f.Type), Format: f.Format})
		}
	}
	src, err := w.Connectors.New(spec)
	if err != nil {
		var se *connectors.SpecError
		if errors.As(err, &se) {
			return nil, &catalog.FieldError{File: d.File, Field: se.Field, Reason: se.Reason, Fix: se.Fix}
		}
		return nil, fmt.Errorf("%s: %w", d.File, err)
	}
	return src, nil
}
