package connectors_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/datalab/datalab/connectors"
)

// ExampleLocation_Open fetches a URL whose server fails once: the request
// is retried as the HTTP options say, and the content read.
func ExampleLocation_Open() {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if requests.Add(1) == 1 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		io.WriteString(w, "zone;part\nAin;2,5\n")
	}))
	defer srv.Close()

	loc, err := connectors.ParseLocation("", srv.URL+"/ivg.csv", "source.url")
	if err != nil {
		fmt.Println(err)
		return
	}
	loc.HTTP = &connectors.HTTPOptions{
		Retry:   connectors.RetryPolicy{Attempts: 3, FirstDelay: 10 * time.Millisecond},
		Timeout: time.Minute,
	}
	body, err := loc.Open(context.Background(), connectors.Fingerprint{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer body.Close()
	content, err := io.ReadAll(body)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%q after %d requests, ETag %s\n", content, requests.Load(), body.Fingerprint().ETag)
	// Output:
	// "zone;part\nAin;2,5\n" after 2 requests, ETag "v1"
}

// ExampleBatchShape builds batches of the same shape one after the other,
// the builders reserving room for the next from the last.
func ExampleBatchShape() {
	mem := memory.NewGoAllocator()
	schema := arrow.NewSchema([]arrow.Field{{Name: "code", Type: arrow.BinaryTypes.String}}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	var shape connectors.BatchShape // zero: the first batch grows as it comes
	for batch := range 2 {
		shape.Reserve(b)
		codes := b.Field(0).(*array.StringBuilder)
		fmt.Printf("batch %d: room for %d rows, %d bytes\n", batch, codes.Cap(), codes.DataCap())
		for i := range 1000 {
			codes.Append(fmt.Sprintf("%05d", i))
		}
		rec := b.NewRecordBatch()
		shape = connectors.ShapeOf(rec)
		rec.Release()
	}
	// Output:
	// batch 0: room for 0 rows, 0 bytes
	// batch 1: room for 1024 rows, 5632 bytes
}
