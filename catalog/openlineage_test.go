package catalog_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/datalab/datalab/catalog"
)

// CheckEvent checks an event for what the OpenLineage spec (2-0-2)
// requires: eventTime, producer and schemaURL; run.runId a UUID; job
// namespace and name; eventType one of the enum; each input and output
// dataset its namespace and name; each facet its _producer and _schemaURL.
// It returns the event's problems.
func checkEvent(raw []byte) []string {
	var ev map[string]any
	if err := json.Unmarshal(raw, &ev); err != nil {
		return []string{"not JSON: " + err.Error()}
	}
	var bad []string
	uri := func(field string, v any) {
		s, _ := v.(string)
		if u, err := url.Parse(s); err != nil || u.Scheme == "" || u.Host == "" {
			bad = append(bad, field+" is not an absolute URI: "+s)
		}
	}
	if s, _ := ev["eventTime"].(string); s == "" {
		bad = append(bad, "no eventTime")
	} else if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
		bad = append(bad, "eventTime is not a date-time: "+s)
	}
	uri("producer", ev["producer"])
	uri("schemaURL", ev["schemaURL"])
	if ev["schemaURL"] != "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent" {
		bad = append(bad, "schemaURL is not RunEvent's of spec 2-0-2")
	}
	switch ev["eventType"] {
	case "START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER":
	default:
		bad = append(bad, "eventType is not in the enum")
	}
	run, _ := ev["run"].(map[string]any)
	if id, _ := run["runId"].(string); id == "" {
		bad = append(bad, "no run.runId")
	} else if _, err := uuid.Parse(id); err != nil {
		bad = append(bad, "run.runId is not a UUID: "+id)
	}
	job, _ := ev["job"].(map[string]any)
	if s, _ := job["namespace"].(string); s == "" {
		bad = append(bad, "no job.namespace")
	}
	if s, _ := job["name"].(string); s == "" {
		bad = append(bad, "no job.name")
	}
	facets := func(where string, v any) {
		m, _ := v.(map[string]any)
		for name, f := range m {
			fm, _ := f.(map[string]any)
			uri(where+"."+name+"._producer", fm["_producer"])
			uri(where+"."+name+"._schemaURL", fm["_schemaURL"])
		}
	}
	facets("run.facets", run["facets"])
	facets("job.facets", job["facets"])
	for _, side := range []string{"inputs", "outputs"} {
		list, ok := ev[side].([]any)
		if !ok && ev[side] != nil {
			bad = append(bad, side+" is not a list")
		}
		for _, d := range list {
			dm, _ := d.(map[string]any)
			if s, _ := dm["namespace"].(string); s == "" {
				bad = append(bad, side+": a dataset without namespace")
			}
			if s, _ := dm["name"].(string); s == "" {
				bad = append(bad, side+": a dataset without name")
			}
			facets(side+".facets", dm["facets"])
		}
	}
	return bad
}

func TestOpenLineageHistory(t *testing.T) {
	ctx := context.Background()
	s, _ := openStore(t)
	pub := dataset("lab.communes", catalog.Public)
	secret := dataset("lab.people", catalog.NonPublic)
	pseudo := dataset("lab.people_pseudo", catalog.NonPublic)
	pseudo.Source = catalog.Source{Kind: "pipeline", Options: []byte(`{"kind":"pipeline","pipeline":"pseudo","inputs":["lab.people"]}`)}
	if err := s.Register(ctx, pub, secret, pseudo); err != nil {
		t.Fatal(err)
	}
	load := func(d catalog.Dataset, status catalog.Status, msg string, edges func(id int64) []catalog.Edge) catalog.Snapshot {
		snap, err := s.BeginSnapshot(ctx, d, "")
		if err != nil {
			t.Fatal(err)
		}
		snap.Status, snap.Error, snap.Location = status, msg, "/srv/data/"+d.ID+".csv"
		if status == catalog.Succeeded {
			snap.Rows, snap.Columns = 3, []catalog.Column{{Name: "code", Title: "Code commune", Type: "VARCHAR"}}
			if err := s.AddEdges(ctx, edges(snap.ID)...); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.FinishSnapshot(ctx, snap); err != nil {
			t.Fatal(err)
		}
		return snap
	}
	fromSource := func(d catalog.Dataset, src string) func(int64) []catalog.Edge {
		return func(id int64) []catalog.Edge {
			return []catalog.Edge{{From: catalog.NewNode(catalog.KindSource, src), To: catalog.DatasetNode(d.ID), Kind: "ingest", Snapshot: id}}
		}
	}
	pubSnap := load(pub, catalog.Succeeded, "", fromSource(pub, "https://data.example.gouv.fr/communes.csv"))
	load(pub, catalog.Failed, "source: connection reset", nil)
	peopleSnap := load(secret, catalog.Succeeded, "", fromSource(secret, "/srv/data/people.csv"))
	failed := load(secret, catalog.Failed, "rows 2 (CANARY-7f3a9c)", nil)
	pseudoSnap := load(pseudo, catalog.Succeeded, "", func(id int64) []catalog.Edge {
		p := catalog.NewNode(catalog.KindPipeline, "pseudo")
		return []catalog.Edge{{From: catalog.DatasetNode(secret.ID), To: p, Kind: "reads", Snapshot: peopleSnap.ID},
			{From: p, To: catalog.DatasetNode(pseudo.ID), Kind: "writes", Snapshot: id}}
	})
	// A project's run outside the scheduler: its lineage, recorded at once.
	time.Sleep(2 * time.Millisecond)
	if err := s.AddEdges(ctx,
		catalog.Edge{From: catalog.DatasetNode(pub.ID), To: "cell:p/nb/c", Kind: "reads", Snapshot: pubSnap.ID},
		catalog.Edge{From: "cell:p/nb/c", To: "indicator:p/n", Kind: "computes"},
		catalog.Edge{From: "indicator:p/n", To: "output:out/public/p/indicators.csv", Kind: "writes"},
		catalog.Edge{From: "indicator:p/n", To: "output:out/public/p/report.html", Kind: "writes"},
	); err != nil {
		t.Fatal(err)
	}
	// A scheduler's run of a dataset that failed before any snapshot, and
	// a skipped one, which did not run.
	if _, err := s.AddRun(ctx, catalog.Run{Job: catalog.DatasetNode(pub.ID), Trigger: catalog.TriggerSchedule, Status: catalog.Failed, Attempts: 1, Error: "registration no longer holds"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddRun(ctx, catalog.Run{Job: catalog.DatasetNode(pub.ID), Trigger: catalog.TriggerSchedule, Status: catalog.Skipped}); err != nil {
		t.Fatal(err)
	}

	events, err := s.OpenLineageHistory(ctx, catalog.EventOptions{Namespace: "lab"})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := catalog.WriteEvents(&buf, events); err != nil {
		t.Fatal(err)
	}
	type run struct {
		types []string
		times []time.Time
		jobs  []string
		last  catalog.RunEvent
	}
	exported := buf.String()
	runs := map[string]*run{}
	var order []string
	sc := bufio.NewScanner(&buf)
	lines := 0
	for sc.Scan() {
		lines++
		for _, p := range checkEvent(sc.Bytes()) {
			t.Errorf("event %d: %s\n%s", lines, p, sc.Text())
		}
		var ev catalog.RunEvent
		json.Unmarshal(sc.Bytes(), &ev)
		r := runs[ev.Run.RunID]
		if r == nil {
			r = &run{}
			runs[ev.Run.RunID] = r
			order = append(order, ev.Run.RunID)
		}
		r.types, r.times, r.last = append(r.types, string(ev.EventType)), append(r.times, ev.EventTime), ev
		r.jobs = append(r.jobs, ev.Job.Namespace+" "+ev.Job.Name)
		if strings.Contains(sc.Text(), "CANARY") {
			t.Errorf("an event quotes a failed non_public ingest's error: %s", sc.Text())
		}
	}
	// 5 snapshots, 1 run without snapshot, 1 project run: 7 runs, 14 events.
	if lines != 14 || len(runs) != 7 {
		t.Errorf("%d events for %d runs, want 14 for 7:\n%s", lines, len(runs), exported)
	}
	for id, r := range runs {
		if len(r.types) != 2 || r.types[0] != "START" || r.times[1].Before(r.times[0]) || r.jobs[0] != r.jobs[1] {
			t.Errorf("run %s: events %v at %v of %v; want START then its end, of one job", id, r.types, r.times, r.jobs)
		}
	}
	byJob := func(job, end string) *run {
		for _, id := range order {
			if r := runs[id]; r.last.Job.Name == job && r.types[1] == end {
				return r
			}
		}
		t.Fatalf("no %s run of %s:\n%s", end, job, exported)
		return nil
	}
	ok := byJob("dataset:lab.communes", "COMPLETE").last
	if ok.Job.Namespace != "lab" || len(ok.Inputs) != 1 || ok.Inputs[0].Namespace != "https://data.example.gouv.fr" || ok.Inputs[0].Name != "/communes.csv" ||
		len(ok.Outputs) != 1 || ok.Outputs[0].Namespace != "duckdb://lab" || ok.Outputs[0].Name != "lab.communes" || ok.Outputs[0].Facets["schema"] == nil {
		t.Errorf("the ingest of lab.communes: %+v", ok)
	}
	if f := byJob("dataset:lab.communes", "FAIL").last; f.Run.Facets["errorMessage"] == nil {
		t.Errorf("a public dataset's failure tells its error: %+v", f)
	}
	if f := byJob("dataset:lab.people", "FAIL").last; f.Run.Facets != nil {
		t.Errorf("a non_public dataset's failure must not tell its error: %+v", f)
	}
	p := byJob("pipeline:pseudo", "COMPLETE").last
	if len(p.Inputs) != 1 || p.Inputs[0].Name != "lab.people" || p.Outputs[0].Name != "lab.people_pseudo" {
		t.Errorf("the pipeline's run: %+v", p)
	}
	proj := byJob("project:p", "COMPLETE").last
	if len(proj.Inputs) != 1 || proj.Inputs[0].Name != "lab.communes" || len(proj.Outputs) != 2 || proj.Outputs[0].Namespace != "file" {
		t.Errorf("the project's run: %+v", proj)
	}

	// Events emitted live carry the run id the history gives.
	for _, snap := range []catalog.Snapshot{pubSnap, failed, pseudoSnap} {
		ev, err := s.SnapshotEvent(ctx, catalog.EventOptions{Namespace: "lab"}, snap)
		if err != nil {
			t.Fatal(err)
		}
		if runs[ev.Run.RunID] == nil || string(ev.EventType) != runs[ev.Run.RunID].types[1] {
			t.Errorf("the live event of snapshot %d (%s, run %s) is not in the history", snap.ID, ev.EventType, ev.Run.RunID)
		}
	}
	// Exporting again gives the same events.
	again, _ := s.OpenLineageHistory(ctx, catalog.EventOptions{Namespace: "lab"})
	var buf2 bytes.Buffer
	catalog.WriteEvents(&buf2, again)
	if buf2.String() != exported {
		t.Errorf("two exports of the same history differ:\n%s\n%s", exported, buf2.String())
	}
}
