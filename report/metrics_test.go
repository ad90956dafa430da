package report

import (
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/convergesim/converge/engine"
	"gonum.org/v1/gonum/floats/scalar"
	"gonum.org/v1/gonum/stat"
)

// tol is the tolerance of float comparisons: values are sums of a few
// binary fractions, so only rounding in the last bits is expected.
const tol = 1e-12

func same(got, want float64) bool {
	if math.IsNaN(want) {
		return math.IsNaN(got)
	}
	return scalar.EqualWithinAbsOrRel(got, want, tol, tol)
}

func TestQuantile(t *testing.T) {
	for _, c := range []struct {
		name string
		x    []float64
		p    float64
		want float64
	}{
		// h = (n−1)p; Q = x[⌊h⌋] + (h−⌊h⌋)(x[⌊h⌋+1] − x[⌊h⌋]). The same
		// values come from R quantile(x, p) and numpy.percentile(x, 100p).
		{"median of even count", []float64{1, 2, 3, 4}, 0.5, 2.5},                 // h = 1.5 → 2 + 0.5·1
		{"p90 of 1..4", []float64{1, 2, 3, 4}, 0.9, 3.7},                          // h = 2.7 → 3 + 0.7·1
		{"p99 of 1..4", []float64{1, 2, 3, 4}, 0.99, 3.97},                        // h = 2.97 → 3 + 0.97·1
		{"p25 of 4 values", []float64{10, 20, 30, 40}, 0.25, 17.5},                // h = 0.75 → 10 + 0.75·10
		{"40th percentile", []float64{15, 20, 35, 40, 50}, 0.4, 29},               // h = 1.6 → 20 + 0.6·15
		{"exact rank", []float64{15, 20, 35, 40, 50}, 0.5, 35},                    // h = 2
		{"p90 of 0..9", seq(10), 0.9, 8.1},                                        // h = 8.1
		{"p99 of 0..100", seq(101), 0.99, 99},                                     // h = 99
		{"p50 of 0..99", seq(100), 0.5, 49.5},                                     // h = 49.5
		{"p99 of 0..999", seq(1000), 0.99, 989.01},                                // h = 989.01
		{"p99 of 3 values", []float64{1.75, 3, 5}, 0.99, 4.96},                    // h = 1.98 → 3 + 0.98·2
		{"p99 of 2 values", []float64{1.75, 5.5}, 0.99, 5.4625},                   // h = 0.99 → 1.75 + 0.99·3.75
		{"outlier p90", []float64{1, 1, 1, 1, 100}, 0.9, 1 + 0.6*99},              // h = 3.6
		{"outlier p50", []float64{1, 1, 1, 1, 100}, 0.5, 1},                       // h = 2
		{"ties", []float64{2, 2, 2, 5}, 0.5, 2},                                   // h = 1.5 → 2 + 0.5·0
		{"negative values", []float64{-4, -2}, 0.5, -3},                           // h = 0.5
		{"p0 is min", []float64{-3, 1, 7}, 0, -3},                                 // h = 0
		{"p1 is max", []float64{-3, 1, 7}, 1, 7},                                  // h = 2
		{"one value", []float64{4.2}, 0.99, 4.2},                                  // h = 0
		{"no interpolation into +Inf at a rank", []float64{1, math.Inf(1)}, 0, 1}, // h = 0
		{"empty", nil, 0.5, math.NaN()},
		{"p above 1", []float64{1, 2}, 1.5, math.NaN()},
		{"p below 0", []float64{1, 2}, -0.1, math.NaN()},
		{"p NaN", []float64{1, 2}, math.NaN(), math.NaN()},
	} {
		if got := Quantile(c.p, c.x); !same(got, c.want) {
			t.Errorf("%s: Quantile(%v, %v) = %v, want %v", c.name, c.p, c.x, got, c.want)
		}
	}
}

func seq(n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = float64(i)
	}
	return x
}

// TestQuantileNotGonumLinInterp documents why gonum's stat.Quantile is not
// used: its LinInterp is definition 4, which differs from definition 7 on
// small samples.
func TestQuantileNotGonumLinInterp(t *testing.T) {
	x := []float64{1, 2, 3, 4}
	// Definition 4: Q(0.5) = x at n·p = 2 → 2; definition 7 gives 2.5.
	if g := stat.Quantile(0.5, stat.LinInterp, x, nil); same(g, Quantile(0.5, x)) {
		t.Fatalf("gonum LinInterp now agrees with type 7 (%v); consider using it", g)
	}
	// Both agree on the extremes.
	if g := stat.Quantile(1, stat.LinInterp, x, nil); g != Quantile(1, x) {
		t.Errorf("max: gonum %v, type 7 %v", g, Quantile(1, x))
	}
}

func TestDescribe(t *testing.T) {
	in := []float64{5, nan, 1.75, 3, nan}
	orig := slices.Clone(in)
	got := Describe(in)
	// Set values sorted: 1.75, 3, 5. Mean 9.75/3 = 3.25; p50: h = 1 → 3;
	// p90: h = 1.8 → 3 + 0.8·2 = 4.6; p99: h = 1.98 → 3 + 0.98·2 = 4.96.
	want := Stats{Count: 3, Mean: 3.25, Min: 1.75, P50: 3, P90: 4.6, P99: 4.96, Max: 5}
	checkStats(t, "Describe", got, want)
	for i := range in {
		if !same(in[i], orig[i]) {
			t.Fatalf("Describe modified its input: %v, was %v", in, orig)
		}
	}
	empty := Describe([]float64{nan, nan})
	if empty.Count != 0 || !math.IsNaN(empty.Mean) || !math.IsNaN(empty.P50) || !math.IsNaN(empty.Min) || !math.IsNaN(empty.Max) {
		t.Errorf("Describe(all NaN) = %+v, want count 0 and NaN", empty)
	}
	if d := Describe(nil); d.Count != 0 || !math.IsNaN(d.P99) {
		t.Errorf("Describe(nil) = %+v", d)
	}
	// Input order does not matter (the mean is summed in sorted order).
	a := Describe([]float64{0.1, 0.2, 0.3, 1e9})
	b := Describe([]float64{1e9, 0.3, 0.1, 0.2})
	if a != b {
		t.Errorf("Describe depends on input order: %+v vs %+v", a, b)
	}
}

func checkStats(t *testing.T, name string, got, want Stats) {
	t.Helper()
	if got.Count != want.Count ||
		!same(got.Mean, want.Mean) || !same(got.Min, want.Min) || !same(got.Max, want.Max) ||
		!same(got.P50, want.P50) || !same(got.P90, want.P90) || !same(got.P99, want.P99) {
		t.Errorf("%s = %+v\nwant %+v", name, got, want)
	}
}

func TestMeasurePod(t *testing.T) {
	res := fixture(true)
	for _, c := range []struct {
		pod  int
		want PodMetrics
	}{
		// startup = started − created; wait = scheduled − created;
		// scheduling delay = assigned − created; run = finished − started.
		{0, PodMetrics{StartupDelay: 3.5 - 0.5, Wait: 1.25 - 0.5, SchedulingDelay: 1.0 - 0.5, RunTime: 13.5 - 3.5}},
		{1, PodMetrics{StartupDelay: 6 - 1, Wait: 2.5 - 1, SchedulingDelay: 2 - 1, RunTime: 16 - 6}},
		{2, PodMetrics{StartupDelay: 4 - 2.25, Wait: 2.75 - 2.25, SchedulingDelay: 2.5 - 2.25, RunTime: 8 - 4}},
		{3, PodMetrics{StartupDelay: nan, Wait: 6.5 - 5.5, SchedulingDelay: 6 - 5.5, RunTime: nan}},
		{4, PodMetrics{StartupDelay: nan, Wait: nan, SchedulingDelay: nan, RunTime: nan}},
	} {
		got := MeasurePod(res.Pods[c.pod])
		if !same(got.StartupDelay, c.want.StartupDelay) || !same(got.Wait, c.want.Wait) ||
			!same(got.SchedulingDelay, c.want.SchedulingDelay) || !same(got.RunTime, c.want.RunTime) {
			t.Errorf("pod %s: got %+v, want %+v", res.Pods[c.pod].Name, got, c.want)
		}
		if !same(got.StartupDelay, res.Pods[c.pod].StartupDelay()) {
			t.Errorf("pod %s: StartupDelay %v disagrees with engine.Pod.StartupDelay %v", res.Pods[c.pod].Name, got.StartupDelay, res.Pods[c.pod].StartupDelay())
		}
	}
}

func TestMeasureJob(t *testing.T) {
	res := fixture(true)
	for _, c := range []struct {
		job  int
		want JobMetrics
	}{
		// mpi: k = 2. first created 0.5; 2nd scheduled 2.5; 2nd started 6.
		// startup 6 − 0.5 = 5.5; wait 2.5 − 0 = 2.5; run 16 − 6 = 10; turnaround 16 − 0.
		{0, JobMetrics{FirstCreated: 0.5, AllScheduled: 2.5, AllStarted: 6, Startup: 5.5, Wait: 2.5, RunTime: 10, Turnaround: 16}},
		// web: k = 1. startup 4 − 2.25 = 1.75; wait 2.75 − 2 = 0.75; run 8 − 4; turnaround 8 − 2.
		{1, JobMetrics{FirstCreated: 2.25, AllScheduled: 2.75, AllStarted: 4, Startup: 1.75, Wait: 0.75, RunTime: 4, Turnaround: 6}},
		// batch: k = 2 but only batch-0 was scheduled and none started.
		{2, JobMetrics{FirstCreated: 5.5, AllScheduled: nan, AllStarted: nan, Startup: nan, Wait: nan, RunTime: nan, Turnaround: nan}},
	} {
		got := MeasureJob(res.Jobs[c.job])
		w := c.want
		if !same(got.FirstCreated, w.FirstCreated) || !same(got.AllScheduled, w.AllScheduled) || !same(got.AllStarted, w.AllStarted) ||
			!same(got.Startup, w.Startup) || !same(got.Wait, w.Wait) || !same(got.RunTime, w.RunTime) || !same(got.Turnaround, w.Turnaround) {
			t.Errorf("job %s: got %+v\nwant %+v", res.Jobs[c.job].Name, got, w)
		}
	}
	// A job with no pods has no first creation.
	empty := MeasureJob(&engine.Job{Name: "empty", Parallelism: 1, Completions: 1, Submitted: 1, Finished: nan})
	if !math.IsNaN(empty.FirstCreated) || !math.IsNaN(empty.Startup) || !math.IsNaN(empty.Wait) {
		t.Errorf("job without pods: %+v", empty)
	}
}

func TestSummarizeStalled(t *testing.T) {
	s := Summarize(fixture(true))
	if s.Stopped != "stalled" || s.Complete || s.StallReason != "no progress for 903 s with 2 pods unfinished" {
		t.Errorf("stop: %q complete %v reason %q", s.Stopped, s.Complete, s.StallReason)
	}
	counts := []struct {
		name      string
		got, want int
	}{
		{"nodes", s.Nodes, 2},
		{"jobs", s.Jobs, 3},
		{"jobs finished", s.JobsFinished, 2},
		{"pods", s.Pods, 5},
		{"pods scheduled", s.PodsScheduled, 4},
		{"pods started", s.PodsStarted, 3},
		{"pods finished", s.PodsFinished, 3},
		{"never scheduled", s.PodsNeverScheduled, 1}, // batch-1
		{"never started", s.PodsNeverStarted, 2},     // batch-0, batch-1
		{"unfinished", s.PodsUnfinished, 2},
		{"never created", s.PodsNeverCreated, 1},              // batch: 3 completions, 2 pods
		{"attempts", s.SchedulingAttempts, 1 + 2 + 1 + 1 + 4}, // per pod
		{"scheduling failures", s.SchedulingFailures, 1 + 4},  // mpi-1, batch-1
		{"pull failures", s.PullFailures, 1 + 3},
		{"pods with pull failures", s.PodsWithPullFailures, 2},
		{"records", s.Records, len(fixture(true).Records)}, // RecordCount: every record of the fixture
	}
	for _, c := range counts {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	if want := (engine.Resources{MilliCPU: 8000, Memory: 16 * engine.GiB, GPU: 2, Pods: 220}); s.Capacity != want {
		t.Errorf("capacity %v, want %v", s.Capacity, want)
	}
	floats := []struct {
		name      string
		got, want float64
	}{
		{"first submitted", s.FirstSubmitted, 0},
		{"last finished", s.LastFinished, 16},
		{"makespan (incomplete)", s.Makespan, nan},
		{"window end (= End)", s.WindowEnd, 910},
		// mpi-1: 1.5 s; batch-0's pull never completed and counts 0.
		{"pull seconds", s.PullSeconds, 1.5},
		{"utilisation window", s.Utilisation.Window, 910},
		// cpu·s: mpi-0 2000·(13.5−1) + mpi-1 2000·(16−2) + web 500·(8−2.5) + batch-0 1000·(910−6)
		//      = 25000 + 28000 + 2750 + 904000 = 959750; capacity·window = 8000·910.
		{"cpu", s.Utilisation.CPU, 959750.0 / (8000 * 910)},
		// GiB·s: 2·12.5 + 2·14 + 1·5.5 + 1·904 = 962.5; capacity·window = 16·910.
		{"memory", s.Utilisation.Memory, 962.5 / (16 * 910)},
		// GPU·s: mpi-1 1·14; capacity·window = 2·910.
		{"gpu", s.Utilisation.GPU, 14.0 / (2 * 910)},
	}
	for _, c := range floats {
		if !same(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	// Pod startup over mpi-0 3, mpi-1 5, web 1.75 (see TestDescribe).
	checkStats(t, "pod startup", s.PodStartupDelay, Stats{3, 3.25, 1.75, 3, 4.6, 4.96, 5})
	// Wait over 0.75, 1.5, 0.5, 1 → sorted 0.5 0.75 1 1.5; mean 3.75/4;
	// p50 h=1.5 → 0.875; p90 h=2.7 → 1 + 0.7·0.5; p99 h=2.97 → 1 + 0.97·0.5.
	checkStats(t, "pod wait", s.PodWait, Stats{4, 0.9375, 0.5, 0.875, 1.35, 1.485, 1.5})
	// Scheduling delay over 0.5, 1, 0.25, 0.5 → 0.25 0.5 0.5 1; mean 2.25/4;
	// p50 h=1.5 → 0.5; p90 h=2.7 → 0.5 + 0.7·0.5; p99 → 0.5 + 0.97·0.5.
	checkStats(t, "pod scheduling delay", s.PodSchedulingDelay, Stats{4, 0.5625, 0.25, 0.5, 0.85, 0.985, 1})
	// Run time over 10, 10, 4 → 4 10 10; mean 8; p50 h=1 → 10.
	checkStats(t, "pod run time", s.PodRunTime, Stats{3, 8, 4, 10, 10, 10, 10})
	// Jobs (batch excluded): startup 5.5, 1.75 → p50 h=0.5 → 3.625,
	// p90 h=0.9 → 1.75 + 0.9·3.75 = 5.125, p99 → 1.75 + 0.99·3.75 = 5.4625.
	checkStats(t, "job startup", s.JobStartup, Stats{2, 3.625, 1.75, 3.625, 5.125, 5.4625, 5.5})
	// wait 2.5, 0.75 → p90 0.75 + 0.9·1.75 = 2.325; p99 0.75 + 0.99·1.75 = 2.4825.
	checkStats(t, "job wait", s.JobWait, Stats{2, 1.625, 0.75, 1.625, 2.325, 2.4825, 2.5})
	// run 10, 4 → p90 4 + 0.9·6 = 9.4; p99 4 + 0.99·6 = 9.94.
	checkStats(t, "job run time", s.JobRunTime, Stats{2, 7, 4, 7, 9.4, 9.94, 10})
	// turnaround 16, 6 → p90 6 + 0.9·10 = 15; p99 6 + 0.99·10 = 15.9.
	checkStats(t, "job turnaround", s.JobTurnaround, Stats{2, 11, 6, 11, 15, 15.9, 16})
}

func TestSummarizeComplete(t *testing.T) {
	s := Summarize(fixture(false))
	if s.Stopped != "" || !s.Complete || s.PodsUnfinished != 0 || s.PodsNeverScheduled != 0 {
		t.Fatalf("complete run: %+v", s)
	}
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"makespan", s.Makespan, 16 - 0}, // first submission 0 → mpi-1 finished 16
		{"window end", s.WindowEnd, 16},
		// cpu·s 25000 + 28000 + 2750 = 55750 over 8000·16.
		{"cpu", s.Utilisation.CPU, 55750.0 / (8000 * 16)},
		// GiB·s 25 + 28 + 5.5 = 58.5 over 16·16.
		{"memory", s.Utilisation.Memory, 58.5 / (16 * 16)},
		{"gpu", s.Utilisation.GPU, 14.0 / (2 * 16)},
	} {
		if !same(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestSummarizeNoGPUAndEmpty(t *testing.T) {
	res := fixture(false)
	res.Cluster.Nodes = res.Cluster.Nodes[:1] // node-a only: no GPU
	res.Pods[1].Node = res.Cluster.Nodes[0]
	s := Summarize(res)
	if s.Utilisation.HasGPU || !math.IsNaN(s.Utilisation.GPU) {
		t.Errorf("no GPU: %+v", s.Utilisation)
	}
	// An empty run: nothing is defined, nothing panics.
	e := Summarize(&engine.Result{Cluster: &engine.Cluster{}})
	if !e.Complete || !math.IsNaN(e.Makespan) || !math.IsNaN(e.Utilisation.CPU) || e.PodStartupDelay.Count != 0 {
		t.Errorf("empty run: %+v", e)
	}
}

// bigResult builds a finished run of n single-pod jobs on 100 nodes.
func bigResult(n int) *engine.Result {
	nodes := make([]*engine.Node, 100)
	for i := range nodes {
		nodes[i] = &engine.Node{Index: i, Name: "n" + itoa(i), Allocatable: engine.Resources{MilliCPU: 64000, Memory: 256 * engine.GiB, Pods: 110}}
	}
	res := &engine.Result{Cluster: &engine.Cluster{Nodes: nodes}}
	for i := range n {
		t := float64(i) / 10
		j := &engine.Job{ID: i, Name: "j" + itoa(i), Kind: engine.KindPod, Parallelism: 1, Completions: 1, Submitted: t, Finished: t + 100}
		p := pod(i, j.Name, j, 0, nodes[i%len(nodes)], engine.Resources{MilliCPU: 1000, Memory: engine.GiB, Pods: 1},
			t+0.01, t+0.02, t+0.03, t+0.04, t+1+float64(i%7), t+2+float64(i%7), t+100)
		res.Jobs = append(res.Jobs, j)
		res.Pods = append(res.Pods, p)
		res.Records = append(res.Records, engine.Record{T: t, Kind: engine.RecPodCreated, Pod: i, Node: -1})
	}
	res.End = res.Pods[n-1].Finished
	return res
}

func itoa(i int) string { return strconv.Itoa(i) }

func BenchmarkSummarize(b *testing.B) {
	res := bigResult(10000)
	b.ReportAllocs()
	for b.Loop() {
		Summarize(res)
	}
}

// BenchmarkWrite writes the whole report of a 10,000-pod run (Open,
// Commit: every file, synced, and the folder installed).
func BenchmarkWrite(b *testing.B) {
	res := bigResult(10000)
	res.RecordCount = len(res.Records)
	res.Seed, res.Policy = fixtureMeta().Seed, fixtureMeta().Policy
	dir := b.TempDir()
	b.ReportAllocs()
	for b.Loop() {
		if err := Write(filepath.Join(dir, "out"), res, fixtureMeta(), Options{Force: true}); err != nil {
			b.Fatal(err)
		}
	}
}
