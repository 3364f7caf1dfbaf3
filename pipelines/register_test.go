//go:build duckdb_arrow

package pipelines_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/datalab/datalab/catalog"
)

// A registration file cannot take over a pipeline's output.
func TestRegisterRefusesAPipelineOutput(t *testing.T) {
	ctx := context.Background()
	ws := newWorkspace(t, map[string]string{
		"datasets/applicants.yaml": applicantsReg, "data/applicants.csv": applicants(50),
		"datasets/takeover.yaml": strings.Replace(applicantsReg, "id: lab.applicants", "id: lab.applicants_pseudo", 1),
	})
	register(t, ws, "datasets/applicants.yaml")
	if err := ws.AddPipeline(ctx, pseudoPipeline(t)); err != nil {
		t.Fatal(err)
	}
	_, err := ws.Register(ctx, "datasets/takeover.yaml")
	if !errors.Is(err, catalog.ErrInvalid) || !strings.Contains(err.Error(), "lab.applicants_pseudo is the output of the pipeline pseudo") {
		t.Fatalf("error = %v", err)
	}
	d, err := ws.Catalog.Dataset(ctx, "lab.applicants_pseudo")
	if err != nil || d.Source.Kind != "pipeline" {
		t.Errorf("the pipeline's registration changed: %+v, %v", d, err)
	}
}
