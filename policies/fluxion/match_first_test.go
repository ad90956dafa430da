package fluxion

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSortedChildrenRepair: the by_outedges orders that sortedChildren
// repairs after weight changes are the orders a full sort gives.
func TestSortedChildrenRepair(t *testing.T) {
	cores := make([]int64, 200)
	for i := range cores {
		cores[i] = 4
	}
	g := mtFlat(t, cores...)
	m := mtMatcher(t, g, "first")
	rng := rand.New(rand.NewPCG(1, 2))
	full := func(v VertexID) []VertexID {
		s := slices.Clone(g.Vertices[v].Children)
		slices.SortFunc(s, func(a, b VertexID) int {
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
			v := VertexID(rng.IntN(g.Len()))
			m.setWeight(v, uint64(rng.IntN(6)))
		}
		for v := range g.Len() {
			id := VertexID(v)
			if len(g.Vertices[id].Children) < 2 || (round%3 == 1 && rng.IntN(2) == 0) {
				continue // leave some orders stale across rounds
			}
			if got, want := m.sortedChildren(id), full(id); !slices.Equal(got, want) {
				t.Fatalf("round %d: vertex %d: children %v, want %v", round, v, got, want)
			}
		}
	}
}
