package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
)

const initConfig = `# datalab workspace. Every field is optional; these are the defaults.
warehouse: warehouse.duckdb
output: out
disclosure:
  min_count: 11      # cells built from fewer units are suppressed
`

const initDatasetsReadme = `# Datasets

One registration per dataset, named after its id: ` + "`<schema>.<table>.yaml`" + `.

` + "```yaml" + `
id: drees.ivg_mineures            # schema.table in DuckDB; lower case, digits, _
title: Part des IVG chez les mineures, par zone
publisher: DREES
contact: contact@example.org
access: public                    # public | restricted | non_public
license: etalab-2.0
frequency: yearly
schedule: "0 6 * * 1"             # optional
source:
  kind: csv
  url: data/donnees_feuil4.csv    # relative to the workspace, file:///..., http(s)://...
  delimiter: ";"                  # detected when absent
  encoding: iso-8859-1            # detected when absent
  decimal: ","
contract: evolve                  # evolve | freeze | discard_row
` + "```" + `

Then: ` + "`datalab dataset register datasets/*.yaml && datalab ingest`" + `.
`

const initGitignore = `# The warehouse is built from the sources; outputs are published elsewhere.
/warehouse.duckdb
/warehouse.duckdb.wal
# A pseudonymisation key is a secret: never under version control.
/.datalab-pseudo-key
`

func (a *app) initCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "init DIR",
		Short: "Create a new workspace",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
				return usageError{fmt.Errorf("%s is not empty; give a new or empty folder", dir)}
			}
			files := map[string]string{
				"datalab.yaml":       initConfig,
				"datasets/README.md": initDatasetsReadme,
				"projects/.keep":     "",
				".gitignore":         initGitignore,
			}
			for name, content := range files {
				path := filepath.Join(dir, name)
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					return err
				}
				if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
					return err
				}
			}
			ws, err := a.openDir(cmd.Context(), dir)
			if err != nil {
				return err
			}
			if err := ws.Close(); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "Created the workspace %s. Register a dataset: see %s.\n", dir, filepath.Join(dir, "datasets", "README.md"))
			return nil
		},
	}
}
