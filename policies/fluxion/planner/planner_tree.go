package planner

import "math"

// planTree is the ordered set of scheduled points of one Planner: a treap
// keyed by time whose nodes live in one slice (index 0 is the nil node), so
// that steady-state insertions and deletions reuse freed slots and allocate
// nothing.
//
// Each point stores how many units are in use from its time until the next
// point ("used"; free = total - used). Nodes carry the minimum and maximum
// of used over their subtree and a pending addition for their children
// (lazy propagation), so that:
//
//   - adding or removing a span's request over all points in [start, end)
//     tags the O(log n) subtrees that cover it;
//   - inserting or deleting a point follows one path, O(log n);
//   - the state at any time (the last point at or before it) is O(log n);
//   - the largest use over a time window is O(log n);
//   - the earliest point at or after t whose use is <= a threshold, and the
//     latest point before t whose use is > a threshold, are O(log n).
//
// n is the number of scheduled points (at most 2*spans + 1). flux-sched
// keeps two red-black trees for the same job (a scheduled-point tree and a
// min-time resource tree, resource/planner/c++/scheduled_point_tree.cpp and
// mintime_resource_tree.cpp) and updates every point under a span one by
// one, O(k log n) for k covered points; the lazy addition makes that
// O(log n) here.
//
// Stored values are relative: the true used of node x is
// nodes[x].used + (sum of add over x's strict ancestors), and the same holds
// for mn and mx. A node's own used, mn and mx already include its add.
// Priorities come from a splitmix64 sequence, so the shape of the tree, like
// everything else, is a function of the operations alone.
type planTree struct {
	nodes []planPoint
	free  []int32
	root  int32
	seed  uint64
}

type planPoint struct {
	at     int64 // time of the point (key)
	used   int64 // units in use from at until the next point (relative)
	mn, mx int64 // min and max of used over the subtree (relative)
	add    int64 // pending addition for both children
	prio   uint64
	l, r   int32
	refs   int32 // span endpoints at this time (+1 for the base point)
}

// reset empties the tree, keeping its storage.
func (t *planTree) reset() {
	if len(t.nodes) == 0 {
		t.nodes = make([]planPoint, 1, 4)
	}
	t.nodes = t.nodes[:1]
	t.free = t.free[:0]
	t.root = 0
	t.seed = 0
}

// clone returns a deep copy.
func (t *planTree) clone() planTree {
	return planTree{
		nodes: append([]planPoint(nil), t.nodes...),
		free:  append([]int32(nil), t.free...),
		root:  t.root,
		seed:  t.seed,
	}
}

// size is the number of points.
func (t *planTree) size() int { return len(t.nodes) - 1 - len(t.free) }

func (t *planTree) newPoint(at, used int64) int32 {
	var x int32
	if n := len(t.free); n > 0 {
		x = t.free[n-1]
		t.free = t.free[:n-1]
	} else {
		t.nodes = append(t.nodes, planPoint{})
		x = int32(len(t.nodes) - 1)
	}
	t.seed += 0x9e3779b97f4a7c15
	z := t.seed
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	z ^= z >> 31
	t.nodes[x] = planPoint{at: at, used: used, mn: used, mx: used, prio: z}
	return x
}

func (t *planTree) apply(x int32, v int64) {
	if x == 0 {
		return
	}
	n := &t.nodes[x]
	n.used += v
	n.mn += v
	n.mx += v
	n.add += v
}

func (t *planTree) push(x int32) {
	n := &t.nodes[x]
	if n.add != 0 {
		t.apply(n.l, n.add)
		t.apply(n.r, n.add)
		n.add = 0
	}
}

// pull recomputes mn and mx of x from its own use and its children's
// aggregates (which are relative to x's add as well).
func (t *planTree) pull(x int32) {
	n := &t.nodes[x]
	n.mn, n.mx = n.used, n.used
	if n.l != 0 {
		c := &t.nodes[n.l]
		n.mn = min(n.mn, c.mn+n.add)
		n.mx = max(n.mx, c.mx+n.add)
	}
	if n.r != 0 {
		c := &t.nodes[n.r]
		n.mn = min(n.mn, c.mn+n.add)
		n.mx = max(n.mx, c.mx+n.add)
	}
}

// split cuts x into the points before key and the rest; with inclusive
// set, a point at key goes to the left part.
func (t *planTree) split(x int32, key int64, inclusive bool) (int32, int32) {
	if x == 0 {
		return 0, 0
	}
	t.push(x)
	n := &t.nodes[x]
	if n.at < key || (inclusive && n.at == key) {
		a, b := t.split(n.r, key, inclusive)
		t.nodes[x].r = a
		t.pull(x)
		return x, b
	}
	a, b := t.split(n.l, key, inclusive)
	t.nodes[x].l = b
	t.pull(x)
	return a, x
}

// merge joins a and b; every key of a is below every key of b.
func (t *planTree) merge(a, b int32) int32 {
	if a == 0 {
		return b
	}
	if b == 0 {
		return a
	}
	if t.nodes[a].prio > t.nodes[b].prio {
		t.push(a)
		r := t.merge(t.nodes[a].r, b)
		t.nodes[a].r = r
		t.pull(a)
		return a
	}
	t.push(b)
	l := t.merge(a, t.nodes[b].l)
	t.nodes[b].l = l
	t.pull(b)
	return b
}

// insert adds a point at `at` (absent) whose true use is used. It descends
// to where the new point's priority puts it and splits only the subtree
// found there.
func (t *planTree) insert(at, used int64) int32 {
	x := t.newPoint(at, 0)
	t.root = t.insertAt(t.root, x, used, 0)
	return x
}

func (t *planTree) insertAt(y, x int32, used, acc int64) int32 {
	if y == 0 || t.nodes[x].prio > t.nodes[y].prio {
		// x roots this subtree: its stored values are relative to the
		// same ancestors (acc), as are the split halves.
		l, r := t.split(y, t.nodes[x].at, false)
		n := &t.nodes[x]
		n.used = used - acc
		n.l, n.r = l, r
		t.pull(x)
		return x
	}
	n := &t.nodes[y]
	if t.nodes[x].at < n.at {
		c := t.insertAt(n.l, x, used, acc+n.add)
		t.nodes[y].l = c
	} else {
		c := t.insertAt(n.r, x, used, acc+n.add)
		t.nodes[y].r = c
	}
	t.pull(y)
	return y
}

// remove deletes the point at `at` (present): it descends to it and merges
// its children in its place.
func (t *planTree) remove(at int64) {
	t.root = t.removeAt(t.root, at)
}

func (t *planTree) removeAt(y int32, at int64) int32 {
	if y == 0 {
		return 0
	}
	n := &t.nodes[y]
	switch {
	case at < n.at:
		c := t.removeAt(n.l, at)
		t.nodes[y].l = c
	case at > n.at:
		c := t.removeAt(n.r, at)
		t.nodes[y].r = c
	default:
		t.push(y)
		m := t.merge(n.l, n.r)
		t.free = append(t.free, y)
		return m
	}
	t.pull(y)
	return y
}

// rangeAdd adds v to the use of every point in [lo, hi) (lo < hi). It tags
// whole subtrees that lie inside the range and descends only along the two
// boundaries, without restructuring: O(log n).
func (t *planTree) rangeAdd(lo, hi, v int64) {
	t.rangeAddAt(t.root, lo, hi, v, math.MinInt64, math.MaxInt64)
}

// rangeAddAt works on subtree y, whose keys lie in [kmin, kmax].
func (t *planTree) rangeAddAt(y int32, lo, hi, v, kmin, kmax int64) {
	if y == 0 || kmax < lo || kmin >= hi {
		return
	}
	if lo <= kmin && kmax < hi {
		t.apply(y, v)
		return
	}
	// Children are relative to y's pending add too, so adding to them
	// directly needs no push.
	n := &t.nodes[y]
	if lo <= n.at && n.at < hi {
		n.used += v
	}
	if n.l != 0 && lo < n.at {
		t.rangeAddAt(n.l, lo, hi, v, kmin, n.at-1)
	}
	if n.r != 0 && n.at+1 < hi {
		t.rangeAddAt(n.r, lo, hi, v, n.at+1, kmax)
	}
	t.pull(y)
}

// find returns the point at exactly `at`, or 0.
func (t *planTree) find(at int64) int32 {
	x := t.root
	for x != 0 {
		n := &t.nodes[x]
		switch {
		case at < n.at:
			x = n.l
		case at > n.at:
			x = n.r
		default:
			return x
		}
	}
	return 0
}

// floor returns the last point at or before `at` and its true use
// (0, 0 if none).
func (t *planTree) floor(at int64) (int32, int64) {
	var best int32
	var bestUsed, acc int64
	x := t.root
	for x != 0 {
		n := &t.nodes[x]
		if n.at <= at {
			best, bestUsed = x, n.used+acc
			acc += n.add
			x = n.r
		} else {
			acc += n.add
			x = n.l
		}
	}
	return best, bestUsed
}

// maxUsedIn returns the largest true use over points in [lo, hi), with ok
// false if there are none.
func (t *planTree) maxUsedIn(lo, hi int64) (int64, bool) {
	var acc int64
	x := t.root
	for x != 0 {
		n := &t.nodes[x]
		if n.at < lo {
			acc += n.add
			x = n.r
		} else if n.at >= hi {
			acc += n.add
			x = n.l
		} else {
			break
		}
	}
	if x == 0 {
		return 0, false
	}
	top := &t.nodes[x]
	m := top.used + acc
	base := acc + top.add
	// Left boundary: points >= lo in the left subtree.
	acc = base
	for y := top.l; y != 0; {
		n := &t.nodes[y]
		if n.at >= lo {
			m = max(m, n.used+acc)
			if n.r != 0 {
				m = max(m, t.nodes[n.r].mx+acc+n.add)
			}
			acc += n.add
			y = n.l
		} else {
			acc += n.add
			y = n.r
		}
	}
	// Right boundary: points < hi in the right subtree.
	acc = base
	for y := top.r; y != 0; {
		n := &t.nodes[y]
		if n.at < hi {
			m = max(m, n.used+acc)
			if n.l != 0 {
				m = max(m, t.nodes[n.l].mx+acc+n.add)
			}
			acc += n.add
			y = n.r
		} else {
			acc += n.add
			y = n.l
		}
	}
	return m, true
}

// firstFit returns the earliest point at or after from whose true use is
// <= thr, or 0. Subtrees whose minimum exceeds thr are skipped whole, so the
// search follows one boundary path plus at most one successful descent:
// O(log n).
func (t *planTree) firstFit(x int32, from, thr, acc int64) int32 {
	for x != 0 {
		n := &t.nodes[x]
		if n.mn+acc > thr {
			return 0
		}
		if n.at < from {
			acc += n.add
			x = n.r
			continue
		}
		if r := t.firstFit(n.l, from, thr, acc+n.add); r != 0 {
			return r
		}
		if n.used+acc <= thr {
			return x
		}
		acc += n.add
		x = n.r
	}
	return 0
}

// lastBlock returns the latest point before `before` whose true use is
// > thr, or 0; the mirror image of firstFit, also O(log n).
func (t *planTree) lastBlock(x int32, before, thr, acc int64) int32 {
	for x != 0 {
		n := &t.nodes[x]
		if n.mx+acc <= thr {
			return 0
		}
		if n.at >= before {
			acc += n.add
			x = n.l
			continue
		}
		if r := t.lastBlock(n.r, before, thr, acc+n.add); r != 0 {
			return r
		}
		if n.used+acc > thr {
			return x
		}
		acc += n.add
		x = n.l
	}
	return 0
}

// walk calls fn for each point in time order with its true use, until fn
// returns false.
func (t *planTree) walk(fn func(at, used int64, refs int32) bool) {
	t.walkFrom(t.root, 0, fn)
}

func (t *planTree) walkFrom(x int32, acc int64, fn func(at, used int64, refs int32) bool) bool {
	if x == 0 {
		return true
	}
	n := &t.nodes[x]
	if !t.walkFrom(n.l, acc+n.add, fn) {
		return false
	}
	if !fn(n.at, n.used+acc, n.refs) {
		return false
	}
	return t.walkFrom(n.r, acc+n.add, fn)
}
