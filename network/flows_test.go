package network

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

func TestFlowsTextbook(t *testing.T) {
	type flow struct {
		links []int
		want  float64
	}
	tests := []struct {
		name  string
		caps  []float64
		flows []flow
	}{
		{"one link, two flows", []float64{10}, []flow{{[]int{0}, 5}, {[]int{0}, 5}}},
		{"two links, a long flow and one local flow on each", []float64{10, 10},
			[]flow{{[]int{0, 1}, 5}, {[]int{0}, 5}, {[]int{1}, 5}}},
		{"bottleneck elsewhere: the freed capacity goes to the others", []float64{1, 3},
			[]flow{{[]int{0}, 0.5}, {[]int{0, 1}, 0.5}, {[]int{1}, 1.25}, {[]int{1}, 1.25}}},
		{"parking lot of three links", []float64{1, 1, 1},
			[]flow{{[]int{0, 1, 2}, 0.5}, {[]int{0}, 0.5}, {[]int{1}, 0.5}, {[]int{2}, 0.5}}},
		{"uneven parking lot", []float64{1, 2},
			[]flow{{[]int{0, 1}, 0.5}, {[]int{0}, 0.5}, {[]int{1}, 1.5}}},
		// registry egress 12 shared by four pulls; node 0 pulls two images
		// through its 10 B/s ingress, nodes 1 and 2 one each.
		{"registry is the bottleneck", []float64{12, 10, 10, 10},
			[]flow{{[]int{0, 1}, 3}, {[]int{0, 1}, 3}, {[]int{0, 2}, 3}, {[]int{0, 3}, 3}}},
		{"node 0's ingress is the bottleneck, then the registry, then nodes", []float64{30, 10, 10, 10},
			[]flow{{[]int{0, 1}, 5}, {[]int{0, 1}, 5}, {[]int{0, 2}, 10}, {[]int{0, 3}, 10}}},
		{"unlimited link only", []float64{math.Inf(1)}, []flow{{[]int{0}, math.Inf(1)}}},
		{"no link", nil, []flow{{nil, math.Inf(1)}}},
		{"unlimited and limited", []float64{math.Inf(1), 4}, []flow{{[]int{0, 1}, 2}, {[]int{1}, 2}}},
	}
	for _, tc := range tests {
		var f Flows
		for _, c := range tc.caps {
			f.AddLink(c)
		}
		ids := make([]FlowID, len(tc.flows))
		for i, fl := range tc.flows {
			ls := make([]LinkID, len(fl.links))
			for j, l := range fl.links {
				ls[j] = LinkID(l)
			}
			ids[i] = f.AddFlow(ls, 100)
		}
		if f.Err() != nil {
			t.Fatalf("%s: %v", tc.name, f.Err())
		}
		for i, fl := range tc.flows {
			if got := f.Rate(ids[i]); !(got == fl.want || math.Abs(got-fl.want) < 1e-12) {
				t.Errorf("%s: flow %d rate %g, want %g", tc.name, i, got, fl.want)
			}
		}
		rates := f.Rates()
		if len(rates) != len(tc.flows) {
			t.Errorf("%s: Rates has %d flows", tc.name, len(rates))
		}
	}
}

func TestFlowsAdvance(t *testing.T) {
	var f Flows
	l := f.AddLink(10)
	a := f.AddFlow([]LinkID{l}, 100)
	b := f.AddFlow([]LinkID{l}, 50)
	id, dt := f.NextCompletion()
	if id != b || math.Abs(dt-50/5.0) > 1e-12 {
		t.Fatalf("next = %v in %g, want %v in 10", id, dt, b)
	}
	if done := f.Advance(4); len(done) != 0 {
		t.Fatalf("finished early: %v", done)
	}
	close(t, "a remaining at 4 s", f.Remaining(a), 100-4*5)
	_, dt = f.NextCompletion()
	close(t, "b due", dt, 6)
	if done := f.Advance(dt); len(done) != 1 || done[0] != b {
		t.Fatalf("finished %v, want [%v]", done, b)
	}
	close(t, "a alone", f.Rate(a), 10)
	id, dt = f.NextCompletion()
	close(t, "a due", dt, 50/10.0)
	if id != a {
		t.Fatalf("next %v, want %v", id, a)
	}
	if done := f.Advance(dt); len(done) != 1 || done[0] != a || f.Len() != 0 {
		t.Fatalf("finished %v, %d left", done, f.Len())
	}
	close(t, "now", f.Now(), 15)
	if id, dt := f.NextCompletion(); id != NoFlow || !math.IsInf(dt, 1) {
		t.Errorf("empty: %v %g", id, dt)
	}
	// A removed flow frees its share.
	c := f.AddFlow([]LinkID{l}, 10)
	d := f.AddFlow([]LinkID{l}, 10)
	f.RemoveFlow(c)
	f.RemoveFlow(c) // twice: ignored
	close(t, "d after c removed", f.Rate(d), 10)
	if f.Rate(c) != 0 || f.Remaining(c) != 0 {
		t.Error("removed flow still has a rate")
	}
	// Zero bytes finish at once.
	z := f.AddFlow([]LinkID{l}, 0)
	if done := f.Advance(0); len(done) != 1 || done[0] != z {
		t.Errorf("zero-byte flow: %v", done)
	}
	if f.Err() != nil {
		t.Error(f.Err())
	}
}

func TestFlowsErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		do   func(f *Flows)
		want string
	}{
		{"zero capacity", func(f *Flows) { f.AddLink(0) }, "capacity"},
		{"NaN capacity", func(f *Flows) { f.AddLink(math.NaN()) }, "capacity"},
		{"unknown link", func(f *Flows) {
			if f.AddFlow([]LinkID{3}, 1) != NoFlow {
				t.Error("flow on an unknown link was added")
			}
		}, "links[0]"},
		{"negative bytes", func(f *Flows) { f.AddFlow(nil, -1) }, "bytes"},
		{"NaN bytes", func(f *Flows) { f.AddFlow(nil, math.NaN()) }, "bytes"},
		{"negative dt", func(f *Flows) { f.Advance(-1) }, "dt"},
		{"batch without bytes", func(f *Flows) {
			if ids := f.AddFlows([][]LinkID{nil}, nil); ids[0] != NoFlow {
				t.Error("flow without bytes was added")
			}
		}, "flow 0: bytes"},
	} {
		var f Flows
		tc.do(&f)
		if err := f.Err(); !errors.Is(err, ErrInvalid) || !contains(err.Error(), tc.want) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	var f Flows
	l := f.AddLink(0) // error, but usable: flows never progress
	id := f.AddFlow([]LinkID{l}, 5)
	if f.Rate(id) != 0 {
		t.Error("flow on a zero link moves")
	}
	if nid, dt := f.NextCompletion(); nid != NoFlow || !math.IsInf(dt, 1) {
		t.Errorf("stuck flow due: %v %g", nid, dt)
	}
	f.RemoveFlow(NoFlow)
	f.RemoveFlow(FlowID(1 << 40))
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// bruteMaxMin is progressive filling from scratch: raise every
// unfrozen flow's rate by the same amount until some link is full,
// freeze the flows on full links, repeat.
func bruteMaxMin(caps []float64, flows [][]int) []float64 {
	rate := make([]float64, len(flows))
	frozen := make([]bool, len(flows))
	for {
		inc := math.Inf(1)
		for l, c := range caps {
			used, n := 0.0, 0
			for i, fl := range flows {
				if contains1(fl, l) {
					used += rate[i]
					if !frozen[i] {
						n++
					}
				}
			}
			if n > 0 {
				inc = math.Min(inc, (c-used)/float64(n))
			}
		}
		if math.IsInf(inc, 1) {
			for i := range flows {
				if !frozen[i] {
					rate[i] = math.Inf(1)
				}
			}
			return rate
		}
		for i := range flows {
			if !frozen[i] {
				rate[i] += inc
			}
		}
		for l, c := range caps {
			used := 0.0
			for i, fl := range flows {
				if contains1(fl, l) {
					used += rate[i]
				}
			}
			if used >= c*(1-1e-12) {
				for i, fl := range flows {
					if contains1(fl, l) {
						frozen[i] = true
					}
				}
			}
		}
	}
}

func contains1(s []int, x int) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

// checkMaxMin: no link over capacity, and every flow has a bottleneck
// link that is full and on which no flow is faster.
func checkMaxMin(t *testing.T, caps []float64, flows [][]int, rate []float64) {
	t.Helper()
	used := make([]float64, len(caps))
	for i, fl := range flows {
		for _, l := range fl {
			used[l] += rate[i]
		}
	}
	for l, c := range caps {
		if used[l] > c*(1+1e-9) {
			t.Fatalf("link %d over capacity: %g > %g", l, used[l], c)
		}
	}
	for i, fl := range flows {
		ok := false
		for _, l := range fl {
			if used[l] < caps[l]*(1-1e-9) {
				continue
			}
			fastest := true
			for j, fl2 := range flows {
				if contains1(fl2, l) && rate[j] > rate[i]*(1+1e-9) {
					fastest = false
				}
			}
			if fastest {
				ok = true
			}
		}
		if !ok && !math.IsInf(rate[i], 1) {
			t.Fatalf("flow %d (links %v, rate %g) has no bottleneck", i, fl, rate[i])
		}
	}
}

// TestFlowsRandom adds and removes flows on random small networks and
// checks each incremental re-share against the brute force from scratch
// and against the max-min properties.
func TestFlowsRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for iter := range 300 {
		var f Flows
		nl := 1 + rng.IntN(6)
		caps := make([]float64, nl)
		for l := range caps {
			caps[l] = float64(1 + rng.IntN(20))
			f.AddLink(caps[l])
		}
		var ids []FlowID
		var links [][]int
		for op := range 25 {
			if len(ids) > 0 && rng.IntN(3) == 0 {
				k := rng.IntN(len(ids))
				f.RemoveFlow(ids[k])
				ids = append(ids[:k], ids[k+1:]...)
				links = append(links[:k], links[k+1:]...)
			} else {
				var fl []int
				var ls []LinkID
				for l := range nl {
					if rng.IntN(3) == 0 {
						fl = append(fl, l)
						ls = append(ls, LinkID(l))
					}
				}
				if len(fl) == 0 {
					fl = []int{rng.IntN(nl)}
					ls = []LinkID{LinkID(fl[0])}
				}
				ids = append(ids, f.AddFlow(ls, 1000))
				links = append(links, fl)
			}
			want := bruteMaxMin(caps, links)
			got := make([]float64, len(ids))
			for i, id := range ids {
				got[i] = f.Rate(id)
				if math.Abs(got[i]-want[i]) > 1e-9*want[i] {
					t.Fatalf("iter %d op %d: flow %d on %v: rate %g, brute force %g", iter, op, i, links[i], got[i], want[i])
				}
			}
			checkMaxMin(t, caps, links, got)
		}
	}
}

// BenchmarkFlowsReshare10k: 10,000 flows between random nodes of a
// two-level tree of 1,024 nodes (32 per leaf, 4:1 oversubscribed);
// each op removes one flow and adds another (two incremental
// re-shares).
func BenchmarkFlowsReshare10k(b *testing.B) {
	const nodes, perLeaf, flows = 1024, 32, 10000
	const link = 12.5e9
	rng := rand.New(rand.NewPCG(7, 8))
	var f Flows
	net, err := NewFlowNetwork(&f, nodes, link, TwoLevel(perLeaf, 4))
	if err != nil {
		b.Fatal(err)
	}
	path := func() []LinkID {
		s, d := rng.IntN(nodes), rng.IntN(nodes-1)
		if d >= s {
			d++
		}
		return net.Path(s, d)
	}
	paths, sizes := make([][]LinkID, flows), make([]float64, flows)
	for i := range paths {
		paths[i], sizes[i] = path(), 1e9
	}
	ids := f.AddFlows(paths, sizes)
	b.ReportAllocs()
	for b.Loop() {
		k := rng.IntN(flows)
		f.RemoveFlow(ids[k])
		ids[k] = f.AddFlow(path(), 1e9)
	}
	if f.Err() != nil {
		b.Fatal(f.Err())
	}
}

func TestFlowNetwork(t *testing.T) {
	var f Flows
	n, err := NewFlowNetwork(&f, 6, 10, TwoLevel(2, 4)) // uplinks 2·10/4 = 5
	if err != nil {
		t.Fatal(err)
	}
	if len(n.Up) != 3 || f.Capacity(n.Up[0]) != 5 || f.Capacity(n.Egress[5]) != 10 {
		t.Fatalf("links: %d leaves, up %g", len(n.Up), f.Capacity(n.Up[0]))
	}
	// Two transfers out of leaf 0 share its uplink (5): 2.5 each; one
	// inside leaf 1 gets the node rate.
	a := f.AddFlow(n.Path(0, 2), 100)
	b := f.AddFlow(n.Path(1, 4), 100)
	c := f.AddFlow(n.Path(2, 3), 100)
	close(t, "a", f.Rate(a), 2.5)
	close(t, "b", f.Rate(b), 2.5)
	close(t, "c", f.Rate(c), 10) // node 2's egress; a uses its ingress
	reg := f.AddLink(8)
	d := f.AddFlow(n.Into(reg, 5), 100)
	// Leaf 2's downlink (5) already carries b at 2.5, which is held
	// there by leaf 0's uplink: d gets the other 2.5.
	close(t, "registry pull", f.Rate(d), 2.5)
	if len(n.Path(1, 1)) != 0 || n.Path(-1, 2) != nil || n.Into(reg, 9) != nil {
		t.Error("paths out of range")
	}
	for _, bad := range []func() error{
		func() error { _, err := NewFlowNetwork(&f, 0, 1, nil); return err },
		func() error { _, err := NewFlowNetwork(&f, 2, math.NaN(), nil); return err },
		func() error { _, err := NewFlowNetwork(&f, 2, 1, TwoLevel(0, 1)); return err },
	} {
		if err := bad(); !errors.Is(err, ErrInvalid) {
			t.Errorf("bad network: %v", err)
		}
	}
	if f.Err() != nil {
		t.Error(f.Err())
	}
}

// TestFlowsWholeShortcut: re-sharing everything without a component
// search gives the rates the search gives, through adds, removals and
// completions on a large network.
func TestFlowsWholeShortcut(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	var a, b Flows
	b.sys.AlwaysSearch = true
	na, _ := NewFlowNetwork(&a, 64, 10, TwoLevel(8, 3))
	nb, _ := NewFlowNetwork(&b, 64, 10, TwoLevel(8, 3))
	var ia, ib []FlowID
	add := func() {
		s, d := rng.IntN(64), rng.IntN(64)
		size := float64(1 + rng.IntN(1000))
		ia = append(ia, a.AddFlow(na.Path(s, d), size))
		ib = append(ib, b.AddFlow(nb.Path(s, d), size))
	}
	for range 1500 {
		add()
	}
	for op := range 400 {
		switch rng.IntN(3) {
		case 0:
			add()
		case 1:
			k := rng.IntN(len(ia))
			a.RemoveFlow(ia[k])
			b.RemoveFlow(ib[k])
		case 2:
			ida, dta := a.NextCompletion()
			idb, dt := b.NextCompletion()
			da, db := a.Advance(dt), b.Advance(dt)
			if len(da) != len(db) {
				t.Fatalf("op %d: %d and %d finished; next a %v in %g, b %v in %g, now %g", op, len(da), len(db), ida, dta, idb, dt, a.Now())
			}
		}
		if op%20 == 0 {
			for k := range ia {
				ra, rb := a.Rate(ia[k]), b.Rate(ib[k])
				if math.Abs(ra-rb) > 1e-9*math.Max(ra, rb) {
					t.Fatalf("op %d flow %d: %g with the shortcut, %g with the search", op, k, ra, rb)
				}
			}
		}
	}
	if !a.sys.Whole() {
		t.Error("the shortcut was never taken")
	}
}
