package csvexport

import (
	"fmt"
	"strings"
	"testing"

	"github.com/uptake-dev/uptake/config"
	"github.com/uptake-dev/uptake/connectors"
)

// These tests hold issue 13: no row leaves the KPIs without a rejects row
// of its own, naming its line.

// rejectsOf returns the rejects as "line|column|reason".
func (f *fixture) rejectsOf() []string {
	f.t.Helper()
	return f.rows(`SELECT line, coalesce("column", ''), reason FROM load_rejects ORDER BY file, line`)
}

// overThreshold is how the run judges rejects (etl's checkRejects): per
// table, rejected over read against checks.max_reject_pct.
func overThreshold(ex connectors.Extracted, table string) bool {
	return 100*float64(ex.Rejected[table])/float64(ex.RowsRead[table]) > config.Defaults().Checks.MaxRejectPct
}

func wantLines(t *testing.T, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// establishments writes n good rows, with row i's name replaced by names[i].
func establishments(n int, names map[int]string) string {
	var b strings.Builder
	b.WriteString(header)
	for i := 1; i <= n; i++ {
		name, ok := names[i]
		if !ok {
			name = fmt.Sprintf("Customer %d", i)
		}
		fmt.Fprintf(&b, "E%d,%s,no,yes,1,0,0,Al,1\n", i, name)
	}
	return b.String()
}

func TestUnclosedQuoteCountsEveryLineItSwallowed(t *testing.T) {
	// 200 rows; the quote opens on row 191 (line 192), 10 rows before the end.
	f := newFixture(t, map[string]string{"establishments_2026-09.csv": establishments(200, map[int]string{191: `"Dupont, Fils & Cie`})})
	ex, err := f.extract(estOnly)
	if err != nil {
		t.Fatal(err)
	}
	if ex.RowsRead["raw_customers"] != 200 || ex.Rejected["raw_customers"] != 10 || ex.RowsIn["raw_customers"] != 190 {
		t.Fatalf("read %v rejected %v in %v", ex.RowsRead, ex.Rejected, ex.RowsIn)
	}
	if !overThreshold(ex, "raw_customers") {
		t.Errorf("10 lines of 200 rejected (5 %%) must fail the run at the default max_reject_pct")
	}
	got := f.rows(`SELECT line, "column", reason, raw_line FROM load_rejects ORDER BY line`)
	if len(got) != 10 {
		t.Fatalf("%d rejects, want 10: %v", len(got), got)
	}
	wantLines(t, got[:2],
		`192|name|the quote opened in column "name" (column 2) on line 192 is never closed: lines 192 to 201 (10 lines) were read as one record, to the end of the file|E191,"Dupont, Fils & Cie,no,yes,1,0,0,Al,1`,
		`193|name|swallowed by the quote opened in column "name" (column 2) on line 192, never closed (lines 192 to 201, 10 lines)|E192,Customer 192,no,yes,1,0,0,Al,1`)
	if got[9] != `201|name|swallowed by the quote opened in column "name" (column 2) on line 192, never closed (lines 192 to 201, 10 lines)|E200,Customer 200,no,yes,1,0,0,Al,1` {
		t.Errorf("last reject %q", got[9])
	}
	if got := f.rows(`SELECT count(*), max(source_line) FROM raw_customers__platform`); got[0] != "190|191" {
		t.Errorf("loaded %v, want 190 rows up to line 191", got)
	}
}

func TestUnclosedQuoteOnTheLastLine(t *testing.T) {
	for name, end := range map[string]string{"with a line end": "\n", "without": ""} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, map[string]string{"establishments_2026-09.csv": header + "E1,A,no,yes,1,0,0,Al,1\nE2,\"B,no,yes,1,0,0,Al,1" + end})
			ex, err := f.extract(estOnly)
			if err != nil {
				t.Fatal(err)
			}
			if ex.RowsRead["raw_customers"] != 2 || ex.Rejected["raw_customers"] != 1 {
				t.Errorf("read %v rejected %v", ex.RowsRead, ex.Rejected)
			}
			wantLines(t, f.rejectsOf(), `3|name|the quote opened in column "name" (column 2) on line 3 is never closed (the file ends on that line)`)
		})
	}
}

func TestQuoteClosedLinesLaterByAStrayQuote(t *testing.T) {
	// The quote opened on line 3 is closed by the one before "Le Grand" on
	// line 5, followed by text: lines 3 to 5 are one broken record; line 6 loads.
	f := newFixture(t, map[string]string{"establishments_2026-09.csv": header +
		"E1,A,no,yes,1,0,0,Al,1\n" +
		"E2,\"B,no,yes,1,0,0,Al,1\n" +
		"E3,C,no,yes,1,0,0,Al,1\n" +
		"E4,\"Le Grand\" SA,no,yes,1,0,0,Al,1\n" +
		"E5,E,no,yes,1,0,0,Al,1\n"})
	ex, err := f.extract(estOnly)
	if err != nil {
		t.Fatal(err)
	}
	if ex.RowsRead["raw_customers"] != 5 || ex.Rejected["raw_customers"] != 3 {
		t.Errorf("read %v rejected %v", ex.RowsRead, ex.Rejected)
	}
	const why = `the quote opened on line 3 closes on line 5 and is followed by 'L', not a delimiter (a quote inside a quoted value must be doubled: "")`
	wantLines(t, f.rejectsOf(),
		"3|name|"+why+"; the record took lines 3 to 5 (3 lines)",
		"4|name|part of the record that starts on line 3 (3 lines): "+why,
		"5|name|part of the record that starts on line 3 (3 lines): "+why)
	wantLines(t, f.rows(`SELECT customer_ref, source_line FROM raw_customers__platform ORDER BY 2`), "E1|2", "E5|6")
}

func TestStrayQuotes(t *testing.T) {
	f := newFixture(t, map[string]string{"establishments_2026-09.csv": header +
		"E1,24\" screens,no,yes,1,0,0,Al,1\n" + // line 2: a quote inside an unquoted value is a character
		"E2,\"Le Grand\" SA,no,yes,1,0,0,Al,1\n" + // line 3: text after a closing quote (and a space)
		"E3,\"Say \"\"hi\"\"\",no,yes,1,0,0,Al,1\n" + // line 4: doubled quotes
		"E4,\"Spaced\" ,no,yes,1,0,0,Al,1\n"}) // line 5: spaces after the closing quote are ignored
	ex, err := f.extract(estOnly)
	if err != nil {
		t.Fatal(err)
	}
	wantLines(t, f.rejectsOf(), `3|name|'S' after the closing quote of the value (a quote inside a quoted value must be doubled: "")`)
	wantLines(t, f.rows(`SELECT customer_ref, name, source_line FROM raw_customers__platform ORDER BY 3`),
		`E1|24" screens|2`, `E3|Say "hi"|4`, `E4|Spaced|5`)
	if ex.Rejected["raw_customers"] != 1 || ex.RowsRead["raw_customers"] != 4 {
		t.Errorf("read %v rejected %v", ex.RowsRead, ex.Rejected)
	}
}

func TestQuotedLineBreaksStillLoad(t *testing.T) {
	for name, nl := range map[string]string{"LF": "\n", "CRLF": "\r\n"} {
		t.Run(name, func(t *testing.T) {
			// Excel writes LF inside a cell even in a CRLF file.
			f := newFixture(t, map[string]string{"establishments_2026-09.csv": strings.ReplaceAll(header, "\n", nl) +
				"E1,\"Alpha" + nl + "Building B\",no,yes,1,0,0,Al,1" + nl + // lines 2-3
				"E2,\"Beta\nfloor 2\n\",no,yes,1,0,0,Al,1" + nl + // lines 4-6
				nl + // line 7: blank
				"E3,Gamma,maybe,yes,1,0,0,Al,1" + nl + // line 8: not a boolean
				"E4,\"Delta" + nl + "\",no,yes,x,0,0,Al,1" + nl + // lines 9-10: not a number (DuckDB's reject)
				"E5,\"Eps" + nl + "\",maybe,yes,1,0,0,Al,1" + nl + // lines 11-12: not a boolean
				"E6,Zeta,no,yes,1,0,0,Al,1" + nl}) // line 13
			ex, err := f.extract(estOnly)
			if err != nil {
				t.Fatal(err)
			}
			wantLines(t, f.rows(`SELECT customer_ref, replace(replace(name, chr(13), '\r'), chr(10), '\n'), source_line FROM raw_customers__platform ORDER BY 3`),
				`E1|Alpha`+strings.NewReplacer("\r", `\r`, "\n", `\n`).Replace(nl)+`Building B|2`, `E2|Beta\nfloor 2\n|4`, `E6|Zeta|13`)
			const notBool = `"maybe" is not a yes/no value (yes/no, true/false, 1/0, oui/non)`
			const notNumber = `"x" is not a number`
			wantLines(t, f.rejectsOf(),
				"8|archived|"+notBool,
				"9|portal views|"+notNumber+"; the record took lines 9 to 10 (2 lines)",
				"10|portal views|part of the record that starts on line 9 (2 lines): "+notNumber,
				"11|archived|"+notBool+"; the record took lines 11 to 12 (2 lines)",
				"12|archived|part of the record that starts on line 11 (2 lines): "+notBool)
			// Rows count records; rejects count lines.
			if ex.RowsIn["raw_customers"] != 3 || ex.Rejected["raw_customers"] != 5 || ex.RowsRead["raw_customers"] != 8 {
				t.Errorf("read %v rejected %v in %v", ex.RowsRead, ex.Rejected, ex.RowsIn)
			}
		})
	}
}

func TestQuotedLineBreaksWithATrailingDelimiter(t *testing.T) {
	// Excel's trailing delimiter makes DuckDB pad short rows, which it
	// cannot do in parallel with quoted line breaks.
	f := newFixture(t, map[string]string{"establishments_2026-09.csv": "reference;name;archived;has_portal_access;\nE1;\"A\nB\";no;yes;\nE2;C;no;yes\n"})
	if _, err := f.extract(estOnly); err != nil {
		t.Fatal(err)
	}
	wantLines(t, f.rows(`SELECT customer_ref, source_line FROM raw_customers__platform ORDER BY 2`), "E1|2", "E2|4")
}

func TestBlankLinesKeepLineNumbersExact(t *testing.T) {
	f := newFixture(t, map[string]string{"establishments_2026-09.csv": header + "E1,A,no,yes,1,0,0,Al,1\n\n\nE2,B,maybe,yes,1,0,0,Al,1\n\nE3,C,no,yes,1,0,0,Al,1\n"})
	if _, err := f.extract(estOnly); err != nil {
		t.Fatal(err)
	}
	wantLines(t, f.rejectsOf(), `5|archived|"maybe" is not a yes/no value (yes/no, true/false, 1/0, oui/non)`)
	wantLines(t, f.rows(`SELECT customer_ref, source_line FROM raw_customers__platform ORDER BY 2`), "E1|2", "E3|7")
}

func TestControlCharactersRejectTheRow(t *testing.T) {
	f := newFixture(t, map[string]string{"establishments_2026-09.csv": header +
		"E1,Nul\x00here,no,yes,1,0,0,Al,1\n" + // 2
		"E2,Soh\x01,no,yes,1,0,0,Al,1\n" + // 3
		"E3,Esc\x1b[31m,no,yes,1,0,0,Al,1\n" + // 4
		"E4,Del\x7f,no,yes,1,0,0,Al,1\n" + // 5
		"E5,Nel\u0085,no,yes,1,0,0,Al,1\n" + // 6: C1, as UTF-8
		"E6,Apc\u009f,no,yes,1,0,0,Al,1\n" + // 7: C1
		"E7,A carriage\rreturn,no,yes,1,0,0,Al,1\n" + // 8: alone, not a line end
		"E8,\"Quoted\x00nul\",no,yes,1,0,0,Al,1\n" + // 9: inside quotes too
		"E9,Tab\there,no,yes,1,0,0,Al\x0b,1\n" + // 10: a tab is fine, a vertical tab is not
		"E10,Fine,no,yes,1,0,0,Al,1\n" + // 11
		"E11,Fine,no,yes,1,0,0,Al,1\x00\n" + // 12: in a number
		"E12,\"Quoted\ralone\",no,yes,1,0,0,Al,1\n"}) // 13: a carriage return inside quotes that ends no line
	ex, err := f.extract(estOnly)
	if err != nil {
		t.Fatal(err)
	}
	wantLines(t, f.rejectsOf(),
		"2|name|control character U+0000 (NUL) at character 4 of the value",
		"3|name|control character U+0001 (C0 control) at character 4 of the value",
		"4|name|control character U+001B (ESC) at character 4 of the value",
		"5|name|control character U+007F (DEL) at character 4 of the value",
		"6|name|control character U+0085 (C1 control) at character 4 of the value",
		"7|name|control character U+009F (C1 control) at character 4 of the value",
		"8|name|control character U+000D (carriage return) at character 11 of the value",
		"9|name|control character U+0000 (NUL) at character 7 of the value",
		"10|salesperson|control character U+000B (vertical tab) at character 3 of the value",
		"12|seats|control character U+0000 (NUL) at character 2 of the value",
		"13|name|control character U+000D (carriage return) at character 7 of the value")
	if got := f.rows(`SELECT customer_ref FROM raw_customers__platform`); strings.Join(got, ",") != "E10" {
		t.Errorf("loaded %v, want E10 only", got)
	}
	if ex.Rejected["raw_customers"] != 11 || ex.RowsRead["raw_customers"] != 12 {
		t.Errorf("read %v rejected %v", ex.RowsRead, ex.Rejected)
	}
	// raw_line shows them without holding them.
	if got := f.rows(`SELECT raw_line FROM load_rejects WHERE line = 2`); got[0] != "E1,Nul<U+0000>here,no,yes,1,0,0,Al,1" {
		t.Errorf("raw_line %q", got[0])
	}
	if got := f.rows(`SELECT count(*) FROM load_rejects WHERE regexp_matches(raw_line, '[\x00-\x08\x0b-\x1f\x7f-\x9f]')`); got[0] != "0" {
		t.Errorf("%s raw lines hold control characters", got[0])
	}
}

func TestControlCharactersInOtherEncodings(t *testing.T) {
	f := newFixture(t, map[string]string{
		// Windows-1252 (not valid UTF-8 past the header): é, then DEL
		"establishments_2026-08.csv": header + "E1,Caf\xe9,no,yes,1,0,0,Al,1\nE2,Caf\xe9\x7f,no,yes,1,0,0,Al,1\n",
		// UTF-16 with a NUL, CRLF line ends and a quoted line break
		"establishments_2026-09.csv": utf16(strings.ReplaceAll(header, "\n", "\r\n") + "E1,\"Two\r\nlines\",no,yes,1,0,0,Al,1\r\nE2,Nul\x00,no,yes,1,0,0,Al,1\r\n"),
	})
	if _, err := f.extract(estOnly); err != nil {
		t.Fatal(err)
	}
	wantLines(t, f.rows(`SELECT file LIKE '%08.csv', line, "column", reason FROM load_rejects ORDER BY 1 DESC`),
		"true|3|name|control character U+007F (DEL) at character 5 of the value",
		"false|4|name|control character U+0000 (NUL) at character 4 of the value")
	wantLines(t, f.rows(`SELECT strftime(month, '%m'), customer_ref, replace(name, chr(13) || chr(10), '/'), source_line FROM raw_customers__platform ORDER BY 1`),
		"08|E1|Café|2", "09|E1|Two/lines|2")
	// A UTF-8 BOM on a Windows-1252 file: the BOM is dropped, the rest decoded.
	b := newFixture(t, map[string]string{"establishments_2026-09.csv": "\xef\xbb\xbf" + header + "E1,Caf\xe9 \x80,no,yes,1,0,0,Al,1\n"})
	if _, err := b.extract(estOnly); err != nil {
		t.Fatal(err)
	}
	wantLines(t, b.rows(`SELECT name FROM raw_customers__platform`), "Café €")
	// ISO-8859-1 maps 0x85 to the C1 control U+0085 (Windows-1252 to …).
	g := newFixture(t, map[string]string{"establishments_2026-09.csv": header + "E1,A\x85,no,yes,1,0,0,Al,1\n"})
	if _, err := g.extract(estOnly + "  encoding: iso-8859-1\n"); err != nil {
		t.Fatal(err)
	}
	wantLines(t, g.rejectsOf(), "2|name|control character U+0085 (C1 control) at character 2 of the value")
}

func TestControlCharacterInTheHeader(t *testing.T) {
	f := newFixture(t, map[string]string{"establishments_2026-09.csv": "reference,na\x00me,archived,has_portal_access\nE1,A,no,yes\n"})
	_, err := f.extract(estOnly)
	wantErr(t, err, f.path("establishments_2026-09.csv")+`:1: column 2 of the header ("na\x00me") holds the control character U+0000 (NUL)`)
	// Lines ended by CR alone are one line with carriage returns in it.
	g := newFixture(t, map[string]string{"establishments_2026-09.csv": "reference,archived,has_portal_access\rE1,no,yes\r"})
	_, err = g.extract(estOnly)
	wantErr(t, err, g.path("establishments_2026-09.csv")+":1: column 3 of the header", "U+000D (carriage return)", "save the file with LF or CRLF line ends")
}

func TestLongValues(t *testing.T) {
	f := newFixture(t, map[string]string{"establishments_2026-09.csv": establishments(6, map[int]string{
		1: strings.Repeat("x", 10000),              // exactly the limit
		2: strings.Repeat("x", 10001),              // one more
		3: strings.Repeat("é", 10000),              // characters, not bytes
		4: `"` + strings.Repeat("y", 9999) + `"""`, // 10,000 with a doubled quote
		5: strings.Repeat("z", 1_000_000),          // the million
	})})
	ex, err := f.extract(estOnly)
	if err != nil {
		t.Fatal(err)
	}
	wantLines(t, f.rejectsOf(),
		"3|name|a value of 10001 characters, longer than checks.max_cell_chars (10000)",
		"6|name|a value of 1000000 characters, longer than checks.max_cell_chars (10000)")
	wantLines(t, f.rows(`SELECT customer_ref, length(name) FROM raw_customers__platform ORDER BY source_line`), "E1|10000", "E3|10000", "E4|10000", "E6|10")
	if ex.Rejected["raw_customers"] != 2 || ex.RowsRead["raw_customers"] != 6 {
		t.Errorf("read %v rejected %v", ex.RowsRead, ex.Rejected)
	}
	// The rejects keep the start of the line, not the million characters.
	if got := f.rows(`SELECT length(raw_line), raw_line LIKE '%… (1000021 characters in all)' FROM load_rejects WHERE line = 6`); got[0] != "1029|true" {
		t.Errorf("raw_line: %v", got)
	}
	// checks.max_cell_chars is the source's limit, in any column.
	g := newFixture(t, map[string]string{"establishments_2026-09.csv": header + "E1,A,no,yes,1,0,0,Al,1\nE2,B,no,yes,1,0,0,Alexandra,1\n"})
	g.checks = config.Checks{MaxCellChars: 8}
	if _, err := g.extract(estOnly); err != nil {
		t.Fatal(err)
	}
	wantLines(t, g.rejectsOf(), "3|salesperson|a value of 9 characters, longer than checks.max_cell_chars (8)")
}

func TestOneRejectPerBadLine(t *testing.T) {
	f := newFixture(t, map[string]string{"establishments_2026-09.csv": header +
		"E1,A,no,yes,1,0,0,Al,1,x,y\n" + // two extra fields: DuckDB reports each
		"E2,B,no,yes,many,0,0,Al,1,x\n" + // a number that is not one, and an extra field
		"E3,C,no\n"}) // short
	ex, err := f.extract(estOnly)
	if err != nil {
		t.Fatal(err)
	}
	wantLines(t, f.rejectsOf(),
		"2||too many columns: Expected Number of Columns: 9 Found: 10; too many columns: Expected Number of Columns: 9 Found: 11",
		`3|portal views|"many" is not a number; too many columns: Expected Number of Columns: 9 Found: 10`,
		"4||missing columns: has_portal_access, portal views, downloads, shares, salesperson, seats (Expected Number of Columns: 9 Found: 3)")
	if n := f.rows(`SELECT count(*) FROM load_rejects`); n[0] != fmt.Sprint(ex.Rejected["raw_customers"]) || n[0] != "3" {
		t.Errorf("%s rejects rows, %v counted; want 3 and 3", n[0], ex.Rejected)
	}
}

func TestEveryExportRejectsLineByLine(t *testing.T) {
	const spec = estOnly + "users:\n  path: DIR/users_*.csv\nactivity:\n  path: DIR/activity_*.csv\norders:\n  path: DIR/orders_*.csv\n"
	long := strings.Repeat("u", 10001)
	f := newFixture(t, map[string]string{
		"establishments_2026-09.csv": header + "E1,A,no,yes,1,0,0,Al,1\n",
		"users_2026-10-01.csv":       "user_id,customer_reference,email\nu1,E1,a@x.example\nu2,E1,\"b@x.example\nu3,E1,c@x.example\n",
		"activity_2026-09.csv":       "date,user_id,customer_reference,event,count\n2026-09-01,u1,E1,login,1\n2026-09-02,u1\x00,E1,login,1\n2026-09-03,\"u1\nu1\",E1,login,1\n",
		"orders_2026-09.csv":         orderHeader + "O1,E1,,2026-09-01,web,10\nO2,E1," + long + ",2026-09-02,web,10\nO3,E1,,2026-09-03,\"web\" shop,10\n",
	})
	ex, err := f.extract(spec)
	if err != nil {
		t.Fatal(err)
	}
	wantLines(t, f.rows(`SELECT target_table, line, "column", reason FROM load_rejects ORDER BY target_table, line`),
		"raw_activity|3|user_id|control character U+0000 (NUL) at character 3 of the value",
		"raw_orders|3|user_id|a value of 10001 characters, longer than checks.max_cell_chars (10000)",
		`raw_orders|4|channel|'s' after the closing quote of the value (a quote inside a quoted value must be doubled: "")`,
		`raw_users|3|email|the quote opened in column "email" (column 3) on line 3 is never closed: lines 3 to 4 (2 lines) were read as one record, to the end of the file`,
		`raw_users|4|email|swallowed by the quote opened in column "email" (column 3) on line 3, never closed (lines 3 to 4, 2 lines)`)
	for table, want := range map[string]string{"raw_users": "3 2 1", "raw_activity": "3 1 2", "raw_orders": "3 2 1"} {
		if got := fmt.Sprint(ex.RowsRead[table], ex.Rejected[table], ex.RowsIn[table]); got != want {
			t.Errorf("%s: read, rejected, in = %s, want %s", table, got, want)
		}
	}
	// The user id spanning two lines is a value like any other.
	if got := f.rows(`SELECT replace(user_id, chr(10), '/') FROM raw_activity__platform ORDER BY day`); strings.Join(got, ",") != "u1,u1/u1" {
		t.Errorf("activity = %v", got)
	}
}

func TestLookalikeFilesAreWarnedAbout(t *testing.T) {
	row := header + "E1,A,no,yes,1,0,0,Al,1\n"
	f := newFixture(t, map[string]string{
		"establishments_2026-09.csv":     row,
		"establishments.csv":             row,
		"Establishments_2026-08.CSV":     row,
		"establishments-2026-07.csv":     row,
		"establishments_2026-09.csv.bak": row, // not a CSV
		"users_2026-10-01.csv":           "user_id,customer_reference\nu1,E1\n",
		"users.csv":                      "user_id,customer_reference\nu1,E1\n",
		"activity_2026-09.csv":           "date,user_id,event\n2026-09-01,u1,login\n",
		"notes.txt":                      "",
	})
	ex, err := f.extract(estOnly + "users:\n  path: DIR/users_*.csv\nactivity:\n  path: DIR/activity_*.csv\n")
	if err != nil {
		t.Fatal(err)
	}
	const est = `is not read: it looks like one of the establishments files but does not match establishments.path "DIR/establishments_*.csv" (rename it, move it away, or widen the path)`
	want := []string{
		"platform: " + f.path("Establishments_2026-08.CSV") + " " + est,
		"platform: " + f.path("establishments-2026-07.csv") + " " + est,
		"platform: " + f.path("establishments.csv") + " " + est,
		"platform: " + f.path("users.csv") + ` is not read: it looks like one of the users files but does not match users.path "DIR/users_*.csv" (rename it, move it away, or widen the path)`,
	}
	got := strings.ReplaceAll(strings.Join(ex.Warnings, "\n"), f.dir, "DIR")
	if got != strings.ReplaceAll(strings.Join(want, "\n"), f.dir, "DIR") {
		t.Errorf("warnings\n%s\nwant\n%s", got, strings.ReplaceAll(strings.Join(want, "\n"), f.dir, "DIR"))
	}
}
