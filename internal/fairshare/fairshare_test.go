package fairshare

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestSolveCases: small systems whose max-min rates follow by hand
// from the capacities, coefficients and bounds.
func TestSolveCases(t *testing.T) {
	type fl struct {
		links []int32
		coef  []float64
		bound float64
	}
	inf := math.Inf(1)
	tests := []struct {
		name  string
		caps  []float64
		flows []fl
		want  func(caps []float64) []float64
	}{
		{"two flows on one link split it", []float64{10},
			[]fl{{[]int32{0}, nil, inf}, {[]int32{0}, nil, inf}},
			func(c []float64) []float64 { return []float64{c[0] / 2, c[0] / 2} }},
		{"a bound leaves the rest to the other", []float64{10},
			[]fl{{[]int32{0}, nil, 2}, {[]int32{0}, nil, inf}},
			func(c []float64) []float64 { return []float64{2, c[0] - 2} }},
		{"coefficients: equal progress, capacity over the sum of demands", []float64{100},
			[]fl{{[]int32{0}, []float64{150}, 1}, {[]int32{0}, []float64{50}, 1}},
			func(c []float64) []float64 { x := c[0] / 200; return []float64{x, x} }},
		{"demands that fit run at their bound", []float64{100},
			[]fl{{[]int32{0}, []float64{60}, 1}, {[]int32{0}, []float64{30}, 1}},
			func(c []float64) []float64 { return []float64{1, 1} }},
		{"a job slowed on one node leaves the other node's link to its neighbour", []float64{100, 100},
			// flow 0 on nodes 0 and 1 (80 each), flow 1 on node 0 (80),
			// flow 2 on node 1 (10): node 0 freezes 0 and 1 at 100/160;
			// node 1 then gives flow 2 its bound.
			[]fl{{[]int32{0, 1}, []float64{80, 80}, 1}, {[]int32{0}, []float64{80}, 1}, {[]int32{1}, []float64{10}, 1}},
			func(c []float64) []float64 { x := c[0] / 160; return []float64{x, x, 1} }},
		{"unlimited link only", []float64{inf}, []fl{{[]int32{0}, nil, inf}},
			func([]float64) []float64 { return []float64{inf} }},
		{"no link, a bound", nil, []fl{{nil, nil, 3}},
			func([]float64) []float64 { return []float64{3} }},
		{"a zero coefficient leaves the link out", []float64{1, 10},
			[]fl{{[]int32{0, 1}, []float64{0, 1}, inf}},
			func(c []float64) []float64 { return []float64{c[1]} }},
	}
	for _, tc := range tests {
		var s System
		for _, c := range tc.caps {
			s.AddLink(c)
		}
		var ids []int32
		for _, f := range tc.flows {
			ids = append(ids, s.Add(f.links, f.coef, f.bound))
		}
		s.SolveAll()
		want := tc.want(tc.caps)
		for i, id := range ids {
			if got := s.Rate(id); !(got == want[i] || math.Abs(got-want[i]) <= 1e-12*want[i]) {
				t.Errorf("%s: flow %d rate %g, want %g", tc.name, i, got, want[i])
			}
		}
	}
}

// TestSolveMaxMin: on random systems with coefficients and bounds,
// the rates are feasible and max-min fair: every flow is at its bound
// or crosses a full link on which no flow progresses faster.
func TestSolveMaxMin(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for iter := range 300 {
		var s System
		s.OrderTies = iter%3 == 0
		nl := 1 + rng.IntN(8)
		caps := make([]float64, nl)
		for i := range caps {
			caps[i] = 1 + rng.Float64()*100
			s.AddLink(caps[i])
		}
		type fl struct {
			links []int32
			coef  []float64
			bound float64
		}
		var fls []fl
		var ids []int32
		for range 1 + rng.IntN(12) {
			var f fl
			for l := range nl {
				if rng.IntN(3) == 0 {
					f.links = append(f.links, int32(l))
					f.coef = append(f.coef, 0.1+rng.Float64()*10)
				}
			}
			f.bound = math.Inf(1)
			if rng.IntN(2) == 0 {
				f.bound = rng.Float64() * 20
			}
			if iter%2 == 0 { // unit coefficients
				f.coef = nil
			}
			fls = append(fls, f)
			ids = append(ids, s.Add(f.links, f.coef, f.bound))
		}
		// Remove one and re-add it, to exercise slot reuse.
		k := rng.IntN(len(ids))
		s.Remove(ids[k])
		ids[k] = s.Add(fls[k].links, fls[k].coef, fls[k].bound)
		s.SolveAll()
		coef := func(i, k int) float64 {
			if fls[i].coef == nil {
				return 1
			}
			return fls[i].coef[k]
		}
		used := make([]float64, nl)
		for i, f := range fls {
			for k, l := range f.links {
				used[l] += coef(i, k) * s.Rate(ids[i])
			}
		}
		for l := range used {
			if used[l] > caps[l]*(1+1e-9) {
				t.Fatalf("iter %d: link %d carries %g > capacity %g", iter, l, used[l], caps[l])
			}
		}
		for i, f := range fls {
			r := s.Rate(ids[i])
			if math.Abs(r-f.bound) <= 1e-9*max(1, f.bound) {
				continue
			}
			if r > f.bound {
				t.Fatalf("iter %d: flow %d rate %g over its bound %g", iter, i, r, f.bound)
			}
			ok := false
			for _, l := range f.links {
				if used[l] < caps[l]*(1-1e-9) {
					continue
				}
				fastest := true
				for j, g := range fls {
					for _, gl := range g.links {
						if gl == l && s.Rate(ids[j]) > r*(1+1e-9) {
							fastest = false
						}
					}
				}
				if fastest {
					ok = true
					break
				}
			}
			if !ok && len(f.links) > 0 {
				t.Fatalf("iter %d: flow %d (rate %g, bound %g) has no bottleneck; used %v caps %v", iter, i, r, f.bound, used, caps)
			}
		}
	}
}

// TestComponent: the search finds what is connected to the seeds and
// nothing else.
func TestComponent(t *testing.T) {
	var s System
	a, b, c := s.AddLink(1), s.AddLink(1), s.AddLink(1)
	f0 := s.Add([]int32{a, b}, nil, math.Inf(1))
	f1 := s.Add([]int32{b}, nil, math.Inf(1))
	f2 := s.Add([]int32{c}, nil, math.Inf(1))
	flows, links := s.Component([]int32{a}, -1)
	if len(flows) != 2 || len(links) != 2 {
		t.Fatalf("component of a: flows %v links %v, want f0, f1 and links a, b", flows, links)
	}
	s.Solve(flows, links)
	if s.Rate(f0) != 0.5 || s.Rate(f1) != 0.5 || s.Rate(f2) != 0 {
		t.Errorf("rates %g %g %g, want 0.5 0.5 and 0 (not solved)", s.Rate(f0), s.Rate(f1), s.Rate(f2))
	}
}
