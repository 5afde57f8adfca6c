package main

import (
	"database/sql"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/uptake-dev/uptake/config"
	"github.com/uptake-dev/uptake/etl"
)

// printSummary writes the one-screen summary of a run.
func printSummary(w io.Writer, cfg *config.Config, res *etl.Result, runErr error) {
	if res == nil {
		return
	}
	status := "succeeded"
	if runErr != nil {
		status = "FAILED"
	}
	elapsed := res.EndedAt.Sub(res.StartedAt)
	if res.EndedAt.IsZero() {
		elapsed = time.Since(res.StartedAt)
	}
	fmt.Fprintf(w, "uptake run %s %s in %s\n", res.RunID, status, elapsed.Round(time.Millisecond))
	if !res.WindowStart.IsZero() {
		fmt.Fprintf(w, "period     %s to %s\n", res.WindowStart.Format("2006-01"), res.WindowEnd.Format("2006-01"))
	}
	if len(res.RowsIn) > 0 || res.FilesRead+res.FilesKept > 0 {
		fmt.Fprintln(w, "\ninputs")
		for _, t := range keys(res.RowsIn) {
			if res.RowsIn[t] > 0 { // tables no source fills are left out
				fmt.Fprintf(w, "  %-24s %10d rows\n", t, res.RowsIn[t])
			}
		}
	}
	if res.FilesRead+res.FilesKept > 0 {
		fmt.Fprintf(w, "  %-24s %d read, %d unchanged since an earlier run read them\n", "files", res.FilesRead, res.FilesKept)
	}
	if res.MonthsKept+res.ModelsKept > 0 {
		fmt.Fprintf(w, "  %-24s %d months built, %d kept (inputs unchanged); %d other models kept\n", "models", res.MonthsBuilt, res.MonthsKept, res.ModelsKept)
	}
	if e := res.Excluded; e.Customers+e.Users > 0 {
		fmt.Fprintf(w, "  %-24s %d customers, %d users (exclude: in the config)\n", "excluded", e.Customers, e.Users)
	}
	if res.Rejected > 0 {
		fmt.Fprintf(w, "  %-24s %10d rows (see the rejects table, run %s)\n", "rejected", res.Rejected, res.RunID)
	}
	if len(res.RowsOut) > 0 && runErr == nil {
		fmt.Fprintln(w, "\noutputs")
		for _, t := range res.Outputs {
			fmt.Fprintf(w, "  %-24s %10d rows\n", t, res.RowsOut[t])
		}
	}
	if h := res.Headline; h != nil && runErr == nil {
		fmt.Fprintf(w, "\n%s (latest complete month)\n", h.Month.Format("January 2006"))
		fmt.Fprintf(w, "  monthly active rate   %8s  (%d active / %d activated customers)\n", pct(h.MonthlyActiveRate), h.ActiveCustomers, h.ActivatedCustomers)
		fmt.Fprintf(w, "  score vs last month   %8s\n", signedPct(h.ScoreMoM))
		fmt.Fprintf(w, "  usage                 %8s  (%d active / %d users)\n", pct(h.UsagePct), h.ActiveUsers, h.Users)
		fmt.Fprintf(w, "  license utilization   %8s  (%d customers below %g %%)\n", pct(h.LicenseUtilization), h.LowUtilizationCustomers, cfg.KPI.LowUtilizationPct)
		fmt.Fprintf(w, "  DAU/MAU               %8s\n", pct(h.DAUMAU))
		fmt.Fprintf(w, "  champions             %8d\n", h.Champions)
		fmt.Fprintf(w, "  churn risks           %8d\n", h.ChurnRisks)
	}
	for _, warn := range res.Warnings {
		fmt.Fprintf(w, "\nwarning: %s\n", warn)
	}
	if runErr != nil {
		fmt.Fprintf(w, "\nerror: %s\n", indent(runErr.Error()))
		switch {
		case len(res.Published) == 0:
			fmt.Fprintln(w, "\nNothing was published; the previous outputs are unchanged.")
		case len(res.NotPublished) == 0:
			fmt.Fprintf(w, "\nPublished to %s; the failure came after, and the warehouse keeps its previous tables: the next run publishes again.\n",
				strings.Join(res.Published, ", "))
		default:
			fmt.Fprintf(w, "\nPublished to %s before the failure; not to %s, which keep the previous run's tables, as does the warehouse. The next run publishes to every destination again.\n",
				strings.Join(res.Published, ", "), strings.Join(res.NotPublished, ", "))
		}
		return
	}
	for _, d := range res.Destinations {
		fmt.Fprintf(w, "\npublished to %s\n", d)
	}
}

func pct(v sql.NullFloat64) string {
	if !v.Valid {
		return "—"
	}
	return fmt.Sprintf("%.1f %%", 100*v.Float64)
}

func signedPct(v sql.NullFloat64) string {
	if !v.Valid {
		return "—"
	}
	return fmt.Sprintf("%+.1f %%", 100*v.Float64)
}

func indent(s string) string { return strings.ReplaceAll(s, "\n", "\n  ") }

func keys(m map[string]int64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
