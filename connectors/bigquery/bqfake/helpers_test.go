package bqfake_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/bigquery"
	_ "github.com/duckdb/duckdb-go/v2"
	"google.golang.org/api/googleapi"

	"github.com/uptake-dev/uptake/connectors/bigquery/bqfake"
	"github.com/uptake-dev/uptake/sql/sqltest"
)

const project = "uptake-test"

// setup starts a fake and a real client pointed at it.
func setup(t *testing.T) (*bqfake.Server, *bigquery.Client, context.Context) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	srv := bqfake.New(t, project)
	client, err := bigquery.NewClient(ctx, project, srv.ClientOptions()...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	t.Cleanup(func() { client.Close() })
	return srv, client, ctx
}

// kpiSchema is the schema of the Parquet file written by writeParquet.
var kpiSchema = bigquery.Schema{
	{Name: "month", Type: bigquery.DateFieldType, Required: true, Description: "first day of the month"},
	{Name: "salesperson", Type: bigquery.StringFieldType, Description: "who sold"},
	{Name: "n", Type: bigquery.IntegerFieldType},
	{Name: "r", Type: bigquery.FloatFieldType},
	{Name: "b", Type: bigquery.BooleanFieldType},
	{Name: "ts", Type: bigquery.TimestampFieldType},
}

// writeParquet runs a DuckDB COPY of query to a Parquet file and returns
// its bytes.
func writeParquet(t *testing.T, query string) []byte {
	t.Helper()
	db := sqltest.DB(t)
	path := filepath.Join(t.TempDir(), "x.parquet")
	if _, err := db.Exec("COPY (" + query + ") TO '" + path + "' (FORMAT parquet)"); err != nil {
		t.Fatalf("COPY: %v", err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const aliceRow = `SELECT DATE '2026-09-01' AS month, 'Alice' AS salesperson, 3::BIGINT AS n, 0.5::DOUBLE AS r, true AS b, TIMESTAMP '2026-10-01 02:00:00' AS ts`

// createDataset creates a dataset in location loc.
func createDataset(t *testing.T, ctx context.Context, c *bigquery.Client, id, loc string) {
	t.Helper()
	if err := c.Dataset(id).Create(ctx, &bigquery.DatasetMetadata{Location: loc}); err != nil {
		t.Fatalf("create dataset %s: %v", id, err)
	}
}

// load uploads data with a load job and waits for it.
func load(ctx context.Context, tbl *bigquery.Table, data []byte, format bigquery.DataFormat, schema bigquery.Schema, wd bigquery.TableWriteDisposition, opts ...googleapi.MediaOption) (*bigquery.JobStatus, error) {
	src := bigquery.NewReaderSource(strings.NewReader(string(data)))
	src.SourceFormat = format
	src.Schema = schema
	l := tbl.LoaderFrom(src)
	l.WriteDisposition = wd
	l.MediaOptions = opts
	job, err := l.Run(ctx)
	if err != nil {
		return nil, err
	}
	return job.Wait(ctx)
}

// runQuery runs sql as a query job (jobs.insert) and waits for it.
func runQuery(ctx context.Context, c *bigquery.Client, sql string, params ...bigquery.QueryParameter) (*bigquery.JobStatus, error) {
	q := c.Query(sql)
	q.Parameters = params
	job, err := q.Run(ctx)
	if err != nil {
		return nil, err
	}
	return job.Wait(ctx)
}

// readAll reads a table with the client's RowIterator (tabledata.list).
func readAll(t *testing.T, ctx context.Context, tbl *bigquery.Table) []map[string]bigquery.Value {
	t.Helper()
	it := tbl.Read(ctx)
	var out []map[string]bigquery.Value
	for {
		row := map[string]bigquery.Value{}
		err := it.Next(&row)
		if errors.Is(err, iteratorDone) {
			return out
		}
		if err != nil {
			t.Fatalf("reading %s: %v", tbl.TableID, err)
		}
		out = append(out, row)
	}
}

// apiErr extracts the HTTP status and first reason of a client error.
func apiErr(t *testing.T, err error) (int, string, string) {
	t.Helper()
	var e *googleapi.Error
	if !errors.As(err, &e) {
		t.Fatalf("want *googleapi.Error, got %T: %v", err, err)
	}
	reason := ""
	if len(e.Errors) > 0 {
		reason = e.Errors[0].Reason
	}
	return e.Code, reason, e.Message
}

// countRequests counts logged requests with the method whose path ends
// with suffix and whose query has key=value (key "" for any).
func countRequests(srv *bqfake.Server, method, suffix, key, value string) int {
	n := 0
	for _, r := range srv.Requests() {
		if r.Method == method && strings.HasSuffix(r.Path, suffix) && (key == "" || r.Query.Get(key) == value) {
			n++
		}
	}
	return n
}
