// Package csvexport reads the B2B platform's CSV exports (monthly
// establishments, users snapshot, daily per-user activity) and the ERP's
// orders export through DuckDB's own CSV reader into the raw contract tables.
//
// Files may be UTF-8 (with or without BOM), UTF-16 or Windows-1252 (any other
// single-byte encoding can be configured); delimiters , ; tab or |; booleans
// yes/no, true/false, 1/0, oui/non; decimal commas. A row that cannot be read
// goes to the rejects with file, physical line, column and reason, one
// reject for each line it took (a structural pass finds, before DuckDB
// reads a file, the quotes never closed, control characters and values over
// checks.max_cell_chars: see lint.go); a file that cannot be used at all
// (empty, header only, missing column, month unknown, duplicate reference or
// order id) is an error naming the file.
package csvexport

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/uptake-dev/uptake/config"
	"github.com/uptake-dev/uptake/connectors"
	"github.com/uptake-dev/uptake/connectors/backoff"
	"github.com/uptake-dev/uptake/connectors/remote"
	"github.com/uptake-dev/uptake/sql/sqltext"
)

func init() {
	connectors.RegisterSource("csvexport", func(p config.Plugin, cfg *config.Config) (connectors.Source, error) {
		checks := config.Defaults().Checks
		if cfg != nil {
			checks = cfg.Checks
		}
		src, err := New(p, checks)
		if err == nil && cfg != nil {
			src.remoteRoot = remoteRootFor(cfg.Warehouse)
		}
		return src, err
	})
}

// DefaultExpectByDay is the day of the month after which last month's
// establishments export is late.
const DefaultExpectByDay = 10

// Source is a configured csvexport source.
type Source struct {
	name   string
	spec   Spec
	tmpDir string
	// maxCellChars is checks.max_cell_chars: a longer value rejects its row.
	maxCellChars int
	// remoteRoot is the folder of the copies of remote files (beside the
	// warehouse); remoteRetry their fetches' retry policy (zero: the
	// mirror's default).
	remoteRoot  string
	remoteRetry backoff.Policy
}

// dataset is one export with what the connector knows about it.
type dataset struct {
	key    string // config key: establishments, users, activity, orders
	target string // raw contract table
	fields []field
	cfg    Dataset
	// remote is set when the configured path is a URL: cfg.Path is then
	// the glob of the local copies.
	remote *fetched
}

// DefaultSpec is the config block of a csvexport source before its keys are read:
// the defaults of the keys a config leaves out (the configuration
// reference shows them).
func DefaultSpec() Spec { return Spec{Establishments: Dataset{ExpectByDay: DefaultExpectByDay}} }

// New builds a source from its config block, reporting every setting
// problem; checks are the config's limits (checks.max_cell_chars).
func New(p config.Plugin, checks config.Checks) (*Source, error) {
	spec := DefaultSpec()
	if err := config.DecodeStrict(p.File, p.Node, &spec); err != nil {
		return nil, err
	}
	var errs []error
	errs = append(errs, spec.Establishments.validate(p, "establishments", establishmentFields, true)...)
	errs = append(errs, spec.Users.validate(p, "users", userFields, false)...)
	errs = append(errs, spec.Activity.validate(p, "activity", activityFields, false)...)
	errs = append(errs, spec.Orders.validate(p, "orders", orderFields, false)...)
	if err := (Dataset{Format: spec.Format}).validate(p, "", nil, false); err != nil {
		errs = append(errs, err...)
	}
	errs = append(errs, validateRemote(p, spec)...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	maxCell := checks.MaxCellChars
	if maxCell <= 0 {
		maxCell = config.DefaultMaxCellChars
	}
	return &Source{name: p.Name, spec: spec, tmpDir: os.TempDir(), maxCellChars: maxCell, remoteRoot: filepath.Join(os.TempDir(), "uptake-"+RemoteDir)}, nil
}

// hasRemote tells whether a dataset's path is a URL.
func (s *Source) hasRemote() bool {
	for _, d := range s.datasets() {
		if remote.IsRemote(d.cfg.Path) {
			return true
		}
	}
	return false
}

func (s *Source) datasets() []dataset {
	all := []dataset{
		{"establishments", "raw_customers", establishmentFields, s.spec.Establishments, nil},
		{"users", "raw_users", userFields, s.spec.Users, nil},
		{"activity", "raw_activity", activityFields, s.spec.Activity, nil},
		{"orders", "raw_orders", orderFields, s.spec.Orders, nil},
	}
	var out []dataset
	for _, d := range all {
		if d.cfg.Path != "" {
			out = append(out, d)
		}
	}
	return out
}

// Extract reads every configured export. It reads all files before giving
// up, so that one run reports every broken file at once.
func (s *Source) Extract(ctx context.Context, conn *sql.Conn, run connectors.Run) (connectors.Extracted, error) {
	out := connectors.Extracted{
		Relations: map[string][]string{}, Kept: map[string][]string{}, RowsIn: map[string]int64{},
		RowsRead: map[string]int64{}, Rejected: map[string]int64{},
	}
	root := s.remoteRoot
	if run.Validate && s.hasRemote() {
		// uptake validate: the copies of the run's mirror are left alone
		// (a run may be reading them), at the cost of fetching everything.
		tmp, err := os.MkdirTemp("", "uptake-validate-remote-")
		if err != nil {
			return out, err
		}
		defer os.RemoveAll(tmp)
		root = tmp
	}
	sets, err := s.fetchRemote(ctx, run, s.datasets(), root)
	errs := []error{err}
	for _, ds := range sets {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		if ds.remote != nil {
			out.Warnings = append(out.Warnings, s.remoteLookalikes(ds, sets)...)
		} else {
			out.Warnings = append(out.Warnings, s.lookalikeWarnings(ds)...)
		}
		rels, err := s.extractDataset(ctx, conn, run, ds, &out)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if run.Files != nil {
			out.Kept[ds.target] = append(out.Kept[ds.target], rels...)
		} else {
			out.Relations[ds.target] = append(out.Relations[ds.target], rels...)
		}
	}
	return out, errors.Join(errs...)
}

// extractDataset reads the files of one export and returns the relations of
// their rows, one a file.
func (s *Source) extractDataset(ctx context.Context, conn *sql.Conn, run connectors.Run, ds dataset, out *connectors.Extracted) ([]string, error) {
	files, err := filepath.Glob(ds.cfg.Path)
	if err != nil {
		return nil, fmt.Errorf("%s: %s.path %q: %w", s.name, ds.key, ds.cfg.Path, err)
	}
	if len(files) == 0 && ds.remote != nil {
		return nil, fmt.Errorf("%s: no file matches %s.path %q", s.name, ds.key, ds.remote.loc.Redacted())
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: no file matches %s.path %q (working directory %s)", s.name, ds.key, ds.cfg.Path, cwd())
	}
	sort.Strings(files)
	fileDates := map[string]time.Time{}
	var errs []error
	if ds.key == "activity" && ds.cfg.Incremental {
		var window connectors.Window
		files, window = s.incrementalFiles(files, run, ds.cfg)
		out.Windows = append(out.Windows, window)
		if len(files) == 0 {
			return nil, nil // no new file: the window keeps the earlier rows
		}
	}
	if ds.key == "establishments" && ds.cfg.Month != "column" {
		byMonth := map[time.Time]string{}
		for _, f := range files {
			m, ok := dateInName(f)
			if !ok {
				errs = append(errs, fmt.Errorf("%s: cannot tell the month of this file from its name: expected a month such as 2026-09, 202609 or 2026-09-30 in it (or set establishments.month: column)", f))
				continue
			}
			m = time.Date(m.Year(), m.Month()+time.Month(ds.cfg.MonthOffset), 1, 0, 0, 0, 0, time.UTC)
			if other, dup := byMonth[m]; dup {
				errs = append(errs, fmt.Errorf("%s and %s: two files for the month %s; keep one", other, f, m.Format("2006-01")))
				continue
			}
			byMonth[m] = f
			fileDates[f] = m
		}
	}
	if ds.key == "users" {
		// The snapshot date: the date in the file name, else the day the file
		// was written (stable across re-runs, unlike the run's date).
		for _, f := range files {
			if d, ok := dateInName(f); ok {
				fileDates[f] = d
			} else if fi, err := os.Stat(f); err == nil {
				m := fi.ModTime().In(run.Location)
				fileDates[f] = time.Date(m.Year(), m.Month(), m.Day(), 0, 0, 0, 0, time.UTC)
			}
		}
	}
	var spans []daySpan
	var parts []string
	relations := map[string]string{} // file → its rows
	for i, f := range files {
		if len(errs) > 0 && ds.key == "establishments" && fileDates[f].IsZero() && ds.cfg.Month != "column" {
			continue
		}
		r, err := s.readFile(ctx, conn, run, ds, f, fileDates[f], i)
		if err != nil {
			out.FilesRead++ // parsed, or tried: a broken file is read again next run
			errs = append(errs, err)
			continue
		}
		if r.kept {
			out.FilesKept++
		} else {
			out.FilesRead++
		}
		out.RowsRead[ds.target] += r.read
		out.Rejected[ds.target] += r.rejected
		out.RowsIn[ds.target] += r.rows
		parts = append(parts, r.relation)
		relations[f] = r.relation
		if ds.key == "activity" {
			span, err := daysOf(ctx, conn, f, r.relation)
			if err != nil {
				errs = append(errs, err)
			} else if span.rows > 0 {
				spans = append(spans, span)
			}
		}
	}
	errs = append(errs, overlaps(ctx, conn, spans)...)
	if len(parts) == 0 {
		return nil, errors.Join(errs...)
	}
	// The checks across files run on the files that could be read, so that
	// one run (or `uptake validate`) reports every problem at once.
	view := fmt.Sprintf("%s__%s", ds.target, sqltext.SafeName(s.name))
	selects := make([]string, len(parts))
	for i, p := range parts {
		selects[i] = "SELECT * FROM " + p
	}
	q := fmt.Sprintf("CREATE OR REPLACE TEMP VIEW %s AS %s", view, strings.Join(selects, "\nUNION ALL\n"))
	if _, err := conn.ExecContext(ctx, q); err != nil {
		return nil, fmt.Errorf("%s: %s: %w", s.name, ds.key, err)
	}
	if err := s.checkDataset(ctx, conn, run, ds, view, fileDates, relations); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return parts, nil
}

var dateInNameRE = regexp.MustCompile(`(?:^|[^0-9])((?:19|20)\d{2})-?(0[1-9]|1[0-2])(?:-?(0[1-9]|[12]\d|3[01]))?(?:[^0-9]|$)`)

// dateInName finds a date (2026-09-30, 20260930) or month (2026-09, 202609)
// in a file's base name; a month gives its first day.
func dateInName(path string) (time.Time, bool) {
	m := dateInNameRE.FindStringSubmatch(filepath.Base(path))
	if m == nil {
		return time.Time{}, false
	}
	y, _ := strconv.Atoi(m[1])
	mo, _ := strconv.Atoi(m[2])
	d := 1
	if m[3] != "" {
		d, _ = strconv.Atoi(m[3])
	}
	t := time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d {
		return time.Time{}, false
	}
	return t, true
}

func cwd() string {
	d, _ := os.Getwd()
	return d
}

// daySpan is the range of days an activity file covers.
type daySpan struct {
	file, relation string
	first, last    time.Time
	rows           int64
}

// daysOf reads the span of an activity file's relation (contract columns).
func daysOf(ctx context.Context, conn *sql.Conn, file, relation string) (daySpan, error) {
	span := daySpan{file: file, relation: relation}
	var first, last sql.NullTime
	if err := conn.QueryRowContext(ctx, `SELECT min(day), max(day), count(*) FROM `+relation).Scan(&first, &last, &span.rows); err != nil {
		return span, fmt.Errorf("%s: %w", file, err)
	}
	span.first, span.last = first.Time, last.Time
	return span, nil
}

// overlaps reports activity files that hold the same rows (same day, user
// and event): they would be counted twice. Files that only share a day (an
// export split in parts) are fine.
func overlaps(ctx context.Context, conn *sql.Conn, spans []daySpan) []error {
	sort.Slice(spans, func(i, j int) bool { return spans[i].first.Before(spans[j].first) })
	var errs []error
	for i := 1; i < len(spans); i++ {
		for j := 0; j < i; j++ {
			a, b := spans[j], spans[i]
			if b.first.After(a.last) {
				continue
			}
			from, to := b.first, minTime(a.last, b.last)
			var n int64
			var day, user, event sql.NullString
			q := fmt.Sprintf(`SELECT count(*), min(day)::VARCHAR, min(user_id), min(event) FROM (
				SELECT day, user_id, event FROM %[1]s WHERE day BETWEEN $1 AND $2
				INTERSECT
				SELECT day, user_id, event FROM %[2]s WHERE day BETWEEN $1 AND $2)`, a.relation, b.relation)
			if err := conn.QueryRowContext(ctx, q, from, to).Scan(&n, &day, &user, &event); err != nil {
				errs = append(errs, fmt.Errorf("compare %s and %s: %w", a.file, b.file, err))
				continue
			}
			if n > 0 {
				errs = append(errs, fmt.Errorf("%s and %s: %d rows appear in both (e.g. %s, user %s, event %s); they would be counted twice (narrow activity.path to one of them)",
					a.file, b.file, n, day.String, user.String, event.String))
			}
		}
	}
	return errs
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// incrementalFiles keeps the activity files of the months from the
// watermark minus the lookback (or the run's --from) on; the window they
// replace starts on the first of those months and has no end. When a file
// has no month in its name, every file is read.
func (s *Source) incrementalFiles(files []string, run connectors.Run, d Dataset) ([]string, connectors.Window) {
	lookback := d.LookbackDays
	if lookback == 0 {
		lookback = connectors.DefaultLookbackDays
	}
	from, to, _ := run.WindowFor(s.name, time.Time{}, lookback)
	everything := connectors.Window{Table: "raw_activity", Source: "csvexport", From: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		To: time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), Watermark: to}
	first := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC)
	var keep []string
	for _, f := range files {
		m, ok := dateInName(f)
		if !ok {
			return files, everything
		}
		if !m.Before(first) {
			keep = append(keep, f)
		}
	}
	if len(keep) == len(files) {
		return files, everything
	}
	w := everything
	w.From = first
	return keep, w
}
