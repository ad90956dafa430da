package scenarios

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/workloads/apps"
	"github.com/convergesim/converge/workloads/launchers"
)

// operatorKinds are the workload kinds a launcher starts, with the
// launcher model each needs.
var operatorKinds = map[string]launchers.Kind{
	"MPIJob":      launchers.MPIJob,
	"MiniCluster": launchers.MiniCluster,
	"PyTorchJob":  launchers.PyTorchJob,
}

// exampleEntry names a bundled entry of each operator kind, for
// messages.
var exampleEntry = map[launchers.Kind]string{
	launchers.MPIJob:      "mpijob-hpc6a-efa",
	launchers.MiniCluster: "minicluster-hpc6a-efa",
	launchers.PyTorchJob:  "pytorchjob-assumed",
}

// launcherUse is a workload's resolved launcher: the model (with the
// workload's launcherCreation), its MPIJob parameters (nil for the other
// kinds) and the launcher pod's template (MPIJob).
type launcherUse struct {
	launcher launchers.Launcher
	mpi      *launchers.MPIJobParams
	pod      *engine.PodTemplate
}

// launcherBlock checks a workload's kind against its launcher block:
// the operator kinds need an app and a launcher; the others take none.
// The file is read later (resolveLauncher), once the app is resolved.
func (v *validator) launcherBlock(w *Workload, path string) error {
	lk, operator := operatorKinds[w.Kind]
	l := w.Launcher
	lp := path + ".launcher"
	if !operator {
		if l != nil {
			return v.errf(lp, "%s %s has no launcher (the Job controller creates its pods and each runs on its own); use kind MPIJob, MiniCluster or PyTorchJob", article(w.Kind), w.Kind)
		}
		return nil
	}
	switch {
	case w.App == nil && (w.Trace == nil || w.Trace.RunTime == "model"):
		return v.errf(path+".app", "required: %s %s runs one program, priced by an app model", article(w.Kind), w.Kind)
	case l == nil:
		return v.errf(lp, "required: %s %s names its launcher model, e.g. {file: launchers/launchers.yaml, entry: %s}", article(w.Kind), w.Kind, exampleEntry[lk])
	case l.File == "":
		return v.errf(lp+".file", "required: a launcher parameter file (kind: LauncherModel), e.g. launchers/launchers.yaml")
	case l.Entry == "":
		return v.errf(lp+".entry", "required: the launcher in %s", l.File)
	case l.LauncherCreation != "" && lk != launchers.MPIJob:
		return v.errf(lp+".launcherCreation", "only an MPIJob has a launcher creation policy")
	case l.LauncherCreation != "" && l.LauncherCreation != launchers.AtStartup && l.LauncherCreation != launchers.WaitForWorkersReady:
		return v.errf(lp+".launcherCreation", "unknown policy %s (valid: %s, %s)", quote(l.LauncherCreation), launchers.AtStartup, launchers.WaitForWorkersReady)
	case l.Pod != nil && lk != launchers.MPIJob:
		return v.errf(lp+".pod", "only an MPIJob has a launcher pod (%s %s's pods all run the program)", article(w.Kind), w.Kind)
	}
	if l.Pod != nil {
		if err := v.pod(l.Pod, lp+".pod"); err != nil {
			return err
		}
	}
	return nil
}

// resolveLauncher reads the launcher file of an operator workload,
// finds its entry, checks its type against the kind and applies the
// workload's launcherCreation.
func (v *validator) resolveLauncher(w *Workload, path, dir string) (*launcherUse, error) {
	l := w.Launcher
	lp := path + ".launcher"
	file := l.File
	if !filepath.IsAbs(file) {
		file = filepath.Join(dir, file)
	}
	f, ok := v.launchers[file]
	if !ok {
		var err error
		if f, err = LoadLauncherModel(file); err != nil {
			return nil, v.errf(lp+".file", "%s", short(err))
		}
		if v.launchers == nil {
			v.launchers = map[string]*launchers.File{}
		}
		v.launchers[file] = f // workloads naming the same file share it
	}
	e, err := f.Lookup(l.Entry)
	if err != nil {
		return nil, v.errf(lp+".entry", "%s", short(trimInvalid(err)))
	}
	if want := operatorKinds[w.Kind]; e.Type != want {
		return nil, v.errf(lp+".entry", "%s in %s is %s %s launcher; %s %s needs %s %s one", quote(e.Name), l.File, article(string(e.Type)), e.Type, article(w.Kind), w.Kind, article(string(want)), want)
	}
	u := &launcherUse{}
	params := e.Parameters
	if mp, ok := params.(*launchers.MPIJobParams); ok {
		c := *mp
		if l.LauncherCreation != "" {
			c.LauncherCreation = l.LauncherCreation
		}
		u.mpi, params = &c, &c
		u.pod = w.launcherTemplate()
	}
	u.launcher = params.Launcher()
	return u, nil
}

// article is "an" before a kind that sounds as a vowel (MPIJob,
// IndexedJob, mpijob, indexedjob), else "a".
func article(kind string) string {
	if kind != "" && strings.ContainsRune("AEIOUaeiouMm", rune(kind[0])) && !strings.HasPrefix(kind, "Mini") && !strings.HasPrefix(kind, "mini") {
		return "an"
	}
	return "a"
}

// trimInvalid drops the launchers package's ErrInvalid prefix from a
// message shown in a scenario error.
func trimInvalid(err error) error {
	return fmt.Errorf("%s", strings.TrimPrefix(err.Error(), launchers.ErrInvalid.Error()+": "))
}

// launcherTemplate is an MPIJob's launcher pod: the launcher block's pod,
// or the worker's containers with 1 cpu and 1Gi each, the worker's
// tolerations and priority.
func (w *Workload) launcherTemplate() *engine.PodTemplate {
	if p := w.Launcher.Pod; p != nil {
		return podTemplate(p)
	}
	spec := PodSpec{Priority: w.Pod.Priority, Tolerations: w.Pod.Tolerations}
	for _, c := range w.Pod.Containers {
		c.CPU, c.Memory, c.GPUs = 1000, 1<<30, 0
		spec.Containers = append(spec.Containers, c)
	}
	return podTemplate(&spec)
}

// withoutLaunch returns the app fit with its own launch terms (the
// parameters tagged launch and launchPerNode: mpirun's start-up, which
// the canopie22 fits price inside the run time) set to 0: when a
// workload names a launcher, the launcher's model owns that cost.
func withoutLaunch(fit *apps.Fit) *apps.Fit {
	pv := reflect.ValueOf(fit.Parameters)
	if pv.Kind() != reflect.Pointer || pv.Elem().Kind() != reflect.Struct {
		return fit
	}
	c := reflect.New(pv.Elem().Type())
	c.Elem().Set(pv.Elem())
	zeroed := false
	st := c.Elem().Type()
	for i := range st.NumField() {
		tag, _, _ := strings.Cut(st.Field(i).Tag.Get("yaml"), ",")
		if f := c.Elem().Field(i); (tag == "launch" || tag == "launchPerNode") && f.CanSet() && f.Kind() == reflect.Float64 {
			f.SetFloat(0)
			zeroed = true
		}
	}
	if !zeroed {
		return fit
	}
	out := *fit
	out.Parameters = c.Interface().(apps.Params)
	return &out
}

// jobKind is the engine's kind of a workload kind.
func jobKind(kind string) engine.JobKind {
	switch kind {
	case "Pod":
		return engine.KindPod
	case "Job":
		return engine.KindJob
	case "MPIJob":
		return engine.KindMPIJob
	case "FluxJob":
		return engine.KindFluxJob
	case "MiniCluster":
		return engine.KindMiniCluster
	case "PyTorchJob":
		return engine.KindPyTorchJob
	}
	return engine.KindIndexedJob
}

// launch wires job j of an operator workload: one bootstrap drawn from
// r for its size, the operator's creation offsets and launcher pod
// (MPIJob, PyTorchJob; a MiniCluster's pods are an Indexed Job's) and
// the run model that adds the launcher's phases around the app's.
func (u *launcherUse) launch(j *engine.Job, perPod int, r *rand.Rand) error {
	size := launchers.Size{Nodes: j.Completions, Ranks: j.Completions * perPod}
	b, err := u.launcher.SampleBootstrap(size, r)
	if err != nil {
		return fmt.Errorf("launcher: %w", err)
	}
	switch u.launcher.Kind() {
	case launchers.MPIJob:
		lp := &engine.LauncherPod{Template: u.pod}
		if u.mpi.LauncherCreation == launchers.WaitForWorkersReady {
			// The operator creates the launcher Job once it sees the
			// last worker ready: one more API call.
			lp.Creation, lp.After = engine.LaunchWaitForWorkersReady, u.mpi.APILatency
		} else {
			lp.After = b.Created["launcher"][0]
		}
		j.Operator = &engine.Operator{Created: slices.Clone(b.Created["worker"]), Launcher: lp}
	case launchers.PyTorchJob:
		created := append(slices.Clone(b.Created["master"]), b.Created["worker"]...)
		j.Operator = &engine.Operator{Created: created, Master: true}
	}
	j.RunModel = newLaunchedRun(j.RunModel, b)
	return nil
}

// launchedRun is an app's run model with a launcher's bootstrap around
// it: the phases between the gate and the application's start (before)
// and after its end (after) add to the run time and come first and last
// in its phases; Launch and Shutdown say where the application is.
//
// Under contention (engine.ContendedRunModel) the whole run, bootstrap
// included, progresses at the job's rate, and the app's demand is
// spread over it: the demand asked is the app's rate × app seconds /
// total seconds, so the bytes are the app's. This approximates a run
// whose launcher phases ask nothing of the memory or the network: the
// job's demand is lower but lasts longer, and the launcher's phases are
// slowed when its neighbours slow it.
type launchedRun struct {
	app              engine.RunModel
	before, after    []engine.Phase
	launch, shutdown float64
}

func newLaunchedRun(app engine.RunModel, b launchers.Bootstrap) *launchedRun {
	r := &launchedRun{app: app}
	for _, p := range b.Phases {
		switch p.Where {
		case launchers.BeforeApp:
			r.before = append(r.before, engine.Phase{Name: "launcher: " + p.Name, Seconds: p.Seconds})
			r.launch += p.Seconds
		case launchers.AfterApp:
			r.after = append(r.after, engine.Phase{Name: "launcher: " + p.Name, Seconds: p.Seconds})
			r.shutdown += p.Seconds
		}
	}
	return r
}

// RunTime implements engine.RunModel.
func (r *launchedRun) RunTime(pl []engine.NodeShare) (engine.RunResult, error) {
	res, err := r.app.RunTime(pl)
	if err != nil {
		return res, err
	}
	phases := slices.Clone(r.before)
	for _, p := range res.Phases {
		if p.Name == "launch" && p.Seconds == 0 {
			continue // the app's own launch term, zeroed: the launcher's phases replace it
		}
		phases = append(phases, p)
	}
	return engine.RunResult{
		Seconds:  r.launch + res.Seconds + r.shutdown,
		Phases:   append(phases, r.after...),
		Launch:   r.launch + res.Launch,
		Shutdown: res.Shutdown + r.shutdown,
	}, nil
}

// Demand implements engine.ContendedRunModel: the app's demand over
// its own run, spread over the whole run (see launchedRun).
func (r *launchedRun) Demand(pl []engine.NodeShare, alone engine.RunResult) ([]engine.NodeDemand, error) {
	cm, ok := r.app.(engine.ContendedRunModel)
	app := alone
	app.Seconds = alone.Seconds - r.launch - r.shutdown
	if !ok || !(app.Seconds > 0) {
		out := make([]engine.NodeDemand, len(pl))
		for i := range out {
			out[i].Leaf = -1
		}
		return out, nil
	}
	d, err := cm.Demand(pl, app)
	if err != nil {
		return nil, err
	}
	f := app.Seconds / alone.Seconds
	for i := range d {
		d[i].Memory *= f
		d[i].Network *= f
		d[i].Uplink *= f
	}
	return d, nil
}
