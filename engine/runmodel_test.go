package engine_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/engine/enginetest"
)

// perNodeModel is a RunModel whose run time is base + perNode·nodes, so
// a test can tell which placement it was asked about.
type perNodeModel struct {
	base, perNode float64
	seen          [][]engine.NodeShare
	err           error
}

func (m *perNodeModel) RunTime(pl []engine.NodeShare) (engine.RunResult, error) {
	m.seen = append(m.seen, pl)
	if m.err != nil {
		return engine.RunResult{}, m.err
	}
	s := m.base + m.perNode*float64(len(pl))
	return engine.RunResult{Seconds: s, Phases: []engine.Phase{{Name: "compute", Seconds: m.base}, {Name: "comm", Seconds: s - m.base}}}, nil
}

// TestRunModelStartsPodsTogether: the pods of a RunModel job finish
// together, the model's run time after the last of them started, and
// the model sees the placement the scheduler made.
func TestRunModelStartsPodsTogether(t *testing.T) {
	// Two nodes of 2 CPUs: three 1-CPU pods land 2 + 1 under first fit.
	nodes := enginetest.Nodes(2, engine.Resources{MilliCPU: 2000, Memory: 8 * engine.GiB, Pods: 110})
	m := &perNodeModel{base: 100, perNode: 7}
	tmpl := enginetest.Template("mpi:1", 0)
	tmpl.RunTime = nil
	job := enginetest.IndexedJob("lmp", 3, 3, tmpl)
	job.RunModel = m
	res := runToEnd(t, enginetest.ExactConfig(nodes), &enginetest.FirstFit{}, at(0, job))

	if len(m.seen) != 1 {
		t.Fatalf("RunTime called %d times, want 1", len(m.seen))
	}
	pl := m.seen[0]
	if len(pl) != 2 || pl[0].Node.Name != "node-0" || pl[0].Pods != 2 || pl[1].Node.Name != "node-1" || pl[1].Pods != 1 {
		t.Fatalf("placement = %+v, want node-0×2, node-1×1", pl)
	}
	var last float64
	for _, p := range res.Pods {
		last = max(last, p.ContainersStarted)
	}
	j := res.Jobs[0]
	eq(t, "job Started", j.Started, last)
	want := last + 100 + 7*2
	for _, p := range res.Pods {
		eq(t, p.Name+" Finished", p.Finished, want)
		eq(t, p.Name+" RunTime", p.RunTime, 114)
	}
	eq(t, "job Finished", j.Finished, want)
	if len(j.Phases) != 2 || j.Phases[1].Seconds != 14 {
		t.Errorf("Phases = %+v, want compute 100, comm 14", j.Phases)
	}
}

// TestRunModelPartialPlacementHolds: a RunModel job whose pods cannot all
// be placed never starts; the placed pods hold their node and the run
// ends stalled (the kube-scheduler deadlock of MPI jobs).
func TestRunModelPartialPlacementHolds(t *testing.T) {
	nodes := enginetest.Nodes(1, engine.Resources{MilliCPU: 2000, Memory: 8 * engine.GiB, Pods: 110})
	m := &perNodeModel{base: 10}
	tmpl := enginetest.Template("mpi:1", 0)
	tmpl.RunTime = nil
	job := enginetest.IndexedJob("big", 3, 3, tmpl)
	job.RunModel = m
	res := run(t, enginetest.ExactConfig(nodes), &enginetest.FirstFit{}, at(0, job))
	if res.Stopped != "stalled" {
		t.Fatalf("Stopped = %q, want stalled\n%s", res.Stopped, enginetest.Dump(res))
	}
	if len(m.seen) != 0 {
		t.Errorf("RunTime called for a job with a pod never placed")
	}
	if engine.IsSet(res.Jobs[0].Started) {
		t.Errorf("job Started = %v, want unset", res.Jobs[0].Started)
	}
	running := 0
	for _, p := range res.Pods {
		if p.Phase == engine.PodRunning {
			running++
		}
	}
	if running != 2 {
		t.Errorf("%d pods running (holding the node), want 2", running)
	}
}

func TestRunModelErrors(t *testing.T) {
	tmpl := enginetest.Template("mpi:1", 0)
	job := enginetest.IndexedJob("j", 2, 4, tmpl)
	job.RunModel = &perNodeModel{}
	e, err := engine.New(enginetest.ExactConfig(oneNode()), &enginetest.FirstFit{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Submit(0, job); err == nil || !strings.Contains(err.Error(), "parallelism (2) must equal completions (4)") {
		t.Errorf("Submit error = %v", err)
	}

	job = enginetest.IndexedJob("j", 2, 2, tmpl)
	job.RunModel = &perNodeModel{err: errors.New("no profile")}
	_, err = tryRun(t, enginetest.ExactConfig(oneNode()), &enginetest.FirstFit{}, at(0, job))
	if err == nil || !strings.Contains(err.Error(), "job j: run model: no profile") {
		t.Errorf("Run error = %v", err)
	}
}
