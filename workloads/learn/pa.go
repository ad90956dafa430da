package learn

import (
	"fmt"
	"math"
)

// PAConfig are the parameters of PARegressor.
type PAConfig struct {
	C              float64
	Mode           int // 0: PA, 1: PA-I, 2: PA-II
	Eps            float64
	LearnIntercept bool
	// RiverHinge evaluates the loss as River's EpsilonInsensitiveHinge
	// does (the target mapped to 2y−1 first); false is the paper's loss.
	RiverHinge bool
}

// PARegressor is River's linear_model.PARegressor, the online
// passive-aggressive regression of Crammer, Dekel, Keshet, Shalev-Shwartz
// and Singer (JMLR 7, 2006). One Learn:
//
//	ŷ = w·x + b
//	ℓ = max(0, |ŷ − t| − ε)
//	τ = ℓ/‖x‖² (PA), min(C, ℓ/‖x‖²) (PA-I), ℓ/(‖x‖² + 1/(2C)) (PA-II)
//	step = τ·sign(y − ŷ);  w ← w + step·x;  b ← b + step (learn_intercept)
//
// where ‖x‖ does not count the intercept, τ is 0 for PA and PA-I when
// x = 0, and t is the target. The paper has t = y. River computes ℓ with
// its EpsilonInsensitiveHinge loss, which first maps the target to
// t = 2y − 1 (the mapping of its {0, 1} labels to {−1, 1}, applied to a
// real target too), while the step's sign uses y; RiverHinge selects
// River's form, the one the workflow's server ran. Far from y the two
// agree to within a factor; near y River's ℓ stays about |y − 1|, so
// the model keeps jumping around y instead of settling.
type PARegressor struct {
	cfg PAConfig
	dim int
	w   []float64
	b   float64
}

// NewPARegressor checks cfg and returns a model with zero weights.
func NewPARegressor(dim int, cfg PAConfig) (*PARegressor, error) {
	if dim < 1 {
		return nil, fmt.Errorf("learn: %s: the feature dimension must be at least 1, got %d", PassiveAggressive, dim)
	}
	if math.IsNaN(cfg.C) || math.IsInf(cfg.C, 0) || math.IsNaN(cfg.Eps) || math.IsInf(cfg.Eps, 0) {
		return nil, fmt.Errorf("learn: %s: parameters C and eps must be finite, got C %g, eps %g", PassiveAggressive, cfg.C, cfg.Eps)
	}
	if cfg.Mode < 0 || cfg.Mode > 2 {
		return nil, fmt.Errorf("learn: %s: parameter mode must be 0, 1 or 2, got %d", PassiveAggressive, cfg.Mode)
	}
	if cfg.C <= 0 {
		return nil, fmt.Errorf("learn: %s: parameter C must be > 0, got %g", PassiveAggressive, cfg.C)
	}
	if cfg.Eps < 0 {
		return nil, fmt.Errorf("learn: %s: parameter eps must be >= 0, got %g", PassiveAggressive, cfg.Eps)
	}
	return &PARegressor{cfg: cfg, dim: dim, w: make([]float64, dim)}, nil
}

// Name returns "passive-aggressive".
func (m *PARegressor) Name() string { return PassiveAggressive }

// Learn makes one passive-aggressive update on (x, y).
func (m *PARegressor) Learn(x []float64, y float64) error {
	if err := checkInput(PassiveAggressive, m.dim, x, y, true); err != nil {
		return err
	}
	yhat := dot(m.w, x) + m.b
	t := y
	if m.cfg.RiverHinge {
		t = 2*y - 1
	}
	loss := math.Max(0, math.Abs(yhat-t)-m.cfg.Eps)
	norm := dot(x, x)
	var tau float64
	switch m.cfg.Mode {
	case 0:
		if norm > 0 {
			tau = loss / norm
		}
	case 1:
		if norm > 0 {
			tau = math.Min(m.cfg.C, loss/norm)
		}
	case 2:
		tau = loss / (norm + 0.5/m.cfg.C)
	}
	var sign float64
	switch {
	case y > yhat:
		sign = 1
	case y < yhat:
		sign = -1
	}
	step := tau * sign
	for i, v := range x {
		m.w[i] += step * v
	}
	if m.cfg.LearnIntercept {
		m.b += step
	}
	return nil
}

// Predict returns w·x + b.
func (m *PARegressor) Predict(x []float64) (float64, error) {
	if err := checkInput(PassiveAggressive, m.dim, x, 0, false); err != nil {
		return 0, err
	}
	return dot(m.w, x) + m.b, nil
}

// Weights returns a copy of the weights and the intercept.
func (m *PARegressor) Weights() ([]float64, float64) {
	return append([]float64(nil), m.w...), m.b
}
