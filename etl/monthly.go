package etl

// Models built month by month. Every model and raw table gets a key: a
// digest of what it holds (keys.go). A model marked "-- @month: expr"
// (sql/) has one key per month; its months whose key no part has are built
// into a new part, each monthly input shadowed by a view of the months the
// month reads (its @lookback), and the others are read from the parts
// earlier runs built (parts.go). A model without @month is read from its
// part when its key is the same. A failed run leaves the live views and
// their parts as they were. --full-refresh builds every part anew.

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/uptake-dev/uptake/etl/filecache"
	uptakesql "github.com/uptake-dev/uptake/sql"
	"github.com/uptake-dev/uptake/sql/sqltext"
)

// built says what build did with a model.
type built struct {
	// kept and rebuilt count the months of a monthly model; copied is
	// true for a model without @month read from an earlier part.
	kept, rebuilt int
	copied        bool
}

// build makes model m in the build schema: a view of parts, new or kept.
func (b *builder) build(ctx context.Context, m uptakesql.Model) (built, error) {
	where := fmt.Sprintf("sql/%s/%s.sql", m.Layer, m.Name)
	base := b.baseKey(m)
	if err := checkPublishedAt(m); err != nil {
		return built{}, err
	}
	if m.View {
		// Read where its inputs are: its key is what it holds.
		if err := b.exec(ctx, fmt.Sprintf("CREATE OR REPLACE VIEW %s AS\n%s", m.Name, m.SQL)); err != nil {
			return built{}, fmt.Errorf("%s: %w", where, err)
		}
		b.keys[m.Name] = keys{whole: hashOf(base, b.wholeInputs(m))}
		return built{}, nil
	}
	if m.Month == "" {
		key := hashOf(base, b.wholeInputs(m))
		if e, ok := b.index[indexKey{m.Name, "", key}]; ok {
			b.keys[m.Name] = keys{whole: e.digest}
			return built{copied: true}, b.view(ctx, m.Name, "", map[string][]string{e.part: nil})
		}
		part := b.partName(m.Name, key)
		if err := b.exec(ctx, fmt.Sprintf("CREATE TABLE parts.%s AS\n%s", part, m.SQL)); err != nil {
			return built{}, fmt.Errorf("%s: %w", where, err)
		}
		d, err := digest(ctx, b.conn, "parts."+part)
		if err != nil {
			return built{}, err
		}
		b.record(m.Name, part, key, d)
		b.keys[m.Name] = keys{whole: d}
		return built{}, b.view(ctx, m.Name, "", map[string][]string{part: nil})
	}

	months := b.monthKeys(m, base)
	parts := map[string][]string{}
	rebuild := map[string]string{}
	// What the readers' keys see of each month: its key, or with @cutoff
	// its content (kept months: as digested when built).
	readers := maps.Clone(months)
	for _, mo := range slices.Sorted(maps.Keys(months)) {
		if e, ok := b.index[indexKey{m.Name, mo, months[mo]}]; ok {
			parts[e.part] = append(parts[e.part], mo)
			if m.Cutoff && e.digest != "" {
				readers[mo] = "content:" + e.digest
			}
		} else {
			rebuild[mo] = months[mo]
		}
	}
	res := built{kept: len(months) - len(rebuild), rebuilt: len(rebuild)}
	if len(rebuild) > 0 || len(months) == 0 {
		var ks []string
		for _, mo := range slices.Sorted(maps.Keys(rebuild)) {
			ks = append(ks, mo+"="+rebuild[mo])
		}
		part := b.partName(m.Name, ks...)
		// A model cut off by content whose months were built before is
		// built in memory first: the months that come out as an earlier
		// part holds them are read from that part, and only the others
		// are stored (a users snapshot changes the users models, which
		// every month of the user-days reads, but few of their months).
		earlier := b.contentParts(m, rebuild)
		table, create := "parts."+part, "CREATE TABLE parts."+part
		if earlier != nil {
			table, create = "temp.main."+part, "CREATE TEMP TABLE "+part
		}
		if len(rebuild) == len(months) {
			if err := b.exec(ctx, fmt.Sprintf("%s AS\n%s", create, m.SQL)); err != nil {
				return built{}, fmt.Errorf("%s: %w", where, err)
			}
		} else if err := b.buildMonths(ctx, m, create, slices.Sorted(maps.Keys(rebuild))); err != nil {
			return built{}, fmt.Errorf("%s: %w", where, err)
		}
		contents, err := b.checkMonths(ctx, m, table, rebuild)
		if err != nil {
			return built{}, err
		}
		for mo, d := range contents {
			readers[mo] = "content:" + d
		}
		store := rebuild
		if earlier != nil {
			store = map[string]string{}
			for mo, key := range rebuild {
				if p, ok := earlier[mo+" "+contents[mo]]; ok {
					b.addIndexRows(m.Name, p, map[string]string{mo: key}, map[string]string{mo: contents[mo]})
					parts[p] = append(parts[p], mo)
				} else {
					store[mo] = key
				}
			}
			if len(store) > 0 {
				if err := b.exec(ctx, fmt.Sprintf("CREATE TABLE parts.%s AS SELECT * FROM %s WHERE list_contains([%s], %s)",
					part, table, dateList(slices.Sorted(maps.Keys(store))), m.Month)); err != nil {
					return built{}, fmt.Errorf("%s: %w", where, err)
				}
			}
			if err := b.exec(ctx, "DROP TABLE "+table); err != nil {
				return built{}, fmt.Errorf("%s: %w", where, err)
			}
		}
		if earlier == nil || len(store) > 0 {
			b.recordMonths(m.Name, part, store, contents)
			parts[part] = slices.Sorted(maps.Keys(store))
		}
	}
	b.keys[m.Name] = keys{monthly: true, months: readers}
	return res, b.view(ctx, m.Name, m.Month, parts)
}

// buildMonths makes, with create (CREATE TABLE and the table's name), a
// table of a monthly model's rows of the months given (sorted). While it
// runs, each monthly input is shadowed by a temporary view of the months
// those need (back as far as the model's @lookback
// says), so that the model's SQL reads no more than it must; the rows are
// then kept to the months asked for.
func (b *builder) buildMonths(ctx context.Context, m uptakesql.Model, create string, months []string) error {
	first, _ := time.Parse(monthLayout, months[0])
	last, _ := time.Parse(monthLayout, months[len(months)-1])
	until := last.AddDate(0, 1, 0)
	var shadows []string
	defer func() {
		for _, v := range shadows {
			b.conn.ExecContext(context.WithoutCancel(ctx), "DROP VIEW IF EXISTS temp.main."+v)
		}
	}()
	for _, in := range inputs(m) {
		k := b.keys[in]
		if !k.monthly {
			continue
		}
		from := first
		back, ok := m.Lookback[in]
		switch {
		case !ok:
		case back == uptakesql.LookbackAll:
			from = time.Time{}
		default:
			from = first.AddDate(0, -back, 0)
		}
		cond := monthRange(b.monthOf[in], from, until)
		shadows = append(shadows, in)
		if err := b.exec(ctx, fmt.Sprintf("CREATE OR REPLACE TEMP VIEW %s AS SELECT * FROM %s WHERE %s", in, b.source(in), cond)); err != nil {
			return fmt.Errorf("months of %s: %w", in, err)
		}
	}
	// list_contains, not IN (see monthsOfPart): the part keeps the order
	// of the model's ORDER BY, wherever DuckDB places the filter.
	return b.exec(ctx, fmt.Sprintf("%s AS SELECT * FROM (\n%s\n) WHERE list_contains([%s], %s)", create, m.SQL, dateList(months), m.Month))
}

// contentParts lists, for a model cut off by content, the parts that hold
// a month of months as an earlier build made it, by month and content
// digest ("2026-10-01 rows:digest:columns"); nil when none of those months
// was built before (a first run, --full-refresh) or the model is not cut
// off by content.
func (b *builder) contentParts(m uptakesql.Model, months map[string]string) map[string]string {
	if !m.Cutoff {
		return nil
	}
	var found map[string]string
	for k, e := range b.index {
		if k.model != m.Name || e.digest == "" {
			continue
		}
		if _, ok := months[k.month]; !ok {
			continue
		}
		if found == nil {
			found = map[string]string{}
		}
		found[k.month+" "+e.digest] = e.part
	}
	return found
}

// source is the relation of the build schema an input name stands for.
func (b *builder) source(name string) string { return sqltext.Ident(b.schema) + "." + name }

// monthColumnRE matches a month expression that truncates (or is) one
// column: a range of that column is one DuckDB skips row groups with.
var monthColumnRE = regexp.MustCompile(`^(?:date_trunc\('month', ([a-z_]+)\)(?:::DATE)?|([a-z_]+))$`)

// monthRange is a condition keeping the rows whose month (expr) is from
// from (zero: the beginning) until until, excluded.
func monthRange(expr string, from, until time.Time) string {
	col := "(" + expr + ")"
	if g := monthColumnRE.FindStringSubmatch(expr); g != nil {
		col = g[1] + g[2]
	}
	cond := fmt.Sprintf("%s < DATE '%s'", col, until.Format(monthLayout))
	if !from.IsZero() {
		cond = fmt.Sprintf("%s >= DATE '%s' AND %s", col, from.Format(monthLayout), cond)
	}
	return cond
}

// checkMonths fails when a monthly model has rows of a month its inputs do
// not have, or without a month: its @month or @lookback is wrong, and a
// run that keeps months would lose those rows. With @cutoff, it returns
// the digest of each month's rows, as digest makes it (every month of
// months: no rows digest as "0:0").
func (b *builder) checkMonths(ctx context.Context, m uptakesql.Model, table string, months map[string]string) (map[string]string, error) {
	where := fmt.Sprintf("sql/%s/%s.sql", m.Layer, m.Name)
	q := fmt.Sprintf(`SELECT DISTINCT coalesce(strftime((%s)::DATE, '%%Y-%%m-%%d'), 'NULL'), '' FROM %s`, m.Month, table)
	var contents map[string]string
	cols := ""
	if m.Cutoff {
		// The months as the raw tables' are digested (filecache.MonthDigests).
		q = `SELECT coalesce(strftime(m, '%Y-%m-%d'), 'NULL'), rows::VARCHAR || ':' || digest::VARCHAR FROM (` +
			filecache.MonthDigests(table, m.Month) + `)`
		var err error
		if cols, err = columnsDigest(ctx, b.conn, table); err != nil {
			return nil, err
		}
		contents = map[string]string{}
		for mo := range months {
			contents[mo] = "0:0:" + cols
		}
	}
	rows, err := b.conn.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("%s: months: %w", where, err)
	}
	defer rows.Close()
	for rows.Next() {
		var mo, d string
		if err := rows.Scan(&mo, &d); err != nil {
			return nil, fmt.Errorf("%s: months: %w", where, err)
		}
		if _, ok := months[mo]; !ok {
			return nil, fmt.Errorf("%s: rows of month %s, which none of its monthly inputs has at the months its @lookback reads: "+
				"correct its @month or @lookback", where, mo)
		}
		if contents != nil {
			contents[mo] = d + ":" + cols
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: months: %w", where, err)
	}
	return contents, nil
}

// publishedAtRE is the one way a model may read published_at: as a column
// of that name, which its view gives the run's value (the parts hold NULL,
// so that a part does not change with the time of the run that built it).
var publishedAtRE = regexp.MustCompile(`getvariable\('published_at'\)(\s+AS\s+published_at\b)?`)

// checkPublishedAt fails when m reads published_at other than as its
// column of that name.
func checkPublishedAt(m uptakesql.Model) error {
	for _, g := range publishedAtRE.FindAllStringSubmatch(sqltext.StripComments(m.SQL), -1) {
		if g[1] == "" {
			return fmt.Errorf("sql/%s/%s.sql: getvariable('published_at') is only read as a column: getvariable('published_at') AS published_at", m.Layer, m.Name)
		}
	}
	return nil
}

// dateList is a SQL list of dates.
func dateList(months []string) string {
	q := make([]string, len(months))
	for i, m := range months {
		q[i] = "DATE " + sqltext.Quote(m)
	}
	return strings.Join(q, ", ")
}
