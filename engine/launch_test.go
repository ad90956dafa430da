package engine_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/engine/enginetest"
)

// launchModel is a RunModel with a launcher's bootstrap: app seconds of
// application, launch before it and shutdown after it.
type launchModel struct {
	app, launch, shutdown float64
	seen                  [][]engine.NodeShare
}

func (m *launchModel) RunTime(pl []engine.NodeShare) (engine.RunResult, error) {
	m.seen = append(m.seen, pl)
	return engine.RunResult{Seconds: m.launch + m.app + m.shutdown, Launch: m.launch, Shutdown: m.shutdown,
		Phases: []engine.Phase{{Name: "launch", Seconds: m.launch}, {Name: "app", Seconds: m.app}, {Name: "shutdown", Seconds: m.shutdown}}}, nil
}

func appTemplate() *engine.PodTemplate {
	t := enginetest.Template("mpi:1", 0)
	t.RunTime = nil
	return t
}

func launcherTemplate() *engine.PodTemplate {
	t := enginetest.Template("mpi:1", 0)
	t.RunTime = nil
	t.Containers[0].MilliCPU = 500
	return t
}

// opJob is an operator job of len(created) workers with a launcher pod
// created as given (nil: no launcher).
func opJob(name string, created []float64, l *engine.LauncherPod, m engine.RunModel) *engine.Job {
	j := &engine.Job{Name: name, Kind: engine.KindMPIJob, Parallelism: len(created), Completions: len(created), Template: appTemplate(),
		RunModel: m, Operator: &engine.Operator{Created: created, Launcher: l}}
	return j
}

func bigNodes(n int) []*engine.Node {
	return enginetest.Nodes(n, engine.Resources{MilliCPU: 8000, Memory: 32 * engine.GiB, Pods: 110})
}

// TestOperatorCreationOffsets: the operator creates each worker at its
// offset after the submission (not the Job controller's slow start), and
// names them as mpi-operator does; a PyTorchJob's first pod is its
// master.
func TestOperatorCreationOffsets(t *testing.T) {
	created := []float64{0, 0.25, 0.5, 2.75}
	for _, master := range []bool{false, true} {
		m := &launchModel{app: 100}
		j := opJob("mj", created, nil, m)
		j.Operator.Master = master
		res := runToEnd(t, enginetest.ExactConfig(bigNodes(2)), &enginetest.FirstFit{}, at(10, j))
		if len(res.Pods) != len(created) {
			t.Fatalf("%d pods, want %d", len(res.Pods), len(created))
		}
		for i, p := range res.Pods {
			want := fmt.Sprintf("mj-worker-%d", i)
			if master {
				want = fmt.Sprintf("mj-worker-%d", i-1)
				if i == 0 {
					want = "mj-master-0"
				}
			}
			if p.Name != want || p.Index != i {
				t.Errorf("pod %d = %s index %d, want %s index %d", i, p.Name, p.Index, want, i)
			}
			eq(t, p.Name+" Created", p.Created, 10+created[i])
		}
		if len(m.seen) != 1 {
			t.Fatalf("RunTime called %d times, want 1", len(m.seen))
		}
		eq(t, "job Finished", j.Finished, j.Started+100)
	}
}

// TestLauncherGatesAndFinishesWithJob: the launcher pod, created at its
// offset (AtStartup), is part of the gate: the program starts when it
// and every worker run; the model prices the workers only; the launcher
// holds its node until the job ends and finishes with it; it counts
// toward no completion.
func TestLauncherGatesAndFinishesWithJob(t *testing.T) {
	m := &launchModel{app: 100}
	j := opJob("mj", []float64{0, 0}, &engine.LauncherPod{Template: launcherTemplate(), Creation: engine.LaunchAtStartup, After: 30}, m)
	res := runToEnd(t, enginetest.ExactConfig(bigNodes(1)), &enginetest.FirstFit{}, at(0, j))
	if len(res.Pods) != 3 {
		t.Fatalf("%d pods, want 3 (2 workers, the launcher)\n%s", len(res.Pods), enginetest.Dump(res))
	}
	l := podByName(t, res, "mj-launcher")
	if !l.Launcher || l.Index != -1 || l.Requests.MilliCPU != 500 {
		t.Errorf("launcher pod: Launcher %v, Index %d, cpu %dm; want true, -1, 500m (its own template)", l.Launcher, l.Index, l.Requests.MilliCPU)
	}
	// The operator creates the launcher Job at 30 s; the Job controller
	// its pod one create call later.
	eq(t, "launcher Created", l.Created, 30+enginetest.CreateLatency)
	w0, w1 := podByName(t, res, "mj-worker-0"), podByName(t, res, "mj-worker-1")
	if !(w0.ContainersStarted < l.ContainersStarted && w1.ContainersStarted < l.ContainersStarted) {
		t.Fatalf("workers started at %v, %v, the launcher at %v: want the launcher last", w0.ContainersStarted, w1.ContainersStarted, l.ContainersStarted)
	}
	eq(t, "job Started (the launcher running)", j.Started, l.ContainersStarted)
	eq(t, "AllStarted", j.AllStarted(), l.ContainersStarted)
	if got, wanted := j.WavePods(), j.PodsWanted(); got != 3 || wanted != 3 {
		t.Errorf("WavePods = %d, PodsWanted = %d, want 3 and 3", got, wanted)
	}
	if len(m.seen) != 1 || len(m.seen[0]) != 1 || m.seen[0][0].Pods != 2 {
		t.Fatalf("placement priced = %+v, want the 2 workers on one node", m.seen)
	}
	for _, p := range res.Pods {
		eq(t, p.Name+" Finished", p.Finished, j.Started+100)
	}
	eq(t, "job Finished", j.Finished, j.Started+100)
	// Until the job ended the launcher held its node: nothing freed
	// before. The node is empty after.
	if n := res.Cluster.Nodes[0]; !n.Requested.IsZero() {
		t.Errorf("node holds %v after the run", n.Requested)
	}
	completes := enginetest.Records(res, -1, engine.RecJobComplete)
	if len(completes) != 1 || completes[0].T != j.Finished {
		t.Errorf("JobComplete records = %v, want one at %v", completes, j.Finished)
	}
}

// TestLauncherPodThroughJobController: the launcher pod is the Job
// controller's (from the operator's launcher Job): its create call waits
// for the controller's client limiter like any Job's pod.
func TestLauncherPodThroughJobController(t *testing.T) {
	cfg := enginetest.ExactConfig(bigNodes(2))
	cfg.Controllers.JobQPS, cfg.Controllers.JobBurst = 1, 1
	other := enginetest.IndexedJob("other", 1, 1, enginetest.Template("busybox:1", 5))
	j := opJob("mj", []float64{0}, &engine.LauncherPod{Template: launcherTemplate(), After: 10}, &launchModel{app: 20})
	// other's pod takes the controller's one token at 19.5 s; the
	// launcher Job, created at 20 s, gets the next at 20.5 s.
	res := runToEnd(t, cfg, &enginetest.FirstFit{}, at(10, j), at(19.5, other))
	eq(t, "other's pod Created", podByName(t, res, "other-0").Created, 19.5+enginetest.CreateLatency)
	eq(t, "launcher Created", podByName(t, res, "mj-launcher").Created, 20.5+enginetest.CreateLatency)
	// The operator's own calls (the workers) do not use that limiter.
	eq(t, "worker Created", podByName(t, res, "mj-worker-0").Created, 10)
}

// TestLauncherUnplaceableHolds: a launcher that fits no node keeps the
// job from starting; the workers hold their nodes and the run stalls.
func TestLauncherUnplaceableHolds(t *testing.T) {
	lt := launcherTemplate()
	lt.Containers[0].MilliCPU = 64000
	m := &launchModel{app: 100}
	j := opJob("mj", []float64{0, 0}, &engine.LauncherPod{Template: lt, After: 1}, m)
	res := run(t, enginetest.ExactConfig(bigNodes(2)), &enginetest.FirstFit{}, at(0, j))
	if res.Stopped != "stalled" {
		t.Fatalf("Stopped = %q, want stalled\n%s", res.Stopped, enginetest.Dump(res))
	}
	if engine.IsSet(j.Started) || len(m.seen) != 0 {
		t.Errorf("job started (%v) without its launcher", j.Started)
	}
	if engine.IsSet(j.AllStarted()) {
		t.Errorf("AllStarted = %v without the launcher running", j.AllStarted())
	}
	for _, name := range []string{"mj-worker-0", "mj-worker-1"} {
		if p := podByName(t, res, name); p.Phase != engine.PodRunning {
			t.Errorf("%s is %v, want Running (holding its node)", name, p.Phase)
		}
	}
}

// TestLauncherWaitForWorkersReady: the launcher pod is created its delay
// after the last worker runs, whatever the offsets.
func TestLauncherWaitForWorkersReady(t *testing.T) {
	m := &launchModel{app: 50}
	j := opJob("mj", []float64{0, 4}, &engine.LauncherPod{Template: launcherTemplate(), Creation: engine.LaunchWaitForWorkersReady, After: 0.5}, m)
	res := runToEnd(t, enginetest.ExactConfig(bigNodes(2)), &enginetest.FirstFit{}, at(3, j))
	w0, w1, l := podByName(t, res, "mj-worker-0"), podByName(t, res, "mj-worker-1"), podByName(t, res, "mj-launcher")
	last := max(w0.ContainersStarted, w1.ContainersStarted)
	eq(t, "launcher Created", l.Created, last+0.5+enginetest.CreateLatency)
	eq(t, "worker-1 Created", w1.Created, 7)
	eq(t, "job Started", j.Started, l.ContainersStarted)
	eq(t, "job Finished", j.Finished, j.Started+50)
}

// TestAppStartIsGatePlusLaunch: the run model's Launch and Shutdown are
// copied to the job: the application starts Launch after the gate and
// ends Shutdown before the job completes.
func TestAppStartIsGatePlusLaunch(t *testing.T) {
	m := &launchModel{app: 100, launch: 12.5, shutdown: 2}
	j := opJob("mj", []float64{0, 0}, &engine.LauncherPod{Template: launcherTemplate(), After: 0}, m)
	runToEnd(t, enginetest.ExactConfig(bigNodes(1)), &enginetest.FirstFit{}, at(0, j))
	eq(t, "Launch", j.Launch, 12.5)
	eq(t, "Shutdown", j.Shutdown, 2)
	eq(t, "AppStarted", j.AppStarted(), j.Started+12.5)
	eq(t, "AppFinished", j.AppFinished(), j.Finished-2)
	eq(t, "job Finished", j.Finished, j.Started+114.5)
	eq(t, "application time", j.AppFinished()-j.AppStarted(), 100)

	// Without a launcher the application is the whole run.
	plain := enginetest.IndexedJob("plain", 2, 2, appTemplate())
	plain.RunModel = &perNodeModel{base: 10}
	runToEnd(t, enginetest.ExactConfig(bigNodes(1)), &enginetest.FirstFit{}, at(0, plain))
	eq(t, "plain AppStarted", plain.AppStarted(), plain.Started)
	eq(t, "plain AppFinished", plain.AppFinished(), plain.Finished)
}

// TestLauncherRunResultChecked: a Launch and Shutdown longer than the run
// is an invariant violation.
func TestLauncherRunResultChecked(t *testing.T) {
	j := opJob("mj", []float64{0}, nil, badLaunch{})
	_, err := tryRun(t, enginetest.ExactConfig(bigNodes(1)), &enginetest.FirstFit{}, at(0, j))
	wantErr(t, err, "launch 8 s and shutdown 3 s in a run of 10 s")
}

type badLaunch struct{}

func (badLaunch) RunTime([]engine.NodeShare) (engine.RunResult, error) {
	return engine.RunResult{Seconds: 10, Launch: 8, Shutdown: 3}, nil
}

// TestOperatorSubmitErrors: Submit refuses impossible operator jobs.
func TestOperatorSubmitErrors(t *testing.T) {
	lp := func() *engine.LauncherPod { return &engine.LauncherPod{Template: launcherTemplate()} }
	cases := []struct {
		name string
		job  func() *engine.Job
		want string
	}{
		{"offsets count", func() *engine.Job {
			j := opJob("a", []float64{0}, nil, nil)
			j.Parallelism, j.Completions = 2, 2
			return j
		}, "gives 1 creation offsets for 2 completions"},
		{"negative offset", func() *engine.Job { return opJob("a", []float64{0, -1}, nil, nil) }, "worker 1's creation offset -1"},
		{"NaN offset", func() *engine.Job { return opJob("a", []float64{math.NaN()}, nil, nil) }, "worker 0's creation offset NaN"},
		{"infinite offset", func() *engine.Job { return opJob("a", []float64{math.Inf(1)}, nil, nil) }, "worker 0's creation offset +Inf"},
		{"launcher without model", func() *engine.Job { return opJob("a", []float64{0}, lp(), nil) }, "needs a run model"},
		{"launcher without template", func() *engine.Job {
			return opJob("a", []float64{0}, &engine.LauncherPod{}, &launchModel{})
		}, "has no template"},
		{"launcher offset", func() *engine.Job {
			return opJob("a", []float64{0}, &engine.LauncherPod{Template: launcherTemplate(), After: math.Inf(1)}, &launchModel{})
		}, "launcher pod's creation offset +Inf"},
		{"bare pod", func() *engine.Job {
			j := opJob("a", []float64{0}, nil, nil)
			j.Kind = engine.KindPod
			return j
		}, "a bare pod has no operator"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, err := engine.New(enginetest.ExactConfig(bigNodes(1)), &enginetest.FirstFit{})
			if err != nil {
				t.Fatal(err)
			}
			err = e.Submit(0, c.job())
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Submit error = %v, want one containing %q", err, c.want)
			}
		})
	}
}

// TestLauncherDeterminism: operator jobs with launchers under random
// start-up latencies give byte-identical runs for one seed.
func TestLauncherDeterminism(t *testing.T) {
	runOnce := func(seed uint64) string {
		st := engine.DefaultStartup()
		cfg := engine.Config{Seed: seed, Nodes: bigNodes(4), Startup: st, Controllers: engine.DefaultControllers(), Record: true}
		e, err := engine.New(cfg, &enginetest.FirstFit{RetryEvery: 30})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 6 {
			creation := engine.LaunchAtStartup
			if i%2 == 1 {
				creation = engine.LaunchWaitForWorkersReady
			}
			j := opJob(fmt.Sprintf("mj-%d", i), []float64{0, 0.2, 0.4}, &engine.LauncherPod{Template: launcherTemplate(), Creation: creation, After: 0.6},
				&launchModel{app: 30 + float64(i), launch: 8, shutdown: 2})
			if err := e.Submit(float64(5*i), j); err != nil {
				t.Fatal(err)
			}
		}
		res, err := e.Run()
		if err != nil {
			t.Fatal(err)
		}
		assertEnded(t, res)
		var b strings.Builder
		b.WriteString(enginetest.Dump(res))
		for _, j := range res.Jobs {
			fmt.Fprintf(&b, "%s %v %v %v\n", j.Name, j.Started, j.AppStarted(), j.AppFinished())
		}
		return b.String()
	}
	a, b := runOnce(7), runOnce(7)
	if a != b {
		t.Fatalf("same seed, different output:\n%s", firstDiff(a, b))
	}
	if c := runOnce(8); c == a {
		t.Error("seeds 7 and 8 give identical output")
	}
}

// TestLauncherContended: two operator jobs with launchers share a node's
// memory bandwidth; their runs slow each other (progress), and every pod
// of each job, its launcher included, finishes at the job's moved end;
// the launcher asks nothing (it is not in the placement priced).
func TestLauncherContended(t *testing.T) {
	nodes := bigNodes(1)
	const bw = 100e9
	a := &memModel{alone: 100, perPod: 40e9, bw: bw} // 2 workers: 80 GB/s
	b := &memModel{alone: 100, perPod: 30e9, bw: bw} // 2 workers: 60 GB/s
	lp := func() *engine.LauncherPod { return &engine.LauncherPod{Template: launcherTemplate(), After: 1} }
	ja, jb := opJob("a", []float64{0, 0}, lp(), a), opJob("b", []float64{0, 0}, lp(), b)
	res := runToEnd(t, enginetest.ExactConfig(nodes), &enginetest.FirstFit{}, at(0, ja), at(0, jb))
	if !(ja.Finished > ja.Started+100) || !(jb.Finished > jb.Started+100) {
		t.Errorf("jobs ran %v and %v s, want both slower than alone (100 s)", ja.Finished-ja.Started, jb.Finished-jb.Started)
	}
	for _, p := range res.Pods {
		if p.Finished != p.Job.Finished {
			t.Errorf("%s finished at %v, its job at %v", p.Name, p.Finished, p.Job.Finished)
		}
	}
	// Both start at the same gate time: the rate is bw/(80+60) GB/s
	// until the first ends.
	if ja.Started != jb.Started {
		t.Fatalf("jobs started at %v and %v; the closed form below assumes one start", ja.Started, jb.Started)
	}
	x := bw / 140e9
	near(t, "a finished", ja.Finished, ja.Started+100/x)
}

// TestOperatorJobRejected: a job rejected before its operator created
// its pods creates none (workers, launcher Job or launcher pod), and the
// run ends with every count in order.
func TestOperatorJobRejected(t *testing.T) {
	pol := enginetest.Func{N: "reject", F: func(now float64, events []engine.Event, c *engine.Cluster, out []engine.Decision) []engine.Decision {
		for _, ev := range events {
			if ev.Kind == engine.JobArrived && ev.Job.Name == "mj" {
				out = append(out, engine.Decision{Kind: engine.Reject, Job: ev.Job, Reason: "no"})
			}
		}
		return out
	}}
	j := opJob("mj", []float64{0.5, 1}, &engine.LauncherPod{Template: launcherTemplate(), After: 2}, &launchModel{app: 10})
	res := run(t, enginetest.ExactConfig(bigNodes(1)), pol, at(0, j))
	if !j.IsRejected() || len(res.Pods) != 0 || res.Stopped != "" {
		t.Errorf("rejected %v, %d pods, stopped %q; want rejected, none, a clean end", j.IsRejected(), len(res.Pods), res.Stopped)
	}
}
