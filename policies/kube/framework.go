package kube

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/convergesim/converge/engine"
)

// Out-of-tree plugins (the scheduling framework's extension points as
// scheduler-plugins uses them): Coscheduling and Fluence are compiled
// into kube-scheduler and change its queue order, reject or restrict a
// pod before Filter, make a placed pod wait at Permit while it holds its
// node, and react when a waiting pod is rejected. A plugin implements
// the interfaces of the points it uses; the scheduler calls them in the
// order the plugins were given.

// Plugin is an out-of-tree plugin.
type Plugin interface {
	Name() string
}

// Code is a plugin's verdict at an extension point.
type Code uint8

// Codes (upstream framework.Code).
const (
	Success Code = iota
	// Unschedulable: the pod cannot be placed now; it waits for an
	// event that may help it.
	Unschedulable
	// UnschedulableAndUnresolvable: as Unschedulable, and preemption
	// would not help.
	UnschedulableAndUnresolvable
	// Wait (Permit only): hold the pod on its node until it is allowed,
	// rejected, or its timeout passes.
	Wait
)

// Status is a verdict with its reason (the FailedScheduling message).
type Status struct {
	Code   Code
	Reason string
}

// OK is the Success status.
var OK = Status{}

// QueuedPodInfo is what QueueSort compares.
type QueuedPodInfo struct {
	Pod *engine.Pod
	// Timestamp is when the pod was last added to the queue;
	// InitialAttemptTimestamp when it was first.
	Timestamp, InitialAttemptTimestamp float64
}

// QueueSortPlugin replaces activeQ's order (PrioritySort). Less must
// not keep the QueuedPodInfo pointers it is given (they are reused).
type QueueSortPlugin interface {
	Plugin
	Less(a, b *QueuedPodInfo) bool
}

// PreFilterPlugin runs at the start of a cycle. It may reject the pod
// (the cycle evaluates no node) or restrict it to some nodes (upstream
// PreFilterResult.NodeNames; nil means every node).
type PreFilterPlugin interface {
	Plugin
	PreFilter(h *Handle, p *engine.Pod) ([]*engine.Node, Status)
}

// PostFilterPlugin runs when a cycle found no node for the pod (also
// after a PreFilter rejection, as upstream).
type PostFilterPlugin interface {
	Plugin
	PostFilter(h *Handle, p *engine.Pod)
}

// PermitPlugin runs once the pod is assumed on its node. Wait holds it
// there for at most timeout seconds.
type PermitPlugin interface {
	Plugin
	Permit(h *Handle, p *engine.Pod, n *engine.Node) (st Status, timeout float64)
}

// UnreservePlugin runs when an assumed pod loses its node (rejected at
// Permit, or rejected or timed out while waiting).
type UnreservePlugin interface {
	Plugin
	Unreserve(h *Handle, p *engine.Pod, n *engine.Node)
}

// EventPlugin sees the events the scheduler is told (its informers),
// before the scheduler acts on them.
type EventPlugin interface {
	Plugin
	Observe(h *Handle, ev *engine.Event)
}

// Handle is what plugins may ask of the scheduler (upstream
// framework.Handle): the time, the cluster, and the waiting pods.
type Handle struct {
	s   *Scheduler
	now float64
	c   *engine.Cluster
	out *[]engine.Decision
}

// Now is the current time.
func (h *Handle) Now() float64 { return h.now }

// Cluster is the engine's cluster (read only).
func (h *Handle) Cluster() *engine.Cluster { return h.c }

// Waiting reports whether p waits at Permit.
func (h *Handle) Waiting(p *engine.Pod) bool {
	_, ok := h.s.waiting[p]
	return ok
}

// Allow lets a waiting pod bind (its bind call leaves when the client
// rate limiter has a token). A pod that is not waiting is ignored.
func (h *Handle) Allow(p *engine.Pod) {
	s := h.s
	w, ok := s.waiting[p]
	if !ok {
		return
	}
	s.unwait(p, w)
	s.q.done(w.qp)
	delay := s.bucket.Reserve(max(h.now, s.busyUntil)) + max(s.busyUntil-h.now, 0)
	*h.out = append(*h.out, engine.Decision{Kind: engine.Allow, Pod: p, Delay: delay})
}

// Reject rejects a waiting pod: it loses its node, the Unreserve
// plugins run, and it goes back to the queue as unschedulable with
// reason. A pod that is not waiting is ignored.
func (h *Handle) Reject(p *engine.Pod, reason string) {
	s := h.s
	w, ok := s.waiting[p]
	if !ok {
		return
	}
	s.unwait(p, w)
	*h.out = append(*h.out, engine.Decision{Kind: engine.Unreserve, Pod: p, Reason: reason})
	s.forget(p, w.node)
	// The engine frees the node when this Decide returns: no cycle may
	// run on the engine's nodes before then (Decide defers it).
	s.released = true
	s.unreserve(h, p, w.node)
	s.q.addUnschedulable(w.qp, h.now, pluginGang)
	if s.gangEpoch != w.epoch {
		// A pod event the gang plugins register for happened while the
		// pod waited (it was in flight): upstream's in-flight events send
		// it to backoffQ instead of unschedulablePods.
		s.q.activeOrBackoff(w.qp, h.now)
	}
	// Forgetting it is an AssignedPodDelete event; the rejections of one
	// Decide requeue together (the pods they would move are the same).
	s.forgetMove = true
}

// flushForgotten runs forgotten once for the waiting pods rejected
// since the last call.
func (s *Scheduler) flushForgotten(now float64) {
	if s.forgetMove {
		s.forgetMove = false
		s.forgotten(now)
	}
}

// forgotten requeues what a forgotten assumed pod may help (upstream
// handleBindingCycleError and the Permit rejection of schedulingCycle:
// forgetting an assumed pod is an AssignedPodDelete event, and the
// forgotten pod itself is not moved; its rejectors are the gang
// plugins', whose hints do not register pod deletions).
func (s *Scheduler) forgotten(now float64) {
	q := &s.q
	for qp := q.head; qp != nil; {
		next := qp.next
		if qp.rejectors == 0 || qp.rejectors&pluginNodeResourcesFit != 0 {
			q.activeOrBackoff(qp, now)
		}
		qp = next
	}
}

// Activate moves a pending pod to activeQ (upstream PodsToActivate).
func (h *Handle) Activate(p *engine.Pod) { h.s.q.activate(p) }

// waitingPod is a pod held at Permit.
type waitingPod struct {
	qp       *queuedPod
	node     *engine.Node
	deadline float64
	timeout  float64
	plugin   string // the plugin that made it wait
	epoch    uint64 // Scheduler.gangEpoch when it started waiting
}

// WithPlugins returns the scheduler running the out-of-tree plugins.
// The template-keyed fast paths (remembered diagnoses, failed cycles
// made ahead) assume that a pod's verdicts depend on its template only,
// which a gang plugin breaks; they are off.
func (s *Scheduler) WithPlugins(plugins ...Plugin) *Scheduler {
	s.plugins = append(s.plugins, plugins...)
	s.fails.off = true
	s.noFailAhead = true
	s.filtersOff = s.disabledFilters()
	for _, p := range plugins {
		if qs, ok := p.(QueueSortPlugin); ok {
			s.q.active.sort = qs.Less
		}
	}
	return s
}

// handle returns the plugins' handle for this Decide; what plugins
// decide through it is appended to s.buf.
func (s *Scheduler) handle(now float64, c *engine.Cluster) *Handle {
	s.h = Handle{s: s, now: now, c: c, out: &s.buf}
	return &s.h
}

// preFilter runs the PreFilter plugins: the nodes the pod is restricted
// to (nil: all) and the first rejection.
func (s *Scheduler) preFilter(h *Handle, p *engine.Pod) ([]*engine.Node, Status) {
	var nodes []*engine.Node
	for _, pl := range s.plugins {
		if pf, ok := pl.(PreFilterPlugin); ok {
			ns, st := pf.PreFilter(h, p)
			if st.Code != Success {
				return nil, st
			}
			if ns != nil {
				nodes = ns
				if len(nodes) == 0 {
					return nil, Status{Code: UnschedulableAndUnresolvable, Reason: "0/" + strconv.Itoa(len(h.c.Nodes)) + " nodes are available: the pod's PreFilter result names no node."}
				}
			}
		}
	}
	return nodes, OK
}

func (s *Scheduler) postFilter(h *Handle, p *engine.Pod) {
	for _, pl := range s.plugins {
		if pf, ok := pl.(PostFilterPlugin); ok {
			pf.PostFilter(h, p)
		}
	}
}

// permit runs the Permit plugins: the first rejection, else Wait with
// the shortest timeout if any plugin waits, else Success.
func (s *Scheduler) permit(h *Handle, p *engine.Pod, n *engine.Node) (Status, float64, string) {
	res, timeout, by := OK, math.Inf(1), ""
	for _, pl := range s.plugins {
		if pp, ok := pl.(PermitPlugin); ok {
			st, t := pp.Permit(h, p, n)
			switch st.Code {
			case Success:
			case Wait:
				res = st
				if t < timeout {
					timeout, by = t, pl.Name()
				}
			default:
				return st, 0, pl.Name()
			}
		}
	}
	return res, timeout, by
}

func (s *Scheduler) unreserve(h *Handle, p *engine.Pod, n *engine.Node) {
	for _, pl := range slices.Backward(s.plugins) {
		if up, ok := pl.(UnreservePlugin); ok {
			up.Unreserve(h, p, n)
		}
	}
}

// forget removes an assumed pod from the scheduler's node cache.
func (s *Scheduler) forget(p *engine.Pod, n *engine.Node) {
	s.nodes.addPod(n.Index, p, -1)
	s.spreadRemove(p, n)
}

// wait holds p at Permit.
func (s *Scheduler) wait(p *engine.Pod, w *waitingPod) {
	s.waiting[p] = w
	if !s.waitDirty {
		s.waitMin = min(s.waitMin, w.deadline)
	}
}

// unwait ends p's wait.
func (s *Scheduler) unwait(p *engine.Pod, w *waitingPod) {
	delete(s.waiting, p)
	if w.deadline <= s.waitMin {
		s.waitDirty = true // it may have been the earliest
	}
}

// nextPermitDeadline is the earliest deadline of a waiting pod (+Inf if
// none), kept as pods start waiting and found again, by a scan, after
// the earliest one stopped.
func (s *Scheduler) nextPermitDeadline() float64 {
	if s.waitDirty {
		d := math.Inf(1)
		for _, w := range s.waiting {
			d = min(d, w.deadline)
		}
		s.waitMin, s.waitDirty = d, false
	}
	return s.waitMin
}

// expireWaiting rejects the waiting pods whose Permit timeout has
// passed, in the order their timeouts passed (then pod order).
func (s *Scheduler) expireWaiting(h *Handle) {
	if s.nextPermitDeadline() > h.now {
		return
	}
	var due []*engine.Pod
	for p, w := range s.waiting {
		if w.deadline <= h.now {
			due = append(due, p)
		}
	}
	slices.SortFunc(due, func(a, b *engine.Pod) int {
		wa, wb := s.waiting[a], s.waiting[b]
		if wa.deadline != wb.deadline {
			if wa.deadline < wb.deadline {
				return -1
			}
			return 1
		}
		return a.ID - b.ID
	})
	for _, p := range due {
		w, ok := s.waiting[p]
		if !ok {
			continue // rejected with an earlier pod of its group
		}
		// Upstream's FitError of a pod rejected in WaitOnPermit: one
		// node (its host), the plugin's timeout status, the wait as a
		// time.Duration prints it ("1m0s").
		wait := time.Duration(w.timeout * float64(time.Second))
		h.Reject(p, fmt.Sprintf("0/1 nodes are available: 1 rejected due to timeout after waiting %v at plugin %s.", wait, w.plugin))
	}
}
