package calibrate

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/gonum/stat"

	"github.com/convergesim/converge/report"
	"github.com/convergesim/converge/workloads/apps"
)

// Fold is one split of a cross-validation: the cases Held selects are
// predicted by a fit made on the others.
type Fold struct {
	Name string
	Held func(*AppCase) bool
}

// FoldsByNodes is leave-one-node-count-out: one fold per node count,
// holding out every configuration at that count (all environments).
func FoldsByNodes(cases []*AppCase) []Fold {
	var nodes []int
	for _, c := range cases {
		if !slices.Contains(nodes, c.Nodes) {
			nodes = append(nodes, c.Nodes)
		}
	}
	slices.Sort(nodes)
	var out []Fold
	for _, n := range nodes {
		out = append(out, Fold{Name: fmt.Sprintf("%d nodes", n), Held: func(c *AppCase) bool { return c.Nodes == n }})
	}
	return out
}

// FoldsByConfig is leave-one-configuration-out.
func FoldsByConfig(cases []*AppCase) []Fold {
	var out []Fold
	seen := map[string]bool{}
	for _, c := range cases {
		if seen[c.Config] {
			continue
		}
		seen[c.Config] = true
		cfg := c.Config
		out = append(out, Fold{Name: cfg, Held: func(c *AppCase) bool { return c.Config == cfg }})
	}
	return out
}

// KFoldsByConfig splits the configurations (sorted by name) into k
// interleaved groups: configuration i goes to fold i mod k, so every
// run of a configuration is in one fold.
func KFoldsByConfig(k int) func([]*AppCase) []Fold {
	return func(cases []*AppCase) []Fold {
		var cfgs []string
		for _, c := range cases {
			if !slices.Contains(cfgs, c.Config) {
				cfgs = append(cfgs, c.Config)
			}
		}
		slices.Sort(cfgs)
		fold := map[string]int{}
		for i, c := range cfgs {
			fold[c] = i % k
		}
		var out []Fold
		for f := range min(k, len(cfgs)) {
			out = append(out, Fold{Name: fmt.Sprintf("fold %d of %d", f+1, k), Held: func(c *AppCase) bool { return fold[c.Config] == f }})
		}
		return out
	}
}

// Baseline is a naive predictor of a held-out case from the training
// cases (run times only). ok is false when it has nothing to go on.
type Baseline struct {
	Name    string
	Predict func(train []*AppCase, c *AppCase) (v float64, ok bool)
}

func pooled(cases []*AppCase, keep func(*AppCase) bool) []float64 {
	var v []float64
	for _, c := range cases {
		if keep(c) {
			v = append(v, c.Measured...)
		}
	}
	return v
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return report.Quantile(0.5, s)
}

// ConstantBaseline predicts the median of the training runs of the same
// series (environment or study, and kind): a constant in size.
var ConstantBaseline = Baseline{
	Name: "constant",
	Predict: func(train []*AppCase, c *AppCase) (float64, bool) {
		v := pooled(train, func(t *AppCase) bool { return t.Series == c.Series })
		if len(v) == 0 {
			return 0, false
		}
		return median(v), true
	},
}

// NodesMedianBaseline predicts the median of the training runs of the
// same kind at the same node count (any environment or study).
var NodesMedianBaseline = Baseline{
	Name: "median per node count",
	Predict: func(train []*AppCase, c *AppCase) (float64, bool) {
		v := pooled(train, func(t *AppCase) bool { return t.Kind == c.Kind && t.Nodes == c.Nodes })
		if len(v) == 0 {
			return 0, false
		}
		return median(v), true
	},
}

// PowerLawBaseline fits t = a·scale^b to the training runs of the same
// series (least squares in log–log) and extrapolates: a scaling curve
// without mechanisms. what names the scale (nodes, atoms).
func PowerLawBaseline(what string) Baseline {
	return Baseline{
		Name: "power law in " + what,
		Predict: func(train []*AppCase, c *AppCase) (float64, bool) {
			var xs, ys []float64
			for _, t := range train {
				if t.Series != c.Series || t.Scale <= 0 {
					continue
				}
				for _, y := range t.Measured {
					xs = append(xs, math.Log(t.Scale))
					ys = append(ys, math.Log(y))
				}
			}
			if len(xs) == 0 || slices.Min(xs) == slices.Max(xs) {
				return 0, false
			}
			a, b := stat.LinearRegression(xs, ys, nil, false)
			return math.Exp(a + b*math.Log(c.Scale)), true
		},
	}
}

// HeldCase is one held-out case: its measured mean, the model's and the
// baselines' predictions and their MAPE over its runs.
type HeldCase struct {
	Fold, Name         string
	Runs               int
	Measured           float64
	Model, ModelMAPE   float64
	Baseline, BaseMAPE []float64 // per baseline; NaN when it had nothing to go on
}

// FoldResult is one fold's fit.
type FoldResult struct {
	Name      string
	TrainMAPE float64 // run-time MAPE on the fold's own training runs, %
	HeldMAPE  float64 // on its held-out runs, %
	HeldRuns  int
}

// CVResult is a cross-validation of a fitting procedure: every run is
// predicted by a fit made without its fold, from the untouched start
// values.
type CVResult struct {
	Title, Scheme string
	Options       FitOptions
	Folds         []FoldResult
	Cases         []HeldCase
	Baselines     []string
	// MAPE is over every held-out run; BaselineMAPE per baseline (a
	// baseline with nothing to go on for a case predicts it with the
	// constant; Fallbacks counts those cases).
	MAPE         float64
	BaselineMAPE []float64
	Fallbacks    []int
	Runs         int
}

// CrossValidate runs the fitting procedure o once per fold, each time
// from fresh untouched start values (setup builds them), on the cases
// the fold does not hold, and predicts the held cases' run times. The
// baselines are fitted on the same training cases.
func CrossValidate(title, scheme string, setup func() (*AppSetup, error), folds func([]*AppCase) []Fold, baselines []Baseline, o FitOptions) (*CVResult, error) {
	s0, err := setup()
	if err != nil {
		return nil, err
	}
	res := &CVResult{Title: title, Scheme: scheme, Options: o}
	for _, b := range baselines {
		res.Baselines = append(res.Baselines, b.Name)
	}
	res.BaselineMAPE = make([]float64, len(baselines))
	res.Fallbacks = make([]int, len(baselines))
	var sum float64
	bsum := make([]float64, len(baselines))
	for _, f := range folds(primaryCases(s0.Cases)) {
		s, err := setup()
		if err != nil {
			return nil, err
		}
		var train, held []*AppCase
		for _, c := range s.Cases {
			if f.Held(c) {
				held = append(held, c)
			} else {
				train = append(train, c)
			}
		}
		if len(primaryCases(held)) == 0 || len(primaryCases(train)) == 0 {
			return nil, fmt.Errorf("fold %s: holds %d of %d run-time cases", f.Name, len(primaryCases(held)), len(primaryCases(s.Cases)))
		}
		if _, _, err := s.FitStarts(Objective(train), o); err != nil {
			return nil, fmt.Errorf("fold %s: %w", f.Name, err)
		}
		_, trainMAPE, err := Evaluate(primaryCases(train))
		if err != nil {
			return nil, err
		}
		errs, heldMAPE, err := Evaluate(primaryCases(held))
		if err != nil {
			return nil, err
		}
		ptrain := primaryCases(train)
		for i, c := range primaryCases(held) {
			hc := HeldCase{Fold: f.Name, Name: c.Name, Runs: len(c.Measured), Measured: errs[i].Measured, Model: errs[i].Model, ModelMAPE: errs[i].RunMAPE}
			for j, b := range baselines {
				v, ok := b.Predict(ptrain, c)
				if !ok {
					v, ok = ConstantBaseline.Predict(ptrain, c)
					res.Fallbacks[j]++
				}
				m := math.NaN()
				if ok {
					m = 0
					for _, y := range c.Measured {
						e := math.Abs(v-y) / y
						m += 100 * e / float64(len(c.Measured))
						bsum[j] += e
					}
				}
				hc.Baseline = append(hc.Baseline, v)
				hc.BaseMAPE = append(hc.BaseMAPE, m)
			}
			for _, y := range c.Measured {
				sum += math.Abs(errs[i].Model-y) / y
			}
			res.Runs += len(c.Measured)
			res.Cases = append(res.Cases, hc)
		}
		res.Folds = append(res.Folds, FoldResult{Name: f.Name, TrainMAPE: trainMAPE, HeldMAPE: heldMAPE, HeldRuns: runs(primaryCases(held))})
	}
	if res.Runs == 0 {
		return nil, fmt.Errorf("%s: no held-out runs", title)
	}
	res.MAPE = 100 * sum / float64(res.Runs)
	for j := range baselines {
		res.BaselineMAPE[j] = 100 * bsum[j] / float64(res.Runs)
	}
	return res, nil
}

// HeldOut is the result for a parameter file's provenance.
func (r *CVResult) HeldOut() *apps.HeldOut {
	h := &apps.HeldOut{Scheme: r.Scheme, MAPE: round2(r.MAPE)}
	for j, n := range r.Baselines {
		h.Baselines = append(h.Baselines, apps.BaselineError{Name: n, MAPE: round2(r.BaselineMAPE[j])})
	}
	return h
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

// Table formats the per-case predictions, the per-fold errors and the
// totals.
func (r *CVResult) Table() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: held out, %s\n", r.Title, r.Scheme)
	fmt.Fprintf(&b, "%-46s %4s %9s %9s %7s", "held-out case", "runs", "measured", "model", "MAPE%")
	for _, n := range r.Baselines {
		fmt.Fprintf(&b, " | %-22s", trunc(n, 22))
	}
	b.WriteString("\n")
	for _, c := range r.Cases {
		fmt.Fprintf(&b, "%-46s %4d %9.2f %9.2f %7.2f", trunc(c.Name, 46), c.Runs, c.Measured, c.Model, c.ModelMAPE)
		for j := range r.Baselines {
			fmt.Fprintf(&b, " | %9.2f %7.2f%%    ", c.Baseline[j], c.BaseMAPE[j])
		}
		b.WriteString("\n")
	}
	b.WriteString("fold: run-time MAPE on its training runs (in-sample) / on its held-out runs\n")
	for _, f := range r.Folds {
		fmt.Fprintf(&b, "  %-30s %6.2f%% / %6.2f%% (%d runs)\n", f.Name, f.TrainMAPE, f.HeldMAPE, f.HeldRuns)
	}
	fmt.Fprintf(&b, "held-out MAPE over %d runs: model %.2f%%", r.Runs, r.MAPE)
	for j, n := range r.Baselines {
		fmt.Fprintf(&b, ", %s %.2f%%", n, r.BaselineMAPE[j])
		if r.Fallbacks[j] > 0 {
			fmt.Fprintf(&b, " (%d cases fell back to the constant)", r.Fallbacks[j])
		}
	}
	b.WriteString("\n")
	return b.String()
}

func trunc(s string, n int) string {
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// SpreadTable formats parameter spreads.
func SpreadTable(ps []apps.ParamSpread) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-22s %11s %11s %11s  %-10s %s\n", "parameter", "fitted", "min", "max", "identified", "why not")
	for _, p := range ps {
		id := "yes"
		if !p.Identified {
			id = "NO"
		}
		fmt.Fprintf(&b, "%-22s %11.4g %11.4g %11.4g  %-10s %s\n", p.Name, p.Value, p.Min, p.Max, id, p.Note)
	}
	return b.String()
}
