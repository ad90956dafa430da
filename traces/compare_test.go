package traces

import (
	"math"
	"strings"
	"testing"
)

func TestKSDistance(t *testing.T) {
	for _, c := range []struct {
		a, b []float64
		want float64
	}{
		{[]float64{1, 2, 3}, []float64{3, 2, 1}, 0},
		{[]float64{1, 2}, []float64{5, 6, 7}, 1},
		// ECDFs at 1, 2, 3, 4: (1/3, 0), (2/3, 1/3), (1, 2/3), (1, 1).
		{[]float64{1, 2, 3}, []float64{2, 3, 4}, 1.0 / 3},
		// Ties across samples: at 1 both jump (2/3 against 1/2); at 2
		// a reaches 1 while b stays at 1/2.
		{[]float64{1, 1, 2}, []float64{1, 3}, 0.5},
	} {
		if got := KSDistance(c.a, c.b); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("KS(%v, %v) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
	if !math.IsNaN(KSDistance(nil, []float64{1})) {
		t.Error("KS of an empty sample is not NaN")
	}
}

func TestJobKey(t *testing.T) {
	if got := JobKey("default/lammps-0 x"); got != "default.lammps-0.x" {
		t.Errorf("JobKey = %q", got)
	}
}

// twoJobs builds a trace of two jobs of two pods each on nodes given
// per pod, with submit, all-pods-running and end times.
func twoJobs(nodes [4]string, times [2][3]float64) *Trace {
	tr := &Trace{}
	for k, id := range []string{"ns/a", "ns/b"} {
		for i := range 2 {
			p, _ := tr.Pod("ns", id[3:]+"-"+string(rune('0'+i)))
			p.Job, p.Node = id, nodes[2*k+i]
			p.Created, p.Started, p.Finished = times[k][0], times[k][1], times[k][2]
		}
	}
	tr.Link("Job")
	return tr
}

func TestCompare(t *testing.T) {
	rec := twoJobs([4]string{"n1", "n1", "n2", "n3"}, [2][3]float64{{0, 10, 110}, {5, 25, 65}})
	sim := twoJobs([4]string{"n1", "n2", "n2", "n3"}, [2][3]float64{{0, 12, 112}, {5, 20, 80}})
	c := Compare(rec, sim)
	if c.Matched != 2 {
		t.Fatalf("matched %d jobs, want 2", c.Matched)
	}
	// Start-ups: a 10 → 12, b 20 → 15; errors +2 and −5.
	if c.Startup.N != 2 || math.Abs(c.Startup.Mean-(-1.5)) > 1e-9 || math.Abs(c.Startup.MAE-3.5) > 1e-9 {
		t.Errorf("start-up errors %+v, want mean −1.5, MAE 3.5", c.Startup)
	}
	// Run times: a 100 → 100, b 40 → 60.
	if math.Abs(c.RunTime.MAE-10) > 1e-9 || math.Abs(c.RunTime.MAPE-25) > 1e-9 {
		t.Errorf("run-time errors %+v, want MAE 10, MAPE 25%%", c.RunTime)
	}
	// Baseline: a's start-up 10 predicted by b's 20, b's 20 by a's 10;
	// run times 100 by 40 and 40 by 100.
	if c.StartupBaseline.MAE != 10 || c.RunTimeBaseline.MAE != 60 {
		t.Errorf("baselines %+v %+v, want start-up MAE 10, run-time MAE 60", c.StartupBaseline, c.RunTimeBaseline)
	}
	// Makespans: 0 → 110 recorded, 0 → 112 simulated.
	if c.RecordedMakespan != 110 || c.SimulatedMakespan != 112 || math.Abs(c.MakespanError-2.0/110) > 1e-12 {
		t.Errorf("makespans %v, %v (error %v), want 110, 112", c.RecordedMakespan, c.SimulatedMakespan, c.MakespanError)
	}
	// Job a: 2 pods on one node recorded, spread on two simulated; job
	// b: spread on both sides.
	if c.Placed != 2 || c.PlacementAgreement != 0.5 || c.DistinctNodesMAE != 0.5 {
		t.Errorf("placement agreement %v, distinct MAE %v over %d jobs; want 0.5, 0.5, 2", c.PlacementAgreement, c.DistinctNodesMAE, c.Placed)
	}
	// Start-ups {10, 20} against {12, 15}: ECDF gap 1/2 between 15 and 20.
	if c.KS != 0.5 {
		t.Errorf("KS %v, want 0.5", c.KS)
	}
	if !strings.Contains(c.Text(), "2 matched") || strings.Count(c.CSV(), "\n") != 3 {
		t.Errorf("text or CSV incomplete:\n%s\n%s", c.Text(), c.CSV())
	}
}

func TestSummarize(t *testing.T) {
	tr := twoJobs([4]string{"n1", "n1", "n2", ""}, [2][3]float64{{0, 10, 110}, {50, 60, NaN}})
	s := Summarize(tr)
	if s.Jobs != 2 || s.Pods != 4 || s.NodesUsed != 2 || s.Missing["pod node"] != 1 || s.Missing["pod finish time"] != 2 {
		t.Errorf("summary %+v", s)
	}
	if s.Gap != 50 || s.First != 0 || s.Last != 110 {
		t.Errorf("gap %v first %v last %v; want 50, 0, 110", s.Gap, s.First, s.Last)
	}
}

// Files of one trace must share a time base: an SWF trace (seconds from
// its start) does not join a pod dump (wall-clock times), in either
// order, while a node dump (no times) joins either.
func TestOpenRefusesMixedTimeBases(t *testing.T) {
	swf := "testdata/swf/small.swf"
	pods := "testdata/kube/pods-list.json"
	nodes := "testdata/kube/nodes-list.json"
	for _, c := range []struct {
		files []string
		ok    bool
	}{
		{[]string{swf, pods}, false},
		{[]string{pods, swf}, false},
		{[]string{swf, nodes}, true},
		{[]string{nodes, swf}, true},
		{[]string{pods, nodes}, true},
	} {
		tr, err := Open(c.files, "")
		if c.ok != (err == nil) {
			t.Errorf("%v: error %v, want ok=%v", c.files, err, c.ok)
			continue
		}
		if err != nil && !strings.Contains(err.Error(), "cannot be read as one trace") {
			t.Errorf("%v: error %q does not say why", c.files, err)
		}
		if err == nil && tr.Relative != (c.files[0] == swf || c.files[1] == swf) {
			t.Errorf("%v: relative %v", c.files, tr.Relative)
		}
	}
}
