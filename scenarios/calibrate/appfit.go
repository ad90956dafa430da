package calibrate

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/convergesim/converge/workloads/apps"
)

// AppCase is one configuration of a data set (same job, same placement,
// same environment) with the values measured for it, and the model's
// prediction for it under the current parameters.
type AppCase struct {
	Name     string
	Measured []float64
	// Model evaluates the model for this case with the current
	// parameters: the value compared with Measured, and the result.
	Model func() (float64, apps.Result, error)
	// Weight scales the case's runs in the fit objective (0 means 1).
	Weight float64
}

// Knob is a fitted parameter: where it lives and its bounds.
type Knob struct {
	Name   string
	Ptr    *float64
	Lo, Hi float64 // positive bounds
}

// CaseError is a case's model value and its error against the mean of
// the measured values.
type CaseError struct {
	Name      string
	Runs      int
	Measured  float64 // mean
	Model     float64
	ErrorPct  float64 // model/mean − 1, %
	RunMAPE   float64 // mean over runs of |model − run|/run, %
	ModelCall apps.Result
}

// Evaluate runs every case and returns per-case errors and the mean
// absolute percentage error over all runs.
func Evaluate(cases []*AppCase) ([]CaseError, float64, error) {
	var out []CaseError
	sum, n := 0.0, 0
	for _, c := range cases {
		m, res, err := c.Model()
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %w", c.Name, err)
		}
		ce := CaseError{Name: c.Name, Runs: len(c.Measured), Model: m, ModelCall: res}
		for _, y := range c.Measured {
			ce.Measured += y / float64(len(c.Measured))
			e := math.Abs(m-y) / y
			ce.RunMAPE += 100 * e / float64(len(c.Measured))
			sum += e
			n++
		}
		ce.ErrorPct = 100 * (m/ce.Measured - 1)
		out = append(out, ce)
	}
	if n == 0 {
		return nil, 0, fmt.Errorf("no measurements")
	}
	return out, 100 * sum / float64(n), nil
}

// objective is the weighted mean relative error over the runs.
func objective(cases []*AppCase) (float64, error) {
	sum, wsum := 0.0, 0.0
	for _, c := range cases {
		m, _, err := c.Model()
		if err != nil {
			return 0, fmt.Errorf("%s: %w", c.Name, err)
		}
		if math.IsNaN(m) || math.IsInf(m, 0) {
			return math.Inf(1), nil
		}
		w := c.Weight
		if w == 0 {
			w = 1
		}
		for _, y := range c.Measured {
			sum += w * math.Abs(m-y) / y
			wsum += w
		}
	}
	return sum / wsum, nil
}

// FitKnobs minimises the weighted mean absolute relative error of the
// cases over the knobs with Nelder–Mead in log space (minimizeLog),
// keeping every knob within its bounds, restarting from the best point
// restarts times. The knobs are left at the best point found.
func FitKnobs(knobs []Knob, cases []*AppCase, evals, restarts int) (float64, error) {
	x0 := make([]float64, len(knobs))
	for i, k := range knobs {
		if !(k.Lo > 0 && k.Hi >= k.Lo) {
			return 0, fmt.Errorf("knob %s: bounds [%g, %g] must be positive and ordered", k.Name, k.Lo, k.Hi)
		}
		x0[i] = math.Log(min(max(*k.Ptr, k.Lo), k.Hi))
	}
	set := func(x []float64) {
		for i, k := range knobs {
			*k.Ptr = min(max(math.Exp(x[i]), k.Lo), k.Hi)
		}
	}
	eval := func(x []float64) (float64, error) {
		set(x)
		f, err := objective(cases)
		if err != nil {
			return 0, err
		}
		// Outside the bounds the knob is clamped; a small penalty keeps
		// the simplex from wandering there.
		for i, k := range knobs {
			lo, hi := math.Log(k.Lo), math.Log(k.Hi)
			if x[i] < lo {
				f += 1e-3 * (lo - x[i])
			}
			if x[i] > hi {
				f += 1e-3 * (x[i] - hi)
			}
		}
		return f, nil
	}
	best := slices.Clone(x0)
	bestF, err := eval(best)
	if err != nil {
		return 0, err
	}
	for range restarts + 1 {
		x, f, err := minimizeLog(best, evals, eval)
		if err != nil {
			return 0, err
		}
		if f < bestF {
			best, bestF = x, f
		}
	}
	set(best)
	return bestF, nil
}

// ErrorTable formats per-case errors.
func ErrorTable(errs []CaseError) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-44s %4s %10s %10s %8s %8s\n", "case", "runs", "measured", "model", "err %", "MAPE %")
	for _, e := range errs {
		fmt.Fprintf(&b, "%-44s %4d %10.2f %10.2f %+8.2f %8.2f\n", e.Name, e.Runs, e.Measured, e.Model, e.ErrorPct, e.RunMAPE)
	}
	return b.String()
}

// Residuals converts case errors for a parameter file's provenance.
func Residuals(errs []CaseError) []apps.Residual {
	out := make([]apps.Residual, len(errs))
	for i, e := range errs {
		out[i] = apps.Residual{Case: e.Name, Measured: round4(e.Measured), Model: round4(e.Model), ErrorPct: math.Round(e.ErrorPct*100) / 100}
	}
	return out
}

func round4(v float64) float64 {
	if v == 0 {
		return 0
	}
	p := math.Pow(10, 3-math.Floor(math.Log10(math.Abs(v))))
	return math.Round(v*p) / p
}
