package scenarios

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/traces"
)

// traceScenario is a scenario replaying testdata/trace files under a
// policy, on a cluster of 4 nodes of 4 cores.
func traceScenario(t *testing.T, policy, trace string, extra ...string) *Scenario {
	t.Helper()
	doc := `version: 1
name: replay
cluster:
  pools:
    - {name: node, count: 4, cpu: 4, memory: 16Gi}
policy: {name: ` + policy + `}
workloads:
  - name: trace
    trace: {files: [` + trace + `]}
` + strings.Join(extra, "\n")
	return mustParse(t, filepath.Join("testdata", "trace", "replay.yaml"), doc)
}

// The SWF jobs arrive when they were submitted (relative to the first),
// ask for their processors as Flux slots, and run their recorded time.
func TestTraceWorkloadReplaysArrivalsAndRunTimes(t *testing.T) {
	sc := traceScenario(t, "flux", "four.swf")
	rec, err := traces.Open([]string{filepath.Join("testdata", "trace", "four.swf")}, "")
	if err != nil {
		t.Fatal(err)
	}
	res := mustRun(t, sc)
	if len(res.Jobs) != len(rec.Jobs) {
		t.Fatalf("%d jobs simulated, %d recorded", len(res.Jobs), len(rec.Jobs))
	}
	origin := rec.Jobs[0].Submit
	for i, j := range res.Jobs {
		r := rec.Jobs[i]
		if j.Name != traces.JobKey(r.ID) {
			t.Errorf("job %d named %s, want %s", i, j.Name, traces.JobKey(r.ID))
		}
		if j.Submitted != r.Submit-origin {
			t.Errorf("job %s submitted at %v, want %v", j.Name, j.Submitted, r.Submit-origin)
		}
		if j.Kind != engine.KindFluxJob || j.Flux.Slots != r.Tasks || j.Flux.Walltime != r.Walltime {
			t.Errorf("job %s: kind %v, %d slots, walltime %v; want a FluxJob of %d slots, walltime %v", j.Name, j.Kind, j.Flux.Slots, j.Flux.Walltime, r.Tasks, r.Walltime)
		}
		// The job ran its recorded run time (shell start to finish).
		if got := j.Finished - j.Started; math.Abs(got-r.Duration()) > 1e-6 {
			t.Errorf("job %s ran %v s, recorded %v s", j.Name, got, r.Duration())
		}
	}
	// Job 2 asks for all 16 cores: under fcfs it waits for job 1 (8
	// cores, until 50 s after its start) and blocks job 3 behind it.
	j1, j2, j3 := res.Jobs[0], res.Jobs[1], res.Jobs[2]
	if !(j2.Flux.Alloc >= j1.Finished && j3.Flux.Alloc >= j2.Flux.Alloc) {
		t.Errorf("fcfs order broken: job 1 ends %v, job 2 allocated %v, job 3 allocated %v", j1.Finished, j2.Flux.Alloc, j3.Flux.Alloc)
	}
}

// The size estimate bounds the pods a replay creates, so that --max-pods
// and --max-memory refuse a trace too large to replay before it runs: a
// Flux job of slots without nodes (SWF's processors) has one shell per
// node of R, at most one a slot and one a node of the cluster; a
// Kubernetes job its pods.
func TestTraceEstimateCountsPods(t *testing.T) {
	for _, tc := range []struct{ policy, trace string }{{"flux", "four.swf"}, {"kube", "pods.json"}} {
		sc := traceScenario(t, tc.policy, tc.trace)
		est := Estimate(sc)
		res := mustRun(t, sc)
		pods := int64(len(res.Pods))
		bound := pods
		if tc.policy == "flux" {
			bound = 0
			for _, j := range res.Jobs {
				bound += int64(min(j.Flux.Slots, len(res.Cluster.Nodes)))
			}
			if bound <= pods {
				t.Fatalf("%s: no job's slots share a node (%d shells, at most %d): the test does not tell shells from slots", tc.trace, pods, bound)
			}
		}
		// The estimate takes a whole number of pods a job, rounded up.
		if est.Jobs != int64(len(res.Jobs)) || est.Pods < bound || est.Pods >= bound+est.Jobs {
			t.Errorf("%s: estimate %d jobs, %d pods; the replay made %d jobs, %d pods, at most %d", tc.trace, est.Jobs, est.Pods, len(res.Jobs), pods, bound)
		}
	}
}

// Kubernetes pods replay as their jobs, with their recorded requests,
// and a replay is deterministic.
func TestTraceWorkloadPods(t *testing.T) {
	sc := traceScenario(t, "kube", "pods.json")
	res := mustRun(t, sc)
	if len(res.Jobs) != 2 || len(res.Pods) != 3 {
		t.Fatalf("%d jobs and %d pods simulated, want 2 and 3", len(res.Jobs), len(res.Pods))
	}
	for _, p := range res.Pods {
		want := int64(2000)
		if strings.HasPrefix(p.Job.Name, "default.b") {
			want = 4000
		}
		if p.Requests.MilliCPU != want {
			t.Errorf("pod %s asks for %d mCPU, want %d (recorded)", p.Name, p.Requests.MilliCPU, want)
		}
	}
	// Job a's two pods form a group: a gang scheduler would see them.
	if g := res.Jobs[0].Group; g == nil || g.MinMember != 2 {
		t.Errorf("job a's group %+v, want minMember 2", g)
	}
	again := mustRun(t, traceScenario(t, "kube", "pods.json"))
	a, b := traces.FromResult(res), traces.FromResult(again)
	var x, y bytes.Buffer
	f, _ := traces.LookupFormat("jobs-csv")
	if err := f.Write(&x, a); err != nil {
		t.Fatal(err)
	}
	if err := f.Write(&y, b); err != nil {
		t.Fatal(err)
	}
	if x.String() != y.String() {
		t.Error("two replays of one trace differ")
	}
}

func TestTraceWorkloadErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.swf")
	if err := os.WriteFile(bad, []byte("1 0 0 10 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, trace string
		extra       []string
		want        []string
	}{
		{"missing file", "files: [nothere.swf]", nil, []string{"workloads[0].trace.files", "nothere.swf"}},
		{"not a trace", "files: [" + bad + "]", nil, []string{"workloads[0].trace.files", "bad.swf", "--format"}},
		{"broken trace", "files: [" + bad + "], format: swf", nil, []string{"workloads[0].trace.files", "bad.swf:1"}},
		{"a kind for every job", "files: [four.swf]", []string{"    kind: FluxJob"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			doc := `version: 1
cluster: {pools: [{name: node, count: 4, cpu: 4, memory: 16Gi}]}
policy: {name: flux}
workloads:
  - name: trace
    trace: {` + c.trace + `}
` + strings.Join(c.extra, "\n") + "\n"
			_, err := Parse(filepath.Join("testdata", "trace", "x.yaml"), []byte(doc), Overrides{})
			if c.want == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
		})
	}
	for _, c := range []struct{ field, value, want string }{
		{"runTime", "guess", "workloads[0].trace.runTime"},
		{"format", "nope", "workloads[0].trace.format"},
		{"runTime", "model", "needs the workload's app model"},
	} {
		doc := `version: 1
cluster: {pools: [{name: node, count: 4, cpu: 4, memory: 16Gi}]}
policy: {name: flux}
workloads:
  - name: trace
    trace: {files: [four.swf], ` + c.field + `: ` + c.value + `}
`
		_, err := Parse(filepath.Join("testdata", "trace", "x.yaml"), []byte(doc), Overrides{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("trace.%s: %s: error %v, want one naming %q", c.field, c.value, err, c.want)
		}
	}
	// A Kubernetes trace under Flux without Usernetes is refused.
	doc := `version: 1
cluster: {pools: [{name: node, count: 4, cpu: 4, memory: 16Gi}]}
policy: {name: flux}
workloads:
  - name: trace
    trace: {files: [pods.json]}
`
	if _, err := Parse(filepath.Join("testdata", "trace", "x.yaml"), []byte(doc), Overrides{}); err == nil || !strings.Contains(err.Error(), "policy flux") {
		t.Errorf("pods under flux: error %v, want one about policy flux", err)
	}
}

// Under a Kubernetes scheduler an SWF job of P processors replays as an
// Indexed Job of P one-cpu pods in one pod group (its workers, which a
// gang plugin places together), each running the recorded time: not one
// pod that asks for nothing and runs anywhere at once.
func TestTraceSWFUnderKubeOnePodATask(t *testing.T) {
	rec, err := traces.Open([]string{filepath.Join("testdata", "trace", "four.swf")}, "")
	if err != nil {
		t.Fatal(err)
	}
	res := mustRun(t, traceScenario(t, "kube", "four.swf"))
	if len(res.Jobs) != len(rec.Jobs) {
		t.Fatalf("%d jobs simulated, %d recorded", len(res.Jobs), len(rec.Jobs))
	}
	wide := false
	for i, j := range res.Jobs {
		r := rec.Jobs[i]
		if j.Kind != engine.KindIndexedJob || len(j.Pods) != r.Tasks || j.Completions != r.Tasks {
			t.Errorf("job %s: %v of %d pods (%d completions), want an Indexed Job of %d pods", j.Name, j.Kind, len(j.Pods), j.Completions, r.Tasks)
			continue
		}
		if r.Tasks > 1 && (j.Group == nil || j.Group.MinMember != r.Tasks) {
			t.Errorf("job %s: pod group %+v, want one of min member %d", j.Name, j.Group, r.Tasks)
		}
		for _, p := range j.Pods {
			if p.Requests.MilliCPU != 1000 {
				t.Errorf("job %s: pod %s asks for %d millicores, want one cpu (an SWF processor)", j.Name, p.Name, p.Requests.MilliCPU)
				break
			}
		}
		wide = wide || r.Tasks > 1
	}
	if !wide {
		t.Fatal("four.swf has no job of several processors: the test does not tell pods from tasks")
	}
}

// simulatedAs writes a simulated run's trace in format and reads the file
// back (format detected, as sim replay would), failing the test on any
// error and unless every job comes back.
func simulatedAs(t *testing.T, res *engine.Result, format string) *traces.Trace {
	t.Helper()
	var buf bytes.Buffer
	f, _ := traces.LookupFormat(format)
	if err := f.Write(&buf, traces.FromResult(res)); err != nil {
		t.Fatalf("%s: %v", format, err)
	}
	path := filepath.Join(t.TempDir(), "out")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	back, err := traces.Open([]string{path}, "")
	if err != nil {
		t.Fatalf("%s: %v", format, err)
	}
	if len(back.Jobs) != len(res.Jobs) {
		t.Fatalf("%s: %d jobs read back, %d simulated", format, len(back.Jobs), len(res.Jobs))
	}
	return back
}

// A simulated Flux run written as SWF gives each job the processors R
// gave it (allocated processors), read back as they were written: four.swf
// replayed on nodes of 4 cores, its jobs of one-core tasks allocate as
// many processors as they asked for.
func TestSimulatedSWFAllocatedProcessors(t *testing.T) {
	res := mustRun(t, traceScenario(t, "flux", "four.swf"))
	for i, j := range simulatedAs(t, res, "swf").Jobs {
		if want := res.Jobs[i].Flux.Slots; j.Procs != want || j.Tasks != want {
			t.Errorf("job %s: %d allocated and %d requested processors read back, want %d of each", j.ID, j.Procs, j.Tasks, want)
		}
	}
}

// A simulated Flux run's event trace (converge-events) says what each job
// asked for: read back, every job has the request it was simulated with
// (tasks, nodes, cores per task, walltime), so a replay of it asks for the
// same.
func TestSimulatedFluxEventsRoundTrip(t *testing.T) {
	res := mustRun(t, traceScenario(t, "flux", "four.swf"))
	for i, j := range simulatedAs(t, res, "converge-events").Jobs {
		f := res.Jobs[i].Flux
		if j.Kind != "FluxJob" || j.Tasks != f.Slots || j.Nodes != f.Nodes || j.CoresPerTask != f.CoresPerSlot || j.Walltime != f.Walltime {
			t.Errorf("job %s read back: %s, %d tasks on %d nodes of %d cores, walltime %v; simulated %+v", j.ID, j.Kind, j.Tasks, j.Nodes, j.CoresPerTask, j.Walltime, *f)
		}
	}
}

// A simulated run's Flux exports read back whole: Flux takes a time of 0
// for unset, so the writers count a run's seconds from
// traces.FluxRelativeEpoch, and the job submitted at the run's start keeps
// its submit time (the arrivals, relative to the first, are the run's).
func TestSimulatedFluxExportsReadBack(t *testing.T) {
	res := mustRun(t, traceScenario(t, "flux", "four.swf"))
	if res.Jobs[0].Submitted != 0 {
		t.Fatalf("first job submitted at %v: the test needs one at the run's start", res.Jobs[0].Submitted)
	}
	for _, format := range []string{"flux-jobs", "flux-eventlog"} {
		back := simulatedAs(t, res, format)
		for i, j := range back.Jobs {
			if got, want := j.Submit-back.Jobs[0].Submit, res.Jobs[i].Submitted; !traces.Known(j.Submit) || math.Abs(got-want) > 1e-6 {
				t.Errorf("%s: job %s submitted %v after the first, simulated %v", format, j.ID, got, want)
			}
			if j.Submit < traces.FluxRelativeEpoch {
				t.Errorf("%s: job %s submitted at %v, before the epoch the writers count from", format, j.ID, j.Submit)
			}
		}
	}
}

// A recorded job's tasks shared over fewer pods round up: 17 one-core
// tasks on 2 nodes ask for 9 cores a pod, so the pods hold every task.
func TestPodRequestRoundsUp(t *testing.T) {
	for _, c := range []struct {
		tasks, cores, pods int
		want               int64
	}{{17, 1, 2, 9000}, {16, 1, 2, 8000}, {8, 2, 8, 2000}, {3, 0, 4, 1000}} {
		got := podRequest(nil, &traces.Job{Tasks: c.tasks, CoresPerTask: c.cores}, c.pods)
		if got.MilliCPU != c.want {
			t.Errorf("%d tasks of %d cores on %d pods: %d millicores a pod, want %d", c.tasks, c.cores, c.pods, got.MilliCPU, c.want)
		}
	}
}

// A Kubernetes job replayed as a Flux job (kind: FluxJob) asks for a
// task a worker pod with the cores its pod asked for, so the what-if
// under Flux holds what the pods held: pods.json's job a, two pods of 2
// cpu, is two tasks of 2 cores; job b one task of 4.
func TestKubeTraceAsFluxJobs(t *testing.T) {
	res := mustRun(t, traceScenario(t, "flux", "pods.json", "    kind: FluxJob"))
	want := map[string][2]int{"a": {2, 2}, "b": {1, 4}} // tasks, cores per task
	seen := 0
	for _, j := range res.Jobs {
		for key, w := range want {
			if strings.HasPrefix(j.Name, "default."+key) {
				seen++
				if j.Flux == nil || j.Flux.Slots != w[0] || j.Flux.CoresPerSlot != w[1] {
					t.Errorf("job %s: %+v, want %d tasks of %d cores", j.Name, j.Flux, w[0], w[1])
				}
			}
		}
	}
	if seen != 2 {
		t.Fatalf("%d of pods.json's jobs a and b replayed", seen)
	}
}

// A Kubernetes trace replayed under flux without a kind is refused at the
// workload's kind, and the error says how to replay its jobs as Flux jobs.
func TestKubeTraceUnderFluxSaysHow(t *testing.T) {
	doc := `version: 1
name: replay
cluster:
  pools:
    - {name: node, count: 4, cpu: 4, memory: 16Gi}
policy: {name: flux}
workloads:
  - name: trace
    trace: {files: [pods.json]}
`
	_, err := Parse(filepath.Join("testdata", "trace", "replay.yaml"), []byte(doc), Overrides{IgnoreEnv: true})
	if err == nil || !strings.Contains(err.Error(), "workloads[0].kind") || !strings.Contains(err.Error(), "workloads[0].kind=FluxJob") {
		t.Errorf("error %v, want one at workloads[0].kind saying how to replay as Flux jobs", err)
	}
}

// Flux job shells are not Kubernetes pods: a simulated Flux run written
// as kubectl's pod list or as Kubernetes events lists none of them.
func TestFluxShellsNotKubernetesPods(t *testing.T) {
	res := mustRun(t, traceScenario(t, "flux", "four.swf"))
	if len(res.Pods) == 0 {
		t.Fatal("the run has no shells: the test cannot tell")
	}
	for _, format := range []string{"kube-pods", "kube-events"} {
		var buf bytes.Buffer
		f, _ := traces.LookupFormat(format)
		if err := f.Write(&buf, traces.FromResult(res)); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(buf.String(), `"Pod"`) || strings.Contains(buf.String(), "four.swf") || strings.Contains(buf.String(), res.Pods[0].Name) {
			t.Errorf("%s lists Flux job shells:\n%.400s", format, buf.String())
		}
	}
}
