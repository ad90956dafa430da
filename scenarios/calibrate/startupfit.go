package calibrate

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/gonum/stat"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/internal/limitio"
	"github.com/convergesim/converge/report"
	"github.com/convergesim/converge/scenarios"
	"github.com/convergesim/converge/traces"
	"github.com/convergesim/converge/workloads/apps"
)

// The start-up fits (pod start-up study, image pulls) run the scenario
// through the engine at every evaluation, so their procedures are
// smaller than the app models'. Each case is one size of one series (an
// experiment kind, or a cloud's image); it is compared by quantiles.

// StartupOptions is a start-up fitting procedure: the Nelder–Mead part
// and Runs simulated runs per case and evaluation (seeds 1, 2, …, the
// same at every evaluation, so the objective is deterministic).
type StartupOptions struct {
	FitOptions
	Runs int
}

// String describes the procedure.
func (o StartupOptions) String() string {
	return fmt.Sprintf("%s; %d simulated runs per case", o.FitOptions.String(), o.Runs)
}

// PodStartupStart are untouched start values: client-go's default QPS
// for the study's client, round a priori latencies (a 0.1 s create call,
// a second of sandbox and CNI, half a second of manifest check, 0.1 s
// from a pod worker's trigger to its action).
var PodStartupStart = Params{ClientQPS: 5, CreateLatency: 0.1, Sandbox: 1, ManifestCheck: 0.5, SyncDelay: 0.1}

// Pod start-up procedures: Full for sim fit startup and make calibrate,
// CI for go test.
var (
	PodStartupFull = StartupOptions{FitOptions{Starts: 2, Evals: 200, Perturb: 0.5, Seed: 1, Simplex: 0.1, Profile: true, ProfileEvals: 60}, 22}
	PodStartupCI   = StartupOptions{FitOptions{Starts: 1, Evals: 80, Perturb: 0.5, Seed: 1, Simplex: 0.1}, 11}
)

// iterationsFull is three times the study's 11 runs per kind and size,
// so the simulated quantiles carry less sampling noise than the
// measured ones.
const iterationsFull = 33

func (p *Params) knobs() []Knob {
	return []Knob{
		{"clientQPS", &p.ClientQPS, 0.5, 100}, {"createLatency", &p.CreateLatency, 1e-3, 5},
		{"sandbox", &p.Sandbox, 0.01, 10}, {"manifestCheck", &p.ManifestCheck, 0.01, 10}, {"syncDelay", &p.SyncDelay, 1e-3, 10},
	}
}

func (p *PullParams) knobs() []Knob {
	return []Knob{
		{"nodeBandwidth", &p.NodeBandwidth, 1 << 20, 100 << 30}, {"registryBandwidth", &p.RegistryBandwidth, 1 << 20, 1 << 40},
		{"pullOverhead", &p.Overhead, 0.01, 120},
	}
}

// VectorFit is a start-up fit: the best parameters, every start's
// outcome and the spread of each parameter.
type VectorFit struct {
	Knobs  []string
	Starts []StartFit
	Best   int
	Spread []apps.ParamSpread
}

// fitVector runs the procedure o on knobs (set to the untouched start
// values) against obj, leaves them at the best fit and, with spread,
// reports each knob's spread.
func fitVector(knobs []Knob, obj func() (float64, error), o FitOptions, spread bool) (*VectorFit, error) {
	s := &AppSetup{Knobs: knobs}
	starts, best, err := s.FitStarts(obj, o)
	if err != nil {
		return nil, err
	}
	r := &VectorFit{Starts: starts, Best: best}
	for _, k := range knobs {
		r.Knobs = append(r.Knobs, k.Name)
	}
	if spread {
		if r.Spread, err = s.Spread(obj, starts, best, o); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// StartsTable lists every start's outcome (objective in unit).
func (r *VectorFit) StartsTable(unit string) string {
	return startsTable(r.Knobs, r.Starts, r.Best, 13, func(o float64) string { return fmt.Sprintf("%8.3f %s", o, unit) })
}

// startsTable lists the starts of a fit: its objective (formatted by obj)
// and every knob's value in a column of width, the best one starred.
func startsTable(knobs []string, starts []StartFit, best, width int, obj func(float64) string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-6s %10s", "start", "objective")
	for _, k := range knobs {
		fmt.Fprintf(&b, " %*s", width, trunc(k, width))
	}
	b.WriteString("\n")
	for i, s := range starts {
		mark := " "
		if i == best {
			mark = "*"
		}
		fmt.Fprintf(&b, "%-5d%s %s", i, mark, obj(s.Objective))
		for _, v := range s.Values {
			fmt.Fprintf(&b, " %*.4g", width, v)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// FitPodStartupStarts fits the start-up parameters from start with o to
// the cases (mean absolute error of the dense quantile set), with the
// spread of each parameter when spread is set.
func FitPodStartupStarts(base *scenarios.Scenario, cases []*Case, start Params, o StartupOptions, spread bool) (Params, *VectorFit, error) {
	p := start
	obj := func() (float64, error) {
		if err := Compare(p.Apply(base), cases, o.Runs); err != nil {
			return 0, err
		}
		return Error(cases, fitQuantiles), nil
	}
	r, err := fitVector(p.knobs(), obj, o.FitOptions, spread)
	if err != nil {
		return Params{}, nil, err
	}
	if _, err := obj(); err != nil { // leave the cases' samples at the fit
		return Params{}, nil, err
	}
	return p, r, nil
}

// PullStarts are the untouched starting points of the pull fit: a
// node link of 200 MiB/s and a registry of 4 GiB/s with 10 s of
// unpacking first, then two others an order of magnitude apart (the
// objective has local minima: which sizes are node- or registry-limited).
var PullStarts = []PullParams{
	{NodeBandwidth: 200 << 20, RegistryBandwidth: 4 << 30, Overhead: 10},
	{NodeBandwidth: 1 << 30, RegistryBandwidth: 20 << 30, Overhead: 5},
	{NodeBandwidth: 50 << 20, RegistryBandwidth: 1 << 30, Overhead: 2},
}

// Pull procedures: each of PullStarts (Starts is ignored; Perturb 0),
// Full for sim fit startup --pulls and make calibrate, CI for go test.
var (
	PullFull = StartupOptions{FitOptions{Starts: 1, Evals: 400, Seed: 1, Simplex: 0.05, Profile: true, ProfileEvals: 150}, 4}
	PullCI   = StartupOptions{FitOptions{Starts: 1, Evals: 150, Seed: 1, Simplex: 0.05}, 2}
)

// FitPullsStarts fits the pull parameters from each of starts with o to
// the median pull time of each size and keeps the best; with spread,
// each parameter's spread over the starts and its two-point profile.
func FitPullsStarts(base *scenarios.Scenario, cases []*PullCase, starts []PullParams, o StartupOptions, spread bool) (PullParams, *VectorFit, error) {
	var p PullParams
	obj := func() (float64, error) {
		if err := ComparePulls(p.Apply(base), cases, o.Runs); err != nil {
			return 0, err
		}
		return PullError(cases, pullFitQuantiles), nil
	}
	knobs := p.knobs()
	all := &VectorFit{Best: -1}
	for _, st := range starts {
		p = st
		r, err := fitVector(knobs, obj, o.FitOptions, false)
		if err != nil {
			return PullParams{}, nil, err
		}
		all.Knobs = r.Knobs
		s := r.Starts[r.Best]
		s.Start = []float64{st.NodeBandwidth, st.RegistryBandwidth, st.Overhead}
		all.Starts = append(all.Starts, s)
		if all.Best < 0 || s.Objective < all.Starts[all.Best].Objective {
			all.Best = len(all.Starts) - 1
		}
	}
	v := all.Starts[all.Best].Values
	p = PullParams{v[0], v[1], v[2]}
	if spread {
		s := &AppSetup{Knobs: knobs}
		var err error
		if all.Spread, err = s.Spread(obj, all.Starts, all.Best, o.FitOptions); err != nil {
			return PullParams{}, nil, err
		}
		p = PullParams{v[0], v[1], v[2]}
	}
	if _, err := obj(); err != nil {
		return PullParams{}, nil, err
	}
	return p, all, nil
}

// --- cross-validation by size ---

// QuantileBaseline predicts a held-out size's quantiles from the
// training sizes of the same series (ok false: nothing to go on).
type QuantileBaseline struct {
	Name    string
	Predict func(train []QCase, c QCase, qs []float64) ([]float64, bool)
}

// QCase is one size of one series, compared by quantiles.
type QCase struct {
	Series string
	Size   int
	Data   []float64 // sorted
}

func quantiles(qs, sorted []float64) []float64 {
	out := make([]float64, len(qs))
	for i, q := range qs {
		out[i] = report.Quantile(q, sorted)
	}
	return out
}

// PooledBaseline predicts the quantiles of every training sample of the
// series pooled: a distribution that does not depend on size.
var PooledBaseline = QuantileBaseline{Name: "pooled", Predict: func(train []QCase, c QCase, qs []float64) ([]float64, bool) {
	var v []float64
	for _, t := range train {
		if t.Series == c.Series {
			v = append(v, t.Data...)
		}
	}
	if len(v) == 0 {
		return nil, false
	}
	slices.Sort(v)
	return quantiles(qs, v), true
}}

// NearestSizeBaseline predicts the quantiles of the training size of the
// series nearest in log size (the smaller on a tie).
var NearestSizeBaseline = QuantileBaseline{Name: "nearest size", Predict: func(train []QCase, c QCase, qs []float64) ([]float64, bool) {
	best := -1
	for i, t := range train {
		if t.Series != c.Series {
			continue
		}
		d := math.Abs(math.Log(float64(t.Size) / float64(c.Size)))
		if best < 0 || d < math.Abs(math.Log(float64(train[best].Size)/float64(c.Size))) ||
			(d == math.Abs(math.Log(float64(train[best].Size)/float64(c.Size))) && t.Size < train[best].Size) {
			best = i
		}
	}
	if best < 0 {
		return nil, false
	}
	return quantiles(qs, train[best].Data), true
}}

// PowerLawSizeBaseline fits each quantile as a·size^b over the training
// sizes of the series (least squares in log–log) and extrapolates.
var PowerLawSizeBaseline = QuantileBaseline{Name: "power law in size", Predict: func(train []QCase, c QCase, qs []float64) ([]float64, bool) {
	var ts []QCase
	for _, t := range train {
		if t.Series == c.Series {
			ts = append(ts, t)
		}
	}
	if len(ts) < 2 {
		return nil, false
	}
	out := make([]float64, len(qs))
	for i, q := range qs {
		var xs, ys []float64
		for _, t := range ts {
			xs = append(xs, math.Log(float64(t.Size)))
			ys = append(ys, math.Log(max(report.Quantile(q, t.Data), 1e-3)))
		}
		a, b := stat.LinearRegression(xs, ys, nil, false)
		out[i] = math.Exp(a + b*math.Log(float64(c.Size)))
	}
	return out, true
}}

// QuantileRow is one held-out case.
type QuantileRow struct {
	QCase
	Model    []float64   // predicted quantiles
	Baseline [][]float64 // per baseline
}

// QuantileCV is a leave-one-size-out cross-validation of a start-up fit.
type QuantileCV struct {
	Title, Scheme string
	// Method describes the procedure each fold ran.
	Method    string
	Quantiles []float64
	Baselines []string
	Rows      []QuantileRow
	// MAE is the mean absolute error over held-out cases and quantiles
	// (s); P50 the mean absolute relative error of the medians (%).
	MAE, P50         float64
	BaseMAE, BaseP50 []float64
	// RelMedian says whether the relative median error is meaningful
	// (not for whole-second times of a second or two).
	RelMedian bool
}

// quantileCV holds out each size in turn (every series at that size),
// lets fitSim fit on the rest and simulate the held-out cases, and
// scores the model and the baselines on the quantiles qs.
func quantileCV(title, scheme string, o StartupOptions, cases []QCase, qs []float64, baselines []QuantileBaseline,
	fitSim func(train, held []int) ([][]float64, error)) (*QuantileCV, error) {
	r := &QuantileCV{Title: title, Scheme: scheme, Method: o.String(), Quantiles: qs}
	for _, b := range baselines {
		r.Baselines = append(r.Baselines, b.Name)
	}
	var sizes []int
	for _, c := range cases {
		if !slices.Contains(sizes, c.Size) {
			sizes = append(sizes, c.Size)
		}
	}
	slices.Sort(sizes)
	r.BaseMAE, r.BaseP50 = make([]float64, len(baselines)), make([]float64, len(baselines))
	var n, nq int
	for _, size := range sizes {
		var train, held []int
		var trainCases []QCase
		for i, c := range cases {
			if c.Size == size {
				held = append(held, i)
			} else {
				train = append(train, i)
				trainCases = append(trainCases, c)
			}
		}
		sims, err := fitSim(train, held)
		if err != nil {
			return nil, fmt.Errorf("holding out size %d: %w", size, err)
		}
		for k, i := range held {
			c := cases[i]
			sim := slices.Clone(sims[k])
			slices.Sort(sim)
			row := QuantileRow{QCase: c, Model: quantiles(qs, sim)}
			d := quantiles(qs, c.Data)
			p50 := slices.Index(qs, 0.5)
			for j, v := range row.Model {
				r.MAE += math.Abs(v - d[j])
			}
			if p50 >= 0 {
				r.P50 += 100 * math.Abs(row.Model[p50]-d[p50]) / d[p50]
			}
			for bi, b := range baselines {
				v, ok := b.Predict(trainCases, c, qs)
				if !ok {
					v, _ = PooledBaseline.Predict(trainCases, c, qs)
				}
				row.Baseline = append(row.Baseline, v)
				for j := range v {
					r.BaseMAE[bi] += math.Abs(v[j] - d[j])
				}
				if p50 >= 0 {
					r.BaseP50[bi] += 100 * math.Abs(v[p50]-d[p50]) / d[p50]
				}
			}
			r.Rows = append(r.Rows, row)
			n++
			nq += len(qs)
		}
	}
	if n == 0 {
		return nil, fmt.Errorf("%s: no cases", title)
	}
	r.MAE /= float64(nq)
	r.P50 /= float64(n)
	for i := range baselines {
		r.BaseMAE[i] /= float64(nq)
		r.BaseP50[i] /= float64(n)
	}
	return r, nil
}

// Table formats the held-out predictions.
func (r *QuantileCV) Table() string {
	var b strings.Builder
	qn := make([]string, len(r.Quantiles))
	for i, q := range r.Quantiles {
		qn[i] = fmt.Sprintf("p%g", 100*q)
	}
	qs := strings.Join(qn, "/")
	fmt.Fprintf(&b, "%s: held out, %s\n", r.Title, r.Scheme)
	fmt.Fprintf(&b, "%-12s %5s %5s | %-20s | %-20s", "series", "size", "n", "data "+qs, "model "+qs)
	for _, n := range r.Baselines {
		fmt.Fprintf(&b, " | %-20s", trunc(n, 20))
	}
	b.WriteString("\n")
	row := func(v []float64) string {
		s := make([]string, len(v))
		for i, x := range v {
			s[i] = fmt.Sprintf("%6.1f", x)
		}
		return fmt.Sprintf("%-20s", strings.Join(s, " "))
	}
	for _, c := range r.Rows {
		fmt.Fprintf(&b, "%-12s %5d %5d | %s | %s", trunc(c.Series, 12), c.Size, len(c.Data), row(quantiles(r.Quantiles, c.Data)), row(c.Model))
		for _, v := range c.Baseline {
			fmt.Fprintf(&b, " | %s", row(v))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "held-out mean absolute error over %s: model %.2f s", qs, r.MAE)
	for i, n := range r.Baselines {
		fmt.Fprintf(&b, ", %s %.2f s", n, r.BaseMAE[i])
	}
	if r.RelMedian {
		fmt.Fprintf(&b, "\nheld-out mean |error| of the median: model %.1f%%", r.P50)
		for i, n := range r.Baselines {
			fmt.Fprintf(&b, ", %s %.1f%%", n, r.BaseP50[i])
		}
	}
	b.WriteString("\n")
	return b.String()
}

// PodStartupCV is leave-one-size-out for the pod start-up fit: each
// size of the study (both kinds) is predicted by the procedure o run
// from start on the other sizes.
func PodStartupCV(base *scenarios.Scenario, cases []*Case, start Params, o StartupOptions) (*QuantileCV, error) {
	qc := make([]QCase, len(cases))
	for i, c := range cases {
		qc[i] = QCase{Series: c.Experiment, Size: c.Size, Data: c.Data}
	}
	return quantileCV("pod start-up (time to Ready)", "leave one size out (7 folds: both kinds at one size predicted from the other sizes)",
		o, qc, Quantiles, []QuantileBaseline{PooledBaseline, NearestSizeBaseline},
		func(train, held []int) ([][]float64, error) {
			tc := cloneCases(pick(cases, train))
			p, _, err := FitPodStartupStarts(base, tc, start, o, false)
			if err != nil {
				return nil, err
			}
			hc := cloneCases(pick(cases, held))
			if err := Compare(p.Apply(base), hc, o.Runs); err != nil {
				return nil, err
			}
			out := make([][]float64, len(hc))
			for i, c := range hc {
				out[i] = c.Sim
			}
			return out, nil
		})
}

// PullsCV is leave-one-size-out for the image-pull fit.
func PullsCV(base *scenarios.Scenario, cases []*PullCase, starts []PullParams, o StartupOptions) (*QuantileCV, error) {
	qc := make([]QCase, len(cases))
	for i, c := range cases {
		qc[i] = QCase{Series: "pulls", Size: c.Nodes, Data: c.Data}
	}
	var sizes []string
	for _, c := range cases {
		sizes = append(sizes, fmt.Sprint(c.Nodes))
	}
	r, err := quantileCV("image pulls (per-node pull time)", fmt.Sprintf("leave one cluster size out (%d folds: %s nodes, each predicted from the others)", len(cases), strings.Join(sizes, ", ")),
		o, qc, PullQuantiles, []QuantileBaseline{PooledBaseline, PowerLawSizeBaseline},
		func(train, held []int) ([][]float64, error) {
			tc := make([]*PullCase, len(train))
			for i, j := range train {
				c := *cases[j]
				c.Sim = nil
				tc[i] = &c
			}
			p, _, err := FitPullsStarts(base, tc, starts, o, false)
			if err != nil {
				return nil, err
			}
			out := make([][]float64, len(held))
			for i, j := range held {
				c := *cases[j]
				c.Sim = nil
				if err := ComparePulls(p.Apply(base), []*PullCase{&c}, o.Runs); err != nil {
					return nil, err
				}
				out[i] = c.Sim
			}
			return out, nil
		})
	if err != nil {
		return nil, err
	}
	r.RelMedian = true
	r.Method = PullMethod(o, 0)
	return r, nil
}

func pick[T any](all []T, idx []int) []T {
	out := make([]T, len(idx))
	for i, j := range idx {
		out[i] = all[j]
	}
	return out
}

func cloneCases(cs []*Case) []*Case {
	out := make([]*Case, len(cs))
	for i, c := range cs {
		d := *c
		d.Sim = nil
		out[i] = &d
	}
	return out
}

// ReadPodStartupCases reads the pod start-up study's pod-times.csv and
// groups it by kind and size; it returns the cases and the file's
// SHA-256.
func ReadPodStartupCases(path string) ([]*Case, string, error) {
	data, err := limitio.ReadFile(path, limitio.DataTable, "pod times CSV")
	if err != nil {
		return nil, "", err
	}
	runs, err := traces.ReadPodTimes(bytes.NewReader(data), path)
	if err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(data)
	return DataCases(runs), hex.EncodeToString(sum[:]), nil
}

// ReadPullCases reads the performance study's pull times and returns
// the series of one container on one cloud (plain sizes, by node count)
// with the file's SHA-256.
func ReadPullCases(path, cloud, container string) ([]*PullCase, string, error) {
	data, err := limitio.ReadFile(path, limitio.DataTable, "pull times CSV")
	if err != nil {
		return nil, "", err
	}
	rows, err := traces.ReadPullTimes(bytes.NewReader(data), path)
	if err != nil {
		return nil, "", err
	}
	cases := PullCases(GroupPulls(rows), cloud, container, "")
	if len(cases) < 2 {
		return nil, "", fmt.Errorf("%s: cloud %q, container %q: %d cluster sizes, need at least 2 to fit and hold one out", path, cloud, container, len(cases))
	}
	sum := sha256.Sum256(data)
	return cases, hex.EncodeToString(sum[:]), nil
}

// CurrentParams are a scenario's own start-up values (medians of its
// distributions), the warm start of a refit; ok is false when the
// scenario does not set them all as the fit writes them.
func CurrentParams(sc *scenarios.Scenario) (Params, bool) {
	med := func(d *scenarios.Dist) (float64, bool) {
		if d == nil {
			return 0, false
		}
		l, ok := d.D.(engine.LogNormal)
		return l.Median, ok && l.Median > 0
	}
	var p Params
	var ok [4]bool
	p.Sandbox, ok[0] = med(sc.Startup.Sandbox)
	p.ManifestCheck, ok[1] = med(sc.Startup.ManifestCheck)
	p.SyncDelay, ok[2] = med(sc.Startup.SyncDelay)
	p.CreateLatency, ok[3] = med(sc.Controllers.CreateLatency)
	if sc.Controllers.ClientQPS == nil || *sc.Controllers.ClientQPS <= 0 || ok != [4]bool{true, true, true, true} {
		return p, false
	}
	p.ClientQPS = *sc.Controllers.ClientQPS
	return p, true
}

// StartupFitReport is a published start-up fit: the parameters, every
// start, the spreads, the in-sample error of the fitted parameters and
// the held-out cross-validation of the procedure.
type StartupFitReport struct {
	Fit      *VectorFit
	InSample string // table
	MAE      float64
	CV       *QuantileCV
	Scenario []byte // the edited scenario file
}

// PodStartupFitNotes are the fixed parts of the model the fit assumes.
const PodStartupFitNotes = "The kubelet's upstream constants are fixed: registryPullQPS 5, registryBurst 10, image pull back-off 10 s " +
	"doubling to 300 s, pod worker retry 10 s with jitter 0.5. EKS AMIs set serializeImagePulls: false. busybox is untagged, " +
	"so every pod pulls (policy Always) and its manifest check goes through the pull limiter."

// FitPodStartupScenario fits the start-up parameters of the scenario
// (file name, content data) to the cases: the procedure o from the
// untouched start values plus, when warm, the scenario's own values as
// one more start; then the in-sample error with iterationsFull runs, the
// held-out cross-validation (from the untouched start values only,
// unless cv is false) and the edited scenario, whose provenance records
// command, data and every figure.
func FitPodStartupScenario(name string, data []byte, cases []*Case, dataPath, dataSHA, command string, o StartupOptions, warm, cv bool) (*StartupFitReport, error) {
	base, err := scenarios.Parse(name, data, scenarios.Overrides{IgnoreEnv: true})
	if err != nil {
		return nil, err
	}
	po := o
	if cur, ok := CurrentParams(base); ok && warm {
		po.Extra = [][]float64{{cur.ClientQPS, cur.CreateLatency, cur.Sandbox, cur.ManifestCheck, cur.SyncDelay}}
	}
	p, vf, err := FitPodStartupStarts(base, cases, PodStartupStart, po, true)
	if err != nil {
		return nil, err
	}
	// The in-sample figures are those of the values as written.
	p = Params{round4(p.ClientQPS), round4(p.CreateLatency), round4(p.Sandbox), round4(p.ManifestCheck), round4(p.SyncDelay)}
	r := &StartupFitReport{Fit: vf}
	if err := Compare(p.Apply(base), cases, iterationsFull); err != nil {
		return nil, err
	}
	r.MAE = Error(cases, Quantiles)
	r.InSample = PodStartupTable(cases)
	if cv {
		if r.CV, err = PodStartupCV(base, cases, PodStartupStart, o); err != nil {
			return nil, err
		}
	}
	prov := fmt.Sprintf("Fitted by `%s` (scenarios/calibrate): %s, minimising the mean absolute error of the time-to-Ready quantiles %v "+
		"over both kinds and every size; the starts were the untouched start values %+v", command, po.String(), fitQuantiles, PodStartupStart)
	if len(po.Extra) > 0 {
		prov += " and this scenario's previous values"
	}
	prov += fmt.Sprintf(". Data: %s (SHA-256 %s), plain Pods and one Indexed Job, sizes 4–246, 11 runs each. %s "+
		"In-sample (the runs fitted, %d simulated runs per case): mean absolute error of p50/p90/p99 %.2f s.", dataPath, dataSHA,
		PodStartupFitNotes, iterationsFull, r.MAE)
	if r.CV != nil {
		prov += " " + r.CV.Summary()
	}
	prov += " " + spreadSummary(vf.Spread)
	if r.Scenario, err = EditScenario(name, data, PodStartupEdits(base, p, prov)); err != nil {
		return nil, err
	}
	return r, nil
}

// PullFitNotes are the assumptions of the pull fit.
const PullFitNotes = "Fitted: nodeBandwidth, registryBandwidth, pullOverhead median (sigma held). Assumption: imageSize 312Mi, " +
	"the compressed bytes of the zen4 image's layers that are not shared with metric-single-node:cpu-zen4, which every node had " +
	"pulled earlier in the same cluster (layer digests from the study's container-sizes manifests; the whole image is 1167Mi). " +
	"The data carry no sizes, so only imageSize/bandwidth is identifiable: another imageSize scales both bandwidths with it. " +
	"The max-min model (flat, then linear in the node count) cannot produce the measured jump from 64 to 128 nodes followed by " +
	"almost no growth to 256 (each size is a different cluster on a different day). The Job controller keeps its upstream " +
	"20 creates/s (burst 30), which spreads the pull starts over up to 11 s at 256 nodes and gives the spread of the simulated " +
	"pull times; the fitted values depend on it."

// FitPullScenario is FitPodStartupScenario for the image-pull fit: the
// procedure o from each of PullStarts (and, when warm, the scenario's
// own values).
func FitPullScenario(name string, data []byte, cases []*PullCase, dataPath, dataSHA, series, command string, o StartupOptions, warm, cv bool) (*StartupFitReport, error) {
	base, err := scenarios.Parse(name, data, scenarios.Overrides{IgnoreEnv: true})
	if err != nil {
		return nil, err
	}
	starts := slices.Clone(PullStarts)
	if warm && base.Startup.NodeBandwidth != nil && base.Startup.RegistryBandwidth != nil && base.Startup.PullOverhead != nil {
		if l, ok := base.Startup.PullOverhead.D.(engine.LogNormal); ok && l.Median > 0 {
			starts = append(starts, PullParams{float64(*base.Startup.NodeBandwidth), float64(*base.Startup.RegistryBandwidth), l.Median})
		}
	}
	p, vf, err := FitPullsStarts(base, cases, starts, o, true)
	if err != nil {
		return nil, err
	}
	// The in-sample figures are those of the values as written.
	p = PullParams{math.Round(p.NodeBandwidth/(1<<20)) * (1 << 20), math.Round(p.RegistryBandwidth/(1<<20)) * (1 << 20), round4(p.Overhead)}
	if err := ComparePulls(p.Apply(base), cases, o.Runs); err != nil {
		return nil, err
	}
	r := &StartupFitReport{Fit: vf, InSample: PullTable(cases)}
	r.MAE = PullError(cases, PullQuantiles)
	if cv {
		if r.CV, err = PullsCV(base, cases, PullStarts, o); err != nil {
			return nil, err
		}
	}
	var sizes []string
	for _, c := range cases {
		sizes = append(sizes, fmt.Sprintf("%d nodes (%d pulls, median %.1f s)", c.Nodes, len(c.Data), report.Quantile(0.5, c.Data)))
	}
	prov := fmt.Sprintf("Fitted by `%s` (scenarios/calibrate): %s, minimising the mean absolute error of the median pull time per size.",
		command, PullMethod(o, len(starts)-len(PullStarts)))
	prov += fmt.Sprintf(" Data: %s (SHA-256 %s), series %s: %s. %s In-sample (the sizes fitted): mean absolute error of "+
		"p10/p50/p90 %.2f s, of the medians %.2f s.", dataPath, dataSHA, series, strings.Join(sizes, ", "), PullFitNotes, r.MAE, PullError(cases, []float64{0.5}))
	if r.CV != nil {
		prov += " " + r.CV.Summary()
	}
	prov += " " + spreadSummary(vf.Spread)
	if r.Scenario, err = EditScenario(name, data, PullEdits(base, p, prov)); err != nil {
		return nil, err
	}
	return r, nil
}

// pullMethod describes the pull procedure: Nelder–Mead from each of
// PullStarts (and warm more).
func PullMethod(o StartupOptions, warm int) string {
	s := fmt.Sprintf("Nelder–Mead (gonum/optimize) in log space, bounded, from each of %d untouched starting points", len(PullStarts))
	if warm > 0 {
		s += " and the scenario's previous values"
	}
	return s + fmt.Sprintf(", %d evaluations each, the best objective wins; %d simulated clusters per size", o.Evals, o.Runs)
}

// Summary is the held-out result in one sentence.
func (r *QuantileCV) Summary() string {
	s := fmt.Sprintf("Held out (%s, each fold fitted from the untouched start values with %s): mean absolute error %.2f s",
		r.Scheme, r.Method, r.MAE)
	for i, n := range r.Baselines {
		s += fmt.Sprintf(", baseline %s %.2f s", n, r.BaseMAE[i])
	}
	if r.RelMedian {
		s += fmt.Sprintf("; median error %.1f%%", r.P50)
		for i, n := range r.Baselines {
			s += fmt.Sprintf(", %s %.1f%%", n, r.BaseP50[i])
		}
	}
	return s + "."
}

// spreadSummary says which parameters the data pin down.
func spreadSummary(ps []apps.ParamSpread) string {
	var parts []string
	for _, p := range ps {
		s := fmt.Sprintf("%s %.4g", p.Name, p.Value)
		if p.Min != p.Max {
			s += fmt.Sprintf(" (refits %.4g–%.4g)", p.Min, p.Max)
		}
		if !p.Identified {
			s += " NOT IDENTIFIED: " + p.Note
		}
		parts = append(parts, s)
	}
	return "Parameters: " + strings.Join(parts, "; ") + "."
}

// PodStartupTable formats the time-to-Ready quantiles of data and
// simulation per case (in-sample when the parameters were fitted to
// these cases).
func PodStartupTable(cases []*Case) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-12s %5s %6s | %-23s | %-23s | %s\n", "kind", "size", "pods", "data p50/p90/p99 (s)", "sim p50/p90/p99 (s)", "abs error")
	for _, c := range cases {
		var d, s, e [3]float64
		for i, q := range Quantiles {
			d[i], s[i] = report.Quantile(q, c.Data), report.Quantile(q, c.Sim)
			e[i] = math.Abs(s[i] - d[i])
		}
		fmt.Fprintf(&b, "%-12s %5d %6d | %6.1f %6.1f %6.1f    | %6.1f %6.1f %6.1f    | %4.1f %4.1f %4.1f\n",
			c.Experiment, c.Size, len(c.Data), d[0], d[1], d[2], s[0], s[1], s[2], e[0], e[1], e[2])
	}
	fmt.Fprintf(&b, "mean absolute error over p50/p90/p99 of all cases: %.2f s\n", Error(cases, Quantiles))
	return b.String()
}

// PullTable formats the per-node pull time quantiles of data and
// simulation per size.
func PullTable(cases []*PullCase) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%5s %5s | %-21s | %-21s | %s\n", "nodes", "pulls", "data p10/p50/p90 (s)", "sim p10/p50/p90 (s)", "abs error")
	for _, c := range cases {
		var d, s, e [3]float64
		for i, q := range PullQuantiles {
			d[i], s[i] = report.Quantile(q, c.Data), report.Quantile(q, c.Sim)
			e[i] = math.Abs(s[i] - d[i])
		}
		fmt.Fprintf(&b, "%5d %5d | %6.1f %6.1f %6.1f  | %6.1f %6.1f %6.1f  | %4.1f %4.1f %4.1f\n",
			c.Nodes, len(c.Data), d[0], d[1], d[2], s[0], s[1], s[2], e[0], e[1], e[2])
	}
	fmt.Fprintf(&b, "mean absolute error: p50 %.2f s, p10/p50/p90 %.2f s\n", PullError(cases, []float64{0.5}), PullError(cases, PullQuantiles))
	return b.String()
}
