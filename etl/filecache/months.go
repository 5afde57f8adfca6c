package filecache

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/uptake-dev/uptake/etl/warehouse"
	"github.com/uptake-dev/uptake/sql/sqltext"
)

// Months makes sure kept.months has the rows per month of each kept
// relation (schema-qualified, as Keep named it), month being the SQL
// expression of a row's month: a relation never changes, so each is read
// once, by the first run that needs it.
func (s *Store) Months(ctx context.Context, relations []string, month string) error {
	if len(relations) == 0 {
		return nil
	}
	done, err := warehouse.Names(ctx, s.conn, `SELECT DISTINCT relation FROM kept.months WHERE relation IN (`+sqltext.Literals(relations)+`)`)
	if err != nil {
		return fmt.Errorf("file cache: %w", err)
	}
	// One statement for up to 100 (a year of monthly files: one, not
	// twelve); DuckDB plans a UNION ALL of thousands in more time than it
	// runs them.
	var todo []string
	for _, r := range relations {
		if !slices.Contains(done, r) {
			todo = append(todo, r)
		}
	}
	for chunk := range slices.Chunk(todo, 100) {
		selects := make([]string, len(chunk))
		for i, r := range chunk {
			selects[i] = fmt.Sprintf(`SELECT %s, * FROM (%s)`, sqltext.Quote(r), MonthDigests(r, month))
		}
		if _, err := s.conn.ExecContext(ctx, "INSERT INTO kept.months "+strings.Join(selects, " UNION ALL ")); err != nil {
			return fmt.Errorf("file cache: months of %s and %d more: %w", chunk[0], len(chunk)-1, err)
		}
	}
	return nil
}

// MonthDigests is the SELECT of a relation's rows per month: the month (m,
// the DATE month gives a row), how many rows and the sum of their hashes
// (digest). A raw table's months add up those of its kept files
// (kept.months) and of its copied rows, so both are digested by this one
// query; the months of a model marked @cutoff are too (etl's checkMonths).
func MonthDigests(relation, month string) string {
	return fmt.Sprintf(`SELECT (%s)::DATE AS m, count(*) AS rows, sum(hash(t)) AS digest FROM %s t GROUP BY m`, month, relation)
}
