package engine

import (
	"math/rand/v2"
	"sort"
	"testing"
)

// TestCalendarOrder checks the documented order on a hand-made example:
// by time, and at equal times by insertion.
func TestCalendarOrder(t *testing.T) {
	var c calendar
	// tag = insertion number.
	times := []float64{5, 1, 3, 1, 5, 0, 3, 1}
	for i, at := range times {
		c.push(item{t: at, tag: int64(i)})
	}
	// Sorted by time, ties in insertion order:
	// t=0: #5; t=1: #1, #3, #7; t=3: #2, #6; t=5: #0, #4.
	want := []int64{5, 1, 3, 7, 2, 6, 0, 4}
	for i, w := range want {
		if c.len() != len(want)-i {
			t.Fatalf("len = %d before pop %d, want %d", c.len(), i, len(want)-i)
		}
		got := c.pop()
		if got.tag != w {
			t.Errorf("pop %d = #%d (t=%v), want #%d", i, got.tag, got.t, w)
		}
	}
	if c.len() != 0 {
		t.Errorf("len = %d after draining, want 0", c.len())
	}
}

// TestCalendarMatchesStableSort is a property check: pushing random items
// and draining the calendar gives the same order as sort.SliceStable by
// time on the insertion order. Times come from a small set so ties are
// frequent.
func TestCalendarMatchesStableSort(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 300 {
		n := r.IntN(200)
		distinct := 1 + r.IntN(10)
		var c calendar
		ref := make([]item, n)
		for i := range ref {
			ref[i] = item{t: float64(r.IntN(distinct)) * 0.5, tag: int64(i)}
			c.push(ref[i])
		}
		sort.SliceStable(ref, func(a, b int) bool { return ref[a].t < ref[b].t })
		for i := range ref {
			got := c.pop()
			if got.tag != ref[i].tag || got.t != ref[i].t {
				t.Fatalf("round %d: pop %d = (t=%v #%d), want (t=%v #%d)", round, i, got.t, got.tag, ref[i].t, ref[i].tag)
			}
		}
	}
}

// TestCalendarInterleaved checks interleaved pushes and pops (the engine's
// real use: handlers push while the loop pops) against a naive reference:
// a slice scanned for the minimum (time, insertion number).
func TestCalendarInterleaved(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var c calendar
	var ref []item // naive: tag is the global insertion number
	next := int64(0)
	now := 0.0
	for step := range 20000 {
		if len(ref) == 0 || r.IntN(3) > 0 {
			// Push at now + a delay from a small set (including 0).
			it := item{t: now + float64(r.IntN(4))*0.25, tag: next}
			next++
			c.push(it)
			ref = append(ref, it)
			continue
		}
		m := 0
		for i := range ref {
			if ref[i].t < ref[m].t || (ref[i].t == ref[m].t && ref[i].tag < ref[m].tag) {
				m = i
			}
		}
		want := ref[m]
		ref = append(ref[:m], ref[m+1:]...)
		got := c.pop()
		if got.tag != want.tag {
			t.Fatalf("step %d: pop = (t=%v #%d), want (t=%v #%d)", step, got.t, got.tag, want.t, want.tag)
		}
		if got.t < now {
			t.Fatalf("step %d: time went backwards: %v < %v", step, got.t, now)
		}
		now = got.t
	}
}
