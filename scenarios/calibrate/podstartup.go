package calibrate

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/scenarios"
	"github.com/convergesim/converge/traces"
)

// Experiments of the pod start-up study, as named in its data.
const (
	PlainPods  = "pods"
	IndexedJob = "indexed-job"
)

// Quantiles reported per case.
var Quantiles = []float64{0.5, 0.9, 0.99}

// fitQuantiles are the quantiles the fit matches (a denser set than the
// report, so the objective sees the whole distribution).
var fitQuantiles = []float64{0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99}

// Case is one experiment at one size: the measured and simulated
// time-to-Ready samples (seconds since creation, whole seconds).
type Case struct {
	Experiment string
	Size       int
	Data, Sim  []float64 // sorted
}

// DataCases groups the measured runs by experiment and size.
func DataCases(runs []*traces.PodTimes) []*Case {
	idx := map[string]*Case{}
	var cases []*Case
	for _, r := range runs {
		k := fmt.Sprintf("%s/%d", r.Experiment, r.Size)
		c := idx[k]
		if c == nil {
			c = &Case{Experiment: r.Experiment, Size: r.Size}
			idx[k] = c
			cases = append(cases, c)
		}
		names := make([]string, 0, len(r.Pods))
		for n := range r.Pods {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			if p := r.Pods[n]; !math.IsNaN(p.Ready) {
				c.Data = append(c.Data, p.Ready)
			}
		}
	}
	for _, c := range cases {
		slices.Sort(c.Data)
	}
	slices.SortFunc(cases, func(a, b *Case) int {
		if a.Experiment != b.Experiment {
			return strings.Compare(b.Experiment, a.Experiment) // pods before indexed-job
		}
		return a.Size - b.Size
	})
	return cases
}

// Variant returns a copy of base whose first workload is the experiment
// at the given size: size bare Pods, or one Indexed Job of size pods.
func Variant(base *scenarios.Scenario, experiment string, size int, seed uint64) (*scenarios.Scenario, error) {
	if len(base.Workloads) == 0 {
		return nil, fmt.Errorf("calibrate: scenario %s has no workload", base.Name)
	}
	sc := *base
	w := base.Workloads[0]
	switch experiment {
	case PlainPods:
		w.Name, w.Kind, w.Count, w.Parallelism, w.Completions = "pod", "Pod", size, 0, 0
	case IndexedJob:
		w.Name, w.Kind, w.Count, w.Parallelism, w.Completions = "indexed-job", "IndexedJob", 1, size, size
	default:
		return nil, fmt.Errorf("calibrate: unknown experiment %q (valid: %s, %s)", experiment, PlainPods, IndexedJob)
	}
	sc.Workloads = []scenarios.Workload{w}
	sc.Seed = seed
	return &sc, nil
}

// Simulate runs the experiment iterations times (seeds base.Seed,
// base.Seed+1, …) and returns every pod's time to Ready as the study
// recorded it: whole-second condition times minus the whole-second
// creation time, with the seconds boundary at a random phase per run.
func Simulate(base *scenarios.Scenario, experiment string, size, iterations int) ([]float64, error) {
	var out []float64
	for it := range iterations {
		sc, err := Variant(base, experiment, size, base.Seed+uint64(it))
		if err != nil {
			return nil, err
		}
		e, err := scenarios.Build(sc)
		if err != nil {
			return nil, err
		}
		phase := e.Streams().Get("calibrate.phase").Float64()
		res, err := e.Run()
		if err != nil {
			return nil, err
		}
		for _, p := range res.Pods {
			if engine.IsSet(p.Ready) {
				out = append(out, math.Floor(p.Ready+phase)-math.Floor(p.Created+phase))
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

// Compare fills the simulated samples of each case.
func Compare(base *scenarios.Scenario, cases []*Case, iterations int) error {
	for _, c := range cases {
		sim, err := Simulate(base, c.Experiment, c.Size, iterations)
		if err != nil {
			return fmt.Errorf("%s/%d: %w", c.Experiment, c.Size, err)
		}
		c.Sim = sim
	}
	return nil
}

// Error is the mean absolute difference between simulated and measured
// quantiles qs over all cases, in seconds.
func Error(cases []*Case, qs []float64) float64 { return quantileError(cases, qs) }

func (c *Case) samples() (data, sim []float64) { return c.Data, c.Sim }

// Params are the fitted start-up parameters.
type Params struct {
	ClientQPS     float64 // the study's client creating bare pods (pods/s)
	CreateLatency float64 // median create API call (s)
	Sandbox       float64 // median sandbox + CNI set-up (s)
	ManifestCheck float64 // median pull of a present image (s)
	SyncDelay     float64 // median pod worker trigger → action (s)
}

func (p Params) vector() []float64 {
	return []float64{math.Log(p.ClientQPS), math.Log(p.CreateLatency), math.Log(p.Sandbox), math.Log(p.ManifestCheck), math.Log(p.SyncDelay)}
}

func fromVector(x []float64) Params {
	return Params{math.Exp(x[0]), math.Exp(x[1]), math.Exp(x[2]), math.Exp(x[3]), math.Exp(x[4])}
}

// Apply sets the parameters on a copy of the scenario's start-up model.
func (p Params) Apply(base *scenarios.Scenario) *scenarios.Scenario {
	sc := *base
	sc.Startup.Sandbox = &scenarios.Dist{D: engine.LogNormal{Median: p.Sandbox, Sigma: sigmaOf(base.Startup.Sandbox, 0.3)}}
	sc.Startup.ManifestCheck = &scenarios.Dist{D: engine.LogNormal{Median: p.ManifestCheck, Sigma: sigmaOf(base.Startup.ManifestCheck, 0.3)}}
	sc.Startup.SyncDelay = &scenarios.Dist{D: engine.LogNormal{Median: p.SyncDelay, Sigma: sigmaOf(base.Startup.SyncDelay, 0.8)}}
	qps, burst := p.ClientQPS, 1
	sc.Controllers.ClientQPS = &qps
	sc.Controllers.ClientBurst = &burst
	sc.Controllers.CreateLatency = &scenarios.Dist{D: engine.LogNormal{Median: p.CreateLatency, Sigma: sigmaOf(base.Controllers.CreateLatency, 0.5)}}
	return &sc
}

func sigmaOf(d *scenarios.Dist, def float64) float64 {
	if d != nil {
		if l, ok := d.D.(engine.LogNormal); ok {
			return l.Sigma
		}
	}
	return def
}

// Fit searches the parameters that minimise Error over the dense quantile
// set with Nelder–Mead (gonum/optimize) from start, in log space.
func Fit(base *scenarios.Scenario, cases []*Case, start Params, iterations, maxEvals int) (Params, float64, error) {
	x, f, err := minimizeLog(start.vector(), maxEvals, func(x []float64) (float64, error) {
		if err := Compare(fromVector(x).Apply(base), cases, iterations); err != nil {
			return 0, err
		}
		return Error(cases, fitQuantiles), nil
	})
	if err != nil {
		return Params{}, 0, err
	}
	return fromVector(x), f, nil
}
