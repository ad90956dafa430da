package report_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/engine/enginetest"
	"github.com/convergesim/converge/report"
)

type fixedRun float64

func (f fixedRun) RunTime([]engine.NodeShare) (engine.RunResult, error) {
	return engine.RunResult{Seconds: float64(f)}, nil
}

// gangRun runs two MPI jobs of four 1.5-cpu pods on two 4-cpu nodes
// under first-fit, one pod at a time: each job gets two pods placed and
// holds them waiting for the other two, which only the other job's
// nodes could hold.
func gangRun(t *testing.T) *engine.Result {
	t.Helper()
	nodes := enginetest.Nodes(2, engine.Resources{MilliCPU: 4000, Memory: 64 * engine.GiB, Pods: 110})
	cfg := enginetest.ExactConfig(nodes)
	e, err := engine.New(cfg, &enginetest.FirstFit{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a", "b"} {
		tmpl := enginetest.Template("mpi", 0)
		tmpl.Containers[0].MilliCPU = 1500
		j := enginetest.IndexedJob(name, 4, 4, tmpl)
		j.RunModel = fixedRun(100)
		if err := e.Submit(0, j); err != nil {
			t.Fatal(err)
		}
	}
	res, err := e.Run()
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestExplainDeadlock(t *testing.T) {
	res := gangRun(t)
	if res.Stopped != "stalled" {
		t.Fatalf("run stopped %q, want stalled", res.Stopped)
	}
	st := report.ExplainStall(res)
	if st == nil || !strings.HasPrefix(st.Verdict, "deadlock: 2 jobs each hold part of the cluster") {
		t.Fatalf("verdict %+v", st)
	}
	held, why := 0, 0
	for _, j := range st.Jobs {
		if !j.Partial() {
			t.Errorf("job %s is not partly placed: %+v", j.Name, j)
		}
		placed := j.Running + j.Waiting + j.Bound
		if placed+j.Pending+j.Uncreated != 4 {
			t.Errorf("job %s: %d placed + %d pending + %d not created, want 4 in all", j.Name, placed, j.Pending, j.Uncreated)
		}
		for _, h := range j.Nodes {
			held += h.Pods
		}
		if j.Why != "" {
			why++
		}
	}
	if why == 0 {
		t.Error("no job says why its pods are pending")
	}
	// Two 1.5-cpu pods fit a 4-cpu node: four pods hold the two nodes.
	if held != 4 {
		t.Errorf("%d pods hold nodes, want 4", held)
	}
	var sb strings.Builder
	if err := report.WriteSummaryText(&sb, res, report.Meta{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sb.String(), "Stall at ") || !strings.Contains(sb.String(), "cpu on node-0×1") {
		t.Errorf("summary lacks the stall analysis:\n%s", sb.String())
	}
}

// TestStarved: a job waiting longer than the bound while a later job
// started is reported; one that waited as long but was not overtaken is
// not.
func TestStarved(t *testing.T) {
	mk := func(name string, sub, start float64) *engine.Job {
		j := &engine.Job{Name: name, Parallelism: 1, Completions: 1, Submitted: sub, Rejected: engine.Unset}
		p := &engine.Pod{Job: j, ContainersStarted: start}
		j.Pods = []*engine.Pod{p}
		return j
	}
	res := &engine.Result{End: 2000, Jobs: []*engine.Job{
		mk("early", 0, 700),          // waited 700 s, overtaken by "late"
		mk("late", 10, 20),           // waited 10 s
		mk("alone", 100, 800),        // waited 700 s, but no later job started before 800? late started at 20 but was submitted earlier
		mk("never", 5, engine.Unset), // never started: waits to the end, overtaken by late
	}}
	got := report.FindStarved(res, 600)
	var names []string
	for _, s := range got {
		names = append(names, s.Name)
	}
	if strings.Join(names, ",") != "early,never" {
		t.Errorf("starved %v, want early,never", names)
	}
	if got[1].Started || got[1].Wait != 1995 {
		t.Errorf("never: %+v", got[1])
	}
}

// TestStarvedMatchesDefinition: FindStarved agrees with its definition
// counted pair by pair, on random runs with ties in submission and
// start times and jobs that never started.
func TestStarvedMatchesDefinition(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 9))
	for trial := range 50 {
		res := &engine.Result{End: 3000}
		n := 1 + r.IntN(60)
		for k := range n {
			sub := float64(r.IntN(20)) * 50
			start := engine.Unset
			if r.IntN(4) > 0 {
				start = sub + float64(r.IntN(30))*40
			}
			j := &engine.Job{Name: fmt.Sprint("j", k), Parallelism: 1, Completions: 1, Submitted: sub}
			j.Pods = []*engine.Pod{{Job: j, ContainersStarted: start}}
			res.Jobs = append(res.Jobs, j)
		}
		got := report.FindStarved(res, 600)
		var want []report.Starved
		for _, a := range res.Jobs {
			end, started := a.AllStarted(), true
			if !engine.IsSet(end) {
				end, started = res.End, false
			}
			if end-a.Submitted <= 600 {
				continue
			}
			over := 0
			for _, b := range res.Jobs {
				if b.Submitted > a.Submitted && engine.IsSet(b.AllStarted()) && b.AllStarted() < end {
					over++
				}
			}
			if over > 0 {
				want = append(want, report.Starved{Name: a.Name, Wait: end - a.Submitted, Started: started, Overtaken: over})
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("trial %d: got %v, want %v", trial, got, want)
		}
	}
}

// A Flux job of task slots that was never allocated has no shells; the
// stall analysis says why it waits rather than listing it with nothing
// pending.
func TestStallFluxJobWithoutShells(t *testing.T) {
	idle := enginetest.Func{N: "idle", F: func(now float64, events []engine.Event, c *engine.Cluster, out []engine.Decision) []engine.Decision {
		return out
	}}
	e, err := engine.New(enginetest.ExactConfig(enginetest.Nodes(2, enginetest.BigNode)), idle)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Submit(0, &engine.Job{Name: "slots", Template: &engine.PodTemplate{}, Flux: &engine.FluxSpec{Slots: 8, CoresPerSlot: 1, Urgency: 16}}); err != nil {
		t.Fatal(err)
	}
	res, err := e.Run()
	if err != nil {
		t.Fatal(err)
	}
	st := report.ExplainStall(res)
	if st == nil || len(st.Jobs) != 1 || !strings.Contains(st.Jobs[0].Why, "not allocated its 8 task slots") {
		t.Fatalf("stall analysis %+v, want the job and why it waits", st)
	}
}
