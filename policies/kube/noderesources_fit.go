package kube

import "github.com/convergesim/converge/engine"

// NodeResourcesFit's filter: the pod's real request must fit the node's
// allocatable minus the real requests of the pods already assigned there
// (assumed or bound), for every resource the pod requests, and the node
// must have a free pod slot.

// insufficient is a set of resources that do not fit.
type insufficient uint8

const (
	tooManyPods insufficient = 1 << iota
	insufficientCPU
	insufficientMemory
	insufficientGPU
)

// insufficientReasons are the FailedScheduling reasons, in upstream order.
var insufficientReasons = []struct {
	bit    insufficient
	reason string
}{
	{tooManyPods, "Too many pods"},
	{insufficientCPU, "Insufficient cpu"},
	{insufficientMemory, "Insufficient memory"},
	{insufficientGPU, "Insufficient " + ResourceGPU},
}

// fitsRequest returns the resources that do not fit (upstream fitsRequest);
// 0 means the pod fits. A resource the pod does not request always fits.
func fitsRequest(req *engine.Resources, n *engine.Node) insufficient {
	var r insufficient
	a, used := &n.Allocatable, &n.Requested
	if used.Pods+1 > a.Pods {
		r |= tooManyPods
	}
	if req.MilliCPU > 0 && req.MilliCPU > a.MilliCPU-used.MilliCPU {
		r |= insufficientCPU
	}
	if req.Memory > 0 && req.Memory > a.Memory-used.Memory {
		r |= insufficientMemory
	}
	if req.GPU > 0 && req.GPU > a.GPU-used.GPU {
		r |= insufficientGPU
	}
	return r
}
