package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/uptake-dev/uptake/config"
	"github.com/uptake-dev/uptake/etl"
)

func newRunCmd(g *globalFlags) *cobra.Command {
	var (
		configPath  string
		asOf        string
		from, to    string
		allowShrink bool
		fullRefresh bool
	)
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Pull the sources, build the KPI tables and publish them (one run)",
		Example: `  uptake run --config config/sample.yaml
  uptake run --config uptake.yaml --as-of 2026-11-01`,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(configPath)
			if err != nil {
				return err
			}
			log, err := g.logger(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			opt := etl.Options{Config: cfg, AllowShrink: allowShrink, FullRefresh: fullRefresh, Logger: log, Abandon: abandonContext(cmd.Context())}
			for _, f := range []struct {
				flag, value string
				into        *time.Time
			}{{"--as-of", asOf, &opt.AsOf}, {"--from", from, &opt.From}, {"--to", to, &opt.To}} {
				if *f.into, err = parseFlagTime(f.flag, f.value, dayLayout); err != nil {
					return err
				}
			}
			res, err := etl.Run(cmd.Context(), opt)
			printSummary(cmd.OutOrStdout(), cfg, res, err)
			if err != nil {
				return exitError{code: 1}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&configPath, "config", "c", "uptake.yaml", "config file")
	cmd.Flags().StringVar(&asOf, "as-of", "", "run as if today were this date (YYYY-MM-DD); its month is reported as incomplete")
	cmd.Flags().StringVar(&from, "from", "", "first day incremental sources pull (YYYY-MM-DD; default: their watermark minus the lookback)")
	cmd.Flags().StringVar(&to, "to", "", "last day incremental sources pull (YYYY-MM-DD; default: yesterday)")
	cmd.Flags().BoolVar(&allowShrink, "allow-shrink", false, "publish even when a table lost more than checks.max_shrink_pct of its rows")
	cmd.Flags().BoolVar(&fullRefresh, "full-refresh", false, "read every input file again and rebuild everything, whatever the warehouse kept from earlier runs")
	return cmd
}
