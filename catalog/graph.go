package catalog

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Graph is the lineage around one node: what it comes from and what it
// feeds.
type Graph struct {
	Node       Node   `json:"node"`
	Upstream   []Edge `json:"upstream"`
	Downstream []Edge `json:"downstream"`
}

// Edges returns every edge of the graph once, upstream first.
func (g Graph) Edges() []Edge {
	out := slices.Clone(g.Upstream)
	for _, e := range g.Downstream {
		if !slices.ContainsFunc(out, func(o Edge) bool { return o.From == e.From && o.To == e.To }) {
			out = append(out, e)
		}
	}
	return out
}

// nodes returns the graph's nodes in a stable order: the node first.
func (g Graph) nodes() []Node {
	nodes := []Node{g.Node}
	for _, e := range g.Edges() {
		for _, n := range []Node{e.From, e.To} {
			if !slices.Contains(nodes, n) {
				nodes = append(nodes, n)
			}
		}
	}
	return nodes
}

// WriteText writes the graph for a terminal: one edge a line, upstream then
// downstream.
func (g Graph) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", g.Node)
	section := func(title string, edges []Edge) {
		fmt.Fprintf(&b, "\n%s:\n", title)
		if len(edges) == 0 {
			b.WriteString("  (none)\n")
		}
		for _, e := range edges {
			fmt.Fprintf(&b, "  %s -> %s  (%s", e.From, e.To, e.Kind)
			if e.Snapshot != 0 {
				fmt.Fprintf(&b, ", snapshot %d", e.Snapshot)
			}
			b.WriteString(")\n")
		}
	}
	section("comes from", g.Upstream)
	section("feeds", g.Downstream)
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the graph as indented JSON.
func (g Graph) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(g)
}

// WriteDOT writes the graph in Graphviz's DOT language.
func (g Graph) WriteDOT(w io.Writer) error {
	var b strings.Builder
	b.WriteString("digraph lineage {\n  rankdir=LR;\n  node [shape=box, fontname=\"sans-serif\"];\n")
	for i, n := range g.nodes() {
		style := ""
		if n == g.Node {
			style = ", style=bold"
		}
		fmt.Fprintf(&b, "  n%d [label=%s%s];\n", i, dotQuote(n.Kind()+"\n"+n.Name()), style)
	}
	index := g.index()
	for _, e := range g.Edges() {
		fmt.Fprintf(&b, "  n%d -> n%d [label=%s];\n", index[e.From], index[e.To], dotQuote(e.Kind))
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteMermaid writes the graph as a Mermaid flowchart.
func (g Graph) WriteMermaid(w io.Writer) error {
	var b strings.Builder
	b.WriteString("flowchart LR\n")
	for i, n := range g.nodes() {
		fmt.Fprintf(&b, "  n%d[\"%s<br/>%s\"]\n", i, mermaidEscape(n.Kind()), mermaidEscape(n.Name()))
	}
	index := g.index()
	for _, e := range g.Edges() {
		fmt.Fprintf(&b, "  n%d -->|%s| n%d\n", index[e.From], mermaidEscape(e.Kind), index[e.To])
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (g Graph) index() map[Node]int {
	index := map[Node]int{}
	for i, n := range g.nodes() {
		index[n] = i
	}
	return index
}

func dotQuote(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	s = strings.ReplaceAll(s, `"`, `\"`)
	return `"` + strings.ReplaceAll(s, "\n", `\n`) + `"`
}

func mermaidEscape(s string) string {
	r := strings.NewReplacer(`"`, "#quot;", "|", "#124;", "<", "#lt;", ">", "#gt;")
	return r.Replace(s)
}
