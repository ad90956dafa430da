package learn

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestMetricsMatchDefinitions(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	var yt, yp []float64
	var m Metrics
	for i := 0; i < 300; i++ {
		a := r.Float64()*100 - 20
		b := a + r.NormFloat64()*5
		yt, yp = append(yt, a), append(yp, b)
		m.Update(a, b)
		if i < 1 {
			continue
		}
		// Batch definitions, two-pass.
		n := float64(len(yt))
		mean := 0.0
		for _, v := range yt {
			mean += v
		}
		mean /= n
		var abs, sq, tot, sym float64
		for k := range yt {
			e := yt[k] - yp[k]
			abs += math.Abs(e)
			sq += e * e
			tot += (yt[k] - mean) * (yt[k] - mean)
			if d := math.Abs(yt[k]) + math.Abs(yp[k]); d != 0 {
				sym += 2 * math.Abs(e) / d
			}
		}
		got := m.Result()
		want := Result{N: len(yt), MAE: abs / n, MSE: sq / n, RMSE: math.Sqrt(sq / n), R2: 1 - sq/tot, SMAPE: 100 * sym / n}
		if got.N != want.N || !near(got.MAE, want.MAE, 1e-12) || !near(got.MSE, want.MSE, 1e-12) ||
			!near(got.RMSE, want.RMSE, 1e-12) || !near(got.R2, want.R2, 1e-10) || !near(got.SMAPE, want.SMAPE, 1e-12) {
			t.Fatalf("after %d pairs: %+v, definitions %+v", len(yt), got, want)
		}
	}
	s, err := Score(yt, yp)
	if err != nil || s != m.Result() {
		t.Fatalf("Score %+v (%v) differs from the online result %+v", s, err, m.Result())
	}
}

func TestR2AsRiverReportsIt(t *testing.T) {
	// The example of River's metrics.R2 documentation (its values as
	// printed there, cut to 4 places): 0 for one pair, then the running R².
	yt := []float64{3, -0.5, 2, 7}
	yp := []float64{2.5, 0.0, 2, 8}
	want := []float64{0.0, 0.9183, 0.9230, 0.9486}
	var m Metrics
	for i := range yt {
		m.Update(yt[i], yp[i])
		if got := m.Result().R2; math.Abs(got-want[i]) > 1e-4 {
			t.Errorf("after %d: R² %.5f, River's documentation gives %.4f", i+1, got, want[i])
		}
	}
}

func TestMetricsEdgeCases(t *testing.T) {
	var m Metrics
	if m.Result() != (Result{}) {
		t.Errorf("empty metrics: %+v", m.Result())
	}
	m.Update(0, 0)
	m.Update(0, 0)
	if r := m.Result(); r.SMAPE != 0 || r.R2 != 0 || r.MAE != 0 {
		t.Errorf("two exact zero pairs: %+v (SMAPE of 0/0 counts 0, R² of constant targets is 0 as in River)", r)
	}
	if _, err := Score([]float64{1, 2}, []float64{1}); err == nil || !strings.Contains(err.Error(), "2 targets but 1 predictions") {
		t.Errorf("Score of unequal lengths: %v", err)
	}
	if _, err := Score([]float64{1, math.NaN()}, []float64{1, 2}); err == nil || !strings.Contains(err.Error(), "pair 1") {
		t.Errorf("Score with a NaN target: %v", err)
	}
}

func TestPrequentialPredictsBeforeLearning(t *testing.T) {
	// A model that has learnt nothing predicts 0; prequentially the
	// first pair is (y₀, 0), and skipping zero predictions leaves it out.
	stream := []Sample{{X: []float64{1}, Y: 4}, {X: []float64{2}, Y: 8}, {X: []float64{3}, Y: 12}}
	m := mustNew(t, Spec{Model: BayesianLinear}, 1)
	res, preds, err := Prequential(m, stream, PrequentialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if preds[0] != 0 || res.N != 3 {
		t.Fatalf("first prediction %g (want 0), n %d (want 3)", preds[0], res.N)
	}
	// The second prediction is the posterior after the first example:
	// m = βx₀y₀/(α + βx₀²), at x = 2.
	if want := 2 * (1.0 * 4) / (1 + 1); !near(preds[1], want, 1e-12) {
		t.Fatalf("second prediction %g, want %g", preds[1], want)
	}
	m2 := mustNew(t, Spec{Model: BayesianLinear}, 1)
	res2, _, _ := Prequential(m2, stream, PrequentialOptions{SkipZeroPredictions: true})
	if res2.N != 2 {
		t.Fatalf("skipping zero predictions counted %d pairs, want 2", res2.N)
	}
	want, _ := Score([]float64{8, 12}, preds[1:])
	if res2 != want {
		t.Fatalf("skipping zero predictions: %+v, want %+v", res2, want)
	}
}
