package graph

import "hash/maphash"

// pathIndex finds vertices by containment path. It keys a map by a 64-bit
// hash of the path rather than by the path itself: at a million vertices
// the string-keyed map was a quarter of the time to read a graph (hashing
// and comparing long keys, a table twice the size). A hit is confirmed
// against the vertex's own Path; a path whose hash another path already
// has goes to a small map of its own.
type pathIndex struct {
	hash   func(string) uint64
	byHash map[uint64]VertexID
	coll   map[string]VertexID
}

func newPathIndex(n int) *pathIndex {
	seed := maphash.MakeSeed()
	return &pathIndex{
		hash:   func(s string) uint64 { return maphash.String(seed, s) },
		byHash: make(map[uint64]VertexID, n),
	}
}

// get returns the vertex at path; pathOf gives a vertex's path.
func (x *pathIndex) get(path string, pathOf func(VertexID) string) (VertexID, bool) {
	if v, ok := x.byHash[x.hash(path)]; ok && pathOf(v) == path {
		return v, true
	}
	v, ok := x.coll[path]
	return v, ok
}

// add records v at path, unless a vertex is there already: then it
// returns that vertex and false. Vertices are added in id order (v is the
// largest id so far), so that a clash, which one map write cannot tell
// from a duplicate, is looked up among the ids below v.
func (x *pathIndex) add(path string, v VertexID, pathOf func(VertexID) string) (VertexID, bool) {
	h := x.hash(path)
	n := len(x.byHash)
	x.byHash[h] = v
	if len(x.byHash) > n {
		return v, true
	}
	// h was taken: by the same path (a duplicate) or by another (a
	// clash of hashes). The vertex that had it is the first with this
	// hash: a later one was refused or went to coll. Put it back.
	u := NoVertex
	for w := range v {
		if x.hash(pathOf(w)) == h {
			u = w
			break
		}
	}
	if u == NoVertex {
		// Cannot be (v was added in id order): keep v.
		return v, true
	}
	x.byHash[h] = u
	if pathOf(u) == path {
		return u, false
	}
	if w, ok := x.coll[path]; ok {
		return w, false
	}
	if x.coll == nil {
		x.coll = map[string]VertexID{}
	}
	x.coll[path] = v
	return v, true
}

// len is the number of paths recorded.
func (x *pathIndex) len() int { return len(x.byHash) + len(x.coll) }
