// Command datalab ingests registered datasets into a DuckDB warehouse,
// keeps their catalog and lineage, and publishes indicator files.
//
// Run `datalab demo` for the embedded example, `datalab --help` for the
// commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/datalab/datalab/catalog"
	"github.com/datalab/datalab/connectors"
	"github.com/datalab/datalab/connectors/csv"
	"github.com/datalab/datalab/connectors/datagouv"
	jsonsrc "github.com/datalab/datalab/connectors/json"
	"github.com/datalab/datalab/connectors/mysql"
	"github.com/datalab/datalab/connectors/parquet"
	"github.com/datalab/datalab/connectors/postgres"
	"github.com/datalab/datalab/pipelines"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit statuses.
const (
	exitOK      = 0
	exitFailed  = 1 // the work failed
	exitInvalid = 2 // the request itself is invalid
)

// usageError marks an invalid request: exit status 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// app is one invocation of the command: its flags, outputs and logger.
type app struct {
	stdout, stderr io.Writer
	workspace      string
	logFormat      string
	logLevel       string
	log            zerolog.Logger
	// started is set once the command line was accepted and a command starts.
	started bool
}

// run runs the command line args and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a := &app{stdout: stdout, stderr: stderr}
	root := a.commands()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	if !a.started {
		// Cobra refused the command line itself: unknown command, flag or arguments.
		err = usageError{err}
	}
	fmt.Fprintln(stderr, "datalab: "+strings.ReplaceAll(err.Error(), "\n", "\n  "))
	var ue usageError
	if errors.As(err, &ue) || errors.Is(err, pipelines.ErrInvalid) || errors.Is(err, catalog.ErrInvalid) ||
		errors.Is(err, pipelines.ErrNoWorkspace) {
		return exitInvalid
	}
	return exitFailed
}

func (a *app) commands() *cobra.Command {
	root := &cobra.Command{
		Use:   "datalab",
		Short: "Ingest, catalog and publish the data of a government data lab",
		Long: `datalab ingests registered datasets into an embedded DuckDB warehouse through
Apache Arrow, keeps a catalog of every dataset, snapshot and access level,
and the lineage from source to published figure.

Start with: datalab demo`,
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			a.started = true
			return a.setupLog()
		},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	pf := root.PersistentFlags()
	pf.StringVarP(&a.workspace, "workspace", "w", ".", "the workspace folder")
	pf.StringVar(&a.logFormat, "log-format", "console", "log format: console or json")
	pf.StringVar(&a.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	root.AddCommand(a.demoCommand(), a.initCommand(), a.datasetCommand(), a.ingestCommand(), a.runCommand(), a.lineageCommand(),
		a.pipelineCommand(), a.serveCommand(), a.runsCommand(), a.catalogCommand())
	for _, c := range root.Commands() {
		wrapArgs(c)
	}
	return root
}

// wrapArgs makes argument-count errors usage errors, down the tree.
func wrapArgs(c *cobra.Command) {
	if c.Args != nil {
		check := c.Args
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := check(cmd, args); err != nil {
				return usageError{fmt.Errorf("%s: %w; see `%s --help`", cmd.CommandPath(), err, cmd.CommandPath())}
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		wrapArgs(sub)
	}
}

func (a *app) setupLog() error {
	level, err := zerolog.ParseLevel(a.logLevel)
	if err != nil || a.logLevel == "" {
		return usageError{fmt.Errorf("--log-level %q: use debug, info, warn or error", a.logLevel)}
	}
	var out io.Writer
	switch a.logFormat {
	case "json":
		out = a.stderr
	case "console":
		out = zerolog.ConsoleWriter{Out: a.stderr, TimeFormat: time.TimeOnly, NoColor: !isTerminal(a.stderr)}
	default:
		return usageError{fmt.Errorf("--log-format %q: use console or json", a.logFormat)}
	}
	a.log = zerolog.New(out).Level(level).With().Timestamp().Logger()
	return nil
}

// connectors returns the source kinds this binary reads.
func sourceKinds() *connectors.Registry {
	reg := &connectors.Registry{}
	reg.Add("csv", csv.New)
	reg.Add("json", jsonsrc.New)
	reg.Add("parquet", parquet.New)
	reg.Add("datagouv", datagouv.New)
	reg.Add("postgres", postgres.New)
	reg.Add("mysql", mysql.New)
	return reg
}

// open opens the workspace named by -w.
func (a *app) open(ctx context.Context) (*pipelines.Workspace, error) {
	return a.openDir(ctx, a.workspace)
}

// openDir opens the workspace in dir, with the pipelines this program
// declares. A pipeline that cannot be added is reported, and left out.
func (a *app) openDir(ctx context.Context, dir string) (*pipelines.Workspace, error) {
	ws, err := pipelines.Open(ctx, dir, pipelines.Options{Connectors: sourceKinds(), Log: a.log})
	if err != nil {
		return nil, err
	}
	if _, err := a.addPipelines(ctx, ws, false); err != nil {
		a.log.Error().Err(err).Msg("a pipeline is left out")
	}
	return ws, nil
}

// isTerminal reports whether w is a terminal, for progress and colours.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}
