package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/datalab/datalab/catalog"
	"github.com/datalab/datalab/pipelines"
)

func (a *app) datasetCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dataset",
		Short: "Register datasets and read the catalog",
	}
	var format string
	list := &cobra.Command{
		Use:   "list",
		Short: "List the registered datasets with their level and last load",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			ws, err := a.open(ctx)
			if err != nil {
				return err
			}
			defer ws.Close()
			ds, err := ws.Catalog.Datasets(ctx)
			if err != nil {
				return err
			}
			type row struct {
				catalog.Dataset
				Last *catalog.Snapshot `json:"last_snapshot,omitempty"`
			}
			rows := make([]row, len(ds))
			for i, d := range ds {
				rows[i].Dataset = d
				if snaps, err := ws.Catalog.Snapshots(ctx, d.ID, 1); err == nil && len(snaps) == 1 {
					rows[i].Last = &snaps[0]
				}
			}
			if format == "json" {
				return writeJSON(a, rows)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tACCESS\tPUBLISHER\tROWS\tLAST LOAD\tSTATUS\tTITLE")
			for _, r := range rows {
				rowsText, when, status := "-", "never", "-"
				if r.Last != nil {
					rowsText, when, status = formatCount(r.Last.Rows), r.Last.StartedAt.Local().Format("2006-01-02 15:04"), string(r.Last.Status)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Access, r.Publisher, rowsText, when, status, r.Title)
			}
			return tw.Flush()
		},
	}
	list.Flags().StringVar(&format, "format", "text", "output format: text or json")

	var showFormat string
	var limit int
	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show a dataset: metadata, source, columns and last snapshots",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			ws, err := a.open(ctx)
			if err != nil {
				return err
			}
			defer ws.Close()
			d, err := ws.Catalog.Dataset(ctx, args[0])
			if err != nil {
				return usageErrorIfNotFound(err)
			}
			snaps, err := ws.Catalog.Snapshots(ctx, d.ID, limit)
			if err != nil {
				return err
			}
			if showFormat == "json" {
				return writeJSON(a, struct {
					catalog.Dataset
					Snapshots []catalog.Snapshot `json:"snapshots"`
				}{d, snaps})
			}
			a.showDataset(d, snaps)
			return nil
		},
	}
	show.Flags().StringVar(&showFormat, "format", "text", "output format: text or json")
	show.Flags().IntVar(&limit, "snapshots", 5, "how many of the last snapshots to show")

	register := &cobra.Command{
		Use:   "register FILE...",
		Short: "Validate registrations and record them in the catalog, all or none",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			ws, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			defer ws.Close()
			ds, err := ws.Register(cmd.Context(), files...)
			if err != nil {
				return fmt.Errorf("nothing was registered:\n%w", err)
			}
			for _, d := range ds {
				fmt.Fprintf(a.stdout, "registered %s (%s) from %s\n", d.ID, d.Access, d.File)
			}
			return nil
		},
	}
	cmd.AddCommand(register, list, show)
	return cmd
}

func (a *app) showDataset(d catalog.Dataset, snaps []catalog.Snapshot) {
	w := a.stdout
	fmt.Fprintf(w, "%s — %s\n\n", d.ID, d.Title)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	field := func(name, value string) {
		if value != "" {
			fmt.Fprintf(tw, "%s\t%s\n", name, value)
		}
	}
	field("access", fmt.Sprintf("%s (%s)", d.Access, d.Access.URI()))
	field("publisher", d.Publisher)
	field("contact", d.Contact)
	field("license", d.License)
	field("frequency", d.Frequency)
	field("schedule", d.Schedule)
	field("contract", string(d.Contract))
	field("source", d.Source.Kind+" "+string(d.Source.Options))
	registered := d.RegisteredAt.Local().Format(time.DateTime)
	switch {
	case d.File != "":
		registered += " from " + d.File
	case d.Source.Kind == pipelines.PipelineKind:
		registered += " by its pipeline"
	default:
		registered += " through the API"
	}
	field("registered", registered)
	tw.Flush()
	if d.Description != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(d.Description))
	}
	var current *catalog.Snapshot
	for i := range snaps {
		if snaps[i].Status == catalog.Succeeded {
			current = &snaps[i]
			break
		}
	}
	if current != nil {
		fmt.Fprintf(w, "\nColumns (snapshot %d):\n", current.ID)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  NAME\tTYPE\tTITLE")
		for _, c := range current.Columns {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", c.Name, c.Type, c.Title)
		}
		tw.Flush()
	}
	fmt.Fprintln(w, "\nSnapshots:")
	if len(snaps) == 0 {
		fmt.Fprintf(w, "  none yet: run `datalab ingest %s`\n", d.ID)
		return
	}
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  ID\tSTARTED\tSTATUS\tROWS\tTIME\tCONTENT HASH\tFROM")
	for _, s := range snaps {
		hash := s.ContentHash
		if len(hash) > 19 {
			hash = hash[:19] + "…"
		}
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, s.StartedAt.Local().Format(time.DateTime), s.Status,
			formatCount(s.Rows), s.Duration().Round(time.Millisecond), hash, s.Location)
		if s.Error != "" {
			fmt.Fprintf(tw, "  \terror: %s\n", s.Error)
		}
	}
	tw.Flush()
}

func writeJSON(a *app, v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// usageErrorIfNotFound makes an unknown name an invalid request.
func usageErrorIfNotFound(err error) error {
	if errors.Is(err, catalog.ErrNotFound) {
		return usageError{err}
	}
	return err
}
