package calibrate

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/report"
	"github.com/convergesim/converge/scenarios"
	"github.com/convergesim/converge/traces"
)

const pullDataPath = "../../../shared/data/pod-startup/lammps-pull-times.csv"

// The fitted series: GKE, metric-lammps-cpu:zen4, one cluster per size.
const (
	pullCloud     = "google"
	pullContainer = "ghcr.io/converged-computing/metric-lammps-cpu:zen4"
)

func loadPullCases(t *testing.T) []*PullCase {
	t.Helper()
	skipWithoutData(t, pullDataPath)
	cases, _, err := ReadPullCases(pullDataPath, pullCloud, pullContainer)
	if err != nil {
		t.Fatal(err)
	}
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

// Regression guards on the bundled parameters' IN-SAMPLE error (s):
// three parameters through four medians, so these say how well it fits,
// not how well it predicts (TestImagePullsHeldOut). Each sits just above
// today's figure. The max-min model makes the pull time flat and then
// linear in the node count; the data jump from 64 to 128 nodes (15.9 →
// 24.8 s) and then barely grow to 256 (26.4 s), a concave shape the
// model cannot follow, so the 128-node cluster stays about 5 s too fast.
const (
	maxPullMeanP50Error = 1.4 // mean over the sizes of the p50 error (today 1.33)
	maxPullMeanError    = 2.0 // mean over sizes and p10/p50/p90 (today 1.89)
	maxPullP50Error     = 5.3 // any size's p50 (today 5.1 at 128 nodes; ≤ 0.2 elsewhere)
	maxPullAnyError     = 5.9 // any size and quantile (today 5.7, 128 nodes p90)
)

// TestImagePullsAgainstData runs the bundled image-pull scenario at 32, 64,
// 128 and 256 nodes and reports and guards the in-sample error of the
// per-node pull time percentiles against the GKE metric-lammps-cpu:zen4
// measurements.
func TestImagePullsAgainstData(t *testing.T) {
	cases := loadPullCases(t)
	sc := loadPullScenario(t)
	if err := ComparePulls(sc, cases, PullFull.Runs); err != nil {
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
	t.Log("IN-SAMPLE (the parameters were fitted to these sizes)\n" + PullTable(cases))
	if mae50 > maxPullMeanP50Error {
		t.Errorf("mean p50 error %.2f s above %v s", mae50, maxPullMeanP50Error)
	}
	if mae > maxPullMeanError {
		t.Errorf("mean p10/p50/p90 error %.2f s above %v s", mae, maxPullMeanError)
	}
}

// maxPullHeldOutMAE guards the held-out error of the CI procedure
// (PullCI, leave one cluster size out; today 5.78 s, almost all of it
// the 256-node cluster predicted from the three smaller ones).
const maxPullHeldOutMAE = 6.0

// TestImagePullsHeldOut: each cluster size is predicted by the CI
// procedure (PullStarts, PullCI) fitted on the other three, next to
// naive baselines fitted on the same sizes. The model does not
// extrapolate: the power law in size predicts better (docs/validation.md
// says so); this is checked, so that the docs change when it stops being
// true.
func TestImagePullsHeldOut(t *testing.T) {
	cases := loadPullCases(t)
	sc := loadPullScenario(t)
	cv, err := PullsCV(sc, cases, PullStarts, PullCI)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("CI procedure: %s\n%s", PullCI, cv.Table())
	if cv.MAE > maxPullHeldOutMAE {
		t.Errorf("held-out mean absolute error %.2f s above %v s", cv.MAE, maxPullHeldOutMAE)
	}
	if i := slices.Index(cv.Baselines, PowerLawSizeBaseline.Name); !(cv.BaseMAE[i] < cv.MAE) {
		t.Errorf("the model (%.2f s) now predicts better than the power law in size (%.2f s): update docs/validation.md", cv.MAE, cv.BaseMAE[i])
	}
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
