package planner

import "fmt"

// PlannerMulti is one Planner per resource type over a common window, with
// spans added to and removed from all of them at once: flux-sched's
// planner_multi_t (resource/planner/c/planner_multi.h,
// c/planner_multi_c_interface.cpp). Fluxion keeps one per vertex for its
// prune filters ("ALL:core,ALL:node" = core and node counts below the
// vertex) and reserves at the root by iterating AvailTimeFirst/Next over
// the root's.
//
// Types are addressed by index, in the order given to NewPlannerMulti;
// Index maps a name to it. Slices of requests or results must have one
// element per type; a length mismatch is a programming error and panics
// (flux-sched: EINVAL). Complexities are those of Planner times the number
// of types k; AvailTimeFirst/Next iterate type 0's candidates and test the
// others with Available, O(k log n) per candidate.
type PlannerMulti struct {
	types    []string
	planners []*Planner
	spans    map[SpanID]int32 // multi span -> row of rows
	rows     []SpanID         // k per-type span ids per row; NoSpan = removed
	freeRows []int32
	nextID   SpanID
	iterReq  []int64
	iterDur  int64
	iterOK   bool
}

// NewPlannerMulti returns planners of totals[i] units of types[i] over
// [base, base+duration) (planner_multi_new). At least one type is needed,
// types must be distinct, and the lengths must match.
func NewPlannerMulti(base, duration int64, totals []int64, types []string) (*PlannerMulti, error) {
	if len(types) == 0 || len(types) != len(totals) {
		return nil, fmt.Errorf("%w: %d totals for %d types", ErrPlannerArgs, len(totals), len(types))
	}
	m := &PlannerMulti{
		types:    append([]string(nil), types...),
		planners: make([]*Planner, len(types)),
		spans:    make(map[SpanID]int32),
		iterReq:  make([]int64, len(types)),
	}
	for i, typ := range types {
		for _, prev := range types[:i] {
			if prev == typ {
				return nil, fmt.Errorf("%w: duplicate type %q", ErrPlannerArgs, typ)
			}
		}
		p, err := NewPlanner(base, duration, totals[i], typ)
		if err != nil {
			return nil, fmt.Errorf("type %q: %w", typ, err)
		}
		m.planners[i] = p
	}
	return m, nil
}

func (m *PlannerMulti) checkLen(method string, n int) {
	if n != len(m.planners) {
		panic(fmt.Sprintf("fluxion: (*PlannerMulti).%s: %d values for %d types", method, n, len(m.planners)))
	}
}

// Len returns the number of types.
func (m *PlannerMulti) Len() int { return len(m.planners) }

// Type returns the name of type i.
func (m *PlannerMulti) Type(i int) string { return m.types[i] }

// Index returns the index of a type, or -1.
func (m *PlannerMulti) Index(typ string) int {
	for i, t := range m.types {
		if t == typ {
			return i
		}
	}
	return -1
}

// Total returns the total units of type i.
func (m *PlannerMulti) Total(i int) int64 { return m.planners[i].Total() }

// Base returns the first schedulable time.
func (m *PlannerMulti) Base() int64 { return m.planners[0].Base() }

// Duration returns the length of the planning window.
func (m *PlannerMulti) Duration() int64 { return m.planners[0].Duration() }

// Planner returns the planner of type i (planner_multi_planner_at). Adding
// spans to it directly makes its scheduled points differ from the other
// types', which changes the candidates of AvailTimeFirst when i is 0.
func (m *PlannerMulti) Planner(i int) *Planner { return m.planners[i] }

// SpanCount returns the number of multi spans (planner_multi_span_size).
func (m *PlannerMulti) SpanCount() int { return len(m.spans) }

// AvailAt returns the free units of type i at time at
// (planner_multi_avail_resources_at); -1 as Planner.AvailAt.
func (m *PlannerMulti) AvailAt(at int64, i int) int64 { return m.planners[i].AvailAt(at) }

// AvailDuring returns the minimum free units of type i over
// [at, at+duration); -1 as Planner.AvailDuring.
func (m *PlannerMulti) AvailDuring(at, duration int64, i int) int64 {
	return m.planners[i].AvailDuring(at, duration)
}

// AvailAtAll writes the free units of every type at time at into dst
// (planner_multi_avail_resources_array_at) and reports whether all were
// valid.
func (m *PlannerMulti) AvailAtAll(dst []int64, at int64) bool {
	m.checkLen("AvailAtAll", len(dst))
	ok := true
	for i, p := range m.planners {
		dst[i] = p.AvailAt(at)
		ok = ok && dst[i] >= 0
	}
	return ok
}

// AvailDuringAll writes the minimum free units of every type over
// [at, at+duration) into dst (planner_multi_avail_resources_array_during)
// and reports whether all were valid.
func (m *PlannerMulti) AvailDuringAll(dst []int64, at, duration int64) bool {
	m.checkLen("AvailDuringAll", len(dst))
	ok := true
	for i, p := range m.planners {
		dst[i] = p.AvailDuring(at, duration)
		ok = ok && dst[i] >= 0
	}
	return ok
}

// Available reports whether requests[i] units of every type i are free
// throughout [at, at+duration) (planner_multi_avail_during == 0); this is
// the prune-filter test of dfu_impl_t::prune.
func (m *PlannerMulti) Available(at, duration int64, requests []int64) bool {
	m.checkLen("Available", len(requests))
	for i, p := range m.planners {
		if !p.Available(at, duration, requests[i]) {
			return false
		}
	}
	return true
}

// AvailTimeFirst returns the earliest time t >= at at which every type i
// has requests[i] units free throughout [t, t+duration)
// (planner_multi_avail_time_first), and starts an iteration that
// AvailTimeNext continues. As in flux-sched, candidates are type 0's
// scheduled points in the order of type 0's AvailTimeFirst/AvailTimeNext,
// each kept only if every other type is Available there; the points of all
// types coincide as long as spans are only added through this PlannerMulti
// and not partially reduced to 0 on some types. ok=false as
// Planner.AvailTimeFirst.
func (m *PlannerMulti) AvailTimeFirst(at, duration int64, requests []int64) (t int64, ok bool) {
	m.checkLen("AvailTimeFirst", len(requests))
	copy(m.iterReq, requests)
	m.iterDur = duration
	m.iterOK = true
	t, ok = m.planners[0].AvailTimeFirst(at, duration, requests[0])
	for ok && !m.othersFit(t) {
		t, ok = m.planners[0].AvailTimeNext()
	}
	return t, ok
}

// AvailTimeNext continues the last AvailTimeFirst
// (planner_multi_avail_time_next); ok=false as Planner.AvailTimeNext. The
// iteration lives in type 0's planner, so any span change, or a direct
// AvailTimeFirst on Planner(0), ends it.
func (m *PlannerMulti) AvailTimeNext() (t int64, ok bool) {
	if !m.iterOK {
		return -1, false
	}
	for {
		t, ok = m.planners[0].AvailTimeNext()
		if !ok || m.othersFit(t) {
			return t, ok
		}
	}
}

func (m *PlannerMulti) othersFit(t int64) bool {
	for i := 1; i < len(m.planners); i++ {
		if !m.planners[i].Available(t, m.iterDur, m.iterReq[i]) {
			return false
		}
	}
	return true
}

// AddSpan plans requests[i] units of each type i over
// [start, start+duration) and returns the multi span's id
// (planner_multi_add_span). Ids count up from 0, as in flux-sched. Every
// type is checked before any is changed, so on error nothing changes
// (flux-sched adds type by type and leaves the spans of the types before a
// failing one in place). A 0 request still adds a span, and its points, to
// that type.
func (m *PlannerMulti) AddSpan(start, duration int64, requests []int64) (SpanID, error) {
	m.checkLen("AddSpan", len(requests))
	for i, p := range m.planners {
		if err := p.checkSpan(start, duration, requests[i]); err != nil {
			return NoSpan, fmt.Errorf("type %q: %w", m.types[i], err)
		}
	}
	k := len(m.planners)
	var row int32
	if n := len(m.freeRows); n > 0 {
		row = m.freeRows[n-1]
		m.freeRows = m.freeRows[:n-1]
	} else {
		row = int32(len(m.rows) / k)
		for range k {
			m.rows = append(m.rows, NoSpan)
		}
	}
	ids := m.rows[int(row)*k : int(row)*k+k]
	for i, p := range m.planners {
		p.addChecked(start, start+duration, requests[i])
		p.lastID++
		p.spans.put(p.lastID, planSpan{start: start, end: start + duration, req: requests[i]})
		ids[i] = p.lastID
	}
	id := m.nextID
	m.nextID++
	m.spans[id] = row
	return id, nil
}

func (m *PlannerMulti) row(id SpanID) ([]SpanID, int32, bool) {
	row, ok := m.spans[id]
	if !ok {
		return nil, 0, false
	}
	k := len(m.planners)
	return m.rows[int(row)*k : int(row)*k+k], row, true
}

// SpanPlanned returns the units of type i held by a multi span
// (planner_multi_span_planned_at): 0 if that type's part was removed by
// ReduceSpan, -1 if there is no such span.
func (m *PlannerMulti) SpanPlanned(id SpanID, i int) int64 {
	ids, _, ok := m.row(id)
	if !ok {
		return -1
	}
	if ids[i] == NoSpan {
		return 0
	}
	s, _ := m.planners[i].spans.get(ids[i])
	return s.req
}

// RemSpan removes a multi span from every type (planner_multi_rem_span).
func (m *PlannerMulti) RemSpan(id SpanID) error {
	ids, row, ok := m.row(id)
	if !ok {
		return fmt.Errorf("%w: %d", ErrMultiSpanUnknown, id)
	}
	for i, p := range m.planners {
		if ids[i] != NoSpan {
			if err := p.RemSpan(ids[i]); err != nil {
				panic("fluxion: (*PlannerMulti).RemSpan: " + err.Error())
			}
			ids[i] = NoSpan
		}
	}
	delete(m.spans, id)
	m.freeRows = append(m.freeRows, row)
	return nil
}

// ReduceSpan releases reduce[i] units of type i from a multi span, the
// partial cancel of planner_multi_reduce_span with every type given in
// index order: each type's part follows Planner.ReduceSpan (reduce[i]
// equal to its request removes it, which includes 0 on a 0-unit part), and
// the multi span is removed, with removed true, once no part is left.
// Reductions for parts already removed are ignored, as in flux-sched.
// All reductions are checked first; on error nothing changes.
func (m *PlannerMulti) ReduceSpan(id SpanID, reduce []int64) (removed bool, err error) {
	m.checkLen("ReduceSpan", len(reduce))
	ids, row, ok := m.row(id)
	if !ok {
		return false, fmt.Errorf("%w: %d", ErrMultiSpanUnknown, id)
	}
	for i, p := range m.planners {
		if ids[i] == NoSpan {
			continue
		}
		if s, _ := p.spans.get(ids[i]); reduce[i] < 0 || reduce[i] > s.req {
			return false, fmt.Errorf("%w: type %q: %d of %d", ErrSpanReduce, m.types[i], reduce[i], s.req)
		}
	}
	left := 0
	for i, p := range m.planners {
		if ids[i] == NoSpan {
			continue
		}
		gone, err := p.ReduceSpan(ids[i], reduce[i])
		if err != nil {
			panic("fluxion: (*PlannerMulti).ReduceSpan: " + err.Error())
		}
		if gone {
			ids[i] = NoSpan
		} else {
			left++
		}
	}
	if left == 0 {
		delete(m.spans, id)
		m.freeRows = append(m.freeRows, row)
		return true, nil
	}
	return false, nil
}

// Reset drops every span and sets a new window for all types
// (planner_multi_reset). Multi span ids keep counting, as in flux-sched
// (whose reset, unlike this one, also keeps its table of multi spans).
func (m *PlannerMulti) Reset(base, duration int64) error {
	if err := checkWindow(base, duration); err != nil {
		return err
	}
	for _, p := range m.planners {
		p.init(base, duration)
	}
	clear(m.spans)
	m.rows = m.rows[:0]
	m.freeRows = m.freeRows[:0]
	m.iterOK = false
	return nil
}

// Update sets the total of every type (planner_multi_update with the same
// types in the same order; adding or dropping types is not supported).
func (m *PlannerMulti) Update(totals []int64) error {
	m.checkLen("Update", len(totals))
	for i, t := range totals {
		if t < 0 {
			return fmt.Errorf("%w: type %q: total %d < 0", ErrPlannerArgs, m.types[i], t)
		}
	}
	for i, t := range totals {
		_ = m.planners[i].Update(t)
	}
	m.iterOK = false
	return nil
}

// Clone returns an independent deep copy (planner_multi_copy).
func (m *PlannerMulti) Clone() *PlannerMulti {
	c := *m
	c.types = append([]string(nil), m.types...)
	c.planners = make([]*Planner, len(m.planners))
	for i, p := range m.planners {
		c.planners[i] = p.Clone()
	}
	c.spans = make(map[SpanID]int32, len(m.spans))
	for id, row := range m.spans {
		c.spans[id] = row
	}
	c.rows = append([]SpanID(nil), m.rows...)
	c.freeRows = append([]int32(nil), m.freeRows...)
	c.iterReq = append([]int64(nil), m.iterReq...)
	return &c
}
