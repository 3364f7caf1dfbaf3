//go:build duckdb_arrow

package pipelines_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/datalab/datalab/catalog"
	"github.com/datalab/datalab/connectors"
	"github.com/datalab/datalab/connectors/csv"
	"github.com/datalab/datalab/pipelines"
)

// A lab declares its pipelines in Go, adds them to its workspace, and lets
// the scheduler run them: here, applications are pseudonymised as soon as
// they are loaded. `datalab serve` does the same with Scheduler.Run.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "datalab-example")
	defer os.RemoveAll(dir)
	os.MkdirAll(filepath.Join(dir, "data"), 0o755)
	os.WriteFile(filepath.Join(dir, "data", "people.csv"), []byte("id;dep\nP01;75\nP02;48\nP03;75\n"), 0o644)
	os.MkdirAll(filepath.Join(dir, "datasets"), 0o755)
	os.WriteFile(filepath.Join(dir, "datasets", "people.yaml"), []byte(`id: lab.people
title: People
publisher: Lab
access: non_public
source: {kind: csv, url: data/people.csv}
`), 0o644)

	kinds := &connectors.Registry{}
	kinds.Add("csv", csv.New)
	ws, err := pipelines.Open(ctx, dir, pipelines.Options{Connectors: kinds})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ws.Close()
	if _, err := ws.Register(ctx, "datasets/people.yaml"); err != nil {
		fmt.Println(err)
		return
	}

	// In a real lab the key comes from os.Getenv(pipelines.PseudoKeyEnv).
	pseudo, err := pipelines.NewPseudonymiser([]byte("an example key, 32 bytes or longer"), pipelines.PseudoHex, "id")
	if err != nil {
		fmt.Println(err)
		return
	}
	err = ws.AddPipeline(ctx, pipelines.Pipeline{
		Name:     "people_pseudo",
		Inputs:   []string{"lab.people"},
		Output:   catalog.Dataset{ID: "lab.people_pseudo", Title: "People, pseudonymised", Publisher: "Lab", Access: catalog.NonPublic},
		OnChange: true,
		Step:     pipelines.Step{Transform: pseudo},
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	sched, err := pipelines.NewScheduler(ctx, ws, pipelines.SchedulerOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	// Load the people now; the pipeline runs after them.
	if _, err := sched.RunNow(ctx, catalog.DatasetNode("lab.people"), pipelines.RunOptions{Downstream: true}); err != nil {
		fmt.Println(err)
		return
	}
	runs, _ := ws.Catalog.Runs(ctx, catalog.RunFilter{})
	for i := len(runs) - 1; i >= 0; i-- {
		fmt.Println(runs[i].Job, runs[i].Trigger, runs[i].Status, runs[i].Rows)
	}
	var id string
	ws.DB.QueryRow("SELECT id FROM lab.people_pseudo WHERE dep = '48'").Scan(&id)
	fmt.Println(id[:16] + "…")
	// Output:
	// dataset:lab.people manual succeeded 3
	// pipeline:people_pseudo upstream succeeded 3
	// 274b69f38f33eb3a…
}

// ExampleIngestJob names the job that loads a dataset: the dataset's own,
// or for the output of a Go pipeline the pipeline's, which is what
// Scheduler.Launch and RunNow take.
func ExampleIngestJob() {
	communes := catalog.Dataset{ID: "insee.communes", Source: catalog.Source{Kind: "csv"}}
	pseudo := catalog.Dataset{ID: "demandes.dossiers_pseudo", Source: catalog.Source{Kind: pipelines.PipelineKind,
		Options: []byte(`{"kind":"pipeline","pipeline":"pseudonymisation","inputs":["demandes.dossiers"]}`)}}
	fmt.Println(pipelines.IngestJob(communes))
	fmt.Println(pipelines.IngestJob(pseudo))
	fmt.Println(&pipelines.BusyError{Job: pipelines.IngestJob(communes), Run: 42})
	// Output:
	// dataset:insee.communes
	// pipeline:pseudonymisation
	// dataset:insee.communes is already running (run 42)
}
