package report

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/convergesim/converge/engine"
)

// firstFit is a minimal policy for the end-to-end test: it binds each
// pending pod to the first node with room, in creation order, and retries
// the pods left over whenever a pod is deleted.
type firstFit struct{ pending []*engine.Pod }

func (*firstFit) Name() string { return "first-fit" }

func (f *firstFit) PendingPods() int { return len(f.pending) }

func (f *firstFit) Decide(now float64, events []engine.Event, c *engine.Cluster, out []engine.Decision) []engine.Decision {
	for _, ev := range events {
		if ev.Kind == engine.PodCreated {
			f.pending = append(f.pending, ev.Pod)
		}
	}
	// Room as seen by this cycle (the engine applies the binds afterwards).
	free := make([]engine.Resources, len(c.Nodes))
	for i, n := range c.Nodes {
		free[i] = n.Free()
	}
	left := f.pending[:0]
	for _, p := range f.pending {
		bound := false
		for i, n := range c.Nodes {
			if p.Requests.LessEqual(free[i]) {
				free[i] = free[i].Sub(p.Requests)
				out = append(out, engine.Decision{Kind: engine.Bind, Pod: p, Node: n})
				bound = true
				break
			}
		}
		if !bound {
			out = append(out, engine.Decision{Kind: engine.Unschedulable, Pod: p, Reason: "0/2 nodes are available: 2 Insufficient cpu."})
			left = append(left, p)
		}
	}
	f.pending = left
	return out
}

// runEngine runs a small workload through the real engine.
func runEngine(t *testing.T, seed uint64) *engine.Result {
	t.Helper()
	nodes := []*engine.Node{
		{Name: "n0", Allocatable: engine.Resources{MilliCPU: 4000, Memory: 16 * engine.GiB, Pods: 110}},
		{Name: "n1", Allocatable: engine.Resources{MilliCPU: 4000, Memory: 16 * engine.GiB, Pods: 110}},
	}
	e, err := engine.New(engine.Config{
		Seed: seed, Nodes: nodes, Startup: engine.DefaultStartup(), Controllers: engine.DefaultControllers(), Record: true,
	}, &firstFit{})
	if err != nil {
		t.Fatal(err)
	}
	tmpl := func(cpu int64, run engine.Dist) *engine.PodTemplate {
		return &engine.PodTemplate{
			Containers: []engine.Container{{Name: "main", Image: "registry.example/app:1", ImageSize: 200 * engine.MiB,
				PullPolicy: engine.PullIfNotPresent, MilliCPU: cpu, Memory: engine.GiB}},
			RunTime:        run,
			ReadinessDelay: engine.Const(1),
		}
	}
	jobs := []struct {
		at  float64
		job *engine.Job
	}{
		{0, &engine.Job{Name: "mpi", Kind: engine.KindIndexedJob, Parallelism: 4, Completions: 4, Template: tmpl(2000, engine.Exponential{MeanValue: 30})}},
		{5, &engine.Job{Name: "batch", Kind: engine.KindJob, Parallelism: 2, Completions: 5, Template: tmpl(1000, engine.Uniform{Min: 5, Max: 15})}},
		{7, &engine.Job{Name: "web", Kind: engine.KindPod, Template: tmpl(500, engine.Const(20))}},
	}
	for _, j := range jobs {
		if err := e.Submit(j.at, j.job); err != nil {
			t.Fatal(err)
		}
	}
	res, err := e.Run()
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestEngineRunTwice runs the same seeded scenario through the engine twice
// and checks that the two output folders are byte-identical, and that the
// run reached its end.
func TestEngineRunTwice(t *testing.T) {
	base := t.TempDir()
	var outs []map[string][]byte
	for _, name := range []string{"a", "b"} {
		res := runEngine(t, 7)
		s := Summarize(res)
		if res.Stopped != "" || !s.Complete || s.PodsFinished != 4+5+1 || s.Jobs != 3 {
			t.Fatalf("run did not finish: stopped %q, %d of %d pods finished", res.Stopped, s.PodsFinished, s.Pods)
		}
		if !(s.Makespan > 0) || !(s.Utilisation.CPU > 0 && s.Utilisation.CPU <= 1) || s.PodStartupDelay.Count != 10 {
			t.Fatalf("implausible summary: makespan %v, cpu %v, startup count %d", s.Makespan, s.Utilisation.CPU, s.PodStartupDelay.Count)
		}
		dir := filepath.Join(base, name)
		if err := Write(dir, res, Meta{Scenario: "engine-test", Version: "test"}, Options{}); err != nil {
			t.Fatal(err)
		}
		outs = append(outs, readAll(t, dir))
	}
	for _, name := range Files() {
		if !bytes.Equal(outs[0][name], outs[1][name]) {
			t.Errorf("%s differs between two runs of the same seed:\n%s", name, firstDiff(outs[0][name], outs[1][name]))
		}
		if len(outs[0][name]) == 0 {
			t.Errorf("%s is empty", name)
		}
	}
}
