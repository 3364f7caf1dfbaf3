// Package datalab holds the demo workspace that `datalab demo` writes: the
// registrations under testdata/demo, real files that French ministries
// published (testdata/realdata), and a generated non-public dataset of
// individual benefit applications.
package datalab

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"embed"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	mathrand "math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/datalab/datalab/catalog"
	"github.com/datalab/datalab/pipelines"
)

//go:embed all:testdata/demo testdata/realdata
var files embed.FS

// demoData maps the demo's data files to the real files they copy.
var demoData = map[string]string{
	"data/cog-departements.csv":     "testdata/realdata/cog-departements.csv",
	"data/cog-regions.csv":          "testdata/realdata/cog-regions.csv",
	"data/cog-donnees_communes.csv": "testdata/realdata/cog-donnees_communes.csv",
	"data/drees-donnees_feuil4.csv": "testdata/realdata/drees-donnees_feuil4.csv",
	"data/culture-musees.csv":       "testdata/realdata/culture-musees.csv",
}

// DemoApplications is the number of applications the demo generates.
const DemoApplications = 200_000

// WriteDemo writes the demo workspace into dir, which must be empty or
// absent: its registrations and projects, the real data files they name,
// and data/demandes.csv, DemoApplications generated applications.
func WriteDemo(dir string) error {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("demo folder %s is not empty; give another folder or remove it", dir)
	}
	err := fs.WalkDir(files, "testdata/demo", func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		data, err := files.ReadFile(path)
		if err != nil {
			return err
		}
		return writeFile(filepath.Join(dir, strings.TrimPrefix(path, "testdata/demo/")), data)
	})
	if err != nil {
		return fmt.Errorf("write demo workspace: %w", err)
	}
	for dst, src := range demoData {
		data, err := files.ReadFile(src)
		if err != nil {
			return fmt.Errorf("write demo workspace: %w", err)
		}
		if err := writeFile(filepath.Join(dir, dst), data); err != nil {
			return fmt.Errorf("write demo workspace: %w", err)
		}
	}
	f, err := os.Create(filepath.Join(dir, "data", "demandes.csv"))
	if err != nil {
		return fmt.Errorf("write demo applications: %w", err)
	}
	if err := WriteApplications(f, DemoApplications, 1); err != nil {
		f.Close()
		return fmt.Errorf("write demo applications: %w", err)
	}
	return f.Close()
}

func writeFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

// department is a département and its population, to spread applications.
type department struct {
	code       string
	population int64
}

// departments reads the real départements and their population from the
// embedded COG files.
func departments() ([]department, error) {
	f, err := files.Open("testdata/realdata/cog-donnees_communes.csv")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comma = ';'
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("communes: %w", err)
	}
	depCol, popCol := -1, -1
	for i, h := range header {
		switch h {
		case "DEP":
			depCol = i
		case "PTOT":
			popCol = i
		}
	}
	if depCol < 0 || popCol < 0 {
		return nil, fmt.Errorf("communes: no DEP or PTOT column in %v", header)
	}
	pop := map[string]int64{}
	var order []string
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("communes: %w", err)
		}
		n, err := strconv.ParseInt(rec[popCol], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("communes: PTOT %q: %w", rec[popCol], err)
		}
		if _, ok := pop[rec[depCol]]; !ok {
			order = append(order, rec[depCol])
		}
		pop[rec[depCol]] += n
	}
	deps := make([]department, len(order))
	for i, code := range order {
		deps[i] = department{code, pop[code]}
	}
	return deps, nil
}

// WriteApplications writes n applications for a benefit as a CSV file the
// way a ministry's case-management system would export it: ";" separated,
// French dates (dd/mm/yyyy), decimal commas, an empty decision date while a
// case is pending. The same n and seed always give the same bytes.
//
// Applications are spread over the départements in proportion to their
// population, so that small départements have few cases in a month (cells
// that disclosure control must suppress), and processing delays vary by
// département.
func WriteApplications(w io.Writer, n int, seed uint64) error {
	deps, err := departments()
	if err != nil {
		return err
	}
	var total int64
	cumul := make([]int64, len(deps))
	for i, d := range deps {
		total += d.population
		cumul[i] = total
	}
	rng := mathrand.New(mathrand.NewPCG(seed, 0x5eed))
	// Each département has its own typical delay, from 20 to 70 days.
	delay := make([]float64, len(deps))
	for i := range deps {
		delay[i] = 20 + 50*rng.Float64()
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.WriteString("Identifiant demandeur;Département;Date de dépôt;Date de décision;Décision;Montant accordé (€)\n")
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	end := time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)
	days := int(end.Sub(start).Hours() / 24)
	var line []byte
	for i := 0; i < n; i++ {
		k := rng.Int64N(total)
		d := 0
		for cumul[d] <= k {
			d++
		}
		day := rng.IntN(days + 1)
		filed := start.AddDate(0, 0, day)
		// The project works: delays shrink by half over the two years.
		speed := 1.3 - 0.65*float64(day)/float64(days)
		wait := int(math.Round(delay[d] * speed * rng.ExpFloat64()))
		decided := filed.AddDate(0, 0, wait+1)
		line = line[:0]
		// An odd multiplier modulo 2^48 is a bijection: identifiers look
		// random and never repeat.
		id := (uint64(i)*0x9E3779B97F4B + seed) & (1<<48 - 1)
		line = fmt.Appendf(line, "D%012X;%s;%s;", id, deps[d].code, filed.Format("02/01/2006"))
		switch {
		case decided.After(end):
			line = append(line, ";en cours;\n"...)
		case rng.Float64() < 0.27:
			line = fmt.Appendf(line, "%s;refusée;\n", decided.Format("02/01/2006"))
		default:
			cents := 5000 + rng.Int64N(45000)
			line = fmt.Appendf(line, "%s;accordée;%d,%02d\n", decided.Format("02/01/2006"), cents/100, cents%100)
		}
		if _, err := bw.Write(line); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// The demo's pipeline: demandes.dossiers, its applicants' identifiers
// pseudonymised, into demandes.dossiers_pseudo.
const (
	DemoPipelineName = "pseudonymisation"
	DemoPseudoInput  = "demandes.dossiers"
	DemoPseudoOutput = "demandes.dossiers_pseudo"
)

// DemoKeyFile is where `datalab demo` keeps the pseudonymisation key it
// made, in the demo folder, readable by its owner only (0600): never in the
// catalog, the warehouse or a log.
const DemoKeyFile = ".datalab-pseudo-key"

// DemoKey returns the demo's pseudonymisation key: DATALAB_PSEUDO_KEY when
// it is set, else the key in dir's DemoKeyFile. When there is neither and
// create is set, it makes a random 256-bit key, writes it (in hexadecimal)
// into DemoKeyFile with permissions 0600, and says so with made; when
// create is not set it returns no key and no error. Re-running the demo
// reads the same key back, so that pseudonyms stay the same. A key shorter
// than pipelines.MinPseudoKeyBytes is refused; no error shows the key.
func DemoKey(dir string, create bool) (key []byte, made bool, err error) {
	if v := strings.TrimSpace(os.Getenv(pipelines.PseudoKeyEnv)); v != "" {
		if len(v) < pipelines.MinPseudoKeyBytes {
			return nil, false, fmt.Errorf("%s holds %d bytes: %w; give at least %d (e.g. `openssl rand -hex 32`)",
				pipelines.PseudoKeyEnv, len(v), pipelines.ErrWeakKey, pipelines.MinPseudoKeyBytes)
		}
		return []byte(v), false, nil
	}
	path := filepath.Join(dir, DemoKeyFile)
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		key = bytes.TrimSpace(data)
		if len(key) < pipelines.MinPseudoKeyBytes {
			return nil, false, fmt.Errorf("%s holds %d bytes: %w; remove it to have the demo make another, or set %s",
				path, len(key), pipelines.ErrWeakKey, pipelines.PseudoKeyEnv)
		}
		return key, false, nil
	case !errors.Is(err, os.ErrNotExist):
		return nil, false, fmt.Errorf("read the pseudonymisation key: %w", err)
	case !create:
		return nil, false, nil
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, false, fmt.Errorf("make a pseudonymisation key: %w", err)
	}
	key = []byte(hex.EncodeToString(raw))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("write the pseudonymisation key: %w", err)
	}
	if _, err := f.Write(append(key, '\n')); err != nil {
		f.Close()
		return nil, false, fmt.Errorf("write the pseudonymisation key: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, false, fmt.Errorf("write the pseudonymisation key: %w", err)
	}
	return key, true, nil
}

// DemoPipeline returns the demo's Go pipeline: the applications of
// demandes.dossiers with the applicant's identifier replaced by its
// HMAC-SHA256 under key, into demandes.dossiers_pseudo, run whenever the
// applications change. Pseudonymised personal data is still personal data:
// the output stays non_public.
func DemoPipeline(key []byte) (pipelines.Pipeline, error) {
	pseudo, err := pipelines.NewPseudonymiser(key, pipelines.PseudoHex, "id_demandeur")
	if err != nil {
		return pipelines.Pipeline{}, err
	}
	return pipelines.Pipeline{
		Name:        DemoPipelineName,
		Description: "Pseudonymise l'identifiant des demandeurs (HMAC-SHA256 sous une clé secrète).",
		Inputs:      []string{DemoPseudoInput},
		Output: catalog.Dataset{
			ID:    DemoPseudoOutput,
			Title: "Demandes d'aide au logement étudiant, pseudonymisées",
			Description: "Les dossiers de demandes.dossiers, l'identifiant du demandeur remplacé par un " +
				"pseudonyme (HMAC-SHA256 sous une clé secrète) : les dossiers d'un même demandeur restent " +
				"rapprochables, mais le demandeur n'est pas identifiable sans la clé. Des données personnelles " +
				"pseudonymisées restent des données personnelles : non communicables.",
			Publisher: "Datalab",
			Contact:   "dpd@example.org",
			Access:    catalog.NonPublic,
			License:   "none",
			Frequency: "daily",
		},
		OnChange: true,
		Step:     pipelines.Step{Transform: pseudo},
		Version:  "1",
	}, nil
}
