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
// once, by the first run that needs it. The relation of a grown file this
// run made adds up its pieces' months, so that the kept lines are not read
// again.
func (s *Store) Months(ctx context.Context, relations []string, month string) error {
	if len(relations) == 0 {
		return nil
	}
	want := slices.Clone(relations)
	for _, r := range relations {
		want = append(want, s.unions[r]...)
	}
	done, err := warehouse.Names(ctx, s.conn, `SELECT DISTINCT relation FROM kept.months WHERE relation IN (`+sqltext.Literals(want)+`)`)
	if err != nil {
		return fmt.Errorf("file cache: %w", err)
	}
	// One statement for up to 100 (a year of monthly files: one, not
	// twelve); DuckDB plans a UNION ALL of thousands in more time than it
	// runs them.
	var todo, unions []string
	for _, r := range want {
		switch {
		case slices.Contains(done, r) || slices.Contains(todo, r) || slices.Contains(unions, r):
		case s.unions[r] != nil:
			unions = append(unions, r)
		default:
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
	for _, r := range unions { // after their pieces
		if err := s.addUp(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

// addUp records the months of a grown file's relation: the sums of its
// pieces' rows and digests (a digest is a sum of row hashes).
func (s *Store) addUp(ctx context.Context, relation string) error {
	if _, err := s.conn.ExecContext(ctx, `INSERT INTO kept.months SELECT ?, month, sum(rows), sum(digest)
		FROM kept.months WHERE relation IN (`+sqltext.Literals(s.unions[relation])+`) GROUP BY month`, relation); err != nil {
		return fmt.Errorf("file cache: months of %s: %w", relation, err)
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
