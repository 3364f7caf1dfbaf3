package server

import (
	"fmt"
	"math"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/datalab/datalab/catalog"
)

// The lineage drawing's measures, in SVG units (1 unit = 1 CSS pixel at
// natural size; the drawing scrolls sideways rather than shrink).
const (
	boxWidth    = 196
	boxHeight   = 44
	columnGap   = 40
	rowGap      = 14
	graphMargin = 12
	labelChars  = 22 // characters of a node's name before it is cut
)

// lineageView is the lineage around a dataset, drawn and listed.
type lineageView struct {
	ID            string
	Width, Height int
	Title, Desc   string
	Nodes         []graphNode
	Edges         []graphEdge
	Upstream      []edgeItem
	Downstream    []edgeItem
}

type graphNode struct {
	X, Y, W, H   int
	Kind, Label  string
	Full         string
	Class        string
	KindX, KindY int
	NameY        int
}

type graphEdge struct {
	Path  string
	Class string
}

// edgeItem is an edge in the lists under the drawing.
type edgeItem struct {
	From, To nodeItem
	Kind     string
}

type nodeItem struct {
	Text string
	// URL links a dataset to its page.
	URL string
}

var kindLabels = map[string]string{
	catalog.KindSource: "source", catalog.KindDataset: "jeu de données", catalog.KindPipeline: "pipeline",
	catalog.KindCell: "cellule", catalog.KindIndicator: "indicateur", catalog.KindOutput: "fichier",
	catalog.KindProject: "projet",
}

var edgeLabels = map[string]string{
	"ingest": "chargé depuis", "reads": "lu par", "writes": "écrit", "computes": "calcule",
}

func nodeLabel(n catalog.Node) nodeItem {
	kind := kindLabels[n.Kind()]
	if kind == "" {
		kind = n.Kind()
	}
	item := nodeItem{Text: kind + " " + n.Name()}
	if n.Kind() == catalog.KindDataset {
		item.URL = "/datasets/" + url.PathEscape(n.Name())
	}
	return item
}

// layers places each node of g in a column: the node at 0, what it comes
// from at negative columns (the longest path to it), what it feeds at
// positive ones (the longest path from it), so that every edge of a side
// goes from left to right.
func layers(g catalog.Graph) map[catalog.Node]int {
	col := map[catalog.Node]int{g.Node: 0}
	relax := func(edges []catalog.Edge, up bool) {
		// Longest paths by repeated relaxation, bounded for a cyclic graph.
		for range len(edges) + 1 {
			changed := false
			for _, e := range edges {
				near, far := e.From, e.To
				if up {
					near, far = e.To, e.From
				}
				c, ok := col[near]
				if !ok {
					continue
				}
				next := c + 1
				if up {
					next = c - 1
				}
				if old, seen := col[far]; far != g.Node && (!seen || (up && next < old) || (!up && next > old)) {
					col[far] = next
					changed = true
				}
			}
			if !changed {
				return
			}
		}
	}
	relax(g.Upstream, true)
	relax(g.Downstream, false)
	return col
}

// condense draws the files of one output folder as one node (a run writes
// four files per level), so that the drawing stays readable; the lists
// under it keep every edge. It returns the graph drawn and, for each
// folder, how many files it stands for.
func condense(g catalog.Graph) (catalog.Graph, map[catalog.Node]int) {
	files := map[catalog.Node]map[catalog.Node]bool{}
	node := func(n catalog.Node) catalog.Node {
		if n.Kind() != catalog.KindOutput || n == g.Node {
			return n
		}
		dir := catalog.NewNode(catalog.KindOutput, path.Dir(n.Name())+"/")
		if files[dir] == nil {
			files[dir] = map[catalog.Node]bool{}
		}
		files[dir][n] = true
		return dir
	}
	edges := func(in []catalog.Edge) []catalog.Edge {
		var out []catalog.Edge
		for _, e := range in {
			e.From, e.To = node(e.From), node(e.To)
			if !slices.ContainsFunc(out, func(o catalog.Edge) bool { return o.From == e.From && o.To == e.To }) {
				out = append(out, e)
			}
		}
		return out
	}
	c := catalog.Graph{Node: g.Node, Upstream: edges(g.Upstream), Downstream: edges(g.Downstream)}
	counts := map[catalog.Node]int{}
	for dir, fs := range files {
		counts[dir] = len(fs)
	}
	return c, counts
}

// boxText is what a node's box says: its kind (with its project, for a
// cell or an indicator) and its name, the project left out.
func boxText(n catalog.Node, files int) (kind, name string) {
	kind, name = kindLabels[n.Kind()], n.Name()
	if kind == "" {
		kind = n.Kind()
	}
	switch n.Kind() {
	case catalog.KindCell, catalog.KindIndicator:
		if project, rest, ok := strings.Cut(name, "/"); ok {
			kind, name = kind+" · projet "+project, rest
		}
	case catalog.KindOutput:
		if files > 0 {
			kind = plural(int64(files), "fichier publié", "fichiers publiés")
		}
	}
	return kind, cut(name, labelChars)
}

// newLineageView lays g out: columns by distance, nodes sorted by kind and
// name within a column, and edges from the right side of a box to the left
// side of the next.
func newLineageView(full catalog.Graph) *lineageView {
	g, files := condense(full)
	col := layers(g)
	lo, hi := 0, 0
	for _, c := range col {
		lo, hi = min(lo, c), max(hi, c)
	}
	columns := map[int][]catalog.Node{}
	for n, c := range col {
		columns[c] = append(columns[c], n)
	}
	rows := 0
	for c := range columns {
		slices.SortFunc(columns[c], func(a, b catalog.Node) int { return strings.Compare(string(a), string(b)) })
		rows = max(rows, len(columns[c]))
	}
	// Outwards from the node, each column is ordered by the mean rank of
	// its neighbours in the column before it, which uncrosses most edges.
	edges := g.Edges()
	order := func(c, towards int) {
		rank := map[catalog.Node]int{}
		for i, n := range columns[towards] {
			rank[n] = i
		}
		mean := map[catalog.Node]float64{}
		for _, n := range columns[c] {
			sum, k := 0.0, 0
			for _, e := range edges {
				other := catalog.Node("")
				switch n {
				case e.To:
					other = e.From
				case e.From:
					other = e.To
				}
				if r, ok := rank[other]; ok && other != "" {
					sum, k = sum+float64(r), k+1
				}
			}
			mean[n] = math.Inf(1)
			if k > 0 {
				mean[n] = sum / float64(k)
			}
		}
		slices.SortStableFunc(columns[c], func(a, b catalog.Node) int {
			switch {
			case mean[a] < mean[b]:
				return -1
			case mean[a] > mean[b]:
				return 1
			}
			return 0
		})
	}
	for c := 1; c <= hi; c++ {
		order(c, c-1)
	}
	for c := -1; c >= lo; c-- {
		order(c, c+1)
	}
	height := 2*graphMargin + rows*boxHeight + (rows-1)*rowGap
	v := &lineageView{ID: "lignage", Width: 2*graphMargin + (hi-lo+1)*boxWidth + (hi-lo)*columnGap, Height: height}
	pos := map[catalog.Node][2]int{}
	for c := lo; c <= hi; c++ {
		nodes := columns[c]
		// Each column is centred on the drawing's height.
		total := len(nodes)*boxHeight + max(0, len(nodes)-1)*rowGap
		y0 := (height - total) / 2
		for i, n := range nodes {
			x := graphMargin + (c-lo)*(boxWidth+columnGap)
			y := y0 + i*(boxHeight+rowGap)
			pos[n] = [2]int{x, y}
			kind, label := boxText(n, files[n])
			class := "node " + n.Kind()
			if n == g.Node {
				class += " self"
			}
			v.Nodes = append(v.Nodes, graphNode{X: x, Y: y, W: boxWidth, H: boxHeight, Kind: kind, Label: label,
				Full: string(n), Class: class, KindX: x + 10, KindY: y + 17, NameY: y + 35})
		}
	}
	for _, e := range g.Edges() {
		a, b := pos[e.From], pos[e.To]
		x1, y1 := float64(a[0]+boxWidth), float64(a[1]+boxHeight/2)
		x2, y2 := float64(b[0]), float64(b[1]+boxHeight/2)
		var path string
		if x2 > x1 {
			mid := (x1 + x2) / 2
			path = fmt.Sprintf("M%s %s C%s %s %s %s %s %s", f(x1), f(y1), f(mid), f(y1), f(mid), f(y2), f(x2-2), f(y2))
		} else {
			// Backwards (a cycle, or a node both ways): loop over the top.
			top := math.Min(float64(a[1]), float64(b[1])) - 6
			x1 = float64(a[0] + boxWidth/2)
			x2 = float64(b[0] + boxWidth/2)
			path = fmt.Sprintf("M%s %s C%s %s %s %s %s %s", f(x1), f(float64(a[1])), f(x1), f(top-30), f(x2), f(top-30), f(x2), f(float64(b[1])-2))
		}
		v.Edges = append(v.Edges, graphEdge{Path: path, Class: "edge"})
	}
	item := func(e catalog.Edge) edgeItem {
		kind := edgeLabels[e.Kind]
		if kind == "" {
			kind = e.Kind
		}
		return edgeItem{From: nodeLabel(e.From), To: nodeLabel(e.To), Kind: kind}
	}
	for _, e := range full.Upstream {
		v.Upstream = append(v.Upstream, item(e))
	}
	for _, e := range full.Downstream {
		v.Downstream = append(v.Downstream, item(e))
	}
	// The description counts what the lists list, files one by one.
	up, down := map[catalog.Node]bool{}, map[catalog.Node]bool{}
	for _, e := range full.Upstream {
		up[e.From], up[e.To] = true, true
	}
	for _, e := range full.Downstream {
		down[e.From], down[e.To] = true, true
	}
	delete(up, full.Node)
	delete(down, full.Node)
	v.Title = "Lignage de " + nodeLabel(g.Node).Text
	v.Desc = fmt.Sprintf("Graphe orienté de gauche à droite : %s en amont, à gauche ; %s en aval, à droite ; %s. La liste qui suit donne les mêmes liens.",
		plural(int64(len(up)), "élément", "éléments"), plural(int64(len(down)), "élément", "éléments"),
		plural(int64(len(full.Upstream)+len(full.Downstream)), "lien", "liens"))
	return v
}

func f(v float64) string { return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) }

// cut shortens s to n characters, keeping its end, where a path or a name
// differs most.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return "…" + string(r[len(r)-n+1:])
}
