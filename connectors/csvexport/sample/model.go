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
	streamSeats     uint64 = 0x75707461_6b650004
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

// segProfile describes how a segment uses the portal.
type segProfile struct {
	level        float64    // intensity of an active user's month (extra active days) relative to normal
	score        float64    // score events (views, downloads, shares) per active user-day
	regulars     float64    // share of the customer's users who use the portal almost every month
	dormant      float64    // chance that an engaged month is followed by a dormant one
	away         float64    // sensitivity to the summer holidays
	pFind, qFind float64    // probability of a search on an active day, continuation of its count
	mix          [3]float64 // how score events split into views, downloads and shares
}

var profiles = [numSegments]segProfile{
	segNormal:     {1, 3, 0.6, 0.01, 1, 0.45, 0.45, [3]float64{0.68, 0.24, 0.08}},
	segLow:        {0.5, 1.6, 0.35, 0.035, 1.4, 0.35, 0.35, [3]float64{0.72, 0.22, 0.06}},
	segOccasional: {0.7, 2.2, 0.45, 0.16, 1.4, 0.4, 0.4, [3]float64{0.7, 0.23, 0.07}},
	segChampion:   {2.5, 5, 0.78, 0, 0.3, 0.6, 0.55, [3]float64{0.6, 0.27, 0.13}},
	segChurner:    {0.9, 2.6, 0.5, 0.02, 1, 0.42, 0.42, [3]float64{0.7, 0.22, 0.08}},
}

// segmentMix is the cumulative chance of churner, champion, occasional and
// low customers (the rest are normal) for a worse, average and better
// salesperson's portfolio (indexed by quality+1).
var segmentMix = [3][4]float64{
	{0.12, 0.18, 0.35, 0.62},
	{0.08, 0.18, 0.30, 0.50},
	{0.04, 0.19, 0.27, 0.40},
}

// shelfware is the chance that a customer with portal access never uses it,
// by salesperson quality+1.
var shelfware = [3]float64{0.44, 0.18, 0.03}

// salesQuality is how well a salesperson's portfolio uses the portal: the
// second of every five salespeople is the best, the fourth the worst.
func salesQuality(s int16) int8 {
	switch {
	case s < 0:
		return 0
	case s%5 == 1:
		return 1
	case s%5 == 3:
		return -1
	}
	return 0
}

// customer is one establishment and its life cycle (month indexes).
type customer struct {
	ref, name, domain string
	seg               segment
	lang              uint8
	quality           int8    // salesperson quality: -1 worse, 0 average, 1 better
	regulars          float32 // share of users who use the portal almost every month
	created           int16   // month the customer appears
	access            int16   // month portal access is granted (may be past the period); noMonth if never
	adopt             int16   // first month of use (may be past the period); noMonth if never
	churnStart        int16   // churners: first declining month; noMonth otherwise
	stopped           int16   // churners: first month without activity; noMonth otherwise
	archived          int16   // month the customer is archived; noMonth if never
	dropAccess        bool    // has_portal_access turns "no" once archived
	sales, sales2     int16   // salesperson before and from reassign on; -1 = none
	reassign          int16   // month of the reassignment; noMonth if none
	seats             int32   // licences; -1 = unknown
	firstUser, nUsers int32   // users firstUser .. firstUser+nUsers-1
}

// user is one user; day indexes count from the first day of the period.
type user struct {
	cust     int32
	id       int32   // number in user_id, assigned by creation date
	dup      uint32  // e-mail disambiguation within the customer (0 = none)
	w        float32 // activity intensity of an active month (0 = never uses the portal)
	pi       float32 // chance of using the portal in an engaged month
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
	// Customer × month tables; mult 0 means no activity possible.
	mult  []float32 // intensity of an active user's month
	pmult []float32 // factor of the users' chance of being active
	score []float32 // factor of the score per expected active user-day
	scale float64   // extra active days a month of a user with intensity 1
	share float64   // factor of every user's chance of being active (below 1 for small targets)

	act                      *rand.Rand
	curMonthStart            int // first day of the month in rows/sorted
	rows, sorted             []actRow
	days                     []userDay // active user-days of the current customer
	views, downloads, shares []int64   // per customer, current month
}

func newGenerator(opt Options) *generator {
	if opt.Salespeople == 0 {
		opt.Salespeople = len(defaultSalespeople)
	}
	g := &generator{opt: opt, cal: newCalendar(opt.End, opt.Months), people: newPersonPool()}
	g.sales = salespeople(opt.Salespeople, g.people)
	g.buildCustomers(rand.New(rand.NewPCG(opt.Seed, streamCustomers)))
	g.buildUsers(rand.New(rand.NewPCG(opt.Seed, streamUsers)))
	g.sizeSeats(rand.New(rand.NewPCG(opt.Seed, streamSeats)))
	g.act = rand.New(rand.NewPCG(opt.Seed, streamActivity))
	g.views = make([]int64, len(g.cust))
	g.downloads = make([]int64, len(g.cust))
	g.shares = make([]int64, len(g.cust))
	return g
}

// buildCustomers draws every customer's identity, salesperson, life cycle and
// size, and the customer × month tables.
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
		c.sales, c.sales2, c.reassign = -1, -1, noMonth
		if !noSales[i] {
			c.sales = int16(r.IntN(len(g.sales)))
			c.sales2 = c.sales
			if len(g.sales) > 1 && int(c.created) < months-1 && reassigned[i] {
				c.reassign = c.created + int16(1+r.IntN(months-1-int(c.created)))
				c.sales2 = int16((int(c.sales) + 1 + r.IntN(len(g.sales)-1)) % len(g.sales))
			}
		}
		c.quality = salesQuality(c.sales)
		mix := &segmentMix[c.quality+1]
		switch x := r.Float64(); {
		case x < mix[0]:
			c.seg = segChurner
		case x < mix[1]:
			c.seg = segChampion
		case x < mix[2]:
			c.seg = segOccasional
		case x < mix[3]:
			c.seg = segLow
		}
		g.lifeCycle(r, c)
		c.seats = -1
		if !noSeats[i] {
			c.seats = 0 // known; sized once users are drawn
		}
		w := math.Exp(0.8 * r.NormFloat64())
		c.regulars = float32(profiles[c.seg].regulars + 0.1*float64(c.quality))
		switch big := r.Float64() < 0.015; {
		case c.seg == segChurner:
			w *= 0.6 // churners are rarely the big accounts
		case big:
			w *= 10 + 20*r.Float64()
			c.regulars *= 0.6 // big accounts have many occasional users
		case c.seg == segChampion:
			w *= 1.5
		}
		weights[i] = w
	}
	g.allocateUsers(weights)
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
// proportion to its weight (cumulative rounding keeps the total exact).
func (g *generator) allocateUsers(weights []float64) {
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
	}
}

// buildUsers draws every user's dates, habits and name, then numbers the
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
			if k == 0 || r.Float64() >= 0.15 {
				// Regulars use the portal almost every engaged month, the
				// others now and then; the first user (the customer's
				// administrator) is more often a regular.
				u.w = float32(math.Exp(0.6 * r.NormFloat64()))
				u.pi = float32(0.1 + 0.3*r.Float64())
				if x := r.Float64(); x < float64(c.regulars) || (k == 0 && x < 0.85) {
					u.pi = float32(0.85 + 0.12*r.Float64())
					u.w *= 1.3
				}
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
