package bqfake_test

import (
	"strings"
	"testing"

	"cloud.google.com/go/bigquery"
	"google.golang.org/api/googleapi"

	"github.com/uptake-dev/uptake/connectors/bigquery/bqfake"
)

// TestResumableUpload shows when the client switches from a multipart
// upload to the resumable protocol: the media is buffered in chunks of
// MediaOptions' ChunkSize (googleapi.DefaultUploadChunkSize = 16 MiB unless
// set; rounded up to a multiple of googleapi.MinUploadChunkSize = 256 KiB).
// Media shorter than one chunk goes in a single multipart request; media of
// a chunk or more opens a resumable session and is sent chunk by chunk.
func TestResumableUpload(t *testing.T) {
	srv, c, ctx := setup(t)
	createDataset(t, ctx, c, "kpis", "US")
	tbl := c.Dataset("kpis").Table("big")
	data := writeParquet(t, `SELECT DATE '2026-09-01' + (i % 28)::INT AS month, md5(i::VARCHAR) || md5((i+1)::VARCHAR) AS salesperson,
		i::BIGINT AS n, i / 7.0 AS r, i % 2 = 0 AS b, TIMESTAMP '2026-10-01 02:00:00' + to_seconds(i) AS ts FROM range(40000) t(i)`)
	if len(data) < 3*googleapi.MinUploadChunkSize {
		t.Fatalf("parquet file is only %d bytes; want several chunks", len(data))
	}
	// A transient failure of one chunk is retried by the client itself.
	srv.FailNext(func(r bqfake.Request) bool { return r.Query.Get("upload_id") != "" }, 503, "backendError", 1)
	status, err := load(ctx, tbl, data, bigquery.Parquet, kpiSchema, bigquery.WriteTruncate, googleapi.ChunkSize(googleapi.MinUploadChunkSize))
	if err != nil || status.Err() != nil {
		t.Fatalf("load: %v / %v", err, status.Err())
	}
	sessions, chunks := uploadRequests(srv)
	if sessions != 1 {
		t.Errorf("resumable sessions = %d", sessions)
	}
	// One request per 256 KiB chunk, plus the retried one.
	if want := (len(data)+googleapi.MinUploadChunkSize-1)/googleapi.MinUploadChunkSize + 1; chunks != want {
		t.Errorf("chunk requests = %d, want %d", chunks, want)
	}
	if n := countRequests(srv, "POST", "/jobs", "uploadType", "multipart"); n != 0 {
		t.Errorf("multipart requests = %d", n)
	}
	st, _ := srv.Table("kpis", "big")
	if len(st.Rows) != 40000 {
		t.Fatalf("rows = %d", len(st.Rows))
	}
	// The same file with the default chunk size (16 MiB) is one multipart request.
	status, err = load(ctx, tbl, data, bigquery.Parquet, kpiSchema, bigquery.WriteTruncate)
	if err != nil || status.Err() != nil {
		t.Fatalf("load: %v / %v", err, status.Err())
	}
	if n := countRequests(srv, "POST", "/jobs", "uploadType", "multipart"); n != 1 {
		t.Errorf("multipart requests = %d", n)
	}
	if st, _ := srv.Table("kpis", "big"); len(st.Rows) != 40000 {
		t.Errorf("rows after the second load = %d, want the 40,000 it replaced them with", len(st.Rows))
	}
}

// uploadRequests counts resumable sessions opened and chunk requests sent.
func uploadRequests(srv *bqfake.Server) (sessions, chunks int) {
	for _, r := range srv.Requests() {
		switch {
		case r.Query.Get("upload_id") != "":
			chunks++
		case r.Query.Get("uploadType") == "resumable":
			sessions++
		}
	}
	return sessions, chunks
}

// A WRITE_TRUNCATE load replaces the whole table and, like BigQuery, its
// schema (column descriptions included): what uptake's staging loads do.
func TestLoadReplacesTheTableAndItsSchema(t *testing.T) {
	srv, c, ctx := setup(t)
	createDataset(t, ctx, c, "kpis", "US")
	base := c.Dataset("kpis").Table("sales")
	err := base.Create(ctx, &bigquery.TableMetadata{Schema: kpiSchema,
		TimePartitioning: &bigquery.TimePartitioning{Type: bigquery.MonthPartitioningType, Field: "month"}})
	if err != nil {
		t.Fatal(err)
	}
	two := writeParquet(t, aliceRow+` UNION ALL SELECT DATE '2026-08-01', 'Bob', 5, 1.5, false, NULL`)
	if status, err := load(ctx, base, two, bigquery.Parquet, kpiSchema, bigquery.WriteTruncate); err != nil || status.Err() != nil {
		t.Fatalf("load: %v / %v", err, status.Err())
	}
	st, _ := srv.Table("kpis", "sales")
	if len(st.Rows) != 2 || st.Rows[0]["salesperson"] != "Alice" || st.Rows[1]["ts"] != nil || st.Schema[0].Description != "first day of the month" {
		t.Errorf("rows = %v, schema %+v", st.Rows, st.Schema)
	}
	carol := writeParquet(t, strings.Replace(aliceRow, "'Alice'", "'Carol'", 1))
	status, err := load(ctx, base, carol, bigquery.Parquet, bigquery.Schema{
		{Name: "month", Type: bigquery.DateFieldType}, {Name: "salesperson", Type: bigquery.StringFieldType},
		{Name: "n", Type: bigquery.IntegerFieldType}, {Name: "r", Type: bigquery.FloatFieldType},
		{Name: "b", Type: bigquery.BooleanFieldType}, {Name: "ts", Type: bigquery.TimestampFieldType}}, bigquery.WriteTruncate)
	if err != nil || status.Err() != nil {
		t.Fatalf("truncate: %v / %v", err, status.Err())
	}
	st, _ = srv.Table("kpis", "sales")
	if len(st.Schema) != 6 || st.Schema[0].Description != "" || len(st.Rows) != 1 || st.Rows[0]["salesperson"] != "Carol" {
		t.Errorf("after truncate: %+v, %v", st.Schema, st.Rows)
	}
}

// The loads uptake never sends are refused, so that a change to its loads
// shows here first (and is checked for real on the emulator).
func TestLoadRefusesWhatUptakeDoesNotSend(t *testing.T) {
	srv, c, ctx := setup(t)
	createDataset(t, ctx, c, "kpis", "US")
	data := writeParquet(t, aliceRow)
	for _, tc := range []struct {
		table  string
		format bigquery.DataFormat
		wd     bigquery.TableWriteDisposition
		want   string
	}{
		{"sales", bigquery.Parquet, bigquery.WriteAppend, "WRITE_TRUNCATE only"},
		{"sales", bigquery.CSV, bigquery.WriteTruncate, "PARQUET only"},
		{"sales$202609", bigquery.Parquet, bigquery.WriteTruncate, "whole tables only"},
	} {
		status, err := load(ctx, c.Dataset("kpis").Table(tc.table), data, tc.format, kpiSchema, tc.wd)
		if err != nil || status.Err() == nil || !strings.Contains(status.Err().Error(), tc.want) {
			t.Errorf("%s %s %s: %v / %v, want %q", tc.table, tc.format, tc.wd, err, status.Err(), tc.want)
		}
	}
	if _, ok := srv.Table("kpis", "sales"); ok {
		t.Error("a refused load created the table")
	}
}

func TestLoadRejectsBadParquet(t *testing.T) {
	srv, c, ctx := setup(t)
	createDataset(t, ctx, c, "kpis", "US")
	tbl := c.Dataset("kpis").Table("sales")
	cases := []struct {
		name, query string
		schema      bigquery.Schema
		want        string
	}{
		{"extra column", aliceRow + `, 1 AS extra`, kpiSchema, "'extra'"},
		{"string into integer", `SELECT DATE '2026-09-01' AS month, 'x' AS n`,
			bigquery.Schema{{Name: "month", Type: bigquery.DateFieldType}, {Name: "n", Type: bigquery.IntegerFieldType}}, "Field 'n'"},
		{"null into required", `SELECT NULL::DATE AS month`, bigquery.Schema{{Name: "month", Type: bigquery.DateFieldType, Required: true}}, "month"},
		{"numeric scale", `SELECT 1.0000000001::DECIMAL(18,10) AS v`, bigquery.Schema{{Name: "v", Type: bigquery.NumericFieldType}}, "Field 'v'"},
		{"no schema", aliceRow, nil, "schema is required"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, err := load(ctx, tbl, writeParquet(t, tc.query), bigquery.Parquet, tc.schema, bigquery.WriteTruncate)
			if err != nil {
				t.Fatalf("Run/Wait: %v", err)
			}
			e, ok := status.Err().(*bigquery.Error)
			if !ok || e.Reason != "invalid" || !strings.Contains(e.Message, tc.want) {
				t.Errorf("got %v, want invalid error mentioning %q", status.Err(), tc.want)
			}
		})
	}
	if _, ok := srv.Table("kpis", "sales"); ok {
		t.Error("a failed load created the table")
	}
	// Not a Parquet file at all.
	status, err := load(ctx, tbl, []byte("not parquet"), bigquery.Parquet, kpiSchema, bigquery.WriteTruncate)
	if err != nil || status.Err() == nil {
		t.Errorf("garbage: %v / %v", err, status.Err())
	}
}
