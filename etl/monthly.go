package etl

// Models kept from one run to the next. Every model and raw table gets a
// key: a digest of what it holds. A model marked "-- @month: expr" (sql/)
// has one key per month, made of its SQL, the variables it reads and the
// keys of what its month reads (the same month of a monthly input, or as
// many earlier months as its @lookback says; the whole of any other input).
// Models are built into parts (schema parts), indexed by their keys, and
// a build schema's model is a view of its parts: a run builds the months
// whose key no part has, and reads the others where they are; a model
// without @month is read from its part when its key is the same. A failed
// run leaves the live views and their parts as they were. --full-refresh
// builds every part anew.

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/uptake-dev/uptake/connectors"
	"github.com/uptake-dev/uptake/etl/filecache"
	"github.com/uptake-dev/uptake/etl/warehouse"
	uptakesql "github.com/uptake-dev/uptake/sql"
	"github.com/uptake-dev/uptake/sql/sqltext"
)

// keyScheme is part of every key: a change of how keys are made rebuilds
// everything once.
const keyScheme = "uptake-keys-1"

// keys is what a model or raw table holds, as far as its readers are
// concerned: one key per month (monthly), or one for the whole table.
type keys struct {
	monthly bool
	months  map[string]string // "2006-01-02" (first day of the month) → key
	whole   string
}

// monthLayout formats a month as keys map it.
const monthLayout = "2006-01-02"

// digestRaw gives the raw tables of the build their keys, after the load.
// rawKeys digests the raw tables of the build after the load: per month
// for a raw table with @month (from kept.months for the rows of kept files,
// from the rows themselves for the copied ones), whole for the others.
func (b *builder) digestRaw(ctx context.Context, files *filecache.Store, ex connectors.Extracted) error {
	raw, err := rawKeys(ctx, b.conn, files, ex)
	if err != nil {
		return err
	}
	maps.Copy(b.keys, raw)
	return nil
}

func rawKeys(ctx context.Context, conn *sql.Conn, files *filecache.Store, ex connectors.Extracted) (map[string]keys, error) {
	contract, err := uptakesql.Contract()
	if err != nil {
		return nil, err
	}
	parts, err := warehouse.Names(ctx, conn, `SELECT table_name FROM duckdb_tables()
		WHERE schema_name = current_schema() AND database_name = current_database() AND suffix(table_name, ?)`, warehouse.PartSuffix)
	if err != nil {
		return nil, err
	}
	out := map[string]keys{}
	for _, m := range contract {
		if !strings.HasPrefix(m.Name, "raw_") {
			continue
		}
		if m.Month == "" {
			d, err := digest(ctx, conn, m.Name)
			if err != nil {
				return nil, err
			}
			out[m.Name] = keys{whole: d}
			continue
		}
		kept := ex.Kept[m.Name]
		if keptAcrossRuns[m.Name] != "" {
			kept = nil // copied by the load
		}
		copied := m.Name
		if len(kept) > 0 {
			copied = m.Name + warehouse.PartSuffix
			if !slices.Contains(parts, copied) {
				copied = ""
			}
			if err := files.Months(ctx, kept, m.Month); err != nil {
				return nil, err
			}
		}
		var selects []string
		if len(kept) > 0 {
			quoted := make([]string, len(kept))
			for i, r := range kept {
				quoted[i] = sqltext.Quote(r)
			}
			selects = append(selects, `SELECT month AS m, rows, digest FROM kept.months WHERE relation IN (`+strings.Join(quoted, ", ")+`)`)
		}
		if copied != "" {
			selects = append(selects, fmt.Sprintf(`SELECT (%s)::DATE AS m, count(*) AS rows, sum(hash(t)) AS digest FROM %s t GROUP BY m`, m.Month, copied))
		}
		k := keys{monthly: true, months: map[string]string{}}
		rows, err := conn.QueryContext(ctx, `SELECT strftime(m, '%Y-%m-%d'), sum(rows)::VARCHAR || ':' || sum(digest)::VARCHAR FROM (`+
			strings.Join(selects, " UNION ALL ")+`) GROUP BY m`)
		if err != nil {
			return nil, fmt.Errorf("months of %s: %w", m.Name, err)
		}
		var nullKey string
		for rows.Next() {
			var month sql.NullString
			var d string
			if err := rows.Scan(&month, &d); err != nil {
				rows.Close()
				return nil, err
			}
			if !month.Valid {
				nullKey = d // rows without a month: every month reads them
				continue
			}
			k.months[month.String] = d
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		if nullKey != "" {
			for mo, d := range k.months {
				k.months[mo] = d + "|null:" + nullKey
			}
		}
		out[m.Name] = k
	}
	return out, nil
}

// digest is a table's row count and the sum of its rows' hashes.
func digest(ctx context.Context, conn *sql.Conn, table string) (string, error) {
	var d string
	if err := conn.QueryRowContext(ctx, `SELECT count(*)::VARCHAR || ':' || coalesce(sum(hash(t)), 0)::VARCHAR FROM `+table+` t`).Scan(&d); err != nil {
		return "", fmt.Errorf("digest of %s: %w", table, err)
	}
	return d, nil
}

// partsSchema holds the tables models are built into, each named after
// the model and the run that built it, and indexed by the keys it was built
// for (parts.index): a build schema's model is a view of its parts. A part
// never changes, so a later run whose keys are the same reads it as it is
// (content addressed: a part a failed run built is as good), and parts no
// live model reads are dropped after each successful run (collect).
const partsSchema = "parts"

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
}

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
	// --full-refresh); monthsOf counts the months each part holds.
	index    map[indexKey]indexEntry
	monthsOf map[string]int
	// used are the parts the build's views read.
	used map[string]bool
	// liveParts are the parts the live raw tables kept across runs read
	// (main.state), rawParts those of the build.
	liveParts, rawParts map[string]string
}

type indexKey struct{ model, month, key string }

type indexEntry struct{ part, digest string }

// newBuilder reads the index of the parts (none when refresh). The raw
// tables' keys come after the load (digestRaw).
func newBuilder(ctx context.Context, conn *sql.Conn, build, runID string, refresh bool, vars map[string]string, asOf time.Time) (*builder, error) {
	b := &builder{conn: conn, schema: build, runID: runID, vars: vars, asOf: asOf, keys: map[string]keys{}, monthOf: map[string]string{},
		index: map[indexKey]indexEntry{}, monthsOf: map[string]int{}, used: map[string]bool{}, liveParts: map[string]string{}, rawParts: map[string]string{}}
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
	if refresh {
		return b, nil
	}
	live, err := conn.QueryContext(ctx, `SELECT substr(key, 6), value FROM main.state WHERE prefix(key, 'part:')`)
	if err != nil {
		return nil, fmt.Errorf("parts: %w", err)
	}
	for live.Next() {
		var table, part string
		if err := live.Scan(&table, &part); err != nil {
			live.Close()
			return nil, err
		}
		b.liveParts[table] = part
	}
	live.Close()
	if err := live.Err(); err != nil {
		return nil, err
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
			b.monthsOf[e.part]++
		}
	}
	return b, rows.Err()
}

// partName names a new part of model for this run.
func (b *builder) partName(model string, keys ...string) string {
	return model + "__" + hashOf(append([]string{b.runID, model}, keys...), nil)[:12]
}

// record adds a new part's rows to parts.index.
func (b *builder) record(ctx context.Context, model, part string, months map[string]string, key, digest string) error {
	var values []string
	add := func(month, key, digest string) {
		m, d := "NULL", "NULL"
		if month != "" {
			m = "DATE " + sqltext.Quote(month)
		}
		if digest != "" {
			d = sqltext.Quote(digest)
		}
		values = append(values, fmt.Sprintf("(%s, %s, %s, %s, %s)", sqltext.Quote(model), m, sqltext.Quote(key), sqltext.Quote(part), d))
		b.index[indexKey{model, month, key}] = indexEntry{part, digest}
	}
	if months == nil {
		add("", key, digest)
	}
	for _, mo := range slices.Sorted(maps.Keys(months)) {
		add(mo, months[mo], "")
		b.monthsOf[part]++
	}
	for chunk := range slices.Chunk(values, 500) {
		if err := b.exec(ctx, "INSERT INTO parts.index VALUES "+strings.Join(chunk, ", ")); err != nil {
			return fmt.Errorf("parts: %w", err)
		}
	}
	return nil
}

// keepRaw makes a raw table kept across runs (keptAcrossRuns: its rows are
// this run's files and the history of the live table) a view of the live
// table's part, when that part was made from the same relations (their
// names change with their content) and holds no period after the as-of
// date (the compaction depends on it): the load would make the same rows.
// It says whether it did; else, once the load has filled the table, save
// makes it a part for the next runs. Only the live part is read: an older
// one lacks the history gathered since.
func (b *builder) keepRaw(ctx context.Context, table, period string, relations []string) (kept bool, save func() error, err error) {
	key := hashOf(append([]string{keyScheme + "/" + b.engine, table}, slices.Sorted(slices.Values(relations))...), nil)
	if e, ok := b.index[indexKey{table, "", key}]; ok && e.part == b.liveParts[table] {
		var within bool
		if err := b.conn.QueryRowContext(ctx, fmt.Sprintf("SELECT coalesce(max(%s) <= getvariable('as_of'), true) FROM parts.%s", period, e.part)).Scan(&within); err != nil {
			return false, nil, fmt.Errorf("load %s: %w", table, err)
		}
		if within {
			if err := b.exec(ctx, "DROP TABLE "+table); err != nil {
				return false, nil, fmt.Errorf("load %s: %w", table, err)
			}
			b.rawParts[table] = e.part
			return true, nil, b.view(ctx, table, "", map[string][]string{e.part: nil})
		}
	}
	save = func() error {
		part := b.partName(table, key)
		for _, q := range []string{
			fmt.Sprintf("CREATE TABLE parts.%s AS SELECT * FROM %s", part, table),
			"DROP TABLE " + table,
		} {
			if err := b.exec(ctx, q); err != nil {
				return fmt.Errorf("load %s: %w", table, err)
			}
		}
		if err := b.record(ctx, table, part, nil, key, ""); err != nil {
			return err
		}
		b.rawParts[table] = part
		return b.view(ctx, table, "", map[string][]string{part: nil})
	}
	return false, save, nil
}

// liveState are the statements that record, in the swap's transaction,
// the parts of the raw tables kept across runs that the build reads: the
// live ones, for keepRaw.
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
	for _, p := range slices.Sorted(maps.Keys(parts)) {
		b.used[p] = true
		sel := "SELECT * FROM parts." + p
		if months := parts[p]; months != nil && len(months) < b.monthsOf[p] {
			sel += fmt.Sprintf(" WHERE (%s) IN (%s)", month, dateList(months))
		}
		selects = append(selects, sel)
	}
	q := strings.Join(selects, " UNION ALL ")
	var stamped int
	if err := b.conn.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_columns() WHERE database_name = current_database()
		AND schema_name = 'parts' AND table_name = ? AND column_name = 'published_at'`, slices.Min(slices.Collect(maps.Keys(parts)))).Scan(&stamped); err != nil {
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
	names, err := warehouse.Names(ctx, b.conn, `SELECT table_name FROM duckdb_tables() WHERE schema_name = 'parts' AND table_name <> 'index' AND database_name = current_database()`)
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
	used := make([]string, 0, len(b.used))
	for p := range b.used {
		used = append(used, sqltext.Quote(p))
	}
	q := "DELETE FROM parts.index"
	if len(used) > 0 {
		q += " WHERE part NOT IN (" + strings.Join(used, ", ") + ")"
	}
	if err := b.exec(ctx, q); err != nil {
		return fmt.Errorf("parts: %w", err)
	}
	return nil
}

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
		if err := b.record(ctx, m.Name, part, nil, key, d); err != nil {
			return built{}, err
		}
		b.keys[m.Name] = keys{whole: d}
		return built{}, b.view(ctx, m.Name, "", map[string][]string{part: nil})
	}

	months := b.monthKeys(m, base)
	parts := map[string][]string{}
	rebuild := map[string]string{}
	for _, mo := range slices.Sorted(maps.Keys(months)) {
		if e, ok := b.index[indexKey{m.Name, mo, months[mo]}]; ok {
			parts[e.part] = append(parts[e.part], mo)
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
		if len(rebuild) == len(months) {
			if err := b.exec(ctx, fmt.Sprintf("CREATE TABLE parts.%s AS\n%s", part, m.SQL)); err != nil {
				return built{}, fmt.Errorf("%s: %w", where, err)
			}
		} else if err := b.buildMonths(ctx, m, part, slices.Sorted(maps.Keys(rebuild))); err != nil {
			return built{}, fmt.Errorf("%s: %w", where, err)
		}
		if err := b.checkMonths(ctx, m, "parts."+part, rebuild); err != nil {
			return built{}, err
		}
		if err := b.record(ctx, m.Name, part, rebuild, "", ""); err != nil {
			return built{}, err
		}
		parts[part] = slices.Sorted(maps.Keys(rebuild))
	}
	b.keys[m.Name] = keys{monthly: true, months: months}
	return res, b.view(ctx, m.Name, m.Month, parts)
}

// buildMonths adds to a monthly model the rows of the months given
// (sorted). While it runs, each monthly input is shadowed by a temporary
// view of the months those need (back as far as the model's @lookback
// says), so that the model's SQL reads no more than it must; the rows are
// then kept to the months asked for.
func (b *builder) buildMonths(ctx context.Context, m uptakesql.Model, part string, months []string) error {
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
	return b.exec(ctx, fmt.Sprintf("CREATE TABLE parts.%s AS SELECT * FROM (\n%s\n) WHERE (%s) IN (%s)", part, m.SQL, m.Month, dateList(months)))
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
// run that keeps months would lose those rows.
func (b *builder) checkMonths(ctx context.Context, m uptakesql.Model, table string, months map[string]string) error {
	got, err := warehouse.Names(ctx, b.conn, fmt.Sprintf(`SELECT coalesce(strftime(m, '%%Y-%%m-%%d'), 'NULL') FROM (SELECT DISTINCT (%s)::DATE AS m FROM %s)`, m.Month, table))
	if err != nil {
		return fmt.Errorf("sql/%s/%s.sql: months: %w", m.Layer, m.Name, err)
	}
	for _, mo := range got {
		if _, ok := months[mo]; !ok {
			return fmt.Errorf("sql/%s/%s.sql: rows of month %s, which none of its monthly inputs has at the months its @lookback reads: "+
				"correct its @month or @lookback", m.Layer, m.Name, mo)
		}
	}
	return nil
}

func (b *builder) exec(ctx context.Context, q string) error {
	_, err := b.conn.ExecContext(ctx, q)
	return err
}

var variableRE = regexp.MustCompile(`getvariable\('([a-z_]+)'\)`)

// baseKey digests what a model's keys share: its SQL (with @month and
// @lookback), and the values of the variables it reads but as_of, which
// monthKeys and wholeInputs add as each needs.
func (b *builder) baseKey(m uptakesql.Model) []string {
	parts := []string{keyScheme + "/" + b.engine, m.SQL}
	seen := map[string]bool{}
	for _, v := range variableRE.FindAllStringSubmatch(m.SQL, -1) {
		if name := v[1]; name != "as_of" && name != "published_at" && !seen[name] {
			seen[name] = true
			parts = append(parts, name+"="+b.vars[name])
		}
	}
	slices.Sort(parts[2:])
	if readsBookkeeping(m) {
		parts = append(parts, "run="+b.runID) // main's tables change with every run
	}
	return parts
}

// readsBookkeeping says whether a model reads a table of main (the runs),
// which no key describes: it is built at every run.
func readsBookkeeping(m uptakesql.Model) bool {
	return strings.Contains(sqltext.StripComments(m.SQL), "main.")
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

func readsAsOf(m uptakesql.Model) bool { return strings.Contains(m.SQL, "getvariable('as_of')") }

// inputs are the raw tables and models m reads, by name.
func inputs(m uptakesql.Model) []string {
	return slices.Sorted(slices.Values(append(slices.Clone(m.Raw), m.Deps...)))
}

// wholeInputs lists what a model without @month depends on: as_of when it
// reads it, and every key of its inputs.
func (b *builder) wholeInputs(m uptakesql.Model) []string {
	var parts []string
	if readsAsOf(m) {
		parts = append(parts, "as_of="+b.asOf.Format(monthLayout))
	}
	for _, in := range inputs(m) {
		k := b.keys[in]
		if !k.monthly {
			parts = append(parts, in+"="+k.whole)
			continue
		}
		for _, mo := range slices.Sorted(maps.Keys(k.months)) {
			parts = append(parts, in+"@"+mo+"="+k.months[mo])
		}
	}
	return parts
}

// monthKeys gives a monthly model its months (those its monthly inputs
// have, and the later ones their @lookback reaches: n months after each,
// or, for "all", every later month of any input) and each month's key.
// A month over before the as-of date does not depend on it (the contract
// of @month: a model's ended months read no as_of but as "ended"); the
// others do.
func (b *builder) monthKeys(m uptakesql.Model, base []string) map[string]string {
	ins := inputs(m)
	var all []string // every month of every monthly input
	for _, in := range ins {
		if k := b.keys[in]; k.monthly {
			all = append(all, slices.Collect(maps.Keys(k.months))...)
		}
	}
	slices.Sort(all)
	all = slices.Compact(all)
	months := map[string]bool{}
	for _, in := range ins {
		k := b.keys[in]
		if !k.monthly {
			continue
		}
		back, ok := m.Lookback[in]
		for mo := range k.months {
			months[mo] = true
			if !ok || back == 0 {
				continue
			}
			t, _ := time.Parse(monthLayout, mo)
			if back != uptakesql.LookbackAll {
				for j := 1; j <= back; j++ {
					months[t.AddDate(0, j, 0).Format(monthLayout)] = true
				}
				continue
			}
			for _, later := range all {
				if later > mo {
					months[later] = true
				}
			}
		}
	}
	out := map[string]string{}
	for mo := range months {
		t, _ := time.Parse(monthLayout, mo)
		parts := slices.Clone(base)
		if readsAsOf(m) {
			if !t.AddDate(0, 1, 0).After(b.asOf) {
				parts = append(parts, "as_of=ended")
			} else {
				parts = append(parts, "as_of="+b.asOf.Format(monthLayout))
			}
		}
		for _, in := range ins {
			k := b.keys[in]
			if !k.monthly {
				parts = append(parts, in+"="+k.whole)
				continue
			}
			back, ok := m.Lookback[in]
			if !ok {
				back = 0
			}
			for _, from := range slices.Sorted(maps.Keys(k.months)) {
				ft, _ := time.Parse(monthLayout, from)
				if ft.After(t) || (back != uptakesql.LookbackAll && ft.Before(t.AddDate(0, -back, 0))) {
					continue
				}
				parts = append(parts, in+"@"+from+"="+k.months[from])
			}
		}
		out[mo] = hashOf(parts, nil)
	}
	return out
}

// hashOf digests a key's parts.
func hashOf(parts, more []string) string {
	h := sha256.New()
	for _, p := range append(slices.Clone(parts), more...) {
		fmt.Fprintf(h, "%d:%s\n", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// dateList is a SQL list of dates.
func dateList(months []string) string {
	q := make([]string, len(months))
	for i, m := range months {
		q[i] = "DATE " + sqltext.Quote(m)
	}
	return strings.Join(q, ", ")
}
