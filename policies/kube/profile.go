package kube

import "github.com/convergesim/converge/engine"

// FilterProfilePlugin is implemented by an out-of-tree plugin whose
// scheduler profile disables in-tree filter plugins
// (KubeSchedulerConfiguration profiles[].plugins.filter.disabled), as
// Fluence's Helm chart disables NodeUnschedulable and TaintToleration.
// The disabled filters are skipped on the nodes a PreFilter result
// names (the only nodes such profiles evaluate; a cycle without a
// PreFilter restriction runs every default filter). What the kubelet
// checks at admission still applies: a NoExecute taint the pod does
// not tolerate refuses it (the kubelet rejects such a pod), as do
// NodeAffinity and NodeResourcesFit, which this model never disables.
type FilterProfilePlugin interface {
	Plugin
	// DisabledFilters names the disabled in-tree filters; only
	// "NodeUnschedulable" and "TaintToleration" are understood.
	DisabledFilters() []string
}

// disabledFilters is the set of filters the plugins' profile disables.
func (s *Scheduler) disabledFilters() pluginSet {
	var off pluginSet
	for _, pl := range s.plugins {
		if fp, ok := pl.(FilterProfilePlugin); ok {
			for _, name := range fp.DisabledFilters() {
				switch name {
				case "NodeUnschedulable":
					off |= pluginNodeUnschedulable
				case "TaintToleration":
					off |= pluginTaintToleration
				}
			}
		}
	}
	return off
}

// filterProfile is filter with the disabled plugins skipped (only
// NoExecute taints count when TaintToleration is off).
func filterProfile(st *cycleState, n *engine.Node, off pluginSet) pluginSet {
	if off == 0 {
		p, _ := filter(st, n)
		return p
	}
	ti := st.ti
	if off&pluginNodeUnschedulable == 0 && n.Unschedulable && !ti.tolerateUnschedulable {
		return pluginNodeUnschedulable
	}
	for i := range n.Taints {
		t := &n.Taints[i]
		if (t.Effect == engine.NoExecute || off&pluginTaintToleration == 0 && t.Effect == engine.NoSchedule) &&
			!tolerationsTolerateTaint(ti.tolerations, t) {
			return pluginTaintToleration
		}
	}
	if ti.affinityFilter && !ti.affinity.matchRequired(n.Labels) {
		return pluginNodeAffinity
	}
	if r := fitsRequest(&st.pod.Requests, n); r != 0 {
		return pluginNodeResourcesFit
	}
	return 0
}
