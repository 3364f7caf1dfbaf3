//go:build duckdb_arrow

package mysql_test

import (
	"database/sql"
	"fmt"
	"testing"

	"github.com/datalab/datalab/catalog"
	"github.com/datalab/datalab/connectors/mysql"
	"github.com/datalab/datalab/pipelines/pipelinetest"
)

// TestMySQLTypesInDuckDB ingests the table of every type through the
// pipelines into a real DuckDB warehouse: DuckDB's Arrow bridge must take
// each Arrow type the connector makes, and keep the values.
func TestMySQLTypesInDuckDB(t *testing.T) {
	db := admin(t)
	database := newDatabase(t, db)
	exec(t, db, createTypes(database))

	ws := pipelinetest.Open(t, "mysql", mysql.New)
	registration := fmt.Sprintf(`id: lab.mysql_types
title: Every MySQL type
publisher: Lab
access: restricted
source:
  kind: mysql
  url: %s
  table: %s.types
`, testURL(), database)
	pipelinetest.Register(t, ws, "types.yaml", registration)
	snap, err := pipelinetest.Ingest(t, ws, "lab.mysql_types")
	if err != nil {
		t.Fatal(err)
	}
	if snap.Status != catalog.Succeeded || snap.Rows != 3 || snap.Location != "mysql://127.0.0.1:3306/"+database+"/types" {
		t.Errorf("snapshot: %+v", snap)
	}

	want := []struct{ column, typ, value string }{
		{"id", "BIGINT", "1"},
		{"b", "BOOLEAN", "true"},
		{"bo", "BOOLEAN", "false"},
		{"bt1", "BOOLEAN", "true"},
		{"ti", "BIGINT", "-128"},
		{"si", "BIGINT", "-32768"},
		{"mi", "BIGINT", "-8388608"},
		{"i", "BIGINT", "-2147483648"},
		{"bi", "BIGINT", "-9223372036854775808"},
		{"uti", "BIGINT", "255"},
		{"ui", "BIGINT", "4294967295"},
		{"ubi", "UBIGINT", "18446744073709551615"},
		{"yr", "BIGINT", "2024"},
		{"bits", "UBIGINT", "2730"},
		{"dec", "DECIMAL(12,2)", "1234567890.12"},
		{"udec", "DECIMAL(5,2)", "999.99"},
		{"bigdec", "DOUBLE", "1.2345678901234568e+43"},
		{"f", "FLOAT", "1.5"},
		{"d", "DOUBLE", "-2.25e-300"},
		{"vc", "VARCHAR", `héllo "wörld"`},
		{"ch", "VARCHAR", "ab"},
		{"tx", "VARCHAR", "texte long"},
		{"en", "VARCHAR", "b"},
		{"st", "VARCHAR", "x,y"},
		{"j", "VARCHAR", `{"a": [1, 2]}`},
		{"tm", "VARCHAR", "12:34:56"},
		{"dt", "DATE", "1969-07-20"},
		{"dtm", "TIMESTAMP", "2024-02-29 23:59:59.123456"},
		{"ts", "TIMESTAMP", "2024-03-01 10:00:00.654321"},
		{"bl", "BLOB", `\x00\xFF\x00`},
		{"vb", "BLOB", `\x01\x02`},
	}
	if len(snap.Columns) != len(want) {
		t.Fatalf("columns: %v", snap.Columns)
	}
	for i, w := range want {
		c := snap.Columns[i]
		// dec_ is named dec in the warehouse.
		if c.Name != w.column || c.Type != w.typ {
			t.Errorf("column %d: %s %s, want %s %s", i, c.Name, c.Type, w.column, w.typ)
			continue
		}
		var got, null sql.NullString
		q := fmt.Sprintf(`SELECT (SELECT CAST(%[1]q AS VARCHAR) FROM lab.mysql_types WHERE id = 1), (SELECT CAST(%[1]q AS VARCHAR) FROM lab.mysql_types WHERE id = 2)`, w.column)
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
