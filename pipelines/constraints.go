package pipelines

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/datalab/datalab/catalog"
)

// check is one Table Schema constraint as a SQL predicate that holds for
// the rows that break it.
type check struct {
	field, rule, where string
}

// constraintChecks turns a registration's constraints into predicates over
// numbered, a view of the loaded table with each row's number in the source
// (datalab_row) and its rowid (datalab_rowid).
func constraintChecks(d catalog.Dataset, numbered string) []check {
	if d.Schema == nil {
		return nil
	}
	var checks []check
	for _, f := range d.Schema.Fields {
		c := f.Constraints
		if c == nil {
			continue
		}
		col := quoteIdent(f.Name)
		text := "CAST(" + col + " AS VARCHAR)"
		if c.Required {
			checks = append(checks, check{f.Name, "required", col + " IS NULL"})
		}
		if c.Pattern != "" {
			checks = append(checks, check{f.Name, "pattern " + c.Pattern,
				fmt.Sprintf("%s IS NOT NULL AND NOT regexp_full_match(%s, %s)", col, text, quoteString(c.Pattern))})
		}
		if len(c.Enum) > 0 {
			vals := make([]string, len(c.Enum))
			for i, v := range c.Enum {
				vals[i] = quoteString(v)
			}
			checks = append(checks, check{f.Name, "enum", fmt.Sprintf("%s IS NOT NULL AND %s NOT IN (%s)", col, text, strings.Join(vals, ", "))})
		}
		if c.Minimum != nil {
			checks = append(checks, check{f.Name, "minimum " + strconv.FormatFloat(*c.Minimum, 'g', -1, 64),
				fmt.Sprintf("%s < %s", col, strconv.FormatFloat(*c.Minimum, 'g', -1, 64))})
		}
		if c.Maximum != nil {
			checks = append(checks, check{f.Name, "maximum " + strconv.FormatFloat(*c.Maximum, 'g', -1, 64),
				fmt.Sprintf("%s > %s", col, strconv.FormatFloat(*c.Maximum, 'g', -1, 64))})
		}
		if c.Unique {
			// Every occurrence of a value but the first breaks it.
			checks = append(checks, check{f.Name, "unique", fmt.Sprintf("%s IS NOT NULL AND datalab_row NOT IN (SELECT min(datalab_row) FROM %s GROUP BY %s)", col, numbered, col)})
		}
	}
	return checks
}

// checkConstraints enforces the registration's constraints on the loaded
// (not yet committed) table. Under discard_row, the rows that break one go
// to <table>__rejected with the reason and the row's number in the source,
// and are counted; under the other contracts the first broken constraint
// fails the ingest with examples.
func checkConstraints(ctx context.Context, tx *sql.Tx, d catalog.Dataset, table string) (int64, error) {
	// Row ids follow the insertion order but are not 1, 2, 3...: number them.
	numbered := quoteIdent("datalab_numbered_" + d.SchemaName() + "_" + d.TableName())
	checks := constraintChecks(d, numbered)
	if len(checks) == 0 {
		return 0, nil
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`CREATE OR REPLACE TEMP VIEW %s AS
		SELECT *, rowid AS datalab_rowid, row_number() OVER (ORDER BY rowid) AS datalab_row FROM %s`, numbered, table)); err != nil {
		return 0, fmt.Errorf("number the rows of %s: %w", table, err)
	}
	defer tx.ExecContext(context.WithoutCancel(ctx), "DROP VIEW IF EXISTS "+numbered)
	if d.Contract != catalog.DiscardRow {
		for _, c := range checks {
			var n int64
			var examples sql.NullString
			q := fmt.Sprintf(`SELECT count(*), string_agg(example, ', ') FILTER (WHERE rank <= 3) FROM (
				SELECT datalab_row || coalesce(' (' || CAST(%[1]s AS VARCHAR) || ')', ' (empty)') AS example,
				       row_number() OVER (ORDER BY datalab_row) AS rank
				FROM %[2]s WHERE %[3]s)`, quoteIdent(c.field), numbered, c.where)
			if err := tx.QueryRowContext(ctx, q).Scan(&n, &examples); err != nil {
				return 0, fmt.Errorf("check %s of column %s: %w", c.rule, c.field, err)
			}
			if n > 0 {
				return 0, fmt.Errorf("%w: column %s: %d rows break the constraint %s (rows %s); nothing was written. Fix the source, relax the constraint, or set contract: discard_row to set such rows aside",
					ErrContract, c.field, n, c.rule, examples.String)
			}
		}
		return 0, nil
	}
	var any, reason strings.Builder
	reason.WriteString("CASE")
	for i, c := range checks {
		if i > 0 {
			any.WriteString(" OR ")
		}
		fmt.Fprintf(&any, "(%s)", c.where)
		fmt.Fprintf(&reason, " WHEN %s THEN %s", c.where, quoteString(fmt.Sprintf("column %s breaks %s", c.field, c.rule)))
	}
	reason.WriteString(" END")
	rejected := table[:len(table)-1] + `__rejected"`
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`CREATE OR REPLACE TABLE %s AS
		SELECT * EXCLUDE (datalab_rowid, datalab_row), %s AS rejected_reason, datalab_row AS rejected_row
		FROM %s WHERE %s ORDER BY datalab_row`, rejected, reason.String(), numbered, any.String())); err != nil {
		return 0, fmt.Errorf("set rejected rows aside in %s: %w", rejected, err)
	}
	res, err := tx.ExecContext(ctx, fmt.Sprintf("DELETE FROM %s WHERE rowid IN (SELECT datalab_rowid FROM %s WHERE %s)", table, numbered, any.String()))
	if err != nil {
		return 0, fmt.Errorf("remove rejected rows from %s: %w", table, err)
	}
	return res.RowsAffected()
}

// quoteString quotes a SQL string literal.
func quoteString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
