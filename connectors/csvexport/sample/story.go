package sample

import (
	"math"
	"math/rand/v2"
)

// The adoption story: the portal is launched at the start of the period.
// Customers with access adopt it over the first months (the launch ramp-up),
// customers created later adopt it soon after their access, and some never
// do (shelfware). Once adopted, a customer's users come to it gradually, it
// now and then has a dormant month (occasional customers often), many are
// away in August and some in July, and churners decline, stop and are
// archived. A salesperson's portfolio is better or worse at all of this.

// adoptionLags are cumulative chances of adopting the portal 0, 1, 2, ...
// months after access: [launch][quality+1], launch being access in the first
// month of the period.
var adoptionLags = [2][3][]float64{
	{{0.45, 0.75, 0.92}, {0.6, 0.88}, {0.75, 0.95}},
	{{0.38, 0.55, 0.7, 0.82, 0.92}, {0.7, 0.81, 0.89, 0.94, 0.97}, {0.65, 0.85, 0.94, 0.98}},
}

// usersRamp is the share of the users' habit reached in the first months
// after adoption; it is whole from the month after the last factor on.
var usersRamp = []float64{0.75, 0.9, 0.96}

// churnUsers, churnDays and churnScore are the users' chance of being
// active, the intensity of their months and the score per active day in the
// months after a churner's decline starts; it uses nothing from the month
// after the last factor on.
var (
	churnUsers = []float64{0.8, 0.55, 0.3}
	churnDays  = []float64{0.75, 0.6, 0.4}
	churnScore = []float64{0.8, 0.6, 0.45}
)

// userSeason and daySeason are, for each calendar month (index 1..12), a
// factor of the users' chance of being active and of the intensity of their
// month; awayChance is the chance (times the segment's sensitivity) of a
// customer being away the whole month. Customers away in July are away in
// August too.
var (
	userSeason = [13]float64{0, 1, 1, 1.02, 0.97, 0.95, 1, 0.88, 0.72, 1.03, 1.03, 1, 0.85}
	daySeason  = [13]float64{0, 1, 1, 1.03, 0.97, 1, 0.97, 0.92, 0.8, 1.04, 1.04, 1, 0.88}
	awayChance = [13]float64{7: 0.07, 8: 0.12}
)

// Engagement by salesperson quality+1: factor of the chance of falling
// dormant, and of the sensitivity to holidays.
var (
	qualityDormant = [3]float64{2.5, 1, 0.4}
	qualityAway    = [3]float64{1.2, 1, 0.8}
)

const (
	stayDormant = 0.5   // chance that a dormant month is followed by another
	slumpChance = 0.015 // chance of a month with a much lower score
	slumpFactor = 0.35
)

// lifeCycle draws a customer's portal access, adoption and churn.
func (g *generator) lifeCycle(r *rand.Rand, c *customer) {
	months := g.opt.Months
	c.access = c.created
	switch x := r.Float64(); {
	case x < 0.05 && c.seg != segChurner && c.seg != segChampion:
		c.access = noMonth
	case x < 0.20:
		c.access = c.created + int16(1+r.IntN(3))
	}
	launch := 0
	if c.access == 0 {
		launch = 1
	}
	lag, x := 0, r.Float64()
	for _, cum := range adoptionLags[launch][c.quality+1] {
		if x < cum {
			break
		}
		lag++
	}
	c.adopt = noMonth
	if c.access != noMonth {
		c.adopt = c.access + int16(lag)
	}
	if x := r.Float64(); c.seg != segChurner && c.seg != segChampion && x < shelfware[c.quality+1] {
		c.adopt = noMonth
	}
	c.churnStart, c.stopped, c.archived = noMonth, noMonth, noMonth
	if c.seg == segChurner {
		lo := int(c.adopt) + 1
		hi := months - 1 - len(churnUsers) - 2
		start := lo
		if hi > lo {
			start = lo + r.IntN(hi-lo+1)
		}
		c.churnStart = int16(start)
		c.stopped = int16(start + len(churnUsers))
		if ar := int(c.stopped) + 1 + r.IntN(3); ar < months {
			c.archived = int16(ar)
			c.dropAccess = r.IntN(2) == 0
		}
	}
}

// buildIntensity fills the customer × month tables: mult is 0 before
// adoption, in dormant and away months, once stopped or archived.
func (g *generator) buildIntensity(r *rand.Rand) {
	months := g.opt.Months
	n := len(g.cust) * months
	g.mult, g.pmult, g.score = make([]float32, n), make([]float32, n), make([]float32, n)
	// Holiday propensities are stratified so that the share of customers
	// away varies little from one seed to another.
	strata := r.Perm(len(g.cust))
	for i := range g.cust {
		c := &g.cust[i]
		p := &profiles[c.seg]
		q := c.quality + 1
		level := p.level * math.Exp(0.3*r.NormFloat64())
		scoreLevel := p.score * math.Exp(0.35*r.NormFloat64())
		away := (float64(strata[i]) + r.Float64()) / float64(len(g.cust)) / (p.away * qualityAway[q])
		goDormant := p.dormant * qualityDormant[q]
		dormant, z := false, 0.0
		for m := int(c.created); m < months; m++ {
			x, e, s := r.Float64(), r.NormFloat64(), r.Float64()
			z = 0.5*z + 0.11*e // smooth month-to-month noise of the score
			if m < int(c.adopt) || m >= int(c.archived) || m >= int(c.stopped) {
				continue
			}
			since := m - int(c.adopt)
			switch {
			case m >= int(c.churnStart):
				dormant = false // a churner declines steadily
			case since > 0:
				if dormant {
					dormant = x < stayDormant
				} else {
					dormant = x < goDormant
				}
			}
			cm := g.cal.calMonth[m]
			if dormant || away < awayChance[cm] {
				continue
			}
			pm, mu, sc := userSeason[cm], level*daySeason[cm], scoreLevel*math.Exp(z)
			if since < len(usersRamp) {
				pm *= usersRamp[since]
			}
			if m >= int(c.churnStart) {
				k := m - int(c.churnStart)
				pm *= churnUsers[k]
				mu *= churnDays[k]
				sc *= churnScore[k]
			} else if since > 0 && s < slumpChance {
				sc *= slumpFactor
			}
			g.mult[i*months+m], g.pmult[i*months+m], g.score[i*months+m] = float32(mu), float32(pm), float32(sc)
		}
	}
}

// sizeSeats sizes the known seat counts from the users expected to be active
// in a usual month: most customers use most of their licences, some far
// fewer.
func (g *generator) sizeSeats(r *rand.Rand) {
	for ci := range g.cust {
		c := &g.cust[ci]
		expected := 0.0
		for _, u := range g.users[c.firstUser : c.firstUser+c.nUsers] {
			if u.w > 0 && !u.internal && u.deact == noDay {
				expected += float64(u.pi)
			}
		}
		util := 0.68 + 0.27*r.Float64()
		if r.Float64() < 0.08 {
			util = 0.1 + 0.45*r.Float64()
		}
		if c.seats == 0 {
			c.seats = int32(max(1, math.Round(expected/util)))
		}
	}
}
