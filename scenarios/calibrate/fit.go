package calibrate

import (
	"math"

	"gonum.org/v1/gonum/optimize"
	"gonum.org/v1/gonum/stat"

	"github.com/convergesim/converge/report"
)

// quantileError is the mean absolute difference between the simulated and
// measured quantiles qs (report.Quantile, type 7) over the cases.
func quantileError[C interface{ samples() (data, sim []float64) }](cases []C, qs []float64) float64 {
	var errs []float64
	for _, c := range cases {
		data, sim := c.samples()
		for _, q := range qs {
			errs = append(errs, math.Abs(report.Quantile(q, sim)-report.Quantile(q, data)))
		}
	}
	return stat.Mean(errs, nil)
}

// minimizeLog minimises eval with Nelder–Mead (gonum/optimize) from start,
// at most maxEvals evaluations. The callers pass log-transformed
// parameters, so the search stays in the positive domain. An evaluation
// that fails stops the fit with its error.
func minimizeLog(start []float64, maxEvals int, eval func(x []float64) (float64, error)) ([]float64, float64, error) {
	return minimizeLogSimplex(start, maxEvals, 0, eval)
}

// minimizeLogSimplex is minimizeLog with the initial simplex's size in
// log space (0: gonum's default, 0.05).
func minimizeLogSimplex(start []float64, maxEvals int, simplex float64, eval func(x []float64) (float64, error)) ([]float64, float64, error) {
	var failure error
	problem := optimize.Problem{
		Func: func(x []float64) float64 {
			if failure != nil {
				return math.Inf(1)
			}
			f, err := eval(x)
			if err != nil {
				failure = err
				return math.Inf(1)
			}
			return f
		},
	}
	res, err := optimize.Minimize(problem, start, &optimize.Settings{FuncEvaluations: maxEvals}, &optimize.NelderMead{SimplexSize: simplex})
	if failure != nil {
		return nil, 0, failure
	}
	if err != nil && res == nil {
		return nil, 0, err
	}
	return res.X, res.F, nil
}
