package kube

import (
	"testing"

	"github.com/convergesim/converge/engine"
)

// A 4000m / 10 Gi node with the given non-zero and real requests already
// assigned.
func scoredNode(nzCPU, nzMem, cpu, mem int64) *engine.Node {
	n := makeNode("n", 4000, 10*gi)
	n.NonZeroRequested = engine.Resources{MilliCPU: nzCPU, Memory: nzMem}
	n.Requested = engine.Resources{MilliCPU: cpu, Memory: mem}
	return n
}

func fitScore(t *testing.T, strategy ScoringStrategy, n *engine.Node, p *engine.Pod) int64 {
	t.Helper()
	cfg := DefaultConfig()
	cfg.ScoringStrategy = strategy
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	r := newResourceAllocationScorer(strategy.Resources, false, scoringStrategies[strategy.Type](&strategy))
	return r.score(n, p)
}

var cpuMem = []ResourceSpec{{"cpu", 1}, {"memory", 1}}

func TestLeastAllocated(t *testing.T) {
	pod := makePod(0, makeTemplate(500, 1*gi))
	bestEffort := makePod(1, &engine.PodTemplate{Containers: []engine.Container{{Name: "c"}}})
	gpuPod := makePod(2, &engine.PodTemplate{Containers: []engine.Container{{Name: "c", MilliCPU: 1000, GPU: 1}}})
	gpuNode := scoredNode(1000, 0, 1000, 0)
	gpuNode.Allocatable.GPU = 4
	gpuNode.Requested.GPU = 2
	for _, tc := range []struct {
		name      string
		resources []ResourceSpec
		node      *engine.Node
		pod       *engine.Pod
		want      int64
	}{
		// cpu (4000−(3000+500))·100/4000 = 50000/4000 = 12 (12.5 truncated)
		// mem (10Gi−(5Gi+1Gi))·100/10Gi = 40
		// (12·1 + 40·1)/2 = 26
		{"cpu 3000m used", cpuMem, scoredNode(3000, 5*gi, 3000, 5*gi), pod, 26},
		// idle: cpu 3500·100/4000 = 87, mem 9·100/10 = 90 → (87+90)/2 = 88
		{"idle", cpuMem, scoredNode(0, 0, 0, 0), pod, 88},
		// weights cpu 3, memory 1: (12·3 + 40·1)/4 = 76/4 = 19
		{"weighted", []ResourceSpec{{"cpu", 3}, {"memory", 1}}, scoredNode(3000, 5*gi, 3000, 5*gi), pod, 19},
		// requested > capacity scores 0 for that resource:
		// cpu 4000+500 > 4000 → 0; mem (10−1)·100/10 = 90 → 45
		{"cpu over capacity", cpuMem, scoredNode(4000, 0, 4000, 0), pod, 45},
		// best-effort pod counts 100m / 200Mi:
		// cpu (4000−100)·100/4000 = 97; mem (10240−200)·100/10240 = 98 → 97
		{"non-zero defaults", cpuMem, scoredNode(0, 0, 0, 0), bestEffort, 97},
		// gpu not requested by the pod → skipped, only cpu+mem count:
		// cpu (4000−1000−500)·100/4000 = 62; mem (10Gi−1Gi)·100/10Gi = 90
		// (62+90)/2 = 76
		{"gpu not requested", append(cpuMem[:2:2], ResourceSpec{"nvidia.com/gpu", 2}), scoredNode(1000, 0, 1000, 0), pod, 76},
		// gpu requested: cpu (4000−2000)·100/4000 = 50; mem 98; gpu (4−3)·100/4 = 25
		// (50 + 98 + 25·2)/4 = 198/4 = 49
		{"gpu requested", append(cpuMem[:2:2], ResourceSpec{"nvidia.com/gpu", 2}), gpuNode, gpuPod, 49},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := fitScore(t, ScoringStrategy{Type: LeastAllocated, Resources: tc.resources}, tc.node, tc.pod)
			if got != tc.want {
				t.Errorf("score = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestMostAllocated(t *testing.T) {
	pod := makePod(0, makeTemplate(500, 1*gi))
	for _, tc := range []struct {
		name string
		node *engine.Node
		want int64
	}{
		// cpu 3500·100/4000 = 87; mem 6Gi·100/10Gi = 60 → (87+60)/2 = 73
		{"cpu 3000m used", scoredNode(3000, 5*gi, 3000, 5*gi), 73},
		// idle: cpu 500·100/4000 = 12; mem 10 → 11
		{"idle", scoredNode(0, 0, 0, 0), 11},
		// requested capped at capacity: cpu 4500 → 4000 → 100; mem 10 → 55
		{"over capacity", scoredNode(4000, 0, 4000, 0), 55},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := fitScore(t, ScoringStrategy{Type: MostAllocated, Resources: cpuMem}, tc.node, pod)
			if got != tc.want {
				t.Errorf("score = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestRequestedToCapacityRatio(t *testing.T) {
	pod := makePod(0, makeTemplate(500, 1*gi))
	rising := []UtilizationShapePoint{{0, 0}, {100, 10}}
	falling := []UtilizationShapePoint{{0, 10}, {100, 0}}
	kinked := []UtilizationShapePoint{{0, 0}, {50, 0}, {100, 10}}
	for _, tc := range []struct {
		name  string
		shape []UtilizationShapePoint
		node  *engine.Node
		want  int64
	}{
		// utilization cpu 3500·100/4000 = 87, mem 60; shape scores ×10:
		// f(87) = 0 + (100−0)·(87−0)/(100−0) = 87, f(60) = 60
		// round((87+60)/2) = round(73.5) = 74 (MostAllocated truncates to 73)
		{"rising", rising, scoredNode(3000, 5*gi, 3000, 5*gi), 74},
		// f(87) = 100 + (0−100)·87/100 = 13, f(60) = 40 → round(26.5) = 27
		{"falling", falling, scoredNode(3000, 5*gi, 3000, 5*gi), 27},
		// f(87) = 0 + 100·(87−50)/50 = 74; f(60) = 100·10/50 = 20 → 47
		{"kinked", kinked, scoredNode(3000, 5*gi, 3000, 5*gi), 47},
		// mem utilization (3+1)·100/10 = 40 → f = 0, which drops memory from
		// the weight sum (upstream quirk): 74/1 = 74
		{"zero score excluded", kinked, scoredNode(3000, 3*gi, 3000, 3*gi), 74},
		// cpu over capacity → f(100) = 100; mem 10 → f(10) = 10 → 55
		{"over capacity", rising, scoredNode(4000, 0, 4000, 0), 55},
		// a single point is flat: f = 50 everywhere → 50
		{"single point", []UtilizationShapePoint{{30, 5}}, scoredNode(0, 0, 0, 0), 50},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := ScoringStrategy{Type: RequestedToCapacityRatio, Resources: cpuMem}
			s.RequestedToCapacityRatio.Shape = tc.shape
			if got := fitScore(t, s, tc.node, pod); got != tc.want {
				t.Errorf("score = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestBalancedAllocation(t *testing.T) {
	r := newResourceAllocationScorer(balancedResources, true, balancedResourceScorer)
	pod := makePod(0, makeTemplate(1000, 1*gi))
	for _, tc := range []struct {
		name string
		node *engine.Node
		want int64
	}{
		// real requests: cpu (1000+1000)/4000 = 0.5, mem (2+1)/10 = 0.3
		// std = |0.5−0.3|/2 = 0.1 → (1−0.1)·100 = 90
		{"two resources", scoredNode(9999, 9*gi, 1000, 2*gi), 90},
		// idle: cpu 0.25, mem 0.1 → std 0.075 → 92.5 → 92
		{"idle", scoredNode(0, 0, 0, 0), 92},
		// cpu (3500+1000)/4000 > 1 → capped at 1; mem 0.1 → std 0.45 → 55
		{"capped", scoredNode(0, 0, 3500, 0), 55},
		// perfectly balanced: cpu 2000/4000 = 0.5, mem 5/10 = 0.5 → 100
		{"balanced", scoredNode(0, 0, 1000, 4*gi), 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := r.score(tc.node, pod); got != tc.want {
				t.Errorf("score = %d, want %d", got, tc.want)
			}
		})
	}
	// Three resources: fractions 0.2, 0.4, 0.6; mean 0.4;
	// std = sqrt((0.04+0+0.04)/3) = 0.1633 → 83.67 → 83.
	if got := balancedResourceScorer([]int64{2, 4, 6}, []int64{10, 10, 10}); got != 83 {
		t.Errorf("three resources: %d, want 83", got)
	}
	// A resource the node lacks is ignored: one fraction → std 0 → 100.
	if got := balancedResourceScorer([]int64{2, 0}, []int64{10, 0}); got != 100 {
		t.Errorf("one resource: %d, want 100", got)
	}
}

func TestImageScorePriority(t *testing.T) {
	for _, tc := range []struct {
		sum        int64
		containers int
		want       int64
	}{
		{0, 1, 0},                // below 23 MiB → clamped to 23 MiB → 0
		{23 * mib, 1, 0},         // at the threshold → 0
		{1000 * mib, 1, 100},     // at the maximum for one container → 100
		{5000 * mib, 1, 100},     // clamped to the maximum → 100
		{500 * mib, 1, 48},       // 100·(500−23)/(1000−23) = 47700/977 = 48.8 → 48
		{500 * mib, 2, 24},       // 100·(500−23)/(2000−23) = 47700/1977 = 24.1 → 24
		{(500 * mib) / 3, 1, 14}, // 100·(166.7−23)/977 = 14.7 → 14
	} {
		if got := imageScorePriority(tc.sum, tc.containers); got != tc.want {
			t.Errorf("imageScorePriority(%d MiB, %d) = %d, want %d", tc.sum/mib, tc.containers, got, tc.want)
		}
	}
}
