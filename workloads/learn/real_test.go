package learn

import (
	"bytes"
	"errors"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const (
	predictJSON     = "../../../shared/data/lammps-stream-ml/lammps-predict.json"
	testPredictJSON = "../../../shared/data/lammps-stream-ml/test-predict.json"
)

// realRun reads a predictions file of the workflow or skips the test
// when ../shared/data is not beside the repository.
func realRun(t *testing.T, path string) *RealRun {
	t.Helper()
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		t.Skipf("skipping: %s is absent (the shared data folder ../shared/data is not beside the repository)", path)
	}
	rr, err := ReadRealRun(path)
	if err != nil {
		t.Fatal(err)
	}
	return rr
}

func byServerName(rr *RealRun) map[string]RealModel {
	out := map[string]RealModel{}
	for _, m := range rr.Models {
		out[m.ServerName] = m
	}
	return out
}

func TestRealFileModels(t *testing.T) {
	rr := realRun(t, predictJSON)
	if len(rr.Dims) != 250 || len(rr.YTrue) != 250 || len(rr.Models) != 3 {
		t.Fatalf("%d dims, %d wall times, %d models; the file has 250, 250, 3", len(rr.Dims), len(rr.YTrue), len(rr.Models))
	}
	models := byServerName(rr)
	// The parameters the server stored say which model is which.
	for i, name := range []string{"sticky-frito", "loopy-fudge", "swampy-cherry"} {
		m, ok := models[name]
		if !ok {
			t.Fatalf("no model %s in the file", name)
		}
		want := WorkflowSpecs()[i]
		got, err := resolve(m.Spec)
		if err != nil {
			t.Fatal(err)
		}
		wantP, _ := resolve(want)
		if !reflect.DeepEqual(got, wantP) {
			t.Errorf("%s: stored parameters give %v, WorkflowSpecs has %v", name, m.Spec, want)
		}
		t.Logf("%s: %s (labelled %q in the file); %d learn calls", name, m.Spec, m.StoredType, m.Train.Learns)
	}
	for _, m := range rr.Models {
		// The stored hold-out metrics are the batch metrics of the
		// stored predictions.
		got, err := Score(rr.YTrue, m.YPred)
		if err != nil {
			t.Fatal(err)
		}
		if !near(got.R2, m.Test.R2, 1e-9) || !near(got.MSE, m.Test.MSE, 1e-9) || !near(got.MAE, m.Test.MAE, 1e-9) || !near(got.RMSE, m.Test.RMSE, 1e-9) {
			t.Errorf("%s: metrics of the stored predictions %+v, stored metrics %+v", m.ServerName, got, m.Test)
		}
		// Each model predicted the test runs as one fixed linear function
		// of (x, y, z): no learning while predicting, the scaler frozen,
		// and no intercept for the Bayesian and PA models (River's
		// BayesianLinearRegression has none; the PA server model had
		// learn_intercept=False).
		withIntercept := m.Spec.Model == Linear
		fit, err := RecoverLinear(rr.Dims, m.YPred, withIntercept)
		if err != nil {
			t.Fatal(err)
		}
		if fit.MaxResidual > 1e-9 {
			t.Errorf("%s: predictions are not one linear function of the sizes (largest residual %g)", m.ServerName, fit.MaxResidual)
		}
		t.Logf("%s: final model, recovered from its predictions: coefficients (x, y, z) %.4f, intercept %.3f", m.ServerName, fit.Coef, fit.Intercept)
		if withIntercept {
			noIcpt, _ := RecoverLinear(rr.Dims, m.YPred, false)
			if noIcpt.MaxResidual < 1 {
				t.Errorf("%s: predictions fit without an intercept (residual %g); the linear pipeline has one", m.ServerName, noIcpt.MaxResidual)
			}
		}
		// The earlier short test (test-predict.json) was predicted by
		// the same frozen models.
		early := realRun(t, testPredictJSON)
		em := byServerName(early)[m.ServerName]
		for i, x := range early.Dims {
			if p := dot(fit.Coef, x) + fit.Intercept; !near(p, em.YPred[i], 1e-9) {
				t.Errorf("%s: test-predict.json run %d predicted %g, the model recovered from lammps-predict.json gives %g", m.ServerName, i, em.YPred[i], p)
			}
		}
	}
}

// The shape of the real wall times, described (not fitted into any model
// here): the best affine function of (x, y, z) on the test runs, and
// a + b·xyz.
func TestRealDataShape(t *testing.T) {
	rr := realRun(t, predictJSON)
	lin, err := RecoverLinear(rr.Dims, rr.YTrue, true)
	if err != nil {
		t.Fatal(err)
	}
	linPred := make([]float64, len(rr.Dims))
	prod := make([][]float64, len(rr.Dims))
	for i, x := range rr.Dims {
		linPred[i] = dot(lin.Coef, x) + lin.Intercept
		prod[i] = []float64{x[0] * x[1] * x[2]}
	}
	work, err := RecoverLinear(prod, rr.YTrue, true)
	if err != nil {
		t.Fatal(err)
	}
	workPred := make([]float64, len(rr.Dims))
	for i, p := range prod {
		workPred[i] = work.Intercept + work.Coef[0]*p[0]
	}
	rl, _ := Score(rr.YTrue, linPred)
	rw, _ := Score(rr.YTrue, workPred)
	t.Logf("best affine function of (x, y, z) on the 250 test runs, in sample: %v", rl)
	t.Logf("a + b·x·y·z on the same runs, in sample (a = %.2f s, b = %.4f s): %v", work.Intercept, work.Coef[0], rw)
	if rl.R2 >= rw.R2 {
		t.Errorf("the wall times are not better explained by the product x·y·z (R² %.3f) than linearly (%.3f)", rw.R2, rl.R2)
	}
	for _, m := range rr.Models {
		if m.Test.R2 > rl.R2+1e-9 {
			t.Errorf("%s: real R² %.3f above the in-sample linear ceiling %.3f", m.ServerName, m.Test.R2, rl.R2)
		}
	}
}

// TestRealReplay is (a): the 250 real test runs, in their order, as a
// prequential stream for each model of the server. Run with -v to print
// the table.
func TestRealReplay(t *testing.T) {
	rr := realRun(t, predictJSON)
	reps, err := ReplayPrequential(rr)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteReplay(&buf, reps); err != nil {
		t.Fatal(err)
	}
	t.Logf("prequential replay of %s (the first prediction of a fresh model is 0 and, as on the server, not counted):\n%s", filepath.Base(rr.Path), buf.String())
	for _, r := range reps {
		if r.Result.N != len(rr.Dims)-1 {
			t.Errorf("%s: %d pairs counted, want %d", r.ServerName, r.Result.N, len(rr.Dims)-1)
		}
		for _, v := range []float64{r.Result.R2, r.Result.MAE, r.Result.RMSE, r.Result.SMAPE} {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Errorf("%s: %+v", r.ServerName, r.Result)
			}
		}
	}
	// River's hinge (target 2y−1) against the paper's: the server's own
	// prequential training metrics tell which one it ran.
	pa := byServerName(rr)["swampy-cherry"]
	stream := make([]Sample, len(rr.Dims))
	for i := range stream {
		stream[i] = Sample{X: rr.Dims[i], Y: rr.YTrue[i]}
	}
	dist := func(riverHinge float64) (Result, float64) {
		sp := Spec{Model: PassiveAggressive, Params: map[string]float64{"river_hinge": riverHinge}}
		for k, v := range pa.Spec.Params {
			sp.Params[k] = v
		}
		res, _, err := Prequential(mustNew(t, sp, 3), stream, PrequentialOptions{SkipZeroPredictions: true})
		if err != nil {
			t.Fatal(err)
		}
		return res, math.Abs(res.MAE-pa.Train.MAE)/pa.Train.MAE + math.Abs(res.RMSE-pa.Train.RMSE)/pa.Train.RMSE
	}
	river, dRiver := dist(1)
	paper, dPaper := dist(0)
	t.Logf("passive-aggressive with River's hinge: %v; with the paper's: %v; the server's training MAE %.2f RMSE %.2f SMAPE %.1f%%",
		river, paper, pa.Train.MAE, pa.Train.RMSE, pa.Train.SMAPE)
	if dRiver >= dPaper {
		t.Errorf("the paper's PA (relative distance %.2f) is closer to the server's training metrics than River's hinge (%.2f)", dPaper, dRiver)
	}
}

// synthetic is a stand-in training stream, NOT LAMMPS data and not fitted
// to it: wall time = 5 s + 0.1 s · x·y·z exactly, on sizes drawn as the
// workflow draws them. Its only purpose is to exercise CompareWithReal
// and to show the shape effect: the truth is a product of the features.
func synthetic(r *rand.Rand, n int) []Sample {
	xs := DrawLammpsSizes(r, n)
	out := make([]Sample, n)
	for i, x := range xs {
		out[i] = Sample{X: x, Y: 5 + 0.1*x[0]*x[1]*x[2]}
	}
	return out
}

// TestRealCompareSynthetic is (b) with a synthetic training stream. Run
// with -v to print the table; the test figures measure the synthetic
// formula, not the simulator, and are not a validation.
func TestRealCompareSynthetic(t *testing.T) {
	rr := realRun(t, predictJSON)
	r := rand.New(rand.NewPCG(2023, 10))
	train := synthetic(r, 1000)
	cs, err := CompareWithReal(rr, train)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteComparisons(&buf, cs); err != nil {
		t.Fatal(err)
	}
	t.Logf("trained on the SYNTHETIC stream 5 + 0.1·x·y·z (1000 runs), tested on the 250 real runs:\n%s", buf.String())
	models := byServerName(rr)
	for _, c := range cs {
		if c.Test.N != len(rr.Dims) || c.Train.N != len(train)-1 || len(c.Preds) != len(rr.Dims) {
			t.Errorf("%s: test n %d, training n %d, %d predictions", c.ServerName, c.Test.N, c.Train.N, len(c.Preds))
		}
		if c.Real != models[c.ServerName].Test || c.RealTrain != models[c.ServerName].Train {
			t.Errorf("%s: the real metrics carried are not the file's", c.ServerName)
		}
	}

	// The shape effect on the synthetic truth: a linear function of
	// (x, y, z) cannot follow the product. Held-out synthetic runs: the
	// SGD pipeline gets close to the best linear function (least squares
	// on the training stream), and that ceiling is well below 1.
	hold := synthetic(r, 2000)
	hx := make([][]float64, len(hold))
	hy := make([]float64, len(hold))
	for i, s := range hold {
		hx[i], hy[i] = s.X, s.Y
	}
	tx := make([][]float64, len(train))
	ty := make([]float64, len(train))
	for i, s := range train {
		tx[i], ty[i] = s.X, s.Y
	}
	ols, err := RecoverLinear(tx, ty, true)
	if err != nil {
		t.Fatal(err)
	}
	olsPred := make([]float64, len(hx))
	for i, x := range hx {
		olsPred[i] = dot(ols.Coef, x) + ols.Intercept
	}
	ceiling, _ := Score(hy, olsPred)
	lin := mustNew(t, WorkflowSpecs()[0], 3)
	if err := Train(lin, train); err != nil {
		t.Fatal(err)
	}
	sgd, _, _ := Evaluate(lin, hx, hy)
	t.Logf("synthetic hold-out: least-squares linear ceiling %v; SGD pipeline %v; the real server's linear model on real runs R² %.3f",
		ceiling, sgd, models["sticky-frito"].Test.R2)
	if ceiling.R2 > 0.95 {
		t.Errorf("a linear function of (x, y, z) explains the product target with R² %.3f", ceiling.R2)
	}
	if math.Abs(sgd.R2-ceiling.R2) > 0.05 {
		t.Errorf("the SGD pipeline's R² %.3f is not near the least-squares ceiling %.3f", sgd.R2, ceiling.R2)
	}
}

func TestReadRealRunErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	model := `{"r_squared": 0.5, "mean_squared_error": 1, "mean_absolute_error": 1, "root_mean_squared_error": 1, "model": {"alpha": 1, "beta": 1, "smoothing": null}}`
	cases := []struct {
		name, body, want string
	}{
		{"syntax.json", "{\n \"dims\": [\n {\"x\": 1,,}]}", "line 3"},
		{"nodims.json", `{"a": 1}`, "dims: missing"},
		{"short.json", `{"dims": [{"x": 1, "y": 2, "z": 3}], "y_true": [1, 2], "y_pred": {}}`, "y_true: 2 values for 1 dims"},
		{"badx.json", `{"dims": [{"x": 0, "y": 2, "z": 3}], "y_true": [1], "y_pred": {}}`, "dims[0].x"},
		{"nopred.json", `{"dims": [{"x": 1, "y": 2, "z": 3}], "y_true": [1], "y_pred": {}, "m": ` + model + `}`, "y_pred.m: missing"},
		{"unknown.json", `{"dims": [{"x": 1, "y": 2, "z": 3}], "y_true": [1], "y_pred": {"m": [1]}, "m": {"r_squared": 0.5, "mean_squared_error": 1, "mean_absolute_error": 1, "root_mean_squared_error": 1, "model": {"n_trees": 3}}}`, "match none of"},
		{"adam.json", `{"dims": [{"x": 1, "y": 2, "z": 3}], "y_true": [1], "y_pred": {"m": [1]}, "m": {"r_squared": 0.5, "mean_squared_error": 1, "mean_absolute_error": 1, "root_mean_squared_error": 1, "model": {"LinearRegression": {"optimizer": ["Adam", {}], "loss": ["Squared"]}}}}`, "LinearRegression.optimizer: Adam, only SGD"},
		{"l1.json", `{"dims": [{"x": 1, "y": 2, "z": 3}], "y_true": [1], "y_pred": {"m": [1]}, "m": {"r_squared": 0.5, "mean_squared_error": 1, "mean_absolute_error": 1, "root_mean_squared_error": 1, "model": {"LinearRegression": {"optimizer": ["SGD", {"lr": ["Constant", {"learning_rate": 0.01}]}], "loss": ["Squared"], "l1": 0.5}}}}`, "l1"},
		{"nometric.json", `{"dims": [{"x": 1, "y": 2, "z": 3}], "y_true": [1], "y_pred": {"m": [1]}, "m": {"model": {"alpha": 1, "beta": 1}}}`, "r_squared: missing"},
	}
	for _, c := range cases {
		p := write(c.name, c.body)
		_, err := ReadRealRun(p)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: error %v, want one naming the file and containing %q", c.name, err, c.want)
		}
	}
	if _, err := ReadRealRun(filepath.Join(dir, "absent.json")); err == nil {
		t.Error("reading an absent file succeeded")
	}
	if _, err := ReadRealRun(dir); err == nil || !strings.Contains(err.Error(), "folder") {
		t.Errorf("reading a folder: %v", err)
	}
}
