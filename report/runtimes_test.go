package report

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/convergesim/converge/engine"
)

// runtimeRun: one workload "lmp" in two runtimes (bare: two jobs of 10 s
// and 14 s; unet: one job of 30 s), one in a single runtime whose job
// never finished, and a job with no runtime (left out of the table).
func runtimeRun() *engine.Result {
	n := fixtureNodes()[0]
	req := engine.Resources{MilliCPU: 1000, Pods: 1}
	var jobs []*engine.Job
	var pods []*engine.Pod
	add := func(name, workload, rt string, start, run float64, phases ...engine.Phase) {
		j := &engine.Job{ID: len(jobs), Name: name, Workload: workload, Runtime: rt, Kind: engine.KindIndexedJob,
			Parallelism: 1, Completions: 1, Submitted: start - 1, Finished: start + run, Started: start, Phases: phases}
		if math.IsNaN(run) {
			j.Finished = nan
		}
		pods = append(pods, pod(len(pods), name+"-0", j, 0, n, req, start-1, start-0.5, start-0.5, start-0.25, start, start, j.Finished))
		jobs = append(jobs, j)
	}
	add("lmp-bare-0", "lmp", "bare", 10, 10, engine.Phase{Name: "compute", Seconds: 8}, engine.Phase{Name: "comm", Seconds: 2})
	add("lmp-bare-1", "lmp", "bare", 30, 14, engine.Phase{Name: "compute", Seconds: 10}, engine.Phase{Name: "comm", Seconds: 4})
	add("lmp-unet-0", "lmp", "bare-metal-with-usernetes", 50, 30, engine.Phase{Name: "compute", Seconds: 12}, engine.Phase{Name: "comm", Seconds: 18})
	add("stuck", "stuck", "bare", 90, nan)
	add("plain", "plain", "", 95, 1)
	return &engine.Result{Seed: 1, Policy: "t", Cluster: &engine.Cluster{Nodes: fixtureNodes()}, Jobs: jobs, Pods: pods, End: 100}
}

func TestSummarizeRuntimes(t *testing.T) {
	s := Summarize(runtimeRun())
	if len(s.Runtimes) != 3 {
		t.Fatalf("%d runtime rows, want 3 (lmp bare, lmp unet, stuck bare): %+v", len(s.Runtimes), s.Runtimes)
	}
	bare, unet, stuck := s.Runtimes[0], s.Runtimes[1], s.Runtimes[2]
	// bare: mean (10+14)/2 = 12; unet 30 → ratio 30/12 = 2.5.
	if bare.Workload != "lmp" || bare.Runtime != "bare" || bare.Jobs != 2 || bare.RunTime.Mean != 12 || bare.Ratio != 1 {
		t.Errorf("bare = %+v", bare)
	}
	if unet.Jobs != 1 || unet.RunTime.Mean != 30 || unet.Ratio != 2.5 {
		t.Errorf("unet = %+v, want mean 30, ratio 2.5", unet)
	}
	// Phases are means over the finished jobs: compute (8+10)/2 = 9, comm 3.
	if len(bare.Phases) != 2 || bare.Phases[0] != (engine.Phase{Name: "compute", Seconds: 9}) || bare.Phases[1] != (engine.Phase{Name: "comm", Seconds: 3}) {
		t.Errorf("bare phases %+v, want compute 9, comm 3", bare.Phases)
	}
	if stuck.Jobs != 0 || !math.IsNaN(stuck.Ratio) {
		t.Errorf("stuck = %+v, want no finished job and no ratio", stuck)
	}

	var b bytes.Buffer
	if err := WriteSummaryText(&b, runtimeRun(), Meta{}); err != nil {
		t.Fatal(err)
	}
	text := b.String()
	for _, want := range []string{
		"Run time by runtime (seconds)",
		"\n  lmp\n",
		"    bare                               2    12.000    10.000    14.000     1.000  compute 9.000, comm 3.000\n",
		"    bare-metal-with-usernetes          1    30.000    30.000    30.000     2.500  compute 12.000, comm 18.000\n",
		"    bare                               0         -         -         -         -\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("summary lacks %q:\n%s", want, text)
		}
	}
}
