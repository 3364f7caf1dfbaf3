package datagouv_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/datalab/datalab/connectors"
	"github.com/datalab/datalab/connectors/datagouv"
)

// Example reads a data.gouv.fr resource by its title. A stand-in for the
// portal answers here; a registration leaves api out to ask
// www.data.gouv.fr.
func Example() {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/1/datasets/ivg/":
			fmt.Fprintf(w, `{"id": "6334756b8a2d4a3f2b9e0c11", "slug": "ivg", "title": "IVG", "resources": [
				{"id": "r1", "title": "donnees_feuil4.csv", "format": "csv", "url": "%s/files/feuil4.csv",
				 "checksum": {"type": "sha1", "value": "0a1b"}, "last_modified": "2024-09-26T14:10:21+00:00"}]}`, srv.URL)
		case "/files/feuil4.csv":
			// ISO-8859-1, as DREES publishes it.
			w.Write([]byte("zone_geo;part_age_inf18\nAin;2,5\nC\xf4te-d'Or;2,8\n"))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	src, err := datagouv.New(connectors.Spec{
		Kind: "datagouv",
		Options: []byte(strings.Join([]string{
			"kind: datagouv",
			"dataset: ivg",
			"resource: donnees_feuil4.csv",
			"api: " + srv.URL + "/api/1",
			"encoding: iso-8859-1", // for the csv connector
		}, "\n")),
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
		zone, part := rec.Column(0).(*array.String), rec.Column(1).(*array.Float64)
		for i := range int(rec.NumRows()) {
			fmt.Printf("%s: %.1f\n", zone.Value(i), part.Value(i))
		}
	}
	fmt.Println("version:", st.Fingerprint().ETag)
	// Output:
	// Ain: 2.5
	// Côte-d'Or: 2.8
	// version: sha1:0a1b
}
