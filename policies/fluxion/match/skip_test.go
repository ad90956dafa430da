package match

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/convergesim/converge/policies/fluxion/graph"
	"github.com/convergesim/converge/policies/fluxion/internal/fluxiontest"
	"github.com/convergesim/converge/policies/fluxion/jobspec"
)

// TestSkipSameAsVisit: passing the children an exclusive span holds
// through the skip index must pick exactly what visiting every child
// picks, under every policy that walks children, whatever the graph
// holds. Two matchers over one graph, one visiting every child, get the
// same random allocations, reservations and cancels (whole nodes, slots
// of cores, with and without GPUs, at moving times); every outcome must
// agree, and the index must have passed children.
func TestSkipSameAsVisit(t *testing.T) {
	rng := rand.New(rand.NewPCG(29, 3))
	policies := []string{"first", "low", "high", "firstnodex", "lonodex", "locality", "variation"}
	passed := map[string]int{}
	for trial := range 70 {
		pol := policies[trial%len(policies)]
		sockets := rng.IntN(2)
		nNodes := skipMin + rng.IntN(3*skipMin)
		ns := make([]fluxiontest.Node, nNodes)
		oneCore := trial%3 == 0 // nodes that one slot fills (their aggregates full)
		for i := range ns {
			per := max(1, sockets)
			ns[i] = fluxiontest.Node{Cores: int64(per * (1 + rng.IntN(4))), GPUs: int64(per * rng.IntN(2))}
			if oneCore {
				ns[i] = fluxiontest.Node{Cores: int64(per)}
			}
		}
		g := fluxiontest.Graph(t, sockets, ns...)
		fast, all := mtMatcher(t, g, pol), mtMatcher(t, g, pol)
		all.visitAll = true
		twinSession(t, rng, fast, all, 150, 4, func() fluxiontest.Req {
			r := fluxiontest.Req{Slots: int64(1 + rng.IntN(6)), Cores: int64(1 + rng.IntN(3)), Dur: float64(1 + rng.IntN(60))}
			if rng.IntN(3) > 0 {
				r.Nodes = int64(1 + rng.IntN(8))
				r.Slots = r.Nodes * int64(1+rng.IntN(2))
				r.NodeExcl = rng.IntN(2) == 0
			}
			if rng.IntN(4) == 0 && !oneCore {
				r.GPUs = 1
			}
			if oneCore {
				r.Cores = 1
			}
			return r
		}, mbOutcome, fmt.Sprintf("trial %d (%s, %d nodes, %d sockets)", trial, pol, nNodes, sockets), "skip", "visit")
		if fast.tc != nil {
			passed[pol] += fast.tc.passed
		}
		if oneCore && fast.full == nil {
			t.Fatalf("trial %d (%s): one-core nodes and no aggregate was ever full", trial, pol)
		}
	}
	// lonodex searches node by node (byNode), not through the walk.
	for _, pol := range []string{"first", "low", "high", "firstnodex", "locality", "variation"} {
		if passed[pol] == 0 {
			t.Errorf("%s: the skip index passed no child: the test does not exercise it", pol)
		}
	}
	t.Logf("children passed: %v", passed)
}

// TestSkipNext checks the segment tree's next against a scan of the
// children's spans.
func TestSkipNext(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for trial := range 200 {
		n := skipMin + rng.IntN(100)
		g := fluxiontest.Graph(t, 0, make([]fluxiontest.Node, n)...)
		m := mtMatcher(t, g, "low")
		kids := g.Children(g.Root)
		ix := m.skipper(g.Root, kids)
		for round := range 4 {
			// Some children change between walks (the tree is
			// brought up to date at the next walk).
			for _, c := range kids {
				if rng.IntN(3) > 0 || round > 0 && rng.IntN(4) > 0 {
					continue
				}
				lo := rng.Int64N(100)
				m.setX(c, lo, lo+1+rng.Int64N(50))
			}
			at := rng.Int64N(150)
			end := at + 1 + rng.Int64N(40)
			held := func(i int) bool { c := kids[i]; return m.xHi[c] > at && m.xLo[c] < end }
			for i := 0; i <= len(kids); i++ {
				want := i
				for want < len(kids) && held(want) {
					want++
				}
				if got := ix.x.next(i, len(kids), at, end); got != want {
					t.Fatalf("trial %d round %d: next(%d) in [%d, %d) = %d, want %d", trial, round, i, at, end, got, want)
				}
			}
		}
		// Padding is never returned, even when every child is held.
		for _, c := range kids {
			m.setX(c, 0, math.MaxInt64)
		}
		if got := ix.x.next(0, len(kids), 0, 1); got != len(kids) {
			t.Fatalf("trial %d: every child held, next(0) = %d, want %d", trial, got, len(kids))
		}
	}
}

// TestSkipHeldBelowSameAnswers: booking a vertex held whole on its
// exclusivity planner alone and leaving out the leaves of a parent whose
// aggregate an allocation fills (SkipHeldBelow), with the skip index
// passing the runs of such spans, gives the same answers as booking
// every vertex and visiting every child, under first (whose edge weights read the booked
// units) and the other policies: the same random allocations,
// reservations and cancels on two matchers, compared node by node.
func TestSkipHeldBelowSameAnswers(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 5))
	policies := []string{"first", "low", "high", "lonodex", "firstnodex"}
	var noNodes [2][2]int // searches refused for want of free nodes (nodesFree), for nodes and for slots
	for trial := range 80 {
		pol := policies[trial%len(policies)]
		sockets := rng.IntN(2)
		ns := make([]fluxiontest.Node, 4+rng.IntN(40))
		big := trial >= 60 // many nodes (a skip index) and jobs of many
		if big {
			ns = make([]fluxiontest.Node, skipMin+rng.IntN(skipMin))
		}
		oneCore := trial%3 == 1 // a slot fills a node's aggregate
		for i := range ns {
			per := max(1, sockets)
			ns[i] = fluxiontest.Node{Cores: int64(per * (1 + rng.IntN(4))), GPUs: int64(per * rng.IntN(2))}
			if oneCore {
				ns[i] = fluxiontest.Node{Cores: int64(per)}
			}
		}
		g := fluxiontest.Graph(t, sockets, ns...)
		skip, err := NewMatcher(g, MatcherOptions{Policy: pol, GraphDuration: 100000, SkipHeldBelow: true})
		if err != nil {
			t.Fatal(err)
		}
		every := mtMatcher(t, g, pol)
		every.visitAll = true // the reference: no skip index either
		steps := 120
		if big {
			steps = 300
		}
		twinSession(t, rng, skip, every, steps, 4, func() fluxiontest.Req {
			r := fluxiontest.Req{Slots: int64(1 + rng.IntN(4)), Cores: int64(1 + rng.IntN(3)), Dur: float64(1 + rng.IntN(60))}
			if big {
				r.Dur = float64(1 + rng.IntN(300))
				r.Slots = int64(1 + rng.IntN(len(ns))) // slots anywhere: many nodes' worth
			}
			if rng.IntN(3) > 0 {
				r.Nodes = int64(1 + rng.IntN(4))
				if big {
					r.Nodes = int64(1 + rng.IntN(len(ns)/2))
				}
				r.Slots = r.Nodes
				r.NodeExcl = rng.IntN(3) > 0
			}
			if oneCore {
				r.Cores = 1
			}
			return r
		}, nodeOutcome, fmt.Sprintf("trial %d (%s)", trial, pol), "skipHeld", "every")
		if skip.omit == nil && !big {
			t.Fatalf("trial %d (%s): nothing was booked whole", trial, pol)
		}
		if skip.tc != nil {
			for k := range noNodes {
				noNodes[k][0] += skip.tc.noNodes[k][0]
				noNodes[k][1] += skip.tc.noNodes[k][1]
			}
		}
		if oneCore && !strings.HasSuffix(pol, "nodex") && skip.full == nil {
			// (Under the *nodex policies every node is taken whole.)
			t.Fatalf("trial %d (%s): one-core nodes and no aggregate was ever full", trial, pol)
		}
	}
	for k, what := range []string{"nodes", "slots"} {
		if noNodes[k][0] == 0 || noNodes[k][1] == 0 {
			t.Errorf("nodesFree refused %d searches for %s through a skip index and %d without: want both, so that both ways are compared", noNodes[k][0], what, noNodes[k][1])
		}
	}
}

// nodeOutcome is an outcome with the nodes an allocation touches, each
// with the number of its cores R lists (0 when held whole under
// SkipHeldBelow, so only the node names and exclusivity are compared).
func nodeOutcome(a *Allocation, err error) string {
	if err != nil {
		return "error " + MatchErrno(err)
	}
	var nodes []string
	for _, av := range a.Vertices {
		if v := a.g.Vertices[av.ID]; v.Type == "node" {
			nodes = append(nodes, fmt.Sprintf("%s/%v", v.Name, av.Exclusive))
		}
	}
	return fmt.Sprintf("job %d reserved=%v at=%d %v", a.JobID, a.Reserved, a.At, nodes)
}

// A gap between two whole spans of a node is free: the run the skip
// index passes ends at the first gap. All nodes are held [0, 10) by A
// and [13, 23) by C (B, which held [10, 13), is cancelled); a 2-second
// request reserved now must start at 10, when A ends.
func TestSkipRunStopsAtGap(t *testing.T) {
	ns := make([]fluxiontest.Node, skipMin+8)
	for i := range ns {
		ns[i].Cores = 1
	}
	g := fluxiontest.Graph(t, 0, ns...)
	m, err := NewMatcher(g, MatcherOptions{Policy: "first", GraphDuration: 1000, SkipHeldBelow: true})
	if err != nil {
		t.Fatal(err)
	}
	all := func(dur float64) *jobspec.Jobspec {
		return fluxiontest.Req{Nodes: int64(skipMin + 8), Slots: 1, Cores: 1, NodeExcl: true, Dur: dur}.Jobspec(t)
	}
	var ids []uint64
	for _, dur := range []float64{10, 3, 10} {
		a, err := m.Match(MatchAllocateOrElseReserve, all(dur), 0)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.JobID)
	}
	if err := m.Cancel(ids[1]); err != nil {
		t.Fatal(err)
	}
	a, err := m.Match(MatchAllocateOrElseReserve, all(2), 0)
	if err != nil {
		t.Fatal(err)
	}
	aEnd := int64(10) // A's duration, from now (0)
	if a.At != aEnd {
		t.Fatalf("reserved at %d, want %d (the gap B left)", a.At, aEnd)
	}
}

// A node whose aggregate an allocation fills is refused only to requests
// that need a unit of a type it counts: with every node's one core taken,
// a request for a GPU on every node (shared nodes; GPUs are not among the
// aggregates' types) still gets them all.
func TestFullNodeStillShared(t *testing.T) {
	n := skipMin + 8
	ns := make([]fluxiontest.Node, n)
	for i := range ns {
		ns[i] = fluxiontest.Node{Cores: 1, GPUs: 1}
	}
	g := fluxiontest.Graph(t, 0, ns...)
	for _, skipHeld := range []bool{false, true} {
		m, err := NewMatcher(g, MatcherOptions{Policy: "first", GraphDuration: 1000, SkipHeldBelow: skipHeld})
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(m.aggTypes, "gpu") {
			t.Fatalf("aggregate types %v: the test needs gpu left out", m.aggTypes)
		}
		cores := fluxiontest.Req{Slots: int64(n), Cores: 1, Dur: 100}.Jobspec(t)
		if _, err := m.Match(MatchAllocate, cores, 0); err != nil {
			t.Fatal(err)
		}
		if m.full == nil {
			t.Fatal("no aggregate was filled")
		}
		gpus, err := jobspec.ParseJobspec(fmt.Appendf(nil, "version: 9999\nresources: [{type: node, count: %d, with: [{type: slot, count: 1, label: default, with: [{type: gpu, count: 1}]}]}]\ntasks: [{command: [app], slot: default, count: {per_slot: 1}}]\nattributes: {system: {duration: 10}}\n", n), "gpus")
		if err != nil {
			t.Fatal(err)
		}
		a, err := m.Match(MatchAllocate, gpus, 0)
		if err != nil {
			t.Fatalf("SkipHeldBelow %v: a GPU on each of %d nodes while every core is taken: %v", skipHeld, n, err)
		}
		if got := len(a.OfType("gpu")); got != n {
			t.Fatalf("SkipHeldBelow %v: %d GPUs, want %d", skipHeld, got, n)
		}
	}
}

// TestNodesFreeNeverUndercounts: nodesFree may refuse a search only when
// fewer nodes than asked are free of exclusive spans during the time
// asked for, counted node by node over every whole span and known
// exclusive span; with no skip index (few nodes) it says exactly that.
// Whole-node jobs and reservations at random times fill graphs with and
// without a skip index over their nodes.
func TestNodesFreeNeverUndercounts(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 9))
	refused := map[[2]bool]int{} // by (skip index, full)
	for trial := range 12 {
		n := 6 + rng.IntN(10)
		indexed := trial%2 == 0
		if indexed {
			n = skipMin + rng.IntN(skipMin)
		}
		ns := make([]fluxiontest.Node, n)
		for i := range ns {
			ns[i] = fluxiontest.Node{Cores: int64(1 + rng.IntN(4))}
		}
		g := fluxiontest.Graph(t, 0, ns...)
		m, err := NewMatcher(g, MatcherOptions{Policy: "first", GraphDuration: 100000, SkipHeldBelow: true})
		if err != nil {
			t.Fatal(err)
		}
		clock := int64(0)
		for step := range 200 {
			clock += rng.Int64N(20)
			r := fluxiontest.Req{Nodes: int64(1 + rng.IntN(n/2)), NodeExcl: true, Cores: 1, Dur: float64(1 + rng.IntN(400))}
			r.Slots = r.Nodes
			if rng.IntN(3) == 0 {
				// Slots anywhere, which fill nodes' aggregates (full spans).
				r = fluxiontest.Req{Slots: int64(1 + rng.IntN(2*n)), Cores: int64(1 + rng.IntN(2)), Dur: float64(1 + rng.IntN(400))}
			}
			op := MatchAllocate
			if rng.IntN(2) == 0 {
				op = MatchAllocateOrElseReserve
			}
			m.Match(op, r.Jobspec(t), clock) // busy or not: the state is what is checked
			c := m.tc
			if c == nil || (m.omit == nil && m.full == nil) {
				continue
			}
			at := clock + rng.Int64N(300)
			d := 1 + rng.Int64N(300)
			for _, full := range []bool{false, true} {
				free := int64(0)
				for i := range g.Vertices {
					v := graph.VertexID(i)
					if g.Vertices[i].Type == "node" && !(at < m.xHi[v] && at+d > m.xLo[v]) && !(m.omit != nil && ivOverlaps(m.omit[v], at, at+d)) &&
						!(full && m.full != nil && ivOverlaps(m.full[v], at, at+d)) {
						free++
					}
				}
				if !full && m.omit == nil {
					continue // nothing booked whole: every search let through
				}
				for k := int64(1); k <= int64(n)+1; k++ {
					got := c.nodesFree(k, at, d, full)
					if !got && free >= k {
						t.Fatalf("trial %d step %d (%d nodes, full %v): nodesFree(%d, %d, %d) refused with %d nodes free", trial, step, n, full, k, at, d, free)
					}
					if !indexed && got != (free >= k) {
						t.Fatalf("trial %d step %d (%d nodes, no index, full %v): nodesFree(%d, %d, %d) = %v with %d nodes free", trial, step, n, full, k, at, d, got, free)
					}
					if !got {
						refused[[2]bool{indexed, full}]++
					}
				}
			}
		}
	}
	for _, full := range []bool{false, true} {
		if refused[[2]bool{true, full}] == 0 || refused[[2]bool{false, full}] == 0 {
			t.Errorf("refusals (full %v): %d with a skip index, %d without; want both", full, refused[[2]bool{true, full}], refused[[2]bool{false, full}])
		}
	}
}

// TestIvOverlaps: the binary search over disjoint intervals kept by start
// answers as a scan of every interval does.
func TestIvOverlaps(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 3))
	for trial := range 3000 {
		var ivs [][2]int64
		at := rng.Int64N(5)
		for range rng.IntN(12) {
			lo := at + rng.Int64N(4) // adjacent (gap 0) or apart
			hi := lo + 1 + rng.Int64N(6)
			ivs = append(ivs, [2]int64{lo, hi})
			at = hi
		}
		q := rng.Int64N(at + 5)
		end := q + 1 + rng.Int64N(8)
		want := false
		for _, iv := range ivs {
			want = want || (q < iv[1] && end > iv[0])
		}
		if got := ivOverlaps(ivs, q, end); got != want {
			t.Fatalf("trial %d: ivOverlaps(%v, %d, %d) = %v, want %v", trial, ivs, q, end, got, want)
		}
	}
}
