package sample

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDeterministic(t *testing.T) {
	a, b, c := testOptions(t.TempDir()), testOptions(t.TempDir()), testOptions(t.TempDir())
	c.Seed++
	sa, sb, sc := generate(t, a), generate(t, b), generate(t, c)
	if len(sa.Files) != len(sb.Files) || len(sa.Files) != 2*a.Months+1 {
		t.Fatalf("file counts %d and %d, want %d", len(sa.Files), len(sb.Files), 2*a.Months+1)
	}
	differ := 0
	for i := range sa.Files {
		name := filepath.Base(sa.Files[i].Path)
		if filepath.Base(sb.Files[i].Path) != name || filepath.Base(sc.Files[i].Path) != name {
			t.Fatalf("file %d: names %s, %s, %s", i, name, sb.Files[i].Path, sc.Files[i].Path)
		}
		da, db, dc := readFile(t, sa.Files[i].Path), readFile(t, sb.Files[i].Path), readFile(t, sc.Files[i].Path)
		if !bytes.Equal(da, db) {
			t.Errorf("%s differs between two runs with the same options", name)
		}
		if !bytes.Equal(da, dc) {
			differ++
		}
	}
	if differ < len(sa.Files)-1 {
		t.Errorf("a different seed changed only %d of %d files", differ, len(sa.Files))
	}
}

func TestFilesHeadersAndCounts(t *testing.T) {
	opt := testOptions(t.TempDir())
	sum := generate(t, opt)
	if sum.Customers != opt.Customers || sum.Users != opt.Users {
		t.Errorf("summary totals %d customers %d users, want %d and %d", sum.Customers, sum.Users, opt.Customers, opt.Users)
	}
	want := []string{}
	for _, m := range []string{"2025-11", "2025-12", "2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"} {
		want = append(want, "establishments_"+m+".csv", "activity_"+m+".csv")
	}
	want = append(want, "users_2026-11-01.csv")
	activity := 0
	for i, f := range sum.Files {
		name := filepath.Base(f.Path)
		if name != want[i] || filepath.Dir(f.Path) != opt.Out {
			t.Fatalf("file %d is %s, want %s in %s", i, f.Path, want[i], opt.Out)
		}
		data := readFile(t, f.Path)
		lines := bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
		header := map[string]string{"establishments": wantEstablishmentsHeader, "activity": wantActivityHeader, "users": wantUsersHeader}[strings.Split(name, "_")[0]]
		if string(lines[0]) != header {
			t.Errorf("%s: header %q, want %q", name, lines[0], header)
		}
		if bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) || bytes.Contains(data, []byte("\r")) || !bytes.HasSuffix(data, []byte("\n")) {
			t.Errorf("%s: want no BOM, \\n line ends", name)
		}
		if _, rows := readCSV(t, f.Path); len(rows) != f.Rows {
			t.Errorf("%s: %d rows, summary says %d", name, len(rows), f.Rows)
		}
		if strings.HasPrefix(name, "activity_") {
			activity += f.Rows
		}
	}
	if len(sum.Files) != len(want) {
		t.Fatalf("%d files, want %d", len(sum.Files), len(want))
	}
	if activity != sum.ActivityRows {
		t.Errorf("activity files hold %d rows, summary says %d", activity, sum.ActivityRows)
	}
}

func TestActivityTarget(t *testing.T) {
	for _, target := range []int{3000, 20000, 80000} {
		opt := testOptions(t.TempDir())
		opt.ActivityRows = target
		got := generate(t, opt).ActivityRows
		if d := float64(got-target) / float64(target); d < -0.15 || d > 0.15 {
			t.Errorf("target %d: got %d rows (%+.1f %%)", target, got, 100*d)
		}
	}
	// Default: about 13 rows per user-month in which the user may be active.
	opt := testOptions(t.TempDir())
	opt.ActivityRows = 0
	got, want := generate(t, opt).ActivityRows, newGenerator(opt).defaultTarget()
	if d := float64(got-want) / float64(want); d < -0.15 || d > 0.15 {
		t.Errorf("default target %d: got %d rows", want, got)
	}
	if perUser := float64(got) / float64(opt.Users*opt.Months); perUser < 3 || perUser > 13 {
		t.Errorf("default target: %d rows = %.1f per user-month", got, perUser)
	}
}

var emailRE = regexp.MustCompile(`^[a-z0-9]+\.[a-z0-9]+(\+[a-z0-9-]+)?@[a-z0-9.-]+\.[a-z]+$`)

func TestInvariants(t *testing.T) {
	opt := testOptions(t.TempDir())
	generate(t, opt)
	ds := load(t, opt)
	refs := ds.estOrder[opt.Months-1]

	// Establishments: every customer every month from creation, archive is final.
	created := map[string]int{}
	var newCust, lateAccess, archivedChurner, noSales, noSeats, comma, reassigned int
	for _, ref := range refs {
		first := -1
		for m := range ds.months {
			r, ok := ds.est[m][ref]
			if first < 0 && ok {
				first = m
			}
			if first >= 0 && !ok {
				t.Fatalf("%s missing in %s after appearing in %s", ref, ds.months[m], ds.months[first])
			}
			if !ok {
				continue
			}
			prev, hasPrev := ds.est[max(m-1, 0)][ref]
			if m > first && hasPrev && prev.archived && !r.archived {
				t.Errorf("%s un-archived in %s", ref, ds.months[m])
			}
			if (r.archived || !r.access) && r.views+r.downloads+r.shares > 0 {
				t.Errorf("%s %s: counts without access or archived: %+v", ref, ds.months[m], r)
			}
			if m > first && hasPrev && prev.salesperson != r.salesperson && prev.salesperson != "" && r.salesperson != "" {
				reassigned++
			}
			if m > first && hasPrev && !prev.access && r.access && !ds.est[first][ref].access {
				lateAccess++
			}
			if m > first && hasPrev && r.archived && !prev.archived && ds.hadActivity(ref, m) {
				archivedChurner++
			}
		}
		created[ref] = first
		last := ds.est[opt.Months-1][ref]
		if first > 0 {
			newCust++
		}
		if last.salesperson == "" {
			noSales++
		}
		if last.seats == "" {
			noSeats++
		} else if atoi(t, last.seats) < 1 {
			t.Errorf("%s: seats %s", ref, last.seats)
		}
		if strings.Contains(last.name, ",") {
			comma++
		}
	}
	if len(refs) != opt.Customers || !slices.IsSorted(refs) {
		t.Errorf("last export has %d customers (sorted %v), want %d", len(refs), slices.IsSorted(refs), opt.Customers)
	}
	if initial := len(ds.est[0]); initial < opt.Customers/2 || initial > opt.Customers*7/10 {
		t.Errorf("%d customers at the first month, want about 60 %%", initial)
	}
	t.Logf("new %d, late access %d, archived churners %d, no salesperson %d, unknown seats %d, comma %d, reassigned %d",
		newCust, lateAccess, archivedChurner, noSales, noSeats, comma, reassigned)
	for what, n := range map[string]int{"new customer": newCust, "customer with late access": lateAccess,
		"archived churner": archivedChurner, "empty salesperson": noSales, "unknown seats": noSeats,
		"name with a comma": comma, "reassigned salesperson": reassigned} {
		if n == 0 {
			t.Errorf("no %s", what)
		}
	}

	// Establishment counters are the sums of the activity rows.
	for m := range ds.months {
		for ref, r := range ds.est[m] {
			if s := ds.sums[m][ref]; s != [3]int{r.views, r.downloads, r.shares} {
				t.Errorf("%s %s: export says %d/%d/%d, activity sums %v", ds.months[m], ref, r.views, r.downloads, r.shares, s)
			}
		}
		for ref := range ds.sums[m] {
			if _, ok := ds.est[m][ref]; !ok {
				t.Errorf("%s: activity for %s, absent from the export", ds.months[m], ref)
			}
		}
	}

	// Users.
	emails := map[string]bool{}
	perCustomer := map[string]int{}
	internal, deactivated, archived, archivedNoDeact := 0, 0, 0, 0
	periodEnd := opt.End.AddDate(0, 1, -1).Format("2006-01-02")
	for _, id := range ds.userIDs {
		u := ds.users[id]
		first, ok := created[u.customer]
		if !ok {
			t.Fatalf("%s: unknown customer %s", id, u.customer)
		}
		perCustomer[u.customer]++
		if !emailRE.MatchString(u.email) || emails[u.email] {
			t.Errorf("%s: bad or duplicate e-mail %q", id, u.email)
		}
		emails[u.email] = true
		if strings.HasSuffix(u.email, "@uptake-demo.internal") {
			internal++
		}
		if u.created < ds.months[first]+"-01" || u.created > periodEnd {
			t.Errorf("%s: created %s, customer from %s", id, u.created, ds.months[first])
		}
		parseDate(t, u.created)
		if u.firstLogin != ds.firstAct[id] {
			t.Errorf("%s: first_login %q, first activity %q", id, u.firstLogin, ds.firstAct[id])
		}
		if u.deactivated != "" {
			deactivated++
			if parseDate(t, u.deactivated); u.deactivated <= u.created || u.deactivated > periodEnd {
				t.Errorf("%s: deactivated %s, created %s", id, u.deactivated, u.created)
			}
		}
		if u.archived {
			archived++
			if u.deactivated == "" {
				archivedNoDeact++
			}
		}
		if ds.est[opt.Months-1][u.customer].archived && !u.archived {
			t.Errorf("%s: user of archived %s not archived", id, u.customer)
		}
	}
	if len(perCustomer) != opt.Customers {
		t.Errorf("%d customers have users, want all %d", len(perCustomer), opt.Customers)
	}
	sizes := []int{}
	for _, n := range perCustomer {
		sizes = append(sizes, n)
	}
	slices.Sort(sizes)
	if sizes[len(sizes)-1] < 5*sizes[len(sizes)/2] {
		t.Errorf("no large customer: median %d users, largest %d", sizes[len(sizes)/2], sizes[len(sizes)-1])
	}
	t.Logf("%d users: %d internal, %d deactivated, %d archived (%d without deactivation date); sizes median %d max %d",
		opt.Users, internal, deactivated, archived, archivedNoDeact, sizes[len(sizes)/2], sizes[len(sizes)-1])
	if internal == 0 || deactivated < opt.Users*3/100 || deactivated > opt.Users*15/100 {
		t.Errorf("%d internal users, %d deactivated (want ~7 %%)", internal, deactivated)
	}
	if archivedNoDeact < archived/4 || archivedNoDeact > archived*3/4 {
		t.Errorf("%d of %d archived users have no deactivation date, want about half", archivedNoDeact, archived)
	}

	// Activity rows.
	events := map[string]bool{"login": true, "portal_view": true, "download": true, "share": true, "search": true}
	for m, rows := range ds.activity {
		seen := map[string]bool{}
		prevDate := ""
		for _, r := range rows {
			date, id, ref, ev := r[0], r[1], r[2], r[3]
			if !strings.HasPrefix(date, ds.months[m]+"-") || date < prevDate {
				t.Fatalf("activity %s: date %s out of month or order", ds.months[m], date)
			}
			parseDate(t, date)
			prevDate = date
			u, ok := ds.users[id]
			if !ok || u.customer != ref {
				t.Fatalf("activity %s: user %s of %s unknown or of another customer", date, id, ref)
			}
			if !events[ev] || atoi(t, r[4]) <= 0 {
				t.Errorf("activity %s: bad event %q or count %q", date, ev, r[4])
			}
			key := date + "|" + id + "|" + ev
			if seen[key] {
				t.Errorf("activity: duplicate %s", key)
			}
			seen[key] = true
			if e := ds.est[m][ref]; !e.access || e.archived {
				t.Errorf("activity %s: %s has access=%v archived=%v", date, ref, e.access, e.archived)
			}
			if date < u.created || (u.deactivated != "" && date >= u.deactivated) {
				t.Errorf("activity %s: %s created %s deactivated %q", date, id, u.created, u.deactivated)
			}
		}
		for key := range seen {
			parts := strings.Split(key, "|")
			if !seen[parts[0]+"|"+parts[1]+"|login"] {
				t.Errorf("activity: %s without a login that day", key)
			}
		}
	}
	weekday := float64(ds.dayRows[time.Wednesday]) / float64(ds.dayCount[time.Wednesday])
	for _, d := range []time.Weekday{time.Saturday, time.Sunday} {
		if weekend := float64(ds.dayRows[d]) / float64(ds.dayCount[d]); weekend*3 > weekday {
			t.Errorf("%s: %.0f rows a day, Wednesday %.0f", d, weekend, weekday)
		}
	}
}

func TestValidation(t *testing.T) {
	ok := testOptions(t.TempDir())
	cases := []struct {
		name string
		edit func(*Options)
		want string
	}{
		{"no out", func(o *Options) { o.Out = "" }, "Out"},
		{"no customers", func(o *Options) { o.Customers = 0 }, "Customers must be positive"},
		{"negative users", func(o *Options) { o.Users = -1 }, "Users must be positive"},
		{"fewer users", func(o *Options) { o.Users = o.Customers - 1 }, "at least Customers"},
		{"no months", func(o *Options) { o.Months = 0 }, "Months"},
		{"too many months", func(o *Options) { o.Months = 121 }, "Months"},
		{"no end", func(o *Options) { o.End = time.Time{} }, "End"},
		{"end mid-month", func(o *Options) { o.End = o.End.AddDate(0, 0, 3) }, "first day"},
		{"negative rows", func(o *Options) { o.ActivityRows = -5 }, "ActivityRows"},
		{"unreachable rows", func(o *Options) { o.ActivityRows = 100 * o.Users * o.Months * 5 }, "too high"},
		{"negative salespeople", func(o *Options) { o.Salespeople = -1 }, "Salespeople"},
	}
	for _, c := range cases {
		opt := ok
		c.edit(&opt)
		_, err := Generate(context.Background(), opt)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one mentioning %q", c.name, err, c.want)
		}
	}
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Generate(ctx, testOptions(t.TempDir())); !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
}

func TestSalespeopleAndSmallRuns(t *testing.T) {
	opt := Options{Out: t.TempDir(), Customers: 40, Users: 40, Months: 1, End: testEnd, Seed: 3, Salespeople: 12}
	sum := generate(t, opt)
	_, rows := readCSV(t, sum.Files[0].Path)
	names := map[string]bool{}
	for _, r := range rows {
		names[r[7]] = true
	}
	delete(names, "")
	if len(names) < 8 {
		t.Errorf("only %d distinct salespeople of 12 in use", len(names))
	}
	if got := salespeople(200, newPersonPool()); len(got) != 200 || got[2] != "Chloé Dubois" {
		t.Errorf("salespeople(200) = %d names starting %q", len(got), got[:5])
	}
	// E-mail disambiguation relies on distinct ASCII spellings of the pools.
	p := newPersonPool()
	for _, list := range [][]string{p.firstMail, p.lastMail} {
		seen := map[string]bool{}
		for _, s := range list {
			if seen[s] || s == "" {
				t.Errorf("name pool spelling %q repeated or empty", s)
			}
			seen[s] = true
		}
	}
}

// TestAdoptionStory checks the story a demo tells, at the bundled size with
// seed 1, both at the bundled activity target and at the default one: the
// monthly active rate (activated customers with a score of at least one)
// ramps up after the launch, dips in August and recovers, the usage (active
// users of activated customers) is realistic, the salespeople's portfolios
// rank clearly, and only a few customers a month are churn risks.
func TestAdoptionStory(t *testing.T) {
	for _, rows := range []int{40000, 0} {
		opt := Options{Out: t.TempDir(), Customers: 200, Users: 3000, Months: 12, End: testEnd, Seed: 1, ActivityRows: rows}
		generate(t, opt)
		k := storyKPIs(t, load(t, opt))
		t.Logf("activity target %d:", rows)
		usage := 0.0
		for m, month := range k.months {
			t.Logf("  %s active rate %5.1f %%, usage %5.1f %%, churn risks %d", month, k.rate[m], k.usage[m], k.risks[m])
			usage += k.usage[m] / float64(len(k.months))
			if k.rate[m] < 45 || k.rate[m] > 85 {
				t.Errorf("target %d, %s: monthly active rate %.1f %%, want 45..85 %%", rows, month, k.rate[m])
			}
			if k.risks[m] > 20 {
				t.Errorf("target %d, %s: %d churn risks, want a few", rows, month, k.risks[m])
			}
		}
		if lo, hi := slices.Min(k.rate), slices.Max(k.rate); hi-lo < 10 {
			t.Errorf("target %d: monthly active rate between %.1f and %.1f %%, want a spread of 10 points", rows, lo, hi)
		}
		if usage < 20 || usage > 55 {
			t.Errorf("target %d: average usage %.1f %%, want 20..55 %%", rows, usage)
		}
		at := func(month string) float64 { return k.rate[slices.Index(k.months, month)] }
		if !(at("2025-11") < at("2026-02") && at("2026-08") < at("2026-06") && at("2026-08") < at("2026-10")) {
			t.Errorf("target %d: no ramp-up, summer dip and recovery in %v", rows, k.rate)
		}
		var line []string
		for _, name := range slices.Sorted(maps.Keys(k.sales)) {
			line = append(line, fmt.Sprintf("%s %.1f %%", name, k.sales[name]))
		}
		t.Logf("  salespeople in %s: %s", k.months[len(k.months)-1], strings.Join(line, ", "))
		rates := slices.Collect(maps.Values(k.sales))
		if lo, hi := slices.Min(rates), slices.Max(rates); hi-lo < 10 {
			t.Errorf("target %d: salespeople's active rates between %.1f and %.1f %%, want a spread of 10 points", rows, lo, hi)
		}
	}
}

// BenchmarkGenerate generates the bundled sample size; set
// UPTAKE_SAMPLE_BENCH_OUT to a directory to generate the large benchmark data
// set there instead (50,000 customers, 1,000,000 users, 10,000,000 rows).
func BenchmarkGenerate(b *testing.B) {
	opt := Options{Out: b.TempDir(), Customers: 200, Users: 3000, Months: 12, End: testEnd, Seed: 1, ActivityRows: 40000}
	if dir := os.Getenv("UPTAKE_SAMPLE_BENCH_OUT"); dir != "" {
		opt = Options{Out: dir, Customers: 50000, Users: 1000000, Months: 12, End: testEnd, Seed: 1, ActivityRows: 10000000}
	}
	for b.Loop() {
		generate(b, opt)
	}
	var size int64
	entries, _ := os.ReadDir(opt.Out)
	for _, e := range entries {
		if info, err := e.Info(); err == nil {
			size += info.Size()
		}
	}
	b.ReportMetric(float64(size)/(1<<20), "MiB")
}
