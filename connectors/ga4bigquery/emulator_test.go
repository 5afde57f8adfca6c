package ga4bigquery

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/uptake-dev/uptake/config"
	"github.com/uptake-dev/uptake/connectors"
	"github.com/uptake-dev/uptake/connectors/ga4bigquery/ga4emu"
	"github.com/uptake-dev/uptake/etl/warehouse"
	"github.com/uptake-dev/uptake/sql/sqltest"
)

// TestPushdownOnTheEmulator runs the GA4 export query on the BigQuery
// emulator's GoogleSQL engine over GA4-shaped tables (nested
// user_properties, daily and intraday tables).
func TestPushdownOnTheEmulator(t *testing.T) {
	emu := ga4emu.New(t)
	host, project, dataset := emu.Host, emu.Project, emu.Name
	ctx := context.Background()
	at := func(s string) time.Time { tt, _ := time.Parse(time.RFC3339, s); return tt }
	event := func(ts, name, userID, pseudo, customer string) ga4emu.Event {
		return ga4emu.Event{At: at(ts), Name: name, UserID: userID, PseudoID: pseudo, Customer: customer}
	}
	// Sep 1: u1 views at 12:00 Paris; p9 (no user id) views at 01:30 Paris on Sep 2; a session_start.
	emu.Table(t, "events_20260901", event("2026-09-01T10:00:00Z", "page_view", "u1", "p1", "E1"), event("2026-09-01T23:30:00Z", "page_view", "", "p9", "E2"),
		event("2026-09-01T10:05:00Z", "session_start", "u1", "p1", "E1"))
	// The intraday copy of Sep 1 is ignored: its daily table exists.
	emu.Table(t, "events_intraday_20260901", event("2026-09-01T10:00:00Z", "page_view", "u1", "p1", "E1"))
	// Sep 2 only has its intraday table yet.
	emu.Table(t, "events_intraday_20260902", event("2026-09-02T08:00:00Z", "page_view", "u1", "p1", "E1"))
	var doc yaml.Node
	yaml.Unmarshal([]byte(fmt.Sprintf("kind: ga4_bigquery\nproject: %s\ndataset: %s\nlocation: US\ncustomer_property: customer_ref\nusage_events: [page_view]\nstart_date: 2026-09-01\nendpoint: http://%s\n", project, dataset, host)), &doc)
	s, err := New(config.Plugin{Name: "export", Kind: "ga4_bigquery", Node: doc.Content[0], File: "u.yaml"}, "Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	conn := sqltest.Conn(t)
	// As of Sep 5: the window is Sep 1 to Sep 4; Sep 3 and 4 have no table.
	run := connectors.Run{ID: "r1", AsOf: time.Date(2026, 9, 5, 0, 0, 0, 0, time.UTC), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	run.Rows = warehouse.RowWriter{Conn: conn}
	ex, err := s.Extract(ctx, conn, run)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := conn.QueryContext(ctx, `SELECT day::VARCHAR, user_id, customer_ref, event, count FROM ga4bq_export ORDER BY 1, 2`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var day, user, customer, event string
		var count int64
		if err := rows.Scan(&day, &user, &customer, &event, &count); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s %s %s %s %d", day, user, customer, event, count))
	}
	want := []string{"2026-09-01 u1 E1 page_view 1", "2026-09-02 ga4:p9 E2 page_view 1", "2026-09-02 u1 E1 page_view 1"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(ex.Windows) != 1 || ex.Windows[0].Source != "ga4_bigquery" || ex.Windows[0].To.Format("2006-01-02") != "2026-09-04" {
		t.Errorf("windows = %+v", ex.Windows)
	}
	if len(ex.Warnings) != 1 || !strings.Contains(ex.Warnings[0], "ga4_bigquery export: no export table for 2026-09-03, 2026-09-04 (neither") ||
		!strings.Contains(ex.Warnings[0], "1 million events a day") {
		t.Errorf("warnings = %q", ex.Warnings)
	}
}
