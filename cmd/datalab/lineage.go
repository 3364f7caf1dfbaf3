package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/datalab/datalab/catalog"
)

func (a *app) lineageCommand() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "lineage NODE",
		Short: "Show where a dataset, cell, indicator or output comes from and what it feeds",
		Long: `Show the lineage around NODE, written kind:name (dataset:drees.ivg_mineures,
source:<path or URL>, cell:<project>/<notebook>/<cell>, indicator:<project>/<id>,
output:<path>); a bare dataset id means dataset:<id>.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			write := map[string]func(catalog.Graph) error{
				"text":    func(g catalog.Graph) error { return g.WriteText(a.stdout) },
				"json":    func(g catalog.Graph) error { return g.WriteJSON(a.stdout) },
				"dot":     func(g catalog.Graph) error { return g.WriteDOT(a.stdout) },
				"mermaid": func(g catalog.Graph) error { return g.WriteMermaid(a.stdout) },
			}[format]
			if write == nil {
				return usageError{fmt.Errorf("--format %q: use text, json, dot or mermaid", format)}
			}
			node := catalog.Node(args[0])
			if !strings.Contains(args[0], ":") {
				node = catalog.DatasetNode(args[0])
			}
			ws, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			defer ws.Close()
			g, err := ws.Catalog.Graph(cmd.Context(), node)
			if err != nil {
				return usageErrorIfNotFound(err)
			}
			return write(g)
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text, json, dot or mermaid")
	return cmd
}
