// Command datalab-bench measures datalab's CSV ingest side by side with
// DuckDB's own reader and a naive Go loader, on the same generated files, in
// one run, and prints medians and ratios; then datalab's PostgreSQL ingest
// against a bare binary COPY of the same table. Its last line is
// machine-readable: ratio_vs_duckdb=<x>, the worse of the two CSV inputs.
//
//	go run -tags duckdb_arrow ./cmd/datalab-bench [-rows 2000000] [-runs 5] [-pg=false]
//
// Each measured run is a child process of its own (the same binary), so
// that its peak resident memory (RSS) is its own. The runs of the methods
// alternate, so that a change of the machine's load falls on all of them.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// input is one generated file and what reading it needs.
type input struct {
	Name string
	// Path of the file, Rows in it.
	Path string
	Rows int
	// Delimiter is the field delimiter. Encoding ("latin-1"), Decimal (",")
	// and DateFormat (of both dates, "%d/%m/%Y") are empty for UTF-8, a
	// decimal point and ISO dates, which need no option.
	Delimiter, Encoding, Decimal, DateFormat string
}

// result is what a child process measured.
type result struct {
	Seconds    float64 `json:"seconds"`
	Checkpoint float64 `json:"checkpoint"` // seconds of the CHECKPOINT after the load
	Rows       int64   `json:"rows"`
	Bytes      int64   `json:"bytes,omitempty"` // read, when the file size does not say
	RSS        int64   `json:"rss"`             // peak, bytes: the child's VmHWM, else the parent's rusage of it
	Faults     int64   `json:"-"`               // minor page faults of the whole child, set by the parent
	CPU        float64 `json:"cpu"`             // seconds of the child's CPU time in Seconds
	Others     float64 `json:"others"`          // seconds of the rest of the machine's CPU time in Seconds
}

// config is the command line.
type config struct {
	rows, runs int
	dir        string
	methods    []string
	streaming  bool
	pg         bool
	pgURL      string
	pgRows     int
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "newmemory" {
		// In a process of its own: a child's peak RSS starts from its
		// parent's, which the 64 MB would raise.
		took, faults, err := newMemoryCost()
		if err != nil {
			fmt.Fprintln(os.Stderr, "datalab-bench newmemory:", err)
			os.Exit(1)
		}
		fmt.Println(took.Microseconds(), faults)
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "child" {
		if err := child(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "datalab-bench child:", err)
			os.Exit(1)
		}
		return
	}
	var c config
	flag.IntVar(&c.rows, "rows", 2_000_000, "rows of each generated CSV file")
	flag.IntVar(&c.runs, "runs", 5, "measured runs of each method on each input (the median is reported)")
	flag.StringVar(&c.dir, "dir", "", "folder for the generated files and warehouses (default: a temporary folder, removed at the end)")
	methods := flag.String("methods", "duckdb,datalab,naive", "CSV methods to measure, comma-separated; empty to measure PostgreSQL only")
	flag.BoolVar(&c.streaming, "streaming", true, "also measure datalab's peak RSS at a tenth of the rows, and an unchanged re-run")
	flag.BoolVar(&c.pg, "pg", true, "also measure the PostgreSQL ingest against a bare binary COPY (skipped when PostgreSQL is unreachable)")
	flag.StringVar(&c.pgURL, "pg-url", defaultPGURL(), "PostgreSQL database to create the bench table in (env DATALAB_BENCH_PG_URL)")
	flag.IntVar(&c.pgRows, "pg-rows", 1_000_000, "rows of the PostgreSQL table")
	flag.Parse()
	for _, m := range strings.Split(*methods, ",") {
		if m = strings.TrimSpace(m); m != "" {
			c.methods = append(c.methods, m)
		}
	}
	if c.runs < 1 || c.rows < 10 {
		fmt.Fprintln(os.Stderr, "datalab-bench: -runs must be at least 1 and -rows at least 10")
		os.Exit(2)
	}
	if err := run(c); err != nil {
		fmt.Fprintln(os.Stderr, "datalab-bench:", err)
		os.Exit(1)
	}
}

// inputs are the two CSV files of rows rows each, in dir.
func inputs(dir string, rows int) []input {
	ins := []input{
		{Name: "utf8-comma", Rows: rows, Delimiter: ","},
		{Name: "latin1-semicolon", Rows: rows, Delimiter: ";", Encoding: "latin-1", Decimal: ",", DateFormat: "%d/%m/%Y"},
	}
	for i := range ins {
		ins[i].Path = filepath.Join(dir, fmt.Sprintf("%s-%d.csv", ins[i].Name, rows))
	}
	return ins
}

func run(c config) error {
	if c.dir == "" {
		tmp, err := os.MkdirTemp("", "datalab-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		c.dir = tmp
	}
	fmt.Printf("datalab-bench: %d rows per CSV file, %d runs of each method on each input; medians\n", c.rows, c.runs)
	fmt.Printf("command: %s\n", strings.Join(os.Args, " "))
	fmt.Printf("machine: %s\n", machine())
	fmt.Printf("new memory: %s\n", newMemory())
	fmt.Printf("load average at start: %s\n", loadAverage())
	worst := 0.0 // 0 until the two methods were measured
	for _, in := range inputs(c.dir, c.rows) {
		if len(c.methods) == 0 {
			break
		}
		if err := generate(in); err != nil {
			return err
		}
		ratio, err := measureInput(c, in)
		if err != nil {
			return err
		}
		worst = max(worst, ratio)
	}
	if c.pg {
		if err := measurePostgres(c); err != nil {
			return err
		}
	}
	if worst == 0 {
		fmt.Println("\nratio_vs_duckdb not measured: -methods must name duckdb and datalab")
		return nil
	}
	fmt.Printf("\nratio_vs_duckdb=%.2f\n", worst)
	return nil
}

// measureInput prints the figures of every method on one input and returns
// datalab's ratio to DuckDB's reader (0 when one of them is not measured).
func measureInput(c config, in input) (float64, error) {
	info, err := os.Stat(in.Path)
	if err != nil {
		return 0, err
	}
	mb := float64(info.Size()) / 1e6
	enc, dec, dates := "UTF-8", ".", "ISO dates"
	if in.Encoding != "" {
		enc = "ISO-8859-1"
	}
	if in.Decimal != "" {
		dec = in.Decimal
	}
	if in.DateFormat != "" {
		dates = "dates " + in.DateFormat
	}
	fmt.Printf("\n%s: %d rows, %.1f MB, delimiter %q, %s, decimal %q, %s\n", in.Name, in.Rows, mb, in.Delimiter, enc, dec, dates)
	fmt.Printf("  duckdb: %s\n", in.readCSVQuery("bench"))
	times := map[string][]float64{}
	ckpt := map[string][]float64{}
	rss := map[string][]int64{}
	for r := 0; r < c.runs; r++ {
		for _, m := range c.methods {
			res, err := measure(c.dir, m, in, false)
			if err != nil {
				return 0, fmt.Errorf("%s on %s: %w", m, in.Name, err)
			}
			if res.Rows != int64(in.Rows) {
				return 0, fmt.Errorf("%s on %s loaded %d rows, want %d", m, in.Name, res.Rows, in.Rows)
			}
			times[m] = append(times[m], res.Seconds)
			ckpt[m] = append(ckpt[m], res.Checkpoint)
			rss[m] = append(rss[m], res.RSS)
		}
	}
	fmt.Printf("  %-8s %9s %9s %12s %9s %10s %8s %8s\n", "method", "median s", "min s", "rows/s", "MB/s", "peak RSS", "ratio", "+ckpt s")
	for _, m := range c.methods {
		med := median(times[m])
		ratio := ""
		if d, ok := times["duckdb"]; ok {
			ratio = fmt.Sprintf("%.2f", med/median(d))
		}
		fmt.Printf("  %-8s %9.3f %9.3f %12.0f %9.1f %8.0fMB %8s %8.3f\n", m, med, slices.Min(times[m]), float64(in.Rows)/med, mb/med,
			medianInt(rss[m])/1e6, ratio, median(ckpt[m]))
	}
	if d, ok := times["duckdb"]; ok && slices.Contains(c.methods, "datalab") {
		pairs := make([]string, len(d))
		for r := range d {
			pairs[r] = fmt.Sprintf("%.2f", times["datalab"][r]/d[r])
		}
		fmt.Printf("  datalab/duckdb run by run: %s\n", strings.Join(pairs, " "))
	}
	fmt.Printf("  (peak RSS: median over the runs of each child process's peak; +ckpt: the CHECKPOINT after the load, not in its time; load average now %s)\n", loadAverage())
	if c.streaming && slices.Contains(c.methods, "datalab") {
		if err := streamingFigures(c, in, medianInt(rss["datalab"]), median(times["datalab"])); err != nil {
			return 0, err
		}
	}
	d, okD := times["duckdb"]
	x, okX := times["datalab"]
	if !okD || !okX {
		return 0, nil
	}
	return median(x) / median(d), nil
}

// streamingFigures prints datalab's peak RSS on a tenth of the rows against
// the whole file (fullRSS), and the cost of a re-run on an unchanged file
// against a full ingest (fullSeconds).
func streamingFigures(c config, in input, fullRSS, fullSeconds float64) error {
	small := in
	small.Rows = max(in.Rows/10, 1)
	small.Path = strings.Replace(in.Path, fmt.Sprintf("-%d.csv", in.Rows), fmt.Sprintf("-%d.csv", small.Rows), 1)
	if err := generate(small); err != nil {
		return err
	}
	var smallRSS []int64
	var again []float64
	for r := 0; r < c.runs; r++ {
		s, err := measure(c.dir, "datalab", small, false)
		if err != nil {
			return err
		}
		u, err := measure(c.dir, "datalab", in, true)
		if err != nil {
			return err
		}
		smallRSS, again = append(smallRSS, s.RSS), append(again, u.Seconds)
	}
	sr := medianInt(smallRSS)
	fmt.Printf("  streaming: datalab's peak RSS %.0f MB for %d rows, %.0f MB for %d rows: x%.2f for x%d rows\n",
		sr/1e6, small.Rows, fullRSS/1e6, in.Rows, fullRSS/sr, in.Rows/small.Rows)
	fmt.Printf("  unchanged re-run: %.4f s against %.3f s for a full ingest: %.1f%%\n", median(again), fullSeconds, 100*median(again)/fullSeconds)
	return nil
}

// measure runs one method on one input in a child process and returns what
// it measured, with its peak RSS. unchanged asks datalab to load the file
// once, then to time a second, unchanged, ingest.
func measure(dir, method string, in any, unchanged bool) (result, error) {
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
		if res.RSS == 0 {
			res.RSS = ru.Maxrss * 1024
		}
		res.Faults = ru.Minflt
	}
	return res, nil
}

// child runs one method once: child METHOD INPUT DIR UNCHANGED, INPUT in
// JSON: an input, or for the PostgreSQL methods a pgTable.
func child(args []string) error {
	if len(args) != 4 {
		return fmt.Errorf("usage: child METHOD INPUT DIR UNCHANGED")
	}
	var in input
	var table pgTable
	into := any(&in)
	if strings.HasPrefix(args[0], "pg") {
		into = &table
	}
	if err := json.Unmarshal([]byte(args[1]), into); err != nil {
		return err
	}
	unchanged := args[3] == "true"
	ctx := context.Background()
	work, err := os.MkdirTemp(args[2], args[0]+"-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	var res loaded
	var bytes int64
	switch args[0] {
	case "duckdb":
		res, err = loadDuckDB(ctx, work, in)
	case "datalab":
		res, err = loadDatalab(ctx, work, in, unchanged)
	case "naive":
		res, err = loadNaive(ctx, work, in)
	case "pgcopy":
		res, bytes, err = copyPostgres(ctx, table)
	case "pgread":
		res, err = readPostgres(ctx, table)
	case "pgdatalab":
		res, err = loadPostgres(ctx, work, table)
	default:
		err = fmt.Errorf("unknown method %q: use duckdb, datalab, naive, pgcopy, pgread or pgdatalab", args[0])
	}
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(result{Seconds: res.Elapsed.Seconds(), Checkpoint: res.Checkpoint.Seconds(), Rows: res.Rows, Bytes: bytes,
		CPU: res.CPU.Seconds(), Others: res.Others.Seconds(), RSS: peakRSS()})
}

// newMemory describes what memory new to a process costs here, measured
// in a process of its own (datalab-bench newmemory), or why it was not.
func newMemory() string {
	exe, err := os.Executable()
	if err != nil {
		return "not measured: " + err.Error()
	}
	out, err := exec.Command(exe, "newmemory").Output()
	var micros, faults int64
	if err == nil {
		_, err = fmt.Sscan(string(out), &micros, &faults)
	}
	if err != nil {
		return fmt.Sprintf("not measured: datalab-bench newmemory: %v", err)
	}
	each := ""
	if faults > 0 {
		each = fmt.Sprintf(", %.1f µs each", float64(micros)/float64(faults))
	}
	return fmt.Sprintf("64 MB written in %.0f ms, %d page faults%s", float64(micros)/1000, faults, each)
}

// peakRSS returns this process's peak resident set (VmHWM), in bytes, or 0
// where /proc does not tell. The parent's rusage would not do: Linux
// starts the peak of a process that Go forks and executes from its
// parent's, and the parent held more than a bare COPY needs.
func peakRSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			var kb int64
			if _, err := fmt.Sscanf(strings.TrimSpace(v), "%d kB", &kb); err == nil {
				return kb * 1024
			}
		}
	}
	return 0
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

func medianInt(xs []int64) float64 {
	f := make([]float64, len(xs))
	for i, x := range xs {
		f[i] = float64(x)
	}
	return median(f)
}

// machine describes the machine and the software measured: CPU model and
// count, memory, Go and DuckDB versions.
func machine() string {
	model, cpus := "unknown CPU", 0
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(l, "processor") {
				cpus++
			}
			if m, ok := strings.CutPrefix(l, "model name"); ok && model == "unknown CPU" {
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(m), ":"))
			}
		}
	}
	mem := ""
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		if _, err := fmt.Sscanf(string(data), "MemTotal: %d kB", &kb); err == nil {
			mem = fmt.Sprintf(", %.1f GB RAM", float64(kb)/1e6)
		}
	}
	duck := "unknown"
	if db, err := sql.Open("duckdb", ""); err == nil {
		var v, src string
		if db.QueryRow("SELECT library_version, source_id FROM pragma_version()").Scan(&v, &src) == nil {
			duck = v + " (" + src + ")"
		}
		db.Close()
	}
	return fmt.Sprintf("%s, %d CPUs%s, %s/%s; GOMAXPROCS=%d; %s; DuckDB %s",
		model, cpus, mem, runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), runtime.Version(), duck)
}

// loadAverage is the 1, 5 and 15-minute load average of the machine.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
