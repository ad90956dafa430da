package calibrate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/convergesim/converge/workloads/apps"
)

// AppCase is one measured quantity of one configuration of a data set
// (same job, same placement, same environment) with the values measured
// for it, and the model's prediction for it under the current
// parameters.
type AppCase struct {
	Name string
	// Config names the configuration: the cases of one configuration
	// (its run time and its logged phases) are held out together.
	Config string
	// Kind is what is measured: "runtime", "loop", "wall", or a phase.
	Kind string
	// Series groups the configurations a naive baseline pools: the same
	// environment or study and kind, differing in size.
	Series string
	// Nodes is the configuration's node count; Scale the size variable
	// of the power-law baseline (nodes, or atoms).
	Nodes int
	Scale float64
	// Measured are the values of the runs.
	Measured []float64
	// Model evaluates the model for this case with the current
	// parameters: the value compared with Measured, and the result.
	Model func() (float64, apps.Result, error)
	// Weight scales the case's runs in the fit objective (0 means 1).
	// Run times have weight 1, logged phase breakdowns PhaseWeight.
	Weight float64
}

// Primary says whether the case is a run time (weight 1), the quantity
// errors are reported on, rather than a phase breakdown.
func (c *AppCase) Primary() bool { return c.Weight == 0 || c.Weight == 1 }

func primaryCases(cases []*AppCase) []*AppCase {
	var out []*AppCase
	for _, c := range cases {
		if c.Primary() {
			out = append(out, c)
		}
	}
	return out
}

func runs(cases []*AppCase) int {
	n := 0
	for _, c := range cases {
		n += len(c.Measured)
	}
	return n
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

// Objective is the fit objective on cases, for FitStarts and Spread.
func Objective(cases []*AppCase) func() (float64, error) {
	return func() (float64, error) { return objective(cases) }
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
	if wsum == 0 {
		return 0, fmt.Errorf("no measurements")
	}
	return sum / wsum, nil
}

// AppSetup is a parameter set under fit: the fit the cases read, the
// cases built on it and the knobs that move it. Cases of one
// configuration share one model evaluation per parameter state (memo).
type AppSetup struct {
	Fit   *apps.Fit
	Cases []*AppCase
	Knobs []Knob
	// Sync, if set, runs after the knobs move: it copies a value the fit
	// holds in several places (one daemon load for three environments).
	Sync func()

	version uint64
}

// runMemo caches one configuration's model result for the current
// parameter state of its setup.
type runMemo struct {
	ver *uint64
	at  uint64
	ok  bool
	r   apps.Result
	err error
}

func (s *AppSetup) memo() *runMemo { return &runMemo{ver: &s.version} }

func (m *runMemo) run(f func() (apps.Result, error)) (apps.Result, error) {
	if m.ok && m.at == *m.ver {
		return m.r, m.err
	}
	m.r, m.err = f()
	m.at, m.ok = *m.ver, true
	return m.r, m.err
}

// changed records that parameters moved (outside the knobs as well).
func (s *AppSetup) changed() {
	s.version++
	if s.Sync != nil {
		s.Sync()
	}
}

// Values are the knobs' current values.
func (s *AppSetup) Values() []float64 {
	v := make([]float64, len(s.Knobs))
	for i, k := range s.Knobs {
		v[i] = *k.Ptr
	}
	return v
}

// SetValues moves the knobs (clamped to their bounds).
func (s *AppSetup) SetValues(v []float64) {
	for i, k := range s.Knobs {
		*k.Ptr = min(max(v[i], k.Lo), k.Hi)
	}
	s.changed()
}

func checkKnobs(knobs []Knob) error {
	for _, k := range knobs {
		if !(k.Lo > 0 && k.Hi >= k.Lo) {
			return fmt.Errorf("knob %s: bounds [%g, %g] must be positive and ordered", k.Name, k.Lo, k.Hi)
		}
	}
	return nil
}

// minimise fits knobs (a subset of the setup's) to the objective with
// Nelder–Mead in log space from their current values (clamped into
// bounds), restarting from the best point restarts times, and leaves
// them at the best point found. Outside its bounds a knob is clamped and
// a small penalty keeps the simplex from wandering there.
func (s *AppSetup) minimise(knobs []Knob, obj func() (float64, error), evals, restarts int, simplex float64) (float64, error) {
	if err := checkKnobs(knobs); err != nil {
		return 0, err
	}
	x0 := make([]float64, len(knobs))
	for i, k := range knobs {
		x0[i] = math.Log(min(max(*k.Ptr, k.Lo), k.Hi))
	}
	set := func(x []float64) {
		for i, k := range knobs {
			*k.Ptr = min(max(math.Exp(x[i]), k.Lo), k.Hi)
		}
		s.changed()
	}
	eval := func(x []float64) (float64, error) {
		set(x)
		f, err := obj()
		if err != nil {
			return 0, err
		}
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
	if len(knobs) > 0 {
		for range restarts + 1 {
			x, f, err := minimizeLogSimplex(best, evals, simplex, eval)
			if err != nil {
				return 0, err
			}
			if f < bestF {
				best, bestF = x, f
			}
		}
	}
	set(best)
	return obj()
}

// FitOptions is a fitting procedure: Nelder–Mead from Starts starting
// points (the untouched start values, then Starts−1 points drawn
// log-uniformly within a factor 10^Perturb of them, from a PCG stream
// seeded with Seed), each with Evals evaluations and Restarts restarts
// from its best point; the fit is the best of the starts.
type FitOptions struct {
	Starts   int
	Evals    int
	Restarts int
	Perturb  float64
	Seed     uint64
	// Simplex is the initial simplex size in log space (0: 0.3).
	Simplex float64
	// Tolerance is how much worse (relative) than the best a refit's
	// objective may be and still "fit as well" (0: 0.05).
	Tolerance float64
	// Profile, when set, checks each knob's identifiability by a
	// two-point profile: fixed at half and at twice its fitted value,
	// the other knobs refitted with ProfileEvals evaluations.
	Profile      bool
	ProfileEvals int
	// Extra are further starting points after the drawn ones (a warm
	// start from a parameter set's current values).
	Extra [][]float64
}

func (o FitOptions) simplex() float64 {
	if o.Simplex > 0 {
		return o.Simplex
	}
	return 0.3
}

// FitTolerance is the relative objective a parameter may cost and still
// fit as well (default 5 %).
func (o FitOptions) FitTolerance() float64 {
	if o.Tolerance > 0 {
		return o.Tolerance
	}
	return 0.05
}

// String describes the procedure for provenance and reports.
func (o FitOptions) String() string {
	starts := "from the untouched start values"
	if o.Starts > 1 {
		starts = fmt.Sprintf("from %d starting points (the untouched start values and %d drawn log-uniformly within ×/÷%.3g of them, PCG seed %d)",
			o.Starts, o.Starts-1, math.Pow(10, o.Perturb), o.Seed)
	}
	if len(o.Extra) > 0 {
		starts += fmt.Sprintf(" and %d more (a warm start)", len(o.Extra))
	}
	s := fmt.Sprintf("Nelder–Mead (gonum/optimize) in log space, bounded, %s, %d evaluations and %d restarts each", starts, o.Evals, o.Restarts)
	if o.Starts > 1 || len(o.Extra) > 0 {
		s += "; the best objective wins"
	}
	return s
}

// StartFit is the outcome of one starting point.
type StartFit struct {
	Start, Values []float64
	Objective     float64
}

// startPoints are the starting points of the procedure for knobs whose
// untouched start values are x0.
func (o FitOptions) startPoints(knobs []Knob, x0 []float64) [][]float64 {
	rng := rand.New(rand.NewPCG(o.Seed, 0x5ca1ab1e))
	pts := [][]float64{slices.Clone(x0)}
	for range max(o.Starts, 1) - 1 {
		p := make([]float64, len(x0))
		for i, k := range knobs {
			p[i] = min(max(x0[i]*math.Pow(10, o.Perturb*(2*rng.Float64()-1)), k.Lo), k.Hi)
		}
		pts = append(pts, p)
	}
	return append(pts, o.Extra...)
}

// FitStarts runs the procedure on the objective from the setup's current knob
// values (the untouched start values) and leaves the knobs at the best
// fit; it returns every start's outcome and the index of the best.
func (s *AppSetup) FitStarts(obj func() (float64, error), o FitOptions) ([]StartFit, int, error) {
	x0 := s.Values()
	var out []StartFit
	best := -1
	for _, p := range o.startPoints(s.Knobs, x0) {
		s.SetValues(p)
		f, err := s.minimise(s.Knobs, obj, o.Evals, o.Restarts, o.simplex())
		if err != nil {
			return nil, 0, err
		}
		out = append(out, StartFit{Start: p, Values: s.Values(), Objective: f})
		if best < 0 || f < out[best].Objective {
			best = len(out) - 1
		}
	}
	s.SetValues(out[best].Values)
	return out, best, nil
}

// Spread reports each knob's fitted value, its range over the starts
// that fit as well as the best (objective within the tolerance), and,
// with o.Profile, whether the data pin it down: the knob is fixed at
// half and at twice its value and the others refitted; if either fits
// as well, it is not identified and the range includes that value. A
// knob whose range spans more than a factor 2 is not identified either.
// The knobs are left at the best fit.
func (s *AppSetup) Spread(obj func() (float64, error), fits []StartFit, best int, o FitOptions) ([]apps.ParamSpread, error) {
	tol := o.FitTolerance()
	bestF := fits[best].Objective
	bestX := slices.Clone(fits[best].Values)
	out := make([]apps.ParamSpread, len(s.Knobs))
	near := 0
	for _, f := range fits {
		if f.Objective <= bestF*(1+tol) {
			near++
		}
	}
	for i, k := range s.Knobs {
		p := apps.ParamSpread{Name: k.Name, Value: bestX[i], Min: bestX[i], Max: bestX[i], Identified: true}
		for _, f := range fits {
			if f.Objective <= bestF*(1+tol) {
				p.Min, p.Max = min(p.Min, f.Values[i]), max(p.Max, f.Values[i])
			}
		}
		out[i] = p
	}
	for i, k := range s.Knobs {
		var notes []string
		if out[i].Max > 2*out[i].Min {
			out[i].Identified = false
			notes = append(notes, fmt.Sprintf("refits that fit as well range over ×%.3g", out[i].Max/out[i].Min))
		}
		if o.Profile {
			others := slices.Delete(slices.Clone(s.Knobs), i, i+1)
			var free []string
			for _, factor := range []float64{0.5, 2} {
				v := bestX[i] * factor
				if v < k.Lo || v > k.Hi {
					free = append(free, fmt.Sprintf("×%g is beyond its bound", factor))
					continue
				}
				s.SetValues(bestX)
				*k.Ptr = v
				s.changed()
				f, err := s.minimise(others, obj, o.ProfileEvals, 0, o.simplex())
				if err != nil {
					return nil, err
				}
				if f <= bestF*(1+tol) {
					out[i].Identified = false
					out[i].Min, out[i].Max = min(out[i].Min, v), max(out[i].Max, v)
					free = append(free, fmt.Sprintf("×%g fits as well (objective %+.1f%%)", factor, 100*(f/bestF-1)))
				}
			}
			notes = append(notes, free...)
		}
		if near < 2 && !o.Profile {
			notes = append(notes, "only one start reached the best fit: spread unknown")
		}
		out[i].Note = strings.Join(notes, "; ")
	}
	s.SetValues(bestX)
	return out, nil
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
