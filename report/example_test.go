package report_test

import (
	"fmt"
	"math"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/report"
)

// Pod start-up delays in seconds; NaN marks a pod that never started and is
// left out of the statistics.
func ExampleDescribe() {
	delays := []float64{2.8, 3.1, math.NaN(), 2.9, 19.7, 3.3}
	s := report.Describe(delays)
	fmt.Printf("count %d  mean %.3f  min %.1f  max %.1f\n", s.Count, s.Mean, s.Min, s.Max)
	// Sorted: 2.8 2.9 3.1 3.3 19.7. p90: h = 4·0.9 = 3.6 → 3.3 + 0.6·16.4.
	fmt.Printf("p50 %.2f  p90 %.2f  p99 %.3f\n", s.P50, s.P90, s.P99)
	// Output:
	// count 5  mean 6.360  min 2.8  max 19.7
	// p50 3.10  p90 13.14  p99 19.044
}

// Quantile interpolates linearly between closest ranks (type 7): the
// median of an even number of values is the mean of the middle two.
func ExampleQuantile() {
	sorted := []float64{1, 2, 3, 4}
	for _, p := range []float64{0, 0.5, 0.9, 0.99, 1} {
		fmt.Printf("Q(%.2f) = %.2f\n", p, report.Quantile(p, sorted))
	}
	// Output:
	// Q(0.00) = 1.00
	// Q(0.50) = 2.50
	// Q(0.90) = 3.70
	// Q(0.99) = 3.97
	// Q(1.00) = 4.00
}

// Summarize computes a run's headline numbers from the lifecycle
// timestamps alone. Here one job of two pods, each holding 1 of the node's
// 4 cpus from assignment to finish.
func ExampleSummarize() {
	node := &engine.Node{Name: "n0", Allocatable: engine.Resources{MilliCPU: 4000, Memory: 8 * engine.GiB, Pods: 110}}
	job := &engine.Job{Name: "train", Kind: engine.KindIndexedJob, Parallelism: 2, Completions: 2, Submitted: 0, Finished: 30}
	unset := math.NaN()
	for i, t := range []struct{ created, assigned, scheduled, started, finished float64 }{
		{1, 1.5, 2, 4, 20},
		{2, 2.5, 3, 8, 30},
	} {
		job.Pods = append(job.Pods, &engine.Pod{
			ID: i, Name: fmt.Sprintf("train-%d", i), Job: job, Index: i, Node: node, Phase: engine.PodSucceeded,
			Requests: engine.Resources{MilliCPU: 1000, Memory: engine.GiB, Pods: 1},
			Created:  t.created, Assigned: t.assigned, Scheduled: t.scheduled, Initialized: unset,
			ContainersStarted: t.started, Ready: unset, Finished: t.finished,
		})
	}
	res := &engine.Result{
		Policy: "example", Cluster: &engine.Cluster{Nodes: []*engine.Node{node}},
		Jobs: []*engine.Job{job}, Pods: job.Pods, End: 30,
	}
	s := report.Summarize(res)
	fmt.Printf("makespan %.1f s\n", s.Makespan)                                                     // 0 → 30
	fmt.Printf("pod startup p50 %.1f s max %.1f s\n", s.PodStartupDelay.P50, s.PodStartupDelay.Max) // 3 and 6 → p50 4.5
	fmt.Printf("job startup %.1f s\n", s.JobStartup.Max)                                            // first created 1 → all started 8
	fmt.Printf("job wait %.1f s\n", s.JobWait.Max)                                                  // submitted 0 → last scheduled 3
	fmt.Printf("cpu utilisation %.3f\n", s.Utilisation.CPU)                                         // (18.5 + 27.5)·1000 / (4000·30)
	// Output:
	// makespan 30.0 s
	// pod startup p50 4.5 s max 6.0 s
	// job startup 7.0 s
	// job wait 3.0 s
	// cpu utilisation 0.383
}
