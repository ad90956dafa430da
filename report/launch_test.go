package report

import (
	"strings"
	"testing"

	"github.com/convergesim/converge/engine"
)

type fixedRun struct{}

func (fixedRun) RunTime([]engine.NodeShare) (engine.RunResult, error) { return engine.RunResult{}, nil }

// TestLaunchedJobs: a job a launcher started has its launch (gate →
// application start) and application run time in the summary, its
// launcher pod in its first wave, and jobs.csv's app columns; a run
// without such jobs shows neither row.
func TestLaunchedJobs(t *testing.T) {
	res := fixture(false)
	if s := Summarize(res); s.JobLaunch.Count != 0 || strings.Contains(string(renderSummary(res, Meta{}, s)), "job launch") {
		t.Fatalf("a run without launchers reports launches: %+v", s.JobLaunch)
	}
	n := res.Cluster.Nodes[0]
	j := &engine.Job{ID: 2, Name: "mj", Workload: "mj", Kind: engine.KindMPIJob, Parallelism: 1, Completions: 1,
		Submitted: 20, Started: 24, Finished: 50, Launch: 9, Shutdown: 2, RunModel: fixedRun{},
		Operator: &engine.Operator{Created: []float64{0}, Launcher: &engine.LauncherPod{}}}
	r := engine.Resources{MilliCPU: 500, Memory: engine.GiB, Pods: 1}
	pod(3, "mj-worker-0", j, 0, n, r, 20, 20.5, 20.75, 21, 22, 22, 50)
	pod(4, "mj-launcher", j, -1, n, r, 21, 21.5, 21.75, 22, 24, 24, 50).Launcher = true
	res.Jobs = append(res.Jobs, j)
	res.Pods = append(res.Pods, j.Pods...)

	m := MeasureJob(j)
	if m.AllStarted != 24 || m.AllScheduled != 21.75 {
		t.Errorf("first wave started %v, scheduled %v; want the launcher's 24 and 21.75", m.AllStarted, m.AllScheduled)
	}
	s := Summarize(res)
	launch, app := j.Launch, j.Finished-j.Shutdown-(j.Started+j.Launch)
	checkStats(t, "job launch", s.JobLaunch, Stats{1, launch, launch, launch, launch, launch, launch})
	checkStats(t, "job application run time", s.JobAppRunTime, Stats{1, app, app, app, app, app, app})
	if !s.Complete || s.PodsNeverCreated != 0 {
		t.Errorf("complete %v, pods never created %d; want true, 0", s.Complete, s.PodsNeverCreated)
	}
	text := string(renderSummary(res, Meta{}, s))
	for _, want := range []string{"job launch (to app start)", "job application run time"} {
		if !strings.Contains(text, want) {
			t.Errorf("summary has no %q row", want)
		}
	}
	var b strings.Builder
	if err := writeJobs(&b, res); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "2,mj,mj,,MPIJob,") || !strings.HasSuffix(last, ",33.000000,48.000000") {
		t.Errorf("jobs.csv row %q: want kind MPIJob, app_started 33, app_finished 48", last)
	}
}
