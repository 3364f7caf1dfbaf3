package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/datalab/datalab"
	"github.com/datalab/datalab/pipelines"
)

func (a *app) demoCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "demo [DIR]",
		Short: "Write the embedded example workspace and run it end to end (default ./datalab-demo)",
		Long: `Write the embedded example workspace into DIR (default ./datalab-demo): real
files published by French ministries (INSEE, DREES, Culture) and 200,000
generated individual benefit applications (non_public); register every
dataset, ingest them all, run the pipeline that pseudonymises the
applications (key from DATALAB_PSEUDO_KEY, or made once and kept in
DIR/.datalab-pseudo-key), run the project's notebook, and print a summary.
Running it again on the same folder reuses it: unchanged sources are not
loaded again, and the same key gives the same pseudonyms.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "datalab-demo"
			if len(args) == 1 {
				dir = args[0]
			}
			ctx := cmd.Context()
			_, err := os.Stat(filepath.Join(dir, pipelines.ConfigFile))
			switch {
			case err == nil:
				fmt.Fprintf(a.stdout, "Reusing the demo workspace in %s.\n", dir)
			case errors.Is(err, os.ErrNotExist):
				fmt.Fprintf(a.stdout, "Writing the demo workspace into %s…\n", dir)
				if err := datalab.WriteDemo(dir); err != nil {
					return usageError{err}
				}
			default:
				return err
			}
			ws, err := a.openDir(ctx, dir)
			if err != nil {
				return err
			}
			defer ws.Close()
			files, err := filepath.Glob(filepath.Join(ws.Dir, "datasets", "*.yaml"))
			if err != nil {
				return err
			}
			ds, err := ws.Register(ctx, files...)
			if err != nil {
				return fmt.Errorf("register the demo datasets: %w", err)
			}
			made, err := a.addPipelines(ctx, ws, true)
			if errors.Is(err, pipelines.ErrWeakKey) {
				return usageError{err}
			}
			if err != nil {
				return err
			}
			if made {
				fmt.Fprintf(a.stdout, "Made a pseudonymisation key for the demo in %s (readable by you only; never written to the catalog or a log); set %s to use your own.\n",
					filepath.Join(dir, datalab.DemoKeyFile), pipelines.PseudoKeyEnv)
			}
			sources := make([]string, len(ds))
			for i, d := range ds {
				sources[i] = d.ID
			}
			fmt.Fprintf(a.stdout, "Registered %d datasets; ingesting them…\n\n", len(ds))
			if err := a.ingest(ctx, ws, sources, false); err != nil {
				return err
			}
			if ps := ws.Pipelines(); len(ps) > 0 {
				var outputs []string
				for _, p := range ps {
					outputs = append(outputs, p.Output.ID)
				}
				fmt.Fprintf(a.stdout, "\nRunning the pipelines (%s)…\n\n", pipelineNames(ps))
				if err := a.ingest(ctx, ws, outputs, false); err != nil {
					return err
				}
			}
			projects, err := ws.Projects()
			if err != nil {
				return err
			}
			for _, p := range projects {
				if err := a.publish(ctx, ws, p); err != nil {
					return err
				}
			}
			fmt.Fprintf(a.stdout, `
The warehouse is %s. Next:
  datalab -w %s dataset list
  datalab -w %s dataset show demandes.dossiers
  datalab -w %s lineage dataset:demandes.dossiers_pseudo
  datalab -w %s lineage dataset:insee.departements
  open %s
`, ws.Path(ws.Config.Warehouse), dir, dir, dir, dir, filepath.Join(dir, ws.Config.Output, "public", "delais", "report.html"))
			return nil
		},
	}
}

func pipelineNames(ps []pipelines.Pipeline) string {
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}
