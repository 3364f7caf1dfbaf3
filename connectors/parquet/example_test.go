package parquet_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/datalab/datalab/connectors"
	"github.com/datalab/datalab/connectors/parquet"
)

// Example registers a Parquet file whose headers are not snake_case, with
// a column the registration's schema reads as a string, and reads it.
func Example() {
	dir, _ := os.MkdirTemp("", "datalab")
	defer os.RemoveAll(dir)
	writeExample(filepath.Join(dir, "communes.parquet"))

	src, err := parquet.New(connectors.Spec{
		Kind:    "parquet",
		Options: []byte("kind: parquet\nurl: communes.parquet\n"),
		Dir:     dir,
		Fields:  []connectors.Field{{Name: "code_insee", Type: connectors.TypeString}},
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
			fmt.Println(rec.Column(0).ValueStr(i), rec.Column(1).ValueStr(i))
		}
	}
	if err := st.Err(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// code_insee utf8 ("Code INSEE")
	// population_totale int64 ("Population totale")
	// 1001 776
	// 1002 248
}

// writeExample writes a small Parquet file with arrow-go's writer.
func writeExample(path string) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "Code INSEE", Type: arrow.PrimitiveTypes.Int32},
		{Name: "Population totale", Type: arrow.PrimitiveTypes.Int64},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	b.Field(0).(*array.Int32Builder).AppendValues([]int32{1001, 1002}, nil)
	b.Field(1).(*array.Int64Builder).AppendValues([]int64{776, 248}, nil)
	rec := b.NewRecordBatch()
	defer rec.Release()
	f, _ := os.Create(path)
	defer f.Close()
	w, _ := pqarrow.NewFileWriter(schema, f, nil, pqarrow.DefaultWriterProps())
	_ = w.Write(rec)
	_ = w.Close()
}
