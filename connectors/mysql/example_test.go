package mysql_test

import (
	"context"
	"fmt"

	"github.com/datalab/datalab/connectors"
	"github.com/datalab/datalab/connectors/mysql"
)

// ExampleNew builds an incremental source from a registration's source
// block. New does no I/O: the password's variable is read at Open.
func ExampleNew() {
	src, err := mysql.New(connectors.Spec{
		Kind: "mysql",
		Options: []byte(`kind: mysql
url: mysql://datalab@db.example.org:3306/aides
password_env: AIDES_MYSQL_PASSWORD
table: demandes
cursor: id
`),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	inc := src.(connectors.Incremental)
	fmt.Println(src.(*mysql.IncrementalSource).Location())
	fmt.Println(inc.CursorColumn(), len(inc.PrimaryKey()))
	// Output:
	// mysql://db.example.org:3306/aides/demandes
	// id 0
}

// ExampleNew_badOption shows how a bad registration is refused.
func ExampleNew_badOption() {
	_, err := mysql.New(connectors.Spec{Kind: "mysql", Options: []byte("url: mysql://root@db/aides\ntable: demandes\nprimary_key: [id]")})
	fmt.Println(err)
	// Output:
	// field source.primary_key: given without source.cursor; name the cursor column (cursor: updated_at) for incremental ingests, or remove primary_key
}

// Example reads a table in batches. It needs a server, hence no output to
// check.
func Example() {
	src, err := mysql.New(connectors.Spec{
		Kind:    "mysql",
		Options: []byte("url: mysql://root@127.0.0.1:3306/test\nquery: SELECT 1 AS n, NOW() AS at"),
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
		fmt.Println(st.RecordBatch().NumRows(), "rows of", st.Schema())
	}
	if err := st.Err(); err != nil {
		fmt.Println(err)
	}
}
