package datalab

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteApplicationsIsDeterministic(t *testing.T) {
	var a, b bytes.Buffer
	if err := WriteApplications(&a, 5000, 7); err != nil {
		t.Fatal(err)
	}
	if err := WriteApplications(&b, 5000, 7); err != nil {
		t.Fatal(err)
	}
	if sha256.Sum256(a.Bytes()) != sha256.Sum256(b.Bytes()) {
		t.Fatal("two runs with the same seed differ")
	}
	r := csv.NewReader(&a)
	r.Comma = ';'
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 5001 {
		t.Fatalf("%d records, want 5000 and a header", len(recs))
	}
	ids := map[string]bool{}
	deps := map[string]int{}
	for _, rec := range recs[1:] {
		if ids[rec[0]] {
			t.Errorf("identifier %s repeated", rec[0])
		}
		ids[rec[0]] = true
		deps[rec[1]]++
		if rec[4] == "en cours" && rec[3] != "" {
			t.Errorf("a pending case has a decision date: %v", rec)
		}
	}
	// Paris (75) is far more populated than Lozère (48).
	if deps["75"] < 5*deps["48"] || deps["01"] == 0 {
		t.Errorf("applications are not spread by population: 75=%d 48=%d 01=%d", deps["75"], deps["48"], deps["01"])
	}
}

func TestWriteDemo(t *testing.T) {
	dir := t.TempDir()
	if err := WriteDemo(dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"datalab.yaml", "datasets/demandes.dossiers.yaml", "data/demandes.csv", "data/drees-donnees_feuil4.csv"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("demo lacks %s: %v", f, err)
		}
	}
	if err := WriteDemo(dir); err == nil {
		t.Error("WriteDemo wrote over a non-empty folder")
	}
}

func ExampleWriteApplications() {
	var buf bytes.Buffer
	if err := WriteApplications(&buf, 2, 1); err != nil {
		panic(err)
	}
	fmt.Print(buf.String())
	// Output:
	// Identifiant demandeur;Département;Date de dépôt;Date de décision;Décision;Montant accordé (€)
	// D000000000001;14;18/09/2025;11/10/2025;accordée;308,17
	// D9E3779B97F4C;92;18/06/2025;29/08/2025;accordée;477,88
}
