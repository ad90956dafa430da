package scenarios

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/workloads/apps"
	"github.com/convergesim/converge/workloads/launchers"
)

// launchMinimal is a valid MPIJob scenario on a cluster with a tainted
// launcher node; paths resolve from this package's folder.
const launchMinimal = `version: 1
name: launch
seed: 3
cluster:
  pools:
    - name: launcher
      count: 1
      cpu: 8
      memory: 30Gi
      labels: {role: launcher}
      taints: [{key: role, value: launcher, effect: NoSchedule}]
    - name: hpc
      count: 2
      cpu: 96
      memory: 370Gi
      memoryBandwidth: 320
network:
  profile: profiles/aws-hpc7g-efa-bare-metal.yaml
policy:
  name: kube
workloads:
  - name: lmp
    kind: MPIJob
    parallelism: 2
    launcher:
      file: launchers/launchers.yaml
      entry: mpijob-hpc6a-efa
      pod:
        nodeSelector: {role: launcher}
        tolerations: [{key: role, operator: Equal, value: launcher, effect: NoSchedule}]
        containers:
          - {name: launcher, image: "lammps:1", cpu: 1, memory: 1Gi}
    app: {model: lammps, file: apps/lammps.yaml, fit: hpc6a-efa, ranksPerPod: 94, replicas: [64, 16, 16], steps: 100}
    pod:
      containers:
        - {name: lammps, image: "lammps:1", cpu: 94, memory: 346Gi}
`

func launchEdit(t testing.TB, old, new string) string {
	t.Helper()
	if !strings.Contains(launchMinimal, old) {
		t.Fatalf("edit: %q not in the launcher scenario", old)
	}
	return strings.Replace(launchMinimal, old, new, 1)
}

func runDoc(t *testing.T, doc string) (*Scenario, *engine.Result) {
	t.Helper()
	sc, err := Parse("launch.yaml", []byte(doc), Overrides{IgnoreEnv: true})
	if err != nil {
		t.Fatal(err)
	}
	res := mustRun(t, sc)
	if res.Stopped != "" {
		t.Fatalf("stopped %q", res.Stopped)
	}
	return sc, res
}

// createLatency is the Job controller's create call (the default, a
// constant).
func createLatency() float64 {
	return float64(engine.DefaultControllers().CreateLatency.(engine.Const))
}

func mpiEntry(t *testing.T) *launchers.MPIJobParams {
	t.Helper()
	f, err := LoadLauncherModel("launchers/launchers.yaml")
	if err != nil {
		t.Fatal(err)
	}
	e, err := f.Lookup("mpijob-hpc6a-efa")
	if err != nil {
		t.Fatal(err)
	}
	return e.Parameters.(*launchers.MPIJobParams)
}

// TestMPIJobScenario: through kube-scheduler, the launcher pod goes to
// the tainted launcher node and the workers to the others; the operator
// creates the workers and the launcher at the model's offsets; the
// program starts when the launcher runs; the application starts the
// launcher's bootstrap later; and the app's own launch term is gone (the
// application's time is the IndexedJob's run less the fit's launch).
func TestMPIJobScenario(t *testing.T) {
	_, res := runDoc(t, launchMinimal)
	if len(res.Pods) != 3 {
		t.Fatalf("%d pods, want 2 workers and a launcher", len(res.Pods))
	}
	j := res.Jobs[0]
	if j.Kind != engine.KindMPIJob {
		t.Errorf("kind %v, want MPIJob", j.Kind)
	}
	b, err := mpiEntry(t).Launcher().Bootstrap(launchers.Size{Nodes: 2, Ranks: 188})
	if err != nil {
		t.Fatal(err)
	}
	var launcher *engine.Pod
	for _, p := range res.Pods {
		switch {
		case p.Launcher:
			launcher = p
			if p.Name != "lmp-launcher" || p.Node == nil || p.Node.Name != "launcher-0" {
				t.Errorf("launcher pod %s on %v, want lmp-launcher on launcher-0", p.Name, p.Node)
			}
			// The operator creates the launcher Job; the Job controller
			// its pod, one create call later (its limiter has room).
			eq := b.Created["launcher"][0] + createLatency()
			if math.Abs(p.Created-j.Submitted-eq) > 1e-9 {
				t.Errorf("launcher created %v after submission, want %v", p.Created-j.Submitted, eq)
			}
		default:
			if want := fmt.Sprintf("lmp-worker-%d", p.Index); p.Name != want || !strings.HasPrefix(p.Node.Name, "hpc-") {
				t.Errorf("worker %s on %s, want %s on an hpc node", p.Name, p.Node.Name, want)
			}
			if d := p.Created - j.Submitted - b.Created["worker"][p.Index]; math.Abs(d) > 1e-9 {
				t.Errorf("%s created %v off the operator's offset", p.Name, d)
			}
		}
		if p.Finished != j.Finished {
			t.Errorf("%s finished at %v, the job at %v", p.Name, p.Finished, j.Finished)
		}
	}
	if launcher == nil {
		t.Fatal("no launcher pod")
	}
	if j.Started < launcher.ContainersStarted || j.AllStarted() != j.Started {
		t.Errorf("job started %v, all started %v, the launcher ran at %v", j.Started, j.AllStarted(), launcher.ContainersStarted)
	}
	// The bootstrap: the drawn phases before and after the application.
	var before, after float64
	for _, ph := range b.Phases {
		switch ph.Where {
		case launchers.BeforeApp:
			before += ph.Seconds
		case launchers.AfterApp:
			after += ph.Seconds
		}
	}
	var launch, phasesBefore float64
	for _, ph := range j.Phases {
		if strings.HasPrefix(ph.Name, "launcher: ") {
			launch += ph.Seconds
		}
		if ph.Name == "launch" {
			t.Errorf("the app's own launch phase is still there: %+v", j.Phases)
		}
	}
	phasesBefore = launch - j.Shutdown
	if math.Abs(phasesBefore-j.Launch) > 1e-9 || math.Abs(j.Shutdown-after) > 1e-9 {
		t.Errorf("Launch %v, Shutdown %v; phases give %v before, the model %v after", j.Launch, j.Shutdown, phasesBefore, after)
	}
	p := mpiEntry(t)
	// The launcher's overhead is Outside the run (the engine creates
	// and starts the launcher pod): mpirun's own start-up is the floor.
	floor := 2*p.SSHPerNode + p.MpirunBase
	if j.Launch < floor-1e-9 || j.Launch > before+float64(p.SSHAttempts)*p.SSHRetry {
		t.Errorf("Launch %v outside [%v, %v]", j.Launch, floor, before+float64(p.SSHAttempts)*p.SSHRetry)
	}
	if got := j.AppStarted() - j.Started; math.Abs(got-j.Launch) > 1e-9 {
		t.Errorf("app started %v after the gate, want Launch %v", got, j.Launch)
	}

	// The same job as an IndexedJob: its run is the fit's launch plus
	// the application.
	_, plain := runDoc(t, strings.Replace(launchEdit(t, "kind: MPIJob", "kind: IndexedJob"),
		`    launcher:
      file: launchers/launchers.yaml
      entry: mpijob-hpc6a-efa
      pod:
        nodeSelector: {role: launcher}
        tolerations: [{key: role, operator: Equal, value: launcher, effect: NoSchedule}]
        containers:
          - {name: launcher, image: "lammps:1", cpu: 1, memory: 1Gi}
`, "", 1))
	pj := plain.Jobs[0]
	f, err := LoadAppModel("apps/lammps.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fit, err := f.Lookup("hpc6a-efa")
	if err != nil {
		t.Fatal(err)
	}
	lp := fit.Parameters.(*apps.LAMMPSParams)
	fitLaunch := lp.Launch + 2*lp.LaunchPerNode
	if fitLaunch <= 0 {
		t.Fatalf("the hpc6a-efa LAMMPS fit has no launch term (%v): the test needs one", fitLaunch)
	}
	app := j.AppFinished() - j.AppStarted()
	if want := pj.Finished - pj.Started - fitLaunch; math.Abs(app-want) > 1e-6 {
		t.Errorf("application ran %v s under the launcher, want the IndexedJob's %v s less the fit's launch %v s = %v", app, pj.Finished-pj.Started, fitLaunch, want)
	}
}

// TestLauncherKinds: a MiniCluster is an Indexed Job with the Flux
// bootstrap around its program; a PyTorchJob's master and workers are
// the training-operator's, created at its offsets; WaitForWorkersReady
// creates the launcher after the workers run.
func TestLauncherKinds(t *testing.T) {
	noPod := strings.Replace(launchMinimal, `      pod:
        nodeSelector: {role: launcher}
        tolerations: [{key: role, operator: Equal, value: launcher, effect: NoSchedule}]
        containers:
          - {name: launcher, image: "lammps:1", cpu: 1, memory: 1Gi}
`, "", 1)
	mini := strings.Replace(strings.Replace(noPod, "kind: MPIJob", "kind: MiniCluster", 1), "entry: mpijob-hpc6a-efa", "entry: minicluster-hpc6a-efa", 1)
	_, res := runDoc(t, mini)
	j := res.Jobs[0]
	if len(res.Pods) != 2 || res.Pods[0].Name != "lmp-0" || res.Pods[1].Name != "lmp-1" || j.Operator != nil {
		t.Errorf("MiniCluster pods %s, %s (operator %v), want lmp-0, lmp-1 from the Job controller", res.Pods[0].Name, res.Pods[1].Name, j.Operator)
	}
	if !(j.Launch > 0) || j.Kind != engine.KindMiniCluster {
		t.Errorf("MiniCluster kind %v, Launch %v; want MiniCluster and a bootstrap", j.Kind, j.Launch)
	}

	torch := strings.Replace(strings.Replace(noPod, "kind: MPIJob", "kind: PyTorchJob", 1), "entry: mpijob-hpc6a-efa", "entry: pytorchjob-assumed", 1)
	_, res = runDoc(t, torch)
	if len(res.Pods) != 2 || res.Pods[0].Name != "lmp-master-0" || res.Pods[1].Name != "lmp-worker-0" {
		t.Errorf("PyTorchJob pods %s, %s, want lmp-master-0, lmp-worker-0", res.Pods[0].Name, res.Pods[1].Name)
	}
	if d := res.Pods[1].Created - res.Pods[0].Created; !(d > 0) {
		t.Errorf("the worker was created %v after the master, want later (its Service and pod are two calls after the master's)", d)
	}

	wait := launchEdit(t, "entry: mpijob-hpc6a-efa", "entry: mpijob-hpc6a-efa\n      launcherCreation: WaitForWorkersReady")
	_, res = runDoc(t, wait)
	var lastWorker float64
	var l *engine.Pod
	for _, p := range res.Pods {
		if p.Launcher {
			l = p
		} else {
			lastWorker = max(lastWorker, p.ContainersStarted)
		}
	}
	if want := lastWorker + mpiEntry(t).APILatency + createLatency(); l == nil || math.Abs(l.Created-want) > 1e-9 {
		t.Errorf("WaitForWorkersReady: launcher created at %v, want the last worker's start %v + the operator's call + the Job controller's", l.Created, lastWorker)
	}
}

// TestLauncherScenarioDeterministic: each job draws its bootstrap from
// the launchers stream, in job order: the same seed gives the same
// bootstraps, and they are the stream's draws (a PyTorchJob's workers
// see the master's name at a random point of their poll, so jobs
// differ).
func TestLauncherScenarioDeterministic(t *testing.T) {
	doc := strings.Replace(launchEdit(t, "parallelism: 2", "parallelism: 2\n    count: 8\n    arrival: {pattern: interval, interval: 500}"),
		"kind: MPIJob", "kind: PyTorchJob", 1)
	doc = strings.Replace(doc, "entry: mpijob-hpc6a-efa", "entry: pytorchjob-assumed", 1)
	doc = strings.Replace(doc, `      pod:
        nodeSelector: {role: launcher}
        tolerations: [{key: role, operator: Equal, value: launcher, effect: NoSchedule}]
        containers:
          - {name: launcher, image: "lammps:1", cpu: 1, memory: 1Gi}
`, "", 1)
	launches := func() []float64 {
		_, res := runDoc(t, doc)
		var out []float64
		for _, j := range res.Jobs {
			out = append(out, j.Launch, j.AppStarted(), j.AppFinished())
		}
		return out
	}
	a, b := launches(), launches()
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("same seed, different runs:\n%v\n%v", a, b)
	}
	f, err := LoadLauncherModel("launchers/launchers.yaml")
	if err != nil {
		t.Fatal(err)
	}
	e, err := f.Lookup("pytorchjob-assumed")
	if err != nil {
		t.Fatal(err)
	}
	l := e.Parameters.Launcher()
	r := engine.NewStreams(3).Get("launchers")
	distinct := map[float64]bool{}
	for k := 0; k < len(a); k += 3 {
		bs, err := l.SampleBootstrap(launchers.Size{Nodes: 2, Ranks: 188}, r)
		if err != nil {
			t.Fatal(err)
		}
		if want := bs.Total(launchers.BeforeApp); math.Abs(a[k]-want) > 1e-9 {
			t.Errorf("job %d: Launch %v, want the stream's draw %v", k/3, a[k], want)
		}
		distinct[a[k]] = true
	}
	if len(distinct) != len(a)/3 {
		t.Errorf("8 jobs drew %d distinct bootstraps: %v", len(distinct), a)
	}
}

func TestLauncherScenarioErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad-launchers.yaml")
	if err := os.WriteFile(bad, []byte("kind: LauncherModel\nversion: 1\nlaunchers:\n  - name: x\n    type: mpijob\n    parameters:\n      clientQPS: -5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mini := launchEdit(t, "kind: MPIJob", "kind: MiniCluster")
	cases := []struct{ name, doc, want string }{
		{"launcher on an IndexedJob", launchEdit(t, "kind: MPIJob", "kind: IndexedJob"),
			"launch.yaml:26: workloads[0].launcher: an IndexedJob has no launcher (the Job controller creates its pods and each runs on its own); use kind MPIJob, MiniCluster or PyTorchJob"},
		{"no app", launchEdit(t, "    app: {model: lammps, file: apps/lammps.yaml, fit: hpc6a-efa, ranksPerPod: 94, replicas: [64, 16, 16], steps: 100}\n", "    runTime: 5\n"),
			"workloads[0].app: required: an MPIJob runs one program, priced by an app model"},
		{"no launcher", strings.Replace(launchMinimal, "    launcher:\n      file: launchers/launchers.yaml\n      entry: mpijob-hpc6a-efa\n      pod:\n", "    launcherPod:\n", 1), "launcherPod: unknown field"},
		{"launcher missing", launchEdit(t, "    launcher:\n      file: launchers/launchers.yaml\n      entry: mpijob-hpc6a-efa\n      pod:\n        nodeSelector: {role: launcher}\n        tolerations: [{key: role, operator: Equal, value: launcher, effect: NoSchedule}]\n        containers:\n          - {name: launcher, image: \"lammps:1\", cpu: 1, memory: 1Gi}\n", ""),
			"workloads[0].launcher: required: an MPIJob names its launcher model, e.g. {file: launchers/launchers.yaml, entry: mpijob-hpc6a-efa}"},
		{"no file", launchEdit(t, "      file: launchers/launchers.yaml\n", ""), "workloads[0].launcher.file: required"},
		{"no entry", launchEdit(t, "      entry: mpijob-hpc6a-efa\n", ""), "workloads[0].launcher.entry: required"},
		{"type mismatch", mini,
			"launch.yaml:29: workloads[0].launcher.pod: only an MPIJob has a launcher pod (a MiniCluster's pods all run the program)"},
		{"entry of another kind", strings.Replace(mini, "      pod:\n        nodeSelector: {role: launcher}\n        tolerations: [{key: role, operator: Equal, value: launcher, effect: NoSchedule}]\n        containers:\n          - {name: launcher, image: \"lammps:1\", cpu: 1, memory: 1Gi}\n", "", 1),
			"launch.yaml:27: workloads[0].launcher.entry: \"mpijob-hpc6a-efa\" in launchers/launchers.yaml is an mpijob launcher; a MiniCluster needs a minicluster one"},
		{"unknown entry", launchEdit(t, "entry: mpijob-hpc6a-efa", "entry: mpijob-laptop"),
			"launch.yaml:27: workloads[0].launcher.entry: no launcher \"mpijob-laptop\"; launchers: mpijob-hpc6a-efa, minicluster-hpc6a-efa, pytorchjob-assumed, indexedjob"},
		{"missing file", launchEdit(t, "file: launchers/launchers.yaml", "file: launchers/none.yaml"), "launch.yaml:26: workloads[0].launcher.file: cannot read launcher model"},
		{"bad file", launchEdit(t, "file: launchers/launchers.yaml", "file: "+bad), "workloads[0].launcher.file: " + bad + ":7: launchers[0].parameters.clientQPS: -5 must be positive"},
		{"creation policy", launchEdit(t, "entry: mpijob-hpc6a-efa", "entry: mpijob-hpc6a-efa\n      launcherCreation: Eventually"),
			"workloads[0].launcher.launcherCreation: unknown policy \"Eventually\" (valid: AtStartup, WaitForWorkersReady)"},
		{"creation policy of a PyTorchJob", strings.Replace(launchEdit(t, "entry: mpijob-hpc6a-efa", "entry: pytorchjob-assumed\n      launcherCreation: AtStartup"), "kind: MPIJob", "kind: PyTorchJob", 1),
			"workloads[0].launcher.launcherCreation: only an MPIJob has a launcher creation policy"},
		{"bad launcher pod", launchEdit(t, "cpu: 1, memory: 1Gi}", "cpu: 1, memory: 1Gi, pullPolicy: Sometimes}"),
			"workloads[0].launcher.pod.containers[0].pullPolicy: unknown pull policy \"Sometimes\""},
		{"minMember", launchEdit(t, "    parallelism: 2\n", "    parallelism: 2\n    podGroup: {minMember: 4}\n"),
			"workloads[0].podGroup.minMember: must be between 1 and the job's pods (its workers and the launcher) (3), got 4"},
		{"completions", launchEdit(t, "    parallelism: 2\n", "    parallelism: 2\n    completions: 3\n"),
			"workloads[0].completions: an app job starts all its pods together: completions (3) must equal parallelism (2)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("launch.yaml", []byte(c.doc), Overrides{IgnoreEnv: true})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error:\n  got: %v\n want: %s", err, c.want)
			}
		})
	}
}

// TestWithoutLaunch: the launch terms of every bundled fit that has
// them are zeroed in a copy; the file's fit is untouched.
func TestWithoutLaunch(t *testing.T) {
	checked := 0
	for _, file := range []string{"apps/amg.yaml", "apps/lammps.yaml", "apps/qmcpack.yaml"} {
		f, err := LoadAppModel(file)
		if err != nil {
			t.Fatal(err)
		}
		for i := range f.Fits {
			fit := &f.Fits[i]
			before := reflect.ValueOf(fit.Parameters).Elem().FieldByName("Launch").Float()
			z := withoutLaunch(fit)
			pv := reflect.ValueOf(z.Parameters).Elem()
			if pv.FieldByName("Launch").Float() != 0 || pv.FieldByName("LaunchPerNode").Float() != 0 {
				t.Errorf("%s %s: launch terms not zeroed", file, fit.Name)
			}
			if got := reflect.ValueOf(fit.Parameters).Elem().FieldByName("Launch").Float(); got != before {
				t.Errorf("%s %s: the original fit changed (launch %v → %v)", file, fit.Name, before, got)
			}
			if before > 0 {
				checked++
			}
		}
	}
	if checked < 3 {
		t.Errorf("only %d fits with a launch term checked", checked)
	}
}

// demandModel is a contended model with a fixed demand.
type demandModel struct {
	seconds float64
	asked   float64 // the alone seconds Demand was given
}

func (m *demandModel) RunTime([]engine.NodeShare) (engine.RunResult, error) {
	return engine.RunResult{Seconds: m.seconds, Phases: []engine.Phase{{Name: "launch"}, {Name: "solve", Seconds: m.seconds}}}, nil
}

func (m *demandModel) Demand(pl []engine.NodeShare, alone engine.RunResult) ([]engine.NodeDemand, error) {
	m.asked = alone.Seconds
	return []engine.NodeDemand{{Memory: 90, MemoryCapacity: 100, Network: 30, NetworkCapacity: 100, Leaf: 1, Uplink: 15, UplinkCapacity: 50}}, nil
}

// TestLaunchedRun: the bootstrap's phases come first and last, the run
// is their sum with the app's, the app's zeroed launch phase is dropped,
// and under contention the app's bytes are spread over the whole run.
func TestLaunchedRun(t *testing.T) {
	m := &demandModel{seconds: 30}
	r := newLaunchedRun(m, launchers.Bootstrap{Phases: []launchers.Phase{
		{Name: "ops", Where: launchers.BeforePods, Seconds: 100},
		{Name: "a", Where: launchers.BeforeApp, Seconds: 6},
		{Name: "b", Where: launchers.BeforeApp, Seconds: 4},
		{Name: "c", Where: launchers.AfterApp, Seconds: 5},
	}})
	pl := []engine.NodeShare{{Node: &engine.Node{Name: "n"}, Pods: 1}}
	res, err := r.RunTime(pl)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range res.Phases {
		names = append(names, p.Name)
	}
	if res.Seconds != 45 || res.Launch != 10 || res.Shutdown != 5 || strings.Join(names, ",") != "launcher: a,launcher: b,solve,launcher: c" {
		t.Errorf("run %v s, launch %v, shutdown %v, phases %v; want 45, 10, 5, [launcher: a, launcher: b, solve, launcher: c]", res.Seconds, res.Launch, res.Shutdown, names)
	}
	d, err := r.Demand(pl, res)
	if err != nil {
		t.Fatal(err)
	}
	if m.asked != 30 {
		t.Errorf("the app's demand was asked for %v s, want its own 30 s", m.asked)
	}
	f := 30.0 / 45
	want := engine.NodeDemand{Memory: 90 * f, MemoryCapacity: 100, Network: 30 * f, NetworkCapacity: 100, Leaf: 1, Uplink: 15 * f, UplinkCapacity: 50}
	if len(d) != 1 || d[0] != want {
		t.Errorf("demand %+v, want %+v", d, want)
	}
}

// TestLauncherBuildWithinEstimate: the launcher pod counts in the size
// estimate, and what Build allocates for launched jobs (offsets, the
// bootstrap's phases, the run model) stays within it.
func TestLauncherBuildWithinEstimate(t *testing.T) {
	doc := launchEdit(t, "parallelism: 2", "parallelism: 2\n    count: 20000")
	sc, err := Parse("launch.yaml", []byte(doc), Overrides{IgnoreEnv: true})
	if err != nil {
		t.Fatal(err)
	}
	est := Estimate(sc)
	if est.Pods != 3*20000 {
		t.Errorf("estimate of %d pods, want 60000 (2 workers and a launcher a job)", est.Pods)
	}
	buildWithinEstimate(t, sc)
}
