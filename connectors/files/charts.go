package files

import (
	"database/sql"
	"fmt"
	"html/template"
	"math"
	"strings"
)

// The report's SVG charts, built only from numbers and escaped strings.

var esc = template.HTMLEscapeString

func clamp01(v float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return math.Max(0, math.Min(1, v))
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// rateChart draws the monthly active rate over rows (oldest first) on a fixed 0–100 % axis.
func rateChart(rows []kpi) template.HTML {
	n := len(rows)
	if n == 0 {
		return ""
	}
	const W, H, L, R, T, B = 1160.0, 290.0, 60.0, 16.0, 26.0, 54.0
	step := (W - L - R) / float64(n)
	x := func(i int) float64 { return L + step*(float64(i)+0.5) }
	y := func(v float64) float64 { return T + (H-T-B)*(1-clamp01(v)) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %g %g" width="100%%" role="img" aria-label="Monthly active rate, last %d months">`, W, H, n)
	for p := 0; p <= 100; p += 20 {
		yy := y(float64(p) / 100)
		fmt.Fprintf(&b, `<line class="grid" x1="%g" x2="%g" y1="%.1f" y2="%.1f"/><text class="ylab" x="%g" y="%.1f">%d %%</text>`,
			L, W-R, yy, yy, L-8, yy+4, p)
	}
	var run []string
	flush := func() {
		if len(run) >= 2 {
			fmt.Fprintf(&b, `<polyline class="rate-line" points="%s"/>`, strings.Join(run, " "))
		}
		run = nil
	}
	for i, r := range rows {
		if !r.Rate.Valid || !r.Complete.Bool {
			flush()
			continue
		}
		run = append(run, fmt.Sprintf("%.1f,%.1f", x(i), y(r.Rate.Float64)))
	}
	flush()
	for i := 1; i < n; i++ {
		a, c := rows[i-1], rows[i]
		if a.Rate.Valid && c.Rate.Valid && (!a.Complete.Bool || !c.Complete.Bool) {
			fmt.Fprintf(&b, `<line class="rate-line todate" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`,
				x(i-1), y(a.Rate.Float64), x(i), y(c.Rate.Float64))
		}
	}
	for i, r := range rows {
		xx := x(i)
		fmt.Fprintf(&b, `<text class="xlab" x="%.1f" y="%g">%s`, xx, H-B+20, r.Month.Format("Jan 2006"))
		if !r.Complete.Bool {
			fmt.Fprintf(&b, `<tspan class="todate" x="%.1f" dy="16">(to date)</tspan>`, xx)
		}
		b.WriteString(`</text>`)
		if !r.Rate.Valid {
			fmt.Fprintf(&b, `<text class="na" x="%.1f" y="%.1f">no rate</text>`, xx, y(0)-6)
			continue
		}
		cls := "pt"
		if !r.Complete.Bool {
			cls = "pt hollow"
		}
		yy := y(r.Rate.Float64)
		fmt.Fprintf(&b, `<circle class="%s" cx="%.1f" cy="%.1f" r="5"><title>%s: %s (%s of %s activated customers active)</title></circle>`,
			cls, xx, yy, esc(monthLabel(r)), esc(fmtPct(r.Rate)), esc(fmtNum(r.Active)), esc(fmtNum(r.Activated)))
		fmt.Fprintf(&b, `<text class="vlab" x="%.1f" y="%.1f">%s</text>`, xx, yy-11, esc(fmtPct(r.Rate)))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// salesChart draws usage % per salesperson as horizontal bars, in the given (sorted) order.
func salesChart(rows []kpi) template.HTML {
	n := len(rows)
	if n == 0 {
		return ""
	}
	const W, L, R, T, rowH = 1160.0, 210.0, 90.0, 6.0, 30.0
	H := T + rowH*float64(n) + 26
	pw := W - L - R
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %g %g" width="100%%" role="img" aria-label="Usage per salesperson">`, W, H)
	for p := 0; p <= 100; p += 25 {
		xx := L + pw*float64(p)/100
		fmt.Fprintf(&b, `<line class="grid" x1="%.1f" x2="%.1f" y1="%g" y2="%g"/><text class="xlab" x="%.1f" y="%g">%d %%</text>`,
			xx, xx, T, H-22, xx, H-6, p)
	}
	for i, r := range rows {
		top := T + rowH*float64(i)
		mid := top + rowH/2 + 4
		name := spName(r.Salesperson)
		fmt.Fprintf(&b, `<text class="bar-name" x="%g" y="%.1f">%s</text>`, L-10, mid, esc(truncate(name, 28)))
		w := 0.0
		if r.Usage.Valid {
			w = pw * clamp01(r.Usage.Float64)
			fmt.Fprintf(&b, `<rect class="bar" x="%g" y="%.1f" width="%.1f" height="%g"><title>%s: %s (%s of %s users active)</title></rect>`,
				L, top+5, w, rowH-10, esc(name), esc(fmtPct(r.Usage)), esc(fmtNum(r.ActiveUsers)), esc(fmtNum(r.Users)))
		}
		fmt.Fprintf(&b, `<text class="bar-val" x="%.1f" y="%.1f">%s</text>`, L+w+6, mid, esc(fmtPct(r.Usage)))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// niceMax returns the top of a count axis at or above max, and its tick step
// (1, 2 or 5 times a power of ten, with at most 5 steps).
func niceMax(hi int64) (top, step int64) {
	if hi <= 0 {
		return 1, 1
	}
	for p := int64(1); ; p *= 10 {
		for _, m := range []int64{1, 2, 5} {
			if step = m * p; (hi+step-1)/step <= 5 {
				return (hi + step - 1) / step * step, step
			}
		}
	}
}

// weeklyChart draws, per week (oldest first), the weekly-active customers and,
// lighter, the customers active that week, on a count axis from 0. A week
// without 4 weeks of history has no weekly-active point.
func weeklyChart(rows []weekly) template.HTML {
	n := len(rows)
	if n == 0 {
		return ""
	}
	const W, H, L, R, T, B = 1160.0, 300.0, 60.0, 16.0, 34.0, 40.0
	var hi int64
	for _, r := range rows {
		hi = max(hi, r.Active.Int64, r.Weekly.Int64)
	}
	top, tick := niceMax(hi)
	step := (W - L - R) / float64(n)
	x := func(i int) float64 { return L + step*(float64(i)+0.5) }
	y := func(v int64) float64 { return T + (H-T-B)*(1-float64(v)/float64(top)) }
	// Label every k-th week, always the latest: at most 13 labels.
	k := (n + 12) / 13
	labeled := func(i int) bool { return (n-1-i)%k == 0 }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %g %g" width="100%%" role="img" aria-label="Weekly-active customers, last %d weeks">`, W, H, n)
	for v := int64(0); v <= top; v += tick {
		yy := y(v)
		fmt.Fprintf(&b, `<line class="grid" x1="%g" x2="%g" y1="%.1f" y2="%.1f"/><text class="ylab" x="%g" y="%.1f">%s</text>`,
			L, W-R, yy, yy, L-8, yy+4, esc(fmtNum(v)))
	}
	// legend, top left
	fmt.Fprintf(&b, `<g class="legend"><line class="rate-line" x1="%g" x2="%g" y1="12" y2="12"/><text x="%g" y="16">weekly-active: active in each of the last 4 weeks</text>`,
		L, L+24, L+30)
	fmt.Fprintf(&b, `<line class="active-line" x1="%g" x2="%g" y1="12" y2="12"/><text x="%g" y="16">active that week</text></g>`,
		L+340, L+364, L+370)
	line := func(cls string, val func(weekly) sql.NullInt64) {
		var run []string
		flush := func() {
			if len(run) >= 2 {
				fmt.Fprintf(&b, `<polyline class="%s" points="%s"/>`, cls, strings.Join(run, " "))
			}
			run = nil
		}
		for i, r := range rows {
			if v := val(r); v.Valid {
				run = append(run, fmt.Sprintf("%.1f,%.1f", x(i), y(v.Int64)))
			} else {
				flush()
			}
		}
		flush()
	}
	line("active-line", func(r weekly) sql.NullInt64 { return r.Active })
	line("rate-line", func(r weekly) sql.NullInt64 { return r.Weekly })
	year := 0 // of the last labelled week: a label shows the year when it changes
	for i, r := range rows {
		xx := x(i)
		if labeled(i) {
			fmt.Fprintf(&b, `<text class="xlab" x="%.1f" y="%g">%s</text>`, xx, H-B+20, esc(r.Week.Format("2 Jan")))
			if r.Week.Year() != year {
				year = r.Week.Year()
				fmt.Fprintf(&b, `<text class="xlab year" x="%.1f" y="%g">%d</text>`, xx, H-B+35, year)
			}
		}
		if r.Active.Valid {
			fmt.Fprintf(&b, `<circle class="pt-active" cx="%.1f" cy="%.1f" r="3"><title>Week of %s: %s active customers (at least one usage event)</title></circle>`,
				xx, y(r.Active.Int64), esc(weekLabel(r.Week)), esc(fmtNum(r.Active)))
		}
		if !r.Weekly.Valid {
			continue // fewer than 4 weeks of history
		}
		yy := y(r.Weekly.Int64)
		fmt.Fprintf(&b, `<circle class="pt" cx="%.1f" cy="%.1f" r="4.5"><title>Week of %s: %s weekly-active customers (%s of %s activated), %s active that week</title></circle>`,
			xx, yy, esc(weekLabel(r.Week)), esc(fmtNum(r.Weekly)), esc(fmtPct(r.Rate)), esc(fmtNum(r.Activated)), esc(fmtNum(r.Active)))
		if labeled(i) {
			fmt.Fprintf(&b, `<text class="vlab" x="%.1f" y="%.1f">%s</text>`, xx, yy-10, esc(fmtNum(r.Weekly)))
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
