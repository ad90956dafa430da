package planner

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func newTestPlanner(t testing.TB, base, duration, total int64) *Planner {
	t.Helper()
	p, err := NewPlanner(base, duration, total, "core")
	if err != nil {
		t.Fatalf("NewPlanner(%d, %d, %d): %v", base, duration, total, err)
	}
	return p
}

func mustAdd(t testing.TB, p *Planner, start, duration, request int64) SpanID {
	t.Helper()
	id, err := p.AddSpan(start, duration, request)
	if err != nil {
		t.Fatalf("AddSpan(%d, %d, %d): %v", start, duration, request, err)
	}
	return id
}

// timesFrom runs AvailTimeFirst then AvailTimeNext until it stops, and
// checks that it stays stopped.
func timesFrom(t testing.TB, p *Planner, at, duration, request int64) []int64 {
	t.Helper()
	var out []int64
	for tt, ok := p.AvailTimeFirst(at, duration, request); ok; tt, ok = p.AvailTimeNext() {
		out = append(out, tt)
		if len(out) > 100000 {
			t.Fatal("AvailTimeNext does not stop")
		}
	}
	if tt, ok := p.AvailTimeNext(); ok {
		t.Fatalf("AvailTimeNext after the end = %d, want none", tt)
	}
	return out
}

// checkPlanTree verifies the treap: key order, heap order, aggregates,
// reference counts and the base point.
func checkPlanTree(t testing.TB, p *Planner) {
	t.Helper()
	tr := &p.tree
	count := 0
	var rec func(x int32, acc int64, lo, hi int64) (mn, mx int64)
	rec = func(x int32, acc int64, lo, hi int64) (int64, int64) {
		n := &tr.nodes[x]
		count++
		if n.at < lo || n.at > hi {
			t.Fatalf("point %d out of key order [%d, %d]", n.at, lo, hi)
		}
		if n.refs <= 0 {
			t.Fatalf("point %d has refs %d", n.at, n.refs)
		}
		mn, mx := n.used+acc, n.used+acc
		for _, c := range []int32{n.l, n.r} {
			if c == 0 {
				continue
			}
			if tr.nodes[c].prio > n.prio {
				t.Fatalf("heap order broken at %d", n.at)
			}
			var cl, ch int64 = lo, hi
			if c == n.l {
				ch = n.at - 1
			} else {
				cl = n.at + 1
			}
			cmn, cmx := rec(c, acc+n.add, cl, ch)
			mn, mx = min(mn, cmn), max(mx, cmx)
		}
		if n.mn+acc != mn || n.mx+acc != mx {
			t.Fatalf("point %d: aggregates (%d, %d), want (%d, %d)", n.at, n.mn+acc, n.mx+acc, mn, mx)
		}
		return mn, mx
	}
	if tr.root == 0 {
		t.Fatal("empty tree: the base point is missing")
	}
	rec(tr.root, 0, math.MinInt64, math.MaxInt64)
	if count != tr.size() {
		t.Fatalf("%d reachable points, size %d", count, tr.size())
	}
	if x := tr.find(p.base); x == 0 {
		t.Fatal("base point missing")
	}
}

// The worked example: 10 cores over [0, 100), s1 = [0,10) x 4 and
// s2 = [5,15) x 5. Use is 4 on [0,5), 4+5 = 9 on [5,10), 5 on [10,15) and
// 0 from 15; free = 10 - use:
//
//	[0,5): 6   [5,10): 1   [10,15): 5   [15,100]: 10
//
// and the scheduled points are 0 (base and s1 start), 5, 10 and 15.
func TestPlannerWorkedExample(t *testing.T) {
	p := newTestPlanner(t, 0, 100, 10)
	s1 := mustAdd(t, p, 0, 10, 4)
	s2 := mustAdd(t, p, 5, 10, 5)
	if s1 != 1 || s2 != 2 {
		t.Errorf("span ids %d, %d; want 1, 2 (planner ids count from 1)", s1, s2)
	}
	if got := p.PointCount(); got != 4 {
		t.Errorf("PointCount = %d, want 4 (0, 5, 10, 15)", got)
	}

	at := []struct {
		at, want int64
		why      string
	}{
		{0, 6, "10-4"},
		{4, 6, "still the state of point 0"},
		{5, 1, "10-4-5"},
		{9, 1, "state of point 5"},
		{10, 5, "s1 ended: 10-5"},
		{14, 5, "state of point 10"},
		{15, 10, "both ended"},
		{100, 10, "the window end is a valid instant"},
		{-1, -1, "before base: ERANGE"},
		{101, -1, "after the end: ERANGE"},
	}
	for _, c := range at {
		if got := p.AvailAt(c.at); got != c.want {
			t.Errorf("AvailAt(%d) = %d, want %d (%s)", c.at, got, c.want, c.why)
		}
	}

	during := []struct {
		at, d, want int64
		why         string
	}{
		{0, 5, 6, "[0,5) lies in the 6-free stretch"},
		{5, 5, 1, "[5,10) is the 1-free stretch"},
		{0, 15, 1, "min(6, 1, 5)"},
		{3, 3, 1, "[3,6) = min(6, 6, 1): reaches point 5"},
		{10, 5, 5, "[10,15)"},
		{12, 2, 5, "state at 12 comes from point 10"},
		{14, 2, 5, "min(5 at 14, 10 at 15)"},
		{15, 85, 10, "[15,100) ends exactly at the window end"},
		{0, 100, 1, "whole window"},
		{95, 10, -1, "95+10 > 100: ERANGE"},
		{0, 0, -1, "duration < 1: EINVAL"},
		{-1, 2, -1, "before base: EINVAL"},
	}
	for _, c := range during {
		if got := p.AvailDuring(c.at, c.d); got != c.want {
			t.Errorf("AvailDuring(%d, %d) = %d, want %d (%s)", c.at, c.d, got, c.want, c.why)
		}
	}

	first := []struct {
		at, d, req int64
		want       []int64
		why        string
	}{
		{0, 5, 6, []int64{0, 15}, "0: [0,5) has 6; 5 and 10 have 1 and 5 < 6; 15 has 10"},
		{0, 6, 6, []int64{15}, "0: [0,6) reaches point 5 (1 free); next fit is 15"},
		{0, 5, 7, []int64{15}, "6, 1 and 5 free at 0, 5, 10 are all < 7"},
		{0, 5, 5, []int64{0, 10, 15}, "5 is skipped (1 < 5); [10,15) has 5"},
		{0, 2, 2, []int64{0, 10, 15}, "5 is skipped (1 < 2)"},
		{0, 1, 1, []int64{0, 5, 10, 15}, "every point has >= 1"},
		{0, 10, 0, []int64{0, 5, 10, 15}, "0 units fit at every point"},
		{2, 2, 6, []int64{15}, "[2,4) has 6 free, but 2 is not a point: points only"},
		{1, 5, 5, []int64{10, 15}, "point 0 < 1 is not a candidate"},
		{0, 85, 10, []int64{15}, "15+85 = 100 fits the window"},
		{0, 86, 10, nil, "15+86 > 100: ENOENT"},
		{16, 5, 1, nil, "no point at or after 16: ENOENT"},
		{0, 5, 11, nil, "request > total: ERANGE"},
		{100, 1, 1, nil, "at == end: EINVAL"},
		{0, 0, 1, nil, "duration < 1: EINVAL"},
	}
	for _, c := range first {
		if got := timesFrom(t, p, c.at, c.d, c.req); !slices.Equal(got, c.want) {
			t.Errorf("AvailTimeFirst/Next(%d, %d, %d) = %v, want %v (%s)", c.at, c.d, c.req, got, c.want, c.why)
		}
	}

	earliest := []struct {
		at, d, req, want int64
		why              string
	}{
		{0, 5, 6, 0, "fits at 0"},
		{0, 6, 6, 15, "[0,6) reaches 5; 5 and 10 lack units"},
		{2, 2, 6, 2, "[2,4) has 6: not restricted to points"},
		{3, 3, 6, 15, "[3,6) reaches 5"},
		{11, 4, 5, 11, "[11,15) has 5"},
		{16, 5, 1, 16, "empty from 15"},
		{96, 5, 1, -1, "96+5 > 100"},
	}
	for _, c := range earliest {
		got, ok := p.EarliestStart(c.at, c.d, c.req)
		if !ok {
			got = -1
		}
		if got != c.want {
			t.Errorf("EarliestStart(%d, %d, %d) = %d, want %d (%s)", c.at, c.d, c.req, got, c.want, c.why)
		}
	}

	// Removing s1: free is 10 on [0,5), 5 on [5,15), 10 after; point 10
	// (only s1's end) goes.
	if err := p.RemSpan(s1); err != nil {
		t.Fatal(err)
	}
	checkPlanTree(t, p)
	if got := p.PointCount(); got != 3 {
		t.Errorf("PointCount after RemSpan(s1) = %d, want 3 (0, 5, 15)", got)
	}
	if got := p.AvailDuring(0, 5); got != 10 {
		t.Errorf("after RemSpan(s1): AvailDuring(0,5) = %d, want 10", got)
	}
	if got := p.AvailDuring(0, 15); got != 5 {
		t.Errorf("after RemSpan(s1): AvailDuring(0,15) = %d, want 5", got)
	}
	if got := timesFrom(t, p, 0, 5, 6); !slices.Equal(got, []int64{0, 15}) {
		t.Errorf("after RemSpan(s1): times(0,5,6) = %v, want [0 15]", got)
	}
	// Removing s2 too restores the empty planner: one point, 10 free.
	if err := p.RemSpan(s2); err != nil {
		t.Fatal(err)
	}
	checkPlanTree(t, p)
	if got, want := p.PointCount(), 1; got != want {
		t.Errorf("PointCount = %d, want %d", got, want)
	}
	if got := p.AvailDuring(0, 100); got != 10 {
		t.Errorf("empty again: AvailDuring(0,100) = %d, want 10", got)
	}
	if err := p.RemSpan(s2); !errors.Is(err, ErrSpanUnknown) || PlannerErrno(err) != "EINVAL" {
		t.Errorf("second RemSpan(s2) = %v, want ErrSpanUnknown (EINVAL)", err)
	}
}

// Scenarios of flux-sched's resource/planner/test/planner_test01.cpp,
// restated with their arithmetic.
func TestPlannerFluxScenarios(t *testing.T) {
	t.Run("basic_add_remove", func(t *testing.T) {
		// 1 unit over [0,10).
		p := newTestPlanner(t, 0, 10, 1)
		if got := timesFrom(t, p, 0, 5, 1); !slices.Equal(got, []int64{0}) {
			t.Fatalf("empty: %v, want [0]", got)
		}
		mustAdd(t, p, 0, 5, 1)
		// Points 0 (busy) and 5 (free): [5,7) fits.
		if got, _ := p.AvailTimeFirst(0, 2, 1); got != 5 {
			t.Fatalf("got %d, want 5", got)
		}
		s2 := mustAdd(t, p, 5, 2, 1)
		if got, _ := p.AvailTimeFirst(0, 2, 1); got != 7 {
			t.Fatalf("got %d, want 7", got)
		}
		s3 := mustAdd(t, p, 7, 2, 1)
		// Only [9,10) is left: 9+2 > 10.
		if got, ok := p.AvailTimeFirst(0, 2, 1); ok {
			t.Fatalf("got %d, want none", got)
		}
		if got, _ := p.AvailTimeFirst(0, 1, 1); got != 9 {
			t.Fatalf("got %d, want 9", got)
		}
		mustAdd(t, p, 9, 1, 1)
		if s, _ := p.Span(s2); s.Start != 5 {
			t.Fatalf("span start %d, want 5", s.Start)
		}
		if err := p.RemSpan(s2); err != nil {
			t.Fatal(err)
		}
		if err := p.RemSpan(s3); err != nil {
			t.Fatal(err)
		}
		// Free [5,9) only: 5 units do not fit, 4 do at 5.
		if got, ok := p.AvailTimeFirst(0, 5, 1); ok {
			t.Fatalf("got %d, want none", got)
		}
		if got, _ := p.AvailTimeFirst(0, 4, 1); got != 5 {
			t.Fatalf("got %d, want 5", got)
		}
		mustAdd(t, p, 5, 4, 1)
		checkPlanTree(t, p)
	})

	t.Run("availability_checkers", func(t *testing.T) {
		// 10 units over [0, MaxInt64): [1,1001) x 5, [2000,3001) x 10,
		// [10,2000) x 1. Free: 0:10, 1:5, 10:4, 1001:9, 2000:0, 3001:10.
		p := newTestPlanner(t, 0, math.MaxInt64, 10)
		if !p.Available(0, 1, 10) || !p.Available(1, 1000, 5) {
			t.Fatal("empty planner not available")
		}
		mustAdd(t, p, 1, 1000, 5)
		mustAdd(t, p, 2000, 1001, 10)
		if p.Available(10, 2991, 1) {
			t.Fatal("[10,3001) crosses the full span")
		}
		if !p.Available(10, 1990, 1) {
			t.Fatal("[10,2000) should have 1 free")
		}
		mustAdd(t, p, 10, 1990, 1)
		for _, c := range []struct{ at, want int64 }{
			{1, 5}, {10, 4}, {1500, 9}, {2000, 0}, {2500, 0}, {3000, 0}, {3001, 10},
		} {
			if got := p.AvailAt(c.at); got != c.want {
				t.Errorf("AvailAt(%d) = %d, want %d", c.at, got, c.want)
			}
		}
		for _, c := range []struct{ at, d, want int64 }{
			{2000, 1001, 0}, {0, 1001, 4}, {10, 1990, 4}, {4, 3, 5},
			{20, 980, 4}, {1001, 998, 9}, {2500, 101, 0},
		} {
			if got := p.AvailDuring(c.at, c.d); got != c.want {
				t.Errorf("AvailDuring(%d, %d) = %d, want %d", c.at, c.d, got, c.want)
			}
		}
		for _, c := range []struct {
			at, d, req int64
			want       bool
		}{
			{0, 1000, 4, true}, {10, 990, 4, true}, {20, 981, 4, true}, {1001, 999, 9, true},
			{100, 1401, 4, true}, {1500, 1001, 1, false}, {1000, 1001, 1, false},
			{0, 3001, 1, false}, {0, 2001, 1, false}, {3001, 2000, 10, true},
		} {
			if got := p.Available(c.at, c.d, c.req); got != c.want {
				t.Errorf("Available(%d, %d, %d) = %v, want %v", c.at, c.d, c.req, got, c.want)
			}
		}
		// 5 for 9: 0 ([0,9) min(10,5)), 1 ([1,10) 5), not 10 (4),
		// 1001 (9), not 2000 (0), 3001.
		if got := timesFrom(t, p, 0, 9, 5); !slices.Equal(got, []int64{0, 1, 1001, 3001}) {
			t.Errorf("times(0,9,5) = %v, want [0 1 1001 3001]", got)
		}
		if got := timesFrom(t, p, 0, 10, 9); !slices.Equal(got, []int64{1001, 3001}) {
			t.Errorf("times(0,10,9) = %v, want [1001 3001]", got)
		}
		checkPlanTree(t, p)
	})

	t.Run("add_resets_iterator", func(t *testing.T) {
		p := newTestPlanner(t, 0, 10, 10)
		if got := timesFrom(t, p, 0, 4, 3); !slices.Equal(got, []int64{0}) {
			t.Fatalf("%v, want [0]", got)
		}
		if _, ok := p.AvailTimeFirst(0, 4, 3); !ok {
			t.Fatal("no first")
		}
		mustAdd(t, p, 0, 4, 3)
		if got, ok := p.AvailTimeNext(); ok {
			t.Fatalf("AvailTimeNext after AddSpan = %d, want none (EINVAL)", got)
		}
		if got := timesFrom(t, p, 0, 4, 3); !slices.Equal(got, []int64{0, 4}) {
			t.Fatalf("%v, want [0 4]", got)
		}
	})

	t.Run("on_or_after", func(t *testing.T) {
		// 3 units over [0, MaxInt64).
		p := newTestPlanner(t, 0, math.MaxInt64, 3)
		// Only the base point 0 exists, and 0 < 100000.
		if got, ok := p.AvailTimeFirst(100000, 100, 2); ok {
			t.Fatalf("got %d, want none", got)
		}
		if !p.Available(100000, 100, 2) {
			t.Fatal("not available")
		}
		mustAdd(t, p, 100000, 100, 2)
		if got, _ := p.AvailTimeFirst(100000, 200, 2); got != 100100 {
			t.Fatalf("got %d, want 100100", got)
		}
		mustAdd(t, p, 100100, 200, 2)
		// Use 2 on [100000,100300): 1 unit fits everywhere.
		if got := timesFrom(t, p, 100000, 200, 1); !slices.Equal(got, []int64{100000, 100100, 100300}) {
			t.Fatalf("%v", got)
		}
		if got := timesFrom(t, p, 0, 200, 1); !slices.Equal(got, []int64{0, 100000, 100100, 100300}) {
			t.Fatalf("%v", got)
		}
	})

	t.Run("partial_cancel", func(t *testing.T) {
		p := newTestPlanner(t, 0, math.MaxInt64, 100)
		s1 := mustAdd(t, p, 0, 600, 25)
		s2 := mustAdd(t, p, 0, 1200, 75)
		// 100-25-75 = 0; reduce s1 by 15: 15 free.
		if removed, err := p.ReduceSpan(s1, 15); err != nil || removed || p.AvailAt(0) != 15 {
			t.Fatalf("reduce 15: removed=%v err=%v free=%d, want false nil 15", removed, err, p.AvailAt(0))
		}
		// The last 10 of s1 remove it: 25 free.
		if removed, err := p.ReduceSpan(s1, 10); err != nil || !removed || p.AvailAt(0) != 25 {
			t.Fatalf("reduce 10: removed=%v err=%v free=%d, want true nil 25", removed, err, p.AvailAt(0))
		}
		// s2 75 -> 50: 50 free at 300, then a 50-unit span fills it.
		if removed, _ := p.ReduceSpan(s2, 25); removed || p.AvailAt(300) != 50 {
			t.Fatalf("reduce s2: removed=%v free=%d", removed, p.AvailAt(300))
		}
		s3 := mustAdd(t, p, 300, 300, 50)
		if got := p.AvailAt(300); got != 0 {
			t.Fatalf("AvailAt(300) = %d, want 0", got)
		}
		if err := p.RemSpan(s2); err != nil {
			t.Fatal(err)
		}
		if removed, err := p.ReduceSpan(s3, 50); err != nil || !removed {
			t.Fatalf("reduce s3 fully: %v %v", removed, err)
		}
		mustAdd(t, p, 300, 300, 100)
		if got := p.AvailAt(300); got != 0 {
			t.Fatalf("AvailAt(300) = %d, want 0", got)
		}
		checkPlanTree(t, p)
	})

	t.Run("update_total", func(t *testing.T) {
		p := newTestPlanner(t, 0, math.MaxInt64, 100000)
		mustAdd(t, p, 0, 600, 36)
		mustAdd(t, p, 0, 57600, 3600)
		// Use at 0: 3636. Shrinking to 50000 leaves 46364 free there.
		if err := p.Update(50000); err != nil {
			t.Fatal(err)
		}
		if got := p.AvailAt(0); got != 46364 {
			t.Errorf("AvailAt(0) = %d, want 50000-3636 = 46364", got)
		}
		if err := p.Update(40000); err != nil {
			t.Fatal(err)
		}
		if _, err := p.AddSpan(1152000, 57600, 50000); !errors.Is(err, ErrSpanBusy) {
			t.Errorf("50000 of 40000: %v, want ErrSpanBusy", err)
		}
		mustAdd(t, p, 1152000, 57600, 40000)
		// Shrinking below the use reads 0 free, and growing back restores.
		if err := p.Update(1000); err != nil {
			t.Fatal(err)
		}
		if got := p.AvailAt(0); got != 0 {
			t.Errorf("AvailAt(0) with total 1000 < use 3636 = %d, want 0", got)
		}
		if err := p.Update(100000); err != nil {
			t.Fatal(err)
		}
		if got := p.AvailAt(0); got != 96364 {
			t.Errorf("AvailAt(0) = %d, want 96364", got)
		}
	})
}

func TestPlannerErrors(t *testing.T) {
	newP := func() *Planner {
		p := newTestPlanner(t, 10, 100, 10) // window [10, 110)
		mustAdd(t, p, 20, 10, 8)            // 2 free on [20,30)
		return p
	}
	cases := []struct {
		name                string
		start, dur, request int64
		want                error
		errno               string
	}{
		{"zero duration", 20, 0, 1, ErrSpanDuration, "EINVAL"},
		{"negative duration", 20, -5, 1, ErrSpanDuration, "EINVAL"},
		{"before base", 9, 5, 1, ErrSpanWindow, "EINVAL"},
		{"past the end", 100, 11, 1, ErrSpanWindow, "EINVAL"},
		{"starts at the end", 110, 1, 1, ErrSpanWindow, "EINVAL"},
		{"huge duration", 10, math.MaxInt64, 1, ErrSpanWindow, "EINVAL"},
		{"negative request", 20, 5, -1, ErrSpanRequest, "ERANGE"},
		{"more than free", 25, 10, 3, ErrSpanBusy, "EINVAL"},
		{"more than total", 40, 10, 11, ErrSpanBusy, "EINVAL"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := newP()
			before := p.PointCount()
			id, err := p.AddSpan(c.start, c.dur, c.request)
			if !errors.Is(err, c.want) || id != NoSpan {
				t.Fatalf("AddSpan(%d, %d, %d) = %d, %v; want NoSpan, %v", c.start, c.dur, c.request, id, err, c.want)
			}
			if got := PlannerErrno(err); got != c.errno {
				t.Errorf("errno %q, want %q", got, c.errno)
			}
			if p.PointCount() != before || p.SpanCount() != 1 {
				t.Errorf("failed AddSpan changed the planner")
			}
		})
	}
	// Boundaries that are fine: a span ending exactly at the end, and
	// exactly the free units.
	p := newP()
	mustAdd(t, p, 100, 10, 10)
	mustAdd(t, p, 20, 10, 2)
	if got := p.AvailAt(110); got != 10 {
		t.Errorf("AvailAt(end) = %d, want 10", got)
	}

	if err := p.RemSpan(99); !errors.Is(err, ErrSpanUnknown) {
		t.Errorf("RemSpan(99) = %v", err)
	}
	if _, err := p.ReduceSpan(99, 1); !errors.Is(err, ErrSpanUnknown) {
		t.Errorf("ReduceSpan(99) = %v", err)
	}
	if _, err := p.ReduceSpan(1, 9); !errors.Is(err, ErrSpanReduce) {
		t.Errorf("ReduceSpan(1, 9 > 8) = %v", err)
	}
	if _, err := p.ReduceSpan(1, -1); !errors.Is(err, ErrSpanReduce) {
		t.Errorf("ReduceSpan(1, -1) = %v", err)
	}
	for _, c := range []struct{ base, dur, total int64 }{
		{0, 0, 1}, {0, -1, 1}, {0, 10, -1}, {math.MaxInt64 - 5, 10, 1},
	} {
		if _, err := NewPlanner(c.base, c.dur, c.total, "x"); !errors.Is(err, ErrPlannerArgs) {
			t.Errorf("NewPlanner(%d, %d, %d) = %v, want ErrPlannerArgs", c.base, c.dur, c.total, err)
		}
	}
	if err := p.Update(-1); !errors.Is(err, ErrPlannerArgs) {
		t.Errorf("Update(-1) = %v", err)
	}
	if err := p.Reset(0, 0); !errors.Is(err, ErrPlannerArgs) {
		t.Errorf("Reset(0, 0) = %v", err)
	}
}

func TestPlannerResetAndClone(t *testing.T) {
	p := newTestPlanner(t, 0, 100, 10)
	mustAdd(t, p, 0, 10, 4)
	mustAdd(t, p, 5, 10, 5)
	c := p.Clone()
	mustAdd(t, c, 50, 10, 10)
	if p.AvailAt(55) != 10 || c.AvailAt(55) != 0 {
		t.Fatalf("clone shares state: %d %d", p.AvailAt(55), c.AvailAt(55))
	}
	checkPlanTree(t, c)
	if err := p.Reset(1000, 50); err != nil {
		t.Fatal(err)
	}
	checkPlanTree(t, p)
	if p.SpanCount() != 0 || p.PointCount() != 1 || p.Base() != 1000 || p.Duration() != 50 {
		t.Fatalf("after Reset: spans %d points %d base %d duration %d", p.SpanCount(), p.PointCount(), p.Base(), p.Duration())
	}
	if id := mustAdd(t, p, 1000, 50, 10); id != 1 {
		t.Errorf("first id after Reset = %d, want 1", id)
	}
	if c.AvailAt(7) != 1 {
		t.Errorf("clone changed by Reset of the original")
	}
}

// AddSpan and RemSpan reuse storage once warm.
func TestPlannerAddRemSpanAllocs(t *testing.T) {
	p := newTestPlanner(t, 0, 1<<40, 64)
	rng := rand.New(rand.NewPCG(7, 7))
	for range 1000 {
		start := rng.Int64N(1 << 30)
		if _, err := p.AddSpan(start, 1+rng.Int64N(1000), 1); err != nil {
			t.Fatal(err)
		}
	}
	start := int64(1 << 31)
	allocs := testing.AllocsPerRun(1000, func() {
		id, err := p.AddSpan(start, 100, 3)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.RemSpan(id); err != nil {
			t.Fatal(err)
		}
		start += 7
	})
	if allocs != 0 {
		t.Errorf("AddSpan+RemSpan: %v allocs/op, want 0", allocs)
	}
	allocs = testing.AllocsPerRun(100, func() {
		p.AvailTimeFirst(0, 500, 60)
		p.AvailTimeNext()
		p.AvailDuring(12345, 1000)
	})
	if allocs != 0 {
		t.Errorf("queries: %v allocs/op, want 0", allocs)
	}
}

// brutePlanner is the reference model: one counter per time unit.
type brutePlanner struct {
	base, end, total int64
	spans            map[SpanID]planSpan
	lastID           SpanID
}

func (b *brutePlanner) used(t int64) int64 {
	var u int64
	for _, s := range b.spans {
		if s.start <= t && t < s.end {
			u += s.req
		}
	}
	return u
}

func (b *brutePlanner) freeAt(t int64) int64 { return max(0, b.total-b.used(t)) }

func (b *brutePlanner) availAt(t int64) int64 {
	if t < b.base || t > b.end {
		return -1
	}
	return b.freeAt(t)
}

func (b *brutePlanner) availDuring(at, d int64) int64 {
	if d < 1 || at < b.base || at+d > b.end {
		return -1
	}
	m := int64(math.MaxInt64)
	for t := at; t < at+d; t++ {
		m = min(m, b.freeAt(t))
	}
	return m
}

func (b *brutePlanner) points() []int64 {
	pts := []int64{b.base}
	for _, s := range b.spans {
		pts = append(pts, s.start, s.end)
	}
	slices.Sort(pts)
	return slices.Compact(pts)
}

// times is what AvailTimeFirst/Next must return: every scheduled point
// >= at whose whole window fits, in order.
func (b *brutePlanner) times(at, d, req int64) []int64 {
	if d < 1 || at < b.base || at >= b.end || req < 0 || req > b.total {
		return nil
	}
	var out []int64
	for _, t := range b.points() {
		if t >= at && t+d <= b.end && b.availDuring(t, d) >= req {
			out = append(out, t)
		}
	}
	return out
}

func (b *brutePlanner) earliest(at, d, req int64) int64 {
	if d < 1 || at < b.base || at >= b.end || req < 0 || req > b.total {
		return -1
	}
	for t := at; t+d <= b.end; t++ {
		if b.availDuring(t, d) >= req {
			return t
		}
	}
	return -1
}

// addErr is the error AddSpan must return, in the documented order.
func (b *brutePlanner) addErr(start, d, req int64) error {
	switch {
	case d < 1:
		return ErrSpanDuration
	case start < b.base || start+d > b.end:
		return ErrSpanWindow
	case req < 0:
		return ErrSpanRequest
	case b.availDuring(start, d) < req:
		return ErrSpanBusy
	}
	return nil
}

func (b *brutePlanner) clone() *brutePlanner {
	c := *b
	c.spans = make(map[SpanID]planSpan, len(b.spans))
	for id, s := range b.spans {
		c.spans[id] = s
	}
	return &c
}

// sortedIDs keeps the choice of a span independent of map order.
func sortedIDs[V any](m map[SpanID]V) []SpanID {
	ids := make([]SpanID, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// TestPlannerProperty runs random operations against the per-time-unit
// model and compares every answer.
func TestPlannerProperty(t *testing.T) {
	const ops = 6000
	rng := rand.New(rand.NewPCG(20240601, 1))
	var p *Planner
	var b *brutePlanner
	restart := func() {
		base := rng.Int64N(11) - 5
		dur := 20 + rng.Int64N(50)
		total := rng.Int64N(31)
		p = newTestPlanner(t, base, dur, total)
		b = &brutePlanner{base: base, end: base + dur, total: total, spans: map[SpanID]planSpan{}}
	}
	restart()
	randTime := func() int64 { return b.base - 2 + rng.Int64N(b.end-b.base+5) }
	randReq := func() int64 {
		if rng.IntN(10) == 0 {
			return rng.Int64N(b.total+3) - 1 // -1 .. total+1
		}
		return rng.Int64N(max(1, b.total/3+1))
	}
	counts := map[string]int{}
	liveSum, liveMax := 0, 0
	for op := range ops {
		switch k := rng.IntN(100); {
		case k < 42: // add
			start, d, req := randTime(), rng.Int64N(20)-1, randReq()
			want := b.addErr(start, d, req)
			id, err := p.AddSpan(start, d, req)
			if !errors.Is(err, want) || (want == nil) != (err == nil) {
				t.Fatalf("op %d: AddSpan(%d, %d, %d) = %v, want %v", op, start, d, req, err, want)
			}
			if err == nil {
				b.lastID++
				if id != b.lastID {
					t.Fatalf("op %d: id %d, want %d", op, id, b.lastID)
				}
				b.spans[id] = planSpan{start, start + d, req}
				counts["add"]++
			} else {
				counts["add-error"]++
			}
		case k < 54: // remove
			ids := sortedIDs(b.spans)
			id := SpanID(999999)
			if len(ids) > 0 && rng.IntN(20) != 0 {
				id = ids[rng.IntN(len(ids))]
			}
			err := p.RemSpan(id)
			if _, ok := b.spans[id]; ok != (err == nil) {
				t.Fatalf("op %d: RemSpan(%d) = %v", op, id, err)
			}
			delete(b.spans, id)
			counts["remove"]++
		case k < 60: // reduce
			ids := sortedIDs(b.spans)
			if len(ids) == 0 {
				continue
			}
			id := ids[rng.IntN(len(ids))]
			s := b.spans[id]
			n := rng.Int64N(s.req+2) - rng.Int64N(2) // sometimes -1 or > req
			removed, err := p.ReduceSpan(id, n)
			switch {
			case n < 0 || n > s.req:
				if !errors.Is(err, ErrSpanReduce) {
					t.Fatalf("op %d: ReduceSpan(%d, %d of %d) = %v", op, id, n, s.req, err)
				}
			case n == s.req:
				if err != nil || !removed {
					t.Fatalf("op %d: full ReduceSpan = %v %v", op, removed, err)
				}
				delete(b.spans, id)
			default:
				if err != nil || removed {
					t.Fatalf("op %d: ReduceSpan = %v %v", op, removed, err)
				}
				s.req -= n
				b.spans[id] = s
			}
			counts["reduce"]++
		case k < 70: // instant and window queries
			at, d := randTime(), rng.Int64N(30)-1
			if got, want := p.AvailAt(at), b.availAt(at); got != want {
				t.Fatalf("op %d: AvailAt(%d) = %d, want %d", op, at, got, want)
			}
			if got, want := p.AvailDuring(at, d), b.availDuring(at, d); got != want {
				t.Fatalf("op %d: AvailDuring(%d, %d) = %d, want %d", op, at, d, got, want)
			}
			req := randReq()
			want := req >= 0 && b.availDuring(at, d) >= req
			if got := p.Available(at, d, req); got != want {
				t.Fatalf("op %d: Available(%d, %d, %d) = %v, want %v", op, at, d, req, got, want)
			}
			counts["query"]++
		case k < 95: // earliest-time queries
			at, d, req := randTime(), rng.Int64N(30)-1, randReq()
			want := b.times(at, d, req)
			if got := timesFrom(t, p, at, d, req); !slices.Equal(got, want) {
				t.Fatalf("op %d: times(%d, %d, %d) = %v, want %v; points %v", op, at, d, req, got, want, b.points())
			}
			got, ok := p.EarliestStart(at, d, req)
			if !ok {
				got = -1
			}
			if w := b.earliest(at, d, req); got != w {
				t.Fatalf("op %d: EarliestStart(%d, %d, %d) = %d, want %d", op, at, d, req, got, w)
			}
			counts["time"]++
		case k < 97: // resize
			total := rng.Int64N(b.total + 4)
			if err := p.Update(total); err != nil {
				t.Fatal(err)
			}
			b.total = total
			counts["update"]++
		case k < 99: // continue on a copy
			p, b = p.Clone(), b.clone()
			counts["clone"]++
		default:
			restart()
			counts["restart"]++
		}
		checkPlanTree(t, p)
		liveSum += len(b.spans)
		liveMax = max(liveMax, len(b.spans))
		if got, want := p.PointCount(), len(b.points()); got != want {
			t.Fatalf("op %d: %d points, want %d", op, got, want)
		}
		if p.SpanCount() != len(b.spans) {
			t.Fatalf("op %d: %d spans, want %d", op, p.SpanCount(), len(b.spans))
		}
	}
	t.Logf("operations: %v; live spans: mean %.1f, max %d", counts, float64(liveSum)/ops, liveMax)
}

// TestSpanSetAgainstMap drives a spanSet through long random runs of new
// spans (growing ids), updates, removals (of live, removed and unknown ids)
// and resets, checking every lookup and the count against a map: the
// marked removals and their packing must never lose or revive a span.
func TestSpanSetAgainstMap(t *testing.T) {
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 7))
		var ss spanSet
		want := map[SpanID]planSpan{}
		var next SpanID
		limit := 1 + rng.IntN(60) // how many spans a run tends to hold
		for step := range 5000 {
			switch r := rng.IntN(100); {
			case r < 45 && len(want) < limit:
				next++
				s := planSpan{start: int64(step), end: int64(step + 1 + rng.IntN(9)), req: int64(rng.IntN(4))}
				ss.put(next, s)
				want[next] = s
			case r < 55 && next > 0: // update a live span, as ReduceSpan does
				id := 1 + SpanID(rng.Int64N(int64(next)))
				if s, ok := want[id]; ok {
					s.req = int64(rng.IntN(3))
					ss.put(id, s)
					want[id] = s
				}
			case r < 99 && next > 0:
				id := 1 + SpanID(rng.Int64N(int64(next)+2)) // sometimes unknown
				ss.del(id)
				delete(want, id)
			case r == 99:
				ss.reset()
				clear(want)
				next = 0
			}
			if ss.len() != len(want) {
				t.Fatalf("seed %d step %d: len %d, want %d", seed, step, ss.len(), len(want))
			}
			for id := SpanID(0); id <= next+1; id++ {
				got, ok := ss.get(id)
				w, wok := want[id]
				if ok != wok || got != w {
					t.Fatalf("seed %d step %d: get(%d) = %v %v, want %v %v", seed, step, id, got, ok, w, wok)
				}
			}
			if c := ss.clone(); c.len() != ss.len() {
				t.Fatalf("seed %d step %d: clone holds %d, want %d", seed, step, c.len(), ss.len())
			}
		}
	}
}
