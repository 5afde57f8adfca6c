package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/uptake-dev/uptake/config"
	"github.com/uptake-dev/uptake/connectors"
	"github.com/uptake-dev/uptake/etl"
)

func newValidateCmd(g *globalFlags) *cobra.Command {
	var configPath, asOf string
	var configOnly bool
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check the config and read every input, printing every problem; publishes nothing",
		RunE: func(cmd *cobra.Command, args []string) error {
			w := cmd.OutOrStdout()
			cfg, err := config.Load(configPath)
			if err != nil {
				printProblems(w, configPath, err)
				return exitError{code: 1}
			}
			if configOnly {
				return reportConfig(w, cfg)
			}
			log, err := g.logger(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			at := time.Now()
			if asOf != "" {
				if at, err = parseFlagTime("--as-of", asOf, dayLayout); err != nil {
					return err
				}
			}
			rep, err := etl.Validate(cmd.Context(), cfg, at, log)
			if err != nil {
				return err
			}
			return report(cmd.Context(), w, cfg, rep)
		},
	}
	cmd.Flags().StringVarP(&configPath, "config", "c", "uptake.yaml", "config file")
	cmd.Flags().StringVar(&asOf, "as-of", "", "check as if today were this date (YYYY-MM-DD)")
	cmd.Flags().BoolVar(&configOnly, "config-only", false, "check the config and every connector's settings without reading any input (no file, no network)")
	return cmd
}

// reportConfig prints the problems and warnings of the config alone.
func reportConfig(w io.Writer, cfg *config.Config) error {
	warnings, err := etl.CheckConfig(cfg)
	for _, warn := range warnings {
		fmt.Fprintf(w, "warning: %s\n", indent(warn))
	}
	if err != nil {
		printProblems(w, cfg.File, err)
		return exitError{code: 1}
	}
	fmt.Fprintf(w, "ok: no problems found in %s (its inputs were not read)\n", cfg.File)
	return nil
}

// report prints what validate read, its warnings and its problems; "ok"
// only when it found no problem.
func report(_ context.Context, w io.Writer, cfg *config.Config, rep *etl.Validation) error {
	fmt.Fprintf(w, "config %s\n", cfg.File)
	for _, t := range keys(rep.Extracted.RowsRead) {
		fmt.Fprintf(w, "  %-24s %10d rows read, %d rejected\n", t, rep.Extracted.RowsRead[t], rep.Extracted.Rejected[t])
	}
	for _, r := range rep.Rejects {
		fmt.Fprintf(w, "  reject %s\n", r)
	}
	if more := connectorsRejected(rep.Extracted) - int64(len(rep.Rejects)); more > 0 {
		fmt.Fprintf(w, "  … and %d more rejected rows\n", more)
	}
	for _, warn := range rep.Warnings {
		fmt.Fprintf(w, "warning: %s\n", indent(warn))
	}
	if len(rep.RowsOut) > 0 {
		// Built from the inputs alone: what a warehouse keeps across runs
		// (older users snapshots, GA4 days pulled before) is not read.
		fmt.Fprintln(w, "a run would publish (from these inputs alone; what the warehouse keeps from earlier runs may add to it)")
		for _, t := range keys(rep.RowsOut) {
			fmt.Fprintf(w, "  %-24s %10d %s\n", t, rep.RowsOut[t], rowsWord(rep.RowsOut[t]))
		}
	}
	if len(rep.Problems) == 0 {
		if n := connectorsRejected(rep.Extracted); n > 0 {
			// Not "no problems": the rejects above are rows a run leaves out.
			fmt.Fprintf(w, "ok: %s and its inputs can run; %d %s rejected (listed above), within checks.max_reject_pct\n", cfg.File, n, rowsWord(n))
			return nil
		}
		fmt.Fprintf(w, "ok: no problems found in %s and its inputs\n", cfg.File)
		return nil
	}
	printProblems(w, cfg.File, errors.Join(rep.Problems...))
	return exitError{code: 1}
}

func connectorsRejected(e connectors.Extracted) int64 {
	var n int64
	for _, v := range e.Rejected {
		n += v
	}
	return n
}

func printProblems(w io.Writer, file string, err error) {
	var list []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = flatten(j.Unwrap())
	} else {
		list = []error{err}
	}
	fmt.Fprintf(w, "%d problem(s):\n", len(list))
	for _, e := range list {
		fmt.Fprintf(w, "  - %s\n", indent(e.Error()))
	}
}

func flatten(errs []error) []error {
	var out []error
	for _, e := range errs {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			out = append(out, flatten(j.Unwrap())...)
		} else {
			out = append(out, e)
		}
	}
	return out
}
