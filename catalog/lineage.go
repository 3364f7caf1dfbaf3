package catalog

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Node is a vertex of the lineage graph, written "<kind>:<name>":
// source:<location>, dataset:<id>, cell:<project>/<notebook>/<cell>,
// indicator:<project>/<id>, output:<path>, pipeline:<name>.
type Node string

// The kinds of lineage nodes.
const (
	KindSource    = "source"
	KindDataset   = "dataset"
	KindPipeline  = "pipeline"
	KindCell      = "cell"
	KindIndicator = "indicator"
	KindOutput    = "output"
)

// NewNode returns the node of that kind and name.
func NewNode(kind, name string) Node { return Node(kind + ":" + name) }

// DatasetNode returns a dataset's node.
func DatasetNode(id string) Node { return NewNode(KindDataset, id) }

// Kind returns the node's kind, the part before the first colon.
func (n Node) Kind() string { k, _, _ := strings.Cut(string(n), ":"); return k }

// Name returns the node's name, the part after the first colon.
func (n Node) Name() string { _, name, _ := strings.Cut(string(n), ":"); return name }

// Edge says that To was made from From, during the load or run that
// Snapshot names (0 when none).
type Edge struct {
	From, To Node
	// Kind says how: "ingest", "reads", "computes", "writes", ...
	Kind       string    `json:"kind"`
	Snapshot   int64     `json:"snapshot,omitempty"`
	RecordedAt time.Time `json:"recorded_at,omitzero"`
}

// AddEdges records lineage edges.
func (s *Store) AddEdges(ctx context.Context, edges ...Edge) error {
	now := time.Now().UTC()
	for _, e := range edges {
		if e.From == "" || e.To == "" {
			return fmt.Errorf("catalog: lineage edge %q -> %q: both ends are needed", e.From, e.To)
		}
		var snap any
		if e.Snapshot != 0 {
			snap = e.Snapshot
		}
		if _, err := s.q.ExecContext(ctx, `INSERT INTO datalab.lineage (src, dst, kind, snapshot, recorded_at) VALUES (?, ?, ?, ?, ?)`,
			string(e.From), string(e.To), e.Kind, snap, now); err != nil {
			return fmt.Errorf("catalog: lineage edge %s -> %s: %w", e.From, e.To, err)
		}
	}
	return nil
}

// Direction says which way Lineage walks the graph.
type Direction int

// The directions.
const (
	// Upstream walks to what a node comes from.
	Upstream Direction = iota
	// Downstream walks to what a node feeds.
	Downstream
)

// Lineage returns the edges reachable from node in that direction, each
// edge once, keeping for each pair of nodes the latest recorded edge. The
// error wraps ErrNotFound when the node has no edge at all.
func (s *Store) Lineage(ctx context.Context, node Node, dir Direction) ([]Edge, error) {
	near, far := "dst", "src"
	if dir == Downstream {
		near, far = "src", "dst"
	}
	var known int
	if err := s.q.QueryRowContext(ctx, `SELECT count(*) FROM datalab.lineage WHERE src = ? OR dst = ?`,
		string(node), string(node)).Scan(&known); err != nil {
		return nil, fmt.Errorf("catalog: lineage of %s: %w", node, err)
	}
	if known == 0 {
		return nil, fmt.Errorf("lineage of %s: %w; name a node as kind:name, e.g. dataset:drees.ivg_mineures", node, ErrNotFound)
	}
	// The latest edge of each pair, then a walk that stops at visited nodes.
	q := fmt.Sprintf(`WITH RECURSIVE latest AS (
			SELECT src, dst, arg_max(kind, id) AS kind, arg_max(snapshot, id) AS snapshot,
			       max(recorded_at) AS recorded_at
			FROM datalab.lineage GROUP BY src, dst),
		walk(node) AS (
			SELECT ?::VARCHAR
			UNION
			SELECT l.%[2]s FROM latest l JOIN walk w ON l.%[1]s = w.node)
		SELECT DISTINCT l.src, l.dst, l.kind, coalesce(l.snapshot, 0), l.recorded_at
		FROM latest l JOIN walk w ON l.%[1]s = w.node
		ORDER BY l.src, l.dst`, near, far)
	rows, err := s.q.QueryContext(ctx, q, string(node))
	if err != nil {
		return nil, fmt.Errorf("catalog: lineage of %s: %w", node, err)
	}
	return scanEdges(rows)
}

// Graph returns the lineage around node, both ways. The error wraps
// ErrNotFound when the node has no edge.
func (s *Store) Graph(ctx context.Context, node Node) (Graph, error) {
	up, err := s.Lineage(ctx, node, Upstream)
	if err != nil {
		return Graph{}, err
	}
	down, err := s.Lineage(ctx, node, Downstream)
	if err != nil {
		return Graph{}, err
	}
	return Graph{Node: node, Upstream: up, Downstream: down}, nil
}

// scanEdges reads rows of src, dst, kind, snapshot and recorded_at as
// edges, and closes rows.
func scanEdges(rows *sql.Rows) ([]Edge, error) {
	defer rows.Close()
	var out []Edge
	for rows.Next() {
		var e Edge
		var from, to string
		if err := rows.Scan(&from, &to, &e.Kind, &e.Snapshot, &e.RecordedAt); err != nil {
			return nil, fmt.Errorf("catalog: read lineage: %w", err)
		}
		e.From, e.To = Node(from), Node(to)
		out = append(out, e)
	}
	return out, rows.Err()
}
