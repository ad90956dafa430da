package graph

import (
	"bytes"
	"reflect"
	"slices"
	"testing"
)

// smallGraph: c0 → {n1 → {k1, k2}, n2 → {k3}}, built with NewGraph.
func smallGraph(t *testing.T) *Graph {
	t.Helper()
	vs := []Vertex{
		{Type: "cluster", Name: "c0", Path: "/c0", UniqID: 0, Parent: NoVertex},
		{Type: "node", Name: "n1", Path: "/c0/n1", UniqID: 1, Parent: 0},
		{Type: "core", Name: "k1", Path: "/c0/n1/k1", UniqID: 2, Parent: 1, Size: 1},
		{Type: "node", Name: "n2", Path: "/c0/n2", UniqID: 3, Parent: 0},
		{Type: "core", Name: "k3", Path: "/c0/n2/k3", UniqID: 4, Parent: 3, Size: 1},
		{Type: "core", Name: "k2", Path: "/c0/n1/k2", UniqID: 5, Parent: 1, Size: 1},
	}
	g, err := NewGraph(vs)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func names(g *Graph, ids []VertexID) []string {
	out := make([]string, len(ids))
	for i, v := range ids {
		out[i] = g.Vertex(v).Name
	}
	return out
}

func TestGraphTraversal(t *testing.T) {
	g := smallGraph(t)
	if got, want := names(g, g.PreOrder()), []string{"c0", "n1", "k1", "k2", "n2", "k3"}; !reflect.DeepEqual(got, want) {
		t.Errorf("PreOrder = %v, want %v", got, want)
	}
	n1, _ := g.Lookup("/c0/n1")
	if got, want := names(g, g.Subtree(n1)), []string{"n1", "k1", "k2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Subtree(n1) = %v, want %v", got, want)
	}
	if got, want := names(g, g.Children(n1)), []string{"k1", "k2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Children(n1) = %v (VertexID order), want %v", got, want)
	}
	var seen []string
	g.Walk(g.Root, func(v VertexID) bool {
		seen = append(seen, g.Vertex(v).Name)
		return g.Vertex(v).Name != "n1" // prune n1's cores
	})
	if want := []string{"c0", "n1", "n2", "k3"}; !reflect.DeepEqual(seen, want) {
		t.Errorf("Walk with pruning = %v, want %v", seen, want)
	}
	k3, _ := g.Lookup("/c0/n2/k3")
	if !g.Contains(g.Root, k3) || g.Contains(n1, k3) || !g.Contains(k3, k3) {
		t.Error("Contains")
	}
	if a := g.Ancestor(k3, "node"); g.Vertex(a).Name != "n2" {
		t.Errorf("Ancestor(k3, node) = %d", a)
	}
	if a := g.Ancestor(k3, "rack"); a != NoVertex {
		t.Errorf("Ancestor(k3, rack) = %d, want NoVertex", a)
	}
	if g.Count("core") != 3 || g.Count("node") != 2 || g.Count("gpu") != 0 {
		t.Error("Count")
	}
	if v, ok := g.ByUniqID(5); !ok || g.Vertex(v).Name != "k2" {
		t.Error("ByUniqID")
	}
	if _, ok := g.Lookup("/c0/n3"); ok {
		t.Error("Lookup of a missing path succeeded")
	}
}

func TestGraphStatus(t *testing.T) {
	g := smallGraph(t)
	avail := func() []bool {
		out := make([]bool, g.Len())
		for i := range out {
			out[i] = g.Available(VertexID(i))
		}
		return out
	}
	// ids: 0 c0, 1 n1, 2 k1, 3 n2, 4 k3, 5 k2
	if err := g.SetStatus("/c0/n1/k2", StatusDown); err != nil {
		t.Fatal(err)
	}
	if err := g.SetStatus("/c0/n1", StatusDown); err != nil {
		t.Fatal(err)
	}
	if got, want := avail(), []bool{true, false, false, true, true, false}; !reflect.DeepEqual(got, want) {
		t.Errorf("after n1, k2 down: %v, want %v", got, want)
	}
	if g.CountAvailable("core") != 1 || g.Count("core") != 3 {
		t.Errorf("CountAvailable(core) = %d, want 1", g.CountAvailable("core"))
	}
	// n1 up again: k1 is back, k2 stays down on its own.
	if err := g.SetStatus("/c0/n1", StatusUp); err != nil {
		t.Fatal(err)
	}
	if got, want := avail(), []bool{true, true, true, true, true, false}; !reflect.DeepEqual(got, want) {
		t.Errorf("after n1 up: %v, want %v", got, want)
	}
	if err := g.SetStatusOf(g.Root, StatusDown); err != nil {
		t.Fatal(err)
	}
	if g.CountAvailable("core") != 0 || g.CountAvailable("cluster") != 0 {
		t.Error("root down should make everything unavailable")
	}
	if err := g.SetStatus("/c0/x", StatusDown); err == nil || err.Error() != `fluxion: set status down: no vertex at path "/c0/x"` {
		t.Errorf("err = %v", err)
	}
	if err := g.SetStatusOf(0, 7); err == nil || err.Error() != "fluxion: set status: unknown status 7, only (up, down) allowed" {
		t.Errorf("err = %v", err)
	}
	if err := g.Validate(); err != nil {
		t.Error(err)
	}
}

func TestNewGraphErrors(t *testing.T) {
	mk := func(edit func(vs []Vertex) []Vertex) []Vertex {
		vs := []Vertex{
			{Type: "cluster", Path: "/c0", UniqID: 0, Parent: NoVertex},
			{Type: "node", Path: "/c0/n1", UniqID: 1, Parent: 0},
			{Type: "core", Path: "/c0/n1/k2", UniqID: 2, Parent: 1},
		}
		return edit(vs)
	}
	tests := []struct {
		name string
		vs   []Vertex
		want string
	}{
		{"empty", nil, "fluxion: graph has no vertices"},
		{"two roots", mk(func(vs []Vertex) []Vertex { vs[2].Parent = NoVertex; return vs }), "fluxion: vertex 2 (/c0/n1/k2): second root (first is vertex 0, /c0)"},
		{"no root", mk(func(vs []Vertex) []Vertex { vs[0].Parent = 2; return vs }), "fluxion: graph has no root (no vertex with Parent == NoVertex)"},
		{"parent out of range", mk(func(vs []Vertex) []Vertex { vs[2].Parent = 9; return vs }), "fluxion: vertex 2 (/c0/n1/k2): parent 9 out of range"},
		{"cycle", mk(func(vs []Vertex) []Vertex { vs[1].Parent = 2; return vs }), "fluxion: vertex 1 (/c0/n1): not reachable from the root /c0"},
		{"path not under parent", mk(func(vs []Vertex) []Vertex { vs[2].Path = "/c0/k2"; return vs }), `fluxion: vertex 2 (/c0/k2): path is not its parent's path "/c0/n1" plus one segment`},
		{"bad root path", mk(func(vs []Vertex) []Vertex { vs[0].Path = "c0"; return vs }), `fluxion: vertex 0 (c0): root path must be "/<name>"`},
		{"duplicate path", mk(func(vs []Vertex) []Vertex { vs[2].Path = "/c0/n1"; return vs }), `fluxion: vertex 2: duplicate path "/c0/n1" (also vertex 1)`},
		{"duplicate uniq_id", mk(func(vs []Vertex) []Vertex { vs[2].UniqID = 0; return vs }), "fluxion: vertex 2 (/c0/n1/k2): duplicate uniq_id 0 (also vertex 0)"},
		{"empty type", mk(func(vs []Vertex) []Vertex { vs[1].Type = ""; return vs }), "fluxion: vertex 1 (/c0/n1): empty type"},
		{"negative size", mk(func(vs []Vertex) []Vertex { vs[2].Size = -1; return vs }), "fluxion: vertex 2 (/c0/n1/k2): negative size -1"},
		{"bad status", mk(func(vs []Vertex) []Vertex { vs[2].Status = 3; return vs }), "fluxion: vertex 2 (/c0/n1/k2): unknown status 3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewGraph(tc.vs)
			if err == nil || err.Error() != tc.want {
				t.Errorf("error\n got  %v\n want %s", err, tc.want)
			}
		})
	}
}

// TestValidateDetectsEdits: Validate catches a graph edited behind its
// indexes.
func TestValidateDetectsEdits(t *testing.T) {
	g := smallGraph(t)
	g.Vertices[4].Path = "/c0/n2/k9"
	if err := g.Validate(); err == nil || err.Error() != "fluxion: vertex 4 (/c0/n2/k9): path index stale or path duplicated" {
		t.Errorf("err = %v", err)
	}
	g = smallGraph(t)
	g.Vertices[1].Children = append(g.Vertices[1].Children, 4)
	if err := g.Validate(); err == nil || err.Error() != "fluxion: vertex 1 (/c0/n1): child 4 does not name it as parent" {
		t.Errorf("err = %v", err)
	}
	g = smallGraph(t)
	g.Vertices[3].Status = StatusDown // behind SetStatus's back
	if err := g.Validate(); err == nil || err.Error() != "fluxion: vertex 3 (/c0/n2): availability stale (change Status with SetStatus)" {
		t.Errorf("err = %v", err)
	}
	g = smallGraph(t)
	g.Vertices = append(g.Vertices, Vertex{Type: "core", Path: "/c0/n2/k7", UniqID: 9, Parent: 3})
	if err := g.Validate(); err == nil || err.Error() != "fluxion: graph indexes are stale (7 vertices, 6 indexed); build graphs with NewGraph" {
		t.Errorf("err = %v", err)
	}
}

// TestChildrenOffsets: the searches' Children (offsets into one array)
// gives each vertex's Vertex.Children, on a generated graph and on the
// same graph read back from JGF.
func TestChildrenOffsets(t *testing.T) {
	g, err := FromNodes(benchNodes(7), GenerateOptions{Sockets: 2})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := g.WriteJGF(&buf); err != nil {
		t.Fatal(err)
	}
	r, err := ReadJGF(&buf, "g.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, gr := range []*Graph{g, r} {
		n := 0
		for v := range gr.Vertices {
			got := gr.Children(VertexID(v))
			if !slices.Equal(got, gr.Vertices[v].Children) {
				t.Fatalf("vertex %d: Children %v, Vertex.Children %v", v, got, gr.Vertices[v].Children)
			}
			n += len(got)
		}
		if n != gr.Len()-1 {
			t.Errorf("%d children in all, want %d", n, gr.Len()-1)
		}
	}
}
