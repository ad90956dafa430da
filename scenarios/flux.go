package scenarios

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/workloads"
)

// FluxSpec is a FluxJob workload's request: the options of flux run /
// flux submit.
type FluxSpec struct {
	// Nodes is -N (0: the tasks go wherever cores are free).
	Nodes int `yaml:"nodes"`
	// Tasks is -n (default: one per node); CoresPerTask -c (default
	// 1) and GPUsPerTask -g.
	Tasks        int `yaml:"tasks"`
	CoresPerTask int `yaml:"coresPerTask"`
	GPUsPerTask  int `yaml:"gpusPerTask"`
	// Exclusive is --exclusive: whole nodes (default: true when nodes
	// is given without tasks, as flux-core does).
	Exclusive *bool `yaml:"exclusive"`
	// Walltime is -t in seconds (0: unlimited).
	Walltime float64 `yaml:"walltime"`
	// Urgency is --urgency, 0..31 (default 16).
	Urgency *int `yaml:"urgency"`
}

// BatchSpec makes a FluxJob workload a synthetic batch workload: every
// job draws its size, run time and requested walltime (workloads.SizeDist
// and workloads.WalltimeModel).
type BatchSpec struct {
	Nodes    BatchSizes    `yaml:"nodes"`
	RunTime  *Dist         `yaml:"runTime"`
	Walltime BatchWalltime `yaml:"walltime"`
}

// BatchSizes is workloads.SizeDist.
type BatchSizes struct {
	Min    int     `yaml:"min"`
	Max    int     `yaml:"max"`
	Serial float64 `yaml:"serial"`
	Pow2   float64 `yaml:"pow2"`
}

// BatchWalltime is workloads.WalltimeModel.
type BatchWalltime struct {
	Factor float64   `yaml:"factor"`
	Round  []float64 `yaml:"round"`
	Killed float64   `yaml:"killed"`
}

// ShellSpec overrides the Flux job shell's start-up cost
// (startup.shell; engine.DefaultShellStart).
type ShellSpec struct {
	Base    *float64 `yaml:"base"`
	PerNode *float64 `yaml:"perNode"`
}

func (s *ShellSpec) apply(d engine.ShellStart) engine.ShellStart {
	if s == nil {
		return d
	}
	if s.Base != nil {
		d.Base = *s.Base
	}
	if s.PerNode != nil {
		d.PerNode = *s.PerNode
	}
	return d
}

func (b *BatchSpec) sizes() workloads.SizeDist {
	s := workloads.SizeDist{Min: b.Nodes.Min, Max: b.Nodes.Max, Serial: b.Nodes.Serial, Pow2: b.Nodes.Pow2}
	if s.Min == 0 {
		s.Min = 1
	}
	if s.Max == 0 {
		s.Max = s.Min
	}
	return s
}

func (b *BatchSpec) walltime() workloads.WalltimeModel {
	w := workloads.WalltimeModel{Factor: b.Walltime.Factor, Round: b.Walltime.Round, Killed: b.Walltime.Killed}
	if w.Factor == 0 {
		w.Factor = 1
	}
	return w
}

// fluxSpec is the engine's request of one job of FluxJob workload w;
// a batch workload draws its job from r.
func (w *Workload) fluxSpec(r *rand.Rand) *engine.FluxSpec {
	s := w.Flux
	if s == nil {
		s = &FluxSpec{}
	}
	f := &engine.FluxSpec{Nodes: s.Nodes, Slots: s.Tasks, CoresPerSlot: max(s.CoresPerTask, 1), GPUsPerSlot: s.GPUsPerTask, Walltime: s.Walltime, Urgency: 16}
	if s.Urgency != nil {
		f.Urgency = *s.Urgency
	}
	if b := w.Batch; b != nil {
		n := b.sizes().Draw(r)
		per := 1
		if s.Nodes > 0 && s.Tasks > 0 {
			per = s.Tasks / s.Nodes
		}
		f.Nodes, f.Slots = n, n*per
		run := b.RunTime.D.Sample(r)
		f.RunTime, f.Walltime = b.walltime().Draw(run, r)
		f.RunTime = math.Max(f.RunTime, 1e-3)
	}
	if f.Slots == 0 {
		f.Slots = max(f.Nodes, 1)
	}
	switch {
	case s.Exclusive != nil:
		f.Exclusive = *s.Exclusive
	default:
		f.Exclusive = f.Nodes > 0 && (s.Tasks == 0 || w.Batch != nil)
	}
	return f
}

// fluxWorkload checks what is particular to a FluxJob workload.
func (v *validator) fluxWorkload(w *Workload, path string) error {
	switch {
	case w.Kind != "FluxJob":
		field := ".flux"
		if w.Flux == nil {
			field = ".batch"
		}
		return v.errf(path+field, "only a FluxJob has a Flux request or a batch generator (kind is %s)", quote(w.Kind))
	case w.PodGroup != nil:
		return v.errf(path+".podGroup", "a FluxJob has no pod group: Flux allocates the whole job at once")
	case w.Parallelism != 0 || w.Completions != 0:
		return v.errf(path+".parallelism", "a FluxJob's size is flux.nodes and flux.tasks, not parallelism or completions")
	case len(w.Pod.Containers) > 0 || len(w.Pod.InitContainers) > 0:
		return v.errf(path+".pod", "a FluxJob runs on bare metal (no pod, no image); give its request under flux")
	case w.RunTime == nil && w.App == nil && w.Batch == nil:
		return v.errf(path+".runTime", "required (seconds, or a distribution), or an app model, or a batch generator")
	case w.Batch != nil && (w.RunTime != nil || w.App != nil):
		return v.errf(path+".batch", "a batch generator draws each job's run time (batch.runTime); leave out runTime and app")
	}
	f := w.Flux
	if f == nil {
		f = &FluxSpec{}
	}
	fp := path + ".flux"
	for _, c := range []struct {
		field string
		x     int
	}{{"nodes", f.Nodes}, {"tasks", f.Tasks}, {"coresPerTask", f.CoresPerTask}, {"gpusPerTask", f.GPUsPerTask}} {
		if c.x < 0 || c.x > 1<<20 {
			return v.errf(fp+"."+c.field, "must be between 0 and %d, got %d", 1<<20, c.x)
		}
	}
	switch {
	case w.Batch == nil && f.Nodes == 0 && f.Tasks == 0:
		return v.errf(fp+".nodes", "required: nodes (flux run -N) or tasks (-n)")
	case f.Nodes > 0 && f.Tasks > 0 && f.Tasks%f.Nodes != 0:
		return v.errf(fp+".tasks", "%d tasks do not divide evenly over %d nodes", f.Tasks, f.Nodes)
	case f.Tasks > 0 && f.Nodes == 0 && w.Batch != nil:
		return v.errf(fp+".tasks", "a batch job's size is drawn in nodes: give tasks with nodes (tasks per node = tasks ÷ nodes)")
	case f.Exclusive != nil && *f.Exclusive && f.Nodes == 0 && w.Batch == nil:
		return v.errf(fp+".exclusive", "needs nodes (flux run --exclusive needs -N)")
	case f.Urgency != nil && (*f.Urgency < 0 || *f.Urgency > 31):
		return v.errf(fp+".urgency", "must be in 0..31, got %d", *f.Urgency)
	}
	if err := v.duration(fp+".walltime", f.Walltime); err != nil {
		return err
	}
	if b := w.Batch; b != nil {
		bp := path + ".batch"
		if err := b.sizes().Validate(); err != nil {
			return v.errf(bp+".nodes", "%v", err)
		}
		if b.RunTime == nil {
			return v.errf(bp+".runTime", "required: the distribution of the jobs' run times")
		}
		if err := b.walltime().Validate(); err != nil {
			return v.errf(bp+".walltime", "%v", err)
		}
		for i, r := range b.Walltime.Round {
			if err := v.duration(fmt.Sprintf("%s.walltime.round[%d]", bp, i), r); err != nil {
				return err
			}
		}
	}
	return nil
}

// schedulerOf checks that workload i's scheduler can run it: Flux runs
// FluxJobs on bare metal and the Kubernetes schedulers run the rest.
func (v *validator) schedulerOf(sc *Scenario, i int) error {
	w := &sc.Workloads[i]
	if t := w.traced; t != nil && w.Kind == "" {
		// A trace workload's jobs each keep their kind: check each.
		seen := map[engine.JobKind]bool{}
		for _, j := range t.jobs {
			if seen[j.kind] {
				continue
			}
			seen[j.kind] = true
			c := *w
			c.Kind = j.kind.String()
			if err := v.schedulerOfKind(sc, i, &c); err != nil {
				return err
			}
		}
		return nil
	}
	return v.schedulerOfKind(sc, i, w)
}

// schedulerOfKind checks that workload w (number i) can run under the
// scenario's scheduler.
func (v *validator) schedulerOfKind(sc *Scenario, i int, w *Workload) error {
	flux := sc.Policy.Name == "flux"
	un := ""
	if sc.Usernetes != nil {
		un = sc.Usernetes.Name
	}
	switch {
	case w.Cluster != "" && (un == "" || w.Cluster != un):
		return v.errf(fmt.Sprintf("workloads[%d].cluster", i), "%s is not a nested cluster of the scenario (usernetes.name)", quote(w.Cluster))
	case w.Cluster != "" && w.Kind == "FluxJob":
		return v.errf(fmt.Sprintf("workloads[%d].cluster", i), "a FluxJob runs on Flux's machines, not in Kubernetes")
	case flux && w.Kind != "FluxJob" && w.Cluster == "":
		if un != "" {
			return v.errf(fmt.Sprintf("workloads[%d].cluster", i), "required: under policy flux %s %s runs in Usernetes (cluster: %s)", article(w.Kind), w.Kind, un)
		}
		msg := fmt.Sprintf("policy flux schedules FluxJob workloads on bare metal, not %s %s (or give a usernetes cluster for it)", article(w.Kind), w.Kind)
		if w.Trace != nil {
			// A replay: the recorded jobs keep their kind unless told.
			msg += fmt.Sprintf("; to replay its jobs as Flux jobs, give kind: FluxJob (sim replay --policy 'flux,workloads[%d].kind=FluxJob')", i)
		}
		return v.errf(fmt.Sprintf("workloads[%d].kind", i), "%s", msg)
	case !flux && w.Kind == "FluxJob":
		return v.errf(fmt.Sprintf("workloads[%d].kind", i), "a FluxJob needs policy flux (policy.name is %s)", quote(sc.Policy.Name))
	}
	return nil
}

// shell checks startup.shell.
func (v *validator) shell(s *ShellSpec) error {
	if s == nil {
		return nil
	}
	for _, c := range []struct {
		field string
		x     *float64
	}{{"base", s.Base}, {"perNode", s.PerNode}} {
		if c.x == nil {
			continue
		}
		if err := v.duration("startup.shell."+c.field, *c.x); err != nil {
			return err
		}
	}
	return nil
}
