package match

import (
	"math"

	"github.com/convergesim/converge/policies/fluxion/graph"
)

// skipMin is the fewest children a vertex needs for its walks to pass
// held children through a skip index rather than one by one.
const skipMin = 32

// skipIdx lets a walk over a vertex's children, in visiting order, pass
// at once every run of children that an exclusive span holds during the
// time searched: usable refuses those (their [xLo, xHi) overlaps the
// time asked for) before anything else, and the walk does nothing else
// with them but under the EBUSY trace, so passing them changes no answer.
// It is a segment tree over the children's positions holding, per
// segment, the largest xLo and the smallest xHi: every child of a
// segment is held during [at, end) exactly when the segment's smallest
// xHi is after at and its largest xLo before end.
type skipIdx struct {
	kids  []graph.VertexID // the order the tree was built for (the matcher's slice)
	valid bool             // kids has not been reordered since
	size  int              // leaves (a power of two ≥ len(kids))
	lo    []int64          // largest xLo per segment (1-based heap layout)
	hi    []int64          // smallest xHi per segment
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
		ix = &skipIdx{size: size, lo: make([]int64, 2*size), hi: make([]int64, 2*size)}
		m.skips[v] = ix
	}
	if ix.valid && len(ix.kids) == len(kids) && (len(kids) == 0 || &ix.kids[0] == &kids[0]) {
		return ix
	}
	ix.kids = kids
	for i, c := range kids {
		m.skipPos[c] = int32(i)
		ix.lo[ix.size+i], ix.hi[ix.size+i] = m.xLo[c], m.xHi[c]
	}
	for i := len(kids); i < ix.size; i++ {
		// Padding is held at every time.
		ix.lo[ix.size+i], ix.hi[ix.size+i] = math.MinInt64, math.MaxInt64
	}
	for k := ix.size - 1; k >= 1; k-- {
		ix.lo[k] = max(ix.lo[2*k], ix.lo[2*k+1])
		ix.hi[k] = min(ix.hi[2*k], ix.hi[2*k+1])
	}
	ix.valid = true
	return ix
}

// setX sets the exclusive span [lo, hi) that the matcher knows holds v,
// and keeps its parent's skip index up to date.
func (m *Matcher) setX(v graph.VertexID, lo, hi int64) {
	m.xLo[v], m.xHi[v] = lo, hi
	p := m.g.Vertices[v].Parent
	if p == graph.NoVertex || m.skips == nil {
		return
	}
	ix := m.skips[p]
	if ix == nil || !ix.valid {
		return
	}
	k := ix.size + int(m.skipPos[v])
	ix.lo[k], ix.hi[k] = lo, hi
	for k >>= 1; k >= 1; k >>= 1 {
		ix.lo[k] = max(ix.lo[2*k], ix.lo[2*k+1])
		ix.hi[k] = min(ix.hi[2*k], ix.hi[2*k+1])
	}
}

// reordered forgets v's skip index order (its children were reordered).
func (m *Matcher) reordered(v graph.VertexID) {
	if ix := m.skips[v]; ix != nil {
		ix.valid = false
	}
}

// next returns the first position at or after i of a child whose known
// exclusive span does not overlap [at, end); len(kids) if none.
func (ix *skipIdx) next(i int, at, end int64) int {
	n := len(ix.kids)
	if i >= n {
		return n
	}
	held := func(k int) bool { return ix.hi[k] > at && ix.lo[k] < end }
	k := ix.size + i
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
	for k < ix.size {
		k *= 2
		if held(k) {
			k++
		}
	}
	return k - ix.size
}

// walkKids returns the children of v a walk visits, in order, and the
// skip index to pass the held ones with (nil: visit them all).
func (c *tctx) walkKids(v graph.VertexID) ([]graph.VertexID, *skipIdx) {
	kids := c.children(v)
	if c.trace || c.sat || !c.inWindow || c.m.visitAll {
		return kids, nil
	}
	return kids, c.m.skipper(v, kids)
}

// skipTo returns the first child at or after i that the walk must
// visit, counting those it passes (c.passed).
func (c *tctx) skipTo(ix *skipIdx, i int) int {
	j := ix.next(i, c.at, c.at+c.d)
	c.passed += j - i
	return j
}
