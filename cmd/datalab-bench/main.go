// Command datalab-bench measures datalab's CSV ingest side by side with
// DuckDB's own reader and a naive Go loader, on the same generated files, in
// one run, and prints medians and ratios. Its last line is machine-readable:
// ratio_vs_duckdb=<x>, the worse of the two inputs.
//
//	go run -tags duckdb_arrow ./cmd/datalab-bench [-rows 2000000] [-runs 5]
//
// Each measured run is a child process of its own (the same binary), so that
// its peak resident memory (RSS) is its own.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/text/encoding/charmap"
)

// input is one generated file and what reading it needs.
type input struct {
	Name string
	// Path of the file, Rows in it.
	Path string
	Rows int
	// Delimiter, Encoding ("utf-8" or "latin-1"), Decimal and DateFormat
	// (of both dates) are the options the file needs.
	Delimiter, Encoding, Decimal, DateFormat string
}

// result is what a child process measured.
type result struct {
	Seconds float64 `json:"seconds"`
	Rows    int64   `json:"rows"`
	RSS     int64   `json:"rss"` // peak, bytes, set by the parent
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "child" {
		if err := child(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "datalab-bench child:", err)
			os.Exit(1)
		}
		return
	}
	rows := flag.Int("rows", 2_000_000, "rows of each generated file")
	runs := flag.Int("runs", 5, "measured runs of each method on each input (the median is reported)")
	dir := flag.String("dir", "", "folder for the generated files and warehouses (default: a temporary folder, removed at the end)")
	methods := flag.String("methods", "duckdb,datalab,naive", "methods to measure, comma-separated")
	streaming := flag.Bool("streaming", true, "also measure peak RSS at a tenth of the rows, and an unchanged re-run")
	flag.Parse()
	if err := run(*rows, *runs, *dir, strings.Split(*methods, ","), *streaming); err != nil {
		fmt.Fprintln(os.Stderr, "datalab-bench:", err)
		os.Exit(1)
	}
}

func run(rows, runs int, dir string, methods []string, streaming bool) error {
	if dir == "" {
		tmp, err := os.MkdirTemp("", "datalab-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	fmt.Printf("datalab-bench: %d rows, %d runs each, GOMAXPROCS=%s, %s\n", rows, runs, os.Getenv("GOMAXPROCS"), cpuInfo())
	inputs := []input{
		{Name: "utf8-comma", Rows: rows, Delimiter: ",", Encoding: "utf-8", Decimal: ".", DateFormat: "%Y-%m-%d"},
		{Name: "latin1-semicolon", Rows: rows, Delimiter: ";", Encoding: "latin-1", Decimal: ",", DateFormat: "%d/%m/%Y"},
	}
	for i := range inputs {
		inputs[i].Path = filepath.Join(dir, inputs[i].Name+".csv")
		if err := generate(inputs[i]); err != nil {
			return err
		}
	}
	worst := 0.0
	for _, in := range inputs {
		info, _ := os.Stat(in.Path)
		mb := float64(info.Size()) / 1e6
		fmt.Printf("\n%s: %s, %.1f MB, delimiter %q, %s, decimal %q\n", in.Name, filepath.Base(in.Path), mb, in.Delimiter, in.Encoding, in.Decimal)
		fmt.Printf("  %-8s %9s %12s %9s %10s %8s\n", "method", "median s", "rows/s", "MB/s", "peak RSS", "ratio")
		medians := map[string]float64{}
		for _, m := range methods {
			var times []float64
			var rss int64
			for r := 0; r < runs; r++ {
				res, err := measure(dir, m, in, false)
				if err != nil {
					return fmt.Errorf("%s on %s: %w", m, in.Name, err)
				}
				if res.Rows != int64(in.Rows) {
					return fmt.Errorf("%s on %s loaded %d rows, want %d", m, in.Name, res.Rows, in.Rows)
				}
				times = append(times, res.Seconds)
				rss = max(rss, res.RSS)
			}
			med := median(times)
			medians[m] = med
			ratio := ""
			if d, ok := medians["duckdb"]; ok {
				ratio = fmt.Sprintf("%.2f", med/d)
			}
			fmt.Printf("  %-8s %9.3f %12.0f %9.1f %8.0fMB %8s\n", m, med, float64(in.Rows)/med, mb/med, float64(rss)/1e6, ratio)
		}
		if d, ok := medians["duckdb"]; ok {
			if x, ok := medians["datalab"]; ok {
				worst = max(worst, x/d)
			}
		}
		if streaming && slices.Contains(methods, "datalab") {
			if err := streamingFigures(dir, in, runs); err != nil {
				return err
			}
		}
	}
	fmt.Printf("\nratio_vs_duckdb=%.2f\n", worst)
	return nil
}

// streamingFigures prints datalab's peak RSS at a tenth of the rows against
// the full file, and the cost of a re-run on an unchanged file.
func streamingFigures(dir string, in input, runs int) error {
	small := in
	small.Rows = max(in.Rows/10, 1)
	small.Name = in.Name + "-tenth"
	small.Path = filepath.Join(dir, small.Name+".csv")
	if err := generate(small); err != nil {
		return err
	}
	var smallRSS, bigRSS int64
	for r := 0; r < 3; r++ {
		s, err := measure(dir, "datalab", small, false)
		if err != nil {
			return err
		}
		b, err := measure(dir, "datalab", in, false)
		if err != nil {
			return err
		}
		smallRSS, bigRSS = max(smallRSS, s.RSS), max(bigRSS, b.RSS)
	}
	fmt.Printf("  streaming: peak RSS %.0f MB for %d rows, %.0f MB for %d rows: x%.2f for x10 rows\n",
		float64(smallRSS)/1e6, small.Rows, float64(bigRSS)/1e6, in.Rows, float64(bigRSS)/float64(smallRSS))
	var full, again []float64
	for r := 0; r < runs; r++ {
		f, err := measure(dir, "datalab", in, false)
		if err != nil {
			return err
		}
		u, err := measure(dir, "datalab", in, true)
		if err != nil {
			return err
		}
		full, again = append(full, f.Seconds), append(again, u.Seconds)
	}
	fmt.Printf("  unchanged re-run: %.4f s against %.3f s for a full ingest: %.1f%%\n", median(again), median(full), 100*median(again)/median(full))
	return nil
}

// measure runs one method on one input in a child process and returns what
// it measured, with its peak RSS. unchanged asks datalab to load the file
// once, then to time a second, unchanged, ingest.
func measure(dir, method string, in input, unchanged bool) (result, error) {
	spec, err := json.Marshal(in)
	if err != nil {
		return result{}, err
	}
	exe, err := os.Executable()
	if err != nil {
		return result{}, err
	}
	cmd := exec.Command(exe, "child", method, string(spec), dir, strconv.FormatBool(unchanged))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return result{}, fmt.Errorf("child %s: %w", method, err)
	}
	var res result
	if err := json.Unmarshal(out, &res); err != nil {
		return result{}, fmt.Errorf("child %s answered %q: %w", method, out, err)
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		res.RSS = ru.Maxrss * 1024
	}
	return res, nil
}

func child(args []string) error {
	if len(args) != 4 {
		return fmt.Errorf("usage: child METHOD INPUT DIR UNCHANGED")
	}
	var in input
	if err := json.Unmarshal([]byte(args[1]), &in); err != nil {
		return err
	}
	unchanged := args[3] == "true"
	ctx := context.Background()
	work, err := os.MkdirTemp(args[2], args[0]+"-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	var rows int64
	var elapsed time.Duration
	switch args[0] {
	case "duckdb":
		rows, elapsed, err = loadDuckDB(ctx, work, in)
	case "datalab":
		rows, elapsed, err = loadDatalab(ctx, work, in, unchanged)
	case "naive":
		rows, elapsed, err = loadNaive(ctx, work, in)
	default:
		err = fmt.Errorf("unknown method %q: use duckdb, datalab or naive", args[0])
	}
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(result{Seconds: elapsed.Seconds(), Rows: rows})
}

// generate writes the input's file: an integer id, a code with leading
// zeros, two dates, a decimal amount, a category and a boolean, the same
// rows for the same number of rows.
func generate(in input) error {
	if info, err := os.Stat(in.Path); err == nil && info.Size() > 0 {
		return nil
	}
	f, err := os.Create(in.Path)
	if err != nil {
		return err
	}
	var w io.Writer = f
	if in.Encoding == "latin-1" {
		w = charmap.ISO8859_1.NewEncoder().Writer(f)
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	categories := []string{"accordée", "refusée", "en cours", "classée sans suite", "irrecevable"}
	d := in.Delimiter
	fmt.Fprintf(bw, "id%scode_commune%sdate_depot%sdate_decision%smontant%scategorie%surgent\n", d, d, d, d, d, d)
	rng := rand.New(rand.NewPCG(42, 7))
	start := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	var line []byte
	for i := 1; i <= in.Rows; i++ {
		filed := start.AddDate(0, 0, rng.IntN(2000))
		decided := filed.AddDate(0, 0, rng.IntN(200))
		cents := rng.Int64N(500_000)
		amount := fmt.Sprintf("%d.%02d", cents/100, cents%100)
		layout := "2006-01-02"
		if in.Decimal == "," {
			amount = strings.Replace(amount, ".", ",", 1)
			layout = "02/01/2006"
		}
		line = line[:0]
		line = fmt.Appendf(line, "%d%s%05d%s%s%s%s%s%s%s%s%s%t\n", i, d, rng.IntN(99_999), d, filed.Format(layout), d,
			decided.Format(layout), d, amount, d, categories[rng.IntN(len(categories))], d, rng.IntN(10) == 0)
		if _, err := bw.Write(line); err != nil {
			f.Close()
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func cpuInfo() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	n := 0
	model := ""
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "processor") {
			n++
		}
		if m, ok := strings.CutPrefix(l, "model name"); ok && model == "" {
			model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(m), ":"))
		}
	}
	return fmt.Sprintf("%d CPUs (%s)", n, model)
}
