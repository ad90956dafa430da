package graph

import (
	"cmp"
	"hash/maphash"
	"slices"
)

// pathIndex finds vertices by containment path: the vertices' paths
// hashed to 64 bits and sorted, searched by binary search, a hit
// confirmed against the vertex's own Path. Built once, from every
// vertex at the same time (build): at a million vertices a map keyed by
// path (and then one keyed by its hash) was a quarter of the time to read
// a graph, one random memory access per insertion and one per lookup of
// a parent, where a sort touches memory in order.
type pathIndex struct {
	hash func(string) uint64
	ents []pathEnt // sorted by (h, v)
}

type pathEnt struct {
	h uint64
	v VertexID
}

func newPathIndex() *pathIndex {
	seed := maphash.MakeSeed()
	return &pathIndex{hash: func(s string) uint64 { return maphash.String(seed, s) }}
}

// build indexes vertices 0..n-1. If two have the same path it returns
// false with the pair whose later vertex comes first (dup is that later
// vertex, prev the earlier one at its path), as reading the vertices in
// order and refusing the first repeat would.
func (x *pathIndex) build(n int, pathOf func(VertexID) string) (dup, prev VertexID, ok bool) {
	x.ents = make([]pathEnt, n)
	for i := range n {
		x.ents[i] = pathEnt{x.hash(pathOf(VertexID(i))), VertexID(i)}
	}
	slices.SortFunc(x.ents, func(a, b pathEnt) int {
		if c := cmp.Compare(a.h, b.h); c != 0 {
			return c
		}
		return cmp.Compare(a.v, b.v)
	})
	dup, prev = NoVertex, NoVertex
	for i := 1; i < len(x.ents); i++ {
		if x.ents[i].h != x.ents[i-1].h {
			continue
		}
		// A run of one hash: compare each with those before it (runs
		// longer than two are clashes or repeats, both rare).
		for j := i - 1; j >= 0 && x.ents[j].h == x.ents[i].h; j-- {
			if pathOf(x.ents[j].v) == pathOf(x.ents[i].v) && (dup == NoVertex || x.ents[i].v < dup) {
				dup, prev = x.ents[i].v, x.ents[j].v
			}
		}
	}
	if dup != NoVertex {
		// prev: the first vertex at that path.
		for j := range x.ents {
			if x.ents[j].v < prev && pathOf(x.ents[j].v) == pathOf(dup) {
				prev = x.ents[j].v
			}
		}
		return dup, prev, false
	}
	return NoVertex, NoVertex, true
}

// get returns the vertex at path; pathOf gives a vertex's path.
func (x *pathIndex) get(path string, pathOf func(VertexID) string) (VertexID, bool) {
	h := x.hash(path)
	i, _ := slices.BinarySearchFunc(x.ents, h, func(e pathEnt, h uint64) int { return cmp.Compare(e.h, h) })
	for ; i < len(x.ents) && x.ents[i].h == h; i++ {
		if pathOf(x.ents[i].v) == path {
			return x.ents[i].v, true
		}
	}
	return NoVertex, false
}

// len is the number of paths indexed.
func (x *pathIndex) len() int { return len(x.ents) }
