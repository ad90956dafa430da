package network

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// Flows shares link capacities among concurrent bulk transfers (image
// pulls, data staging) with max-min fairness: progressive filling, or
// water-filling, as SimGrid's LMM solver does with every weight equal.
// Each flow crosses a set of links (a node's egress and ingress, leaf
// uplinks, a registry's egress: any link made with AddLink). All
// unfrozen flows' rates rise together; when a link fills, the flows
// crossing it freeze at their rate; repeat until every flow is frozen.
// The result is feasible (no link over capacity) and every flow has a
// bottleneck: a full link on which no flow is faster.
//
// Adding or removing a flow re-shares only the connected component of
// links and flows it touches. Time moves with Advance; NextCompletion
// tells an event loop when the next flow will finish.
//
// Invalid calls (a capacity that is not positive, an unknown link,
// bytes that are negative, NaN or infinite) do not panic: they are
// ignored and the first is reported by Err. The zero value is ready to
// use.
type Flows struct {
	links []flowLink
	slots []flowSlot
	free  []int32
	now   float64
	live  int
	epoch uint32
	err   error

	// scratch
	comp  []int32 // component's flow slots
	cl    []int32 // component's links
	queue []int32
	fill  linkHeap

	whole bool // the last search found nearly every flow
	// alwaysSearch turns the shortcut off (tests compare both ways).
	alwaysSearch bool
	sinceBFS     int

	next   int32 // cached NextCompletion
	nextT  float64
	nextOK bool
}

// Past wholeFlows flows, when one component holds nine tenths of them,
// re-sharing skips the component search for wholeRecheck changes.
const (
	wholeFlows   = 1024
	wholeRecheck = 64
)

// LinkID names a link of a Flows.
type LinkID int32

// FlowID names a flow of a Flows; IDs are not reused.
type FlowID int64

// NoFlow is the FlowID of no flow.
const NoFlow FlowID = -1

// FlowRate is one flow's current rate.
type FlowRate struct {
	ID   FlowID
	Rate float64 // bytes per second
}

type flowLink struct {
	capacity float64
	flows    []int32 // slots of the flows crossing the link
	mark     uint32
	left     float64 // capacity not yet given to frozen flows
	n        int32   // unfrozen flows
}

type flowSlot struct {
	gen    uint32
	alive  bool
	frozen bool
	mark   uint32
	links  []int32
	pos    []int32 // index of this flow in links[k].flows
	bytes  float64
	rem    float64 // bytes left at time upd
	upd    float64
	rate   float64
}

func (f *Flows) fail(err error) {
	if f.err == nil {
		f.err = err
	}
}

// Err is the first invalid call, or nil.
func (f *Flows) Err() error { return f.err }

// Now is the time Advance has reached (seconds since the first call).
func (f *Flows) Now() float64 { return f.now }

// Len is the number of flows in progress.
func (f *Flows) Len() int { return f.live }

// AddLink adds a link of the given capacity (bytes per second; +Inf
// for no limit). A capacity that is not positive is an error (see Err)
// and gives a link of capacity 0, on which flows never progress.
func (f *Flows) AddLink(capacity float64) LinkID {
	if !(capacity > 0) {
		f.fail(fmt.Errorf("%w: flows: link %d: capacity %g B/s must be positive", ErrInvalid, len(f.links), capacity))
		capacity = 0
	}
	f.links = append(f.links, flowLink{capacity: capacity})
	return LinkID(len(f.links) - 1)
}

// Capacity is link l's capacity (0 for an unknown link).
func (f *Flows) Capacity(l LinkID) float64 {
	if l < 0 || int(l) >= len(f.links) {
		return 0
	}
	return f.links[l].capacity
}

// AddFlow starts a transfer of bytes bytes across links (a link listed
// twice counts once) and re-shares. A flow on no link, or only on
// links without limit, gets an infinite rate and finishes at the next
// Advance. Invalid arguments are an error (see Err) and give NoFlow.
func (f *Flows) AddFlow(links []LinkID, bytes float64) FlowID {
	s, ok := f.attach(links, bytes, 0)
	if !ok {
		return NoFlow
	}
	f.reshare(f.slots[s].links, s)
	return f.id(s)
}

// AddFlows starts many transfers at once (flow i crosses links[i] with
// bytes[i] bytes) and re-shares once; invalid flows get NoFlow.
func (f *Flows) AddFlows(links [][]LinkID, bytes []float64) []FlowID {
	ids := make([]FlowID, len(links))
	var seeds []int32
	var loose []int32
	for i := range links {
		b := math.NaN()
		if i < len(bytes) {
			b = bytes[i]
		}
		s, ok := f.attach(links[i], b, i)
		if !ok {
			ids[i] = NoFlow
			continue
		}
		ids[i] = f.id(s)
		if len(f.slots[s].links) == 0 {
			loose = append(loose, s)
		}
		seeds = append(seeds, f.slots[s].links...)
	}
	f.reshare(seeds, -1)
	for _, s := range loose {
		f.reshare(nil, s)
	}
	return ids
}

// attach adds a flow to its links without re-sharing.
func (f *Flows) attach(links []LinkID, bytes float64, i int) (int32, bool) {
	if !(bytes >= 0) || math.IsInf(bytes, 1) {
		f.fail(fmt.Errorf("%w: flows: flow %d: bytes %g must be finite and not negative", ErrInvalid, i, bytes))
		return 0, false
	}
	for k, l := range links {
		if l < 0 || int(l) >= len(f.links) {
			f.fail(fmt.Errorf("%w: flows: flow %d: links[%d]: no link %d", ErrInvalid, i, k, l))
			return 0, false
		}
	}
	var s int32
	if n := len(f.free); n > 0 {
		s = f.free[n-1]
		f.free = f.free[:n-1]
	} else {
		f.slots = append(f.slots, flowSlot{})
		s = int32(len(f.slots) - 1)
	}
	fs := &f.slots[s]
	fs.gen++
	fs.alive = true
	fs.links, fs.pos = fs.links[:0], fs.pos[:0]
	for _, l := range links {
		if slices.Contains(fs.links, int32(l)) {
			continue
		}
		lk := &f.links[l]
		fs.links = append(fs.links, int32(l))
		fs.pos = append(fs.pos, int32(len(lk.flows)))
		lk.flows = append(lk.flows, s)
	}
	fs.bytes, fs.rem, fs.upd, fs.rate = bytes, bytes, f.now, 0
	f.live++
	f.nextOK = false
	return s, true
}

func (f *Flows) id(s int32) FlowID { return FlowID(int64(f.slots[s].gen)<<32 | int64(s)) }

// slot finds a live flow's slot.
func (f *Flows) slot(id FlowID) (int32, bool) {
	if id < 0 {
		return 0, false
	}
	s := int32(id & (1<<32 - 1))
	if int(s) >= len(f.slots) || !f.slots[s].alive || f.slots[s].gen != uint32(id>>32) {
		return 0, false
	}
	return s, true
}

// RemoveFlow stops a flow (cancelled or finished elsewhere) and
// re-shares; an unknown or finished flow is ignored.
func (f *Flows) RemoveFlow(id FlowID) {
	s, ok := f.slot(id)
	if !ok {
		return
	}
	seeds := append([]int32(nil), f.slots[s].links...)
	f.detach(s)
	f.reshare(seeds, -1)
}

// detach takes slot s off its links and frees it.
func (f *Flows) detach(s int32) {
	fs := &f.slots[s]
	for k, l := range fs.links {
		lk := &f.links[l]
		i := fs.pos[k]
		last := int32(len(lk.flows) - 1)
		if i != last {
			moved := lk.flows[last]
			lk.flows[i] = moved
			ms := &f.slots[moved]
			for j, ml := range ms.links {
				if ml == l {
					ms.pos[j] = i
					break
				}
			}
		}
		lk.flows = lk.flows[:last]
	}
	fs.alive = false
	f.nextOK = false
	f.live--
	f.free = append(f.free, s)
}

// Rate is a flow's current rate in bytes per second (0 if unknown).
func (f *Flows) Rate(id FlowID) float64 {
	s, ok := f.slot(id)
	if !ok {
		return 0
	}
	return f.slots[s].rate
}

// Remaining is the bytes a flow has left to move (0 if unknown).
func (f *Flows) Remaining(id FlowID) float64 {
	s, ok := f.slot(id)
	if !ok {
		return 0
	}
	return f.remaining(s)
}

func (f *Flows) remaining(s int32) float64 {
	fs := &f.slots[s]
	if fs.rate == 0 || f.now == fs.upd {
		return fs.rem
	}
	if math.IsInf(fs.rate, 1) {
		return 0
	}
	return max(0, fs.rem-fs.rate*(f.now-fs.upd))
}

// Rates lists every flow in progress with its rate, by FlowID.
func (f *Flows) Rates() []FlowRate {
	out := make([]FlowRate, 0, f.live)
	for s := range f.slots {
		if f.slots[s].alive {
			out = append(out, FlowRate{ID: f.id(int32(s)), Rate: f.slots[s].rate})
		}
	}
	slices.SortFunc(out, func(a, b FlowRate) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// finishAt is when slot s finishes at its current rate.
func (f *Flows) finishAt(s int32) float64 {
	fs := &f.slots[s]
	switch {
	case fs.rem <= 0 || math.IsInf(fs.rate, 1):
		return fs.upd
	case fs.rate <= 0:
		return math.Inf(1)
	}
	return fs.upd + fs.rem/fs.rate
}

// NextCompletion is the flow that finishes first at the current rates
// and the time until it does; (NoFlow, +Inf) if none can finish. It
// scans the flows once after each change (O(flows)).
func (f *Flows) NextCompletion() (FlowID, float64) {
	if !f.nextOK {
		f.next, f.nextT = -1, math.Inf(1)
		for s := range f.slots {
			if !f.slots[s].alive {
				continue
			}
			t := f.finishAt(int32(s))
			if t < f.nextT || (t == f.nextT && f.next >= 0 && f.id(int32(s)) < f.id(f.next)) {
				f.next, f.nextT = int32(s), t
			}
		}
		f.nextOK = true
	}
	if f.next < 0 {
		return NoFlow, math.Inf(1)
	}
	return f.id(f.next), max(0, f.nextT-f.now)
}

// Advance moves time on by dt seconds (dt >= 0), takes the flows that
// have finished off their links, re-shares, and returns them in the
// order they finished (ties by FlowID). Flows due within a billionth
// of the current time (at least 1 ns) finish together, so rounding in
// the rates never leaves a sliver of a transfer behind. Advancing past several
// completions is allowed but coarse: rates are re-shared only at the
// end of dt, so an event loop should step to NextCompletion.
func (f *Flows) Advance(dt float64) []FlowID {
	if !(dt >= 0) || math.IsInf(dt, 1) {
		f.fail(fmt.Errorf("%w: flows: advance: dt %g must be finite and not negative", ErrInvalid, dt))
		return nil
	}
	f.now += dt
	tol := 1e-9 * max(1, math.Abs(f.now))
	if _, next := f.NextCompletion(); next > tol {
		return nil
	}
	type fin struct {
		t  float64
		id FlowID
		s  int32
	}
	var done []fin
	for s := range f.slots {
		if f.slots[s].alive {
			if t := f.finishAt(int32(s)); t <= f.now+tol {
				done = append(done, fin{t, f.id(int32(s)), int32(s)})
			}
		}
	}
	if len(done) == 0 {
		return nil
	}
	slices.SortFunc(done, func(a, b fin) int {
		if c := cmp.Compare(a.t, b.t); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	var seeds []int32
	finished := make([]FlowID, len(done))
	for i, d := range done {
		finished[i] = d.id
		seeds = append(seeds, f.slots[d.s].links...)
		f.detach(d.s)
	}
	f.reshare(seeds, -1)
	return finished
}

// reshare recomputes max-min rates in the component reachable from
// the seed links (and flow slot extra, if on no link).
func (f *Flows) reshare(seeds []int32, extra int32) {
	f.epoch++
	if f.epoch == 0 { // wrapped: forget every old mark
		for i := range f.links {
			f.links[i].mark = 0
		}
		for i := range f.slots {
			f.slots[i].mark = 0
		}
		f.epoch = 1
	}
	ep := f.epoch
	comp, cl, q := f.comp[:0], f.cl[:0], f.queue[:0]
	for _, l := range seeds {
		if f.links[l].mark != ep {
			f.links[l].mark = ep
			q = append(q, l)
		}
	}
	if extra >= 0 && f.slots[extra].mark != ep {
		f.slots[extra].mark = ep
		comp = append(comp, extra)
	}
	if f.whole && f.sinceBFS < wholeRecheck && !f.alwaysSearch {
		// The last search found (nearly) every flow in one component:
		// re-share everything with sequential scans, which is cheaper
		// than searching again. Sharing a union of components gives
		// each the rates it would get alone, so only speed depends on
		// this; a search every wholeRecheck changes notices a split.
		f.sinceBFS++
		comp, cl, q = comp[:0], cl[:0], q[:0]
		for s := range f.slots {
			if f.slots[s].alive {
				comp = append(comp, int32(s))
			}
		}
		for l := range f.links {
			if len(f.links[l].flows) > 0 {
				cl = append(cl, int32(l))
			}
		}
	} else {
		for len(q) > 0 {
			l := q[len(q)-1]
			q = q[:len(q)-1]
			cl = append(cl, l)
			for _, s := range f.links[l].flows {
				fs := &f.slots[s]
				if fs.mark == ep {
					continue
				}
				fs.mark = ep
				comp = append(comp, s)
				for _, l2 := range fs.links {
					if f.links[l2].mark != ep {
						f.links[l2].mark = ep
						q = append(q, l2)
					}
				}
			}
		}
		f.whole = len(comp) >= wholeFlows && 10*len(comp) >= 9*f.live
		f.sinceBFS = 0
	}
	// Progressive filling over the component.
	for _, s := range comp {
		fs := &f.slots[s]
		fs.rem = f.remaining(s)
		fs.upd = f.now
		fs.frozen = false
	}
	// Each link has one heap entry keyed by its fair share when pushed.
	// Freezing a flow at the current level only raises the shares of
	// its other links, so an entry's key is never above its link's
	// share: a popped entry whose share has risen is pushed back, and
	// the first entry popped at its link's true share is the minimum.
	h := f.fill[:0]
	for _, l := range cl {
		lk := &f.links[l]
		lk.left, lk.n = lk.capacity, int32(len(lk.flows))
		if lk.n > 0 && !math.IsInf(lk.capacity, 1) {
			h = append(h, fillEntry{share: lk.left / float64(lk.n), link: l})
		}
	}
	h.init()
	for h.Len() > 0 {
		e := h.pop()
		lk := &f.links[e.link]
		if lk.n == 0 {
			continue
		}
		level := lk.left / float64(lk.n)
		if level != e.share {
			h.push(fillEntry{share: level, link: e.link})
			continue
		}
		for _, s := range lk.flows {
			fs := &f.slots[s]
			if fs.frozen {
				continue
			}
			fs.frozen = true
			f.setRate(s, level)
			for _, l2 := range fs.links {
				if l2 != e.link {
					o := &f.links[l2]
					o.left = max(0, o.left-level)
					o.n--
				}
			}
		}
		lk.n = 0
	}
	for _, s := range comp {
		if !f.slots[s].frozen { // only unlimited links
			f.slots[s].frozen = true
			f.setRate(s, math.Inf(1))
		}
	}
	f.fill, f.comp, f.cl, f.queue = h, comp, cl, q
	f.nextOK = false
}

func (f *Flows) setRate(s int32, rate float64) {
	fs := &f.slots[s]
	fs.rate = rate
}

type fillEntry struct {
	share float64
	link  int32
}

// linkHeap is a binary min-heap of links by fair share.
type linkHeap []fillEntry

func (h linkHeap) Len() int { return len(h) }

func (h *linkHeap) push(e fillEntry) {
	*h = append(*h, e)
	a := *h
	i := len(a) - 1
	for i > 0 {
		p := (i - 1) / 2
		if a[p].share <= a[i].share {
			break
		}
		a[p], a[i] = a[i], a[p]
		i = p
	}
}

func (h *linkHeap) pop() fillEntry {
	a := *h
	top := a[0]
	n := len(a) - 1
	a[0] = a[n]
	a = a[:n]
	a.down(0)
	*h = a
	return top
}

// down sifts entry i down (moving a hole rather than swapping).
func (h linkHeap) down(i int) {
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
		if c+1 < n && h[c+1].share < h[c].share {
			c++
		}
		if x.share <= h[c].share {
			break
		}
		h[i] = h[c]
		i = c
	}
	h[i] = x
}

// init orders the heap in O(n).
func (h linkHeap) init() {
	for i := len(h)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}
