package bqfake_test

import (
	"strconv"
	"strings"
	"testing"

	"cloud.google.com/go/bigquery"
	"cloud.google.com/go/civil"
	"google.golang.org/api/iterator"

	"github.com/uptake-dev/uptake/connectors/bigquery/bqfake"
)

// seed creates kpis.<name> (month DATE, salesperson STRING, n INTEGER) and
// loads rows into it: a SQL VALUES list ("" for none).
func seed(t *testing.T, c *bigquery.Client, name, values string) {
	t.Helper()
	query := ""
	if values != "" {
		query = "SELECT month::DATE AS month, salesperson::VARCHAR AS salesperson, n::BIGINT AS n FROM (VALUES " + values + ") t(month, salesperson, n)"
	}
	seedWith(t, c, name, bigquery.Schema{
		{Name: "month", Type: bigquery.DateFieldType}, {Name: "salesperson", Type: bigquery.StringFieldType}, {Name: "n", Type: bigquery.IntegerFieldType}}, query)
}

// seedWith creates kpis.<name> with schema and loads the rows of a DuckDB
// query (none when query is "").
func seedWith(t *testing.T, c *bigquery.Client, name string, schema bigquery.Schema, query string) {
	t.Helper()
	ctx := t.Context()
	tbl := c.Dataset("kpis").Table(name)
	if err := tbl.Create(ctx, &bigquery.TableMetadata{Schema: schema}); err != nil {
		t.Fatal(err)
	}
	if query == "" {
		return
	}
	status, err := load(ctx, tbl, writeParquet(t, query), bigquery.Parquet, schema, bigquery.WriteTruncate)
	if err != nil || status.Err() != nil {
		t.Fatalf("seed %s: %v / %v", name, err, status.Err())
	}
}

func names(t *testing.T, srv *bqfake.Server, table string) string {
	t.Helper()
	st, ok := srv.Table("kpis", table)
	if !ok {
		t.Fatalf("no table %s", table)
	}
	var out []string
	for _, r := range st.Rows {
		out = append(out, r["salesperson"].(string))
	}
	return strings.Join(out, ",")
}

// txScript has the shape of uptake's publish (connectors/bigquery's
// script): a window of a, all of b.
const txScript = "BEGIN TRANSACTION;\n" +
	"DELETE FROM `uptake-test.kpis.a` WHERE `month` BETWEEN @from AND @to;\n" +
	"INSERT INTO `uptake-test.kpis.a` (`month`, `salesperson`, `n`) SELECT `month`, `salesperson`, `n` FROM `uptake-test.kpis.stg_a` WHERE `month` BETWEEN @from AND @to;\n" +
	"DELETE FROM `uptake-test.kpis.b` WHERE TRUE;\n" +
	"INSERT INTO `uptake-test.kpis.b` (`month`, `salesperson`, `n`) SELECT `month`, `salesperson`, `n` FROM `uptake-test.kpis.%s` WHERE TRUE;\n" +
	"COMMIT TRANSACTION;"

var september = []bigquery.QueryParameter{
	{Name: "from", Value: civil.Date{Year: 2026, Month: 9, Day: 1}},
	{Name: "to", Value: civil.Date{Year: 2026, Month: 9, Day: 30}},
}

func TestMultiStatementTransaction(t *testing.T) {
	srv, c, ctx := setup(t)
	createDataset(t, ctx, c, "kpis", "EU")
	seed(t, c, "a", "('2026-08-01', 'old-aug', 1), ('2026-09-01', 'old-sep', 2)")
	seed(t, c, "b", "('2026-09-01', 'old-b', 2)")
	seed(t, c, "stg_a", "('2026-08-01', 'out-of-window', 9), ('2026-09-01', 'new-sep', 7)")
	seed(t, c, "stg_b", "('2026-09-01', 'new-b', 8)")

	// One statement refers to a missing table: job.Wait returns the error
	// and neither table changes.
	q := c.Query(strings.Replace(txScript, "%s", "stg_missing", 1))
	q.Parameters = september
	job, err := q.Run(ctx)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	_, err = job.Wait(ctx)
	code, reason, msg := apiErr(t, err)
	if code != 404 || reason != "notFound" || !strings.Contains(msg, "Table uptake-test:kpis.stg_missing was not found in location EU") {
		t.Errorf("failing script: %d %s %q", code, reason, msg)
	}
	if got := names(t, srv, "a") + "|" + names(t, srv, "b"); got != "old-aug,old-sep|old-b" {
		t.Errorf("after failed transaction: %s", got)
	}

	// The correct script applies to both tables: September of a (the
	// staged August row is outside the window), all of b.
	status, err := runQuery(ctx, c, strings.Replace(txScript, "%s", "stg_b", 1), september...)
	if err != nil || status.Err() != nil {
		t.Fatalf("script: %v / %v", err, status.Err())
	}
	if qs := status.Statistics.Details.(*bigquery.QueryStatistics); qs.StatementType != "SCRIPT" || status.Statistics.NumChildJobs != 6 {
		t.Errorf("statistics: %s, %d children", qs.StatementType, status.Statistics.NumChildJobs)
	}
	if got := names(t, srv, "a") + "|" + names(t, srv, "b"); got != "old-aug,new-sep|new-b" {
		t.Errorf("after transaction: %s", got)
	}

	// A job in another location does not see the tables.
	q = c.Query("SELECT COUNT(*) FROM `uptake-test.kpis.a` WHERE TRUE")
	q.Location = "US"
	_, err = q.Read(ctx)
	if code, reason, _ := apiErr(t, err); code != 404 || reason != "notFound" {
		t.Errorf("wrong location: %d %s", code, reason)
	}
}

// count reads the one number of a SELECT COUNT(*) query.
func count(t *testing.T, it *bigquery.RowIterator) int64 {
	t.Helper()
	var row []bigquery.Value
	if err := it.Next(&row); err != nil {
		t.Fatal(err)
	}
	if err := it.Next(&row); err != iterator.Done {
		t.Fatalf("a second row: %v", err)
	}
	return row[0].(int64)
}

func TestCountsDMLAndReadBack(t *testing.T) {
	_, c, ctx := setup(t)
	createDataset(t, ctx, c, "kpis", "US")
	seed(t, c, "a", "('2026-09-01', 'Carol', 3), ('2026-08-01', 'Alice', 1), ('2026-09-01', 'Bob', NULL)")

	// Paging through tabledata.list; Bob's n is NULL.
	it := c.Dataset("kpis").Table("a").Read(ctx)
	it.PageInfo().MaxSize = 1
	var rows []string
	for {
		var row []bigquery.Value
		if err := it.Next(&row); err == iterator.Done {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		n := "NULL"
		if row[2] != nil {
			n = strconv.FormatInt(row[2].(int64), 10)
		}
		rows = append(rows, row[1].(string)+":"+n)
	}
	if strings.Join(rows, ",") != "Carol:3,Alice:1,Bob:NULL" {
		t.Errorf("tabledata rows = %v", rows)
	}

	// Query.Read uses the jobs.query fast path; the parameters are DATEs.
	q := c.Query("SELECT COUNT(*) FROM `uptake-test.kpis.a` WHERE `month` BETWEEN @from AND @to")
	q.Parameters = september
	it, err := q.Read(ctx)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if n := count(t, it); n != 2 {
		t.Errorf("September rows = %d, want 2", n)
	}

	// A DML job reports affected rows.
	status, err := runQuery(ctx, c, "DELETE FROM `uptake-test.kpis.a` WHERE `month` BETWEEN @from AND @to", september...)
	if err != nil || status.Err() != nil {
		t.Fatalf("delete: %v / %v", err, status.Err())
	}
	if qs := status.Statistics.Details.(*bigquery.QueryStatistics); qs.NumDMLAffectedRows != 2 || qs.StatementType != "DELETE" {
		t.Errorf("DML statistics: %+v", qs)
	}

	// jobs.insert + getQueryResults.
	q = c.Query("SELECT COUNT(*) FROM `uptake-test.kpis.a` WHERE TRUE")
	q.JobID = "read-back-1"
	job, err := q.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	it, err = job.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := count(t, it); n != 1 {
		t.Errorf("rows left = %d, want 1 (August)", n)
	}
	// A duplicate job ID is refused.
	if _, err := q.Run(ctx); err == nil {
		t.Error("duplicate job ID accepted")
	} else if code, reason, _ := apiErr(t, err); code != 409 || reason != "duplicate" {
		t.Errorf("duplicate job: %d %s", code, reason)
	}
}

// Each statement uptake could get wrong is refused as BigQuery refuses it
// (400 invalidQuery); any statement uptake does not send is refused too.
func TestQueryErrors(t *testing.T) {
	_, c, ctx := setup(t)
	createDataset(t, ctx, c, "kpis", "US")
	seed(t, c, "a", "")
	seedWith(t, c, "s", bigquery.Schema{{Name: "month", Type: bigquery.DateFieldType}, {Name: "n", Type: bigquery.StringFieldType}}, "")
	texts := []bigquery.QueryParameter{{Name: "x", Value: "a"}, {Name: "y", Value: "b"}}
	for _, tc := range []struct {
		sql    string
		params []bigquery.QueryParameter
		want   string
	}{
		{"UPDATE `uptake-test.kpis.a` SET n = 1 WHERE TRUE", nil, "Syntax error"},
		{"SELECT * FROM `uptake-test.kpis.a`", nil, "Syntax error"},
		{"DELETE FROM `uptake-test.kpis.a`", nil, "Syntax error"},
		{"DELETE FROM `kpis.a` WHERE TRUE", nil, "Syntax error"},
		{"INSERT INTO `uptake-test.kpis.a` (`month`, `n`) SELECT `month`, `salesperson` FROM `uptake-test.kpis.s` WHERE TRUE", nil, "Syntax error"},
		{"DELETE FROM `uptake-test.kpis.a` WHERE `nope` BETWEEN @from AND @to", september, "Unrecognized name: nope"},
		{"DELETE FROM `uptake-test.kpis.a` WHERE `month` BETWEEN @from AND @to", nil, "Query parameter 'from' not found"},
		{"DELETE FROM `uptake-test.kpis.a` WHERE `month` BETWEEN @x AND @y", texts, "No matching signature for operator BETWEEN for argument types: DATE, STRING, STRING"},
		{"DELETE FROM `uptake-test.kpis.a` WHERE @x <= @y", nil, "Query parameter 'x' not found"},
		{"DELETE FROM `uptake-test.kpis.a` WHERE @x <= @to", append(texts, september...), "No matching signature for operator <="},
		{"INSERT INTO `uptake-test.kpis.a` (`month`, `n`) SELECT `month`, `n` FROM `uptake-test.kpis.s` WHERE TRUE", nil, "Query column 2 has type STRING which cannot be inserted into column n, which has type INT64"},
		{"INSERT INTO `uptake-test.kpis.a` (`month`, `salesperson`) SELECT `month`, `salesperson` FROM `uptake-test.kpis.s` WHERE TRUE", nil, "Unrecognized name: salesperson"},
		{"INSERT INTO `uptake-test.kpis.s` (`month`, `salesperson`) SELECT `month`, `salesperson` FROM `uptake-test.kpis.a` WHERE TRUE", nil, "Column salesperson is not present in table uptake-test.kpis.s"},
		{"BEGIN TRANSACTION; DELETE FROM `uptake-test.kpis.a` WHERE TRUE", nil, "not committed"},
		{"BEGIN TRANSACTION; BEGIN TRANSACTION; COMMIT TRANSACTION", nil, "already in progress"},
		{"COMMIT TRANSACTION", nil, "requires a transaction in progress"},
	} {
		q := c.Query(tc.sql)
		q.Parameters = tc.params
		_, err := q.Read(ctx)
		if err == nil {
			t.Errorf("%s: no error", tc.sql)
			continue
		}
		code, reason, msg := apiErr(t, err)
		if code != 400 || reason != "invalidQuery" || !strings.Contains(msg, tc.want) {
			t.Errorf("%s: %d %s %q, want invalidQuery containing %q", tc.sql, code, reason, msg, tc.want)
		}
	}
}

// Without BEGIN TRANSACTION, BigQuery runs a script's statements one by one:
// those before a failing statement stay applied.
func TestScriptWithoutTransactionIsNotAtomic(t *testing.T) {
	srv, c, ctx := setup(t)
	createDataset(t, ctx, c, "kpis", "US")
	seed(t, c, "a", "('2026-09-01', 'Alice', 1)")
	_, err := runQuery(ctx, c, "DELETE FROM `uptake-test.kpis.a` WHERE TRUE; "+
		"INSERT INTO `uptake-test.kpis.a` (`month`) SELECT `month` FROM `uptake-test.kpis.missing` WHERE TRUE")
	if code, _, _ := apiErr(t, err); code != 404 {
		t.Errorf("error code = %d", code)
	}
	if got := names(t, srv, "a"); got != "" {
		t.Errorf("rows = %q, want the DELETE applied", got)
	}
}
