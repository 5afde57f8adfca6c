package sample

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
)

// Events of the activity export, in the order rows of a day are written.
const (
	evLogin = iota
	evView
	evDownload
	evShare
	evSearch
)

var eventNames = [...]string{"login", "portal_view", "download", "share", "search"}

// actRow is one activity row of the current month.
type actRow struct {
	user  int32 // index into generator.users
	count uint16
	day   uint8 // day of the month, 0-based
	event uint8
}

// defaultRowsPerUserMonth is the activity density used when
// Options.ActivityRows is 0.
const defaultRowsPerUserMonth = 13

// forEachUserMonth calls fn for every (user, month) in which the user may be
// active, with the customer's profile, its intensity, the number of days the
// user exists that month and the month length.
func (g *generator) forEachUserMonth(fn func(p *segProfile, mult float64, w float64, days, monthDays int)) {
	months := g.opt.Months
	for ci := range g.cust {
		c := &g.cust[ci]
		p := &profiles[c.seg]
		mults := g.mult[ci*months : (ci+1)*months]
		users := g.users[c.firstUser : c.firstUser+c.nUsers]
		for m := int(c.created); m < months; m++ {
			if mults[m] == 0 {
				continue
			}
			ms, me := g.cal.monthStart[m], g.cal.monthStart[m+1]
			for i := range users {
				u := &users[i]
				if u.w == 0 {
					continue
				}
				lo, hi := max(ms, int(u.created)), min(me, int(u.stop))
				if lo < hi {
					fn(p, float64(mults[m]), float64(u.w), hi-lo, me-ms)
				}
			}
		}
	}
}

// defaultTarget is about defaultRowsPerUserMonth rows per user-month in which
// the user could be active (prorated for partial months).
func (g *generator) defaultTarget() int {
	total := 0.0
	g.forEachUserMonth(func(_ *segProfile, _, _ float64, days, monthDays int) {
		total += float64(days) / float64(monthDays)
	})
	return int(math.Round(defaultRowsPerUserMonth * total))
}

// expectedRows is the expected number of activity rows for a given scale.
func (g *generator) expectedRows(scale float64) float64 {
	total := 0.0
	g.forEachUserMonth(func(p *segProfile, mult, w float64, days, monthDays int) {
		lambda := scale * mult * w * float64(days) / float64(monthDays)
		total += p.rowsPerDay() * expectedMin(lambda, days)
	})
	return total
}

// expectedMin is E[min(X, n)] for X ~ Poisson(lambda) (as drawn by poisson).
func expectedMin(lambda float64, n int) float64 {
	if lambda < 0.2*float64(n) {
		return lambda
	}
	if lambda >= poissonNormal {
		return min(lambda, float64(n))
	}
	p := math.Exp(-lambda)
	cum, below := 0.0, 0.0
	for k := 0; k < n; k++ {
		cum += p
		below += float64(k) * p
		p *= lambda / float64(k+1)
	}
	return below + float64(n)*(1-cum)
}

// calibrate sets g.scale so that the expected number of activity rows is the
// target. With strict, a target the population cannot reach is an error.
func (g *generator) calibrate(target int, strict bool) error {
	if target == 0 {
		return nil
	}
	linear := g.expectedRows(1)
	if linear == 0 {
		if strict {
			return fmt.Errorf("sample: no user can be active (ActivityRows %d unreachable)", target)
		}
		return nil
	}
	t := float64(target)
	g.scale = t / linear
	got := linear * g.scale
	for i := 0; i < 30; i++ {
		got = g.expectedRows(g.scale)
		if math.Abs(got-t) < 0.002*t {
			break
		}
		g.scale *= t / got
	}
	if strict && math.Abs(got-t) > 0.05*t {
		return fmt.Errorf("sample: ActivityRows %d is too high for %d users over %d months (at most about %.0f)",
			target, g.opt.Users, g.opt.Months, got)
	}
	return nil
}

// poissonNormal is the mean from which poisson uses a normal approximation.
const poissonNormal = 30

// poisson draws from a Poisson distribution of mean lambda.
func poisson(r *rand.Rand, lambda float64) int {
	if lambda <= 0 {
		return 0
	}
	if lambda >= poissonNormal {
		return max(0, int(math.Round(lambda+math.Sqrt(lambda)*r.NormFloat64())))
	}
	limit := math.Exp(-lambda)
	k, p := 0, r.Float64()
	for p > limit {
		k++
		p *= r.Float64()
	}
	return k
}

// geometric draws 1 + the number of successes before a failure of probability 1-q.
func geometric(r *rand.Rand, q float64) uint16 {
	n := uint16(1)
	for n < 999 && r.Float64() < q {
		n++
	}
	return n
}

// pickDays chooses k distinct days in [lo, hi) of a month (0-based), weekdays
// being more likely, and returns them as a bit set.
func pickDays(r *rand.Rand, k, lo, hi int, weight []float64) uint32 {
	n := hi - lo
	if k >= n {
		return uint32((uint64(1)<<hi - 1) &^ (uint64(1)<<lo - 1))
	}
	var mask uint32
	for got, tries := 0, 0; got < k; tries++ {
		if tries > 40*n+100 {
			// Pathological case (almost every day wanted): take the first free days.
			for d := lo; got < k; d++ {
				if mask&(1<<d) == 0 {
					mask |= 1 << d
					got++
				}
			}
			break
		}
		d := lo + r.IntN(n)
		if mask&(1<<d) == 0 && r.Float64() < weight[d] {
			mask |= 1 << d
			got++
		}
	}
	return mask
}

// generateMonth draws the activity rows of month m into g.sorted (by day) and
// the per-customer counters.
func (g *generator) generateMonth(m int) {
	r, months := g.act, g.opt.Months
	ms, me := g.cal.monthStart[m], g.cal.monthStart[m+1]
	nd := me - ms
	g.curMonthStart = ms
	weight := g.cal.weight[ms:me]
	clear(g.views)
	clear(g.downloads)
	clear(g.shares)
	rows := g.rows[:0]
	for ci := range g.cust {
		mult := float64(g.mult[ci*months+m])
		if mult == 0 || g.scale == 0 {
			continue
		}
		c := &g.cust[ci]
		p := &profiles[c.seg]
		base := g.scale * mult / float64(nd)
		var views, downloads, shares int64
		for ui := c.firstUser; ui < c.firstUser+c.nUsers; ui++ {
			u := &g.users[ui]
			if u.w == 0 {
				continue
			}
			lo, hi := max(ms, int(u.created)), min(me, int(u.stop))
			if lo >= hi {
				continue
			}
			k := poisson(r, base*float64(u.w)*float64(hi-lo))
			if k == 0 {
				continue
			}
			mask := pickDays(r, k, lo-ms, hi-ms, weight)
			if u.first < 0 {
				u.first = int16(ms + bits.TrailingZeros32(mask))
			}
			for ; mask != 0; mask &= mask - 1 {
				day := uint8(bits.TrailingZeros32(mask))
				login := uint16(1)
				if r.Float64() < 0.25 {
					login += uint16(1 + r.IntN(2))
				}
				rows = append(rows, actRow{user: ui, count: login, day: day, event: evLogin})
				if r.Float64() < p.pView {
					n := geometric(r, p.qView)
					views += int64(n)
					rows = append(rows, actRow{user: ui, count: n, day: day, event: evView})
				}
				if r.Float64() < p.pDown {
					n := geometric(r, p.qDown)
					downloads += int64(n)
					rows = append(rows, actRow{user: ui, count: n, day: day, event: evDownload})
				}
				if r.Float64() < p.pShare {
					n := geometric(r, p.qShare)
					shares += int64(n)
					rows = append(rows, actRow{user: ui, count: n, day: day, event: evShare})
				}
				if r.Float64() < p.pFind {
					rows = append(rows, actRow{user: ui, count: geometric(r, p.qFind), day: day, event: evSearch})
				}
			}
		}
		g.views[ci], g.downloads[ci], g.shares[ci] = views, downloads, shares
	}
	g.rows = rows
	// Stable counting sort by day: within a day rows stay in customer, user,
	// event order.
	var start [32]int
	for i := range rows {
		start[rows[i].day+1]++
	}
	for d := 1; d < len(start); d++ {
		start[d] += start[d-1]
	}
	if cap(g.sorted) < len(rows) {
		g.sorted = make([]actRow, len(rows), len(rows)+len(rows)/4)
	}
	g.sorted = g.sorted[:len(rows)]
	for i := range rows {
		d := rows[i].day
		g.sorted[start[d]] = rows[i]
		start[d]++
	}
}
