package apps

import (
	"testing"

	"github.com/convergesim/converge/network"
)

// TestAMGDemandIsTheMemoryTerm: the memory AMG asks of a node is the
// bytes behind its own memory-bandwidth term: doubling the node's
// bandwidth shortens the run by exactly (node bytes)/B − (node
// bytes)/2B, and the demand times the run time is those node bytes.
// Alone, the busiest node asks at most its bandwidth.
func TestAMGDemandIsTheMemoryTerm(t *testing.T) {
	m := &AMG{Params: amgParams(), N: [3]int{188, 144, 128}, Iterations: 23}
	for _, nodes := range []int{2, 3, 6} {
		env := func(bw float64) *Env {
			return &Env{Fabric: instant(), Placement: network.Uniform(nodes, 144/nodes), Node: Node{Cores: 96, MemoryBandwidth: bw}}
		}
		res, d, err := Demand(m, env(320))
		if err != nil {
			t.Fatal(err)
		}
		alone, err := m.RunTime(env(320))
		if err != nil {
			t.Fatal(err)
		}
		if res.Seconds != alone.Seconds {
			t.Fatalf("%d nodes: Demand priced %v s, RunTime %v s", nodes, res.Seconds, alone.Seconds)
		}
		fast, err := m.RunTime(env(640))
		if err != nil {
			t.Fatal(err)
		}
		nodeBytes := d[0].Memory * res.Seconds
		if got, want := res.Seconds-fast.Seconds, nodeBytes/320e9-nodeBytes/640e9; !near(got, want, 1e-9) {
			t.Errorf("%d nodes: doubling the bandwidth saves %.6g s, the demand's bytes say %.6g s", nodes, got, want)
		}
		if d[0].Memory > 320e9 || d[0].Memory <= 0 {
			t.Errorf("%d nodes: memory demand %.4g B/s, want in (0, 320e9]", nodes, d[0].Memory)
		}
		if !(d[0].Network > 0) {
			t.Errorf("%d nodes: network demand %g B/s; the halo exchanges send between nodes", nodes, d[0].Network)
		}
	}
}

// TestDemandNetworkFromCollectives: the network a run asks of a node
// is its ranks' inter-node bytes of the collectives the fabric priced,
// over the run: a pattern of one allreduce per iteration.
func TestDemandNetworkFromCollectives(t *testing.T) {
	f := slow(10e-6)
	pl := network.Uniform(4, 8)
	ar, err := f.Allreduce(pl, 1<<20, network.AlgAuto)
	if err != nil {
		t.Fatal(err)
	}
	m := &Pattern{Params: &PatternParams{Iterations: 100, Phases: []PatternPhase{{Name: "step", Compute: 0.01, AllreduceBytes: 1 << 20}}}}
	res, d, err := Demand(m, &Env{Fabric: f, Placement: pl, Node: Node{Cores: 8, MemoryBandwidth: 100}})
	if err != nil {
		t.Fatal(err)
	}
	if ar.NodeInterBytes <= 0 {
		t.Fatalf("allreduce sends nothing between nodes: %+v", ar)
	}
	want := 100 * ar.NodeInterBytes / res.Seconds
	for i := range d {
		if !near(d[i].Network, want, 1e-12) {
			t.Errorf("node %d: network demand %.6g B/s, want %.6g", i, d[i].Network, want)
		}
	}
}
