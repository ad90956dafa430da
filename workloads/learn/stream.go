package learn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// Sample is one example of a stream: the features (for the workflow, the
// LAMMPS problem size x, y, z) and the target (the run's wall time, s).
type Sample struct {
	X []float64
	Y float64
}

// Train feeds the stream to r with Learn only, in order.
func Train(r Regressor, stream []Sample) error {
	for i, s := range stream {
		if err := r.Learn(s.X, s.Y); err != nil {
			return fmt.Errorf("sample %d: %w", i, err)
		}
	}
	return nil
}

// PrequentialOptions say how Prequential counts its metrics.
type PrequentialOptions struct {
	// SkipZeroPredictions leaves out of the metrics a prediction that
	// is exactly 0, as django-river-ml does (its update_metrics returns
	// early on a falsy prediction): a fresh River model predicts 0, so
	// the server's training metrics do not count the first run.
	SkipZeroPredictions bool
}

// Prequential evaluates r on the stream as a test-then-train sequence:
// each example is first predicted, the pair counted in the metrics, and
// then learnt — what the workflow's server does on every learn call
// (django-river-ml predicts when the client gave no earlier prediction,
// updates the metrics, then calls learn_one). It returns the metrics and
// the predictions (one per sample, including any not counted).
func Prequential(r Regressor, stream []Sample, opt PrequentialOptions) (Result, []float64, error) {
	var m Metrics
	preds := make([]float64, len(stream))
	for i, s := range stream {
		p, err := r.Predict(s.X)
		if err != nil {
			return Result{}, nil, fmt.Errorf("sample %d: %w", i, err)
		}
		preds[i] = p
		if !(opt.SkipZeroPredictions && p == 0) {
			if math.IsNaN(s.Y) || math.IsInf(s.Y, 0) {
				return Result{}, nil, fmt.Errorf("sample %d: target is %g, must be finite", i, s.Y)
			}
			m.Update(s.Y, p)
		}
		if err := r.Learn(s.X, s.Y); err != nil {
			return Result{}, nil, fmt.Errorf("sample %d: %w", i, err)
		}
	}
	return m.Result(), preds, nil
}

// Evaluate predicts every x with r, without learning, and scores the
// predictions against ys.
func Evaluate(r Regressor, xs [][]float64, ys []float64) (Result, []float64, error) {
	if len(xs) != len(ys) {
		return Result{}, nil, fmt.Errorf("evaluate: %d feature vectors but %d targets", len(xs), len(ys))
	}
	preds := make([]float64, len(xs))
	for i, x := range xs {
		p, err := r.Predict(x)
		if err != nil {
			return Result{}, nil, fmt.Errorf("evaluate: vector %d: %w", i, err)
		}
		preds[i] = p
	}
	res, err := Score(ys, preds)
	if err != nil {
		return Result{}, nil, fmt.Errorf("evaluate: %w", err)
	}
	return res, preds, nil
}

// SizeRange is the inclusive range of one LAMMPS replication factor.
type SizeRange struct{ Min, Max int }

// LammpsSizeRanges are the workflow's ranges of x, y and z (each drawn
// uniformly among the integers: x in 1..32, y in 1..8, z in 1..16).
var LammpsSizeRanges = [3]SizeRange{{1, 32}, {1, 8}, {1, 16}}

// DrawLammpsSizes draws n problem sizes (x, y, z) as the workflow does,
// from the caller's generator.
func DrawLammpsSizes(r *rand.Rand, n int) [][]float64 {
	out := make([][]float64, n)
	for i := range out {
		v := make([]float64, 3)
		for j, rg := range LammpsSizeRanges {
			v[j] = float64(rg.Min + r.IntN(rg.Max-rg.Min+1))
		}
		out[i] = v
	}
	return out
}

// LinearFit is an affine (or linear) function recovered from a model's
// predictions.
type LinearFit struct {
	Coef        []float64 // one per feature
	Intercept   float64
	MaxResidual float64 // largest |prediction − fit| over the points
}

// RecoverLinear finds the coefficients (and, with intercept, the
// intercept) of the least-squares fit of preds on xs. On the predictions
// of a frozen linear model it recovers the model exactly (MaxResidual at
// rounding level); a large residual says the predictions were not one
// fixed linear function of xs.
func RecoverLinear(xs [][]float64, preds []float64, intercept bool) (LinearFit, error) {
	n := len(xs)
	if n == 0 || n != len(preds) {
		return LinearFit{}, fmt.Errorf("recover linear: %d points but %d predictions", n, len(preds))
	}
	d := len(xs[0])
	k := d
	if intercept {
		k++
	}
	if n < k {
		return LinearFit{}, fmt.Errorf("recover linear: %d points cannot determine %d coefficients", n, k)
	}
	a := mat.NewDense(n, k, nil)
	for i, x := range xs {
		if len(x) != d {
			return LinearFit{}, fmt.Errorf("recover linear: point %d has %d features, point 0 has %d", i, len(x), d)
		}
		c := 0
		if intercept {
			a.Set(i, 0, 1)
			c = 1
		}
		for j, v := range x {
			a.Set(i, c+j, v)
		}
	}
	var qr mat.QR
	qr.Factorize(a)
	var sol mat.VecDense
	if err := qr.SolveVecTo(&sol, false, mat.NewVecDense(n, append([]float64(nil), preds...))); err != nil {
		return LinearFit{}, fmt.Errorf("recover linear: %w", err)
	}
	var fit LinearFit
	raw := sol.RawVector().Data
	if intercept {
		fit.Intercept = raw[0]
		raw = raw[1:]
	}
	fit.Coef = append([]float64(nil), raw...)
	for i, x := range xs {
		fit.MaxResidual = math.Max(fit.MaxResidual, math.Abs(dot(fit.Coef, x)+fit.Intercept-preds[i]))
	}
	return fit, nil
}
