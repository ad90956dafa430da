package network

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/convergesim/converge/internal/fairshare"
)

// Flows shares link capacities among concurrent bulk transfers (image
// pulls, data staging) with max-min fairness: progressive filling, or
// water-filling, as SimGrid's LMM solver does with every weight equal.
// Each flow crosses a set of links (a node's egress and ingress, leaf
// uplinks, a registry's egress: any link made with AddLink). All
// unfrozen flows' rates rise together; when a link fills, the flows
// crossing it freeze at their rate; repeat until every flow is frozen.
// The result is feasible (no link over capacity) and every flow has a
// bottleneck: a full link on which no flow is faster. The sharing is
// package fairshare's, the one the engine's image pulls and job
// contention use too; Flows adds time and bytes.
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
	sys   fairshare.System // links, flows and their max-min rates
	slots []flowSlot       // by the System's flow slot
	now   float64
	err   error

	scratch []int32

	next   int32 // cached NextCompletion
	nextT  float64
	nextOK bool
}

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

type flowSlot struct {
	gen   uint32
	alive bool
	bytes float64
	rem   float64 // bytes left at time upd (the System's rate since)
	upd   float64
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
func (f *Flows) Len() int { return f.sys.Len() }

// AddLink adds a link of the given capacity (bytes per second; +Inf
// for no limit). A capacity that is not positive is an error (see Err)
// and gives a link of capacity 0, on which flows never progress.
func (f *Flows) AddLink(capacity float64) LinkID {
	if !(capacity > 0) {
		f.fail(fmt.Errorf("%w: flows: link %d: capacity %g B/s must be positive", ErrInvalid, f.sys.Links(), capacity))
		capacity = 0
	}
	return LinkID(f.sys.AddLink(capacity))
}

// Capacity is link l's capacity (0 for an unknown link).
func (f *Flows) Capacity(l LinkID) float64 {
	if l < 0 || int(l) >= f.sys.Links() {
		return 0
	}
	return f.sys.Capacity(int32(l))
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
	f.reshare(f.sys.LinksOf(s), s)
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
		if len(f.sys.LinksOf(s)) == 0 {
			loose = append(loose, s)
		}
		seeds = append(seeds, f.sys.LinksOf(s)...)
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
	ls := f.scratch[:0]
	for k, l := range links {
		if l < 0 || int(l) >= f.sys.Links() {
			f.fail(fmt.Errorf("%w: flows: flow %d: links[%d]: no link %d", ErrInvalid, i, k, l))
			return 0, false
		}
		ls = append(ls, int32(l))
	}
	f.scratch = ls
	s := f.sys.Add(ls, nil, math.Inf(1))
	for int(s) >= len(f.slots) {
		f.slots = append(f.slots, flowSlot{})
	}
	fs := &f.slots[s]
	fs.gen++
	fs.alive = true
	fs.bytes, fs.rem, fs.upd = bytes, bytes, f.now
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
	seeds := append([]int32(nil), f.sys.LinksOf(s)...)
	f.detach(s)
	f.reshare(seeds, -1)
}

// detach takes slot s off its links and frees it.
func (f *Flows) detach(s int32) {
	f.sys.Remove(s)
	f.slots[s].alive = false
	f.nextOK = false
}

// Rate is a flow's current rate in bytes per second (0 if unknown).
func (f *Flows) Rate(id FlowID) float64 {
	s, ok := f.slot(id)
	if !ok {
		return 0
	}
	return f.sys.Rate(s)
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
	rate := f.sys.Rate(s)
	if rate == 0 || f.now == fs.upd {
		return fs.rem
	}
	if math.IsInf(rate, 1) {
		return 0
	}
	return max(0, fs.rem-rate*(f.now-fs.upd))
}

// Rates lists every flow in progress with its rate, by FlowID.
func (f *Flows) Rates() []FlowRate {
	out := make([]FlowRate, 0, f.sys.Len())
	for s := range f.slots {
		if f.slots[s].alive {
			out = append(out, FlowRate{ID: f.id(int32(s)), Rate: f.sys.Rate(int32(s))})
		}
	}
	slices.SortFunc(out, func(a, b FlowRate) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// finishAt is when slot s finishes at its current rate.
func (f *Flows) finishAt(s int32) float64 {
	fs := &f.slots[s]
	rate := f.sys.Rate(s)
	switch {
	case fs.rem <= 0 || math.IsInf(rate, 1):
		return fs.upd
	case rate <= 0:
		return math.Inf(1)
	}
	return fs.upd + fs.rem/rate
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
		seeds = append(seeds, f.sys.LinksOf(d.s)...)
		f.detach(d.s)
	}
	f.reshare(seeds, -1)
	return finished
}

// reshare recomputes max-min rates (package fairshare) in the
// component reachable from the seed links (and flow slot extra, if on
// no link), after bringing its flows' bytes left up to now.
func (f *Flows) reshare(seeds []int32, extra int32) {
	comp, cl := f.sys.Component(seeds, extra)
	for _, s := range comp {
		fs := &f.slots[s]
		fs.rem = f.remaining(s)
		fs.upd = f.now
	}
	f.sys.Solve(comp, cl)
	f.nextOK = false
}
