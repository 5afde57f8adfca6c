package sheets

import (
	"sort"
	"time"

	gsheets "google.golang.org/api/sheets/v4"

	"github.com/uptake-dev/uptake/connectors"
)

// day is a date shown without a time.
type day time.Time

func civilDay(t time.Time) day {
	return day(time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC))
}

// metaRows is the _meta tab: when, which run, which period, rows per tab.
func metaRows(run connectors.Run, out connectors.Published, written map[string]int64) []*gsheets.RowData {
	kv := [][2]any{{"key", "value"},
		{"last_refresh_utc", run.StartedAt.UTC()},
		{"run_id", run.ID},
	}
	if !out.WindowStart.IsZero() {
		// the first and the last day of the months covered
		kv = append(kv, [2]any{"period_start", civilDay(out.WindowStart)}, [2]any{"period_end", civilDay(out.WindowEnd.AddDate(0, 1, -1))})
	}
	names := make([]string, 0, len(written))
	for n := range written {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		kv = append(kv, [2]any{"rows:" + n, written[n]})
	}
	var rows []*gsheets.RowData
	for i, p := range kv {
		var c column
		switch v := p[1].(type) {
		case day:
			c.format = &gsheets.NumberFormat{Type: "DATE", Pattern: "yyyy-mm-dd"}
			p[1] = time.Time(v)
		case time.Time:
			c.format = &gsheets.NumberFormat{Type: "DATE_TIME", Pattern: "yyyy-mm-dd hh:mm:ss"}
		case int64:
			c.format = &gsheets.NumberFormat{Type: "NUMBER", Pattern: "0"}
		}
		if i == 0 {
			c.format = nil
		}
		rows = append(rows, &gsheets.RowData{Values: []*gsheets.CellData{cell(p[0], column{}), cell(p[1], c)}})
	}
	return rows
}
