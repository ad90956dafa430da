package scenarios

import (
	"fmt"
	"math"
	"testing"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/engine/enginetest"
	"github.com/convergesim/converge/network"
)

func runColocation(t *testing.T) *engine.Result {
	t.Helper()
	sc, err := Load("colocation.yaml", Overrides{IgnoreEnv: true})
	if err != nil {
		t.Fatal(err)
	}
	res := mustRun(t, sc)
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
// nodes, 5 s apart. Two fit the nodes' memory bandwidth (they run as
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
	alone, d := aloneAndDemand(t, sc, res, wi, "efa")
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

// TestDemandUplink: on a two-level tree, the part of a node's traffic
// that leaves its leaf is the share of the job's other ranks outside
// it, against the leaf's uplink (nodes per leaf × line rate /
// oversubscription); a job inside one leaf asks nothing of an uplink.
func TestDemandUplink(t *testing.T) {
	sc, err := Load("colocation.yaml", Overrides{IgnoreEnv: true})
	if err != nil {
		t.Fatal(err)
	}
	a := sc.runModel(0, "efa", sc.Workloads[0].template()).(*appRun)
	var pl []engine.NodeShare
	for i := range 3 {
		pl = append(pl, engine.NodeShare{Node: &engine.Node{Name: fmt.Sprint(i), Index: i, Pool: "hpc6a", Allocatable: engine.Resources{MilliCPU: 96000}}, Pods: 1})
	}
	link := lineRate(a.fabric.Inter)
	for _, tc := range []struct {
		perLeaf int
		leaf    []int
		off     []float64 // share of the node's traffic leaving its leaf
	}{
		{1, []int{0, 1, 2}, []float64{1, 1, 1}},
		{2, []int{0, 0, 1}, []float64{0.5, 0.5, 1}},
		{3, []int{-1, -1, -1}, []float64{0, 0, 0}},
	} {
		f := *a.fabric
		f.Topology = network.TwoLevel(tc.perLeaf, 2)
		b := *a
		b.fabric = &f
		alone, err := b.RunTime(pl)
		if err != nil {
			t.Fatal(err)
		}
		d, err := b.Demand(pl, alone)
		if err != nil {
			t.Fatal(err)
		}
		for i, nd := range d {
			if nd.Leaf != tc.leaf[i] || math.Abs(nd.Uplink-tc.off[i]*nd.Network) > 1e-9*nd.Network {
				t.Errorf("%d a leaf, node %d: leaf %d, uplink %g of network %g; want leaf %d, share %g", tc.perLeaf, i, nd.Leaf, nd.Uplink, nd.Network, tc.leaf[i], tc.off[i])
			}
			if nd.Leaf >= 0 && nd.UplinkCapacity != float64(tc.perLeaf)*link/2 {
				t.Errorf("%d a leaf: uplink capacity %g, want %g", tc.perLeaf, nd.UplinkCapacity, float64(tc.perLeaf)*link/2)
			}
		}
	}
}

// TestColocationTCP: over the VMs' TCP, two allreduce loops share
// every VM's link: while both run, each runs at the link over the sum
// of their demands (each its busiest node's bytes over its time
// alone); LAMMPS beside a loop fits and is not slowed.
func TestColocationTCP(t *testing.T) {
	sc, err := Load("colocation-tcp.yaml", Overrides{IgnoreEnv: true})
	if err != nil {
		t.Fatal(err)
	}
	res := mustRun(t, sc)
	a, b := jobNamed(t, res, "allreduce-pair-0"), jobNamed(t, res, "allreduce-pair-1")
	wi := 4
	if sc.Workloads[wi].Name != "allreduce-pair" {
		t.Fatalf("workload %d is %s", wi, sc.Workloads[wi].Name)
	}
	alone, d := aloneAndDemand(t, sc, res, wi, "bare-metal")
	T, x := alone.Seconds, d[0].NetworkCapacity/(2*d[0].Network)
	if !(x < 1) {
		t.Fatalf("two loops ask %g of the link: the case needs them not to fit", 2*d[0].Network/d[0].NetworkCapacity)
	}
	first, second := a, b
	if b.Started < a.Started {
		first, second = b, a
	}
	fFirst := second.Started + (1-(second.Started-first.Started)/T)*T/x
	if math.Abs(first.Finished-fFirst) > 1e-6 {
		t.Errorf("first loop finished %.9g, want %.9g", first.Finished, fFirst)
	}
	done := x * (fFirst - second.Started) / T
	if want := fFirst + (1-done)*T; math.Abs(second.Finished-want) > 1e-6 {
		t.Errorf("second loop finished %.9g, want %.9g", second.Finished, want)
	}
	for _, name := range []string{"lammps-mixed", "allreduce-mixed", "lammps-pair-0", "lammps-pair-1"} {
		j := jobNamed(t, res, name)
		for _, ph := range j.Phases {
			if ph.Name == "contention" {
				t.Errorf("%s was slowed by %v s", name, ph.Seconds)
			}
		}
	}
}
