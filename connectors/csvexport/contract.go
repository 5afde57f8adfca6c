package csvexport

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/uptake-dev/uptake/connectors"
	"github.com/uptake-dev/uptake/sql/sqltext"
)

// Values read as booleans, case-insensitively (English, French, Danish).
const (
	trueValues  = "'yes','y','true','t','1','oui','vrai','ja'"
	falseValues = "'no','n','false','f','0','non','faux','nej'"
)

func boolExpr(col string) string {
	return fmt.Sprintf("(CASE WHEN lower(trim(%[1]s)) IN (%[2]s) THEN true WHEN lower(trim(%[1]s)) IN (%[3]s) THEN false END)", col, trueValues, falseValues)
}

func monthExpr(col string, offset int) string {
	v := "trim(" + col + ")"
	return fmt.Sprintf("(date_trunc('month', coalesce(try_strptime(%[1]s, '%%Y-%%m-%%d'), try_strptime(%[1]s, '%%Y-%%m'), try_strptime(%[1]s, '%%Y%%m'), try_strptime(%[1]s, '%%m/%%Y'), try_strptime(%[1]s, '%%Y/%%m'))) + INTERVAL %[2]d MONTH)::DATE", v, offset)
}

// check is one row-level rule: when cond holds, the row is rejected with reason.
type check struct {
	cond, column, reason string
}

// rowChecks lists the rules for the fields present in a file. Types DuckDB
// already enforced (numbers, dates) are not checked again.
func rowChecks(ds dataset, sc *scanned) []check {
	var cs []check
	for _, f := range ds.fields {
		if !sc.present[f.name] {
			continue
		}
		col := sqltext.Ident(f.name)
		h := sc.headers[f.name]
		quoted := "'\"' || " + col + "::VARCHAR || '\"'"
		if f.kind == "count" { // as written: -3, not -3.0
			quoted = fmt.Sprintf("'\"' || CASE WHEN %[1]s = trunc(%[1]s) THEN %[1]s::BIGINT::VARCHAR ELSE %[1]s::VARCHAR END || '\"'", col)
		}
		if f.kind == "amount" { // without the trailing zeros of the wide decimal
			quoted = fmt.Sprintf("'\"' || rtrim(rtrim(%s::VARCHAR, '0'), '.') || '\"'", col)
		}
		switch f.kind {
		case "text":
			// Read trimmed, an empty value as NULL (readQuery).
			if f.required {
				cs = append(cs, check{col + " IS NULL", h, sqltext.Quote("empty value in a required column")})
			}
		case "bool":
			if f.required {
				cs = append(cs, check{fmt.Sprintf("nullif(trim(%s), '') IS NULL", col), h, sqltext.Quote("empty value in a required column")})
			}
			cs = append(cs, check{fmt.Sprintf("nullif(trim(%s), '') IS NOT NULL AND %s IS NULL", col, boolExpr(col)), h,
				quoted + " || ' is not a yes/no value (yes/no, true/false, 1/0, oui/non)'"})
		case "count":
			if ds.key == "activity" {
				cs = append(cs, check{col + " IS NULL", h, sqltext.Quote("empty count")})
			}
			cs = append(cs, check{fmt.Sprintf("%[1]s < 0 OR %[1]s <> trunc(%[1]s) OR %[1]s > 2147483647", col), h,
				quoted + " || ' is not a whole number of 0 or more'"})
		case "amount":
			// Negative amounts (refunds, credit notes) are kept; an empty
			// amount is NULL (unknown). DuckDB rejected what is not a number.
			cs = append(cs, check{"abs(" + col + ") >= 1e16", h, quoted + " || ' is too large for an amount (at most 16 digits before the decimal separator)'"})
		case "date":
			if f.required {
				cs = append(cs, check{col + " IS NULL", h, sqltext.Quote("empty date")})
			}
		case "month":
			cs = append(cs, check{monthExpr(col, 0) + " IS NULL", h,
				quoted + " || ' is not a month (2026-09, 202609, 2026-09-30 or 09/2026)'"})
		}
	}
	return cs
}

func reasonExprs(cs []check) (cond, column, reason string) {
	if len(cs) == 0 {
		return "false", "NULL", "NULL"
	}
	var conds, cols, reasons []string
	for _, c := range cs {
		conds = append(conds, "("+c.cond+")")
		cols = append(cols, fmt.Sprintf("WHEN %s THEN %s", c.cond, sqltext.Quote(c.column)))
		reasons = append(reasons, fmt.Sprintf("WHEN %s THEN %s", c.cond, c.reason))
	}
	return "coalesce(" + strings.Join(conds, " OR ") + ", false)", "CASE " + strings.Join(cols, " ") + " END", "CASE " + strings.Join(reasons, " ") + " END"
}

// contractSelect rejects the rows that break a rule and returns the SELECT
// that turns the file's accepted rows into the contract's columns, and how
// many physical lines the rejected rows took.
func (s *Source) contractSelect(ctx context.Context, conn *sql.Conn, ds dataset, sc *scanned, fileDate time.Time) (string, int64, error) {
	bad, col, reason := reasonExprs(rowChecks(ds, sc))
	semantic, err := s.rejectRows(ctx, conn, ds, sc, bad, col, reason)
	if err != nil {
		return "", 0, err
	}
	if semantic == 0 {
		bad = "false" // nothing to filter: the load need not evaluate the rules again
	}
	// Text columns were trimmed, and empty values made NULL, as the file
	// was read (readQuery): they are read as stored.
	var sel string
	switch ds.key {
	case "establishments":
		month := "DATE " + sqltext.Quote(fileDate.Format("2006-01-02"))
		if ds.cfg.Month == "column" {
			month = monthExpr(`"month"`, ds.cfg.MonthOffset)
		}
		sel = fmt.Sprintf(`SELECT %s AS month, reference AS customer_ref,
			coalesce(name, reference) AS name,
			coalesce(salesperson, 'unassigned') AS salesperson,
			%s AS archived, %s AS has_portal_access, seats::INTEGER AS seats,
			portal_views::BIGINT AS portal_views, downloads::BIGINT AS downloads, shares::BIGINT AS shares,
			%s AS source_file, %s AS source_line
			FROM (SELECT rowid AS rid, * FROM %s) s %s WHERE NOT %s`,
			month, boolExpr("archived"), boolExpr("has_portal_access"), sqltext.Quote(sc.file), sc.lines.rowLine("s"),
			sc.table, sc.lines.rowJoins("s"), bad)
	case "users":
		sel = fmt.Sprintf(`SELECT DATE %s AS snapshot_date, user_id,
			customer_reference AS customer_ref,
			nullif(lower(trim(split_part(email, '@', 2))), '') AS email_domain,
			created AS created_at, first_login AS activated_at, deactivated AS deactivated_at,
			%s AS archived, %s AS source_file, %s AS source_line
			FROM (SELECT rowid AS rid, * FROM %s) s %s WHERE NOT %s`,
			sqltext.Quote(fileDate.Format("2006-01-02")), boolExpr("archived"), sqltext.Quote(sc.file), sc.lines.rowLine("s"),
			sc.table, sc.lines.rowJoins("s"), bad)
	case "activity":
		sel = fmt.Sprintf(`SELECT "date" AS day, customer_reference AS customer_ref,
			user_id, event, coalesce("count", 1)::BIGINT AS "count", 'csvexport' AS source
			FROM %s WHERE NOT %s`, sc.table, bad)
	case "orders":
		sel = fmt.Sprintf(`SELECT order_id, customer_reference AS customer_ref,
			user_id, "date" AS day, %s AS channel,
			amount::DECIMAL(18, 2) AS revenue, 'csvexport' AS source,
			channel AS channel_as_written, %s AS source_file, %s AS source_line
			FROM (SELECT rowid AS rid, * FROM %s) s %s WHERE NOT %s`,
			channelExpr("channel", ds.cfg.Channels), sqltext.Quote(sc.file), sc.lines.rowLine("s"),
			sc.table, sc.lines.rowJoins("s"), bad)
	}
	return sel, semantic, nil
}

// rejectRows keeps the rows that break a rule in load_rejects, one reject
// per physical line (lines are worked out for the bad rows only), and takes
// them off sc.rows. It returns the number of lines.
func (s *Source) rejectRows(ctx context.Context, conn *sql.Conn, ds dataset, sc *scanned, bad, col, reason string) (int64, error) {
	// Most files break no rule: a count of the bad rows costs a fraction of
	// the statement that places them on their lines.
	var any bool
	if err := conn.QueryRowContext(ctx, fmt.Sprintf("SELECT EXISTS (SELECT 1 FROM %s WHERE %s)", sc.table, bad)).Scan(&any); err != nil {
		return 0, fmt.Errorf("%s: check rows: %w", sc.file, err)
	}
	if !any {
		return 0, nil
	}
	res, err := conn.ExecContext(ctx, fmt.Sprintf(`INSERT INTO load_rejects
		SELECT %s, %s, %s, first_line + i, col, %s, NULL
		FROM (SELECT *, unnest(range(lines)) AS i FROM (
			SELECT %s AS first_line, %s AS lines, %s AS col, %s AS reason
			FROM (SELECT rowid AS rid, * FROM %s WHERE %s) s %s))`,
		sqltext.Quote(s.name), sqltext.Quote(ds.target), sqltext.Quote(sc.file), continued("first_line", "lines", "i", "reason"),
		sc.lines.rowLine("s"), sc.lines.rowLines("s"), col, reason, sc.table, bad, sc.lines.rowJoins("s")))
	if err != nil {
		return 0, fmt.Errorf("%s: check rows: %w", sc.file, err)
	}
	lines, _ := res.RowsAffected()
	records := lines
	if lines > 0 && sc.lines.hasSpans {
		if err := conn.QueryRowContext(ctx, fmt.Sprintf("SELECT count(*) FROM %s WHERE %s", sc.table, bad)).Scan(&records); err != nil {
			return 0, fmt.Errorf("%s: count rejected rows: %w", sc.file, err)
		}
	}
	sc.rows -= records
	return lines, nil
}

// checkKeys fails when a key of ds appears twice in one period of relation
// (one file's rows as it is read, or those of the files of one period):
// a reference twice in a month, a user twice in a snapshot.
func checkKeys(ctx context.Context, conn *sql.Conn, ds dataset, relation string) error {
	switch ds.key {
	case "establishments":
		return duplicates(ctx, conn, relation, "month", "%Y-%m", "customer_ref", "reference")
	case "users":
		return duplicates(ctx, conn, relation, "snapshot_date", "%Y-%m-%d", "user_id", "user id")
	}
	return nil
}

// keyColumns are the fields of a file's scan that hold the key checkKeys
// checks, by dataset: the scan holds them as the contract's rows do.
var keyColumns = map[string]string{"establishments": "reference", "users": "user_id"}

// keyRepeats says whether a key of ds appears twice among the rows a file's
// scan accepted, whatever their period: only then can the file's rows break
// checkKeys, whose query (through the rows' line maps, per period) costs a
// file of a few hundred rows more than reading it.
func keyRepeats(ctx context.Context, conn *sql.Conn, ds dataset, sc *scanned) (bool, error) {
	col, ok := keyColumns[ds.key]
	if !ok {
		return false, nil
	}
	var repeats bool
	q := fmt.Sprintf("SELECT EXISTS (SELECT 1 FROM %[1]s WHERE %[2]s IS NOT NULL GROUP BY %[2]s HAVING count(*) > 1)", sc.table, sqltext.Ident(col))
	if err := conn.QueryRowContext(ctx, q).Scan(&repeats); err != nil {
		return false, fmt.Errorf("check duplicate %s: %w", col, err)
	}
	return repeats, nil
}

// checkDataset applies the rules that span rows and files. fileDates are
// the dates of the files (the month of an establishments file named by
// month, the snapshot date of a users file), read or not: a broken file is
// reported as such, not also as a missing month. relations are the rows of
// each file that could be read.
//
// Each file was checked alone as it was read (checkKeys): a key twice in
// one period can only be in two files of that period, so only those are
// checked together. A users export kept every day would otherwise cost
// each run a pass over every snapshot ever kept.
func (s *Source) checkDataset(ctx context.Context, conn *sql.Conn, run connectors.Run, ds dataset, view string, fileDates map[string]time.Time, relations map[string]string) error {
	switch ds.key {
	case "establishments":
		var dups error
		if ds.cfg.Month == "column" { // a file may hold any month
			dups = checkKeys(ctx, conn, ds, view)
		} // else one file a month (extractDataset)
		return errors.Join(dups, s.checkMonths(ctx, conn, run, view, ds.cfg.ExpectByDay, fileDates))
	case "users":
		shared := sharingADate(fileDates, relations)
		if len(shared) == 0 {
			return nil
		}
		selects := make([]string, len(shared))
		for i, r := range shared {
			selects[i] = "SELECT * FROM " + r
		}
		return checkKeys(ctx, conn, ds, "("+strings.Join(selects, " UNION ALL ")+")")
	case "orders":
		// An order read twice (two files covering the same days, or one
		// row per order line) would count twice.
		err := duplicates(ctx, conn, view, "", "", "order_id", "order id")
		if err == nil {
			s.otherChannels(ctx, conn, run, view)
		}
		return err
	}
	return nil
}

// sharingADate lists, in file order, the relations of the files whose date
// another file read has too.
func sharingADate(fileDates map[string]time.Time, relations map[string]string) []string {
	files := map[time.Time][]string{}
	for f := range relations {
		files[fileDates[f]] = append(files[fileDates[f]], f)
	}
	var shared []string
	for _, fs := range files {
		if len(fs) > 1 {
			shared = append(shared, fs...)
		}
	}
	sort.Strings(shared)
	for i, f := range shared {
		shared[i] = relations[f]
	}
	return shared
}

// channelExpr maps a channel as written to one of the contract's: the
// configured mapping first, then the contract's own names, else other
// (compared lower-cased and trimmed).
func channelExpr(col string, mapping map[string]string) string {
	var keys []string
	for k := range mapping {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var whens []string
	for _, k := range keys {
		whens = append(whens, fmt.Sprintf("WHEN %s THEN %s", sqltext.Quote(strings.ToLower(strings.TrimSpace(k))), sqltext.Quote(mapping[k])))
	}
	for _, c := range channels {
		whens = append(whens, fmt.Sprintf("WHEN %[1]s THEN %[1]s", sqltext.Quote(c)))
	}
	return fmt.Sprintf("(CASE lower(trim(%s)) %s ELSE 'other' END)", col, strings.Join(whens, " "))
}

// otherChannels logs the channels read as other that are not written
// "other": without a channels: mapping, a web shop's own name for itself
// would hide its orders from the web ordering share.
func (s *Source) otherChannels(ctx context.Context, conn *sql.Conn, run connectors.Run, view string) {
	rows, err := conn.QueryContext(ctx, fmt.Sprintf(`SELECT trim(channel_as_written), count(*) FROM %s
		WHERE channel = 'other' AND lower(trim(channel_as_written)) <> 'other'
		GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10`, view))
	if err != nil {
		return // only a hint
	}
	defer rows.Close()
	var seen []string
	for rows.Next() {
		var v string
		var n int64
		if rows.Scan(&v, &n) == nil {
			seen = append(seen, fmt.Sprintf("%q (%d)", v, n))
		}
	}
	if len(seen) > 0 {
		run.Logger.Warn("orders with these channels count as other; map them under orders.channels if they are web, email, edi or phone",
			"source", s.name, "channels", strings.Join(seen, ", "))
	}
}

// duplicates fails when a key appears twice in one period (in all the
// files when periodCol is empty), naming the files and lines.
func duplicates(ctx context.Context, conn *sql.Conn, view, periodCol, periodFmt, key, what string) error {
	period := func(alias string) string {
		if periodCol == "" {
			return "''"
		}
		return fmt.Sprintf("strftime(%s%s, %s)", alias, periodCol, sqltext.Quote(periodFmt))
	}
	// Find the duplicated keys first (cheap), then where they are.
	rows, err := conn.QueryContext(ctx, fmt.Sprintf(`WITH dup AS (
			SELECT %[1]s AS period, %[2]s AS k FROM %[3]s GROUP BY ALL HAVING count(*) > 1 ORDER BY 1, 2 LIMIT 20)
		SELECT d.period, d.k, string_agg(v.source_file || ':' || v.source_line, ', ' ORDER BY v.source_file, v.source_line)
		FROM %[3]s v JOIN dup d ON d.k = v.%[2]s AND d.period = %[4]s
		GROUP BY ALL ORDER BY 1, 2`, period(""), key, view, period("v.")))
	if err != nil {
		return fmt.Errorf("check duplicate %s: %w", what, err)
	}
	defer rows.Close()
	var errs []error
	for rows.Next() {
		var p, k, where string
		if err := rows.Scan(&p, &k, &where); err != nil {
			return err
		}
		if periodCol == "" {
			errs = append(errs, fmt.Errorf("%s: duplicate %s %q (each must appear once, or it is counted twice)", where, what, k))
			continue
		}
		errs = append(errs, fmt.Errorf("%s: duplicate %s %q in %s (each must appear once)", where, what, k, p))
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return errors.Join(errs...)
}

// checkMonths fails on a gap between monthly exports, and on a late one.
func (s *Source) checkMonths(ctx context.Context, conn *sql.Conn, run connectors.Run, view string, expectByDay int, fileMonths map[string]time.Time) error {
	rows, err := conn.QueryContext(ctx, fmt.Sprintf(`SELECT month, any_value(source_file) FROM %s GROUP BY month ORDER BY month`, view))
	if err != nil {
		return fmt.Errorf("check months: %w", err)
	}
	defer rows.Close()
	byMonth := map[time.Time]string{}
	for f, m := range fileMonths {
		byMonth[m] = f
	}
	for rows.Next() {
		var m time.Time
		var f string
		if err := rows.Scan(&m, &f); err != nil {
			return err
		}
		byMonth[m.UTC()] = f
	}
	if err := rows.Err(); err != nil {
		return err
	}
	var months []time.Time
	for m := range byMonth {
		months = append(months, m)
	}
	sort.Slice(months, func(i, j int) bool { return months[i].Before(months[j]) })
	files := make([]string, len(months))
	for i, m := range months {
		files[i] = byMonth[m]
	}
	var errs []error
	for i := 1; i < len(months); i++ {
		for m := months[i-1].AddDate(0, 1, 0); m.Before(months[i]); m = m.AddDate(0, 1, 0) {
			errs = append(errs, fmt.Errorf("missing establishments export for %s (between %s in %s and %s in %s)",
				m.Format("2006-01"), months[i-1].Format("2006-01"), files[i-1], months[i].Format("2006-01"), files[i]))
		}
	}
	if expectByDay > 0 && len(months) > 0 {
		// The export of month M is due by day expectByDay of M+1: past that
		// day last month's is due, before it the month before's.
		due := time.Date(run.AsOf.Year(), run.AsOf.Month()-2, 1, 0, 0, 0, 0, time.UTC)
		if run.AsOf.Day() > expectByDay {
			due = due.AddDate(0, 1, 0)
		}
		if last := months[len(months)-1]; last.Before(due) {
			errs = append(errs, fmt.Errorf("the establishments export for %s is late: expected by day %d of the next month, the latest is %s (%s)",
				last.AddDate(0, 1, 0).Format("2006-01"), expectByDay, last.Format("2006-01"), files[len(files)-1]))
		}
	}
	return errors.Join(errs...)
}
