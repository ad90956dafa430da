package match

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/convergesim/converge/policies/fluxion/graph"
	"github.com/convergesim/converge/policies/fluxion/jobspec"
	"github.com/convergesim/converge/policies/fluxion/planner"
)

// MatchOp is a match operation (flux-sched resource/policies/base/match_op.h;
// the values are those of match_op_t).
type MatchOp int

// Match operations.
const (
	// MatchAllocate allocates now or fails with ErrBusy.
	MatchAllocate MatchOp = 1
	// MatchAllocateWithSatisfiability allocates now; on failure it tells
	// ErrBusy (satisfiable later) from ErrUnsatisfiable.
	MatchAllocateWithSatisfiability MatchOp = 2
	// MatchAllocateOrElseReserve allocates now, or reserves at the
	// earliest candidate time; else ErrBusy or ErrUnsatisfiable.
	MatchAllocateOrElseReserve MatchOp = 3
	// MatchSatisfiability only checks satisfiability; nothing is recorded.
	MatchSatisfiability MatchOp = 4
	// MatchWithoutAllocating matches now and records nothing.
	MatchWithoutAllocating MatchOp = 5
	// MatchWithoutAllocatingFuture finds what allocate_orelse_reserve
	// would (now or the earliest reservation) and records nothing.
	MatchWithoutAllocatingFuture MatchOp = 6
)

func (op MatchOp) String() string {
	switch op {
	case MatchAllocate:
		return "allocate"
	case MatchAllocateWithSatisfiability:
		return "allocate_with_satisfiability"
	case MatchAllocateOrElseReserve:
		return "allocate_orelse_reserve"
	case MatchSatisfiability:
		return "satisfiability"
	case MatchWithoutAllocating:
		return "without_allocating"
	case MatchWithoutAllocatingFuture:
		return "without_allocating_future"
	}
	return fmt.Sprintf("MatchOp(%d)", int(op))
}

// Match outcomes other than success. Test with errors.Is; MatchErrno gives
// the errno reapi_cli_match would set.
var (
	// ErrBusy: the request cannot be met now (allocate), or no reservation
	// was found (EBUSY).
	ErrBusy = errors.New("fluxion: match: resources busy (EBUSY)")
	// ErrUnsatisfiable: the request cannot be met even when nothing is
	// allocated (ENODEV).
	ErrUnsatisfiable = errors.New("fluxion: match: unsatisfiable (ENODEV)")
	// ErrInvalid: bad arguments, options or jobspec (EINVAL).
	ErrInvalid = errors.New("fluxion: match: invalid argument (EINVAL)")
	// ErrNoJob: no allocation or reservation with that job id (ENOENT).
	ErrNoJob = errors.New("fluxion: match: no such job (ENOENT)")
	// ErrJobExists: UpdateAllocate for a job id that is allocated or
	// reserved (EEXIST, as reapi_cli_update_allocate).
	ErrJobExists = errors.New("fluxion: match: job exists (EEXIST)")
	// ErrUnsupported: a jobspec shape or option this model does not
	// implement (reported as EINVAL).
	ErrUnsupported = errors.New("fluxion: match: not supported by this model (EINVAL)")
)

// MatchErrno returns "EBUSY", "ENODEV", "EINVAL", "ENOENT" or "EEXIST"
// for an error of Match, Cancel, Info, UpdateAllocate or PartialCancel,
// or "" for nil or another error.
func MatchErrno(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrBusy):
		return "EBUSY"
	case errors.Is(err, ErrUnsatisfiable):
		return "ENODEV"
	case errors.Is(err, ErrInvalid), errors.Is(err, ErrUnsupported):
		return "EINVAL"
	case errors.Is(err, ErrNoJob):
		return "ENOENT"
	case errors.Is(err, ErrJobExists):
		return "EEXIST"
	}
	return ""
}

// Graph windows (resource/config/system_defaults.hpp).
const (
	// SystemDefaultDuration is detail::SYSTEM_DEFAULT_DURATION (12 h).
	SystemDefaultDuration int64 = 43200
	// SystemMaxDuration is detail::SYSTEM_MAX_DURATION (~100 years). When
	// no graph duration is given (reapi_cli never sets one),
	// resource_graph_metadata_t::set_graph_duration uses it.
	SystemMaxDuration int64 = 3153600000
)

// DefaultPruneFilters is the reapi_cli default since v0.43.
const DefaultPruneFilters = "ALL:core,ALL:node"

// xCheckerTotal is the size of each vertex's exclusivity planner: an
// exclusive use takes all of it, a shared use one unit (flux-sched's
// X_CHECKER_NJOBS plays the same role).
const xCheckerTotal int64 = 1 << 30

// MatcherOptions configure a Matcher.
type MatcherOptions struct {
	// Policy is a preset (low, high, lonode, hinode, lonodex, hinodex,
	// first, firstnodex, locality, variation) or an attribute string;
	// "" means "first".
	Policy string
	// PruneFilters is "HL:LL[,HL:LL...]": vertices of type HL (ALL: every
	// vertex with children) track the units of type LL below them. ""
	// means DefaultPruneFilters.
	PruneFilters string
	// GraphDuration is the planning window [0, GraphDuration) in seconds;
	// 0 means SystemMaxDuration (see there).
	GraphDuration int64
	// MatchFormat is the format of the R a Backend returns (reapi_cli's
	// match_format option): FormatRV1NoSched, FormatRV1 (RFC 20 R with the
	// scheduling JGF) or FormatJGF. "" keeps each backend's default: RFC
	// 20 R without scheduling (reported as FormatRV1) for the Go backend,
	// the cli's "jgf" for reapi. Other values are ErrInvalid.
	MatchFormat string
	// SkipHeldBelow leaves out the planner spans of the vertices below
	// a vertex an allocation takes exclusively (a node-exclusive job's
	// cores): while that vertex is held, no search looks below it (its
	// exclusivity planner refuses every use), so their spans change no
	// answer; the aggregates still count them. It saves most of the
	// work of booking and freeing whole nodes (a simulation of a
	// queue at scale). An allocation's Vertices then list, below such
	// a vertex, only the matched leaves and the vertices with children
	// (whose aggregates and, under first, edge weights it keeps exact),
	// so its R does not list every core of a whole node.
	// UpdateAllocate and PartialCancel, which read R vertex by vertex,
	// are refused under it.
	SkipHeldBelow bool
}

// Matcher is the model of Fluxion's DFU matcher over one graph: per
// vertex a Planner of its Size units and an exclusivity planner, and
// PlannerMulti prune-filter aggregates at the vertices the filters name
// (always at the root). Times are integer seconds in [0, GraphDuration).
// It is not safe for concurrent use. The graph's statuses may change
// between calls (Graph.SetStatus); its structure must not.
type Matcher struct {
	g        *graph.Graph
	pol      MatchPolicy
	window   int64
	filters  []pruneFilter
	aggTypes []string
	plans    []*planner.Planner      // v's unit planner, nil until first used (unitPlan)
	xplans   []*planner.Planner      // v's exclusivity checker, nil until first used (xPlan)
	agg      []*planner.PlannerMulti // nil where no filter applies
	// The root's pruning filter for the leaf types that are no filter's
	// type (gpu, memory, ...): Fluxion adds every such leaf type to the
	// pruning types of the cluster vertex while priming the filters
	// (prime_pruning_filter, dfu_impl.cpp:1244-1250), so a request for
	// more gpus than are free fails at the root, and a reservation's
	// start times skip the times when they are not free. nil if none
	// (or if the root is not of type cluster).
	leafTypes []string
	rootLeaf  *planner.PlannerMulti
	belowLeaf []int64 // SkipHeldBelow: units of each leaf type below each vertex
	curLeaf   []int64 // the current match's units of each leaf type (MatchWithJobID)
	curNodes  int64   // the current match's node count (MatchWithJobID)
	curHosts  int64   // the fewest nodes its top-level slots need (slotNodes)
	// aggK and weightK are, per vertex, the index in aggTypes of its type
	// and of the type weighing the edge into it (weightType); -1 if none.
	aggK, weightK []int32
	// vType, vPar and vSize are each vertex's type (its index in
	// g.Types()), parent and Size; modIx is build's scratch.
	vType []int32
	vPar  []graph.VertexID
	vSize []int64
	modIx []bool
	// stateBuf and pathBuf are build's scratch.
	stateBuf, pathBuf []graph.VertexID
	// maxNodeCores is the most cores below one node, 0 if a core lies
	// outside every node (slotNodes), once nodeCoresKnown.
	maxNodeCores   int64
	nodeCoresKnown bool
	// nodeParent: the one parent of the vertices of type node, or
	// NoVertex (nodesFree), once nodeParentKnown.
	nodeParent      graph.VertexID
	nodeParentKnown bool
	weights         []uint64 // by_outedges weight of the edge into each vertex
	// wEpoch counts the changes of weights (WeightEpoch).
	wEpoch uint64
	live   []int32 // live spans on plans[v] and xplans[v] (commit, Cancel)
	// aggLive counts the spans on agg[v], so that pruned reads an
	// aggregate without spans from below (dense) rather than from its
	// planner (a pointer chase a vertex).
	aggLive []int32
	// pLive counts the spans on plans[v] and xplans[v] alone (live also
	// counts whole and full spans), so that usable knows both planners
	// empty without reading them.
	pLive []int32
	until []int64 // no span on plans[v], xplans[v] ends after until[v] (0 when live[v] is 0)
	// [xLo[v], xHi[v]) is the time of one live exclusive span on v (its
	// x checker wholly used then), so a search asking for any time in
	// it knows v busy without its planners; xLo == xHi when none.
	xLo, xHi []int64
	// xExcl counts the live exclusive spans on each vertex's
	// exclusivity planner: with none, it lets any shared use (shared
	// spans take one of its 2^30 units).
	xExcl []int32
	// skips are the skip indexes of vertices with many children (see
	// skipIdx), skipPos each indexed child's position in its parent's.
	skips   map[graph.VertexID]*skipIdx
	skipPos []int32
	// omit (SkipHeldBelow): the spans [start, end) during which an
	// allocation holds v and its whole subtree exclusively, booked on
	// v's exclusivity planner alone: v's unit planner and its own
	// aggregate, which a search reads only once that planner lets it
	// use v, get nothing (see addSpans); updateWeights reads them here.
	omit [][][2]int64
	// full: the spans [start, end) of v's aggregate that use all of it
	// (every type it counts), by start; [fLo[v], fHi[v]) their first run
	// (the skip index's f tree). Made on first use.
	full     [][][2]int64
	fLo, fHi []int64
	// leafDefer: addSpans' scratch (leaves booked after the aggregates).
	leafDefer []AllocVertex
	// flatOf: see flat; sortKeys: sortPre's scratch.
	flatOf   []bool
	sortKeys []uint64
	// heldMark is addSpans' scratch (SkipHeldBelow): the exclusive
	// vertices of the allocation being booked; all false between calls.
	heldMark []bool

	excl     map[string]bool        // exclusive types (node under *nodex)
	jobs     map[uint64]*matchJob   // live allocations and reservations
	gone     map[uint64]*Allocation // cancelled jobs, for Info
	counter  uint64                 // next id Match hands out
	format   string                 // MatcherOptions.MatchFormat
	skipHeld bool                   // MatcherOptions.SkipHeldBelow
	below    []int64                // SkipHeldBelow: units of each aggregate type strictly below each vertex (by vertex × aggTypes)

	// Scratch, allocated on first use and never shared by clones.
	tc   *tctx   // the traverser's buffers
	mark []uint8 // build: per-vertex state, all zero between calls
	// first: kids[v] are v's children in by_outedges order, up to date
	// when kidsOK[v] (else in the order of earlier weights: see
	// sortedChildren); wDirty[c]: c's weight changed since its parent's
	// children were last sorted. Only the parents a search visits get an
	// order.
	kids   [][]graph.VertexID // by vertex; nil: not sorted yet
	kidsOK []bool
	// byNode (traverse.go): the node vertices by ascending id, and the
	// types whose every vertex has a node above it; built on first use
	// (nodeOrder), nodeSeq nil if node ids repeat.
	// addSpans' scratch: cntOf[v]-1 is v's row in cnt (0: none), cntVs
	// the vertices with a row, in order of first use.
	cntOf     []int32
	slab      []planner.Planner // newPlan's block, never shared by clones
	cnt       []int64
	cntVs     []graph.VertexID
	nodeSeq   []graph.VertexID
	underNode map[string]bool
	nodeDone  bool
	walkOnly  bool // tests: never byNode, always the walk from the root
	visitAll  bool // tests: no skip index, every child visited
	wDirty    []bool
	kidsTmp   []graph.VertexID
}

type pruneFilter struct{ hl, ll string }

type matchJob struct {
	alloc *Allocation
	spans []matchSpan
}

type matchSpan struct {
	kind uint8 // 0 unit planner, 1 x planner, 2 aggregate, 3 the root's leaf types (rootLeaf), 4 whole (omit), 5 full (full); 4, 5: id is the start
	v    graph.VertexID
	id   planner.SpanID
}

// Allocation is the result of a successful match.
type Allocation struct {
	JobID    uint64
	Reserved bool  // true if At is in the future (allocate_orelse_reserve)
	Canceled bool  // set by Cancel
	At       int64 // start time
	Duration int64 // seconds; the span is [At, At+Duration)
	// Vertices are the resources Fluxion emits in R, in pre-order: the
	// vertices the jobspec matched, and the whole subtrees of exclusive
	// vertices whose type is exclusive for the match (node under the
	// *nodex policies, and every type the jobspec marks exclusive: true).
	// Fluxion's update walks only the edges the match selected, except
	// below a vertex of an exclusive type, where it takes (and emits)
	// everything (dfu_impl_update.cpp:299-304 modify_traversal, 335-355
	// upd_dfv; the jobspec's types join the exclusive set in
	// prime_jobspec, dfu_impl.cpp:1300-1305). So a node taken whole
	// inside a slot (slot>node>core:1) emits only its matched core.
	Vertices []AllocVertex
	// Path are the ancestors of Vertices that are not themselves
	// allocated (shared, e.g. the cluster), in pre-order.
	Path []graph.VertexID

	// held are the vertices below exclusive Vertices that R does not
	// list (in pre-order): the matcher books them too, so that what an
	// exclusive vertex makes unavailable does not depend on what R
	// shows.
	held []AllocVertex

	g *graph.Graph
}

// AllocVertex is one allocated vertex.
type AllocVertex struct {
	ID        graph.VertexID
	Exclusive bool
	Units     int64 // units taken from the vertex's planner (Size if exclusive, else 0)
	// whole: exclusive, of a type the match takes whole (Matcher.build's
	// mod), so R lists its whole subtree.
	whole bool
}

// NewMatcher builds a matcher over g.
func NewMatcher(g *graph.Graph, opt MatcherOptions) (*Matcher, error) {
	if g == nil {
		return nil, fmt.Errorf("%w: nil graph", ErrInvalid)
	}
	pol, err := ParseMatchPolicy(opt.Policy)
	if err != nil {
		return nil, err
	}
	window := opt.GraphDuration
	if window == 0 {
		window = SystemMaxDuration
	}
	if window < 0 || window > SystemMaxDuration {
		return nil, fmt.Errorf("%w: graph duration %d, must be in [1, %d]", ErrInvalid, window, SystemMaxDuration)
	}
	if err := CheckMatchFormat(opt.MatchFormat); err != nil {
		return nil, err
	}
	pf := opt.PruneFilters
	if pf == "" {
		pf = DefaultPruneFilters
	}
	m := &Matcher{format: opt.MatchFormat, skipHeld: opt.SkipHeldBelow, g: g, pol: pol, window: window, counter: 1,
		jobs: map[uint64]*matchJob{}, gone: map[uint64]*Allocation{}, excl: map[string]bool{}}
	if pol.NodeExclusive {
		m.excl["node"] = true
	}
	for _, f := range strings.Split(pf, ",") {
		hl, ll, ok := strings.Cut(strings.TrimSpace(f), ":")
		if !ok || hl == "" || ll == "" {
			return nil, fmt.Errorf("%w: prune filter %s, want HL:LL", ErrInvalid, mquoted(f))
		}
		m.filters = append(m.filters, pruneFilter{hl, ll})
		if !slices.Contains(m.aggTypes, ll) {
			m.aggTypes = append(m.aggTypes, ll)
		}
	}
	n := g.Len()
	m.plans = make([]*planner.Planner, n)
	m.xplans = make([]*planner.Planner, n)
	m.agg = make([]*planner.PlannerMulti, n)
	m.weights = make([]uint64, n)
	m.live = make([]int32, n)
	m.aggLive = make([]int32, n)
	m.pLive = make([]int32, n)
	m.until = make([]int64, n)
	m.xLo = make([]int64, n)
	m.xExcl = make([]int32, n)
	m.xHi = make([]int64, n)
	for i := range n {
		// Each vertex's planners are made on first use (unitPlan,
		// xPlan): until then the vertex is wholly free, which is all a
		// fresh planner would say.
		if v := &g.Vertices[i]; v.Size < 0 {
			return nil, fmt.Errorf("fluxion: matcher: vertex %s: %w: total %d < 0", v.Path, planner.ErrPlannerArgs, v.Size)
		}
		m.weights[i] = math.MaxUint64
	}
	// Aggregates: units of each tracked type strictly below each vertex.
	// One row of len(aggTypes) per vertex (kept as m.below under
	// SkipHeldBelow).
	nt := len(m.aggTypes)
	totals := make([]int64, n*nt)
	row := func(v graph.VertexID) []int64 { return totals[int(v)*nt : int(v+1)*nt : int(v+1)*nt] }
	pre := g.PreOrder()
	for i := len(pre) - 1; i >= 0; i-- {
		v := pre[i]
		t := row(v)
		for _, c := range g.Children(v) {
			for k, u := range row(c) {
				t[k] += u
			}
			if k := slices.Index(m.aggTypes, g.Vertices[c].Type); k >= 0 {
				t[k] += g.Vertices[c].Size
			}
		}
		if !m.wantsAgg(v) {
			continue
		}
		if m.agg[v], err = planner.NewPlannerMulti(0, window, t, m.aggTypes); err != nil {
			return nil, fmt.Errorf("fluxion: matcher: vertex %s: %w", g.Vertices[v].Path, err)
		}
	}
	if m.skipHeld {
		m.below = totals
	}
	// Per vertex, in arrays the hot loops read without loading the
	// vertex: its type's index in g.Types(), its parent and its size.
	m.vType, m.vPar, m.vSize = make([]int32, n), make([]graph.VertexID, n), make([]int64, n)
	for i := range n {
		v := &g.Vertices[i]
		t, _ := slices.BinarySearch(g.Types(), v.Type)
		m.vType[i], m.vPar[i], m.vSize[i] = int32(t), v.Parent, v.Size
	}
	// Per vertex, the index in aggTypes of its type and of the type
	// that weighs the edge into it under first (weightType), -1 if none.
	m.aggK, m.weightK = make([]int32, n), make([]int32, n)
	kOf, wOf := map[string]int32{}, map[string]int32{}
	for i := range n {
		typ := g.Vertices[i].Type
		k, ok := kOf[typ]
		if !ok {
			k, wOf[typ] = int32(slices.Index(m.aggTypes, typ)), int32(m.weightType(typ))
			kOf[typ] = k
		}
		m.aggK[i], m.weightK[i] = k, wOf[typ]
	}
	if err := m.primeLeafTypes(); err != nil {
		return nil, err
	}
	return m, nil
}

// nodeOrder builds (once) and returns nodeSeq, with underNode.
func (m *Matcher) nodeOrder() []graph.VertexID {
	if m.nodeDone {
		return m.nodeSeq
	}
	m.nodeDone = true
	g := m.g
	nodes := slices.Clone(g.OfType("node"))
	if len(nodes) == 0 {
		return nil
	}
	slices.SortStableFunc(nodes, func(a, b graph.VertexID) int { return cmp.Compare(g.Vertices[a].ID, g.Vertices[b].ID) })
	for i := 1; i < len(nodes); i++ {
		if g.Vertices[nodes[i]].ID == g.Vertices[nodes[i-1]].ID {
			return nil
		}
	}
	m.underNode = map[string]bool{}
	other := map[string]bool{} // types with a vertex outside every node's subtree
	var walk func(v graph.VertexID, in bool)
	walk = func(v graph.VertexID, in bool) {
		t := g.Vertices[v].Type
		if in {
			m.underNode[t] = true
		} else {
			other[t] = true
		}
		in = in || t == "node"
		for _, ch := range g.Children(v) {
			walk(ch, in)
		}
	}
	walk(g.Root, false)
	for t := range other {
		delete(m.underNode, t)
	}
	m.nodeSeq = nodes
	return nodes
}

// primeLeafTypes sets up rootLeaf: the types of the leaf vertices that
// are no filter's type, in the order a depth-first walk meets them, with
// their total units.
func (m *Matcher) primeLeafTypes() error {
	g := m.g
	if g.Vertices[g.Root].Type != "cluster" {
		return nil
	}
	var totals []int64
	for _, v := range g.PreOrder() {
		vx := &g.Vertices[v]
		if len(g.Children(v)) > 0 || slices.Contains(m.aggTypes, vx.Type) {
			continue
		}
		k := slices.Index(m.leafTypes, vx.Type)
		if k < 0 {
			m.leafTypes = append(m.leafTypes, vx.Type)
			totals = append(totals, 0)
			k = len(totals) - 1
		}
		totals[k] += vx.Size
	}
	if len(m.leafTypes) == 0 {
		return nil
	}
	var err error
	if m.rootLeaf, err = planner.NewPlannerMulti(0, m.window, totals, m.leafTypes); err != nil {
		return fmt.Errorf("fluxion: matcher: %s: %w", g.Vertices[g.Root].Path, err)
	}
	if m.skipHeld {
		k := len(m.leafTypes)
		m.belowLeaf = make([]int64, g.Len()*k)
		pre := g.PreOrder()
		for i := len(pre) - 1; i >= 0; i-- {
			v := pre[i]
			row := m.belowLeaf[int(v)*k : int(v+1)*k]
			for _, c := range g.Children(v) {
				for j, u := range m.belowLeaf[int(c)*k : int(c+1)*k] {
					row[j] += u
				}
				if j := slices.Index(m.leafTypes, g.Vertices[c].Type); j >= 0 && len(g.Children(c)) == 0 {
					row[j] += g.Vertices[c].Size
				}
			}
		}
	}
	return nil
}

// leafNeed returns, from a jobspec's Totals, its units of each of
// m.leafTypes (nil if there are none, or the jobspec asks for none).
func (m *Matcher) leafNeed(tot map[string]int64) []int64 {
	if m.rootLeaf == nil {
		return nil
	}
	var need []int64
	for i, t := range m.leafTypes {
		if n := tot[t]; n > 0 {
			if need == nil {
				need = make([]int64, len(m.leafTypes))
			}
			need[i] = n
		}
	}
	return need
}

// leafFree reports whether the root's leaf-type filter has need free
// throughout [at, at+d) (true if need is nil).
func (m *Matcher) leafFree(need []int64, at, d int64) bool {
	if need == nil {
		return true
	}
	return m.rootLeaf.Available(at, d, need)
}

// slotNodes returns the fewest nodes a top-level slot request r can be
// met on: a node holds at most maxNodeCores ÷ (the cores of a slot) of
// its slots, whatever the slot's host below it. 0 when the bound does not
// apply: a slot without cores of its own, or cores outside every node.
func (m *Matcher) slotNodes(r *jobspec.Resource) int64 {
	var per int64
	for _, w := range r.With {
		if w.Type == "core" {
			per = w.Count.Min
		}
	}
	if !m.nodeCoresKnown {
		m.nodeCoresKnown = true
		by := map[graph.VertexID]int64{}
		for _, v := range m.g.OfType("core") {
			n := m.g.Ancestor(v, "node")
			if n == graph.NoVertex {
				by = nil
				break
			}
			by[n] += m.g.Vertices[v].Size
		}
		for _, k := range by {
			m.maxNodeCores = max(m.maxNodeCores, k)
		}
	}
	if per < 1 || m.maxNodeCores < per {
		return 0
	}
	each := m.maxNodeCores / per
	return (r.Count.Min + each - 1) / each
}

// nodesFree reports whether at least k vertices of type node may be free
// during [at, at+d) (true when no vertex was booked whole, or used whole
// when full). Free is free of exclusive spans: a match of k top-level
// nodes uses k distinct ones, each of which usable lets through, and
// usable refuses a vertex that an exclusive span holds then (heldExcl),
// whatever the request; fewer such nodes than k and the search can only
// fail. With full, free is also free of full spans, for slots of cores
// (slotNodes): pruned refuses a node all of whose cores are used at some
// time then, and so does it the hosts below it. Through a skip index the
// count reads one interval a node, so it may take in nodes that are not
// free and let through a search that then fails, never the other way
// round.
func (c *tctx) nodesFree(k, at, d int64, full bool) bool {
	m := c.m
	if m.omit == nil && (!full || m.full == nil) {
		return true
	}
	nodes := m.g.OfType("node")
	if len(nodes) == 0 {
		return true
	}
	kind := 0 // which of c.noNodes counts a refusal
	if full {
		kind = 1
	}
	if !m.nodeParentKnown {
		m.nodeParent, m.nodeParentKnown = m.vPar[nodes[0]], true
		for _, v := range nodes {
			if m.g.Vertices[v].Parent != m.nodeParent {
				m.nodeParent = graph.NoVertex
				break
			}
		}
	}
	end := at + d
	if p := m.nodeParent; p != graph.NoVertex {
		// Every node is a child of p: its skip index passes the held
		// ones (its other children, if any, only add to the count).
		kids := c.children(p)
		if ix := m.skipper(p, kids); ix != nil {
			t := &ix.x
			if full {
				t = &ix.f
			}
			for i, n := 0, len(kids); ; i++ {
				if i = t.next(i, n, at, end); i >= n {
					c.noNodes[kind][0]++
					return false
				}
				if k--; k <= 0 {
					return true
				}
			}
		}
	}
	for _, v := range nodes {
		if !m.heldExcl(v, at, end) && !(full && m.fullOverlaps(v, at, end)) {
			if k--; k <= 0 {
				return true
			}
		}
	}
	c.noNodes[kind][1]++
	return false
}

// heldExcl reports whether an exclusive span holds v during [at, end):
// its known one, or one booking it whole.
func (m *Matcher) heldExcl(v graph.VertexID, at, end int64) bool {
	return at < m.xHi[v] && end > m.xLo[v] || m.omit != nil && ivOverlaps(m.omit[v], at, end)
}

// unitPlan returns v's planner of its Size units (flux-sched's
// schedule.plans), made on first use.
func (m *Matcher) unitPlan(v graph.VertexID) *planner.Planner {
	if p := m.plans[v]; p != nil {
		return p
	}
	return m.newPlan(m.plans, v, m.g.Vertices[v].Size)
}

// xPlan returns v's exclusivity checker (flux-sched's idata.x_checker, of
// xCheckerTotal units), made on first use.
func (m *Matcher) xPlan(v graph.VertexID) *planner.Planner {
	if p := m.xplans[v]; p != nil {
		return p
	}
	return m.newPlan(m.xplans, v, xCheckerTotal)
}

// newPlan makes v's planner of total units and records it in ps[v]. The
// planners of a graph are many, small and as long-lived as the matcher,
// so they come from blocks of planSlab.
func (m *Matcher) newPlan(ps []*planner.Planner, v graph.VertexID, total int64) *planner.Planner {
	if len(m.slab) == 0 {
		m.slab = make([]planner.Planner, planSlab)
	}
	p := &m.slab[0]
	m.slab = m.slab[1:]
	vx := &m.g.Vertices[v]
	if err := p.Init(0, m.window, total, vx.Type); err != nil {
		// NewMatcher checked the window and every Size.
		panic(fmt.Sprintf("fluxion: matcher: vertex %s: %v", vx.Path, err))
	}
	ps[v] = p
	return p
}

const planSlab = 256

func (m *Matcher) wantsAgg(v graph.VertexID) bool {
	if v == m.g.Root {
		return true
	}
	if len(m.g.Children(v)) == 0 {
		return false
	}
	for _, f := range m.filters {
		if f.hl == "ALL" || f.hl == m.g.Vertices[v].Type {
			return true
		}
	}
	return false
}

// Graph returns the matcher's graph.
func (m *Matcher) Graph() *graph.Graph { return m.g }

// Policy returns the parsed match policy.
func (m *Matcher) Policy() MatchPolicy { return m.pol }

// GraphDuration returns the planning window length.
func (m *Matcher) GraphDuration() int64 { return m.window }

// MatchFormat returns MatcherOptions.MatchFormat: the format Allocation.R
// writes for a Backend ("" for the default R).
func (m *Matcher) MatchFormat() string { return m.format }

// NextJobID returns the id the next allocating Match hands out (the job
// counter, which starts at 1).
func (m *Matcher) NextJobID() uint64 { return m.counter }

// Match runs op for js at time now and, for the allocating ops, records
// the allocation or reservation under the next job id of an internal
// counter. As in reapi_cli_match, the counter starts at 1 and moves on
// after the allocating ops (allocate, allocate_with_satisfiability,
// allocate_orelse_reserve), whether the match succeeded or not (EINVAL
// excepted), but not after MatchSatisfiability, MatchWithoutAllocating or
// MatchWithoutAllocatingFuture (reapi_cli_impl.hpp:209-212). The two
// without_allocating ops run under job id math.MaxUint64, which their
// Allocation carries: reapi_cli_match passes seq = -1 for them
// (reapi_cli.cpp:216-218). MatchSatisfiability returns (nil, nil) when
// the request is satisfiable.
func (m *Matcher) Match(op MatchOp, js *jobspec.Jobspec, now int64) (*Allocation, error) {
	id := m.counter
	if op == MatchWithoutAllocating || op == MatchWithoutAllocatingFuture {
		id = math.MaxUint64
	}
	a, err := m.MatchWithJobID(op, js, now, id)
	if matchOpAllocates(op) && (err == nil || errors.Is(err, ErrBusy) || errors.Is(err, ErrUnsatisfiable)) {
		m.counter++
	}
	return a, err
}

// errNotNow is the EBUSY of a request that cannot be met now (one value:
// a queue refuses many).
var errNotNow = fmt.Errorf("%w: not now", ErrBusy)

// matchOpAllocates reports whether op records the job it matches: the
// ops after which reapi_cli's job counter moves on.
func matchOpAllocates(op MatchOp) bool {
	return op == MatchAllocate || op == MatchAllocateWithSatisfiability || op == MatchAllocateOrElseReserve
}

// MatchWithJobID is Match with a caller-chosen job id
// (reapi_cli_match_with_jobid); do not mix it with Match, whose counter
// does not skip ids chosen here. An id in use (allocated, reserved or
// cancelled) is ErrInvalid.
func (m *Matcher) MatchWithJobID(op MatchOp, js *jobspec.Jobspec, now int64, jobID uint64) (*Allocation, error) {
	if op < MatchAllocate || op > MatchWithoutAllocatingFuture {
		return nil, fmt.Errorf("%w: unknown match op %d", ErrInvalid, int(op))
	}
	if js == nil || len(js.Resources) == 0 {
		return nil, fmt.Errorf("%w: empty jobspec", ErrInvalid)
	}
	if _, dup := m.jobs[jobID]; dup || m.gone[jobID] != nil {
		return nil, fmt.Errorf("%w: job id %d in use", ErrInvalid, jobID)
	}
	if now < 0 || now >= m.window {
		return nil, fmt.Errorf("%w: now %d outside the graph window [0, %d)", ErrInvalid, now, m.window)
	}
	dur := js.DurationSeconds
	if dur == 0 {
		dur = m.window
	}
	if dur > m.window {
		return nil, fmt.Errorf("%w: duration %d s exceeds the graph duration %d s", ErrInvalid, dur, m.window)
	}
	if len(js.Resources) > 1 {
		// Top-level resources are searched independently against the same
		// state and could pick overlapping vertices.
		return nil, fmt.Errorf("%w: resources: %d top-level resources (one node, slot or other top-level resource is modelled)", ErrUnsupported, len(js.Resources))
	}
	if err := checkSupported(js.Resources, "resources"); err != nil {
		return nil, err
	}
	if js.Constraints != nil {
		return nil, fmt.Errorf("%w: attributes.system.constraints are not modelled", ErrUnsupported)
	}
	tot := js.Totals()
	need := m.aggRequest(tot)
	m.curLeaf = m.leafNeed(tot)
	switch r := js.Resources[0]; r.Type {
	case "node":
		m.curNodes = tot["node"] // that many distinct nodes (nodesFree)
	case "slot":
		m.curHosts = m.slotNodes(r)
	}
	defer func() { m.curLeaf, m.curNodes, m.curHosts = nil, 0, 0 }()
	// request_feasible (dfu.cpp:63-92): more nodes asked than are up
	// fails early. dfu_traverser_t::schedule runs it (dfu.cpp:161), the
	// satisfiability op does not (run calls is_satisfiable directly,
	// dfu.cpp:408-409), so that op ignores down nodes altogether.
	if want := tot["node"]; op != MatchSatisfiability && want > 0 && want > int64(m.g.CountAvailable("node")) {
		if op == MatchAllocateWithSatisfiability {
			return nil, fmt.Errorf("%w: %d nodes requested, %d up", ErrUnsatisfiable, want, m.g.CountAvailable("node"))
		}
		return nil, fmt.Errorf("%w: %d nodes requested, %d up", ErrBusy, want, m.g.CountAvailable("node"))
	}
	if op == MatchSatisfiability {
		if m.satisfiable(js) {
			return nil, nil
		}
		return nil, fmt.Errorf("%w: request cannot be met on the empty graph", ErrUnsatisfiable)
	}
	d := min(dur, m.window-now)
	mod := m.modTypes(js)
	if items, ok := m.search(js, now, d, false); ok {
		a := m.build(items, mod, jobID, now, d, false)
		if !a.holds() {
			return nil, m.noUpdate(js, now, d, true)
		}
		if op != MatchWithoutAllocating && op != MatchWithoutAllocatingFuture {
			m.commit(a, now)
		}
		return a, nil
	}
	switch op {
	case MatchAllocateWithSatisfiability:
		if m.satisfiable(js) {
			return nil, errNotNow
		}
		return nil, fmt.Errorf("%w: request cannot be met on the empty graph", ErrUnsatisfiable)
	case MatchAllocateOrElseReserve, MatchWithoutAllocatingFuture:
		root := m.agg[m.g.Root]
		if now+1 < m.window {
			for t, ok := root.AvailTimeFirst(now+1, dur, need); ok; t, ok = root.AvailTimeNext() {
				if !m.leafFree(m.curLeaf, t, dur) {
					// Not a start time of the root's whole filter:
					// the leaf types are not free then.
					continue
				}
				if items, ok := m.search(js, t, dur, false); ok {
					// without_allocating_future reports reserved = false
					// even at t > now (reapi_cli_impl.hpp:185-188).
					a := m.build(items, mod, jobID, t, dur, op == MatchAllocateOrElseReserve)
					if !a.holds() {
						return nil, m.noUpdate(js, t, dur, false)
					}
					if op == MatchAllocateOrElseReserve {
						m.commit(a, now)
					}
					return a, nil
				}
			}
		}
		if m.satisfiable(js) {
			return nil, fmt.Errorf("%w: no reservation found", ErrBusy)
		}
		return nil, fmt.Errorf("%w: request cannot be met on the empty graph", ErrUnsatisfiable)
	}
	return nil, errNotNow
}

// satisfiable reports whether js could be met once every job has
// ended, ignoring up/down status, as Fluxion's satisfiability check does.
// Fluxion matches at meta.at = planner_multi_base_time + planner_multi_duration
// − d − 1 of the root's aggregate planner (dfu.cpp is_satisfiable and the
// W_SATISFIABILITY / ORELSE_RESERVE fallbacks, dfu.cpp:178, 223), and
// that planner spans the root vertex planner's [0, INT64_MAX)
// (dfu_impl_t::subtree_plan, dfu_impl.cpp:295-302; every reader creates
// its planners with planner_new (0, INT64_MAX, …), e.g.
// resource_reader_jgf.cpp:460), not the graph window, which only bounds
// the jobs (a duration-0 job ends at the graph end; dfu.cpp run clips
// every job to it). The flux resource module's expiration moves
// graph_end only (resource_match.cpp:272-279), not the planners. So by
// then every job, even one of duration 0, has ended.
func (m *Matcher) satisfiable(js *jobspec.Jobspec) bool {
	_, ok := m.search(js, m.window-1, 1, true)
	return ok
}

// aggRequest is the root aggregate request: the jobspec's total units of
// each tracked type, from its Totals (count_relevant_types over
// prime_jobspec's counts).
func (m *Matcher) aggRequest(tot map[string]int64) []int64 {
	out := make([]int64, len(m.aggTypes))
	for i, t := range m.aggTypes {
		out[i] = tot[t]
	}
	return out
}

// checkSupported refuses shapes the traverser does not model: two
// siblings of one type (Fluxion fails those too) and the RFC 14 id key.
func checkSupported(rs []*jobspec.Resource, path string) error {
	var at [8]int
	return checkSupportedAt(rs, path, at[:0])
}

// checkSupportedAt checks rs, the resources below the indexes at (of
// each level's with) under path. The path of an error is built only for
// the error: the check runs at every match.
func checkSupportedAt(rs []*jobspec.Resource, path string, at []int) error {
	where := func() string {
		for _, i := range at {
			path += fmt.Sprintf("[%d].with", i)
		}
		return path
	}
	for i, r := range rs {
		for _, s := range rs[:i] {
			if s.Type == r.Type {
				return fmt.Errorf("%w: %s: two sibling resources of type %q", ErrUnsupported, where(), r.Type)
			}
		}
		if r.ID != "" {
			return fmt.Errorf("%w: %s[%d]: id sets are not modelled", ErrUnsupported, where(), i)
		}
		if err := checkSupportedAt(r.With, path, append(at, i)); err != nil {
			return err
		}
	}
	return nil
}

// ErrNoUpdate: the match found resources but holds none of them
// exclusively, so Fluxion's update allocates nothing and fails. Fluxion
// books and emits only exclusive vertices and their ancestors, and its
// update fails when it reached none (upd_plan counts the exclusive
// vertices, dfu_impl_update.cpp:164-165; update returns -1 when the
// count is 0, :875-890), without setting errno: the cli returns -1
// with whatever errno the traversal left, EBUSY if it met a busy or
// mismatching vertex on its way, else none, and moves its job counter
// on only in the EBUSY case (reapi_cli_impl.hpp:152-162, 209-212). The
// model returns ErrNoUpdate alone (MatchErrno "", counter kept) or
// wrapped with ErrBusy, as it finds the traversal would have set errno
// (Matcher.noUpdate). Nothing is booked. This is the fate of a jobspec
// without a slot or exclusive vertex (node>core) and of slots that land
// on hosts below the matched vertex (tctx.hostsBelow: node>slot>core on
// nodes with sockets). Satisfiability runs no update, so such requests
// are satisfiable.
var ErrNoUpdate = errors.New("fluxion: match: the match holds nothing exclusively (no slot, or slots below a vertex the request did not select), so Fluxion's update allocates nothing")

// holds reports whether a holds a vertex exclusively.
func (a *Allocation) holds() bool {
	for _, av := range a.Vertices {
		if av.Exclusive {
			return true
		}
	}
	return false
}

// noUpdate is the error of a match at [at, at+d) that found resources
// but holds nothing (ErrNoUpdate): with ErrBusy if an earlier search of
// the op failed (first false) or this search meets what sets errno to
// EBUSY in Fluxion's traversal (tctx.trace).
func (m *Matcher) noUpdate(js *jobspec.Jobspec, at, d int64, first bool) error {
	busy := !first
	if !busy {
		c := m.tc
		c.trace, c.busy = true, false
		m.search(js, at, d, false)
		busy = c.busy
		c.trace, c.busy = false, false
	}
	if busy {
		return fmt.Errorf("%w: %w", ErrBusy, ErrNoUpdate)
	}
	return ErrNoUpdate
}

// modTypes returns the types whose vertices the match takes and emits
// whole (Fluxion's modify_traversal): the policy's exclusive types and
// the types the jobspec marks exclusive: true (prime_jobspec,
// dfu_impl.cpp:1300-1305). nil when there are none.
func (m *Matcher) modTypes(js *jobspec.Jobspec) map[string]bool {
	var out map[string]bool
	var walk func(rs []*jobspec.Resource)
	walk = func(rs []*jobspec.Resource) {
		for _, r := range rs {
			if r.ExclusiveSet && r.Exclusive && r.Type != "slot" {
				if out == nil {
					out = maps.Clone(m.excl)
				}
				out[r.Type] = true
			}
			walk(r.With)
		}
	}
	walk(js.Resources)
	if out == nil && len(m.excl) > 0 {
		return m.excl
	}
	return out
}

// build turns the traverser's picks into an Allocation: exclusive types
// on the path become exclusive; exclusive vertices of a type in mod take
// their subtrees into Vertices, other exclusive vertices into held.
func (m *Matcher) build(items []titem, mod map[string]bool, jobID uint64, at, d int64, reserved bool) *Allocation {
	g := m.g
	// mark: 0 untouched, markShared / markExcl in the allocation, markPath
	// an unallocated ancestor. Reset to 0 before returning.
	const (
		markShared uint8 = 1 + iota
		markExcl
		markPath
		markHeld
	)
	if m.mark == nil {
		m.mark = make([]uint8, g.Len())
	}
	mark := m.mark
	state := m.stateBuf[:0] // vertices in the allocation, in order of marking
	defer func() { m.stateBuf = state[:0] }()
	set := func(v graph.VertexID, x bool) {
		if mark[v] == 0 {
			mark[v] = markShared
			state = append(state, v)
		}
		if x {
			mark[v] = markExcl
		}
	}
	for _, it := range items {
		if it.ghost {
			continue // the update does not reach it (tctx.hostsBelow)
		}
		set(it.v, it.excl)
		if len(m.excl) > 0 {
			for p := g.Vertices[it.v].Parent; p != graph.NoVertex; p = g.Vertices[p].Parent {
				if m.excl[g.Vertices[p].Type] {
					set(p, true)
				}
			}
		}
	}
	// Exclusive vertices of a mod type take (and emit) their subtrees.
	// The vertices this adds lie in subtrees already taken whole and
	// need no walk of their own.
	// By type index (vType): whether a vertex's type is a mod type.
	modIx := m.modIx[:0]
	for _, t := range g.Types() {
		modIx = append(modIx, mod[t])
	}
	m.modIx = modIx
	isMod := func(v graph.VertexID) bool { return modIx[m.vType[v]] }
	for _, v := range state[:len(state):len(state)] {
		if mark[v] != markExcl || !isMod(v) || (m.skipHeld && m.flat(v)) {
			continue
		}
		for _, u := range g.Subtree(v)[1:] {
			if m.skipHeld && len(g.Children(u)) == 0 {
				continue // SkipHeldBelow: counted through below[v]
			}
			set(u, true)
		}
	}
	// Other exclusive vertices hold the rest of their subtrees unlisted.
	var held []graph.VertexID
	for _, v := range state {
		if mark[v] != markExcl || isMod(v) || len(g.Children(v)) == 0 || (m.skipHeld && m.flat(v)) {
			continue
		}
		for _, u := range g.Subtree(v)[1:] {
			if m.skipHeld && len(g.Children(u)) == 0 {
				continue // SkipHeldBelow: counted through below[v]
			}
			if mark[u] == 0 {
				mark[u] = markHeld
				held = append(held, u)
			}
		}
	}
	path := m.pathBuf[:0]
	defer func() { m.pathBuf = path[:0] }()
	for _, v := range state {
		for p := m.vPar[v]; p != graph.NoVertex; p = m.vPar[p] {
			if mark[p] == markPath {
				break // its ancestors are done
			}
			if mark[p] == 0 {
				mark[p] = markPath
				path = append(path, p)
			}
		}
	}
	pos := g.PreOrderPos()
	byPos := func(a, b graph.VertexID) int { return cmp.Compare(pos[a], pos[b]) }
	m.sortPre(state)
	slices.SortFunc(path, byPos)
	a := &Allocation{JobID: jobID, Reserved: reserved, At: at, Duration: d, g: g}
	if len(state) > 0 {
		a.Vertices = make([]AllocVertex, len(state))
	}
	for i, v := range state {
		av := AllocVertex{ID: v, Exclusive: mark[v] == markExcl}
		if av.Exclusive {
			av.Units = m.vSize[v]
			av.whole = isMod(v)
		}
		a.Vertices[i] = av
		mark[v] = 0
	}
	for _, v := range path {
		mark[v] = 0
	}
	if len(path) > 0 {
		a.Path = slices.Clone(path)
	}
	if len(held) > 0 {
		slices.SortFunc(held, byPos)
		a.held = make([]AllocVertex, len(held))
		for i, v := range held {
			a.held[i] = AllocVertex{ID: v, Exclusive: true, Units: g.Vertices[v].Size}
			mark[v] = 0
		}
	}
	return a
}

// flat reports whether no vertex below v has children (under
// SkipHeldBelow, whose booking of a vertex held whole then lists nothing
// below it), from a table made on first use.
func (m *Matcher) flat(v graph.VertexID) bool {
	if m.flatOf == nil {
		g := m.g
		m.flatOf = make([]bool, g.Len())
		for u := range m.flatOf {
			m.flatOf[u] = !slices.ContainsFunc(g.Children(graph.VertexID(u)), func(c graph.VertexID) bool { return len(g.Children(c)) > 0 })
		}
	}
	return m.flatOf[v]
}

// sortPre sorts vs (distinct vertices) into pre-order.
func (m *Matcher) sortPre(vs []graph.VertexID) {
	pos := m.g.PreOrderPos()
	keys := m.sortKeys[:0]
	for _, v := range vs {
		keys = append(keys, uint64(uint32(pos[v]))<<32|uint64(uint32(v)))
	}
	slices.Sort(keys)
	for i, k := range keys {
		vs[i] = graph.VertexID(int32(uint32(k)))
	}
	m.sortKeys = keys
}

// commit records a's spans. The traverser checked every span, so an error
// here is a bug.
func (m *Matcher) commit(a *Allocation, now int64) {
	job, err := m.addSpans(a)
	if err != nil {
		panic(fmt.Sprintf("fluxion: matcher: commit job %d: %v", a.JobID, err))
	}
	m.jobs[a.JobID] = job
	if m.pol.First {
		m.updateWeights(a, now)
	}
}

// addSpans adds a's spans to the planners: exclusive vertices take their
// units and the whole exclusivity planner, shared vertices and the path
// one exclusivity unit, and each aggregate above an exclusive vertex of a
// tracked type those units (a path vertex with an aggregate gets a span
// even if it counts nothing). On error, the spans added so far are
// removed again and the error names the vertex.
func (m *Matcher) addSpans(a *Allocation) (*matchJob, error) {
	// Up to two vertex spans per vertex, one per path vertex, one
	// aggregate span per path vertex.
	job := &matchJob{alloc: a, spans: make([]matchSpan, 0, 2*(len(a.Vertices)+len(a.held))+2*len(a.Path))}
	var failed error
	add := func(kind uint8, v graph.VertexID, id planner.SpanID, err error) {
		if failed != nil {
			return
		}
		if err != nil {
			failed = fmt.Errorf("%s: %w", m.g.Vertices[v].Path, err)
			return
		}
		job.spans = append(job.spans, matchSpan{kind, v, id})
		if kind == 2 {
			m.aggLive[v]++
		}
		if kind < 2 {
			m.pLive[v]++
			m.live[v]++
			m.until[v] = max(m.until[v], a.At+a.Duration)
		}
	}
	// xSpan books units of v's exclusivity planner, all of them
	// (xCheckerTotal) when v is held exclusively.
	xSpan := func(v graph.VertexID, units int64) {
		id, err := m.xPlan(v).AddSpan(a.At, a.Duration, units)
		add(1, v, id, err)
		if err == nil && units == xCheckerTotal {
			m.xExcl[v]++
		}
	}
	// exclSpans books an exclusive vertex's units and its whole
	// exclusivity planner, and makes that span v's known one.
	exclSpans := func(v graph.VertexID, units int64) {
		if m.fullOverlaps(v, a.At, a.At+a.Duration) {
			// A full span booked alone (fullOnly) stands for a shared
			// unit of its exclusivity planner.
			failed = fmt.Errorf("%s: held exclusively, but used whole during [%d, %d)", m.g.Vertices[v].Path, a.At, a.At+a.Duration)
			return
		}
		id, err := m.unitPlan(v).AddSpan(a.At, a.Duration, units)
		add(0, v, id, err)
		if failed != nil {
			return
		}
		xSpan(v, xCheckerTotal)
		if failed == nil {
			m.setX(v, a.At, a.At+a.Duration)
		}
	}
	// Units of each aggregate type per touched aggregate: a row of
	// m.cnt per vertex (rowOf), cleared before returning.
	defer m.cntReset()
	counts := m.cntRow
	// count adds units of aggregate type k at p's aggregate and at its
	// ancestors'.
	count := func(p graph.VertexID, k int, units int64) {
		for ; p != graph.NoVertex; p = m.vPar[p] {
			if m.agg[p] == nil {
				continue
			}
			counts(p)[k] += units
		}
	}
	// bump counts v's own units at its ancestors' aggregates.
	bump := func(v graph.VertexID, units int64) {
		if k := m.aggK[v]; k >= 0 {
			count(m.vPar[v], int(k), units)
		}
	}
	all := a.Vertices
	if len(a.held) > 0 {
		all = slices.Concat(a.Vertices, a.held)
	}
	var leaf []int64 // units of each of m.leafTypes, for rootLeaf
	var held []bool  // SkipHeldBelow: exclusive vertices of a
	if m.skipHeld {
		if m.heldMark == nil {
			m.heldMark = make([]bool, m.g.Len())
		}
		held = m.heldMark
		defer func() {
			for _, av := range all {
				held[av.ID] = false
			}
		}()
	}
	for i, av := range all {
		if failed != nil {
			break
		}
		v := av.ID
		// listed: in R. Fluxion's update books and counts in the
		// aggregates only what it emits (upd_dfv walks the selected
		// edges); the vertices a slot holds below an exclusive vertex
		// without listing them (a.held) are booked here so that they
		// stay unusable whatever R shows, but the aggregates, and so
		// first's edge weights, do not count them.
		listed := i < len(a.Vertices)
		if held != nil {
			if m.heldAbove(v, held) {
				// Below a vertex this allocation holds exclusively:
				// only the aggregates count it, its own through
				// below[v] and its ancestors' through the held
				// vertex's.
				if m.agg[v] != nil {
					c := counts(v)
					for k := range c {
						c[k] += m.below[int(v)*len(m.aggTypes)+k]
					}
				}
				if av.Exclusive {
					held[v] = true
				}
				continue
			}
			if av.Exclusive && av.whole && len(m.g.Children(v)) > 0 {
				held[v] = true
				// Everything below it: its ancestors' aggregates.
				// Its own aggregate and unit planner get nothing:
				// a search reads them only when v's exclusivity
				// planner lets it use v, which this span forbids
				// throughout (so they would change no answer),
				// and first's weights read omit.
				for k, u := range m.below[int(v)*len(m.aggTypes) : int(v+1)*len(m.aggTypes)] {
					if u != 0 {
						count(m.vPar[v], k, u)
					}
				}
				if m.belowLeaf != nil {
					k := len(m.leafTypes)
					for j, u := range m.belowLeaf[int(v)*k : int(v+1)*k] {
						leaf = leafAdd(leaf, len(m.leafTypes), j, u)
					}
				}
				// The whole span is v's in omit alone, not also on
				// its exclusivity planner: every reader of that
				// planner asks omit first (usable), and a span there
				// would only repeat it. It counts as a live span of
				// v (usable's shortcut for a vertex with none).
				if m.omit == nil {
					m.omit = make([][][2]int64, m.g.Len())
				}
				if ivOverlaps(m.omit[v], a.At, a.At+a.Duration) || m.fullOverlaps(v, a.At, a.At+a.Duration) || (m.xplans[v] != nil && availDuring(m.xplans[v], a.At, a.Duration) != xCheckerTotal) {
					failed = fmt.Errorf("%s: held whole, but not free during [%d, %d)", m.g.Vertices[v].Path, a.At, a.At+a.Duration)
					break
				}
				m.omit[v] = ivInsert(m.omit[v], [2]int64{a.At, a.At + a.Duration})
				m.omitRun(v)
				m.live[v]++
				m.until[v] = max(m.until[v], a.At+a.Duration)
				job.spans = append(job.spans, matchSpan{4, v, planner.SpanID(a.At)})
				if listed {
					bump(v, av.Units)
				}
				continue
			}
		}
		if av.Exclusive {
			if m.skipHeld && listed && m.fillLeaf(v) {
				// Booked after the aggregates are counted, unless
				// the allocation fills its parent's (leafSpans).
				m.leafDefer = append(m.leafDefer, av)
			} else if exclSpans(v, av.Units); failed != nil {
				break
			}
			if listed {
				bump(v, av.Units)
				if m.rootLeaf != nil && len(m.g.Children(v)) == 0 {
					if j := slices.Index(m.leafTypes, m.g.Vertices[v].Type); j >= 0 {
						leaf = leafAdd(leaf, len(m.leafTypes), j, av.Units)
					}
				}
			}
		} else {
			xSpan(v, 1)
		}
	}
	for _, v := range a.Path {
		if failed != nil {
			break
		}
		if m.fullOnly(v, counts) {
			continue // its full span (below) stands for its shared unit
		}
		xSpan(v, 1)
		if m.agg[v] != nil {
			counts(v)
		}
	}
	// Leaves of a type their parent's aggregate counts, when this
	// allocation uses all of that aggregate: a search reaches them only
	// through their parent, which pruned refuses throughout for any
	// request that could take them (it needs a unit of their type below
	// the parent), so their own spans would change no answer.
	for _, av := range m.leafDefer {
		if failed != nil {
			break
		}
		v := av.ID
		if p := m.vPar[v]; !m.fills(p, counts(p)) {
			exclSpans(v, av.Units)
		}
	}
	m.leafDefer = m.leafDefer[:0]
	// Aggregate spans in pre-order.
	vs := m.cntVs
	pos := m.g.PreOrderPos()
	slices.SortFunc(vs, func(a, b graph.VertexID) int { return cmp.Compare(pos[a], pos[b]) })
	for _, v := range vs {
		if failed != nil {
			break
		}
		cnt := counts(v)
		only := m.fullOnly(v, counts)
		if only {
			// Its full span alone: no aggregate span, and on the path no
			// shared exclusivity unit either. Their readers ask the
			// full spans first (pruned, usable, updateWeights).
			if p := m.agg[v]; m.fullOverlaps(v, a.At, a.At+a.Duration) || (p.SpanCount() > 0 && !aggFree(p, a.At, a.Duration)) {
				failed = fmt.Errorf("%s: used whole, but not free during [%d, %d)", m.g.Vertices[v].Path, a.At, a.At+a.Duration)
				break
			}
		} else {
			id, err := m.agg[v].AddSpan(a.At, a.Duration, cnt)
			add(2, v, id, err)
		}
		if failed == nil && (only || m.fills(v, cnt)) {
			if m.full == nil {
				m.full = make([][][2]int64, m.g.Len())
				m.fLo, m.fHi = make([]int64, m.g.Len()), make([]int64, m.g.Len())
			}
			m.full[v] = ivInsert(m.full[v], [2]int64{a.At, a.At + a.Duration})
			m.fullRun(v)
			kind := uint8(5)
			if only {
				// A live span of v, as the exclusivity unit it
				// replaces was (usable's shortcut).
				kind = 6
				m.live[v]++
				m.until[v] = max(m.until[v], a.At+a.Duration)
			}
			job.spans = append(job.spans, matchSpan{kind, v, planner.SpanID(a.At)})
		}
	}
	if leaf != nil && failed == nil {
		id, err := m.rootLeaf.AddSpan(a.At, a.Duration, leaf)
		add(3, m.g.Root, id, err)
	}
	if failed != nil {
		m.removeSpans(job.spans)
		return nil, failed
	}
	return job, nil
}

// leafAdd adds u units of leaf type j to leaf (made, of n types, when
// first needed).
func leafAdd(leaf []int64, n, j int, u int64) []int64 {
	if u == 0 {
		return leaf
	}
	if leaf == nil {
		leaf = make([]int64, n)
	}
	leaf[j] += u
	return leaf
}

// cntRow returns v's row of aggregate counts for the allocation being
// booked (addSpans), zero when first asked for.
func (m *Matcher) cntRow(v graph.VertexID) []int64 {
	if m.cntOf == nil {
		m.cntOf = make([]int32, m.g.Len())
	}
	k := len(m.aggTypes)
	if i := m.cntOf[v]; i > 0 {
		return m.cnt[int(i-1)*k : int(i)*k]
	}
	m.cntVs = append(m.cntVs, v)
	m.cntOf[v] = int32(len(m.cntVs))
	n := len(m.cnt)
	m.cnt = slices.Grow(m.cnt, k)[:n+k]
	clear(m.cnt[n:])
	return m.cnt[n : n+k]
}

// cntReset clears what cntRow handed out.
func (m *Matcher) cntReset() {
	for _, v := range m.cntVs {
		m.cntOf[v] = 0
	}
	m.cntVs, m.cnt = m.cntVs[:0], m.cnt[:0]
}

// fillLeaf reports whether v is a leaf whose own spans addSpans may
// leave out when an allocation fills its parent's aggregate: a leaf of a
// type that aggregate counts.
func (m *Matcher) fillLeaf(v graph.VertexID) bool {
	p := m.g.Vertices[v].Parent
	return p != graph.NoVertex && m.agg[p] != nil && len(m.g.Children(v)) == 0 && m.aggK[v] >= 0
}

// fullOnly reports whether an allocation whose aggregate counts are
// counts books v's use as a full span alone (SkipHeldBelow): it uses all
// of v's aggregate, and v is not the root, whose aggregate the search
// for a start time reads (AvailTimeFirst).
func (m *Matcher) fullOnly(v graph.VertexID, counts func(graph.VertexID) []int64) bool {
	return m.skipHeld && v != m.g.Root && m.agg[v] != nil && m.fills(v, counts(v))
}

// fullOverlaps reports whether one of v's full spans overlaps [lo, hi).
func (m *Matcher) fullOverlaps(v graph.VertexID, lo, hi int64) bool {
	return m.full != nil && ivOverlaps(m.full[v], lo, hi)
}

// aggFree reports whether nothing of p is used during [at, at+d).
func aggFree(p *planner.PlannerMulti, at, d int64) bool {
	for k := range p.Len() {
		if t := p.Total(k); t > 0 && availDuring(p.Planner(k), at, d) != t {
			return false
		}
	}
	return true
}

// fills reports whether units cnt (by aggregate type) use all of v's
// aggregate: every type it counts, at least one.
func (m *Matcher) fills(v graph.VertexID, cnt []int64) bool {
	p := m.agg[v]
	var row []int64 // v's totals, the units below it (SkipHeldBelow)
	if m.below != nil {
		row = m.below[int(v)*len(m.aggTypes) : int(v+1)*len(m.aggTypes)]
	}
	some := false
	for k, u := range cnt {
		var t int64
		if row != nil {
			t = row[k]
		} else {
			t = p.Total(k)
		}
		if t > 0 && u != t {
			return false
		}
		some = some || t > 0
	}
	return some
}

// omitRun sets v's known exclusive span (xLo, xHi) to the first run of
// its whole spans (omit, by start), adjacent or overlapping ones joined:
// usually the running job's and the reservations that follow it, so
// that searches now and at those reservations' times pass v at once.
func (m *Matcher) omitRun(v graph.VertexID) {
	if len(m.omit[v]) == 0 && m.xLo[v] != m.xHi[v] {
		return // another exclusive span is known
	}
	lo, hi := ivRun(m.omit[v])
	m.setX(v, lo, hi)
}

// heldAbove reports whether an ancestor of v is in held.
func (m *Matcher) heldAbove(v graph.VertexID, held []bool) bool {
	for p := m.vPar[v]; p != graph.NoVertex; p = m.vPar[p] {
		if held[p] {
			return true
		}
	}
	return false
}

// unlive counts one span on plans[v] or xplans[v] gone. until[v] stays
// (an upper bound) until none is left.
func (m *Matcher) unlive(v graph.VertexID) {
	if m.live[v]--; m.live[v] == 0 {
		m.until[v] = 0
	}
}

// removeSpans removes spans recorded by addSpans.
func (m *Matcher) removeSpans(spans []matchSpan) {
	for _, s := range spans {
		var err error
		switch s.kind {
		case 0:
			err = m.unitPlan(s.v).RemSpan(s.id)
			m.unlive(s.v)
			m.pLive[s.v]--
		case 1:
			p := m.xPlan(s.v)
			if sp, ok := p.Span(s.id); ok && sp.Request == xCheckerTotal {
				m.xExcl[s.v]--
				if m.xLo[s.v] == sp.Start && m.xHi[s.v] == sp.Start+sp.Duration {
					m.setX(s.v, 0, 0)
				}
			}
			err = p.RemSpan(s.id)
			m.unlive(s.v)
			m.pLive[s.v]--
		case 3:
			err = m.rootLeaf.RemSpan(s.id)
		case 4:
			lo, hi := ivRun(m.omit[s.v])
			err = ivDrop(&m.omit[s.v], int64(s.id), "whole")
			if len(m.omit[s.v]) == 0 && m.xLo[s.v] == lo && m.xHi[s.v] == hi {
				m.setX(s.v, 0, 0) // the known exclusive span was this one
			} else {
				m.omitRun(s.v)
			}
			m.unlive(s.v)
		case 5, 6:
			err = ivDrop(&m.full[s.v], int64(s.id), "full")
			m.fullRun(s.v)
			if s.kind == 6 {
				m.unlive(s.v)
			}
		default:
			if err = m.agg[s.v].RemSpan(s.id); err == nil {
				m.aggLive[s.v]--
			}
		}
		if err != nil {
			panic(fmt.Sprintf("fluxion: matcher: remove span on %s: %v", m.g.Vertices[s.v].Path, err))
		}
	}
}

// updateWeights models upd_by_outedges (dfu_impl_update.cpp), which runs
// for stop_on_1_matches policies: after an allocation, the edge into each
// vertex on the allocated path gets the vertex's free units, at the
// job's now, of the last type of its aggregate. A vertex's aggregate in
// Fluxion holds only the tracked types present below it (a node's holds
// core, not node), so the last type here is the last filter type with a
// non-zero total. Vertices without one keep their weight, as does a
// vertex whose aggregate shows 0 free and has no span (the leaf special
// case). Cancels do not refresh weights.
func (m *Matcher) updateWeights(a *Allocation, now int64) {
	set := func(v graph.VertexID) {
		p := m.agg[v]
		if p == nil {
			return
		}
		k := int(m.weightK[v])
		if k < 0 {
			return
		}
		spans := p.SpanCount()
		avail := p.Total(k) // an empty planner has all of it free
		if spans > 0 {
			avail = p.AvailAt(now, k)
		}
		// Spans that use everything below v are in sorted lists, not on
		// its planner: those booking it whole (addSpans) and, under
		// SkipHeldBelow but for the root, the uses of its whole
		// aggregate (fullOnly). One that holds v at now leaves none free.
		lists := [2][][2]int64{}
		if m.omit != nil {
			lists[0] = m.omit[v]
		}
		if m.skipHeld && v != m.g.Root && m.full != nil {
			lists[1] = m.full[v]
		}
		for _, ivs := range lists {
			spans += len(ivs)
			if ivOverlaps(ivs, now, now+1) {
				avail = 0
			}
		}
		if avail == 0 && spans == 0 {
			return
		}
		m.setWeight(v, uint64(max(avail, 0)))
	}
	for _, v := range a.Path {
		set(v)
	}
	for _, av := range a.Vertices {
		set(av.ID)
	}
}

// fluxionTypeOrder is the order of flux-sched's interned resource types
// (resource/schema/data_std.cpp:18-27, interned in that order at start;
// interned strings compare by insertion, libintern/interner.hpp:233):
// the order of the pruning types in a vertex's subtree planner.
var fluxionTypeOrder = []string{"cluster", "core", "socket", "gpu", "node", "rack", "slot", "xor_slot", "ssd", "storage_node"}

// weightType returns the index in aggTypes of the type whose free units
// weigh the edge into a vertex of type typ under first: the last of the
// vertex's pruning types (upd_by_outedges reads type len-1 of the
// vertex's planner_multi, dfu_impl_update.cpp:130), which are the
// filters' types but the vertex's own (get_my_pruning_types,
// policies/base/matcher.cpp), in flux-sched's type order. A type not
// interned at start follows, in the filters' order. -1 if none.
func (m *Matcher) weightType(typ string) int {
	best, bestRank := -1, -1
	for i, t := range m.aggTypes {
		if t == typ {
			continue
		}
		r := slices.Index(fluxionTypeOrder, t)
		if r < 0 {
			r = len(fluxionTypeOrder) + i
		}
		if r > bestRank {
			best, bestRank = i, r
		}
	}
	return best
}

// setWeight sets the by_outedges weight of the edge into v; it forgets
// the cached order of v's siblings when the weight changes. Weights must
// change only through here.
func (m *Matcher) setWeight(v graph.VertexID, w uint64) {
	if m.weights[v] == w {
		return
	}
	m.weights[v] = w
	m.wEpoch++
	if p := m.g.Vertices[v].Parent; p != graph.NoVertex && m.kidsOK != nil {
		m.kidsOK[p] = false
		m.wDirty[v] = true
	}
}

// WeightEpoch counts the changes of first's edge weights so far: two
// equal readings mean that no weight changed between them, so a search
// between them saw the same children orders (a search's answer depends
// on the planners, the weights and the request alone). Cancels never
// change weights, nor do policies other than first.
func (m *Matcher) WeightEpoch() uint64 { return m.wEpoch }

// sortedChildren returns v's children in by_outedges order (edge weight,
// then uniq_id, both descending), cached until a child's weight changes.
// A stale order is repaired rather than re-sorted: the children whose
// weight did not change keep their relative order, so sorting the few
// changed ones and merging the two runs gives the (unique: uniq_ids
// differ) sorted order in linear time.
func (m *Matcher) sortedChildren(v graph.VertexID) []graph.VertexID {
	g := m.g
	if m.kidsOK == nil {
		m.kids = make([][]graph.VertexID, g.Len())
		m.kidsOK = make([]bool, g.Len())
		m.wDirty = make([]bool, g.Len())
	}
	s := m.kids[v]
	old := s != nil
	if m.kidsOK[v] {
		return s
	}
	w := m.weights
	order := func(a, b graph.VertexID) int {
		if r := cmp.Compare(w[b], w[a]); r != 0 {
			return r
		}
		return cmp.Compare(g.Vertices[b].UniqID, g.Vertices[a].UniqID)
	}
	if !old {
		s = slices.Clone(g.Vertices[v].Children)
		m.kids[v] = s
		slices.SortFunc(s, order)
		for _, c := range s {
			m.wDirty[c] = false
		}
	} else {
		// Keep the unchanged children in place (in order), move the
		// changed ones to tmp, sort those, then merge from the back.
		tmp := m.kidsTmp[:0]
		k := 0
		for _, c := range s {
			if m.wDirty[c] {
				m.wDirty[c] = false
				tmp = append(tmp, c)
			} else {
				s[k] = c
				k++
			}
		}
		slices.SortFunc(tmp, order)
		i, j := k-1, len(tmp)-1
		for o := len(s) - 1; j >= 0; o-- {
			if i >= 0 && order(tmp[j], s[i]) < 0 {
				s[o] = s[i]
				i--
			} else {
				s[o] = tmp[j]
				j--
			}
		}
		m.kidsTmp = tmp
	}
	m.reordered(v)
	m.kidsOK[v] = true
	return s
}

// Cancel removes a job's allocation or reservation (reapi_cli_cancel).
func (m *Matcher) Cancel(jobID uint64) error {
	job, ok := m.jobs[jobID]
	if !ok {
		return fmt.Errorf("%w: %d", ErrNoJob, jobID)
	}
	m.removeSpans(job.spans)
	delete(m.jobs, jobID)
	job.alloc.Canceled = true
	m.gone[jobID] = job.alloc
	return nil
}

// Forget drops what the matcher remembers of a cancelled job, so that a
// long-lived user that allocates and cancels without end (Fluence asks
// again and again for a group that never fits) does not keep every
// cancelled allocation; Info then reports ErrNoJob for it. A live job,
// or an id never used, is left alone.
func (m *Matcher) Forget(jobID uint64) { delete(m.gone, jobID) }

// Info returns a job's allocation (reapi_cli_info: reserved, at). A
// cancelled job is still known, with Canceled set (the cli reports mode
// "canceled"); an id never allocated is ErrNoJob.
func (m *Matcher) Info(jobID uint64) (*Allocation, error) {
	if job, ok := m.jobs[jobID]; ok {
		return job.alloc, nil
	}
	if a, ok := m.gone[jobID]; ok {
		return a, nil
	}
	return nil, fmt.Errorf("%w: %d", ErrNoJob, jobID)
}

// Mode is the job's state as reapi_cli's info reports it: ALLOCATED,
// RESERVED, or CANCELED once cancelled.
func (a *Allocation) Mode() string {
	switch {
	case a.Canceled:
		return "CANCELED"
	case a.Reserved:
		return "RESERVED"
	}
	return "ALLOCATED"
}

// Jobs returns the ids of the live (allocated or reserved) jobs, sorted.
func (m *Matcher) Jobs() []uint64 {
	return slices.Sorted(maps.Keys(m.jobs))
}

// Names returns the names of the allocated vertices of type typ, in
// pre-order.
func (a *Allocation) Names(typ string) []string {
	var out []string
	for _, av := range a.Vertices {
		if v := &a.g.Vertices[av.ID]; v.Type == typ {
			out = append(out, v.Name)
		}
	}
	return out
}

// OfType returns the allocated vertices of type typ, in pre-order.
func (a *Allocation) OfType(typ string) []graph.VertexID {
	var out []graph.VertexID
	for _, av := range a.Vertices {
		if a.g.Vertices[av.ID].Type == typ {
			out = append(out, av.ID)
		}
	}
	return out
}

// Clone returns an independent copy of the matcher's state: planners,
// aggregates, weights, jobs and the id counter (reapi_cli_clone, for
// forward simulation). The graph, and so the up/down statuses, is
// shared. Allocations of live jobs are copied; the copy's Cancel does
// not mark the original's.
func (m *Matcher) Clone() *Matcher {
	c := *m
	c.plans = make([]*planner.Planner, len(m.plans))
	c.xplans = make([]*planner.Planner, len(m.xplans))
	c.agg = make([]*planner.PlannerMulti, len(m.agg))
	for i := range m.plans {
		if m.plans[i] != nil {
			c.plans[i] = m.plans[i].Clone()
		}
		if m.xplans[i] != nil {
			c.xplans[i] = m.xplans[i].Clone()
		}
		if m.agg[i] != nil {
			c.agg[i] = m.agg[i].Clone()
		}
	}
	c.weights = slices.Clone(m.weights)
	c.live = slices.Clone(m.live)
	c.aggLive = slices.Clone(m.aggLive)
	c.pLive = slices.Clone(m.pLive)
	c.until = slices.Clone(m.until)
	if m.rootLeaf != nil {
		c.rootLeaf = m.rootLeaf.Clone()
	}
	c.xLo = slices.Clone(m.xLo)
	c.xExcl = slices.Clone(m.xExcl)
	c.xHi = slices.Clone(m.xHi)
	c.omit, c.full = ivClone(m.omit), ivClone(m.full)
	c.fLo, c.fHi = slices.Clone(m.fLo), slices.Clone(m.fHi)
	c.heldMark, c.sortKeys, c.leafDefer, c.stateBuf, c.pathBuf, c.modIx = nil, nil, nil, nil, nil, nil
	c.tc, c.mark, c.kids, c.kidsOK, c.wDirty, c.kidsTmp = nil, nil, nil, nil, nil, nil
	c.skips, c.skipPos = nil, nil
	c.cntOf, c.cnt, c.cntVs, c.slab = nil, nil, nil, nil
	c.jobs = make(map[uint64]*matchJob, len(m.jobs))
	for id, j := range m.jobs {
		a := *j.alloc
		c.jobs[id] = &matchJob{alloc: &a, spans: j.spans}
	}
	c.gone = make(map[uint64]*Allocation, len(m.gone))
	for id, a := range m.gone {
		c.gone[id] = a
	}
	return &c
}

// Graph returns the graph the allocation's vertex ids refer to.
func (a *Allocation) Graph() *graph.Graph { return a.g }
