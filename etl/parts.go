package etl

// The parts models are built into, their index, and the views of the build
// schema over them; the users table kept across runs is read from its part
// when the load would make it again.

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/uptake-dev/uptake/etl/warehouse"
	uptakesql "github.com/uptake-dev/uptake/sql"
	"github.com/uptake-dev/uptake/sql/sqltext"
)

// The schema parts holds the tables models are built into, each named after
// the model and the run that built it, and indexed by the keys it was built
// for (parts.index): a build schema's model is a view of its parts. A part
// never changes, so a later run whose keys are the same reads it as it is
// (content addressed: a part a failed run built is as good), and parts no
// live model reads are dropped after each successful run (collect).
var partsDDL = []string{
	`CREATE SCHEMA IF NOT EXISTS parts`,
	// One row per model (and month, for a monthly model) a part holds.
	`CREATE TABLE IF NOT EXISTS parts.index (
		model VARCHAR NOT NULL,
		month DATE,
		key VARCHAR NOT NULL,
		part VARCHAR NOT NULL,
		digest VARCHAR
	)`,
	// The relations (kept files) a part of a raw table kept across runs
	// was built from: the next run may build on it (rawMonth.extension).
	`CREATE TABLE IF NOT EXISTS parts.inputs (
		part VARCHAR NOT NULL,
		relation VARCHAR NOT NULL
	)`,
	// The key of what each data test of sql/tests read when it last
	// passed: a test whose inputs are the same is not run again (test.go).
	`CREATE TABLE IF NOT EXISTS parts.passed (
		test VARCHAR NOT NULL,
		key VARCHAR NOT NULL
	)`,
}

// partsBookkeeping are the tables of parts that are not parts: the DDL's.
var partsBookkeeping = []string{"index", "inputs", "passed"}

// builder builds the models of a run, reading what it can from the parts
// of earlier ones.
type builder struct {
	conn *sql.Conn
	// schema is the build schema; runID names the run's parts.
	schema, runID string
	// engine is the DuckDB version, part of every key: another version
	// may hash (user keys) or compute otherwise.
	engine string
	// monthOf maps each monthly raw table and model to its @month.
	monthOf map[string]string
	// vars are the run's variables as set (name → SQL literal); asOf its date.
	vars map[string]string
	asOf time.Time
	// keys are the keys of the raw tables and of the models built so far.
	keys map[string]keys
	// index is parts.index, of the parts that exist (empty on
	// --full-refresh); monthsOf lists the months each part holds.
	index    map[indexKey]indexEntry
	monthsOf map[string][]string
	// used are the parts the build's views read.
	used map[string]bool
	// unwritten are the index rows of the parts built since the last
	// writeIndex, as SQL rows.
	unwritten []string
	// refresh says nothing is read as an earlier run built it.
	refresh bool
	// liveParts are the parts the live raw tables kept across runs read
	// (main.state, space-separated), rawParts those of the build, and
	// rawDigests the build's digests of those tables (keepRawByMonth).
	liveParts, rawParts, rawDigests map[string]string
}

type indexKey struct{ model, month, key string }

type indexEntry struct{ part, digest string }

// newBuilder reads the index of the parts (none when refresh). The raw
// tables' keys come after the load (digestRaw).
func newBuilder(ctx context.Context, conn *sql.Conn, build, runID string, refresh bool, vars map[string]string, asOf time.Time) (*builder, error) {
	b := &builder{conn: conn, schema: build, runID: runID, vars: vars, asOf: asOf, keys: map[string]keys{}, monthOf: map[string]string{},
		index: map[indexKey]indexEntry{}, monthsOf: map[string][]string{}, used: map[string]bool{}, liveParts: map[string]string{}, rawParts: map[string]string{}, rawDigests: map[string]string{}}
	contract, err := uptakesql.Contract()
	if err != nil {
		return nil, err
	}
	models, err := uptakesql.Models()
	if err != nil {
		return nil, err
	}
	for _, m := range append(contract, models...) {
		if m.Month != "" {
			b.monthOf[m.Name] = m.Month
		}
	}
	if err := conn.QueryRowContext(ctx, `SELECT library_version FROM pragma_version()`).Scan(&b.engine); err != nil {
		return nil, fmt.Errorf("DuckDB version: %w", err)
	}
	for _, q := range partsDDL {
		if err := b.exec(ctx, q); err != nil {
			return nil, fmt.Errorf("parts: %w", err)
		}
	}
	live, err := warehouse.Pairs(ctx, conn, `SELECT substr(key, 6), value FROM main.state WHERE prefix(key, 'part:')`)
	if err != nil {
		return nil, fmt.Errorf("parts: %w", err)
	}
	for _, tp := range live {
		b.liveParts[tp[0]] = tp[1]
	}
	if refresh {
		// Nothing is read as it was; the live parts of the raw tables kept
		// across runs (liveParts) are still read, as their history.
		b.refresh = true
		return b, nil
	}
	rows, err := conn.QueryContext(ctx, `SELECT model, coalesce(strftime(month, '%Y-%m-%d'), ''), key, part, coalesce(digest, '') FROM parts.index
		WHERE part IN (SELECT table_name FROM duckdb_tables() WHERE schema_name = 'parts' AND database_name = current_database())`)
	if err != nil {
		return nil, fmt.Errorf("parts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k indexKey
		var e indexEntry
		if err := rows.Scan(&k.model, &k.month, &k.key, &e.part, &e.digest); err != nil {
			return nil, err
		}
		b.index[k] = e
		if k.month != "" {
			b.monthsOf[e.part] = append(b.monthsOf[e.part], k.month)
		}
	}
	return b, rows.Err()
}

// partName names a new part of model for this run.
func (b *builder) partName(model string, keys ...string) string {
	return model + "__" + hashOf(append([]string{b.runID, model}, keys...), nil)[:12]
}

// record adds a new part of a whole model (or raw table) to the index,
// with its key and the digest of its rows.
func (b *builder) record(model, part, key, digest string) {
	b.addIndexRows(model, part, map[string]string{"": key}, map[string]string{"": digest})
}

// recordMonths adds a new part of a monthly model to the index: a row a
// month, with its key and (@cutoff) the digest of its rows.
func (b *builder) recordMonths(model, part string, months, contents map[string]string) {
	b.monthsOf[part] = append(b.monthsOf[part], slices.Collect(maps.Keys(months))...)
	b.addIndexRows(model, part, months, contents)
}

// addIndexRows adds the index rows of one part: month ("" for a whole model)
// → key, and → digest ("" for none). The build reads them from b.index;
// parts.index gets them with the step's others (writeIndex).
func (b *builder) addIndexRows(model, part string, keys, digests map[string]string) {
	for _, month := range slices.Sorted(maps.Keys(keys)) {
		key, digest := keys[month], digests[month]
		m, d := "NULL", "NULL"
		if month != "" {
			m = "DATE " + sqltext.Quote(month)
		}
		if digest != "" {
			d = sqltext.Quote(digest)
		}
		b.unwritten = append(b.unwritten, fmt.Sprintf("(%s, %s, %s, %s, %s)", sqltext.Quote(model), m, sqltext.Quote(key), sqltext.Quote(part), d))
		b.index[indexKey{model, month, key}] = indexEntry{part, digest}
	}
}

// writeIndex writes to parts.index the rows of the parts built since it
// last ran, 500 a statement: a step's parts in one or a few statements
// rather than one each (an INSERT a part cost the bundled sample's first
// run 40 ms). The step runner (pipeline.do) calls it as each step ends,
// failed, stopped or not, so that the next run finds the parts a failed
// run built;
// a process killed in the middle of a step leaves that step's parts out of
// the index, and the next run builds them again (collect drops them).
func (b *builder) writeIndex(ctx context.Context) error {
	for chunk := range slices.Chunk(b.unwritten, 500) {
		if err := b.exec(ctx, "INSERT INTO parts.index VALUES "+strings.Join(chunk, ", ")); err != nil {
			return fmt.Errorf("parts: %w", err)
		}
	}
	b.unwritten = nil
	return nil
}

// liveState are the statements that record, in the swap's transaction,
// the parts of the raw tables kept across runs that the build reads: the
// live ones, for keepRawByMonth.
func (b *builder) liveState() []string {
	var q []string
	for _, table := range slices.Sorted(maps.Keys(keptAcrossRuns)) {
		key := sqltext.Quote("part:" + table)
		if part, ok := b.rawParts[table]; ok {
			q = append(q, fmt.Sprintf("INSERT OR REPLACE INTO main.state VALUES (%s, %s)", key, sqltext.Quote(part)))
		} else {
			q = append(q, "DELETE FROM main.state WHERE key = "+key) // loaded otherwise: no part is live
		}
	}
	return q
}

// view makes name, in the build schema, a view of its parts: each part is
// read whole, or, given months, only those (month being the @month).
// A published_at column is given the run's time (the parts hold NULL, or
// the time of the run that built them, for a copy of a model's column).
func (b *builder) view(ctx context.Context, name, month string, parts map[string][]string) error {
	var selects []string
	for _, s := range inMonthOrder(parts) {
		b.used[s.part] = true
		sel := "SELECT * FROM parts." + s.part
		if s.months != nil && len(s.months) < len(b.monthsOf[s.part]) {
			sel += " WHERE " + monthsOfPart(month, s.months, b.monthsOf[s.part])
		}
		selects = append(selects, sel)
	}
	q := strings.Join(selects, " UNION ALL ")
	var stamped int
	if err := b.conn.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info(?) WHERE name = 'published_at'`,
		"parts."+sqltext.Ident(slices.Min(slices.Collect(maps.Keys(parts))))).Scan(&stamped); err != nil {
		return fmt.Errorf("view of %s: %w", name, err)
	}
	if stamped > 0 {
		q = fmt.Sprintf("SELECT * REPLACE (%s AS published_at) FROM (%s)", b.vars["published_at"], q)
	}
	if err := b.exec(ctx, fmt.Sprintf("CREATE OR REPLACE VIEW %s AS %s", name, q)); err != nil {
		return fmt.Errorf("view of %s: %w", name, err)
	}
	return nil
}

// collect drops the parts no model of the build (now live) reads, once it
// is live: those of the build before it, and those of failed runs.
func (b *builder) collect(ctx context.Context) error {
	names, err := warehouse.Names(ctx, b.conn, `SELECT table_name FROM duckdb_tables() WHERE schema_name = 'parts' AND table_name NOT IN (`+
		sqltext.Literals(partsBookkeeping)+`) AND database_name = current_database()`)
	if err != nil {
		return err
	}
	for _, n := range names {
		if !b.used[n] {
			if err := b.exec(ctx, "DROP TABLE IF EXISTS parts."+sqltext.Ident(n)); err != nil {
				return fmt.Errorf("parts: drop %s: %w", n, err)
			}
		}
	}
	for _, index := range []string{"parts.index", "parts.inputs"} {
		q := "DELETE FROM " + index
		if len(b.used) > 0 {
			q += " WHERE part NOT IN (" + sqltext.Literals(slices.Collect(maps.Keys(b.used))) + ")"
		}
		if err := b.exec(ctx, q); err != nil {
			return fmt.Errorf("parts: %w", err)
		}
	}
	return nil
}

func (b *builder) exec(ctx context.Context, q string) error {
	_, err := b.conn.ExecContext(ctx, q)
	return err
}

// monthsOfPart is the condition that a row of a part holding months
// (held) is of the months a view reads from it (read, sorted): a range of
// months, less those of the range the view reads from other parts. Not an
// IN list: DuckDB makes an IN of five values or more a hash join, which
// gives the rows out of their order (a month's rows between another's in a
// published file, on 300,000 rows and up).
func monthsOfPart(month string, read, held []string) string {
	first, last := read[0], read[len(read)-1]
	if first == last {
		return fmt.Sprintf("(%s) = DATE %s", month, sqltext.Quote(first))
	}
	cond := fmt.Sprintf("(%[1]s) >= DATE %[2]s AND (%[1]s) <= DATE %[3]s", month, sqltext.Quote(first), sqltext.Quote(last))
	for _, m := range slices.Sorted(slices.Values(held)) {
		if m > first && m < last && !slices.Contains(read, m) {
			cond += fmt.Sprintf(" AND (%s) <> DATE %s", month, sqltext.Quote(m))
		}
	}
	return cond
}

// segment is a run of consecutive months a view reads from one part (all
// of it when months is nil).
type segment struct {
	part   string
	months []string
}

// inMonthOrder lists the parts of a view as segments in month order, so
// that the view reads its rows as a model ordered by month wrote them
// (DuckDB keeps the order of a UNION ALL's branches, and of a filter of
// ranges, when a COPY or a table's insert needs it; see monthsOfPart): a
// published model keeps its ORDER BY when its months come from several
// parts. Parts read whole (nil months) come in name order.
func inMonthOrder(parts map[string][]string) []segment {
	type partMonth struct{ month, part string }
	var whole []segment
	var pm []partMonth
	for p, months := range parts {
		if months == nil {
			whole = append(whole, segment{part: p})
			continue
		}
		for _, m := range months {
			pm = append(pm, partMonth{m, p})
		}
	}
	slices.SortFunc(whole, func(a, b segment) int { return strings.Compare(a.part, b.part) })
	slices.SortFunc(pm, func(a, b partMonth) int { return strings.Compare(a.month, b.month) })
	out := whole
	for i, x := range pm {
		if i > 0 && pm[i-1].part == x.part {
			last := &out[len(out)-1]
			last.months = append(last.months, x.month)
			continue
		}
		out = append(out, segment{part: x.part, months: []string{x.month}})
	}
	return out
}
