package csvexport

import (
	"bytes"
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"testing"

	"github.com/uptake-dev/uptake/config"
)

func TestPlainMatchesTheTable(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for n := 0; n < 20000; n++ {
		b := make([]byte, rng.Intn(24))
		want := true
		for i := range b {
			b[i] = byte(0x20 + rng.Intn(0x5f)) // printable ASCII but DEL
			if rng.Intn(6) == 0 {
				b[i] = byte(rng.Intn(256))
			}
			if special[b[i]] {
				want = false
			}
		}
		got, spaced := plain(b)
		if got != want {
			t.Fatalf("plain(%q) = %v, want %v", b, got, want)
		}
		if want && spaced != bytes.Contains(b, []byte(" ")) {
			t.Fatalf("plain(%q) says spaced %v", b, spaced)
		}
	}
}

// lineAt returns the physical line and line count of DuckDB record rec,
// as lineMap does in SQL.
func (r *lintResult) lineAt(rec int64) (line, lines int64) {
	line, lines = rec, 1
	for _, s := range r.spans {
		switch {
		case s.rec == rec:
			return s.line, s.lines
		case s.rec < rec:
			line = s.line + (rec - s.rec) + s.lines - 1
		}
	}
	return line, lines
}

// The pass tells whether a line after the header holds a space, on the
// plain path or the careful one (a quote, a quoted line break).
func TestLintTellsSpacedFiles(t *testing.T) {
	l := &linter{delim: ',', maxCell: 100, labels: []string{"a b", "c"}}
	for _, c := range []struct {
		text   string
		spaced bool
	}{
		{"a b,c\nx,y\n", false},
		{"a b,c\nx,y \n", true},
		{"a b,c\nx,\"y\"\n", false},
		{"a b,c\nx,\" y\"\n", true},
		{"a b,c\nx,\"y\nz\"\n", false},
		{"a b,c\nx,\"y\n z\"\n", true},
		{"a b,c\nx,\"\"\n\nw, \n", true},
		// DuckDB's trim also removes the other Unicode spaces (Zs)
		{"a b,c\nx,y\u00a0\n", true},
		{"a b,c\nx,\u3000y\n", true},
		{"a b,c\ncafé,\u200by\n", false}, // a zero-width space is not one
	} {
		res, err := l.lint(strings.NewReader(c.text))
		if err != nil {
			t.Fatal(err)
		}
		if res.spaced != c.spaced {
			t.Errorf("%q: spaced = %v, want %v", c.text, res.spaced, c.spaced)
		}
	}
}

func TestLintPlacesRecordsOnTheirLines(t *testing.T) {
	l := &linter{delim: ',', maxCell: 100, labels: []string{"a", "b"}}
	// line 1 header; 2 record; 3-4 one record; 5 blank; 6 record; 7-9 one record; 10 record
	res, err := l.lint(strings.NewReader("a,b\n1,x\n2,\"y\nz\"\n\n3,w\n4,\"p\r\n\r\nq\"\r\n5,v"))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.bad) != 0 || fmt.Sprint(res.blanks) != "[4]" || !res.multiline {
		t.Fatalf("bad %v blanks %v multiline %v", res.bad, res.blanks, res.multiline)
	}
	// DuckDB's records: 1 header, 2, 3 (lines 3-4), 4 blank (line 5), 5 (line 6), 6 (lines 7-9), 7 (line 10)
	if res.records != 6 || res.size != 36 {
		t.Errorf("%d records in %d bytes, want 6 after the header, in 36", res.records, res.size)
	}
	for rec, want := range map[int64]string{1: "1+1", 2: "2+1", 3: "3+2", 4: "5+1", 5: "6+1", 6: "7+3", 7: "10+1"} {
		line, n := res.lineAt(rec)
		if got := fmt.Sprintf("%d+%d", line, n); got != want {
			t.Errorf("record %d on %s, want %s", rec, got, want)
		}
	}
}

func TestLintFindsBadRecords(t *testing.T) {
	l := &linter{delim: ';', maxCell: 5, labels: []string{"a", "b"}}
	in := "a;b\n" +
		"1;ok\n" + // 2
		"2;\"x\"y\n" + // 3: text after the closing quote
		"3;a\x00b\n" + // 4: NUL
		"4;a\rb\n" + // 5: a carriage return alone
		"5;\x7f\n" + // 6: DEL
		"6;\u0085\n" + // 7: C1
		"7;\t tab\n" + // 8: fine (a tab, 5 characters)
		"8;sixsix\n" + // 9: too long
		"9;ééé\"é\n" + // 10: fine: 5 characters (a quote inside an unquoted value is one)
		"10;\"ab\"\"c\"\n" + // 11: fine: ab"c
		"11;x;\"open\n12;y\n" // 12-13: never closed
	res, err := l.lint(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range res.bad {
		for i := int64(0); i < b.lines; i++ {
			got = append(got, fmt.Sprintf("%d %s: %s", b.line+i, b.column, b.reasonAt(i)))
		}
	}
	want := []string{
		`3 b: 'y' after the closing quote of the value (a quote inside a quoted value must be doubled: "")`,
		`4 b: control character U+0000 (NUL) at character 2 of the value`,
		`5 b: control character U+000D (carriage return) at character 2 of the value`,
		`6 b: control character U+007F (DEL) at character 1 of the value`,
		`7 b: control character U+0085 (C1 control) at character 1 of the value`,
		`9 b: a value of 6 characters, longer than checks.max_cell_chars (5)`,
		`12 column 3 (beyond the header): the quote opened in column column 3 (beyond the header) on line 12 is never closed: lines 12 to 13 (2 lines) were read as one record, to the end of the file`,
		`13 column 3 (beyond the header): swallowed by the quote opened in column column 3 (beyond the header) on line 12, never closed (lines 12 to 13, 2 lines)`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// What is left for DuckDB keeps every other line, in order.
	var kept bytes.Buffer
	if err := copyWithout(strings.NewReader(in), &kept, res.bad, func(badRecord, int64, []byte) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if want := "a;b\n1;ok\n7;\t tab\n9;ééé\"é\n10;\"ab\"\"c\"\n"; kept.String() != want {
		t.Errorf("kept %q, want %q", kept.String(), want)
	}
}

func TestLintHeaderProblems(t *testing.T) {
	l := &linter{delim: ',', maxCell: 100, labels: []string{"a", "b"}}
	for in, want := range map[string]string{
		"a,\"b\nc\"\n1,2\n": "line 1 (the header): a quoted column name spans 2 lines",
		"a,\"b\n1,2\n":      `line 1 (the header): column "b": the quote opened in column "b" (column 2) on line 1 is never closed`,
		"a,\"b\"c\n1,2\n":   `line 1 (the header): column "b": 'c' after the closing quote`,
	} {
		_, err := l.lint(strings.NewReader(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want %q", in, err, want)
		}
	}
}

func TestLintTellsUTF8(t *testing.T) {
	l := &linter{delim: ',', maxCell: 100, checkUTF8: true}
	if _, err := l.lint(strings.NewReader("a,b\n1,caf\xe9\n")); err != errNotUTF8 {
		t.Errorf("err = %v, want errNotUTF8", err)
	}
	if _, err := l.lint(strings.NewReader("a,b\n1,café\n")); err != nil {
		t.Errorf("err = %v", err)
	}
}

func TestLineReaderLongLines(t *testing.T) {
	long := strings.Repeat("x", 100)
	lr := newLineReader(strings.NewReader("a\n"+long+"\r\n\nlast"), 8)
	var got []string
	for {
		line, off, err := lr.next()
		if err != nil {
			break
		}
		got = append(got, fmt.Sprintf("%d:%q", off, line))
	}
	want := []string{`0:"a\n"`, fmt.Sprintf(`2:"%s\r\n"`, long), `104:"\n"`, `105:"last"`}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("got %v\nwant %v", got, want)
	}
}

func TestRawLine(t *testing.T) {
	if got := rawLine([]byte("E1,a\x00b\u0085,c\td")); got != "E1,a<U+0000>b<U+0085>,c\td" {
		t.Errorf("got %q", got)
	}
	got := rawLine([]byte(strings.Repeat("é", 1500)))
	if want := strings.Repeat("é", 1000) + "… (1500 characters in all)"; got != want {
		t.Errorf("got %q…", got[:20])
	}
}

// TestStructuralPassAgreesWithDuckDB builds random establishments exports
// of good and bad records (quoted fields spanning lines, blank lines, stray
// quotes, control characters, long values, wrong column counts, bad values,
// a quote never closed) and checks, end to end, that every good record is
// loaded with its own first line and every physical line of a bad record
// has exactly one reject: DuckDB and the structural pass agree on where
// records start and end.
func TestStructuralPassAgreesWithDuckDB(t *testing.T) {
	for seed := int64(1); seed <= 12; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewSource(seed))
			g := generate(rng, seed%3 == 0, seed%4 == 0)
			f := newFixture(t, map[string]string{"establishments_2026-09.csv": g.text})
			f.checks = config.Checks{MaxCellChars: 20}
			ex, err := f.extract(estOnly)
			if err != nil {
				t.Fatalf("%v\n%s", err, g.text)
			}
			got := map[string]string{}
			for _, r := range f.rows(`SELECT customer_ref, source_line FROM raw_customers__platform`) {
				ref, line, _ := strings.Cut(r, "|")
				got[ref] = line
			}
			if fmt.Sprint(got) != fmt.Sprint(g.good) {
				t.Errorf("rows\n%v\nwant\n%v\nfile:\n%q", got, g.good, g.text)
			}
			rejected := f.rows(`SELECT line FROM load_rejects ORDER BY line`)
			if strings.Join(rejected, ",") != strings.Join(g.badLines, ",") {
				t.Errorf("rejected lines\n%v\nwant\n%v\nrejects:\n%s\nfile:\n%q", rejected, g.badLines,
					strings.Join(f.rows(`SELECT line, reason FROM load_rejects ORDER BY line`), "\n"), g.text)
			}
			if ex.Rejected["raw_customers"] != int64(len(g.badLines)) || ex.RowsIn["raw_customers"] != int64(len(g.good)) ||
				ex.RowsRead["raw_customers"] != int64(len(g.good)+len(g.badLines)) {
				t.Errorf("read %v rejected %v in %v; want %d good, %d bad lines", ex.RowsRead, ex.Rejected, ex.RowsIn, len(g.good), len(g.badLines))
			}
		})
	}
}

type generated struct {
	text     string
	good     map[string]string // reference → first line
	badLines []string
}

// generate writes an export of random records (see
// TestStructuralPassAgreesWithDuckDB); crlf ends lines with \r\n, excel
// ends the header with a delimiter (DuckDB then pads short rows).
func generate(rng *rand.Rand, crlf, excel bool) generated {
	nl := "\n"
	if crlf {
		nl = "\r\n"
	}
	goodNames := []string{"Alpha", "", `"a,b"`, `"say ""hi"""`, `"multi` + nl + `line"`, "\"lf\nonly\"", `"two` + nl + nl + `breaks"`,
		` "spaced"`, `"trail" `, `a"b`, "tab\there", "café", `""`, strings.Repeat("é", 20), `"` + strings.Repeat("x", 18) + `"""`}
	badNames := []string{`"a"b`, "a\x00b", "a\rb", "x\x7f", "\u0085", "\x1b[31m", strings.Repeat("x", 21),
		`"` + strings.Repeat("é", 21) + `"`, `"bad` + nl + `quote"x`}
	g := generated{good: map[string]string{}}
	var b strings.Builder
	head := "reference,name,archived,has_portal_access"
	if excel {
		head += ","
	}
	b.WriteString(head + nl)
	line := 2
	lines := func(s string) int { return strings.Count(s, "\n") }
	for i := 0; i < 40; i++ {
		if rng.Intn(8) == 0 {
			b.WriteString(nl) // a blank line
			line++
			continue
		}
		ref := fmt.Sprintf("r%d", line)
		name, archived, extra, bad := goodNames[rng.Intn(len(goodNames))], "no", "", false
		switch rng.Intn(10) {
		case 0, 1:
			name, bad = badNames[rng.Intn(len(badNames))], true
		case 2:
			extra, bad = ",x,y", true // too many columns
		case 3:
			archived, bad = "maybe", true // not a boolean
		}
		rec := ref + "," + name + "," + archived + ",yes" + extra
		if rng.Intn(40) == 0 { // a quote never closed (no quote after it): the rest of the file is one record
			b.WriteString(ref + `,"never closed,no,yes` + nl)
			for j := i + 1; j < 40; j++ {
				fmt.Fprintf(&b, "s%d,Name %d,no,yes%s", j, j, nl)
			}
			for k := line; k <= line+39-i; k++ {
				g.badLines = append(g.badLines, fmt.Sprint(k))
			}
			break
		}
		b.WriteString(rec + nl)
		n := lines(rec + nl)
		if bad {
			for k := 0; k < n; k++ {
				g.badLines = append(g.badLines, fmt.Sprint(line+k))
			}
		} else {
			g.good[ref] = fmt.Sprint(line)
		}
		line += n
	}
	sort.Slice(g.badLines, func(i, j int) bool {
		return len(g.badLines[i]) < len(g.badLines[j]) || len(g.badLines[i]) == len(g.badLines[j]) && g.badLines[i] < g.badLines[j]
	})
	g.text = b.String()
	return g
}

// BenchmarkLint measures the structural pass over plain activity rows, the
// bulk of an export (bench/run times a whole run), their date column
// checked as a run checks it.
func BenchmarkLint(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString("date,user_id,customer_reference,event,count\n")
	for i := 0; buf.Len() < 32<<20; i++ {
		fmt.Fprintf(&buf, "2026-09-%02d,u%07d,E%05d,portal_view,%d\n", i%28+1, i%1000000, i%50000, i%7)
	}
	l := &linter{delim: ',', maxCell: config.DefaultMaxCellChars, checkUTF8: true, dates: []bool{true}}
	b.SetBytes(int64(buf.Len()))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := l.lint(bytes.NewReader(buf.Bytes())); err != nil {
			b.Fatal(err)
		}
	}
}

// TestScanBufferFillsRowGroups: a file read into the warehouse gets
// DuckDB's default buffers when they hold three row groups or more of its
// records, or one or two and more than half of one; else buffers of three
// row groups and three quarters of one, up to 64 MB.
func TestScanBufferFillsRowGroups(t *testing.T) {
	for _, c := range []struct {
		name          string
		size, records int64
		want          int64
	}{
		// a row group of users is 78 × 122,880 = 9,584,640 bytes, 0.88 of them in 8 MB; × 3.75
		{"1 M users of 78 bytes", 78_000_000, 1_000_000, 35_942_400},
		// 59e6 × 122,880 / 1,435,241 = 5,051,360 bytes a row group: 1.66 in 8 MB
		{"1.4 M activity records of 41 bytes", 59_000_000, 1_435_241, 0},
		// 52 × 122,880 = 6,389,760: 1.31 in 8 MB, a rest of 0.31; × 3.75
		{"records of 52 bytes", 52_000_000, 1_000_000, 23_961_600},
		// 30 × 122,880 = 3,686,400: 2.28 in 8 MB, a rest of 0.28; × 3.75
		{"records of 30 bytes", 90_000_000, 3_000_000, 13_824_000},
		// 20 × 122,880 = 2,457,600: 3.41 in 8 MB
		{"records of 20 bytes", 100_000_000, 5_000_000, 0},
		// 145 × 122,880 × 3.75 = 66,816,000, just below 64 MiB
		{"records of 145 bytes", 145_000_000, 1_000_000, 66_816_000},
		// 146 bytes: 67,276,800, above; 8 MB holds less than half a row group
		{"records of 146 bytes", 146_000_000, 1_000_000, 0},
		{"records of 1 kB", 1_000_000_000, 1_000_000, 0},
		{"a small users export", 7_800_000, 100_000, 0}, // one default buffer holds it
		{"no records", 9 << 20, 0, 0},
	} {
		if got := scanBuffer(c.size, c.records); got != c.want {
			t.Errorf("%s: buffer %d, want %d", c.name, got, c.want)
		}
	}
}

// TestISODate: what a date column read without date_format may hold: what
// DuckDB reads whole, and not what it would read in part.
func TestISODate(t *testing.T) {
	for v, want := range map[string]bool{
		"2026-09-30": true, "": true, "  ": true, " 2026-09-30\t": true, "2026-09-30\u00a0": true, "2026-9-3": true,
		"2026/09/30": true, "2026 09 30": true, `2026\09\30`: true, "2026/9/3": true,
		"2026-09-30T08:15": true, "2026-09-30T": true, "2026-09-30t08:00z": true, "2026-09-30T08": true,
		"2026-09-30 08:15:00": true, "2026-09-30T08:15:00Z": true, "2026-09-30\t08:00": true,
		"2026-09-30T08:15:00.123456789012+02:00:00": true, "2026-09-30 08:15:00,5 +0200": true,
		"2026-09-30 08:15:00 Europe/Paris": true, "2026-09-30 UTC": true, "2026-09-30 gmt": true,
		"2026-09-3x": false, "2026-09-30abc": false, "26-09-30": false, "02026-09-30": false,
		"2026-09-30 x": false, "2026-09-30 8": false, "2026-09-2 8": false, "2026-09-2\n8": false,
		"20260930": false, "30/09/2026": false, "2026-09/30": false, "2026.09.30": false, "2026_09_30": false,
		"2026-09-300": false, "2026-009-30": false, "-2026-09-30": false, "2026-09-30 (BC)": false,
	} {
		if got := isoDate([]byte(v)); got != want {
			t.Errorf("isoDate(%q) = %v, want %v", v, got, want)
		}
	}
}
