package ga4file

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
	"go.yaml.in/yaml/v3"

	"github.com/uptake-dev/uptake/config"
	"github.com/uptake-dev/uptake/connectors"
	"github.com/uptake-dev/uptake/sql/sqltest"
)

func TestReadsTheGA4ExportLikeThePushdown(t *testing.T) {
	dir := t.TempDir()
	// 2026-09-01 10:00Z (u1, E1), 23:30Z (a pseudo user of E2: Sep 2 in Paris),
	// a session_start (not usage), and an event on the as-of day (not read).
	lines := []string{
		`{"event_timestamp": 1788256800000000, "event_name": "page_view", "user_id": "u1", "user_pseudo_id": "p1", "user_properties": [{"key": "customer_ref", "value": {"string_value": "E1"}}]}`,
		`{"event_timestamp": 1788256860000000, "event_name": "page_view", "user_id": "u1", "user_pseudo_id": "p1", "user_properties": [{"key": "plan", "value": {"string_value": "gold"}}, {"key": "customer_ref", "value": {"string_value": "E1"}}]}`,
		`{"event_timestamp": 1788305400000000, "event_name": "page_view", "user_id": null, "user_pseudo_id": "p9", "user_properties": [{"key": "customer_ref", "value": {"string_value": "E2"}}]}`,
		`{"event_timestamp": 1788256900000000, "event_name": "session_start", "user_id": "u1", "user_pseudo_id": "p1", "user_properties": []}`,
		`{"event_timestamp": 1788429600000000, "event_name": "page_view", "user_id": "u1", "user_pseudo_id": "p1", "user_properties": []}`,
	}
	os.WriteFile(filepath.Join(dir, "ga4_events_2026-09.jsonl"), []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	var doc yaml.Node
	yaml.Unmarshal([]byte("kind: ga4_export_file\npath: "+dir+"/ga4_events_*.jsonl\ncustomer_property: customer_ref\nusage_events: [page_view]\n"), &doc)
	s, err := New(config.Plugin{Name: "web", Kind: "ga4_export_file", Node: doc.Content[0], File: "u.yaml"}, "Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	conn := sqltest.Conn(t)
	ex, err := s.Extract(context.Background(), conn, connectors.Run{AsOf: time.Date(2026, 9, 3, 0, 0, 0, 0, time.UTC), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := conn.QueryContext(context.Background(), `SELECT day::VARCHAR || ' ' || user_id || ' ' || customer_ref || ' ' || event || ' ' || count || ' ' || source FROM ga4file_web ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var r string
		rows.Scan(&r)
		got = append(got, r)
	}
	want := "2026-09-01 u1 E1 page_view 2 ga4_export,2026-09-02 ga4:p9 E2 page_view 1 ga4_export"
	if strings.Join(got, ",") != want || ex.RowsIn["raw_activity"] != 2 {
		t.Errorf("rows = %v (in %v), want %s", got, ex.RowsIn, want)
	}
}

func TestLookbackDaysIsChecked(t *testing.T) {
	var doc yaml.Node
	yaml.Unmarshal([]byte("kind: ga4_export_file\npath: x\ncustomer_property: c\nusage_events: [page_view]\nlookback_days: -2\n"), &doc)
	if _, err := New(config.Plugin{Name: "web", Kind: "ga4_export_file", Node: doc.Content[0], File: "u.yaml"}, "UTC"); err == nil ||
		!strings.Contains(err.Error(), "lookback_days must be between 0 and 60, not -2") {
		t.Errorf("err = %v", err)
	}
}
