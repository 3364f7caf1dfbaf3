package pipelines

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/datalab/datalab/catalog"
)

// Notebook is a project's notebook: a Markdown file with YAML front matter,
// named SQL cells and indicator blocks, run top to bottom.
type Notebook struct {
	// Project is the project's folder name, Name the file's name without
	// ".md", File its path relative to the workspace.
	Project, Name, File string
	Title               string
	Owner               string
	// Publish is the level its outputs are published at.
	Publish catalog.Level
	// Blocks are the notebook's parts, in order.
	Blocks []Block
	// Hash is "sha256:<hex>" of the file's bytes.
	Hash string
}

// Block is a part of a notebook: Markdown text, a SQL cell or an indicator.
// Exactly one of its fields is set.
type Block struct {
	Text      string
	Cell      *Cell
	Indicator *Indicator
}

// Cell is a named SQL query whose result later cells and indicators read by
// its name.
type Cell struct {
	Name string
	SQL  string
	// Line is the line of its opening fence in the notebook.
	Line int
}

// Indicator is an indicator block: a figure that steering teams follow,
// read from a cell's result.
type Indicator struct {
	ID    string `yaml:"id"`
	Label string `yaml:"label"`
	Unit  string `yaml:"unit"`
	// Description says how to read it.
	Description string `yaml:"description"`
	// From names the cell it reads; Value, Period, By and Count name the
	// cell's columns.
	From   string   `yaml:"from"`
	Value  string   `yaml:"value"`
	Period string   `yaml:"period"`
	By     []string `yaml:"by"`
	// Count is the column of units each value is built from, for disclosure
	// control.
	Count string `yaml:"count"`
	// Direction is "up" when higher is better, "down" when lower is.
	Direction string   `yaml:"direction"`
	Baseline  *float64 `yaml:"baseline"`
	Target    *float64 `yaml:"target"`
	// Line is the line of its opening fence in the notebook.
	Line int `yaml:"-"`
}

// Cells returns the notebook's cells in order.
func (n *Notebook) Cells() []*Cell {
	var cells []*Cell
	for _, b := range n.Blocks {
		if b.Cell != nil {
			cells = append(cells, b.Cell)
		}
	}
	return cells
}

// Indicators returns the notebook's indicators in order.
func (n *Notebook) Indicators() []*Indicator {
	var out []*Indicator
	for _, b := range n.Blocks {
		if b.Indicator != nil {
			out = append(out, b.Indicator)
		}
	}
	return out
}

var (
	identPattern   = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)
	projectPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
	fence          = regexp.MustCompile("^(```+|~~~+)\\s*([^\\s`]*)\\s*(.*)$")
)

// frontMatter is a notebook's YAML header.
type frontMatter struct {
	Title   string `yaml:"title"`
	Owner   string `yaml:"owner"`
	Publish string `yaml:"publish"`
}

// ParseNotebook reads a notebook. file is its path relative to the
// workspace, for errors: every error names the file, the line and what to
// do, and all of them are reported at once.
func ParseNotebook(project, name, file string, data []byte) (*Notebook, error) {
	sum := sha256.Sum256(data)
	nb := &Notebook{Project: project, Name: name, File: file, Hash: "sha256:" + hex.EncodeToString(sum[:])}
	var errs []error
	fail := func(line int, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s:%d: %s: %w", file, line, fmt.Sprintf(format, args...), ErrInvalid))
	}
	lines := splitLines(data)
	i := 0
	if len(lines) > 0 && strings.TrimSpace(lines[0]) == "---" {
		end := slices.IndexFunc(lines[1:], func(l string) bool { return strings.TrimSpace(l) == "---" })
		if end < 0 {
			return nil, fmt.Errorf("%s:1: the front matter has no closing ---: %w", file, ErrInvalid)
		}
		var fm frontMatter
		if err := yaml.UnmarshalWithOptions([]byte(strings.Join(lines[1:end+1], "\n")), &fm, yaml.Strict()); err != nil {
			return nil, fmt.Errorf("%s:2: front matter: %s; the fields are title, owner and publish: %w", file, yaml.FormatError(err, false, false), ErrInvalid)
		}
		nb.Title, nb.Owner = fm.Title, fm.Owner
		if fm.Publish == "" {
			fail(1, "the front matter has no publish level; write publish: public, restricted or non_public")
		} else if lvl, err := catalog.ParseLevel(fm.Publish); err != nil {
			fail(1, "publish: %v", err)
		} else {
			nb.Publish = lvl
		}
		i = end + 2
	} else {
		fail(1, "the notebook has no front matter; start it with ---, title:, publish: <level>, ---")
	}
	if nb.Title == "" {
		nb.Title = name
	}
	var text []string
	flush := func() {
		if t := strings.TrimSpace(strings.Join(text, "\n")); t != "" {
			nb.Blocks = append(nb.Blocks, Block{Text: t})
		}
		text = text[:0]
	}
	names := map[string]int{}
	ids := map[string]int{}
	for i < len(lines) {
		m := fence.FindStringSubmatch(lines[i])
		if m == nil || (m[2] != "sql" && m[2] != "indicator") {
			// Text, including code blocks of other languages.
			if m != nil {
				j := closing(lines, i, m[1])
				text = append(text, lines[i:min(j+1, len(lines))]...)
				i = j + 1
				continue
			}
			text = append(text, lines[i])
			i++
			continue
		}
		start := i + 1 // 1-based line of the fence
		j := closing(lines, i, m[1])
		if j >= len(lines) {
			fail(start, "the %s block is not closed; end it with %s", m[2], m[1])
			break
		}
		body := strings.Join(lines[i+1:j], "\n")
		i = j + 1
		flush()
		switch m[2] {
		case "sql":
			cellName := strings.TrimSpace(m[3])
			switch {
			case cellName == "":
				fail(start, "the SQL cell has no name; write ```sql <name>, e.g. ```sql mensuel")
				continue
			case !identPattern.MatchString(cellName):
				fail(start, "cell name %q is not a lower-case identifier (letters, digits, _)", cellName)
				continue
			case names[cellName] > 0:
				fail(start, "cell %s is already defined at line %d; give each cell its own name", cellName, names[cellName])
				continue
			case strings.TrimSpace(body) == "":
				fail(start, "cell %s is empty; write a SELECT query", cellName)
				continue
			}
			names[cellName] = start
			nb.Blocks = append(nb.Blocks, Block{Cell: &Cell{Name: cellName, SQL: body, Line: start}})
		case "indicator":
			var ind Indicator
			if err := yaml.UnmarshalWithOptions([]byte(body), &ind, yaml.Strict()); err != nil {
				fail(start, "indicator: %s; the fields are id, label, unit, description, from, value, period, by, count, direction, baseline, target", yaml.FormatError(err, false, false))
				continue
			}
			ind.Line = start
			for _, problem := range ind.problems(names) {
				fail(start, "indicator %s: %s", ind.ID, problem)
			}
			if ids[ind.ID] > 0 && ind.ID != "" {
				fail(start, "indicator %s is already defined at line %d", ind.ID, ids[ind.ID])
			}
			ids[ind.ID] = start
			nb.Blocks = append(nb.Blocks, Block{Indicator: &ind})
		}
	}
	flush()
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return nb, nil
}

// problems lists what is wrong with an indicator block, given the cells
// defined before it.
func (ind *Indicator) problems(cells map[string]int) []string {
	var out []string
	if !identPattern.MatchString(ind.ID) {
		out = append(out, fmt.Sprintf("id %q is not a lower-case identifier (letters, digits, _)", ind.ID))
	}
	if ind.Label == "" {
		out = append(out, "no label; write the figure's name for readers")
	}
	if ind.From == "" {
		out = append(out, "no from; name the cell it reads")
	} else if cells[ind.From] == 0 {
		out = append(out, fmt.Sprintf("from: %s is not a cell defined above it", ind.From))
	}
	if ind.Value == "" {
		out = append(out, "no value; name the cell's column that holds the figure")
	}
	switch ind.Direction {
	case "", "up", "down":
	default:
		out = append(out, fmt.Sprintf("direction %q: use up (higher is better) or down (lower is better)", ind.Direction))
	}
	cols := append([]string{ind.Value, ind.Period, ind.Count}, ind.By...)
	for _, c := range cols {
		if c != "" && !identPattern.MatchString(c) {
			out = append(out, fmt.Sprintf("column %q is not a lower-case identifier", c))
		}
	}
	return out
}

// closing returns the index of the line that closes the fence opened at
// lines[i], len(lines) when none does.
func closing(lines []string, i int, marker string) int {
	for j := i + 1; j < len(lines); j++ {
		if strings.HasPrefix(strings.TrimSpace(lines[j]), marker) && strings.Trim(strings.TrimSpace(lines[j]), marker[:1]) == "" {
			return j
		}
	}
	return len(lines)
}

func splitLines(data []byte) []string {
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for sc.Scan() {
		lines = append(lines, strings.TrimSuffix(sc.Text(), "\r"))
	}
	return lines
}
