package csvexport

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"
	"github.com/uptake-dev/uptake/sql/sqltext"
)

// mergeable finds row groups that DuckDB's checkpoint would merge: up to
// three row groups' worth of neighbours, starting at one of them, that
// fit in fewer row groups (RowGroupCollection::ScheduleVacuumTasks). The
// table's last row group, which DuckDB merges only in other cases, is
// left out. It returns the first such row group, or -1.
func mergeable(rows []int64) int {
	body := rows[:max(len(rows)-1, 0)]
	for start := range body {
		for target := int64(1); target <= 3; target++ {
			var sum, count int64
			for _, n := range body[start:] {
				if sum+n > target*duckdbRowGroupRows {
					break
				}
				sum += n
				count++
			}
			if count > target {
				return start
			}
		}
	}
	return -1
}

func TestMergeableFollowsDuckDBsRule(t *testing.T) {
	const f = duckdbRowGroupRows
	for _, c := range []struct {
		rows []int64
		want int
	}{
		{[]int64{f, f, 6554, f, f, 6707, f, f, 9641, f, 116938}, 2}, // the users scan with two row groups a buffer: 6,554 + f + f + 6,707 fit in three
		{[]int64{f, 89623, f, 89411, f, 91132, f, 21878}, -1},       // three quarters: no window fits in fewer
		{[]int64{f, f / 2, f, f / 2, f, 1}, 0},                      // half a row group: f + f/2 + f + f/2 fit in three
		{[]int64{f, f, f, 5}, -1},                                   // only the last is small
	} {
		if got := mergeable(c.rows); got != c.want {
			t.Errorf("mergeable(%v) = %d, want %d", c.rows, got, c.want)
		}
	}
}

// TestAUsersScanLeavesNothingToMerge: a users export (600,000 records of 60
// to 100 bytes, 47 MB) read by DuckDB's reader, two threads, in file order,
// into a table with scanBuffer's buffers, leaves no row groups that a later
// checkpoint would merge; a checkpoint of another process leaves them as
// they are. With buffers of two row groups (the earlier rule), rests of a
// few thousand rows were merged, at the next process's first checkpoint.
func TestAUsersScanLeavesNothingToMerge(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "users_2026-10-01.csv")
	var b strings.Builder
	b.WriteString("user_id,customer_reference,email,created,first_login,deactivated,archived\n")
	rng := rand.New(rand.NewSource(7))
	const records = 600_000
	for i := 1; i <= records; i++ {
		fmt.Fprintf(&b, "u%06d,E%05d,%s.%06d@%s.example.com,2026-01-01,2026-01-02,,no\n",
			i, i%50000, strings.Repeat("x", 3+rng.Intn(20)), i, strings.Repeat("d", 5+rng.Intn(20)))
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	buffer := scanBuffer(int64(b.Len()), records)
	if buffer == 0 {
		t.Fatalf("a %d-byte export gets DuckDB's default buffer", b.Len())
	}
	ctx := context.Background()
	db, err := sql.Open("duckdb", filepath.Join(dir, "w.duckdb")+"?threads=2")
	if err != nil {
		t.Fatal(err)
	}
	layout := func(db *sql.DB) []int64 {
		t.Helper()
		var rows []int64
		r, err := db.QueryContext(ctx, `SELECT sum(count) FROM pragma_storage_info('users') WHERE column_id = 0 AND segment_type <> 'VALIDITY' GROUP BY row_group_id ORDER BY row_group_id`)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		for r.Next() {
			var n int64
			if err := r.Scan(&n); err != nil {
				t.Fatal(err)
			}
			rows = append(rows, n)
		}
		return rows
	}
	if _, err := db.ExecContext(ctx, fmt.Sprintf(`CREATE TABLE users AS SELECT * FROM read_csv(%s, header = true, auto_detect = false,
		columns = {'user_id': 'VARCHAR', 'customer_reference': 'VARCHAR', 'email': 'VARCHAR', 'created': 'DATE', 'first_login': 'DATE',
		'deactivated': 'DATE', 'archived': 'VARCHAR'}, buffer_size = %d)`, sqltext.Quote(path), buffer)); err != nil {
		t.Fatal(err)
	}
	written := layout(db)
	db.Close()
	var total int64
	for _, n := range written {
		total += n
	}
	if total != records || len(written) < 5 {
		t.Fatalf("%d rows in %d row groups, want %d in at least 5", total, len(written), records)
	}
	if i := mergeable(written); i >= 0 {
		t.Errorf("buffers of %d bytes: row groups %v, from the %dth on a checkpoint would merge", buffer, written, i+1)
	}

	db, err = sql.Open("duckdb", filepath.Join(dir, "w.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{"CREATE TABLE other AS SELECT 1 AS one", "CHECKPOINT"} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(q, err)
		}
	}
	if after := layout(db); !slices.Equal(after, written) {
		t.Errorf("the next process's checkpoint rewrote the scan: row groups %v, were %v", after, written)
	}
}
