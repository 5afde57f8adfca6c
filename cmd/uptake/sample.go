package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/uptake-dev/uptake/connectors/csvexport/sample"
)

func newSampleCmd() *cobra.Command {
	var (
		opt   sample.Options
		end   string
		force bool
	)
	cmd := &cobra.Command{
		Use:   "sample",
		Short: "Generate realistic platform exports (establishments, users, activity) and a GA4 export, deterministic per seed",
		Example: `  uptake sample --out testdata/sample --customers 200 --users 3000 --months 12 --seed 1 --end 2026-10
  uptake sample --out /tmp/big --customers 50000 --users 1000000 --activity 10000000`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if end == "" {
				now := time.Now().UTC()
				opt.End = time.Date(now.Year(), now.Month()-1, 1, 0, 0, 0, 0, time.UTC)
			} else {
				t, err := parseFlagTime("--end", end, monthLayout)
				if err != nil {
					return err
				}
				opt.End = t
			}
			if entries, err := os.ReadDir(opt.Out); err == nil && len(entries) > 0 && !force {
				return fmt.Errorf("%s is not empty: choose a new folder, or pass --force to write into it", opt.Out)
			}
			t0 := time.Now()
			sum, err := sample.Generate(cmd.Context(), opt)
			if err != nil {
				return err
			}
			ga4, err := sample.WriteGA4(opt.Out)
			if err != nil {
				return err
			}
			sum.Files = append(sum.Files, ga4...)
			w := cmd.OutOrStdout()
			for _, f := range sum.Files {
				fmt.Fprintf(w, "%-48s %10d rows\n", f.Path, f.Rows)
			}
			fmt.Fprintf(w, "%d customers, %d users, %d activity rows in %s\n", sum.Customers, sum.Users, sum.ActivityRows, time.Since(t0).Round(time.Millisecond))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&opt.Out, "out", "sample", "output folder")
	f.IntVar(&opt.Customers, "customers", 200, "number of customers (establishments)")
	f.IntVar(&opt.Users, "users", 3000, "number of users")
	f.IntVar(&opt.Months, "months", 12, "number of complete months")
	f.Uint64Var(&opt.Seed, "seed", 1, "random seed: the same seed gives the same files")
	f.IntVar(&opt.ActivityRows, "activity", 0, "approximate number of activity rows (0: about 13 per user and active month)")
	f.IntVar(&opt.Salespeople, "salespeople", 5, "number of salespeople")
	f.StringVar(&end, "end", "", "last month of data, YYYY-MM (default: last month; give it for files that stay the same over time)")
	f.BoolVar(&force, "force", false, "write into a folder that is not empty")
	return cmd
}
