package csvexport

import (
	"fmt"
	"sort"
	"strings"

	"github.com/uptake-dev/uptake/config"
	"github.com/uptake-dev/uptake/connectors/remote"
)

// Spec is the config block of a csvexport source.
type Spec struct {
	Name string `yaml:"name"`
	Kind string `yaml:"kind"`
	// Format holds defaults shared by the exports.
	Format `yaml:",inline"`
	// Establishments is the monthly establishment export, one file a month.
	// Required.
	Establishments Dataset `yaml:"establishments"`
	// Users is the users export, a snapshot of the users (optional).
	Users Dataset `yaml:"users"`
	// Activity is the daily per-user activity export (optional).
	Activity Dataset `yaml:"activity"`
	// Orders is the ERP's orders export, one row per order, loaded into
	// `raw_orders` (optional).
	Orders Dataset `yaml:"orders"`
	// Remote holds the connection settings of paths that are URLs
	// (gs://, sftp://, https://).
	Remote remote.Settings `yaml:"remote"`
}

// Format says how files are written. Empty fields are detected or defaulted.
type Format struct {
	// Delimiter is the character between fields: `,`, `;`, `tab` or `|`
	// (default: detected, the most frequent of the four in the header
	// line). Like `encoding`, `fallback_encoding`, `decimal` and
	// `date_format`, it may be set at the top of the source's block, for
	// every export, or in an export's block, for that export alone.
	Delimiter string `yaml:"delimiter"`
	// Encoding is the character encoding of the files: `auto` (the default:
	// a byte order mark, else UTF-8 when the file is valid UTF-8, else
	// `fallback_encoding`), or `utf-8`, `windows-1252`, `iso-8859-1`,
	// `iso-8859-15` or `utf-16`.
	Encoding string `yaml:"encoding"`
	// FallbackEncoding is the encoding `auto` reads a file in when it is not
	// valid UTF-8: one of the fixed encodings of `encoding` (default
	// `windows-1252`).
	FallbackEncoding string `yaml:"fallback_encoding"`
	// Decimal is the decimal separator of numbers: `.` (the default) or `,`.
	Decimal string `yaml:"decimal"`
	// DateFormat is the strftime format of date columns, such as `%d/%m/%Y`
	// (default: year, month and day, such as 2026-09-30 or 2026/09/30, a time
	// after them not read; see input formats).
	DateFormat string `yaml:"date_format"`
}

// Dataset is one export: where its files are and how to read them.
type Dataset struct {
	// Format overrides the source-wide format for this export.
	Format `yaml:",inline"`
	// Path is where the export's files are: a glob of local files (a
	// relative path is relative to the folder uptake runs from), or a URL
	// with wildcards in the file name only: `gs://bucket/folder/pattern`,
	// `sftp://user@host[:port]/folder/pattern` (absolute on the server;
	// `sftp://host/~/folder/pattern` is under the login folder) or
	// `https://host/folder/pattern` (read from the folder's directory
	// listing; without a wildcard, one file, its query string kept; plain
	// `http://` is refused), whose connection settings are the `remote.*`
	// keys. Required for establishments; an export without a path is not
	// read. A users file is dated by the date in its name, else by the day
	// it was written; orders may come in one file a month or one for
	// everything.
	Path string `yaml:"path"`
	// Month is where an establishments row's month comes from:
	// `filename` (the default: a month or date in the file's name, as in
	// `establishments_2026-09.csv`, `establishments_202609.csv` or
	// `establishments_2026-09-30.csv`) or `column` (the month field of each
	// row; establishments only).
	Month string `yaml:"month"`
	// MonthOffset is the number of months added to the month read, such as
	// `-1` when files are named by the date of the export, the month after
	// their data (establishments only).
	MonthOffset int `yaml:"month_offset"`
	// Columns maps a field to its header in the file, as `field: header`,
	// the header matched case-insensitively after trimming (default: the
	// platform's headers, each field's name, except `portal views` for
	// `portal_views`). The fields: establishments `reference`, `name`,
	// `archived`, `has_portal_access`, `portal_views`, `downloads`,
	// `shares`, `salesperson`, `seats`, `month` (with `month: column`);
	// users `user_id`, `customer_reference`, `email`, `created`,
	// `first_login`, `deactivated`, `archived`; activity `date`, `user_id`,
	// `customer_reference`, `event`, `count`; orders `order_id`,
	// `customer_reference`, `user_id`, `date`, `channel`, `amount`.
	Columns map[string]string `yaml:"columns"`
	// ExpectByDay makes the run fail when the previous month's export is
	// still missing after this day of the current month: from 0 (never) to
	// 28 (establishments only).
	ExpectByDay int `yaml:"expect_by_day"`
	// Incremental, when true, reads only the activity files of the months
	// from the watermark minus `lookback_days` on, and keeps the rows of the
	// earlier months from the last run; it needs files named by month (when
	// a file's name has no month, every file is read). `uptake run --from`
	// reads older files again (activity only; default false).
	Incremental bool `yaml:"incremental"`
	// LookbackDays is how many days before the watermark an incremental read
	// of activity goes back: from 0 to 60, where 0, like leaving it out,
	// means the default, 3.
	LookbackDays int `yaml:"lookback_days"`
	// Channels maps a channel as written in the file to a channel of uptake,
	// as `value in the file: channel`, such as `{webshop: web, "b2b
	// portal": web, fax: phone}`; values are matched case-insensitively
	// after trimming, and a channel is `web`, `email`, `edi`, `phone` or
	// `other` (orders only).
	Channels map[string]string `yaml:"channels"`
}

// field is one column the connector reads from an export.
type field struct {
	name     string // contract-side name (key of Dataset.Columns)
	header   string // default header in the platform's export
	kind     string // text, bool, count, amount, date, month
	required bool
}

// The exports' fields, with the platform's default headers.
var (
	establishmentFields = []field{
		{"reference", "reference", "text", true},
		{"name", "name", "text", false},
		{"archived", "archived", "bool", true},
		{"has_portal_access", "has_portal_access", "bool", true},
		{"portal_views", "portal views", "count", false},
		{"downloads", "downloads", "count", false},
		{"shares", "shares", "count", false},
		{"salesperson", "salesperson", "text", false},
		{"seats", "seats", "count", false},
		{"month", "month", "month", false},
	}
	userFields = []field{
		{"user_id", "user_id", "text", true},
		{"customer_reference", "customer_reference", "text", true},
		{"email", "email", "text", false},
		{"created", "created", "date", false},
		{"first_login", "first_login", "date", false},
		{"deactivated", "deactivated", "date", false},
		{"archived", "archived", "bool", false},
	}
	activityFields = []field{
		{"date", "date", "date", true},
		{"user_id", "user_id", "text", true},
		{"customer_reference", "customer_reference", "text", false},
		{"event", "event", "text", true},
		{"count", "count", "count", false},
	}
	// The amount column must be there (a missing one is more likely a
	// mapping mistake than an export without amounts); an empty amount is NULL.
	orderFields = []field{
		{"order_id", "order_id", "text", true},
		{"customer_reference", "customer_reference", "text", true},
		{"user_id", "user_id", "text", false},
		{"date", "date", "date", true},
		{"channel", "channel", "text", true},
		{"amount", "amount", "amount", true},
	}
)

// channels are the order channels of the data contract.
var channels = []string{"web", "email", "edi", "phone", "other"}

// resolve merges the dataset's format over the source's and fills defaults.
func (d Dataset) resolve(src Format) Format {
	f := src
	if d.Delimiter != "" {
		f.Delimiter = d.Delimiter
	}
	if d.Encoding != "" {
		f.Encoding = d.Encoding
	}
	if d.FallbackEncoding != "" {
		f.FallbackEncoding = d.FallbackEncoding
	}
	if d.Decimal != "" {
		f.Decimal = d.Decimal
	}
	if d.DateFormat != "" {
		f.DateFormat = d.DateFormat
	}
	if f.Encoding == "" {
		f.Encoding = "auto"
	}
	if f.FallbackEncoding == "" {
		f.FallbackEncoding = "windows-1252"
	}
	if f.Decimal == "" {
		f.Decimal = "."
	}
	return f
}

// validate checks one dataset's settings and returns every problem.
func (d Dataset) validate(p config.Plugin, key string, fields []field, required bool) []error {
	var errs []error
	if d.Path == "" {
		if required {
			errs = append(errs, p.PluginErrorf(key, "%s.path is required (a file glob)", key))
		}
		return errs
	}
	known := map[string]bool{}
	for _, f := range fields {
		known[f.name] = true
	}
	var names []string
	for k := range d.Columns {
		if !known[k] {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		errs = append(errs, p.PluginErrorf(key+".columns."+k, "unknown field %q in %s.columns (known: %s)", k, key, fieldNames(fields)))
	}
	switch d.Month {
	case "", "filename":
	case "column":
		if key != "establishments" {
			errs = append(errs, p.PluginErrorf(key+".month", "month: column is only for establishments"))
		}
	default:
		errs = append(errs, p.PluginErrorf(key+".month", "month must be filename or column, not %q", d.Month))
	}
	if _, err := delimiterOf(d.Delimiter); d.Delimiter != "" && err != nil {
		errs = append(errs, p.PluginErrorf(key+".delimiter", "%v", err))
	}
	if d.Decimal != "" && d.Decimal != "." && d.Decimal != "," {
		errs = append(errs, p.PluginErrorf(key+".decimal", "decimal must be \".\" or \",\", not %q", d.Decimal))
	}
	if d.Encoding != "" && d.Encoding != "auto" {
		if _, _, err := lookupEncoding(d.Encoding); err != nil {
			errs = append(errs, p.PluginErrorf(key+".encoding", "%v", err))
		}
	}
	if d.LookbackDays < 0 || d.LookbackDays > 60 {
		errs = append(errs, p.PluginErrorf(key+".lookback_days", "lookback_days must be between 0 and 60, not %d", d.LookbackDays))
	}
	if d.Incremental && key != "activity" {
		errs = append(errs, p.PluginErrorf(key+".incremental", "incremental is only for activity (the other exports are snapshots)"))
	}
	if key != "establishments" && key != "" && d.MonthOffset != 0 {
		errs = append(errs, p.PluginErrorf(key+".month_offset", "month_offset is only for establishments (the other exports take no month from their file names)"))
	}
	if key != "establishments" && key != "" && d.ExpectByDay != 0 {
		errs = append(errs, p.PluginErrorf(key+".expect_by_day", "expect_by_day is only for establishments (the monthly export)"))
	}
	if d.ExpectByDay < 0 || d.ExpectByDay > 28 {
		errs = append(errs, p.PluginErrorf(key+".expect_by_day", "expect_by_day must be between 0 (off) and 28"))
	}
	if len(d.Channels) > 0 && key != "orders" {
		errs = append(errs, p.PluginErrorf(key+".channels", "channels is only for orders"))
	}
	seen := map[string]string{}
	var values []string
	for k := range d.Channels {
		values = append(values, k)
	}
	sort.Strings(values)
	for _, k := range values {
		norm := strings.ToLower(strings.TrimSpace(k))
		switch {
		case norm == "":
			errs = append(errs, p.PluginErrorf(key+".channels", "channels: an empty value cannot be mapped (an empty channel is a reject)"))
		case seen[norm] != "":
			errs = append(errs, p.PluginErrorf(key+".channels."+k, "channels: %q and %q are the same value (matched case-insensitively, trimmed)", seen[norm], k))
		case !validChannel(d.Channels[k]):
			errs = append(errs, p.PluginErrorf(key+".channels."+k, "channels.%s: %q is not a channel (%s)", k, d.Channels[k], strings.Join(channels, ", ")))
		}
		seen[norm] = k
	}
	return errs
}

func validChannel(c string) bool {
	for _, v := range channels {
		if c == v {
			return true
		}
	}
	return false
}

func fieldNames(fields []field) string {
	var s []string
	for _, f := range fields {
		s = append(s, f.name)
	}
	return strings.Join(s, ", ")
}

// delimiterOf turns a configured delimiter into the character DuckDB expects.
func delimiterOf(s string) (string, error) {
	switch s {
	case ",", ";", "|", "\t":
		return s, nil
	case "tab", `\t`:
		return "\t", nil
	}
	return "", fmt.Errorf("delimiter must be \",\", \";\", \"|\" or \"tab\", not %q", s)
}

// sniffDelimiter picks the most frequent of , ; tab | in the header line.
func sniffDelimiter(header string) string {
	best, bestN := ",", 0
	for _, d := range []string{",", ";", "\t", "|"} {
		if n := strings.Count(header, d); n > bestN {
			best, bestN = d, n
		}
	}
	return best
}
