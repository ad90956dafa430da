package kube

import "github.com/convergesim/converge/engine"

// NodeUnschedulable rejects cordoned nodes (spec.unschedulable) unless the
// pod tolerates the node.kubernetes.io/unschedulable:NoSchedule taint.

const (
	taintNodeUnschedulable  = "node.kubernetes.io/unschedulable"
	reasonNodeUnschedulable = "node(s) were unschedulable"
)

// toleratesUnschedulable reports whether the tolerations tolerate a
// cordoned node.
func toleratesUnschedulable(tols []engine.Toleration) bool {
	return tolerationsTolerateTaint(tols, &engine.Taint{Key: taintNodeUnschedulable, Effect: engine.NoSchedule})
}
