package bqfake_test

import (
	"strings"
	"testing"

	"cloud.google.com/go/bigquery"
	"cloud.google.com/go/civil"
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
	status, err = load(ctx, tbl, data, bigquery.Parquet, kpiSchema, bigquery.WriteAppend)
	if err != nil || status.Err() != nil {
		t.Fatalf("load: %v / %v", err, status.Err())
	}
	if n := countRequests(srv, "POST", "/jobs", "uploadType", "multipart"); n != 1 {
		t.Errorf("multipart requests = %d", n)
	}
	if st, _ := srv.Table("kpis", "big"); len(st.Rows) != 80000 {
		t.Errorf("rows after append = %d", len(st.Rows))
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

func TestLoadPartitionDecoratorAndDispositions(t *testing.T) {
	srv, c, ctx := setup(t)
	createDataset(t, ctx, c, "kpis", "US")
	base := c.Dataset("kpis").Table("sales")
	err := base.Create(ctx, &bigquery.TableMetadata{Schema: kpiSchema,
		TimePartitioning: &bigquery.TimePartitioning{Type: bigquery.MonthPartitioningType, Field: "month"}})
	if err != nil {
		t.Fatal(err)
	}
	two := writeParquet(t, aliceRow+` UNION ALL SELECT DATE '2026-08-01', 'Bob', 5, 1.5, false, NULL`)
	if status, err := load(ctx, base, two, bigquery.Parquet, kpiSchema, bigquery.WriteAppend); err != nil || status.Err() != nil {
		t.Fatalf("append: %v / %v", err, status.Err())
	}
	// Replace only partition 202609.
	carol := writeParquet(t, strings.Replace(aliceRow, "'Alice'", "'Carol'", 1))
	status, err := load(ctx, c.Dataset("kpis").Table("sales$202609"), carol, bigquery.Parquet, kpiSchema, bigquery.WriteTruncate)
	if err != nil || status.Err() != nil {
		t.Fatalf("partition truncate: %v / %v", err, status.Err())
	}
	st, _ := srv.Table("kpis", "sales")
	if len(st.Rows) != 2 || st.Rows[0]["salesperson"] != "Bob" || st.Rows[1]["salesperson"] != "Carol" || st.Rows[0]["ts"] != nil {
		t.Errorf("rows = %v", st.Rows)
	}
	// Rows outside the decorated partition are refused.
	status, err = load(ctx, c.Dataset("kpis").Table("sales$202608"), carol, bigquery.Parquet, kpiSchema, bigquery.WriteTruncate)
	if err != nil || status.Err() == nil || !strings.Contains(status.Err().Error(), "destination partition 202608") {
		t.Errorf("wrong partition: %v / %v", err, status.Err())
	}
	// WRITE_EMPTY on a non-empty table fails with duplicate.
	status, err = load(ctx, base, carol, bigquery.Parquet, kpiSchema, bigquery.WriteEmpty)
	if err != nil || status.Err() == nil || status.Err().(*bigquery.Error).Reason != "duplicate" {
		t.Errorf("WRITE_EMPTY: %v / %v", err, status.Err())
	}
	// A changed type in the job schema is refused on append, naming the field.
	bad := append(bigquery.Schema{}, kpiSchema...)
	n := *bad[2]
	n.Type = bigquery.StringFieldType
	bad[2] = &n
	status, err = load(ctx, base, carol, bigquery.Parquet, bad, bigquery.WriteAppend)
	if err != nil || status.Err() == nil || !strings.Contains(status.Err().Error(), "Field n has changed type from INTEGER to STRING") {
		t.Errorf("type change on append: %v / %v", err, status.Err())
	}
	// A new column needs ALLOW_FIELD_ADDITION.
	wider := writeParquet(t, aliceRow+`, 'EMEA' AS region`)
	widerSchema := append(append(bigquery.Schema{}, kpiSchema...), &bigquery.FieldSchema{Name: "region", Type: bigquery.StringFieldType})
	status, err = load(ctx, base, wider, bigquery.Parquet, widerSchema, bigquery.WriteAppend)
	if err != nil || status.Err() == nil || !strings.Contains(status.Err().Error(), "region") {
		t.Errorf("addition without option: %v / %v", err, status.Err())
	}
	src := bigquery.NewReaderSource(strings.NewReader(string(wider)))
	src.SourceFormat, src.Schema = bigquery.Parquet, widerSchema
	l := base.LoaderFrom(src)
	l.SchemaUpdateOptions = []string{"ALLOW_FIELD_ADDITION"}
	job, err := l.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if status, err = job.Wait(ctx); err != nil || status.Err() != nil {
		t.Fatalf("addition with option: %v / %v", err, status.Err())
	}
	st, _ = srv.Table("kpis", "sales")
	if len(st.Schema) != 7 || len(st.Rows) != 3 || st.Rows[0]["region"] != nil || st.Rows[2]["region"] != "EMEA" {
		t.Errorf("after addition: schema %v rows %v", st.Schema, st.Rows)
	}
	// WRITE_TRUNCATE of the whole table takes the load's schema, like BigQuery
	// (column descriptions included).
	status, err = load(ctx, base, carol, bigquery.Parquet, bigquery.Schema{
		{Name: "month", Type: bigquery.DateFieldType}, {Name: "salesperson", Type: bigquery.StringFieldType},
		{Name: "n", Type: bigquery.IntegerFieldType}, {Name: "r", Type: bigquery.FloatFieldType},
		{Name: "b", Type: bigquery.BooleanFieldType}, {Name: "ts", Type: bigquery.TimestampFieldType}}, bigquery.WriteTruncate)
	if err != nil || status.Err() != nil {
		t.Fatalf("truncate: %v / %v", err, status.Err())
	}
	st, _ = srv.Table("kpis", "sales")
	if len(st.Schema) != 6 || st.Schema[0].Description != "" || len(st.Rows) != 1 {
		t.Errorf("after truncate: %+v, %d rows", st.Schema, len(st.Rows))
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

func TestLoadCSVAndJSON(t *testing.T) {
	srv, c, ctx := setup(t)
	createDataset(t, ctx, c, "kpis", "US")
	schema := bigquery.Schema{{Name: "month", Type: bigquery.DateFieldType}, {Name: "n", Type: bigquery.IntegerFieldType}}
	src := bigquery.NewReaderSource(strings.NewReader("month,n\n2026-09-01,3\n2026-10-01,\n"))
	src.SourceFormat, src.Schema, src.SkipLeadingRows = bigquery.CSV, schema, 1
	job, err := c.Dataset("kpis").Table("csv").LoaderFrom(src).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if status, err := job.Wait(ctx); err != nil || status.Err() != nil {
		t.Fatalf("csv: %v / %v", err, status.Err())
	}
	status, err := load(ctx, c.Dataset("kpis").Table("json"), []byte(`{"month":"2026-09-01","n":3}`+"\n"+`{"month":"2026-10-01","n":null}`),
		bigquery.JSON, schema, bigquery.WriteAppend)
	if err != nil || status.Err() != nil {
		t.Fatalf("json: %v / %v", err, status.Err())
	}
	for _, name := range []string{"csv", "json"} {
		st, _ := srv.Table("kpis", name)
		if len(st.Rows) != 2 || st.Rows[0]["n"] != int64(3) || st.Rows[1]["n"] != nil || st.Rows[1]["month"] != (civil.Date{Year: 2026, Month: 10, Day: 1}) {
			t.Errorf("%s rows = %v", name, st.Rows)
		}
	}
}
