package fluxion

import (
	"cmp"
	"slices"
)

// The traverser: a model of dfu_impl_t's depth-first-and-up walk
// (resource/traversers/dfu_impl.cpp) that is exact about feasibility and
// follows the policies' ordering.
//
// For a request list under a vertex:
//   - a non-slot resource of type T is matched by vertices of type T:
//     from the root, vertices of other types are descended through
//     ("pristine", so jobspec prefixes may be omitted); below a matched
//     vertex only its direct children are candidates;
//   - a slot is matched at the first vertex (the vertex itself included)
//     whose direct children include every slot member type (slot_match);
//     one such host may hold several slots; inside a slot every resource
//     is exclusive and a pooled vertex (memory of Size MiB) is taken whole;
//   - among the feasible candidates Count.Best(#candidates) are taken in
//     policy order (see tcand.less).
//
// A vertex is usable when it and its ancestors are up and, during
// [at, at+d): shared use — it is not held exclusively; exclusive use — no
// job uses it or anything in its subtree (its exclusivity planner is
// wholly free) and its unit planner has all Size units free. Aggregates
// prune subtrees with fewer free units of a tracked type than one
// candidate needs (a necessary condition, so pruning never changes the
// result).

// titem is one picked vertex.
type titem struct {
	v    VertexID
	excl bool
}

// tcand is one candidate: a vertex with its sub-picks, or one slot.
type tcand struct {
	items []titem
	nf    int64 // node factor (node_centric): node id + 1, else 0
	score int64 // own id (vertex) or sum of member ids (slot)
	seq   int   // discovery order: pre-order, or by_outedges order for first
}

type tctx struct {
	m     *Matcher
	at    int64
	d     int64
	sat   bool // satisfiability: ignore up/down status
	seq   int
	needs map[*Resource]*[2]map[string]int64 // see need
}

// search matches js at [at, at+d).
func (m *Matcher) search(js *Jobspec, at, d int64, sat bool) ([]titem, bool) {
	c := &tctx{m: m, at: at, d: d, sat: sat, needs: map[*Resource]*[2]map[string]int64{}}
	var out []titem
	for _, r := range js.Resources {
		items, ok := c.selectReq(m.g.Root, r, true)
		if !ok {
			return nil, false
		}
		out = append(out, items...)
	}
	return out, true
}

// less orders candidates by the policy: first = discovery order; else
// (node factor, score) ascending for low and descending for high, ties
// by discovery order (Fluxion's std::sort is not stable; see report).
func (c *tctx) less(a, b *tcand) int {
	p := c.m.pol
	if p.First {
		return cmp.Compare(a.seq, b.seq)
	}
	r := cmp.Compare(a.nf, b.nf)
	if r == 0 {
		r = cmp.Compare(a.score, b.score)
	}
	if p.High {
		r = -r
	}
	if r == 0 {
		r = cmp.Compare(a.seq, b.seq)
	}
	return r
}

// nodeFactor is the node-centric weight of v: its node's id + 1.
func (c *tctx) nodeFactor(v VertexID) int64 {
	if !c.m.pol.NodeCentric {
		return 0
	}
	n := c.m.g.Ancestor(v, "node")
	if n == NoVertex {
		return 0
	}
	return c.m.g.Vertices[n].ID + 1
}

// children returns v's children in visiting order: sibling order, or for
// first by_outedges order (edge weight, then uniq_id, both descending).
func (c *tctx) children(v VertexID) []VertexID {
	ch := c.m.g.Children(v)
	if !c.m.pol.First || len(ch) < 2 {
		return ch
	}
	s := slices.Clone(ch)
	w, g := c.m.weights, c.m.g
	slices.SortFunc(s, func(a, b VertexID) int {
		if r := cmp.Compare(w[b], w[a]); r != 0 {
			return r
		}
		return cmp.Compare(g.Vertices[b].UniqID, g.Vertices[a].UniqID)
	})
	return s
}

// usable reports whether v may be used (exclusively or shared) now.
func (c *tctx) usable(v VertexID, excl bool) bool {
	m := c.m
	// Satisfiability ignores up/down status (dfu_impl_t::prune skips that
	// test in satisfiability mode); down nodes count only in the early
	// nodes-up check.
	if !c.sat && !m.g.Available(v) {
		return false
	}
	x := m.xplans[v].AvailDuring(c.at, c.d)
	if !excl {
		return x >= 1
	}
	return x == xCheckerTotal && m.plans[v].AvailDuring(c.at, c.d) >= m.g.Vertices[v].Size
}

// exclusiveAt reports whether using v for the request makes it exclusive.
func (c *tctx) exclusiveAt(v VertexID, want bool) bool {
	return want || c.m.excl[c.m.g.Vertices[v].Type]
}

// pruned reports whether v's aggregate shows fewer free units of a
// tracked type than need (units strictly below v).
func (c *tctx) pruned(v VertexID, need map[string]int64) bool {
	p := c.m.agg[v]
	if p == nil {
		return false
	}
	for i, t := range c.m.aggTypes {
		if n := need[t]; n > 0 && p.AvailDuring(c.at, c.d, i) < n {
			return true
		}
	}
	return false
}

// reqNeed adds the units of rs (times mult) to need.
func reqNeed(rs []*Resource, mult int64, need map[string]int64) {
	for _, r := range rs {
		n := jsSatMul(mult, r.Count.Min)
		need[r.Type] = jsSatAdd(need[r.Type], n)
		reqNeed(r.With, n, need)
	}
}

// need returns, for one candidate of r, the units it needs with r itself
// counted (i = 0) and below it (i = 1), cached per search.
func (c *tctx) need(r *Resource, i int) map[string]int64 {
	n := c.needs[r]
	if n == nil {
		one := map[string]int64{r.Type: 1}
		reqNeed(r.With, 1, one)
		with := map[string]int64{}
		reqNeed(r.With, 1, with)
		n = &[2]map[string]int64{one, with}
		c.needs[r] = n
	}
	return n[i]
}

// selectReq picks r's count under from: candidates are from itself when
// top, else from's children (slots: from itself included).
func (c *tctx) selectReq(from VertexID, r *Resource, top bool) ([]titem, bool) {
	var cands []tcand
	if r.Type == "slot" {
		c.findHosts(from, r, c.need(r, 0), &cands)
	} else if top {
		c.findCands(from, r, true, c.need(r, 0), &cands)
	} else {
		for _, ch := range c.children(from) {
			c.findCands(ch, r, false, c.need(r, 0), &cands)
		}
	}
	k := r.Count.Best(int64(len(cands)))
	if k == 0 {
		return nil, false
	}
	slices.SortStableFunc(cands, func(a, b tcand) int { return c.less(&a, &b) })
	var out []titem
	for _, cd := range cands[:k] {
		out = append(out, cd.items...)
	}
	return out, true
}

// findCands collects the usable vertices of r's type at or (pristine)
// below v whose subtrees satisfy r.With.
func (c *tctx) findCands(v VertexID, r *Resource, pristine bool, need map[string]int64, out *[]tcand) {
	g := c.m.g
	vx := &g.Vertices[v]
	if vx.Type == r.Type {
		excl := c.exclusiveAt(v, r.Exclusive)
		if !c.usable(v, excl) || c.pruned(v, c.need(r, 1)) {
			return
		}
		c.seq++
		seq := c.seq
		items := []titem{{v, excl}}
		for _, w := range r.With {
			sub, ok := c.selectReq(v, w, false)
			if !ok {
				return
			}
			items = append(items, sub...)
		}
		*out = append(*out, tcand{items: items, nf: c.nodeFactor(v), score: vx.ID, seq: seq})
		return
	}
	if !pristine || !c.usable(v, c.exclusiveAt(v, false)) || c.pruned(v, need) {
		return
	}
	for _, ch := range c.children(v) {
		c.findCands(ch, r, true, need, out)
	}
}

// slotMatch reports whether v's direct children include every member type.
func (c *tctx) slotMatch(v VertexID, slot *Resource) bool {
	ch := c.m.g.Children(v)
	for _, mb := range slot.With {
		if !slices.ContainsFunc(ch, func(u VertexID) bool { return c.m.g.Vertices[u].Type == mb.Type }) {
			return false
		}
	}
	return true
}

// findHosts finds slot hosts at or below v and adds their slots.
func (c *tctx) findHosts(v VertexID, slot *Resource, need map[string]int64, out *[]tcand) {
	if !c.usable(v, c.exclusiveAt(v, false)) {
		return
	}
	if c.slotMatch(v, slot) {
		if !c.pruned(v, c.need(slot, 1)) {
			c.slotsAt(v, slot, out)
		}
		return
	}
	if c.pruned(v, need) {
		return
	}
	for _, ch := range c.children(v) {
		c.findHosts(ch, slot, need, out)
	}
}

// slotsAt packs as many slots as fit from host h's direct children.
func (c *tctx) slotsAt(h VertexID, slot *Resource, out *[]tcand) {
	g := c.m.g
	type unit struct {
		items []titem
		size  int64
		id    int64
	}
	pools := make([][]unit, len(slot.With))
	for i, mb := range slot.With {
		var us []unit
		for _, ch := range c.children(h) {
			if g.Vertices[ch].Type != mb.Type || !c.usable(ch, true) {
				continue
			}
			items := []titem{{ch, true}}
			ok := true
			for _, w := range mb.With {
				sub, subOK := c.selectReq(ch, w, false)
				if !subOK {
					ok = false
					break
				}
				items = append(items, sub...)
			}
			if ok {
				us = append(us, unit{items, g.Vertices[ch].Size, g.Vertices[ch].ID})
			}
		}
		if !c.m.pol.First {
			// Members in id order (descending for high); ties keep
			// sibling order.
			slices.SortStableFunc(us, func(a, b unit) int {
				if c.m.pol.High {
					return cmp.Compare(b.id, a.id)
				}
				return cmp.Compare(a.id, b.id)
			})
		}
		pools[i] = us
	}
	next := make([]int, len(slot.With))
	nf := c.nodeFactor(h)
	for {
		var items []titem
		var score int64
		for i, mb := range slot.With {
			got := int64(0)
			for got < mb.Count.Min && next[i] < len(pools[i]) {
				u := pools[i][next[i]]
				next[i]++
				got += u.size
				score += u.id
				items = append(items, u.items...)
			}
			if got < mb.Count.Min {
				return
			}
		}
		c.seq++
		*out = append(*out, tcand{items: items, nf: nf, score: score, seq: c.seq})
	}
}
