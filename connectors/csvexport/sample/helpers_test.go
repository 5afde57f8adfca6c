package sample

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// testEnd is the last month of the test data (period 2025-11 .. 2026-10).
var testEnd = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)

func testOptions(dir string) Options {
	return Options{Out: dir, Customers: 150, Users: 1500, Months: 12, End: testEnd, Seed: 42, ActivityRows: 20000}
}

func generate(t testing.TB, opt Options) Summary {
	t.Helper()
	s, err := Generate(context.Background(), opt)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return s
}

// readCSV parses a whole file with encoding/csv and returns header and rows.
func readCSV(t testing.TB, path string) ([]string, [][]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	all, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(all) == 0 {
		t.Fatalf("%s: empty file", path)
	}
	return all[0], all[1:]
}

func atoi(t testing.TB, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("not an integer: %q", s)
	}
	return n
}

func parseDate(t testing.TB, s string) time.Time {
	t.Helper()
	d, err := time.Parse("2006-01-02", s)
	if err != nil {
		t.Fatalf("bad date %q: %v", s, err)
	}
	return d
}

// estRow is one row of an establishments export.
type estRow struct {
	name, salesperson, seats string
	archived, access         bool
	views, downloads, shares int
}

// userRow is one row of the users snapshot.
type userRow struct {
	customer, email, created, firstLogin, deactivated string
	archived                                          bool
}

// dataset is a parsed generated directory.
type dataset struct {
	months   []string             // "YYYY-MM"
	est      []map[string]estRow  // per month, by reference
	estOrder [][]string           // per month, references in file order
	activity [][][]string         // per month, rows
	users    map[string]userRow   // by user_id
	userIDs  []string             // in file order
	firstAct map[string]string    // user_id -> first activity date
	sums     []map[string][3]int  // per month, per customer: views, downloads, shares from activity
	dayRows  map[time.Weekday]int // activity rows per weekday
	dayCount map[time.Weekday]int // number of dates per weekday in the period
}

func yes(t testing.TB, s string) bool {
	t.Helper()
	switch s {
	case "yes":
		return true
	case "no":
		return false
	}
	t.Fatalf("want yes/no, got %q", s)
	return false
}

// load parses every file of a generated directory, checking headers.
func load(t testing.TB, opt Options) *dataset {
	t.Helper()
	ds := &dataset{users: map[string]userRow{}, firstAct: map[string]string{},
		dayRows: map[time.Weekday]int{}, dayCount: map[time.Weekday]int{}}
	start := opt.End.AddDate(0, 1-opt.Months, 0)
	for d := start; d.Before(opt.End.AddDate(0, 1, 0)); d = d.AddDate(0, 0, 1) {
		ds.dayCount[d.Weekday()]++
	}
	for m := 0; m < opt.Months; m++ {
		label := start.AddDate(0, m, 0).Format("2006-01")
		ds.months = append(ds.months, label)
		hdr, rows := readCSV(t, filepath.Join(opt.Out, "establishments_"+label+".csv"))
		checkHeader(t, "establishments", hdr, wantEstablishmentsHeader)
		est := map[string]estRow{}
		var order []string
		for _, r := range rows {
			if _, dup := est[r[0]]; dup {
				t.Fatalf("establishments %s: duplicate reference %s", label, r[0])
			}
			est[r[0]] = estRow{name: r[1], archived: yes(t, r[2]), access: yes(t, r[3]),
				views: atoi(t, r[4]), downloads: atoi(t, r[5]), shares: atoi(t, r[6]), salesperson: r[7], seats: r[8]}
			order = append(order, r[0])
		}
		ds.est = append(ds.est, est)
		ds.estOrder = append(ds.estOrder, order)

		hdr, rows = readCSV(t, filepath.Join(opt.Out, "activity_"+label+".csv"))
		checkHeader(t, "activity", hdr, wantActivityHeader)
		ds.activity = append(ds.activity, rows)
		sums := map[string][3]int{}
		for _, r := range rows {
			s := sums[r[2]]
			switch r[3] {
			case "portal_view":
				s[0] += atoi(t, r[4])
			case "download":
				s[1] += atoi(t, r[4])
			case "share":
				s[2] += atoi(t, r[4])
			}
			sums[r[2]] = s
			if f, ok := ds.firstAct[r[1]]; !ok || r[0] < f {
				ds.firstAct[r[1]] = r[0]
			}
			ds.dayRows[parseDate(t, r[0]).Weekday()]++
		}
		ds.sums = append(ds.sums, sums)
	}
	snap := opt.End.AddDate(0, 1, 0).Format("2006-01-02")
	hdr, rows := readCSV(t, filepath.Join(opt.Out, "users_"+snap+".csv"))
	checkHeader(t, "users", hdr, wantUsersHeader)
	for _, r := range rows {
		if _, dup := ds.users[r[0]]; dup {
			t.Fatalf("users: duplicate user_id %s", r[0])
		}
		ds.users[r[0]] = userRow{customer: r[1], email: r[2], created: r[3], firstLogin: r[4], deactivated: r[5], archived: yes(t, r[6])}
		ds.userIDs = append(ds.userIDs, r[0])
	}
	return ds
}

// Headers of the contract, spelled out independently of the implementation.
const (
	wantEstablishmentsHeader = "reference,name,archived,has_portal_access,portal views,downloads,shares,salesperson,seats"
	wantUsersHeader          = "user_id,customer_reference,email,created,first_login,deactivated,archived"
	wantActivityHeader       = "date,user_id,customer_reference,event,count"
)

func checkHeader(t testing.TB, what string, got []string, want string) {
	t.Helper()
	if g := strings.Join(got, ","); g != want {
		t.Fatalf("%s header = %q, want %q", what, g, want)
	}
}
