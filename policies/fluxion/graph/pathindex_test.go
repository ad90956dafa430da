package graph

import "testing"

// TestPathIndexClash: with a hash under which every path clashes, paths
// are still recorded and found, and a duplicate is refused naming the
// first vertex at that path.
func TestPathIndexClash(t *testing.T) {
	paths := []string{"/c", "/c/a", "/c/b", "/c/a"}
	pathOf := func(v VertexID) string { return paths[v] }
	x := newPathIndex(4)
	x.hash = func(string) uint64 { return 7 }
	for v := range VertexID(3) {
		if got, ok := x.add(paths[v], v, pathOf); !ok || got != v {
			t.Fatalf("add %s = %d, %v; want %d, true", paths[v], got, ok, v)
		}
	}
	if prev, ok := x.add("/c/a", 3, pathOf); ok || prev != 1 {
		t.Errorf("duplicate /c/a = %d, %v; want refused as vertex 1", prev, ok)
	}
	if prev, ok := x.add("/c", 3, pathOf); ok || prev != 0 {
		t.Errorf("duplicate /c = %d, %v; want refused as vertex 0", prev, ok)
	}
	for v := range VertexID(3) {
		if got, ok := x.get(paths[v], pathOf); !ok || got != v {
			t.Errorf("get %s = %d, %v; want %d", paths[v], got, ok, v)
		}
	}
	if _, ok := x.get("/d", pathOf); ok {
		t.Error("get /d found a vertex")
	}
	if x.len() != 3 {
		t.Errorf("len = %d, want 3", x.len())
	}
}
