package kube

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/convergesim/converge/engine"
)

func TestDivisionShortcutsAreExact(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	check := func(n, d int64) {
		want := n / d
		if got := floorDiv(n, d); got != want {
			t.Fatalf("floorDiv(%d, %d) = %d, want %d", n, d, got, want)
		}
		if d < fastFloatLimit {
			if got := divRecip(n, d, 1/float64(d)); got != want {
				t.Fatalf("divRecip(%d, %d) = %d, want %d", n, d, got, want)
			}
		}
	}
	for range 200000 {
		d := 1 + r.Int64N(fastFloatLimit-1)
		if r.IntN(2) == 0 {
			d = 1 + r.Int64N(1<<20) // small capacities (millicores, GPUs)
		}
		q := r.Int64N(MaxNodeScore + 1)
		// Quotients exactly at, just below and just above an integer, and
		// random numerators.
		for _, n := range []int64{q * d, q*d - 1, q*d + 1, r.Int64N(d*MaxNodeScore + 1)} {
			if n >= 0 && n <= d*MaxNodeScore {
				check(n, d)
			}
		}
	}
}

// The fused fast path gives the same integers as the generic scorers
// (upstream's structure) on random nodes, pods and configurations.
func TestFastResourcesMatchGeneric(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	pick := func(vals ...int64) int64 { return vals[r.IntN(len(vals))] }
	for iter := range 300 {
		cfg := DefaultConfig()
		cfg.ScoringStrategy.Type = []ScoringStrategyType{LeastAllocated, MostAllocated}[r.IntN(2)]
		switch r.IntN(4) {
		case 0:
			cfg.ScoringStrategy.Resources = []ResourceSpec{{"cpu", 1 + r.Int64N(5)}, {"memory", 1 + r.Int64N(5)}}
		case 1:
			cfg.ScoringStrategy.Resources = []ResourceSpec{{"cpu", 1 + r.Int64N(5)}}
		case 2:
			cfg.ScoringStrategy.Resources = []ResourceSpec{{"memory", 2}, {"cpu", 2}}
		}
		cfg.PluginWeights.NodeResourcesFit = r.Int64N(3)
		cfg.PluginWeights.NodeResourcesBalancedAllocation = r.Int64N(3)
		s := newTestScheduler(t, cfg, 1)
		if s.fast == nil {
			t.Fatalf("config %d has no fast path", iter)
		}
		for range 200 {
			alloc := engine.Resources{MilliCPU: pick(0, 1000, 4000, 32000, 1+r.Int64N(200000)),
				Memory: pick(0, 8*gi, 128*gi, 1+r.Int64N(1<<40)), Pods: 110}
			n := &engine.Node{Allocatable: alloc}
			n.Requested = engine.Resources{MilliCPU: r.Int64N(alloc.MilliCPU + 2000), Memory: r.Int64N(alloc.Memory + 4*gi)}
			n.NonZeroRequested = engine.Resources{MilliCPU: n.Requested.MilliCPU + pick(0, 100, 500), Memory: n.Requested.Memory + pick(0, 200*engine.MiB)}
			tmpl := makeTemplate(pick(0, 100, 1000, r.Int64N(40000)), pick(0, gi, r.Int64N(200*gi)))
			p := makePod(0, tmpl)
			w := cfg.PluginWeights
			var want int64
			if w.NodeResourcesFit > 0 {
				want += w.NodeResourcesFit * s.fit.score(n, p)
			}
			if w.NodeResourcesBalancedAllocation > 0 && (p.Requests.MilliCPU != 0 || p.Requests.Memory != 0) {
				want += w.NodeResourcesBalancedAllocation * s.balanced.score(n, p)
			}
			pr := s.fast.podRequests(p)
			nc := nodeCache{hot: []nodeHot{loadHot(n)}, memo: make([]scoreMemo, 1)}
			var total [1]int64
			// shape 0: no memo; shape 1: computed, then a memo hit.
			for _, shape := range []int32{0, 1, 1} {
				s.fast.scoreAll(&nc, []int32{0}, total[:], &pr, shape)
				if total[0] != want {
					t.Fatalf("config %+v\nnode %+v pod %+v shape %d: fast %d, generic %d", cfg.ScoringStrategy, n, p.Requests, shape, total[0], want)
				}
			}
			if got := s.fast.nodeScore(&nc.hot[0], &pr); got != want {
				t.Fatalf("nodeScore %d, generic %d", got, want)
			}
		}
	}
}

// Whole runs with the fast path (compact copy, memo) and with the generic
// scorers make the same decisions, through binds, deletions, several
// templates, taints and node changes.
func TestFastPathRunMatchesGeneric(t *testing.T) {
	run := func(generic bool) string {
		nodes := makeNodes(150, 8000, 32*gi)
		for i, n := range nodes {
			n.Allocatable.MilliCPU = int64(4000 + 2000*(i%3))
			if i%17 == 0 {
				n.Taints = []engine.Taint{{Key: "soft", Effect: engine.PreferNoSchedule}}
			}
		}
		h := newHarness(t, testConfig(), nodes)
		h.s.rng = engine.NewStreams(9).Get("kube.tiebreak")
		if generic {
			h.s.fast = nil
		}
		templates := []*engine.PodTemplate{makeTemplate(1000, 2*gi), makeTemplate(250, 0), makeTemplate(0, 0), makeTemplate(3000, 12*gi)}
		r := rand.New(rand.NewPCG(5, 6))
		for i := range 1500 {
			p := makePod(i, templates[r.IntN(len(templates))])
			at := float64(i) * 0.01
			h.create(at, p)
			if r.IntN(3) > 0 {
				h.push(at+5+r.Float64()*20, engine.Event{Kind: engine.PodDeleted, Pod: p}, func() {
					if p.Node != nil {
						release(p)
					}
				})
			}
		}
		h.nodeChanged(7, nodes[3], func() { nodes[3].Allocatable.MilliCPU = 16000 })
		h.run(1e4)
		if st := h.s.Stats(); st.CacheReloads != 0 {
			t.Errorf("cache reloads: %d", st.CacheReloads)
		}
		return fmt.Sprint(h.binds, len(h.fails))
	}
	fast, generic := run(false), run(true)
	if fast != generic {
		t.Fatalf("fast and generic runs differ")
	}
}

// A change the engine did not report is caught before binding: the cycle
// reloads the compact copy and runs again.
func TestCacheReloadOnUnreportedChange(t *testing.T) {
	nodes := makeNodes(2, 4000, 8*gi)
	h := newHarness(t, testConfig(), nodes)
	h.create(0, makePod(0, makeTemplate(1000, gi)))
	h.run(0)
	// Fill both nodes behind the scheduler's back; node-1 keeps 1 core.
	nodes[0].Requested.MilliCPU = 4000
	nodes[1].Requested.MilliCPU += 2000
	h.create(1, makePod(1, makeTemplate(1000, gi)))
	h.create(2, makePod(2, makeTemplate(1000, gi)))
	h.run(10)
	if st := h.s.Stats(); st.CacheReloads == 0 {
		t.Errorf("no reload: %+v", st)
	}
	// pod-1 fits only on node-1 (1 core left after node-1's first pod? the
	// first pod went to one of them): every bind must respect the engine.
	for _, b := range h.binds {
		if b.at > 0 && b.node != "node-1" {
			t.Errorf("bind %+v on a full node", b)
		}
	}
	// The harness fails the test on any over-commitment.
}
