package scenarios

import (
	"fmt"
	"slices"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/policies"
	"github.com/convergesim/converge/policies/flux"
)

// UsernetesSpec is a Kubernetes cluster in user namespaces that a Flux
// job brings up on the machines Flux gives it (policy flux only):
// one control plane and workers; the workloads with cluster: <name>
// run there under its own scheduler.
type UsernetesSpec struct {
	Name string `yaml:"name"`
	// Workers is the worker count; the control plane takes one more
	// machine (tainted NoSchedule, as kubeadm leaves it).
	Workers int `yaml:"workers"`
	// Share says how a machine is shared: split (default) gives
	// Kubernetes cores of each machine and Flux keeps the rest; all
	// lets both use every core, and the jobs on a machine contend for
	// its CPU, memory bandwidth and NIC.
	Share string `yaml:"share"`
	// Cores is Kubernetes' cores on each machine under split.
	Cores int `yaml:"cores"`
	// Memory is each Kubernetes node's allocatable memory (default:
	// the machine's).
	Memory Bytes `yaml:"memory"`
	// At is when the bring-up job is submitted to Flux; BringUp the
	// time from its allocation to the nodes Ready; TearDown the time
	// from the last Kubernetes job's end to the machines given back.
	At       float64 `yaml:"at"`
	BringUp  float64 `yaml:"bringUp"`
	TearDown float64 `yaml:"tearDown"`
	// Scheduler is the Kubernetes scheduler inside (kube, coscheduling,
	// fluence; default kube); its sections are policy.<section>.
	Scheduler string `yaml:"scheduler"`
}

const (
	shareSplit = "split"
	shareAll   = "all"
)

// SchedulerName is the Kubernetes scheduler inside (default kube).
func (u *UsernetesSpec) SchedulerName() string { return u.scheduler() }

func (u *UsernetesSpec) scheduler() string {
	if u.Scheduler == "" {
		return "kube"
	}
	return u.Scheduler
}

// usernetes checks the usernetes block.
func (v *validator) usernetes(sc *Scenario) error {
	u := sc.Usernetes
	if u == nil {
		return nil
	}
	pool := sc.Cluster.Pools[0]
	switch {
	case sc.Policy.Name != "flux":
		return v.errf("usernetes", "Flux brings Usernetes up: needs policy flux (policy.name is %s)", quote(sc.Policy.Name))
	case !dnsName.MatchString(u.Name):
		return v.errf("usernetes.name", "%s is not a valid object name (lower-case letters, digits, '-' and '.')", quote(u.Name))
	case u.Workers < 1 || u.Workers+1 > pool.Count:
		return v.errf("usernetes.workers", "must be between 1 and %d (the control plane takes one more of pool %s's %d machines), got %d", pool.Count-1, pool.Name, pool.Count, u.Workers)
	case u.Share != "" && u.Share != shareSplit && u.Share != shareAll:
		return v.errf("usernetes.share", "unknown sharing %s (valid: split, all)", quote(u.Share))
	case (u.Share == "" || u.Share == shareSplit) && (u.Cores < 1 || int64(u.Cores)*1000 >= int64(pool.CPU)):
		return v.errf("usernetes.cores", "split gives Kubernetes some of each machine's %d cores and Flux the rest: must be between 1 and %d, got %d", int64(pool.CPU)/1000, int64(pool.CPU)/1000-1, u.Cores)
	case u.Share == shareAll && u.Cores != 0:
		return v.errf("usernetes.cores", "share all gives Kubernetes every core; cores is for split")
	case u.Memory < 0 || int64(u.Memory) > int64(pool.Memory):
		return v.errf("usernetes.memory", "must be between 0 and the machine's %d bytes", int64(pool.Memory))
	case !slices.Contains(Policies.Names(), u.scheduler()) || Policies.Canonical(u.scheduler()) == "flux":
		return v.errf("usernetes.scheduler", "unknown Kubernetes scheduler %s (valid: kube, coscheduling, fluence)", quote(u.scheduler()))
	}
	for _, c := range []struct {
		f string
		x float64
	}{{"at", u.At}, {"bringUp", u.BringUp}, {"tearDown", u.TearDown}} {
		if err := v.duration("usernetes."+c.f, c.x); err != nil {
			return err
		}
	}
	for i := range sc.Cluster.Pools[1:] {
		if p := sc.Cluster.Pools[i+1]; p.CPU != pool.CPU || p.Memory != pool.Memory || p.GPUs != pool.GPUs {
			return v.errf(fmt.Sprintf("cluster.pools[%d]", i+1), "Usernetes' nodes take the shape of the machines Flux gives them: every pool must have pool %s's cpu, memory and gpus", pool.Name)
		}
	}
	return nil
}

// k8sJobs counts the Kubernetes jobs of the scenario (they run in
// Usernetes).
func (sc *Scenario) k8sJobs() int {
	n := 0
	for i := range sc.Workloads {
		w := &sc.Workloads[i]
		if w.Kind != "FluxJob" && !sc.inWorkflow(w.Name) {
			n += max(w.Count, 1) * max(len(w.Runtimes), 1)
		}
	}
	return n
}

// usernetesNodes are the cluster's Kubernetes nodes: the control plane
// and the workers, cordoned until the cluster is up, shaped after the
// first pool's machines.
func (sc *Scenario) usernetesNodes() []*engine.Node {
	u := sc.Usernetes
	pool := sc.Cluster.Pools[0]
	cpu := int64(pool.CPU)
	if u.Share != shareAll {
		cpu = int64(u.Cores) * 1000
	}
	mem := int64(pool.Memory)
	if u.Memory > 0 {
		mem = int64(u.Memory)
	}
	pods := pool.Pods
	if pods == 0 {
		pods = DefaultMaxPods
	}
	out := make([]*engine.Node, u.Workers+1)
	for i := range out {
		n := &engine.Node{Index: i, Name: fmt.Sprintf("%s-worker-%d", u.Name, i), Pool: pool.Name, Unschedulable: true, Nested: true,
			Allocatable: engine.Resources{MilliCPU: cpu, Memory: mem, GPU: pool.GPUs, Pods: pods}}
		n.Labels = map[string]string{}
		if i == 0 {
			n.Name = u.Name + "-control-plane"
			n.Labels[engine.LabelControlPlane] = ""
			n.Taints = []engine.Taint{{Key: engine.LabelControlPlane, Effect: "NoSchedule"}}
		}
		n.Labels[engine.LabelHostname] = n.Name
		out[i] = n
	}
	return out
}

// bringUpJob is the Flux job that brings the cluster up: a shell on
// each machine holding Kubernetes' cores until the cluster is torn down
// (split), or one core while it brings the cluster up (all).
func (sc *Scenario) bringUpJob() *engine.Job {
	u := sc.Usernetes
	cores, run := u.Cores, float64(MaxDuration) // held until torn down
	if u.Share == shareAll {
		// A core for the bring-up; the daemons run on outside Flux.
		cores, run = 1, max(u.BringUp, 1e-3)
	}
	return &engine.Job{Name: "usernetes-" + u.Name, Workload: "usernetes", Template: &engine.PodTemplate{},
		Flux: &engine.FluxSpec{Nodes: u.Workers + 1, Slots: u.Workers + 1, CoresPerSlot: cores, Urgency: flux.DefaultUrgency, RunTime: run}}
}

// nestedPolicy wraps Flux around Usernetes' scheduler.
func (sc *Scenario) nestedPolicy(f engine.Policy, streams *engine.Streams, nodes []*engine.Node, job *engine.Job) (engine.Policy, error) {
	u := sc.Usernetes
	fp, ok := f.(*flux.Policy)
	if !ok {
		return nil, fmt.Errorf("usernetes: policy %s is not Flux", f.Name())
	}
	inner, err := Policies.New(u.scheduler(), policies.NewConfig(sc.Policy.Sections), streams)
	if err != nil {
		return nil, fmt.Errorf("usernetes: scheduler: %w", err)
	}
	return flux.NewNested(fp, inner, &flux.Usernetes{Name: u.Name, Job: job, Nodes: nodes, BringUp: u.BringUp, TearDown: u.TearDown, Jobs: sc.k8sJobs()})
}
