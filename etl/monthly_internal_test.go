package etl

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/uptake-dev/uptake/connectors"
	uptakesql "github.com/uptake-dev/uptake/sql"
	"github.com/uptake-dev/uptake/sql/sqltest"
)

// TestAMonthlyModelMustKeepToItsInputsMonths: a model whose rows fall in a
// month none of its monthly inputs has (a wrong @month or @lookback) fails
// the run, naming the file: a run that keeps months would lose those rows.
func TestAMonthlyModelMustKeepToItsInputsMonths(t *testing.T) {
	ctx := context.Background()
	b := septemberBuilder(t)
	month := "date_trunc('month', day)::DATE"
	good := uptakesql.Model{Name: "stg_good", Layer: "staging", SQL: "SELECT day FROM raw_x", Month: month, Raw: []string{"raw_x"}}
	if how, err := b.build(ctx, good); err != nil || how.rebuilt != 1 {
		t.Fatalf("a model of its input's month: %+v, %v", how, err)
	}
	bad := uptakesql.Model{Name: "stg_bad", Layer: "staging", SQL: "SELECT (day + INTERVAL 1 MONTH)::DATE AS day FROM raw_x", Month: month, Raw: []string{"raw_x"}}
	_, err := b.build(ctx, bad)
	if err == nil || !strings.Contains(err.Error(), "sql/staging/stg_bad.sql: rows of month 2026-10-01") {
		t.Errorf("got %v, want the file and the month no input has", err)
	}
	bad.Lookback = map[string]int{"raw_x": 1} // month m reads m-1 too: October is now the model's
	if how, err := b.build(ctx, bad); err != nil || how.rebuilt != 2 {
		t.Errorf("with @lookback: raw_x 1: %+v, %v; want September and October built", how, err)
	}
}

// TestTheIndexIsWrittenOnceAStep: a part's index rows are the build's at
// once (b.index), and parts.index's when the step ends (writeIndex); a
// second write adds nothing.
func TestTheIndexIsWrittenOnceAStep(t *testing.T) {
	ctx := context.Background()
	b := septemberBuilder(t)
	month := "date_trunc('month', day)::DATE"
	for _, m := range []uptakesql.Model{
		{Name: "stg_a", Layer: "staging", SQL: "SELECT day FROM raw_x", Month: month, Raw: []string{"raw_x"}},
		{Name: "stg_b", Layer: "staging", SQL: "SELECT count(*) AS n FROM raw_x", Raw: []string{"raw_x"}},
	} {
		if _, err := b.build(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	rows := func() (n int) {
		t.Helper()
		if err := b.conn.QueryRowContext(ctx, "SELECT count(*) FROM parts.index WHERE model IN ('stg_a', 'stg_b')").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := rows(); n != 0 {
		t.Errorf("before writeIndex: %d index rows in parts.index, want 0", n)
	}
	if len(b.index) != 2 {
		t.Errorf("the build's index holds %d rows, want 2 (stg_a's September, stg_b)", len(b.index))
	}
	for range 2 {
		if err := b.writeIndex(ctx); err != nil {
			t.Fatal(err)
		}
		if n := rows(); n != 2 {
			t.Errorf("after writeIndex: %d index rows, want 2", n)
		}
	}
}

// TestPublishedAtIsOnlyAColumn: the parts hold no run's time (a kept part
// would publish an old one); a model reads published_at only as its
// column, which its view sets to the run's.
func TestPublishedAtIsOnlyAColumn(t *testing.T) {
	ok := uptakesql.Model{Name: "m", Layer: "marts", SQL: "-- getvariable('published_at') in a comment\nSELECT 1 AS x, getvariable('published_at')  AS published_at"}
	if err := checkPublishedAt(ok); err != nil {
		t.Errorf("as its column: %v", err)
	}
	bad := uptakesql.Model{Name: "m", Layer: "marts", SQL: "SELECT getvariable('published_at')::DATE AS day"}
	if err := checkPublishedAt(bad); err == nil || !strings.Contains(err.Error(), "sql/marts/m.sql") {
		t.Errorf("read another way: %v, want an error naming the file", err)
	}
}

// TestAViewReadsItsPartsInMonthOrder: a view of parts reads them month by
// month, a part whose months are not consecutive in twice, and whole parts
// first, in name order.
func TestAViewReadsItsPartsInMonthOrder(t *testing.T) {
	got := inMonthOrder(map[string][]string{
		"m__b": {"2026-02-01"},
		"m__a": {"2026-01-01", "2026-03-01", "2026-04-01"},
		"m__c": {"2026-05-01"},
		"w__2": nil,
		"w__1": nil,
	})
	want := []segment{
		{"w__1", nil}, {"w__2", nil},
		{"m__a", []string{"2026-01-01"}},
		{"m__b", []string{"2026-02-01"}},
		{"m__a", []string{"2026-03-01", "2026-04-01"}},
		{"m__c", []string{"2026-05-01"}},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("segments %v, want %v", got, want)
	}
}

// TestAViewOfPartsKeepsTheMonthOrder: a view of a monthly model's parts
// gives its rows in month order, as the model's ORDER BY wrote them, when
// it reads several months of a part among others: the published files are
// written from it. Part a holds January to December 2025, 25,000 rows a
// month in order; b holds a newer March, c a newer November and December.
// The view reads a's January and February, b's March, a's April to October
// but June, which it reads from no part (six months: as an IN list, DuckDB
// made it a hash join and gave rows out of order; as a range, June is
// excluded), c's November and December.
func TestAViewOfPartsKeepsTheMonthOrder(t *testing.T) {
	ctx := context.Background()
	conn := sqltest.Conn(t)
	const perMonth = 25_000
	part := func(name string, first, months, offset int) string {
		return fmt.Sprintf(`CREATE TABLE parts.%s AS SELECT (DATE '2025-01-01' + to_months((%d + range // %d)::INT))::DATE AS month,
			range + %d AS v FROM range(%d) ORDER BY range`, name, first, perMonth, offset, months*perMonth)
	}
	for _, q := range []string{"SET threads = 2", "CREATE SCHEMA parts", part("m__a", 0, 12, 0), part("m__b", 2, 1, 1_000_000), part("m__c", 10, 2, 2_000_000)} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	months := func(from, to int) []string {
		var out []string
		for m := from; m <= to; m++ {
			out = append(out, fmt.Sprintf("2025-%02d-01", m))
		}
		return out
	}
	b := &builder{conn: conn, used: map[string]bool{}, vars: map[string]string{},
		monthsOf: map[string][]string{"m__a": months(1, 12), "m__b": months(3, 3), "m__c": months(11, 12)}}
	fromA := append(append(months(1, 2), months(4, 5)...), months(7, 10)...)
	if err := b.view(ctx, "m", "month", map[string][]string{"m__a": fromA, "m__b": months(3, 3), "m__c": months(11, 12)}); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "m.csv")
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("COPY m TO '%s' (HEADER)", file)); err != nil {
		t.Fatal(err)
	}
	var rows, outOfOrder, march, fromB, june, december, fromC int
	if err := conn.QueryRowContext(ctx, fmt.Sprintf(`SELECT count(*), count(*) FILTER (WHERE month < before),
		count(*) FILTER (WHERE month = DATE '2025-03-01'), count(*) FILTER (WHERE month = DATE '2025-03-01' AND v >= 1000000),
		count(*) FILTER (WHERE month = DATE '2025-06-01'),
		count(*) FILTER (WHERE month = DATE '2025-12-01'), count(*) FILTER (WHERE month = DATE '2025-12-01' AND v >= 2000000)
		FROM (SELECT month, v, lag(month) OVER () AS before FROM read_csv('%s'))`, file)).Scan(&rows, &outOfOrder, &march, &fromB, &june, &december, &fromC); err != nil {
		t.Fatal(err)
	}
	if rows != 11*perMonth || outOfOrder != 0 || march != perMonth || fromB != perMonth || june != 0 || december != perMonth || fromC != perMonth {
		t.Errorf("%d rows (%d out of month order); March %d rows, %d of b; June %d; December %d rows, %d of c; want %d rows in order, each month %d, of b and c, and no June",
			rows, outOfOrder, march, fromB, june, december, fromC, 11*perMonth, perMonth)
	}
	for _, c := range []struct {
		read, held []string
		want       string
	}{
		{months(3, 3), months(1, 12), "(month) = DATE '2025-03-01'"},
		{months(4, 10), months(1, 12), "(month) >= DATE '2025-04-01' AND (month) <= DATE '2025-10-01'"},
		{[]string{"2025-01-01", "2025-02-01", "2025-05-01"}, months(1, 6), "(month) >= DATE '2025-01-01' AND (month) <= DATE '2025-05-01' AND (month) <> DATE '2025-03-01' AND (month) <> DATE '2025-04-01'"},
	} {
		if got := monthsOfPart("month", c.read, c.held); got != c.want {
			t.Errorf("months %v of %v: %s, want %s", c.read, c.held, got, c.want)
		}
	}
}

// TestAColumnTestFailsTheTestStep: the test step runs the column tests of
// sql/marts/schema.yml on the published tables; a row breaking one fails
// it, naming the test, the file, the rule and the row.
func TestAColumnTestFailsTheTestStep(t *testing.T) {
	ctx := context.Background()
	conn := sqltest.Conn(t)
	schema, err := uptakesql.ReadSchema()
	if err != nil {
		t.Fatal(err)
	}
	// Every published table, empty: every test passes.
	for _, m := range schema.Models {
		var cols []string
		for _, c := range m.Columns {
			cols = append(cols, c.Name+" "+c.DataType)
		}
		if _, err := conn.ExecContext(ctx, "CREATE TABLE "+m.Name+" ("+strings.Join(cols, ", ")+")"); err != nil {
			t.Fatal(err)
		}
	}
	if err := columnTests(ctx, conn); err != nil {
		t.Fatalf("empty tables: %v", err)
	}
	// A customer's month with a usage of 150 %, twice; an action for a
	// customer customer_monthly does not have.
	for _, q := range []string{
		`INSERT INTO customer_monthly (month, customer_ref, name, salesperson, complete, activated, score, active, champion, churn_risk, users, active_users, usage_pct)
			VALUES (DATE '2026-09-01', 'E1', 'Alpha', 'Alice', true, true, 3, true, false, false, 2, 3, 1.5)`,
		`INSERT INTO customer_monthly SELECT * FROM customer_monthly`,
		`INSERT INTO action_list (month, customer_ref, salesperson, play, priority, position) VALUES (DATE '2026-09-01', 'E9', 'Alice', 'champion', 3, 1)`,
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	err = columnTests(ctx, conn)
	for _, want := range []string{
		"data test customer_monthly.usage_pct accepted_range of sql/marts/schema.yml failed (usage_pct is from 0 to 1): 2 rows break the rule, e.g. month=2026-09-01",
		"data test customer_monthly unique_combination_of_columns of sql/marts/schema.yml failed (one row per month × customer_ref): 1 repeated values break the rule",
		"data test action_list.customer_ref relationships of sql/marts/schema.yml failed (every customer_ref is a customer_ref of customer_monthly): 1 rows",
		"customer_ref=E9",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want it to say %q", err, want)
		}
	}
	if n := strings.Count(err.Error(), "data test "); n != 3 {
		t.Errorf("%d tests failed, want 3:\n%v", n, err)
	}
}

// TestCutoffKeysSeeColumnNamesAndTypes: the digest that keys the readers
// of a @cutoff model changes with its columns' names and types, not only
// with its values: DuckDB's hash of a row sees neither, and a reader of a
// renamed or retyped column must be built again (a review built a nightly
// run that published the old values after two columns' names were swapped).
func TestCutoffKeysSeeColumnNamesAndTypes(t *testing.T) {
	ctx := context.Background()
	b := septemberBuilder(t)
	readersKey := func(query string) string {
		t.Helper()
		m := uptakesql.Model{Name: "stg_c", Layer: "staging", SQL: query, Month: "date_trunc('month', day)::DATE", Raw: []string{"raw_x"}, Cutoff: true}
		if _, err := b.build(ctx, m); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return b.keys["stg_c"].months["2026-09-01"]
	}
	first := readersKey("SELECT day, 1 AS a, 2 AS b FROM raw_x")
	if !strings.HasPrefix(first, "content:") {
		t.Fatalf("readers' key %q, want a content digest", first)
	}
	if same := readersKey("SELECT day, 1 AS a, 2 AS b FROM raw_x -- other SQL, the same rows"); same != first {
		t.Errorf("the same rows: readers' key %q, want %q", same, first)
	}
	if renamed := readersKey("SELECT day, 1 AS b, 2 AS a FROM raw_x"); renamed == first {
		t.Errorf("columns a and b swapped: readers' key unchanged (%q)", renamed)
	}
	if retyped := readersKey("SELECT day, 1::BIGINT AS a, 2 AS b FROM raw_x"); retyped == first {
		t.Errorf("a made a BIGINT: readers' key unchanged (%q)", retyped)
	}
}

// septemberBuilder is a builder on an in-memory database holding raw_x, a
// monthly raw table with one row, of September 2026, as of October 15.
func septemberBuilder(t *testing.T) *builder {
	t.Helper()
	ctx := context.Background()
	conn := sqltest.Conn(t)
	for _, q := range []string{
		`CREATE TABLE state (key VARCHAR PRIMARY KEY, value VARCHAR)`, // as the warehouse has it
		`CREATE TABLE raw_x AS SELECT DATE '2026-09-03' AS day`,
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	b, err := newBuilder(ctx, conn, "main", "run1", false, nil, time.Date(2026, 10, 15, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	b.keys["raw_x"] = keys{monthly: true, months: map[string]string{"2026-09-01": "k"}}
	b.monthOf["raw_x"] = "day"
	return b
}

// TestCompactionKeepsEachUsersLatestRows: the compaction's one rule, as
// compact's DELETE (rows a run copies) and as the part buildRawMonth makes,
// as of October 15. u1 has October 1, 10 and 20: the 10th's is its latest
// on or before the 15th, the 20th's its latest (kept for a later run), the
// 1st's goes. u2 has October 18 and 25, both after the 15th: the 25th's
// alone. u3 has one row, twice (two exports): both stay. Rows without a
// user or a date stay, and September's single snapshot is left alone.
func TestCompactionKeepsEachUsersLatestRows(t *testing.T) {
	ctx := context.Background()
	conn := sqltest.Conn(t)
	rows := `SELECT * FROM (VALUES
		('u1', DATE '2026-10-01'), ('u1', DATE '2026-10-10'), ('u1', DATE '2026-10-20'),
		('u2', DATE '2026-10-18'), ('u2', DATE '2026-10-25'),
		('u3', DATE '2026-10-05'), ('u3', DATE '2026-10-05'),
		(NULL, DATE '2026-10-01'), (NULL, DATE '2026-10-02'), ('u4', NULL), ('u4', NULL),
		('u1', DATE '2026-09-01')) t(user_id, snapshot_date)`
	for _, q := range []string{
		"SET VARIABLE as_of = DATE '2026-10-15'",
		"CREATE TABLE copied AS " + rows,
		"CREATE TABLE made AS " + compacted(rows, "snapshot_date"),
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := compact(ctx, conn, "raw_users", "copied", "snapshot_date"); err != nil {
		t.Fatal(err)
	}
	want := "NULL 2026-10-01, NULL 2026-10-02, u1 2026-09-01, u1 2026-10-10, u1 2026-10-20, u2 2026-10-25, u3 2026-10-05, u3 2026-10-05, u4 NULL, u4 NULL"
	for _, table := range []string{"copied", "made"} {
		var got string
		if err := conn.QueryRowContext(ctx, `SELECT string_agg(coalesce(user_id, 'NULL') || ' ' || coalesce(snapshot_date::VARCHAR, 'NULL'), ', '
			ORDER BY user_id NULLS FIRST, snapshot_date NULLS LAST) FROM `+table).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s: kept %s\nwant %s", table, got, want)
		}
	}
}

// TestASupersedingSnapshotKeepsWhatCompactionKeeps: a month made of its
// live part and a later snapshot (superseded) holds compacted's rows of
// both, as of November 10. The live part was built as of an earlier date:
// u4 has November 1 and 5 (the 5th was after that date). The snapshot of
// November 8 lists u1, u4 (once) and u5 and a row without a user:
//   - u1: November 8's row alone (its live row of November 1 goes);
//   - u2, u3, absent from it: their live rows stay (u3 has one, twice);
//   - u4: November 8's row alone (both live rows go);
//   - u5: new, November 8's row;
//   - u6 (live only, November 1 and 5): the 5th alone, the latest;
//   - rows without a user: all stay, live and new.
func TestASupersedingSnapshotKeepsWhatCompactionKeeps(t *testing.T) {
	ctx := context.Background()
	conn := sqltest.Conn(t)
	live := `SELECT * FROM (VALUES ('u1', DATE '2026-11-01', 'a'), ('u2', DATE '2026-11-01', 'b'),
		('u3', DATE '2026-11-03', 'c'), ('u3', DATE '2026-11-03', 'c2'), ('u4', DATE '2026-11-01', 'd'), ('u4', DATE '2026-11-05', 'e'),
		('u6', DATE '2026-11-01', 'f'), ('u6', DATE '2026-11-05', 'g'), (NULL, DATE '2026-11-01', 'h')) t(user_id, snapshot_date, customer_ref)`
	added := `SELECT * FROM (VALUES ('u1', DATE '2026-11-08', 'A'), ('u4', DATE '2026-11-08', 'D'), ('u5', DATE '2026-11-08', 'E'),
		(NULL, DATE '2026-11-08', 'H')) t(user_id, snapshot_date, customer_ref)`
	m := &rawMonth{livePeriods: map[string]bool{"2026-11-01": true, "2026-11-03": true, "2026-11-05": true},
		relPeriods: map[string]map[string]bool{"kept.file_9": {"2026-11-08": true}}}
	if !m.supersedes([]string{"kept.file_9"}) {
		t.Fatal("November 8 does not supersede November 1 to 5")
	}
	read := func(q string) string {
		t.Helper()
		var got string
		if err := conn.QueryRowContext(ctx, `SELECT string_agg(coalesce(user_id, 'NULL') || ' ' || snapshot_date::VARCHAR || ' ' || customer_ref, ', '
			ORDER BY user_id NULLS FIRST, snapshot_date, customer_ref) FROM (`+q+`)`).Scan(&got); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return got
	}
	if _, err := conn.ExecContext(ctx, "SET VARIABLE as_of = DATE '2026-11-10'"); err != nil {
		t.Fatal(err)
	}
	want := "NULL 2026-11-01 h, NULL 2026-11-08 H, u1 2026-11-08 A, u2 2026-11-01 b, u3 2026-11-03 c, u3 2026-11-03 c2, " +
		"u4 2026-11-08 D, u5 2026-11-08 E, u6 2026-11-05 g"
	if got := read(compacted(live+" UNION ALL "+added, "snapshot_date")); got != want {
		t.Errorf("compacted: %s\nwant %s", got, want)
	}
	if got := read(superseded(live, added, "snapshot_date", "user_id, snapshot_date, customer_ref")); got != want {
		t.Errorf("superseded: %s\nwant %s", got, want)
	}

	// Two files of one later snapshot supersede it too; one of the live
	// part's periods, an earlier one, two periods (in one file or two), or
	// rows without a period in the live part do not.
	m.relPeriods["kept.file_10"] = map[string]bool{"2026-11-08": true}
	if !m.supersedes([]string{"kept.file_9", "kept.file_10"}) {
		t.Error("two files of November 8 do not supersede November 1 to 5")
	}
	for _, c := range []struct {
		name      string
		added     map[string]bool
		other     map[string]bool
		liveNULLs bool
	}{
		{"the live part's latest period", map[string]bool{"2026-11-05": true}, nil, false},
		{"an earlier period", map[string]bool{"2026-11-02": true}, nil, false},
		{"two periods", map[string]bool{"2026-11-08": true, "2026-11-09": true}, nil, false},
		{"two periods in two files", map[string]bool{"2026-11-08": true}, map[string]bool{"2026-11-09": true}, false},
		{"rows without a period in the live part", map[string]bool{"2026-11-08": true}, nil, true},
	} {
		m.relPeriods["kept.file_9"], m.relPeriods["kept.file_10"] = c.added, c.other
		delete(m.livePeriods, "NULL")
		if c.liveNULLs {
			m.livePeriods["NULL"] = true
		}
		if m.supersedes([]string{"kept.file_9", "kept.file_10"}) {
			t.Errorf("%s supersedes the live part", c.name)
		}
	}
}

// TestRowsWithoutAMonthAreInTheKeysOfWholeReaders: a monthly raw table's
// rows without a month are in the key of a reader of the whole table even
// when the table has no month at all: else a table holding only such rows
// keys like an empty one, and test_raw_keys_not_null, which passed on the
// empty table, would be kept on the rows it exists to catch (found by a
// review).
func TestRowsWithoutAMonthAreInTheKeysOfWholeReaders(t *testing.T) {
	ctx := context.Background()
	conn := sqltest.Conn(t)
	contract, err := uptakesql.Contract()
	if err != nil {
		t.Fatal(err)
	}
	exec := func(q string) {
		t.Helper()
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`CREATE TABLE state (key VARCHAR PRIMARY KEY, value VARCHAR)`)
	for _, m := range contract {
		exec(m.SQL)
	}
	b, err := newBuilder(ctx, conn, "main", "run1", false, nil, time.Date(2026, 10, 15, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	test := sqltest.Named(t, uptakesql.Tests, "test_raw_keys_not_null")
	keyOf := func(what string) string {
		t.Helper()
		if err := b.digestRaw(ctx, nil, connectors.Extracted{}); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		k := b.testKey(test)
		if k == "" {
			t.Fatalf("%s: no key for %s (inputs %v)", what, test.Name, inputs(test))
		}
		return k
	}
	empty := keyOf("empty raw tables")
	exec(`INSERT INTO raw_customers (month, customer_ref, name) VALUES (NULL, 'E1', 'Acme')`)
	if monthless := keyOf("a customer without a month"); monthless == empty {
		t.Errorf("raw_customers holding one row without a month keys %s like the empty table", monthless)
	}
	var broken int
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM ("+test.SQL+")").Scan(&broken); err != nil || broken == 0 {
		t.Errorf("%s finds %d rows (%v): the fixture means little", test.Name, broken, err)
	}
}

// TestADataTestReadingTheClockHasNoKey: a data test that reads the date or
// time of day could fail on the same inputs another day: it is always run.
func TestADataTestReadingTheClockHasNoKey(t *testing.T) {
	b := septemberBuilder(t)
	for q, want := range map[string]bool{
		"SELECT day FROM raw_x WHERE day > current_date":            false,
		"SELECT day FROM raw_x WHERE day > now()::DATE":             false,
		"SELECT day FROM raw_x WHERE day > CURRENT_TIMESTAMP::DATE": false,
		"SELECT day FROM raw_x WHERE day > DATE '2026-10-01'":       true,
		"SELECT nowhere FROM (SELECT day AS nowhere FROM raw_x)":    true,
	} {
		test := uptakesql.Model{Name: "test_x", Layer: "tests", SQL: q, Raw: []string{"raw_x"}}
		if got := b.testKey(test) != ""; got != want {
			t.Errorf("%s: keyed %v, want %v", q, got, want)
		}
	}
}

// TestAModelReadingTheRunsIsSeenInAnyCase: a model reading a table of main
// (the runs) is built at every run, whatever the case or quoting of main;
// a name merely ending in "main" is not one.
func TestAModelReadingTheRunsIsSeenInAnyCase(t *testing.T) {
	for sql, want := range map[string]bool{
		"SELECT * FROM main.runs":                     true,
		"SELECT * FROM MAIN.runs":                     true,
		`SELECT * FROM "main".runs`:                   true,
		`SELECT * FROM "Main" . "runs"`:               true,
		"SELECT * FROM x JOIN main.runs r ON true":    true,
		"SELECT email_domain.x FROM stg_users":        false,
		"SELECT 1 -- main.runs is read by runs alone": false,
	} {
		if got := readsBookkeeping(uptakesql.Model{Name: "m", SQL: sql}); got != want {
			t.Errorf("%s: reads main = %v, want %v", sql, got, want)
		}
	}
}
