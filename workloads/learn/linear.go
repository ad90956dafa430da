package learn

import (
	"fmt"
	"math"
)

// StandardScaler standardises features online, as River's
// preprocessing.StandardScaler: per feature a running count, mean and
// population variance (Welford's update, divisor n), and
// transform(x) = (x − mean)/√var, or 0 while the variance is 0.
type StandardScaler struct {
	n        float64
	mean, vr []float64
}

// NewStandardScaler returns a scaler for vectors of dimension dim.
func NewStandardScaler(dim int) *StandardScaler {
	return &StandardScaler{mean: make([]float64, dim), vr: make([]float64, dim)}
}

// Learn adds x to the running statistics.
func (s *StandardScaler) Learn(x []float64) {
	s.n++
	for i, v := range x {
		old := s.mean[i]
		s.mean[i] += (v - old) / s.n
		s.vr[i] += ((v-old)*(v-s.mean[i]) - s.vr[i]) / s.n
	}
}

// Transform writes the standardised x into dst (len dim) and returns it.
func (s *StandardScaler) Transform(x, dst []float64) []float64 {
	for i, v := range x {
		sd := math.Sqrt(s.vr[i])
		if sd == 0 {
			dst[i] = 0
			continue
		}
		dst[i] = (v - s.mean[i]) / sd
	}
	return dst
}

// Mean returns the running means.
func (s *StandardScaler) Mean() []float64 { return append([]float64(nil), s.mean...) }

// Var returns the running population variances.
func (s *StandardScaler) Var() []float64 { return append([]float64(nil), s.vr...) }

// LinearConfig are the parameters of LinearRegression (see Params(Linear)).
type LinearConfig struct {
	LR, InterceptLR, InterceptInit, L2, ClipGradient float64
	Scale                                            bool
}

// LinearRegression is River's linear_model.LinearRegression with the
// SGD optimizer and constant learning rates, optionally behind an online
// StandardScaler (River's pipeline StandardScaler() | LinearRegression()).
//
// One Learn, following River's GLM and Pipeline:
//
//  1. with Scale, the scaler learns x first, then x is standardised with
//     the updated statistics (a pipeline's unsupervised steps learn in
//     learn_one, not during predict_one, in the River versions whose
//     Pipeline has learn_during_predict; the real server's test
//     predictions are an exact affine function of the sizes, so its
//     scaler did not move while predicting);
//  2. ŷ = w·z + b; g = clip(2(ŷ − y)) — River's squared loss is (ŷ − y)²
//     with gradient 2(ŷ − y), not scikit-learn's half;
//  3. b ← b − intercept_lr·g, then w ← w − lr·(g·z + l2·w).
//
// Predict standardises with the current statistics without learning.
type LinearRegression struct {
	cfg    LinearConfig
	dim    int
	w      []float64
	b      float64
	scaler *StandardScaler
	z      []float64
}

// NewLinearRegression checks cfg and returns a model with zero weights.
func NewLinearRegression(dim int, cfg LinearConfig) (*LinearRegression, error) {
	if dim < 1 {
		return nil, fmt.Errorf("learn: %s: the feature dimension must be at least 1, got %d", Linear, dim)
	}
	for _, c := range []struct {
		name string
		v    float64
		ok   bool
		want string
	}{
		{"lr", cfg.LR, cfg.LR > 0, "> 0"},
		{"intercept_lr", cfg.InterceptLR, cfg.InterceptLR >= 0, ">= 0"},
		{"l2", cfg.L2, cfg.L2 >= 0, ">= 0"},
		{"clip_gradient", cfg.ClipGradient, cfg.ClipGradient > 0, "> 0"},
		{"intercept_init", cfg.InterceptInit, true, ""},
	} {
		if math.IsNaN(c.v) || math.IsInf(c.v, 0) {
			return nil, fmt.Errorf("learn: %s: parameter %s must be finite, got %g", Linear, c.name, c.v)
		}
		if !c.ok {
			return nil, fmt.Errorf("learn: %s: parameter %s must be %s, got %g", Linear, c.name, c.want, c.v)
		}
	}
	m := &LinearRegression{cfg: cfg, dim: dim, w: make([]float64, dim), b: cfg.InterceptInit, z: make([]float64, dim)}
	if cfg.Scale {
		m.scaler = NewStandardScaler(dim)
	}
	return m, nil
}

// Name returns "linear".
func (m *LinearRegression) Name() string { return Linear }

func (m *LinearRegression) features(x []float64) []float64 {
	if m.scaler == nil {
		copy(m.z, x)
		return m.z
	}
	return m.scaler.Transform(x, m.z)
}

// Learn makes one SGD step on (x, y).
func (m *LinearRegression) Learn(x []float64, y float64) error {
	if err := checkInput(Linear, m.dim, x, y, true); err != nil {
		return err
	}
	if m.scaler != nil {
		m.scaler.Learn(x)
	}
	z := m.features(x)
	g := 2 * (dot(m.w, z) + m.b - y)
	g = math.Max(-m.cfg.ClipGradient, math.Min(m.cfg.ClipGradient, g))
	m.b -= m.cfg.InterceptLR * g
	for i := range m.w {
		m.w[i] -= m.cfg.LR * (g*z[i] + m.cfg.L2*m.w[i])
	}
	return nil
}

// Predict returns w·z + b for the (standardised) x.
func (m *LinearRegression) Predict(x []float64) (float64, error) {
	if err := checkInput(Linear, m.dim, x, 0, false); err != nil {
		return 0, err
	}
	return dot(m.w, m.features(x)) + m.b, nil
}

// Weights returns a copy of the weights (on standardised features with
// Scale) and the intercept.
func (m *LinearRegression) Weights() ([]float64, float64) {
	return append([]float64(nil), m.w...), m.b
}

// Scaler returns the model's scaler, nil without Scale.
func (m *LinearRegression) Scaler() *StandardScaler { return m.scaler }
