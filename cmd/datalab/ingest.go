package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/datalab/datalab/catalog"
	"github.com/datalab/datalab/pipelines"
)

func (a *app) ingestCommand() *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "ingest [ID...]",
		Short: "Load datasets from their sources now (all when none is named)",
		Long: `Load datasets from their sources into the warehouse, each in one transaction:
a failed ingest leaves the previous table and snapshot as they were. A source
that has not changed since the last load is not loaded again.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, ids []string) error {
			ws, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			defer ws.Close()
			return a.ingest(cmd.Context(), ws, ids, force)
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "load even the sources that have not changed")
	return cmd
}

// ingest loads ids (every registered dataset when empty), prints a summary
// table, and fails when one failed.
func (a *app) ingest(ctx context.Context, ws *pipelines.Workspace, ids []string, force bool) error {
	if len(ids) == 0 {
		ds, err := ws.Catalog.Datasets(ctx)
		if err != nil {
			return err
		}
		if len(ds) == 0 {
			return usageError{fmt.Errorf("no dataset is registered in %s; register one with `datalab dataset register datasets/<id>.yaml`", ws.Dir)}
		}
		for _, d := range ds {
			ids = append(ids, d.ID)
		}
	}
	var snaps []catalog.Snapshot
	var failed []string
	for _, id := range ids {
		if ctx.Err() != nil {
			break
		}
		progress := a.progress(id)
		snap, err := ws.Ingest(ctx, id, pipelines.IngestOptions{Force: force, Progress: progress.update})
		progress.done()
		if err != nil {
			if snap.ID == 0 {
				return err
			}
			failed = append(failed, err.Error())
		}
		snaps = append(snaps, snap)
	}
	levels := map[string]catalog.Level{}
	if ds, err := ws.Catalog.Datasets(ctx); err == nil {
		for _, d := range ds {
			levels[d.ID] = d.Access
		}
	}
	printSnapshots(a.stdout, snaps, levels)
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("interrupted: %w; what was loaded stays, the ingest under way was rolled back", err)
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d ingests failed; their previous snapshots stand:\n%s", len(failed), len(snaps), strings.Join(failed, "\n"))
	}
	return nil
}

// printSnapshots writes the summary table of an ingest.
func printSnapshots(w io.Writer, snaps []catalog.Snapshot, levels map[string]catalog.Level) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DATASET\tACCESS\tROWS\tSTATUS\tTIME\tSNAPSHOT")
	for _, s := range snaps {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\n", s.Dataset, levels[s.Dataset], formatCount(s.Rows), s.Status,
			s.Duration().Round(time.Millisecond), s.ID)
	}
	tw.Flush()
}

// formatCount writes n with thin groups of three digits: 200 000.
func formatCount(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// progress shows the rows read so far on a terminal, at most a few times a
// second.
type progress struct {
	a    *app
	id   string
	last time.Time
	on   bool
}

func (a *app) progress(id string) *progress {
	return &progress{a: a, id: id, on: isTerminal(a.stderr)}
}

func (p *progress) update(rows int64) {
	if !p.on || time.Since(p.last) < 200*time.Millisecond {
		return
	}
	p.last = time.Now()
	fmt.Fprintf(p.a.stderr, "\r%s: %s rows read…", p.id, formatCount(rows))
}

func (p *progress) done() {
	if p.on && !p.last.IsZero() {
		fmt.Fprint(p.a.stderr, "\r\033[K")
	}
}
