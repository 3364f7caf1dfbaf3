//go:build duckdb_arrow

package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/datalab/datalab/connectors"
	"github.com/datalab/datalab/connectors/csv"
	"github.com/datalab/datalab/pipelines"
	"github.com/datalab/datalab/pipelines/server"
)

// A data administrator registers a dataset through the API with the
// token; anyone then reads its metadata. `datalab serve` mounts the same
// handler, its token read from DATALAB_ADMIN_TOKEN.
func ExampleNew() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "datalab-server-example")
	defer os.RemoveAll(dir)
	os.MkdirAll(filepath.Join(dir, "data"), 0o755)
	os.WriteFile(filepath.Join(dir, "data", "regions.csv"), []byte("reg,libelle\n11,Île-de-France\n"), 0o644)
	kinds := &connectors.Registry{}
	kinds.Add("csv", csv.New)
	ws, err := pipelines.Open(ctx, dir, pipelines.Options{Connectors: kinds})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ws.Close()

	h := server.New(ws, server.Options{AdminToken: "a-long-random-token-from-the-environment"})

	reg := `id: insee.regions
title: Régions
publisher: INSEE
access: public
source: {kind: csv, url: data/regions.csv}
`
	req := httptest.NewRequest(http.MethodPost, "/api/datasets", strings.NewReader(reg))
	req.Header.Set("Authorization", "Bearer a-long-random-token-from-the-environment")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println("POST /api/datasets:", rec.Code, rec.Header().Get("Location"))
	if rec.Code != http.StatusCreated {
		fmt.Println(rec.Body.String())
		return
	}

	// The same without the token is refused, and says why.
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/datasets", strings.NewReader(reg)))
	var refused struct{ Error string }
	json.Unmarshal(rec.Body.Bytes(), &refused)
	fmt.Println("without the token:", rec.Code, refused.Error)

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/datasets?level=public", nil))
	var list []struct {
		ID        string `json:"id"`
		AccessURI string `json:"access_uri"`
	}
	json.Unmarshal(rec.Body.Bytes(), &list)
	if len(list) == 0 {
		fmt.Println(rec.Body.String())
		return
	}
	fmt.Println("GET /api/datasets:", rec.Code, list[0].ID, list[0].AccessURI)
	// Output:
	// POST /api/datasets: 201 /api/datasets/insee.regions
	// without the token: 401 this needs the administrator's token
	// GET /api/datasets: 200 insee.regions http://publications.europa.eu/resource/authority/access-right/PUBLIC
}
