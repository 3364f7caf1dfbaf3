package catalog_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/datalab/datalab/catalog"
)

func TestStoreRuns(t *testing.T) {
	ctx := context.Background()
	s, _ := openStore(t)
	ds := catalog.DatasetNode("a.one")
	pipe := catalog.NewNode(catalog.KindPipeline, "pseudo")

	if last, err := s.LastSuccess(ctx, ds); err != nil || !last.IsZero() {
		t.Fatalf("LastSuccess before any run = %v, %v", last, err)
	}
	first, err := s.BeginRun(ctx, ds, catalog.TriggerSchedule, "schedule @daily")
	if err != nil || first.ID == 0 || first.Status != catalog.Running || first.Attempts != 1 {
		t.Fatalf("BeginRun = %+v, %v", first, err)
	}
	first.Status, first.Rows, first.Attempts, first.Snapshot = catalog.Succeeded, 42, 3, 7
	if err := s.FinishRun(ctx, first); err != nil {
		t.Fatal(err)
	}
	skipped, err := s.AddRun(ctx, catalog.Run{Job: ds, Trigger: catalog.TriggerSchedule, Status: catalog.Skipped, Error: "still going"})
	if err != nil || skipped.FinishedAt.IsZero() {
		t.Fatalf("AddRun = %+v, %v", skipped, err)
	}
	down, _ := s.BeginRun(ctx, pipe, catalog.TriggerUpstream, "new dataset:a.one snapshot 7")
	interrupted, _ := s.BeginRun(ctx, ds, catalog.TriggerManual, "")

	got, err := s.Run(ctx, first.ID)
	if err != nil || got.Job != ds || got.Trigger != catalog.TriggerSchedule || got.Cause != "schedule @daily" ||
		got.Status != catalog.Succeeded || got.Rows != 42 || got.Attempts != 3 || got.Snapshot != 7 || got.Duration() < 0 || got.FinishedAt.IsZero() {
		t.Errorf("run = %+v, %v", got, err)
	}
	if _, err := s.Run(ctx, 999); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("unknown run: %v", err)
	}
	if last, _ := s.LastSuccess(ctx, ds); !last.Equal(got.StartedAt) {
		t.Errorf("LastSuccess = %v, want %v", last, got.StartedAt)
	}
	if last, _ := s.LastSuccess(ctx, pipe); !last.IsZero() {
		t.Errorf("LastSuccess of a pipeline still running = %v", last)
	}

	n, err := s.RecoverRuns(ctx)
	if err != nil || n != 2 {
		t.Fatalf("RecoverRuns = %d, %v", n, err)
	}
	cases := []struct {
		f    catalog.RunFilter
		want []int64
	}{
		{catalog.RunFilter{}, []int64{interrupted.ID, down.ID, skipped.ID, first.ID}},
		{catalog.RunFilter{Job: ds}, []int64{interrupted.ID, skipped.ID, first.ID}},
		{catalog.RunFilter{Kind: catalog.KindPipeline}, []int64{down.ID}},
		{catalog.RunFilter{Status: catalog.Failed}, []int64{interrupted.ID, down.ID}},
		{catalog.RunFilter{Trigger: catalog.TriggerSchedule, Limit: 1}, []int64{skipped.ID}},
		{catalog.RunFilter{Since: time.Now().Add(time.Hour)}, nil},
	}
	for _, c := range cases {
		runs, err := s.Runs(ctx, c.f)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, r := range runs {
			ids = append(ids, r.ID)
		}
		if len(ids) != len(c.want) || (len(ids) > 0 && ids[0] != c.want[0]) || (len(ids) > 0 && ids[len(ids)-1] != c.want[len(c.want)-1]) {
			t.Errorf("Runs(%+v) = %v, want %v", c.f, ids, c.want)
		}
	}
	if r, _ := s.Run(ctx, interrupted.ID); r.Status != catalog.Failed || r.Error == "" || r.FinishedAt.IsZero() {
		t.Errorf("interrupted run = %+v", r)
	}
	if _, err := s.BeginRun(ctx, "nokind", catalog.TriggerManual, ""); err == nil {
		t.Error("a run of a job without kind was recorded")
	}
	if err := s.FinishRun(ctx, catalog.Run{ID: 999}); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("FinishRun of an unknown run: %v", err)
	}

	// A dataset's loads outside the scheduler count as successes too.
	d := dataset("a.one", catalog.Public)
	if err := s.Register(ctx, d); err != nil {
		t.Fatal(err)
	}
	snap, _ := s.BeginSnapshot(ctx, d, "x.csv")
	snap.Status = catalog.Unchanged
	if err := s.FinishSnapshot(ctx, snap); err != nil {
		t.Fatal(err)
	}
	if last, _ := s.LastSuccess(ctx, ds); !last.Equal(snap.StartedAt.UTC().Truncate(time.Microsecond)) {
		t.Errorf("LastSuccess after a load = %v, want %v", last, snap.StartedAt)
	}
}
