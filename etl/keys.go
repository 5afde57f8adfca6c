package etl

// The keys of raw tables and models: what a model's month (or a whole
// model) is made of, so that an unchanged one is known without building it.

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
	// monthless is the key of a monthly raw table's rows without a month
	// (every month's key has it too): a reader of the whole table sees
	// them even when the table has no month.
	monthless string
}

// monthLayout formats a month as keys map it.
const monthLayout = "2006-01-02"

// digestRaw gives the raw tables of the build their keys, after the load:
// per month for a raw table with @month (from kept.months for the rows of
// kept files, from the rows themselves for the copied ones), whole for the
// others.
func (b *builder) digestRaw(ctx context.Context, files *filecache.Store, ex connectors.Extracted) error {
	conn := b.conn
	contract, err := uptakesql.Contract()
	if err != nil {
		return err
	}
	parts, err := warehouse.Names(ctx, conn, `SELECT table_name FROM duckdb_tables()
		WHERE schema_name = current_schema() AND database_name = current_database() AND suffix(table_name, ?)`, warehouse.PartSuffix)
	if err != nil {
		return err
	}
	for _, m := range contract {
		if !strings.HasPrefix(m.Name, "raw_") {
			continue
		}
		if m.Month == "" {
			d, ok := b.rawDigests[m.Name] // made of its months' (keepRawByMonth)
			if !ok {
				var err error
				if d, err = digest(ctx, conn, m.Name); err != nil {
					return err
				}
			}
			b.keys[m.Name] = keys{whole: d}
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
				return err
			}
		}
		var selects []string
		if len(kept) > 0 {
			selects = append(selects, `SELECT month AS m, rows, digest FROM kept.months WHERE relation IN (`+sqltext.Literals(kept)+`)`)
		}
		if copied != "" {
			selects = append(selects, filecache.MonthDigests(copied, m.Month))
		}
		k := keys{monthly: true, months: map[string]string{}}
		rows, err := conn.QueryContext(ctx, `SELECT strftime(m, '%Y-%m-%d'), sum(rows)::VARCHAR || ':' || sum(digest)::VARCHAR FROM (`+
			strings.Join(selects, " UNION ALL ")+`) GROUP BY m`)
		if err != nil {
			return fmt.Errorf("months of %s: %w", m.Name, err)
		}
		var nullKey string
		for rows.Next() {
			var month sql.NullString
			var d string
			if err := rows.Scan(&month, &d); err != nil {
				rows.Close()
				return err
			}
			if !month.Valid {
				nullKey = d // rows without a month: every month reads them
				continue
			}
			k.months[month.String] = d
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		cols, err := columnsDigest(ctx, conn, m.Name)
		if err != nil {
			return err
		}
		for mo, d := range k.months {
			if nullKey != "" {
				d += "|null:" + nullKey
			}
			k.months[mo] = d + ":" + cols
		}
		if nullKey != "" {
			k.monthless = nullKey + ":" + cols
		}
		b.keys[m.Name] = k
	}
	return nil
}

// digest is a table's row count, the sum of its rows' hashes and its
// columns' names and types (columnsDigest).
func digest(ctx context.Context, conn *sql.Conn, table string) (string, error) {
	cols, err := columnsDigest(ctx, conn, table)
	if err != nil {
		return "", err
	}
	d, err := rowsDigest(ctx, conn, table, "true")
	if err != nil {
		return "", err
	}
	return d + ":" + cols, nil
}

// rowsDigest is the row count and the sum of the rows' hashes of the rows
// of relation where cond holds.
func rowsDigest(ctx context.Context, conn *sql.Conn, relation, cond string) (string, error) {
	var d string
	if err := conn.QueryRowContext(ctx, `SELECT count(*)::VARCHAR || ':' || coalesce(sum(hash(t)), 0)::VARCHAR FROM `+relation+` t WHERE `+cond).Scan(&d); err != nil {
		return "", fmt.Errorf("digest of %s: %w", relation, err)
	}
	return d, nil
}

// columnsDigest digests a table's column names and types, in order: DuckDB's
// hash of a row sees neither (a column renamed, or an INTEGER made a
// BIGINT, hashes the same), and a reader of the table may.
func columnsDigest(ctx context.Context, conn *sql.Conn, table string) (string, error) {
	cols, err := sqltext.Columns(ctx, conn, table)
	if err != nil {
		return "", fmt.Errorf("digest of %s: %w", table, err)
	}
	var parts []string
	for _, c := range cols {
		parts = append(parts, c.Name+" "+c.Type)
	}
	return hashOf(parts, nil)[:12], nil
}

// baseKey digests what a model's keys share: its SQL (with @month and
// @lookback), and the values of the variables it reads but as_of, which
// monthKeys and wholeInputs add as each needs.
func (b *builder) baseKey(m uptakesql.Model) []string {
	parts := []string{keyScheme + "/" + b.engine, m.SQL}
	seen := map[string]bool{}
	for _, v := range uptakesql.VariableRead.FindAllStringSubmatch(m.SQL, -1) {
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
	return mainTableRE.MatchString(sqltext.StripComments(m.SQL))
}

// mainTableRE finds a table of main, its schema named in any case, quoted
// or not.
var mainTableRE = regexp.MustCompile(`(?i)(^|[^a-z0-9_])"?main"?\s*\.`)

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
		if k.monthless != "" {
			parts = append(parts, in+"@none="+k.monthless)
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
