package calibrate

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/convergesim/converge/report"
	"github.com/convergesim/converge/workloads/apps"
	"github.com/convergesim/converge/workloads/launchers"
)

// The launcher fit: each operator's two measured intervals (mpirun and
// the MPIJob around it; the job and the broker around it) against the
// distributions workloads/launchers predicts for them, by maximum
// likelihood over the runs. Only the parameters a single size can pin
// down are fitted; the ones that carry a launch from one size to
// another (the operator's client limits, the ssh retry period, the
// tree fanout, the per-node and per-level costs) are upstream facts or
// a priori values, so predicting the size left out tests them.

// LauncherSet is the two fitted launchers.
type LauncherSet struct {
	MPI  launchers.MPIJobParams
	Flux launchers.MiniClusterParams
}

// LauncherStart are the untouched start values: the upstream facts
// (mpi-operator's client 5 QPS, burst 10, and its four set-up calls;
// ssh's ConnectionAttempts=10, one a second; the Flux Operator's fanout
// 256), a priori values for what the data cannot separate (a 20 ms API
// call, a pod started in 2 s — the pod start-up study's median time to
// Ready —, 20 ms of ssh a worker, 10 ms a tree level, half the
// launcher's overhead after mpirun, a quarter of the broker's after the
// job as in the lead broker's log, 2 s to copy the flux view) and round
// guesses for the fitted ones.
var LauncherStart = LauncherSet{
	MPI: launchers.MPIJobParams{ClientQPS: 5, ClientBurst: 10, SetupCalls: 4, APILatency: 0.02, LauncherCreation: launchers.AtStartup,
		PodStart: 2, LauncherOverhead: 3, FinishShare: 0.5, OperatorJitter: 0.3, MpirunBase: 5, SSHPerNode: 0.02, SSHRetry: 1,
		SSHAttempts: 10, SSHLateProb: 0.02, SSHLateRepeat: 0.3, SSHLateSpread: 0.2, MpirunJitter: 0.3},
	Flux: launchers.MiniClusterParams{Fanout: 256, ViewCopy: 2, BrokerStartStop: 0.5, StopShare: 0.25, JoinPerLevel: 0.01,
		JoinLateProb: 0.02, JoinLateRepeat: 0.3, JoinRetry: 1, JoinLateSpread: 0.2, BrokerJitter: 0.1, JobLaunch: 5, ExecPerLevel: 0.01, JobJitter: 0.3},
}

// LauncherFitOptions is the procedure (the likelihood is closed-form,
// so the tests run the same one as sim fit launchers).
var LauncherFitOptions = FitOptions{Starts: 8, Evals: 1500, Restarts: 2, Perturb: 0.5, Seed: 1, Simplex: 0.3, Profile: true, ProfileEvals: 800}

// likelihoodSlack is the log-likelihood a parameter may lose and still
// "fit as well": half the 95% point of χ² with one degree of freedom.
const likelihoodSlack = 1.92

type launcherProblem struct {
	Operator, Interval string
	Knobs              func(s *LauncherSet) []Knob
}

var launcherProblems = []launcherProblem{
	{MPIOperator, launchers.IntervalMpirun, func(s *LauncherSet) []Knob {
		return []Knob{{"mpirunBase", &s.MPI.MpirunBase, 0.01, 60}, {"sshLateProb", &s.MPI.SSHLateProb, 1e-4, 0.5},
			{"sshLateRepeat", &s.MPI.SSHLateRepeat, 0.01, 0.95}, {"sshLateSpread", &s.MPI.SSHLateSpread, 0.005, 5},
			{"mpirunJitter", &s.MPI.MpirunJitter, 0.01, 5}}
	}},
	{MPIOperator, launchers.IntervalOperator, func(s *LauncherSet) []Knob {
		return []Knob{{"launcherOverhead", &s.MPI.LauncherOverhead, 0.01, 60}, {"operatorJitter", &s.MPI.OperatorJitter, 0.01, 5}}
	}},
	{FluxOperator, launchers.IntervalJob, func(s *LauncherSet) []Knob {
		return []Knob{{"jobLaunch", &s.Flux.JobLaunch, 0.01, 60}, {"jobJitter", &s.Flux.JobJitter, 0.01, 5}}
	}},
	{FluxOperator, launchers.IntervalBroker, func(s *LauncherSet) []Knob {
		return []Knob{{"brokerStartStop", &s.Flux.BrokerStartStop, 0.01, 60}, {"joinLateProb", &s.Flux.JoinLateProb, 1e-4, 0.5},
			{"joinLateRepeat", &s.Flux.JoinLateRepeat, 0.01, 0.95}, {"joinRetry", &s.Flux.JoinRetry, 0.05, 20},
			{"joinLateSpread", &s.Flux.JoinLateSpread, 0.005, 5},
			{"brokerJitter", &s.Flux.BrokerJitter, 0.005, 5}}
	}},
}

// Dist is the model's distribution for the case under s.
func (s *LauncherSet) Dist(c *LauncherCase) (launchers.Dist, error) {
	var l launchers.Launcher
	switch c.Operator {
	case MPIOperator:
		l = s.MPI.Launcher()
	case FluxOperator:
		l = s.Flux.Launcher()
	default:
		return launchers.Dist{}, fmt.Errorf("unknown operator %q", c.Operator)
	}
	iv, err := l.Intervals(launchers.Size{Nodes: c.Nodes, Ranks: c.Ranks})
	if err != nil {
		return launchers.Dist{}, err
	}
	d, ok := iv[c.Interval]
	if !ok {
		return launchers.Dist{}, fmt.Errorf("%s has no interval %q", l.Kind(), c.Interval)
	}
	d.Truncation = c.Truncation
	return d, nil
}

// nll is the negative log-likelihood of the cases' runs under s.
func (s *LauncherSet) nll(cases []*LauncherCase) (float64, error) {
	sum := 0.0
	for _, c := range cases {
		d, err := s.Dist(c)
		if err != nil {
			return 0, err
		}
		for _, x := range c.Values {
			sum -= max(d.LogPDF(x), -700)
		}
	}
	return sum, nil
}

// ProblemFit is the fit of one interval of one operator.
type ProblemFit struct {
	Operator, Interval string
	Knobs              []string
	Starts             []StartFit
	Best               int
	Spread             []apps.ParamSpread
}

// LauncherFit is a fitted LauncherSet with every start and spread.
type LauncherFit struct {
	Set      LauncherSet
	Problems []ProblemFit
}

func casesOf(cases []*LauncherCase, op, interval string) []*LauncherCase {
	var out []*LauncherCase
	for _, c := range cases {
		if c.Operator == op && c.Interval == interval {
			out = append(out, c)
		}
	}
	return out
}

// FitLauncherSet fits every interval's parameters from start with o on
// the cases (maximum likelihood), with each parameter's spread when
// spread is set. An interval without cases keeps its start values.
func FitLauncherSet(cases []*LauncherCase, start LauncherSet, o FitOptions, spread bool) (*LauncherFit, error) {
	f := &LauncherFit{Set: start}
	for _, p := range launcherProblems {
		cs := casesOf(cases, p.Operator, p.Interval)
		if len(cs) == 0 {
			continue
		}
		knobs := p.Knobs(&f.Set)
		setup := &AppSetup{Knobs: knobs}
		obj := func() (float64, error) { return f.Set.nll(cs) }
		starts, best, err := setup.FitStarts(obj, o)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", p.Operator, p.Interval, err)
		}
		pf := ProblemFit{Operator: p.Operator, Interval: p.Interval, Starts: starts, Best: best}
		for _, k := range knobs {
			pf.Knobs = append(pf.Knobs, k.Name)
		}
		if spread {
			if pf.Spread, err = likelihoodSpread(setup, obj, starts, best, o); err != nil {
				return nil, fmt.Errorf("%s %s: %w", p.Operator, p.Interval, err)
			}
		}
		f.Problems = append(f.Problems, pf)
	}
	return f, nil
}

// likelihoodSpread is Spread for a likelihood: a refit "fits as well"
// when its log-likelihood is within likelihoodSlack of the best; a
// parameter is not identified when refits that fit as well span more
// than a factor 2, or when it fits as well fixed at half or twice its
// value with the others refitted. The knobs are left at the best fit.
func likelihoodSpread(s *AppSetup, obj func() (float64, error), fits []StartFit, best int, o FitOptions) ([]apps.ParamSpread, error) {
	bestF := fits[best].Objective
	bestX := slices.Clone(fits[best].Values)
	out := make([]apps.ParamSpread, len(s.Knobs))
	for i, k := range s.Knobs {
		p := apps.ParamSpread{Name: k.Name, Value: bestX[i], Min: bestX[i], Max: bestX[i], Identified: true}
		for _, f := range fits {
			if f.Objective <= bestF+likelihoodSlack {
				p.Min, p.Max = min(p.Min, f.Values[i]), max(p.Max, f.Values[i])
			}
		}
		var notes []string
		if p.Max > 2*p.Min {
			p.Identified = false
			notes = append(notes, fmt.Sprintf("refits that fit as well range over ×%.3g", p.Max/p.Min))
		}
		if bestX[i] <= k.Lo*1.0001 || bestX[i] >= k.Hi*0.9999 {
			notes = append(notes, fmt.Sprintf("at its bound [%g, %g]", k.Lo, k.Hi))
		}
		if o.Profile {
			others := slices.Delete(slices.Clone(s.Knobs), i, i+1)
			for _, factor := range []float64{0.5, 2} {
				v := bestX[i] * factor
				if v < k.Lo || v > k.Hi {
					notes = append(notes, fmt.Sprintf("×%g is beyond its bound", factor))
					continue
				}
				s.SetValues(bestX)
				*k.Ptr = v
				s.changed()
				f, err := s.minimise(others, obj, o.ProfileEvals, 0, o.simplex())
				if err != nil {
					return nil, err
				}
				if f-bestF < likelihoodSlack {
					p.Identified = false
					p.Min, p.Max = min(p.Min, v), max(p.Max, v)
					notes = append(notes, fmt.Sprintf("×%g fits as well (log-likelihood %+.2f)", factor, bestF-f))
				}
			}
		}
		p.Note = strings.Join(notes, "; ")
		out[i] = p
	}
	s.SetValues(bestX)
	return out, nil
}

// LauncherRow compares one case's runs with the model's distribution.
type LauncherRow struct {
	Case          *LauncherCase
	Fold          string
	DataMean      float64
	Model         launchers.Dist
	ModelMean     float64
	ModelMAPE     float64 // mean over runs of |model mean − run|/run, %
	ModelMAE      float64 // mean over runs of |model mean − run|, s
	DataQ, ModelQ [3]float64
	ModelQMAE     float64 // mean |quantile error| over p10/p50/p90, s
	// The naive baseline (held out only): the runs of the fitted size.
	BaseMean, BaseMAPE, BaseMAE float64
	BaseQ                       [3]float64
	BaseQMAE                    float64
}

// LauncherQuantiles are the quantiles the tables compare.
var LauncherQuantiles = [3]float64{0.1, 0.5, 0.9}

func pointErrors(pred float64, runs []float64) (mape, mae float64) {
	for _, x := range runs {
		mape += 100 * math.Abs(pred-x) / x / float64(len(runs))
		mae += math.Abs(pred-x) / float64(len(runs))
	}
	return mape, mae
}

func empiricalQ(sorted []float64) [3]float64 {
	var q [3]float64
	for i, u := range LauncherQuantiles {
		q[i] = report.Quantile(u, sorted)
	}
	return q
}

func qmae(a, b [3]float64) float64 {
	s := 0.0
	for i := range a {
		s += math.Abs(a[i]-b[i]) / 3
	}
	return s
}

func (s *LauncherSet) row(c *LauncherCase) (LauncherRow, error) {
	d, err := s.Dist(c)
	if err != nil {
		return LauncherRow{}, err
	}
	r := LauncherRow{Case: c, DataMean: mean(c.Values), Model: d, ModelMean: d.Mean(), DataQ: empiricalQ(c.Values)}
	r.ModelMAPE, r.ModelMAE = pointErrors(r.ModelMean, c.Values)
	for i, u := range LauncherQuantiles {
		r.ModelQ[i] = d.Quantile(u)
	}
	r.ModelQMAE = qmae(r.ModelQ, r.DataQ)
	return r, nil
}

// LauncherResult is a comparison of cases with the model: per case and
// pooled over the runs (per operator and in all).
type LauncherResult struct {
	Title, Scheme string
	HeldOut       bool
	Rows          []LauncherRow
}

// Totals pools the rows of operator ("" for all): MAPE and MAE over
// their runs, quantile MAE over their cases, for the model and (held
// out) the baseline.
func (r *LauncherResult) Totals(operator string) (runs int, mape, mae, q, bMAPE, bMAE, bQ float64) {
	cases := 0
	for _, row := range r.Rows {
		if operator != "" && row.Case.Operator != operator {
			continue
		}
		n := float64(len(row.Case.Values))
		runs += len(row.Case.Values)
		cases++
		mape += row.ModelMAPE * n
		mae += row.ModelMAE * n
		q += row.ModelQMAE
		bMAPE += row.BaseMAPE * n
		bMAE += row.BaseMAE * n
		bQ += row.BaseQMAE
	}
	if runs == 0 {
		return 0, 0, 0, 0, 0, 0, 0
	}
	n := float64(runs)
	return runs, mape / n, mae / n, q / float64(cases), bMAPE / n, bMAE / n, bQ / float64(cases)
}

// LauncherInSample compares every case with the set fitted to all of
// them.
func LauncherInSample(set *LauncherSet, cases []*LauncherCase) (*LauncherResult, error) {
	r := &LauncherResult{Title: "launchers, in-sample (the runs fitted)", Scheme: "fitted to both sizes"}
	for _, c := range cases {
		row, err := set.row(c)
		if err != nil {
			return nil, err
		}
		r.Rows = append(r.Rows, row)
	}
	return r, nil
}

// LauncherCV holds each size out in turn: the procedure o is run from
// the untouched start values on the other size(s) and predicts the
// held-out size; the baseline predicts the fitted size's runs (their
// mean, and their quantiles).
func LauncherCV(cases []*LauncherCase, o FitOptions) (*LauncherResult, error) {
	var sizes []int
	for _, c := range cases {
		if !slices.Contains(sizes, c.Nodes) {
			sizes = append(sizes, c.Nodes)
		}
	}
	slices.Sort(sizes)
	if len(sizes) < 2 {
		return nil, fmt.Errorf("the data hold %d size(s): need two to fit one and predict the other", len(sizes))
	}
	var names []string
	for _, n := range sizes {
		names = append(names, fmt.Sprint(n))
	}
	r := &LauncherResult{Title: "launchers, held out", HeldOut: true,
		Scheme: fmt.Sprintf("leave one size out (%d folds: %s nodes, each predicted by a fit to the other size, from the untouched start values)", len(sizes), strings.Join(names, ", "))}
	for _, size := range sizes {
		var train, held []*LauncherCase
		for _, c := range cases {
			if c.Nodes == size {
				held = append(held, c)
			} else {
				train = append(train, c)
			}
		}
		f, err := FitLauncherSet(train, LauncherStart, o, false)
		if err != nil {
			return nil, fmt.Errorf("holding out %d nodes: %w", size, err)
		}
		for _, c := range held {
			row, err := f.Set.row(c)
			if err != nil {
				return nil, err
			}
			row.Fold = fmt.Sprintf("fit on %s, predict %d", otherSizes(sizes, size), size)
			var pool []float64
			for _, t := range casesOf(train, c.Operator, c.Interval) {
				pool = append(pool, t.Values...)
			}
			if len(pool) == 0 {
				return nil, fmt.Errorf("holding out %d nodes: no training runs of %s %s", size, c.Operator, c.Interval)
			}
			slices.Sort(pool)
			row.BaseMean = mean(pool)
			row.BaseMAPE, row.BaseMAE = pointErrors(row.BaseMean, c.Values)
			row.BaseQ = empiricalQ(pool)
			row.BaseQMAE = qmae(row.BaseQ, row.DataQ)
			r.Rows = append(r.Rows, row)
		}
	}
	return r, nil
}

func otherSizes(sizes []int, held int) string {
	var s []string
	for _, n := range sizes {
		if n != held {
			s = append(s, fmt.Sprint(n))
		}
	}
	return strings.Join(s, "+")
}

// NobodyLate is the share of runs in which no party was late: the
// model's (1 − p)^n, and the data's share of runs within half a retry
// of the model's base (the measured runs split there: the base mode
// and the first late one are a retry apart).
func (row LauncherRow) NobodyLate() (model, data float64) {
	l := row.Model.Late
	model = math.Pow(1-l.P, float64(l.N))
	cut := row.Model.Base + row.Model.Truncation/2 + l.Retry/2
	n := 0
	for _, x := range row.Case.Values {
		if x < cut {
			n++
		}
	}
	return model, float64(n) / float64(len(row.Case.Values))
}

// Table formats the comparison.
func (r *LauncherResult) Table() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n", r.Title, r.Scheme)
	q := "p10/p50/p90"
	fmt.Fprintf(&b, "%-36s %4s | %-25s | %-25s %6s %6s", "case", "runs", "data mean "+q, "model mean "+q, "MAPE%", "q err")
	if r.HeldOut {
		fmt.Fprintf(&b, " | %-25s %6s %6s", "baseline (fitted size)", "MAPE%", "q err")
	}
	b.WriteString("\n")
	f := func(m float64, q [3]float64) string {
		return fmt.Sprintf("%5.2f %5.2f/%5.2f/%5.2f", m, q[0], q[1], q[2])
	}
	for _, row := range r.Rows {
		fmt.Fprintf(&b, "%-36s %4d | %-25s | %-25s %6.2f %6.2f", row.Case.Name(), len(row.Case.Values), f(row.DataMean, row.DataQ), f(row.ModelMean, row.ModelQ), row.ModelMAPE, row.ModelQMAE)
		if r.HeldOut {
			fmt.Fprintf(&b, " | %-25s %6.2f %6.2f", f(row.BaseMean, row.BaseQ), row.BaseMAPE, row.BaseQMAE)
		}
		b.WriteString("\n")
	}
	for _, row := range r.Rows {
		if l := row.Model.Late; l.N > 0 && l.P > 0 {
			model, data := row.NobodyLate()
			fmt.Fprintf(&b, "%-36s nobody late (within half a retry of the base) in %3.0f%% of the runs, model %3.0f%% = (1 − %.4g)^%d\n",
				row.Case.Name(), 100*data, 100*model, l.P, l.N)
		}
	}
	if r.HeldOut {
		var folds []string
		for _, row := range r.Rows {
			if !slices.Contains(folds, row.Fold) {
				folds = append(folds, row.Fold)
			}
		}
		for _, fold := range folds {
			sub := &LauncherResult{HeldOut: true}
			for _, row := range r.Rows {
				if row.Fold == fold {
					sub.Rows = append(sub.Rows, row)
				}
			}
			runs, mape, mae, qe, bm, bmae, bq := sub.Totals("")
			fmt.Fprintf(&b, "%-22s %3d runs: model MAPE %5.2f%% (%.2f s), quantile error %.2f s; baseline MAPE %5.2f%% (%.2f s), quantile error %.2f s\n",
				fold, runs, mape, mae, qe, bm, bmae, bq)
		}
	}
	for _, op := range []string{MPIOperator, FluxOperator, ""} {
		runs, mape, mae, qe, bm, bmae, bq := r.Totals(op)
		if runs == 0 {
			continue
		}
		name := op
		if name == "" {
			name = "all"
		}
		fmt.Fprintf(&b, "%-13s over %3d runs: model MAPE %5.2f%% (%.2f s), quantile error %.2f s", name, runs, mape, mae, qe)
		if r.HeldOut {
			fmt.Fprintf(&b, "; baseline MAPE %5.2f%% (%.2f s), quantile error %.2f s", bm, bmae, bq)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// Summary is the result in one sentence for a provenance.
func (r *LauncherResult) Summary(operator string) string {
	runs, mape, mae, qe, bm, bmae, bq := r.Totals(operator)
	s := fmt.Sprintf("%s (%s), %d runs: MAPE %.2f%% (mean absolute error %.2f s), p10/p50/p90 error %.2f s", r.Title, r.Scheme, runs, mape, mae, qe)
	if r.HeldOut {
		s += fmt.Sprintf("; baseline (the fitted size's runs) MAPE %.2f%% (%.2f s), p10/p50/p90 error %.2f s", bm, bmae, bq)
	}
	return s + "."
}

// StartsTable lists the starts of every interval's fit (objective: the
// negative log-likelihood of its runs).
func (f *LauncherFit) StartsTable() string {
	var b strings.Builder
	for _, p := range f.Problems {
		fmt.Fprintf(&b, "%s %s:\n", p.Operator, p.Interval)
		b.WriteString(startsTable(p.Knobs, p.Starts, p.Best, 16, func(o float64) string { return fmt.Sprintf("%10.3f", o) }))
	}
	return b.String()
}

// SpreadTable lists every fitted parameter's spread.
func (f *LauncherFit) SpreadTable() string {
	var all []apps.ParamSpread
	for _, p := range f.Problems {
		all = append(all, p.Spread...)
	}
	return SpreadTable(all)
}
