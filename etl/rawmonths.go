package etl

// The users table kept across runs, a part a month: a users night builds
// the month of its new snapshot, and reads the other months where earlier
// runs built them.

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/uptake-dev/uptake/etl/warehouse"
	"github.com/uptake-dev/uptake/sql/sqltext"
)

// rawMonth is what a run knows of one month of a raw table kept across
// runs: the relations of this run's files that have rows of it, and the
// periods of those rows; the live table's part holding the month (a part of
// its own, or, from an older layout, the whole table's; or the live table
// itself when it is not made of parts), its index row and periods.
type rawMonth struct {
	relations []string
	periods   map[string]bool
	// relPeriods are the periods of each relation's rows of the month.
	relPeriods map[string]map[string]bool
	// live is the live part of the month (empty when the live table is not
	// made of parts), liveRel the relation its rows are read from.
	live, liveRel       string
	liveKey, liveDigest string
	livePeriods         map[string]bool
	liveWhole           bool
	// liveInputs are the relations the live part was built from, when
	// parts.inputs has them (liveInputsKnown).
	liveInputs      []string
	liveInputsKnown bool
}

// allPeriods counts the periods (NULL aside) of the month's files and of
// its live part: those a part of the month is built from (the files' and
// the lent ones, or the live part's and the new files').
func (m *rawMonth) allPeriods() int {
	ps := maps.Clone(m.periods)
	maps.Copy(ps, m.livePeriods)
	delete(ps, "NULL")
	return len(ps)
}

// extension lists the relations of this run's files to add to the live
// part of the month to make its part, when that gives the rows a build
// from every file would (ok false otherwise). That holds when the files
// the live part was built from are all this run's still (same content, so
// same relations), and no new file has a period whose rows the live part
// holds from a file it no longer has (lent: a build from the files would
// take the new file's rows for that period, not the live part's).
// Compaction keeps each user's latest rows of the month, and the latest of
// the live part's and the new files' rows are the latest of all the rows.
// A period after this run's as-of date (a key marked "@") makes the
// compaction keep a user's latest rows on or before that date, which the
// live part may not have: such a month is built from its files. (A live
// part built with such a key has each user's latest rows still, all this
// run needs.)
// A platform that exports its users daily then costs a night the new
// snapshot and the month's part, not every snapshot of the month.
func (m *rawMonth) extension(key string) (added []string, ok bool) {
	if m.live == "" || m.liveWhole || !m.liveInputsKnown || strings.Contains(key, "@") {
		return nil, false
	}
	built := map[string]bool{} // periods of the live part's files
	for _, r := range m.liveInputs {
		ps, ok := m.relPeriods[r]
		if !ok {
			return nil, false // that file is gone, or changed
		}
		for p := range ps {
			built[p] = true
		}
	}
	for _, r := range slices.Sorted(slices.Values(m.relations)) {
		if slices.Contains(m.liveInputs, r) {
			continue
		}
		for p := range m.relPeriods[r] {
			if m.livePeriods[p] && !built[p] {
				return nil, false
			}
		}
		added = append(added, r)
	}
	return added, len(added) > 0
}

// supersedes says whether the rows of the relations added to the live part
// (extension) are of one period, later than every period of the live part:
// a daily users export arriving after the month's earlier ones.
func (m *rawMonth) supersedes(added []string) bool {
	periods := map[string]bool{}
	for _, r := range added {
		maps.Copy(periods, m.relPeriods[r])
	}
	if len(periods) != 1 || periods["NULL"] || m.livePeriods["NULL"] {
		return false // rows without a period are kept whatever their user
	}
	for p := range periods {
		for q := range m.livePeriods {
			if q >= p {
				return false
			}
		}
	}
	return true
}

// superseded is the query of compact's rows of a month made of live, the
// live part's rows, and added, the rows of one later period (supersedes):
// each user of added has its rows of added, as compaction would keep (the
// latest period, on or before the as-of date as extension ensures); the
// other users keep the live part's rows, compacted among themselves (a part
// built as of an earlier date may hold two of a user's rows). Only the
// users the new period lacks are grouped, not the month's every user: the
// same rows as compacted(live UNION ALL added), faster.
func superseded(live, added, period, cols string) string {
	gone := fmt.Sprintf("SELECT l.* FROM (%s) l ANTI JOIN added a ON a.user_id = l.user_id", live)
	return fmt.Sprintf("WITH added AS (%[1]s) SELECT * FROM (%[2]s) UNION ALL SELECT %[3]s FROM added", added, compacted(gone, period), cols)
}

// lent are the periods of the live part that no file of this run has: the
// month's part keeps their rows.
func (m *rawMonth) lent() []string {
	var out []string
	for p := range m.livePeriods {
		if !m.periods[p] {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// after says whether a period of the month is after the as-of date (asOf,
// as formatted by monthLayout): the compaction then depends on that date.
func (m *rawMonth) after(asOf string) bool {
	for _, ps := range []map[string]bool{m.periods, m.livePeriods} {
		for p := range ps {
			if p != "NULL" && p > asOf {
				return true
			}
		}
	}
	return false
}

// keepRawByMonth makes table, a raw table kept across runs (keptAcrossRuns:
// this run's files, read through relations, and the history of the live
// table), a view of one part a month. A month's part holds its rows of this
// run's files and the live table's rows of the periods no file has,
// compacted (compact's rule); or, when the files are the live part's and
// new ones (rawMonth.extension), the live part's rows and the new files',
// compacted, which come to the same. Its key is made of its files' relations (named after
// their content), the digest of the rows the live table lends it, and the
// as-of date when a period of the month is after it (the compaction depends
// on it: such a part is marked, and built again by the next run). The live
// part of a month is read as it is when its key is this run's, or when no
// file has the month any more. Only the live parts are read: an older part
// of a month lacks the history gathered since. The table's digest is made
// of its months' (digested once, as built).
func (b *builder) keepRawByMonth(ctx context.Context, table, period string, relations []string) (rawMonthCounts, error) {
	var n rawMonthCounts
	months, err := b.rawMonths(ctx, table, period, relations)
	if err != nil {
		return n, err
	}
	asOf := b.asOf.Format(monthLayout)
	parts := map[string][]string{}
	digests := map[string]string{}
	for _, mo := range slices.Sorted(maps.Keys(months)) {
		m := months[mo]
		reuse := !b.refresh && m.live != "" && !m.liveWhole && !strings.Contains(m.liveKey, "@")
		key := ""
		if len(m.relations) > 0 || !reuse {
			if key, err = b.rawMonthKey(ctx, table, period, mo, m, asOf); err != nil {
				return n, err
			}
			reuse = reuse && m.liveKey == key
		} // else no file has this month any more: the live table's, as it is
		if reuse {
			parts[m.live] = append(parts[m.live], mo)
			digests[mo] = m.liveDigest
			n.kept++
			continue
		}
		var added []string // nil: built from the month's files
		if a, ok := m.extension(key); ok && !b.refresh {
			added = a
		}
		part, d, err := b.buildRawMonth(ctx, table, period, mo, key, m, added)
		if err != nil {
			return n, err
		}
		parts[part] = []string{mo}
		digests[mo] = d
		if added != nil {
			n.extended++
		} else {
			n.built++
		}
	}
	if len(parts) == 0 { // no row at all: an empty part
		part := b.partName(table, "empty")
		if err := b.exec(ctx, fmt.Sprintf("CREATE TABLE parts.%s AS SELECT * FROM %s LIMIT 0", part, table)); err != nil {
			return n, fmt.Errorf("load %s: %w", table, err)
		}
		b.record(table, part, "empty", "")
		parts[part] = nil
	}
	if err := b.exec(ctx, "DROP TABLE "+table); err != nil {
		return n, fmt.Errorf("load %s: %w", table, err)
	}
	b.rawParts[table] = strings.Join(slices.Sorted(maps.Keys(parts)), " ")
	var ds []string
	for _, mo := range slices.Sorted(maps.Keys(digests)) {
		ds = append(ds, mo+"="+digests[mo])
	}
	b.rawDigests[table] = hashOf(ds, nil)
	return n, b.view(ctx, table, rawMonthExpr(period), parts)
}

// rawMonthCounts count the months of a raw table kept across runs that a
// load read from their live part as they were, built from their files, or
// built by adding new files to their live part (rawMonth.extension).
type rawMonthCounts struct{ kept, built, extended int }

// rawMonthExpr is the month of a period: NULL's is a month of its own.
func rawMonthExpr(period string) string {
	return fmt.Sprintf("coalesce(date_trunc('month', %s)::DATE, DATE '0001-01-01')", period)
}

// periodIn is the condition that a period is one of periods (as
// formatted, "NULL" for NULL).
func periodIn(period string, periods []string) string {
	var dates []string
	null := false
	for _, p := range periods {
		if p == "NULL" {
			null = true
			continue
		}
		dates = append(dates, "DATE "+sqltext.Quote(p))
	}
	var conds []string
	if len(dates) > 0 {
		conds = append(conds, fmt.Sprintf("%s IN (%s)", period, strings.Join(dates, ", ")))
	}
	if null {
		conds = append(conds, period+" IS NULL")
	}
	if len(conds) == 0 {
		return "false"
	}
	return "(" + strings.Join(conds, " OR ") + ")"
}

// rawMonths reads the months and periods of each relation, and of each live
// part (a statement each).
func (b *builder) rawMonths(ctx context.Context, table, period string, relations []string) (map[string]*rawMonth, error) {
	months := map[string]*rawMonth{}
	month := func(mo string) *rawMonth {
		if months[mo] == nil {
			months[mo] = &rawMonth{periods: map[string]bool{}, relPeriods: map[string]map[string]bool{}, livePeriods: map[string]bool{}}
		}
		return months[mo]
	}
	// scan runs q, whose rows are a name, a month and a period.
	scan := func(sels []string, each func(name string, m *rawMonth, p string)) error {
		q := fmt.Sprintf("SELECT n, strftime(%s, '%%Y-%%m-%%d'), coalesce(strftime(p, '%%Y-%%m-%%d'), 'NULL') FROM (%s)",
			rawMonthExpr("p"), strings.Join(sels, " UNION ALL "))
		rows, err := b.conn.QueryContext(ctx, q)
		if err != nil {
			return fmt.Errorf("load %s: months: %w", table, err)
		}
		defer rows.Close()
		for rows.Next() {
			var n, mo, p string
			if err := rows.Scan(&n, &mo, &p); err != nil {
				return fmt.Errorf("load %s: months: %w", table, err)
			}
			each(n, month(mo), p)
		}
		return rows.Err()
	}
	if len(relations) > 0 {
		sels := make([]string, len(relations))
		for i, r := range relations {
			sels[i] = fmt.Sprintf("SELECT %s AS n, %s AS p FROM %s GROUP BY ALL", sqltext.Quote(r), period, r)
		}
		if err := scan(sels, func(rel string, m *rawMonth, p string) {
			if !slices.Contains(m.relations, rel) {
				m.relations = append(m.relations, rel)
				m.relPeriods[rel] = map[string]bool{}
			}
			m.periods[p] = true
			m.relPeriods[rel][p] = true
		}); err != nil {
			return nil, err
		}
	}
	// The live parts' index rows, by part: b.index is by key, and a failed
	// run may have left another part under a live part's key.
	live := strings.Fields(b.liveParts[table])
	type liveEntry struct{ month, key, digest string }
	entries := map[string]liveEntry{}
	if len(live) > 0 {
		rows, err := b.conn.QueryContext(ctx, `SELECT part, coalesce(strftime(month, '%Y-%m-%d'), ''), key, coalesce(digest, '') FROM parts.index
			WHERE model = ? AND part IN (`+sqltext.Literals(live)+`)
			AND part IN (SELECT table_name FROM duckdb_tables() WHERE schema_name = 'parts' AND database_name = current_database())`, table)
		if err != nil {
			return nil, fmt.Errorf("load %s: live parts: %w", table, err)
		}
		for rows.Next() {
			var part string
			var e liveEntry
			if err := rows.Scan(&part, &e.month, &e.key, &e.digest); err != nil {
				rows.Close()
				return nil, fmt.Errorf("load %s: live parts: %w", table, err)
			}
			entries[part] = e
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("load %s: live parts: %w", table, err)
		}
	}
	if len(live) == 0 || len(entries) < len(live) {
		// The live table is not (all) made of indexed parts: a run loaded it
		// from copied rows (its users files gone from the config, say), or
		// a part was dropped by hand. It is read whole, as the history.
		var n int
		if err := b.conn.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_views() WHERE database_name = current_database()
			AND schema_name = 'main' AND view_name = ?`, table).Scan(&n); err != nil {
			return nil, fmt.Errorf("load %s: %w", table, err)
		}
		if n == 0 {
			return months, nil
		}
		rel := "main." + table
		err := scan([]string{fmt.Sprintf("SELECT '' AS n, %s AS p FROM %s GROUP BY ALL", period, rel)}, func(_ string, m *rawMonth, p string) {
			m.liveRel, m.liveWhole = rel, true
			m.livePeriods[p] = true
		})
		return months, err
	}
	sels := make([]string, len(live))
	for i, part := range live {
		sels[i] = fmt.Sprintf("SELECT %s AS n, %s AS p FROM parts.%s GROUP BY ALL", sqltext.Quote(part), period, part)
	}
	pairs, err := warehouse.Pairs(ctx, b.conn, `SELECT part, relation FROM parts.inputs WHERE part IN (`+sqltext.Literals(live)+`) ORDER BY ALL`)
	if err != nil {
		return nil, fmt.Errorf("load %s: live parts' inputs: %w", table, err)
	}
	inputs := map[string][]string{}
	for _, pr := range pairs {
		inputs[pr[0]] = append(inputs[pr[0]], pr[1])
	}
	err = scan(sels, func(part string, m *rawMonth, p string) {
		e := entries[part]
		m.live, m.liveRel, m.liveKey, m.liveDigest, m.liveWhole = part, "parts."+part, e.key, e.digest, e.month == ""
		m.livePeriods[p] = true
		m.liveInputs, m.liveInputsKnown = inputs[part]
	})
	return months, err
}

// rawMonthKey is the key of a month's part (see keepRawByMonth).
func (b *builder) rawMonthKey(ctx context.Context, table, period, mo string, m *rawMonth, asOf string) (string, error) {
	parts := []string{keyScheme + "/" + b.engine, table, mo}
	parts = append(parts, slices.Sorted(slices.Values(m.relations))...)
	if lent := m.lent(); len(lent) > 0 {
		d, err := rowsDigest(ctx, b.conn, m.liveRel, periodIn(period, lent))
		if err != nil {
			return "", fmt.Errorf("load %s: %w", table, err)
		}
		parts = append(parts, "lent:"+d)
	}
	key := hashOf(parts, nil)
	if m.after(asOf) {
		key += "@" + asOf
	}
	return key, nil
}

// buildRawMonth makes the part of month mo: its rows of this run's files,
// then the live part's rows of the periods no file has, compacted; or,
// given the relations added since the live part (rawMonth.extension), the
// live part's rows and theirs, compacted. It returns the part and the
// digest of its rows.
func (b *builder) buildRawMonth(ctx context.Context, table, period, mo, key string, m *rawMonth, added []string) (string, string, error) {
	cols, err := columns(ctx, b.conn, table)
	if err != nil {
		return "", "", err
	}
	list := strings.Join(cols, ", ")
	inMonth := fmt.Sprintf("%s = DATE %s", rawMonthExpr(period), sqltext.Quote(mo))
	var sels []string
	if added != nil {
		sels = append(sels, fmt.Sprintf("SELECT %s FROM %s WHERE %s", list, m.liveRel, inMonth))
		for _, r := range added {
			sels = append(sels, fmt.Sprintf("SELECT %s FROM %s WHERE %s", list, r, inMonth))
		}
	} else {
		for _, r := range slices.Sorted(slices.Values(m.relations)) {
			sels = append(sels, fmt.Sprintf("SELECT %s FROM %s WHERE %s", list, r, inMonth))
		}
		if lent := m.lent(); len(lent) > 0 {
			sels = append(sels, fmt.Sprintf("SELECT %s FROM %s WHERE %s AND %s", list, m.liveRel, inMonth, periodIn(period, lent)))
		}
	}
	part := b.partName(table, mo, key)
	rows := strings.Join(sels, " UNION ALL ")
	switch {
	case m.allPeriods() <= 1:
	case added != nil && m.supersedes(added):
		rows = superseded(sels[0], strings.Join(sels[1:], " UNION ALL "), period, list)
	default:
		// Made compacted (compact's rule), rather than written whole and
		// then deleted from: a daily export's month holds two snapshots
		// a night, the live part's and the new one.
		rows = compacted(rows, period)
	}
	if err := b.exec(ctx, fmt.Sprintf("CREATE TABLE parts.%s AS %s", part, rows)); err != nil {
		return "", "", fmt.Errorf("load %s: %w", table, err)
	}
	d, err := digest(ctx, b.conn, "parts."+part)
	if err != nil {
		return "", "", err
	}
	b.recordMonths(table, part, map[string]string{mo: key}, map[string]string{mo: d})
	if len(m.relations) > 0 {
		var values []string
		for _, r := range slices.Sorted(slices.Values(m.relations)) {
			values = append(values, fmt.Sprintf("(%s, %s)", sqltext.Quote(part), sqltext.Quote(r)))
		}
		if err := b.exec(ctx, "INSERT INTO parts.inputs VALUES "+strings.Join(values, ", ")); err != nil {
			return "", "", fmt.Errorf("load %s: %w", table, err)
		}
	}
	return part, d, nil
}
