package match

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/convergesim/converge/policies/fluxion/graph"
	"github.com/convergesim/converge/policies/fluxion/internal/fluxiontest"
	"github.com/convergesim/converge/policies/fluxion/jobspec"
)

// bfCluster is the brute-force model of a flat cluster (node > core):
// per core the busy intervals [start, end) of the jobs holding it, and
// per node the exclusive holds.
type bfCluster struct {
	busy [][][]bfIv              // [node][core] intervals
	held [][]bfIv                // [node] exclusive-node intervals
	jobs map[uint64][]bfPlaced   // job -> what it holds
	excl map[uint64]map[int]bool // job -> nodes held whole
}

type bfIv struct {
	start, end int64
	job        uint64
}

type bfPlaced struct{ node, core int }

func newBF(coreCounts []int) *bfCluster {
	b := &bfCluster{jobs: map[uint64][]bfPlaced{}, excl: map[uint64]map[int]bool{}}
	for _, c := range coreCounts {
		b.busy = append(b.busy, make([][]bfIv, c))
		b.held = append(b.held, nil)
	}
	return b
}

func bfOverlaps(ivs []bfIv, s, e int64) bool {
	for _, iv := range ivs {
		if iv.start < e && s < iv.end {
			return true
		}
	}
	return false
}

// freeCores is the number of node n's cores free throughout [s, e).
func (b *bfCluster) freeCores(n int, s, e int64) int {
	k := 0
	for c := range b.busy[n] {
		if !bfOverlaps(b.busy[n][c], s, e) {
			k++
		}
	}
	return k
}

// whole reports whether node n is entirely unused during [s, e).
func (b *bfCluster) whole(n int, s, e int64) bool {
	return b.freeCores(n, s, e) == len(b.busy[n]) && !bfOverlaps(b.held[n], s, e)
}

// bfReq is a random request: node-count requests (nodes > 0) or a
// top-level slot.
type bfReq struct {
	nodes, slots, cores int
	nodeExcl            bool
	dur                 int64
}

// fits says whether r fits during [s, s+dur) under a policy that takes
// nodes whole (nodex) or not.
func (b *bfCluster) fits(r bfReq, s int64, nodex bool) bool {
	e := s + r.dur
	if r.nodes == 0 {
		total := 0
		for n := range b.busy {
			switch {
			case nodex && b.whole(n, s, e):
				total += len(b.busy[n]) / r.cores
			case !nodex:
				total += b.freeCores(n, s, e) / r.cores
			}
		}
		return total >= r.slots
	}
	ok := 0
	for n := range b.busy {
		need := r.slots * r.cores
		if r.nodeExcl || nodex {
			if b.whole(n, s, e) && len(b.busy[n]) >= need {
				ok++
			}
		} else if b.freeCores(n, s, e) >= need {
			ok++
		}
	}
	return ok >= r.nodes
}

func (r bfReq) js(t testing.TB) *jobspec.Jobspec {
	return fluxiontest.Req{Nodes: int64(r.nodes), Slots: int64(r.slots), Cores: int64(r.cores), NodeExcl: r.nodeExcl, Dur: float64(r.dur)}.Jobspec(t)
}

// record checks a's placement against the request and the model and
// adds it.
func (b *bfCluster) record(t *testing.T, g *graph.Graph, a *Allocation, r bfReq, nodex bool) {
	t.Helper()
	s, e := a.At, a.At+a.Duration
	perNode := map[int][]int{}
	var placed []bfPlaced
	for _, v := range a.OfType("core") {
		n := int(g.Vertices[g.Ancestor(v, "node")].ID)
		c := int(g.Vertices[v].ID)
		if bfOverlaps(b.busy[n][c], s, e) || bfOverlaps(b.held[n], s, e) {
			t.Fatalf("job %d: node%d core%d is already in use during [%d, %d)", a.JobID, n, c, s, e)
		}
		perNode[n] = append(perNode[n], c)
		placed = append(placed, bfPlaced{n, c})
	}
	exclNodes := map[int]bool{}
	for _, av := range a.Vertices {
		if g.Vertices[av.ID].Type == "node" && av.Exclusive {
			exclNodes[int(g.Vertices[av.ID].ID)] = true
		}
	}
	// Shape: the right number of cores per node.
	switch {
	case r.nodes > 0:
		if len(perNode) != r.nodes {
			t.Fatalf("job %d: %d nodes, want %d (%s)", a.JobID, len(perNode), r.nodes, mtWhere(a))
		}
		for n, cs := range perNode {
			want := r.slots * r.cores
			if r.nodeExcl || nodex {
				want = len(b.busy[n])
			}
			if len(cs) != want {
				t.Fatalf("job %d: node%d has %d cores, want %d (%s)", a.JobID, n, len(cs), want, mtWhere(a))
			}
		}
	default:
		total := 0
		for n, cs := range perNode {
			if nodex {
				if len(cs) != len(b.busy[n]) {
					t.Fatalf("job %d: nodex took %d of node%d's %d cores", a.JobID, len(cs), n, len(b.busy[n]))
				}
				continue
			}
			if len(cs)%r.cores != 0 {
				t.Fatalf("job %d: node%d has %d cores, not whole slots of %d", a.JobID, n, len(cs), r.cores)
			}
			total += len(cs)
		}
		if !nodex && total != r.slots*r.cores {
			t.Fatalf("job %d: %d cores, want %d", a.JobID, total, r.slots*r.cores)
		}
	}
	for _, p := range placed {
		b.busy[p.node][p.core] = append(b.busy[p.node][p.core], bfIv{s, e, a.JobID})
	}
	for n := range exclNodes {
		b.held[n] = append(b.held[n], bfIv{s, e, a.JobID})
	}
	b.jobs[a.JobID] = placed
	b.excl[a.JobID] = exclNodes
}

func (b *bfCluster) cancel(id uint64) {
	drop := func(ivs []bfIv) []bfIv {
		return slices.DeleteFunc(ivs, func(iv bfIv) bool { return iv.job == id })
	}
	for _, p := range b.jobs[id] {
		b.busy[p.node][p.core] = drop(b.busy[p.node][p.core])
	}
	for n := range b.excl[id] {
		b.held[n] = drop(b.held[n])
	}
	delete(b.jobs, id)
	delete(b.excl, id)
}

func bfRandomReq(rng *rand.Rand, nNodes, maxCores int) bfReq {
	r := bfReq{slots: 1 + rng.IntN(3), cores: 1 + rng.IntN(maxCores), dur: 1 + rng.Int64N(20)}
	if rng.IntN(2) == 0 {
		r.nodes = 1 + rng.IntN(nNodes)
		r.slots = 1 + rng.IntN(2)
		r.cores = 1 + rng.IntN(max(1, maxCores/2))
		r.nodeExcl = rng.IntN(4) == 0
	}
	return r
}

// TestMatchPropertyNow: random flat clusters, random requests allocated
// and cancelled at time 0 (even trials) or at a clock that moves on. Allocate succeeds exactly when the brute-force
// model says the request fits now, and fails with ErrBusy otherwise;
// allocate_with_satisfiability tells ErrBusy from ErrUnsatisfiable by
// the empty cluster. Placements never reuse a core in use, and have the
// shape asked for.
func TestMatchPropertyNow(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	policies := MatchPolicyNames
	seen := map[string]int{}
	defer func() {
		// The random walk must have met every outcome.
		for _, o := range []string{"ok", "EBUSY", "ENODEV", "cancel"} {
			if seen[o] < 20 {
				t.Errorf("outcome %s seen %d times: %v", o, seen[o], seen)
			}
		}
		t.Logf("outcomes: %v", seen)
	}()
	for trial := range 300 {
		nNodes := 1 + rng.IntN(6)
		counts := make([]int, nNodes)
		cores := make([]int64, nNodes)
		maxCores := 0
		for i := range counts {
			counts[i] = 1 + rng.IntN(8)
			cores[i] = int64(counts[i])
			maxCores = max(maxCores, counts[i])
		}
		pol := policies[trial%len(policies)]
		nodex := pol == "lonodex" || pol == "hinodex" || pol == "firstnodex"
		g := fluxiontest.Flat(t, cores...)
		m := mtMatcher(t, g, pol)
		bf := newBF(counts)
		empty := newBF(counts)
		name := fmt.Sprintf("trial %d (%s, cores %v)", trial, pol, counts)
		now := int64(0) // advances on odd trials, so jobs also end
		for step := range 25 {
			if trial%2 == 1 {
				now += rng.Int64N(6)
			}
			if ids := m.Jobs(); len(ids) > 0 && rng.IntN(3) == 0 {
				id := ids[rng.IntN(len(ids))]
				if err := m.Cancel(id); err != nil {
					t.Fatalf("%s step %d: cancel %d: %v", name, step, id, err)
				}
				bf.cancel(id)
				seen["cancel"]++
				continue
			}
			r := bfRandomReq(rng, nNodes, maxCores)
			op := MatchAllocate
			if rng.IntN(2) == 0 {
				op = MatchAllocateWithSatisfiability
			}
			var dry *Allocation
			if rng.IntN(4) == 0 {
				// without_allocating must foresee the allocation exactly.
				dry, _ = m.Match(MatchWithoutAllocating, r.js(t), now)
			}
			a, err := m.Match(op, r.js(t), now)
			if dry != nil && err != nil {
				t.Fatalf("%s step %d: without_allocating matched, %v did not: %v", name, step, op, err)
			}
			if dry != nil && a != nil && mtWhere(dry) != mtWhere(a) {
				t.Fatalf("%s step %d: without_allocating %q, allocate %q", name, step, mtWhere(dry), mtWhere(a))
			}
			want := "ok"
			if !bf.fits(r, now, nodex) {
				want = "EBUSY"
				if op == MatchAllocateWithSatisfiability && !empty.fits(r, 0, nodex) {
					want = "ENODEV"
				}
			}
			if got := mtErrno(err); got != want {
				t.Fatalf("%s step %d: %v %+v: got %s (%v), want %s", name, step, op, r, got, err, want)
			}
			seen[want]++
			if err == nil {
				bf.record(t, g, a, r, nodex)
			}
		}
	}
}

// TestMatchPropertyReserve: allocate_orelse_reserve at time 0 with random
// durations on random flat clusters (non-exclusive policies) starts each
// job at the earliest time the brute-force model allows: 0 or the end of
// some job (free cores only grow at ends). Jobs are sometimes cancelled.
// Every policy is run; the *nodex ones take nodes whole.
func TestMatchPropertyReserve(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	policies := MatchPolicyNames
	seen := map[string]int{}
	defer func() {
		for _, o := range []string{"now", "reserved", "fail"} {
			if seen[o] < 20 {
				t.Errorf("outcome %s seen %d times: %v", o, seen[o], seen)
			}
		}
		t.Logf("outcomes: %v", seen)
	}()
	for trial := range 200 {
		nNodes := 1 + rng.IntN(4)
		counts := make([]int, nNodes)
		cores := make([]int64, nNodes)
		maxCores := 0
		for i := range counts {
			counts[i] = 1 + rng.IntN(6)
			cores[i] = int64(counts[i])
			maxCores = max(maxCores, counts[i])
		}
		pol := policies[trial%len(policies)]
		nodex := strings.HasSuffix(pol, "nodex")
		g := fluxiontest.Flat(t, cores...)
		m := mtMatcher(t, g, pol)
		bf := newBF(counts)
		empty := newBF(counts)
		name := fmt.Sprintf("trial %d (%s, cores %v)", trial, pol, counts)
		for step := range 15 {
			if ids := m.Jobs(); len(ids) > 0 && rng.IntN(5) == 0 {
				id := ids[rng.IntN(len(ids))]
				if err := m.Cancel(id); err != nil {
					t.Fatal(err)
				}
				bf.cancel(id)
				continue
			}
			r := bfRandomReq(rng, nNodes, maxCores)
			a, err := m.Match(MatchAllocateOrElseReserve, r.js(t), 0)
			// Earliest start by brute force.
			cands := []int64{0}
			for n := range bf.busy {
				for c := range bf.busy[n] {
					for _, iv := range bf.busy[n][c] {
						cands = append(cands, iv.end)
					}
				}
				for _, iv := range bf.held[n] {
					cands = append(cands, iv.end)
				}
			}
			slices.Sort(cands)
			want := int64(-1)
			for _, c := range cands {
				if bf.fits(r, c, nodex) {
					want = c
					break
				}
			}
			if want < 0 {
				wantErr := ErrBusy
				if !empty.fits(r, 0, nodex) {
					wantErr = ErrUnsatisfiable
				}
				if r.nodes > nNodes {
					wantErr = ErrBusy // request_feasible
				}
				if !errors.Is(err, wantErr) {
					t.Fatalf("%s step %d: %+v: got %v, want %v", name, step, r, err, wantErr)
				}
				seen["fail"]++
				continue
			}
			if err != nil {
				t.Fatalf("%s step %d: %+v: %v, want start at %d", name, step, r, err, want)
			}
			if a.At != want || a.Reserved != (want > 0) {
				t.Fatalf("%s step %d: %+v: at %d reserved %v, want %d", name, step, r, a.At, a.Reserved, want)
			}
			bf.record(t, g, a, r, nodex)
			if want > 0 {
				seen["reserved"]++
			} else {
				seen["now"]++
			}
		}
	}
}

// TestMatchPropertySockets: random clusters of 1-4 nodes with 1-3
// sockets of 1-4 cores each (cores split evenly by FromNodes), requests
// allocated and cancelled at time 0 under non-exclusive policies. A slot
// lands on a socket, so the brute-force capacity of a socket is
// floor(free cores / cores per slot), and a node holds the sum over its
// sockets.
func TestMatchPropertySockets(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	policies := []string{"low", "high", "lonode", "hinode", "first"}
	seen := map[string]int{}
	for trial := range 200 {
		nNodes := 1 + rng.IntN(4)
		sockets := 1 + rng.IntN(3)
		ns := make([]fluxiontest.Node, nNodes)
		for i := range ns {
			ns[i] = fluxiontest.Node{Cores: int64(sockets * (1 + rng.IntN(4)))}
		}
		pol := policies[trial%len(policies)]
		g := fluxiontest.Graph(t, sockets, ns...)
		m := mtMatcher(t, g, pol)
		// busy[socket vertex] = set of busy core vertices.
		busy := map[graph.VertexID]int{}
		jobs := map[uint64][]graph.VertexID{} // job -> cores
		free := func(s graph.VertexID, empty bool) int {
			if empty {
				return len(g.Children(s))
			}
			return len(g.Children(s)) - busy[s]
		}
		fits := func(r bfReq, empty bool) bool {
			if r.nodes == 0 {
				total := 0
				for _, s := range g.OfType("socket") {
					total += free(s, empty) / r.cores
				}
				return total >= r.slots
			}
			ok := 0
			for _, n := range g.OfType("node") {
				slots := 0
				for _, s := range g.Children(n) {
					slots += free(s, empty) / r.cores
				}
				if slots >= r.slots {
					ok++
				}
			}
			return ok >= r.nodes
		}
		name := fmt.Sprintf("trial %d (%s, %d sockets, %v)", trial, pol, sockets, ns)
		for step := range 20 {
			if ids := m.Jobs(); len(ids) > 0 && rng.IntN(3) == 0 {
				id := ids[rng.IntN(len(ids))]
				if err := m.Cancel(id); err != nil {
					t.Fatal(err)
				}
				for _, c := range jobs[id] {
					busy[g.Vertices[c].Parent]--
				}
				delete(jobs, id)
				continue
			}
			r := bfReq{slots: 1 + rng.IntN(3), cores: 1 + rng.IntN(4), dur: 10}
			if rng.IntN(2) == 0 {
				r.nodes = 1 + rng.IntN(nNodes)
				r.slots = 1 + rng.IntN(2)
			}
			a, err := m.Match(MatchAllocateWithSatisfiability, r.js(t), 0)
			want := "ok"
			if !fits(r, false) || r.nodes > 0 {
				// node>slot>core: the slots land on the sockets, below a
				// level the request did not select, and Fluxion's update
				// then allocates nothing (tctx.hostsBelow,
				// Allocation.checkHolds): EBUSY whenever the slots exist.
				want = "EBUSY"
				if !fits(r, true) {
					want = "ENODEV"
				}
			}
			got := mtErrno(err)
			if got == "ENOUPDATE" && r.nodes > 0 && want == "EBUSY" {
				got = "EBUSY" // ErrNoUpdate with or without ErrBusy
			}
			if got != want {
				t.Fatalf("%s step %d: %+v: got %s (%v), want %s", name, step, r, got, err, want)
			}
			seen[want]++
			if err != nil {
				continue
			}
			perSocket := map[graph.VertexID]int{}
			for _, c := range a.OfType("core") {
				perSocket[g.Vertices[c].Parent]++
				jobs[a.JobID] = append(jobs[a.JobID], c)
			}
			total := 0
			for s, k := range perSocket {
				if k%r.cores != 0 {
					t.Fatalf("%s step %d: %d cores on %s, not whole slots of %d", name, step, k, g.Vertices[s].Path, r.cores)
				}
				busy[s] += k
				if busy[s] > len(g.Children(s)) {
					t.Fatalf("%s step %d: %s over-allocated", name, step, g.Vertices[s].Path)
				}
				total += k
			}
			wantTotal := r.slots * r.cores
			if r.nodes > 0 {
				wantTotal *= r.nodes
			}
			if total != wantTotal {
				t.Fatalf("%s step %d: %d cores, want %d", name, step, total, wantTotal)
			}
		}
	}
	for _, o := range []string{"ok", "EBUSY", "ENODEV"} {
		if seen[o] < 20 {
			t.Errorf("outcome %s seen %d times: %v", o, seen[o], seen)
		}
	}
	t.Logf("outcomes: %v", seen)
}
