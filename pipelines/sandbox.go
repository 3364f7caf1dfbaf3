package pipelines

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// safeTableFunctions are the table functions a cell may call: they make
// rows out of their arguments and read nothing.
var safeTableFunctions = []string{"range", "generate_series", "unnest"}

// cellReads is what a cell's query reads: datasets of the catalog (their
// ids) and cells defined before it.
type cellReads struct {
	Datasets []string
	Cells    []string
}

// checkCell parses a cell's query with DuckDB's own parser and checks that
// it is one SELECT that reads only catalog datasets (datasets), earlier
// cells (cells) and its own common table expressions. The error says what
// the cell may not do and what it may.
func checkCell(ctx context.Context, q querier, nb *Notebook, cell *Cell, datasets map[string]bool, cells map[string]bool) (cellReads, error) {
	where := fmt.Sprintf("%s:%d: cell %s", nb.File, cell.Line, cell.Name)
	var raw string
	if err := q.QueryRowContext(ctx, `SELECT CAST(json_serialize_sql(CAST(? AS VARCHAR)) AS VARCHAR)`, cell.SQL).Scan(&raw); err != nil {
		return cellReads{}, fmt.Errorf("%s: %w: %w", where, ErrRefused, err)
	}
	var tree struct {
		Error      bool   `json:"error"`
		Message    string `json:"error_message"`
		Statements []any  `json:"statements"`
	}
	if err := json.Unmarshal([]byte(raw), &tree); err != nil {
		return cellReads{}, fmt.Errorf("%s: read the parsed query: %w", where, err)
	}
	switch {
	case tree.Error && strings.Contains(tree.Message, "Only SELECT"):
		return cellReads{}, fmt.Errorf("%s: %w: a cell is one SELECT query (no COPY, ATTACH, SET, INSTALL, CREATE, INSERT, UPDATE or DELETE): its result is what later cells read by its name", where, ErrRefused)
	case tree.Error:
		return cellReads{}, fmt.Errorf("%s: %w: the SQL does not parse: %s", where, ErrRefused, tree.Message)
	case len(tree.Statements) != 1:
		return cellReads{}, fmt.Errorf("%s: %w: %d statements; a cell is one SELECT query, split it into several cells", where, ErrRefused, len(tree.Statements))
	}
	w := &walker{ctes: map[string]bool{}}
	w.walk(tree.Statements[0])
	var reads cellReads
	var refused []string
	for _, f := range w.functions {
		if !slices.Contains(safeTableFunctions, f) {
			refused = append(refused, fmt.Sprintf("the table function %s (a cell reads only catalog datasets and earlier cells, never files, URLs or the warehouse's internals)", f))
		}
	}
	for _, t := range w.tables {
		switch {
		case t.catalog != "":
			refused = append(refused, fmt.Sprintf("%s.%s.%s (another database)", t.catalog, t.schema, t.name))
		case t.schema == "" && (cells[t.name] || w.ctes[t.name]):
			if cells[t.name] && !w.ctes[t.name] && !slices.Contains(reads.Cells, t.name) {
				reads.Cells = append(reads.Cells, t.name)
			}
		case t.schema != "" && datasets[t.schema+"."+t.name]:
			if id := t.schema + "." + t.name; !slices.Contains(reads.Datasets, id) {
				reads.Datasets = append(reads.Datasets, id)
			}
		case t.schema == "":
			refused = append(refused, fmt.Sprintf("%q, which is neither a cell defined above nor a catalog dataset (name datasets as schema.table)", t.name))
		default:
			refused = append(refused, fmt.Sprintf("%s.%s, which is not a dataset of the catalog (`datalab dataset list` shows them)", t.schema, t.name))
		}
	}
	if len(refused) > 0 {
		return cellReads{}, fmt.Errorf("%s: %w: it reads %s", where, ErrRefused, strings.Join(refused, "; "))
	}
	sort.Strings(reads.Datasets)
	return reads, nil
}

type tableRef struct{ catalog, schema, name string }

// walker collects the tables, table functions and CTE names of a query
// serialised by json_serialize_sql.
type walker struct {
	tables    []tableRef
	functions []string
	ctes      map[string]bool
}

func (w *walker) walk(node any) {
	switch n := node.(type) {
	case []any:
		for _, c := range n {
			w.walk(c)
		}
	case map[string]any:
		switch n["type"] {
		case "BASE_TABLE":
			t := tableRef{}
			t.catalog, _ = n["catalog_name"].(string)
			t.schema, _ = n["schema_name"].(string)
			t.name, _ = n["table_name"].(string)
			w.tables = append(w.tables, t)
		case "TABLE_FUNCTION":
			if f, ok := n["function"].(map[string]any); ok {
				name, _ := f["function_name"].(string)
				w.functions = append(w.functions, strings.ToLower(name))
			}
		}
		if cm, ok := n["cte_map"].(map[string]any); ok {
			if entries, ok := cm["map"].([]any); ok {
				for _, e := range entries {
					if kv, ok := e.(map[string]any); ok {
						if k, ok := kv["key"].(string); ok {
							w.ctes[k] = true
						}
					}
				}
			}
		}
		for _, v := range n {
			w.walk(v)
		}
	}
}
