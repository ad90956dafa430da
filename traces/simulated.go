package traces

import (
	"math"

	"github.com/convergesim/converge/engine"
)

// FromResult turns a simulated run into a trace, so that it can be
// written in the real formats and compared with a recorded run. Times
// are the run's seconds (Relative); job IDs are the jobs' names.
func FromResult(res *engine.Result) *Trace {
	t := &Trace{Relative: true, Start: NaN}
	for _, n := range res.Cluster.Nodes {
		if n.Nested {
			continue // a Kubernetes node inside a machine: the machine is the node
		}
		a := n.Allocatable
		t.Nodes = append(t.Nodes, &Node{Name: n.Name, CPU: a.MilliCPU, Memory: a.Memory, GPU: a.GPU, Pods: a.Pods,
			Labels: n.Labels, Unschedulable: n.Unschedulable, Ready: true})
	}
	for _, j := range res.Jobs {
		tj, _ := t.Job(j.Name)
		tj.Name, tj.Kind = j.Name, j.Kind.String()
		tj.Scheduler = SchedulerOf(res.Policy)
		tj.Submit = orNaN(j.Submitted)
		tj.End = orNaN(j.Finished)
		tj.Tasks = len(j.Pods)
		if f := j.Flux; f != nil {
			tj.Nodes, tj.Tasks, tj.CoresPerTask, tj.GPUsPerTask = f.Nodes, f.Slots, f.CoresPerSlot, f.GPUsPerSlot
			tj.Exclusive = f.Exclusive
			tj.Walltime = f.Walltime
			tj.Alloc = orNaN(f.Alloc)
		}
		switch {
		case engine.IsSet(j.Finished) && j.Flux != nil && j.Flux.TimedOut():
			tj.Status = "timeout"
		case engine.IsSet(j.Finished) && j.Flux != nil && j.Flux.Killed():
			tj.Status = "cancelled"
		case engine.IsSet(j.Finished):
			tj.Status, tj.ExitCode = "completed", 0
		case j.IsRejected():
			tj.Status = "failed"
		default:
			tj.Status = "pending"
		}
		for _, p := range j.Pods {
			tp, _ := t.Pod("default", p.Name)
			tp.Job = tj.ID
			tp.Index = p.Index
			switch {
			case p.Launcher:
				tp.Role = "launcher"
			case j.Kind == engine.KindMPIJob || j.Kind == engine.KindPyTorchJob:
				tp.Role = "worker"
			}
			tp.Scheduler = SchedulerOf(res.Policy)
			if p.Node != nil {
				tp.Node = p.Node.Name
				if h := p.Node.Host; h != nil {
					tp.Node = h.Name
				}
			}
			tp.Phase = p.Phase.String()
			tp.CPU, tp.Memory, tp.GPU = p.Requests.MilliCPU, p.Requests.Memory, p.Requests.GPU
			tp.Created = orNaN(p.Created)
			tp.Scheduled = orNaN(p.Scheduled)
			tp.Initialized = orNaN(p.Initialized)
			tp.Started = orNaN(p.ContainersStarted)
			tp.ContainersReady = orNaN(p.ContainersStarted)
			tp.Ready = orNaN(p.Ready)
			tp.Finished = orNaN(p.Finished)
			if p.PullSeconds > 0 {
				tp.Pull = p.PullSeconds
			}
		}
	}
	t.Link("Job")
	// A Flux job's start is its shells' start; its pods are its shells
	// (one per node) and hold no Kubernetes meaning.
	for _, j := range res.Jobs {
		if j.Flux == nil {
			continue
		}
		tj := t.FindJob(j.Name)
		tj.Startup = NaN
		if engine.IsSet(j.Started) {
			tj.Start = j.Started
		}
		// The processors R gave it (SWF's allocated processors): its
		// shells' cores, whole nodes for an exclusive job.
		if engine.IsSet(j.Flux.Alloc) {
			var milli int64
			for _, p := range j.Pods {
				milli += p.Requests.MilliCPU
			}
			tj.Procs = int((milli + 999) / 1000)
		}
	}
	return t
}

func orNaN(v float64) float64 {
	if math.IsInf(v, 0) {
		return NaN
	}
	return v
}
