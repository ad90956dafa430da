package calibrate

import (
	"math"
	"strings"
	"testing"
)

// TestReproduceCanopieLAMMPS reproduces the canopie22 LAMMPS runs (one
// seed, the tests' fit procedure): every configuration under both
// schedulers, the run time priced by a fit made without it, one pod a
// node under kube-scheduler as measured, errors and baselines computed
// from the cases' own figures.
func TestReproduceCanopieLAMMPS(t *testing.T) {
	in := appInputs(t)
	rep, err := ReproduceCanopie(in, ReproOptions{CI: true, Seeds: 1, Studies: []string{"lammps"}, Work: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	groups, err := ReadCanopie(in.Data+"/canopie22-scaling", "lammps")
	if err != nil {
		t.Fatal(err)
	}
	if want := 2 * len(groups); len(rep.Cases) != want {
		t.Fatalf("%d cases, want %d (every configuration under both schedulers)", len(rep.Cases), want)
	}
	var kube []ReproCase
	for _, c := range rep.Cases {
		if c.Runs == 0 || !(c.Startup > 0) || !(c.Runtime > 0) {
			t.Errorf("%s %s: measured %+v", c.Config, c.Scheduler, c)
		}
		if c.Fold == "" {
			t.Errorf("%s: no fold", c.Config)
		}
		if c.Scheduler == "default-scheduler" {
			kube = append(kube, c)
		}
	}
	var sumAbs float64
	for _, c := range kube {
		if c.Stalled != 0 {
			t.Fatalf("%s under kube stalled", c.Config)
		}
		// Whole-node pods: one a node, as measured.
		if c.SimDistinct != c.Pods || c.SimMostPerNode != 1 || c.Distinct != c.Pods {
			t.Errorf("%s: simulated %d nodes (most %d), measured %d (%d)", c.Config, c.SimDistinct, c.SimMostPerNode, c.Distinct, c.MostPerNode)
		}
		sumAbs += math.Abs(pctErr(c.SimRuntime, c.Runtime))
	}
	var s ReproSummary
	for _, x := range rep.Summaries() {
		if x.Scheduler == "default-scheduler" {
			s = x
		}
	}
	if got := sumAbs / float64(len(kube)); math.Abs(s.RuntimeMAPE-got) > 1e-9 {
		t.Errorf("summary run-time MAPE %v, cases say %v", s.RuntimeMAPE, got)
	}
	// The held-out run time beats the naive baseline on this data set.
	if !(s.RuntimeMAPE < s.BaseRuntimeMAPE) {
		t.Errorf("held-out run-time MAPE %.1f %% not below the baseline's %.1f %%", s.RuntimeMAPE, s.BaseRuntimeMAPE)
	}
	if !strings.Contains(rep.Table(), "per scheduler") {
		t.Error("the table lacks the summary")
	}
}
