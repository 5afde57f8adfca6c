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
// table's last row group is left out: DuckDB merges the end of a table by
// another rule (only when the merge at least doubles the first row group
// merged), which the tests check through a real checkpoint instead. It
// returns the first such row group, or -1.
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

// TestAUsersScanLeavesNothingToMerge: a users export of 1.5 M records read
// by DuckDB's reader, two threads, in file order, into a table with
// scanBuffer's buffers, leaves no row groups that a checkpoint would merge
// but at the table's end, and a checkpoint of another process leaves them
// as they are: with records of mixed lengths (71 to 109 bytes), and with
// records of 79 bytes then 123 (the second half a fifth longer than the
// average the buffers are sized for). With buffers of two row groups (the
// earlier rule), rests of a few thousand rows were merged at the next
// process's first checkpoint; with one and three quarters, the first
// half's rests (2,417 to 29,165 rows).
func TestAUsersScanLeavesNothingToMerge(t *testing.T) {
	const records = 1_500_000
	for _, c := range []struct {
		name  string
		email func(rng *rand.Rand, i int) string
	}{
		{"mixed lengths", func(rng *rand.Rand, i int) string {
			return fmt.Sprintf("%s.%06d@%s.example.com", strings.Repeat("x", 3+rng.Intn(20)), i%1000000, strings.Repeat("d", 5+rng.Intn(20)))
		}},
		{"shorter then longer", func(rng *rand.Rand, i int) string {
			pad := 0
			if i > records/2 {
				pad = 44
			}
			return fmt.Sprintf("%s.%06d@%s.example.com", strings.Repeat("x", 8+pad/2), i%1000000, strings.Repeat("d", 8+pad/2))
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "users_2026-10-01.csv")
			var b strings.Builder
			b.WriteString("user_id,customer_reference,email,created,first_login,deactivated,archived\n")
			rng := rand.New(rand.NewSource(7))
			for i := 1; i <= records; i++ {
				fmt.Fprintf(&b, "u%07d,E%05d,%s,2026-01-01,2026-01-02,,no\n", i, i%50000, c.email(rng, i))
			}
			if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
				t.Fatal(err)
			}
			buffer := scanBuffer(int64(b.Len()), records)
			if buffer == 0 {
				t.Fatalf("a %d-byte export gets DuckDB's default buffer", b.Len())
			}
			written, after := scanTwice(t, dir, path, buffer)
			var total int64
			for _, n := range written {
				total += n
			}
			if total != records {
				t.Fatalf("%d rows, want %d", total, records)
			}
			if i := mergeable(written); i >= 0 {
				t.Errorf("buffers of %d bytes: row groups %v, from the %dth on a checkpoint would merge", buffer, written, i+1)
			}
			// DuckDB merges the end of a table by its own rule: the last
			// batch's rest with the last, shorter batch (at most three row
			// groups, once).
			body := len(written) - 3
			if len(after) < body || !slices.Equal(after[:body], written[:body]) {
				t.Errorf("the next process's checkpoint rewrote the scan: row groups %v, were %v", after, written)
			}
		})
	}
}

// scanTwice reads path into a table of a new DuckDB file with buffers of
// buffer bytes, two threads, and returns the table's row groups (their
// rows) as written, then after another process's checkpoint.
func scanTwice(t *testing.T, dir, path string, buffer int64) (written, after []int64) {
	t.Helper()
	ctx := context.Background()
	file := filepath.Join(dir, "w.duckdb")
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
	db, err := sql.Open("duckdb", file+"?threads=2")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, fmt.Sprintf(`CREATE TABLE users AS SELECT * FROM read_csv(%s, header = true, auto_detect = false,
		columns = {'user_id': 'VARCHAR', 'customer_reference': 'VARCHAR', 'email': 'VARCHAR', 'created': 'DATE', 'first_login': 'DATE',
		'deactivated': 'DATE', 'archived': 'VARCHAR'}, buffer_size = %d)`, sqltext.Quote(path), buffer)); err != nil {
		t.Fatal(err)
	}
	written = layout(db)
	db.Close()
	db, err = sql.Open("duckdb", file)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{"CREATE TABLE other AS SELECT 1 AS one", "CHECKPOINT"} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(q, err)
		}
	}
	return written, layout(db)
}
