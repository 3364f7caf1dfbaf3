package pipelines

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"

	"github.com/datalab/datalab/catalog"
)

// report.html is read by steering teams in a browser, offline, maybe
// printed: one page, no script, no network, every chart with a text
// alternative and a table of the same values.

//go:embed templates/report.html.tmpl
var reportTemplateText string

var reportTemplate = template.Must(template.New("report").Parse(reportTemplateText))

// Limits that keep the page readable.
const (
	maxBars       = 30  // bars in a bar chart; the table has every value
	bigTable      = 60  // rows above which a table is folded in <details>
	maxBarLabel   = 34  // characters of a bar's label before it is cut
	charWidth     = 7   // approximate width of a 12px character, in SVG units
	chartWidth    = 720 // charts are drawn twice: for wide screens and print,
	narrowWidth   = 380 // and for phones, where the wide one would be too small to read
	lineHeight    = 300
	barRow        = 28
	barThickness  = 18
	secretMarker  = "secret statistique"
	missingMarker = "non disponible"
)

// writeReport writes p as report.html: the notebooks' text, each indicator
// as a chart and a table, and where the figures come from. Suppressed
// values are never written, only marked.
func writeReport(w io.Writer, p *Publication) error {
	page, err := newReportPage(p)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := reportTemplate.Execute(&buf, page); err != nil {
		return fmt.Errorf("render report.html: %w", err)
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// reportPage is what the template shows: every text already formatted.
type reportPage struct {
	Project      string
	Level        string
	LevelMeaning string
	Restricted   bool
	RunAt        string
	RunAtISO     string
	Engine       string
	Disclosure   string
	Notebooks    []reportNotebook
	Inputs       []reportInput
}

type reportNotebook struct {
	Anchor, Title, Owner, File string
	Parts                      []reportPart
}

// reportPart is one block of a notebook: exactly one field is set.
type reportPart struct {
	Text      template.HTML
	Cell      *Cell
	Indicator *reportIndicator
}

type reportIndicator struct {
	Anchor      string
	Label       string
	Unit        string
	Description string
	Direction   string
	Baseline    string
	Target      string
	Latest      string    // "juin 2024 : 38 jours", for a series
	Missing     bool      // no values were published
	Single      string    // the one value of an indicator with no period nor dimension
	Chart       *svgChart // for wide screens and print
	Narrow      *svgChart // the same for phones
	Legend      []string
	Table       reportTable
	Note        string
}

type reportTable struct {
	ID        string
	Caption   string
	Headers   []string
	RowHeader bool // the first cell of each row heads it
	Rows      [][]reportCell
	Folded    bool
	Summary   string
}

type reportCell struct {
	Text  string
	Class string
}

type reportInput struct {
	Dataset, Snapshot, LoadedAt, LoadedAtISO, Hash, FullHash, Access string
}

// svgChart is a chart drawn in SVG units, layer by layer.
type svgChart struct {
	ID            string
	Class         string // wide or narrow
	Width, Height int
	Title, Desc   string
	Hatch         bool
	Grid          []svgLine
	Refs          []svgLine
	Paths         []string
	Rects         []svgRect
	Points        []svgPoint
	Texts         []svgText
}

type svgLine struct {
	X1, Y1, X2, Y2 string
	Class          string
}

type svgRect struct {
	X, Y, W, H string
	Class      string
}

type svgPoint struct{ X, Y string }

type svgText struct {
	X, Y   string
	Anchor string
	Class  string
	Text   string
}

func newReportPage(p *Publication) (*reportPage, error) {
	page := &reportPage{
		Project:      p.Project,
		Level:        p.Level.String(),
		LevelMeaning: levelMeaning(p.Level),
		Restricted:   p.Level != catalog.Public,
		RunAt:        frenchDateTime(p.RunAt),
		RunAtISO:     isoTime(p.RunAt),
		Engine:       p.Engine,
	}
	if p.MinCount > 0 {
		page.Disclosure = fmt.Sprintf("Les valeurs calculées sur moins de %s unités sont masquées (secret statistique), ainsi que des valeurs complémentaires qui permettraient de les retrouver par différence.", formatNumber(float64(p.MinCount)))
	}
	for _, in := range p.Inputs {
		page.Inputs = append(page.Inputs, reportInput{
			Dataset:     in.Dataset,
			Snapshot:    strconv.FormatInt(in.Snapshot, 10),
			LoadedAt:    frenchDateTime(in.LoadedAt),
			LoadedAtISO: isoTime(in.LoadedAt),
			Hash:        ShortHash(in.ContentHash),
			FullHash:    in.ContentHash,
			Access:      in.Access.String(),
		})
	}
	seq := 0
	for i, nb := range p.Notebooks {
		rn := reportNotebook{Anchor: fmt.Sprintf("carnet-%d", i+1), Title: nb.Title, Owner: nb.Owner, File: nb.File}
		shown := map[*IndicatorResult]bool{}
		addIndicator := func(res *IndicatorResult, def *Indicator) {
			seq++
			rn.Parts = append(rn.Parts, reportPart{Indicator: newReportIndicator(fmt.Sprintf("i%d-%s", seq, def.ID), res, def, p.MinCount)})
		}
		for _, b := range nb.Blocks {
			switch {
			case b.Indicator != nil:
				res := findResult(p, nb.Name, b.Indicator.ID)
				if res != nil {
					shown[res] = true
				}
				addIndicator(res, b.Indicator)
			case b.Cell != nil:
				rn.Parts = append(rn.Parts, reportPart{Cell: b.Cell})
			case strings.TrimSpace(b.Text) != "":
				h, err := renderMarkdown(b.Text)
				if err != nil {
					return nil, fmt.Errorf("notebook %s: text: %w", nb.File, err)
				}
				rn.Parts = append(rn.Parts, reportPart{Text: h})
			}
		}
		// A result whose block is missing is still published: never lose a figure.
		for _, res := range p.Indicators {
			if res.Notebook == nb.Name && !shown[res] && res.Indicator != nil {
				addIndicator(res, res.Indicator)
			}
		}
		page.Notebooks = append(page.Notebooks, rn)
	}
	return page, nil
}

func findResult(p *Publication, notebook, id string) *IndicatorResult {
	for _, r := range p.Indicators {
		if r.Notebook == notebook && r.Indicator != nil && r.ID == id {
			return r
		}
	}
	return nil
}

func levelMeaning(l catalog.Level) string {
	switch l {
	case catalog.Public:
		return "public : diffusable à tous."
	case catalog.Restricted:
		return "restricted (restreint) : réservé aux agents habilités, sous conditions ; ne pas rediffuser au-delà."
	case catalog.NonPublic:
		return "non_public (non public) : non communicable (données personnelles, secrets protégés par la loi) ; ne pas diffuser."
	}
	return l.String() + " : niveau inconnu ; traiter comme non communicable."
}

// newReportIndicator formats one indicator; res is nil when the run
// published no values for it.
func newReportIndicator(anchor string, res *IndicatorResult, def *Indicator, minCount int) *reportIndicator {
	if res != nil && res.Indicator != nil {
		def = res.Indicator // the published definition
	}
	ri := &reportIndicator{
		Anchor:      anchor,
		Label:       def.Label,
		Unit:        def.Unit,
		Description: def.Description,
		Baseline:    "non précisée",
		Target:      "non précisée",
	}
	if ri.Label == "" {
		ri.Label = def.ID
	}
	switch def.Direction {
	case "down":
		ri.Direction = "plus bas est mieux"
	case "up":
		ri.Direction = "plus haut est mieux"
	}
	if def.Baseline != nil {
		ri.Baseline = withUnit(*def.Baseline, def.Unit)
	}
	if def.Target != nil {
		ri.Target = withUnit(*def.Target, def.Unit)
	}
	if res == nil || len(res.Rows) == 0 {
		ri.Missing = true
		return ri
	}
	// A suppressed value is never drawn nor written, even if it were set;
	// a value that is not a number cannot be drawn and counts as missing.
	rows := slices.Clone(res.Rows)
	periods := make([]string, len(rows))
	for i := range rows {
		if v := rows[i].Value; rows[i].Suppressed || v != nil && (math.IsNaN(*v) || math.IsInf(*v, 0)) {
			rows[i].Value = nil
		}
		periods[i] = rows[i].Period
	}
	pf := newPeriodFormat(periods)
	switch {
	case len(def.By) > 0:
		ri.Chart, ri.Legend = barChart(anchor, def, rows, pf, false)
		ri.Narrow, _ = barChart(anchor, def, rows, pf, true)
	case def.Period != "":
		ri.Chart, ri.Legend = lineChart(anchor, def, rows, pf, false)
		ri.Narrow, _ = lineChart(anchor, def, rows, pf, true)
		if last := rows[len(rows)-1]; last.Value != nil {
			ri.Latest = pf.long(last.Period) + " : " + withUnit(*last.Value, def.Unit)
		}
	case len(rows) == 1:
		ri.Single = valueText(rows[0], def.Unit)
	}
	ri.Table = indicatorTable(anchor, def, rows, pf)
	suppressed := 0
	for _, r := range rows {
		if r.Suppressed {
			suppressed++
		}
	}
	if suppressed > 0 {
		ri.Note = plural(suppressed, "valeur est masquée", "valeurs sont masquées") + " par le secret statistique"
		if minCount > 0 {
			ri.Note += fmt.Sprintf(" (moins de %s unités, ou masquage complémentaire)", formatNumber(float64(minCount)))
		}
		ri.Note += "."
	}
	return ri
}

func indicatorTable(anchor string, def *Indicator, rows []IndicatorRow, pf periodFormat) reportTable {
	t := reportTable{ID: anchor + "-table", Caption: "Valeurs : " + def.Label}
	if def.Unit != "" {
		t.Caption += " (" + def.Unit + ")"
	}
	if def.Period != "" {
		t.Headers = append(t.Headers, "Période")
	}
	for _, b := range def.By {
		t.Headers = append(t.Headers, columnTitle(b))
	}
	t.Headers = append(t.Headers, "Valeur", "Statut")
	t.RowHeader = def.Period != "" || len(def.By) > 0
	for _, r := range rows {
		var cells []reportCell
		if def.Period != "" {
			cells = append(cells, reportCell{Text: pf.long(r.Period)})
		}
		for i := range def.By {
			v := ""
			if i < len(r.By) {
				v = r.By[i]
			}
			cells = append(cells, reportCell{Text: v})
		}
		switch {
		case r.Suppressed:
			cells = append(cells, reportCell{Text: secretMarker, Class: "num secret"}, reportCell{Text: "masquée"})
		case r.Value == nil:
			cells = append(cells, reportCell{Text: missingMarker, Class: "num missing"}, reportCell{Text: "manquante"})
		default:
			cells = append(cells, reportCell{Text: formatNumber(*r.Value), Class: "num"}, reportCell{Text: "diffusée"})
		}
		t.Rows = append(t.Rows, cells)
	}
	if len(rows) > bigTable {
		t.Folded = true
		t.Summary = "Tableau des " + formatNumber(float64(len(rows))) + " valeurs"
	}
	return t
}

// columnTitle turns a column name into a header: departement_code ->
// Departement code.
func columnTitle(name string) string {
	s := strings.ReplaceAll(name, "_", " ")
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return strings.ToUpper(string(r)) + s[n:]
}

// lineChart draws the values of a series over its periods, with the
// baseline and target as labelled dashed lines.
func lineChart(anchor string, def *Indicator, rows []IndicatorRow, pf periodFormat, narrow bool) (*svgChart, []string) {
	c := newChart(anchor, def, narrow)
	c.Height = lineHeight
	if narrow {
		c.Height = lineHeight * 5 / 6
	}
	var vals []float64
	for _, r := range rows {
		if r.Value != nil {
			vals = append(vals, *r.Value)
		}
	}
	ext := slices.Clone(vals)
	type ref struct {
		label, class string
		v            float64
	}
	var refs []ref
	if def.Baseline != nil {
		label := "Référence " + withUnit(*def.Baseline, def.Unit)
		if narrow {
			label = "Réf. " + formatNumber(*def.Baseline)
		}
		refs = append(refs, ref{label, "baseline", *def.Baseline})
		ext = append(ext, *def.Baseline)
	}
	if def.Target != nil {
		label := "Cible " + withUnit(*def.Target, def.Unit)
		if narrow {
			label = "Cible " + formatNumber(*def.Target)
		}
		refs = append(refs, ref{label, "target", *def.Target})
		ext = append(ext, *def.Target)
	}
	lo, hi := 0.0, 1.0
	if len(ext) > 0 {
		lo, hi = slices.Min(ext), slices.Max(ext)
		// A margin keeps the extreme values and lines off the frame.
		pad := (hi - lo) * 0.08
		switch {
		case lo >= 0 && (lo < hi/2 || lo-pad < 0):
			lo = 0 // small values read better from zero
		default:
			lo -= pad
		}
		hi += pad
	}
	ticks := niceTicks(lo, hi, 5)
	lo, hi = ticks[0], ticks[len(ticks)-1]
	tickW := 0
	for _, t := range ticks {
		tickW = max(tickW, textWidth(formatNumber(t)))
	}
	refW := 0
	for _, r := range refs {
		refW = max(refW, textWidth(r.label))
	}
	left := float64(16 + tickW)
	right := float64(16 + min(refW, 220))
	top, bottom := 28.0, 44.0
	plotW := float64(c.Width) - left - right
	plotH := float64(c.Height) - top - bottom
	y := func(v float64) float64 { return top + (hi-v)/(hi-lo)*plotH }
	inset := 16.0
	if narrow {
		inset = 8
	}
	x := func(i int) float64 {
		if len(rows) == 1 {
			return left + plotW/2
		}
		return left + inset + float64(i)*(plotW-2*inset)/float64(len(rows)-1)
	}
	for _, t := range ticks {
		c.Grid = append(c.Grid, svgLine{X1: f1(left), Y1: f1(y(t)), X2: f1(left + plotW), Y2: f1(y(t)), Class: "grid"})
		c.Texts = append(c.Texts, svgText{X: f1(left - 8), Y: f1(y(t) + 4), Anchor: "end", Class: "tick", Text: formatNumber(t)})
	}
	c.Grid = append(c.Grid, svgLine{X1: f1(left), Y1: f1(top + plotH), X2: f1(left + plotW), Y2: f1(top + plotH), Class: "axis"})

	// Period labels under the axis, thinned so that they do not overlap.
	labelW := 0
	for _, r := range rows {
		labelW = max(labelW, textWidth(pf.short(r.Period)))
	}
	every := 1
	if len(rows) > 1 {
		step := (plotW - 2*inset) / float64(len(rows)-1)
		every = int(math.Ceil(float64(labelW+12) / step))
	}
	for i, r := range rows {
		if i%every != 0 && i != len(rows)-1 {
			continue
		}
		if i != len(rows)-1 && len(rows)-1-i < every && i != 0 {
			continue // leave room for the last label
		}
		c.Texts = append(c.Texts, svgText{X: f1(x(i)), Y: f1(top + plotH + 20), Anchor: "middle", Class: "tick", Text: pf.short(r.Period)})
	}

	// Baseline and target, labelled in the right margin, labels kept apart.
	labelY := make([]float64, len(refs))
	for i, r := range refs {
		c.Refs = append(c.Refs, svgLine{X1: f1(left), Y1: f1(y(r.v)), X2: f1(left + plotW), Y2: f1(y(r.v)), Class: "ref " + r.class})
		labelY[i] = y(r.v) + 4
	}
	if len(refs) == 2 && math.Abs(labelY[0]-labelY[1]) < 16 {
		mid := (labelY[0] + labelY[1]) / 2
		if refs[0].v >= refs[1].v {
			labelY[0], labelY[1] = mid-8, mid+8
		} else {
			labelY[0], labelY[1] = mid+8, mid-8
		}
	}
	for i, r := range refs {
		c.Texts = append(c.Texts, svgText{X: f1(left + plotW + 6), Y: f1(labelY[i]), Anchor: "start", Class: "reflabel " + r.class, Text: r.label})
	}

	// The series: a path per run of values, broken where one is missing,
	// and a marker per value.
	var path strings.Builder
	for i, r := range rows {
		if r.Value == nil {
			if path.Len() > 0 {
				c.Paths = append(c.Paths, path.String())
				path.Reset()
			}
			continue
		}
		if path.Len() == 0 {
			path.WriteString("M")
		} else {
			path.WriteString(" L")
		}
		fmt.Fprintf(&path, "%s %s", f1(x(i)), f1(y(*r.Value)))
		c.Points = append(c.Points, svgPoint{X: f1(x(i)), Y: f1(y(*r.Value))})
	}
	if path.Len() > 0 {
		c.Paths = append(c.Paths, path.String())
	}

	// Value labels: all of them when they fit, else first, last, min, max.
	valW := 0
	for _, v := range vals {
		valW = max(valW, textWidth(formatNumber(v)))
	}
	all := len(rows) == 1 || float64(valW+8) < (plotW-2*inset)/float64(len(rows)-1)
	first, last, iMin, iMax := -1, -1, -1, -1
	for i, r := range rows {
		if r.Value == nil {
			continue
		}
		if first < 0 {
			first = i
		}
		last = i
		if iMin < 0 || *r.Value < *rows[iMin].Value {
			iMin = i
		}
		if iMax < 0 || *r.Value > *rows[iMax].Value {
			iMax = i
		}
	}
	for i, r := range rows {
		if r.Value == nil || !(all || i == first || i == last || i == iMin || i == iMax) {
			continue
		}
		c.Texts = append(c.Texts, svgText{X: f1(x(i)), Y: f1(y(*r.Value) - 10), Anchor: "middle", Class: "value", Text: formatNumber(*r.Value)})
	}

	// Suppressed or missing periods: a dotted mark and a word, not a value.
	var legend []string
	suppressed, missing := 0, 0
	for _, r := range rows {
		if r.Value == nil {
			if r.Suppressed {
				suppressed++
			} else {
				missing++
			}
		}
	}
	step := plotW
	if len(rows) > 1 {
		step = (plotW - 2*inset) / float64(len(rows)-1)
	}
	short := step < float64(textWidth("secret")+6)
	for i, r := range rows {
		if r.Value != nil {
			continue
		}
		word := "secret"
		if !r.Suppressed {
			word = "n.d."
		}
		if short {
			word = word[:1]
		}
		c.Refs = append(c.Refs, svgLine{X1: f1(x(i)), Y1: f1(top), X2: f1(x(i)), Y2: f1(top + plotH), Class: "gap"})
		c.Texts = append(c.Texts, svgText{X: f1(x(i)), Y: f1(top - 8), Anchor: "middle", Class: "mark", Text: word})
	}
	if len(vals) > 0 {
		legend = append(legend, "Trait plein et points : valeur de chaque période.")
	}
	if len(refs) > 0 {
		legend = append(legend, "Traits pointillés : référence et cible, nommées à droite.")
	}
	if suppressed > 0 {
		w := "« secret »"
		if short {
			w = "« s »"
		}
		legend = append(legend, "Ligne pointillée verticale marquée "+w+" : valeur masquée (secret statistique).")
	}
	if missing > 0 {
		w := "« n.d. »"
		if short {
			w = "« n »"
		}
		legend = append(legend, "Ligne pointillée verticale marquée "+w+" : valeur non disponible.")
	}

	// The text alternative.
	var d strings.Builder
	if first >= 0 {
		if first == last {
			fmt.Fprintf(&d, "%s : %s.", pf.long(rows[first].Period), withUnit(*rows[first].Value, def.Unit))
		} else {
			fmt.Fprintf(&d, "De %s à %s, la valeur passe de %s à %s. Minimum : %s (%s) ; maximum : %s (%s).",
				pf.long(rows[first].Period), pf.long(rows[last].Period),
				withUnit(*rows[first].Value, def.Unit), withUnit(*rows[last].Value, def.Unit),
				withUnit(*rows[iMin].Value, def.Unit), pf.long(rows[iMin].Period),
				withUnit(*rows[iMax].Value, def.Unit), pf.long(rows[iMax].Period))
		}
	} else {
		d.WriteString("Aucune valeur diffusée.")
	}
	fmt.Fprintf(&d, " Série de %s.", plural(len(rows), "période", "périodes"))
	if suppressed > 0 {
		fmt.Fprintf(&d, " %s (secret statistique).", plural(suppressed, "valeur masquée", "valeurs masquées"))
	}
	if missing > 0 {
		fmt.Fprintf(&d, " %s.", plural(missing, "valeur non disponible", "valeurs non disponibles"))
	}
	if def.Baseline != nil {
		fmt.Fprintf(&d, " Référence : %s.", withUnit(*def.Baseline, def.Unit))
	}
	if def.Target != nil {
		fmt.Fprintf(&d, " Cible : %s.", withUnit(*def.Target, def.Unit))
	}
	c.Desc = d.String()
	return c, legend
}

// barChart draws the values of the latest period (every row when there is
// no period) as horizontal bars, from the highest; suppressed values get a
// hatched mark and the word "secret", never a length.
func barChart(anchor string, def *Indicator, rows []IndicatorRow, pf periodFormat, narrow bool) (*svgChart, []string) {
	c := newChart(anchor, def, narrow)
	period := ""
	if def.Period != "" {
		period = rows[len(rows)-1].Period // rows are ordered by period
		var latest []IndicatorRow
		for _, r := range rows {
			if r.Period == period {
				latest = append(latest, r)
			}
		}
		rows = latest
	}
	rank := func(r IndicatorRow) int {
		switch {
		case r.Value != nil:
			return 0
		case r.Suppressed:
			return 1
		}
		return 2
	}
	rows = slices.Clone(rows)
	slices.SortStableFunc(rows, func(a, b IndicatorRow) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		if a.Value != nil && b.Value != nil {
			switch {
			case *a.Value > *b.Value:
				return -1
			case *a.Value < *b.Value:
				return 1
			}
		}
		return 0
	})
	total := len(rows)
	suppressed, missing := 0, 0
	var vals []float64
	for _, r := range rows {
		switch {
		case r.Value != nil:
			vals = append(vals, *r.Value)
		case r.Suppressed:
			suppressed++
		default:
			missing++
		}
	}
	shown := rows[:min(len(rows), maxBars)]
	// Labels take at most 40 % of the width; the table has them whole.
	maxLabel := min(maxBarLabel, c.Width*4/10/charWidth)
	label := func(r IndicatorRow) string {
		s := strings.Join(r.By, " · ")
		if utf8.RuneCountInString(s) > maxLabel {
			s = string([]rune(s)[:maxLabel-1]) + "…"
		}
		return s
	}
	labelW := 0
	for _, r := range shown {
		labelW = max(labelW, textWidth(label(r)))
	}
	lo, hi := 0.0, 1.0
	if len(vals) > 0 {
		lo, hi = min(0, slices.Min(vals)), max(0, slices.Max(vals))
	}
	// Bars use the whole width: the scale ends at the extreme values, and
	// only the round values within it are marked.
	valW := textWidth("secret")
	for _, v := range vals {
		valW = max(valW, textWidth(formatNumber(v)))
	}
	left := float64(16 + labelW)
	right := float64(16 + valW)
	top := 8.0
	plotW := float64(c.Width) - left - right
	// As many round values as their labels leave room for.
	n := int(plotW) / (max(textWidth(formatNumber(hi)), textWidth(formatNumber(lo))) + 24)
	ticks := niceTicks(lo, hi, min(5, max(2, n)))
	if hi > lo {
		ticks = slices.DeleteFunc(ticks, func(t float64) bool { return t < lo-1e-9*(hi-lo) || t > hi+1e-9*(hi-lo) })
	} else {
		lo, hi = ticks[0], ticks[len(ticks)-1]
	}
	plotH := float64(len(shown) * barRow)
	c.Height = int(top + plotH + 32)
	x := func(v float64) float64 { return left + (v-lo)/(hi-lo)*plotW }
	if len(vals) == 0 {
		ticks = nil // no scale for no value
	}
	for _, t := range ticks {
		c.Grid = append(c.Grid, svgLine{X1: f1(x(t)), Y1: f1(top), X2: f1(x(t)), Y2: f1(top + plotH), Class: "grid"})
		c.Texts = append(c.Texts, svgText{X: f1(x(t)), Y: f1(top + plotH + 18), Anchor: "middle", Class: "tick", Text: formatNumber(t)})
	}
	zero := x(0)
	for i, r := range shown {
		yc := top + float64(i)*barRow + barRow/2
		c.Texts = append(c.Texts, svgText{X: f1(left - 8), Y: f1(yc + 4), Anchor: "end", Class: "label", Text: label(r)})
		yb := f1(yc - barThickness/2)
		switch {
		case r.Value != nil:
			v := *r.Value
			x0, x1 := min(zero, x(v)), max(zero, x(v))
			c.Rects = append(c.Rects, svgRect{X: f1(x0), Y: yb, W: f1(max(x1-x0, 1)), H: f1(barThickness), Class: "bar"})
			lx := x1 + 6
			if v < 0 {
				lx = zero + 6
			}
			c.Texts = append(c.Texts, svgText{X: f1(lx), Y: f1(yc + 4), Anchor: "start", Class: "value", Text: formatNumber(v)})
		case r.Suppressed:
			c.Hatch = true
			c.Rects = append(c.Rects, svgRect{X: f1(zero), Y: yb, W: f1(barThickness), H: f1(barThickness), Class: "secret"})
			c.Texts = append(c.Texts, svgText{X: f1(zero + barThickness + 6), Y: f1(yc + 4), Anchor: "start", Class: "mark", Text: "secret"})
		default:
			c.Texts = append(c.Texts, svgText{X: f1(zero + 6), Y: f1(yc + 4), Anchor: "start", Class: "mark", Text: "n.d."})
		}
	}
	c.Grid = append(c.Grid, svgLine{X1: f1(zero), Y1: f1(top), X2: f1(zero), Y2: f1(top + plotH), Class: "axis"})

	dims := make([]string, len(def.By))
	for i, b := range def.By {
		dims[i] = strings.ReplaceAll(b, "_", " ")
	}
	var d strings.Builder
	fmt.Fprintf(&d, "Valeurs par %s", strings.Join(dims, " et "))
	if period != "" {
		fmt.Fprintf(&d, ", %s", pf.long(period))
	}
	d.WriteString(", de la plus haute à la plus basse.")
	if len(vals) > 0 {
		hiRow, loRow := rows[0], rows[len(vals)-1]
		fmt.Fprintf(&d, " La plus haute : %s (%s) ; la plus basse : %s (%s).",
			withUnit(*hiRow.Value, def.Unit), strings.Join(hiRow.By, ", "),
			withUnit(*loRow.Value, def.Unit), strings.Join(loRow.By, ", "))
	}
	fmt.Fprintf(&d, " %s.", plural(total, "valeur", "valeurs"))
	if suppressed > 0 {
		fmt.Fprintf(&d, " %s (secret statistique).", plural(suppressed, "valeur masquée", "valeurs masquées"))
	}
	if missing > 0 {
		fmt.Fprintf(&d, " %s.", plural(missing, "valeur non disponible", "valeurs non disponibles"))
	}
	if total > len(shown) {
		fmt.Fprintf(&d, " Les %d premières sont représentées ; toutes figurent dans le tableau.", len(shown))
	}
	c.Desc = d.String()

	var legend []string
	if period != "" {
		legend = append(legend, "Dernière période : "+pf.long(period)+". Les périodes précédentes figurent dans le tableau.")
	}
	if suppressed > 0 {
		legend = append(legend, "Carré hachuré marqué « secret » : valeur masquée (secret statistique), sans longueur.")
	}
	if total > len(shown) {
		legend = append(legend, fmt.Sprintf("Seules les %d valeurs les plus hautes sont représentées, sur %s ; le tableau les donne toutes.", len(shown), formatNumber(float64(total))))
	}
	return c, legend
}

func newChart(anchor string, def *Indicator, narrow bool) *svgChart {
	c := &svgChart{ID: anchor + "-chart", Class: "wide", Width: chartWidth, Title: "Graphique : " + def.Label}
	if narrow {
		c.ID, c.Class, c.Width = anchor+"-chart-narrow", "narrow", narrowWidth
	}
	return c
}

// niceTicks returns about n round values covering [lo, hi], the first at
// or below lo and the last at or above hi.
func niceTicks(lo, hi float64, n int) []float64 {
	if hi < lo {
		lo, hi = hi, lo
	}
	if hi == lo {
		if lo == 0 {
			hi = 1
		} else {
			lo, hi = min(0, lo*2), max(0, hi*2)
		}
	}
	raw := (hi - lo) / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	var step float64
	switch f := raw / mag; {
	case f <= 1:
		step = mag
	case f <= 2:
		step = 2 * mag
	case f <= 2.5:
		step = 2.5 * mag
	case f <= 5:
		step = 5 * mag
	default:
		step = 10 * mag
	}
	start := math.Floor(lo/step+1e-9) * step
	var ticks []float64
	for i := 0; ; i++ {
		v := start + float64(i)*step
		if math.Abs(v) < step*1e-9 {
			v = 0
		}
		ticks = append(ticks, v)
		if v >= hi-step*1e-9 || i > 50 {
			break
		}
	}
	return ticks
}

// textWidth estimates the width of s at the charts' 12px font.
func textWidth(s string) int { return utf8.RuneCountInString(s) * charWidth }

// f1 writes an SVG coordinate.
func f1(v float64) string {
	s := strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64)
	if s == "-0" {
		return "0"
	}
	return s
}

func valueText(r IndicatorRow, unit string) string {
	switch {
	case r.Suppressed:
		return secretMarker
	case r.Value == nil:
		return missingMarker
	}
	return withUnit(*r.Value, unit)
}

// withUnit formats a value followed by its unit, kept on one line.
func withUnit(v float64, unit string) string {
	switch unit {
	case "":
		return formatNumber(v)
	case "%":
		return formatNumber(v) + "\u202f%"
	}
	return formatNumber(v) + "\u00a0" + unit
}

func plural(n int, one, many string) string {
	if n < 2 {
		return formatNumber(float64(n)) + " " + one
	}
	return formatNumber(float64(n)) + " " + many
}

// formatNumber writes v the French way: decimal comma, narrow no-break
// space between thousands, at most two decimals and no trailing zeros
// (1 234,5). A value that two decimals would round to zero keeps two
// significant digits (0,0042), so that a small rate does not read as none.
func formatNumber(v float64) string {
	switch {
	case math.IsNaN(v):
		return "non défini"
	case math.IsInf(v, 1):
		return "+∞"
	case math.IsInf(v, -1):
		return "−∞"
	}
	decimals := 2
	if v != 0 && math.Round(v*100) == 0 {
		decimals = min(12, 1-int(math.Floor(math.Log10(math.Abs(v)))))
	}
	s := strconv.FormatFloat(math.Abs(v), 'f', decimals, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	if v < 0 && strings.Trim(s, "0.") != "" {
		b.WriteString("−")
	}
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteString("\u202f")
		}
		b.WriteRune(r)
	}
	if frac != "" {
		b.WriteString(",")
		b.WriteString(frac)
	}
	return b.String()
}

var (
	frenchMonths      = []string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"}
	frenchMonthsShort = []string{"janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."}
)

// periodFormat shows an indicator's periods: month names when every period
// is the first of a month, dd/mm/yyyy for other dates, the text as it is
// otherwise.
type periodFormat struct {
	dates, months bool
}

func newPeriodFormat(periods []string) periodFormat {
	f := periodFormat{dates: len(periods) > 0, months: true}
	for _, p := range periods {
		d, ok := parsePeriodDate(p)
		if !ok {
			return periodFormat{}
		}
		if d.Day() != 1 {
			f.months = false
		}
	}
	f.months = f.months && f.dates
	return f
}

// parsePeriodDate reads yyyy-mm-dd, allowing a midnight time after it.
func parsePeriodDate(s string) (time.Time, bool) {
	if len(s) < 10 || strings.Trim(s[10:], " T0:.Z+") != "" {
		return time.Time{}, false
	}
	d, err := time.Parse("2006-01-02", s[:10])
	return d, err == nil
}

func (f periodFormat) long(s string) string {
	d, ok := parsePeriodDate(s)
	switch {
	case !f.dates || !ok:
		return s
	case f.months:
		return frenchMonths[d.Month()-1] + " " + strconv.Itoa(d.Year())
	}
	return d.Format("02/01/2006")
}

// short is long for chart axes, where room is scarce.
func (f periodFormat) short(s string) string {
	d, ok := parsePeriodDate(s)
	if f.dates && f.months && ok {
		return frenchMonthsShort[d.Month()-1] + " " + strconv.Itoa(d.Year())
	}
	return f.long(s)
}

// frenchDateTime writes t as "28 novembre 2025 à 15 h 13 UTC", in t's own
// time zone.
func frenchDateTime(t time.Time) string {
	if t.IsZero() {
		return "date inconnue"
	}
	day := strconv.Itoa(t.Day())
	if t.Day() == 1 {
		day = "1er"
	}
	return fmt.Sprintf("%s %s %d à %d h %02d %s", day, frenchMonths[t.Month()-1], t.Year(), t.Hour(), t.Minute(), t.Format("MST"))
}

// isoTime is t for a <time datetime>, empty when t is unknown.
func isoTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339)
}

// ShortHash writes a content hash as the report and the catalog's pages
// show it: its algorithm and its first 12 digits, "sha256:0123456789ab…".
func ShortHash(h string) string {
	algo, digits, ok := strings.Cut(h, ":")
	if !ok {
		algo, digits = "", h
	}
	if len(digits) > 12 {
		digits = digits[:12] + "…"
	}
	if algo == "" {
		return digits
	}
	return algo + ":" + digits
}

// markdown renders notebook text: CommonMark and GitHub tables, raw HTML
// dropped and dangerous links removed (goldmark's defaults without
// WithUnsafe), images turned into links so the page loads nothing, and
// headings moved under the notebook's h2.
var markdown = goldmark.New(
	goldmark.WithExtensions(extension.Table, extension.Strikethrough),
	goldmark.WithParserOptions(parser.WithASTTransformers(util.Prioritized(reportTransformer{}, 100))),
)

func renderMarkdown(src string) (template.HTML, error) {
	var buf bytes.Buffer
	if err := markdown.Convert([]byte(src), &buf); err != nil {
		return "", err
	}
	return template.HTML(buf.String()), nil //nolint:gosec // goldmark escapes text and drops raw HTML
}

type reportTransformer struct{}

// Transform shifts headings so that the text's highest becomes an h3, and
// replaces images by links to them.
func (reportTransformer) Transform(doc *ast.Document, _ text.Reader, _ parser.Context) {
	var headings []*ast.Heading
	var images []*ast.Image
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Heading:
			headings = append(headings, n)
		case *ast.Image:
			images = append(images, n)
		}
		return ast.WalkContinue, nil
	})
	top := 7
	for _, h := range headings {
		top = min(top, h.Level)
	}
	for _, h := range headings {
		h.Level = min(6, h.Level-top+3)
	}
	for _, img := range images {
		link := ast.NewLink()
		link.Destination, link.Title = img.Destination, img.Title
		link.AppendChild(link, ast.NewString([]byte("image : ")))
		for c := img.FirstChild(); c != nil; {
			next := c.NextSibling()
			link.AppendChild(link, c)
			c = next
		}
		img.Parent().ReplaceChild(img.Parent(), img, link)
	}
}
