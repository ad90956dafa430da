package learn

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// BayesConfig are the parameters of BayesianLinearRegression.
type BayesConfig struct {
	Alpha, Beta float64
	// Smoothing 0 means none; a value in (0, 1) makes the model forget
	// the past exponentially.
	Smoothing float64
}

// BayesianLinearRegression is River's linear_model.BayesianLinearRegression:
// the conjugate Gaussian model of Bishop's Pattern Recognition and
// Machine Learning §3.3, updated one example at a time. Prior
// w ~ N(0, α⁻¹I), likelihood y ~ N(w·x, β⁻¹); after examples (xₙ, yₙ) the
// posterior has precision S⁻¹ = αI + β Σ xₙxₙᵀ (eq. 3.51) and mean
// m = S β Σ xₙyₙ (eq. 3.50, written recursively as
// m ← S(S₀⁻¹m + βxy)). Predict returns m·x (eq. 3.58): there is no
// intercept, as in River. PredictVariance gives 1/β + xᵀSx (eq. 3.59).
//
// With smoothing s, River replaces the update by
// S⁻¹ ← s·S⁻¹ + (1−s)·βxxᵀ and m ← S(s·S⁻¹_old·m + (1−s)·βxy).
//
// The precision matrix and β Σ xy are kept and the mean is solved by a
// Cholesky factorisation (gonum) after each example; River keeps S by
// Sherman–Morrison updates instead, the same posterior. One difference:
// River starts both its running precision matrix and its covariance at
// I/α, which are inverses of each other only for α = 1 (River's default
// and the workflow's value); here the prior precision is αI and the
// prior covariance I/α for every α, as in Bishop.
type BayesianLinearRegression struct {
	cfg  BayesConfig
	dim  int
	prec *mat.SymDense // S⁻¹
	bxy  *mat.VecDense // S⁻¹m, = β Σ xy without smoothing
	m    *mat.VecDense
	chol mat.Cholesky
	xv   *mat.VecDense
}

// NewBayesianLinearRegression checks cfg and returns the prior model.
func NewBayesianLinearRegression(dim int, cfg BayesConfig) (*BayesianLinearRegression, error) {
	if dim < 1 {
		return nil, fmt.Errorf("learn: %s: the feature dimension must be at least 1, got %d", BayesianLinear, dim)
	}
	for _, c := range []struct {
		name string
		v    float64
		ok   bool
		want string
	}{
		{"alpha", cfg.Alpha, cfg.Alpha > 0, "> 0"},
		{"beta", cfg.Beta, cfg.Beta > 0, "> 0"},
		{"smoothing", cfg.Smoothing, cfg.Smoothing >= 0 && cfg.Smoothing < 1, "0 (none) or in (0, 1)"},
	} {
		if math.IsNaN(c.v) || math.IsInf(c.v, 0) {
			return nil, fmt.Errorf("learn: %s: parameter %s must be finite, got %g", BayesianLinear, c.name, c.v)
		}
		if !c.ok {
			return nil, fmt.Errorf("learn: %s: parameter %s must be %s, got %g", BayesianLinear, c.name, c.want, c.v)
		}
	}
	m := &BayesianLinearRegression{
		cfg: cfg, dim: dim,
		prec: mat.NewSymDense(dim, nil),
		bxy:  mat.NewVecDense(dim, nil),
		m:    mat.NewVecDense(dim, nil),
		xv:   mat.NewVecDense(dim, nil),
	}
	for i := 0; i < dim; i++ {
		m.prec.SetSym(i, i, cfg.Alpha)
	}
	if !m.chol.Factorize(m.prec) {
		return nil, fmt.Errorf("learn: %s: prior precision not positive definite (alpha %g)", BayesianLinear, cfg.Alpha)
	}
	return m, nil
}

// Name returns "bayesian-linear".
func (m *BayesianLinearRegression) Name() string { return BayesianLinear }

// Learn updates the posterior with (x, y).
func (m *BayesianLinearRegression) Learn(x []float64, y float64) error {
	if err := checkInput(BayesianLinear, m.dim, x, y, true); err != nil {
		return err
	}
	copy(m.xv.RawVector().Data, x)
	b := m.cfg.Beta
	if s := m.cfg.Smoothing; s > 0 {
		m.prec.ScaleSym(s, m.prec)
		m.prec.SymRankOne(m.prec, (1-s)*b, m.xv)
		m.bxy.ScaleVec(s, m.bxy) // s·S⁻¹m
		m.bxy.AddScaledVec(m.bxy, (1-s)*b*y, m.xv)
	} else {
		m.prec.SymRankOne(m.prec, b, m.xv)
		m.bxy.AddScaledVec(m.bxy, b*y, m.xv)
	}
	if !m.chol.Factorize(m.prec) {
		return fmt.Errorf("learn: %s: posterior precision lost positive definiteness", BayesianLinear)
	}
	if err := m.chol.SolveVecTo(m.m, m.bxy); err != nil {
		return fmt.Errorf("learn: %s: posterior mean: %w", BayesianLinear, err)
	}
	return nil
}

// Predict returns the posterior mean m·x.
func (m *BayesianLinearRegression) Predict(x []float64) (float64, error) {
	if err := checkInput(BayesianLinear, m.dim, x, 0, false); err != nil {
		return 0, err
	}
	return dot(m.m.RawVector().Data, x), nil
}

// PredictVariance returns the variance of the predictive distribution at
// x: 1/β + xᵀSx.
func (m *BayesianLinearRegression) PredictVariance(x []float64) (float64, error) {
	if err := checkInput(BayesianLinear, m.dim, x, 0, false); err != nil {
		return 0, err
	}
	xv := mat.NewVecDense(m.dim, append([]float64(nil), x...))
	var sx mat.VecDense
	if err := m.chol.SolveVecTo(&sx, xv); err != nil {
		return 0, fmt.Errorf("learn: %s: predictive variance: %w", BayesianLinear, err)
	}
	return 1/m.cfg.Beta + mat.Dot(xv, &sx), nil
}

// Mean returns a copy of the posterior mean of the weights.
func (m *BayesianLinearRegression) Mean() []float64 {
	return append([]float64(nil), m.m.RawVector().Data...)
}
