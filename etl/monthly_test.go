package etl_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uptake-dev/uptake/etl"
	uptakesql "github.com/uptake-dev/uptake/sql"
)

// TestMonthlyModelsRebuildOnlyTheMonthsThatChanged runs the kpi fixture
// night after night (a new day in a new month, the next day, a revised
// past day, a customer moved to another salesperson, a removed file) and
// checks after each that the run rebuilt the months it had to, kept the
// others, and published exactly what --full-refresh publishes on the same
// inputs and date.
func TestMonthlyModelsRebuildOnlyTheMonthsThatChanged(t *testing.T) {
	models, err := uptakesql.Models()
	if err != nil {
		t.Fatal(err)
	}
	// monthly counts the monthly models; reachNext the months after a new
	// month of an input that they build too: a model that reads the month
	// before (or n months before) of an input has the month after each of
	// its months, and one that reads such a model has that model's later
	// months too (int_customer_flows reads int_customer_monthly's month
	// after, and builds the month after that).
	monthly, reachNext := 0, 0
	reach := map[string]int{} // months past an input's new month a model has
	for changed := true; changed; {
		changed = false
		for _, m := range models {
			if m.Month == "" {
				continue
			}
			r := 0
			for _, in := range m.Deps {
				n := m.Lookback[in]
				if n < 0 { // all: every later month is an input's month already
					n = 0
				}
				r = max(r, reach[in]+n)
			}
			for _, in := range m.Raw {
				r = max(r, max(m.Lookback[in], 0))
			}
			if r != reach[m.Name] {
				reach[m.Name], changed = r, true
			}
		}
	}
	for _, m := range models {
		if m.Month != "" {
			monthly++
			reachNext += reach[m.Name]
		}
	}
	if monthly < 5 {
		t.Fatalf("only %d monthly models: the test means little", monthly)
	}

	w := newWorkspace(t, "")
	in := filepath.Join(w.dir, "input")
	// The fixture holds July to September, as of October 15: stg_months
	// has 3 months, and every monthly model has them all to build.
	first, err := w.run(etl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if first.MonthsKept != 0 || first.MonthsBuilt < 3*monthly {
		t.Fatalf("first run: %d months built, %d kept; want at least %d built, none kept", first.MonthsBuilt, first.MonthsKept, 3*monthly)
	}

	// The same run again: every month is kept.
	again, err := w.run(etl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if again.MonthsBuilt != 0 || again.MonthsKept != first.MonthsBuilt {
		t.Errorf("same inputs: %d months built, %d kept; want 0 built, %d kept", again.MonthsBuilt, again.MonthsKept, first.MonthsBuilt)
	}
	sameTables(t, "same inputs", published(t, w, again), published(t, w, first))
	// Kept or not, every table says when this run published it, and the
	// runs table has this run (it reads main.runs: built at every run).
	db := w.db()
	for _, table := range []string{"customer_monthly", "kpi_daily", "kpi_overview_monthly", "action_list"} {
		var stamps int
		var at time.Time
		if err := db.QueryRow(`SELECT count(DISTINCT published_at), max(published_at) FROM main.`+table).Scan(&stamps, &at); err != nil {
			t.Fatal(err)
		}
		if stamps != 1 || !at.Equal(again.StartedAt.UTC().Truncate(time.Microsecond)) {
			t.Errorf("%s: %d published_at values, the last %v; want this run's start %v", table, stamps, at, again.StartedAt.UTC())
		}
	}
	var runs int
	if err := db.QueryRow(`SELECT count(*) FROM main.runs WHERE run_id = ?`, again.RunID).Scan(&runs); err != nil || runs != 1 {
		t.Errorf("the runs table has %d rows of the second run (%v)", runs, err)
	}
	// customer_monthly (@materialized: view) is a view of its SQL in the
	// live build, no part of its own.
	var views, parts int
	if err := db.QueryRow(`SELECT (SELECT count(*) FROM duckdb_views() WHERE view_name = 'customer_monthly'
			AND schema_name = (SELECT value FROM main.state WHERE key = 'live_schema') AND sql LIKE '%int_customer_monthly%'),
		(SELECT count(*) FROM parts.index WHERE model = 'customer_monthly')`).Scan(&views, &parts); err != nil {
		t.Fatal(err)
	}
	if views != 1 || parts != 0 {
		t.Errorf("customer_monthly: %d views of int_customer_monthly in the live build, %d parts; want 1 and 0", views, parts)
	}
	db.Close()

	// nightThen runs a nightly run as of asOf, calls check on its
	// warehouse, then runs a full refresh and compares them; it returns
	// the nightly run. night is nightThen without a check.
	nightThen := func(what string, asOf time.Time, change func(), check func()) *etl.Result {
		t.Helper()
		change()
		inc, err := w.run(etl.Options{AsOf: asOf})
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		check()
		incTables := published(t, w, inc)
		inMonthOrder(t, what, filepath.Join(w.dir, "out", "customer_monthly.csv"))
		full, err := w.run(etl.Options{AsOf: asOf, FullRefresh: true})
		if err != nil {
			t.Fatalf("%s: full refresh: %v", what, err)
		}
		if full.MonthsKept != 0 {
			t.Errorf("%s: the full refresh kept %d months", what, full.MonthsKept)
		}
		sameTables(t, what, incTables, published(t, w, full))
		return inc
	}
	night := func(what string, asOf time.Time, change func()) *etl.Result {
		t.Helper()
		return nightThen(what, asOf, change, func() {})
	}

	// October's first day of activity: October is new to every monthly
	// model; July to September are kept.
	inc := night("a new month", date(2026, 10, 15), func() {
		w.write("activity_2026-10.csv", "date,user_id,customer_reference,event,count\n2026-10-02,u1,E1,portal_view,3\n2026-10-02,u4,E2,download,1\n")
	})
	if inc.MonthsBuilt != monthly+reachNext || inc.MonthsKept != 3*monthly {
		t.Errorf("a new month: %d months built, %d kept; want %d built (October of each monthly model, %d months after it), %d kept",
			inc.MonthsBuilt, inc.MonthsKept, monthly+reachNext, reachNext, 3*monthly)
	}

	// The next night: a day more of October, as of a day later. Only
	// October is built again.
	inc = nightThen("the next day", date(2026, 10, 16), func() {
		w.write("activity_2026-10.csv", readFile(t, filepath.Join(in, "activity_2026-10.csv"))+"2026-10-15,u2,E1,share,2\n")
	}, func() {
		if parts := liveParts(t, w, "stg_user_days"); len(parts) != 2 {
			t.Errorf("the next day: stg_user_days reads %d parts (%v), want 2 (the months before October, kept; October)", len(parts), parts)
		}
	})
	if inc.MonthsBuilt != monthly+reachNext {
		t.Errorf("the next day: %d months built, want %d (October of each monthly model, %d months after it)", inc.MonthsBuilt, monthly+reachNext, reachNext)
	}
	// No new users snapshot: stg_user_keys and stg_users (as of the latest
	// snapshot, not of the day) are read as they were, at least.
	if inc.ModelsKept < 2 {
		t.Errorf("the next day: %d models kept whole, want the users models at least", inc.ModelsKept)
	}

	// Days later, no new activity: October's days elapsed (the
	// denominator of its mean daily users) grew, so October is built again.
	inc = night("days later", date(2026, 10, 20), func() {})
	if inc.MonthsBuilt == 0 {
		t.Error("days later: no month built, but the month to date has more days")
	}

	// A past day revised: July is built again, and the months that read
	// it (the features' "ever used" and milestones look back), not all.
	inc = night("a revised July day", date(2026, 10, 20), func() {
		w.write("activity_2026-07.csv", strings.Replace(readFile(t, filepath.Join(in, "activity_2026-07.csv")),
			"2026-07-03,u2,E1,download,1", "2026-07-02,u3,E1,share,2\n2026-07-03,u2,E1,download,4", 1))
	})
	if inc.MonthsKept == 0 || inc.MonthsBuilt >= 4*monthly {
		t.Errorf("a revised July day: %d months built, %d kept; want some kept", inc.MonthsBuilt, inc.MonthsKept)
	}

	// A customer moved to another salesperson in September's export.
	night("a customer moved", date(2026, 10, 20), func() {
		text := readFile(t, filepath.Join(in, "establishments_2026-09.csv"))
		if !strings.Contains(text, "Alice") {
			t.Fatal("fixture: no Alice in September")
		}
		w.write("establishments_2026-09.csv", strings.Replace(text, "Alice", "Bruno", 1))
	})

	// August's activity removed.
	night("a removed file", date(2026, 10, 20), func() {
		if err := os.Remove(filepath.Join(in, "activity_2026-08.csv")); err != nil {
			t.Fatal(err)
		}
	})

	// A new users snapshot: u2 archived, a user added. The users models
	// read it (and the earlier one, for "archived since"); the unchanged
	// nights before kept them.
	// Every month of the user-days is built again: the users' keys and
	// customers, which each month reads, are the new snapshot's (the
	// nights before, the months before October were kept). Their rows are
	// the same (u2's customer did not change, u99 has no activity): their
	// readers keep every month (@cutoff: content).
	var before []string
	nightThen("a new users snapshot", date(2026, 10, 20), func() {
		before = liveParts(t, w, "stg_active_user_days")
		text := readFile(t, filepath.Join(in, "users_2026-10-01.csv"))
		if !strings.Contains(text, "2026-07-03,,no") {
			t.Fatal("fixture: u2 is not as expected")
		}
		text = strings.Replace(text, "2026-07-03,,no", "2026-07-03,,yes", 1) + "u99,E1,zoe@alpha.example,2026-10-10,2026-10-12,,no\n"
		w.write("users_2026-10-18.csv", text)
	}, func() {
		if parts := liveParts(t, w, "stg_user_days"); len(parts) != 1 {
			t.Errorf("a new users snapshot: stg_user_days reads %d parts (%v), want 1, built this night", len(parts), parts)
		}
		if after := liveParts(t, w, "stg_active_user_days"); !subset(after, before) {
			t.Errorf("a new users snapshot: stg_active_user_days reads %v, want only parts of the night before %v", after, before)
		}
	})

	// The first of the month: September's last day is in, October has
	// ended for none, and November has no day yet.
	night("the first of November", date(2026, 11, 1), func() {
		w.write("activity_2026-10.csv", readFile(t, filepath.Join(in, "activity_2026-10.csv"))+"2026-10-31,u1,E1,download,1\n")
	})

	// A September row without its customer: u3's, E1 in the users export.
	night("activity without a customer", date(2026, 11, 2), func() {
		w.write("activity_2026-09.csv", readFile(t, filepath.Join(in, "activity_2026-09.csv"))+"2026-09-25,u3,,portal_view,4\n")
	})
	// u3 moves to E2: September's user-days change (that row is E2's now),
	// and their readers build September again (and the months reading it).
	nightThen("a user moves to another customer", date(2026, 11, 3), func() {
		before = liveParts(t, w, "stg_active_user_days")
		text := readFile(t, filepath.Join(in, "users_2026-10-18.csv"))
		if !strings.Contains(text, "u3,E1,") {
			t.Fatal("fixture: u3 is not as expected")
		}
		w.write("users_2026-11-02.csv", strings.Replace(text, "u3,E1,", "u3,E2,", 1))
	}, func() {
		if after := liveParts(t, w, "stg_active_user_days"); subset(after, before) {
			t.Errorf("a user moves to another customer: stg_active_user_days reads %v, only parts of the night before; want September built again", after)
		}
	})
}

// subset reports whether every element of a is in b.
func subset(a, b []string) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// TestAFailedRunLeavesTheLiveModelsAndTheirParts: a run that fails after
// building new parts (here at the shrink check, after the transform)
// leaves the live tables as they were; the next successful run publishes
// what a full refresh does, and drops every part no live model reads.
func TestAFailedRunLeavesTheLiveModelsAndTheirParts(t *testing.T) {
	w := newWorkspace(t, "")
	in := filepath.Join(w.dir, "input")
	first, err := w.run(etl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	before := published(t, w, first)
	parts := func() (tables, indexed int) {
		t.Helper()
		db := w.db()
		defer db.Close()
		if err := db.QueryRow(`SELECT (SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'parts' AND table_name NOT IN ('index', 'inputs', 'passed')),
			(SELECT count(DISTINCT part) FROM parts.index)`).Scan(&tables, &indexed); err != nil {
			t.Fatal(err)
		}
		return tables, indexed
	}
	tables, indexed := parts()
	if tables == 0 || tables != indexed {
		t.Fatalf("after the first run: %d parts, %d indexed; want every part indexed", tables, indexed)
	}
	// The same inputs: nothing new is built, nothing is left behind.
	if _, err := w.run(etl.Options{}); err != nil {
		t.Fatal(err)
	}
	if again, _ := parts(); again != tables {
		t.Errorf("a run with the same inputs: %d parts, want the %d of the first run", again, tables)
	}

	// August and September removed: the activity shrinks by more than
	// half, and the run fails after building September anew.
	for _, f := range []string{"activity_2026-08.csv", "activity_2026-09.csv"} {
		if err := os.Rename(filepath.Join(in, f), filepath.Join(w.dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	failed, err := w.run(etl.Options{})
	if err == nil || !strings.Contains(err.Error(), "shr") {
		t.Fatalf("want the shrink check to fail the run, got %v", err)
	}
	if failed.MonthsBuilt == 0 {
		t.Fatal("the failed run built no month: the test means little")
	}
	// Its parts are indexed all the same (the transform step writes the
	// index as it ends): the next run could read them.
	if tables, indexed := parts(); tables != indexed {
		t.Errorf("after a failed run: %d parts, %d indexed; want every part indexed", tables, indexed)
	}
	sameTables(t, "after a failed run", published(t, w, first), before)

	// Back as they were: the months the live tables have are kept.
	for _, f := range []string{"activity_2026-08.csv", "activity_2026-09.csv"} {
		if err := os.Rename(filepath.Join(w.dir, f), filepath.Join(in, f)); err != nil {
			t.Fatal(err)
		}
	}
	back, err := w.run(etl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if back.MonthsBuilt != 0 {
		t.Errorf("inputs back as the live tables had them: %d months built, want 0", back.MonthsBuilt)
	}
	sameTables(t, "back", published(t, w, back), before)
	if tables, indexed := parts(); tables != indexed {
		t.Errorf("after a successful run: %d parts, %d indexed; want every part indexed (the failed run's dropped)", tables, indexed)
	}
	full, err := w.run(etl.Options{FullRefresh: true})
	if err != nil {
		t.Fatal(err)
	}
	sameTables(t, "full refresh", published(t, w, full), before)
}

// TestAStoppedTransformIndexesItsParts: a run stopped while it builds the
// models indexes the parts it built all the same (the transform step writes
// the index as it ends), and the next run reads them rather than building
// them again.
func TestAStoppedTransformIndexesItsParts(t *testing.T) {
	w := newWorkspace(t, "")
	ctx, stop := context.WithCancelCause(context.Background())
	log := slog.New(&onMessage{Handler: discard().Handler(), msg: "built", f: func() { stop(errors.New("stopped by SIGTERM")) }})
	if _, err := w.runContext(ctx, etl.Options{Logger: log}); err == nil {
		t.Fatal("a run stopped during the transform succeeded")
	}
	var tables, indexed int
	w.scan(`SELECT (SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'parts' AND table_name NOT IN ('index', 'inputs', 'passed')),
		(SELECT count(DISTINCT part) FROM parts.index)`, &tables, &indexed)
	if tables < 2 || tables != indexed {
		t.Errorf("after a stop: %d parts, %d indexed; want the load's and the first model's, all indexed", tables, indexed)
	}
	next, err := w.run(etl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if next.ModelsKept+next.MonthsKept == 0 {
		t.Errorf("the run after the stop built every model again (%d months built), want the stopped run's first model read as it built it", next.MonthsBuilt)
	}
}

// copyWarehouse is a workspace on a copy of w's warehouse folder as it is
// now (same inputs and config).
func copyWarehouse(t *testing.T, w *workspace) *workspace {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "wh")
	if err := os.CopyFS(dst, os.DirFS(filepath.Dir(w.cfg.Warehouse))); err != nil {
		t.Fatal(err)
	}
	cfg := *w.cfg
	cfg.Warehouse = filepath.Join(dst, filepath.Base(w.cfg.Warehouse))
	return &workspace{t: t, dir: w.dir, cfg: &cfg}
}

// nightAgainstACopy runs a nightly run on w, and a full refresh on a copy
// of w's warehouse as it was before it, and compares what they publish:
// nightly runs then follow nightly runs, never a full refresh.
func nightAgainstACopy(t *testing.T, w *workspace, what string, asOf time.Time) map[string]string {
	t.Helper()
	return nightAgainstACopyLogged(t, w, what, asOf, discard())
}

// nightAgainstACopyLogged is nightAgainstACopy, the nightly run logging to log.
func nightAgainstACopyLogged(t *testing.T, w *workspace, what string, asOf time.Time, log *slog.Logger) map[string]string {
	t.Helper()
	c := copyWarehouse(t, w)
	inc, err := w.run(etl.Options{AsOf: asOf, AllowShrink: true, Logger: log})
	if err != nil {
		t.Fatalf("%s: nightly: %v", what, err)
	}
	full, err := c.run(etl.Options{AsOf: asOf, FullRefresh: true, AllowShrink: true})
	if err != nil {
		t.Fatalf("%s: full refresh: %v", what, err)
	}
	got := published(t, w, inc)
	sameTables(t, what, got, published(t, c, full))
	return got
}

// TestNightAfterNightMatchesAFullRefresh chains nightly runs (the as-of
// date back and forth, a month's export arriving then removed, the config's
// exclusions and usage events changed, a new first month, activity dated
// after the as-of date, a users snapshot, a revised past day, a snapshot
// that changes nothing, a user with customerless activity moved to another
// customer, a month of activity removed), each compared with a full refresh
// of the warehouse as it was before it.
func TestNightAfterNightMatchesAFullRefresh(t *testing.T) {
	w := newWorkspace(t, "")
	in := filepath.Join(w.dir, "input")
	if _, err := w.run(etl.Options{}); err != nil {
		t.Fatal(err)
	}
	const header = "date,user_id,customer_reference,event,count\n"
	var before map[string]string
	for _, n := range []struct {
		what   string
		asOf   time.Time
		change func()
		// customerMonthly, when set, is what the night does to
		// customer_monthly: "changes" it or leaves it the "same".
		customerMonthly string
	}{
		{"october's activity", date(2026, 10, 15), func() {
			w.write("activity_2026-10.csv", header+"2026-10-02,u1,E1,portal_view,3\n2026-10-02,u4,E2,download,1\n2026-10-20,u5,E3,portal_view,2\n")
		}, ""},
		{"as of a day of September", date(2026, 9, 20), func() {}, ""},
		{"as of October 16", date(2026, 10, 16), func() {}, ""},
		{"October's export", date(2026, 10, 16), func() {
			w.write("establishments_2026-10.csv", strings.Replace(readFile(t, filepath.Join(in, "establishments_2026-09.csv")), "Alice", "Carol", 2))
		}, ""},
		{"E2 excluded", date(2026, 10, 16), func() { w.cfg.Exclude.Customers = []string{"E2"} }, ""},
		{"portal views the only usage event", date(2026, 10, 16), func() { w.cfg.KPI.UsageEvents = []string{"portal_view"} }, ""},
		{"a new first month", date(2026, 10, 16), func() {
			w.write("establishments_2026-06.csv", readFile(t, filepath.Join(in, "establishments_2026-07.csv")))
		}, ""},
		{"the first of November", date(2026, 11, 1), func() {}, ""},
		{"the second of November", date(2026, 11, 2), func() {
			w.write("activity_2026-11.csv", header+"2026-11-01,u1,E1,portal_view,3\n")
		}, ""},
		{"activity after the as-of date", date(2026, 11, 2), func() {
			w.write("activity_2026-12.csv", header+"2026-12-01,u1,E1,portal_view,3\n2026-11-05,u2,E1,share,1\n")
		}, ""},
		{"a users snapshot", date(2026, 11, 2), func() {
			text := readFile(t, filepath.Join(in, "users_2026-10-01.csv"))
			w.write("users_2026-11-01.csv", strings.Replace(text, "2026-07-03,,no", "2026-07-03,2026-08-10,no", 1))
		}, ""},
		// These three say what they do to customer_monthly (each night must
		// test something): u6's row without a customer goes to its customer
		// in the users export, E4 (an active user more in October), then to
		// E1 once a snapshot moves u6 there; a snapshot like the one before
		// changes nothing.
		{"a past day revised, with a row without its customer", date(2026, 11, 2), func() {
			w.write("activity_2026-10.csv", header+"2026-10-02,u1,E1,portal_view,5\n2026-10-02,u4,E2,download,1\n2026-10-03,u6,,portal_view,2\n2026-10-20,u5,E3,portal_view,2\n")
		}, "changes"},
		{"the same users, a day later", date(2026, 11, 2), func() {
			w.write("users_2026-11-02.csv", readFile(t, filepath.Join(in, "users_2026-11-01.csv")))
		}, "same"},
		{"that user moved to another customer", date(2026, 11, 2), func() {
			text := readFile(t, filepath.Join(in, "users_2026-11-02.csv"))
			w.write("users_2026-11-02.csv", strings.Replace(text, "u6,E4,", "u6,E1,", 1))
		}, "changes"},
		{"September's activity removed", date(2026, 11, 2), func() {
			if err := os.Remove(filepath.Join(in, "activity_2026-09.csv")); err != nil {
				t.Fatal(err)
			}
		}, ""},
		{"October's export removed", date(2026, 11, 2), func() {
			if err := os.Remove(filepath.Join(in, "establishments_2026-10.csv")); err != nil {
				t.Fatal(err)
			}
		}, ""},
	} {
		n.change()
		after := nightAgainstACopy(t, w, n.what, n.asOf)
		if same := after["customer_monthly"] == before["customer_monthly"]; n.customerMonthly != "" && same != (n.customerMonthly == "same") {
			t.Errorf("%s: customer_monthly the same as the night before: %v, want %s", n.what, same, n.customerMonthly)
		}
		before = after
	}
}

// TestTheUsersTableIsReadFromItsPartOnlyWhenTheLoadWouldMakeIt: raw_users
// (this run's snapshots and the live table's history, compacted) is read
// from the live table's part only when the same files and the as-of date
// would make the same rows: a snapshot dated after the as-of date, or an
// older part still in the warehouse (the users files back to an earlier
// set), is not read.
func TestTheUsersTableIsReadFromItsPartOnlyWhenTheLoadWouldMakeIt(t *testing.T) {
	t.Run("a snapshot after the as-of date", func(t *testing.T) {
		w := newWorkspace(t, "")
		in := filepath.Join(w.dir, "input")
		w.write("users_2026-10-20.csv", readFile(t, filepath.Join(in, "users_2026-10-01.csv")))
		if _, err := w.run(etl.Options{AsOf: date(2026, 10, 15)}); err != nil {
			t.Fatal(err)
		}
		nightAgainstACopy(t, w, "same files, same date", date(2026, 10, 15))
		nightAgainstACopy(t, w, "same files, after the snapshot", date(2026, 10, 25))
		nightAgainstACopy(t, w, "same files, before it again", date(2026, 10, 16))
	})
	t.Run("an older part left behind", func(t *testing.T) {
		w := newWorkspace(t, "")
		in := filepath.Join(w.dir, "input")
		asOf := date(2026, 10, 20)
		if _, err := w.run(etl.Options{AsOf: asOf}); err != nil {
			t.Fatal(err)
		}
		// The first run's users part and its index row, kept aside.
		exec := func(qs ...string) {
			t.Helper()
			db, err := sql.Open("duckdb", w.cfg.Warehouse)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			db.SetMaxOpenConns(1)
			for _, q := range qs {
				if _, err := db.Exec(q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
		}
		exec(`CREATE TABLE saved_index AS SELECT * FROM parts.index WHERE model = 'raw_users'`)
		db := w.db()
		var part string
		if err := db.QueryRow(`SELECT part FROM saved_index`).Scan(&part); err != nil {
			t.Fatal(err)
		}
		db.Close()
		exec(`CREATE TABLE saved_part AS SELECT * FROM parts.` + part)
		// A new snapshot: u2 deactivated on September 10.
		text := readFile(t, filepath.Join(in, "users_2026-10-01.csv"))
		w.write("users_2026-10-18.csv", strings.Replace(text, "2026-07-03,,no", "2026-07-03,2026-09-10,no", 1))
		if _, err := w.run(etl.Options{AsOf: asOf}); err != nil {
			t.Fatal(err)
		}
		// As if that run had stopped before dropping the first run's part.
		exec(`CREATE TABLE parts.`+part+` AS SELECT * FROM saved_part`, `INSERT INTO parts.index SELECT * FROM saved_index`,
			`DROP TABLE saved_part`, `DROP TABLE saved_index`)
		// The platform removed the October 18 file: the history keeps it.
		if err := os.Remove(filepath.Join(in, "users_2026-10-18.csv")); err != nil {
			t.Fatal(err)
		}
		nightAgainstACopy(t, w, "the users files back to the first run's", asOf)
	})
}

// TestAUsersSnapshotBuildsItsMonthOnly: raw_users is a part a month; a new
// snapshot builds its month's part, and the other months are read where an
// earlier run built them (a year of monthly snapshots is not copied again
// each time one arrives); a run with the same files builds none. Each run
// publishes what a full refresh does.
func TestAUsersSnapshotBuildsItsMonthOnly(t *testing.T) {
	w := newWorkspace(t, "")
	in := filepath.Join(w.dir, "input")
	users := readFile(t, filepath.Join(in, "users_2026-10-01.csv"))
	// September's snapshot, before u12 was created.
	w.write("users_2026-09-01.csv", strings.Replace(users, "u12,E1,kim@alpha.example,2026-09-20,2026-09-22,,no\n", "", 1))
	asOf := date(2026, 10, 20)
	if _, err := w.run(etl.Options{AsOf: asOf}); err != nil {
		t.Fatal(err)
	}
	first := liveParts(t, w, "raw_users")
	if len(first) != 2 {
		t.Fatalf("raw_users reads %v, want a part for September and one for October", first)
	}
	// October 18: u2 deactivated on September 10.
	w.write("users_2026-10-18.csv", strings.Replace(users, "2026-07-03,,no", "2026-07-03,2026-09-10,no", 1))
	nightAgainstACopy(t, w, "a snapshot in October", asOf)
	second := liveParts(t, w, "raw_users")
	kept := 0
	for _, p := range second {
		if slices.Contains(first, p) {
			kept++
		}
	}
	if len(second) != 2 || kept != 1 {
		t.Errorf("after October's snapshot raw_users reads %v, want September's part of %v and a new one", second, first)
	}
	nightAgainstACopy(t, w, "the same files", asOf)
	if third := liveParts(t, w, "raw_users"); !slices.Equal(third, second) {
		t.Errorf("the same files: raw_users reads %v, want %v as before", third, second)
	}
	var u2 string
	w.scan(`SELECT u.deactivated_at::VARCHAR FROM stg_users u JOIN stg_user_keys k USING (user_key) WHERE k.user_id = 'u2'`, &u2)
	if u2 != "2026-09-10" {
		t.Errorf("u2 deactivated at %q, want 2026-09-10 (October 18's snapshot)", u2)
	}
}

// TestUsersHistorySurvivesARunWithoutUsers: a run whose config reads no
// users export carries the users history over as a table of its own (no
// parts); the next run with users files reads that table as the history:
// October 1's snapshot, whose file is gone, still says when u3 went.
func TestUsersHistorySurvivesARunWithoutUsers(t *testing.T) {
	w := newWorkspace(t, "")
	in := filepath.Join(w.dir, "input")
	if _, err := w.run(etl.Options{}); err != nil {
		t.Fatal(err)
	}
	withUsers := w.cfg
	w.setSources(w.kpiSource(false))
	if _, err := w.run(etl.Options{}); err != nil {
		t.Fatal(err)
	}
	w.cfg = withUsers
	users := readFile(t, filepath.Join(in, "users_2026-10-01.csv"))
	if err := os.Remove(filepath.Join(in, "users_2026-10-01.csv")); err != nil {
		t.Fatal(err)
	}
	w.write("users_2026-10-10.csv", strings.Replace(users, "u3,E1,cat@alpha.example,2026-08-10,2026-08-12,,no\n", "", 1))
	nightAgainstACopy(t, w, "users files again", date(2026, 10, 15))
	var u3 string
	w.scan(`SELECT u.deactivated_at::VARCHAR FROM stg_users u JOIN stg_user_keys k USING (user_key) WHERE k.user_id = 'u3'`, &u3)
	if u3 != "2026-10-10" {
		t.Errorf("u3 deactivated at %q, want 2026-10-10 (the first snapshot without it)", u3)
	}
}

// TestUsersHistoryAfterAFailedRun: a run that fails after the load leaves
// a users part under the key of a live one (October, with a snapshot after
// the as-of date, is built again at each run, under the same key); the
// next night still reads every live part, September's history (its file
// removed) included, and publishes what a full refresh does.
func TestUsersHistoryAfterAFailedRun(t *testing.T) {
	w := newWorkspace(t, "")
	in := filepath.Join(w.dir, "input")
	users := readFile(t, filepath.Join(in, "users_2026-10-01.csv"))
	w.write("users_2026-09-01.csv", strings.Replace(users, "u12,E1,kim@alpha.example,2026-09-20,2026-09-22,,no\n", "", 1))
	w.write("users_2026-10-20.csv", users)
	asOf := date(2026, 10, 15)
	w.mustRun(asOf)
	if err := os.Remove(filepath.Join(in, "users_2026-09-01.csv")); err != nil {
		t.Fatal(err)
	}
	w.mustRun(asOf)
	var september int
	w.scan(`SELECT count(*) FROM raw_users WHERE snapshot_date = '2026-09-01'`, &september)
	if september != 11 {
		t.Fatalf("September's history: %d rows, want 11", september)
	}
	septemberPart := func() string {
		var part string
		w.scan(`SELECT string_agg(part, ' ') FROM parts.index WHERE model = 'raw_users' AND month = '2026-09-01'`, &part)
		return part
	}
	kept := septemberPart()
	// August and September's activity moved away: the shrink check fails
	// the run after the load.
	for _, f := range []string{"activity_2026-08.csv", "activity_2026-09.csv"} {
		if err := os.Rename(filepath.Join(in, f), filepath.Join(w.dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.run(etl.Options{AsOf: asOf}); err == nil || !strings.Contains(err.Error(), "shr") {
		t.Fatalf("want the shrink check to fail the run, got %v", err)
	}
	for _, f := range []string{"activity_2026-08.csv", "activity_2026-09.csv"} {
		if err := os.Rename(filepath.Join(w.dir, f), filepath.Join(in, f)); err != nil {
			t.Fatal(err)
		}
	}
	nightAgainstACopy(t, w, "after a failed run", asOf)
	w.scan(`SELECT count(*) FROM raw_users WHERE snapshot_date = '2026-09-01'`, &september)
	if september != 11 {
		t.Errorf("after a failed run, September's history: %d rows, want 11", september)
	}
	if got := septemberPart(); got != kept {
		t.Errorf("after a failed run, September's part is %q, want %q as before (read as it was)", got, kept)
	}
}

// TestTwoUsersExportsListingAUserOnOneDate: two sources list u6 on October
// 1 with two customers. One row wins by its content, whatever the order the
// sources come in the config (which orders the rows of raw_users' part):
// the two orders publish the same tables, and stg_user_keys and stg_users
// take the same row.
func TestTwoUsersExportsListingAUserOnOneDate(t *testing.T) {
	partner := t.TempDir()
	if err := os.WriteFile(filepath.Join(partner, "users_2026-10-01.csv"),
		[]byte("user_id,customer_reference,email,created,first_login,deactivated,archived\nu6,E1,fay@delta.example,2026-05-01,2026-07-10,,yes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(partner, "establishments_2026-09.csv"),
		[]byte("reference,name,archived,has_portal_access\nP1,Partner,no,yes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	partnerYAML := "  - name: partner\n    kind: csvexport\n    establishments: {path: " + partner + "/establishments_*.csv}\n" +
		"    users: {path: " + partner + "/users_*.csv}\n"
	var tables []map[string]string
	for _, partnerFirst := range []bool{false, true} {
		w := newWorkspace(t, partnerYAML)
		if partnerFirst {
			w.setSources(partnerYAML + w.kpiSource(true))
		}
		res, err := w.run(etl.Options{})
		if err != nil {
			t.Fatal(err)
		}
		tables = append(tables, published(t, w, res))
		var keys, users string
		w.scan(`SELECT (SELECT customer_ref FROM stg_user_keys WHERE user_id = 'u6'), (SELECT u.customer_ref FROM stg_users u JOIN stg_user_keys k USING (user_key) WHERE k.user_id = 'u6')`, &keys, &users)
		if keys != users || keys != "E1" && keys != "E4" {
			t.Errorf("partner first %v: u6 with %q in stg_user_keys and %q in stg_users; want one of E1 and E4 in both", partnerFirst, keys, users)
		}
	}
	sameTables(t, "the partner's source first", tables[1], tables[0])
}

// inMonthOrder fails when the published customer_monthly CSV is not in its
// model's order (month, then customer_ref), as it is once its months come
// from several parts.
func inMonthOrder(t *testing.T, what, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 3 || rows[0][0] != "month" || rows[0][1] != "customer_ref" {
		t.Fatalf("%s: %s: %d rows, header %v", what, path, len(rows), rows[0])
	}
	for i := 2; i < len(rows); i++ {
		prev, row := rows[i-1][0]+"|"+rows[i-1][1], rows[i][0]+"|"+rows[i][1]
		if row < prev {
			t.Errorf("%s: customer_monthly.csv line %d (%s) comes after %s: not in month and customer order", what, i+1, row, prev)
			return
		}
	}
}

// TestTheDailyWindowsReadTwoMonthsBack: a day's 30-day window can reach two
// months back (March 1st's starts on January 31st, February having 28
// days), so a nightly run that builds March alone must read January's
// active days too.
func TestTheDailyWindowsReadTwoMonthsBack(t *testing.T) {
	w := emptyWorkspace(t)
	const header = "reference,name,archived,has_portal_access,portal views,downloads,shares,salesperson,seats\n"
	w.write("establishments_2026-01.csv", header+"E1,Alpha,no,yes,1,0,0,Alice,4\n")
	w.write("establishments_2026-02.csv", header+"E1,Alpha,no,yes,0,0,0,Alice,4\n")
	w.write("users_2026-03-01.csv", "user_id,customer_reference,email,created,first_login,deactivated,archived\n"+
		"u1,E1,ann@alpha.example,2026-01-01,2026-01-31,,no\nu2,E1,ben@alpha.example,2026-01-01,2026-03-03,,no\n")
	// u1 is active on January 31st only; u2 on March 3rd, the day the
	// nightly run adds.
	w.write("activity_2026-01.csv", "date,user_id,customer_reference,event,count\n2026-01-31,u1,E1,portal_view,1\n")
	if _, err := w.run(etl.Options{AsOf: date(2026, 3, 3)}); err != nil {
		t.Fatal(err)
	}
	w.write("activity_2026-03.csv", "date,user_id,customer_reference,event,count\n2026-03-03,u2,E1,portal_view,1\n")
	inc, err := w.run(etl.Options{AsOf: date(2026, 3, 4)})
	if err != nil {
		t.Fatal(err)
	}
	if inc.MonthsKept == 0 {
		t.Fatalf("the nightly run kept no month: it does not test a month built alone")
	}
	// Worked out by hand: u1's 30-day window runs from January 31st to
	// March 1st (mau 1 that day) and ends March 2nd (mau 0); u2 is in it
	// from March 3rd. The 7-day window of u1 ended February 7th.
	want := map[string]string{
		"2026-03-01": "dau 0, wau 0, mau 1",
		"2026-03-02": "dau 0, wau 0, mau 0",
		"2026-03-03": "dau 1, wau 1, mau 1",
	}
	db := w.db()
	defer db.Close()
	rows, err := db.Query(`SELECT strftime(day, '%Y-%m-%d'), format('dau {}, wau {}, mau {}', dau, wau, mau) FROM main.kpi_daily WHERE day >= DATE '2026-03-01'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]string{}
	for rows.Next() {
		var day, figures string
		if err := rows.Scan(&day, &figures); err != nil {
			t.Fatal(err)
		}
		got[day] = figures
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("kpi_daily in March after the nightly run:\n%v\nwant\n%v", got, want)
	}
}

// TestKPIDailyKeepsAMonthWithoutDataYet: a month with no activity whose
// establishments export has not arrived yet (its grace days) is not a
// reported month, but kpi_daily still lists its days from the first to the
// last active day, the windows running down, in a nightly run as in a full
// refresh.
func TestKPIDailyKeepsAMonthWithoutDataYet(t *testing.T) {
	w := emptyWorkspace(t)
	w.write("establishments_2026-01.csv", "reference,name,archived,has_portal_access,portal views,downloads,shares,salesperson,seats\nE1,Alpha,no,yes,1,0,0,Alice,4\n")
	w.write("users_2026-03-01.csv", "user_id,customer_reference,email,created,first_login,deactivated,archived\n"+
		"u1,E1,ann@alpha.example,2026-01-01,2026-01-20,,no\nu2,E1,ben@alpha.example,2026-01-01,2026-03-05,,no\n")
	w.write("activity_2026-01.csv", "date,user_id,customer_reference,event,count\n2026-01-20,u1,E1,portal_view,1\n")
	asOf := date(2026, 3, 6) // February's export may still come (expect_by_day)
	if _, err := w.run(etl.Options{AsOf: asOf}); err != nil {
		t.Fatal(err)
	}
	// The nightly run: March 5th's activity arrives.
	w.write("activity_2026-03.csv", "date,user_id,customer_reference,event,count\n2026-03-05,u2,E1,portal_view,1\n")
	inc, err := w.run(etl.Options{AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	if inc.MonthsKept == 0 {
		t.Fatal("the nightly run kept no month")
	}
	incDaily := kpiDaily(t, w)
	if _, err := w.run(etl.Options{AsOf: asOf, FullRefresh: true}); err != nil {
		t.Fatal(err)
	}
	if full := kpiDaily(t, w); full != incDaily {
		t.Errorf("kpi_daily: nightly\n%s\nfull refresh\n%s", incDaily, full)
	}
	// Worked out by hand: January 20th to March 5th is 45 days. u1's 7-day
	// window covers January 20th to 26th, its 30-day window January 20th to
	// February 18th; u2 is in both from March 5th.
	var days, february int
	var feb18, feb19, mar5 string
	db := w.db()
	defer db.Close()
	if err := db.QueryRow(`SELECT count(*), count(*) FILTER (WHERE month = DATE '2026-02-01'),
			any_value(format('dau {}, wau {}, mau {}', dau, wau, mau)) FILTER (WHERE day = DATE '2026-02-18'),
			any_value(format('dau {}, wau {}, mau {}', dau, wau, mau)) FILTER (WHERE day = DATE '2026-02-19'),
			any_value(format('dau {}, wau {}, mau {}', dau, wau, mau)) FILTER (WHERE day = DATE '2026-03-05')
		FROM main.kpi_daily`).Scan(&days, &february, &feb18, &feb19, &mar5); err != nil {
		t.Fatal(err)
	}
	if days != 45 || february != 28 || feb18 != "dau 0, wau 0, mau 1" || feb19 != "dau 0, wau 0, mau 0" || mar5 != "dau 1, wau 1, mau 1" {
		t.Errorf("kpi_daily: %d days, %d in February; Feb 18 %s, Feb 19 %s, Mar 5 %s; want 45, 28, mau 1, mau 0, dau 1 wau 1 mau 1",
			days, february, feb18, feb19, mar5)
	}
}

// kpiDaily lists the published kpi_daily, a day a line.
func kpiDaily(t *testing.T, w *workspace) string {
	t.Helper()
	db := w.db()
	defer db.Close()
	var s string
	if err := db.QueryRow(`SELECT string_agg(format('{} {} {} {} {}', day, dau, wau, mau, dau_mau), e'\n' ORDER BY day) FROM main.kpi_daily`).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// emptyWorkspace is a workspace whose input folder holds no file yet.
func emptyWorkspace(t *testing.T) *workspace {
	t.Helper()
	w := newWorkspace(t, "")
	files, err := filepath.Glob(filepath.Join(w.dir, "input", "*.csv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// liveParts names the parts the live view of model reads.
func liveParts(t *testing.T, w *workspace, model string) []string {
	t.Helper()
	var text string
	w.scan(`SELECT v.sql FROM duckdb_views() v JOIN main.state s ON s.key = 'live_schema' AND v.schema_name = s.value
		WHERE v.view_name = '`+model+`'`, &text)
	parts := regexp.MustCompile(`parts\.(\w+)`).FindAllStringSubmatch(text, -1)
	var names []string
	for _, p := range parts {
		if !slices.Contains(names, p[1]) {
			names = append(names, p[1])
		}
	}
	return names
}

// TestDailyUsersExportsBuildOnTheMonthsPart: a platform that exports its
// users every day leaves a file a day; each night builds the month's part
// from the live one and the new file, not from every file of the month,
// and publishes what a full refresh does. A month is built from its files
// when that would give other rows: a file of the live part gone, a new
// file of a period whose rows the live part keeps from a file gone (those
// rows must go), a period after the as-of date.
func TestDailyUsersExportsBuildOnTheMonthsPart(t *testing.T) {
	w := newWorkspace(t, "")
	in := filepath.Join(w.dir, "input")
	users := readFile(t, filepath.Join(in, "users_2026-10-01.csv"))
	asOf := date(2026, 10, 20)
	w.mustRun(asOf)
	u3ToE2 := replaced(t, users, "u3,E1,", "u3,E2,")
	u5ToE1 := replaced(t, u3ToE2, "u5,E3,", "u5,E1,")
	const u3, u5 = "u3,E1,cat@alpha.example,2026-08-10,2026-08-12,,no\n", "u5,E3,eve@gamma.example,2026-08-01,2026-08-12,,no\n"
	tenth := replaced(t, replaced(t, users, u5, ""), "u3,E1,", "u3,E6,")
	later := replaced(t, replaced(t, users, u5, ""), u3, "")
	for _, n := range []struct {
		what   string
		asOf   time.Time
		change func()
		how    string // what the load did with October: "extended" or "built"
	}{
		{"October 5's snapshot: u3 moved to E2", asOf, func() { w.write("users_2026-10-05.csv", u3ToE2) }, "extended"},
		{"October 10's: u3 with E6, u5 no longer listed", asOf, func() { w.write("users_2026-10-10.csv", tenth) }, "extended"},
		{"October 5's file removed", asOf, func() {
			if err := os.Remove(filepath.Join(in, "users_2026-10-05.csv")); err != nil {
				t.Fatal(err)
			}
		}, "built"},
		// The live part keeps u5's row of October 5 (lent), which the new
		// file of that date replaces: u5 is with E1 from it.
		{"October 5's again, u5 with E1", asOf, func() { w.write("users_2026-10-05.csv", u5ToE1) }, "built"},
		// As of October 7, u3 is with E2 (October 5's row, which the live
		// part no longer has: October 10's replaced it).
		{"October 12's, as of October 7", date(2026, 10, 7), func() { w.write("users_2026-10-12.csv", later) }, "built"},
		{"October 15's, as of October 20", asOf, func() { w.write("users_2026-10-15.csv", later) }, "extended"},
		{"October 16's", asOf, func() { w.write("users_2026-10-16.csv", later) }, "extended"},
	} {
		n.change()
		var logs bytes.Buffer
		nightAgainstACopyLogged(t, w, n.what, n.asOf, slog.New(slog.NewTextHandler(&logs, nil)))
		if got := octoberLoad(t, logs.String()); got != n.how {
			t.Errorf("%s: October's users were %s, want %s", n.what, got, n.how)
		}
		var u5Rows int
		w.scan(`SELECT count(*) FROM raw_users WHERE user_id = 'u5' AND snapshot_date >= '2026-10-01'`, &u5Rows)
		if u5Rows != 1 {
			t.Errorf("%s: u5 has %d rows in October, want its latest alone", n.what, u5Rows)
		}
	}
	var customer string
	w.scan(`SELECT u.customer_ref FROM stg_users u JOIN stg_user_keys k USING (user_key) WHERE k.user_id = 'u5'`, &customer)
	if customer != "E1" {
		t.Errorf("u5 is with %q, want E1 (October 5's file as it came again)", customer)
	}
}

// octoberLoad says what a run's log says the load did with raw_users'
// October: "extended", "built" or "kept".
func octoberLoad(t *testing.T, logs string) string {
	t.Helper()
	m := regexp.MustCompile(`msg=loaded .*table=raw_users .*months_built=(\d+) months_extended=(\d+)`).FindStringSubmatch(logs)
	switch {
	case m == nil:
		t.Fatalf("no raw_users line in the log:\n%s", logs)
	case m[2] == "1":
		return "extended"
	case m[1] == "1":
		return "built"
	}
	return "kept"
}

// replaced is s with its one old replaced by new; the test fails when s
// has no old (a fixture that changed under the test).
func replaced(t *testing.T, s, old, new string) string {
	t.Helper()
	if !strings.Contains(s, old) {
		t.Fatalf("no %q in the fixture", old)
	}
	return strings.Replace(s, old, new, 1)
}

// TestAUsersSnapshotStoresOnlyTheMonthsItChanges: a users snapshot makes
// the models cut off by content (@cutoff) build every month again, but only
// the months that come out otherwise are stored: a new user without
// activity changes no month of the user-days, which read their earlier
// part; a user of the activity that joins the export changes the month of
// its activity (August), the only month of the new part.
func TestAUsersSnapshotStoresOnlyTheMonthsItChanges(t *testing.T) {
	w := newWorkspace(t, "")
	in := filepath.Join(w.dir, "input")
	users := readFile(t, filepath.Join(in, "users_2026-10-01.csv"))
	const u11 = "u11,E6,qa@uptake-demo.internal,2026-08-05,2026-08-25,,no\n"
	const u99 = "u99,E1,new@alpha.example,2026-10-10,,,no\n"
	if !strings.Contains(users, u11) {
		t.Fatal("fixture: no u11 in the users export")
	}
	w.write("users_2026-10-01.csv", strings.Replace(users, u11, "", 1))
	asOf := date(2026, 10, 20)
	if _, err := w.run(etl.Options{AsOf: asOf}); err != nil {
		t.Fatal(err)
	}
	first := liveParts(t, w, "stg_user_days")
	if len(first) != 1 {
		t.Fatalf("stg_user_days reads %v, want one part", first)
	}

	w.write("users_2026-10-18.csv", strings.Replace(users, u11, "", 1)+u99)
	nightAgainstACopy(t, w, "a new user without activity", asOf)
	if got := liveParts(t, w, "stg_user_days"); !slices.Equal(got, first) {
		t.Errorf("a new user without activity: stg_user_days reads %v, want %v as before", got, first)
	}

	w.write("users_2026-10-19.csv", users+u99)
	nightAgainstACopy(t, w, "u11 joins the export", asOf)
	got := liveParts(t, w, "stg_user_days")
	if len(got) != 2 || !slices.Contains(got, first[0]) {
		t.Fatalf("u11 joins the export: stg_user_days reads %v, want %v and a new part", got, first)
	}
	added := got[0]
	if added == first[0] {
		added = got[1]
	}
	var months string
	w.scan(`SELECT string_agg(DISTINCT strftime(month, '%Y-%m'), ',') FROM parts.index WHERE part = '`+added+`'`, &months)
	if months != "2026-08" {
		t.Errorf("u11 joins the export: the new part holds %s, want August alone", months)
	}
}
