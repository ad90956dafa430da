package planner

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// Planner tracks how many of `total` units of one resource type are free
// over integer time [base, base+duration), the model of flux-sched's
// planner_t (resource/planner/c/planner.h, c++/planner.cpp,
// c/planner_c_interface.cpp). Fluxion keeps one per graph vertex (the
// vertex's `size` units) and, through PlannerMulti, one per type in each
// aggregate prune filter.
//
// A span (start, duration, request) takes request units over
// [start, start+duration). The planner keeps a sorted set of scheduled
// points: the base time, plus the start and the end of every span (a point
// shared by several spans is reference counted, and spans asking for 0
// units still create points, as in flux-sched). Each point holds the use
// from its time until the next point, so availability is a step function
// that changes only at points.
//
// Complexity, with n scheduled points (n <= 2*spans + 1): AddSpan, RemSpan,
// ReduceSpan, AvailAt, AvailDuring and Available are O(log n) expected
// (balanced by a treap, see planTree); AvailTimeFirst and AvailTimeNext are
// O(log n) per candidate run skipped (see search). Span look-up is a hash
// map. Steady-state AddSpan/RemSpan allocate nothing.
//
// Out-of-range inputs never panic: queries return -1 or ok=false, the way
// flux-sched returns -1 with errno set, and mutators return an error.
// A Planner is not safe for concurrent use.
type Planner struct {
	typ    string
	base   int64
	end    int64 // base + duration
	total  int64
	tree   planTree
	spans  spanSet
	lastID SpanID
	iter   planIter
	// First storage of tree and spans, inside the planner: a vertex's
	// planner holds the base point and one span's two points, and one
	// span, as a rule, and a graph has millions of planners.
	pbuf [3]planPoint
	sbuf [1]spanEntry
}

// SpanID identifies a span of a Planner or a PlannerMulti.
type SpanID int64

// NoSpan is the SpanID returned with an error.
const NoSpan SpanID = -1

// PlannedSpan describes a span as added (request reduced by ReduceSpan).
type PlannedSpan struct {
	Start, Duration, Request int64
}

type planSpan struct {
	start, end, req int64
}

// planIter is the state of an AvailTimeFirst/AvailTimeNext iteration.
type planIter struct {
	valid bool
	done  bool
	next  int64 // search for candidates at or after this time
	dur   int64
	thr   int64 // a point fits when its use is <= thr
}

// PlannerError is the class of errors of Planner and PlannerMulti. Errno is
// the errno flux-sched sets for the same condition (planner.h,
// planner_multi.h).
type PlannerError struct {
	Errno string
	msg   string
}

func (e *PlannerError) Error() string { return "fluxion: planner: " + e.msg }

// Errors returned by the planners. Each is wrapped with the values that
// caused it; test with errors.Is, and read Errno with errors.As.
//
// planner_add_span (planner_c_interface.cpp) runs avail_during first and
// reports any failure of it as EINVAL, then span_input_check (EINVAL for a
// start before base, a duration < 1 or an end past the window; ERANGE for a
// request > total or < 0). A request above the total therefore also fails
// with EINVAL there (as ErrSpanBusy here); only a negative request, which
// can reach the C API only as a uint64 that wraps, yields ERANGE.
var (
	// ErrPlannerArgs: invalid constructor, Reset or Update arguments, or a
	// type list that does not match (EINVAL; ERANGE for a total out of
	// range).
	ErrPlannerArgs = &PlannerError{"EINVAL", "invalid argument"}
	// ErrSpanDuration: duration < 1 (EINVAL).
	ErrSpanDuration = &PlannerError{"EINVAL", "span duration must be >= 1"}
	// ErrSpanWindow: start < base or start+duration > base+duration of the
	// planner (EINVAL).
	ErrSpanWindow = &PlannerError{"EINVAL", "span outside the planning window"}
	// ErrSpanRequest: request < 0 (ERANGE).
	ErrSpanRequest = &PlannerError{"ERANGE", "negative span request"}
	// ErrSpanBusy: request > the free units at some time of the span,
	// including request > total (EINVAL from planner_add_span; the
	// underlying planner_avail_during reports EBUSY, or ERANGE if
	// request > total).
	ErrSpanBusy = &PlannerError{"EINVAL", "request exceeds free units during the span"}
	// ErrSpanUnknown: no such span (planner_rem_span, planner_reduce_span:
	// EINVAL).
	ErrSpanUnknown = &PlannerError{"EINVAL", "unknown span id"}
	// ErrMultiSpanUnknown: no such multi span (planner_multi_rem_span,
	// planner_multi_reduce_span: ENOENT).
	ErrMultiSpanUnknown = &PlannerError{"ENOENT", "unknown multi span id"}
	// ErrSpanReduce: a reduction < 0 or > the span's request (EINVAL).
	ErrSpanReduce = &PlannerError{"EINVAL", "invalid span reduction"}
)

// PlannerErrno returns the flux-sched errno name of a planner error, or ""
// if err is not one.
func PlannerErrno(err error) string {
	var pe *PlannerError
	if errors.As(err, &pe) {
		return pe.Errno
	}
	return ""
}

// NewPlanner returns a planner of total units of resource type typ over
// [base, base+duration) (planner_new). duration must be >= 1, total >= 0,
// and base+duration must not overflow.
func NewPlanner(base, duration, total int64, typ string) (*Planner, error) {
	p := &Planner{}
	if err := p.Init(base, duration, total, typ); err != nil {
		return nil, err
	}
	return p, nil
}

// Init makes p, a zero Planner (one of a slice of them, say), a planner
// as NewPlanner(base, duration, total, typ) returns; the same errors.
func (p *Planner) Init(base, duration, total int64, typ string) error {
	if err := checkWindow(base, duration); err != nil {
		return err
	}
	if total < 0 {
		return fmt.Errorf("%w: total %d < 0", ErrPlannerArgs, total)
	}
	*p = Planner{typ: typ, total: total}
	p.init(base, duration)
	return nil
}

func checkWindow(base, duration int64) error {
	if duration < 1 {
		return fmt.Errorf("%w: duration %d < 1", ErrPlannerArgs, duration)
	}
	if base > math.MaxInt64-duration {
		return fmt.Errorf("%w: base %d + duration %d overflows", ErrPlannerArgs, base, duration)
	}
	return nil
}

func (p *Planner) init(base, duration int64) {
	p.base, p.end = base, base+duration
	if len(p.tree.nodes) == 0 {
		p.tree.nodes = p.pbuf[:1:len(p.pbuf)]
	}
	if p.spans.es == nil {
		p.spans.es = p.sbuf[:0:len(p.sbuf)]
	}
	p.tree.reset()
	x := p.tree.insert(base, 0)
	p.tree.nodes[x].refs = 1 // the base point is never removed (m_p0)
	p.spans.reset()
	p.lastID = 0
	p.iter = planIter{}
}

// Reset drops every span and sets a new window (planner_reset). Span ids
// start again from 1, as in flux-sched.
func (p *Planner) Reset(base, duration int64) error {
	if err := checkWindow(base, duration); err != nil {
		return err
	}
	p.init(base, duration)
	return nil
}

// Update sets the total (planner_update_total, for elasticity). Spans are
// kept; if the new total is below the use at some time, the free count
// there reads 0 and nothing more fits until spans are removed. It ends any
// AvailTimeFirst iteration.
//
// flux-sched instead adds the difference to each point's remaining count,
// clamped at 0, and later span removals add back onto the clamped value;
// this planner keeps free = max(0, total - used) exactly.
func (p *Planner) Update(total int64) error {
	if total < 0 {
		return fmt.Errorf("%w: total %d < 0", ErrPlannerArgs, total)
	}
	p.total = total
	p.iter = planIter{}
	return nil
}

// Clone returns an independent deep copy (planner_copy).
func (p *Planner) Clone() *Planner {
	c := *p
	c.tree = p.tree.clone()
	c.spans = p.spans.clone()
	return &c
}

// Type returns the resource type.
func (p *Planner) Type() string { return p.typ }

// Base returns the first schedulable time.
func (p *Planner) Base() int64 { return p.base }

// Duration returns the length of the planning window.
func (p *Planner) Duration() int64 { return p.end - p.base }

// Total returns the total units.
func (p *Planner) Total() int64 { return p.total }

// SpanCount returns the number of spans (planner_span_size).
func (p *Planner) SpanCount() int { return p.spans.len() }

// PointCount returns the number of scheduled points, including the base.
func (p *Planner) PointCount() int { return p.tree.size() }

// Span returns a span's current extent and request.
func (p *Planner) Span(id SpanID) (PlannedSpan, bool) {
	s, ok := p.spans.get(id)
	if !ok {
		return PlannedSpan{}, false
	}
	return PlannedSpan{Start: s.start, Duration: s.end - s.start, Request: s.req}, true
}

// free converts a use into free units.
func (p *Planner) free(used int64) int64 {
	return max(0, p.total-used)
}

// AvailDuringQuick is AvailDuring(at, d), without the walk of p's points
// when p has no spans (then nothing is used at any time).
func (p *Planner) AvailDuringQuick(at, d int64) int64 {
	if p.spans.len() == 0 && d >= 1 && at >= p.base && at <= p.end && d <= p.end-at {
		return p.free(0)
	}
	return p.AvailDuring(at, d)
}

// threshold is the largest use at which request units are free.
func (p *Planner) threshold(request int64) int64 {
	if request == 0 {
		return math.MaxInt64
	}
	return p.total - request
}

// AvailAt returns the free units at time at (planner_avail_resources_at),
// or -1 if at is outside [base, base+duration] (ERANGE there). The end of
// the window is a valid argument, as in flux-sched.
func (p *Planner) AvailAt(at int64) int64 {
	if at < p.base || at > p.end {
		return -1
	}
	_, used := p.tree.floor(at)
	return p.free(used)
}

// AvailDuring returns the minimum free units over [at, at+duration)
// (planner_avail_resources_during), or -1 if duration < 1, at < base or
// at+duration > base+duration of the planner (EINVAL/ERANGE there).
func (p *Planner) AvailDuring(at, duration int64) int64 {
	if duration < 1 || at < p.base || at > p.end || duration > p.end-at {
		return -1
	}
	_, used := p.tree.floor(at)
	if m, ok := p.tree.maxUsedIn(at+1, at+duration); ok && m > used {
		used = m
	}
	return p.free(used)
}

// Available reports whether request units are free throughout
// [at, at+duration) (planner_avail_during == 0). It is false for invalid
// arguments and for request > total.
func (p *Planner) Available(at, duration, request int64) bool {
	return request >= 0 && p.AvailDuring(at, duration) >= request
}

// checkSpan validates a span in the order documented on the Err values.
func (p *Planner) checkSpan(start, duration, request int64) error {
	if duration < 1 {
		return fmt.Errorf("%w: duration %d", ErrSpanDuration, duration)
	}
	if start < p.base || start >= p.end || duration > p.end-start {
		return fmt.Errorf("%w: [%d, %d+%d) not within [%d, %d)",
			ErrSpanWindow, start, start, duration, p.base, p.end)
	}
	if request < 0 {
		return fmt.Errorf("%w: %d", ErrSpanRequest, request)
	}
	if free := p.AvailDuring(start, duration); request > free {
		return fmt.Errorf("%w: request %d, free %d of %d during [%d, %d)",
			ErrSpanBusy, request, free, p.total, start, start+duration)
	}
	return nil
}

// AddSpan plans request units over [start, start+duration) and returns the
// new span's id (planner_add_span). Ids count up from 1 and are not reused
// until Reset. On error nothing changes. Any AvailTimeFirst iteration ends
// (flux-sched resets its iterator here too).
func (p *Planner) AddSpan(start, duration, request int64) (SpanID, error) {
	if err := p.checkSpan(start, duration, request); err != nil {
		return NoSpan, err
	}
	p.addChecked(start, start+duration, request)
	p.lastID++
	p.spans.put(p.lastID, planSpan{start: start, end: start + duration, req: request})
	return p.lastID, nil
}

// addChecked updates the points for a validated span.
func (p *Planner) addChecked(start, end, request int64) {
	p.ref(start)
	p.ref(end)
	if request != 0 {
		p.tree.rangeAdd(start, end, request)
	}
	p.iter = planIter{}
}

// ref adds a reference to the point at `at`, creating it with the state in
// force there if needed.
func (p *Planner) ref(at int64) {
	if x := p.tree.find(at); x != 0 {
		p.tree.nodes[x].refs++
		return
	}
	_, used := p.tree.floor(at)
	x := p.tree.insert(at, used)
	p.tree.nodes[x].refs = 1
}

// unref drops a reference and deletes the point when none is left.
func (p *Planner) unref(at int64) {
	x := p.tree.find(at)
	p.tree.nodes[x].refs--
	if p.tree.nodes[x].refs == 0 {
		p.tree.remove(at)
	}
}

// RemSpan removes a span (planner_rem_span) and ends any AvailTimeFirst
// iteration.
func (p *Planner) RemSpan(id SpanID) error {
	s, ok := p.spans.get(id)
	if !ok {
		return fmt.Errorf("%w: %d", ErrSpanUnknown, id)
	}
	if s.req != 0 {
		p.tree.rangeAdd(s.start, s.end, -s.req)
	}
	p.unref(s.start)
	p.unref(s.end)
	p.spans.del(id)
	p.iter = planIter{}
	return nil
}

// ReduceSpan releases n of a span's units for its whole extent, the partial
// cancel of planner_reduce_span: n equal to the span's request removes the
// span (removed is true; this includes n = 0 on a 0-unit span), n = 0
// otherwise changes nothing, and n < 0 or n > request is ErrSpanReduce.
// It ends any AvailTimeFirst iteration (flux-sched instead restores its
// candidate set without clearing the iterator, so its next
// planner_avail_time_next starts over from the earliest point).
func (p *Planner) ReduceSpan(id SpanID, n int64) (removed bool, err error) {
	s, ok := p.spans.get(id)
	if !ok {
		return false, fmt.Errorf("%w: %d", ErrSpanUnknown, id)
	}
	switch {
	case n == s.req:
		return true, p.RemSpan(id)
	case n == 0:
		return false, nil
	case n < 0 || n > s.req:
		return false, fmt.Errorf("%w: %d of span %d's %d", ErrSpanReduce, n, id, s.req)
	}
	p.tree.rangeAdd(s.start, s.end, -n)
	s.req -= n
	p.spans.put(id, s)
	p.iter = planIter{}
	return false, nil
}

// AvailTimeFirst returns the earliest scheduled point t >= at at which
// request units are free throughout [t, t+duration), with t+duration within
// the window (planner_avail_time_first), and starts an iteration that
// AvailTimeNext continues.
//
// As in flux-sched, only scheduled points are candidates: the base time and
// span starts and ends. If `at` is not a point it is never returned even
// when the request would fit there (an empty planner asked for at > base
// answers ok=false). Fluxion relies on this: on a failed allocation it
// iterates from now+1 over the points of the root's aggregate planner, so
// every candidate is a time at which some span starts or ends. Use
// EarliestStart for the earliest time without that restriction.
//
// ok is false if no point qualifies (ENOENT) or the arguments are invalid:
// duration < 1, at outside [base, base+duration) (EINVAL), request < 0 or
// request > total (ERANGE). Invalid arguments also end any iteration in
// progress (flux-sched leaves it as it was).
func (p *Planner) AvailTimeFirst(at, duration, request int64) (t int64, ok bool) {
	p.iter = planIter{}
	if duration < 1 || at < p.base || at >= p.end || request < 0 || request > p.total {
		return -1, false
	}
	p.iter = planIter{valid: true, next: at, dur: duration, thr: p.threshold(request)}
	return p.AvailTimeNext()
}

// AvailTimeNext returns the next qualifying point after the one returned
// last, for the request of the last AvailTimeFirst
// (planner_avail_time_next). Points come in increasing time order, each
// once. ok is false when there are no more (ENOENT; later calls stay
// false), or when there is no iteration because AvailTimeFirst was not
// called or a span was added, removed or reduced since (EINVAL).
func (p *Planner) AvailTimeNext() (t int64, ok bool) {
	it := &p.iter
	if !it.valid || it.done {
		return -1, false
	}
	t, ok = p.search(it.next, it.dur, it.thr)
	if !ok {
		it.done = true
		return -1, false
	}
	it.next = t + 1 // t < end, no overflow
	return t, true
}

// search returns the earliest point t >= from with use <= thr at every
// point of [t, t+dur) and t+dur <= end.
//
// flux-sched pops candidates from its min-time tree (earliest point with
// enough free units) and walks the points of each window (span_ok). Here,
// when a candidate t is blocked, the latest blocking point u in
// [t, t+dur) also blocks every candidate in (t, u] (their windows contain
// u), so the search resumes after u. Each round is O(log n); the rounds
// are bounded by the number of separate blocked stretches passed over.
func (p *Planner) search(from, dur, thr int64) (int64, bool) {
	tr := &p.tree
	for {
		x := tr.firstFit(tr.root, from, thr, 0)
		if x == 0 {
			return -1, false
		}
		t := tr.nodes[x].at
		if dur > p.end-t {
			return -1, false // later candidates end later still
		}
		u := tr.lastBlock(tr.root, t+dur, thr, 0)
		if u == 0 || tr.nodes[u].at < t {
			return t, true
		}
		from = tr.nodes[u].at + 1
	}
}

// EarliestStart returns the earliest time t >= at, scheduled point or not,
// at which request units are free throughout [t, t+duration) within the
// window. It does not touch the AvailTimeFirst iteration. This is not a
// flux-sched function; it is the exact answer that AvailTimeFirst
// approximates by points: at itself if the request fits there, else the
// first qualifying point after at (free units only rise at points).
func (p *Planner) EarliestStart(at, duration, request int64) (t int64, ok bool) {
	if duration < 1 || at < p.base || at >= p.end || request < 0 || request > p.total {
		return -1, false
	}
	if p.Available(at, duration, request) {
		return at, true
	}
	return p.search(at+1, duration, p.threshold(request))
}

// spanSet holds a planner's spans by id, in id order: ids only grow (a new
// span takes the planner's next id), so a new span is appended and a
// lookup is a scan while there are few (a vertex's planner holds one span
// per job on it, a handful) and a binary search beyond spanSetSmall. A
// removal beyond spanSetSmall only marks its entry (req < 0) until half of
// them are marked, then the live ones are packed: the few busy planners
// (aggregates) see spans come and go at every scheduling loop, which a map
// served with long probes through its deleted slots.
type spanSet struct {
	es   []spanEntry
	dead int // entries marked removed
}

type spanEntry struct {
	id SpanID
	s  planSpan // s.req < 0: removed
}

const spanSetSmall = 8

func (ss *spanSet) len() int { return len(ss.es) - ss.dead }

// find returns the index of id's entry, live or marked, or -1.
func (ss *spanSet) find(id SpanID) int {
	es := ss.es
	if len(es) <= spanSetSmall {
		for i := range es {
			if es[i].id == id {
				return i
			}
		}
		return -1
	}
	// By hand: slices.BinarySearchFunc with a comparison func measured
	// slower on this path (BenchmarkPlannerAddRemSpan).
	lo, hi := 0, len(es)
	for lo < hi {
		h := int(uint(lo+hi) >> 1)
		if es[h].id < id {
			lo = h + 1
		} else {
			hi = h
		}
	}
	if lo < len(es) && es[lo].id == id {
		return lo
	}
	return -1
}

func (ss *spanSet) get(id SpanID) (planSpan, bool) {
	if i := ss.find(id); i >= 0 && ss.es[i].s.req >= 0 {
		return ss.es[i].s, true
	}
	return planSpan{}, false
}

// put adds a span with an id larger than every one held, or updates a
// live one.
func (ss *spanSet) put(id SpanID, s planSpan) {
	if n := len(ss.es); n == 0 || ss.es[n-1].id < id {
		ss.es = append(ss.es, spanEntry{id, s})
		return
	}
	ss.es[ss.find(id)].s = s
}

func (ss *spanSet) del(id SpanID) {
	i := ss.find(id)
	if i < 0 || ss.es[i].s.req < 0 {
		return
	}
	if len(ss.es) <= spanSetSmall {
		ss.es = slices.Delete(ss.es, i, i+1)
		return
	}
	ss.es[i].s.req = -1
	ss.dead++
	if 2*ss.dead > len(ss.es) {
		ss.es = slices.DeleteFunc(ss.es, func(e spanEntry) bool { return e.s.req < 0 })
		ss.dead = 0
	}
}

func (ss *spanSet) reset() {
	ss.es = ss.es[:0]
	ss.dead = 0
}

func (ss *spanSet) clone() spanSet {
	return spanSet{es: slices.Clone(ss.es), dead: ss.dead}
}
