package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/uptake-dev/uptake/config"
	"github.com/uptake-dev/uptake/etl"
)

func newReconcileCmd() *cobra.Command {
	var (
		configPath, from, to string
		threshold            float64
		all                  bool
	)
	cmd := &cobra.Command{
		Use:   "reconcile",
		Short: "Compare GA4's daily events and active users from the Data API and from the export, and print the days that differ",
		Long: `Compare, day by day, what the warehouse holds from the GA4 Data API (a kind: ga4
source) and from the GA4 export (ga4_bigquery or ga4_export_file) for the same
property: event counts and active users, for the events both hold. Prints the
days whose difference passes --threshold (all days with --all). Run uptake
first (uptake run --from/--to pulls older days).`,
		Example: `  uptake reconcile --config uptake.yaml --from 2026-10-01 --to 2026-10-31`,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(configPath)
			if err != nil {
				return err
			}
			var days [2]time.Time
			for i, f := range []struct{ flag, value string }{{"--from", from}, {"--to", to}} {
				if days[i], err = parseFlagTime(f.flag, f.value, dayLayout); err != nil {
					return err
				}
			}
			res, err := etl.Reconcile(cmd.Context(), cfg, days[0], days[1], threshold)
			if err != nil {
				return err
			}
			printReconcile(cmd.OutOrStdout(), res, threshold, all)
			return nil
		},
	}
	cmd.Flags().StringVarP(&configPath, "config", "c", "uptake.yaml", "config file")
	cmd.Flags().StringVar(&from, "from", "", "first day (YYYY-MM-DD)")
	cmd.Flags().StringVar(&to, "to", "", "last day (YYYY-MM-DD)")
	cmd.Flags().Float64Var(&threshold, "threshold", 5, "difference (percent of the larger count) from which a day is printed")
	cmd.Flags().BoolVar(&all, "all", false, "print every day, not only those past the threshold")
	cmd.MarkFlagRequired("from")
	cmd.MarkFlagRequired("to")
	return cmd
}

func printReconcile(w io.Writer, days []etl.ReconcileDay, threshold float64, all bool) {
	flagged := 0
	for _, d := range days {
		if d.OverThreshold {
			flagged++
		}
	}
	fmt.Fprintf(w, "%d of %d days differ by more than %g %% between the GA4 Data API and the export\n", flagged, len(days), threshold)
	if flagged == 0 && !all {
		return
	}
	fmt.Fprintf(w, "%-10s %12s %12s %8s %10s %10s %8s\n", "day", "API events", "export", "diff", "API users", "export", "diff")
	for _, d := range days {
		if !all && !d.OverThreshold {
			continue
		}
		fmt.Fprintf(w, "%-10s %12d %12d %7.1f%% %10d %10d %7.1f%%\n", d.Day.Format("2006-01-02"),
			d.APIEvents, d.ExportEvents, 100*d.EventsDiff, d.APIUsers, d.ExportUsers, 100*d.UsersDiff)
	}
	for _, d := range days {
		if d.OverThreshold && d.Cause != "" {
			fmt.Fprintf(w, "likely cause: %s\n", d.Cause)
			return
		}
	}
}
