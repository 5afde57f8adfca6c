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

// pMax caps a user's chance of being active in a month.
const pMax = 0.97

// userDay is one active day of a user in the current customer-month, with
// its score events.
type userDay struct {
	user  int32
	day   uint8 // day of the month, 0-based
	count [3]uint32
}

// monthPlan is what a customer-month is expected to hold.
type monthPlan struct {
	days    float64 // expected active user-days
	nominal float64 // the same without the user made active when no other is
	reach   float64 // chance of at least one active user
	forced  int32   // user made active when no other is (-1 = none)
}

// userMonth returns, for user u in the month of days ms..me, its chance of
// being active, the Poisson mean of its extra active days and the number of
// days it exists (0 when it cannot be active).
func (g *generator) userMonth(u *user, pm, mult float64, ms, me int) (p, lambda float64, n int) {
	if u.w == 0 {
		return 0, 0, 0
	}
	lo, hi := max(ms, int(u.created)), min(me, int(u.stop))
	if lo >= hi {
		return 0, 0, 0
	}
	n = hi - lo
	frac := float64(n) / float64(me-ms)
	p = g.share * min(pMax, float64(u.pi)*pm) * math.Sqrt(frac)
	return p, g.scale * mult * float64(u.w) * frac, n
}

// plan computes customer ci's expected active user-days in month m. An
// engaged customer has at least one active user: when the draw leaves none,
// its most regular user is made active (with chance g.share).
func (g *generator) plan(ci, m int) monthPlan {
	c := &g.cust[ci]
	k := ci*g.opt.Months + m
	pm, mult := float64(g.pmult[k]), float64(g.mult[k])
	ms, me := g.cal.monthStart[m], g.cal.monthStart[m+1]
	pl := monthPlan{forced: -1}
	sum, best, bestDays := 0.0, float32(-1), 0.0
	for ui := c.firstUser; ui < c.firstUser+c.nUsers; ui++ {
		u := &g.users[ui]
		p, lambda, n := g.userMonth(u, pm, mult, ms, me)
		if n == 0 {
			continue
		}
		days := 1 + expectedMin(lambda, n-1)
		pl.days += p * days
		sum += p
		if u.pi > best {
			best, bestDays, pl.forced = u.pi, days, ui
		}
	}
	// Systematic sampling draws no user only when the chances add up to
	// less than one, with the chance that is left.
	pl.nominal = pl.days
	pl.days += g.share * max(0, 1-sum) * bestDays
	pl.reach = min(1, sum+g.share*max(0, 1-sum))
	return pl
}

// expectedRows is the expected number of activity rows of a customer-month
// with the given plan and score factor: a login and maybe a search per active
// user-day, and a row per user-day and event that gets some of the month's
// score (at least one when anybody is active), which is spread over the days.
func (pl *monthPlan) expectedRows(p *segProfile, score float64) float64 {
	if pl.reach == 0 {
		return 0
	}
	units := max(1, pl.nominal*score)
	days := max(1, pl.days/pl.reach) // active user-days when anybody is active
	slots := 0.0
	for _, f := range p.mix {
		slots += days * -math.Expm1(units*math.Log1p(-f/days))
	}
	return pl.days*(1+p.pFind) + pl.reach*slots
}

// forEachCustomerMonth calls fn for every customer-month with possible
// activity.
func (g *generator) forEachCustomerMonth(fn func(ci, m int)) {
	months := g.opt.Months
	for ci := range g.cust {
		for m := int(g.cust[ci].created); m < months; m++ {
			if g.mult[ci*months+m] != 0 {
				fn(ci, m)
			}
		}
	}
}

// defaultTarget is about defaultRowsPerUserMonth rows per user-month in which
// the user could be active (prorated for partial months).
func (g *generator) defaultTarget() int {
	total := 0.0
	g.forEachCustomerMonth(func(ci, m int) {
		c := &g.cust[ci]
		ms, me := g.cal.monthStart[m], g.cal.monthStart[m+1]
		for _, u := range g.users[c.firstUser : c.firstUser+c.nUsers] {
			if lo, hi := max(ms, int(u.created)), min(me, int(u.stop)); u.w != 0 && lo < hi {
				total += float64(hi-lo) / float64(me-ms)
			}
		}
	})
	return int(math.Round(defaultRowsPerUserMonth * total))
}

// expectedRows is the expected number of activity rows for the current share
// and scale.
func (g *generator) expectedRows() float64 {
	total := 0.0
	g.forEachCustomerMonth(func(ci, m int) {
		pl := g.plan(ci, m)
		total += pl.expectedRows(&profiles[g.cust[ci].seg], float64(g.score[ci*g.opt.Months+m]))
	})
	return total
}

// calibrate sets g.share and g.scale so that the expected number of activity
// rows is the target: users are as often active as the story says and active
// on more days for a larger target; for a target below what one day per
// active user-month gives, users are active less often. With strict, a
// target the population cannot reach is an error.
func (g *generator) calibrate(target int, strict bool) error {
	if target == 0 {
		return nil
	}
	t := float64(target)
	g.share, g.scale = 1, 0
	base := g.expectedRows()
	if base == 0 {
		if strict {
			return fmt.Errorf("sample: no user can be active (ActivityRows %d unreachable)", target)
		}
		return nil
	}
	got := base
	if t < base {
		for i := 0; i < 30 && math.Abs(got-t) >= 0.002*t; i++ {
			g.share = min(1, g.share*t/got)
			got = g.expectedRows()
		}
	} else {
		g.scale = 1
		for i := 0; i < 40; i++ {
			got = g.expectedRows()
			if math.Abs(got-t) < 0.002*t || got <= base {
				break
			}
			g.scale *= math.Max(0.5, math.Min(4, (t-base)/(got-base)))
		}
	}
	if strict && math.Abs(got-t) > 0.05*t {
		return fmt.Errorf("sample: ActivityRows %d is too high for %d users over %d months (at most about %.0f)",
			target, g.opt.Users, g.opt.Months, got)
	}
	return nil
}

// expectedMin is E[min(X, n)] for X ~ Poisson(lambda) (as drawn by poisson).
func expectedMin(lambda float64, n int) float64 {
	if n <= 0 {
		return 0
	}
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
	clear(g.views)
	clear(g.downloads)
	clear(g.shares)
	rows := g.rows[:0]
	if g.share > 0 {
		for ci := range g.cust {
			if g.mult[ci*g.opt.Months+m] != 0 {
				rows = g.customerMonth(rows, ci, m)
			}
		}
	}
	g.rows = rows
	g.curMonthStart = g.cal.monthStart[m]
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

// customerMonth draws customer ci's activity in month m and appends its rows.
// The active users and their days are drawn first; the month's score (portal
// views, downloads and shares), which follows the customer's expected
// activity smoothly, is then spread over those days.
func (g *generator) customerMonth(rows []actRow, ci, m int) []actRow {
	r, months := g.act, g.opt.Months
	c := &g.cust[ci]
	p := &profiles[c.seg]
	k := ci*months + m
	pm, mult := float64(g.pmult[k]), float64(g.mult[k])
	ms, me := g.cal.monthStart[m], g.cal.monthStart[m+1]
	weight := g.cal.weight[ms:me]
	pl := g.plan(ci, m)
	days := g.days[:0]
	addUser := func(ui int32, lambda float64, n int) {
		u := &g.users[ui]
		lo := max(ms, int(u.created)) - ms
		mask := pickDays(r, min(n, 1+poisson(r, lambda)), lo, lo+n, weight)
		if u.first < 0 {
			u.first = int16(ms + bits.TrailingZeros32(mask))
		}
		for ; mask != 0; mask &= mask - 1 {
			days = append(days, userDay{user: ui, day: uint8(bits.TrailingZeros32(mask))})
		}
	}
	// Systematic sampling: each user is active with its own chance, and the
	// number of active users is the expected number rounded up or down, so
	// that a customer's active users vary little from month to month.
	acc := r.Float64()
	for ui := c.firstUser; ui < c.firstUser+c.nUsers; ui++ {
		p, lambda, n := g.userMonth(&g.users[ui], pm, mult, ms, me)
		if n == 0 {
			continue
		}
		prev := acc
		acc += p
		if math.Floor(acc) != math.Floor(prev) {
			addUser(ui, lambda, n)
		}
	}
	if len(days) == 0 && pl.forced >= 0 && r.Float64() < g.share {
		_, lambda, n := g.userMonth(&g.users[pl.forced], pm, mult, ms, me)
		addUser(pl.forced, lambda, n)
	}
	g.days = days
	if len(days) == 0 {
		return rows
	}
	score := max(1, int(math.Round(pl.nominal*float64(g.score[k]))))
	cut0, cut1 := p.mix[0], p.mix[0]+p.mix[1]
	for range score {
		d := &days[r.IntN(len(days))]
		switch x := r.Float64(); {
		case x < cut0:
			d.count[0]++
		case x < cut1:
			d.count[1]++
		default:
			d.count[2]++
		}
	}
	var sums [3]int64
	for i := range days {
		d := &days[i]
		login := uint16(1)
		if r.Float64() < 0.25 {
			login += uint16(1 + r.IntN(2))
		}
		rows = append(rows, actRow{user: d.user, count: login, day: d.day, event: evLogin})
		for e, n := range d.count {
			if n > 0 {
				n = min(n, math.MaxUint16)
				sums[e] += int64(n)
				rows = append(rows, actRow{user: d.user, count: uint16(n), day: d.day, event: uint8(evView + e)})
			}
		}
		if r.Float64() < p.pFind {
			rows = append(rows, actRow{user: d.user, count: geometric(r, p.qFind), day: d.day, event: evSearch})
		}
	}
	g.views[ci], g.downloads[ci], g.shares[ci] = sums[0], sums[1], sums[2]
	return rows
}
