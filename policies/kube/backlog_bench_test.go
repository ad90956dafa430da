package kube

import (
	"fmt"
	"testing"
	"time"

	"github.com/convergesim/converge/engine"
)

// The backlog benchmark: the same 100,000 pods (100 Indexed Jobs of 1,000
// pods of 1 cpu / 1 GiB, run time uniform 50–70 s, all submitted at t = 0)
// through a real engine.Run with the default kube-scheduler, zero start-up
// latencies, unthrottled controllers and the event trace off, on three
// clusters:
//
//   - saturated: 1,000 nodes of 4 cpu. 4,000 pods run at a time, so the
//     other 96,000 queue for about 25 waves and every pod deletion sends
//     the whole backlog back through the scheduler (the failed attempts
//     are most of the cycles).
//   - unsaturated: 25,000 nodes of 4 cpu, enough that no pod waits.
//   - unsaturated-1k: 1,000 nodes of 128 cpu / 512 GiB, also enough that
//     no pod waits, with the node count of the saturated run (each cycle
//     filters and scores as many nodes as a successful cycle there).
//
// Each reports wall ns per pod, scheduling attempts per pod and simulated
// seconds per wall second. "ratio" runs saturated and both unsaturated
// shapes back to back and reports saturated ns/pod ÷ unsaturated ns/pod
// (the goal is at most 3).
const (
	backlogJobs    = 100
	backlogJobSize = 1000
	backlogPods    = backlogJobs * backlogJobSize
)

type backlogShape struct {
	name  string
	nodes int
	cpu   int64 // millicores per node
	mem   int64 // bytes per node
}

var (
	backlogSaturated     = backlogShape{"saturated", 1000, 4000, 16 * gi}
	backlogUnsaturated   = backlogShape{"unsaturated", 25000, 4000, 16 * gi}
	backlogUnsaturated1k = backlogShape{"unsaturated-1k", 1000, 128000, 512 * gi}
)

type backlogResult struct {
	wall     time.Duration
	simEnd   float64
	attempts int // scheduling cycles
	failed   int
	stats    Stats
}

// runBacklog builds and runs one shape; only engine.Run is timed.
func runBacklog(tb testing.TB, shape backlogShape, seed uint64) backlogResult {
	tb.Helper()
	nodes := makeNodes(shape.nodes, shape.cpu, shape.mem)
	ecfg := engine.Config{
		Seed: seed, Nodes: nodes, Startup: engine.Startup{},
		Controllers: engine.Controllers{CreateLatency: engine.Const(0)},
	}
	s, err := New(DefaultConfig(), engine.NewStreams(seed))
	if err != nil {
		tb.Fatal(err)
	}
	e, err := engine.New(ecfg, s)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := makeTemplate(1000, gi)
	tmpl.RunTime = engine.Uniform{Min: 50, Max: 70}
	for j := range backlogJobs {
		job := &engine.Job{Name: fmt.Sprintf("j%d", j), Kind: engine.KindIndexedJob,
			Parallelism: backlogJobSize, Completions: backlogJobSize, Template: tmpl}
		if err := e.Submit(0, job); err != nil {
			tb.Fatal(err)
		}
	}
	t0 := time.Now()
	res, err := e.Run()
	wall := time.Since(t0)
	if err != nil {
		tb.Fatal(err)
	}
	if res.Stopped != "" || res.FinishedPods() != backlogPods || s.PendingPods() != 0 {
		tb.Fatalf("%s: stopped %q, %d of %d pods finished, %d pending", shape.name, res.Stopped, res.FinishedPods(), backlogPods, s.PendingPods())
	}
	st := s.Stats()
	return backlogResult{wall: wall, simEnd: res.End, attempts: st.Cycles, failed: st.Unschedulable, stats: st}
}

func BenchmarkBacklog(b *testing.B) {
	for _, shape := range []backlogShape{backlogSaturated, backlogUnsaturated, backlogUnsaturated1k} {
		b.Run(shape.name, func(b *testing.B) {
			var wall time.Duration
			var last backlogResult
			for i := 0; i < b.N; i++ {
				last = runBacklog(b, shape, uint64(i+1))
				wall += last.wall
			}
			b.ReportMetric(float64(wall.Nanoseconds())/float64(b.N*backlogPods), "ns/pod")
			b.ReportMetric(float64(last.attempts)/backlogPods, "attempts/pod")
			b.ReportMetric(last.simEnd/last.wall.Seconds(), "sim-s/wall-s")
		})
	}
	b.Run("ratio", func(b *testing.B) {
		var sat, uns, uns1k time.Duration
		for i := 0; i < b.N; i++ {
			seed := uint64(i + 1)
			sat += runBacklog(b, backlogSaturated, seed).wall
			uns += runBacklog(b, backlogUnsaturated, seed).wall
			uns1k += runBacklog(b, backlogUnsaturated1k, seed).wall
		}
		b.ReportMetric(sat.Seconds()/uns.Seconds(), "saturated/unsaturated")
		b.ReportMetric(sat.Seconds()/uns1k.Seconds(), "saturated/unsaturated-1k")
	})
}

// BenchmarkImageLocality10k places 100,000 pods (100 Indexed Jobs of
// 1,000, a 500 MiB image and a 50 MiB sidecar image, run time 1e6 s) on
// 10,000 nodes of 32 cpu: every node holds the images once its first pod
// has started, so ImageLocality scores every feasible node (500 per
// cycle) with both images present.
func BenchmarkImageLocality10k(b *testing.B) {
	var wall time.Duration
	for i := 0; i < b.N; i++ {
		nodes := makeNodes(10000, 32000, 128*gi)
		ecfg := engine.Config{
			Seed: uint64(i + 1), Nodes: nodes, Startup: engine.Startup{},
			Controllers: engine.Controllers{CreateLatency: engine.Const(0)},
			Horizon:     1e5,
		}
		s, err := New(DefaultConfig(), engine.NewStreams(ecfg.Seed))
		if err != nil {
			b.Fatal(err)
		}
		e, err := engine.New(ecfg, s)
		if err != nil {
			b.Fatal(err)
		}
		tmpl := &engine.PodTemplate{Containers: []engine.Container{
			{Name: "app", Image: "app:1", ImageSize: 500 * engine.MiB, PullPolicy: engine.PullIfNotPresent, MilliCPU: 1000, Memory: gi},
			{Name: "side", Image: "side:1", ImageSize: 50 * engine.MiB, PullPolicy: engine.PullIfNotPresent, MilliCPU: 100, Memory: 64 * engine.MiB},
		}, RunTime: engine.Const(1e6)}
		for j := range backlogJobs {
			job := &engine.Job{Name: fmt.Sprintf("j%d", j), Kind: engine.KindIndexedJob,
				Parallelism: backlogJobSize, Completions: backlogJobSize, Template: tmpl}
			if err := e.Submit(float64(j), job); err != nil {
				b.Fatal(err)
			}
		}
		t0 := time.Now()
		res, err := e.Run()
		wall += time.Since(t0)
		if err != nil {
			b.Fatal(err)
		}
		placed := 0
		for _, p := range res.Pods {
			if p.Node != nil {
				placed++
			}
		}
		if placed != backlogPods {
			b.Fatalf("%d of %d placed (stopped %q)", placed, backlogPods, res.Stopped)
		}
	}
	b.ReportMetric(float64(wall.Nanoseconds())/float64(b.N*backlogPods), "ns/pod")
}
