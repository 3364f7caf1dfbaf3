package csv_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/datalab/datalab/connectors"
	"github.com/datalab/datalab/connectors/csv"
)

// Example registers a CSV file as a ministry publishes it (semicolons,
// decimal commas, codes with leading zeros) and reads it in batches.
func Example() {
	dir, _ := os.MkdirTemp("", "datalab")
	defer os.RemoveAll(dir)
	content := "Département;Code;Part des mineures (%)\nAin;01;2,5\nAisne;02;4,5\nAllier;03;NA\n"
	_ = os.WriteFile(filepath.Join(dir, "ivg.csv"), []byte(content), 0o644)

	// The registration's source block, as YAML; the workspace is dir.
	src, err := csv.New(connectors.Spec{
		Kind:    "csv",
		Options: []byte("kind: csv\nurl: ivg.csv\n"),
		Dir:     dir,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	st, err := src.Open(context.Background(), connectors.OpenOptions{BatchRows: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.Release()
	for _, f := range st.Schema().Fields() {
		title, _ := f.Metadata.GetValue(connectors.TitleKey)
		fmt.Printf("%s %s (%q)\n", f.Name, f.Type, title)
	}
	for st.Next() {
		rec := st.RecordBatch()
		zone := rec.Column(0).(*array.String)
		part := rec.Column(2).(*array.Float64)
		for i := range int(rec.NumRows()) {
			if part.IsNull(i) {
				fmt.Printf("%s: -\n", zone.Value(i))
				continue
			}
			fmt.Printf("%s: %.1f\n", zone.Value(i), part.Value(i))
		}
	}
	if err := st.Err(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// departement utf8 ("Département")
	// code utf8 ("Code")
	// part_des_mineures float64 ("Part des mineures (%)")
	// Ain: 2.5
	// Aisne: 4.5
	// Allier: -
}

// ExampleNew shows a registration that forces what detection would guess,
// and declares a column's type and date format.
func ExampleNew() {
	dir, _ := os.MkdirTemp("", "datalab")
	defer os.RemoveAll(dir)
	_ = os.WriteFile(filepath.Join(dir, "depots.csv"), []byte("Dossier|Date de dépôt\n0042|15/03/2024\n"), 0o644)

	src, err := csv.New(connectors.Spec{
		Kind:    "csv",
		Options: []byte(`{kind: csv, url: depots.csv, delimiter: "|", encoding: utf-8}`),
		Dir:     dir,
		Fields: []connectors.Field{
			{Name: "dossier", Type: connectors.TypeInteger},
			{Name: "depot", Title: "Date de dépôt", Type: connectors.TypeDate, Format: "%d/%m/%Y"},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	st, err := src.Open(context.Background(), connectors.OpenOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.Release()
	for st.Next() {
		rec := st.RecordBatch()
		fmt.Println(rec.ColumnName(0), rec.Column(0).ValueStr(0))
		fmt.Println(rec.ColumnName(1), rec.Column(1).ValueStr(0))
	}
	// Output:
	// dossier 42
	// depot 2024-03-15
}

// ExampleNew_badOption shows how a bad registration is refused.
func ExampleNew_badOption() {
	_, err := csv.New(connectors.Spec{Kind: "csv", Options: []byte("url: x.csv\ndelimiter: \":\"\n")})
	fmt.Println(err)
	// Output:
	// field source.delimiter: ":" is not a supported delimiter; use ";", ",", "|" or "tab", or leave it out to detect it
}
