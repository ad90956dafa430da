package coscheduling

import (
	"fmt"
	"runtime"
	"syscall"
	"testing"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/engine/enginetest"
	"github.com/convergesim/converge/policies/kube"
)

const (
	benchNodes = 5000
	benchPods  = 32768 // 4,096 groups of 8, 1,024 of 32, 256 of 128
)

// BenchmarkGangs5kNodes places 32,768 pods of 1 core / 2 GiB on 5,000
// nodes of 32 cores / 128 GiB under Coscheduling, in PodGroups of 8, 32
// and 128 pods (Indexed Jobs of that size, one arriving every 0.1 s, zero
// start-up latencies, unthrottled controllers; every group fits). Each
// pod goes through PreFilter, Filter and Score over 500 nodes, and
// Permit; all but the last of a group wait there until the last allows
// them. kube: the same jobs without PodGroups under the default
// scheduler, for comparison. The run stops at a horizon after every pod
// has started; the figures include the engine's work per pod: pods/s of
// wall time, and pods/cpu-s of the process's CPU time (steadier on a
// loaded machine; run with -cpu 1 so that it is one core's).
func BenchmarkGangs5kNodes(b *testing.B) {
	for _, size := range []int{8, 32, 128} {
		b.Run(fmt.Sprintf("coscheduling/group=%d", size), func(b *testing.B) { benchGangs(b, size, true) })
	}
	b.Run("kube/job=32", func(b *testing.B) { benchGangs(b, 32, false) })
}

// cpuSeconds is the process's user + system CPU time so far.
func cpuSeconds(b *testing.B) float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

func benchGangs(b *testing.B, size int, gangs bool) {
	b.ReportAllocs()
	var ms0, ms1 runtime.MemStats
	cpu := 0.0 // CPU seconds of the runs
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		ecfg := engine.Config{
			Seed:        uint64(i + 1),
			Nodes:       enginetest.Nodes(benchNodes, engine.Resources{MilliCPU: 32000, Memory: 128 * gi, Pods: 110}),
			Startup:     engine.Startup{},
			Controllers: engine.Controllers{CreateLatency: engine.Const(0)},
			Horizon:     1e5,
		}
		var p engine.Policy
		var pending engine.Pending
		if gangs {
			s, err := New(kube.DefaultConfig(), DefaultArgs(), engine.NewStreams(ecfg.Seed))
			if err != nil {
				b.Fatal(err)
			}
			p, pending = s, s
		} else {
			s, err := kube.New(kube.DefaultConfig(), engine.NewStreams(ecfg.Seed))
			if err != nil {
				b.Fatal(err)
			}
			p, pending = s, s
		}
		e, err := engine.New(ecfg, p)
		if err != nil {
			b.Fatal(err)
		}
		t := &engine.PodTemplate{Containers: []engine.Container{{Name: "main", Image: "img", MilliCPU: 1000, Memory: 2 * gi}},
			RunTime: engine.Const(1e6)}
		for j := range benchPods / size {
			job := enginetest.IndexedJob(fmt.Sprintf("j%d", j), size, size, t)
			if gangs {
				job.Group = &engine.PodGroup{Name: job.Name, MinMember: size}
			}
			if err := e.Submit(float64(j)*0.1, job); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&ms0)
		b.StartTimer()
		c0 := cpuSeconds(b)
		res, err := e.Run()
		cpu += cpuSeconds(b) - c0
		b.StopTimer()
		runtime.ReadMemStats(&ms1)
		if err != nil {
			b.Fatal(err)
		}
		placed := 0
		for _, p := range res.Pods {
			if p.Node != nil && engine.IsSet(p.Scheduled) {
				placed++
			}
		}
		if len(res.Pods) != benchPods || placed != benchPods || pending.PendingPods() != 0 {
			b.Fatalf("%d pods, %d placed, %d pending (stopped %q)", len(res.Pods), placed, pending.PendingPods(), res.Stopped)
		}
		if i == 0 {
			b.ReportMetric(res.End, "sim-s")
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(b.N*benchPods)/b.Elapsed().Seconds(), "pods/s")
	// On a shared machine wall time varies with the load; CPU time less.
	b.ReportMetric(float64(b.N*benchPods)/cpu, "pods/cpu-s")
	b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/benchPods, "bytes/pod")
}
