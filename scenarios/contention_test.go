package scenarios

import (
	"math"
	"testing"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/engine/enginetest"
)

func runColocation(t *testing.T) *engine.Result {
	t.Helper()
	sc, err := Load("colocation.yaml", Overrides{IgnoreEnv: true})
	if err != nil {
		t.Fatal(err)
	}
	e, err := Build(sc)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Run()
	if err != nil {
		t.Fatal(err)
	}
	if res.Stopped != "" {
		t.Fatalf("stopped %q", res.Stopped)
	}
	return res
}

func jobNamed(t *testing.T, res *engine.Result, name string) *engine.Job {
	t.Helper()
	for _, j := range res.Jobs {
		if j.Name == name {
			return j
		}
	}
	t.Fatalf("no job %s", name)
	return nil
}

// TestColocationTrio: three AMG jobs of 32 ranks a node on the same two
// nodes, 30 s apart. Two fit the nodes' memory bandwidth (they run as
// fast as alone); the third's start slows all three to B/(3·d), d the
// memory each asks at full speed (its single-job fit's bytes over its
// time alone); the first's end gives the others full speed back. The
// expected times follow from the model's own numbers.
func TestColocationTrio(t *testing.T) {
	res := runColocation(t)
	sc, err := Load("colocation.yaml", Overrides{IgnoreEnv: true})
	if err != nil {
		t.Fatal(err)
	}
	wi := -1
	for i, w := range sc.Workloads {
		if w.Name == "amg-trio" {
			wi = i
		}
	}
	j0, j1, j2 := jobNamed(t, res, "amg-trio-0"), jobNamed(t, res, "amg-trio-1"), jobNamed(t, res, "amg-trio-2")
	// Each job one pod a node on both nodes.
	var pl []engine.NodeShare
	for _, n := range res.Cluster.Nodes {
		pl = append(pl, engine.NodeShare{Node: n, Pods: 1})
	}
	m := sc.runModel(wi, "efa", sc.Workloads[wi].template()).(engine.ContendedRunModel)
	alone, err := m.RunTime(pl)
	if err != nil {
		t.Fatal(err)
	}
	d, err := m.Demand(pl, alone)
	if err != nil {
		t.Fatal(err)
	}
	T, bw := alone.Seconds, d[0].MemoryCapacity
	if !(2*d[0].Memory < bw && 3*d[0].Memory > bw) {
		t.Fatalf("memory demand %.4g B/s a job on %.4g B/s: the case needs two to fit and three not", d[0].Memory, bw)
	}
	x := bw / (3 * d[0].Memory)
	s0, s2 := j0.Started, j2.Started
	f0 := s2 + (1-(s2-s0)/T)*T/x
	near := func(what string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-6 {
			t.Errorf("%s = %.9g, want %.9g", what, got, want)
		}
	}
	near("trio-0 finished", j0.Finished, f0)
	for _, j := range []*engine.Job{j1, j2} {
		done := (s2-j.Started)/T + x*(f0-s2)/T
		near(j.Name+" finished", j.Finished, f0+(1-done)*T)
		if !(j.Finished-j.Started > T) {
			t.Errorf("%s ran %v s, not slower than alone (%v s)", j.Name, j.Finished-j.Started, T)
		}
	}
	// AMG alone and AMG beside LAMMPS (no memory traffic in the LAMMPS
	// fit, little network on EFA) run as fast as alone.
	for _, name := range []string{"amg-alone", "amg-mixed", "lammps-mixed"} {
		j := jobNamed(t, res, name)
		for _, ph := range j.Phases {
			if ph.Name == "contention" {
				t.Errorf("%s was slowed by %v s", name, ph.Seconds)
			}
		}
	}
}

// TestColocationDeterministic: the same scenario gives the same trace.
func TestColocationDeterministic(t *testing.T) {
	if a, b := enginetest.Dump(runColocation(t)), enginetest.Dump(runColocation(t)); a != b {
		t.Error("two runs of colocation.yaml differ")
	}
}
