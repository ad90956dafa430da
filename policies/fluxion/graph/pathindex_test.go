package graph

import "testing"

// TestPathIndexClash: under a hash for which every path clashes, the
// index still finds each path; a repeated path is refused at the first
// vertex that repeats one, naming the first vertex at that path.
func TestPathIndexClash(t *testing.T) {
	for _, tc := range []struct {
		paths     []string
		dup, prev VertexID
	}{
		{[]string{"/c", "/c/a", "/c/b"}, NoVertex, NoVertex},
		{[]string{"/c", "/c/a", "/c/b", "/c/a", "/c/b", "/c/a"}, 3, 1},
		{[]string{"/c", "/c/b", "/c/a", "/c/x", "/c/a", "/c/b"}, 4, 2},
	} {
		for _, clash := range []bool{false, true} {
			pathOf := func(v VertexID) string { return tc.paths[v] }
			x := newPathIndex()
			if clash {
				x.hash = func(string) uint64 { return 7 }
			}
			dup, prev, ok := x.build(len(tc.paths), pathOf)
			if ok != (tc.dup == NoVertex) || dup != tc.dup || prev != tc.prev {
				t.Errorf("%v (clash %v): dup %d prev %d ok %v, want dup %d prev %d", tc.paths, clash, dup, prev, ok, tc.dup, tc.prev)
				continue
			}
			if !ok {
				continue
			}
			for v, p := range tc.paths {
				if got, found := x.get(p, pathOf); !found || got != VertexID(v) {
					t.Errorf("%v (clash %v): get %s = %d, %v; want %d", tc.paths, clash, p, got, found, v)
				}
			}
			if _, found := x.get("/d", pathOf); found {
				t.Errorf("%v (clash %v): get /d found a vertex", tc.paths, clash)
			}
			if x.len() != len(tc.paths) {
				t.Errorf("len = %d, want %d", x.len(), len(tc.paths))
			}
		}
	}
}
