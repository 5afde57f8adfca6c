package etl_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/uptake-dev/uptake/etl"
	uptakesql "github.com/uptake-dev/uptake/sql"
	"github.com/uptake-dev/uptake/sql/sqltest"
)

// TestUserKeysAreStableAndCollisionsFail: a user's key is the same whatever
// the other users (a hash of its id, not a position), and the data test
// catches two ids that would share a key.
func TestUserKeysAreStableAndCollisionsFail(t *testing.T) {
	db := sqltest.DB(t)
	keys := sqltest.Named(t, uptakesql.Models, "stg_user_keys").SQL
	rawUsers := sqltest.Named(t, uptakesql.Contract, "raw_users")
	for _, q := range []string{
		"SET VARIABLE as_of = DATE '2026-10-01'",
		"SET VARIABLE users_as_of = DATE '2026-10-01'",
		"SET VARIABLE exclude_email_domains = []::VARCHAR[]",
		"SET VARIABLE exclude_customers = []::VARCHAR[]",
		rawUsers.SQL,
		"INSERT INTO raw_users (user_id, customer_ref, email_domain, snapshot_date) VALUES ('u1', 'C1', 'a.example', DATE '2026-09-01'), ('u2', 'C1', 'a.example', DATE '2026-09-01')",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	keyOf := func(id string) int64 {
		t.Helper()
		var k int64
		if err := db.QueryRow("SELECT user_key FROM ("+keys+") WHERE user_id = ?", id).Scan(&k); err != nil {
			t.Fatal(err)
		}
		return k
	}
	before := keyOf("u2")
	// Another user, sorted before u2: u2's key does not move.
	if _, err := db.Exec("INSERT INTO raw_users (user_id, customer_ref, email_domain, snapshot_date) VALUES ('u0', 'C2', 'b.example', DATE '2026-09-01')"); err != nil {
		t.Fatal(err)
	}
	if after := keyOf("u2"); after != before || before < 0 {
		t.Errorf("u2's key moved from %d to %d when another user came (or is negative)", before, after)
	}

	unique := sqltest.Named(t, uptakesql.Tests, "test_user_keys_unique").SQL
	// A hand-made collision: two ids with one key is one offending row.
	if _, err := db.Exec("CREATE TABLE stg_user_keys AS SELECT * FROM (VALUES ('u1', 7), ('u2', 7), ('u3', 8)) t(user_id, user_key)"); err != nil {
		t.Fatal(err)
	}
	var key, ids int64
	var id string
	if err := db.QueryRow(unique).Scan(&key, &ids, &id); err != nil || key != 7 || ids != 2 || id != "u1" {
		t.Errorf("collision test = key %d, %d ids (%s), %v; want key 7 shared by 2 ids, u1 first", key, ids, id, err)
	}
}

// TestADataTestOnTheSameInputsIsNotRunAgain: the data test of the users'
// keys reads stg_user_keys alone; a night whose users are the same keeps
// its earlier pass, a night with another users snapshot runs it again, and
// so does --full-refresh.
func TestADataTestOnTheSameInputsIsNotRunAgain(t *testing.T) {
	w := newWorkspace(t, "")
	asOf := date(2026, 10, 20)
	keptTests := func(what string, opt etl.Options) map[string]bool {
		t.Helper()
		var logs bytes.Buffer
		opt.AsOf, opt.AllowShrink = asOf, true
		opt.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		if _, err := w.run(opt); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		kept := map[string]bool{}
		for _, m := range regexp.MustCompile(`msg="kept data test" .*test=(\w+)`).FindAllStringSubmatch(logs.String(), -1) {
			kept[m[1]] = true
		}
		n := regexp.MustCompile(`msg="step done" .*step=test .*tests_kept=(\d+)`).FindStringSubmatch(logs.String())
		if n == nil || n[1] != fmt.Sprint(len(kept)) {
			t.Errorf("%s: the test step's tests_kept (%v) is not the %d tests it kept", what, n, len(kept))
		}
		return kept
	}
	const test = "test_user_keys_unique"
	if kept := keptTests("first run", etl.Options{}); len(kept) > 0 {
		t.Errorf("first run: kept %v, want every test run", kept)
	}
	if kept := keptTests("the same inputs", etl.Options{}); !kept[test] {
		t.Errorf("the same inputs: kept %v, want %s among them", kept, test)
	}
	users := readFile(t, filepath.Join(w.dir, "input", "users_2026-10-01.csv"))
	w.write("users_2026-10-10.csv", users+"u99,E1,new@alpha.example,2026-10-09,,,no\n")
	if kept := keptTests("another users snapshot", etl.Options{}); kept[test] {
		t.Errorf("another users snapshot: %s kept, want it run on the new users", test)
	}
	if kept := keptTests("the same again", etl.Options{}); !kept[test] {
		t.Errorf("the same again: kept %v, want %s among them", kept, test)
	}
	if kept := keptTests("full refresh", etl.Options{FullRefresh: true}); len(kept) > 0 {
		t.Errorf("full refresh: kept %v, want every test run", kept)
	}
}
