package calibrate

import (
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/report"
	"github.com/convergesim/converge/scenarios"
	"github.com/convergesim/converge/traces"
)

var fitPulls = flag.Bool("fitpulls", false, "refit the image-pull parameters and print them")

const pullDataPath = "../../../shared/data/pod-startup/lammps-pull-times.csv"

// The fitted series: GKE, metric-lammps-cpu:zen4, one cluster per size.
const (
	pullCloud     = "google"
	pullContainer = "ghcr.io/converged-computing/metric-lammps-cpu:zen4"
)

func loadPullSeries(t *testing.T) []*PullSeries {
	t.Helper()
	f, err := os.Open(pullDataPath)
	if err != nil {
		t.Skipf("calibration data not available (%v); it lives in ../shared/data beside the repository", err)
	}
	defer f.Close()
	rows, err := traces.ReadPullTimes(f, filepath.Base(pullDataPath))
	if err != nil {
		t.Fatal(err)
	}
	return GroupPulls(rows)
}

func loadPullCases(t *testing.T) []*PullCase {
	t.Helper()
	cases := PullCases(loadPullSeries(t), pullCloud, pullContainer, "")
	var sizes []int
	for _, c := range cases {
		sizes = append(sizes, c.Nodes)
	}
	if fmt.Sprint(sizes) != "[32 64 128 256]" {
		t.Fatalf("%s %s: sizes %v, want [32 64 128 256]", pullCloud, pullContainer, sizes)
	}
	return cases
}

func loadPullScenario(t *testing.T) *scenarios.Scenario {
	t.Helper()
	sc, err := scenarios.Load("../image-pull.yaml", scenarios.Overrides{IgnoreEnv: true})
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// pullRuns is the simulated clusters per size (the data has one cluster
// per size, 22–42 of its nodes recorded).
const pullRuns = 4

func pullTable(cases []*PullCase) string {
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
	return b.String()
}

// Bounds on the model error against the data (seconds), just above the
// errors measured with the bundled parameters. The max-min model makes the
// pull time flat and then linear in the node count; the data jump from 64
// to 128 nodes (15.9 → 24.8 s) and then barely grow to 256 (26.4 s), a
// concave shape the model cannot follow, so the fit splits the difference
// and the 128-node cluster stays about 5 s too fast at every quantile. The
// other sizes are within 0.6 s at the median. The 256-node data are
// bimodal (18–22 s and 31–36 s), which the spread of pull start times in
// the simulation (the Job controller creating pods at 20/s) only partly
// reproduces: its p90 is about 5 s short.
const (
	maxPullMeanP50Error = 1.5 // mean over the sizes of the p50 error (measured 1.33)
	maxPullMeanError    = 2.1 // mean over sizes and p10/p50/p90 (measured 1.89)
	maxPullP50Error     = 5.5 // any size's p50 (measured 5.1 at 128 nodes; ≤ 0.2 elsewhere)
	maxPullAnyError     = 6.0 // any size and quantile (measured 5.7, 128 nodes p90)
)

// TestImagePullsAgainstData runs the bundled image-pull scenario at 32, 64,
// 128 and 256 nodes and reports and bounds the error of the per-node pull
// time percentiles against the GKE metric-lammps-cpu:zen4 measurements.
func TestImagePullsAgainstData(t *testing.T) {
	cases := loadPullCases(t)
	sc := loadPullScenario(t)
	if err := ComparePulls(sc, cases, pullRuns); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		for _, q := range PullQuantiles {
			d, s := report.Quantile(q, c.Data), report.Quantile(q, c.Sim)
			e := math.Abs(s - d)
			if e > maxPullAnyError || (q == 0.5 && e > maxPullP50Error) {
				t.Errorf("%d nodes p%g: sim %.1f s vs data %.1f s", c.Nodes, q*100, s, d)
			}
		}
	}
	mae50 := PullError(cases, []float64{0.5})
	mae := PullError(cases, PullQuantiles)
	t.Logf("\n%smean absolute error: p50 %.2f s, p10/p50/p90 %.2f s", pullTable(cases), mae50, mae)
	if mae50 > maxPullMeanP50Error {
		t.Errorf("mean p50 error %.2f s above %v s", mae50, maxPullMeanP50Error)
	}
	if mae > maxPullMeanError {
		t.Errorf("mean p10/p50/p90 error %.2f s above %v s", mae, maxPullMeanError)
	}
}

// pullStarts are the Nelder–Mead starting points of the refit: the
// objective is piecewise smooth with local minima (which sizes are node- or
// registry-limited), so the fit keeps the best of several starts.
var pullStarts = []PullParams{
	{NodeBandwidth: 200 << 20, RegistryBandwidth: 4 << 30, Overhead: 10},
	{NodeBandwidth: 1 << 30, RegistryBandwidth: 20 << 30, Overhead: 5},
	{NodeBandwidth: 50 << 20, RegistryBandwidth: 1 << 30, Overhead: 2},
}

func fitBest(t *testing.T, sc *scenarios.Scenario, cases []*PullCase, starts []PullParams, evals int) (PullParams, float64) {
	t.Helper()
	var best PullParams
	bestF := math.Inf(1)
	for _, s := range starts {
		p, f, err := FitPulls(sc, cases, s, pullRuns, evals)
		if err != nil {
			t.Fatal(err)
		}
		if f < bestF {
			best, bestF = p, f
		}
	}
	if err := ComparePulls(best.Apply(sc), cases, pullRuns); err != nil {
		t.Fatal(err)
	}
	return best, bestF
}

// TestFitImagePulls refits the parameters (go test ./scenarios/calibrate
// -run TestFitImagePulls -fitpulls -v) and prints them for
// scenarios/image-pull.yaml; then, for comparison, fits every other series
// of the file that has at least two cluster sizes with the same model (same
// image size, so only how pull time grows with the cluster is tested) and
// reports how well each can be matched.
func TestFitImagePulls(t *testing.T) {
	if !*fitPulls {
		t.Skip("refit with -fitpulls")
	}
	series := loadPullSeries(t)
	cases := loadPullCases(t)
	sc := loadPullScenario(t)
	p, f := fitBest(t, sc, cases, pullStarts, 400)
	t.Logf("fitted %v, objective %.3f s (mean abs error of the medians)\n%s", p, f, pullTable(cases))

	type key struct{ cloud, container, variant string }
	seen := map[key]bool{{pullCloud, pullContainer, ""}: true}
	var b strings.Builder
	for _, s := range series {
		k := key{s.Cloud, s.Container, s.Variant}
		if seen[k] {
			continue
		}
		seen[k] = true
		other := PullCases(series, s.Cloud, s.Container, s.Variant)
		if len(other) < 2 {
			continue
		}
		q, g := fitBest(t, sc, other, []PullParams{p, pullStarts[1], pullStarts[2]}, 200)
		var sizes, data, sim []string
		for _, c := range other {
			sizes = append(sizes, fmt.Sprint(c.Nodes))
			data = append(data, fmt.Sprintf("%.1f", report.Quantile(0.5, c.Data)))
			sim = append(sim, fmt.Sprintf("%.1f", report.Quantile(0.5, c.Sim)))
		}
		name := s.Cloud + " " + s.Container[strings.LastIndex(s.Container, "/")+1:]
		if s.Variant != "" {
			name += " (" + s.Variant + ")"
		}
		fmt.Fprintf(&b, "%-52s sizes %-16s data p50 %-28s sim p50 %-28s mean abs error %5.2f s  [%v]\n",
			name, strings.Join(sizes, ","), strings.Join(data, ","), strings.Join(sim, ","), g, q)
	}
	t.Logf("other series, each fitted on its own:\n%s", b.String())
}

// TestSimulatePullsOnePerNode checks the variant (needs no data): one pod
// per node, every pod pulls, a pull takes at least the transfer at the
// registry's fair share plus most of the overhead.
func TestSimulatePullsOnePerNode(t *testing.T) {
	sc := loadPullScenario(t)
	for _, n := range []int{1, 16} {
		got, err := SimulatePulls(sc, n, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != n {
			t.Fatalf("%d nodes: %d pulls", n, len(got))
		}
		size := float64(sc.Workloads[0].Pod.Containers[0].ImageSize)
		rate := min(float64(*sc.Startup.NodeBandwidth), float64(*sc.Startup.RegistryBandwidth)/float64(n))
		overhead := sc.Startup.PullOverhead.D.(engine.LogNormal).Median
		if lo := size/rate + 0.8*overhead; got[0] < lo {
			t.Errorf("%d nodes: fastest pull %.2f s, below %.2f s", n, got[0], lo)
		}
	}
}

func TestGroupPulls(t *testing.T) {
	const header = ",event,duration,container,cloud,environment,exp_size,exp_type,experiment\n"
	rows, err := traces.ReadPullTimes(strings.NewReader(header+
		"1,pulled,14.5,img:a,google,gke,size32,cpu,google/gke/cpu/size32\n"+
		"2,pulled,16,img:a,google,gke,size64-placement,cpu,google/gke/cpu/size64-placement\n"+
		"3,pulled,12.5,img:a,google,gke,size32,cpu,google/gke/cpu/size32\n"), "t.csv")
	if err != nil {
		t.Fatal(err)
	}
	series := GroupPulls(rows)
	if len(series) != 2 || series[0].ExpSize != "size32" || fmt.Sprint(series[0].Durations) != "[12.5 14.5]" {
		t.Fatalf("series %+v", series)
	}
	if c := PullCases(series, "google", "img:a", ""); len(c) != 1 || c[0].Nodes != 32 {
		t.Fatalf("cases %+v", c)
	}
}
