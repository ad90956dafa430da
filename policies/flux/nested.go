package flux

import (
	"fmt"

	"github.com/convergesim/converge/engine"
)

// Usernetes is a Kubernetes cluster in user namespaces that a Flux job
// brings up on the machines Flux gives it: one control plane and
// workers. Its Kubernetes nodes are nodes of their own in the engine
// (cordoned until the cluster is up) that run on those machines
// (engine.Node.Host): they share the machines' CPU, memory bandwidth and
// NIC with whatever else Flux runs there.
type Usernetes struct {
	Name string
	// Job is the Flux job that brings the cluster up: one shell per
	// machine. When cores are split it holds Kubernetes' cores until the
	// cluster is torn down; when both use every core it holds a core
	// for the bring-up only, and the daemons it started run on outside
	// Flux's view (as Usernetes' systemd user services do). The
	// scenario submits it.
	Job *engine.Job
	// Nodes are the cluster's Kubernetes nodes, the control plane first,
	// one per machine of Job in order.
	Nodes []*engine.Node
	// BringUp is the time from the allocation to the nodes Ready (the
	// control plane's kubeadm init, the workers' join, flannel), and
	// TearDown from the last Kubernetes job's end to the machines given
	// back.
	BringUp, TearDown float64
	// Jobs is how many Kubernetes jobs the cluster runs; it is torn
	// down when they are all done.
	Jobs int
}

// Nested is Flux owning the machines and Kubernetes scheduling inside
// the part of them a Flux job gave it: two schedulers, nested. Flux
// jobs go to Flux; the other jobs are Kubernetes' and go to the inner
// policy (any Kubernetes scheduler of the project), which sees only the
// cluster's nodes.
type Nested struct {
	flux  *Policy
	inner engine.Policy
	u     *Usernetes
	// nested is how many of Cluster.Nodes (a prefix) are the Kubernetes
	// nodes; the rest are Flux's machines.
	nested int

	hosts    []*engine.Node // the machines, in the bring-up job's order
	up, down bool
	done     map[*engine.Job]bool

	fluxEv, innerEv []engine.Event
}

// Timer tags: the inner policy's are odd, the nesting's own even.
const (
	tagUp   = 2
	tagDown = 4
)

// NewNested returns Flux with a Usernetes cluster under inner. nested
// is the number of Kubernetes nodes at the front of Cluster.Nodes.
func NewNested(f *Policy, inner engine.Policy, u *Usernetes) (*Nested, error) {
	switch {
	case f == nil || inner == nil || u == nil || u.Job == nil || u.Job.Flux == nil:
		return nil, fmt.Errorf("flux: usernetes: needs Flux, an inner scheduler and a Flux bring-up job")
	case len(u.Nodes) != u.Job.Flux.Nodes:
		return nil, fmt.Errorf("flux: usernetes %s: %d Kubernetes nodes for a bring-up job of %d machines", u.Name, len(u.Nodes), u.Job.Flux.Nodes)
	case u.BringUp < 0 || u.TearDown < 0:
		return nil, fmt.Errorf("flux: usernetes %s: negative bring-up or tear-down", u.Name)
	}
	for i, n := range u.Nodes {
		if n.Index != i {
			return nil, fmt.Errorf("flux: usernetes %s: Kubernetes node %s is at %d, want the front of the cluster (%d)", u.Name, n.Name, n.Index, i)
		}
	}
	return &Nested{flux: f, inner: inner, u: u, nested: len(u.Nodes), done: map[*engine.Job]bool{}}, nil
}

// Name implements engine.Policy.
func (p *Nested) Name() string { return "flux" }

// PendingPods implements engine.Pending.
func (p *Nested) PendingPods() int {
	n := p.flux.PendingPods()
	if pp, ok := p.inner.(engine.Pending); ok {
		n += pp.PendingPods()
	}
	return n
}

// Decide implements engine.Policy.
func (p *Nested) Decide(now float64, events []engine.Event, c *engine.Cluster, out []engine.Decision) []engine.Decision {
	p.fluxEv, p.innerEv = p.fluxEv[:0], p.innerEv[:0]
	var own []int64
	for _, ev := range events {
		switch {
		case ev.Kind == engine.TimerFired && ev.Tag&1 == 1:
			ev.Tag >>= 1
			p.innerEv = append(p.innerEv, ev)
		case ev.Kind == engine.TimerFired:
			own = append(own, ev.Tag)
		case ev.Kind == engine.NodeChanged && ev.Node != nil && ev.Node.Index < p.nested:
			p.innerEv = append(p.innerEv, ev)
		case ev.Kind == engine.JobArrived && ev.Job.Flux == nil,
			ev.Pod != nil && ev.Pod.Job.Flux == nil:
			p.innerEv = append(p.innerEv, ev)
			if ev.Kind == engine.PodDeleted {
				out = p.k8sDeleted(ev.Pod, now, out)
			}
		default:
			p.fluxEv = append(p.fluxEv, ev)
			if ev.Kind == engine.PodBound && ev.Pod.Job == p.u.Job {
				out = p.allocated(ev.Pod, now, out)
			}
		}
	}
	for _, tag := range own {
		out = p.timer(tag, now, out)
	}
	if len(p.fluxEv) > 0 {
		out = p.flux.Decide(now, p.fluxEv, c.Sub(c.Nodes[p.nested:]), out)
	}
	if len(p.innerEv) > 0 {
		k := len(out)
		out = p.inner.Decide(now, p.innerEv, c.Sub(c.Nodes[:p.nested]), out)
		for i := k; i < len(out); i++ {
			if out[i].Kind == engine.SetTimer {
				out[i].Tag = out[i].Tag<<1 | 1
			}
		}
	}
	return out
}

// allocated: a shell of the bring-up job is bound to its machine; once
// all are, the cluster comes up BringUp later.
func (p *Nested) allocated(pod *engine.Pod, now float64, out []engine.Decision) []engine.Decision {
	j := p.u.Job
	for _, q := range j.Pods {
		if q.Node == nil || !engine.IsSet(q.Scheduled) {
			return out
		}
	}
	p.hosts = p.hosts[:0]
	for _, q := range j.Pods {
		p.hosts = append(p.hosts, q.Node)
	}
	return append(out, engine.Decision{Kind: engine.SetTimer, At: now + p.u.BringUp, Tag: tagUp})
}

func (p *Nested) timer(tag int64, now float64, out []engine.Decision) []engine.Decision {
	switch tag {
	case tagUp:
		p.up = true
		for i, n := range p.u.Nodes {
			out = append(out, engine.Decision{Kind: engine.NodeUp, Node: n, Host: p.hosts[i]})
		}
		if len(p.done) >= p.u.Jobs {
			out = p.tearDown(now, out)
		}
	case tagDown:
		if j := p.u.Job; !engine.IsSet(j.Finished) {
			out = append(out, engine.Decision{Kind: engine.Stop, Job: j, Reason: "usernetes " + p.u.Name + " torn down"})
		}
	}
	return out
}

// k8sDeleted counts the Kubernetes jobs done; when the last is, the
// cluster is torn down.
func (p *Nested) k8sDeleted(pod *engine.Pod, now float64, out []engine.Decision) []engine.Decision {
	j := pod.Job
	if p.done[j] || !(engine.IsSet(j.Finished) || j.IsRejected()) {
		return out
	}
	p.done[j] = true
	if p.up && len(p.done) >= p.u.Jobs {
		out = p.tearDown(now, out)
	}
	return out
}

func (p *Nested) tearDown(now float64, out []engine.Decision) []engine.Decision {
	if p.down {
		return out
	}
	p.down = true
	for _, n := range p.u.Nodes {
		out = append(out, engine.Decision{Kind: engine.NodeDown, Node: n})
	}
	return append(out, engine.Decision{Kind: engine.SetTimer, At: now + p.u.TearDown, Tag: tagDown})
}
