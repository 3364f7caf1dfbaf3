package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/datalab/datalab/catalog"
)

func (a *app) catalogCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "catalog",
		Short: "Export the catalog for data portals and lineage tools",
	}
	var format, output, baseURL, title, publisher, namespace string
	export := &cobra.Command{
		Use:   "export --format dcat|openlineage",
		Short: "Write the catalog as DCAT-AP JSON-LD, or the run history as OpenLineage events",
		Long: `Write the catalog for other tools, on the standard output or into -o FILE.

--format dcat writes a DCAT-AP catalog in JSON-LD, as GET /api/catalog.jsonld
serves it: every dataset with its title, description, publisher, contact
point, access rights (the EU access-right URIs), periodicity (the EU
frequency URIs), licence and a distribution with its format and the SHA-256
checksum of the source last loaded. A public dataset whose source is on the
web is reached at its source; any other at its page in the catalog
(--base-url), never at an internal path. No row of any dataset is written.

--format openlineage writes the history of every ingest, pipeline and
notebook run as OpenLineage run events (START, then COMPLETE, FAIL or ABORT),
one JSON object a line, with their input and output datasets. The namespace
of jobs is --namespace, else datalab.yaml's openlineage.namespace, else
"datalab".`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "dcat" && format != "openlineage" {
				return usageError{fmt.Errorf("--format %q: use dcat or openlineage", format)}
			}
			ctx := cmd.Context()
			ws, err := a.open(ctx)
			if err != nil {
				return err
			}
			defer ws.Close()
			write := func(w io.Writer) (string, error) {
				if format == "dcat" {
					entries, err := ws.Catalog.DCATEntries(ctx)
					if err != nil {
						return "", err
					}
					opts := catalog.DCATOptions{BaseURL: baseURL, Title: title, Publisher: publisher}
					return fmt.Sprintf("%d datasets", len(entries)), catalog.WriteDCAT(w, entries, opts)
				}
				ns := namespace
				if ns == "" {
					ns = ws.Config.OpenLineage.Namespace
				}
				events, err := ws.Catalog.OpenLineageHistory(ctx, catalog.EventOptions{Namespace: ns})
				if err != nil {
					return "", err
				}
				return fmt.Sprintf("%d events", len(events)), catalog.WriteEvents(w, events)
			}
			if output == "" || output == "-" {
				_, err := write(a.stdout)
				return err
			}
			what, err := writeFileAtomic(output, write)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stderr, "Wrote %s to %s.\n", what, output)
			return nil
		},
	}
	f := export.Flags()
	f.StringVar(&format, "format", "", "what to write: dcat (DCAT-AP JSON-LD) or openlineage (NDJSON run events)")
	f.StringVarP(&output, "output", "o", "", "the file to write (default: the standard output)")
	f.StringVar(&baseURL, "base-url", catalog.DefaultBaseURL, "dcat: the address of datalab serve, for the datasets' pages")
	f.StringVar(&title, "title", "", "dcat: the catalog's title (default \"Catalogue datalab\")")
	f.StringVar(&publisher, "publisher", "", "dcat: the catalog's publisher (default \"datalab\")")
	f.StringVar(&namespace, "namespace", "", "openlineage: the jobs' namespace")
	cmd.AddCommand(export)
	return cmd
}

// writeFileAtomic writes path through write, whole or not at all: into a
// file beside it, renamed over it once complete.
func writeFileAtomic(path string, write func(io.Writer) (string, error)) (string, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	bw := bufio.NewWriter(tmp)
	what, err := write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return "", errors.Join(fmt.Errorf("write %s: %w", path, err), os.Remove(tmp.Name()))
	}
	return what, nil
}
