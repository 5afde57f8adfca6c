package etl

// Models kept from one run to the next. Every model and raw table gets a
// key: a digest of what it holds. A model marked "-- @month: expr" (sql/)
// has one key per month, made of its SQL, the variables it reads and the
// keys of what its month reads (the same month of a monthly input, or as
// many earlier months as its @lookback says; the whole of any other input).
// A run rebuilds the months whose key changed and copies the others from
// the live schema; a model without @month is copied whole when its key is
// the same, else rebuilt. The keys of the live tables are kept in the build
// schema (modelKeysTable), so they move with the swap, and a failed run
// leaves them as they were. --full-refresh ignores them.

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

// modelKeysTable holds, in each build schema, the keys of its models (a
// double underscore: the build's own, no view in main).
const modelKeysTable = "models__keys"

// keys is what a model or raw table holds, as far as its readers are
// concerned: one key per month (monthly), or one for the whole table.
type keys struct {
	monthly bool
	months  map[string]string // "2006-01-02" (first day of the month) → key
	whole   string
}

// monthLayout formats a month as keys map it.
const monthLayout = "2006-01-02"

// rawKeys digests the raw tables of the build after the load: per month
// for a raw table with @month (from kept.months for the rows of kept files,
// from the rows themselves for the copied ones), whole for the others.
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

// builder builds the models of a run, keeping what it can of the live ones.
type builder struct {
	conn *sql.Conn
	// schema is the schema being built.
	schema string
	// monthOf maps each monthly raw table and model to its @month.
	monthOf map[string]string
	// live is the live schema ("" before the first run), prev its keys
	// (empty on --full-refresh): model → its keys and, for a model without
	// @month, its content digest.
	live string
	prev map[string]storedKeys
	// vars are the run's variables as set (name → SQL literal); asOf its date.
	vars map[string]string
	asOf time.Time
	// keys are the keys of the raw tables and of the models built so far.
	keys map[string]keys
	// stored are the rows of this build's modelKeysTable.
	stored []storedKey
}

// storedKeys are a model's keys as the live schema's modelKeysTable has them.
type storedKeys struct {
	months map[string]string // monthly: month → key
	key    string            // whole: the key it was built with
	digest string            // whole: its content
}

type storedKey struct{ model, month, key, digest string }

// newBuilder reads the live schema's keys (none when refresh).
func newBuilder(ctx context.Context, conn *sql.Conn, build, live string, refresh bool, vars map[string]string, asOf time.Time, raw map[string]keys) (*builder, error) {
	b := &builder{conn: conn, schema: build, live: live, prev: map[string]storedKeys{}, vars: vars, asOf: asOf, keys: maps.Clone(raw),
		monthOf: map[string]string{}}
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
	if live == "" || refresh {
		return b, nil
	}
	var n int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ? AND database_name = current_database()`,
		live, modelKeysTable).Scan(&n); err != nil || n == 0 {
		return b, err // a warehouse of an older uptake: everything is built
	}
	rows, err := conn.QueryContext(ctx, fmt.Sprintf(`SELECT model, coalesce(strftime(month, '%%Y-%%m-%%d'), ''), key, coalesce(digest, '') FROM %s.%s`,
		sqltext.Ident(live), modelKeysTable))
	if err != nil {
		return nil, fmt.Errorf("keys of the live models: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k storedKey
		if err := rows.Scan(&k.model, &k.month, &k.key, &k.digest); err != nil {
			return nil, err
		}
		s := b.prev[k.model]
		if k.month == "" {
			s.key, s.digest = k.key, k.digest
		} else {
			if s.months == nil {
				s.months = map[string]string{}
			}
			s.months[k.month] = k.key
		}
		b.prev[k.model] = s
	}
	return b, rows.Err()
}

// built says what build did with a model.
type built struct {
	// kept and rebuilt count the months of a monthly model; whole is true
	// for a model without @month, copied when it was kept as it was.
	kept, rebuilt int
	copied        bool
}

// build makes model m in the build schema.
func (b *builder) build(ctx context.Context, m uptakesql.Model) (built, error) {
	where := fmt.Sprintf("sql/%s/%s.sql", m.Layer, m.Name)
	base := b.baseKey(m)
	if m.Month == "" {
		key := hashOf(base, b.wholeInputs(m))
		prev := b.prev[m.Name]
		if prev.key == key && b.liveHas(m.Name) {
			if err := b.exec(ctx, fmt.Sprintf("CREATE TABLE %s AS SELECT * FROM %s.%s", m.Name, sqltext.Ident(b.live), m.Name)); err != nil {
				return built{}, fmt.Errorf("%s: keep: %w", where, err)
			}
			b.keys[m.Name] = keys{whole: prev.digest}
			b.stored = append(b.stored, storedKey{model: m.Name, key: key, digest: prev.digest})
			return built{copied: true}, nil
		}
		if err := b.exec(ctx, fmt.Sprintf("CREATE OR REPLACE TABLE %s AS\n%s", m.Name, m.SQL)); err != nil {
			return built{}, fmt.Errorf("%s: %w", where, err)
		}
		d, err := digest(ctx, b.conn, m.Name)
		if err != nil {
			return built{}, err
		}
		b.keys[m.Name] = keys{whole: d}
		b.stored = append(b.stored, storedKey{model: m.Name, key: key, digest: d})
		return built{}, nil
	}

	months := b.monthKeys(m, base)
	prev := b.prev[m.Name].months
	var keep, rebuild []string
	for _, mo := range slices.Sorted(maps.Keys(months)) {
		if prev[mo] == months[mo] {
			keep = append(keep, mo)
		} else {
			rebuild = append(rebuild, mo)
		}
	}
	var res built
	if len(keep) == 0 || !b.liveHas(m.Name) {
		if err := b.exec(ctx, fmt.Sprintf("CREATE OR REPLACE TABLE %s AS\n%s", m.Name, m.SQL)); err != nil {
			return built{}, fmt.Errorf("%s: %w", where, err)
		}
		res.rebuilt = len(months)
	} else {
		if err := b.exec(ctx, fmt.Sprintf("CREATE TABLE %s AS SELECT * FROM %s.%s WHERE (%s) IN (%s)",
			m.Name, sqltext.Ident(b.live), m.Name, m.Month, dateList(keep))); err != nil {
			return built{}, fmt.Errorf("%s: keep months: %w", where, err)
		}
		if len(rebuild) > 0 {
			if err := b.buildMonths(ctx, m, rebuild); err != nil {
				return built{}, fmt.Errorf("%s: %w", where, err)
			}
		}
		res.kept, res.rebuilt = len(keep), len(rebuild)
	}
	if err := b.checkMonths(ctx, m, months); err != nil {
		return built{}, err
	}
	b.keys[m.Name] = keys{monthly: true, months: months}
	for _, mo := range slices.Sorted(maps.Keys(months)) {
		b.stored = append(b.stored, storedKey{model: m.Name, month: mo, key: months[mo]})
	}
	return res, nil
}

// buildMonths adds to a monthly model the rows of the months given
// (sorted). While it runs, each monthly input is shadowed by a temporary
// view of the months those need (back as far as the model's @lookback
// says), so that the model's SQL reads no more than it must; the rows are
// then kept to the months asked for.
func (b *builder) buildMonths(ctx context.Context, m uptakesql.Model, months []string) error {
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
		if err := b.exec(ctx, fmt.Sprintf("CREATE OR REPLACE TEMP VIEW %s AS SELECT * FROM %s.%s WHERE %s", in, sqltext.Ident(b.schema), in, cond)); err != nil {
			return fmt.Errorf("months of %s: %w", in, err)
		}
	}
	return b.exec(ctx, fmt.Sprintf("INSERT INTO %s SELECT * FROM (\n%s\n) WHERE (%s) IN (%s)", m.Name, m.SQL, m.Month, dateList(months)))
}

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
func (b *builder) checkMonths(ctx context.Context, m uptakesql.Model, months map[string]string) error {
	got, err := warehouse.Names(ctx, b.conn, fmt.Sprintf(`SELECT coalesce(strftime(m, '%%Y-%%m-%%d'), 'NULL') FROM (SELECT DISTINCT (%s)::DATE AS m FROM %s)`, m.Month, m.Name))
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

// saveKeys writes the build's keys, to be read by the next run once this
// build is live.
func (b *builder) saveKeys(ctx context.Context) error {
	if err := b.exec(ctx, "CREATE OR REPLACE TABLE "+modelKeysTable+" (model VARCHAR NOT NULL, month DATE, key VARCHAR NOT NULL, digest VARCHAR)"); err != nil {
		return fmt.Errorf("model keys: %w", err)
	}
	var values []string
	for _, k := range b.stored {
		month, digest := "NULL", "NULL"
		if k.month != "" {
			month = "DATE " + sqltext.Quote(k.month)
		}
		if k.digest != "" {
			digest = sqltext.Quote(k.digest)
		}
		values = append(values, fmt.Sprintf("(%s, %s, %s, %s)", sqltext.Quote(k.model), month, sqltext.Quote(k.key), digest))
	}
	for chunk := range slices.Chunk(values, 500) {
		if err := b.exec(ctx, "INSERT INTO "+modelKeysTable+" VALUES "+strings.Join(chunk, ", ")); err != nil {
			return fmt.Errorf("model keys: %w", err)
		}
	}
	return nil
}

func (b *builder) exec(ctx context.Context, q string) error {
	_, err := b.conn.ExecContext(ctx, q)
	return err
}

// liveHas says whether the live schema has a table of that name.
func (b *builder) liveHas(name string) bool {
	if b.live == "" {
		return false
	}
	_, ok := b.prev[name]
	return ok
}

var variableRE = regexp.MustCompile(`getvariable\('([a-z_]+)'\)`)

// baseKey digests what a model's keys share: its SQL (with @month and
// @lookback), and the values of the variables it reads but as_of, which
// monthKeys and wholeInputs add as each needs.
func (b *builder) baseKey(m uptakesql.Model) []string {
	parts := []string{keyScheme, m.SQL}
	seen := map[string]bool{}
	for _, v := range variableRE.FindAllStringSubmatch(m.SQL, -1) {
		if name := v[1]; name != "as_of" && !seen[name] {
			seen[name] = true
			parts = append(parts, name+"="+b.vars[name])
		}
	}
	slices.Sort(parts[2:])
	return parts
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
