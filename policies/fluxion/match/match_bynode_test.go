package match

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/convergesim/converge/policies/fluxion/graph"
	"github.com/convergesim/converge/policies/fluxion/internal/fluxiontest"
	"github.com/convergesim/converge/policies/fluxion/planner"
)

// TestByNodeSameAsWalk: under the node-centric policies that rank every
// candidate, searching node by node in rank order and stopping once
// enough is found (byNode) must pick exactly what the walk of the whole
// graph picks, whatever the node ids' order against the siblings',
// whatever the graph holds already. Two matchers over one graph, one of
// them walking only, get the same random allocations, reservations and
// cancels; every outcome must agree.
func TestByNodeSameAsWalk(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 7))
	policies := []string{"lonode", "hinode", "lonodex", "hinodex"}
	used := 0 // searches that byNode stopped early, over all trials
	for trial := range 120 {
		pol := policies[trial%len(policies)]
		sockets := rng.IntN(3)
		nNodes := 1 + rng.IntN(24)
		ns := make([]fluxiontest.Node, nNodes)
		for i := range ns {
			per := max(1, sockets)
			ns[i] = fluxiontest.Node{Cores: int64(per * (1 + rng.IntN(4))), GPUs: int64(per * rng.IntN(2))}
		}
		g := fluxiontest.Graph(t, sockets, ns...)
		if trial%2 == 1 {
			// Node ids in another order than the siblings'.
			nodes := g.OfType("node")
			ids := rng.Perm(len(nodes))
			for i, v := range nodes {
				g.Vertices[v].ID = int64(ids[i])
			}
		}
		if trial%3 == 2 {
			// Core and gpu ids counted per parent (per socket), as some
			// real graphs number them: slots of different sockets of a
			// node then tie, and which of them is taken is std::sort's.
			for _, typ := range []string{"core", "gpu"} {
				seen := map[graph.VertexID]int64{}
				for _, v := range g.OfType(typ) {
					p := g.Vertices[v].Parent
					g.Vertices[v].ID = seen[p]
					seen[p]++
				}
			}
		}
		fast, walk := mtMatcher(t, g, pol), mtMatcher(t, g, pol)
		walk.walkOnly = true
		twinSession(t, rng, fast, walk, 60, 5, func() fluxiontest.Req {
			r := fluxiontest.Req{Slots: int64(1 + rng.IntN(4)), Cores: int64(1 + rng.IntN(3)), Dur: float64(1 + rng.IntN(40))}
			if rng.IntN(3) > 0 {
				r.Nodes = int64(1 + rng.IntN(3))
				r.Slots = int64(1 + rng.IntN(2))
				r.NodeExcl = rng.IntN(3) == 0
			}
			if rng.IntN(3) == 0 {
				r.GPUs = 1
			}
			return r
		}, mbOutcome, fmt.Sprintf("trial %d (%s, %d nodes, %d sockets)", trial, pol, nNodes, sockets), "byNode", "walk")
		used += fast.tc.early
	}
	if used == 0 {
		t.Fatal("byNode never stopped early: the test does not exercise it")
	}
	t.Logf("byNode stopped early in %d searches", used)
}

// twinSession drives two matchers through one random session of steps:
// one step in four (when jobs are live) cancels one of them; the others
// match req() by allocate or allocate_orelse_reserve, the clock moving on
// by up to 29 s first one step in clockEvery. Cancels must succeed or fail
// alike on both and matches give the same outcome; label and the two
// names (an, bn) say which in a failure.
func twinSession(t *testing.T, rng *rand.Rand, a, b *Matcher, steps, clockEvery int, req func() fluxiontest.Req, outcome func(*Allocation, error) string, label, an, bn string) {
	t.Helper()
	var live []uint64
	clock := int64(0)
	for step := range steps {
		if len(live) > 0 && rng.IntN(4) == 0 {
			i := rng.IntN(len(live))
			id := live[i]
			live = append(live[:i], live[i+1:]...)
			if e1, e2 := a.Cancel(id), b.Cancel(id); (e1 == nil) != (e2 == nil) {
				t.Fatalf("%s step %d: cancel %d: %v vs %v", label, step, id, e1, e2)
			}
			continue
		}
		if rng.IntN(clockEvery) == 0 {
			clock += rng.Int64N(30)
		}
		r := req()
		js := r.Jobspec(t)
		op := MatchAllocate
		if rng.IntN(2) == 0 {
			op = MatchAllocateOrElseReserve
		}
		a1, e1 := a.Match(op, js, clock)
		a2, e2 := b.Match(op, js, clock)
		if got, want := outcome(a1, e1), outcome(a2, e2); got != want {
			t.Fatalf("%s step %d, %s at %d of\n%s\n%s: %s\n%s: %s", label, step, op, clock, r.YAML(), an, got, bn, want)
		}
		if e1 == nil {
			live = append(live, a1.JobID)
		}
		checkAggLive(t, a, label)
		checkAggLive(t, b, label)
	}
}

// checkAggLive fails the test unless m's counts of spans on each
// aggregate (pruned reads an aggregate without spans from below) and on
// each vertex's unit and exclusivity planners (usable takes them free
// when none) are the planners'.
func checkAggLive(t *testing.T, m *Matcher, label string) {
	t.Helper()
	for v, p := range m.agg {
		if p != nil && int(m.aggLive[v]) != p.SpanCount() {
			t.Fatalf("%s: %s: %d aggregate spans counted, the planner holds %d", label, m.g.Vertices[v].Path, m.aggLive[v], p.SpanCount())
		}
	}
	for v := range m.g.Len() {
		n := 0
		for _, p := range []*planner.Planner{m.plans[v], m.xplans[v]} {
			if p != nil {
				n += p.SpanCount()
			}
		}
		if int(m.pLive[v]) != n {
			t.Fatalf("%s: %s: %d unit and exclusivity spans counted, the planners hold %d", label, m.g.Vertices[v].Path, m.pLive[v], n)
		}
	}
}

func mbOutcome(a *Allocation, err error) string {
	if err != nil {
		return "error " + MatchErrno(err)
	}
	return fmt.Sprintf("job %d reserved=%v at=%d %s", a.JobID, a.Reserved, a.At, mtWhere(a))
}
