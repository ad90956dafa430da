package scenarios

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/traces"
)

// TraceSpec makes a workload replay the jobs of recorded traces: each
// job arrives when it was submitted (relative to the first), asks for
// what it asked for, and runs as long as it ran (runTime: recorded) or
// as the workload's app model prices it on its new placement
// (runTime: model).
type TraceSpec struct {
	// Files are the trace files (relative to the scenario file), read
	// as one trace.
	Files []string `yaml:"files"`
	// Format names their format (default: detected per file).
	Format string `yaml:"format"`
	// RunTime is recorded (default) or model.
	RunTime string `yaml:"runTime"`
	// Scheduler keeps only the jobs that scheduler placed (the trace's
	// scheduler name: default-scheduler, kubeflux, flux, ...).
	Scheduler string `yaml:"scheduler"`
	// Jobs keeps only Flux's jobs (flux: Flux jobs and SWF rows) or
	// only Kubernetes' (kubernetes: pods and the workloads that own
	// them); default all. A session of Flux with Usernetes beside it
	// replays as two workloads, one of each.
	Jobs string `yaml:"jobs"`
}

// isFluxJob reports whether a recorded job is a batch job (Flux's or an
// SWF row) rather than a Kubernetes workload.
func isFluxJob(j *traces.Job) bool { return j.Kind == "FluxJob" || j.Kind == "SWF" }

// traced is a trace workload's jobs, ready to submit.
type traced struct {
	trace *traces.Trace
	jobs  []tracedJob
	pods  int64
}

// tracedJob is one recorded job as the engine runs it.
type tracedJob struct {
	id   string // the recorded job's id
	name string // traces.JobKey(id): the simulated job's name
	at   float64
	kind engine.JobKind
	pods int
	req  engine.Resources // per pod (zero: the workload's pod spec)
	// ranksPerPod are the MPI ranks each pod ran (an operator's
	// launcher sizes its bootstrap with them).
	ranksPerPod int
	// tolerate are the taints of the nodes the job's pods ran on: they
	// ran there, so they tolerated them.
	tolerate []engine.Toleration
	run      float64         // recorded run time (NaN under runTime: model)
	flux     engine.FluxSpec // the request of a job of kind FluxJob
}

// Trace returns the trace workload i replays (nil when it replays none).
func (sc *Scenario) Trace(i int) *traces.Trace {
	if t := sc.Workloads[i].traced; t != nil {
		return t.trace
	}
	return nil
}

// tracedWorkload validates a trace workload: its name, its kind (empty:
// each job's own), its pod spec, and its trace, which it reads.
func (v *validator) tracedWorkload(sc *Scenario, w *Workload, path, dir string, names map[string]bool) error {
	if err := v.workloadName(w, path, names); err != nil {
		return err
	}
	switch {
	case w.Kind != "" && !slices.Contains(kinds, w.Kind):
		return v.errf(path+".kind", "unknown kind %s (valid: %s, or none: each job's own)", quote(w.Kind), strings.Join(kinds, ", "))
	case w.Parallelism != 0 || w.Completions != 0:
		return v.errf(path+".parallelism", "a trace workload's jobs have the trace's sizes")
	case w.Flux != nil:
		return v.errf(path+".flux", "a trace workload's Flux jobs ask for what they asked for in the trace")
	}
	if err := v.launcherBlock(w, path); err != nil {
		return err
	}
	if err := v.duration(path+".arrival.at", w.Arrival.At); err != nil {
		return err
	}
	if p := w.Arrival.Pattern; p != "" && p != "once" {
		return v.errf(path+".arrival.pattern", "a trace workload's jobs arrive when they were submitted; only arrival.at (an offset) applies")
	}
	if len(w.Pod.Containers) > 0 || len(w.Pod.InitContainers) > 0 {
		// Without containers, each pod gets one asking for what the
		// trace recorded.
		if err := v.pod(&w.Pod, path+".pod"); err != nil {
			return err
		}
	}
	return v.traceWorkload(sc, w, path, dir)
}

// traceWorkload validates a trace workload's trace block and reads its
// trace.
func (v *validator) traceWorkload(sc *Scenario, w *Workload, path, dir string) error {
	s := w.Trace
	switch {
	case len(s.Files) == 0:
		return v.errf(path+".trace.files", "required: the recorded trace files")
	case s.RunTime != "" && s.RunTime != "recorded" && s.RunTime != "model":
		return v.errf(path+".trace.runTime", "unknown run time %s (valid: recorded, model)", quote(s.RunTime))
	case s.Jobs != "" && s.Jobs != "flux" && s.Jobs != "kubernetes":
		return v.errf(path+".trace.jobs", "unknown %s (valid: flux, kubernetes, or none: all)", quote(s.Jobs))
	case s.RunTime == "model" && w.App == nil:
		return v.errf(path+".trace.runTime", "model needs the workload's app model (app)")
	case w.Count > 1:
		return v.errf(path+".count", "a trace workload submits the trace's jobs; it has no count")
	case w.Batch != nil:
		return v.errf(path+".batch", "a trace workload submits the trace's jobs, not a synthetic batch")
	}
	if s.Format != "" {
		if _, err := traces.LookupFormat(s.Format); err != nil {
			return v.errf(path+".trace.format", "%v", err)
		}
	}
	files := make([]string, len(s.Files))
	for k, f := range s.Files {
		if !filepath.IsAbs(f) {
			f = filepath.Join(dir, f)
		}
		files[k] = f
	}
	t, err := traces.Open(files, s.Format)
	if err != nil {
		return v.errf(path+".trace.files", "%v", err)
	}
	tw, warn, err := tracedJobs(t, sc, w)
	if err != nil {
		return v.errf(path+".trace", "%v", err)
	}
	for _, m := range warn {
		sc.Warnings = append(sc.Warnings, path+".trace: "+m)
	}
	w.traced = tw
	return nil
}

// tracedJobs turns the trace's jobs into the jobs the workload submits;
// the messages say which were left out and why.
func tracedJobs(t *traces.Trace, sc *Scenario, w *Workload) (*traced, []string, error) {
	s := w.Trace
	flux := sc.Policy.Name == "flux"
	left := map[string]int{}
	var keep []*traces.Job
	for _, j := range t.Jobs {
		switch {
		case s.Scheduler != "" && j.Scheduler != s.Scheduler:
			continue
		case s.Jobs == "flux" && !isFluxJob(j), s.Jobs == "kubernetes" && isFluxJob(j):
			continue
		case !traces.Known(j.Submit):
			left["without a submit time"]++
			continue
		}
		keep = append(keep, j)
	}
	if len(keep) == 0 {
		what := "no job with a submit time"
		if s.Scheduler != "" {
			what += " placed by " + quote(s.Scheduler)
		}
		if s.Jobs != "" {
			what += " of " + s.Jobs
		}
		return nil, nil, fmt.Errorf("the trace has %s (%d jobs read)", what, len(t.Jobs))
	}
	// Submission order, then the trace's order.
	sort.SliceStable(keep, func(a, b int) bool { return keep[a].Submit < keep[b].Submit })
	origin := keep[0].Submit
	tw := &traced{trace: t}
	taints := map[string][]string{}
	for _, n := range t.Nodes {
		taints[n.Name] = n.Taints
	}
	names := map[string]bool{}
	nodes := int(min(sc.poolNodes(), math.MaxInt32)) // bounds a Flux job's shells
	for _, j := range keep {
		tj := tracedJob{id: j.ID, name: traces.JobKey(j.ID), at: w.Arrival.At + j.Submit - origin, run: math.NaN()}
		if names[tj.name] {
			return nil, nil, fmt.Errorf("jobs %s: two jobs of the trace have this name", quote(tj.name))
		}
		names[tj.name] = true
		workers := workerPods(t, j)
		kind := w.Kind
		if kind == "" {
			kind = kindOf(j, flux)
			if _, op := operatorKinds[kind]; op {
				// Without the workload's launcher model the
				// operator's launch is not modelled: its workers
				// run as an Indexed Job.
				kind = "IndexedJob"
			}
		}
		tj.kind = jobKind(kind)
		if s.RunTime != "model" {
			tj.run = traces.RunTimeOf(j)
			if !traces.Known(tj.run) || tj.run < 0 {
				tj.run = medianPodRun(workers)
			}
			if !traces.Known(tj.run) || tj.run < 0 {
				if w.RunTime == nil {
					left["without a run time (give the workload a runTime to use instead)"]++
					continue
				}
				tj.run = math.NaN() // the workload's runTime
			}
		}
		if tj.kind == engine.KindFluxJob {
			f := &engine.FluxSpec{Nodes: j.Nodes, Slots: j.Tasks, CoresPerSlot: max(j.CoresPerTask, 1), GPUsPerSlot: j.GPUsPerTask,
				Exclusive: j.Exclusive || (j.Nodes > 0 && j.Tasks == 0), Walltime: j.Walltime, Urgency: 16}
			if f.Slots == 0 {
				f.Slots = max(f.Nodes, 1)
			}
			if j.CoresPerTask == 0 && len(workers) > 0 {
				// A Kubernetes job run as a Flux job: a task a worker
				// pod, with the cores and GPUs its pod asked for.
				if r := podRequest(workers, j, len(workers)); r.MilliCPU > 0 || r.GPU > 0 {
					f.Slots = len(workers)
					f.CoresPerSlot = int(max((r.MilliCPU+999)/1000, 1))
					f.GPUsPerSlot = int(r.GPU)
				}
			}
			if f.Nodes > 0 && f.Slots%f.Nodes != 0 {
				f.Nodes = 0 // slots anywhere: flux run -n without -N
			}
			if traces.Known(tj.run) {
				f.RunTime = max(tj.run, 1e-3)
			}
			tj.flux, tj.pods = *f, f.Holders(nodes)
		} else {
			tj.pods = len(workers)
			if tj.pods == 0 {
				// No pods recorded: a pod a node when the job names
				// its nodes, else a pod a task (an SWF job's
				// processors, a Flux job run with -n alone), as an
				// MPI job's workers would be.
				switch {
				case j.Nodes > 0:
					tj.pods = j.Nodes
				case j.Tasks > 0:
					tj.pods = j.Tasks
				default:
					tj.pods = 1
				}
			}
			if tj.kind == engine.KindPod {
				tj.pods = 1
			}
			tj.req = podRequest(workers, j, tj.pods)
			tj.ranksPerPod = max(j.Tasks/max(tj.pods, 1), 1)
			tj.tolerate = tolerations(workers, taints)
		}
		tw.jobs = append(tw.jobs, tj)
		tw.pods += int64(tj.pods)
	}
	var warn []string
	keys := make([]string, 0, len(left))
	for k := range left {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		warn = append(warn, fmt.Sprintf("%d jobs %s were left out", left[k], k))
	}
	if len(tw.jobs) == 0 {
		return nil, nil, fmt.Errorf("no job of the trace can be replayed: %s", strings.Join(warn, "; "))
	}
	return tw, warn, nil
}

// kindOf is the kind a recorded job runs as: its own, with a Flux or SWF
// job as a FluxJob under Flux and an Indexed Job under a Kubernetes
// scheduler.
func kindOf(j *traces.Job, flux bool) string {
	switch j.Kind {
	case "MPIJob", "MiniCluster", "PyTorchJob", "Pod", "Job", "IndexedJob":
		return j.Kind
	case "PodGroup", "Pods":
		return "Job" // a group of plain pods
	case "TrainingJob":
		return "IndexedJob"
	}
	if flux {
		return "FluxJob"
	}
	return "IndexedJob"
}

// workerPods are the job's pods but an operator's launcher.
func workerPods(t *traces.Trace, j *traces.Job) []*traces.Pod {
	var w []*traces.Pod
	for _, i := range j.Pods {
		if p := t.Pods[i]; p.Role != "launcher" {
			w = append(w, p)
		}
	}
	return w
}

// medianPodRun is the median of the pods' container run times (NaN when
// none has one).
func medianPodRun(pods []*traces.Pod) float64 {
	var v []float64
	for _, p := range pods {
		if d := p.Finished - p.Started; traces.Known(d) && d >= 0 {
			v = append(v, d)
		}
	}
	if len(v) == 0 {
		return math.NaN()
	}
	slices.Sort(v)
	return v[len(v)/2]
}

// podRequest is what each pod of the job asks for: the first worker's
// recorded requests, else the job's cores and GPUs per task (zero: the
// workload's pod spec decides).
func podRequest(pods []*traces.Pod, j *traces.Job, n int) engine.Resources {
	for _, p := range pods {
		if p.CPU > 0 || p.Memory > 0 || p.GPU > 0 {
			return engine.Resources{MilliCPU: p.CPU, Memory: p.Memory, GPU: p.GPU}
		}
	}
	if j.Tasks > 0 {
		// The job's tasks shared over its n pods (rounded up, so that
		// the pods hold every task), each task its cores (one when the
		// trace does not say: an SWF processor, flux run's default
		// -c 1), GPUs and memory.
		n = max(n, 1)
		per := max((j.Tasks+n-1)/n, 1)
		return engine.Resources{MilliCPU: int64(max(j.CoresPerTask, 1)*per) * 1000, GPU: int64(j.GPUsPerTask * per), Memory: j.MemoryPerTask * int64(per)}
	}
	return engine.Resources{}
}

// tolerations are tolerations of the taints (key=value:Effect or
// key:Effect) of the nodes the pods ran on, each once, in order met.
func tolerations(pods []*traces.Pod, taints map[string][]string) []engine.Toleration {
	var out []engine.Toleration
	seen := map[string]bool{}
	for _, p := range pods {
		for _, s := range taints[p.Node] {
			if seen[s] {
				continue
			}
			seen[s] = true
			k, v, effect, hasValue := traces.SplitTaint(s)
			tol := engine.Toleration{Key: k, Operator: "Exists", Effect: engine.TaintEffect(effect)}
			if hasValue {
				tol.Operator, tol.Value = "Equal", v
			}
			out = append(out, tol)
		}
	}
	return out
}

// submitTraced submits a trace workload's jobs.
func (sc *Scenario) submitTraced(e *engine.Engine, i int) error {
	w := &sc.Workloads[i]
	base := w.template()
	for _, tj := range w.traced.jobs {
		// A Flux job's shells take their request and run time from its
		// FluxSpec and share the workload's template; a pod gets a
		// template of its own only when the trace gives it something.
		tmpl := base
		if tj.kind != engine.KindFluxJob && (tj.req != (engine.Resources{}) || traces.Known(tj.run) || len(base.Containers) == 0 || len(tj.tolerate) > 0) {
			tmpl = withRequest(base, tj.req, tj.run)
			tmpl.Tolerations = append(slices.Clip(tmpl.Tolerations), tj.tolerate...)
		}
		j := &engine.Job{Name: tj.name, Workload: w.Name, Experiment: w.Experiment, Template: tmpl, Kind: tj.kind,
			Parallelism: tj.pods, Completions: tj.pods}
		if tj.kind == engine.KindFluxJob {
			f := tj.flux // the loaded scenario's stays as it was
			j.Flux = &f
		}
		switch {
		case w.PodGroup != nil:
			j.Group = w.group(tj.name)
		case tj.pods > 1 && j.Kind != engine.KindFluxJob:
			// The group label the operators put on a job's pods when
			// a gang scheduler runs (kube-scheduler ignores it): all
			// of the job's pods, with an MPIJob's launcher.
			j.Group = &engine.PodGroup{Name: tj.name, MinMember: tj.pods}
			if j.Kind == engine.KindMPIJob {
				j.Group.MinMember++
			}
		}
		if w.App != nil && w.Trace.RunTime == "model" {
			j.RunModel = sc.runModel(i, "", tmpl)
		}
		if u := sc.res.launcherOf(i); u != nil {
			var rec *recordedRun
			if j.RunModel == nil {
				// The launcher gates the program, whose run is the
				// recorded one.
				total := tj.run
				if !traces.Known(total) {
					total = w.RunTime.D.Mean() // kept only with a runTime
				}
				rec = &recordedRun{total: total}
				j.RunModel = rec
			}
			if err := u.launch(j, tj.ranksPerPod, e.Streams().Get("launchers")); err != nil {
				return fmt.Errorf("workloads[%d]: job %s: %w", i, tj.name, err)
			}
			if lr, ok := j.RunModel.(*launchedRun); ok && rec != nil {
				// The recorded run (the job running → succeeded)
				// holds the launcher's bootstrap and wind-down.
				rec.less = lr.launch + lr.shutdown
			}
		}
		if err := e.Submit(tj.at, j); err != nil {
			return fmt.Errorf("workloads[%d]: job %s (%s): %w", i, tj.name, tj.id, err)
		}
	}
	return nil
}

// recordedRun is a recorded run time as a run model: the total less
// what a launcher adds around the program.
type recordedRun struct{ total, less float64 }

// RunTime implements engine.RunModel.
func (r *recordedRun) RunTime([]engine.NodeShare) (engine.RunResult, error) {
	return engine.RunResult{Seconds: max(r.total-r.less, 1e-3)}, nil
}

// withRequest is tmpl with its first container asking for req (when not
// zero; a container is added to a template without one) and running
// for run seconds (when known).
func withRequest(tmpl *engine.PodTemplate, req engine.Resources, run float64) *engine.PodTemplate {
	t := *tmpl
	if len(t.Containers) == 0 {
		t.Containers = []engine.Container{{Name: "main"}}
	}
	if req != (engine.Resources{}) {
		t.Containers = slices.Clone(t.Containers)
		c := &t.Containers[0]
		c.MilliCPU, c.Memory, c.GPU = req.MilliCPU, req.Memory, req.GPU
	}
	if traces.Known(run) {
		t.RunTime = engine.Const(max(run, 1e-3))
	}
	return &t
}
