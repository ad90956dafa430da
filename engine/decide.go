package engine

import (
	"fmt"
	"math"
)

// The decisions beyond one pod's bind: a pod assumed on a node that
// waits (Permit), allowed or unreserved later; several pods of a job
// placed at once; a reservation; a job given up. Every one is checked
// as a Bind is: a policy that breaks an invariant fails the run.

// checkBind checks that p may be placed on n now.
func (e *Engine) checkBind(p *Pod, n *Node, delay float64) error {
	if p == nil || n == nil {
		return fmt.Errorf("engine: invariant violated: policy %s bound a nil pod or node", e.policy.Name())
	}
	if p.Node != nil || p.Phase != PodPending {
		where := "not pending"
		if p.Node != nil {
			where = "already on " + p.Node.Name
		}
		return fmt.Errorf("engine: invariant violated: policy %s bound pod %s twice (%s)", e.policy.Name(), p.Name, where)
	}
	if delay < 0 || math.IsNaN(delay) || math.IsInf(delay, 0) {
		return fmt.Errorf("engine: invariant violated: policy %s bound pod %s with delay %v", e.policy.Name(), p.Name, delay)
	}
	if after := n.Requested.Add(p.Requests); !e.cfg.AllowOvercommit && !after.LessEqual(n.Allocatable) {
		return fmt.Errorf("engine: invariant violated: node %s over-committed by pod %s: requested %v > allocatable %v",
			n.Name, p.Name, after, n.Allocatable)
	}
	return nil
}

// hold assumes p on n: its resources are held from now.
func (e *Engine) hold(p *Pod, n *Node) {
	n.Requested = n.Requested.Add(p.Requests)
	n.NonZeroRequested = n.NonZeroRequested.Add(p.NonZero)
	p.Node = n
	p.Attempts++
}

// release gives back the resources p holds on its node.
func (e *Engine) release(p *Pod) error {
	n := p.Node
	n.Requested = n.Requested.Sub(p.Requests)
	n.NonZeroRequested = n.NonZeroRequested.Sub(p.NonZero)
	if n.Requested.MilliCPU < 0 || n.Requested.Memory < 0 || n.Requested.GPU < 0 || n.Requested.Pods < 0 {
		return fmt.Errorf("engine: invariant violated: node %s requested went negative (%v) when pod %s left it", n.Name, n.Requested, p.Name)
	}
	return nil
}

// unhold undoes hold: p's node gets its resources back (release cannot
// fail for a pod hold has just placed).
func (e *Engine) unhold(p *Pod) {
	_ = e.release(p)
	p.Node = nil
	p.Attempts--
}

// bind records p's assignment and sends its bind API call after delay.
func (e *Engine) bind(p *Pod, delay, now float64) {
	p.Assigned = now
	e.progress(now)
	e.endSeries(now, p)
	e.record(now, RecAssigned, p, p.Node, "")
	if p.Job.Flux == nil {
		delay += Sample(e.cfg.Startup.BindLatency, e.rStartup)
	}
	e.push(item{t: now + delay, kind: evBindDone, id: int32(p.ID)})
}

func (e *Engine) applyGang(d *Decision, now float64) error {
	name := e.policy.Name()
	switch d.Kind {
	case Assume:
		if err := e.checkBind(d.Pod, d.Node, 0); err != nil {
			return err
		}
		e.hold(d.Pod, d.Node)
		d.Pod.waiting = true
		// A pod that waits, is rejected and waits again (a gang plugin
		// retrying a group) is one FailedScheduling series: its
		// Waiting and Unreserved records are written when no series is
		// open, and its later rejections are counted in the series,
		// which its bind ends. The trace grows with pods, not retries.
		if _, open := e.series[d.Pod.ID]; !open || e.cfg.EveryAttempt {
			e.record(now, RecWaiting, d.Pod, d.Node, "")
		}
	case Allow:
		p := d.Pod
		if p == nil || !p.waiting {
			return fmt.Errorf("engine: invariant violated: policy %s allowed pod %s, which is not waiting", name, podName(p))
		}
		if d.Delay < 0 || math.IsNaN(d.Delay) || math.IsInf(d.Delay, 0) {
			return fmt.Errorf("engine: invariant violated: policy %s allowed pod %s with delay %v", name, p.Name, d.Delay)
		}
		p.waiting = false
		e.bind(p, d.Delay, now)
	case Unreserve:
		p := d.Pod
		if p == nil || !p.waiting {
			return fmt.Errorf("engine: invariant violated: policy %s unreserved pod %s, which is not waiting", name, podName(p))
		}
		n := p.Node
		if err := e.release(p); err != nil {
			return err
		}
		p.Node, p.waiting = nil, false
		p.LastFailure = d.Reason
		if _, open := e.series[p.ID]; !open || e.cfg.EveryAttempt {
			e.record(now, RecUnreserved, p, n, d.Reason)
		}
		e.recordFailure(now, p, d.Reason)
	case Allocate:
		if d.Job == nil || len(d.Slots) == 0 {
			return fmt.Errorf("engine: invariant violated: policy %s allocated nothing (job %v, %d slots)", name, jobName(d.Job), len(d.Slots))
		}
		// All or nothing: check every slot against the nodes as the
		// earlier slots leave them, then undo and apply.
		f := d.Job.Flux
		if f != nil && f.ShellsAtAlloc() {
			if err := e.fluxShells(d, now); err != nil {
				return err
			}
		}
		for i, s := range d.Slots {
			if s.Pod != nil && s.Pod.Job != d.Job {
				return fmt.Errorf("engine: invariant violated: policy %s allocated pod %s in job %s's allocation", name, s.Pod.Name, d.Job.Name)
			}
			if f != nil && f.Exclusive && s.Pod != nil && s.Node != nil {
				// A node-exclusive Flux job holds the whole node.
				s.Pod.Requests = Resources{MilliCPU: s.Node.Allocatable.MilliCPU, Memory: s.Node.Allocatable.Memory, GPU: s.Node.Allocatable.GPU}
				s.Pod.NonZero = s.Pod.Requests
			}
			err := e.checkBind(s.Pod, s.Node, d.Delay)
			if err == nil {
				e.hold(s.Pod, s.Node)
				continue
			}
			for _, t := range d.Slots[:i] {
				e.unhold(t.Pod)
			}
			return fmt.Errorf("%w (slot %d of job %s's allocation)", err, i, d.Job.Name)
		}
		if f != nil {
			if len(d.Slots) != len(d.Job.Pods) {
				for _, t := range d.Slots {
					e.unhold(t.Pod)
				}
				return fmt.Errorf("engine: invariant violated: policy %s allocated %d of Flux job %s's %d resource holders", name, len(d.Slots), d.Job.Name, len(d.Job.Pods))
			}
			if err := e.fluxAllocated(d.Job, d.At, now); err != nil {
				return err
			}
			e.bindFlux(d, now)
			return nil
		}
		for _, s := range d.Slots {
			e.bind(s.Pod, d.Delay, now)
		}
	case Reserve:
		if d.Job == nil || len(d.Nodes) == 0 || !(d.At >= now) || math.IsInf(d.At, 0) {
			return fmt.Errorf("engine: invariant violated: policy %s reserved job %s on %d nodes at %v (now %v)", name, jobName(d.Job), len(d.Nodes), d.At, now)
		}
		if e.recording() {
			// The record names the job and its first node; the message
			// says when and how many.
			msg := fmt.Sprintf("start at %s on %d nodes", fmtTime(d.At), len(d.Nodes))
			e.emit(Record{T: now, Kind: RecReserved, Job: d.Job.ID, Pod: -1, Node: d.Nodes[0].Index, Msg: msg}, nil, d.Job, d.Nodes[0])
		}
	case Reject:
		return e.reject(d.Job, d.Reason, now)
	}
	return nil
}

// reject gives up job j: its pending pods are removed (phase Failed),
// no more are created, and the job counts as done.
func (e *Engine) reject(j *Job, reason string, now float64) error {
	if j == nil || j.rejected || IsSet(j.Finished) {
		return fmt.Errorf("engine: invariant violated: policy %s rejected job %s, which is not waiting", e.policy.Name(), jobName(j))
	}
	for _, p := range j.Pods {
		if p.Node != nil || p.Phase != PodPending {
			return fmt.Errorf("engine: invariant violated: policy %s rejected job %s, but its pod %s holds node %s", e.policy.Name(), j.Name, p.Name, nodeName(p.Node))
		}
	}
	j.Rejected, j.rejected = now, true
	e.jobsDone++
	e.progress(now)
	switch {
	case !e.recording():
	case j.Flux != nil:
		// Flux raises a fatal alloc exception and the job goes inactive.
		e.emit(Record{T: now, Kind: RecException, Job: j.ID, Pod: -1, Node: -1, Msg: "type=alloc severity=0 " + reason}, nil, j, nil)
		e.recordJob(now, RecClean, j)
	default:
		e.emit(Record{T: now, Kind: RecRejected, Job: j.ID, Pod: -1, Node: -1, Msg: reason}, nil, j, nil)
	}
	for _, p := range j.Pods {
		e.removePending(p, reason, now)
	}
	e.jobDone(j, now)
	return nil
}

// removePending removes a pending pod of a rejected job.
func (e *Engine) removePending(p *Pod, reason string, now float64) {
	p.Phase = PodFailed
	p.LastFailure = reason
	e.finished++
	p.Job.active--
	e.endSeries(now, p)
	e.notify(Event{Kind: PodDeleted, Pod: p}, now)
	e.podEnded(p)
}

func podName(p *Pod) string {
	if p == nil {
		return "<nil>"
	}
	return p.Name
}

func jobName(j *Job) string {
	if j == nil {
		return "<nil>"
	}
	return j.Name
}

func nodeName(n *Node) string {
	if n == nil {
		return "<none>"
	}
	return n.Name
}

func fmtTime(t float64) string { return fmt.Sprintf("%.3f s", t) }
