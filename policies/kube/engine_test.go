package kube

import (
	"fmt"
	"strings"
	"testing"

	"github.com/convergesim/converge/engine"
)

// engineConfig is a cheap, exact engine set-up: no start-up latencies, no
// client throttling, no image transfer time.
func engineConfig(nodes []*engine.Node, seed uint64) engine.Config {
	return engine.Config{
		Seed:        seed,
		Nodes:       nodes,
		Startup:     engine.Startup{},
		Controllers: engine.Controllers{CreateLatency: engine.Const(0)},
		Record:      true,
		// Every Permit wait and rejection: the tests read retries.
		EveryAttempt: true,
	}
}

func runEngine(t testing.TB, cfg Config, ecfg engine.Config, jobs ...*engine.Job) (*engine.Result, *Scheduler) {
	t.Helper()
	s, err := New(cfg, engine.NewStreams(ecfg.Seed))
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(ecfg, s)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		if err := e.Submit(0, j); err != nil {
			t.Fatal(err)
		}
	}
	res, err := e.Run()
	if err != nil {
		t.Fatal(err)
	}
	return res, s
}

func barePods(n int, tmpl *engine.PodTemplate) []*engine.Job {
	jobs := make([]*engine.Job, n)
	for i := range jobs {
		jobs[i] = &engine.Job{Name: fmt.Sprintf("p%d", i), Kind: engine.KindPod, Template: tmpl}
	}
	return jobs
}

// placement lists the node of every pod, in pod order.
func placement(res *engine.Result) string {
	var names []string
	for _, p := range res.Pods {
		if p.Node == nil {
			names = append(names, "-")
			continue
		}
		names = append(names, p.Node.Name)
	}
	return strings.Join(names, " ")
}

// 3 pods of 1 cpu on 3 idle identical nodes: LeastAllocated spreads them
// one per node, MostAllocated packs them on one node.
func TestEngineSpreadVersusPack(t *testing.T) {
	for _, tc := range []struct {
		strategy ScoringStrategyType
		distinct int
	}{
		// LeastAllocated, second pod: the used node scores cpu (4−2)/4 → 50,
		// mem (8−2)/8 → 75: 62, balanced 87 → 149 + 300 (TaintToleration);
		// an idle node 75, 87 → 81, balanced 93 → 174 + 300. Idle wins.
		{LeastAllocated, 3},
		// MostAllocated: used node cpu 50, mem 25 → 37, balanced 87 → 124;
		// idle node 25, 12 → 18, balanced 93 → 111. The used node wins.
		{MostAllocated, 1},
	} {
		t.Run(string(tc.strategy), func(t *testing.T) {
			for seed := uint64(1); seed <= 5; seed++ {
				cfg := DefaultConfig()
				cfg.ScoringStrategy.Type = tc.strategy
				tmpl := makeTemplate(1000, 1*gi)
				tmpl.RunTime = engine.Const(100)
				res, s := runEngine(t, cfg, engineConfig(makeNodes(3, 4000, 8*gi), seed), barePods(3, tmpl)...)
				if res.Stopped != "" || res.FinishedPods() != 3 {
					t.Fatalf("run stopped %q with %d finished", res.Stopped, res.FinishedPods())
				}
				used := map[string]bool{}
				for _, p := range res.Pods {
					used[p.Node.Name] = true
				}
				if len(used) != tc.distinct {
					t.Errorf("seed %d: placement %s uses %d nodes, want %d", seed, placement(res), len(used), tc.distinct)
				}
				if s.PendingPods() != 0 {
					t.Errorf("PendingPods = %d", s.PendingPods())
				}
			}
		})
	}
}

// A pod that can never fit stays pending; the run ends stalled and the
// scheduler's count matches the engine's.
func TestEngineNeverFits(t *testing.T) {
	tmpl := makeTemplate(1000, 1*gi)
	tmpl.RunTime = engine.Const(10)
	big := makeTemplate(100000, 1*gi)
	jobs := append(barePods(2, tmpl), &engine.Job{Name: "big", Kind: engine.KindPod, Template: big})
	res, s := runEngine(t, DefaultConfig(), engineConfig(makeNodes(3, 4000, 8*gi), 1), jobs...)
	if res.Stopped != "stalled" {
		t.Fatalf("stopped %q, want stalled", res.Stopped)
	}
	if s.PendingPods() != 1 || res.FinishedPods() != 2 {
		t.Fatalf("PendingPods = %d, finished %d", s.PendingPods(), res.FinishedPods())
	}
	var reasons []string
	for _, r := range res.Records {
		if r.Kind == engine.RecFailedScheduling {
			reasons = append(reasons, fmt.Sprintf("%g %s", r.T, r.Msg))
		}
	}
	if len(reasons) < 2 || !strings.HasSuffix(reasons[0], " 0/3 nodes are available: 3 Insufficient cpu.") {
		t.Errorf("FailedScheduling records: %q", reasons)
	}
}

// ImageLocality alone: a node that pulled the image attracts the next pod
// that uses it.
func TestEngineImageLocality(t *testing.T) {
	cfg := DefaultConfig()
	cfg.PluginWeights = PluginWeights{ImageLocality: 1}
	tmpl := &engine.PodTemplate{
		Containers: []engine.Container{{Name: "c", Image: "big:1", ImageSize: 500 * engine.MiB, PullPolicy: engine.PullIfNotPresent, MilliCPU: 1000}},
		RunTime:    engine.Const(1000),
	}
	s, err := New(cfg, engine.NewStreams(3))
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(engineConfig(makeNodes(3, 4000, 8*gi), 3), s)
	if err != nil {
		t.Fatal(err)
	}
	for i, at := range []float64{0, 100, 200} {
		if err := e.Submit(at, &engine.Job{Name: fmt.Sprintf("p%d", i), Kind: engine.KindPod, Template: tmpl}); err != nil {
			t.Fatal(err)
		}
	}
	res, err := e.Run()
	if err != nil {
		t.Fatal(err)
	}
	// At 100 the image is on 1 of 3 nodes: sum = 500 MiB·1/3, score
	// 100·(166.7−23)/(1000−23) = 14 there, 0 elsewhere → same node.
	first := res.Pods[0].Node
	for _, p := range res.Pods[1:] {
		if p.Node != first {
			t.Errorf("placement %s, want all on %s", placement(res), first.Name)
		}
	}
}

// Same seed, same run; another seed may break ties differently.
func TestEngineDeterministic(t *testing.T) {
	run := func(seed uint64) string {
		tmpl := makeTemplate(1000, 1*gi)
		tmpl.RunTime = engine.Const(50)
		job := &engine.Job{Name: "j", Kind: engine.KindIndexedJob, Parallelism: 40, Completions: 40, Template: tmpl}
		res, _ := runEngine(t, DefaultConfig(), engineConfig(makeNodes(20, 8000, 32*gi), seed), job)
		return placement(res)
	}
	a, b := run(1), run(1)
	if a != b {
		t.Fatalf("same seed, different placements:\n%s\n%s", a, b)
	}
	if c := run(2); a == c {
		t.Errorf("seeds 1 and 2 placed 40 pods on 20 tied nodes identically")
	}
}
