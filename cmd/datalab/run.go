package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/datalab/datalab/pipelines"
)

func (a *app) runCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "run [PROJECT...]",
		Short: "Bring the projects' inputs up to date, run their notebooks, write their indicator files",
		Long: `For each project (all of projects/ when none is named): ingest the datasets its
notebooks read (unchanged sources are not reloaded), run its notebooks top to
bottom, and write indicators.csv, indicators.json, report.html and
provenance.json into out/<level>/<project>/. Publishing below the level of
what a notebook reads needs a count on every indicator: small cells are
suppressed, and the run fails without writing anything otherwise.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, projects []string) error {
			ctx := cmd.Context()
			ws, err := a.open(ctx)
			if err != nil {
				return err
			}
			defer ws.Close()
			if len(projects) == 0 {
				if projects, err = ws.Projects(); err != nil {
					return err
				}
				if len(projects) == 0 {
					return usageError{fmt.Errorf("no project in %s; write a notebook in projects/<project>/<notebook>.md", ws.Path(pipelines.ProjectsDir))}
				}
			}
			for _, p := range projects {
				if err := a.runProject(ctx, ws, p); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

func (a *app) runProject(ctx context.Context, ws *pipelines.Workspace, project string) error {
	inputs, err := ws.ProjectInputs(ctx, project)
	if err != nil {
		return err
	}
	if len(inputs) > 0 {
		fmt.Fprintf(a.stdout, "Project %s reads %d datasets; bringing them up to date:\n", project, len(inputs))
		if err := a.ingest(ctx, ws, inputs, false); err != nil {
			return err
		}
	}
	return a.publish(ctx, ws, project)
}

// publish runs a project's notebooks and says what was written.
func (a *app) publish(ctx context.Context, ws *pipelines.Workspace, project string) error {
	res, err := ws.RunProject(ctx, project)
	if err != nil {
		return err
	}
	for i, pub := range res.Publications {
		values, suppressed := 0, 0
		for _, ind := range pub.Indicators {
			values += len(ind.Rows)
			suppressed += ind.Suppressed
		}
		fmt.Fprintf(a.stdout, "\nProject %s published at %s in %s: %d indicators, %s values, %s suppressed (secret statistique).\n",
			project, pub.Level, res.Dirs[i], len(pub.Indicators), formatCount(int64(values)), formatCount(int64(suppressed)))
	}
	return nil
}
