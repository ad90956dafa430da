package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

const mb = 1e6 // bytes per MB (decimal, as bandwidths are quoted)

// poolEngine returns an engine with n nodes and the given registry and
// per-node bandwidths, for driving its transfer pool directly.
func poolEngine(t testing.TB, n int, registry, node float64) *Engine {
	t.Helper()
	nodes := make([]*Node, n)
	for i := range nodes {
		nodes[i] = &Node{Name: fmt.Sprintf("n%d", i)}
	}
	cfg := Config{Nodes: nodes, Startup: Startup{RegistryBandwidth: registry, NodeBandwidth: node}}
	e, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestTransferPoolMaxMinRates checks the rates of progressive filling on
// hand-computed cases. flows[i] is the node of flow i.
func TestTransferPoolMaxMinRates(t *testing.T) {
	tests := []struct {
		name           string
		registry, node float64 // MB/s, 0 = unlimited
		nodes          int
		flows          []int
		want           []float64 // MB/s per flow
	}{
		{
			// Registry share 100/3 = 33.3 > node cap 30/1: node links bind.
			name: "three flows on three nodes", registry: 100, node: 30, nodes: 3,
			flows: []int{0, 1, 2}, want: []float64{30, 30, 30},
		},
		{
			// Registry share 100/4 = 25 > node share 30/2 = 15: both nodes bind at 15.
			name: "four flows on two nodes", registry: 100, node: 30, nodes: 2,
			flows: []int{0, 0, 1, 1}, want: []float64{15, 15, 15, 15},
		},
		{
			// Registry share 40/2 = 20 < node share 30: the registry binds.
			name: "registry-bound", registry: 40, node: 30, nodes: 2,
			flows: []int{0, 1}, want: []float64{20, 20},
		},
		{
			// Node 0 share 30/3 = 10 < registry 100/4 = 25: freeze n0's three at 10;
			// then 70 left for one flow, node cap 30 → 30.
			name: "uneven nodes", registry: 100, node: 30, nodes: 2,
			flows: []int{0, 0, 0, 1}, want: []float64{10, 10, 10, 30},
		},
		{
			// Registry 70/4 = 17.5; n1 has three flows: 30/3 = 10 → freeze at 10 (30 used);
			// 40 left for the n0 flow, node cap 30 → 30. Total 60 < 70: the registry is not saturated.
			name: "node-bound leaves registry slack", registry: 70, node: 30, nodes: 2,
			flows: []int{0, 1, 1, 1}, want: []float64{30, 10, 10, 10},
		},
		{
			// Registry 45/3 = 15 = node share 30/2: a tie, everyone 15.
			name: "tie between registry and node", registry: 45, node: 30, nodes: 2,
			flows: []int{0, 0, 1}, want: []float64{15, 15, 15},
		},
		{
			// No registry cap: only node links, 30/2 and 30/1.
			name: "unlimited registry", registry: 0, node: 30, nodes: 2,
			flows: []int{0, 0, 1}, want: []float64{15, 15, 30},
		},
		{
			// No node cap: the registry is shared equally, 45/3.
			name: "unlimited nodes", registry: 45, node: 0, nodes: 2,
			flows: []int{0, 0, 1}, want: []float64{15, 15, 15},
		},
		{
			// Five nodes, one flow each: 50/5 = 10 < 30.
			name: "many nodes registry-bound", registry: 50, node: 30, nodes: 5,
			flows: []int{0, 1, 2, 3, 4}, want: []float64{10, 10, 10, 10, 10},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := poolEngine(t, tc.nodes, tc.registry*mb, tc.node*mb)
			for i, n := range tc.flows {
				e.transfers.add(kubelet{e}, 0, n, int32(i), 1000*mb)
			}
			if got := e.transfers.active(); got != len(tc.flows) {
				t.Fatalf("active = %d, want %d", got, len(tc.flows))
			}
			for i, f := range e.transfers.flows {
				if math.Abs(f.rate-tc.want[i]*mb) > 1e-6 {
					t.Errorf("flow %d (node %d): rate %v MB/s, want %v", i, f.node, f.rate/mb, tc.want[i])
				}
			}
		})
	}
}

// TestTransferPoolMaxMinProperty checks, on random configurations, the
// defining property of a max-min fair allocation: it is feasible, and every
// flow crosses a saturated link on which no other flow gets more.
func TestTransferPoolMaxMinProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const eps = 1e-6
	for round := range 500 {
		nodes := 1 + r.IntN(6)
		registry := float64(r.IntN(4)) * 25 * mb // 0 = unlimited
		node := float64(r.IntN(4)) * 10 * mb
		if registry == 0 && node == 0 {
			node = 10 * mb
		}
		e := poolEngine(t, nodes, registry, node)
		nf := 1 + r.IntN(12)
		for i := range nf {
			e.transfers.add(kubelet{e}, 0, r.IntN(nodes), int32(i), 1e9)
		}
		flows := e.transfers.flows
		regSum, regMax := 0.0, 0.0
		nodeSum := make([]float64, nodes)
		nodeMax := make([]float64, nodes)
		for _, f := range flows {
			if !(f.rate > 0) {
				t.Fatalf("round %d: flow rate %v ≤ 0", round, f.rate)
			}
			regSum += f.rate
			regMax = max(regMax, f.rate)
			nodeSum[f.node] += f.rate
			nodeMax[f.node] = max(nodeMax[f.node], f.rate)
		}
		if registry > 0 && regSum > registry*(1+eps) {
			t.Fatalf("round %d: registry over capacity: %v > %v", round, regSum, registry)
		}
		for n := range nodes {
			if node > 0 && nodeSum[n] > node*(1+eps) {
				t.Fatalf("round %d: node %d over capacity: %v > %v", round, n, nodeSum[n], node)
			}
		}
		for i, f := range flows {
			regBottleneck := registry > 0 && regSum >= registry*(1-eps) && f.rate >= regMax*(1-eps)
			nodeBottleneck := node > 0 && nodeSum[f.node] >= node*(1-eps) && f.rate >= nodeMax[f.node]*(1-eps)
			if !regBottleneck && !nodeBottleneck {
				t.Fatalf("round %d: flow %d (node %d, %v MB/s) has no bottleneck link (registry %v/%v, node %v/%v)",
					round, i, f.node, f.rate/mb, regSum/mb, registry/mb, nodeSum[f.node]/mb, node/mb)
			}
		}
	}
}

// TestTransferPoolUnlimited: with no caps, or an empty image, a transfer
// completes at once (no flow, an immediate image-ready event after the pull
// overhead).
func TestTransferPoolUnlimited(t *testing.T) {
	e := poolEngine(t, 1, 0, 0)
	e.transfers.add(kubelet{e}, 5, 0, 0, 1e9)
	if e.transfers.active() != 0 {
		t.Error("unlimited pool keeps a flow")
	}
	e = poolEngine(t, 1, 10*mb, 10*mb)
	e.transfers.add(kubelet{e}, 5, 0, 0, 0)
	if e.transfers.active() != 0 {
		t.Error("empty image keeps a flow")
	}
	if e.cal.len() != 1 {
		t.Fatalf("calendar has %d items, want 1 (image ready)", e.cal.len())
	}
	if it := e.cal.pop(); it.kind != evAgent || it.sub != kImageReady || it.t != 5 {
		t.Errorf("item %+v, want evImageReady at 5", it)
	}
}

// TestTransferPoolCompletionsMatchFluidModel drives the pool through the
// engine's calendar (transfer ticks) with random flows starting at random
// times, and compares every image's arrival with an independent fluid
// simulation that recomputes max-min rates by repeatedly saturating the
// tightest link.
func TestTransferPoolCompletionsMatchFluidModel(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for round := range 200 {
		nodes := 1 + r.IntN(4)
		registry := float64(1+r.IntN(4)) * 20 * mb
		node := float64(1+r.IntN(3)) * 10 * mb
		if r.IntN(4) == 0 {
			registry = 0
		}
		type start struct {
			at   float64
			node int
			size float64
		}
		var starts []start
		at := 0.0
		for range 1 + r.IntN(10) {
			if r.IntN(2) == 0 {
				at += float64(r.IntN(8)) * 0.25
			}
			starts = append(starts, start{at, r.IntN(nodes), float64(1+r.IntN(100)) * mb})
		}

		// The engine's pool, driven by its calendar.
		e := poolEngine(t, nodes, registry, node)
		got := make([]float64, len(starts))
		next := 0
		for next < len(starts) || e.cal.len() > 0 {
			if next < len(starts) && (e.cal.len() == 0 || starts[next].at <= e.cal.items[0].t) {
				s := starts[next]
				e.transfers.add(kubelet{e}, s.at, s.node, int32(next), s.size)
				next++
				continue
			}
			it := e.cal.pop()
			if it.kind != evAgent {
				continue
			}
			switch it.sub {
			case kTransfer:
				kubelet{e}.transferTick(it.tag, it.t)
			case kImageReady:
				got[it.tag] = it.t
			}
		}

		// The reference: a fluid simulation from event to event.
		want := make([]float64, len(starts))
		remain := make([]float64, len(starts))
		for i, s := range starts {
			remain[i] = s.size
		}
		active := map[int]bool{}
		now, k := 0.0, 0
		for k < len(starts) || len(active) > 0 {
			for k < len(starts) && starts[k].at <= now {
				active[k] = true
				k++
			}
			rate := refMaxMin(active, func(i int) int { return starts[i].node }, registry, node)
			dt := math.Inf(1)
			for i := range active {
				dt = min(dt, remain[i]/rate[i])
			}
			if k < len(starts) {
				dt = min(dt, starts[k].at-now)
			}
			now += dt
			for i := range active {
				remain[i] -= rate[i] * dt
				if remain[i] <= 1e-3 {
					want[i] = now
					delete(active, i)
				}
			}
		}
		for i := range starts {
			if math.Abs(got[i]-want[i]) > 1e-9*max(1, want[i]) {
				t.Fatalf("round %d (registry %v MB/s, node %v MB/s, starts %+v): flow %d arrives at %v, fluid model %v",
					round, registry/mb, node/mb, starts, i, got[i], want[i])
			}
		}
	}
}

// refMaxMin computes max-min fair rates of the active flows: repeatedly find
// the link (registry or a node) with the smallest fair share of its
// remaining capacity among its unfrozen flows, and freeze its flows there.
func refMaxMin(active map[int]bool, nodeOf func(int) int, registry, node float64) map[int]float64 {
	rate := map[int]float64{}
	capLeft := map[int]float64{} // link -1 = registry, n = node n
	inf := math.Inf(1)
	capOf := func(link int) float64 {
		if link < 0 {
			if registry > 0 {
				return registry
			}
			return inf
		}
		if node > 0 {
			return node
		}
		return inf
	}
	for len(rate) < len(active) {
		count := map[int]int{}
		for i := range active {
			if _, done := rate[i]; !done {
				count[-1]++
				count[nodeOf(i)]++
			}
		}
		best, bestShare := 0, inf
		for link, c := range count {
			left, ok := capLeft[link]
			if !ok {
				left = capOf(link)
			}
			if s := left / float64(c); s < bestShare || (s == bestShare && link < best) {
				best, bestShare = link, s
			}
		}
		for i := range active {
			if _, done := rate[i]; done {
				continue
			}
			if best >= 0 && nodeOf(i) != best {
				continue
			}
			rate[i] = bestShare
			for _, link := range []int{-1, nodeOf(i)} {
				left, ok := capLeft[link]
				if !ok {
					left = capOf(link)
				}
				capLeft[link] = left - bestShare
			}
		}
	}
	return rate
}
