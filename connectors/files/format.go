package files

import (
	"database/sql"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Formatting of the report's numbers, ratios and labels.

func groupDigits(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(thinSpace)
		}
		b.WriteRune(c)
	}
	return sign + b.String()
}

// fmtNum formats an integer with thin-space thousands separators; NULL is "—".
func fmtNum(v any) string {
	switch n := v.(type) {
	case sql.NullInt64:
		if !n.Valid {
			return dash
		}
		return groupDigits(strconv.FormatInt(n.Int64, 10))
	case int64:
		return groupDigits(strconv.FormatInt(n, 10))
	case int:
		return groupDigits(strconv.Itoa(n))
	}
	return fmt.Sprint(v)
}

// fmtDec formats a decimal with one digit after the point.
func fmtDec(f sql.NullFloat64) string {
	if !f.Valid || math.IsNaN(f.Float64) || math.IsInf(f.Float64, 0) {
		return dash
	}
	s := strconv.FormatFloat(f.Float64, 'f', 1, 64)
	i := strings.IndexByte(s, '.')
	return groupDigits(s[:i]) + s[i:]
}

// fmtPct formats a fraction as a percentage with one decimal: 0.75 -> "75.0 %".
func fmtPct(f sql.NullFloat64) string {
	if !f.Valid || math.IsNaN(f.Float64) || math.IsInf(f.Float64, 0) {
		return dash
	}
	return strconv.FormatFloat(f.Float64*100, 'f', 1, 64) + " %"
}

// fmtSignedPct formats a signed fraction: 0.05 -> "+5.0 %", -0.032 -> "-3.2 %".
func fmtSignedPct(f sql.NullFloat64) string {
	switch momClass(f) {
	case "pos":
		return "+" + fmtPct(f)
	case "zero":
		return "0.0 %"
	}
	return fmtPct(f)
}

func momClass(f sql.NullFloat64) string {
	switch {
	case !f.Valid || math.IsNaN(f.Float64):
		return ""
	case math.Abs(f.Float64) < 0.0005:
		return "zero"
	case f.Float64 > 0:
		return "pos"
	}
	return "neg"
}

func fmtStr(s sql.NullString) string {
	if !s.Valid || s.String == "" {
		return dash
	}
	return s.String
}

func spName(s sql.NullString) string {
	if !s.Valid || s.String == "" {
		return "(unassigned)"
	}
	return s.String
}

// monthLabel renders "Sep 2026", with "(to date)" for an incomplete month.
func monthLabel(k kpi) string {
	if !k.Complete.Bool {
		return k.Month.Format("Jan 2006") + " (to date)"
	}
	return k.Month.Format("Jan 2006")
}

// weekLabel renders a week by its Monday: "12 Oct 2026".
func weekLabel(t time.Time) string { return t.Format("2 Jan 2006") }
