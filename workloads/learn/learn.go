// Package learn models the learning service of the LAMMPS stream-ML
// workflow (lammps-stream-ml, §5 of issue 10): LAMMPS runs one after
// another under Flux, each finished run posts its problem size (x, y, z)
// and its wall time to a River model server (django-river-ml) in
// Usernetes, which learns online with three River regressors; after the
// training runs, the test runs are only predicted.
//
// The regressors are written here from the documented mathematics of
// River's models, with River's conventions where they matter to the
// numbers (see each type):
//
//   - "linear": preprocessing.StandardScaler() | linear_model.LinearRegression()
//     (plain SGD on the squared loss, a separate intercept learning rate);
//   - "bayesian-linear": linear_model.BayesianLinearRegression (Bishop's
//     conjugate Gaussian posterior, no intercept);
//   - "passive-aggressive": linear_model.PARegressor (Crammer et al.'s
//     PA, PA-I and PA-II updates on the ε-insensitive loss).
//
// Metrics (MAE, MSE, RMSE, R², SMAPE) are computed as River computes
// them online; at the end of a stream they equal the batch definitions
// (see Metrics).
//
// Against the real server (docs/validation.md, "Learning service
// models"): ReadRealRun reads a predictions file of the workflow
// (lammps-predict.json) with each model's stored parameters as a Spec;
// ReplayPrequential replays its test runs test-then-train; and
// CompareWithReal(real, train) trains the server's models on any stream
// of (size, wall time) Samples — e.g. the simulator's LAMMPS model on
// sizes from DrawLammpsSizes — and scores them on the real test runs next
// to the real server's metrics (WriteComparisons prints the table).
//
// Everything is deterministic: no model draws random numbers, and the
// helpers that draw problem sizes take the caller's *rand.Rand.
package learn

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// Regressor is an online regression model: it learns one example at a
// time and predicts from what it has learnt so far.
type Regressor interface {
	// Learn updates the model with the features x and the target y.
	// x must have the model's dimension and every value must be finite.
	Learn(x []float64, y float64) error
	// Predict returns the model's prediction for x without learning.
	Predict(x []float64) (float64, error)
	// Name is the model's constructor name ("linear", ...).
	Name() string
}

// Model names accepted by New.
const (
	Linear            = "linear"
	BayesianLinear    = "bayesian-linear"
	PassiveAggressive = "passive-aggressive"
)

// Spec names a model and its parameters, as a scenario would give them.
// Parameters left out take River's defaults (see Params).
type Spec struct {
	Model  string             `json:"model" yaml:"model"`
	Params map[string]float64 `json:"params,omitempty" yaml:"params,omitempty"`
}

func (s Spec) String() string {
	if len(s.Params) == 0 {
		return s.Model
	}
	keys := make([]string, 0, len(s.Params))
	for k := range s.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%g", k, s.Params[k])
	}
	return s.Model + "(" + strings.Join(parts, ", ") + ")"
}

// Param describes one parameter of a model.
type Param struct {
	Name    string
	Default float64
	Doc     string
}

// params lists each model's parameters with River's defaults. Booleans
// are 0 or 1.
var params = map[string][]Param{
	Linear: {
		{"lr", 0.01, "SGD learning rate of the weights (River's optim.SGD default, constant)"},
		{"intercept_lr", 0.01, "learning rate of the intercept (River's default; the workflow's server used 0.1)"},
		{"intercept_init", 0, "initial intercept"},
		{"l2", 0, "L2 penalty: the weights' gradient gets l2·w added"},
		{"clip_gradient", 1e12, "bound on the absolute value of the loss gradient"},
		{"scale", 1, "1: the features go through an online StandardScaler first (the workflow's pipeline); 0: raw features"},
	},
	BayesianLinear: {
		{"alpha", 1, "prior precision of the weights (prior N(0, I/alpha))"},
		{"beta", 1, "noise precision"},
		{"smoothing", 0, "0: none; in (0, 1): exponential forgetting of the past, River's smoothing parameter"},
	},
	PassiveAggressive: {
		{"C", 1, "aggressiveness (used by modes 1 and 2)"},
		{"mode", 1, "0: PA, 1: PA-I, 2: PA-II"},
		{"eps", 0.1, "width of the ε-insensitive zone"},
		{"learn_intercept", 1, "1: learn an intercept (updated by the same step as the weights)"},
		{"river_hinge", 1, "1: the loss is River's EpsilonInsensitiveHinge, which maps the target y to 2y−1 before taking |ŷ−y|−ε (River's convention for labels, applied to regression too); 0: the paper's |ŷ−y|−ε"},
	},
}

// Names returns the model names New accepts, sorted.
func Names() []string {
	out := make([]string, 0, len(params))
	for n := range params {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Params returns the parameters of the named model with their defaults.
func Params(model string) ([]Param, error) {
	ps, ok := params[model]
	if !ok {
		return nil, fmt.Errorf("learn: unknown model %q (known: %s)", model, strings.Join(Names(), ", "))
	}
	return append([]Param(nil), ps...), nil
}

// resolve returns the model's parameters with the defaults filled in,
// refusing unknown names and non-finite values.
func resolve(s Spec) (map[string]float64, error) {
	ps, err := Params(s.Model)
	if err != nil {
		return nil, err
	}
	out := make(map[string]float64, len(ps))
	known := make([]string, len(ps))
	for i, p := range ps {
		out[p.Name] = p.Default
		known[i] = p.Name
	}
	keys := make([]string, 0, len(s.Params))
	for k := range s.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := s.Params[k]
		if _, ok := out[k]; !ok {
			return nil, fmt.Errorf("learn: %s: unknown parameter %q (known: %s)", s.Model, k, strings.Join(known, ", "))
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("learn: %s: parameter %s must be finite, got %g", s.Model, k, v)
		}
		out[k] = v
	}
	return out, nil
}

func boolParam(model, name string, v float64) (bool, error) {
	switch v {
	case 0:
		return false, nil
	case 1:
		return true, nil
	}
	return false, fmt.Errorf("learn: %s: parameter %s must be 0 or 1, got %g", model, name, v)
}

// New builds the model s names for feature vectors of dimension dim.
func New(s Spec, dim int) (Regressor, error) {
	if dim < 1 {
		return nil, fmt.Errorf("learn: %s: the feature dimension must be at least 1, got %d", s.Model, dim)
	}
	p, err := resolve(s)
	if err != nil {
		return nil, err
	}
	switch s.Model {
	case Linear:
		scale, err := boolParam(s.Model, "scale", p["scale"])
		if err != nil {
			return nil, err
		}
		return NewLinearRegression(dim, LinearConfig{
			LR: p["lr"], InterceptLR: p["intercept_lr"], InterceptInit: p["intercept_init"],
			L2: p["l2"], ClipGradient: p["clip_gradient"], Scale: scale,
		})
	case BayesianLinear:
		return NewBayesianLinearRegression(dim, BayesConfig{Alpha: p["alpha"], Beta: p["beta"], Smoothing: p["smoothing"]})
	case PassiveAggressive:
		li, err := boolParam(s.Model, "learn_intercept", p["learn_intercept"])
		if err != nil {
			return nil, err
		}
		rh, err := boolParam(s.Model, "river_hinge", p["river_hinge"])
		if err != nil {
			return nil, err
		}
		m := p["mode"]
		if m != 0 && m != 1 && m != 2 {
			return nil, fmt.Errorf("learn: %s: parameter mode must be 0, 1 or 2, got %g", s.Model, m)
		}
		return NewPARegressor(dim, PAConfig{C: p["C"], Mode: int(m), Eps: p["eps"], LearnIntercept: li, RiverHinge: rh})
	}
	// resolve has refused unknown names.
	return nil, fmt.Errorf("learn: unknown model %q", s.Model)
}

// WorkflowSpecs are the three models of the lammps-stream-ml server with
// the parameters it stored (post-train-models.json, lammps-predict.json):
// sticky-frito, loopy-fudge and swampy-cherry, in that order.
func WorkflowSpecs() []Spec {
	return []Spec{
		{Model: Linear, Params: map[string]float64{"lr": 0.01, "intercept_lr": 0.1, "scale": 1}},
		{Model: BayesianLinear, Params: map[string]float64{"alpha": 1, "beta": 1}},
		{Model: PassiveAggressive, Params: map[string]float64{"C": 0.01, "mode": 2, "eps": 0.1, "learn_intercept": 0}},
	}
}

// checkInput refuses a feature vector of the wrong length or with a
// non-finite value, and a non-finite target.
func checkInput(model string, dim int, x []float64, y float64, withY bool) error {
	if len(x) != dim {
		return fmt.Errorf("learn: %s: %d features, the model has %d", model, len(x), dim)
	}
	for i, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("learn: %s: feature %d is %g, must be finite", model, i, v)
		}
	}
	if withY && (math.IsNaN(y) || math.IsInf(y, 0)) {
		return fmt.Errorf("learn: %s: target is %g, must be finite", model, y)
	}
	return nil
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}
