package bqfake_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/bigquery"
	"cloud.google.com/go/civil"
	"google.golang.org/api/iterator"
)

var iteratorDone = iterator.Done

func TestTableMetadataRoundTrip(t *testing.T) {
	srv, c, ctx := setup(t)
	createDataset(t, ctx, c, "kpis", "EU")
	exp := time.Now().Add(48 * time.Hour).Truncate(time.Millisecond)
	tbl := c.Dataset("kpis").Table("sales")
	err := tbl.Create(ctx, &bigquery.TableMetadata{
		Description:      "monthly sales",
		Schema:           kpiSchema,
		TimePartitioning: &bigquery.TimePartitioning{Type: bigquery.MonthPartitioningType, Field: "month"},
		Clustering:       &bigquery.Clustering{Fields: []string{"salesperson"}},
		ExpirationTime:   exp,
	})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	md, err := tbl.Metadata(ctx)
	if err != nil {
		t.Fatalf("Metadata: %v", err)
	}
	if md.Description != "monthly sales" || md.Location != "EU" {
		t.Errorf("description/location = %q/%q", md.Description, md.Location)
	}
	if p := md.TimePartitioning; p == nil || p.Type != bigquery.MonthPartitioningType || p.Field != "month" {
		t.Errorf("TimePartitioning = %+v", p)
	}
	if cl := md.Clustering; cl == nil || len(cl.Fields) != 1 || cl.Fields[0] != "salesperson" {
		t.Errorf("Clustering = %+v", cl)
	}
	if !md.ExpirationTime.Equal(exp) {
		t.Errorf("ExpirationTime = %v, want %v", md.ExpirationTime, exp)
	}
	if len(md.Schema) != 6 || md.Schema[0].Description != "first day of the month" || !md.Schema[0].Required ||
		md.Schema[2].Type != bigquery.IntegerFieldType {
		t.Errorf("Schema = %+v", md.Schema[0])
	}
	st, ok := srv.Table("kpis", "sales")
	if !ok || st.Partitioning.Type != "MONTH" || st.Schema[1].Mode != "NULLABLE" || st.Schema[1].Description != "who sold" {
		t.Errorf("server state = %+v", st)
	}
	if got := srv.Datasets(); len(got) != 1 || got[0] != "kpis" {
		t.Errorf("Datasets() = %v", got)
	}
	// Listing.
	dit := c.Datasets(ctx)
	if ds, err := dit.Next(); err != nil || ds.DatasetID != "kpis" {
		t.Errorf("Datasets: %v %v", ds, err)
	}
	it := c.Dataset("kpis").Tables(ctx)
	tb, err := it.Next()
	if err != nil || tb.TableID != "sales" {
		t.Errorf("Tables: %v %v", tb, err)
	}
	// Delete, then 404.
	if err := tbl.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = tbl.Metadata(ctx)
	if code, reason, _ := apiErr(t, err); code != 404 || reason != "notFound" {
		t.Errorf("after delete: %d %s", code, reason)
	}
}

func TestMalformedTableRequests(t *testing.T) {
	_, c, ctx := setup(t)
	createDataset(t, ctx, c, "kpis", "US")
	tbl := c.Dataset("kpis").Table("sales")
	err := tbl.Create(ctx, &bigquery.TableMetadata{
		Schema:           kpiSchema,
		TimePartitioning: &bigquery.TimePartitioning{Type: bigquery.MonthPartitioningType, Field: "no_such_column"},
	})
	code, reason, msg := apiErr(t, err)
	if code != 400 || reason != "invalid" || !strings.Contains(msg, "no_such_column") {
		t.Errorf("bad partition field: %d %s %q", code, reason, msg)
	}
	err = tbl.Create(ctx, &bigquery.TableMetadata{Schema: kpiSchema,
		TimePartitioning: &bigquery.TimePartitioning{Type: bigquery.DayPartitioningType, Field: "salesperson"}})
	if code, reason, _ := apiErr(t, err); code != 400 || reason != "invalid" {
		t.Errorf("STRING partition field: %d %s", code, reason)
	}
	err = tbl.Create(ctx, &bigquery.TableMetadata{Schema: kpiSchema, Clustering: &bigquery.Clustering{Fields: []string{"r"}}})
	if code, _, msg := apiErr(t, err); code != 400 || !strings.Contains(msg, "FLOAT") {
		t.Errorf("FLOAT clustering: %d %q", code, msg)
	}
	err = tbl.Create(ctx, &bigquery.TableMetadata{Schema: bigquery.Schema{{Name: "a", Type: "STRING"}, {Name: "A", Type: "STRING"}}})
	if code, _, _ := apiErr(t, err); code != 400 {
		t.Errorf("duplicate column: %d", code)
	}
	err = tbl.Create(ctx, &bigquery.TableMetadata{Schema: bigquery.Schema{{Name: "1bad", Type: "STRING"}}})
	if code, _, _ := apiErr(t, err); code != 400 {
		t.Errorf("bad column name: %d", code)
	}
	if err := tbl.Create(ctx, &bigquery.TableMetadata{Schema: kpiSchema}); err != nil {
		t.Fatalf("Create: %v", err)
	}
	err = tbl.Create(ctx, &bigquery.TableMetadata{Schema: kpiSchema})
	code, reason, msg = apiErr(t, err)
	if code != 409 || reason != "duplicate" || !strings.Contains(msg, "Already Exists: Table uptake-test:kpis.sales") {
		t.Errorf("duplicate table: %d %s %q", code, reason, msg)
	}
	err = c.Dataset("kpis").Create(ctx, nil)
	if code, reason, _ := apiErr(t, err); code != 409 || reason != "duplicate" {
		t.Errorf("duplicate dataset: %d %s", code, reason)
	}
	_, err = c.Dataset("nope").Table("t").Metadata(ctx)
	if code, _, msg := apiErr(t, err); code != 404 || !strings.Contains(msg, "Dataset uptake-test:nope") {
		t.Errorf("missing dataset: %d %q", code, msg)
	}
}

func TestUnimplementedEndpointIs404(t *testing.T) {
	srv, _, _ := setup(t)
	resp, err := http.Get(srv.URL() + "/bigquery/v2/projects/" + project + "/models")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Error struct {
			Code    int
			Message string
			Status  string
			Errors  []struct{ Reason, Message, Domain string }
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	e := body.Error
	if resp.StatusCode != 404 || e.Code != 404 || e.Status != "NOT_FOUND" || len(e.Errors) != 1 || e.Errors[0].Reason != "notFound" ||
		e.Errors[0].Domain != "global" || !strings.HasPrefix(e.Message, "bqfake: GET /bigquery/v2/projects/uptake-test/models") {
		t.Errorf("status %d, body %+v", resp.StatusCode, e)
	}
}

func TestTableUpdateFieldAdditionAndTypeChange(t *testing.T) {
	srv, c, ctx := setup(t)
	createDataset(t, ctx, c, "kpis", "US")
	tbl := c.Dataset("kpis").Table("sales")
	if err := tbl.Create(ctx, &bigquery.TableMetadata{Schema: kpiSchema}); err != nil {
		t.Fatal(err)
	}
	md, err := tbl.Metadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	added := append(md.Schema, &bigquery.FieldSchema{Name: "region", Type: bigquery.StringFieldType, Description: "new"})
	added[1].Description = "changed description"
	md2, err := tbl.Update(ctx, bigquery.TableMetadataToUpdate{Schema: added, Description: "now described"}, md.ETag)
	if err != nil {
		t.Fatalf("field addition: %v", err)
	}
	if len(md2.Schema) != 7 || md2.Schema[6].Name != "region" || md2.Schema[1].Description != "changed description" || md2.Description != "now described" {
		t.Errorf("after update: %+v", md2.Schema)
	}
	// A stale etag is refused with 412.
	_, err = tbl.Update(ctx, bigquery.TableMetadataToUpdate{Description: "x"}, md.ETag)
	if code, reason, _ := apiErr(t, err); code != 412 || reason != "failedPrecondition" {
		t.Errorf("stale etag: %d %s", code, reason)
	}
	// Changing a type is rejected, naming the column.
	changed := append(bigquery.Schema{}, md2.Schema...)
	n := *changed[2]
	n.Type = bigquery.StringFieldType
	changed[2] = &n
	_, err = tbl.Update(ctx, bigquery.TableMetadataToUpdate{Schema: changed}, "")
	code, reason, msg := apiErr(t, err)
	if code != 400 || reason != "invalid" || !strings.Contains(msg, "Field n has changed type from INTEGER to STRING") {
		t.Errorf("type change: %d %s %q", code, reason, msg)
	}
	// Removing a column is rejected too.
	_, err = tbl.Update(ctx, bigquery.TableMetadataToUpdate{Schema: md2.Schema[:5]}, "")
	if code, _, msg := apiErr(t, err); code != 400 || !strings.Contains(msg, "Field ts is missing") {
		t.Errorf("removal: %d %q", code, msg)
	}
	st, _ := srv.Table("kpis", "sales")
	if len(st.Schema) != 7 || st.Schema[2].Type != "INTEGER" {
		t.Errorf("server schema = %+v", st.Schema)
	}
	// Expiration can be set and cleared.
	exp := time.Now().Add(time.Hour).Truncate(time.Millisecond)
	if md3, err := tbl.Update(ctx, bigquery.TableMetadataToUpdate{ExpirationTime: exp}, ""); err != nil || !md3.ExpirationTime.Equal(exp) {
		t.Errorf("set expiration: %v %v", md3, err)
	}
	if md3, err := tbl.Update(ctx, bigquery.TableMetadataToUpdate{ExpirationTime: bigquery.NeverExpire}, ""); err != nil || !md3.ExpirationTime.IsZero() {
		t.Errorf("clear expiration: %v %v", md3, err)
	}
}

func TestLoadParquetAndReadBack(t *testing.T) {
	srv, c, ctx := setup(t)
	createDataset(t, ctx, c, "kpis", "US")
	tbl := c.Dataset("kpis").Table("sales")
	data := writeParquet(t, aliceRow)
	src := bigquery.NewReaderSource(strings.NewReader(string(data)))
	src.SourceFormat = bigquery.Parquet
	src.Schema = kpiSchema
	l := tbl.LoaderFrom(src)
	l.WriteDisposition = bigquery.WriteTruncate
	l.TimePartitioning = &bigquery.TimePartitioning{Type: bigquery.MonthPartitioningType, Field: "month"}
	job, err := l.Run(ctx)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if job.LastStatus().State != bigquery.Running {
		t.Errorf("state after insert = %v, want Running", job.LastStatus().State)
	}
	status, err := job.Wait(ctx)
	if err != nil || status.Err() != nil {
		t.Fatalf("Wait: %v / %v", err, status.Err())
	}
	if ls, ok := status.Statistics.Details.(*bigquery.LoadStatistics); !ok || ls.OutputRows != 1 {
		t.Errorf("load statistics = %+v", status.Statistics.Details)
	}
	if n := countRequests(srv, "POST", "/jobs", "uploadType", "multipart"); n != 1 {
		t.Errorf("multipart uploads = %d", n)
	}
	if n := countRequests(srv, "GET", "/jobs/"+job.ID(), "", ""); n < 1 {
		t.Errorf("jobs.get polls = %d", n)
	}
	rows := readAll(t, ctx, tbl)
	want := map[string]bigquery.Value{
		"month": civil.Date{Year: 2026, Month: 9, Day: 1}, "salesperson": "Alice", "n": int64(3),
		"r": 0.5, "b": true, "ts": time.Date(2026, 10, 1, 2, 0, 0, 0, time.UTC),
	}
	if len(rows) != 1 {
		t.Fatalf("rows = %v", rows)
	}
	for k, v := range want {
		if rows[0][k] != v {
			t.Errorf("%s = %#v, want %#v", k, rows[0][k], v)
		}
	}
	st, _ := srv.Table("kpis", "sales")
	if len(st.Rows) != 1 || st.Rows[0]["month"] != (civil.Date{Year: 2026, Month: 9, Day: 1}) || st.Partitioning == nil {
		t.Errorf("server rows = %+v (partitioning %+v)", st.Rows, st.Partitioning)
	}
	// The uploaded metadata is logged for assertions.
	for _, r := range srv.Requests() {
		if r.Query.Get("uploadType") == "multipart" && !strings.Contains(string(r.Body), `"sourceFormat":"PARQUET"`) {
			t.Errorf("logged body = %s", r.Body)
		}
	}
}
