package scenarios

import (
	"fmt"
	"strings"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/network"
	"github.com/convergesim/converge/policies"
	"github.com/convergesim/converge/workloads"
)

// DefaultMaxPods is the kubelet's default maxPods.
const DefaultMaxPods = 110

// Build wires a validated scenario into an engine ready to Run.
// It refuses a scenario with more nodes, jobs or pods than a run can
// number (MaxIDs); the memory limit is the caller's (CheckSize).
func Build(sc *Scenario) (*engine.Engine, error) {
	if err := CheckSize(sc, Limits{}); err != nil {
		return nil, err
	}
	streams := engine.NewStreams(sc.Seed)
	nodes := Nodes(&sc.Cluster)
	var k8sNodes []*engine.Node
	var bringUp *engine.Job
	if sc.Usernetes != nil {
		// Kubernetes' nodes come first, so that its scheduler's view
		// (a prefix of the nodes) keeps their positions.
		k8sNodes = sc.usernetesNodes()
		nodes = append(k8sNodes, nodes...)
		bringUp = sc.bringUpJob()
	}
	cfg := engine.Config{
		Seed:         sc.Seed,
		Streams:      streams,
		Nodes:        nodes,
		Startup:      sc.Startup.apply(engine.DefaultStartup()),
		Controllers:  sc.Controllers.apply(engine.DefaultControllers()),
		Horizon:      sc.Until,
		StallTimeout: sc.StallTimeout,
		Record:       sc.Outputs.Events == nil || *sc.Outputs.Events,
		Shell:        sc.Startup.Shell.apply(engine.DefaultShellStart()),
	}
	pol, err := Policies.New(sc.Policy.Name, policies.NewConfig(sc.Policy.Sections), streams)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	if sc.Usernetes != nil {
		if pol, err = sc.nestedPolicy(pol, streams, k8sNodes, bringUp); err != nil {
			return nil, err
		}
	}
	e, err := engine.New(cfg, pol)
	if err != nil {
		return nil, err
	}
	if bringUp != nil {
		if err := e.Submit(sc.Usernetes.At, bringUp); err != nil {
			return nil, fmt.Errorf("usernetes: %w", err)
		}
	}
	arrivals := e.Streams().Get("arrivals")
	// Each launched job's bootstrap, in job order.
	launches := e.Streams().Get("launchers")
	// Each batch job's size, run time and walltime, in job order.
	batch := e.Streams().Get("batch")
	for i := range sc.Workloads {
		w := &sc.Workloads[i]
		if sc.inWorkflow(w.Name) {
			continue // its runs are the workflow's (startWorkflows)
		}
		if w.traced != nil {
			if err := sc.submitTraced(e, i); err != nil {
				return nil, err
			}
			continue
		}
		tmpl := w.template()
		count := max(w.Count, 1)
		runtimes := w.Runtimes
		if len(runtimes) == 0 {
			runtimes = []string{""}
		}
		// Every job runs once per runtime; the copies take consecutive
		// arrivals (job k in runtime r at arrival k·len(runtimes)+r).
		times := w.arrival().Times(count*len(runtimes), arrivals)
		for r, rt := range runtimes {
			for k := range count {
				at := times[k*len(runtimes)+r]
				name := w.Name
				if rt != "" && len(runtimes) > 1 {
					name += "-" + rt
				}
				if count > 1 {
					name = fmt.Sprintf("%s-%d", name, k)
				}
				j := &engine.Job{Name: name, Workload: w.Name, Experiment: w.Experiment, Runtime: rt, Template: tmpl, Group: w.group(name)}
				if w.App != nil {
					if sc.res == nil || sc.res.apps[i] == nil {
						return nil, fmt.Errorf("workloads[%d]: the app model is not loaded (build a scenario from Load or Parse)", i)
					}
					j.RunModel = sc.runModel(i, rt, tmpl)
				}
				setSize(w, j)
				if w.Kind == "FluxJob" {
					j.Flux = w.fluxSpec(batch)
				}
				if u := sc.res.launcherOf(i); u != nil {
					if err := u.launch(j, sc.ranksPerPod(w, tmpl), launches); err != nil {
						return nil, fmt.Errorf("workloads[%d]: job %s: %w", i, name, err)
					}
				}
				if err := e.Submit(at, j); err != nil {
					return nil, fmt.Errorf("workloads[%d]: %w", i, err)
				}
			}
		}
	}
	if err := sc.startWorkflows(e); err != nil {
		return nil, fmt.Errorf("workflows: %w", err)
	}
	return e, nil
}

// runModel is the app model of workload i in runtime rt.
func (sc *Scenario) runModel(i int, rt string, tmpl *engine.PodTemplate) engine.RunModel {
	w := &sc.Workloads[i]
	res := sc.res
	perPod := sc.ranksPerPod(w, tmpl)
	bg := sc.runtime(rt).Background
	return &appRun{
		spec: w.App, fit: res.apps[i], pools: res.pools, perPod: perPod, bg: bg,
		cpuShared: sc.Usernetes != nil && sc.Usernetes.Share == shareAll,
		fabric:    &network.Fabric{Inter: res.runtimes[rt], Intra: res.intraOf(rt), Topology: res.topology},
	}
}

// ranksPerPod is the MPI ranks each pod of app workload w runs: its
// ranksPerPod, or the pod's CPU request in whole cores (at least 1).
func (sc *Scenario) ranksPerPod(w *Workload, tmpl *engine.PodTemplate) int {
	if n := w.App.RanksPerPod; n > 0 {
		return n
	}
	return max(int(tmpl.Requests().MilliCPU/1000), 1)
}

// launcherOf is workload i's launcher (nil: none, or no resolution).
func (r *resolved) launcherOf(i int) *launcherUse {
	if r == nil || i >= len(r.launchers) {
		return nil
	}
	return r.launchers[i]
}

func (sc *Scenario) runtime(name string) *Runtime {
	for i := range sc.Runtimes {
		if sc.Runtimes[i].Name == name {
			return &sc.Runtimes[i]
		}
	}
	return &Runtime{}
}

// setSize sets the job's kind, parallelism and completions from its
// workload.
func setSize(w *Workload, j *engine.Job) {
	j.Kind = jobKind(w.Kind)
	j.Parallelism = max(w.Parallelism, 1)
	j.Completions = w.Completions
	if j.Completions == 0 {
		j.Completions = j.Parallelism
	}
}

// Nodes builds the cluster's nodes: pool <name> gives nodes <name>-0 …
// <name>-(count−1), spread round-robin over the pool's zones and split in
// order into its racks.
func Nodes(c *Cluster) []*engine.Node {
	var nodes []*engine.Node
	for _, p := range c.Pools {
		pods := p.Pods
		if pods == 0 {
			pods = DefaultMaxPods
		}
		for i := range p.Count {
			n := &engine.Node{
				Name: fmt.Sprintf("%s-%d", p.Name, i),
				Pool: p.Name,
				Allocatable: engine.Resources{
					MilliCPU: int64(p.CPU), Memory: int64(p.Memory), GPU: p.GPUs, Pods: pods,
				},
				Unschedulable: p.Unschedulable,
				Labels:        map[string]string{},
			}
			for k, v := range p.Labels {
				n.Labels[k] = v
			}
			n.Labels[engine.LabelHostname] = n.Name
			if len(p.Zones) > 0 {
				n.Zone = p.Zones[i%len(p.Zones)]
				n.Labels[engine.LabelZone] = n.Zone
			}
			if p.Racks > 0 {
				n.Rack = fmt.Sprintf("%s-rack%d", p.Name, i*p.Racks/p.Count)
			}
			for _, t := range p.Taints {
				n.Taints = append(n.Taints, engine.Taint{Key: t.Key, Value: t.Value, Effect: engine.TaintEffect(t.Effect)})
			}
			if len(p.Images) > 0 {
				n.Preloaded = map[string]int64{}
				for _, im := range p.Images {
					n.Preloaded[im.Image] = int64(im.Size)
				}
			}
			nodes = append(nodes, n)
		}
	}
	return nodes
}

func (s *Startup) apply(d engine.Startup) engine.Startup {
	setDist := func(dst *engine.Dist, src *Dist) {
		if src != nil {
			*dst = src.D
		}
	}
	setDist(&d.BindLatency, s.BindLatency)
	setDist(&d.SyncDelay, s.SyncDelay)
	setDist(&d.Sandbox, s.Sandbox)
	setDist(&d.ContainerStart, s.ContainerStart)
	setDist(&d.ManifestCheck, s.ManifestCheck)
	setDist(&d.PullOverhead, s.PullOverhead)
	if s.SandboxConcurrency != nil {
		d.SandboxConcurrency = *s.SandboxConcurrency
	}
	if s.RegistryBandwidth != nil {
		d.RegistryBandwidth = float64(*s.RegistryBandwidth)
	}
	if s.NodeBandwidth != nil {
		d.NodeBandwidth = float64(*s.NodeBandwidth)
	}
	if s.SerializeImagePulls != nil {
		d.SerializeImagePulls = *s.SerializeImagePulls
	}
	setF := func(dst *float64, src *float64) {
		if src != nil {
			*dst = *src
		}
	}
	setF(&d.RegistryPullQPS, s.RegistryPullQPS)
	setF(&d.ImageBackoffInitial, s.ImageBackoffInitial)
	setF(&d.ImageBackoffMax, s.ImageBackoffMax)
	setF(&d.PodWorkerBackoff, s.PodWorkerBackoff)
	setF(&d.PodWorkerJitter, s.PodWorkerJitter)
	setF(&d.SyncLoopPeriod, s.SyncLoopPeriod)
	if s.RegistryBurst != nil {
		d.RegistryBurst = *s.RegistryBurst
	}
	return d
}

func (c *Controllers) apply(d engine.Controllers) engine.Controllers {
	if c.JobQPS != nil {
		d.JobQPS = *c.JobQPS
	}
	if c.JobBurst != nil {
		d.JobBurst = *c.JobBurst
	}
	if c.ClientQPS != nil {
		d.ClientQPS = *c.ClientQPS
	}
	if c.ClientBurst != nil {
		d.ClientBurst = *c.ClientBurst
	}
	if c.CreateLatency != nil {
		d.CreateLatency = c.CreateLatency.D
	}
	return d
}

func (w *Workload) arrival() workloads.Arrival {
	a := w.Arrival
	switch a.Pattern {
	case "interval":
		return workloads.FixedInterval{Start: a.At, Every: a.Interval}
	case "poisson":
		return workloads.Poisson{Start: a.At, Rate: a.Rate}
	}
	return workloads.AllAtOnce{At: a.At}
}

// defaultPullPolicy is Kubernetes' defaulting: Always for an image tagged
// :latest or untagged, IfNotPresent otherwise.
func defaultPullPolicy(image string) engine.PullPolicy {
	if strings.Contains(image, "@") {
		return engine.PullIfNotPresent
	}
	name := image[strings.LastIndex(image, "/")+1:]
	_, tag, ok := strings.Cut(name, ":")
	if !ok || tag == "latest" {
		return engine.PullAlways
	}
	return engine.PullIfNotPresent
}

func containers(cs []ContainerSpec) []engine.Container {
	out := make([]engine.Container, len(cs))
	for i, c := range cs {
		pp := engine.PullPolicy(c.PullPolicy)
		if pp == "" {
			pp = defaultPullPolicy(c.Image)
		}
		out[i] = engine.Container{
			Name: c.Name, Image: c.Image, ImageSize: int64(c.ImageSize), PullPolicy: pp,
			MilliCPU: int64(c.CPU), Memory: int64(c.Memory), GPU: c.GPUs,
		}
		if c.Duration != nil {
			out[i].Duration = c.Duration.D
		}
	}
	return out
}

func (w *Workload) template() *engine.PodTemplate {
	t := podTemplate(&w.Pod)
	if w.RunTime != nil {
		t.RunTime = w.RunTime.D
	}
	return t
}

// podTemplate is the engine's template of a pod spec (no run time).
func podTemplate(p *PodSpec) *engine.PodTemplate {
	t := &engine.PodTemplate{
		Containers:       containers(p.Containers),
		InitContainers:   containers(p.InitContainers),
		Priority:         p.Priority,
		NodeSelector:     p.NodeSelector,
		SpreadSelectable: p.SpreadSelectable,
	}
	if p.Overhead != nil {
		t.Overhead = engine.Resources{MilliCPU: int64(p.Overhead.CPU), Memory: int64(p.Overhead.Memory)}
	}
	if p.ReadinessDelay != nil {
		t.ReadinessDelay = p.ReadinessDelay.D
	}
	for _, tol := range p.Tolerations {
		t.Tolerations = append(t.Tolerations, engine.Toleration{Key: tol.Key, Operator: tol.Operator, Value: tol.Value, Effect: engine.TaintEffect(tol.Effect)})
	}
	if a := p.Affinity; a != nil {
		na := &engine.NodeAffinity{}
		for _, term := range a.Required {
			na.Required = append(na.Required, engine.NodeSelectorTerm{MatchExpressions: requirements(term.MatchExpressions)})
		}
		for _, term := range a.Preferred {
			na.Preferred = append(na.Preferred, engine.PreferredSchedulingTerm{Weight: term.Weight, Term: engine.NodeSelectorTerm{MatchExpressions: requirements(term.MatchExpressions)}})
		}
		t.Affinity = na
	}
	return t
}

func requirements(es []MatchExpression) []engine.NodeSelectorRequirement {
	out := make([]engine.NodeSelectorRequirement, len(es))
	for i, e := range es {
		out[i] = engine.NodeSelectorRequirement{Key: e.Key, Operator: e.Operator, Values: e.Values}
	}
	return out
}

// group is the PodGroup of the workload's job name (nil without a
// podGroup block).
func (w *Workload) group(name string) *engine.PodGroup {
	g := w.PodGroup
	if g == nil {
		return nil
	}
	pg := &engine.PodGroup{Name: name, MinMember: g.MinMember, ScheduleTimeoutSeconds: g.ScheduleTimeoutSeconds}
	if pg.MinMember == 0 {
		pg.MinMember = max(w.Parallelism, 1)
		if w.Kind == "MPIJob" {
			// mpi-operator's default minAvailable: the workers and
			// the launcher.
			pg.MinMember++
		}
	}
	if r := g.MinResources; r != nil {
		pg.MinResources = engine.Resources{MilliCPU: int64(r.CPU), Memory: int64(r.Memory)}
	}
	return pg
}
