package sample

import (
	"math"
	"math/rand/v2"
	"strconv"
)

// Random stream constants: each phase draws from its own PCG stream so that
// changing one phase does not shift the others.
const (
	streamCustomers uint64 = 0x75707461_6b650001
	streamUsers     uint64 = 0x75707461_6b650002
	streamActivity  uint64 = 0x75707461_6b650003
)

// noMonth and noDay mean "never" for month and day indexes.
const (
	noMonth = math.MaxInt16
	noDay   = math.MaxInt16
)

// segment is a customer's usage profile.
type segment uint8

const (
	segNormal segment = iota
	segLow
	segOccasional
	segChampion
	segChurner
	numSegments
)

// segProfile describes how a segment's users behave on an active day.
type segProfile struct {
	level                       float64 // monthly intensity relative to normal
	pView, pDown, pShare, pFind float64 // probability of each event on an active day (login is certain)
	qView, qDown, qShare, qFind float64 // continuation probability of each event's count (geometric)
}

// rowsPerDay is the expected number of activity rows of an active day.
func (p *segProfile) rowsPerDay() float64 { return 1 + p.pView + p.pDown + p.pShare + p.pFind }

var profiles = [numSegments]segProfile{
	segNormal:     {1, 0.80, 0.40, 0.12, 0.45, 0.72, 0.35, 0.15, 0.45},
	segLow:        {0.3, 0.70, 0.30, 0.06, 0.35, 0.60, 0.25, 0.10, 0.35},
	segOccasional: {0.65, 0.75, 0.35, 0.08, 0.40, 0.68, 0.30, 0.12, 0.40},
	segChampion:   {3.5, 0.92, 0.60, 0.28, 0.60, 0.82, 0.50, 0.30, 0.55},
	segChurner:    {0.9, 0.78, 0.38, 0.10, 0.42, 0.70, 0.33, 0.12, 0.42},
}

// churnDecline is the intensity of a churner in the months after its decline
// starts; it uses nothing from the month after the last factor on.
var churnDecline = []float64{0.55, 0.28, 0.12}

// seasonality is the intensity of each calendar month (index 1..12).
var seasonality = [13]float64{0, 0.95, 1, 1.05, 0.95, 1, 0.95, 0.8, 0.55, 1.05, 1.05, 1, 0.72}

// customer is one establishment and its life cycle (month indexes).
type customer struct {
	ref, name, domain string
	seg               segment
	lang              uint8
	created           int16 // month the customer appears
	access            int16 // month portal access is granted (may be past the period); noMonth if never
	churnStart        int16 // churners: first declining month; noMonth otherwise
	stopped           int16 // churners: first month without activity; noMonth otherwise
	archived          int16 // month the customer is archived; noMonth if never
	dropAccess        bool  // has_portal_access turns "no" once archived
	sales, sales2     int16 // salesperson before and from reassign on; -1 = none
	reassign          int16 // month of the reassignment; noMonth if none
	seats             int32 // licences; -1 = unknown
	firstUser, nUsers int32 // users firstUser .. firstUser+nUsers-1
}

// user is one user; day indexes count from the first day of the period.
type user struct {
	cust     int32
	id       int32   // number in user_id, assigned by creation date
	dup      uint32  // e-mail disambiguation within the customer (0 = none)
	w        float32 // activity propensity (0 = never uses the portal)
	created  int16   // day the user was created
	deact    int16   // exported deactivation day; noDay if none
	stop     int16   // first day without activity (deactivation or hidden archive); noDay if none
	first    int16   // day of the first activity row; -1 if none yet
	fn, ln   uint16  // indexes into the person pool
	archived bool
	internal bool // test account on the internal domain
}

// generator holds the whole model; only per-month activity is transient.
type generator struct {
	opt    Options
	cal    *calendar
	people *personPool
	sales  []string
	cust   []customer
	users  []user
	mult   []float32 // customer × month intensity (0 = no activity possible)
	scale  float64   // expected active days per month of a user with intensity 1

	act                      *rand.Rand
	curMonthStart            int // first day of the month in rows/sorted
	rows, sorted             []actRow
	views, downloads, shares []int64 // per customer, current month
}

func newGenerator(opt Options) *generator {
	if opt.Salespeople == 0 {
		opt.Salespeople = len(defaultSalespeople)
	}
	g := &generator{opt: opt, cal: newCalendar(opt.End, opt.Months), people: newPersonPool()}
	g.sales = salespeople(opt.Salespeople, g.people)
	g.buildCustomers(rand.New(rand.NewPCG(opt.Seed, streamCustomers)))
	g.buildUsers(rand.New(rand.NewPCG(opt.Seed, streamUsers)))
	g.act = rand.New(rand.NewPCG(opt.Seed, streamActivity))
	g.views = make([]int64, len(g.cust))
	g.downloads = make([]int64, len(g.cust))
	g.shares = make([]int64, len(g.cust))
	return g
}

// buildCustomers draws every customer's identity, life cycle and size, and
// the customer × month intensity table.
func (g *generator) buildCustomers(r *rand.Rand) {
	n, months := g.opt.Customers, g.opt.Months
	g.cust = make([]customer, n)
	weights := make([]float64, n)
	domains := make(map[string]int, n)
	// Rare traits are spread exactly rather than drawn independently, so
	// that even small data sets show them.
	noSales, reassigned, noSeats := pickFraction(r, n, 0.02), pickFraction(r, n, 0.03), pickFraction(r, n, 0.10)
	for i := range g.cust {
		c := &g.cust[i]
		c.ref = "EST-" + pad(i+1, 5)
		lang := langFR
		if x := r.Float64(); x >= 0.45 {
			lang = langDK
			if x >= 0.75 {
				lang = langEN
			}
		}
		c.lang = uint8(lang)
		c.name = companyName(r, lang)
		slug, tld := domainSlug(c.name), topLevel(r, lang)
		if k := domains[slug+tld]; k > 0 {
			domains[slug+tld] = k + 1
			slug += "-" + strconv.Itoa(k+1)
		} else {
			domains[slug+tld] = 1
		}
		c.domain = slug + tld

		if months > 1 && r.Float64() >= 0.6 {
			c.created = int16(1 + r.IntN(months-1))
		}
		switch x := r.Float64(); {
		case x < 0.08:
			c.seg = segChurner
		case x < 0.18:
			c.seg = segChampion
		case x < 0.30:
			c.seg = segOccasional
		case x < 0.50:
			c.seg = segLow
		}
		c.access = c.created
		switch x := r.Float64(); {
		case x < 0.05 && c.seg != segChurner && c.seg != segChampion:
			c.access = noMonth
		case x < 0.20:
			c.access = c.created + int16(1+r.IntN(3))
		}
		c.churnStart, c.stopped, c.archived = noMonth, noMonth, noMonth
		if c.seg == segChurner {
			lo := int(c.access) + 1
			hi := months - 1 - len(churnDecline) - 2
			start := lo
			if hi > lo {
				start = lo + r.IntN(hi-lo+1)
			}
			c.churnStart = int16(start)
			c.stopped = int16(start + len(churnDecline))
			if ar := int(c.stopped) + 1 + r.IntN(3); ar < months {
				c.archived = int16(ar)
				c.dropAccess = r.IntN(2) == 0
			}
		}
		c.sales, c.sales2, c.reassign = -1, -1, noMonth
		if !noSales[i] {
			c.sales = int16(r.IntN(len(g.sales)))
			c.sales2 = c.sales
			if len(g.sales) > 1 && int(c.created) < months-1 && reassigned[i] {
				c.reassign = c.created + int16(1+r.IntN(months-1-int(c.created)))
				c.sales2 = int16((int(c.sales) + 1 + r.IntN(len(g.sales)-1)) % len(g.sales))
			}
		}
		c.seats = -1
		if !noSeats[i] {
			c.seats = 0 // known; sized once users are allocated
		}
		w := math.Exp(0.8 * r.NormFloat64())
		switch big := r.Float64() < 0.015; {
		case c.seg == segChurner:
			w *= 0.6 // churners are rarely the big accounts
		case big:
			w *= 10 + 20*r.Float64()
		case c.seg == segChampion:
			w *= 1.5
		}
		weights[i] = w
	}
	g.allocateUsers(r, weights)
	g.buildIntensity(r)
}

// pickFraction marks about frac of n indexes (at least one when n >= 10).
func pickFraction(r *rand.Rand, n int, frac float64) []bool {
	k := int(math.Round(frac * float64(n)))
	if k == 0 && n >= 10 {
		k = 1
	}
	marks := make([]bool, n)
	for _, i := range r.Perm(n)[:k] {
		marks[i] = true
	}
	return marks
}

// allocateUsers gives every customer one user plus a share of the others in
// proportion to its weight (cumulative rounding keeps the total exact), and
// sizes the known seat counts.
func (g *generator) allocateUsers(r *rand.Rand, weights []float64) {
	total := 0.0
	for _, w := range weights {
		total += w
	}
	extra := float64(g.opt.Users - g.opt.Customers)
	acc, prev, next := 0.0, 0, int32(0)
	for i := range g.cust {
		acc += weights[i]
		cum := int(math.Round(extra * acc / total))
		if i == len(g.cust)-1 {
			cum = int(extra)
		}
		cum = max(cum, prev)
		c := &g.cust[i]
		c.firstUser, c.nUsers = next, int32(1+cum-prev)
		next += c.nUsers
		prev = cum
		if c.seats == 0 {
			c.seats = int32(max(3, math.Round(float64(c.nUsers)*(0.9+0.7*r.Float64()))))
		}
	}
}

// buildIntensity fills g.mult: how intensely each customer uses the portal in
// each month (0 before creation, without access, once stopped or archived).
func (g *generator) buildIntensity(r *rand.Rand) {
	months := g.opt.Months
	g.mult = make([]float32, len(g.cust)*months)
	for i := range g.cust {
		c := &g.cust[i]
		p := &profiles[c.seg]
		level := p.level * (0.7 + 0.6*r.Float64())
		for m := int(c.created); m < months; m++ {
			noise := 0.85 + 0.3*r.Float64()
			if m < int(c.access) || m >= int(c.archived) || m >= int(c.stopped) {
				continue
			}
			v := level * noise * seasonality[g.cal.calMonth[m]]
			switch ramp := m - int(c.access); {
			case c.access == 0:
				// Existing customer at the start of the period: already onboarded.
			case ramp == 0:
				v *= 0.5
			case ramp == 1:
				v *= 0.8
			}
			if m >= int(c.churnStart) {
				v *= churnDecline[m-int(c.churnStart)]
			}
			if c.seg == segOccasional && r.Float64() < 0.4 {
				v = 0
			}
			g.mult[i*months+m] = float32(v)
		}
	}
}

// buildUsers draws every user's dates, propensity and name, then numbers the
// users by creation date.
func (g *generator) buildUsers(r *rand.Rand) {
	cal := g.cal
	g.users = make([]user, g.opt.Users)
	seen := make(map[uint32]uint32)
	for ci := range g.cust {
		c := &g.cust[ci]
		clear(seen)
		ms, me := cal.monthStart[c.created], cal.monthStart[c.created+1]
		if c.created == 0 {
			// Existing customers: their users were mostly imported early on.
			me = min(me, 10)
		}
		for k := int32(0); k < c.nUsers; k++ {
			u := &g.users[c.firstUser+k]
			u.cust = int32(ci)
			if k == 0 || r.Float64() < 0.65 {
				u.created = int16(g.weightedDay(r, ms, me))
			} else {
				u.created = int16(ms + r.IntN(cal.days-ms))
			}
			if k == 0 || r.Float64() >= 0.2 {
				u.w = float32(math.Exp(0.7 * r.NormFloat64()))
			}
			u.internal = r.Float64() < 0.01
			u.fn, u.ln = g.people.person(r, int(c.lang))
			key := uint32(u.fn)<<16 | uint32(u.ln)
			u.dup = seen[key]
			seen[key]++
			u.first = -1
			g.userEnd(r, c, u)
		}
	}
	// Number users by creation date (counting sort, stable in customer order).
	start := make([]int32, cal.days+1)
	for i := range g.users {
		start[g.users[i].created+1]++
	}
	for d := 1; d <= cal.days; d++ {
		start[d] += start[d-1]
	}
	for i := range g.users {
		u := &g.users[i]
		start[u.created]++
		u.id = start[u.created]
	}
}

// userEnd decides whether and when a user is deactivated or archived.
func (g *generator) userEnd(r *rand.Rand, c *customer, u *user) {
	days := g.cal.days
	u.deact, u.stop = noDay, noDay
	// randomDay returns a day in [lo, hi), or noDay if the range is empty.
	randomDay := func(lo, hi int) int16 {
		if lo >= hi {
			return noDay
		}
		return int16(lo + r.IntN(hi-lo))
	}
	after := int(u.created) + 1
	if c.archived != noMonth {
		u.archived = true
		if r.IntN(2) == 0 {
			lo := max(after, g.cal.monthStart[c.stopped])
			u.deact = randomDay(lo, g.cal.monthStart[c.archived+1])
			u.stop = u.deact
		}
		return
	}
	switch x := r.Float64(); {
	case x < 0.03:
		u.deact = randomDay(after, days)
		u.stop = u.deact
	case x < 0.045:
		u.archived = true
		if r.IntN(2) == 0 {
			u.deact = randomDay(after, days)
		}
		u.stop = randomDay(after, days)
		if u.deact != noDay {
			u.stop = u.deact
		}
	}
}

// weightedDay returns a day in [lo, hi), weekdays being more likely.
func (g *generator) weightedDay(r *rand.Rand, lo, hi int) int {
	for {
		d := lo + r.IntN(hi-lo)
		if r.Float64() < g.cal.weight[d] {
			return d
		}
	}
}

// pad formats n in decimal with at least width digits.
func pad(n, width int) string { return string(appendPadded(nil, n, width)) }

// appendPadded appends n in decimal with at least width digits.
func appendPadded(b []byte, n, width int) []byte {
	var tmp [20]byte
	s := strconv.AppendInt(tmp[:0], int64(n), 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}
