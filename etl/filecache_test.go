package etl_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/uptake-dev/uptake/etl"
)

// published reads every output table of the warehouse as text, rows in
// the order the table gives them (the order published files get), without
// the columns that name the run (published_at, run ids).
func published(t *testing.T, w *workspace, res *etl.Result) map[string]string {
	t.Helper()
	db := w.db()
	defer db.Close()
	out := map[string]string{}
	for _, table := range res.Outputs {
		if table == "runs" {
			continue
		}
		var exclude []string
		rows, err := db.Query(`SELECT column_name FROM duckdb_columns() WHERE schema_name = 'main' AND table_name = ?
			AND (column_name IN ('published_at', 'run_id') OR column_name LIKE '%run%')`, table)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var c string
			rows.Scan(&c)
			exclude = append(exclude, `"`+c+`"`)
		}
		rows.Close()
		sel := "*"
		if len(exclude) > 0 {
			sel = "* EXCLUDE (" + strings.Join(exclude, ", ") + ")"
		}
		rows, err = db.Query(fmt.Sprintf(`SELECT r::VARCHAR FROM (SELECT %s FROM main.%s) r`, sel, table))
		if err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		var lines []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatalf("%s: %v", table, err)
			}
			lines = append(lines, line)
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		rows.Close()
		out[table] = strings.Join(lines, "\n")
	}
	return out
}

// sameTables fails the test for each table that differs between a and b.
func sameTables(t *testing.T, what string, a, b map[string]string) {
	t.Helper()
	if len(a) != len(b) || len(a) == 0 {
		t.Errorf("%s: %d tables against %d", what, len(a), len(b))
	}
	for table, rows := range a {
		if b[table] != rows {
			t.Errorf("%s: %s differs:\n%s\n-- against --\n%s", what, table, rows, b[table])
		}
	}
}

// readThisRun lists the files the run read (the others it kept).
func readThisRun(t *testing.T, w *workspace, res *etl.Result) []string {
	t.Helper()
	db := w.db()
	defer db.Close()
	rows, err := db.Query(`SELECT path FROM kept.files WHERE run_id = ? ORDER BY path`, res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var p string
		rows.Scan(&p)
		names = append(names, filepath.Base(p))
	}
	return names
}

// TestNightlyRunReadsOnlyChangedFilesAndPublishesWhatAFullRefreshDoes
// changes the kpi fixture's exports the ways a platform does (a past day
// revised, a file removed, a customer moved to another salesperson, a file
// copied again unchanged) and checks after each that the run read only the
// files that changed and published exactly what --full-refresh publishes
// on the same files.
func TestNightlyRunReadsOnlyChangedFilesAndPublishesWhatAFullRefreshDoes(t *testing.T) {
	w := newWorkspace(t, "")
	first, err := w.run(etl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := readThisRun(t, w, first); len(got) != 7 {
		t.Fatalf("first run read %v, want the 7 files", got)
	}
	cold := published(t, w, first)

	// Nothing changed: nothing read, same tables.
	again, err := w.run(etl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := readThisRun(t, w, again); len(got) != 0 {
		t.Errorf("unchanged files read again: %v", got)
	}
	sameTables(t, "second run", published(t, w, again), cold)

	step := func(what string, change func(), wantRead string) {
		t.Helper()
		change()
		inc, err := w.run(etl.Options{})
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if got := strings.Join(readThisRun(t, w, inc), " "); got != wantRead {
			t.Errorf("%s: the run read [%s], want [%s]", what, got, wantRead)
		}
		incTables := published(t, w, inc)
		full, err := w.run(etl.Options{FullRefresh: true})
		if err != nil {
			t.Fatalf("%s: full refresh: %v", what, err)
		}
		if got := readThisRun(t, w, full); len(got) == 0 {
			t.Errorf("%s: the full refresh read no file", what)
		}
		sameTables(t, what, incTables, published(t, w, full))
	}
	in := filepath.Join(w.dir, "input")
	// A past day revised: u2's July 3 download becomes 4 downloads, and a
	// line is added to July 2.
	step("revised day", func() {
		w.write("activity_2026-07.csv", strings.Replace(readFile(t, filepath.Join(in, "activity_2026-07.csv")),
			"2026-07-03,u2,E1,download,1", "2026-07-02,u3,E1,share,2\n2026-07-03,u2,E1,download,4", 1))
	}, "activity_2026-07.csv")
	// A customer moved to another salesperson in September.
	step("salesperson", func() {
		text := readFile(t, filepath.Join(in, "establishments_2026-09.csv"))
		if !strings.Contains(text, "Alice") {
			t.Fatal("fixture: no Alice in September")
		}
		w.write("establishments_2026-09.csv", strings.Replace(text, "Alice", "Bruno", 1))
	}, "establishments_2026-09.csv")
	// A file removed: August's activity is gone.
	step("removed file", func() {
		if err := os.Remove(filepath.Join(in, "activity_2026-08.csv")); err != nil {
			t.Fatal(err)
		}
	}, "")
	// A file copied again: new time, same bytes. Its content is hashed,
	// and it is not read.
	step("touched file", func() {
		old := time.Now().Add(-48 * time.Hour)
		if err := os.Chtimes(filepath.Join(in, "activity_2026-09.csv"), old, old); err != nil {
			t.Fatal(err)
		}
	}, "")

	// The removed file's rows are gone from the warehouse, and the cache
	// keeps one relation per file, no more: a view over its scan table for
	// the two activity files and the users file, a table for each of the
	// three establishments files.
	db := w.db()
	var files, views, tables, orphanMonths int
	if err := db.QueryRow(`SELECT (SELECT count(*) FROM kept.files),
		(SELECT count(*) FROM duckdb_views() WHERE schema_name = 'kept'),
		(SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'kept' AND table_name NOT IN ('files', 'rejects', 'months')),
		(SELECT count(*) FROM kept.months WHERE relation NOT IN (SELECT relation FROM kept.files))`).Scan(&files, &views, &tables, &orphanMonths); err != nil {
		t.Fatal(err)
	}
	if orphanMonths != 0 {
		t.Errorf("kept.months has %d rows of relations no file has", orphanMonths)
	}
	if files != 6 || views != 3 || tables != 6 {
		t.Errorf("kept: %d files, %d views, %d tables; want 6 files, 3 views over 3 scans, 3 tables", files, views, tables)
	}
	var august int
	if err := db.QueryRow(`SELECT count(*) FROM raw_activity WHERE month(day) = 8`).Scan(&august); err != nil || august != 0 {
		t.Errorf("August rows after its file was removed: %d (%v)", august, err)
	}
	db.Close()

	// Settings that shape the rows read them all again.
	w.cfg.Checks.MaxCellChars = 5000
	res, err := w.run(etl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := readThisRun(t, w, res); len(got) != 6 {
		t.Errorf("after a change of checks.max_cell_chars the run read %v, want all 6 files", got)
	}
}

// TestKeptFileReportsItsRejectsAgain: a file read in an earlier run keeps
// its bad lines in each run's rejects, and the run's counts.
func TestKeptFileReportsItsRejectsAgain(t *testing.T) {
	w := newWorkspace(t, "")
	w.write("activity_2026-10.csv", "date,user_id,customer_reference,event,count\n"+
		"2026-10-01,u1,E1,portal_view,2\n2026-10-02,u1,E1,portal_view,-3\n2026-10-03,u2,E1,login,1\n")
	w.cfg.Checks.MaxRejectPct = 50
	var runs []*etl.Result
	for i := 0; i < 2; i++ {
		res, err := w.run(etl.Options{})
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, res)
	}
	if got := readThisRun(t, w, runs[1]); len(got) != 0 {
		t.Fatalf("second run read %v", got)
	}
	db := w.db()
	for _, res := range runs {
		var n int
		var where string
		if err := db.QueryRow(`SELECT count(*), any_value(file || ':' || line || ' ' || "column" || ': ' || reason) FROM rejects WHERE run_id = ?`, res.RunID).Scan(&n, &where); err != nil {
			t.Fatal(err)
		}
		if n != 1 || !strings.Contains(where, "activity_2026-10.csv:3 count: \"-3\" is not a whole number") {
			t.Errorf("run %s: %d rejects (%s), want line 3's", res.RunID, n, where)
		}
		if res.Rejected != 1 {
			t.Errorf("run %s: Rejected = %d, want 1", res.RunID, res.Rejected)
		}
	}
	if runs[0].RowsIn["raw_activity"] != runs[1].RowsIn["raw_activity"] {
		t.Errorf("raw_activity rows: %d then %d", runs[0].RowsIn["raw_activity"], runs[1].RowsIn["raw_activity"])
	}
}

// TestAFileWithADuplicateKeyIsNeverKept: a users file listing a user twice
// fails the run, and the next one too: the file was not kept as read (a
// kept file is not checked alone again), and both runs name its lines.
func TestAFileWithADuplicateKeyIsNeverKept(t *testing.T) {
	w := newWorkspace(t, "")
	users := readFile(t, filepath.Join(w.dir, "input", "users_2026-10-01.csv"))
	w.write("users_2026-10-01.csv", users+"u2,E2,ben@beta.example,2026-06-15,2026-07-03,,no\n")
	for i := 0; i < 2; i++ {
		_, err := w.run(etl.Options{})
		if err == nil || !strings.Contains(err.Error(), `users_2026-10-01.csv:3, `) || !strings.Contains(err.Error(), `users_2026-10-01.csv:14`) || !strings.Contains(err.Error(), `duplicate user id "u2"`) {
			t.Fatalf("run %d: %v, want the duplicate u2 on lines 3 and 14", i+1, err)
		}
	}
	var kept int
	w.scan(`SELECT count(*) FROM kept.files WHERE path LIKE '%users_2026-10-01.csv'`, &kept)
	if kept != 0 {
		t.Errorf("the file is kept %d times", kept)
	}
}

// TestFailedRunKeepsTheLiveRawRows: a run that reads a changed file and then
// fails leaves the live raw table on the previous version's rows, and the
// next successful run drops that version.
func TestFailedRunKeepsTheLiveRawRows(t *testing.T) {
	w := newWorkspace(t, "")
	if _, err := w.run(etl.Options{}); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		db := w.db()
		defer db.Close()
		var n int
		if err := db.QueryRow(`SELECT sum(count) FROM raw_activity WHERE day = DATE '2026-07-02'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count()
	in := filepath.Join(w.dir, "input")
	w.write("activity_2026-07.csv", readFile(t, filepath.Join(in, "activity_2026-07.csv"))+"2026-07-02,u9,E1,login,100\n")
	// The revision is read, but a broken October establishments export fails the run.
	w.write("establishments_2026-10.csv", "reference,name,archived,has_portal_access,portal views,downloads,shares,salesperson,seats\n"+
		"E1,Alpha,maybe,yes,1,0,0,Alice,4\n")
	if _, err := w.run(etl.Options{}); err == nil {
		t.Fatal("the run with a broken export succeeded")
	}
	if got := count(); got != before {
		t.Errorf("after a failed run July 2 counts %d, want the live %d", got, before)
	}
	if err := os.Remove(filepath.Join(in, "establishments_2026-10.csv")); err != nil {
		t.Fatal(err)
	}
	res, err := w.run(etl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := count(); got != before+100 {
		t.Errorf("after the next run July 2 counts %d, want %d", got, before+100)
	}
	if got := readThisRun(t, w, res); len(got) != 0 {
		t.Errorf("the failed run's reading of the revision was not kept: read again %v", got)
	}
}

// TestAFailedSourceRecordsTheFilesItRead: a source that fails on one file
// (a header without a column the contract needs) has read and kept the
// files before it; the run fails, and the next run does not read them
// again (the engine records them whether its sources failed or not).
func TestAFailedSourceRecordsTheFilesItRead(t *testing.T) {
	w := newWorkspace(t, "")
	if _, err := w.run(etl.Options{}); err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(w.dir, "input")
	w.write("activity_2026-07.csv", readFile(t, filepath.Join(in, "activity_2026-07.csv"))+"2026-07-02,u9,E1,login,100\n")
	w.write("activity_2026-12.csv", "date,user_id,customer_reference,count\n2026-12-01,u1,E1,1\n")
	_, err := w.run(etl.Options{})
	if err == nil || !strings.Contains(err.Error(), "activity_2026-12.csv") || !strings.Contains(err.Error(), "event") {
		t.Fatalf("the run with an activity file without its event column: %v", err)
	}
	if err := os.Remove(filepath.Join(in, "activity_2026-12.csv")); err != nil {
		t.Fatal(err)
	}
	res, err := w.run(etl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := readThisRun(t, w, res); len(got) != 0 {
		t.Errorf("the failed run's reading of the revision was not recorded: read again %v", got)
	}
}

// madeAnew finds, in a view's SQL, a function or cast that makes a text
// column's strings anew at each read.
var madeAnew = regexp.MustCompile(`(?i)"?(trim|nullif|lower|upper)"?\(|CAST\("?(user_id|customer_ref|customer_reference|event)"?`)

// TestRawViewsReadKeptRowsAsStored: the raw activity view reads the kept
// relations' columns as stored, and those relations read their scan's
// columns as stored: a cast or a trim at each read made a new string per
// row, and 40 M rows no longer fit in memory_limit 1200MB (stg_user_days).
// (The views of the other exports trim as they read: their rows are few,
// and copied or aggregated once.)
func TestRawViewsReadKeptRowsAsStored(t *testing.T) {
	w := newWorkspace(t, "")
	if _, err := w.run(etl.Options{}); err != nil {
		t.Fatal(err)
	}
	db := w.db()
	rows, err := db.Query(`SELECT schema_name || '.' || view_name, sql FROM duckdb_views()
		WHERE (view_name = 'raw_activity' AND schema_name IN ('blue', 'green'))
		   OR 'kept.' || view_name IN (SELECT relation FROM kept.files WHERE target_table = 'raw_activity')`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var name, text string
		if err := rows.Scan(&name, &text); err != nil {
			t.Fatal(err)
		}
		n++
		// DuckDB writes a view's functions quoted: "nullif"(main."trim"(x)).
		if made := madeAnew.FindString(text); made != "" {
			t.Errorf("%s makes its strings anew (%s):\n%s", name, made, text)
		}
	}
	if n != 4 { // blue.raw_activity and the three activity files' views
		t.Errorf("%d views checked, want 4", n)
	}
}

// TestKeptFileNamesItsLinesAgain: a file kept by the run that read it is
// checked again by the next runs, which name the same lines (here: a user
// in two users files of one snapshot date, each right alone): a kept users
// file whose records lie on their lines one for one is a view over its
// scan (line = row + 2), one with a quoted line break, a blank line or a
// rejected row is a table holding each row's line as the run that read it
// worked it out.
func TestKeptFileNamesItsLinesAgain(t *testing.T) {
	const header = "user_id,customer_reference,email,created,first_login,deactivated,archived\n"
	for _, c := range []struct {
		name, body, line, relation string
	}{
		{"one line a record", "u1,E1,a@x.com,2026-01-01,,,no\nu2,E1,b@x.com,2026-01-01,,,no\nu1,E2,c@x.com,2026-01-01,,,no\n",
			"4", "VIEW"},
		// The e-mail of u2 takes lines 3 and 4, a blank line is 5: the
		// second u1 is on line 6.
		{"quoted line break and blank line", "u1,E1,a@x.com,2026-01-01,,,no\nu2,E1,\"b\n@x.com\",2026-01-01,,,no\n\nu1,E2,c@x.com,2026-01-01,,,no\n",
			"6", "BASE TABLE"},
		// A blank line (line 4) alone, or a row DuckDB rejects (line 3,
		// not a date) alone: a line map of skipped records, a table too.
		{"blank line", "u1,E1,a@x.com,2026-01-01,,,no\nu2,E1,b@x.com,2026-01-01,,,no\n\nu1,E2,c@x.com,2026-01-01,,,no\n",
			"5", "BASE TABLE"},
		{"rejected row", "u1,E1,a@x.com,2026-01-01,,,no\nu2,E1,b@x.com,notadate,,,no\nu1,E2,c@x.com,2026-01-01,,,no\n",
			"4", "BASE TABLE"},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWorkspace(t, "")
			w.write("users_2026-10-01.csv", header+strings.Replace(c.body, "u1,E1,", "u3,E1,", 1))
			w.write("users_2026-10-01_b.csv", header+"u1,E9,z@x.com,2026-01-01,,,no\n")
			file := filepath.Join(w.dir, "input", "users_2026-10-01")
			want := file + ".csv:" + c.line + ", " + file + "_b.csv:2"
			for run := 1; run <= 2; run++ {
				_, err := w.run(etl.Options{})
				if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), `duplicate user id "u1"`) {
					t.Fatalf("run %d: %v, want the duplicate u1 on %s", run, err, want)
				}
			}
			var kept int
			var relation string
			w.scan(`SELECT count(*), any_value(t.table_type) FROM kept.files f JOIN information_schema.tables t
				ON f.relation = t.table_schema || '.' || t.table_name WHERE f.path LIKE '%users_2026-10-01.csv'`, &kept, &relation)
			if kept != 1 || relation != c.relation {
				t.Errorf("users_2026-10-01.csv kept %d times, as a %s; want once, as a %s", kept, relation, c.relation)
			}
		})
	}
}

// TestALargeUsersExportNamesItsLines: a users export of 600,000 records of
// about 80 bytes (47 MB) is read into the warehouse in buffers larger than
// DuckDB's default (csvexport's scanBuffer: 36 MB here, so two of them);
// its rows keep the file's order, so that a duplicate still names its
// lines. Before the duplicate's second row, the second record's e-mail
// spans two lines and DuckDB rejects a record of the second buffer (not a
// date): both move the lines the rows' places give.
func TestALargeUsersExportNamesItsLines(t *testing.T) {
	const header = "user_id,customer_reference,email,created,first_login,deactivated,archived\n"
	const users = 600_000
	var b strings.Builder
	b.WriteString(header)
	for i := 1; i <= users; i++ {
		id, created := fmt.Sprintf("u%06d", i), "2026-01-01"
		switch i {
		case 2:
			fmt.Fprintf(&b, "%s,E1,\"first.last.%06d\n@a-long-company-domain.example.com\",%s,,,no\n", id, i, created)
			continue
		case 500_000: // 38 MB into the file: in the second buffer
			created = "2026-13-01"
		case users:
			id = "u400000"
		}
		fmt.Fprintf(&b, "%s,E1,first.last.%06d@a-long-company-domain.example.com,%s,,,no\n", id, i, created)
	}
	if b.Len() < 36<<20 {
		t.Fatalf("the export is %d bytes: too small to take several buffers", b.Len())
	}
	w := newWorkspace(t, "")
	w.write("users_2026-10-01.csv", b.String())
	file := filepath.Join(w.dir, "input", "users_2026-10-01.csv")
	// Record n of the file (the header is record 1) is on line n + 1 from
	// the third on: u400000 is record 400,001, on line 400,002, and its
	// second row the last record, 600,001, on line 600,002.
	_, err := w.run(etl.Options{})
	if want := file + ":400002, " + file + ":600002"; err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), `duplicate user id "u400000"`) {
		t.Fatalf("got %v, want the duplicate u400000 on %s", err, want)
	}
}

// TestAGrownActivityFileIsReadFromWhereItEnded: a month's activity export
// rewritten every night with more lines is read from where its kept version
// ended, night after night, and publishes what a full refresh does, its
// values trimmed as in the whole file. New lines that would not read alone
// as they read in the whole file (a rejected line, another encoding, blank
// lines only) make the run read the whole file, and the rejects name the
// lines of the whole file.
func TestAGrownActivityFileIsReadFromWhereItEnded(t *testing.T) {
	w := newWorkspace(t, "")
	w.cfg.Checks.MaxRejectPct = 50
	const name = "activity_2026-09.csv" // a header and 9 records
	path := filepath.Join(w.dir, "input", name)
	if _, err := w.run(etl.Options{}); err != nil {
		t.Fatal(err)
	}
	grow := func(lines string) {
		t.Helper()
		f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString(lines); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// night runs and returns how many pieces the file's relation has (1:
	// read whole) and its rows, after checking that the run read the file.
	night := func(what string) (*etl.Result, int, int) {
		t.Helper()
		res, err := w.run(etl.Options{})
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if got := strings.Join(readThisRun(t, w, res), " "); got != name {
			t.Errorf("%s: the run read [%s], want [%s]", what, got, name)
		}
		var pieces, rows int
		w.scan(`SELECT coalesce(len(string_split(pieces, ',')), 1), (SELECT count(*) FROM raw_activity WHERE month(day) = 9)
			FROM kept.files WHERE path LIKE '%`+name+`'`, &pieces, &rows)
		return res, pieces, rows
	}
	sameAsAFullRefresh := func(what string, res *etl.Result) {
		t.Helper()
		inc := published(t, w, res)
		full, err := w.run(etl.Options{FullRefresh: true})
		if err != nil {
			t.Fatalf("%s: full refresh: %v", what, err)
		}
		sameTables(t, what, inc, published(t, w, full))
	}

	// Two nights, two more days: the relation is the first version's rows
	// and each night's.
	grow("2026-09-29,u1,E1,portal_view,2\n2026-09-29,u4,E2,login,1\n")
	if _, pieces, rows := night("first night"); pieces != 2 || rows != 11 {
		t.Errorf("first night: %d pieces, %d rows; want the kept 9 rows and the 2 new ones", pieces, rows)
	}
	grow("2026-09-30,u2,E1,download,3\n")
	res, pieces, rows := night("second night")
	if pieces != 3 || rows != 12 {
		t.Errorf("second night: %d pieces, %d rows; want 3 pieces, 12 rows", pieces, rows)
	}
	sameAsAFullRefresh("two nights of new lines", res)

	// A value padded with a no-break space, in a file without a plain
	// space: trimmed in the new lines as in the whole file.
	grow("2026-09-30,u1\u00a0,E1,login,1\n")
	res, pieces, rows = night("a no-break space")
	var padded int
	w.scan(`SELECT count(*) FILTER (WHERE user_id <> trim(user_id)) FROM raw_activity`, &padded)
	if pieces != 2 || rows != 13 || padded != 0 {
		t.Errorf("a no-break space: %d pieces, %d rows, %d ids untrimmed; want 2 pieces, 13 rows, none", pieces, rows, padded)
	}
	sameAsAFullRefresh("a no-break space", res)

	// Blank lines only: no record to read alone; the whole file has none
	// either (a full refresh read it just before: one piece).
	grow("\n\n")
	res, pieces, rows = night("blank lines")
	if pieces != 1 || rows != 13 {
		t.Errorf("blank lines: %d pieces, %d rows; want the whole file read, 13 rows", pieces, rows)
	}
	sameAsAFullRefresh("blank lines", res)

	// A rejected line, by a rule of the contract or by DuckDB's reader: its
	// reject names line 17 of the file (a header, 13 records, 2 blank
	// lines, then it), not line 2 of the new lines.
	for _, bad := range []struct{ line, reason string }{
		{"2026-09-30,u1,E1,portal_view,-3\n", `count: "-3" is not a whole number`},
		{"2026-09-xx,u1,E1,portal_view,1\n", `date: "2026-09-xx" is not a date`},
	} {
		grow(bad.line)
		res, pieces, rows = night("a rejected line")
		if pieces != 1 || rows != 13 {
			t.Errorf("%s: %d pieces, %d rows; want the whole file read, 13 rows", bad.reason, pieces, rows)
		}
		var rejects int
		var where string
		w.scan(`SELECT count(*), any_value(file || ':' || line || ' ' || "column" || ': ' || reason) FROM rejects WHERE run_id = '`+res.RunID+`'`, &rejects, &where)
		if rejects != 1 || !strings.Contains(where, name+`:17 `+bad.reason) {
			t.Errorf("%d rejects (%s); want line 17's: %s", rejects, where, bad.reason)
		}
		sameAsAFullRefresh(bad.reason, res)
		// Without it again (read whole: the file shrank).
		w.write(name, strings.TrimSuffix(readFile(t, path), bad.line))
		night("the rejected line removed")
	}

	// A line in Windows-1252: the whole file is decoded so, as a full read
	// does.
	grow("2026-09-30,us\xe9,E1,login,1\n")
	res, pieces, rows = night("a line in Windows-1252")
	var user string
	w.scan(`SELECT string_agg(DISTINCT user_id, ',') FROM raw_activity WHERE user_id LIKE 'us%'`, &user)
	if pieces != 1 || rows != 14 || user != "usé" {
		t.Errorf("a line in Windows-1252: %d pieces, %d rows, user %q; want the whole file read, 14 rows, usé", pieces, rows, user)
	}
	sameAsAFullRefresh("a line in Windows-1252", res)
}
