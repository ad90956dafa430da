// Package fairshare is the project's one max-min fair sharing
// mechanism: links of given capacities shared by flows, each flow
// crossing some links, with rates found by progressive filling
// (water-filling, as SimGrid's LMM solver does with every sharing
// weight equal).
//
// A flow may cross a link with a coefficient a (it uses a·rate of the
// link: the bytes per second a job moves through a node's memory per
// unit of progress, say; 1 for a plain transfer) and may have a bound
// (its rate never exceeds it: a job runs at most at full speed). All
// unfrozen flows' rates rise together; when a link fills (Σ a·rate =
// capacity) the flows crossing it freeze at the current level, and a
// flow that reaches its bound freezes there; repeat until every flow
// is frozen. The result is feasible (no link over capacity) and every
// flow is at its bound or has a bottleneck: a full link on which no
// flow is faster.
//
// Three parts of the simulator use it: network.Flows (bulk transfers
// over a cluster's links), the engine's image pulls (a registry's
// egress and each node's link) and the engine's contention between
// running jobs (each node's memory bandwidth and NIC, leaf uplinks).
// It is a leaf package so that both engine (which imports no other
// package of the project) and network can build on it.
//
// The same calls give the same rates bit for bit; with OrderTies,
// equal levels are taken by link index (bounds first), so the rates do
// not depend on the order of the calls either. A System is not safe
// for concurrent use.
package fairshare

import "math"

// System is a set of links and the flows crossing them. Flows are
// named by slots (small integers, reused after Remove), so a caller
// can keep its own data about a flow in a slice indexed by slot.
type System struct {
	links []link
	state []fill // by link
	flows []flow
	coef  [][]float64 // by flow slot, by its links; empty: 1 each
	pos   [][]int32   // by flow slot: its index in links[k].flows
	free  []int32
	live  int
	epoch uint32

	// scratch
	comp  []int32
	cl    []int32
	queue []int32
	heap  heap

	whole bool // the last component search found nearly every flow
	// AlwaysSearch turns the whole-system shortcut of Component off
	// (tests compare both ways).
	AlwaysSearch bool
	// OrderTies makes Solve take links whose levels are equal in index
	// order (flow bounds first), so the rates do not depend on the
	// order the links and flows were added, to the last bit. Without
	// it the order among equal levels is the heap's (still the same for
	// the same calls); with many equal levels it costs about a tenth
	// more time.
	OrderTies bool
	sinceBFS  int
}

type link struct {
	capacity float64
	flows    []int32   // slots of the flows crossing the link
	coefs    []float64 // their coefficients on it
	mark     uint32
}

// fill is a link's state while Solve fills it (apart from link, so the
// hot loop touches 24 bytes a link).
type fill struct {
	left   float64 // capacity not yet given to frozen flows
	weight float64 // Σ coefficients of the unfrozen flows (when odd > 0)
	n      int32   // unfrozen flows
	odd    int32   // flows crossing with a coefficient other than 1
}

// sum is Σ coefficients of the link's unfrozen flows.
func (st *fill) sum() float64 {
	if st.odd == 0 {
		return float64(st.n)
	}
	return st.weight
}

type flow struct {
	links  []int32
	rate   float64
	bound  float64 // +Inf: none
	mark   uint32
	alive  bool
	frozen bool
	unit   bool // every coefficient is 1 (coef[slot] empty)
}

// Past wholeFlows flows, when one component holds nine tenths of them,
// Component skips the search for wholeRecheck calls.
const (
	wholeFlows   = 1024
	wholeRecheck = 64
)

// AddLink adds a link of the given capacity (+Inf: no limit; a
// capacity that is not positive gives a link on which flows never
// progress) and returns its index.
func (s *System) AddLink(capacity float64) int32 {
	if !(capacity > 0) {
		capacity = 0
	}
	s.links = append(s.links, link{capacity: capacity})
	s.state = append(s.state, fill{})
	return int32(len(s.links) - 1)
}

// Links is the number of links.
func (s *System) Links() int { return len(s.links) }

// Capacity is link l's capacity.
func (s *System) Capacity(l int32) float64 { return s.links[l].capacity }

// SetCapacity changes link l's capacity; call Solve (or Component and
// Solve) on its flows afterwards.
func (s *System) SetCapacity(l int32, capacity float64) {
	if !(capacity > 0) {
		capacity = 0
	}
	s.links[l].capacity = capacity
}

// FlowsOn lists the slots of the flows crossing link l (do not keep or
// change it).
func (s *System) FlowsOn(l int32) []int32 { return s.links[l].flows }

// Add starts a flow across links (indexes from AddLink; a link listed
// twice counts once, with its first coefficient), using coef[k] of
// links[k] per unit of rate (coef nil: 1 each; a coefficient that is
// not positive leaves the link out), never faster than bound (+Inf:
// no bound). It does not re-share: call Solve. Its rate is 0 until
// then.
func (s *System) Add(links []int32, coef []float64, bound float64) int32 {
	var f int32
	if n := len(s.free); n > 0 {
		f = s.free[n-1]
		s.free = s.free[:n-1]
	} else {
		s.flows = append(s.flows, flow{})
		s.coef = append(s.coef, nil)
		s.pos = append(s.pos, nil)
		f = int32(len(s.flows) - 1)
	}
	fl := &s.flows[f]
	fl.alive, fl.frozen, fl.rate, fl.bound = true, false, 0, bound
	fl.links = fl.links[:0]
	fc, fp := s.coef[f][:0], s.pos[f][:0]
	for k, l := range links {
		c := 1.0
		if coef != nil {
			c = coef[k]
			if !(c > 0) {
				continue
			}
		}
		if containsLink(fl.links, l) {
			continue
		}
		lk := &s.links[l]
		fl.links = append(fl.links, l)
		fp = append(fp, int32(len(lk.flows)))
		if coef != nil {
			fc = append(fc, c)
			if c != 1 {
				s.state[l].odd++
			}
		}
		lk.flows = append(lk.flows, f)
		lk.coefs = append(lk.coefs, c)
	}
	s.coef[f], s.pos[f] = fc, fp
	fl.unit = len(fc) == 0
	s.live++
	return f
}

func containsLink(ls []int32, l int32) bool {
	for _, x := range ls {
		if x == l {
			return true
		}
	}
	return false
}

// Remove takes flow f off its links and frees its slot. It does not
// re-share.
func (s *System) Remove(f int32) {
	fl := &s.flows[f]
	fc, fp := s.coef[f], s.pos[f]
	for k, l := range fl.links {
		lk := &s.links[l]
		if len(fc) > 0 && fc[k] != 1 {
			s.state[l].odd--
		}
		i := fp[k]
		last := int32(len(lk.flows) - 1)
		if i != last {
			moved := lk.flows[last]
			lk.flows[i] = moved
			lk.coefs[i] = lk.coefs[last]
			for j, ml := range s.flows[moved].links {
				if ml == l {
					s.pos[moved][j] = i
					break
				}
			}
		}
		lk.flows = lk.flows[:last]
		lk.coefs = lk.coefs[:last]
	}
	fl.alive = false
	s.live--
	s.free = append(s.free, f)
}

// Len is the number of flows.
func (s *System) Len() int { return s.live }

// LinksOf lists the links flow f crosses (do not keep or change it).
func (s *System) LinksOf(f int32) []int32 { return s.flows[f].links }

// Rate is flow f's rate from the last Solve that included it.
func (s *System) Rate(f int32) float64 { return s.flows[f].rate }

// Load is what link l's flows use of it at their current rates
// (Σ coefficient·rate).
func (s *System) Load(l int32) float64 {
	lk := &s.links[l]
	sum := 0.0
	for k, f := range lk.flows {
		sum += lk.coefs[k] * s.flows[f].rate
	}
	return sum
}

// Component returns the flows and links connected to the seed links
// (and flow extra, if extra ≥ 0, which may be on no link): the part of
// the system whose rates a change on the seeds can move. The slices
// are scratch, valid until the next call. Past a thousand flows, when
// the last search found nearly all of them in one component, it
// returns every flow and link in use for a while instead of searching
// again: sharing a union of components gives each the rates it would
// get alone, so only speed depends on this; a search every
// wholeRecheck calls notices a split.
func (s *System) Component(seeds []int32, extra int32) (flows, links []int32) {
	s.epoch++
	if s.epoch == 0 { // wrapped: forget every old mark
		for i := range s.links {
			s.links[i].mark = 0
		}
		for i := range s.flows {
			s.flows[i].mark = 0
		}
		s.epoch = 1
	}
	ep := s.epoch
	comp, cl, q := s.comp[:0], s.cl[:0], s.queue[:0]
	if s.whole && s.sinceBFS < wholeRecheck && !s.AlwaysSearch {
		s.sinceBFS++
		for f := range s.flows {
			if s.flows[f].alive {
				comp = append(comp, int32(f))
			}
		}
		for l := range s.links {
			if len(s.links[l].flows) > 0 {
				cl = append(cl, int32(l))
			}
		}
		s.comp, s.cl = comp, cl
		return comp, cl
	}
	for _, l := range seeds {
		if s.links[l].mark != ep {
			s.links[l].mark = ep
			q = append(q, l)
		}
	}
	if extra >= 0 && s.flows[extra].mark != ep {
		s.flows[extra].mark = ep
		comp = append(comp, extra)
	}
	for len(q) > 0 {
		l := q[len(q)-1]
		q = q[:len(q)-1]
		cl = append(cl, l)
		for _, f := range s.links[l].flows {
			fl := &s.flows[f]
			if fl.mark == ep {
				continue
			}
			fl.mark = ep
			comp = append(comp, f)
			for _, l2 := range fl.links {
				if s.links[l2].mark != ep {
					s.links[l2].mark = ep
					q = append(q, l2)
				}
			}
		}
	}
	s.whole = len(comp) >= wholeFlows && 10*len(comp) >= 9*s.live
	s.sinceBFS = 0
	s.comp, s.cl, s.queue = comp, cl, q
	return comp, cl
}

// Whole reports whether the last search found nearly every flow (so
// Component is returning everything without searching).
func (s *System) Whole() bool { return s.whole }

// SolveAll computes every flow's rate.
func (s *System) SolveAll() {
	comp, cl := s.comp[:0], s.cl[:0]
	for f := range s.flows {
		if s.flows[f].alive {
			comp = append(comp, int32(f))
		}
	}
	for l := range s.links {
		if len(s.links[l].flows) > 0 {
			cl = append(cl, int32(l))
		}
	}
	s.comp, s.cl = comp, cl
	s.Solve(comp, cl)
}

// Solve computes the max-min fair rates of flows, which must be closed
// under sharing with links: every link a flow crosses is in links and
// every flow on those links is in flows (Component returns such a
// set). A flow limited by no link and no bound gets +Inf.
func (s *System) Solve(flows, links []int32) {
	// One heap entry per link, keyed by its fair level when pushed, and
	// one per bounded flow. Freezing a flow only raises the level of
	// its other links, so an entry's key is never above its link's
	// level: a popped entry whose level has risen is pushed back, and
	// the first entry popped at its true level is the minimum.
	h := s.heap[:0]
	for _, l := range links {
		lk, st := &s.links[l], &s.state[l]
		st.left, st.n = lk.capacity, int32(len(lk.flows))
		st.weight = float64(st.n)
		if st.n == 0 || math.IsInf(lk.capacity, 1) {
			continue
		}
		if st.odd > 0 {
			st.weight = 0
			for _, c := range lk.coefs {
				st.weight += c
			}
		}
		h = append(h, entry{level: st.left / st.sum(), id: l})
	}
	for _, f := range flows {
		fl := &s.flows[f]
		fl.frozen = false
		if fl.bound < math.Inf(1) {
			h = append(h, entry{level: max(fl.bound, 0), id: -1 - f})
		}
	}
	ties := s.OrderTies
	h.init(ties)
	for len(h) > 0 {
		e := h.pop(ties)
		if e.id < 0 { // a flow's bound
			f := -1 - e.id
			if !s.flows[f].frozen {
				s.freeze(f, e.level, -1)
			}
			continue
		}
		st := &s.state[e.id]
		if st.n == 0 {
			continue
		}
		lk := &s.links[e.id]
		if st.odd > 0 && !(st.weight > 0) { // rounding ate the coefficients' sum
			st.weight = 0
			for k, f := range lk.flows {
				if !s.flows[f].frozen {
					st.weight += lk.coefs[k]
				}
			}
		}
		level := st.left / st.sum()
		if level != e.level {
			h.push(entry{level: level, id: e.id}, ties)
			continue
		}
		for _, f := range lk.flows {
			if !s.flows[f].frozen {
				s.freeze(f, level, e.id)
			}
		}
		st.n = 0
	}
	for _, f := range flows {
		if !s.flows[f].frozen { // only links without limit
			s.flows[f].frozen = true
			s.flows[f].rate = math.Inf(1)
		}
	}
	s.heap = h
}

// freeze sets flow f's rate and takes it off the links other than at.
func (s *System) freeze(f int32, rate float64, at int32) {
	fl := &s.flows[f]
	fl.frozen = true
	fl.rate = rate
	if fl.unit {
		for _, l := range fl.links {
			if l != at {
				o := &s.state[l]
				o.left = max(0, o.left-rate)
				o.n--
				o.weight--
			}
		}
		return
	}
	fc := s.coef[f]
	for k, l := range fl.links {
		if l != at {
			o := &s.state[l]
			c := fc[k]
			o.left = max(0, o.left-c*rate)
			o.n--
			o.weight -= c
		}
	}
}

// entry is a link (id ≥ 0) at its fair level, or a flow's bound (id =
// −1 − slot).
type entry struct {
	level float64
	id    int32
}

// before orders entries by level and, when ties is set, equal levels
// by id (bounds before links, then links by index).
func before(a, b *entry, ties bool) bool {
	if ties {
		return a.level < b.level || (a.level == b.level && a.id < b.id)
	}
	return a.level < b.level
}

// heap is a binary min-heap of entries.
type heap []entry

func (h *heap) push(e entry, ties bool) {
	*h = append(*h, e)
	a := *h
	i := len(a) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !before(&a[i], &a[p], ties) {
			break
		}
		a[p], a[i] = a[i], a[p]
		i = p
	}
}

func (h *heap) pop(ties bool) entry {
	a := *h
	top := a[0]
	n := len(a) - 1
	a[0] = a[n]
	a = a[:n]
	a.down(0, ties)
	*h = a
	return top
}

// down sifts entry i down (moving a hole rather than swapping).
func (h heap) down(i int, ties bool) {
	if ties {
		h.downTies(i)
		return
	}
	n := len(h)
	if n == 0 {
		return
	}
	x := h[i]
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if c+1 < n && h[c+1].level < h[c].level {
			c++
		}
		if x.level <= h[c].level {
			break
		}
		h[i] = h[c]
		i = c
	}
	h[i] = x
}

func (h heap) downTies(i int) {
	n := len(h)
	if n == 0 {
		return
	}
	x := h[i]
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if c+1 < n && before(&h[c+1], &h[c], true) {
			c++
		}
		if !before(&h[c], &x, true) {
			break
		}
		h[i] = h[c]
		i = c
	}
	h[i] = x
}

// init orders the heap in O(n).
func (h heap) init(ties bool) {
	for i := len(h)/2 - 1; i >= 0; i-- {
		h.down(i, ties)
	}
}
