package planner

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func newTestMulti(t testing.TB, base, duration int64, totals []int64, types ...string) *PlannerMulti {
	t.Helper()
	m, err := NewPlannerMulti(base, duration, totals, types)
	if err != nil {
		t.Fatalf("NewPlannerMulti: %v", err)
	}
	return m
}

func mustAddMulti(t testing.TB, m *PlannerMulti, start, duration int64, req ...int64) SpanID {
	t.Helper()
	id, err := m.AddSpan(start, duration, req)
	if err != nil {
		t.Fatalf("AddSpan(%d, %d, %v): %v", start, duration, req, err)
	}
	return id
}

func multiTimes(t testing.TB, m *PlannerMulti, at, duration int64, req ...int64) []int64 {
	t.Helper()
	var out []int64
	for tt, ok := m.AvailTimeFirst(at, duration, req); ok; tt, ok = m.AvailTimeNext() {
		out = append(out, tt)
		if len(out) > 100000 {
			t.Fatal("AvailTimeNext does not stop")
		}
	}
	if tt, ok := m.AvailTimeNext(); ok {
		t.Fatalf("AvailTimeNext after the end = %d", tt)
	}
	return out
}

// A prune filter "ALL:core,ALL:node" at a rack of 4 nodes x 8 cores, over
// [0, 1000). Job a: 2 nodes, 16 cores on [0,100); job b: 1 node, 4 cores
// on [50,200) (node-shared: the node count is what the aggregate tracks).
//
//	time      core free      node free
//	[0,50)    32-16 = 16     4-2 = 2
//	[50,100)  32-16-4 = 12   4-2-1 = 1
//	[100,200) 32-4 = 28      4-1 = 3
//	[200,...) 32             4
func TestPlannerMultiWorkedExample(t *testing.T) {
	m := newTestMulti(t, 0, 1000, []int64{32, 4}, "core", "node")
	a := mustAddMulti(t, m, 0, 100, 16, 2)
	b := mustAddMulti(t, m, 50, 150, 4, 1)
	if a != 0 || b != 1 {
		t.Errorf("multi span ids %d, %d; want 0, 1 (planner_multi ids count from 0)", a, b)
	}
	core, node := m.Index("core"), m.Index("node")
	if core != 0 || node != 1 || m.Index("gpu") != -1 {
		t.Fatalf("Index: core %d node %d gpu %d", core, node, m.Index("gpu"))
	}
	for _, c := range []struct{ at, core, node int64 }{
		{0, 16, 2}, {49, 16, 2}, {50, 12, 1}, {100, 28, 3}, {199, 28, 3}, {200, 32, 4}, {1000, 32, 4},
	} {
		if got := m.AvailAt(c.at, core); got != c.core {
			t.Errorf("core AvailAt(%d) = %d, want %d", c.at, got, c.core)
		}
		if got := m.AvailAt(c.at, node); got != c.node {
			t.Errorf("node AvailAt(%d) = %d, want %d", c.at, got, c.node)
		}
	}
	dst := make([]int64, 2)
	if !m.AvailDuringAll(dst, 0, 150) || !slices.Equal(dst, []int64{12, 1}) {
		t.Errorf("AvailDuringAll(0, 150) = %v, want [12 1] (the [50,100) minimum)", dst)
	}
	if m.AvailDuringAll(dst, 990, 20) {
		t.Error("AvailDuringAll past the end reported ok")
	}
	if !m.AvailAtAll(dst, 120) || !slices.Equal(dst, []int64{28, 3}) {
		t.Errorf("AvailAtAll(120) = %v, want [28 3]", dst)
	}
	if got := m.AvailDuring(40, 20, node); got != 1 {
		t.Errorf("node AvailDuring(40, 20) = %d, want 1", got)
	}
	// Prune test: 2 nodes and 10 cores for 60 from 0 fail (1 node on
	// [50,100)); from 100 they fit.
	if m.Available(0, 60, []int64{10, 2}) {
		t.Error("Available(0, 60, [10 2]) = true")
	}
	if !m.Available(100, 60, []int64{10, 2}) {
		t.Error("Available(100, 60, [10 2]) = false")
	}
	// Candidates are the points 0, 50, 100, 200 (those of "core").
	for _, c := range []struct {
		at, d int64
		req   []int64
		want  []int64
		why   string
	}{
		{0, 60, []int64{10, 2}, []int64{100, 200}, "0 reaches [50,100) with 1 node; 50 has 1"},
		{0, 50, []int64{10, 2}, []int64{0, 100, 200}, "[0,50) has 16 cores, 2 nodes"},
		{0, 10, []int64{20, 1}, []int64{100, 200}, "cores: 16, 12 < 20 at 0, 50"},
		{0, 10, []int64{0, 4}, []int64{200}, "all 4 nodes only from 200"},
		{1, 10, []int64{1, 1}, []int64{50, 100, 200}, "0 < 1 is not a candidate"},
		{0, 801, []int64{1, 1}, []int64{0, 50, 100}, "200+801 > 1000"},
		{0, 10, []int64{33, 0}, nil, "33 > 32 cores: ERANGE"},
		{0, 10, []int64{1, 5}, nil, "5 > 4 nodes: never"},
	} {
		if got := multiTimes(t, m, c.at, c.d, c.req...); !slices.Equal(got, c.want) {
			t.Errorf("times(%d, %d, %v) = %v, want %v (%s)", c.at, c.d, c.req, got, c.want, c.why)
		}
	}
	if got := m.SpanPlanned(a, core); got != 16 {
		t.Errorf("SpanPlanned(a, core) = %d", got)
	}
	if err := m.RemSpan(a); err != nil {
		t.Fatal(err)
	}
	if got := m.AvailDuring(0, 1000, core); got != 28 {
		t.Errorf("after RemSpan(a): core min = %d, want 28", got)
	}
	if err := m.RemSpan(a); !errors.Is(err, ErrMultiSpanUnknown) || PlannerErrno(err) != "ENOENT" {
		t.Errorf("second RemSpan(a) = %v, want ENOENT", err)
	}
	if err := m.RemSpan(b); err != nil {
		t.Fatal(err)
	}
	for i := range m.Len() {
		if m.Planner(i).PointCount() != 1 || m.AvailDuring(0, 1000, i) != m.Total(i) {
			t.Errorf("type %s not empty after removing all spans", m.Type(i))
		}
	}
}

// Scenarios of flux-sched's resource/planner/test/planner_test02.cpp.
func TestPlannerMultiFluxScenarios(t *testing.T) {
	types := []string{"A", "B", "C", "D", "E"}
	t.Run("basics", func(t *testing.T) {
		m := newTestMulti(t, 0, math.MaxInt64, []int64{10, 20, 30, 20, 100}, types...)
		if !m.Available(0, 1, []int64{10, 20, 30, 20, 100}) {
			t.Fatal("empty not available")
		}
		mustAddMulti(t, m, 1, 1000, 5, 10, 15, 10, 50)
		mustAddMulti(t, m, 2000, 1001, 10, 20, 30, 20, 100)
		if m.Available(10, 2991, []int64{1, 2, 3, 2, 10}) {
			t.Fatal("over-allocation reported available")
		}
		mustAddMulti(t, m, 10, 1990, 1, 2, 3, 2, 10)
		for _, c := range []struct {
			at   int64
			i    int
			want int64
		}{
			{1, 0, 5}, {10, 1, 8}, {500, 2, 12}, {1500, 0, 9}, {2000, 0, 0}, {2500, 0, 0}, {3000, 4, 0}, {3001, 2, 30},
		} {
			if got := m.AvailAt(c.at, c.i); got != c.want {
				t.Errorf("AvailAt(%d, %s) = %d, want %d", c.at, types[c.i], got, c.want)
			}
		}
		if got := multiTimes(t, m, 0, 9, 0, 0, 15, 0, 0); !slices.Equal(got, []int64{0, 1, 1001, 3001}) {
			t.Errorf("only C: %v, want [0 1 1001 3001]", got)
		}
		// E needs 50: at 1 and 10 it has 100-50-10 = 40 within the window.
		if got := multiTimes(t, m, 0, 10, 1, 1, 1, 1, 50); !slices.Equal(got, []int64{0, 1001, 3001}) {
			t.Errorf("many E: %v, want [0 1001 3001]", got)
		}
	})
	t.Run("strictly_larger", func(t *testing.T) {
		// Spans [0,1000·(i+1)) of i+1 units of type i; free at
		// 0: 9 18 27 36 45, 1000: 10 18 ..., 5000: 10 20 30 40 50.
		m := newTestMulti(t, 0, math.MaxInt64, []int64{10, 20, 30, 40, 50}, types...)
		for i := range 5 {
			req := make([]int64, 5)
			req[i] = int64(i + 1)
			mustAddMulti(t, m, 0, int64(1000*(i+1)), req...)
		}
		for _, c := range []struct {
			at   int64
			req  []int64
			want []int64
		}{
			{0, []int64{10, 20, 30, 40, 45}, []int64{4000, 5000}},
			{0, []int64{0, 0, 0, 30, 40}, []int64{0, 1000, 2000, 3000, 4000, 5000}},
			{3500, []int64{0, 0, 0, 30, 40}, []int64{4000, 5000}},
			{0, []int64{10, 18, 30, 30, 30}, []int64{3000, 4000, 5000}},
		} {
			if got := multiTimes(t, m, c.at, 1000, c.req...); !slices.Equal(got, c.want) {
				t.Errorf("times(%d, 1000, %v) = %v, want %v", c.at, c.req, got, c.want)
			}
		}
	})
	t.Run("partially_larger", func(t *testing.T) {
		// Span i on [1000i, 1000(i+1)) of i+1 units of type i.
		m := newTestMulti(t, 0, math.MaxInt64, []int64{10, 20, 30, 40, 50}, types...)
		for i := range 5 {
			req := make([]int64, 5)
			req[i] = int64(i + 1)
			mustAddMulti(t, m, int64(1000*i), 1000, req...)
		}
		for _, c := range []struct{ req, want []int64 }{
			{[]int64{10, 20, 30, 40, 50}, []int64{5000}},
			{[]int64{9, 20, 27, 36, 50}, []int64{0, 2000, 3000, 5000}},
			{[]int64{9, 19, 30, 40, 50}, []int64{0, 5000}},
		} {
			if got := multiTimes(t, m, 0, 1000, c.req...); !slices.Equal(got, c.want) {
				t.Errorf("times(0, 1000, %v) = %v, want %v", c.req, got, c.want)
			}
		}
	})
	t.Run("many_spans", func(t *testing.T) {
		// 1000 back-to-back spans; span i takes (i%100, 99-i%100, i%100)
		// of 99 each.
		m := newTestMulti(t, 0, math.MaxInt64, []int64{99, 99, 99}, "A", "B", "C")
		for i := range int64(1000) {
			r := i % 100
			if !m.Available(i*1000, 1000, []int64{r, 99 - r, r}) {
				t.Fatalf("span %d not available", i)
			}
			mustAddMulti(t, m, i*1000, 1000, r, 99-r, r)
		}
		if got := multiTimes(t, m, 0, 1000, 99, 99, 99); !slices.Equal(got, []int64{1000000}) {
			t.Errorf("full request: %v", got)
		}
		// (98, 1, 98) fits where i%100 == 1 (free 98, 1, 98).
		want := []int64{1000}
		for i := int64(1); i < 10; i++ {
			want = append(want, 1000*(100*i+1))
		}
		want = append(want, 1000000)
		if got := multiTimes(t, m, 0, 1000, 98, 1, 98); !slices.Equal(got, want) {
			t.Errorf("(98,1,98): %v, want %v", got, want)
		}
		// (50, 49, 50) fits only where i%100 == 49.
		want = []int64{49000}
		for i := int64(1); i < 10; i++ {
			want = append(want, 1000*(100*i+49))
		}
		want = append(want, 1000000)
		if got := multiTimes(t, m, 0, 1000, 50, 49, 50); !slices.Equal(got, want) {
			t.Errorf("(50,49,50): %v, want %v", got, want)
		}
	})
	t.Run("add_remove_and_reduce", func(t *testing.T) {
		m := newTestMulti(t, 0, math.MaxInt64, []int64{10, 20, 30, 40, 50}, types...)
		s1 := mustAddMulti(t, m, 0, 1000, 2, 0, 0, 0, 0)
		s2 := mustAddMulti(t, m, 0, 2000, 1, 2, 3, 4, 5)
		// A: 10-2-1 = 7 free; reducing s1's A by 1 gives 8.
		if removed, err := m.ReduceSpan(s1, []int64{1, 0, 0, 0, 0}); err != nil || removed || m.AvailAt(0, 0) != 8 {
			t.Fatalf("reduce: %v %v free %d, want false nil 8", removed, err, m.AvailAt(0, 0))
		}
		// The second reduction empties A; the 0-unit parts are removed by
		// their 0 reductions, so the whole multi span goes.
		if removed, err := m.ReduceSpan(s1, []int64{1, 0, 0, 0, 0}); err != nil || !removed || m.AvailAt(0, 0) != 9 {
			t.Fatalf("reduce: %v %v free %d, want true nil 9", removed, err, m.AvailAt(0, 0))
		}
		if m.SpanCount() != 1 {
			t.Fatalf("SpanCount = %d, want 1", m.SpanCount())
		}
		// Remove s2's A part only (1 of 1); B keeps 2 of 2.
		if removed, err := m.ReduceSpan(s2, []int64{1, 0, 1, 2, 3}); err != nil || removed {
			t.Fatalf("reduce s2: %v %v", removed, err)
		}
		if got := m.SpanPlanned(s2, 0); got != 0 {
			t.Errorf("SpanPlanned(A) of a removed part = %d, want 0", got)
		}
		if got := m.SpanPlanned(s2, 3); got != 2 {
			t.Errorf("SpanPlanned(D) = %d, want 4-2 = 2", got)
		}
		// Errors change nothing.
		if _, err := m.ReduceSpan(s2, []int64{0, 3, 0, 0, 0}); !errors.Is(err, ErrSpanReduce) {
			t.Errorf("reduce B by 3 of 2: %v", err)
		}
		if got := m.AvailAt(0, 1); got != 18 {
			t.Errorf("B free = %d, want 18", got)
		}
		if _, err := m.ReduceSpan(42, []int64{0, 0, 0, 0, 0}); !errors.Is(err, ErrMultiSpanUnknown) {
			t.Errorf("unknown: %v", err)
		}
		if removed, err := m.ReduceSpan(s2, []int64{0, 2, 2, 2, 2}); err != nil || !removed {
			t.Fatalf("final reduce: %v %v", removed, err)
		}
		for i := range m.Len() {
			if m.AvailAt(0, i) != m.Total(i) || m.Planner(i).PointCount() != 1 {
				t.Errorf("type %s not restored", m.Type(i))
			}
		}
	})
}

func TestPlannerMultiErrors(t *testing.T) {
	if _, err := NewPlannerMulti(0, 10, nil, nil); !errors.Is(err, ErrPlannerArgs) {
		t.Errorf("no types: %v", err)
	}
	if _, err := NewPlannerMulti(0, 10, []int64{1}, []string{"a", "b"}); !errors.Is(err, ErrPlannerArgs) {
		t.Errorf("length mismatch: %v", err)
	}
	if _, err := NewPlannerMulti(0, 10, []int64{1, 2}, []string{"a", "a"}); !errors.Is(err, ErrPlannerArgs) {
		t.Errorf("duplicate: %v", err)
	}
	if _, err := NewPlannerMulti(0, 10, []int64{1, -2}, []string{"a", "b"}); !errors.Is(err, ErrPlannerArgs) {
		t.Errorf("negative total: %v", err)
	}
	m := newTestMulti(t, 0, 100, []int64{10, 1}, "core", "node")
	// core fits, node does not: nothing may be added to either.
	if _, err := m.AddSpan(0, 10, []int64{5, 2}); !errors.Is(err, ErrSpanBusy) {
		t.Fatalf("AddSpan = %v, want ErrSpanBusy", err)
	}
	if m.SpanCount() != 0 || m.Planner(0).SpanCount() != 0 || m.Planner(0).PointCount() != 1 || m.AvailAt(0, 0) != 10 {
		t.Error("failed AddSpan left a span on core")
	}
	if _, err := m.AddSpan(95, 10, []int64{1, 1}); !errors.Is(err, ErrSpanWindow) {
		t.Errorf("past the end: %v", err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("length mismatch did not panic")
			}
		}()
		m.Available(0, 1, []int64{1})
	}()
	if err := m.Update([]int64{4, -1}); !errors.Is(err, ErrPlannerArgs) || m.Total(0) != 10 {
		t.Errorf("Update with a negative total: %v, core total %d", err, m.Total(0))
	}
}

func TestPlannerMultiResetUpdateClone(t *testing.T) {
	m := newTestMulti(t, 0, 100, []int64{10, 2}, "core", "node")
	mustAddMulti(t, m, 0, 10, 8, 1)
	c := m.Clone()
	mustAddMulti(t, c, 20, 10, 10, 2)
	if m.AvailAt(25, 0) != 10 || c.AvailAt(25, 0) != 0 {
		t.Fatal("clone shares state")
	}
	// Grow cores to 16: 8 free during [0,10), 16 after.
	if err := m.Update([]int64{16, 2}); err != nil {
		t.Fatal(err)
	}
	if got := m.AvailAt(5, 0); got != 8 {
		t.Errorf("after Update: %d, want 16-8 = 8", got)
	}
	if err := m.Reset(50, 100); err != nil {
		t.Fatal(err)
	}
	if m.SpanCount() != 0 || m.Base() != 50 || m.Duration() != 100 || m.AvailAt(50, 0) != 16 {
		t.Errorf("after Reset: spans %d base %d duration %d free %d", m.SpanCount(), m.Base(), m.Duration(), m.AvailAt(50, 0))
	}
	if id := mustAddMulti(t, m, 50, 10, 1, 1); id != 1 {
		t.Errorf("id after Reset = %d, want 1 (multi ids keep counting)", id)
	}
	if _, ok := m.AvailTimeNext(); ok {
		t.Error("AvailTimeNext with no iteration")
	}
}

// TestPlannerMultiProperty checks PlannerMulti against one brutePlanner per
// type, with candidates taken from type 0's points.
func TestPlannerMultiProperty(t *testing.T) {
	const ops = 4000
	rng := rand.New(rand.NewPCG(77, 5))
	const k = 3
	var m *PlannerMulti
	var bs [k]*brutePlanner
	type multiSpan struct{ parts [k]SpanID } // NoSpan = part removed
	var spans map[SpanID]multiSpan
	var nextID SpanID
	restart := func() {
		base := rng.Int64N(7) - 3
		dur := 20 + rng.Int64N(40)
		totals := make([]int64, k)
		for i := range totals {
			totals[i] = rng.Int64N(12)
			bs[i] = &brutePlanner{base: base, end: base + dur, total: totals[i], spans: map[SpanID]planSpan{}}
		}
		m = newTestMulti(t, base, dur, totals, "core", "node", "gpu")
		spans = map[SpanID]multiSpan{}
		nextID = 0
	}
	restart()
	randTime := func() int64 { return bs[0].base - 2 + rng.Int64N(bs[0].end-bs[0].base+5) }
	randReqs := func() []int64 {
		r := make([]int64, k)
		for i := range r {
			if rng.IntN(3) == 0 {
				continue // 0 units of this type
			}
			r[i] = rng.Int64N(max(1, bs[i].total/2+2))
		}
		return r
	}
	counts := map[string]int{}
	for op := range ops {
		switch c := rng.IntN(100); {
		case c < 40:
			start, d, req := randTime(), rng.Int64N(20)-1, randReqs()
			var want error
			for i := range k {
				if want = bs[i].addErr(start, d, req[i]); want != nil {
					break
				}
			}
			id, err := m.AddSpan(start, d, req)
			if !errors.Is(err, want) || (want == nil) != (err == nil) {
				t.Fatalf("op %d: AddSpan(%d, %d, %v) = %v, want %v", op, start, d, req, err, want)
			}
			if err != nil {
				counts["add-error"]++
				continue
			}
			if id != nextID {
				t.Fatalf("op %d: id %d, want %d", op, id, nextID)
			}
			nextID++
			var ms multiSpan
			for i := range k {
				bs[i].lastID++
				ms.parts[i] = bs[i].lastID
				bs[i].spans[bs[i].lastID] = planSpan{start, start + d, req[i]}
			}
			spans[id] = ms
			counts["add"]++
		case c < 55:
			ids := sortedIDs(spans)
			if len(ids) == 0 {
				continue
			}
			id := ids[rng.IntN(len(ids))]
			if err := m.RemSpan(id); err != nil {
				t.Fatalf("op %d: RemSpan(%d): %v", op, id, err)
			}
			for i, part := range spans[id].parts {
				delete(bs[i].spans, part)
			}
			delete(spans, id)
			counts["remove"]++
		case c < 63:
			ids := sortedIDs(spans)
			if len(ids) == 0 {
				continue
			}
			id := ids[rng.IntN(len(ids))]
			ms := spans[id]
			red := make([]int64, k)
			for i, part := range ms.parts {
				if part != NoSpan {
					red[i] = rng.Int64N(bs[i].spans[part].req + 1)
				}
			}
			removed, err := m.ReduceSpan(id, red)
			if err != nil {
				t.Fatalf("op %d: ReduceSpan(%d, %v): %v", op, id, red, err)
			}
			left := 0
			for i, part := range ms.parts {
				if part == NoSpan {
					continue
				}
				s := bs[i].spans[part]
				if red[i] == s.req {
					delete(bs[i].spans, part)
					ms.parts[i] = NoSpan
					continue
				}
				s.req -= red[i]
				bs[i].spans[part] = s
				left++
			}
			if removed != (left == 0) {
				t.Fatalf("op %d: removed = %v with %d parts left", op, removed, left)
			}
			if left == 0 {
				delete(spans, id)
			} else {
				spans[id] = ms
			}
			counts["reduce"]++
		case c < 70:
			at, d := randTime(), rng.Int64N(25)-1
			req := randReqs()
			want := true
			for i := range k {
				if m.AvailAt(at, i) != bs[i].availAt(at) || m.AvailDuring(at, d, i) != bs[i].availDuring(at, d) {
					t.Fatalf("op %d: type %d at %d/%d: %d %d, want %d %d", op, i, at, d,
						m.AvailAt(at, i), m.AvailDuring(at, d, i), bs[i].availAt(at), bs[i].availDuring(at, d))
				}
				want = want && bs[i].availDuring(at, d) >= req[i]
			}
			if got := m.Available(at, d, req); got != want {
				t.Fatalf("op %d: Available(%d, %d, %v) = %v, want %v", op, at, d, req, got, want)
			}
			counts["query"]++
		case c < 97:
			at, d, req := randTime(), rng.Int64N(25)-1, randReqs()
			var want []int64
			for _, tt := range bs[0].times(at, d, req[0]) {
				ok := true
				for i := 1; i < k; i++ {
					ok = ok && bs[i].availDuring(tt, d) >= req[i]
				}
				if ok {
					want = append(want, tt)
				}
			}
			if got := multiTimes(t, m, at, d, req...); !slices.Equal(got, want) {
				t.Fatalf("op %d: times(%d, %d, %v) = %v, want %v", op, at, d, req, got, want)
			}
			counts["time"]++
		case c < 99:
			m = m.Clone()
			counts["clone"]++
		default:
			restart()
			counts["restart"]++
		}
		for i := range k {
			checkPlanTree(t, m.Planner(i))
			if got, want := m.Planner(i).PointCount(), len(bs[i].points()); got != want {
				t.Fatalf("op %d: type %d has %d points, want %d", op, i, got, want)
			}
		}
		if m.SpanCount() != len(spans) {
			t.Fatalf("op %d: %d spans, want %d", op, m.SpanCount(), len(spans))
		}
	}
	t.Logf("operations: %v", counts)
}
