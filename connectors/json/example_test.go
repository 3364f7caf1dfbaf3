package jsonsrc_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/datalab/datalab/connectors"
	jsonsrc "github.com/datalab/datalab/connectors/json"
)

// Example reads newline-delimited JSON as an API exports it: nested
// objects are flattened into columns, arrays become lists, and types are
// inferred from the records.
func Example() {
	dir, _ := os.MkdirTemp("", "datalab")
	defer os.RemoveAll(dir)
	content := `{"Département": "Ain", "IVG": {"total": 1523, "part mineures": 2.5}, "années": [2023, 2024], "publié": "2024-09-12"}
{"Département": "Aisne", "IVG": {"total": 1290, "part mineures": null}, "années": [2024], "publié": "2024-09-12"}
`
	_ = os.WriteFile(filepath.Join(dir, "ivg.ndjson"), []byte(content), 0o644)

	src, err := jsonsrc.New(connectors.Spec{
		Kind:    "json",
		Options: []byte("kind: json\nurl: ivg.ndjson\n"),
		Dir:     dir,
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
	for _, f := range st.Schema().Fields() {
		title, _ := f.Metadata.GetValue(connectors.TitleKey)
		fmt.Printf("%s %s (%q)\n", f.Name, f.Type, title)
	}
	for st.Next() {
		rec := st.RecordBatch()
		for i := range int(rec.NumRows()) {
			var vals []string
			for j := range int(rec.NumCols()) {
				vals = append(vals, rec.Column(j).ValueStr(i))
			}
			fmt.Println(strings.Join(vals, " "))
		}
	}
	if err := st.Err(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// departement utf8 ("Département")
	// ivg_total int64 ("IVG.total")
	// ivg_part_mineures float64 ("IVG.part mineures")
	// annees list<item: int64, nullable> ("années")
	// publie date32 ("publié")
	// Ain 1523 2.5 [2023,2024] 2024-09-12
	// Aisne 1290 (null) [2024] 2024-09-12
}

// Example_structs keeps nested objects as structs, which DuckDB receives
// as STRUCT columns.
func Example_structs() {
	dir, _ := os.MkdirTemp("", "datalab")
	defer os.RemoveAll(dir)
	content := `[{"commune": {"code": "01001", "nom": "L'Abergement-Clémenciat"}, "population": 776}]`
	_ = os.WriteFile(filepath.Join(dir, "communes.json"), []byte(content), 0o644)

	src, _ := jsonsrc.New(connectors.Spec{Kind: "json", Options: []byte("url: communes.json\nnested: struct"), Dir: dir})
	st, err := src.Open(context.Background(), connectors.OpenOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.Release()
	fmt.Println(st.Schema().Field(0).Type)
	for st.Next() {
		fmt.Println(st.RecordBatch().Column(0).ValueStr(0))
	}
	// Output:
	// struct<code: utf8 nullable, nom: utf8 nullable>
	// {"code":"01001","nom":"L'Abergement-Clémenciat"}
}
