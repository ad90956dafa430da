package graph

import (
	"hash/maphash"
	"testing"
)

// TestPathIndexCollision: a path whose hash is taken by another path is
// still recorded, found, and refused as a duplicate the second time.
func TestPathIndexCollision(t *testing.T) {
	paths := []string{"/c", "/c/a", "/c/b"}
	pathOf := func(v VertexID) string { return paths[v] }
	x := newPathIndex(4)
	if _, ok := x.add("/c", 0, pathOf); !ok {
		t.Fatal("add /c refused")
	}
	// Make /c/b's hash point at /c/a, as a collision would.
	if _, ok := x.add("/c/a", 1, pathOf); !ok {
		t.Fatal("add /c/a refused")
	}
	x.byHash[maphash.String(x.seed, "/c/b")] = 1
	delete(x.byHash, maphash.String(x.seed, "/c/a"))
	if _, ok := x.add("/c/b", 2, pathOf); !ok {
		t.Fatal("add /c/b (colliding) refused")
	}
	if v, ok := x.get("/c/b", pathOf); !ok || v != 2 {
		t.Errorf("get /c/b = %d, %v, want 2", v, ok)
	}
	if prev, ok := x.add("/c/b", 2, pathOf); ok || prev != 2 {
		t.Errorf("second add /c/b = %d, %v, want refused as vertex 2", prev, ok)
	}
	if v, ok := x.get("/c", pathOf); !ok || v != 0 {
		t.Errorf("get /c = %d, %v, want 0", v, ok)
	}
	if _, ok := x.get("/d", pathOf); ok {
		t.Error("get /d found a vertex")
	}
	if x.len() != 3 {
		t.Errorf("len = %d, want 3", x.len())
	}
}
