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
	uptakesql "github.com/uptake-dev/uptake/sql"
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
				fmt.Fprintf(w, "  %-24s %10d %s\n", t, res.RowsIn[t], rowsWord(res.RowsIn[t]))
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
			fmt.Fprintf(w, "  %-24s %10d %s\n", t, res.RowsOut[t], rowsWord(res.RowsOut[t]))
		}
	}
	if h := res.Headline; h != nil && runErr == nil {
		fmt.Fprintf(w, "\n%s (latest complete month)\n", h.Month.Format("January 2006"))
		label := overviewLabels()
		line := func(column, value, detail string) {
			fmt.Fprintf(w, "  %-22s%8s%s\n", label(column), value, detail)
		}
		line("monthly_active_rate", pct(h.MonthlyActiveRate), fmt.Sprintf("  (%d active / %d activated customers)", h.ActiveCustomers, h.ActivatedCustomers))
		line("score_mom", signedPct(h.ScoreMoM), "")
		line("usage_pct", pct(h.UsagePct), fmt.Sprintf("  (%d active / %d users)", h.ActiveUsers, h.Users))
		line("license_utilization", pct(h.LicenseUtilization), fmt.Sprintf("  (%d customers below %g %%)", h.LowUtilizationCustomers, cfg.KPI.LowUtilizationPct))
		line("dau_mau", pct(h.DAUMAU), "")
		line("champions", fmt.Sprint(h.Champions), "")
		line("churn_risks", fmt.Sprint(h.ChurnRisks), "")
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

// rowsWord is "row" for one, "rows" otherwise.
func rowsWord(n int64) string {
	if n == 1 {
		return "row"
	}
	return "rows"
}

func keys(m map[string]int64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// overviewLabels names kpi_overview_monthly's columns as
// sql/marts/schema.yml labels them (the report and BigQuery do the same).
func overviewLabels() func(column string) string {
	schema, err := uptakesql.ReadSchema()
	if err != nil {
		return func(column string) string { return column }
	}
	docs := schema.Docs(nil)["kpi_overview_monthly"]
	return func(column string) string {
		if d, ok := docs.Columns[column]; ok {
			return d.Label
		}
		return column
	}
}
