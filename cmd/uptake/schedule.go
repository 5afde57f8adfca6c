package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/uptake-dev/uptake/config"
	"github.com/uptake-dev/uptake/etl"
	"github.com/uptake-dev/uptake/etl/schedule"
)

func newScheduleCmd(g *globalFlags) *cobra.Command {
	var configPath, listen string
	cmd := &cobra.Command{
		Use:   "schedule",
		Short: "Stay running and fire the configured jobs on their schedules, with /healthz and /metrics",
		Long: `Stay running and fire each job of jobs: on its cron expression, in its time zone
(default: one job, nightly at 02:00). One run at a time, also across processes
(the warehouse lock); a failed run is retried with backoff; a run missed while
uptake was down is caught up once at start. The config file is read again at
each run, so a change applies from the next run (a change to jobs: needs a
restart). SIGTERM or SIGINT stops: a run in flight stops before it publishes,
or finishes its publish; a second signal abandons the publish.`,
		Example: `  uptake schedule --config uptake.yaml
  curl -s 127.0.0.1:9464/healthz`,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(configPath)
			if err != nil {
				return err
			}
			log, err := g.logger(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			if cmd.Flags().Changed("listen") {
				cfg.Scheduler.Listen = listen
			}
			return runSchedule(cmd.Context(), configPath, cfg, log)
		},
	}
	cmd.Flags().StringVarP(&configPath, "config", "c", "uptake.yaml", "config file")
	cmd.Flags().StringVar(&listen, "listen", "", "address of /healthz and /metrics (default: scheduler.listen, 127.0.0.1:9464; \"off\" for none)")
	return cmd
}

func runSchedule(ctx context.Context, configPath string, cfg *config.Config, log *slog.Logger) error {
	jobs, err := etl.Jobs(cfg)
	if err != nil {
		return err
	}
	history, err := etl.LastScheduledRuns(ctx, cfg)
	if err != nil {
		log.Warn("run history unreadable; no catch-up of a missed run", "error", err)
	}
	abandon := abandonContext(ctx)
	run := func(ctx context.Context, job string, attempt, attempts int) (schedule.Outcome, error) {
		now, err := config.Load(configPath) // a config edited since start applies now
		if err != nil {
			if attempt == 1 || attempt == attempts {
				etl.NotifyFailure(ctx, cfg.Notify, job, err, log)
			}
			return schedule.Outcome{}, err
		}
		res, err := etl.Run(ctx, etl.Options{Config: now, Job: job, Trigger: "schedule", Logger: log.With("attempt", attempt),
			Abandon: abandon, Attempt: attempt, Attempts: attempts})
		out := schedule.Outcome{}
		if res != nil {
			out.RunID, out.RowsOut = res.RunID, res.RowsOut
		}
		return out, err
	}
	s, err := schedule.New(schedule.Options{Jobs: jobs, Run: run, Logger: log, History: history, OverdueAfter: cfg.Scheduler.OverdueAfter})
	if err != nil {
		return err
	}
	if cfg.Scheduler.Listen != "off" && cfg.Scheduler.Listen != "" {
		ln, err := net.Listen("tcp", cfg.Scheduler.Listen)
		if err != nil {
			return fmt.Errorf("scheduler.listen: %w", err)
		}
		srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("health and metrics server stopped", "error", err)
			}
		}()
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			srv.Shutdown(sctx)
		}()
		log.Info("serving /healthz and /metrics", "address", "http://"+ln.Addr().String())
	}
	err = s.Start(ctx)
	log.Info("scheduler stopped", "cause", fmt.Sprint(context.Cause(ctx)))
	return err
}
