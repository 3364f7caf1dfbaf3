//go:build duckdb_arrow

package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCatalogExport(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ws")
	if code, _, errOut := runCLI(t, "init", dir); code != 0 {
		t.Fatalf("init: %s", errOut)
	}
	for name, content := range map[string]string{
		"datasets/deps.yaml": "id: lab.deps\ntitle: Départements\npublisher: INSEE\ncontact: c@example.org\naccess: public\nfrequency: yearly\nsource: {kind: csv, url: data/deps.csv}\n",
		"data/deps.csv":      "dep,nom\n75,Paris\n13,Bouches-du-Rhône\n",
	} {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{{"dataset", "register", "datasets/deps.yaml"}, {"ingest"}} {
		if code, out, errOut := runCLI(t, append([]string{"-w", dir}, args...)...); code != 0 {
			t.Fatalf("%v: %d\n%s\n%s", args, code, out, errOut)
		}
	}

	file := filepath.Join(t.TempDir(), "catalog.jsonld")
	code, _, errOut := runCLI(t, "-w", dir, "catalog", "export", "--format", "dcat", "-o", file, "--base-url", "https://datalab.example.gouv.fr")
	if code != 0 || !strings.Contains(errOut, "Wrote 1 datasets to "+file) {
		t.Fatalf("export dcat: %d %s", code, errOut)
	}
	data, _ := os.ReadFile(file)
	var doc struct {
		Type     string `json:"@type"`
		Datasets []struct {
			ID     string `json:"@id"`
			Access struct {
				ID string `json:"@id"`
			} `json:"dct:accessRights"`
		} `json:"dcat:dataset"`
	}
	if err := json.Unmarshal(data, &doc); err != nil || doc.Type != "dcat:Catalog" || len(doc.Datasets) != 1 ||
		doc.Datasets[0].ID != "https://datalab.example.gouv.fr/datasets/lab.deps" ||
		doc.Datasets[0].Access.ID != "http://publications.europa.eu/resource/authority/access-right/PUBLIC" {
		t.Errorf("the DCAT export: %v\n%s", err, data)
	}

	code, out, errOut := runCLI(t, "-w", dir, "catalog", "export", "--format", "openlineage")
	if code != 0 {
		t.Fatalf("export openlineage: %d %s", code, errOut)
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	var types []string
	for sc.Scan() {
		var ev struct {
			EventType string `json:"eventType"`
			Job       struct{ Namespace, Name string }
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("not an event: %s", sc.Text())
		}
		if ev.Job.Namespace != "datalab" || ev.Job.Name != "dataset:lab.deps" {
			t.Errorf("job %+v", ev.Job)
		}
		types = append(types, ev.EventType)
	}
	if strings.Join(types, ",") != "START,COMPLETE" {
		t.Errorf("events %v, want the ingest's START and COMPLETE", types)
	}

	if code, _, errOut := runCLI(t, "-w", dir, "catalog", "export", "--format", "rdf"); code != 2 || !strings.Contains(errOut, "use dcat or openlineage") {
		t.Errorf("a bad format: %d %s", code, errOut)
	}
	if code, _, _ := runCLI(t, "-w", dir, "catalog", "export"); code != 2 {
		t.Errorf("no format: exit %d, want 2", code)
	}
}
