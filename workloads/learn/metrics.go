package learn

import (
	"fmt"
	"math"
)

// Result holds regression metrics over N (target, prediction) pairs.
type Result struct {
	N     int     `json:"n"`
	MAE   float64 `json:"mae"`
	MSE   float64 `json:"mse"`
	RMSE  float64 `json:"rmse"`
	R2    float64 `json:"r2"`
	SMAPE float64 `json:"smape"` // percent
}

func (r Result) String() string {
	return fmt.Sprintf("n=%d R²=%.4f MAE=%.3f RMSE=%.3f MSE=%.2f SMAPE=%.2f%%", r.N, r.R2, r.MAE, r.RMSE, r.MSE, r.SMAPE)
}

// Metrics accumulates regression metrics online, as River's metrics do:
// MAE, MSE and SMAPE are running means, RMSE = √MSE, and R² is
// 1 − Σ(y − ŷ)² / Σ(y − ȳ)² with ȳ the mean of every target seen (the
// total sum of squares kept by Welford's update, as River's R2 keeps
// (n − 1)·Var). After the last pair they equal the batch definitions
// over the whole stream (scikit-learn's r2_score and friends), which is
// what the workflow's client reported for the test runs. SMAPE is River's:
// 100 · mean(2|y − ŷ| / (|y| + |ŷ|)), a pair with y = ŷ = 0 counting 0.
// As in River, R² is 0 while fewer than two targets have been seen or
// while they are all equal.
type Metrics struct {
	n                     int
	sumAbs, sumSq, sumSym float64
	yMean, yM2            float64
}

// Update adds one pair.
func (m *Metrics) Update(yTrue, yPred float64) {
	m.n++
	e := yTrue - yPred
	m.sumAbs += math.Abs(e)
	m.sumSq += e * e
	if den := math.Abs(yTrue) + math.Abs(yPred); den != 0 {
		m.sumSym += 2 * math.Abs(e) / den
	}
	d := yTrue - m.yMean
	m.yMean += d / float64(m.n)
	m.yM2 += d * (yTrue - m.yMean)
}

// Result returns the metrics so far (all 0 before the first pair).
func (m *Metrics) Result() Result {
	if m.n == 0 {
		return Result{}
	}
	n := float64(m.n)
	r := Result{N: m.n, MAE: m.sumAbs / n, MSE: m.sumSq / n, SMAPE: 100 * m.sumSym / n}
	r.RMSE = math.Sqrt(r.MSE)
	if m.n > 1 && m.yM2 > 0 {
		r.R2 = 1 - m.sumSq/m.yM2
	}
	return r
}

// Score returns the metrics of predictions yPred against targets yTrue.
func Score(yTrue, yPred []float64) (Result, error) {
	if len(yTrue) != len(yPred) {
		return Result{}, fmt.Errorf("learn: score: %d targets but %d predictions", len(yTrue), len(yPred))
	}
	var m Metrics
	for i := range yTrue {
		if math.IsNaN(yTrue[i]) || math.IsInf(yTrue[i], 0) || math.IsNaN(yPred[i]) || math.IsInf(yPred[i], 0) {
			return Result{}, fmt.Errorf("learn: score: pair %d is (%g, %g), must be finite", i, yTrue[i], yPred[i])
		}
		m.Update(yTrue[i], yPred[i])
	}
	return m.Result(), nil
}
