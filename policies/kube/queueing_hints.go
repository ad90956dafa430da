package kube

import (
	"maps"
	"slices"

	"github.com/convergesim/converge/engine"
)

// QueueingHints (upstream EventsToRegister with QueueingHintFn, on by
// default since the SchedulerQueueingHints gate went GA): a cluster event
// moves an unschedulable pod back to backoffQ/activeQ only if one of the
// plugins that rejected it (its rejectors; a pod with none moves on every
// event) says the event may help it:
//
//   - NodeResourcesFit, on the deletion of a pod bound to a node: always
//     (a pending pod's deletion frees nothing: skip). On a node added: if
//     the pod fits the node's allocatable (no pods counted); on a node
//     updated: if it fits and the allocatable of a resource the pod
//     requests, or the pod slots, increased.
//   - NodeUnschedulable, on a node added schedulable or updated from
//     cordoned to schedulable.
//   - TaintToleration, on a node added or updated whose NoSchedule and
//     NoExecute taints the pod tolerates, and whose old taints it did not.
//   - NodeAffinity, on a node added or updated that matches the pod's
//     required node affinity and node selector, and (updated) did not
//     before.
//
// A NodeChanged event does not say what changed; the node cache keeps the
// previous state of each node (allocatable, cordon, taints, labels), so
// every hint is evaluated on old and new as upstream does. A node event
// the hint of no plugin registers for (a label change for
// NodeResourcesFit, say) yields the same answer through the hint itself.
// Several changes of one node in one instant are seen as one change, from
// the state before the instant to the state after.

// nodeBefore is a node as the scheduler knew it before a NodeChanged
// (added: it did not exist).
type nodeBefore struct {
	index         int
	added         bool
	alloc         nodeHot // allocatable and pod slots (its request fields are not read)
	unschedulable bool
	taints        []engine.Taint
	labels        map[string]string
}

// before returns what the cache knows of node i (added if i is not a node
// it holds).
func (nc *nodeCache) before(i int) nodeBefore {
	if i < 0 || i >= len(nc.hot) {
		return nodeBefore{index: i, added: true}
	}
	return nodeBefore{index: i, alloc: nc.hot[i], unschedulable: nc.unschedulable[i],
		taints: nc.taints[i], labels: nc.labels[i]}
}

// remember keeps copies of what the hints read of node n (the engine may
// change its slices and maps in place).
func (nc *nodeCache) remember(n *engine.Node) {
	i := n.Index
	nc.unschedulable[i] = n.Unschedulable
	nc.taints[i] = slices.Clone(n.Taints)
	nc.labels[i] = maps.Clone(n.Labels)
}

// fitsAllocatable is NodeResourcesFit's isFit: the pod fits the node's
// allocatable with no pod on it.
func fitsAllocatable(req *engine.Resources, a *engine.Resources) bool {
	return a.Pods >= 1 &&
		(req.MilliCPU <= 0 || req.MilliCPU <= a.MilliCPU) &&
		(req.Memory <= 0 || req.Memory <= a.Memory) &&
		(req.GPU <= 0 || req.GPU <= a.GPU)
}

// fitHint is NodeResourcesFit's isSchedulableAfterNodeChange.
func fitHint(req *engine.Resources, old *nodeBefore, n *engine.Node) bool {
	a := &n.Allocatable
	if !fitsAllocatable(req, a) {
		return false
	}
	if old.added {
		return true
	}
	o := &old.alloc
	if a.Pods > int64(o.allocPods) {
		return true
	}
	return (req.MilliCPU > 0 && a.MilliCPU > o.allocCPU) ||
		(req.Memory > 0 && a.Memory > o.allocMem) ||
		(req.GPU > 0 && a.GPU > int64(o.allocGPU))
}

// nodeEventHelps reports whether some rejector of the pod says that one of
// the node changes may make it schedulable.
func (s *Scheduler) nodeEventHelps(qp *queuedPod, changes []nodeBefore, c *engine.Cluster) bool {
	ti := s.templateInfo(qp.pod.Template)
	req := &qp.pod.Requests
	for k := range changes {
		old := &changes[k]
		if old.index < 0 || old.index >= len(c.Nodes) {
			continue
		}
		n := c.Nodes[old.index]
		r := qp.rejectors
		if r&pluginNodeUnschedulable != 0 && !n.Unschedulable && (old.added || old.unschedulable) {
			return true
		}
		if r&pluginTaintToleration != 0 && findUntoleratedTaint(n.Taints, ti.tolerations) < 0 &&
			(old.added || findUntoleratedTaint(old.taints, ti.tolerations) >= 0) {
			return true
		}
		if r&pluginNodeAffinity != 0 && ti.affinity.matchRequired(n.Labels) &&
			(old.added || !ti.affinity.matchRequired(old.labels)) {
			return true
		}
		if r&pluginNodeResourcesFit != 0 && fitHint(req, old, n) {
			return true
		}
	}
	return false
}

// requeue moves the unschedulable pods that the events of an instant may
// help: every pod without rejectors (or every pod, on a NodeChanged that
// names no node); a pod NodeResourcesFit rejected if a bound pod was
// deleted; a pod whose rejectors' hints say one of the node changes may
// help.
func (s *Scheduler) requeue(now float64, c *engine.Cluster, podDeleted, everyPod bool, changes []nodeBefore) {
	q := &s.q
	for qp := q.head; qp != nil; {
		next := qp.next
		if everyPod || qp.rejectors == 0 ||
			(podDeleted && qp.rejectors&pluginNodeResourcesFit != 0) ||
			(len(changes) > 0 && s.nodeEventHelps(qp, changes, c)) {
			q.activeOrBackoff(qp, now)
		}
		qp = next
	}
}
