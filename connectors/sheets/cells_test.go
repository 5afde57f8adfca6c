package sheets

// How rows become cells: values of every type, the rows max_rows keeps.

import (
	"context"
	"math/big"
	"strings"
	"testing"
	"time"
)

func TestCellValuesOfEveryType(t *testing.T) {
	d := column{duckType: "DATE"}
	// 9999-12-31, the "no end" date, is serial 2958465.
	if v := cell(time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), d).UserEnteredValue; v == nil || *v.NumberValue != 2958465 {
		t.Errorf("9999-12-31 = %v", v)
	}
	if v := cell(time.Date(1900, 3, 1, 12, 0, 0, 0, time.UTC), d).UserEnteredValue; *v.NumberValue != 61.5 {
		t.Errorf("1900-03-01 12:00 = %v", *v.NumberValue)
	}
	if v := cell(new(big.Int).SetInt64(12345), column{duckType: "HUGEINT"}).UserEnteredValue; v.NumberValue == nil || *v.NumberValue != 12345 {
		t.Errorf("HUGEINT = %+v", v)
	}
	if v := cell(uint16(7), column{duckType: "USMALLINT"}).UserEnteredValue; v.NumberValue == nil || *v.NumberValue != 7 {
		t.Errorf("USMALLINT = %+v", v)
	}
	if v := cell("=1+1", column{duckType: "VARCHAR"}).UserEnteredValue; v.StringValue == nil || *v.StringValue != "=1+1" || v.FormulaValue != nil {
		t.Errorf("text = %+v", v)
	}
}

func TestMaxRowsKeepsWholeRecentMonths(t *testing.T) {
	conn := kpiTable(t, `(DATE '2026-09-01', 'A', 1, 0.1, true, TIMESTAMP '2026-10-01'), (DATE '2026-09-01', 'B', 1, 0.1, true, TIMESTAMP '2026-10-01'),
		(DATE '2026-10-01', 'C', 1, 0.1, true, TIMESTAMP '2026-10-01'), (DATE '2026-10-01', 'D', 1, 0.1, true, TIMESTAMP '2026-10-01')`)
	cols, err := columnsOf(context.Background(), conn, "kpi")
	if err != nil {
		t.Fatal(err)
	}
	// A cap smaller than the latest month takes the same part of it every time.
	for limit, want := range map[int]string{3: "C,D", 4: "A,B,C,D", 1: "C"} {
		s, err := selectRows(context.Background(), conn, "kpi", cols, limit)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := readRows(context.Background(), conn, cols, s)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range rows[1:] {
			got = append(got, *r.Values[1].UserEnteredValue.StringValue)
		}
		if strings.Join(got, ",") != want || s.rows != int64(len(got)) {
			t.Errorf("max_rows %d: %v (counted %d), want %s", limit, got, s.rows, want)
		}
	}
}

func TestRunsTabListsTheNewestRunsFirst(t *testing.T) {
	conn := kpiTable(t, `(DATE '2026-10-01', 'x', 1, 0.1, true, TIMESTAMP '2026-10-01')`)
	for _, q := range []string{
		`CREATE TABLE runs (run_id VARCHAR, status VARCHAR, started_at TIMESTAMP, rows_out VARCHAR, published_at TIMESTAMP)`,
		`INSERT INTO runs VALUES ('r1', 'success', TIMESTAMP '2026-10-01 02:00:00', '{"kpi":3}', TIMESTAMP '2026-10-03 02:00:00'),
			('r2', 'failed', TIMESTAMP '2026-10-02 02:00:00', NULL, TIMESTAMP '2026-10-03 02:00:00'),
			('r3', 'running', TIMESTAMP '2026-10-03 02:00:00', NULL, TIMESTAMP '2026-10-03 02:00:00')`,
	} {
		if _, err := conn.ExecContext(context.Background(), q); err != nil {
			t.Fatal(err)
		}
	}
	cols, err := columnsOf(context.Background(), conn, "runs")
	if err != nil {
		t.Fatal(err)
	}
	// No month column: max_rows keeps the newest runs, newest first.
	for limit, want := range map[int]string{0: "r3,r2,r1", 5: "r3,r2,r1", 2: "r3,r2", 1: "r3"} {
		s, err := selectRows(context.Background(), conn, "runs", cols, limit)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := readRows(context.Background(), conn, cols, s)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range rows[1:] {
			got = append(got, *r.Values[0].UserEnteredValue.StringValue)
		}
		if strings.Join(got, ",") != want || s.rows != int64(len(got)) || s.total != 3 {
			t.Errorf("max_rows %d: %v (counted %d of %d), want %s", limit, got, s.rows, s.total, want)
		}
	}
	// The JSON counts are text; the start time a date-time.
	rows, err := readRows(context.Background(), conn, cols, selection{query: `SELECT * FROM runs WHERE run_id = 'r1'`})
	if err != nil {
		t.Fatal(err)
	}
	if v := rows[1].Values[3].UserEnteredValue; v == nil || v.StringValue == nil || *v.StringValue != `{"kpi":3}` {
		t.Errorf("rows_out cell = %+v", v)
	}
	if f := rows[1].Values[2].UserEnteredFormat; f == nil || f.NumberFormat.Type != "DATE_TIME" {
		t.Errorf("started_at format = %+v", f)
	}
}
