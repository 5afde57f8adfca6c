package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/uptake-dev/uptake/config"
	"github.com/uptake-dev/uptake/etl"
)

func newBackfillCmd(g *globalFlags) *cobra.Command {
	var (
		configPath, from, to string
		force                bool
	)
	cmd := &cobra.Command{
		Use:   "backfill",
		Short: "Run each month of a past period in order, resuming where a previous backfill stopped",
		Long: `Run each month from --from to --to in order, as if run on the first day of the
next month: incremental sources (GA4) pull that month only, and the month is
reported complete. Months a backfill already did are skipped unless --force,
so the same command resumes a backfill that stopped. The tables published at
the end are those of the last month; the next nightly run publishes today's.`,
		Example: `  uptake backfill --config uptake.yaml --from 2026-01 --to 2026-10`,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(configPath)
			if err != nil {
				return err
			}
			var months [2]time.Time
			for i, f := range []struct{ flag, value string }{{"--from", from}, {"--to", to}} {
				if months[i], err = parseFlagTime(f.flag, f.value, monthLayout); err != nil {
					return err
				}
			}
			stderr := cmd.ErrOrStderr()
			terminal := isTerminal(stderr)
			if terminal && !cmd.Flags().Changed("log-level") {
				g.logLevel = "warn" // the progress bar says what the info lines would
			}
			log, err := g.logger(stderr)
			if err != nil {
				return err
			}
			var p progress = &lineProgress{w: cmd.OutOrStdout()}
			if terminal {
				p = &barProgress{w: stderr}
			}
			results, err := etl.Backfill(cmd.Context(), etl.BackfillOptions{
				Run:      etl.Options{Config: cfg, Logger: log, Abandon: abandonContext(cmd.Context()), OnStep: p.step},
				From:     months[0],
				To:       months[1],
				Force:    force,
				OnPeriod: p.period,
			})
			p.close()
			if err == nil && len(results) == 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "backfill: every month from %s to %s is already done (--force runs them again)\n", from, to)
			}
			return err
		},
	}
	cmd.Flags().StringVarP(&configPath, "config", "c", "uptake.yaml", "config file")
	cmd.Flags().StringVar(&from, "from", "", "first month (YYYY-MM)")
	cmd.Flags().StringVar(&to, "to", "", "last month (YYYY-MM), complete")
	cmd.Flags().BoolVar(&force, "force", false, "run again the months a backfill already did")
	cmd.MarkFlagRequired("from")
	cmd.MarkFlagRequired("to")
	return cmd
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progress shows a backfill's progress.
type progress interface {
	period(etl.PeriodEvent)
	step(etl.Step)
	close()
}

// tally is what both kinds of progress compute: rows per second of the
// period in flight, and the time left from the periods done.
type tally struct {
	total, done    int
	started        time.Time // of the whole backfill
	periodStart    time.Time
	rows           int64         // extracted in the period in flight
	month          string        // in flight
	periodDuration time.Duration // sum over the periods done
}

func (t *tally) begin(e etl.PeriodEvent) {
	if t.started.IsZero() {
		t.started = time.Now()
	}
	t.total, t.month, t.periodStart, t.rows = e.Total, e.Period.Format("2006-01"), time.Now(), 0
}

func (t *tally) end() {
	t.done++
	t.periodDuration += time.Since(t.periodStart)
}

func (t *tally) rate() float64 {
	s := time.Since(t.periodStart).Seconds()
	if s <= 0 {
		return 0
	}
	return float64(t.rows) / s
}

// eta is the time left, from the mean duration of the periods done.
func (t *tally) eta() time.Duration {
	if t.done == 0 {
		return 0
	}
	return (t.periodDuration / time.Duration(t.done) * time.Duration(t.total-t.done)).Round(time.Second)
}

// lineProgress writes one plain line per period start and end (logs,
// pipes, CI).
type lineProgress struct {
	w io.Writer
	tally
}

func (p *lineProgress) period(e etl.PeriodEvent) {
	if e.Result == nil && e.Err == nil {
		if e.Index == 1 && len(e.Skipped) > 0 {
			fmt.Fprintf(p.w, "backfill: %s already done, skipped (--force runs them again)\n", months(e.Skipped))
		}
		p.begin(e)
		fmt.Fprintf(p.w, "backfill %s (%d/%d): started\n", p.month, e.Index, e.Total)
		return
	}
	p.end()
	took := time.Since(p.periodStart).Round(time.Millisecond)
	if e.Err != nil {
		fmt.Fprintf(p.w, "backfill %s (%d/%d): FAILED after %s: %v\n", p.month, e.Index, e.Total, took, e.Err)
		return
	}
	fmt.Fprintf(p.w, "backfill %s (%d/%d): done in %s, %d rows read, %d rows published, %.0f rows/s, ETA %s\n",
		p.month, e.Index, e.Total, took, total(e.Result.RowsIn), total(e.Result.RowsOut), p.rate(), p.eta())
}

func (p *lineProgress) step(s etl.Step) {
	if s.Name == "extract" {
		p.rows += s.Rows
	}
}

func (p *lineProgress) close() {
	if p.total > 0 {
		fmt.Fprintf(p.w, "backfill: %d of %d months done in %s\n", p.done, p.total, time.Since(p.started).Round(time.Second))
	}
}

// barProgress draws a progress bar over the periods on a terminal: the
// period, its step, rows/s and the time left.
type barProgress struct {
	w   io.Writer
	bar *progressbar.ProgressBar
	tally
}

func (p *barProgress) period(e etl.PeriodEvent) {
	if p.bar == nil {
		if len(e.Skipped) > 0 {
			fmt.Fprintf(p.w, "backfill: %s already done, skipped (--force runs them again)\n", months(e.Skipped))
		}
		p.bar = progressbar.NewOptions(e.Total, progressbar.OptionSetWriter(p.w), progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true), progressbar.OptionSetElapsedTime(true), progressbar.OptionSetWidth(20),
			progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionSetRenderBlankState(true),
			progressbar.OptionShowElapsedTimeOnFinish())
	}
	if e.Result == nil && e.Err == nil {
		p.begin(e)
		p.bar.Describe(fmt.Sprintf("%s extract", p.month))
		return
	}
	p.end()
	if e.Err != nil {
		p.bar.Exit()
		fmt.Fprintf(p.w, "\nbackfill %s FAILED: %v\n", p.month, e.Err)
		return
	}
	p.bar.Describe(fmt.Sprintf("%s done", p.month))
	p.bar.Add(1)
}

func (p *barProgress) step(s etl.Step) {
	if s.Name == "extract" {
		p.rows += s.Rows
	}
	if p.bar != nil {
		p.bar.Describe(fmt.Sprintf("%s %s %s, %s rows/s", p.month, s.Name, s.Table, thousands(int64(p.rate()))))
	}
}

func (p *barProgress) close() {
	if p.bar != nil {
		p.bar.Finish()
		fmt.Fprintln(p.w)
	}
}

func months(ms []time.Time) string {
	var s []string
	for _, m := range ms {
		s = append(s, m.Format("2006-01"))
	}
	return strings.Join(s, ", ")
}

func thousands(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
