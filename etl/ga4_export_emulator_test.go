package etl_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/uptake-dev/uptake/connectors/ga4bigquery/ga4emu"
	"github.com/uptake-dev/uptake/etl"
)

// A day exported only as its intraday table is pulled again by the next
// run's lookback once its daily table exists, and the daily table replaces
// it: no double count. On the BigQuery emulator (a real GoogleSQL engine).
func TestGA4ExportDailyTableReplacesIntraday(t *testing.T) {
	emu := ga4emu.New(t)
	ctx := context.Background()
	table := func(name string, users ...string) {
		t.Helper()
		var events []ga4emu.Event
		for i, u := range users { // Sep 2, 10:00 UTC onwards: noon in Paris
			events = append(events, ga4emu.Event{At: time.Date(2026, 9, 2, 10, i, 0, 0, time.UTC), Name: "page_view", UserID: u, PseudoID: "p-" + u, Customer: "E1"})
		}
		emu.Table(t, name, events...)
	}
	table("events_intraday_20260902", "u1")
	w := newWorkspace(t, fmt.Sprintf(`
  - name: export
    kind: ga4_bigquery
    project: %s
    dataset: %s
    location: US
    customer_property: customer_ref
    usage_events: [page_view]
    start_date: 2026-09-02
    endpoint: http://%s
`, emu.Project, emu.Name, emu.Host))
	pulled := func() string {
		return strings.Join(w.cells(`SELECT strftime(day, '%m-%d'), user_id, sum(count) FROM raw_activity
			WHERE source = 'ga4_bigquery' GROUP BY ALL ORDER BY ALL`), ", ")
	}
	// Sep 3: only the intraday table of Sep 2 exists: u1's one view.
	if _, err := w.runContext(ctx, etl.Options{AsOf: date(2026, 9, 3)}); err != nil {
		t.Fatal(err)
	}
	if got := pulled(); got != "09-02 u1 1" {
		t.Errorf("from the intraday table: %s", got)
	}
	// The daily table of Sep 2 lands (u1 twice, u2 once); the Sep 4 run's
	// lookback reads Sep 2 again: 3 views from the daily table, not 4.
	table("events_20260902", "u1", "u1", "u2")
	if _, err := w.runContext(ctx, etl.Options{AsOf: date(2026, 9, 4)}); err != nil {
		t.Fatal(err)
	}
	if got := pulled(); got != "09-02 u1 2, 09-02 u2 1" {
		t.Errorf("after the daily table: %s", got)
	}
}
