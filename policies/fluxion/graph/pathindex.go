package graph

import "hash/maphash"

// pathIndex finds vertices by containment path. It keys a map by a 64-bit
// hash of the path rather than by the path itself: at a million vertices
// the string-keyed map was a quarter of the time to read a graph (hashing
// and comparing long keys, a table twice the size). A hit is confirmed
// against the vertex's own Path; a path whose hash another path already
// has goes to a small map of its own.
type pathIndex struct {
	seed   maphash.Seed
	byHash map[uint64]VertexID
	coll   map[string]VertexID
}

func newPathIndex(n int) *pathIndex {
	return &pathIndex{seed: maphash.MakeSeed(), byHash: make(map[uint64]VertexID, n)}
}

// get returns the vertex at path; pathOf gives a vertex's path.
func (x *pathIndex) get(path string, pathOf func(VertexID) string) (VertexID, bool) {
	if v, ok := x.byHash[maphash.String(x.seed, path)]; ok && pathOf(v) == path {
		return v, true
	}
	v, ok := x.coll[path]
	return v, ok
}

// add records v at path, unless a vertex is there already: then it
// returns that vertex and false.
func (x *pathIndex) add(path string, v VertexID, pathOf func(VertexID) string) (VertexID, bool) {
	h := maphash.String(x.seed, path)
	u, ok := x.byHash[h]
	if !ok {
		x.byHash[h] = v
		return v, true
	}
	if pathOf(u) == path {
		return u, false
	}
	if u, ok := x.coll[path]; ok {
		return u, false
	}
	if x.coll == nil {
		x.coll = map[string]VertexID{}
	}
	x.coll[path] = v
	return v, true
}

// len is the number of paths recorded.
func (x *pathIndex) len() int { return len(x.byHash) + len(x.coll) }
