package graph

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// VertexID indexes Graph.Vertices.
type VertexID int32

// NoVertex is the Parent of the root and the result of failed lookups.
const NoVertex VertexID = -1

// Status is a vertex's own up/down state (flux-sched resource_pool_t::status_t:
// UP = 0, DOWN = 1).
type Status uint8

// Vertex states.
const (
	StatusUp   Status = 0
	StatusDown Status = 1
)

func (s Status) String() string {
	switch s {
	case StatusUp:
		return "up"
	case StatusDown:
		return "down"
	}
	return fmt.Sprintf("Status(%d)", uint8(s))
}

// Vertex is one resource pool: a cluster, rack, node, socket, core, gpu,
// memory pool, ... Field meanings follow flux-sched's resource_pool_t and the
// JGF vertex metadata (see ReadJGF).
type Vertex struct {
	Type     string // resource type, e.g. "node", "core"
	Basename string // name without the id, e.g. "core"
	Name     string // e.g. "core7"
	ID       int64  // logical id (JGF metadata.id), e.g. 7; not unique
	UniqID   int64  // graph-wide unique id (JGF metadata.uniq_id)
	Rank     int64  // Flux broker rank, -1 if none
	Size     int64  // units in the pool (1 for a core; MiB for memory)
	Unit     string // unit of Size, "" if none
	// Exclusive is the JGF "exclusive" flag (a resource pre-allocated as
	// exclusive in an R; false in a resource graph).
	Exclusive bool
	// Status is the vertex's own state. The vertex is usable only if it and
	// all its ancestors are up (Graph.Available). Change it with
	// Graph.SetStatus, never directly.
	Status Status
	// Path is the containment path, e.g. "/cluster0/node3/core1": the
	// parent's path plus "/" and one segment (normally Name).
	Path string
	// OtherPaths holds the paths in subsystems other than containment
	// (JGF metadata.paths minus "containment"); nil if none.
	OtherPaths map[string]string
	// Properties are the JGF metadata.properties; nil if none.
	Properties map[string]string

	Parent   VertexID   // containment parent, NoVertex for the root
	Children []VertexID // containment children, in sibling order; nil for a leaf
}

// Graph is a containment tree of resource vertices. Build one with
// FromNodes, Fluence, ReadJGF or NewGraph, and change it only through its
// methods: the lookups, pre-order and availability are indexes kept beside
// Vertices.
type Graph struct {
	Vertices []Vertex
	Root     VertexID

	byPath *pathIndex
	// byUniq maps uniq_id to vertex, unless uniqIsIndex: every vertex's
	// UniqID is its VertexID (generated graphs, and the JGF that Fluxion,
	// Fluence and WriteJGF produce), and the map is nil.
	byUniq      map[int64]VertexID
	uniqIsIndex bool
	byType      map[string][]VertexID
	types       []string       // sorted keys of byType
	pre         []VertexID     // vertices in pre-order (parents before children, siblings in order)
	pos         []int32        // pos[v] = index of v in pre
	span        []int32        // span[v] = number of vertices in v's subtree, v included
	avail       []bool         // v and all its ancestors are up
	availN      map[string]int // available vertices by type (CountAvailable)
	kids        []VertexID     // every vertex's children, parent by parent (the Children slices' backing)
	kidOff      []int32        // v's children are kids[kidOff[v]:kidOff[v+1]]
}

// NewGraph builds a graph from vertices whose Parent fields describe a tree
// (exactly one vertex with Parent == NoVertex). Children are rebuilt in
// increasing VertexID order; whatever the slices held is ignored. The graph
// takes ownership of vertices. It returns the first problem Validate finds.
func NewGraph(vertices []Vertex) (*Graph, error) {
	n := len(vertices)
	if n == 0 {
		return nil, fmt.Errorf("fluxion: graph has no vertices")
	}
	if n > graphMaxVertices {
		return nil, fmt.Errorf("fluxion: graph has %d vertices, at most %d allowed", n, graphMaxVertices)
	}
	order := make([]VertexID, 0, n)
	root := NoVertex
	for i := range vertices {
		v := &vertices[i]
		if v.Parent == NoVertex {
			if root != NoVertex {
				return nil, fmt.Errorf("fluxion: vertex %d (%s): second root (first is vertex %d, %s)", i, v.Path, root, vertices[root].Path)
			}
			root = VertexID(i)
			continue
		}
		if v.Parent < 0 || int(v.Parent) >= n {
			return nil, fmt.Errorf("fluxion: vertex %d (%s): parent %d out of range", i, v.Path, v.Parent)
		}
		order = append(order, VertexID(i))
	}
	if root == NoVertex {
		return nil, fmt.Errorf("fluxion: graph has no root (no vertex with Parent == NoVertex)")
	}
	g := &Graph{Vertices: vertices, Root: root}
	if err := g.build(order); err != nil {
		return nil, err
	}
	return g, nil
}

// graphMaxVertices bounds the vertex count so that VertexID (int32) indexes fit.
const graphMaxVertices = 1<<31 - 1

// build fills Children from the Parent fields, with siblings in the order
// they appear in order (every non-root vertex exactly once), then the
// indexes, then validates. Children of all vertices share one backing array.
func (g *Graph) build(order []VertexID) error {
	n := len(g.Vertices)
	counts := make([]int32, n+1)
	for _, c := range order {
		counts[g.Vertices[c].Parent+1]++
	}
	// counts[p+1] -> start offset of p's children
	off := int32(0)
	for i := 1; i <= n; i++ {
		c := counts[i]
		counts[i] = off
		off += c
	}
	backing := make([]VertexID, len(order))
	fill := counts[1:] // fill[p] = next free slot of p
	start := make([]int32, n)
	copy(start, fill)
	for _, c := range order {
		p := g.Vertices[c].Parent
		backing[fill[p]] = c
		fill[p]++
	}
	for i := range g.Vertices {
		if s, e := start[i], fill[i]; e > s {
			g.Vertices[i].Children = backing[s:e:e]
		} else {
			g.Vertices[i].Children = nil
		}
	}
	// Children by offsets into one array, for the searches: dense where
	// the Vertex structs are not (start[i+1] is where i's children end,
	// as children are laid out in parent order).
	g.kids = backing
	g.kidOff = make([]int32, n+1)
	copy(g.kidOff, start)
	g.kidOff[n] = int32(len(backing))
	return g.reindex()
}

// reindex rebuilds the lookup maps (unless already given), pre-order and
// availability from Vertices, Root and the Children slices, and checks the
// structure. Each map costs one insertion per vertex: a duplicate shows as
// a map that did not grow.
func (g *Graph) reindex() error {
	n := len(g.Vertices)
	if g.byPath == nil {
		g.byPath = newPathIndex()
		if dup, prev, ok := g.byPath.build(n, g.pathOf); !ok {
			return fmt.Errorf("fluxion: vertex %d: duplicate path %q (also vertex %d)", dup, g.Vertices[dup].Path, prev)
		}
	}
	if g.byUniq == nil && !g.uniqIsIndex {
		g.uniqIsIndex = true
		for i := range g.Vertices {
			if g.Vertices[i].UniqID != int64(i) {
				g.uniqIsIndex = false
				break
			}
		}
		if !g.uniqIsIndex {
			g.byUniq = make(map[int64]VertexID, n)
			for i := range g.Vertices {
				u := g.Vertices[i].UniqID
				g.byUniq[u] = VertexID(i)
				if len(g.byUniq) != i+1 {
					prev := g.firstWith(func(v *Vertex) bool { return v.UniqID == u })
					return fmt.Errorf("fluxion: vertex %d (%s): duplicate uniq_id %d (also vertex %d)", i, g.Vertices[i].Path, u, prev)
				}
			}
		}
	}
	if g.byPath.len() != n || (!g.uniqIsIndex && len(g.byUniq) != n) {
		return fmt.Errorf("fluxion: graph indexes do not cover the %d vertices", n)
	}
	counts := make(map[string]int)
	for i := range g.Vertices {
		counts[g.Vertices[i].Type]++
	}
	g.byType = make(map[string][]VertexID, len(counts))
	g.types = make([]string, 0, len(counts))
	for t, c := range counts {
		g.byType[t] = make([]VertexID, 0, c)
		g.types = append(g.types, t)
	}
	sort.Strings(g.types)
	for i := range g.Vertices {
		t := g.Vertices[i].Type
		g.byType[t] = append(g.byType[t], VertexID(i))
	}

	if g.Root < 0 || int(g.Root) >= n {
		return fmt.Errorf("fluxion: root %d out of range", g.Root)
	}
	// Iterative pre-order from the root; a vertex reached twice, or one
	// never reached, means the Children slices do not form a tree.
	g.pre = make([]VertexID, 0, n)
	g.pos = make([]int32, n)
	g.span = make([]int32, n)
	for i := range g.pos {
		g.pos[i] = -1
	}
	stack := []VertexID{g.Root}
	for len(stack) > 0 {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if g.pos[v] >= 0 {
			return fmt.Errorf("fluxion: vertex %d (%s): reached twice from the root", v, g.Vertices[v].Path)
		}
		g.pos[v] = int32(len(g.pre))
		g.pre = append(g.pre, v)
		ch := g.Vertices[v].Children
		for i := len(ch) - 1; i >= 0; i-- {
			c := ch[i]
			if c < 0 || int(c) >= n {
				return fmt.Errorf("fluxion: vertex %d (%s): child %d out of range", v, g.Vertices[v].Path, c)
			}
			stack = append(stack, c)
		}
	}
	if len(g.pre) != n {
		for i := range g.pos {
			if g.pos[i] < 0 {
				return fmt.Errorf("fluxion: vertex %d (%s): not reachable from the root %s", i, g.Vertices[i].Path, g.Vertices[g.Root].Path)
			}
		}
	}
	// Subtree sizes, children before parents (reverse pre-order).
	for i := n - 1; i >= 0; i-- {
		v := g.pre[i]
		s := int32(1)
		for _, c := range g.Vertices[v].Children {
			s += g.span[c]
		}
		g.span[v] = s
	}
	g.avail, g.availN = make([]bool, n), map[string]int{}
	g.refreshAvail(g.Root)
	return g.validate(false)
}

// firstWith returns the first vertex satisfying pred (error paths only).
func (g *Graph) firstWith(pred func(*Vertex) bool) VertexID {
	for i := range g.Vertices {
		if pred(&g.Vertices[i]) {
			return VertexID(i)
		}
	}
	return NoVertex
}

// refreshAvail recomputes availability over v's subtree (parents first),
// and the count of available vertices of each type.
func (g *Graph) refreshAvail(v VertexID) {
	for _, u := range g.Subtree(v) {
		up := g.Vertices[u].Status == StatusUp
		if p := g.Vertices[u].Parent; p != NoVertex {
			up = up && g.avail[p]
		}
		if up != g.avail[u] {
			if up {
				g.availN[g.Vertices[u].Type]++
			} else {
				g.availN[g.Vertices[u].Type]--
			}
			g.avail[u] = up
		}
	}
}

// Validate checks that the graph is a tree rooted at Root whose Parent and
// Children fields agree, whose containment paths are consistent (the root's
// is "/<segment>", every other vertex's is its parent's plus
// "/<segment>"), whose paths and uniq_ids are unique and agree with the
// indexes, and whose vertices have a type, a non-negative size and a known
// status that agrees with Available. It returns the first problem found.
func (g *Graph) Validate() error { return g.validate(true) }

// validate checks the structure; with lookups it also checks every vertex
// against the path and uniq_id indexes (a map access per vertex, which
// construction does not need: it built those maps with duplicate checks).
func (g *Graph) validate(lookups bool) error {
	n := len(g.Vertices)
	if n == 0 {
		return fmt.Errorf("fluxion: graph has no vertices")
	}
	if g.Root < 0 || int(g.Root) >= n {
		return fmt.Errorf("fluxion: root %d out of range", g.Root)
	}
	if len(g.pre) != n || len(g.pos) != n || len(g.span) != n || len(g.avail) != n {
		return fmt.Errorf("fluxion: graph indexes are stale (%d vertices, %d indexed); build graphs with NewGraph", n, len(g.pre))
	}
	if g.pre[0] != g.Root || g.span[g.Root] != int32(n) {
		return fmt.Errorf("fluxion: graph indexes are stale (root changed)")
	}
	for i := range g.Vertices {
		v := &g.Vertices[i]
		id := VertexID(i)
		where := func() string { return fmt.Sprintf("fluxion: vertex %d (%s)", i, v.Path) }
		if v.Type == "" {
			return fmt.Errorf("%s: empty type", where())
		}
		if v.Size < 0 {
			return fmt.Errorf("%s: negative size %d", where(), v.Size)
		}
		if v.Status != StatusUp && v.Status != StatusDown {
			return fmt.Errorf("%s: unknown status %d", where(), v.Status)
		}
		if up := v.Status == StatusUp && (v.Parent < 0 || int(v.Parent) >= n || g.avail[v.Parent]); g.avail[i] != up {
			return fmt.Errorf("%s: availability stale (change Status with SetStatus)", where())
		}
		if lookups {
			if got, ok := g.byPath.get(v.Path, g.pathOf); !ok || got != id {
				return fmt.Errorf("%s: path index stale or path duplicated", where())
			}
			if got, ok := g.ByUniqID(v.UniqID); !ok || got != id {
				return fmt.Errorf("%s: uniq_id index stale or uniq_id %d duplicated", where(), v.UniqID)
			}
		}
		if id == g.Root {
			if v.Parent != NoVertex {
				return fmt.Errorf("%s: root has parent %d", where(), v.Parent)
			}
			if seg, ok := pathRootSegment(v.Path); !ok || seg == "" {
				return fmt.Errorf("%s: root path must be \"/<name>\"", where())
			}
		} else {
			if v.Parent == NoVertex {
				return fmt.Errorf("%s: no parent, but the root is vertex %d (%s)", where(), g.Root, g.Vertices[g.Root].Path)
			}
			if v.Parent < 0 || int(v.Parent) >= n {
				return fmt.Errorf("%s: parent %d out of range", where(), v.Parent)
			}
			pp := g.Vertices[v.Parent].Path
			if !pathIsChild(pp, v.Path) {
				return fmt.Errorf("%s: path is not its parent's path %q plus one segment", where(), pp)
			}
		}
		for _, c := range v.Children {
			if c < 0 || int(c) >= n || g.Vertices[c].Parent != id {
				return fmt.Errorf("%s: child %d does not name it as parent", where(), c)
			}
		}
	}
	// Each non-root vertex sits in its parent's Children exactly once: the
	// pre-order reached every vertex once, and children name their parent.
	return nil
}

// pathRootSegment returns the segment of a one-segment path "/seg".
func pathRootSegment(p string) (string, bool) {
	if len(p) < 2 || p[0] != '/' || strings.IndexByte(p[1:], '/') >= 0 {
		return "", false
	}
	return p[1:], true
}

// pathIsChild reports whether child == parent + "/" + seg, seg non-empty and
// free of "/".
func pathIsChild(parent, child string) bool {
	if len(child) <= len(parent)+1 || child[len(parent)] != '/' || child[:len(parent)] != parent {
		return false
	}
	return strings.IndexByte(child[len(parent)+1:], '/') < 0
}

// pathParent returns the path without its last segment ("" for a root path
// or a malformed one).
func pathParent(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return ""
	}
	return p[:i]
}

// pathValid reports whether p is "/" followed by one or more non-empty
// segments separated by single slashes.
func pathValid(p string) bool {
	if len(p) < 2 || p[0] != '/' || p[len(p)-1] == '/' {
		return false
	}
	return !strings.Contains(p, "//")
}

// Len returns the number of vertices.
func (g *Graph) Len() int { return len(g.Vertices) }

// Vertex returns the vertex with the given id (a pointer into Vertices).
func (g *Graph) Vertex(id VertexID) *Vertex { return &g.Vertices[id] }

// Lookup returns the vertex with the given containment path.
func (g *Graph) Lookup(path string) (VertexID, bool) {
	v, ok := g.byPath.get(path, g.pathOf)
	if !ok {
		return NoVertex, false
	}
	return v, true
}

// pathOf returns v's containment path.
func (g *Graph) pathOf(v VertexID) string { return g.Vertices[v].Path }

// ByUniqID returns the vertex with the given uniq_id.
func (g *Graph) ByUniqID(uniqID int64) (VertexID, bool) {
	if g.uniqIsIndex {
		if uniqID < 0 || uniqID >= int64(len(g.Vertices)) {
			return NoVertex, false
		}
		return VertexID(uniqID), true
	}
	v, ok := g.byUniq[uniqID]
	if !ok {
		return NoVertex, false
	}
	return v, true
}

// Children returns v's containment children in sibling order (read-only).
func (g *Graph) Children(v VertexID) []VertexID {
	return g.kids[g.kidOff[v]:g.kidOff[v+1]:g.kidOff[v+1]]
}

// Subtree returns v and all its descendants in pre-order: parents before
// children, siblings in order. The slice is shared: do not modify it.
func (g *Graph) Subtree(v VertexID) []VertexID {
	p := g.pos[v]
	return g.pre[p : p+g.span[v] : p+g.span[v]]
}

// PreOrder returns all vertices in pre-order from the root (read-only).
func (g *Graph) PreOrder() []VertexID { return g.pre }

// PreOrderPos returns each vertex's index in PreOrder (pos[v]); the
// caller must not modify it.
func (g *Graph) PreOrderPos() []int32 { return g.pos }

// Walk visits v's subtree in pre-order. When fn returns false the vertex's
// descendants are skipped (the walk continues with its next sibling).
func (g *Graph) Walk(v VertexID, fn func(VertexID) bool) {
	p, end := g.pos[v], g.pos[v]+g.span[v]
	for p < end {
		u := g.pre[p]
		if fn(u) {
			p++
		} else {
			p += g.span[u]
		}
	}
}

// Contains reports whether u is in v's subtree (u == v included).
func (g *Graph) Contains(v, u VertexID) bool {
	pv, pu := g.pos[v], g.pos[u]
	return pu >= pv && pu < pv+g.span[v]
}

// Ancestor returns the nearest vertex of type typ on the path from v to the
// root, v included, or NoVertex.
func (g *Graph) Ancestor(v VertexID, typ string) VertexID {
	for v != NoVertex {
		if g.Vertices[v].Type == typ {
			return v
		}
		v = g.Vertices[v].Parent
	}
	return NoVertex
}

// Types returns the vertex types present, sorted (read-only).
func (g *Graph) Types() []string { return g.types }

// OfType returns the vertices of type typ in VertexID order (read-only).
func (g *Graph) OfType(typ string) []VertexID { return g.byType[typ] }

// Count returns the number of vertices of type typ, whatever their status.
func (g *Graph) Count(typ string) int { return len(g.byType[typ]) }

// CountAvailable returns the number of available vertices of type typ.
func (g *Graph) CountAvailable(typ string) int { return g.availN[typ] }

// Available reports whether v and all its ancestors are up.
func (g *Graph) Available(v VertexID) bool { return g.avail[v] }

// SetStatus sets the own status of the vertex at the given containment path.
// A down vertex makes its whole subtree unavailable; setting it up again
// restores the descendants whose own status and other ancestors are up.
func (g *Graph) SetStatus(path string, s Status) error {
	v, ok := g.byPath.get(path, g.pathOf)
	if !ok {
		return fmt.Errorf("fluxion: set status %s: no vertex at path %q", s, path)
	}
	return g.SetStatusOf(v, s)
}

// SetStatusOf is SetStatus by vertex id.
func (g *Graph) SetStatusOf(v VertexID, s Status) error {
	if v < 0 || int(v) >= len(g.Vertices) {
		return fmt.Errorf("fluxion: set status %s: vertex %d out of range", s, v)
	}
	if s != StatusUp && s != StatusDown {
		return fmt.Errorf("fluxion: set status: unknown status %d, only (up, down) allowed", s)
	}
	g.Vertices[v].Status = s
	g.refreshAvail(v)
	return nil
}

// SortedKeys returns m's keys in increasing order.
func SortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
