package calibrate

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/convergesim/converge/scenarios"
	"github.com/convergesim/converge/workloads/learn"
)

// The talk's workflow simulated (scenarios/lammps-stream-ml.yaml: 1000
// LAMMPS runs under Flux feeding the three online models), then the
// trained models asked for the real 250 test runs' wall times and
// scored against what the real runs took, next to the real server's
// metrics for the same models.
func TestStreamMLAgainstReal(t *testing.T) {
	rr, err := learn.ReadRealRun(filepath.Join(appDataRoot, "lammps-stream-ml", "lammps-predict.json"))
	if err != nil {
		t.Skipf("calibration data not available (%v); it lives in ../shared/data beside the repository", err)
	}
	path := filepath.Join("..", "lammps-stream-ml.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := scenarios.Parse(path, data, scenarios.Overrides{IgnoreEnv: true})
	if err != nil {
		t.Fatal(err)
	}
	e, err := scenarios.Build(sc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Run(); err != nil {
		t.Fatal(err)
	}
	train := sc.WorkflowSamples(0)
	if len(train) != 1000 {
		t.Fatalf("%d training runs posted, want 1000", len(train))
	}
	cs, err := learn.CompareWithReal(rr, train)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		t.Logf("%-14s %-18s simulated-trained on the real test runs: R² %.3f MAE %.2f RMSE %.2f | real server: R² %.3f MAE %.2f RMSE %.2f",
			c.ServerName, c.Spec.Model, c.Test.R2, c.Test.MAE, c.Test.RMSE, c.Real.R2, c.Real.MAE, c.Real.RMSE)
		if c.Test.N != len(rr.YTrue) {
			t.Errorf("%s: %d test pairs, want %d", c.ServerName, c.Test.N, len(rr.YTrue))
		}
	}
	// The linear models' ranking is the real one: linear regression
	// beats Bayesian linear regression on the real test runs, as it did
	// on the server.
	// Baseline: every test run predicted as the mean simulated training
	// wall time.
	var mean float64
	for _, x := range train {
		mean += x.Y
	}
	mean /= float64(len(train))
	constant := make([]float64, len(rr.YTrue))
	for i := range constant {
		constant[i] = mean
	}
	base, err := learn.Score(rr.YTrue, constant)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("baseline: the mean simulated training wall time (%.1f s) for every real test run: R² %.3f MAE %.2f RMSE %.2f", mean, base.R2, base.MAE, base.RMSE)
	by := map[string]learn.Comparison{}
	for _, c := range cs {
		by[c.Spec.Model] = c
	}
	lin, bayes := by[learn.Linear], by[learn.BayesianLinear]
	if !(lin.Real.R2 > bayes.Real.R2) {
		t.Fatalf("the real server's linear R² %.3f is not above its Bayesian %.3f: the check below is moot", lin.Real.R2, bayes.Real.R2)
	}
	if !(lin.Test.R2 > bayes.Test.R2) {
		t.Errorf("linear R² %.3f not above Bayesian %.3f, as on the real server (%.3f > %.3f)", lin.Test.R2, bayes.Test.R2, lin.Real.R2, bayes.Real.R2)
	}
}
