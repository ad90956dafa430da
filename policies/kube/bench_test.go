package kube

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/convergesim/converge/engine"
)

const (
	benchNodes   = 5000
	benchPods    = 100000
	benchJobSize = 1000
)

// benchCluster: 5,000 nodes of 32 cores, 128 GiB, 110 pods; 100,000 pods of
// 1 core / 2 GiB fit at once (20 per node on average).
func benchCluster() []*engine.Node {
	return makeNodes(benchNodes, 32000, 128*gi)
}

func benchTemplate() *engine.PodTemplate {
	t := makeTemplate(1000, 2*gi)
	t.RunTime = engine.Const(1e6)
	return t
}

// BenchmarkPlace100kPodsOn5kNodes places 100,000 pods on 5,000 nodes with
// the default configuration (LeastAllocated, adaptive 10 % = 500 nodes
// evaluated per cycle).
//
//   - engine: a real engine run (100 Indexed Jobs of 1,000 pods arriving
//     one per second, zero start-up latencies, unthrottled controllers),
//     stopped at a horizon after every pod has started. The figure
//     includes the engine's own work per pod (creation, bind, kubelet).
//   - decide: the policy alone, driven through Decide on a fake cluster,
//     with every pod created at t = 0.
func BenchmarkPlace100kPodsOn5kNodes(b *testing.B) {
	b.Run("engine", func(b *testing.B) {
		b.ReportAllocs()
		var ms0, ms1 runtime.MemStats
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			nodes := benchCluster()
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
			tmpl := benchTemplate()
			for j := range benchPods / benchJobSize {
				job := &engine.Job{Name: fmt.Sprintf("j%d", j), Kind: engine.KindIndexedJob,
					Parallelism: benchJobSize, Completions: benchJobSize, Template: tmpl}
				if err := e.Submit(float64(j), job); err != nil {
					b.Fatal(err)
				}
			}
			runtime.GC()
			runtime.ReadMemStats(&ms0)
			b.StartTimer()
			res, err := e.Run()
			b.StopTimer()
			runtime.ReadMemStats(&ms1)
			if err != nil {
				b.Fatal(err)
			}
			placed := 0
			for _, p := range res.Pods {
				if p.Node != nil {
					placed++
				}
			}
			if len(res.Pods) != benchPods || placed != benchPods || s.PendingPods() != 0 {
				b.Fatalf("%d pods, %d placed, %d pending (stopped %q)", len(res.Pods), placed, s.PendingPods(), res.Stopped)
			}
			if i == 0 {
				st := s.Stats()
				b.ReportMetric(float64(st.NodesEvaluated)/float64(st.Cycles), "nodes/cycle")
				b.ReportMetric(res.End, "sim-s")
			}
			b.StartTimer()
		}
		b.ReportMetric(float64(b.N*benchPods)/b.Elapsed().Seconds(), "pods/s")
		b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/benchPods, "bytes/pod")
	})

	b.Run("decide", func(b *testing.B) { benchDecide(b, 1) })
	// Four pod shapes interleaved: the per-node score memo mostly misses,
	// so this is close to the cost without it.
	b.Run("decide-4shapes", func(b *testing.B) { benchDecide(b, 4) })
}

func benchDecide(b *testing.B, shapes int) {
	b.ReportAllocs()
	var ms0, ms1 runtime.MemStats
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		nodes := benchCluster()
		c := &engine.Cluster{Nodes: nodes}
		s, err := New(DefaultConfig(), engine.NewStreams(uint64(i+1)))
		if err != nil {
			b.Fatal(err)
		}
		var tmpls []*engine.PodTemplate
		for k := range shapes {
			t := makeTemplate(1000-int64(k)*100, 2*gi-int64(k)*engine.MiB)
			t.RunTime = engine.Const(1e6)
			tmpls = append(tmpls, t)
		}
		events := make([]engine.Event, benchPods)
		pods := make([]*engine.Pod, benchPods)
		for k := range pods {
			pods[k] = makePod(k, tmpls[k%shapes])
			events[k] = engine.Event{Kind: engine.PodCreated, Pod: pods[k]}
		}
		out := make([]engine.Decision, 0, 8)
		timer := []engine.Event{{Kind: engine.TimerFired, Tag: tagCycle}}
		runtime.GC()
		runtime.ReadMemStats(&ms0)
		b.StartTimer()
		out = s.Decide(0, events, c, out[:0])
		for {
			next := -1.0
			for _, d := range out {
				switch d.Kind {
				case engine.Bind:
					assign(d.Pod, d.Node)
				case engine.SetTimer:
					if d.Tag == tagCycle {
						next = d.At
					}
				}
			}
			if next < 0 {
				break
			}
			out = s.Decide(next, timer, c, out[:0])
		}
		b.StopTimer()
		runtime.ReadMemStats(&ms1)
		for _, p := range pods {
			if p.Node == nil {
				b.Fatalf("pod %d not placed", p.ID)
			}
		}
		if s.PendingPods() != 0 {
			b.Fatalf("%d pending", s.PendingPods())
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(b.N*benchPods)/b.Elapsed().Seconds(), "pods/s")
	b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/benchPods, "bytes/pod")
}

// A steady-state cycle allocates nothing.
func TestCycleDoesNotAllocate(t *testing.T) {
	nodes := makeNodes(1000, 32000, 128*gi)
	c := &engine.Cluster{Nodes: nodes}
	s := newTestScheduler(t, DefaultConfig(), 1)
	tmpl := benchTemplate()
	tmpl.SpreadSelectable = true // exercise PodTopologySpread too
	job := &engine.Job{Name: "j", Kind: engine.KindJob, Template: tmpl}
	const n = 3000
	events := make([]engine.Event, n)
	for k := range events {
		p := &engine.Pod{ID: k, Job: job, Template: tmpl, Requests: tmpl.Requests(), NonZero: tmpl.NonZeroRequests()}
		events[k] = engine.Event{Kind: engine.PodCreated, Pod: p}
	}
	out := s.Decide(0, events, c, make([]engine.Decision, 0, 8))
	now := 0.0
	timer := []engine.Event{{Kind: engine.TimerFired, Tag: tagCycle}}
	step := func() {
		for _, d := range out {
			switch d.Kind {
			case engine.Bind:
				assign(d.Pod, d.Node)
			case engine.SetTimer:
				now = d.At
			}
		}
		out = s.Decide(now, timer, c, out[:0])
	}
	for range 500 { // warm up: scratch, free lists, spread state
		step()
	}
	// AllocsPerRun (which runs at GOMAXPROCS 1) rounds the mean down, so
	// measure one run of 1,000 cycles: the result is their exact total.
	thousand := func() {
		for range 1000 {
			step()
		}
	}
	if n := testing.AllocsPerRun(1, thousand); n != 0 {
		t.Errorf("%v allocations in 1,000 cycles", n)
	}
	if s.Stats().Bound < 2500 {
		t.Fatalf("only %d bound", s.Stats().Bound)
	}
}

// A failed cycle answered from the template's remembered diagnosis
// allocates nothing either (the message is built once).
func TestKnownFailureDoesNotAllocate(t *testing.T) {
	nodes := makeNodes(1000, 4000, 16*gi)
	for i, n := range nodes {
		n.Requested = engine.Resources{MilliCPU: 4000, Pods: 4}
		if i%10 == 0 {
			n.Taints = []engine.Taint{{Key: "k", Value: "v", Effect: engine.NoSchedule}}
		}
	}
	c := &engine.Cluster{Nodes: nodes}
	s := newTestScheduler(t, DefaultConfig(), 1)
	tmpl := makeTemplate(1000, gi)
	const n = 3000
	events := make([]engine.Event, n)
	for k := range events {
		events[k] = engine.Event{Kind: engine.PodCreated, Pod: makePod(k, tmpl)}
	}
	out := s.Decide(0, events, c, make([]engine.Decision, 0, 8))
	now := 0.0
	timer := []engine.Event{{Kind: engine.TimerFired, Tag: tagCycle}}
	step := func() {
		for _, d := range out {
			if d.Kind == engine.SetTimer && d.Tag == tagCycle {
				now = d.At
			}
		}
		out = s.Decide(now, timer, c, out[:0])
	}
	for range 500 {
		step()
	}
	thousand := func() {
		for range 1000 {
			step()
		}
	}
	if n := testing.AllocsPerRun(1, thousand); n != 0 {
		t.Errorf("%v allocations in 1,000 failed cycles", n)
	}
	st := s.Stats()
	if st.Bound != 0 || st.KnownFailures < 1400 {
		t.Fatalf("stats %+v: want only known failures", st)
	}
	if want := "0/1000 nodes are available: 100 node(s) had untolerated taint {k: v}, 900 Insufficient cpu."; out[0].Reason != want {
		t.Errorf("reason %q, want %q", out[0].Reason, want)
	}
}
