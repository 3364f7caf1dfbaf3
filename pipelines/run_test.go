//go:build duckdb_arrow

package pipelines_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/datalab/datalab/catalog"
	"github.com/datalab/datalab/pipelines"
)

// people is a non_public dataset of 60 people in 3 départements: 40 in 75,
// 15 in 13 and 5 in 48.
func peopleCSV() string {
	var b strings.Builder
	b.WriteString("id;dep;age\n")
	for i := 0; i < 60; i++ {
		dep := "75"
		if i >= 40 {
			dep = "13"
		}
		if i >= 55 {
			dep = "48"
		}
		b.WriteString(strings.Join([]string{string(rune('a'+i%26)) + string(rune('a'+i/26)), dep, "3" + string(rune('0'+i%10))}, ";") + "\n")
	}
	return b.String()
}

const peopleReg = `id: lab.people
title: People
publisher: Lab
access: non_public
source: {kind: csv, url: data/people.csv}
schema: {fields: [{name: dep, type: string}]}
`

const depsReg = `id: lab.deps
title: Départements
publisher: Lab
access: public
source: {kind: csv, url: data/deps.csv}
`

// project opens a workspace with the people and deps datasets loaded and
// one notebook, projects/p/nb.md.
func project(t *testing.T, notebook string) *pipelines.Workspace {
	t.Helper()
	ws := newWorkspace(t, map[string]string{
		"datasets/people.yaml": peopleReg, "data/people.csv": peopleCSV(),
		"datasets/deps.yaml": depsReg, "data/deps.csv": "dep,nom\n75,Paris\n13,Bouches-du-Rhône\n48,Lozère\n",
		"projects/p/nb.md": notebook,
	})
	register(t, ws, "datasets/people.yaml", "datasets/deps.yaml")
	ingest(t, ws, "lab.people", pipelines.IngestOptions{})
	ingest(t, ws, "lab.deps", pipelines.IngestOptions{})
	return ws
}

const header = "---\ntitle: T\npublish: public\n---\n\nSome text.\n\n"

func cell(sql string) string { return "```sql c\n" + sql + "\n```\n" }

const byDep = "```sql c\nSELECT p.dep, d.nom, count(*) AS n, avg(age) AS age FROM lab.people p JOIN lab.deps d USING (dep) GROUP BY ALL\n```\n"

func TestNotebookRefusals(t *testing.T) {
	cases := []struct{ name, notebook, want string }{
		{"read_csv", cell("SELECT * FROM read_csv('/etc/passwd')"), "the table function read_csv"},
		{"file", cell("SELECT * FROM '/etc/passwd'"), `"/etc/passwd", which is neither a cell defined above nor a catalog dataset`},
		{"set", cell("SET enable_external_access = true"), "a cell is one SELECT query"},
		{"attach", cell("ATTACH 'other.duckdb' AS o"), "a cell is one SELECT query"},
		{"copy", cell("COPY lab.people TO 'leak.csv'"), "a cell is one SELECT query"},
		{"install", cell("INSTALL httpfs"), "a cell is one SELECT query"},
		{"delete", cell("DELETE FROM lab.people"), "a cell is one SELECT query"},
		{"drop", cell("DROP TABLE lab.people"), "a cell is one SELECT query"},
		{"create", cell("CREATE TABLE lab.x AS SELECT 1"), "a cell is one SELECT query"},
		{"two statements", cell("SELECT 1; SELECT 2"), "2 statements"},
		{"catalog", cell("SELECT * FROM datalab.snapshots"), "datalab.snapshots, which is not a dataset of the catalog"},
		{"other database", cell("SELECT * FROM system.main.duckdb_settings"), "another database"},
		{"duckdb internals", cell("SELECT * FROM duckdb_settings()"), "the table function duckdb_settings"},
		{"no count", byDep + "```indicator\nid: age\nlabel: Age\nfrom: c\nvalue: age\nby: [dep]\n```\n",
			"nb.md:11: indicator age: refused: the notebook reads lab.people (non_public) and publishes at public, so every indicator must name its count"},
		{"unknown column", byDep + "```indicator\nid: age\nlabel: Age\nfrom: c\nvalue: agee\nby: [dep]\ncount: n\n```\n", "cell c has no column agee"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ws := project(t, header+c.notebook)
			_, err := ws.RunProject(context.Background(), "p")
			if err == nil {
				t.Fatal("the notebook ran")
			}
			if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "projects/p/nb.md:") {
				t.Errorf("error:\n  %v\nwant it to contain\n  %s", err, c.want)
			}
			if _, err := os.Stat(ws.Path("out/public/p")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("something was written at the public level: %v", err)
			}
			if n := count(t, ws, "SELECT count(*) FROM lab.people"); n != 60 {
				t.Errorf("the dataset changed: %d rows", n)
			}
		})
	}
}

func TestNotebookParseErrors(t *testing.T) {
	cases := []struct{ notebook, want string }{
		{"no front matter\n", "nb.md:1: the notebook has no front matter"},
		{"---\ntitle: T\n---\n", "no publish level"},
		{"---\npublish: secret\n---\n", `publish: unknown access level: "secret"`},
		{header + "```sql\nSELECT 1\n```\n", "nb.md:8: the SQL cell has no name"},
		{header + cell("SELECT 1") + cell("SELECT 2"), "nb.md:11: cell c is already defined at line 8"},
		{header + "```sql c\nSELECT 1\n", "nb.md:8: the sql block is not closed"},
		{header + "```indicator\nid: x\nlabel: X\nfrom: nope\nvalue: v\n```\n", "indicator x: from: nope is not a cell defined above it"},
		{header + "```indicator\nid: x\nlabl: X\n```\n", "unknown field"},
	}
	for _, c := range cases {
		_, err := pipelines.ParseNotebook("p", "nb", "projects/p/nb.md", []byte(c.notebook))
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, pipelines.ErrInvalid) {
			t.Errorf("%q: error %v, want %q", c.notebook, err, c.want)
		}
	}
}

func TestNotebookPublishesWithDisclosureControl(t *testing.T) {
	nb := header + byDep + "```indicator\nid: age\nlabel: Âge moyen\nunit: ans\nfrom: c\nvalue: age\nby: [dep]\ncount: n\n```\n"
	ws := project(t, nb)
	res, err := ws.RunProject(context.Background(), "p")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Publications) != 1 || res.Dirs[0] != filepath.Join("out", "public", "p") {
		t.Fatalf("result = %+v", res)
	}
	pub := res.Publications[0]
	ind := pub.Indicators[0]
	if ind.InputLevel != catalog.NonPublic || pub.MinCount != 11 {
		t.Errorf("level %s, min count %d", ind.InputLevel, pub.MinCount)
	}
	// 48 has 5 people: suppressed; then 13 (15 people) too, so that 48
	// is not the total minus the others.
	for _, r := range ind.Rows {
		want := r.By[0] != "75"
		if r.Suppressed != want || (r.Value == nil) != want {
			t.Errorf("row %v: suppressed %v, value %v", r.By, r.Suppressed, r.Value)
		}
	}
	data, err := os.ReadFile(ws.Path("out/public/p/indicators.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "age,Âge moyen,,48,,ans,,,,true") {
		t.Errorf("indicators.csv:\n%s", data)
	}
	for _, f := range []string{"indicators.json", "report.html", "provenance.json"} {
		if _, err := os.Stat(ws.Path("out/public/p/" + f)); err != nil {
			t.Error(err)
		}
	}
	// The lineage goes from the dataset to the file.
	g, err := ws.Catalog.Graph(context.Background(), catalog.NewNode(catalog.KindOutput, "out/public/p/indicators.csv"))
	if err != nil {
		t.Fatal(err)
	}
	var froms []string
	for _, e := range g.Upstream {
		froms = append(froms, string(e.From))
	}
	for _, want := range []string{"dataset:lab.people", "dataset:lab.deps", "cell:p/nb/c", "indicator:p/age"} {
		if !strings.Contains(strings.Join(froms, " "), want) {
			t.Errorf("lineage of indicators.csv lacks %s: %v", want, froms)
		}
	}
	// A second run replaces the folder whole and leaves no staging folder.
	if _, err := ws.RunProject(context.Background(), "p"); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(ws.Path("out/public"))
	if len(entries) != 1 || entries[0].Name() != "p" {
		t.Errorf("out/public holds %v", entries)
	}
}

// A notebook that reads only public data and publishes at public needs no
// count, and nothing is suppressed.
func TestNotebookLevelComesFromWhatItReads(t *testing.T) {
	nb := header + cell("SELECT dep, nom, 1 AS one FROM lab.deps") + "```indicator\nid: one\nlabel: One\nfrom: c\nvalue: one\nby: [dep]\n```\n"
	ws := project(t, nb)
	res, err := ws.RunProject(context.Background(), "p")
	if err != nil {
		t.Fatal(err)
	}
	pub := res.Publications[0]
	if pub.MinCount != 0 || pub.Indicators[0].InputLevel != catalog.Public || pub.Indicators[0].Suppressed != 0 {
		t.Errorf("publication = %+v %+v", pub, pub.Indicators[0])
	}
	// Declaring publish: non_public writes there instead.
	ws2 := project(t, strings.Replace(nb, "publish: public", "publish: non_public", 1))
	res, err = ws2.RunProject(context.Background(), "p")
	if err != nil || res.Dirs[0] != filepath.Join("out", "non_public", "p") {
		t.Errorf("dirs = %v, %v", res, err)
	}
}

func TestOutputsStayUnderOut(t *testing.T) {
	nb := header + cell("SELECT 1 AS one") + "```indicator\nid: one\nlabel: One\nfrom: c\nvalue: one\n```\n"
	ws := project(t, nb)
	if _, err := ws.RunProject(context.Background(), "../p"); !errors.Is(err, pipelines.ErrInvalid) {
		t.Errorf("project ../p: %v", err)
	}
	elsewhere := t.TempDir()
	if err := os.MkdirAll(ws.Path("out"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, ws.Path("out/public")); err != nil {
		t.Fatal(err)
	}
	_, err := ws.RunProject(context.Background(), "p")
	if !errors.Is(err, pipelines.ErrRefused) || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("symlinked out/public: %v", err)
	}
	if entries, _ := os.ReadDir(elsewhere); len(entries) != 0 {
		t.Errorf("written through the link: %v", entries)
	}
}
