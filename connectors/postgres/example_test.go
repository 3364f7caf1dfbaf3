package postgres_test

import (
	"context"
	"fmt"

	"github.com/datalab/datalab/connectors"
	"github.com/datalab/datalab/connectors/postgres"
)

// ExampleNew builds an incremental source from a registration's source
// block. New does no I/O: the password's variable is read at Open.
func ExampleNew() {
	src, err := postgres.New(connectors.Spec{
		Kind: "postgres",
		Options: []byte(`kind: postgres
url: postgres://datalab@db.example.org:5432/cnaf?sslmode=require
password_env: CNAF_PG_PASSWORD
table: public.allocataires
cursor: updated_at
primary_key: [id]
`),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	inc := src.(connectors.Incremental)
	fmt.Println(src.(*postgres.IncrementalSource).Location())
	fmt.Println(inc.CursorColumn(), inc.PrimaryKey())
	// Output:
	// postgres://db.example.org:5432/cnaf/public.allocataires
	// updated_at [id]
}

// ExampleNew_password shows that a registration cannot hold a password.
func ExampleNew_password() {
	_, err := postgres.New(connectors.Spec{Kind: "postgres", Options: []byte("url: postgres://datalab:secret@db/cnaf\ntable: t")})
	fmt.Println(err)
	// Output:
	// field source.url: the URL holds a password; remove the password from the URL and name an environment variable that holds it: password_env: MY_VARIABLE
}

// Example reads a query's result in batches. It needs a server, hence no
// output to check.
func Example() {
	src, err := postgres.New(connectors.Spec{
		Kind:    "postgres",
		Options: []byte("url: postgres://postgres@127.0.0.1:5432/test?sslmode=disable\nquery: SELECT g AS n, g * 1.5 AS half FROM generate_series(1, 5) AS g"),
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
	for st.Next() {
		rec := st.RecordBatch()
		fmt.Println(rec.NumRows(), "rows:", rec.Column(0), rec.Column(1))
	}
	if err := st.Err(); err != nil {
		fmt.Println(err)
	}
}
