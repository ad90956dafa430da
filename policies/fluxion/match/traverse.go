package match

import (
	"cmp"
	"math"
	"slices"

	"github.com/convergesim/converge/policies/fluxion/graph"
	"github.com/convergesim/converge/policies/fluxion/jobspec"
	"github.com/convergesim/converge/policies/fluxion/planner"
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
	v    graph.VertexID
	excl bool
	// ghost: picked inside a slot whose host is a child of the vertex
	// the enclosing request matched (see hostsBelow). Fluxion's select
	// counts it, its update never reaches it.
	ghost bool
}

// tcand is one candidate: a vertex with its sub-picks, or one slot. Its
// items are tctx.buf[lo:hi].
type tcand struct {
	lo, hi int32
	nf     int64 // node factor (node_centric): node id + 1, else 0
	score  int64 // own id (vertex) or sum of member ids (slot)
	seq    int   // discovery order: pre-order, or by_outedges order for first
}

// tneed is what one candidate of a request needs, per aggregate type
// (indexed like Matcher.aggTypes): self with the request's own vertex
// counted, with only the units below it. eff is the request's
// calc_effective_max (effMax).
type tneed struct {
	self, with []int64
	eff        int64
	typ        int32 // the request's type as Matcher.vType has it; -1 if the graph has none
}

// effMax is flux-sched's calc_effective_max (matcher.cpp): the count a
// request takes when supply is unbounded. Under stop_on_1_matches,
// explore_dynamically (dfu_impl.cpp) stops visiting a vertex's children
// once every request of the level has that many units (slot members:
// as many bundles of that many units as slots are asked). What it
// collected until then is ranked as under high with node_centric
// (first's preset), so stopping decides what can be picked: a lower
// node visited early (its edge heavier) can lose to a higher one
// visited last.
func effMax(c jobspec.Count) int64 { return c.Best(math.MaxUint32) }

// tunit is one slot member vertex with its sub-picks (tctx.buf[lo:hi]).
type tunit struct {
	lo, hi int32
	size   int64
	id     int64 // its key: id, or perf_class under variation
}

// tctx is the state of one search. The item buffer, candidate and unit
// stacks are used in stack order: every selectReq and slotsAt leaves them
// as it found them, apart from selectReq's result, which it leaves on top
// of buf. The matcher keeps one tctx to reuse their storage.
type tctx struct {
	m      *Matcher
	passed int // children the skip index passed (tests)
	at     int64
	d      int64
	sat    bool // satisfiability: ignore up/down status and every job
	// inWindow: [at, at+d) is a valid argument of the vertex planners
	// (within [0, window), d >= 1), so an empty planner is wholly free.
	inWindow bool
	seq      int
	// The policy's ordering, fixed per matcher: desc ranks candidates by
	// descending score (high, locality); udesc orders slot members by
	// descending key (high, locality, variation); perf holds each
	// vertex's perf_class (variation), which then replaces the id as the
	// score; ubase is what each slot member adds to its slot's score on
	// top of its key (Fluxion's MATCH_MET and id+1 terms, which differ
	// between slots only in how many members they have).
	desc, udesc bool
	// std: rank as flux-sched's std::sort does, ties included (stdSort:
	// locality and variation, whose candidates tie as a rule).
	std   bool
	perf  []int64
	ubase int64
	runs  []int64 // locality: scratch for the runs of scores
	ghost int     // > 0 while picking inside ghost slots
	// trace turns on busy: set when the search meets what makes
	// Fluxion's traversal set errno = EBUSY on its way (a vertex pruned
	// or unavailable, a mismatching vertex below a match: dom_dfv,
	// prune). Only Matcher.noUpdate needs it.
	trace, busy bool
	needs       map[*jobspec.Resource]*tneed
	buf         []titem
	tmp         []titem
	cands       []tcand
	units       []tunit

	// first: stop_on_1_matches (explore_dynamically). reach is how many
	// of from's children (in visiting order) the last selectReq below a
	// match visited before its request was satisfied (all of them if it
	// never was, or without first).
	first bool
	reach int
	// ancOK: byNode's memo of the nodes' ancestors it may pass.
	ancOK   map[graph.VertexID]bool
	lastAnc graph.VertexID // byNode: the parent of the last node that passed
	kids    [][]kidType    // kidTypes' cache, by vertex (nil: not yet)
	early   int            // searches byNode ended before the last node (tests)
	noNodes [2][2]int      // searches nodesFree refused, for nodes and for slots (full), through the skip index and not (tests)
}

// search matches js at [at, at+d). The items it returns are valid until
// the next search.
func (m *Matcher) search(js *jobspec.Jobspec, at, d int64, sat bool) ([]titem, bool) {
	c := m.tc
	if c == nil {
		c = &tctx{m: m, needs: map[*jobspec.Resource]*tneed{}}
		p := &m.pol
		c.desc = p.High || p.Locality
		c.udesc = c.desc || p.Variation
		c.std = p.Locality || p.Variation
		c.first = p.First
		switch {
		case p.Locality:
			c.ubase = 2
		case p.Variation:
			c.ubase = 1
			c.perf = perfClasses(m.g)
		}
		m.tc = c
	}
	c.at, c.d, c.sat, c.seq = at, d, sat, 0
	c.inWindow = d >= 1 && at >= 0 && at < m.window && d <= m.window-at
	clear(c.needs)
	c.buf, c.cands, c.units = c.buf[:0], c.cands[:0], c.units[:0]
	if !sat && !c.trace && c.inWindow && !m.leafFree(m.curLeaf, at, d) {
		// The root's filter for the leaf types (Matcher.rootLeaf) prunes
		// the whole walk: fewer gpus (or other leaves) free than asked.
		return nil, false
	}
	if !sat && !c.trace && c.inWindow && !m.visitAll {
		switch {
		case m.curNodes > 0 && !c.nodesFree(m.curNodes, at, d, false):
			return nil, false // fewer nodes than asked are free of exclusive spans then
		case m.curHosts > 0 && !c.nodesFree(m.curHosts, at, d, true):
			return nil, false // fewer nodes than the slots need have a core free throughout
		}
	}
	for _, r := range js.Resources {
		if _, _, ok := c.selectReq(m.g.Root, r, true); !ok {
			return nil, false
		}
	}
	return c.buf, true // valid until the next search
}

// rank orders candidates by the policy's comparator: (node factor,
// score) ascending for low and variation and descending for high and
// locality; equal candidates compare equal (Fluxion's std::sort leaves
// them where its introsort puts them: see stdSort).
func (c *tctx) rank(a, b *tcand) int {
	r := cmp.Compare(a.nf, b.nf)
	if r == 0 {
		r = cmp.Compare(a.score, b.score)
	}
	if c.desc {
		r = -r
	}
	return r
}

// toRuns replaces each candidate's score by the lowest score of the run
// of contiguous scores it falls in, over all the candidates: the
// interval of the boost::icl::interval_set that locality's
// dom_finish_graph builds from the candidates' scores. Runs are disjoint,
// so comparing them (fold::interval_greater) is comparing these starts:
// the run holding the highest score ranks first, and candidates of one
// run tie.
func (c *tctx) toRuns(cands []tcand) {
	r := c.runs[:0]
	for i := range cands {
		r = append(r, cands[i].score)
	}
	slices.Sort(r)
	r = slices.Compact(r)
	// starts[i] is the first score of the run holding r[i].
	n := len(r)
	r = slices.Grow(r, n)[:2*n]
	scores, starts := r[:n], r[n:]
	for i := range scores {
		if i > 0 && scores[i] == scores[i-1]+1 {
			starts[i] = starts[i-1]
		} else {
			starts[i] = scores[i]
		}
	}
	for i := range cands {
		j, _ := slices.BinarySearch(scores, cands[i].score)
		cands[i].score = starts[j]
	}
	c.runs = r
}

// nodeFactor is the node-centric weight of v: its node's id + 1.
func (c *tctx) nodeFactor(v graph.VertexID) int64 {
	if !c.m.pol.NodeCentric {
		return 0
	}
	n := c.m.g.Ancestor(v, "node")
	if n == graph.NoVertex {
		return 0
	}
	return c.m.g.Vertices[n].ID + 1
}

// children returns v's children in visiting order: sibling order, or for
// first by_outedges order (edge weight, then uniq_id, both descending).
// The by_outedges orders are cached in the matcher (see sortedChildren).
func (c *tctx) children(v graph.VertexID) []graph.VertexID {
	ch := c.m.g.Children(v)
	if !c.m.pol.First || len(ch) < 2 {
		return ch
	}
	return c.m.sortedChildren(v)
}

// usable reports whether v may be used (exclusively or shared) now.
func (c *tctx) usable(v graph.VertexID, excl bool) bool {
	m := c.m
	// Satisfiability ignores up/down status (dfu_impl_t::prune skips that
	// test in satisfiability mode); down nodes count only in the early
	// nodes-up check.
	if c.sat {
		// Satisfiability runs after every job has ended (see
		// Matcher.satisfiable): every planner is free.
		return true
	}
	if !m.g.Available(v) {
		return false
	}
	if c.inWindow && (m.live[v] == 0 || c.at >= m.until[v]) {
		// Both planners are empty, or every span on them has ended by
		// at: all of xCheckerTotal and of Size free.
		return true
	}
	if c.inWindow && m.heldExcl(v, c.at, c.at+c.d) {
		// An exclusive span holds v during the time asked for.
		return false
	}
	if c.inWindow && m.pLive[v] == 0 {
		// Its unit and exclusivity planners hold nothing: every unit
		// is free, so only a full span can refuse exclusive use.
		return !excl || !m.fullOverlaps(v, c.at, c.at+c.d)
	}
	if !excl && c.inWindow && m.xExcl[v] == 0 {
		return true // only shared spans: fewer than xCheckerTotal
	}
	x := availDuring(m.xPlan(v), c.at, c.d)
	if !excl {
		return x >= 1
	}
	// A full span booked alone (Matcher.fullOnly) stands for a shared
	// unit on v's exclusivity planner.
	return x == xCheckerTotal && !m.fullOverlaps(v, c.at, c.at+c.d) && availDuring(m.unitPlan(v), c.at, c.d) >= m.g.Vertices[v].Size
}

// availDuring is p.AvailDuringQuick(at, d).
func availDuring(p *planner.Planner, at, d int64) int64 { return p.AvailDuringQuick(at, d) }

// exclusiveAt reports whether using v for the request makes it exclusive.
func (c *tctx) exclusiveAt(v graph.VertexID, want bool) bool {
	return want || (len(c.m.excl) > 0 && c.m.excl[c.m.g.Vertices[v].Type])
}

// pruned reports whether v's aggregate shows fewer free units of a
// tracked type than need (units strictly below v; need is indexed like
// aggTypes).
func (c *tctx) pruned(v graph.VertexID, need []int64) bool {
	p := c.m.agg[v]
	if p == nil {
		return false
	}
	if c.sat {
		for i, n := range need {
			if n > 0 && p.Total(i) < n {
				return true
			}
		}
		return false
	}
	if c.m.full != nil && c.inWindow && positive(need) && ivOverlaps(c.m.full[v], c.at, c.at+c.d) {
		return true // wholly used then
	}
	if c.m.aggLive[v] == 0 && c.m.below != nil && c.inWindow {
		// No span on the aggregate: all it counts is free then.
		k := len(c.m.aggTypes)
		for i, n := range need {
			if n > 0 && c.m.below[int(v)*k+i] < n {
				return true
			}
		}
		return false
	}
	for i, n := range need {
		if n > 0 && availDuring(p.Planner(i), c.at, c.d) < n {
			return true
		}
	}
	return false
}

// need returns, for one candidate of r, the units it needs with r itself
// counted (self) and below it (with), cached per search.
func (c *tctx) need(r *jobspec.Resource) *tneed {
	n := c.needs[r]
	if n == nil {
		with := map[string]int64{}
		jobspec.AddTotals(with, r.With, 1)
		n = &tneed{make([]int64, len(c.m.aggTypes)), make([]int64, len(c.m.aggTypes)), effMax(r.Count), -1}
		if t, ok := slices.BinarySearch(c.m.g.Types(), r.Type); ok {
			n.typ = int32(t)
		}
		for i, t := range c.m.aggTypes {
			n.self[i], n.with[i] = with[t], with[t]
			if t == r.Type && n.self[i] < math.MaxInt64 {
				n.self[i]++ // r itself
			}
		}
		c.needs[r] = n
	}
	return n
}

// selectReq picks r's count under from: candidates are from itself when
// top, else from's children (slots: from itself included). On success the
// picked items are c.buf[lo:hi], at the top of buf.
func (c *tctx) selectReq(from graph.VertexID, r *jobspec.Resource, top bool) (lo, hi int, ok bool) {
	nd := c.need(r)
	mark, cmark := len(c.buf), len(c.cands)
	stopped := false // byNode found enough candidates (maybe before the last node)
	if top && c.nodeOrdered(from, r) {
		stopped = c.byNode(r, nd)
		if n := int64(len(c.cands) - cmark); !stopped && r.Count.Best(n) != 0 {
			// Every node was visited, in another order than the
			// walk's, and a count range takes fewer than all of what
			// was found: which of equal candidates it takes depends on
			// that order. Walk the graph instead.
			c.buf, c.cands = c.buf[:mark], c.cands[:cmark]
			c.findTop(from, r, nd)
		}
	} else if top {
		c.findTop(from, r, nd)
	} else if r.Type == "slot" {
		c.hostsBelow(from, r, nd)
	} else {
		// Below a match: from's children in visiting order; under first,
		// only until r has nd.eff candidates (explore_dynamically's
		// is_enough; a request of a later child type goes on, skipping
		// this type's children: sat_types).
		ch := c.children(from)
		c.reach = len(ch)
		for i, v := range ch {
			c.findCands(v, r, false, nd, nd.self)
			if c.first && int64(len(c.cands)-cmark) >= nd.eff {
				c.reach = i + 1
				break
			}
		}
	}
	lo, hi, ok, tie := c.pick(r, mark, cmark, top, stopped)
	if tie {
		c.findTop(from, r, nd) // walk the graph instead
		lo, hi, ok, _ = c.pick(r, mark, cmark, top, false)
	}
	return lo, hi, ok
}

// pick ranks the candidates c.cands[cmark:] found for r and keeps the
// best Count.Best of them, their items moved to c.buf[mark:]. tie
// reports (with nothing kept) that the search stopped early (stopped)
// and the last candidate to keep ranks equal to the first left out.
func (c *tctx) pick(r *jobspec.Resource, mark, cmark int, top, stopped bool) (lo, hi int, ok, tie bool) {
	cands := c.cands[cmark:]
	k := r.Count.Best(int64(len(cands)))
	if k == 0 {
		c.buf, c.cands = c.buf[:mark], c.cands[:cmark]
		return 0, 0, false, false
	}
	switch {
	case c.std && c.desc: // locality: fold::greater, or interval_greater at the top
		if top {
			c.toRuns(cands)
		}
		stdSort(cands, func(a, b *tcand) bool { return a.score > b.score })
	case c.std: // variation: fold::less
		stdSort(cands, func(a, b *tcand) bool { return a.score < b.score })
	default:
		// The id-ordered policies (low, high, lonode, hinode, first ...) rank
		// with choose_accum_best_k → choose_best_k, a std::sort of the
		// candidates by the policy's fold comparator
		// (dfu_match_multilevel_id_impl.hpp:113,171;
		// evaluators/edge_eval_api.hpp:83): ties land where libstdc++'s
		// introsort leaves them, not in discovery order, once more
		// than 16 candidates are ranked.
		stdSort(cands, func(a, b *tcand) bool { return c.rank(a, b) < 0 })
	}
	// (first too: "policy=high node_centric=true stop_on_1_matches=true",
	// dfu_match_policy_factory.cpp:24, ranks what it collected.)
	if stopped && int(k) < len(cands) && c.rank(&cands[k-1], &cands[k]) == 0 {
		// byNode stopped early, and the k-th candidate ties with the
		// next: which of them is taken depends on where std::sort
		// leaves equal candidates, so on all of them.
		c.buf, c.cands = c.buf[:mark], c.cands[:cmark]
		return 0, 0, false, true
	}
	c.tmp = c.tmp[:0]
	for _, cd := range cands[:k] {
		c.tmp = append(c.tmp, c.buf[cd.lo:cd.hi]...)
	}
	c.buf = append(c.buf[:mark], c.tmp...)
	c.cands = c.cands[:cmark]
	return mark, len(c.buf), true, false
}

// nodeOrdered reports whether a top-level request r under from can be
// searched node by node in rank order (byNode): under the node-centric
// policies that rank every candidate (lonode, hinode, lonodex, hinodex),
// a candidate's first key is its node's id, so once the nodes visited in
// that order hold as many candidates as r can take, the nodes left can
// only rank below them. That needs every candidate inside one node (r is
// a node, or a type found only below nodes; a slot of such types), node
// ids unique, and the search to start at the root. Satisfiability and
// the EBUSY trace walk the whole graph as Fluxion does.
func (c *tctx) nodeOrdered(from graph.VertexID, r *jobspec.Resource) bool {
	m := c.m
	if !m.pol.NodeCentric || m.pol.First || c.std || c.trace || c.sat || from != m.g.Root || m.walkOnly {
		return false
	}
	if m.nodeOrder() == nil {
		return false
	}
	if r.Type != "slot" {
		return r.Type == "node" || m.underNode[r.Type]
	}
	for _, mb := range r.With {
		if !m.underNode[mb.Type] {
			return false
		}
	}
	return len(r.With) > 0
}

// byNode collects the candidates of r (see nodeOrdered) node by node,
// from the best-ranked node, and reports whether it stopped because it
// had found nd.eff of them. Each node's subtree is searched as the walk
// from the root searches it; a node below an ancestor that is not usable,
// or whose aggregate is too small, is skipped as the walk skips it.
func (c *tctx) byNode(r *jobspec.Resource, nd *tneed) bool {
	m := c.m
	order := m.nodeSeq
	cmark := len(c.cands)
	if c.ancOK == nil {
		c.ancOK = map[graph.VertexID]bool{}
	}
	clear(c.ancOK)
	c.lastAnc = graph.NoVertex
	at, end := c.at, c.at+c.d
	for i := range order {
		v := order[i]
		if c.desc {
			v = order[len(order)-1-i]
		}
		if c.inWindow && at < m.xHi[v] && end > m.xLo[v] {
			// Held exclusively then: usable refuses it, whether it is
			// a candidate or a level passed through.
			continue
		}
		if !c.ancestorsOK(v, nd.self) {
			continue
		}
		c.findTop(v, r, nd)
		if int64(len(c.cands)-cmark) >= nd.eff {
			if i < len(order)-1 {
				c.early++
			}
			return true
		}
	}
	return false
}

// ancestorsOK reports whether the walk from the root would reach v: each
// strict ancestor usable (shared) and not pruned for need, memoised per
// search in c.ancOK.
func (c *tctx) ancestorsOK(v graph.VertexID, need []int64) bool {
	vs := c.m.g.Vertices
	for p := vs[v].Parent; p != graph.NoVertex; p = vs[p].Parent {
		if p == c.lastAnc {
			// The parent of the node visited last (nodes of one
			// rack or cluster come in a row), known to pass, and so
			// are its ancestors.
			return true
		}
		ok, seen := c.ancOK[p]
		if !seen {
			ok = c.usable(p, c.exclusiveAt(p, false)) && !c.pruned(p, need)
			c.ancOK[p] = ok
		}
		if !ok {
			return false
		}
	}
	c.lastAnc = vs[v].Parent
	return true
}

// findTop collects the candidates of a top-level request r under from by
// walking the graph: slot hosts, or vertices of r's type.
func (c *tctx) findTop(from graph.VertexID, r *jobspec.Resource, nd *tneed) {
	if r.Type == "slot" {
		c.findHosts(from, r, nd, nd.self)
	} else {
		c.findCands(from, r, true, nd, nd.self)
	}
}

// findCands collects the usable vertices of r's type at or (pristine)
// below v whose subtrees satisfy r.With.
func (c *tctx) findCands(v graph.VertexID, r *jobspec.Resource, pristine bool, nd *tneed, need []int64) {
	g := c.m.g
	if c.m.vType[v] == nd.typ {
		vx := &g.Vertices[v]
		excl := c.exclusiveAt(v, r.Exclusive)
		if !c.usable(v, excl) || c.pruned(v, nd.with) {
			c.busy = c.busy || c.trace
			return
		}
		c.seq++
		seq := c.seq
		lo := len(c.buf)
		c.buf = append(c.buf, titem{v, excl, c.ghost > 0})
		reach := 0
		for _, w := range r.With {
			if _, _, ok := c.selectReq(v, w, false); !ok {
				c.busy = c.busy || c.trace
				c.buf = c.buf[:lo]
				return
			}
			reach = max(reach, c.reach)
		}
		if c.trace && len(r.With) > 0 {
			c.traceMismatch(v, r.With, reach)
		}
		score := vx.ID
		if c.perf != nil {
			score = c.perf[v]
		}
		c.cands = append(c.cands, tcand{lo: int32(lo), hi: int32(len(c.buf)), nf: c.nodeFactor(v), score: score, seq: seq})
		return
	}
	if !pristine {
		return
	}
	if !c.usable(v, c.exclusiveAt(v, false)) || c.pruned(v, need) {
		c.busy = c.busy || c.trace
		return
	}
	// A pristine pass-through level: under first it stops once it has
	// found nd.eff candidates itself (each level keeps its own tally).
	start := len(c.cands)
	kids, w := c.walkKids(v, nd.with, need)
	for i := 0; i < len(kids); i++ {
		if i = w.from(i); i == len(kids) {
			break
		}
		c.findCands(kids[i], r, true, nd, need)
		if c.first && int64(len(c.cands)-start) >= nd.eff {
			return
		}
	}
}

// traceMismatch sets busy if one of the first reach children of v (in
// visiting order), v matched by a request with the requests with, is a
// vertex none of them takes: Fluxion visits it with with and, as the
// match is no longer pristine, fails it with EBUSY (dfu_impl_t::test,
// dom_dfv). Under first, Fluxion stops visiting once every request is
// satisfied (reach: the furthest point the requests' searches got to).
// When with holds a slot hosted by v itself, slotsAt checks v's
// children against the slot's members.
func (c *tctx) traceMismatch(v graph.VertexID, with []*jobspec.Resource, reach int) {
	for _, w := range with {
		if w.Type == "slot" && c.slotMatch(v, w) {
			return
		}
	}
	vs := c.m.g.Vertices
	for _, ch := range c.children(v)[:reach] {
		ok := false
		for _, w := range with {
			if w.Type == vs[ch].Type || (w.Type == "slot" && c.slotMatch(ch, w)) {
				ok = true
				break
			}
		}
		if !ok {
			c.busy = true
			return
		}
	}
}

// slotMatch reports whether v's direct children include every member type.
func (c *tctx) slotMatch(v graph.VertexID, slot *jobspec.Resource) bool {
	ch := c.m.g.Children(v)
	vs := c.m.g.Vertices
	if len(ch) > 16 {
		// Many children (a cluster's, a socket's): their types, cached.
		kt := c.kidTypes(v)
		for _, mb := range slot.With {
			if !slices.ContainsFunc(kt, func(t kidType) bool { return t.typ == mb.Type }) {
				return false
			}
		}
		return true
	}
	for _, mb := range slot.With {
		found := false
		for _, u := range ch {
			if vs[u].Type == mb.Type {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// findHosts finds slot hosts at or below v and adds their slots.
func (c *tctx) findHosts(v graph.VertexID, slot *jobspec.Resource, nd *tneed, need []int64) {
	if !c.usable(v, c.exclusiveAt(v, false)) {
		c.busy = c.busy || c.trace
		return
	}
	if c.slotMatch(v, slot) {
		if !c.pruned(v, nd.with) {
			c.slotsAt(v, slot)
		} else {
			c.busy = c.busy || c.trace
		}
		return
	}
	if c.pruned(v, need) {
		c.busy = c.busy || c.trace
		return
	}
	// Under first, a level stops once it has found nd.eff slots itself.
	start := len(c.cands)
	kids, w := c.walkKids(v, nd.with, need)
	for i := 0; i < len(kids); i++ {
		if i = w.from(i); i == len(kids) {
			break
		}
		c.findHosts(kids[i], slot, nd, need)
		if c.first && int64(len(c.cands)-start) >= nd.eff {
			return
		}
	}
}

// hostsBelow finds the hosts of a slot requested below a matched vertex
// from (node>slot>...). from itself is the host if its children hold
// every member type. Otherwise Fluxion visits from's children with the
// slot as the request, and dfu_impl_t::test (dfu_impl.cpp:366-410) makes
// a child that slot-matches a host (SLOT_MATCH) and any other child a
// mismatch that is not descended (NONE_MATCH: the match is no longer
// pristine), so a slot never reaches further down. Slots on such child
// hosts count in the select, but the edge from from into the host is
// never selected (only the slots' own edges are: dfu_impl_t::enforce),
// so the update does not reach them (stop_explore_best,
// dfu_impl_update.cpp:306-309, 344) and they are picked as ghosts:
// node>slot>core on nodes with sockets matches and then allocates
// nothing (see Matcher.build).
func (c *tctx) hostsBelow(from graph.VertexID, slot *jobspec.Resource, nd *tneed) {
	if c.slotMatch(from, slot) {
		if !c.pruned(from, nd.with) {
			c.slotsAt(from, slot)
		}
		c.reach = len(c.children(from)) // unused: slotsAt traces from's children
		return
	}
	c.ghost++
	start := len(c.cands)
	chs := c.children(from)
	reach := len(chs)
	for i, ch := range chs {
		if !c.slotMatch(ch, slot) {
			continue // a mismatch: findCands' traceMismatch sees it
		}
		if c.usable(ch, c.exclusiveAt(ch, false)) && !c.pruned(ch, nd.with) {
			c.slotsAt(ch, slot)
		} else {
			c.busy = c.busy || c.trace
		}
		if c.first && int64(len(c.cands)-start) >= nd.eff {
			reach = i + 1
			break
		}
	}
	c.reach = reach
	c.ghost--
}

// memberOrder returns the order in which slotsAt collects the members of
// slot among chs: the member with the fewest children of its type first,
// so that a host short of one member is left before its others are
// searched (what is collected does not depend on the order). With the
// EBUSY trace on, slot order, as Fluxion visits them.
func (c *tctx) memberOrder(order []int, h graph.VertexID, slot *jobspec.Resource) []int {
	for i := range slot.With {
		order = append(order, i)
	}
	if c.trace || len(order) < 2 {
		return order
	}
	kt := c.kidTypes(h)
	var nbuf [4]int
	n := nbuf[:0]
	for _, mb := range slot.With {
		k := int32(0)
		for _, t := range kt {
			if t.typ == mb.Type {
				k = t.n
				break
			}
		}
		n = append(n, int(k))
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(n[a], n[b]) })
	return order
}

// kidType is how many children of one type a vertex has.
type kidType struct {
	typ string
	n   int32
}

// kidTypes returns the types of h's children with their counts, in order
// of first appearance, cached (the graph's shape does not change).
func (c *tctx) kidTypes(h graph.VertexID) []kidType {
	if c.kids == nil {
		c.kids = make([][]kidType, c.m.g.Len())
	}
	if kt := c.kids[h]; kt != nil {
		return kt
	}
	var kt []kidType
	vs := c.m.g.Vertices
	for _, ch := range c.m.g.Children(h) {
		i := slices.IndexFunc(kt, func(t kidType) bool { return t.typ == vs[ch].Type })
		if i < 0 {
			kt = append(kt, kidType{vs[ch].Type, 0})
			i = len(kt) - 1
		}
		kt[i].n++
	}
	c.kids[h] = kt
	return kt
}

// hasEqualKeys reports whether two neighbouring units (of a sorted run)
// have the same key.
func hasEqualKeys(us []tunit) bool {
	for i := 1; i < len(us); i++ {
		if us[i].id == us[i-1].id {
			return true
		}
	}
	return false
}

// slotsAt packs as many slots as fit from host h's direct children.
func (c *tctx) slotsAt(h graph.VertexID, slot *jobspec.Resource) {
	g := c.m.g
	perf, ubase := c.perf, c.ubase
	umark := len(c.units)
	defer func() { c.units = c.units[:umark] }()
	var pbuf [4][2]int
	var obuf [4]int
	pools, order := pbuf[:0], obuf[:0]
	if len(slot.With) > len(pbuf) {
		pools, order = make([][2]int, 0, len(slot.With)), make([]int, 0, len(slot.With))
	}
	pools = pools[:len(slot.With)] // pools[i]: slot.With[i]'s units, c.units[lo:hi]
	// Under first, dom_slot's explore_dynamically takes a member type's
	// children until it has nslots bundles of at least effMax units
	// (share_tally_t; a bundle's excess is not carried over), and stops
	// when every member has them.
	chs := c.children(h)
	nslots := c.need(slot).eff
	reach := 0
	order = c.memberOrder(order, h, slot)
	for _, mi := range order {
		mb := slot.With[mi]
		start := len(c.units)
		var found int64 // units of mb's type usable here
		mnd := c.need(mb)
		share := mnd.eff
		var accum, shares int64
		mreach := len(chs)
		for i, ch := range chs {
			if c.m.vType[ch] != mnd.typ {
				continue
			}
			if !c.usable(ch, true) {
				c.busy = c.busy || c.trace
				continue
			}
			lo := len(c.buf)
			c.buf = append(c.buf, titem{ch, true, c.ghost > 0})
			ok := true
			wreach := 0
			for _, w := range mb.With {
				if _, _, subOK := c.selectReq(ch, w, false); !subOK {
					c.busy = c.busy || c.trace
					ok = false
					break
				}
				wreach = max(wreach, c.reach)
			}
			if ok && c.trace && len(mb.With) > 0 {
				c.traceMismatch(ch, mb.With, wreach)
			}
			if !ok {
				c.buf = c.buf[:lo]
				continue
			}
			size := c.m.vSize[ch]
			c.units = append(c.units, tunit{int32(lo), int32(len(c.buf)), size, g.Vertices[ch].ID})
			found += size
			if c.first && share > 0 {
				if accum += size; accum >= share {
					shares, accum = shares+1, 0
				}
				if shares >= nslots {
					mreach = i + 1
					break
				}
			}
		}
		reach = max(reach, mreach)
		if perf != nil {
			// variation: the key is the member's class (c.buf[u.lo] is
			// the member itself).
			for i := start; i < len(c.units); i++ {
				c.units[i].id = perf[c.buf[c.units[i].lo].v]
			}
		}
		pools[mi] = [2]int{start, len(c.units)}
		if found < mb.Count.Min && !c.trace {
			// Not one slot fits here: the packing below would take
			// nothing.
			return
		}
		// Members in key order: ascending for low; descending for
		// high, locality and variation. dom_finish_slot sorts them with
		// std::sort (choose_accum_all, dfu_match_multilevel_id_impl.hpp:126;
		// fold::greater for locality and variation), ties as it leaves
		// them; keys already strictly in order (children in id order,
		// as a rule) are what any sort gives.
		us := c.units[start:]
		if c.udesc {
			if !slices.IsSortedFunc(us, func(a, b tunit) int { return cmp.Compare(b.id, a.id) }) || hasEqualKeys(us) {
				stdSort(us, func(a, b *tunit) bool { return a.id > b.id })
			}
		} else if !slices.IsSortedFunc(us, func(a, b tunit) int { return cmp.Compare(a.id, b.id) }) || hasEqualKeys(us) {
			stdSort(us, func(a, b *tunit) bool { return a.id < b.id })
		}
	}
	if c.trace {
		// A child of no member type fails (NONE_MATCH, EBUSY) if visited.
		for _, ch := range chs[:reach] {
			if !slices.ContainsFunc(slot.With, func(mb *jobspec.Resource) bool { return mb.Type == g.Vertices[ch].Type }) {
				c.busy = true
			}
		}
	}
	nf := c.nodeFactor(h)
	for {
		lo := len(c.buf)
		var score int64
		for i, mb := range slot.With {
			got := int64(0)
			for got < mb.Count.Min && pools[i][0] < pools[i][1] {
				u := c.units[pools[i][0]]
				pools[i][0]++
				got += u.size
				score += u.id + ubase
				c.buf = append(c.buf, c.buf[u.lo:u.hi]...)
			}
			if got < mb.Count.Min {
				c.buf = c.buf[:lo]
				return
			}
		}
		c.seq++
		c.cands = append(c.cands, tcand{lo: int32(lo), hi: int32(len(c.buf)), nf: nf, score: score, seq: c.seq})
	}
}
