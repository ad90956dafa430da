package kube

import (
	"fmt"
	"math"
	"testing"

	"github.com/convergesim/converge/engine"
)

func TestNumFeasibleNodesToFind(t *testing.T) {
	for _, tc := range []struct {
		percentage int32
		n          int
		want       int
	}{
		{0, 50, 50},       // n < 100: every node
		{0, 99, 99},       // n < 100: every node
		{0, 100, 100},     // p = 50 − 100/125 = 50 → 50 nodes → at least 100
		{0, 1000, 420},    // p = 50 − 8 = 42 → 1000·42/100 = 420
		{0, 5000, 500},    // p = 50 − 40 = 10 → 500
		{0, 6000, 300},    // p = 50 − 48 = 2 → floor 5 % → 300
		{0, 10000, 500},   // p = 50 − 80 < 5 → 5 % → 500
		{0, 100000, 5000}, // 5 % → 5000
		{20, 1000, 200},   // configured 20 % → 200
		{1, 5000, 100},    // configured 1 % → 50 → at least 100 (no 5 % floor for a configured value)
		{20, 50, 50},      // n < 100 ignores the percentage
		{100, 5000, 5000}, // 100 % → all
	} {
		if got := numFeasibleNodesToFind(tc.percentage, tc.n); got != tc.want {
			t.Errorf("numFeasibleNodesToFind(%d, %d) = %d, want %d", tc.percentage, tc.n, got, tc.want)
		}
	}
}

// The filter search starts at nextStartNodeIndex and advances it by the
// number of nodes evaluated.
func TestRotatingStartIndex(t *testing.T) {
	nodes := makeNodes(200, 4000, 10*gi) // k = max(100, 200·(50−1)/100 = 98) = 100
	for _, i := range []int{105, 106, 107} {
		nodes[i].Unschedulable = true
	}
	s := newTestScheduler(t, testConfig(), 1)
	s.resize(&engine.Cluster{Nodes: nodes})
	tmpl := makeTemplate(100, 0)
	st := cycleState{pod: makePod(0, tmpl), ti: s.templateInfo(tmpl)}
	c := &engine.Cluster{Nodes: nodes}
	// Cycle 1: 0..99 are feasible → 100 evaluated, start 0 → 100.
	got := s.findNodesThatFit(&st, nodes)
	f := s.feasibleNodes(c)
	if got != 100 || len(f) != 100 || f[0] != nodes[0] || s.nextStartNodeIndex != 100 {
		t.Fatalf("cycle 1: processed %d, %d feasible, next %d", got, len(f), s.nextStartNodeIndex)
	}
	// Cycle 2: from 100; 105–107 are cordoned, so the 100th feasible node
	// is found after 103 nodes: 100..199 (97 feasible) then 0..2 → next 3.
	got = s.findNodesThatFit(&st, nodes)
	f = s.feasibleNodes(c)
	if got != 103 || len(f) != 100 || f[0] != nodes[100] || f[99] != nodes[2] || s.nextStartNodeIndex != 3 {
		t.Fatalf("cycle 2: processed %d, %d feasible, next %d", got, len(f), s.nextStartNodeIndex)
	}
	// A pod that fits nowhere evaluates every node; the index wraps to itself.
	big := makeTemplate(8000, 0)
	st2 := cycleState{pod: makePod(1, big), ti: s.templateInfo(big)}
	if got := s.findNodesThatFit(&st2, nodes); got != 200 || len(s.feasibleIdx) != 0 || s.nextStartNodeIndex != 3 {
		t.Fatalf("cycle 3: processed %d, %d feasible, next %d", got, len(s.feasibleIdx), s.nextStartNodeIndex)
	}
}

func TestTaintTolerationScore(t *testing.T) {
	nodes := makeNodes(3, 4000, 10*gi)
	nodes[0].Taints = []engine.Taint{{Key: "a", Effect: engine.PreferNoSchedule}, {Key: "b", Effect: engine.PreferNoSchedule}}
	nodes[1].Taints = []engine.Taint{{Key: "a", Effect: engine.PreferNoSchedule}, {Key: "c", Effect: engine.NoSchedule}}
	tmpl := makeTemplate(100, 0)
	tmpl.Tolerations = []engine.Toleration{
		{Key: "c", Operator: "Exists", Effect: engine.NoSchedule},       // lets node 1 pass the filter
		{Key: "b", Operator: "Exists", Effect: engine.PreferNoSchedule}, // counts for the score
		{Key: "a", Operator: "Exists", Effect: engine.NoExecute},        // wrong effect: ignored by the score
	}
	cfg := testConfig()
	cfg.PluginWeights = PluginWeights{TaintToleration: 1}
	s := newTestScheduler(t, cfg, 1)
	c := &engine.Cluster{Nodes: nodes}
	s.resize(c)
	st := cycleState{pod: makePod(0, tmpl), ti: s.templateInfo(tmpl)}
	s.findNodesThatFit(&st, nodes)
	got := s.prioritize(&st, c)
	// raw intolerable PreferNoSchedule: node0 1 (a), node1 1 (a), node2 0.
	// reverse-normalized: 100 − 100·raw/1 → 0, 0, 100.
	want := []int64{0, 0, 100}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("scores = %v, want %v", got, want)
	}
	// No PreferNoSchedule taint anywhere: raw 0 everywhere → 100 each.
	scores := []int64{0, 0, 0}
	defaultNormalizeScore(scores, true)
	if fmt.Sprint(scores) != "[100 100 100]" {
		t.Errorf("all-zero reverse normalize = %v", scores)
	}
}

func TestNodeAffinityScore(t *testing.T) {
	nodes := makeNodes(3, 4000, 10*gi)
	nodes[0].Labels["disk"] = "ssd"
	nodes[1].Labels["disk"] = "ssd"
	nodes[1].Labels["zone"] = "a"
	tmpl := makeTemplate(100, 0)
	term := func(k, op string, v ...string) engine.NodeSelectorTerm {
		return engine.NodeSelectorTerm{MatchExpressions: []engine.NodeSelectorRequirement{{Key: k, Operator: op, Values: v}}}
	}
	tmpl.Affinity = &engine.NodeAffinity{Preferred: []engine.PreferredSchedulingTerm{
		{Weight: 2, Term: term("disk", "In", "ssd")},
		{Weight: 5, Term: term("zone", "Exists")},
		{Weight: 0, Term: term("disk", "Exists")}, // weight 0: ignored
	}}
	cfg := testConfig()
	cfg.PluginWeights = PluginWeights{NodeAffinity: 2}
	s := newTestScheduler(t, cfg, 1)
	c := &engine.Cluster{Nodes: nodes}
	s.resize(c)
	st := cycleState{pod: makePod(0, tmpl), ti: s.templateInfo(tmpl)}
	s.findNodesThatFit(&st, nodes)
	got := s.prioritize(&st, c)
	// raw: node0 2, node1 2+5 = 7, node2 0; normalized 100·raw/7:
	// 200/7 = 28, 100, 0; weight 2 → 56, 200, 0.
	if fmt.Sprint(got) != "[56 200 0]" {
		t.Errorf("scores = %v, want [56 200 0]", got)
	}
}

func TestPodTopologySpreadScore(t *testing.T) {
	nodes := makeNodes(5, 8000, 32*gi)
	for i, z := range []string{"a", "a", "b", "b"} {
		nodes[i].Labels[engine.LabelZone] = z
	}
	// node-4 has no zone label: it is still scored on hostname spreading.
	tmpl := makeTemplate(100, 0)
	tmpl.SpreadSelectable = true
	job := &engine.Job{Name: "web", Kind: engine.KindJob, Template: tmpl}
	var pods []*engine.Pod
	for i := range 5 {
		p := &engine.Pod{ID: i, Job: job, Template: tmpl, Requests: tmpl.Requests(), NonZero: tmpl.NonZeroRequests()}
		pods = append(pods, p)
	}
	cfg := testConfig()
	cfg.PluginWeights = PluginWeights{PodTopologySpread: 1}
	s := newTestScheduler(t, cfg, 1)
	c := &engine.Cluster{Nodes: nodes}
	s.resize(c)
	// Existing pods of the job: 2 on node-0, 1 on node-2.
	for _, a := range []struct{ pod, node int }{{0, 0}, {1, 0}, {2, 2}} {
		assign(pods[a.pod], nodes[a.node])
		s.spreadAdd(pods[a.pod], nodes[a.node])
	}
	st := cycleState{pod: pods[3], ti: s.templateInfo(tmpl)}
	s.findNodesThatFit(&st, nodes)
	got := s.prioritize(&st, c)
	// 5 feasible nodes: hostname weight ln(5+2) = 1.9459; 2 zones among
	// them: zone weight ln(2+2) = 1.3863. Zone counts a = 2, b = 1.
	//   node-0: 2·1.9459 + 2 + 2·1.3863 + 4 = 12.664 → 13
	//   node-1: 0 + 2 + 2·1.3863 + 4          =  8.773 →  9
	//   node-2: 1·1.9459 + 2 + 1·1.3863 + 4 =  9.332 →  9
	//   node-3: 0 + 2 + 1.3863 + 4            =  7.386 →  7
	//   node-4: 0 + 2 (no zone)               =  2     →  2
	// normalize 100·(max + min − s)/max with max 13, min 2:
	//   100·2/13 = 15, 100·6/13 = 46, 46, 100·8/13 = 61, 100·13/13 = 100
	want := "[15 46 46 61 100]"
	if fmt.Sprint(got) != want {
		t.Errorf("scores = %v, want %s", got, want)
	}
	// Sanity check of the arithmetic above.
	if r := math.Round(2*math.Log(7) + 2 + 2*math.Log(4) + 4); r != 13 {
		t.Fatalf("node-0 raw = %v", r)
	}
	// A pod no Service selects: PreScore skips, the plugin adds nothing.
	plain := makeTemplate(100, 0)
	st = cycleState{pod: makePod(9, plain), ti: s.templateInfo(plain)}
	s.findNodesThatFit(&st, nodes)
	if got := s.prioritize(&st, c); fmt.Sprint(got) != "[0 0 0 0 0]" {
		t.Errorf("skipped plugin scores = %v", got)
	}
	// Finished pods stop counting.
	s.spreadRemove(pods[0], nodes[0])
	s.spreadRemove(pods[1], nodes[0])
	s.spreadRemove(pods[2], nodes[2])
	if len(s.spread) != 0 {
		t.Errorf("spread state not released: %d jobs", len(s.spread))
	}
}

func TestSelectHostUniform(t *testing.T) {
	total := []int64{5, 7, 3, 7, 7, 7, 1}
	ties := []int{1, 3, 4, 5}

	picks := func(seed uint64, n int) []int {
		s := newTestScheduler(t, testConfig(), seed)
		out := make([]int, n)
		for i := range out {
			out[i] = s.selectHost(total)
		}
		return out
	}
	// Same seed, same choices.
	a, b := picks(42, 50), picks(42, 50)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatalf("same seed, different choices:\n%v\n%v", a, b)
	}
	// Different seeds choose differently among the equal nodes.
	if c := picks(43, 50); fmt.Sprint(a) == fmt.Sprint(c) {
		t.Fatalf("seeds 42 and 43 made the same 50 choices")
	}
	// Only top-scoring nodes are chosen, roughly uniformly: 40,000 draws,
	// 10,000 expected per node, σ = sqrt(40000·¼·¾) ≈ 87; allow ±6σ.
	const draws = 40000
	count := map[int]int{}
	for _, i := range picks(7, draws) {
		count[i]++
	}
	for i := range total {
		want := 0
		for _, j := range ties {
			if i == j {
				want = draws / len(ties)
			}
		}
		if d := count[i] - want; d < -520 || d > 520 {
			t.Errorf("node %d chosen %d times, want about %d", i, count[i], want)
		}
	}
	// A single maximum needs no draw.
	s := newTestScheduler(t, testConfig(), 1)
	if got := s.selectHost([]int64{1, 9, 3}); got != 1 {
		t.Errorf("single maximum: %d", got)
	}
}

// With exactly one feasible node there is no scoring.
func TestOneFeasibleNodeIsNotScored(t *testing.T) {
	nodes := makeNodes(3, 4000, 10*gi)
	nodes[0].Unschedulable = true
	nodes[2].Requested.MilliCPU = 4000
	h := newHarness(t, testConfig(), nodes)
	h.create(0, makePod(0, makeTemplate(1000, gi)))
	h.run(10)
	if len(h.binds) != 1 || h.binds[0].node != "node-1" {
		t.Fatalf("binds = %+v", h.binds)
	}
	if st := h.s.Stats(); st.Scored != 0 || st.Cycles != 1 || st.NodesEvaluated != 3 {
		t.Errorf("stats = %+v", st)
	}
}
