package csvexport

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/uptake-dev/uptake/config"
	"github.com/uptake-dev/uptake/connectors"
	"github.com/uptake-dev/uptake/etl/warehouse"
	uptakesql "github.com/uptake-dev/uptake/sql"
)

const header = "reference,name,archived,has_portal_access,portal views,downloads,shares,salesperson,seats\n"

// fixture writes files into a temp folder and extracts them with a source
// configured by spec (paths relative to the folder).
type fixture struct {
	t    *testing.T
	dir  string
	conn *sql.Conn
	log  bytes.Buffer // what the source logged (warnings and up)
	// checks are the config's limits the source is given (defaults when zero).
	checks config.Checks
}

func newFixture(t *testing.T, files map[string]string) *fixture {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	db, err := warehouse.Open(ctx, warehouse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	contract, err := uptakesql.Contract()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range contract {
		if _, err := conn.ExecContext(ctx, m.SQL); err != nil {
			t.Fatal(err)
		}
	}
	return &fixture{t: t, dir: dir, conn: conn}
}

func (f *fixture) extract(spec string) (connectors.Extracted, error) {
	f.t.Helper()
	spec = strings.ReplaceAll(spec, "DIR", f.dir)
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte("kind: csvexport\nname: platform\n"+spec), &doc); err != nil {
		f.t.Fatal(err)
	}
	src, err := New(config.Plugin{Name: "platform", Kind: "csvexport", Node: doc.Content[0], File: "uptake.yaml"}, f.checks)
	if err != nil {
		return connectors.Extracted{}, err
	}
	run := connectors.Run{ID: "test", AsOf: time.Date(2026, 10, 15, 0, 0, 0, 0, time.UTC), Location: time.UTC, Logger: slog.New(slog.NewTextHandler(&f.log, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	run.Rows = warehouse.RowWriter{Conn: f.conn}
	return src.Extract(context.Background(), f.conn, run)
}

func (f *fixture) path(name string) string { return filepath.Join(f.dir, name) }

// rows returns a query's rows as strings joined by "|".
func (f *fixture) rows(q string) []string {
	f.t.Helper()
	rows, err := f.conn.QueryContext(context.Background(), q)
	if err != nil {
		f.t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			f.t.Fatal(err)
		}
		parts := make([]string, len(cols))
		for i, v := range vals {
			parts[i] = v.String
			if !v.Valid {
				parts[i] = "NULL"
			}
		}
		out = append(out, strings.Join(parts, "|"))
	}
	return out
}

const estOnly = "establishments:\n  path: DIR/establishments_*.csv\n"

func wantErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q\n does not contain %q", err, p)
		}
	}
}

func TestReadsEstablishments(t *testing.T) {
	f := newFixture(t, map[string]string{
		"establishments_2026-09.csv": header +
			"E1,Alpha,no,yes,10,5,0,Alice,4\n" +
			"E2,,YES,Yes,0,0,0,,\n",
	})
	ex, err := f.extract(estOnly)
	if err != nil {
		t.Fatal(err)
	}
	if ex.RowsIn["raw_customers"] != 2 || ex.Rejected["raw_customers"] != 0 {
		t.Fatalf("rows in %v rejected %v", ex.RowsIn, ex.Rejected)
	}
	got := f.rows(`SELECT month, customer_ref, name, salesperson, archived, has_portal_access, seats, portal_views, downloads, shares, source_line FROM raw_customers__platform ORDER BY customer_ref`)
	want := []string{
		"2026-09-01T00:00:00Z|E1|Alpha|Alice|false|true|4|10|5|0|2",
		// empty name → the reference; empty salesperson → unassigned; unknown seats stay NULL
		"2026-09-01T00:00:00Z|E2|E2|unassigned|true|true|NULL|0|0|0|3",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestMissingRequiredColumn(t *testing.T) {
	f := newFixture(t, map[string]string{
		"establishments_2026-09.csv": "reference,archived,portal views\nE1,no,3\n",
	})
	_, err := f.extract(estOnly)
	wantErr(t, err, f.path("establishments_2026-09.csv")+":1:", `missing required column "has_portal_access"`, `"reference", "archived", "portal views"`)
}

func TestEmptyFile(t *testing.T) {
	f := newFixture(t, map[string]string{"establishments_2026-09.csv": ""})
	_, err := f.extract(estOnly)
	wantErr(t, err, f.path("establishments_2026-09.csv"), "the file is empty")
}

func TestHeaderOnlyFile(t *testing.T) {
	f := newFixture(t, map[string]string{"establishments_2026-09.csv": header})
	_, err := f.extract(estOnly)
	wantErr(t, err, f.path("establishments_2026-09.csv"), "header but no data rows")
}

func TestDuplicateReferenceInAMonth(t *testing.T) {
	f := newFixture(t, map[string]string{
		"establishments_2026-09.csv": header + "E1,A,no,yes,1,0,0,Al,1\nE2,B,no,yes,1,0,0,Al,1\nE1,A again,no,yes,1,0,0,Al,1\n",
	})
	_, err := f.extract(estOnly)
	p := f.path("establishments_2026-09.csv")
	wantErr(t, err, p+":2, "+p+":4", `duplicate reference "E1" in 2026-09`)
}

func TestMonthNotInFileName(t *testing.T) {
	f := newFixture(t, map[string]string{"establishments_latest.csv": header + "E1,A,no,yes,1,0,0,Al,1\n"})
	_, err := f.extract(estOnly)
	wantErr(t, err, f.path("establishments_latest.csv"), "cannot tell the month")
}

func TestTwoFilesForOneMonth(t *testing.T) {
	f := newFixture(t, map[string]string{
		"establishments_2026-09.csv":  header + "E1,A,no,yes,1,0,0,Al,1\n",
		"establishments_20260930.csv": header + "E1,A,no,yes,1,0,0,Al,1\n",
	})
	_, err := f.extract(estOnly)
	wantErr(t, err, f.path("establishments_2026-09.csv"), f.path("establishments_20260930.csv"), "two files for the month 2026-09")
}

func TestMissingMonthBetweenExports(t *testing.T) {
	f := newFixture(t, map[string]string{
		"establishments_2026-07.csv": header + "E1,A,no,yes,1,0,0,Al,1\n",
		"establishments_2026-09.csv": header + "E1,A,no,yes,1,0,0,Al,1\n",
	})
	_, err := f.extract(estOnly)
	wantErr(t, err, "missing establishments export for 2026-08")
}

func TestLateExport(t *testing.T) {
	f := newFixture(t, map[string]string{"establishments_2026-08.csv": header + "E1,A,no,yes,1,0,0,Al,1\n"})
	// As of 2026-10-15 the September export was due by the 5th.
	_, err := f.extract(estOnly + "  expect_by_day: 5\n")
	wantErr(t, err, "export for 2026-09 is late", "establishments_2026-08.csv")
}

func TestMonthOffsetAndColumn(t *testing.T) {
	f := newFixture(t, map[string]string{
		// named by export date: the data is of the month before
		"establishments_2026-10-01.csv": header + "E1,A,no,yes,1,0,0,Al,1\n",
	})
	if _, err := f.extract(estOnly + "  month_offset: -1\n"); err != nil {
		t.Fatal(err)
	}
	if got := f.rows(`SELECT strftime(month, '%Y-%m') FROM raw_customers__platform`); len(got) != 1 || got[0] != "2026-09" {
		t.Errorf("month = %v, want 2026-09", got)
	}
	g := newFixture(t, map[string]string{
		"establishments_all.csv": "Mois;reference;archived;has_portal_access\n2026-08;E1;non;oui\n202609;E1;non;oui\nsoon;E2;non;oui\n",
	})
	ex, err := g.extract("establishments:\n  path: DIR/establishments_all.csv\n  month: column\n  columns: {month: mois}\n")
	if err != nil {
		t.Fatal(err)
	}
	if got := g.rows(`SELECT strftime(month, '%Y-%m'), customer_ref FROM raw_customers__platform ORDER BY month`); strings.Join(got, ",") != "2026-08|E1,2026-09|E1" {
		t.Errorf("rows = %v", got)
	}
	if ex.Rejected["raw_customers"] != 1 {
		t.Errorf("rejected = %v, want 1 (the month 'soon')", ex.Rejected)
	}
	if got := g.rows(`SELECT line, "column", reason FROM load_rejects`); len(got) != 1 || !strings.Contains(got[0], `4|Mois|"soon" is not a month`) {
		t.Errorf("rejects = %v", got)
	}
}

func TestMalformedRowsGoToRejects(t *testing.T) {
	f := newFixture(t, map[string]string{
		"establishments_2026-09.csv": header +
			"E1,Alpha,no,yes,10,5,0,Alice,4\n" + // line 2: fine
			"E2,Beta,no,yes,1,0,0,Alice,4,extra\n" + // line 3: too many columns
			"E3,Gamma,no,yes,1,0,0,Alice,many\n" + // line 4: seats not a number
			"E4,Delta,maybe,yes,1,0,0,Bob,2\n" + // line 5: not a boolean
			"E5,Eps,no,yes,-3,0,0,Bob,2\n" + // line 6: negative count
			",Nameless,no,yes,1,0,0,Bob,2\n" + // line 7: no reference
			"E6,Zeta,no,yes,2,0,0,Bob,2\n", // line 8: fine
	})
	ex, err := f.extract(estOnly)
	if err != nil {
		t.Fatal(err)
	}
	if ex.RowsRead["raw_customers"] != 7 || ex.Rejected["raw_customers"] != 5 || ex.RowsIn["raw_customers"] != 2 {
		t.Fatalf("read %v rejected %v in %v", ex.RowsRead, ex.Rejected, ex.RowsIn)
	}
	p := f.path("establishments_2026-09.csv")
	got := f.rows(`SELECT file, line, coalesce("column", ''), reason FROM load_rejects ORDER BY line`)
	want := []string{
		p + "|3||too many columns: Expected Number of Columns: 9 Found: 10",
		p + `|4|seats|"many" is not a number`,
		p + `|5|archived|"maybe" is not a yes/no value (yes/no, true/false, 1/0, oui/non)`,
		p + `|6|portal views|"-3" is not a whole number of 0 or more`,
		p + "|7|reference|empty value in a required column",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rejects\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Rows after rejected ones keep their own line numbers.
	if got := f.rows(`SELECT customer_ref, source_line FROM raw_customers__platform ORDER BY source_line`); strings.Join(got, ",") != "E1|2,E6|8" {
		t.Errorf("accepted rows = %v, want E1 at line 2 and E6 at line 8", got)
	}
}

func TestWindows1252(t *testing.T) {
	// "Café €uro’s" in Windows-1252: é = E9, € = 80, ’ = 92.
	name := "Caf\xe9 \x80uro\x92s"
	f := newFixture(t, map[string]string{"establishments_2026-09.csv": header + "E1," + name + ",no,yes,1,0,0,Chlo\xe9,1\n"})
	if _, err := f.extract(estOnly); err != nil {
		t.Fatal(err)
	}
	if got := f.rows(`SELECT name, salesperson FROM raw_customers__platform`); len(got) != 1 || got[0] != "Café €uro’s|Chloé" {
		t.Errorf("got %q", got)
	}
}

// utf16 encodes s as UTF-16 little-endian, with a BOM.
func utf16(s string) string {
	b := []byte{0xFF, 0xFE}
	for _, r := range s {
		b = append(b, byte(r), byte(r>>8))
	}
	return string(b)
}

func TestUTF8BOMAndUTF16(t *testing.T) {
	f := newFixture(t, map[string]string{
		"establishments_2026-08.csv": "\xef\xbb\xbf" + header + "E1,Crème,no,yes,1,0,0,Al,1\n",
		"establishments_2026-09.csv": utf16(header + "E1,Crème,no,yes,2,0,0,Al,1\n"),
	})
	if _, err := f.extract(estOnly); err != nil {
		t.Fatal(err)
	}
	got := f.rows(`SELECT strftime(month, '%m'), customer_ref, name, portal_views FROM raw_customers__platform ORDER BY month`)
	if strings.Join(got, ",") != "08|E1|Crème|1,09|E1|Crème|2" {
		t.Errorf("got %v", got)
	}
}

func TestSemicolonsDecimalCommasAndFrenchBooleans(t *testing.T) {
	f := newFixture(t, map[string]string{
		"establishments_2026-09.csv": "Référence ; Nom;archivé;accès portail;vues;téléchargements;partages;commercial;licences\n" +
			"E1;Boulangerie Lefèvre;non;oui;12;3;0;Chloé;10,0\n" +
			"E2;Dupont, Fils & Cie;oui;non;0;0;0;Chloé;2,5\n",
	})
	spec := `decimal: ","
establishments:
  path: DIR/establishments_*.csv
  columns:
    reference: référence
    name: NOM
    archived: archivé
    has_portal_access: accès portail
    portal_views: vues
    downloads: téléchargements
    shares: partages
    salesperson: commercial
    seats: licences
`
	ex, err := f.extract(spec)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.rows(`SELECT customer_ref, name, archived, has_portal_access, portal_views, seats FROM raw_customers__platform`); len(got) != 1 || got[0] != "E1|Boulangerie Lefèvre|false|true|12|10" {
		t.Errorf("got %v", got)
	}
	// 2,5 seats is not a whole number.
	if ex.Rejected["raw_customers"] != 1 {
		t.Errorf("rejected = %v, want 1", ex.Rejected)
	}
	if got := f.rows(`SELECT line, "column" FROM load_rejects`); len(got) != 1 || got[0] != "3|licences" {
		t.Errorf("rejects = %v", got)
	}
}

func TestTabDelimitedUsersAndActivity(t *testing.T) {
	f := newFixture(t, map[string]string{
		"establishments_2026-09.csv": header + "E1,A,no,yes,1,0,0,Al,1\n",
		"users_2026-10-01.tsv":       "user_id\tcustomer_reference\temail\tcreated\tfirst_login\tdeactivated\tarchived\nu1\tE1\tAnn@Alpha.Example\t2026-06-01\t\t\tno\nu2\tE1\tbob@alpha.example\t2026-06-01\t\t2026-09-10\ttrue\n",
		"activity_2026-09.csv":       "date,user_id,customer_reference,event,count\n2026-09-01,u1,E1,login,1\n2026-09-02,u1,,download,2\n2026-09-03,u1,E1,login,1.5\n2026-09-04,,E1,login,1\n",
	})
	ex, err := f.extract(estOnly + "users:\n  path: DIR/users_*.tsv\nactivity:\n  path: DIR/activity_*.csv\n")
	if err != nil {
		t.Fatal(err)
	}
	if got := f.rows(`SELECT snapshot_date::VARCHAR, user_id, customer_ref, email_domain, deactivated_at::VARCHAR, archived FROM raw_users__platform ORDER BY user_id`); strings.Join(got, ",") !=
		"2026-10-01|u1|E1|alpha.example|NULL|false,2026-10-01|u2|E1|alpha.example|2026-09-10|true" {
		t.Errorf("users = %v", got)
	}
	if got := f.rows(`SELECT day::VARCHAR, user_id, coalesce(customer_ref, '-'), event, count FROM raw_activity__platform ORDER BY day`); strings.Join(got, ",") !=
		"2026-09-01|u1|E1|login|1,2026-09-02|u1|-|download|2" {
		t.Errorf("activity = %v", got)
	}
	if ex.Rejected["raw_activity"] != 2 {
		t.Errorf("activity rejected = %v, want 2 (count 1.5, empty user)", ex.Rejected)
	}
}

// Text values are trimmed of spaces, and a blank one is NULL, whether the
// space is on a plain line or on one the structural pass parses field by
// field (a quote); a file without a space is read without the trim, and its
// empty fields, quoted or not, are NULL all the same. A no-break or an
// ideographic space, which DuckDB's trim removes too, is trimmed in a file
// without a plain space.
func TestTextValuesAreTrimmedAndBlankIsNull(t *testing.T) {
	const head = "date,user_id,customer_reference,event,count\n"
	f := newFixture(t, map[string]string{
		"establishments_2026-09.csv": header + "E1,A,no,yes,1,0,0,Al,1\n",
		"activity_2026-07.csv":       head + "2026-07-01, u1 , E1 ,login ,1\n2026-07-02,u1,   ,download,2\n",
		"activity_2026-08.csv":       head + "2026-08-01,\"u2 \",E1,login,1\n2026-08-02,u2,\"\",login,1\n",
		"activity_2026-09.csv":       head + "2026-09-01,u3,\"\",login,1\n2026-09-02,\"u4\",E1,share,1\n2026-09-03,u4,,login,1\n",
		"activity_2026-10.csv":       head + "2026-10-01,u5\u00a0,E1,login,1\n2026-10-02,u5,\u3000E2,login,1\n",
	})
	if _, err := f.extract(estOnly + "activity:\n  path: DIR/activity_*.csv\n"); err != nil {
		t.Fatal(err)
	}
	got := f.rows(`SELECT day::VARCHAR, '[' || user_id || ']', coalesce('[' || customer_ref || ']', 'NULL'), '[' || event || ']' FROM raw_activity__platform ORDER BY day`)
	want := []string{
		"2026-07-01|[u1]|[E1]|[login]",
		"2026-07-02|[u1]|NULL|[download]",
		"2026-08-01|[u2]|[E1]|[login]",
		"2026-08-02|[u2]|NULL|[login]",
		"2026-09-01|[u3]|NULL|[login]",
		"2026-09-02|[u4]|[E1]|[share]",
		"2026-09-03|[u4]|NULL|[login]",
		"2026-10-01|[u5]|[E1]|[login]",
		"2026-10-02|[u5]|[E2]|[login]",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestDuplicateUser(t *testing.T) {
	f := newFixture(t, map[string]string{
		"establishments_2026-09.csv": header + "E1,A,no,yes,1,0,0,Al,1\n",
		"users_2026-10-01.csv":       "user_id,customer_reference\nu1,E1\nu1,E2\n",
	})
	_, err := f.extract(estOnly + "users:\n  path: DIR/users_*.csv\n")
	wantErr(t, err, f.path("users_2026-10-01.csv")+":2", f.path("users_2026-10-01.csv")+":3", `duplicate user id "u1"`)
}

// A key twice in one period is found in one file, and across the files of
// one period: two users files of one snapshot date, two establishments
// files holding the same month (month: column). Files of other periods are
// not read together, and a user in two snapshots is no duplicate.
func TestDuplicatesAcrossFilesOfOnePeriod(t *testing.T) {
	const users = "user_id,customer_reference\n"
	f := newFixture(t, map[string]string{
		"establishments_2026-09.csv": header + "E1,A,no,yes,1,0,0,Al,1\n",
		"users_2026-09-01.csv":       users + "u1,E1\nu2,E1\n",
		"users_2026-10-01.csv":       users + "u1,E1\nu2,E1\n",
		"users_2026-10-01_part2.csv": users + "u3,E1\nu2,E1\n",
		"users_2026-10-01_part3.csv": users + "u4,E1\n",
	})
	_, err := f.extract(estOnly + "users:\n  path: DIR/users_*.csv\n")
	wantErr(t, err, f.path("users_2026-10-01.csv")+":3, "+f.path("users_2026-10-01_part2.csv")+":3", `duplicate user id "u2" in 2026-10-01`)
	if strings.Count(err.Error(), "duplicate") != 1 {
		t.Errorf("want one duplicate, got %v", err)
	}

	g := newFixture(t, map[string]string{
		"establishments_a.csv": "month,reference,archived,has_portal_access\n2026-08,E1,no,yes\n2026-09,E1,no,yes\n",
		"establishments_b.csv": "month,reference,archived,has_portal_access\n2026-09,E2,no,yes\n2026-09,E1,no,yes\n",
	})
	_, err = g.extract("establishments:\n  path: DIR/establishments_*.csv\n  month: column\n")
	wantErr(t, err, g.path("establishments_a.csv")+":3, "+g.path("establishments_b.csv")+":3", `duplicate reference "E1" in 2026-09`)
}

func TestNoFileMatches(t *testing.T) {
	f := newFixture(t, nil)
	_, err := f.extract(estOnly)
	wantErr(t, err, "no file matches establishments.path", "establishments_*.csv")
}

func TestConfigProblems(t *testing.T) {
	f := newFixture(t, nil)
	_, err := f.extract("establishments:\n  path: x\n  month: header\n  delimiter: '#'\n  columns: {referense: Ref}\nusers:\n  path: y\n  month: column\n")
	wantErr(t, err, `uptake.yaml:7: csvexport "platform": unknown field "referense"`, `month must be filename or column, not "header"`,
		`delimiter must be`, `month: column is only for establishments`)
	_, err = f.extract("establishments:\n  path: x\nactivity:\n  path: y\n  month_offset: -1\n  expect_by_day: 5\n")
	wantErr(t, err, "month_offset is only for establishments", "expect_by_day is only for establishments")
	_, err = f.extract("establishments:\n  path: x\n  colums: {}\n")
	wantErr(t, err, `uptake.yaml:5: unknown key "colums"`)
}

func TestRemotePathProblems(t *testing.T) {
	f := newFixture(t, nil)
	_, err := f.extract("establishments:\n  path: http://x.example/e_*.csv\nusers:\n  path: gs://b/2026-*/users.csv\nactivity:\n  path: sftp://u:pw@h/a_*.csv\n")
	wantErr(t, err, `uptake.yaml:4: csvexport "platform": establishments.path: "http://x.example/e_*.csv": plain http is refused`,
		`users.path: "gs://b/2026-*/users.csv": wildcards are only allowed in the file name`, `activity.path: "sftp://u@h/a_*.csv": a password in the URL`)
	_, err = f.extract("establishments:\n  path: DIR/establishments_*.csv\nremote: {endpoint: http://localhost:4443}\n")
	wantErr(t, err, "remote: is set but no path is a URL")
	_, err = f.extract("establishments:\n  path: gs://b/e_*.csv\nremote: {endpont: x}\n")
	wantErr(t, err, `unknown key "endpont"`)
	_, err = f.extract("establishments:\n  path: sftp://h/e_*.csv\nremote: {password: x, private_key: y, key_file: z, host_key: 'MD5:ab', timeout: -1s}\n")
	wantErr(t, err, `sftp://h/e_*.csv": no user name: put it in the URL (sftp://user@h/...)`, "set private_key or key_file, not both",
		`remote.host_key must be a SHA256 fingerprint as ssh-keygen -l prints it (SHA256:...), not "MD5:ab"`, "remote.timeout must not be negative")
	_, err = f.extract("establishments:\n  path: \"https://h/e.csv?token=SENTINEL#x\"\n")
	if err == nil || strings.Contains(err.Error(), "SENTINEL") {
		t.Errorf("a query's value in an error: %v", err)
	}
}

func TestDateInName(t *testing.T) {
	for name, want := range map[string]string{
		"establishments_2026-09.csv":    "2026-09-01",
		"establishments_202609.csv":     "2026-09-01",
		"establishments_2026-09-30.csv": "2026-09-30",
		"export-20260930-final.csv":     "2026-09-30",
		"establishments_2026-13.csv":    "",
		"establishments_v2.csv":         "",
		"establishments_2026-02-30.csv": "",
	} {
		d, ok := dateInName(name)
		got := ""
		if ok {
			got = d.Format("2006-01-02")
		}
		if got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
}

func TestOverlappingActivityFiles(t *testing.T) {
	f := newFixture(t, map[string]string{
		"establishments_2026-09.csv": header + "E1,A,no,yes,1,0,0,Al,1\n",
		"activity_2026-09.csv":       "date,user_id,event\n2026-09-01,u1,login\n2026-09-30,u1,login\n",
		"activity_2026-09-v2.csv":    "date,user_id,event\n2026-09-30,u1,login\n2026-10-02,u1,login\n",
		"activity_2026-10.csv":       "date,user_id,event\n2026-10-03,u1,login\n",
	})
	_, err := f.extract(estOnly + "activity:\n  path: DIR/activity_*.csv\n")
	wantErr(t, err, f.path("activity_2026-09.csv")+" and "+f.path("activity_2026-09-v2.csv"), "1 rows appear in both (e.g. 2026-09-30", "counted twice")
	if strings.Contains(err.Error(), "activity_2026-10.csv") {
		t.Errorf("a file that does not overlap is named: %v", err)
	}
}

// TestOverlapCountsRowsRead: two files that share a row rejected in one
// of them (and so counted once) do not overlap; the same row read from
// both, written with other spacing, does.
func TestOverlapCountsRowsRead(t *testing.T) {
	f := newFixture(t, map[string]string{
		"establishments_2026-09.csv": header + "E1,A,no,yes,1,0,0,Al,1\n",
		"activity_2026-09.csv":       "date,user_id,event,count\n2026-09-30,u1,login,-1\n2026-09-30,u2,login,1\n",
		"activity_2026-09-v2.csv":    "date,user_id,event,count\n2026-09-30,u1,login,1\n",
	})
	if _, err := f.extract(estOnly + "activity:\n  path: DIR/activity_*.csv\n"); err != nil {
		t.Errorf("a row rejected in one file made the files overlap: %v", err)
	}
	if err := os.WriteFile(f.path("activity_2026-09-v2.csv"), []byte("date,user_id,event,count\n2026-09-30, u2 ,login,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := f.extract(estOnly + "activity:\n  path: DIR/activity_*.csv\n")
	wantErr(t, err, "1 rows appear in both (e.g. 2026-09-30, user u2, event login)")
}

func TestTrailingEmptyHeaderColumns(t *testing.T) {
	// Excel writes a trailing delimiter on the header, and on rows or not.
	f := newFixture(t, map[string]string{"establishments_2026-09.csv": "reference;archived;has_portal_access;;\nE1;no;yes;;\nE2;no;no\n"})
	ex, err := f.extract(estOnly)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.rows(`SELECT customer_ref, has_portal_access FROM raw_customers__platform ORDER BY 1`); strings.Join(got, ",") != "E1|true,E2|false" || ex.Rejected["raw_customers"] != 0 {
		t.Errorf("got %v, rejected %v", got, ex.Rejected)
	}
}

func TestUsersSnapshotDateWithoutDateInName(t *testing.T) {
	f := newFixture(t, map[string]string{
		"establishments_2026-09.csv": header + "E1,A,no,yes,1,0,0,Al,1\n",
		"users.csv":                  "user_id,customer_reference\nu1,E1\n",
	})
	when := time.Date(2026, 10, 3, 12, 0, 0, 0, time.UTC)
	if err := os.Chtimes(f.path("users.csv"), when, when); err != nil {
		t.Fatal(err)
	}
	if _, err := f.extract(estOnly + "users:\n  path: DIR/users.csv\n"); err != nil {
		t.Fatal(err)
	}
	// The day the file was written, not the day of the run (2026-10-15).
	if got := f.rows(`SELECT snapshot_date::VARCHAR FROM raw_users__platform`); len(got) != 1 || got[0] != "2026-10-03" {
		t.Errorf("snapshot = %v", got)
	}
}

func TestActivityExportSplitInPartsSharingADay(t *testing.T) {
	f := newFixture(t, map[string]string{
		"establishments_2026-09.csv": header + "E1,A,no,yes,1,0,0,Al,1\n",
		"activity_2026-09_part1.csv": "date,user_id,event\n2026-09-01,u1,login\n2026-09-15,u1,login\n",
		"activity_2026-09_part2.csv": "date,user_id,event\n2026-09-15,u2,login\n2026-09-30,u2,login\n",
	})
	ex, err := f.extract(estOnly + "activity:\n  path: DIR/activity_*.csv\n")
	if err != nil {
		t.Fatal(err)
	}
	if ex.RowsIn["raw_activity"] != 4 {
		t.Errorf("rows = %v", ex.RowsIn)
	}
}

const orderHeader = "order_id,customer_reference,user_id,date,channel,amount\n"

// loadOrders inserts the orders relation into raw_orders as the pipeline
// does (by name, the contract's columns only) and returns its rows.
func (f *fixture) loadOrders() []string {
	f.t.Helper()
	f.rows(`INSERT INTO raw_orders BY NAME SELECT order_id, customer_ref, user_id, day, channel, revenue, source FROM raw_orders__platform`)
	return f.rows(`SELECT order_id, customer_ref, coalesce(user_id, '-'), day::VARCHAR, channel, coalesce(revenue::VARCHAR, 'NULL'), source FROM raw_orders ORDER BY order_id`)
}

func TestReadsOrders(t *testing.T) {
	f := newFixture(t, map[string]string{
		"establishments_2026-09.csv": header + "E1,A,no,yes,1,0,0,Al,1\n",
		// one file for everything: no month in the name
		"orders.csv": orderHeader +
			"O1,E1,u1,2026-09-01,web,120.50\n" +
			"O2, E1 ,,2026-09-02, Email ,99\n" +
			"O3,E2,,2026-09-03,EDI,1000.005\n" + // rounded to the cent
			"O4,E2,,2026-09-04,phone,-20.00\n" + // a refund
			"O5,E2,,2026-09-05,fax,10\n" + // not a contract channel: other
			"O6,E2,,2026-09-06,Other,\n", // no amount: NULL
	})
	ex, err := f.extract(estOnly + "orders:\n  path: DIR/orders.csv\n")
	if err != nil {
		t.Fatal(err)
	}
	if ex.RowsIn["raw_orders"] != 6 || ex.Rejected["raw_orders"] != 0 || len(ex.Relations["raw_orders"]) != 1 {
		t.Fatalf("rows in %v rejected %v relations %v", ex.RowsIn, ex.Rejected, ex.Relations)
	}
	want := []string{
		"O1|E1|u1|2026-09-01|web|120.50|csvexport",
		"O2|E1|-|2026-09-02|email|99.00|csvexport",
		"O3|E2|-|2026-09-03|edi|1000.01|csvexport",
		"O4|E2|-|2026-09-04|phone|-20.00|csvexport",
		"O5|E2|-|2026-09-05|other|10.00|csvexport",
		"O6|E2|-|2026-09-06|other|NULL|csvexport",
	}
	if got := f.loadOrders(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestOrdersDecimalCommaAndMappedColumns(t *testing.T) {
	f := newFixture(t, map[string]string{
		"establishments_2026-09.csv": header + "E1,A,no,yes,1,0,0,Al,1\n",
		"commandes_2026-09.csv": "N° commande;Client;Date;Canal;Montant HT\n" +
			"C-1;E1;01/09/2026;web;1234,56\n" +
			"C-2;E1;02/09/2026;phone;-12,5\n" +
			"C-3;E1;03/09/2026;edi;1.234,5\n", // a thousands separator: not a number
	})
	spec := estOnly + `orders:
  path: DIR/commandes_*.csv
  decimal: ","
  date_format: "%d/%m/%Y"
  columns: {order_id: "n° commande", customer_reference: client, date: date, channel: canal, amount: montant ht}
`
	ex, err := f.extract(spec)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"C-1|E1|-|2026-09-01|web|1234.56|csvexport",
		"C-2|E1|-|2026-09-02|phone|-12.50|csvexport",
	}
	if got := f.loadOrders(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if ex.Rejected["raw_orders"] != 1 {
		t.Errorf("rejected = %v, want 1", ex.Rejected)
	}
	p := f.path("commandes_2026-09.csv")
	if got := f.rows(`SELECT file, line, "column", reason FROM load_rejects`); len(got) != 1 ||
		got[0] != p+`|4|Montant HT|"1.234,5" is not a number` {
		t.Errorf("rejects = %v", got)
	}
}

func TestBadOrdersGoToRejects(t *testing.T) {
	f := newFixture(t, map[string]string{
		"establishments_2026-09.csv": header + "E1,A,no,yes,1,0,0,Al,1\n",
		"orders_2026-09.csv": orderHeader +
			"O1,E1,,2026-09-01,web,10\n" + // line 2: fine
			"O2,E1,,2026-09-02,web,12abc\n" + // line 3: amount not a number
			",E1,,2026-09-03,web,10\n" + // line 4: no order id
			"O4,,,2026-09-04,web,10\n" + // line 5: no customer
			"O5,E1,,,web,10\n" + // line 6: no date
			"O6,E1,,2026-09-06,,10\n" + // line 7: no channel
			"O7,E1,,2026-09-07,web,12345678901234567\n" + // line 8: too large
			"O8,E1,,2026-09-31,web,10\n" + // line 9: not a date
			"O9,E1,,2026-09-09,web,10\n", // line 10: fine
	})
	ex, err := f.extract(estOnly + "orders:\n  path: DIR/orders_*.csv\n")
	if err != nil {
		t.Fatal(err)
	}
	if ex.RowsRead["raw_orders"] != 9 || ex.Rejected["raw_orders"] != 7 || ex.RowsIn["raw_orders"] != 2 {
		t.Fatalf("read %v rejected %v in %v", ex.RowsRead, ex.Rejected, ex.RowsIn)
	}
	p := f.path("orders_2026-09.csv")
	got := f.rows(`SELECT file, line, coalesce("column", ''), reason FROM load_rejects ORDER BY line`)
	want := []string{
		p + `|3|amount|"12abc" is not a number`,
		p + "|4|order_id|empty value in a required column",
		p + "|5|customer_reference|empty value in a required column",
		p + "|6|date|empty date",
		p + "|7|channel|empty value in a required column",
		p + `|8|amount|"12345678901234567" is too large for an amount (at most 16 digits before the decimal separator)`,
		p + `|9|date|"2026-09-31" is not a date`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rejects\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := f.rows(`SELECT order_id, source_line FROM raw_orders__platform ORDER BY 1`); strings.Join(got, ",") != "O1|2,O9|10" {
		t.Errorf("accepted = %v", got)
	}
}

func TestDuplicateOrderAcrossFiles(t *testing.T) {
	f := newFixture(t, map[string]string{
		"establishments_2026-09.csv": header + "E1,A,no,yes,1,0,0,Al,1\n",
		"orders_2026-09.csv":         orderHeader + "O1,E1,,2026-09-29,web,10\nO2,E1,,2026-09-30,web,10\n",
		"orders_2026-10.csv":         orderHeader + "O2,E1,,2026-09-30,web,10\nO3,E1,,2026-10-01,web,10\n",
	})
	_, err := f.extract(estOnly + "orders:\n  path: DIR/orders_*.csv\n")
	wantErr(t, err, f.path("orders_2026-09.csv")+":3, "+f.path("orders_2026-10.csv")+":2", `duplicate order id "O2"`, "counted twice")
	if strings.Contains(err.Error(), `"O1"`) || strings.Contains(err.Error(), `"O3"`) {
		t.Errorf("an order read once is named: %v", err)
	}
}

func TestOrderChannelsMapping(t *testing.T) {
	f := newFixture(t, map[string]string{
		"establishments_2026-09.csv": header + "E1,A,no,yes,1,0,0,Al,1\n",
		"orders.csv": orderHeader +
			"O1,E1,,2026-09-01,Webshop,1\n" +
			"O2,E1,,2026-09-01, B2B portal ,1\n" +
			"O3,E1,,2026-09-01,Fax,1\n" +
			"O4,E1,,2026-09-01,e-shop,1\n" + // not mapped: other
			"O5,E1,,2026-09-01,web,1\n",
	})
	spec := estOnly + "orders:\n  path: DIR/orders.csv\n  channels: {webshop: web, \"B2B Portal\": web, fax: phone}\n"
	if _, err := f.extract(spec); err != nil {
		t.Fatal(err)
	}
	if got := f.rows(`SELECT order_id, channel FROM raw_orders__platform ORDER BY 1`); strings.Join(got, ",") != "O1|web,O2|web,O3|phone,O4|other,O5|web" {
		t.Errorf("channels = %v", got)
	}
	// The values read as other are named, so that a missing mapping shows.
	if log := f.log.String(); !strings.Contains(log, `\"e-shop\" (1)`) || !strings.Contains(log, "orders.channels") {
		t.Errorf("log = %q, want a warning naming e-shop", log)
	}
}

func TestOrdersWindows1252(t *testing.T) {
	// "Café €uro" and "Téléphone" in Windows-1252: é = E9, € = 80.
	f := newFixture(t, map[string]string{
		"establishments_2026-09.csv": header + "E1,A,no,yes,1,0,0,Al,1\n",
		"orders.csv":                 "order_id;customer_reference;date;canal;amount\nO1;Caf\xe9 \x80uro;2026-09-01;T\xe9l\xe9phone;1\n",
	})
	spec := estOnly + "orders:\n  path: DIR/orders.csv\n  columns: {channel: canal}\n  channels: {téléphone: phone}\n"
	if _, err := f.extract(spec); err != nil {
		t.Fatal(err)
	}
	if got := f.rows(`SELECT customer_ref, channel FROM raw_orders__platform`); len(got) != 1 || got[0] != "Café €uro|phone" {
		t.Errorf("got %q", got)
	}
}

func TestOrdersMissingAmountColumn(t *testing.T) {
	f := newFixture(t, map[string]string{
		"establishments_2026-09.csv": header + "E1,A,no,yes,1,0,0,Al,1\n",
		"orders.csv":                 "order_id,customer_reference,date,channel\nO1,E1,2026-09-01,web\n",
	})
	_, err := f.extract(estOnly + "orders:\n  path: DIR/orders.csv\n")
	wantErr(t, err, f.path("orders.csv")+":1:", `missing required column "amount"`)
}

func TestOrderChannelsConfigProblems(t *testing.T) {
	f := newFixture(t, nil)
	_, err := f.extract("establishments:\n  path: x\nactivity:\n  path: y\n  channels: {web: web}\norders:\n  path: z\n  channels: {webshop: online, Fax: phone, fax: phone}\n")
	wantErr(t, err, "uptake.yaml:7: csvexport \"platform\": channels is only for orders",
		`uptake.yaml:10: csvexport "platform": channels.webshop: "online" is not a channel (web, email, edi, phone, other)`,
		`"Fax" and "fax" are the same value`)
}

// A date is read only when the whole value is one: DuckDB's own reading
// takes the leading digits it can and drops the rest, so "2026-09-3x" was
// September 3rd, a quoted day cut by a line break the day before it, and
// "26-09-30" the year 26 (a row silently out of every month). Dates with a
// time of day and a zone are read (the time is not used), as are a one-digit
// month or day, slashes, and spaces around the value;
// anything else is a reject naming line and column, for a required date
// (activity) and an optional one (a user's created) alike. With date_format
// DuckDB's strict parse already rejects a value with more after it.
func TestDatesAreReadOnlyWhenTheWholeValueIsOne(t *testing.T) {
	const head = "date,user_id,customer_reference,event,count\n"
	f := newFixture(t, map[string]string{
		"establishments_2026-09.csv": header + "E1,A,no,yes,1,0,0,Al,1\n",
		"activity_2026-09.csv": head +
			"2026-09-01,u1,E1,login,1\n" + // line 2: fine
			"2026-09-3x,u1,E1,login,1\n" + // line 3: a letter in the day
			"2026-09-30abc,u1,E1,login,1\n" + // line 4: text after the date
			"26-09-30,u1,E1,login,1\n" + // line 5: a two-digit year
			"2026-09-30 x,u1,E1,login,1\n" + // line 6: text after a space
			"2026-09-31,u1,E1,login,1\n" + // line 7: no such day
			"20260930,u1,E1,login,1\n" + // line 8: no dashes
			"2026-9-2,u1,E1,login,1\n" + // line 9: one-digit month and day: September 2nd
			"2026-09-03T08:15:00Z,u1,E1,login,1\n" + // line 10: a time and a zone
			"2026-09-04 08:15:00.123+02:00,u1,E1,login,1\n" + // line 11: a time with fractions and an offset
			" 2026-09-05 ,u1,E1,login,1\n" + // line 12: spaces around
			",u1,E1,login,1\n" + // line 13: no date (required)
			// Lines the structural pass parses field by field (a quote, a
			// non-ASCII character): the same rules.
			"\"2026-09-1x\",u1,E1,login,1\n" + // line 14: quoted, a letter in the day
			"\"2026-09-06\",u1,É1,login,1\n" + // line 15: fine
			"2026-09-0y,u1,É1,login,1\n" + // line 16: a letter in the day
			"\"2026-09-2\n8\",u1,E1,login,1\n" + // lines 17-18: a day cut by a line break
			"2026/09/07,u1,E1,login,1\n" + // line 19: slashes, as DuckDB reads them
			"2026-09-08 08:15:00 Europe/Paris,u1,E1,login,1\n", // line 20: a time and a named zone
		"users_2026-10-01.csv": "user_id,customer_reference,email,created,first_login,deactivated,archived\n" +
			"u1,E1,a@x.com,2026-06-01,,,no\n" + // line 2: fine
			"u2,E1,b@x.com,2026-06-0l,,,no\n" + // line 3: a letter l for a 1
			"u3,E1,c@x.com,,,,no\n", // line 4: no created date (optional): fine
		"orders_2026-09.csv": orderHeader +
			"O1,E1,,30/09/2026,web,10\n" + // line 2: fine
			"O2,E1,,30/09/2026x,web,10\n", // line 3: text after the date
	})
	ex, err := f.extract(estOnly + "users:\n  path: DIR/users_*.csv\nactivity:\n  path: DIR/activity_*.csv\n" +
		"orders:\n  path: DIR/orders_*.csv\n  date_format: \"%d/%m/%Y\"\n")
	if err != nil {
		t.Fatal(err)
	}
	a, u, o := f.path("activity_2026-09.csv"), f.path("users_2026-10-01.csv"), f.path("orders_2026-09.csv")
	got := f.rows(`SELECT file, line, coalesce("column", ''), reason FROM load_rejects ORDER BY file, line`)
	want := []string{
		a + `|3|date|"2026-09-3x" is not a date`,
		a + `|4|date|"2026-09-30abc" is not a date`,
		a + `|5|date|"26-09-30" is not a date`,
		a + `|6|date|"2026-09-30 x" is not a date`,
		a + `|7|date|"2026-09-31" is not a date`,
		a + `|8|date|"20260930" is not a date`,
		a + "|13|date|empty date",
		a + `|14|date|"2026-09-1x" is not a date`,
		a + `|16|date|"2026-09-0y" is not a date`,
		a + `|17|date|"2026-09-2\n8" is not a date; the record took lines 17 to 18 (2 lines)`,
		a + `|18|date|part of the record that starts on line 17 (2 lines): "2026-09-2\n8" is not a date`,
		o + `|3|date|"30/09/2026x" is not a date`,
		u + `|3|created|"2026-06-0l" is not a date`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rejects\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := f.rows(`SELECT day::VARCHAR FROM raw_activity__platform ORDER BY day`); strings.Join(got, ",") !=
		"2026-09-01,2026-09-02,2026-09-03,2026-09-04,2026-09-05,2026-09-06,2026-09-07,2026-09-08" {
		t.Errorf("activity days = %v", got)
	}
	if got := f.rows(`SELECT user_id, coalesce(created_at::VARCHAR, 'NULL') FROM raw_users__platform ORDER BY user_id`); strings.Join(got, ",") !=
		"u1|2026-06-01,u3|NULL" {
		t.Errorf("users = %v", got)
	}
	if got := f.rows(`SELECT order_id, day::VARCHAR FROM raw_orders__platform`); strings.Join(got, ",") != "O1|2026-09-30" {
		t.Errorf("orders = %v", got)
	}
	if ex.Rejected["raw_activity"] != 11 || ex.Rejected["raw_users"] != 1 || ex.Rejected["raw_orders"] != 1 {
		t.Errorf("rejected = %v, want 11 activity lines, 1 user, 1 order", ex.Rejected)
	}
}
