package bqfake_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/bigquery"
)

// BigQuery allows 5 table update operations per table every 10 seconds:
// tables.insert and patch, DML statements (each one of a transaction) and
// load jobs count; the 6th is refused with 403 rateLimitExceeded and
// changes nothing. Other tables have limits of their own.
func TestTableUpdateRateLimit(t *testing.T) {
	srv, c, ctx := setup(t)
	srv.SetTableUpdateRate(5, time.Hour) // the client retries a refused patch: not until the window ends
	createDataset(t, ctx, c, "kpis", "US")
	seed(t, c, "a", "('2026-09-01', 'Alice', 1)") // tables.insert + load: 2
	seed(t, c, "stg", "('2026-09-01', 'Bob', 2)") // other tables have limits of their own
	const insert = "INSERT INTO `uptake-test.kpis.%s` (`month`, `salesperson`, `n`) SELECT `month`, `salesperson`, `n` FROM `uptake-test.kpis.stg` WHERE TRUE;"
	status, err := runQuery(ctx, c, "BEGIN TRANSACTION; DELETE FROM `uptake-test.kpis.a` WHERE TRUE; "+fmt.Sprintf(insert, "a")+" COMMIT TRANSACTION;")
	if err != nil || status.Err() != nil {
		t.Fatalf("transaction: %v %v", err, status.Err())
	}
	tbl := c.Dataset("kpis").Table("a")
	if _, err := tbl.Update(ctx, bigquery.TableMetadataToUpdate{Description: "five"}, ""); err != nil {
		t.Fatal(err)
	}
	if n := srv.TableUpdates("kpis", "a"); n != 5 {
		t.Fatalf("%d table updates counted, want 5", n)
	}
	// The 6th: a patch answers 403 (the client retries it until its context
	// ends); a DML job ends with the error, and its whole transaction is
	// discarded.
	short, cancel := context.WithTimeout(ctx, 1500*time.Millisecond)
	_, err = tbl.Update(short, bigquery.TableMetadataToUpdate{Description: "six"}, "")
	cancel()
	if code, reason, msg := apiErr(t, err); code != 403 || reason != "rateLimitExceeded" || !strings.HasPrefix(msg, "Exceeded rate limits: too many table update operations for this table") {
		t.Errorf("patch: %d %s %s", code, reason, msg)
	}
	seed(t, c, "b", "")
	// (Job.Wait would poll a query job that failed with rateLimitExceeded
	// until its context ends: read its status once.)
	q := c.Query("BEGIN TRANSACTION; " + fmt.Sprintf(insert, "b") + " DELETE FROM `uptake-test.kpis.a` WHERE TRUE; COMMIT TRANSACTION;")
	job, err := q.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	status, err = job.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var berr *bigquery.Error
	if !errors.As(status.Err(), &berr) || berr.Reason != "rateLimitExceeded" || !strings.HasPrefix(berr.Message, "Exceeded rate limits: too many table update operations") {
		t.Errorf("DML past the limit: %v", status.Err())
	}
	if a, _ := srv.Table("kpis", "a"); len(a.Rows) != 1 || a.Description != "five" {
		t.Errorf("a changed: %v %q", a.Rows, a.Description)
	}
	if b, _ := srv.Table("kpis", "b"); len(b.Rows) != 0 {
		t.Errorf("b changed by a refused transaction: %v", b.Rows)
	}
	// The window slides.
	srv.SetTableUpdateRate(5, 50*time.Millisecond)
	time.Sleep(60 * time.Millisecond)
	if _, err := tbl.Update(ctx, bigquery.TableMetadataToUpdate{Description: "later"}, ""); err != nil {
		t.Errorf("after the window: %v", err)
	}
	// Off.
	srv.SetTableUpdateRate(0, 0)
	for i := 0; i < 7; i++ {
		if _, err := tbl.Update(ctx, bigquery.TableMetadataToUpdate{Description: "again"}, ""); err != nil {
			t.Fatalf("limit off: %v", err)
		}
	}
}

// A load job counts too, and a skewed load stores other rows than it
// reports.
func TestLoadsCountAndSkewedLoads(t *testing.T) {
	srv, c, ctx := setup(t)
	createDataset(t, ctx, c, "kpis", "US")
	data := writeParquet(t, "SELECT DATE '2026-09-01' AS month, 'Alice' AS salesperson, 1::BIGINT AS n, 0.5 AS r, true AS b, TIMESTAMP '2026-09-01 00:00:00' AS ts UNION ALL SELECT DATE '2026-09-01', 'Bob', 2, 0.5, true, TIMESTAMP '2026-09-01 00:00:00'")
	tbl := c.Dataset("kpis").Table("k")
	srv.SkewNextLoad(nil, 1)
	status, err := load(ctx, tbl, data, bigquery.Parquet, kpiSchema, bigquery.WriteTruncate)
	if err != nil || status.Err() != nil {
		t.Fatalf("load: %v %v", err, status.Err())
	}
	if st, ok := status.Statistics.Details.(*bigquery.LoadStatistics); !ok || st.OutputRows != 2 {
		t.Errorf("load statistics: %+v", status.Statistics.Details)
	}
	if k, _ := srv.Table("kpis", "k"); len(k.Rows) != 3 {
		t.Errorf("%d rows stored, want 3 (one twice)", len(k.Rows))
	}
	srv.SkewNextLoad(nil, -1)
	if status, err := load(ctx, tbl, data, bigquery.Parquet, kpiSchema, bigquery.WriteTruncate); err != nil || status.Err() != nil {
		t.Fatalf("load: %v", err)
	}
	if k, _ := srv.Table("kpis", "k"); len(k.Rows) != 1 {
		t.Errorf("%d rows stored, want 1", len(k.Rows))
	}
	if n := srv.TableUpdates("kpis", "k"); n != 2 {
		t.Errorf("%d table updates counted for two loads", n)
	}
}
