package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/datalab/datalab"
	"github.com/datalab/datalab/catalog"
	"github.com/datalab/datalab/pipelines"
)

// addPipelines adds the pipelines this program declares to ws: the demo's
// pseudonymisation, when the workspace registers its input and a key is at
// hand (DATALAB_PSEUDO_KEY, or the key file `datalab demo` made in the
// workspace). With create, a key is made when there is none; made says so.
// A lab's own program adds its own pipelines here.
func (a *app) addPipelines(ctx context.Context, ws *pipelines.Workspace, create bool) (made bool, err error) {
	if _, err := ws.Catalog.Dataset(ctx, datalab.DemoPseudoInput); errors.Is(err, catalog.ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	key, made, err := datalab.DemoKey(ws.Dir, create)
	if err != nil {
		return false, fmt.Errorf("pipeline %s: %w", datalab.DemoPipelineName, err)
	}
	if key == nil {
		if _, err := ws.Catalog.Dataset(ctx, datalab.DemoPseudoOutput); err == nil {
			a.log.Warn().Str("pipeline", datalab.DemoPipelineName).
				Msgf("pipeline %s is off: no key; set %s, or run `datalab demo` in this folder to make one", datalab.DemoPipelineName, pipelines.PseudoKeyEnv)
		}
		return false, nil
	}
	p, err := datalab.DemoPipeline(key)
	if err != nil {
		return false, err
	}
	return made, ws.AddPipeline(ctx, p)
}

func (a *app) pipelineCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pipeline",
		Short: "List and run the pipelines this program declares",
	}
	var format string
	list := &cobra.Command{
		Use:   "list",
		Short: "List the pipelines: inputs, output, level, schedule, last run",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			ws, err := a.open(ctx)
			if err != nil {
				return err
			}
			defer ws.Close()
			type row struct {
				Name        string        `json:"name"`
				Description string        `json:"description,omitempty"`
				Inputs      []string      `json:"inputs"`
				Output      string        `json:"output"`
				Access      catalog.Level `json:"access"`
				Schedule    string        `json:"schedule,omitempty"`
				OnChange    bool          `json:"on_change"`
				Last        *catalog.Run  `json:"last_run,omitempty"`
			}
			var rows []row
			for _, p := range ws.Pipelines() {
				r := row{Name: p.Name, Description: p.Description, Inputs: p.Inputs, Output: p.Output.ID,
					Access: p.Output.Access, Schedule: p.Schedule, OnChange: p.OnChange}
				runs, err := ws.Catalog.Runs(ctx, catalog.RunFilter{Job: catalog.NewNode(catalog.KindPipeline, p.Name), Limit: 1})
				if err != nil {
					return err
				}
				if len(runs) == 1 {
					r.Last = &runs[0]
				}
				rows = append(rows, r)
			}
			if format == "json" {
				return writeJSON(a, rows)
			}
			if len(rows) == 0 {
				fmt.Fprintln(a.stdout, "No pipeline: this program declares none for this workspace.")
				return nil
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tINPUTS\tOUTPUT\tACCESS\tRUNS\tLAST RUN")
			for _, r := range rows {
				when := []string{}
				if r.Schedule != "" {
					when = append(when, r.Schedule)
				}
				if r.OnChange {
					when = append(when, "on change")
				}
				if len(when) == 0 {
					when = append(when, "on demand")
				}
				last := "never"
				if r.Last != nil {
					last = fmt.Sprintf("%s %s", r.Last.StartedAt.Local().Format("2006-01-02 15:04"), r.Last.Status)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, strings.Join(r.Inputs, ", "), r.Output, r.Access, strings.Join(when, ", "), last)
			}
			return tw.Flush()
		},
	}
	list.Flags().StringVar(&format, "format", "text", "output format: text or json")

	var downstream, force bool
	run := &cobra.Command{
		Use:   "run NAME",
		Short: "Run a pipeline now (recorded as a manual run)",
		Long: `Run a pipeline now: compute its output from its inputs' current snapshots and
load it in one transaction. When no input changed since its last run, nothing
is computed (unchanged), unless --force. With --downstream, what reads its output (pipelines,
projects) runs after it when it changed.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			ws, err := a.open(ctx)
			if err != nil {
				return err
			}
			defer ws.Close()
			if _, err := ws.Pipeline(args[0]); err != nil {
				return err
			}
			sched, err := pipelines.NewScheduler(ctx, ws, pipelines.SchedulerOptions{Log: a.log})
			if err != nil {
				return err
			}
			start := time.Now()
			r, err := sched.RunNow(ctx, catalog.NewNode(catalog.KindPipeline, args[0]), pipelines.RunOptions{Force: force, Downstream: downstream})
			if err != nil {
				return err
			}
			runs, err := ws.Catalog.Runs(ctx, catalog.RunFilter{Since: start.Add(-time.Second)})
			if err != nil {
				return err
			}
			var mine []catalog.Run
			for i := len(runs) - 1; i >= 0; i-- {
				if runs[i].ID >= r.ID {
					mine = append(mine, runs[i])
				}
			}
			printRuns(a, mine)
			if r.Status == catalog.Failed || r.Status == catalog.Cancelled {
				return fmt.Errorf("pipeline %s %s: %s", args[0], r.Status, r.Error)
			}
			return nil
		},
	}
	run.Flags().BoolVar(&downstream, "downstream", false, "then run what reads its output, when it changed")
	run.Flags().BoolVar(&force, "force", false, "compute the output even when no input changed")
	cmd.AddCommand(list, run)
	return cmd
}
