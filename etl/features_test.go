package etl_test

// The hand-computed feature adoption fixture: testdata/features (5
// establishments, 2 salespeople, 3 months, run as of 2026-09-16 so that
// September is the month to date). Every expected value below is worked out
// by hand from the input files; the comments show the arithmetic.
//
// Features (kpi.features, bits in config order):
//
//	bit 1 search  [search]                        min_uses 1
//	bit 2 quotes  [quote_request, quote_accept]   min_uses 3
//	bit 4 reorder [reorder]                       min_uses 1
//	milestone_events: quote_request, reorder
//
// Establishments (Jul export; Aug export; September carries August forward):
//
//	ref salesperson | Jul                          | Aug, Sep
//	C1  Alice       | activated, 3 portal views    | activated
//	C2  Alice       | activated                    | activated
//	C3  Alice       | no portal access             | activated
//	C4  Bob         | no portal access, no counts  | activated
//	C5  Bob         | no portal access, 2 views    | activated
//
// Activity (user level, csvexport; u7 is internal, excluded; C3's quote_accept
// comes from the GA4 Data API fake, customer level):
//
//	    | Jul                                   | Aug                              | Sep (days before Sep 16)
//	C1  | search 2, quote_request 1,            | quote_request 2, quote_accept 1, | reorder 1, quote_request 1
//	    | quote_accept 1 (u7: reorder 5)        | login 1                          | (search 1 on Sep 16: not counted)
//	C2  | quote_request 3, reorder 1            | search 1                         | search 1, quote_request 1, quote_accept 2, reorder 1
//	C3  | search 5                              | search 1, reorder 2              | quote_request 1 + GA4 quote_accept 2
//	C4  | -                                     | login 3                          | -
//	C5  | -                                     | search 4 (row without customer:  | login 1
//	    |                                       | u6's, C5, from the users export) |

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/uptake-dev/uptake/connectors/ga4/ga4fake"
)

// runFeatures runs testdata/features as of asOf, with a GA4 Data API source
// (a fake) adding customer-level activity, and returns the warehouse.
func runFeatures(t *testing.T, asOf time.Time) *sql.DB {
	t.Helper()
	fake := ga4fake.New(t)
	fake.AddEvents("7", ga4fake.Event{Date: "20260909", Name: "quote_accept",
		Dims: map[string]string{"customUser:customer_ref": "C3"}, Users: []string{"g-c3"}, Count: 2})
	ga4 := `  - name: shop
    kind: ga4
    property_id: "7"
    customer_dimension: customUser:customer_ref
    usage_events: [quote_accept]
    purchase_event: none
    start_date: 2026-09-01
    endpoint: ` + fake.URL() + "\n"
	db, _, _ := runFixtureWith(t, "features", asOf, ga4)
	return db
}

// queryRows returns every row of q as its columns' text joined with " | "
// (NULL as "NULL", doubles with 6 decimals).
func queryRows(t *testing.T, db *sql.DB, q string) []string {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		parts := make([]string, len(cols))
		for i, v := range vals {
			switch v := v.(type) {
			case nil:
				parts[i] = "NULL"
			case float64:
				parts[i] = fmt.Sprintf("%.6f", v)
			case time.Time:
				parts[i] = v.Format("2006-01-02")
			default:
				parts[i] = fmt.Sprint(v)
			}
		}
		out = append(out, strings.Join(parts, " | "))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func checkRows(t *testing.T, table string, got, want []string) {
	t.Helper()
	for i := 0; i < len(got) || i < len(want); i++ {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			t.Errorf("%s row %d:\n got  %s\n want %s", table, i+1, g, w)
		}
	}
}

// rate formats a/b as queryRows formats a double.
func rate(a, b float64) string { return fmt.Sprintf("%.6f", a/b) }

func TestFeaturesCustomerMonths(t *testing.T) {
	db := runFeatures(t, date(2026, 9, 16))
	got := queryRows(t, db, `SELECT month, customer_ref, features_used, feature_segment, ever_used, milestones_reached
		FROM stg_customer_features ORDER BY month, customer_ref`)
	want := []string{
		// Jul. C1: search 2 ≥ 1 → search (1); quotes 1 + 1 = 2 < 3 (below min_uses); u7's
		// reorder 5 is an internal user's, left out. Milestones: quote_request only.
		"2026-07-01 | C1 | 1 | search | true | false",
		// C2: quotes 3 ≥ 3 (2) and reorder 1 (4) → 6; both milestones this month.
		"2026-07-01 | C2 | 6 | quotes + reorder | true | true",
		// C3: search 5 → 1, though not activated (the marts leave it out).
		"2026-07-01 | C3 | 1 | search | true | false",
		// C4: no activity, no export counts → never used.
		"2026-07-01 | C4 | 0 | none | false | false",
		// C5: no activity row, but the export's 2 portal views → ever used.
		"2026-07-01 | C5 | 0 | none | true | false",
		// Aug. C1: quotes 2 + 1 = 3 = min_uses → 2; no reorder yet.
		"2026-08-01 | C1 | 2 | quotes | true | false",
		// C2: search 1 → 1; milestones reached in Jul stay reached.
		"2026-08-01 | C2 | 1 | search | true | true",
		// C3: search 1 + reorder 2 → 1 | 4 = 5; reorder done, quote_request not yet.
		"2026-08-01 | C3 | 5 | search + reorder | true | false",
		// C4: a login (not a feature event) → ever used from Aug.
		"2026-08-01 | C4 | 0 | none | true | false",
		// C5: search 4 from u6's row without customer (C5 in the users export) → 1.
		"2026-08-01 | C5 | 1 | search | true | false",
		// Sep (to date: days before Sep 16). C1: reorder 1 → 4 (its search on Sep 16 is not
		// counted); quote_request in Jul + reorder in Sep → milestones reached across two months.
		"2026-09-01 | C1 | 4 | reorder | true | true",
		// C2: search 1, quotes 1 + 2 = 3, reorder 1 → 1 | 2 | 4 = 7.
		"2026-09-01 | C2 | 7 | search + quotes + reorder | true | true",
		// C3: quote_request 1 (user level) + quote_accept 2 (GA4, customer level) = 3 → 2;
		// reorder in Aug + quote_request in Sep → reached.
		"2026-09-01 | C3 | 2 | quotes | true | true",
		// C4: nothing this month, used before.
		"2026-09-01 | C4 | 0 | none | true | false",
		// C5: a login only.
		"2026-09-01 | C5 | 0 | none | true | false",
	}
	checkRows(t, "stg_customer_features", got, want)
	// customer_monthly joins this model: its column types are part of the contract too.
	types := queryRows(t, db, `SELECT column_name || ' ' || data_type FROM duckdb_columns()
		WHERE table_name = 'stg_customer_features' AND schema_name = (SELECT value FROM main.state WHERE key = 'live_schema')
		ORDER BY column_index`)
	checkRows(t, "stg_customer_features columns", types, []string{"month DATE", "customer_ref VARCHAR",
		"features_used INTEGER", "feature_segment VARCHAR", "ever_used BOOLEAN", "milestones_reached BOOLEAN"})
}

func TestFeatureAdoption(t *testing.T) {
	db := runFeatures(t, date(2026, 9, 16))
	got := queryRows(t, db, `SELECT month, complete, salesperson, feature, activated_customers, adopters, adoption_rate
		FROM feature_adoption`) // the table's own order: month, salesperson, config order
	want := []string{
		// Jul Alice: activated C1, C2 (C3 has no access, its search does not count).
		// search C1, quotes C2, reorder C2 → 1/2 each.
		"2026-07-01 | true | Alice | search | 2 | 1 | " + rate(1, 2),
		"2026-07-01 | true | Alice | quotes | 2 | 1 | " + rate(1, 2),
		"2026-07-01 | true | Alice | reorder | 2 | 1 | " + rate(1, 2),
		// Jul Bob: C4, C5 without access → 0 activated, rate NULL.
		"2026-07-01 | true | Bob | search | 0 | 0 | NULL",
		"2026-07-01 | true | Bob | quotes | 0 | 0 | NULL",
		"2026-07-01 | true | Bob | reorder | 0 | 0 | NULL",
		// Aug Alice: C1, C2, C3. search C2, C3 → 2/3; quotes C1 → 1/3; reorder C3 → 1/3.
		"2026-08-01 | true | Alice | search | 3 | 2 | " + rate(2, 3),
		"2026-08-01 | true | Alice | quotes | 3 | 1 | " + rate(1, 3),
		"2026-08-01 | true | Alice | reorder | 3 | 1 | " + rate(1, 3),
		// Aug Bob: C4, C5. search C5 → 1/2; no quotes, no reorder → 0 (not NULL).
		"2026-08-01 | true | Bob | search | 2 | 1 | " + rate(1, 2),
		"2026-08-01 | true | Bob | quotes | 2 | 0 | " + rate(0, 2),
		"2026-08-01 | true | Bob | reorder | 2 | 0 | " + rate(0, 2),
		// Sep (month to date) Alice: search C2 → 1/3; quotes C2, C3 → 2/3; reorder C1, C2 → 2/3.
		"2026-09-01 | false | Alice | search | 3 | 1 | " + rate(1, 3),
		"2026-09-01 | false | Alice | quotes | 3 | 2 | " + rate(2, 3),
		"2026-09-01 | false | Alice | reorder | 3 | 2 | " + rate(2, 3),
		// Sep Bob: no adopters at all.
		"2026-09-01 | false | Bob | search | 2 | 0 | " + rate(0, 2),
		"2026-09-01 | false | Bob | quotes | 2 | 0 | " + rate(0, 2),
		"2026-09-01 | false | Bob | reorder | 2 | 0 | " + rate(0, 2),
	}
	checkRows(t, "feature_adoption", got, want)
	var nullPublished int64
	if err := db.QueryRow(`SELECT count(*) FROM feature_adoption WHERE published_at IS NULL`).Scan(&nullPublished); err != nil {
		t.Fatal(err)
	}
	checkInt(t, "feature_adoption", "rows without published_at", nullPublished, 0)
}

func TestFeatureSegments(t *testing.T) {
	db := runFeatures(t, date(2026, 9, 16))
	got := queryRows(t, db, `SELECT month, complete, salesperson, segment, features, customers
		FROM feature_segments`) // the table's own order: month, salesperson, segment code
	want := []string{
		// Jul Alice: C1 search (code 1), C2 quotes + reorder (code 6). Bob: no activated customer, no row.
		"2026-07-01 | true | Alice | search | 1 | 1",
		"2026-07-01 | true | Alice | quotes + reorder | 2 | 1",
		// Aug Alice: C2 search (1), C1 quotes (2), C3 search + reorder (5) → 3 segments of 1 = 3 activated.
		"2026-08-01 | true | Alice | search | 1 | 1",
		"2026-08-01 | true | Alice | quotes | 1 | 1",
		"2026-08-01 | true | Alice | search + reorder | 2 | 1",
		// Aug Bob: C4 none (0), C5 search (1) = 2 activated.
		"2026-08-01 | true | Bob | none | 0 | 1",
		"2026-08-01 | true | Bob | search | 1 | 1",
		// Sep Alice: C3 quotes (2), C1 reorder (4), C2 all three (7).
		"2026-09-01 | false | Alice | quotes | 1 | 1",
		"2026-09-01 | false | Alice | reorder | 1 | 1",
		"2026-09-01 | false | Alice | search + quotes + reorder | 3 | 1",
		// Sep Bob: C4, C5 none → one segment of 2.
		"2026-09-01 | false | Bob | none | 0 | 2",
	}
	checkRows(t, "feature_segments", got, want)
}

// TestFeaturesNotConfigured: the kpi fixture configures no features and no
// milestone events: the run succeeds, feature_adoption and feature_segments
// are empty, and every customer month is in segment 'none' with
// milestones_reached NULL.
func TestFeaturesNotConfigured(t *testing.T) {
	db, res, _ := runFixture(t, "kpi", date(2026, 10, 15))
	for _, table := range []string{"feature_adoption", "feature_segments"} {
		var n int64
		if err := db.QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		checkInt(t, table, "rows", n, 0)
		checkInt(t, table, "rows_out", res.RowsOut[table], 0)
	}
	var rows, none, milestones int64
	if err := db.QueryRow(`SELECT count(*), count(*) FILTER (WHERE features_used = 0 AND feature_segment = 'none'),
		count(milestones_reached) FROM stg_customer_features`).Scan(&rows, &none, &milestones); err != nil {
		t.Fatal(err)
	}
	// one row per customer_monthly row: 5 + 6 + 6
	checkInt(t, "stg_customer_features", "rows", rows, 17)
	checkInt(t, "stg_customer_features", "rows in segment none", none, 17)
	checkInt(t, "stg_customer_features", "non-NULL milestones_reached", milestones, 0)
	// ever_used does not need features: in Jul E3 has neither activity nor export
	// counts (0, 0, 0); every other customer month has one or the other (E2 Jul: the
	// export's 3 portal views; E3 Aug: 2 views; E6 Aug: 1 view) → 17 - 1 = 16.
	got := queryRows(t, db, `SELECT strftime(month, '%Y-%m') || ' ' || customer_ref FROM stg_customer_features WHERE NOT ever_used`)
	checkRows(t, "stg_customer_features never used", got, []string{"2026-07 E3"})
}
