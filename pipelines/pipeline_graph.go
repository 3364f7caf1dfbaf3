package pipelines

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/datalab/datalab/catalog"
)

// depGraph is the dependency graph of what the workspace runs: a dataset
// feeds the pipelines and projects that read it, a pipeline feeds the
// dataset it writes.
type depGraph struct {
	nodes []catalog.Node
	next  map[catalog.Node][]catalog.Node
}

func newDepGraph() *depGraph { return &depGraph{next: map[catalog.Node][]catalog.Node{}} }

func (g *depGraph) node(n catalog.Node) {
	if _, ok := g.next[n]; !ok {
		g.next[n] = nil
		g.nodes = append(g.nodes, n)
	}
}

func (g *depGraph) edge(from, to catalog.Node) {
	g.node(from)
	g.node(to)
	if !slices.Contains(g.next[from], to) {
		g.next[from] = append(g.next[from], to)
	}
}

// addPipeline adds a pipeline's edges: its inputs to it, it to its output.
func (g *depGraph) addPipeline(name string, inputs []string, output string) {
	node := catalog.NewNode(catalog.KindPipeline, name)
	for _, in := range inputs {
		g.edge(catalog.DatasetNode(in), node)
	}
	g.edge(node, catalog.DatasetNode(output))
}

// order returns the nodes in dependency order, each after everything it
// depends on, ties in name order; or, when there is a cycle, an error that
// shows it.
func (g *depGraph) order() ([]catalog.Node, error) {
	indegree := map[catalog.Node]int{}
	for _, n := range g.nodes {
		for _, m := range g.next[n] {
			indegree[m]++
		}
	}
	var ready, out []catalog.Node
	for _, n := range g.nodes {
		if indegree[n] == 0 {
			ready = append(ready, n)
		}
	}
	for len(ready) > 0 {
		slices.Sort(ready)
		n := ready[0]
		ready = ready[1:]
		out = append(out, n)
		for _, m := range g.next[n] {
			if indegree[m]--; indegree[m] == 0 {
				ready = append(ready, m)
			}
		}
	}
	if len(out) < len(g.nodes) {
		return nil, fmt.Errorf("%w: the pipelines form a cycle: %s; a pipeline may not read, even through others, what it writes", ErrInvalid, g.cycleText())
	}
	return out, nil
}

// cycleText finds a cycle and writes it "a -> b -> a".
func (g *depGraph) cycleText() string {
	const (
		unseen = iota
		open
		done
	)
	state := map[catalog.Node]int{}
	var stack []catalog.Node
	var found []catalog.Node
	var visit func(n catalog.Node) bool
	visit = func(n catalog.Node) bool {
		state[n] = open
		stack = append(stack, n)
		for _, m := range g.next[n] {
			switch state[m] {
			case open:
				i := slices.Index(stack, m)
				found = append(slices.Clone(stack[i:]), m)
				return true
			case unseen:
				if visit(m) {
					return true
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[n] = done
		return false
	}
	nodes := slices.Clone(g.nodes)
	slices.Sort(nodes)
	for _, n := range nodes {
		if state[n] == unseen && visit(n) {
			break
		}
	}
	parts := make([]string, len(found))
	for i, n := range found {
		parts[i] = string(n)
	}
	return strings.Join(parts, " -> ")
}

// pipelineGraph returns the graph of the pipelines: those added to the
// workspace, with p in place of the one of its name, and those the catalog
// knows from the outputs it holds (a pipeline of another program, or not
// added yet).
func (w *Workspace) pipelineGraph(ctx context.Context, p *Pipeline) (*depGraph, error) {
	g := newDepGraph()
	ds, err := w.Catalog.Datasets(ctx)
	if err != nil {
		return nil, err
	}
	w.pmu.RLock()
	added := map[string]Pipeline{}
	for name, q := range w.pipelines {
		added[name] = q.Pipeline
	}
	w.pmu.RUnlock()
	if p != nil {
		added[p.Name] = *p
	}
	for _, d := range ds {
		o := pipelineOptions(d)
		if o.Pipeline == "" {
			continue
		}
		if _, ok := added[o.Pipeline]; !ok {
			g.addPipeline(o.Pipeline, o.Inputs, d.ID)
		}
	}
	for _, q := range added {
		g.addPipeline(q.Name, q.Inputs, q.Output.ID)
	}
	return g, nil
}

// checkCycles refuses a pipeline that would close a cycle. Projects only
// read datasets and write files, never a dataset: they cannot close one.
func (w *Workspace) checkCycles(ctx context.Context, p Pipeline) error {
	g, err := w.pipelineGraph(ctx, &p)
	if err != nil {
		return err
	}
	if _, err := g.order(); err != nil {
		return fmt.Errorf("pipeline %s: field Inputs: %w", p.Name, err)
	}
	return nil
}
