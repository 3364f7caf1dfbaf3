package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/datalab/datalab/catalog"
)

func (a *app) runsCommand() *cobra.Command {
	var status, since, format string
	var limit int
	cmd := &cobra.Command{
		Use:   "runs [JOB]",
		Short: "List the runs of datasets, pipelines and projects, newest first",
		Long: `List the runs the scheduler (datalab serve) and datalab pipeline run recorded:
what ran (dataset:<id>, pipeline:<name>, project:<name>), why (schedule,
upstream, manual, catch-up), when, how long, how it ended, the rows it
produced, the tries it took and its error. JOB selects one job.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f := catalog.RunFilter{Status: catalog.Status(status), Limit: limit}
			if status != "" && !slices.Contains(catalog.RunStatuses(), f.Status) {
				var names []string
				for _, s := range catalog.RunStatuses() {
					names = append(names, string(s))
				}
				return usageError{fmt.Errorf("--status %q: use one of %s", status, strings.Join(names, ", "))}
			}
			if since != "" {
				d, err := parseSince(since)
				if err != nil {
					return usageError{err}
				}
				f.Since = time.Now().Add(-d)
			}
			if format != "text" && format != "json" {
				return usageError{fmt.Errorf("--format %q: use text or json", format)}
			}
			if limit < 0 {
				return usageError{fmt.Errorf("--limit %d: give a positive number, or 0 for all", limit)}
			}
			if len(args) == 1 {
				f.Job = catalog.Node(args[0])
				if f.Job.Kind() == "" || f.Job.Name() == "" || !strings.Contains(args[0], ":") {
					return usageError{fmt.Errorf("job %q: write kind:name, e.g. pipeline:pseudonymisation or dataset:demandes.dossiers", args[0])}
				}
			}
			ctx := cmd.Context()
			ws, err := a.open(ctx)
			if err != nil {
				return err
			}
			defer ws.Close()
			runs, err := ws.Catalog.Runs(ctx, f)
			if err != nil {
				return err
			}
			if format == "json" {
				if runs == nil {
					runs = []catalog.Run{}
				}
				return writeJSON(a, runs)
			}
			if len(runs) == 0 {
				fmt.Fprintln(a.stdout, "No run recorded yet: `datalab serve` runs the schedules, `datalab pipeline run NAME` a pipeline.")
				return nil
			}
			printRuns(a, runs)
			return nil
		},
	}
	cmd.Flags().StringVar(&status, "status", "", "only the runs that ended so: running, succeeded, unchanged, failed, cancelled, skipped")
	cmd.Flags().StringVar(&since, "since", "", "only the runs started in the last DURATION (90m, 24h, 7d)")
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	cmd.Flags().IntVar(&limit, "limit", 50, "at most this many runs, the latest (0: all)")
	return cmd
}

// parseSince reads a duration, with days ("7d") besides Go's units.
func parseSince(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.ParseFloat(days, 64); err == nil && n >= 0 {
			return time.Duration(n * 24 * float64(time.Hour)), nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("--since %q: give a duration such as 90m, 24h or 7d", s)
	}
	return d, nil
}

// printRuns writes runs as a table, in the order given.
func printRuns(a *app, runs []catalog.Run) {
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tSTARTED\tJOB\tTRIGGER\tSTATUS\tTIME\tROWS\tTRIES\tERROR")
	for _, r := range runs {
		msg := strings.Join(strings.Fields(r.Error), " ")
		if len(msg) > 100 {
			msg = msg[:100] + "…"
		}
		took := "-"
		if !r.FinishedAt.IsZero() {
			took = r.Duration().Round(time.Millisecond).String()
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", r.ID, r.StartedAt.Local().Format(time.DateTime), r.Job,
			r.Trigger, r.Status, took, formatCount(r.Rows), r.Attempts, msg)
	}
	tw.Flush()
}
