package match

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/convergesim/converge/policies/fluxion/graph"
	"github.com/convergesim/converge/policies/fluxion/internal/fluxiontest"
)

// TestSortedChildrenRepair: the by_outedges orders that sortedChildren
// repairs after weight changes are the orders a full sort gives.
func TestSortedChildrenRepair(t *testing.T) {
	cores := make([]int64, 200)
	for i := range cores {
		cores[i] = 4
	}
	g := fluxiontest.Flat(t, cores...)
	m := mtMatcher(t, g, "first")
	rng := rand.New(rand.NewPCG(1, 2))
	full := func(v graph.VertexID) []graph.VertexID {
		s := slices.Clone(g.Vertices[v].Children)
		slices.SortFunc(s, func(a, b graph.VertexID) int {
			if r := cmp.Compare(m.weights[b], m.weights[a]); r != 0 {
				return r
			}
			return cmp.Compare(g.Vertices[b].UniqID, g.Vertices[a].UniqID)
		})
		return s
	}
	for round := range 300 {
		// Change a few weights (some to values already present, so that
		// ties fall to uniq_id), then compare every parent's order.
		for range rng.IntN(8) {
			v := graph.VertexID(rng.IntN(g.Len()))
			m.setWeight(v, uint64(rng.IntN(6)))
		}
		for v := range g.Len() {
			id := graph.VertexID(v)
			if len(g.Vertices[id].Children) < 2 || (round%3 == 1 && rng.IntN(2) == 0) {
				continue // leave some orders stale across rounds
			}
			if got, want := m.sortedChildren(id), full(id); !slices.Equal(got, want) {
				t.Fatalf("round %d: vertex %d: children %v, want %v", round, v, got, want)
			}
		}
	}
}

// TestUsableUntil: usable's fast path (every span on a vertex ended by
// at: Matcher.until) agrees with the planners through allocations,
// reservations and cancels.
func TestUsableUntil(t *testing.T) {
	g := fluxiontest.Flat(t, 4, 4, 4)
	m := mtMatcher(t, g, "lonode")
	rng := rand.New(rand.NewPCG(3, 4))
	var live []uint64
	for step := range 200 {
		if len(live) > 0 && rng.IntN(3) == 0 {
			i := rng.IntN(len(live))
			if err := m.Cancel(live[i]); err != nil {
				t.Fatal(err)
			}
			live = slices.Delete(live, i, i+1)
		} else {
			js := fluxiontest.Req{Slots: int64(1 + rng.IntN(3)), Cores: int64(1 + rng.IntN(3)), Dur: float64(10 + rng.IntN(200))}.Jobspec(t)
			if a, err := m.Match(MatchAllocateOrElseReserve, js, 0); err == nil {
				live = append(live, a.JobID)
			}
		}
		c := m.tc
		if c == nil {
			continue
		}
		for range 20 {
			c.at, c.d = int64(rng.IntN(600)), int64(1+rng.IntN(100))
			c.inWindow, c.sat = true, false
			for v := range g.Len() {
				id := graph.VertexID(v)
				for _, excl := range []bool{false, true} {
					x := m.xPlan(id).AvailDuring(c.at, c.d)
					want := x >= 1
					if excl {
						want = x == xCheckerTotal && m.unitPlan(id).AvailDuring(c.at, c.d) >= g.Vertices[id].Size
					}
					if got := c.usable(id, excl); got != want {
						t.Fatalf("step %d: vertex %d at [%d, +%d) excl %v: usable %v, planners say %v", step, v, c.at, c.d, excl, got, want)
					}
				}
			}
		}
	}
}
