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

// The image-pull calibration: per-node pull durations of the LAMMPS
// containers of the performance study (Kubernetes "Pulled" events, the
// kubelet's "(… including waiting)" time) against the kubelet's pull model
// (a transfer of the image's bytes sharing bandwidth max-min fairly between
// the registry's egress and each node's link, then a fixed overhead).

// PullSeries is the measured pulls of one container on one cloud at one
// exp_size (one cluster).
type PullSeries struct {
	Cloud, Environment, Container, ExpSize string
	Nodes                                  int
	Variant                                string
	Durations                              []float64 // sorted
}

// GroupPulls groups the "pulled" rows by (cloud, container, exp_size),
// ordered by cloud, container, node count and variant.
func GroupPulls(rows []traces.PullRow) []*PullSeries {
	idx := map[[3]string]*PullSeries{}
	var out []*PullSeries
	for _, r := range rows {
		if r.Event != "pulled" {
			continue
		}
		k := [3]string{r.Cloud, r.Container, r.ExpSize}
		s := idx[k]
		if s == nil {
			s = &PullSeries{Cloud: r.Cloud, Environment: r.Environment, Container: r.Container, ExpSize: r.ExpSize, Nodes: r.Nodes, Variant: r.Variant}
			idx[k] = s
			out = append(out, s)
		}
		s.Durations = append(s.Durations, r.Duration)
	}
	for _, s := range out {
		slices.Sort(s.Durations)
	}
	slices.SortFunc(out, func(a, b *PullSeries) int {
		if c := strings.Compare(a.Cloud, b.Cloud); c != 0 {
			return c
		}
		if c := strings.Compare(a.Container, b.Container); c != 0 {
			return c
		}
		if a.Nodes != b.Nodes {
			return a.Nodes - b.Nodes
		}
		return strings.Compare(a.Variant, b.Variant)
	})
	return out
}

// PullCase is one cluster size of a series: the measured and simulated
// per-node pull durations (seconds, sorted).
type PullCase struct {
	Nodes     int
	ExpSize   string
	Data, Sim []float64
}

// PullCases returns the cases of one container on one cloud with the given
// exp_size variant ("" for the plain sizes), by node count.
func PullCases(series []*PullSeries, cloud, container, variant string) []*PullCase {
	var out []*PullCase
	for _, s := range series {
		if s.Cloud == cloud && s.Container == container && s.Variant == variant {
			out = append(out, &PullCase{Nodes: s.Nodes, ExpSize: s.ExpSize, Data: s.Durations})
		}
	}
	return out
}

// PullVariant returns a copy of base with nodes nodes in its first pool and
// one Indexed Job of nodes pods (its first workload's pod) submitted at 0.
// The pod must ask for more than half a node so that each node gets one.
func PullVariant(base *scenarios.Scenario, nodes int, seed uint64) (*scenarios.Scenario, error) {
	if len(base.Cluster.Pools) == 0 || len(base.Workloads) == 0 {
		return nil, fmt.Errorf("calibrate: scenario %s needs a node pool and a workload", base.Name)
	}
	if nodes < 1 {
		return nil, fmt.Errorf("calibrate: %d nodes", nodes)
	}
	sc := *base
	sc.Cluster.Pools = slices.Clone(base.Cluster.Pools)
	sc.Cluster.Pools[0].Count = nodes
	w := base.Workloads[0]
	w.Kind, w.Count, w.Parallelism, w.Completions = "IndexedJob", 1, nodes, nodes
	w.Arrival = scenarios.Arrival{}
	sc.Workloads = []scenarios.Workload{w}
	sc.Seed = seed
	noEvents := false
	sc.Outputs.Events = &noEvents
	return &sc, nil
}

// SimulatePulls runs the variant of base with nodes workers, each given one
// pod of the image at t=0, and returns every pod's pull duration
// (engine.Pod.PullSeconds: the kubelet's pull start to the image landing,
// unpack included), sorted. It fails if a pod did not pull or two pods
// shared a node.
func SimulatePulls(base *scenarios.Scenario, nodes int, seed uint64) ([]float64, error) {
	sc, err := PullVariant(base, nodes, seed)
	if err != nil {
		return nil, err
	}
	e, err := scenarios.Build(sc)
	if err != nil {
		return nil, err
	}
	res, err := e.Run()
	if err != nil {
		return nil, err
	}
	used := map[*engine.Node]bool{}
	out := make([]float64, 0, nodes)
	for _, p := range res.Pods {
		if p.Node == nil || !engine.IsSet(p.ContainersStarted) {
			return nil, fmt.Errorf("calibrate: %d nodes: pod %s did not start", nodes, p.Name)
		}
		if used[p.Node] {
			return nil, fmt.Errorf("calibrate: %d nodes: two pods on node %s (the pod must ask for more than half a node)", nodes, p.Node.Name)
		}
		used[p.Node] = true
		out = append(out, p.PullSeconds)
	}
	if len(out) != nodes {
		return nil, fmt.Errorf("calibrate: %d nodes: %d pods ran", nodes, len(out))
	}
	slices.Sort(out)
	return out, nil
}

// ComparePulls fills the simulated samples of each case from runs runs
// (seeds base.Seed, base.Seed+1, …).
func ComparePulls(base *scenarios.Scenario, cases []*PullCase, runs int) error {
	for _, c := range cases {
		c.Sim = c.Sim[:0]
		for i := range runs {
			s, err := SimulatePulls(base, c.Nodes, base.Seed+uint64(i))
			if err != nil {
				return err
			}
			c.Sim = append(c.Sim, s...)
		}
		slices.Sort(c.Sim)
	}
	return nil
}

// PullError is the mean absolute difference between simulated and measured
// quantiles qs over the cases, in seconds.
func PullError(cases []*PullCase, qs []float64) float64 { return quantileError(cases, qs) }

func (c *PullCase) samples() (data, sim []float64) { return c.Data, c.Sim }

// PullQuantiles are the quantiles reported per size.
var PullQuantiles = []float64{0.1, 0.5, 0.9}

// pullFitQuantiles are the quantiles the fit matches.
var pullFitQuantiles = []float64{0.5}

// PullParams are the fitted pull parameters. With the image size held
// fixed only the ratios imageSize/bandwidth are identifiable.
type PullParams struct {
	NodeBandwidth     float64 // bytes/s per node
	RegistryBandwidth float64 // bytes/s shared by all pulls
	Overhead          float64 // median of the fixed part of a pull (s)
}

func (p PullParams) vector() []float64 {
	return []float64{math.Log(p.NodeBandwidth), math.Log(p.RegistryBandwidth), math.Log(p.Overhead)}
}

func pullParamsFrom(x []float64) PullParams {
	return PullParams{math.Exp(x[0]), math.Exp(x[1]), math.Exp(x[2])}
}

// String prints the parameters in the scenario's units.
func (p PullParams) String() string {
	return fmt.Sprintf("nodeBandwidth %.0fMi/s registryBandwidth %.0fMi/s pullOverhead median %.2f s",
		p.NodeBandwidth/(1<<20), p.RegistryBandwidth/(1<<20), p.Overhead)
}

// Apply sets the parameters on a copy of the scenario's start-up model
// (the overhead keeps the scenario's log-normal sigma, default 0.05).
func (p PullParams) Apply(base *scenarios.Scenario) *scenarios.Scenario {
	sc := *base
	nb, rb := scenarios.Bytes(math.Round(p.NodeBandwidth)), scenarios.Bytes(math.Round(p.RegistryBandwidth))
	sc.Startup.NodeBandwidth = &nb
	sc.Startup.RegistryBandwidth = &rb
	sc.Startup.PullOverhead = &scenarios.Dist{D: engine.LogNormal{Median: p.Overhead, Sigma: sigmaOf(base.Startup.PullOverhead, 0.05)}}
	return &sc
}

// FitPulls searches the parameters that minimise the error of the per-size
// median pull time with Nelder–Mead (gonum/optimize) from start, in log
// space. Every evaluation uses the same seeds, so the objective is
// deterministic.
func FitPulls(base *scenarios.Scenario, cases []*PullCase, start PullParams, runs, maxEvals int) (PullParams, float64, error) {
	x, f, err := minimizeLog(start.vector(), maxEvals, func(x []float64) (float64, error) {
		if err := ComparePulls(pullParamsFrom(x).Apply(base), cases, runs); err != nil {
			return 0, err
		}
		return PullError(cases, pullFitQuantiles), nil
	})
	if err != nil {
		return PullParams{}, 0, err
	}
	return pullParamsFrom(x), f, nil
}
