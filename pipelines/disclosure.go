package pipelines

import "strings"

// tableCell is one value of an indicator's table for disclosure control: its
// coordinates (the period and the by dimensions), the units it is built
// from, and whether it is suppressed.
type tableCell struct {
	dims       []string
	count      int64
	hasCount   bool
	suppressed bool
}

// suppress applies disclosure control to the cells of one indicator, all
// with the same number of dimensions:
//
//  1. primary suppression: a cell built from fewer than minCount units, or
//     from an unknown number, is suppressed;
//  2. secondary suppression along every line (cells that share all their
//     coordinates but one): a line never holds exactly one suppressed cell,
//     so that no suppressed value is its line's total minus the others;
//  3. in every two-dimensional slice, no suppressed cell is left alone on a
//     path of suppressed cells: each lies on a cycle of suppressed cells
//     alternating between rows and columns, or on a path between two lines
//     of one cell (which have no total of their own), so that even with
//     every row and column total published, the suppressed values are not
//     determined (see closeBridges for the cells no suppression protects).
//
// Cells added to the suppression are chosen with the fewest units, to hide
// as little as possible. It returns the number of suppressed cells.
func suppress(cells []*tableCell, minCount int64) int {
	for _, c := range cells {
		if !c.hasCount || c.count < minCount {
			c.suppressed = true
		}
	}
	if len(cells) == 0 {
		return 0
	}
	ndims := len(cells[0].dims)
	for changed := true; changed; {
		changed = false
		for d := 0; d < ndims; d++ {
			// A line: the cells that share every coordinate but d.
			for _, line := range group(cells, d) {
				if secondary(line) {
					changed = true
				}
			}
		}
		for a := 0; a < ndims; a++ {
			for b := a + 1; b < ndims; b++ {
				// A slice: the cells that share every coordinate but a and b.
				for _, slice := range group(cells, a, b) {
					if closeBridges(slice, a, b) {
						changed = true
					}
				}
			}
		}
	}
	n := 0
	for _, c := range cells {
		if c.suppressed {
			n++
		}
	}
	return n
}

// key joins coordinates, leaving out those at the skipped indexes.
func key(dims []string, skip ...int) string {
	var b strings.Builder
	for i, d := range dims {
		skipped := false
		for _, s := range skip {
			skipped = skipped || s == i
		}
		if !skipped {
			b.WriteString(d)
			b.WriteByte(0)
		}
	}
	return b.String()
}

// group gathers the cells that share every coordinate but the free ones,
// in the order of their first cell.
func group(cells []*tableCell, free ...int) [][]*tableCell {
	index := map[string]int{}
	var out [][]*tableCell
	for _, c := range cells {
		k := key(c.dims, free...)
		i, ok := index[k]
		if !ok {
			i = len(out)
			index[k] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], c)
	}
	return out
}

// secondary suppresses the published cell with the fewest units of a line
// that holds exactly one suppressed cell. It reports whether it did.
func secondary(line []*tableCell) bool {
	if len(line) < 2 {
		return false
	}
	var suppressed int
	var smallest *tableCell
	for _, c := range line {
		if c.suppressed {
			suppressed++
		} else if smallest == nil || c.count < smallest.count {
			smallest = c
		}
	}
	if suppressed != 1 || smallest == nil {
		return false
	}
	smallest.suppressed = true
	return true
}

// closeBridges finds, in a slice with rows a and columns b, the suppressed
// cells that lie on no cycle of suppressed cells (bridges of the bipartite
// graph rows-columns whose edges are the suppressed cells, the lines of
// one cell merged into one free vertex: they have no total of their own),
// and suppresses, for each, the published cells of the cheapest path that
// closes a cycle through it: in a full table, the three other corners of a
// rectangle; in a sparse one, a longer way round, or a way to another line
// without a total. It reports whether it suppressed any cell.
//
// A cell that no path closes (its row and column are joined through it
// alone) follows from the line totals whatever else is hidden: it stays
// suppressed, but only keeping those totals unpublished protects it.
func closeBridges(slice []*tableCell, a, b int) bool {
	g := newSliceGraph(slice, a, b)
	for _, br := range g.bridges() {
		path, ok := g.cheapestPath(br)
		if !ok {
			continue
		}
		for _, k := range path {
			k.suppressed = true
		}
		// The graph changed: find the bridges again on the next pass.
		return true
	}
	return false
}

// sliceGraph is a two-dimensional slice as a graph: a vertex per row
// (dimension a) and column (dimension b), the lines of one cell merged
// into the vertex "free", and an edge per cell.
type sliceGraph struct {
	slice []*tableCell
	ends  [][2]string // of each cell of slice
}

func newSliceGraph(slice []*tableCell, a, b int) *sliceGraph {
	size := map[string]int{}
	for _, c := range slice {
		size["r"+c.dims[a]]++
		size["c"+c.dims[b]]++
	}
	vertex := func(v string) string {
		if size[v] < 2 {
			return "free"
		}
		return v
	}
	g := &sliceGraph{slice: slice, ends: make([][2]string, len(slice))}
	for i, c := range slice {
		g.ends[i] = [2]string{vertex("r" + c.dims[a]), vertex("c" + c.dims[b])}
	}
	return g
}

// cheapestPath returns the published cells of the cheapest path between
// the two ends of cell br that does not use br: suppressed cells cost
// nothing, a published cell its units plus one. ok is false when there is
// no such path.
func (g *sliceGraph) cheapestPath(br *tableCell) (path []*tableCell, ok bool) {
	var from, to string
	adj := map[string][]int{}
	for i, c := range g.slice {
		u, v := g.ends[i][0], g.ends[i][1]
		if c == br {
			from, to = u, v
			continue
		}
		if u != v {
			adj[u] = append(adj[u], i)
			adj[v] = append(adj[v], i)
		}
	}
	// Dijkstra; slices hold at most a few hundred cells.
	dist := map[string]int64{from: 0}
	via := map[string]int{}
	done := map[string]bool{}
	for {
		cur, best := "", int64(-1)
		for v, d := range dist {
			if !done[v] && (best < 0 || d < best || d == best && v < cur) {
				cur, best = v, d
			}
		}
		if best < 0 {
			return nil, false
		}
		if cur == to {
			break
		}
		done[cur] = true
		for _, i := range adj[cur] {
			next := g.ends[i][0]
			if next == cur {
				next = g.ends[i][1]
			}
			cost := int64(0)
			if c := g.slice[i]; !c.suppressed {
				cost = c.count + 1
			}
			if d, seen := dist[next]; !done[next] && (!seen || best+cost < d) {
				dist[next], via[next] = best+cost, i
			}
		}
	}
	for v := to; v != from; {
		i := via[v]
		if c := g.slice[i]; !c.suppressed {
			path = append(path, c)
		}
		if v == g.ends[i][0] {
			v = g.ends[i][1]
		} else {
			v = g.ends[i][0]
		}
	}
	return path, true
}

// bridges returns the suppressed cells that are bridges of the graph of
// the suppressed cells: those on no cycle, whose value the line totals
// give.
func (g *sliceGraph) bridges() []*tableCell {
	type edge struct {
		to   string
		cell *tableCell
	}
	adj := map[string][]edge{}
	var order []string
	for i, c := range g.slice {
		if !c.suppressed {
			continue
		}
		r, col := g.ends[i][0], g.ends[i][1]
		if r == col {
			continue // both lines free: nothing constrains the cell
		}
		for _, v := range []string{r, col} {
			if _, ok := adj[v]; !ok {
				order = append(order, v)
			}
		}
		adj[r] = append(adj[r], edge{col, c})
		adj[col] = append(adj[col], edge{r, c})
	}
	disc, low := map[string]int{}, map[string]int{}
	var out []*tableCell
	t := 0
	var dfs func(v string, via *tableCell)
	dfs = func(v string, via *tableCell) {
		t++
		disc[v], low[v] = t, t
		for _, e := range adj[v] {
			if e.cell == via {
				continue
			}
			if disc[e.to] == 0 {
				dfs(e.to, e.cell)
				low[v] = min(low[v], low[e.to])
				if low[e.to] > disc[v] {
					out = append(out, e.cell)
				}
			} else {
				low[v] = min(low[v], disc[e.to])
			}
		}
	}
	for _, v := range order {
		if disc[v] == 0 {
			dfs(v, nil)
		}
	}
	return out
}
