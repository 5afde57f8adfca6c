package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/uptake-dev/uptake/config"
	"github.com/uptake-dev/uptake/etl"
)

func newHistoryCmd() *cobra.Command {
	var (
		configPath string
		limit      int
	)
	cmd := &cobra.Command{
		Use:   "history",
		Short: "List the last runs: when, what, how many rows, and why a run failed",
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(configPath)
			if err != nil {
				return err
			}
			runs, err := etl.History(cmd.Context(), cfg, limit)
			if err != nil {
				return err
			}
			printHistory(cmd.OutOrStdout(), runs)
			return nil
		},
	}
	cmd.Flags().StringVarP(&configPath, "config", "c", "uptake.yaml", "config file")
	cmd.Flags().IntVarP(&limit, "last", "n", 20, "how many runs to list")
	return cmd
}

func printHistory(w io.Writer, runs []etl.RunRecord) {
	if len(runs) == 0 {
		fmt.Fprintln(w, "no runs yet")
		return
	}
	fmt.Fprintf(w, "%-24s %-16s %-8s %-8s %-17s %-19s %9s %10s %10s\n", "run", "job", "trigger", "status", "period", "started", "duration", "rows in", "rows out")
	for _, r := range runs {
		period, duration := "", ""
		if r.WindowStart.Valid {
			period = r.WindowStart.Time.Format("2006-01") + " to " + r.WindowEnd.Time.Format("2006-01")
		}
		if r.EndedAt.Valid {
			duration = r.EndedAt.Time.Sub(r.StartedAt).Round(time.Millisecond).String()
		}
		fmt.Fprintf(w, "%-24s %-16s %-8s %-8s %-17s %-19s %9s %10d %10d\n", r.RunID, r.Job, r.Trigger, r.Status, period,
			r.StartedAt.Local().Format("2006-01-02 15:04:05"), duration, total(r.RowsIn), total(r.RowsOut))
		if r.Error.Valid {
			fmt.Fprintf(w, "    error: %s\n", strings.ReplaceAll(r.Error.String, "\n", "\n    "))
		}
	}
}

func total(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}
