package kube

import (
	"slices"
	"strings"

	"github.com/convergesim/converge/engine"
)

// MaxNodeScore is the maximum score a plugin gives a node
// (framework.MaxNodeScore).
const MaxNodeScore int64 = 100

// resourceKind is a resource the model knows.
type resourceKind uint8

const (
	resCPU resourceKind = iota
	resMemory
	resGPU
	numResourceKinds
)

// resourceScorer turns per-resource (requested, allocatable) into a node
// score in [0, MaxNodeScore]. A resource whose allocatable is 0 is absent
// from the node (or not requested, for extended resources) and is skipped.
// This is the only part that differs between the strategies, as in
// upstream's resourceAllocationScorer.
type resourceScorer func(requested, allocatable []int64) int64

// strategyFactory builds the scorer of a NodeResourcesFit strategy.
type strategyFactory func(s *ScoringStrategy) resourceScorer

// scoringStrategies is the strategy table (upstream fit.go
// nodeResourceStrategyTypeMap).
var scoringStrategies = map[ScoringStrategyType]strategyFactory{
	LeastAllocated: func(s *ScoringStrategy) resourceScorer {
		return leastResourceScorer(resourceWeights(s.Resources))
	},
	MostAllocated: func(s *ScoringStrategy) resourceScorer {
		return mostResourceScorer(resourceWeights(s.Resources))
	},
	RequestedToCapacityRatio: func(s *ScoringStrategy) resourceScorer {
		return requestedToCapacityRatioScorer(resourceWeights(s.Resources), s.RequestedToCapacityRatio.Shape)
	},
}

func validStrategyNames() string {
	names := make([]string, 0, len(scoringStrategies))
	for k := range scoringStrategies {
		names = append(names, string(k))
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

func resourceWeights(rs []ResourceSpec) []int64 {
	w := make([]int64, len(rs))
	for i, r := range rs {
		w[i] = r.Weight
	}
	return w
}

// resourceAllocationScorer is the shared part of NodeResourcesFit's score
// and NodeResourcesBalancedAllocation: it gathers each resource's
// (requested, allocatable) for a node and the incoming pod and hands them
// to the strategy's scorer.
type resourceAllocationScorer struct {
	kinds []resourceKind
	// useRequested: use the real requests of the node's pods and of the
	// incoming pod (BalancedAllocation); otherwise the non-zero requests
	// (NodeResourcesFit: 100 mCPU / 200 MiB for containers requesting none).
	useRequested bool
	scorer       resourceScorer
	// scratch, len(kinds)
	requested, allocatable []int64
}

func newResourceAllocationScorer(specs []ResourceSpec, useRequested bool, scorer resourceScorer) resourceAllocationScorer {
	r := resourceAllocationScorer{useRequested: useRequested, scorer: scorer}
	for _, s := range specs {
		r.kinds = append(r.kinds, knownResources[s.Name])
	}
	r.requested = make([]int64, len(r.kinds))
	r.allocatable = make([]int64, len(r.kinds))
	return r
}

// allocatableRequest returns the node's allocatable and the requested
// amount including the pod (upstream calculateResourceAllocatableRequest).
// An extended resource the pod does not request returns (0, 0) so that it
// is not scored.
func (r *resourceAllocationScorer) allocatableRequest(n *engine.Node, k resourceKind, pod *engine.Pod) (alloc, req int64) {
	switch k {
	case resCPU:
		if r.useRequested {
			return n.Allocatable.MilliCPU, n.Requested.MilliCPU + pod.Requests.MilliCPU
		}
		return n.Allocatable.MilliCPU, n.NonZeroRequested.MilliCPU + pod.NonZero.MilliCPU
	case resMemory:
		if r.useRequested {
			return n.Allocatable.Memory, n.Requested.Memory + pod.Requests.Memory
		}
		return n.Allocatable.Memory, n.NonZeroRequested.Memory + pod.NonZero.Memory
	default: // resGPU: extended resources always use the real requests
		if pod.Requests.GPU == 0 {
			return 0, 0
		}
		return n.Allocatable.GPU, n.Requested.GPU + pod.Requests.GPU
	}
}

// score returns the node's score for the pod.
func (r *resourceAllocationScorer) score(n *engine.Node, pod *engine.Pod) int64 {
	for i, k := range r.kinds {
		alloc, req := r.allocatableRequest(n, k, pod)
		if alloc == 0 {
			req = 0
		}
		r.allocatable[i], r.requested[i] = alloc, req
	}
	return r.scorer(r.requested, r.allocatable)
}
