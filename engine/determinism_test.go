package engine_test

import (
	"fmt"
	"testing"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/engine/enginetest"
)

// randomRun runs a workload with random (lognormal) start-up latencies,
// random run times and random arrivals drawn from the run's own streams,
// and returns the byte dump of every job, pod and record.
func randomRun(t *testing.T, seed uint64) string {
	t.Helper()
	nodes := enginetest.Nodes(4, engine.Resources{MilliCPU: 8000, Memory: 32 * engine.GiB, Pods: 110})
	st := engine.DefaultStartup()
	st.RegistryBandwidth, st.NodeBandwidth = 200e6, 100e6
	// Parallel pulls with a small burst: pull QPS refusals and jittered
	// retries (random) happen too.
	st.SerializeImagePulls, st.RegistryBurst = false, 3
	cfg := engine.Config{Seed: seed, Nodes: nodes, Startup: st, Controllers: engine.DefaultControllers(), Record: true}
	cfg.Controllers.CreateLatency = engine.LogNormal{Median: 0.02, Sigma: 0.5}
	e, err := engine.New(cfg, &enginetest.FirstFit{RetryEvery: 30})
	if err != nil {
		t.Fatal(err)
	}
	arrivals := e.Streams().Get("arrivals")
	now := 0.0
	for i := range 30 {
		now += engine.Exponential{MeanValue: 5}.Sample(arrivals)
		tmpl := enginetest.Template(fmt.Sprintf("img-%d", i%3), 0)
		tmpl.RunTime = engine.LogNormal{Median: 60, Sigma: 0.8}
		tmpl.Containers[0].ImageSize = int64(50+i%3*100) * 1e6
		var j *engine.Job
		if i%5 == 0 {
			j = enginetest.IndexedJob(fmt.Sprintf("job-%d", i), 8, 16, tmpl)
		} else {
			j = enginetest.Pod(fmt.Sprintf("pod-%d", i), tmpl)
		}
		if err := e.Submit(now, j); err != nil {
			t.Fatal(err)
		}
	}
	res, err := e.Run()
	if err != nil {
		t.Fatal(err)
	}
	assertEnded(t, res)
	return enginetest.Dump(res)
}

// TestDeterminism: one config and seed gives byte-identical output; another
// seed gives different output.
func TestDeterminism(t *testing.T) {
	a, b := randomRun(t, 42), randomRun(t, 42)
	if a != b {
		t.Fatalf("same seed, different output:\n%s", firstDiff(a, b))
	}
	if c := randomRun(t, 43); c == a {
		t.Error("seeds 42 and 43 give identical output")
	}
}

// firstDiff shows the first differing line of two dumps.
func firstDiff(a, b string) string {
	la, lb := splitLines(a), splitLines(b)
	for i := range min(len(la), len(lb)) {
		if la[i] != lb[i] {
			return fmt.Sprintf("line %d:\n- %s\n+ %s", i+1, la[i], lb[i])
		}
	}
	return fmt.Sprintf("lengths %d vs %d lines", len(la), len(lb))
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := range len(s) {
		if s[i] == '\n' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}
