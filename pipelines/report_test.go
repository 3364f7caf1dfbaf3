package pipelines

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/datalab/datalab/catalog"
)

// leakedValue is set on a suppressed row of the test publication: the
// report must never show it, whatever disclosure control left behind.
const leakedValue = 987.65

func fptr(v float64) *float64 { return &v }

// reportPublication is a project with two notebooks and three indicators:
// a monthly series with a baseline and a target, a monthly series by
// département with suppressed values, and values by region only.
func reportPublication() *Publication {
	median := &Indicator{ID: "delai_median", Label: "Délai médian de traitement", Unit: "jours",
		Description: "Nombre de jours entre le dépôt d’une demande et la décision, médiane du mois.",
		From:        "mensuel", Value: "delai_median", Period: "mois", Count: "n", Direction: "down",
		Baseline: fptr(45), Target: fptr(30), Line: 12}
	byDept := &Indicator{ID: "delai_departement", Label: "Délai médian par département", Unit: "jours",
		From: "mensuel_dep", Value: "delai_median", Period: "mois", By: []string{"departement"}, Count: "n",
		Direction: "down", Target: fptr(30), Line: 30}
	byRegion := &Indicator{ID: "couts_evites", Label: "Coûts évités par région", Unit: "€",
		Description: "Montant des indus évités depuis le début du projet.",
		From:        "couts", Value: "montant", By: []string{"region"}, Direction: "up", Line: 9}

	delais := &Notebook{Project: "delais", Name: "delais", File: "projects/delais/delais.md",
		Title: "Délais de traitement des demandes", Owner: "Datalab", Publish: catalog.Public,
		Hash: "sha256:1111111111111111111111111111111111111111111111111111111111111111",
		Blocks: []Block{
			{Text: "# Contexte\n\nLes demandes d’aide sont **instruites** en préfecture. Voir [la notice](https://www.example.org/notice).\n\n<script>alert(1)</script>\n\n![logo du ministère](https://www.example.org/logo.png)\n\n## Méthode\n\n| mesure | source |\n|---|---|\n| délai | dossiers |"},
			{Cell: &Cell{Name: "mensuel", SQL: "SELECT date_trunc('month', date_depot) AS mois,\n       count(*) AS n, median(date_decision - date_depot) AS delai_median\nFROM demandes.dossiers WHERE n < 1000 GROUP BY ALL", Line: 8}},
			{Indicator: median},
			{Text: "Par département, les petits effectifs sont masqués."},
			{Cell: &Cell{Name: "mensuel_dep", SQL: "SELECT mois, departement, n, delai_median FROM mensuel_departement", Line: 25}},
			{Indicator: byDept},
		}}
	couts := &Notebook{Project: "delais", Name: "couts", File: "projects/delais/couts.md",
		Title: "Coûts évités", Owner: "DREES", Publish: catalog.Public,
		Blocks: []Block{
			{Text: "Les montants sont en euros courants."},
			{Cell: &Cell{Name: "couts", SQL: "SELECT region, sum(montant) AS montant FROM indus.evites GROUP BY ALL", Line: 5}},
			{Indicator: byRegion},
		}}

	months := []string{"2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01", "2024-05-01", "2024-06-01"}
	medianValues := []float64{52, 55.5, 48.25, 0, 41, 38}
	var medianRows []IndicatorRow
	for i, m := range months {
		r := IndicatorRow{Period: m, Value: fptr(medianValues[i])}
		if m == "2024-04-01" {
			r = IndicatorRow{Period: m, Suppressed: true}
		}
		medianRows = append(medianRows, r)
	}

	depts := []string{"13", "2A", "69", "75", "971"}
	deptValues := map[string][]float64{"13": {44, 40}, "2A": {61, 0}, "69": {39.5, 35}, "75": {50, 47.75}, "971": {0, 0}}
	var deptRows []IndicatorRow
	for pi, m := range months[4:] {
		for _, d := range depts {
			r := IndicatorRow{Period: m, By: []string{d}, Value: fptr(deptValues[d][pi])}
			switch {
			case d == "971":
				r.Value, r.Suppressed = nil, true
			case d == "2A" && m == "2024-06-01":
				// Secondary suppression that left its value behind.
				r.Value, r.Suppressed = fptr(leakedValue), true
			}
			deptRows = append(deptRows, r)
		}
	}

	var regionRows []IndicatorRow
	for i := range 36 {
		v := float64((i*7919)%36000)*37.5 + 1000
		r := IndicatorRow{By: []string{fmt.Sprintf("Région %02d", i+1)}, Value: fptr(v)}
		if i == 0 {
			r.Value = fptr(1234567.891)
		}
		regionRows = append(regionRows, r)
	}

	return &Publication{
		Project:   "delais",
		Level:     catalog.Public,
		Notebooks: []*Notebook{delais, couts},
		Indicators: []*IndicatorResult{
			{Indicator: median, Notebook: "delais", InputLevel: catalog.Restricted, Rows: medianRows, Suppressed: 1},
			{Indicator: byDept, Notebook: "delais", InputLevel: catalog.Restricted, Rows: deptRows, Suppressed: 3},
			{Indicator: byRegion, Notebook: "couts", InputLevel: catalog.Public, Rows: regionRows},
		},
		Inputs: []InputSnapshot{
			{Dataset: "demandes.dossiers", Snapshot: 42, ContentHash: "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
				LoadedAt: time.Date(2025, 3, 1, 6, 0, 12, 0, time.UTC), Access: catalog.Restricted},
			{Dataset: "indus.evites", Snapshot: 7, ContentHash: "sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210",
				LoadedAt: time.Date(2025, 2, 3, 18, 30, 0, 0, time.UTC), Access: catalog.Public},
		},
		RunAt:    time.Date(2025, 3, 4, 9, 5, 0, 0, time.UTC),
		Engine:   "datalab v0.4.0, DuckDB v1.5.0",
		MinCount: 11,
	}
}

func renderReport(t *testing.T, p *Publication) string {
	t.Helper()
	var buf bytes.Buffer
	if err := writeReport(&buf, p); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// node is an element of the report, parsed strictly: a report that does
// not parse has an unclosed or misnested tag.
type node struct {
	tag   string
	attr  map[string]string
	kids  []*node
	text  string // for text nodes, tag is ""
	close bool
}

var voidElement = regexp.MustCompile(`<(area|base|br|col|embed|hr|img|input|link|meta|source|track|wbr)\b([^>]*?)\s*/?>`)

func parseReport(t *testing.T, page string) *node {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(voidElement.ReplaceAllString(page, "<$1$2/>")))
	dec.Strict, dec.Entity = true, xml.HTMLEntity
	root := &node{tag: "#document"}
	stack := []*node{root}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			line, col := dec.InputPos()
			t.Fatalf("report.html does not parse: %v (line %d, column %d)", err, line, col)
		}
		top := stack[len(stack)-1]
		switch tok := tok.(type) {
		case xml.StartElement:
			n := &node{tag: strings.ToLower(tok.Name.Local), attr: map[string]string{}}
			for _, a := range tok.Attr {
				name := a.Name.Local
				if a.Name.Space != "" {
					name = a.Name.Space + ":" + name
				}
				n.attr[name] = a.Value
			}
			top.kids = append(top.kids, n)
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			top.kids = append(top.kids, &node{text: string(tok)})
		}
	}
	if len(stack) != 1 {
		t.Fatalf("report.html: %d elements not closed", len(stack)-1)
	}
	return root
}

// all returns the elements under n (n included) that match.
func (n *node) all(match func(*node) bool) []*node {
	var out []*node
	var walk func(*node)
	walk = func(n *node) {
		if n.tag != "" && match(n) {
			out = append(out, n)
		}
		for _, k := range n.kids {
			walk(k)
		}
	}
	walk(n)
	return out
}

func (n *node) byTag(tags ...string) []*node {
	return n.all(func(n *node) bool {
		for _, t := range tags {
			if n.tag == t {
				return true
			}
		}
		return false
	})
}

func (n *node) hasClass(c string) bool {
	for _, f := range strings.Fields(n.attr["class"]) {
		if f == c {
			return true
		}
	}
	return false
}

func (n *node) textContent() string {
	var b strings.Builder
	var walk func(*node)
	walk = func(n *node) {
		if n.tag == "" {
			b.WriteString(n.text)
		}
		for _, k := range n.kids {
			walk(k)
		}
	}
	walk(n)
	return strings.TrimSpace(asciiSpace.ReplaceAllString(b.String(), " "))
}

// asciiSpace is the white space HTML collapses; no-break spaces stay.
var asciiSpace = regexp.MustCompile(`[ \t\r\n]+`)

func (n *node) byID(id string) *node {
	found := n.all(func(n *node) bool { return n.attr["id"] == id })
	if len(found) != 1 {
		return nil
	}
	return found[0]
}

func (n *node) contains(m *node) bool {
	return len(n.all(func(x *node) bool { return x == m })) > 0
}

// indicatorSection returns the section of the indicator headed label.
func indicatorSection(t *testing.T, doc *node, label string) *node {
	t.Helper()
	for _, s := range doc.all(func(n *node) bool { return n.tag == "section" && n.hasClass("indicator") }) {
		if h := s.byTag("h3"); len(h) > 0 && h[0].textContent() == label {
			return s
		}
	}
	t.Fatalf("no indicator section headed %q", label)
	return nil
}

var digit = regexp.MustCompile(`[0-9]`)

func TestReportStructure(t *testing.T) {
	p := reportPublication()
	page := renderReport(t, p)
	doc := parseReport(t, page)

	html := doc.byTag("html")
	if len(html) != 1 || html[0].attr["lang"] != "fr" {
		t.Fatalf(`want one <html lang="fr">, got %d`, len(html))
	}
	var charset, viewport bool
	for _, m := range doc.byTag("meta") {
		charset = charset || strings.EqualFold(m.attr["charset"], "utf-8")
		viewport = viewport || m.attr["name"] == "viewport"
	}
	if !charset || !viewport {
		t.Errorf("meta charset utf-8: %v, meta viewport: %v; want both", charset, viewport)
	}
	if title := doc.byTag("title"); len(title) == 0 || !strings.Contains(title[0].textContent(), "delais") {
		t.Errorf("the page's <title> does not name the project")
	}
	for _, tag := range []string{"header", "main", "footer", "h1"} {
		if n := len(doc.byTag(tag)); n != 1 {
			t.Errorf("%d <%s>, want 1", n, tag)
		}
	}

	// Headings go down one level at a time: h1, notebooks h2, indicators h3.
	level := 0
	var h2, h3 []string
	for _, h := range doc.byTag("h1", "h2", "h3", "h4", "h5", "h6") {
		l := int(h.tag[1] - '0')
		if l > level+1 {
			t.Errorf("heading <%s>%s</%s> follows an h%d: a level is skipped", h.tag, h.textContent(), h.tag, level)
		}
		level = l
		switch h.tag {
		case "h2":
			h2 = append(h2, h.textContent())
		case "h3":
			h3 = append(h3, h.textContent())
		}
	}
	for _, want := range []string{"Délais de traitement des demandes", "Coûts évités", "Provenance et méthode"} {
		if !strings.Contains(strings.Join(h2, "|"), want) {
			t.Errorf("no h2 %q among %q", want, h2)
		}
	}
	for _, want := range []string{"Contexte", "Délai médian de traitement", "Délai médian par département", "Coûts évités par région"} {
		if !strings.Contains(strings.Join(h3, "|"), want) {
			t.Errorf("no h3 %q among %q", want, h3)
		}
	}

	// Self-contained: no script, no resource loaded from anywhere.
	if strings.Contains(strings.ToLower(page), "<script") {
		t.Error("the report contains a <script>")
	}
	if len(doc.byTag("img", "link", "iframe", "object", "embed", "video", "audio", "source")) > 0 {
		t.Error("the report contains an element that loads a resource")
	}
	for _, el := range doc.all(func(*node) bool { return true }) {
		for name, v := range el.attr {
			switch {
			case name == "src" || name == "srcset" || strings.HasPrefix(name, "on"):
				t.Errorf("<%s %s=%q>: the report must load nothing and run nothing", el.tag, name, v)
			case name == "href" && el.tag != "a":
				t.Errorf("<%s href=%q>: only links may have an href", el.tag, v)
			case name != "href" && (strings.Contains(v, "http://") || strings.Contains(v, "https://")):
				t.Errorf("<%s %s=%q> names a web address", el.tag, name, v)
			case strings.Contains(v, "url(") && !strings.Contains(v, "url(#"):
				t.Errorf("<%s %s=%q> loads a resource", el.tag, name, v)
			}
		}
	}
	for _, style := range doc.byTag("style") {
		if css := style.textContent(); strings.Contains(css, "url(") || strings.Contains(css, "@import") {
			t.Errorf("the stylesheet loads a resource")
		}
	}

	// Notebook text: Markdown rendered, raw HTML dropped, images made links,
	// headings under the notebook's h2, SQL in a folded block.
	text := doc.all(func(n *node) bool { return n.tag == "div" && n.hasClass("text") })
	if len(text) < 3 {
		t.Fatalf("%d text blocks, want 3", len(text))
	}
	if len(text[0].byTag("strong")) != 1 || len(text[0].byTag("table")) != 1 {
		t.Errorf("the Markdown text is not rendered: %s", text[0].textContent())
	}
	var imageLink bool
	for _, a := range text[0].byTag("a") {
		imageLink = imageLink || (a.attr["href"] == "https://www.example.org/logo.png" && a.textContent() == "image : logo du ministère")
	}
	if !imageLink {
		t.Error("the Markdown image is not turned into a link to it")
	}
	if h4 := text[0].byTag("h4"); len(h4) != 1 || h4[0].textContent() != "Méthode" {
		t.Error("## Méthode under # Contexte is not an h4")
	}
	sql := doc.all(func(n *node) bool { return n.tag == "details" && n.hasClass("sql") })
	if len(sql) != 3 || len(sql[0].byTag("summary")) != 1 || len(sql[0].byTag("code")) != 1 ||
		!strings.Contains(sql[0].textContent(), "WHERE n < 1000") {
		t.Errorf("want each of the 3 SQL cells in a <details> with its code, got %d", len(sql))
	}

	// Every chart is an image with a title and a text alternative.
	svgs := doc.byTag("svg")
	if len(svgs) != 6 {
		t.Fatalf("%d charts, want 6: each indicator's for wide screens and for phones", len(svgs))
	}
	for _, svg := range svgs {
		if svg.attr["role"] != "img" {
			t.Errorf(`<svg> without role="img"`)
		}
		ids := strings.Fields(svg.attr["aria-labelledby"])
		if len(ids) != 2 {
			t.Fatalf("svg aria-labelledby=%q, want its title and desc", svg.attr["aria-labelledby"])
		}
		for i, tag := range []string{"title", "desc"} {
			el := doc.byID(ids[i])
			if el == nil || el.tag != tag || !svg.contains(el) || el.textContent() == "" {
				t.Errorf("svg aria-labelledby %q does not name its own non-empty <%s>", ids[i], tag)
			}
		}
	}

	// Tables: a caption, column headers, row headers.
	tables := doc.all(func(n *node) bool { return n.tag == "table" && n.hasClass("values") })
	if len(tables) != 4 {
		t.Fatalf("%d value tables, want 4 (3 indicators and the inputs)", len(tables))
	}
	for _, table := range tables {
		caption := table.byTag("caption")
		if len(caption) != 1 || caption[0].textContent() == "" {
			t.Errorf("a table has no caption")
		}
		for _, th := range table.byTag("th") {
			if th.attr["scope"] != "col" && th.attr["scope"] != "row" {
				t.Errorf("<th>%s</th> has no scope", th.textContent())
			}
		}
		for _, tr := range table.byTag("tbody")[0].byTag("tr") {
			if th := tr.byTag("th"); len(th) != 1 || th[0].attr["scope"] != "row" {
				t.Errorf("row %q has no row header", tr.textContent())
			}
		}
	}
}

func TestReportIndicators(t *testing.T) {
	p := reportPublication()
	page := renderReport(t, p)
	doc := parseReport(t, page)

	t.Run("series with baseline and target", func(t *testing.T) {
		s := indicatorSection(t, doc, "Délai médian de traitement")
		all := s.textContent()
		for _, want := range []string{"jours", "plus bas est mieux", "45\u00a0jours", "30\u00a0jours", "juin 2024 : 38\u00a0jours"} {
			if !strings.Contains(all, want) {
				t.Errorf("the indicator does not state %q", want)
			}
		}
		svgs := s.byTag("svg")
		if len(svgs) != 2 || !svgs[0].hasClass("wide") || !svgs[1].hasClass("narrow") {
			t.Fatalf("want a wide chart and a narrow one, got %d", len(svgs))
		}
		refLabels := map[string][]string{
			"wide":   {"Référence 45\u00a0jours", "Cible 30\u00a0jours"},
			"narrow": {"Réf. 45", "Cible 30"},
		}
		for _, svg := range svgs {
			checkSeriesChart(t, svg, refLabels[strings.Fields(svg.attr["class"])[1]])
		}
		checkTable(t, s, []string{"Période", "Valeur", "Statut"}, p.Indicators[0].Rows)
	})

	t.Run("by département with suppressed values", func(t *testing.T) {
		s := indicatorSection(t, doc, "Délai médian par département")
		for _, svg := range s.byTag("svg") {
			checkDepartementChart(t, svg)
		}
		checkTable(t, s, []string{"Période", "Departement", "Valeur", "Statut"}, p.Indicators[1].Rows)
		if note := s.all(func(n *node) bool { return n.hasClass("note") }); len(note) != 1 || !strings.Contains(note[0].textContent(), "3 valeurs sont masquées par le secret statistique (moins de 11 unités") {
			t.Error("no note on the 3 suppressed values")
		}
	})

	t.Run("by region, more than fit", func(t *testing.T) {
		s := indicatorSection(t, doc, "Coûts évités par région")
		for _, svg := range s.byTag("svg") {
			if n := len(svg.all(func(n *node) bool { return n.tag == "rect" && n.hasClass("bar") })); n != maxBars {
				t.Errorf("%s: %d bars, want at most %d", svg.attr["class"], n, maxBars)
			}
		}
		if !strings.Contains(s.textContent(), "Seules les 30 valeurs les plus hautes sont représentées, sur 36") {
			t.Error("no note that some values are not drawn")
		}
		if !strings.Contains(s.textContent(), "plus haut est mieux") {
			t.Error("the direction is not stated")
		}
		checkTable(t, s, []string{"Region", "Valeur", "Statut"}, p.Indicators[2].Rows)
		if !strings.Contains(s.textContent(), "1\u202f234\u202f567,89") {
			t.Error("1234567.891 is not written 1 234 567,89")
		}
	})

	if strings.Contains(page, formatNumber(leakedValue)) || strings.Contains(page, "987.65") {
		t.Error("the report shows the value of a suppressed row")
	}

	footer := doc.byTag("footer")[0].textContent()
	for _, want := range []string{
		"public : diffusable à tous",
		"moins de 11 unités sont masquées (secret statistique), ainsi que des valeurs complémentaires",
		"4 mars 2025 à 9 h 05 UTC",
		"datalab v0.4.0, DuckDB v1.5.0",
		"demandes.dossiers", "42", "1er mars 2025 à 6 h 00 UTC", "sha256:0123456789ab…",
		"indus.evites",
	} {
		if !strings.Contains(footer, want) {
			t.Errorf("the provenance does not say %q", want)
		}
	}
}

// checkSeriesChart checks a line chart of the monthly series: its text
// alternative, a line broken at the suppressed month, the baseline and
// target drawn and labelled.
func checkSeriesChart(t *testing.T, svg *node, refLabels []string) {
	t.Helper()
	desc := svg.byTag("desc")[0].textContent()
	for _, want := range []string{"De janvier 2024 à juin 2024", "52\u00a0jours à 38\u00a0jours", "Minimum : 38\u00a0jours (juin 2024)", "maximum : 55,5\u00a0jours (février 2024)", "1 valeur masquée", "Référence : 45\u00a0jours", "Cible : 30\u00a0jours"} {
		if !strings.Contains(desc, want) {
			t.Errorf("the chart's text alternative %q does not say %q", desc, want)
		}
	}
	if n := len(svg.byTag("path")); n != 2 {
		t.Errorf("%d line segments, want 2: the line breaks at the suppressed month", n)
	}
	if n := len(svg.byTag("circle")); n != 5 {
		t.Errorf("%d points, want one per published month (5)", n)
	}
	for _, ref := range []struct{ class, label string }{{"baseline", refLabels[0]}, {"target", refLabels[1]}} {
		lines := svg.all(func(n *node) bool { return n.tag == "line" && n.hasClass(ref.class) })
		labels := svg.all(func(n *node) bool { return n.tag == "text" && n.hasClass(ref.class) })
		if len(lines) != 1 || len(labels) != 1 || labels[0].textContent() != ref.label {
			t.Errorf("%s: %d lines and %d labels, want one line labelled %q", ref.class, len(lines), len(labels), ref.label)
		}
	}
	marks := svg.all(func(n *node) bool { return n.tag == "text" && n.hasClass("mark") })
	if len(marks) != 1 || marks[0].textContent() != "secret" {
		t.Errorf("the suppressed month is not marked secret on the chart")
	}
}

// checkDepartementChart checks a bar chart of the latest month by
// département: sorted, suppressed values marked secret, not drawn.
func checkDepartementChart(t *testing.T, svg *node) {
	t.Helper()
	labels := svg.all(func(n *node) bool { return n.tag == "text" && n.hasClass("label") })
	var got []string
	for _, l := range labels {
		got = append(got, l.textContent())
	}
	// June only, highest first, suppressed last.
	if want := "75,13,69,2A,971"; strings.Join(got, ",") != want {
		t.Errorf("bars %v, want the latest month sorted by value: %s", got, want)
	}
	secrets := svg.all(func(n *node) bool { return n.tag == "rect" && n.hasClass("secret") })
	marks := svg.all(func(n *node) bool { return n.tag == "text" && n.hasClass("mark") && n.textContent() == "secret" })
	if len(secrets) != 2 || len(marks) != 2 || len(svg.byTag("pattern")) != 1 {
		t.Errorf("%d hatched marks and %d 'secret' labels, want 2 of each and a hatch pattern", len(secrets), len(marks))
	}
	desc := svg.byTag("desc")[0].textContent()
	for _, want := range []string{"juin 2024", "La plus haute : 47,75\u00a0jours (75)", "la plus basse : 35\u00a0jours (69)", "2 valeurs masquées"} {
		if !strings.Contains(desc, want) {
			t.Errorf("the chart's text alternative %q does not say %q", desc, want)
		}
	}
}

// checkTable checks an indicator's table against its rows: one line each,
// in order, suppressed values shown as secret and never as a number.
func checkTable(t *testing.T, section *node, headers []string, rows []IndicatorRow) {
	t.Helper()
	table := section.byTag("table")[0]
	var got []string
	for _, th := range table.byTag("thead")[0].byTag("th") {
		got = append(got, th.textContent())
	}
	if strings.Join(got, "|") != strings.Join(headers, "|") {
		t.Errorf("headers %q, want %q", got, headers)
	}
	trs := table.byTag("tbody")[0].byTag("tr")
	if len(trs) != len(rows) {
		t.Fatalf("%d table rows, want %d", len(trs), len(rows))
	}
	for i, tr := range trs {
		cells := tr.byTag("th", "td")
		value, status := cells[len(cells)-2].textContent(), cells[len(cells)-1].textContent()
		switch {
		case rows[i].Suppressed:
			if value != "secret statistique" || status != "masquée" || digit.MatchString(value) {
				t.Errorf("row %d is suppressed but shows %q, %q", i, value, status)
			}
		case rows[i].Value != nil:
			if value != formatNumber(*rows[i].Value) || status != "diffusée" {
				t.Errorf("row %d shows %q, %q, want %q, diffusée", i, value, status, formatNumber(*rows[i].Value))
			}
		}
		if rows[i].Period != "" && cells[0].textContent() != newPeriodFormat([]string{rows[i].Period}).long(rows[i].Period) {
			t.Errorf("row %d: period %q", i, cells[0].textContent())
		}
	}
}

func TestReportBigTableFolded(t *testing.T) {
	ind := &Indicator{ID: "volume", Label: "Demandes déposées", Unit: "demandes", From: "c", Value: "n", Period: "jour", By: []string{"commune"}}
	var rows []IndicatorRow
	for d := range 25 {
		for c := range 40 {
			rows = append(rows, IndicatorRow{Period: time.Date(2024, 1, 1+d, 0, 0, 0, 0, time.UTC).Format("2006-01-02"), By: []string{fmt.Sprintf("%05d", 75000+c)}, Value: fptr(float64(c * d))})
		}
	}
	p := &Publication{Project: "volumes", Level: catalog.Restricted, RunAt: time.Date(2025, 1, 2, 3, 4, 0, 0, time.UTC),
		Notebooks:  []*Notebook{{Name: "v", Title: "Volumes", Blocks: []Block{{Indicator: ind}, {Indicator: &Indicator{ID: "absent", Label: "Sans valeurs"}}}}},
		Indicators: []*IndicatorResult{{Indicator: ind, Notebook: "v", Rows: rows}}}
	doc := parseReport(t, renderReport(t, p))
	s := indicatorSection(t, doc, "Demandes déposées")
	details := s.all(func(n *node) bool { return n.tag == "details" && n.hasClass("table") })
	if len(details) != 1 || len(details[0].byTag("table")) != 1 {
		t.Fatal("a table of 1 000 rows is not folded in a <details>")
	}
	if sum := details[0].byTag("summary")[0].textContent(); sum != "Tableau des 1\u202f000 valeurs" {
		t.Errorf("summary %q", sum)
	}
	if n := len(details[0].byTag("tr")); n != 1001 {
		t.Errorf("%d rows in the folded table, want all 1 000 and the header", n)
	}
	if rows := s.all(func(n *node) bool { return n.tag == "th" && n.attr["scope"] == "row" }); rows[0].textContent() != "01/01/2024" {
		t.Errorf("daily periods shown as %q, want 01/01/2024", rows[0].textContent())
	}
	if n := len(s.byTag("svg")[0].all(func(n *node) bool { return n.hasClass("bar") })); n != maxBars {
		t.Errorf("%d bars, want %d", n, maxBars)
	}
	missing := indicatorSection(t, doc, "Sans valeurs")
	if !strings.Contains(missing.textContent(), "Aucune valeur n’a été publiée") || len(missing.byTag("table")) != 0 {
		t.Error("an indicator without values does not say so")
	}
	if footer := doc.byTag("footer")[0].textContent(); !strings.Contains(footer, "restricted (restreint) : réservé aux agents habilités") {
		t.Errorf("the restricted level is not explained: %s", footer)
	}
}

func TestReportGolden(t *testing.T) {
	p := reportPublication()
	first := renderReport(t, p)
	if second := renderReport(t, p); first != second {
		t.Fatal("two renderings of the same publication differ")
	}
	golden(t, "report.html", []byte(first))
}

func TestFormatNumber(t *testing.T) {
	const nnbsp = "\u202f"
	for _, c := range []struct {
		in   float64
		want string
	}{
		{0, "0"},
		{1, "1"},
		{12.5, "12,5"},
		{10.10, "10,1"},
		{100, "100"},
		{999, "999"},
		{1000, "1" + nnbsp + "000"},
		{1234.5, "1" + nnbsp + "234,5"},
		{1234567.891, "1" + nnbsp + "234" + nnbsp + "567,89"},
		{-1234.5, "−1" + nnbsp + "234,5"},
		{99.999, "100"},
		{999.999, "1" + nnbsp + "000"},
		{0.5, "0,5"},
		{0.04, "0,04"},
		{0.004, "0,004"},
		{0.0042, "0,0042"},
		{-0.001, "−0,001"},
		{-0.0001e-20, "0"},
		{1e-20, "0"},
	} {
		if got := formatNumber(c.in); got != c.want {
			t.Errorf("formatNumber(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestReportPeriodFormat(t *testing.T) {
	for _, c := range []struct {
		periods []string
		want    string // how the first is shown
	}{
		{[]string{"2024-01-01", "2024-02-01"}, "janvier 2024"},
		{[]string{"2024-01-01 00:00:00", "2024-12-01"}, "janvier 2024"},
		{[]string{"2024-01-15", "2024-02-01"}, "15/01/2024"},
		{[]string{"2024-01-01", "2024-01-15"}, "01/01/2024"},
		{[]string{"2024", "2025"}, "2024"},
		{[]string{"2024-01-01", "T1 2024"}, "2024-01-01"},
	} {
		if got := newPeriodFormat(c.periods).long(c.periods[0]); got != c.want {
			t.Errorf("periods %q: %q shown as %q, want %q", c.periods, c.periods[0], got, c.want)
		}
	}
}

// TestReportEdgeCases renders publications that a run may well produce:
// each must give a page that parses, draws no impossible coordinate and
// shows no suppressed value.
func TestReportEdgeCases(t *testing.T) {
	monthly := &Indicator{ID: "m", Label: "Mensuel", From: "c", Value: "v", Period: "mois", Baseline: fptr(-2), Target: fptr(-2)}
	byDim := &Indicator{ID: "d", Label: "Par zone", From: "c", Value: "v", By: []string{"zone", "sexe"}, Period: "annee"}
	single := &Indicator{ID: "s", Label: "Total", Unit: "%", From: "c", Value: "v"}
	cases := map[string][]IndicatorRow{
		"all suppressed": {{Period: "2024-01-01", Suppressed: true}, {Period: "2024-02-01", Suppressed: true, Value: fptr(leakedValue)}},
		"one value":      {{Period: "2024-01-01", Value: fptr(0)}},
		"negative":       {{Period: "2024-01-01", Value: fptr(-3.5)}, {Period: "2024-02-01", Value: fptr(-1)}, {Period: "2024-03-01", Value: fptr(2)}},
		"not a number":   {{Period: "2024-01-01", Value: fptr(math.NaN())}, {Period: "2024-02-01", Value: fptr(math.Inf(1))}},
		"missing":        {{Period: "2024-01-01"}, {Period: "2024-02-01", Value: fptr(1)}},
	}
	names := []string{"all suppressed", "one value", "negative", "not a number", "missing"}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			rows := cases[name]
			var dimRows []IndicatorRow
			for i, r := range rows {
				r.By = []string{fmt.Sprintf("zone %d avec un nom bien trop long pour tenir sur la ligne", i), "F"}
				r.Period = "2024"
				dimRows = append(dimRows, r)
			}
			p := &Publication{Project: "bords", Level: catalog.NonPublic,
				Notebooks: []*Notebook{{Name: "n", Title: "Cas limites", Blocks: []Block{{Indicator: monthly}, {Indicator: byDim}, {Indicator: single}}}},
				Indicators: []*IndicatorResult{
					{Indicator: monthly, Notebook: "n", Rows: rows},
					{Indicator: byDim, Notebook: "n", Rows: dimRows},
					{Indicator: single, Notebook: "n", Rows: rows[len(rows)-1:]},
				}}
			page := renderReport(t, p)
			doc := parseReport(t, page)
			for _, bad := range []string{"NaN", "Inf", "987,65"} {
				if strings.Contains(page, bad) {
					t.Errorf("the report shows %q", bad)
				}
			}
			if n := len(doc.byTag("svg")); n != 4 {
				t.Errorf("%d charts, want 4", n)
			}
			if !strings.Contains(doc.byTag("footer")[0].textContent(), "non communicable") {
				t.Error("the non-public level is not explained")
			}
		})
	}
}
