package bqfake_test

import (
	"strings"
	"testing"

	"cloud.google.com/go/bigquery"
	"cloud.google.com/go/civil"
	"google.golang.org/api/iterator"

	"github.com/uptake-dev/uptake/connectors/bigquery/bqfake"
)

// seed creates kpis.<name> (month DATE, salesperson STRING, n INTEGER) with
// rows inserted by an INSERT ... VALUES query.
func seed(t *testing.T, c *bigquery.Client, name, values string) {
	t.Helper()
	ctx := t.Context()
	err := c.Dataset("kpis").Table(name).Create(ctx, &bigquery.TableMetadata{Schema: bigquery.Schema{
		{Name: "month", Type: bigquery.DateFieldType}, {Name: "salesperson", Type: bigquery.StringFieldType}, {Name: "n", Type: bigquery.IntegerFieldType}}})
	if err != nil {
		t.Fatal(err)
	}
	if values == "" {
		return
	}
	status, err := runQuery(ctx, c, "INSERT INTO `kpis."+name+"` (month, salesperson, n) VALUES "+values)
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

const txScript = "BEGIN TRANSACTION;\n" +
	"DELETE FROM `uptake-test.kpis.a` WHERE month BETWEEN @from AND @to;\n" +
	"INSERT INTO `uptake-test.kpis.a` (month, salesperson, n) SELECT month, salesperson, n FROM `uptake-test.kpis.stg_a`;\n" +
	"DELETE FROM `kpis.b` WHERE TRUE;\n" +
	"INSERT INTO `kpis.b` (month, salesperson, n) SELECT month, salesperson, n FROM `uptake-test.kpis.%s`;\n" +
	"COMMIT TRANSACTION;"

func TestMultiStatementTransaction(t *testing.T) {
	srv, c, ctx := setup(t)
	createDataset(t, ctx, c, "kpis", "EU")
	seed(t, c, "a", "(DATE '2026-08-01', 'old-aug', 1), (DATE '2026-09-01', 'old-sep', 2)")
	seed(t, c, "b", "(DATE '2026-09-01', 'old-b', 2)")
	seed(t, c, "stg_a", "(DATE '2026-09-01', 'new-sep', 7)")
	seed(t, c, "stg_b", "(DATE '2026-09-01', 'new-b', 8)")
	params := []bigquery.QueryParameter{
		{Name: "from", Value: civil.Date{Year: 2026, Month: 9, Day: 1}},
		{Name: "to", Value: civil.Date{Year: 2026, Month: 9, Day: 30}},
	}

	// One statement refers to a missing table: job.Wait returns the error
	// and neither table changes.
	q := c.Query(strings.Replace(txScript, "%s", "stg_missing", 1))
	q.Parameters = params
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

	// The correct script applies to both tables.
	status, err := runQuery(ctx, c, strings.Replace(txScript, "%s", "stg_b", 1), params...)
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
	q = c.Query("SELECT * FROM `kpis.a`")
	q.Location = "US"
	_, err = q.Read(ctx)
	if code, reason, _ := apiErr(t, err); code != 404 || reason != "notFound" {
		t.Errorf("wrong location: %d %s", code, reason)
	}
}

func TestSelectReadBackAndDML(t *testing.T) {
	_, c, ctx := setup(t)
	createDataset(t, ctx, c, "kpis", "US")
	seed(t, c, "a", "(DATE '2026-09-01', 'Carol', 3), (DATE '2026-08-01', 'Alice', 1), (DATE '2026-09-01', 'Bob', NULL)")

	// Query.Read uses the jobs.query fast path.
	it, err := c.Query("SELECT salesperson AS who, n FROM `uptake-test.kpis.a` WHERE month = DATE '2026-09-01' ORDER BY salesperson").Read(ctx)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	var got []string
	for {
		var row struct {
			Who string
			N   bigquery.NullInt64
		}
		err := it.Next(&row)
		if err == iterator.Done {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, row.Who+":"+row.N.String())
	}
	if strings.Join(got, ",") != "Bob:NULL,Carol:3" {
		t.Errorf("rows = %v", got)
	}

	// A DML job reports affected rows; results page through getQueryResults.
	status, err := runQuery(ctx, c, "DELETE FROM `kpis.a` WHERE n IS NULL")
	if err != nil || status.Err() != nil {
		t.Fatalf("delete: %v / %v", err, status.Err())
	}
	if qs := status.Statistics.Details.(*bigquery.QueryStatistics); qs.NumDMLAffectedRows != 1 || qs.StatementType != "DELETE" {
		t.Errorf("DML statistics: %+v", qs)
	}
	q := c.Query("SELECT * FROM `kpis.a` ORDER BY month DESC")
	q.JobID = "read-back-1" // forces jobs.insert + getQueryResults
	job, err := q.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	it, err = job.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	it.PageInfo().MaxSize = 1
	var months []string
	for {
		var row []bigquery.Value
		err := it.Next(&row)
		if err == iterator.Done {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		months = append(months, row[0].(civil.Date).String())
	}
	if strings.Join(months, ",") != "2026-09-01,2026-08-01" {
		t.Errorf("months = %v", months)
	}
	// A duplicate job ID is refused.
	if _, err := q.Run(ctx); err == nil {
		t.Error("duplicate job ID accepted")
	} else if code, reason, _ := apiErr(t, err); code != 409 || reason != "duplicate" {
		t.Errorf("duplicate job: %d %s", code, reason)
	}
	// Paging through tabledata.list.
	it = c.Dataset("kpis").Table("a").Read(ctx)
	it.PageInfo().MaxSize = 1
	n := 0
	for {
		var row []bigquery.Value
		if err := it.Next(&row); err == iterator.Done {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 2 {
		t.Errorf("tabledata rows = %d", n)
	}
	// DROP TABLE.
	if status, err := runQuery(ctx, c, "DROP TABLE IF EXISTS `kpis.a`; DROP TABLE IF EXISTS `kpis.a`"); err != nil || status.Err() != nil {
		t.Fatalf("drop: %v / %v", err, status.Err())
	}
	if _, err := c.Dataset("kpis").Table("a").Metadata(ctx); err == nil {
		t.Error("table still exists after DROP TABLE")
	}
}

func TestQueryErrors(t *testing.T) {
	_, c, ctx := setup(t)
	createDataset(t, ctx, c, "kpis", "US")
	seed(t, c, "a", "")
	seed(t, c, "s", "")
	for sql, want := range map[string]string{
		"UPDATE `kpis.a` SET n = 1 WHERE TRUE":                                    "Syntax error",
		"SELEC * FROM `kpis.a`":                                                   "Syntax error",
		"DELETE FROM `kpis.a`":                                                    "WHERE clause",
		"DELETE FROM `kpis.a` WHERE nope = 1":                                     "Unrecognized name: nope",
		"DELETE FROM `kpis.a` WHERE month BETWEEN @x AND @y":                      "Query parameter 'x' not found",
		"DELETE FROM `kpis.a` WHERE month = 3":                                    "No matching signature",
		"DELETE FROM `kpis.a` WHERE @x <= @y":                                     "Query parameter 'x' not found",
		"DELETE FROM `kpis.a` WHERE @x <":                                         "Syntax error",
		"INSERT INTO `kpis.a` (month, n) SELECT month, salesperson FROM `kpis.s`": "cannot be inserted into column n",
		"INSERT INTO `kpis.a` (month, n) SELECT month FROM `kpis.s`":              "wrong column count",
		"INSERT INTO `kpis.a` (month, nope) SELECT month, n FROM `kpis.s`":        "Column nope is not present",
		"BEGIN TRANSACTION; DELETE FROM `kpis.a` WHERE TRUE":                      "not committed",
		"BEGIN TRANSACTION; DROP TABLE `kpis.s`; COMMIT TRANSACTION":              "inside a transaction",
	} {
		_, err := c.Query(sql).Read(ctx)
		if err == nil {
			t.Errorf("%s: no error", sql)
			continue
		}
		code, reason, msg := apiErr(t, err)
		if code != 400 || reason != "invalidQuery" || !strings.Contains(msg, want) {
			t.Errorf("%s: %d %s %q, want invalidQuery containing %q", sql, code, reason, msg, want)
		}
	}
}

// Without BEGIN TRANSACTION, BigQuery runs a script's statements one by one:
// those before a failing statement stay applied.
func TestScriptWithoutTransactionIsNotAtomic(t *testing.T) {
	srv, c, ctx := setup(t)
	createDataset(t, ctx, c, "kpis", "US")
	seed(t, c, "a", "(DATE '2026-09-01', 'Alice', 1)")
	_, err := runQuery(ctx, c, "DELETE FROM `kpis.a` WHERE TRUE; INSERT INTO `kpis.a` SELECT * FROM `kpis.missing`")
	if code, _, _ := apiErr(t, err); code != 404 {
		t.Errorf("error code = %d", code)
	}
	if got := names(t, srv, "a"); got != "" {
		t.Errorf("rows = %q, want the DELETE applied", got)
	}
}
