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
//     alternating between rows and columns, so that even with every row and
//     column total published, the suppressed values are not determined.
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
// graph rows-columns whose edges are the suppressed cells), and suppresses
// the three cells of the cheapest rectangle through each. It reports
// whether it suppressed any cell.
func closeBridges(slice []*tableCell, a, b int) bool {
	at := map[[2]string]*tableCell{}
	var rows, cols []string
	seenR, seenC := map[string]bool{}, map[string]bool{}
	for _, c := range slice {
		r, col := c.dims[a], c.dims[b]
		at[[2]string{r, col}] = c
		if !seenR[r] {
			seenR[r] = true
			rows = append(rows, r)
		}
		if !seenC[col] {
			seenC[col] = true
			cols = append(cols, col)
		}
	}
	if len(rows) < 2 || len(cols) < 2 {
		return false
	}
	changed := false
	for _, br := range bridges(slice, a, b) {
		r, col := br.dims[a], br.dims[b]
		var best [3]*tableCell
		bestCost := int64(-1)
		for _, r2 := range rows {
			if r2 == r {
				continue
			}
			for _, c2 := range cols {
				if c2 == col {
					continue
				}
				corners := [3]*tableCell{at[[2]string{r, c2}], at[[2]string{r2, col}], at[[2]string{r2, c2}]}
				var cost int64
				complete := true
				for _, k := range corners {
					if k == nil {
						complete = false
						break
					}
					if !k.suppressed {
						cost += k.count + 1
					}
				}
				if complete && (bestCost < 0 || cost < bestCost) {
					best, bestCost = corners, cost
				}
			}
		}
		if bestCost < 0 {
			// A sparse slice has no rectangle through this cell: hide the
			// whole row and column of its line instead.
			for _, k := range slice {
				if !k.suppressed && (k.dims[a] == r || k.dims[b] == col) {
					k.suppressed = true
					changed = true
				}
			}
		}
		for _, k := range best {
			if k != nil && !k.suppressed {
				k.suppressed = true
				changed = true
			}
		}
		if changed {
			// The graph changed: find the bridges again on the next pass.
			return true
		}
	}
	return changed
}

// bridges returns the suppressed cells of a slice that are bridges of the
// bipartite graph whose vertices are the rows (dimension a) and columns
// (dimension b) and whose edges are the suppressed cells.
func bridges(slice []*tableCell, a, b int) []*tableCell {
	type edge struct {
		to   string
		cell *tableCell
	}
	// A line of one cell has no total of its own (its total is the cell):
	// it constrains nothing, and all such lines are one free vertex.
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
	adj := map[string][]edge{}
	var order []string
	for _, c := range slice {
		if !c.suppressed {
			continue
		}
		r, col := vertex("r"+c.dims[a]), vertex("c"+c.dims[b])
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
