package pipelines

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// A random two-dimensional table of counts (periods x départements), with
// every row and column total assumed published: after suppression no
// published cell has fewer units than the threshold, and no suppressed
// value is determined by the published cells and totals. Full tables, then
// sparse ones, where some combinations have no value at all (no
// application from that département that month) and the totals of the
// lines are over the cells present.
func TestSuppressProperty(t *testing.T) {
	t.Run("full", func(t *testing.T) { suppressProperty(t, 1, false) })
	t.Run("sparse", func(t *testing.T) { suppressProperty(t, 2, true) })
}

func suppressProperty(t *testing.T, stream uint64, sparse bool) {
	const minCount = 11
	for seed := uint64(0); seed < 3000; seed++ {
		rng := rand.New(rand.NewPCG(seed, stream))
		nr, nc := 1+rng.IntN(9), 1+rng.IntN(9)
		absent := 0 // in tenths
		if sparse {
			absent = 2 * rng.IntN(4) // one sparse table in four is full
		}
		grid := make([][]*tableCell, nr)
		var cells []*tableCell
		for r := range grid {
			grid[r] = make([]*tableCell, nc)
			for c := range grid[r] {
				if rng.IntN(10) < absent {
					continue
				}
				n := int64(rng.IntN(40))
				if rng.IntN(3) == 0 {
					n = int64(rng.IntN(minCount))
				}
				cell := &tableCell{dims: []string{fmt.Sprint("p", r), fmt.Sprint("d", c)}, count: n, hasCount: true}
				grid[r][c] = cell
				cells = append(cells, cell)
			}
		}
		// The cells that the totals give whatever is hidden, those that
		// alone join two parts of a sparse table: none in a full one.
		for _, c := range cells {
			c.suppressed = true
		}
		structural := map[[2]int]bool{}
		for _, rc := range determinedCells(grid) {
			structural[rc] = true
		}
		if !sparse && len(structural) > 0 {
			t.Fatalf("seed %d: a full table with cells the totals give", seed)
		}
		for _, c := range cells {
			c.suppressed = false
		}
		suppress(cells, minCount)
		for _, c := range cells {
			if !c.suppressed && c.count < minCount {
				t.Fatalf("seed %d: published cell %v has %d units", seed, c.dims, c.count)
			}
		}
		for _, rc := range determinedCells(grid) {
			if !structural[rc] {
				t.Fatalf("seed %d: suppressed cell %v can be recomputed from the totals:\n%s", seed, rc, show(grid))
			}
		}
	}
}

// A one-dimensional table with its total: a single suppressed cell would be
// the total minus the others.
func TestSuppressOneDimension(t *testing.T) {
	cells := []*tableCell{
		{dims: []string{"01"}, count: 120, hasCount: true},
		{dims: []string{"48"}, count: 4, hasCount: true},
		{dims: []string{"75"}, count: 900, hasCount: true},
		{dims: []string{"2A"}, count: 35, hasCount: true},
	}
	if n := suppress(cells, 11); n != 2 || !cells[1].suppressed || !cells[3].suppressed {
		t.Errorf("suppressed %d: %+v %+v", n, cells[1], cells[3])
	}
	unknown := []*tableCell{{dims: []string{"x"}}, {dims: []string{"y"}, count: 50, hasCount: true}}
	if suppress(unknown, 11); !unknown[0].suppressed {
		t.Error("a cell with an unknown count was published")
	}
}

// determinedCells returns the suppressed cells whose value follows from
// the row and column totals (of lines of two cells or more) and the
// published cells: their unit vector lies in the span of the row and
// column constraints over the suppressed cells.
func determinedCells(grid [][]*tableCell) [][2]int {
	var vars [][2]int
	index := map[[2]int]int{}
	for r := range grid {
		for c := range grid[r] {
			if grid[r][c] != nil && grid[r][c].suppressed {
				index[[2]int{r, c}] = len(vars)
				vars = append(vars, [2]int{r, c})
			}
		}
	}
	if len(vars) == 0 {
		return nil
	}
	// The total of a line of one cell is that cell: only longer lines have
	// a total of their own.
	present := func(cells ...*tableCell) int {
		n := 0
		for _, c := range cells {
			if c != nil {
				n++
			}
		}
		return n
	}
	var eqs [][]float64
	for r := range grid {
		if present(grid[r]...) < 2 {
			continue
		}
		eq := make([]float64, len(vars))
		for c := range grid[r] {
			if i, ok := index[[2]int{r, c}]; ok {
				eq[i] = 1
			}
		}
		eqs = append(eqs, eq)
	}
	for c := range grid[0] {
		var col []*tableCell
		for r := range grid {
			col = append(col, grid[r][c])
		}
		if present(col...) < 2 {
			continue
		}
		eq := make([]float64, len(vars))
		for r := range grid {
			if i, ok := index[[2]int{r, c}]; ok {
				eq[i] = 1
			}
		}
		eqs = append(eqs, eq)
	}
	base := rank(eqs)
	var out [][2]int
	for i, v := range vars {
		unit := make([]float64, len(vars))
		unit[i] = 1
		if rank(append(clone(eqs), unit)) == base {
			out = append(out, v)
		}
	}
	return out
}

func clone(m [][]float64) [][]float64 {
	out := make([][]float64, len(m))
	for i := range m {
		out[i] = append([]float64(nil), m[i]...)
	}
	return out
}

// rank computes a matrix's rank by Gaussian elimination (it changes m).
func rank(m [][]float64) int {
	r := 0
	for c := 0; len(m) > 0 && c < len(m[0]); c++ {
		p := -1
		for i := r; i < len(m); i++ {
			if math.Abs(m[i][c]) > 1e-9 {
				p = i
				break
			}
		}
		if p < 0 {
			continue
		}
		m[r], m[p] = m[p], m[r]
		for i := range m {
			if i != r && math.Abs(m[i][c]) > 1e-9 {
				f := m[i][c] / m[r][c]
				for j := c; j < len(m[i]); j++ {
					m[i][j] -= f * m[r][j]
				}
			}
		}
		r++
	}
	return r
}

func show(grid [][]*tableCell) string {
	s := ""
	for _, row := range grid {
		for _, c := range row {
			if c == nil {
				s += "    . "
				continue
			}
			mark := " "
			if c.suppressed {
				mark = "*"
			}
			s += fmt.Sprintf("%4d%s", c.count, mark)
		}
		s += "\n"
	}
	return s
}
