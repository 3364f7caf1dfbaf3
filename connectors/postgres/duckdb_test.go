//go:build duckdb_arrow

package postgres_test

import (
	"database/sql"
	"fmt"
	"testing"

	"github.com/datalab/datalab/catalog"
	"github.com/datalab/datalab/connectors/postgres"
	"github.com/datalab/datalab/pipelines/pipelinetest"
)

// TestPostgresTypesInDuckDB ingests the table of every type through the
// pipelines into a real DuckDB warehouse: DuckDB's Arrow bridge must take
// each Arrow type the connector makes, and keep the values.
func TestPostgresTypesInDuckDB(t *testing.T) {
	conn := admin(t)
	schema := newSchema(t, conn)
	exec(t, conn, createTypes(schema))

	ws := pipelinetest.Open(t, "postgres", postgres.New)
	registration := fmt.Sprintf(`id: lab.pg_types
title: Every PostgreSQL type
publisher: Lab
access: restricted
source:
  kind: postgres
  url: %s
  table: %s.types
`, testURL(), schema)
	pipelinetest.Register(t, ws, "types.yaml", registration)
	snap, err := pipelinetest.Ingest(t, ws, "lab.pg_types")
	if err != nil {
		t.Fatal(err)
	}
	if snap.Status != catalog.Succeeded || snap.Rows != 2 || snap.Location != "postgres://127.0.0.1:5432/test/"+schema+".types" {
		t.Errorf("snapshot: %+v", snap)
	}

	want := []struct{ column, typ, value string }{
		{"id", "INTEGER", "1"},
		{"i2", "SMALLINT", "-32768"},
		{"i4", "INTEGER", "2147483647"},
		{"i8", "BIGINT", "-9223372036854775808"},
		{"f4", "FLOAT", "1.5"},
		{"f8", "DOUBLE", "-2.25e-300"},
		{"num", "DECIMAL(12,2)", "1234567890.12"},
		{"num_neg", "DECIMAL(12,2)", "-0.50"},
		{"num_big", "DECIMAL(38,10)", "1234567890123456789012345678.0123456789"},
		{"num_free", "DOUBLE", "3.141592653589793"},
		{"txt", "VARCHAR", `héllo "wörld"`},
		{"empty", "VARCHAR", ""},
		{"vc", "VARCHAR", "varchar"},
		{"ch", "VARCHAR", "ab   "},
		{"b", "BOOLEAN", "true"},
		{"d", "DATE", "1969-07-20"},
		{"ts", "TIMESTAMP", "2024-02-29 23:59:59.123456"},
		{"tstz", "TIMESTAMP WITH TIME ZONE", "2024-03-01 10:00:00.654321"},
		{"u", "VARCHAR", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
		{"j", "VARCHAR", `{"b": [1, 2], "a": "x"}`},
		{"jb", "VARCHAR", `{"a": "x", "b": [1, 2]}`},
		{"ints", "INTEGER[]", "[1, NULL, 3]"},
		{"texts", "VARCHAR[]", `[a, 'b,c', NULL]`},
		{"nums", "DECIMAL(12,2)[]", "[1.50, -2.00]"},
		{"tstzs", "TIMESTAMP WITH TIME ZONE[]", "['2024-01-01 00:00:00']"},
		{"by", "BLOB", `\x00\xFF\x00`},
		{"iv", "VARCHAR", "1 day 02:03:04"},
		{"mood", "VARCHAR", "happy"},
	}
	if len(snap.Columns) != len(want) {
		t.Fatalf("columns: %v", snap.Columns)
	}
	for i, w := range want {
		c := snap.Columns[i]
		if c.Name != w.column || c.Type != w.typ {
			t.Errorf("column %d: %s %s, want %s %s", i, c.Name, c.Type, w.column, w.typ)
			continue
		}
		// Timestamps with a time zone are compared in UTC, whatever the
		// warehouse's time zone.
		expr := fmt.Sprintf("CAST(%q AS VARCHAR)", w.column)
		switch w.typ {
		case "TIMESTAMP WITH TIME ZONE":
			expr = fmt.Sprintf("CAST(CAST(%q AS TIMESTAMP) AS VARCHAR)", w.column)
		case "TIMESTAMP WITH TIME ZONE[]":
			expr = fmt.Sprintf("CAST(CAST(%q AS TIMESTAMP[]) AS VARCHAR)", w.column)
		}
		var got, null sql.NullString
		q := fmt.Sprintf("SELECT (SELECT %[1]s FROM lab.pg_types WHERE id = 1), (SELECT %[1]s FROM lab.pg_types WHERE id = 2)", expr)
		if err := ws.DB.QueryRow(q).Scan(&got, &null); err != nil {
			t.Errorf("%s: %v", w.column, err)
			continue
		}
		if !got.Valid || got.String != w.value {
			t.Errorf("%s = %q (valid %t), want %q", w.column, got.String, got.Valid, w.value)
		}
		if null.Valid && w.column != "id" {
			t.Errorf("%s of the NULL row = %q, want NULL", w.column, null.String)
		}
	}
}
