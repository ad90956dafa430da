package apps_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/convergesim/converge/network"
	"github.com/convergesim/converge/scenarios"
	"github.com/convergesim/converge/workloads/apps"
)

// TestCFSLAMMPS prints what a CPU limit costs the bundled LAMMPS fit
// (hpc7g-efa, bare-metal EFA profile; HNS 16×16×8 replicas, 100 steps)
// at 4 to 32 nodes of 16 ranks, one pod a node, with the mechanism
// (cfs.go) and with the average (16/q), and checks that the mechanism
// costs at least the average and more on more nodes.
func TestCFSLAMMPS(t *testing.T) {
	f, err := scenarios.LoadAppModel("../../scenarios/apps/lammps.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fit, err := f.Lookup("hpc7g-efa")
	if err != nil {
		t.Fatal(err)
	}
	const profile = "../../scenarios/profiles/aws-hpc7g-efa-bare-metal.yaml"
	fh, err := os.Open(profile)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	inter, _, err := network.ReadProfile(profile, fh)
	if err != nil {
		t.Fatal(err)
	}
	m := &apps.LAMMPS{Params: fit.Parameters.(*apps.LAMMPSParams), Replicas: [3]int{16, 16, 8}, Steps: 100}
	run := func(nodes int, quota float64) float64 {
		env := &apps.Env{Fabric: &network.Fabric{Inter: inter}, Placement: network.Uniform(nodes, 16), Node: fit.Node, CPUQuota: quota}
		r, err := m.RunTime(env)
		if err != nil {
			t.Fatal(err)
		}
		return r.Seconds
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-6s %-6s %-10s %-14s %-14s %-14s\n", "nodes", "ranks", "no limit", "quota 8", "quota 12", "quota 16")
	prev := map[float64]float64{}
	for _, n := range []int{4, 8, 16, 32} {
		free := run(n, 0)
		fmt.Fprintf(&b, "%-6d %-6d %-10.1f", n, 16*n, free)
		for _, q := range []float64{8, 12, 16} {
			got := run(n, q)
			slow := got / free
			fmt.Fprintf(&b, " %7.1f (%4.2f×)", got, slow)
			if slow < 16/q*(1-1e-9) || slow < prev[q]*(1-1e-9) {
				t.Errorf("%d nodes, quota %g: %.3f×, below the average %.3f× or than on fewer nodes %.3f×", n, q, slow, 16/q, prev[q])
			}
			prev[q] = slow
		}
		b.WriteString("\n")
	}
	t.Logf("LAMMPS hpc7g-efa, run time in s (slowdown over no limit; the average model: 2× at 8, 1.33× at 12, 1× at 16):\n%s", b.String())
}
