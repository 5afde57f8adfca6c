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

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// hadActivity says whether the customer had activity before month m.
func (ds *dataset) hadActivity(ref string, m int) bool {
	for i := 0; i < m; i++ {
		if s := ds.sums[i][ref]; s != [3]int{} {
			return true
		}
	}
	return false
}

// story is what TestAdoptionStory checks, per month of a data set.
type story struct {
	months      []string
	rate, usage []float64          // monthly active rate and usage, in %
	risks       []int              // customers active last month and now inactive or down by half
	sales       map[string]float64 // monthly active rate of each salesperson's portfolio in the last month, in %
}

// storyKPIs computes the story from the files alone. A customer is activated
// when it has portal access and is not archived, active when activated and
// its portal views, downloads and shares add up to at least one. Usage is the
// share of the users of activated customers (created by the month's end and
// not deactivated by then) with at least one activity row in the month.
func storyKPIs(t testing.TB, ds *dataset) story {
	t.Helper()
	k := story{months: ds.months, sales: map[string]float64{}}
	last := len(ds.months) - 1
	perSales := map[string][2]int{}
	for m, month := range ds.months {
		activated, active, risks := 0, 0, 0
		for ref, r := range ds.est[m] {
			score := r.views + r.downloads + r.shares
			if p, ok := ds.est[max(m-1, 0)][ref]; m > 0 && ok && !r.archived && p.access && !p.archived {
				// Churn risk: active last month, now inactive or down by half.
				if prev := p.views + p.downloads + p.shares; prev > 0 && 2*score <= prev {
					risks++
				}
			}
			if !r.access || r.archived {
				continue
			}
			activated++
			if score > 0 {
				active++
			}
			if m == last && r.salesperson != "" {
				n := perSales[r.salesperson]
				n[0]++
				if score > 0 {
					n[1]++
				}
				perSales[r.salesperson] = n
			}
		}
		k.risks = append(k.risks, risks)
		k.rate = append(k.rate, 100*float64(active)/float64(activated))
		end := parseDate(t, month+"-01").AddDate(0, 1, -1).Format("2006-01-02")
		used := map[string]bool{}
		for _, a := range ds.activity[m] {
			used[a[1]] = true
		}
		users, actives := 0, 0
		for id, u := range ds.users {
			e, ok := ds.est[m][u.customer]
			if !ok || !e.access || e.archived || u.created > end || (u.deactivated != "" && u.deactivated <= end) {
				continue
			}
			users++
			if used[id] {
				actives++
			}
		}
		k.usage = append(k.usage, 100*float64(actives)/float64(users))
	}
	for name, n := range perSales {
		k.sales[name] = 100 * float64(n[1]) / float64(n[0])
	}
	return k
}
