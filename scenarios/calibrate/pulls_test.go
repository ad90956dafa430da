package calibrate

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convergesim/converge/scenarios"
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
	rows, err := ReadPullTimes(f, filepath.Base(pullDataPath))
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
			d[i], s[i] = Quantile(q, c.Data), Quantile(q, c.Sim)
			e[i] = abs(s[i] - d[i])
		}
		fmt.Fprintf(&b, "%5d %5d | %6.1f %6.1f %6.1f  | %6.1f %6.1f %6.1f  | %4.1f %4.1f %4.1f\n",
			c.Nodes, len(c.Data), d[0], d[1], d[2], s[0], s[1], s[2], e[0], e[1], e[2])
	}
	return b.String()
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// TestImagePullsAgainstData runs the bundled image-pull scenario at 32, 64,
// 128 and 256 nodes and reports and bounds the error of the per-node pull
// time percentiles against the GKE metric-lammps-cpu:zen4 measurements.
func TestImagePullsAgainstData(t *testing.T) {
	cases := loadPullCases(t)
	sc := loadPullScenario(t)
	if err := ComparePulls(sc, cases, pullRuns); err != nil {
		t.Fatal(err)
	}
	mae50 := PullError(cases, []float64{0.5})
	mae := PullError(cases, PullQuantiles)
	t.Logf("\n%smean absolute error: p50 %.2f s, p10/p50/p90 %.2f s", pullTable(cases), mae50, mae)
}

// TestFitImagePulls refits the parameters (go test -run TestFitImagePulls
// -fitpulls -v ./scenarios/calibrate) and prints them for
// scenarios/image-pull.yaml.
func TestFitImagePulls(t *testing.T) {
	if !*fitPulls {
		t.Skip("refit with -fitpulls")
	}
	cases := loadPullCases(t)
	sc := loadPullScenario(t)
	start := PullParams{NodeBandwidth: 400 << 20, RegistryBandwidth: 3 << 30, Overhead: 12}
	p, f, err := FitPulls(sc, cases, start, pullRuns, 400)
	if err != nil {
		t.Fatal(err)
	}
	if err := ComparePulls(p.Apply(sc), cases, pullRuns); err != nil {
		t.Fatal(err)
	}
	t.Logf("fitted %v, objective %.3f s (mean abs error of the medians)\n%s", p, f, pullTable(cases))
}
