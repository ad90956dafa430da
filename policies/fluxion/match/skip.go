package match

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/convergesim/converge/policies/fluxion/graph"
)

// skipMin is the fewest children a vertex needs for its walks to pass
// held children through a skip index rather than one by one.
const skipMin = 32

// skipIdx lets a walk over a vertex's children, in visiting order, pass
// at once every run of children that it would refuse at once during the
// time searched, so passing them changes no answer (the walk does
// nothing else with them but under the EBUSY trace, which turns the
// index off):
//   - x: children an exclusive span holds then ([xLo, xHi) overlaps the
//     time asked for): usable refuses them, whatever the request;
//   - f: those, and children whose aggregate is wholly used then ([fLo,
//     fHi): pruned refuses them for any request that needs a unit below
//     them).
//
// Each is a segment tree over the children's positions holding, per
// segment, the largest start and the smallest end of the children's
// intervals: every child of a segment is held during [at, end) exactly
// when the segment's smallest end is after at and its largest start
// before end.
type skipIdx struct {
	kids  []graph.VertexID // the order the trees were built for (the matcher's slice)
	valid bool             // kids has not been reordered since
	x, f  segTree
}

// segTree is one skip tree: lo and hi per segment, 1-based heap layout,
// size leaves (a power of two ≥ the children; the padding is held at
// every time). A changed leaf marks its parent; the marked segments are
// brought up to date, level by level, before the next walk (flush), so
// an allocation that changes many siblings pulls their common ancestors
// once.
type segTree struct {
	size      int
	lo, hi    []int64
	mark      []bool  // segments to pull before the next walk
	dirty, up []int32 // the marked segments of the level being pulled, and of the one above
}

func newSegTree(size int) segTree {
	return segTree{size: size, lo: make([]int64, 2*size), hi: make([]int64, 2*size), mark: make([]bool, size)}
}

func (t *segTree) leaf(i int, lo, hi int64) { t.lo[t.size+i], t.hi[t.size+i] = lo, hi }

func (t *segTree) pull(k int) {
	t.lo[k] = max(t.lo[2*k], t.lo[2*k+1])
	t.hi[k] = min(t.hi[2*k], t.hi[2*k+1])
}

func (t *segTree) build(n int) {
	for i := n; i < t.size; i++ {
		t.leaf(i, math.MinInt64, math.MaxInt64)
	}
	for k := t.size - 1; k >= 1; k-- {
		t.pull(k)
	}
	for _, k := range t.dirty {
		t.mark[k] = false
	}
	t.dirty = t.dirty[:0]
}

func (t *segTree) set(i int, lo, hi int64) {
	k := t.size + i
	if t.lo[k] == lo && t.hi[k] == hi {
		return
	}
	t.lo[k], t.hi[k] = lo, hi
	if p := k >> 1; p >= 1 && !t.mark[p] {
		t.mark[p] = true
		t.dirty = append(t.dirty, int32(p))
	}
}

// flush pulls the marked segments, a level at a time from the leaves'
// parents up (set marks only those, so each list holds one level).
func (t *segTree) flush() {
	for len(t.dirty) > 0 {
		up := t.up[:0]
		for _, k := range t.dirty {
			t.pull(int(k))
			t.mark[k] = false
			if p := k >> 1; p >= 1 && !t.mark[p] {
				t.mark[p] = true
				up = append(up, p)
			}
		}
		t.dirty, t.up = up, t.dirty[:0]
	}
}

// next returns the first position at or after i (of n) whose interval
// does not overlap [at, end); n if none.
func (t *segTree) next(i, n int, at, end int64) int {
	if i >= n {
		return n
	}
	if len(t.dirty) > 0 {
		t.flush()
	}
	held := func(k int) bool { return t.hi[k] > at && t.lo[k] < end }
	k := t.size + i
	for held(k) {
		// Up while k is a right child, then to the next segment.
		for k&1 == 1 {
			k >>= 1
		}
		if k == 0 {
			return n
		}
		k++
	}
	for k < t.size {
		k *= 2
		if held(k) {
			k++
		}
	}
	return k - t.size
}

// skipper returns v's skip index for the children order kids, building
// or rebuilding it when needed; nil if v has too few children.
func (m *Matcher) skipper(v graph.VertexID, kids []graph.VertexID) *skipIdx {
	if len(kids) < skipMin {
		return nil
	}
	if m.skips == nil {
		m.skips = map[graph.VertexID]*skipIdx{}
		m.skipPos = make([]int32, m.g.Len())
	}
	ix := m.skips[v]
	if ix == nil {
		size := 1
		for size < len(kids) {
			size *= 2
		}
		ix = &skipIdx{x: newSegTree(size), f: newSegTree(size)}
		m.skips[v] = ix
	}
	if ix.valid && len(ix.kids) == len(kids) && (len(kids) == 0 || &ix.kids[0] == &kids[0]) {
		return ix
	}
	ix.kids = kids
	for i, c := range kids {
		m.skipPos[c] = int32(i)
		ix.x.leaf(i, m.xLo[c], m.xHi[c])
		lo, hi := m.fullOrHeld(c)
		ix.f.leaf(i, lo, hi)
	}
	ix.x.build(len(kids))
	ix.f.build(len(kids))
	ix.valid = true
	return ix
}

// fullOrHeld is v's interval in the f tree: its known exclusive span, or
// else the first run of its full spans.
func (m *Matcher) fullOrHeld(v graph.VertexID) (lo, hi int64) {
	if m.xLo[v] != m.xHi[v] || m.fLo == nil {
		return m.xLo[v], m.xHi[v]
	}
	return m.fLo[v], m.fHi[v]
}

// setX sets the exclusive span [lo, hi) that the matcher knows holds v,
// and keeps its parent's skip index up to date.
func (m *Matcher) setX(v graph.VertexID, lo, hi int64) {
	m.xLo[v], m.xHi[v] = lo, hi
	m.skipUpdate(v)
}

// skipUpdate brings v's leaves in its parent's skip index up to date.
func (m *Matcher) skipUpdate(v graph.VertexID) {
	p := m.g.Vertices[v].Parent
	if p == graph.NoVertex || m.skips == nil {
		return
	}
	ix := m.skips[p]
	if ix == nil || !ix.valid {
		return
	}
	i := int(m.skipPos[v])
	ix.x.set(i, m.xLo[v], m.xHi[v])
	lo, hi := m.fullOrHeld(v)
	ix.f.set(i, lo, hi)
}

// reordered forgets v's skip index order (its children were reordered).
func (m *Matcher) reordered(v graph.VertexID) {
	if ix := m.skips[v]; ix != nil {
		ix.valid = false
	}
}

// ivRun returns the first run of the disjoint intervals ivs (by start),
// adjacent ones joined; [0, 0) if none.
func ivRun(ivs [][2]int64) (lo, hi int64) {
	if len(ivs) == 0 {
		return 0, 0
	}
	lo, hi = ivs[0][0], ivs[0][1]
	for _, iv := range ivs[1:] {
		if iv[0] > hi {
			break
		}
		hi = max(hi, iv[1])
	}
	return lo, hi
}

// ivInsert inserts iv into ivs, kept by start.
func ivInsert(ivs [][2]int64, iv [2]int64) [][2]int64 {
	i, _ := slices.BinarySearchFunc(ivs, iv, func(x, y [2]int64) int { return cmp.Compare(x[0], y[0]) })
	return slices.Insert(ivs, i, iv)
}

// ivDrop removes the interval of *ivs starting at start; an error naming
// what (whole, full) if there is none.
func ivDrop(ivs *[][2]int64, start int64, what string) error {
	i, ok := slices.BinarySearchFunc(*ivs, start, func(iv [2]int64, t int64) int { return cmp.Compare(iv[0], t) })
	if !ok {
		return fmt.Errorf("no %s span from %d", what, start)
	}
	*ivs = slices.Delete(*ivs, i, i+1)
	return nil
}

// ivClone deep-copies intervals by vertex (nil stays nil).
func ivClone(ivs [][][2]int64) [][][2]int64 {
	if ivs == nil {
		return nil
	}
	c := make([][][2]int64, len(ivs))
	for v, iv := range ivs {
		c[v] = slices.Clone(iv)
	}
	return c
}

// ivOverlaps reports whether an interval of ivs overlaps [at, end). The
// intervals of a vertex's whole or full spans are disjoint (an
// overlapping one is refused) and kept by start, so by end too: only the
// first to end after at can overlap.
func ivOverlaps(ivs [][2]int64, at, end int64) bool {
	lo, hi := 0, len(ivs)
	for lo < hi {
		h := int(uint(lo+hi) >> 1)
		if ivs[h][1] <= at {
			lo = h + 1
		} else {
			hi = h
		}
	}
	return lo < len(ivs) && ivs[lo][0] < end
}

// fullRun sets v's full interval to the first run of its full spans.
func (m *Matcher) fullRun(v graph.VertexID) {
	m.fLo[v], m.fHi[v] = ivRun(m.full[v])
	m.skipUpdate(v)
}

// positive reports whether need asks for a unit of some type.
func positive(need []int64) bool {
	for _, n := range need {
		if n > 0 {
			return true
		}
	}
	return false
}

// walk is a walk over the children of one vertex with a skip index.
type walk struct {
	t *segTree // nil: visit every child
	n int
	c *tctx
}

// walkKids returns the children of v a walk visits, in order, and how to
// pass the refused ones (a nil tree: visit them all). needs are the need
// vectors the walk's visits test the children's aggregates with: when
// each asks for some unit, children whose aggregate is wholly used are
// passed too.
func (c *tctx) walkKids(v graph.VertexID, needs ...[]int64) ([]graph.VertexID, walk) {
	kids := c.children(v)
	if c.trace || c.sat || !c.inWindow || c.m.visitAll {
		return kids, walk{}
	}
	ix := c.m.skipper(v, kids)
	if ix == nil {
		return kids, walk{}
	}
	t := &ix.f
	for _, nd := range needs {
		if !positive(nd) {
			t = &ix.x
			break
		}
	}
	return kids, walk{t: t, n: len(kids), c: c}
}

// from returns the first child at or after i that the walk must visit,
// counting those it passes (c.passed).
func (w walk) from(i int) int {
	if w.t == nil {
		return i
	}
	j := w.t.next(i, w.n, w.c.at, w.c.at+w.c.d)
	w.c.passed += j - i
	return j
}
