package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/datalab/datalab/catalog"
	"github.com/datalab/datalab/pipelines"
	"github.com/datalab/datalab/pipelines/server"
)

func (a *app) serveCommand() *cobra.Command {
	var addr string
	var grace time.Duration
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the scheduler: datasets, pipelines and notebooks kept fresh, until stopped",
		Long: `Run the scheduler and the HTTP server until SIGINT or SIGTERM.

Each dataset with a schedule is ingested on it; each pipeline runs on its
schedule or after its inputs changed; each project's notebooks run after the
datasets they read changed, in dependency order. A job never runs twice at
once (a tick that finds it running is recorded as skipped); transient
failures are retried. On start, what missed its last scheduled time while
nothing ran runs once (catch-up). On SIGINT or SIGTERM no run starts any
more; the running ones finish within --grace or are cancelled, leaving the
previous snapshots; then serve exits with status 0. ` + "`datalab runs`" + ` lists the
runs.

An ingest asked through the API (POST /api/datasets/{id}/ingest), or a run
of any job (POST /api/runs?job=project:NAME, say), is a run of the scheduler
too: what depends on it runs after it. While serve holds the warehouse, that
is how to ask for a run.

The warehouse is open for writing while serve runs: other datalab commands on
the same workspace are refused until it stops.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if grace < 0 {
				return usageError{fmt.Errorf("--grace %s: give a duration of zero or more, e.g. 30s", grace)}
			}
			ctx := cmd.Context()
			ws, err := a.open(ctx)
			if err != nil {
				return err
			}
			defer ws.Close()
			sched, err := pipelines.NewScheduler(ctx, ws, pipelines.SchedulerOptions{Log: a.log})
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("listen on %s: %w; give another --addr", addr, err)
			}
			mux := newMux(ws, sched)
			mux.Handle("/", server.New(ws, server.Options{AdminToken: os.Getenv(server.AdminTokenEnv), Log: a.log, Context: ctx,
				Launch: sched.Launch}))
			srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
			served := make(chan error, 1)
			go func() { served <- srv.Serve(ln) }()
			log := a.log.With().Str("component", "serve").Logger()
			log.Info().Str("addr", ln.Addr().String()).Str("workspace", ws.Dir).Msg("serving")
			if err := sched.Start(ctx); err != nil {
				return errors.Join(err, srv.Close())
			}
			select {
			case <-ctx.Done():
			case err := <-served:
				log.Error().Err(err).Msg("the HTTP server stopped; stopping")
			}
			log.Info().Dur("grace", grace).Msg("stopping: no new runs; the running ones finish within the grace period or are cancelled")
			stop, cancel := context.WithTimeout(context.Background(), grace)
			defer cancel()
			err = sched.Stop(stop)
			down, cancelDown := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancelDown()
			if serr := srv.Shutdown(down); serr != nil {
				err = errors.Join(err, serr)
			}
			log.Info().Msg("stopped")
			return err
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "the HTTP server's address")
	cmd.Flags().DurationVar(&grace, "grace", 30*time.Second, "on SIGINT or SIGTERM, how long running runs may take to finish before they are cancelled")
	return cmd
}

// newMux returns the HTTP handlers of serve: GET /healthz so far, which
// says the scheduler is up and what runs. The HTTP API and the web pages
// add theirs to it, over ws and sched.
func newMux(ws *pipelines.Workspace, sched *pipelines.Scheduler) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		running := sched.Running()
		if running == nil {
			running = []catalog.Node{}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(struct {
			Status  string         `json:"status"`
			Running []catalog.Node `json:"running"`
		}{"ok", running})
	})
	return mux
}
