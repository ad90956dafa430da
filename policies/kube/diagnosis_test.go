package kube

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/convergesim/converge/engine"
)

// diagnoseReference is the diagnosis as upstream writes it, and as this
// package did before verdicts were coded and counted: every node through
// the filters, a histogram keyed by reason text, the "count reason"
// entries sorted as strings. The tests hold the counted and remembered
// diagnoses to it.
func diagnoseReference(st *cycleState, nodes []*engine.Node) (msg string, rejectors pluginSet, passed int) {
	if len(nodes) == 0 {
		return "no nodes available to schedule pods", 0, 0
	}
	hist := map[string]int{}
	for _, n := range nodes {
		p, detail := filter(st, n)
		rejectors |= p
		switch p {
		case 0:
			passed++
		case pluginNodeUnschedulable:
			hist[reasonNodeUnschedulable]++
		case pluginTaintToleration:
			hist[untoleratedTaintReason(&n.Taints[detail])]++
		case pluginNodeAffinity:
			hist[reasonNodeAffinity]++
		case pluginNodeResourcesFit:
			for _, r := range insufficientReasons {
				if insufficient(detail)&r.bit != 0 {
					hist[r.reason]++
				}
			}
		}
	}
	reasons := make([]string, 0, len(hist))
	for r, c := range hist {
		reasons = append(reasons, fmt.Sprintf("%d %s", c, r))
	}
	slices.Sort(reasons)
	return fmt.Sprintf("0/%d nodes are available: %s.", len(nodes), strings.Join(reasons, ", ")), rejectors, passed
}

// randomCluster builds n nodes with mixed sizes, pod limits, zone and tier
// labels, taints of every effect and a few cordoned nodes.
func randomCluster(r *rand.Rand, n int) []*engine.Node {
	taints := []engine.Taint{
		{Key: "k1", Value: "v1", Effect: engine.NoSchedule},
		{Key: "k2", Value: "v2", Effect: engine.NoExecute},
		{Key: "k3", Value: "v3", Effect: engine.PreferNoSchedule},
		{Key: "k1", Value: "v9", Effect: engine.NoSchedule},
		{Key: "k1", Value: "v1", Effect: engine.NoExecute}, // same reason text as the first
	}
	nodes := make([]*engine.Node, n)
	for i := range nodes {
		nd := makeNode(fmt.Sprintf("node-%d", i), []int64{2000, 4000, 8000}[r.IntN(3)], []int64{4 * gi, 16 * gi}[r.IntN(2)])
		nd.Index = i
		if r.IntN(4) == 0 {
			nd.Allocatable.GPU = 2
		}
		if r.IntN(8) == 0 {
			nd.Allocatable.Pods = 3
		}
		randomizeNode(r, nd, taints)
		nodes[i] = nd
	}
	return nodes
}

// randomizeNode redraws a node's labels, taints and cordon.
func randomizeNode(r *rand.Rand, nd *engine.Node, taints []engine.Taint) {
	delete(nd.Labels, engine.LabelZone)
	delete(nd.Labels, "tier")
	if z := r.IntN(4); z < 3 {
		nd.Labels[engine.LabelZone] = []string{"a", "b", "c"}[z]
	}
	if t := r.IntN(3); t < 2 {
		nd.Labels["tier"] = []string{"x", "y"}[t]
	}
	nd.Taints = nil
	for range r.IntN(3) {
		if r.IntN(3) == 0 {
			nd.Taints = append(nd.Taints, taints[r.IntN(len(taints))])
		}
	}
	nd.Unschedulable = r.IntN(20) == 0
}

// randomTemplates draws templates with every filter in play: requests
// (some never fit), tolerations, node selectors and required affinity.
func randomTemplates(r *rand.Rand, n int) []*engine.PodTemplate {
	var out []*engine.PodTemplate
	for range n {
		t := makeTemplate([]int64{0, 500, 1000, 3000, 9000}[r.IntN(5)], []int64{0, gi, 8 * gi}[r.IntN(3)])
		if r.IntN(4) == 0 {
			t.Containers[0].GPU = 1
		}
		t.Priority = int64(r.IntN(2))
		for _, tol := range []engine.Toleration{
			{Key: "k1", Operator: "Exists"},
			{Key: "k2", Value: "v2", Effect: engine.NoExecute},
			{Key: taintNodeUnschedulable, Operator: "Exists", Effect: engine.NoSchedule},
		} {
			if r.IntN(3) == 0 {
				t.Tolerations = append(t.Tolerations, tol)
			}
		}
		if r.IntN(4) == 0 {
			t.NodeSelector = map[string]string{"tier": "x"}
		}
		if r.IntN(4) == 0 {
			t.Affinity = &engine.NodeAffinity{Required: []engine.NodeSelectorTerm{{MatchExpressions: []engine.NodeSelectorRequirement{
				{Key: engine.LabelZone, Operator: "In", Values: []string{"a", "b"}}}}}}
		}
		out = append(out, t)
	}
	return out
}

// Whole runs with and without the remembered diagnoses make the same
// decisions at the same times with the same FailedScheduling messages,
// through backlogs, deletions of bound and pending pods, pods whose
// requests are not their template's, and node changes; every message is
// also the reference diagnosis of the cluster the cycle saw.
func TestKnownFailuresMatchFullDiagnosis(t *testing.T) {
	for _, tc := range []struct {
		name  string
		nodes int
		cfg   func(*Config)
	}{
		{"default-60", 60, nil},
		{"default-150", 150, nil},
		{"most-allocated-120", 120, func(c *Config) { c.ScoringStrategy.Type = MostAllocated }},
		{"no-scoring-80", 80, func(c *Config) { c.PluginWeights = PluginWeights{} }},
		{"score-all-130", 130, func(c *Config) { c.PercentageOfNodesToScore = 100 }},
		{"cycle-cost-100", 100, func(c *Config) { c.CycleSeconds, c.PerNodeSeconds = 0.0005, 2e-6 }},
		{"short-log-70", 70, nil}, // the change log is cut often
	} {
		t.Run(tc.name, func(t *testing.T) {
			if strings.HasPrefix(tc.name, "short-log") {
				defer func(v int) { changeLogSlack = v }(changeLogSlack)
				changeLogSlack = -4*tc.nodes + 10
			}
			for seed := uint64(1); seed <= 3; seed++ {
				on, stOn := knownFailureRun(t, tc.nodes, tc.cfg, seed, false)
				off, _ := knownFailureRun(t, tc.nodes, tc.cfg, seed, true)
				if on != off {
					t.Fatalf("seed %d: the runs differ:\n%s", seed, firstDiff(on, off))
				}
				if stOn.KnownFailures == 0 || stOn.KnownFailures == stOn.Unschedulable {
					t.Errorf("seed %d: %d of %d failures known: the test does not exercise both paths", seed, stOn.KnownFailures, stOn.Unschedulable)
				}
			}
		})
	}
}

func knownFailureRun(t *testing.T, n int, tweak func(*Config), seed uint64, off bool) (string, Stats) {
	r := rand.New(rand.NewPCG(seed, 77))
	nodes := randomCluster(r, n)
	cfg := testConfig()
	if tweak != nil {
		tweak(&cfg)
	}
	h := newHarness(t, cfg, nodes)
	h.s.fails.off = off
	var checked int
	h.onFail = func(p *engine.Pod, reason string) {
		st := cycleState{pod: p, ti: h.s.templateInfo(p.Template)}
		if want, _, _ := diagnoseReference(&st, h.c.Nodes); reason != want {
			t.Fatalf("t=%g %s: message\n got %q\nwant %q", h.now, p.Name, reason, want)
		}
		checked++
	}
	templates := randomTemplates(r, 6)
	taints := []engine.Taint{{Key: "k1", Value: "v1", Effect: engine.NoSchedule}, {Key: "k4", Value: "new", Effect: engine.NoSchedule}}
	for i := range 700 {
		p := makePod(i, templates[r.IntN(len(templates))])
		if r.IntN(20) == 0 { // requests not the template's
			p.Requests.MilliCPU += 250
			p.NonZero.MilliCPU += 250
		}
		at := float64(r.IntN(600)) * 0.1
		h.create(at, p)
		if r.IntN(4) > 0 {
			h.push(at+1+r.Float64()*40, engine.Event{Kind: engine.PodDeleted, Pod: p}, func() {
				if p.Node != nil {
					release(p)
				}
			})
		}
	}
	for range 12 {
		nd := nodes[r.IntN(len(nodes))]
		h.nodeChanged(r.Float64()*80, nd, func() {
			randomizeNode(r, nd, taints)
			// Not below what is bound there (the harness checks binds
			// against every resource).
			nd.Allocatable.MilliCPU = max([]int64{1000, 4000, 16000}[r.IntN(3)], nd.Requested.MilliCPU)
		})
	}
	h.run(1e4)
	if changeLogSlack < 0 && !off && h.s.nodes.logBase == 0 {
		t.Error("the change log was never cut")
	}
	st := h.s.Stats()
	if st.CacheReloads != 0 {
		t.Errorf("cache reloads: %d", st.CacheReloads)
	}
	if checked == 0 {
		t.Fatal("no failed cycle")
	}
	var b strings.Builder
	for _, x := range h.binds {
		fmt.Fprintf(&b, "bind %g %s %s %g\n", x.at, x.pod, x.node, x.delay)
	}
	for _, x := range h.fails {
		fmt.Fprintf(&b, "fail %g %s %s\n", x.at, x.pod, x.reason)
	}
	for _, x := range h.timers {
		fmt.Fprintf(&b, "timer %g %g %d\n", x.set, x.at, x.tag)
	}
	return b.String(), st
}

func firstDiff(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(la), len(lb)) {
		if la[i] != lb[i] {
			return fmt.Sprintf("line %d:\n  %s\n  %s", i, la[i], lb[i])
		}
	}
	return fmt.Sprintf("lengths %d and %d", len(la), len(lb))
}

// The cache keeps at most failCacheSize records and evicts the least
// recently used; an evicted template has no record.
func TestFailCacheBounded(t *testing.T) {
	const nodes = 1 << 21 // 2 records by the budget, 4 by the floor
	if got := failCacheSize(nodes); got != 4 {
		t.Fatalf("failCacheSize = %d, want 4", got)
	}
	if got := failCacheSize(100); got != 64 {
		t.Fatalf("failCacheSize(100) = %d, want 64", got)
	}
	var fc failCache
	tis := make([]*templateInfo, 6)
	for i := range tis {
		tis[i] = &templateInfo{shape: int32(i + 1)}
	}
	for _, ti := range tis[:4] {
		fc.take(ti, nodes)
	}
	fc.lookup(tis[0]) // 1 is now the least recently used
	fc.take(tis[4], nodes)
	if len(fc.recs) != 4 || tis[1].fail != nil || tis[4].fail == nil || tis[0].fail == nil {
		t.Fatalf("after eviction: %d records, fail of 0,1,4: %v %v %v", len(fc.recs), tis[0].fail, tis[1].fail, tis[4].fail)
	}
	fc.take(tis[5], nodes) // evicts 2
	if tis[2].fail != nil || tis[5].fail == nil || tis[5].fail.ti != tis[5] {
		t.Fatal("second eviction")
	}
}
