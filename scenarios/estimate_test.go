package scenarios

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// TestEstimate: the size is the counts Build will make, and the bytes
// are the per-unit costs applied to them.
func TestEstimate(t *testing.T) {
	doc := edit(t, "    parallelism: 2\n", "    count: 3\n    parallelism: 4\n    completions: 6\n") +
		"  - name: p\n    kind: Pod\n    count: 5\n    runTime: 1\n    pod: {containers: [{name: c, image: x:1}]}\n"
	doc = strings.Replace(doc, "      memory: 8Gi\n", "      memory: 8Gi\n      labels: {a: b, c: d}\n", 1)
	sc, err := Parse("t.yaml", []byte(doc), Overrides{IgnoreEnv: true})
	if err != nil {
		t.Fatal(err)
	}
	s := Estimate(sc)
	// 2 nodes; 3 jobs of 6 completions, 5 bare pods.
	want := Size{Nodes: 2, Jobs: 8, Pods: 23, Events: 23*EventsPerPod + 8*EventsPerJob,
		Bytes: BytesBase + 2*(BytesPerNode+2*BytesPerNodeLabel) + 8*BytesPerJob + 23*BytesPerPod}
	if s != want {
		t.Errorf("Estimate = %+v, want %+v", s, want)
	}
	res := mustRun(t, sc)
	if len(res.Jobs) != int(s.Jobs) || len(res.Pods) != int(s.Pods) || len(res.Cluster.Nodes) != int(s.Nodes) {
		t.Errorf("the run made %d nodes, %d jobs, %d pods; the estimate said %d, %d, %d", len(res.Cluster.Nodes), len(res.Jobs), len(res.Pods), s.Nodes, s.Jobs, s.Pods)
	}
	if res.FinishedPods() != len(res.Pods) {
		t.Errorf("%d of %d pods finished", res.FinishedPods(), len(res.Pods))
	}
}

// TestEstimateSaturates: counts at the top of int64 give a saturated
// estimate, never an overflow or a panic, and CheckSize refuses them.
func TestEstimateSaturates(t *testing.T) {
	for _, tc := range []struct{ old, new, path string }{
		{"count: 2", fmt.Sprintf("count: %d", math.MaxInt64), "cluster.pools[0].count"},
		{"parallelism: 2", fmt.Sprintf("count: %d\n    parallelism: %d", math.MaxInt64, math.MaxInt64), "workloads[0].count"},
		{"parallelism: 2", fmt.Sprintf("parallelism: %d", math.MaxInt64), "workloads[0].parallelism"},
	} {
		sc, err := Parse("t.yaml", []byte(edit(t, tc.old, tc.new)), Overrides{IgnoreEnv: true})
		if err != nil {
			t.Fatal(err)
		}
		s := Estimate(sc)
		if s.Bytes != math.MaxInt64 || (s.Nodes != math.MaxInt64 && s.Pods != math.MaxInt64) {
			t.Errorf("%s: estimate %+v, want saturated", tc.new, s)
		}
		err = CheckSize(sc, Limits{})
		if err == nil || !strings.HasPrefix(err.Error(), "t.yaml:") || !strings.Contains(err.Error(), ": "+tc.path+": ") || !strings.Contains(err.Error(), "32-bit ids") {
			t.Errorf("%s: CheckSize: %v, want a refusal at %s", tc.new, err, tc.path)
		}
		if _, err := Build(sc); err == nil {
			t.Errorf("%s: Build accepted it", tc.new)
		}
	}
}

// TestCheckSize: a scenario over a limit is refused at the field that
// makes it large, with its line or the override that set it, and says
// the limit and where it comes from.
func TestCheckSize(t *testing.T) {
	lim := Limits{MaxBytes: 8 << 30, BytesHow: "--max-memory", MaxNodes: 50_000, NodesHow: "--max-nodes", MaxPods: 1_000_000, PodsHow: "--max-pods"}
	for _, tc := range []struct {
		doc  string
		ov   Overrides
		lim  Limits
		want string
	}{
		{edit(t, "count: 2", "count: 1000000000"), Overrides{}, Limits{MaxBytes: 8 << 30, BytesHow: "--max-memory"},
			"t.yaml:7: cluster.pools[0].count: the scenario (1,000,000,000 nodes, 1 jobs, 2 pods) " + about(BytesBase+1_000_000_000*BytesPerNode+BytesPerJob+2*BytesPerPod) + " of memory to run, more than the limit of 8 GiB (--max-memory)"},
		{minimal, Overrides{Set: []string{"cluster.pools[0].count=1000000000"}}, lim,
			"t.yaml: cluster.pools[0].count: the scenario has 1,000,000,000 nodes, more than the limit of 50,000 (--max-nodes) (set by --set cluster.pools[0].count)"},
		{minimal, Overrides{Env: []string{"SIM_CLUSTER__POOLS__0__COUNT=1000000000"}}, lim,
			"t.yaml: cluster.pools[0].count: the scenario has 1,000,000,000 nodes, more than the limit of 50,000 (--max-nodes) (set by environment variable SIM_CLUSTER__POOLS__0__COUNT)"},
		{edit(t, "parallelism: 2", "parallelism: 1000000000"), Overrides{}, lim,
			"t.yaml:15: workloads[0].parallelism: the scenario creates 1,000,000,000 pods, more than the limit of 1,000,000 (--max-pods)"},
		{edit(t, "parallelism: 2", "parallelism: 2\n    completions: 1000000000"), Overrides{}, Limits{MaxBytes: 8 << 30},
			"t.yaml:16: workloads[0].completions: the scenario (2 nodes, 1 jobs, 1,000,000,000 pods) " + about(BytesBase+2*BytesPerNode+BytesPerJob+1_000_000_000*BytesPerPod) + " of memory to run, more than the limit of 8 GiB"},
		{edit(t, "parallelism: 2", "count: 300000000"), Overrides{}, lim,
			"t.yaml:15: workloads[0].count: the scenario creates 300,000,000 pods, more than the limit of 1,000,000 (--max-pods)"},
		{edit(t, "parallelism: 2", "count: 3000000000"), Overrides{}, Limits{},
			"t.yaml:15: workloads[0].count: the scenario submits 3,000,000,000 jobs; a run holds at most 2,147,483,647 (the engine numbers them with 32-bit ids)"},
	} {
		ov := tc.ov
		ov.IgnoreEnv = ov.Env == nil
		sc, err := Parse("t.yaml", []byte(tc.doc), ov)
		if err != nil {
			t.Fatalf("%v", err)
		}
		if err := CheckSize(sc, tc.lim); err == nil || err.Error() != tc.want {
			t.Errorf("\n got: %v\nwant: %s", err, tc.want)
		} else if _, ok := err.(*Error); !ok {
			t.Errorf("%T is not an *Error", err)
		}
	}
	sc, err := Parse("t.yaml", []byte(minimal), Overrides{IgnoreEnv: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckSize(sc, lim); err != nil {
		t.Errorf("minimal refused: %v", err)
	}
}

// TestBuildWithinEstimate: what Build allocates stays under the estimate
// (which also covers the run), for a scenario of many nodes with labels
// and many jobs.
func TestBuildWithinEstimate(t *testing.T) {
	labels := make([]string, 50)
	for i := range labels {
		labels[i] = fmt.Sprintf("k%d: v%d", i, i)
	}
	doc := edit(t, "count: 2", "count: 20000\n      labels: {"+strings.Join(labels, ", ")+"}")
	doc = strings.Replace(doc, "parallelism: 2", "count: 20000\n    parallelism: 3", 1)
	sc, err := Parse("t.yaml", []byte(doc), Overrides{IgnoreEnv: true})
	if err != nil {
		t.Fatal(err)
	}
	buildWithinEstimate(t, sc)
}

func TestFormat(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 512: "512 B", 1536: "1.5 KiB", 8 << 30: "8 GiB", math.MaxInt64: "8 EiB"} {
		if got := FormatBytes(n); got != want {
			t.Errorf("FormatBytes(%d) = %s, want %s", n, got, want)
		}
	}
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 2147483647: "2,147,483,647"} {
		if got := count(n); got != want {
			t.Errorf("count(%d) = %s, want %s", n, got, want)
		}
	}
}

// about is the estimate's wording of a size, from the per-unit costs.
func about(bytes int64) string { return "would need about " + FormatBytes(bytes) }
