//go:build duckdb_arrow

package csv_test

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/duckdb/duckdb-go/v2"

	"github.com/datalab/datalab/connectors"
	"github.com/datalab/datalab/connectors/csv"
)

// loadDuckDB streams src into the table t of a fresh in-memory DuckDB,
// through DuckDB's Arrow scan, as the ingest does. It checks that every
// Arrow buffer is freed once DuckDB is done.
func loadDuckDB(t *testing.T, src connectors.Source) *sql.DB {
	t.Helper()
	ctx := context.Background()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	st, err := src.Open(ctx, connectors.OpenOptions{Allocator: mem, BatchRows: 1000})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	err = conn.Raw(func(dc any) error {
		ar, err := duckdb.NewArrowFromConn(dc.(driver.Conn))
		if err != nil {
			return err
		}
		release, err := ar.RegisterView(st, "v")
		if err != nil {
			return err
		}
		defer release()
		_, err = dc.(driver.ExecerContext).ExecContext(ctx, "CREATE TABLE t AS SELECT * FROM v", nil)
		return err
	})
	if err != nil {
		t.Fatalf("load into DuckDB: %v", err)
	}
	if err := st.Err(); err != nil {
		t.Fatalf("stream: %v", err)
	}
	st.Release()
	mem.AssertSize(t, 0)
	return db
}

// dataLines counts the lines of a file after its header (none of the real
// files has a line break inside quotes).
func dataLines(t *testing.T, path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := bytes.Count(b, []byte("\n"))
	if len(b) > 0 && b[len(b)-1] != '\n' {
		n++
	}
	return int64(n - 1)
}

// TestRealData ingests every real file into DuckDB and checks, by queries,
// the types and values a user would look at.
func TestRealData(t *testing.T) {
	type check struct {
		query string
		want  any
	}
	cases := []struct {
		file   string
		rows   int64
		checks []check
	}{
		{"drees-donnees_feuil4.csv", 1053, []check{ // ISO-8859-1, decimal comma
			{"SELECT typeof(part_age_inf18) FROM t LIMIT 1", "DOUBLE"},
			{"SELECT part_age_inf18 FROM t WHERE zone_geo = 'Ain' AND annee = 2024", 2.5},
			{"SELECT count(*) FROM t WHERE zone_geo = 'Ain'", int64(9)},
			{"SELECT part_age_inc FROM t WHERE zone_geo = 'Ardèche' AND annee = 2024", 1.6},
			{"SELECT typeof(annee) FROM t LIMIT 1", "BIGINT"},
			{"SELECT count(*) FROM t WHERE zone_geo LIKE '%Côte d''Azur'", int64(9)},
		}},
		{"drees-donnees_feuil7.csv", 1054, []check{ // many empty cells, a last line of empty fields
			{"SELECT typeof(cab_mg) FROM t LIMIT 1", "BIGINT"},
			{"SELECT cab_go IS NULL FROM t WHERE zone_geo = 'Ain' AND annee = 2024", true},
			{"SELECT cab_mg FROM t WHERE zone_geo = 'Ain' AND annee = 2024", int64(7)},
			{"SELECT count(*) FROM t WHERE zone_geo IS NULL AND annee IS NULL", int64(1)},
		}},
		{"culture-musees.csv", 1221, []check{ // UTF-8 BOM, CRLF, decimal comma, quoted ';'
			{"SELECT typeof(code_postal) FROM t LIMIT 1", "VARCHAR"},
			{"SELECT code_postal FROM t WHERE identifiant_museofile = 'M0967'", "01260"},
			{"SELECT typeof(latitude) FROM t LIMIT 1", "DOUBLE"},
			{"SELECT latitude FROM t WHERE identifiant_museofile = 'M0967'", 45.930633},
			{"SELECT longitude FROM t WHERE identifiant_museofile = 'M0198'", -4.006272428689588}, // written with a '.'
			{"SELECT ref_deps FROM t WHERE identifiant_museofile = 'M0967'", "0121801"},
			{"SELECT lieu FROM t WHERE identifiant_museofile = 'M1025'", "Puits Couriot / Parc-Musée de la Mine ; Parc Joseph Sanguedolce"},
			{"SELECT nom_officiel_du_musee FROM t WHERE identifiant_museofile = 'M1080'", `musée "Au fil du papier"`},
			{"SELECT lieu IS NULL FROM t WHERE identifiant_museofile = 'M0967'", true},
		}},
		{"covid-indicateurs-dep.csv", 101, []check{ // Windows-1252, every field quoted, NA
			{"SELECT typeof(departement) FROM t LIMIT 1", "VARCHAR"},
			{"SELECT departement FROM t LIMIT 1", "01"},
			{"SELECT libelle_reg FROM t WHERE departement = '01'", "Auvergne Rhône Alpes"},
			{"SELECT typeof(r) FROM t LIMIT 1", "DOUBLE"},
			{"SELECT r IS NULL FROM t WHERE departement = '971'", true},
			{"SELECT count(*) FROM t WHERE r IS NULL", int64(3)},
			{"SELECT libelle_dep FROM t WHERE departement = '971'", "Guadeloupe "}, // trailing space kept
			{"SELECT r_couleur IS NULL FROM t WHERE departement = '971'", true},
			{"SELECT tx_pos FROM t WHERE departement = '01'", 1.07655502392344},
		}},
		{"cog-depts2018.txt", 101, []check{ // tab, Windows-1252, CRLF
			{"SELECT nccenr FROM t WHERE dep = '07'", "Ardèche"},
			{"SELECT typeof(dep) FROM t LIMIT 1", "VARCHAR"},
			{"SELECT count(*) FROM t WHERE nccenr LIKE '%\r%'", int64(0)},
		}},
		{"cog-departements.csv", 101, []check{ // codes with leading zeros and letters
			{"SELECT typeof(dep) FROM t LIMIT 1", "VARCHAR"},
			{"SELECT string_agg(dep, ',' ORDER BY dep) FROM t WHERE dep IN ('01', '2A', '971')", "01,2A,971"},
			{"SELECT libelle FROM t WHERE dep = '2A'", "Corse-du-Sud"},
			{"SELECT typeof(cheflieu) FROM t LIMIT 1", "VARCHAR"},
		}},
		{"cog-regions.csv", 18, []check{
			{"SELECT reg FROM t WHERE libelle = 'Guadeloupe'", "01"},
			{"SELECT libelle FROM t WHERE reg = '04'", "La Réunion"},
		}},
		{"cog-donnees_communes.csv", 34900, []check{ // CRLF, 34,900 communes
			{"SELECT typeof(com) FROM t LIMIT 1", "VARCHAR"},
			{"SELECT typeof(ptot) FROM t LIMIT 1", "BIGINT"},
			{"SELECT ptot FROM t WHERE com = '01001'", int64(876)},
			{"SELECT commune FROM t WHERE com = '01001'", "L'Abergement-Clémenciat"},
			{"SELECT count(DISTINCT com) FROM t", int64(34900)},
			{"SELECT sum(ptot) > 60000000 FROM t", true},
		}},
		{"drees-er-ivg-graf1-sept-2024.csv", 34, []check{ // BOM, empty cells, unsorted years
			{"SELECT column_name FROM (DESCRIBE t) LIMIT 1", "annees"},
			{"SELECT total_ivg_sans_reprises IS NULL FROM t WHERE annees = 2013", true},
			{"SELECT total_ivg_sans_reprises FROM t WHERE annees = 2019", int64(225944)},
			{"SELECT ratio_d_avortement_brut FROM t WHERE annees = 2013", 0.2822},
			{"SELECT typeof(ratio_d_avortement_sans_reprises) FROM t LIMIT 1", "DOUBLE"},
		}},
	}
	seen := map[string]bool{}
	for _, c := range cases {
		seen[c.file] = true
		t.Run(c.file, func(t *testing.T) {
			path := filepath.Join(realdata, c.file)
			src, err := csv.New(connectors.Spec{Kind: "csv", Options: []byte("url: " + c.file), Dir: realdata})
			if err != nil {
				t.Fatal(err)
			}
			db := loadDuckDB(t, src)
			var rows int64
			if err := db.QueryRow("SELECT count(*) FROM t").Scan(&rows); err != nil {
				t.Fatal(err)
			}
			if lines := dataLines(t, path); rows != c.rows || rows != lines {
				t.Errorf("%d rows, want %d (data lines of the file: %d)", rows, c.rows, lines)
			}
			for _, ch := range c.checks {
				var got any
				if err := db.QueryRow(ch.query).Scan(&got); err != nil {
					t.Errorf("%s: %v", ch.query, err)
					continue
				}
				if !reflect.DeepEqual(got, ch.want) {
					t.Errorf("%s\n got %#v\nwant %#v", ch.query, got, ch.want)
				}
			}
		})
	}
	// Every real file is covered.
	files, _ := filepath.Glob(filepath.Join(realdata, "*"))
	for _, f := range files {
		if name := filepath.Base(f); name != "README.md" && name[0] != '.' && !seen[name] {
			t.Errorf("%s has no test case", name)
		}
	}
}

// largeFile is a generated file of 2,000,000 rows shared by the ingest
// benchmarks.
func largeFile(b *testing.B) string {
	b.Helper()
	path := filepath.Join(os.TempDir(), "datalab-bench-2000000.csv")
	if _, err := os.Stat(path); err != nil {
		generated := writeLarge(b, b.TempDir(), 2_000_000)
		if err := os.Rename(generated, path); err != nil {
			b.Fatal(err)
		}
	}
	return path
}

// BenchmarkDuckDBReadCSV is the yardstick of ingest speed: DuckDB's own
// read_csv of the 2,000,000-row file into a table.
func BenchmarkDuckDBReadCSV(b *testing.B) {
	path := largeFile(b)
	db, err := sql.Open("duckdb", "")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	for b.Loop() {
		if _, err := db.Exec("CREATE OR REPLACE TABLE t AS SELECT * FROM read_csv('" + path + "')"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIngestDuckDB streams the same file through the connector into a
// DuckDB table, as the ingest does.
func BenchmarkIngestDuckDB(b *testing.B) {
	path := largeFile(b)
	src, err := csv.New(connectors.Spec{Kind: "csv", Options: []byte("url: " + path)})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	for b.Loop() {
		st, err := src.Open(ctx, connectors.OpenOptions{})
		if err != nil {
			b.Fatal(err)
		}
		err = conn.Raw(func(dc any) error {
			ar, err := duckdb.NewArrowFromConn(dc.(driver.Conn))
			if err != nil {
				return err
			}
			release, err := ar.RegisterView(st, "v")
			if err != nil {
				return err
			}
			defer release()
			_, err = dc.(driver.ExecerContext).ExecContext(ctx, "CREATE OR REPLACE TABLE t AS SELECT * FROM v", nil)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		st.Release()
	}
}
